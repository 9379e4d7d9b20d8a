/*
** rules.c — `permit`, `forbid` and `test` as policy files call them. `permit "name"` returns
** a function that takes the spec table; the spec is checked completely before anything is
** recorded, so a load error never leaves half a rule behind. Errors name the file and line
** of the declaration. They exist only while files load: called from a rule (the loader has
** cleared current_file), they raise.
*/
#include "rules.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"

#define LIST_UPVALUE   1
#define NAMES_UPVALUE  2 /* a table: rule or test name -> "file:line" of its first declaration */
#define KIND_UPVALUE   3 /* "permit", "forbid" or "test" */
#define NAME_UPVALUE   4 /* the declared name (spec functions only) */
#define LINE_UPVALUE   5

typedef struct declaration {
    wd_rule_list *list;
    const char   *kind;
    const char   *name;
    int           line;
} declaration;

static int caller_line(lua_State *L)
{
    lua_Debug ar;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar))
        return ar.currentline;
    return 0;
}

static const char *file_of(const wd_rule_list *list)
{
    return list->current_file != NULL ? list->current_file : "?";
}

/* Raises a message that already starts with "FILE:LINE: " (luaL_error would add its own
** position in front: the caller's, the same one again). */
static int located_error(lua_State *L, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    lua_pushvfstring(L, format, arguments);
    va_end(arguments);
    return lua_error(L);
}

static int declaration_error(lua_State *L, const declaration *d, const char *format, const char *detail)
{
    char message[512];
    snprintf(message, sizeof message, format, detail);
    return located_error(L, "%s:%d: %s '%s': %s", file_of(d->list), d->line, d->kind, d->name, message);
}

/* ---- spec checking ------------------------------------------------------------------ */

/* A target: a string or a non-empty list of strings. Returns the count. */
static size_t check_targets(lua_State *L, const declaration *d, int index, const char *key)
{
    if (lua_type(L, index) == LUA_TSTRING)
        return 1;
    if (lua_type(L, index) != LUA_TTABLE)
        declaration_error(L, d, "%s must be a string or a list of strings", key);
    size_t count = (size_t)lua_rawlen(L, index);
    if (count == 0)
        declaration_error(L, d, "%s must not be an empty list", key);
    for (size_t i = 1; i <= count; i++) {
        if (lua_rawgeti(L, index, (lua_Integer)i) != LUA_TSTRING)
            declaration_error(L, d, "%s must be a string or a list of strings", key);
        lua_pop(L, 1);
    }
    /* a list with holes or extra keys is a mistake worth reporting */
    lua_pushnil(L);
    size_t keys = 0;
    while (lua_next(L, index) != 0) {
        keys++;
        lua_pop(L, 1);
    }
    if (keys != count)
        declaration_error(L, d, "%s must be a list of strings (no other keys)", key);
    return count;
}

static char **copy_targets(lua_State *L, int index, size_t count)
{
    char **targets = calloc(count, sizeof *targets);
    if (targets == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        if (lua_type(L, index) == LUA_TSTRING)
            lua_pushvalue(L, index);
        else
            lua_rawgeti(L, index, (lua_Integer)(i + 1));
        targets[i] = strdup(lua_tostring(L, -1));
        lua_pop(L, 1);
        if (targets[i] == NULL) {
            for (size_t k = 0; k < i; k++)
                free(targets[k]);
            free(targets);
            return NULL;
        }
    }
    return targets;
}

/* The bytes copy_targets will allocate for a target (at index) of count strings. */
static size_t target_bytes(lua_State *L, int index, size_t count)
{
    size_t bytes = count * sizeof(char *);
    if (lua_type(L, index) == LUA_TSTRING)
        return bytes + lua_rawlen(L, index) + 1;
    for (size_t i = 1; i <= count; i++) {
        lua_rawgeti(L, index, (lua_Integer)i);
        bytes += lua_rawlen(L, -1) + 1;
        lua_pop(L, 1);
    }
    return bytes;
}

/* Counts what a declaration copies to C against the state's memory cap before copying it
** (the rule metadata is as much the policy's doing as its Lua values). On refusal the
** sandbox has set its sticky memory abort, which names the limit; the error raised here only
** unwinds. */
static void reserve(lua_State *L, const declaration *d, size_t bytes)
{
    if (!wd_sandbox_reserve(L, bytes))
        declaration_error(L, d, "%s", "memory limit exceeded (limits.memory)");
}

static void free_targets(char **targets, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(targets[i]);
    free(targets);
}

/* Records name in the names table, or raises the duplicate error. Rules and tests have
** names of their own kinds: a test may be named after the rule it tests. */
static void claim_name(lua_State *L, const declaration *d, bool is_test)
{
    const char *kind = is_test ? "test" : "rule";
    lua_pushfstring(L, "%s\x1f%s", kind, d->name);
    if (lua_rawget(L, lua_upvalueindex(NAMES_UPVALUE)) == LUA_TSTRING) {
        char first[300];
        snprintf(first, sizeof first, "%s", lua_tostring(L, -1));
        declaration_error(L, d, is_test ? "duplicate test name (first declared at %s)"
                                        : "duplicate rule name (first declared at %s)", first);
    }
    lua_pop(L, 1);
    lua_pushfstring(L, "%s\x1f%s", kind, d->name);
    lua_pushfstring(L, "%s:%d", file_of(d->list), d->line);
    lua_rawset(L, lua_upvalueindex(NAMES_UPVALUE));
}

static const char *const rule_keys[] = { "action", "operation", "when", "description", NULL };
static const char *const test_keys[] = { "message", "envelope", "now", "expect", "rules", "reason",
                                         "attrs", "description", NULL };

static void check_keys(lua_State *L, const declaration *d, const char *const *allowed)
{
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            declaration_error(L, d, "%s", "spec keys must be names such as when = ...");
        const char *key = lua_tostring(L, -1);
        bool known = false;
        for (size_t i = 0; allowed[i] != NULL && !known; i++)
            known = strcmp(allowed[i], key) == 0;
        if (!known)
            declaration_error(L, d, "unknown key '%s'", key);
    }
}

static int declare_rule(lua_State *L, const declaration *d, wd_rule_effect effect)
{
    check_keys(L, d, rule_keys);
    size_t action_count = 0, operation_count = 0;
    int action_type = lua_getfield(L, 1, "action");         /* index 2 */
    if (action_type != LUA_TNIL)
        action_count = check_targets(L, d, 2, "action");
    int operation_type = lua_getfield(L, 1, "operation");   /* index 3 */
    if (operation_type != LUA_TNIL)
        operation_count = check_targets(L, d, 3, "operation");
    int when_type = lua_getfield(L, 1, "when");             /* index 4 */
    if (when_type != LUA_TNIL && when_type != LUA_TFUNCTION)
        declaration_error(L, d, "%s", "when must be a function");
    int description_type = lua_getfield(L, 1, "description"); /* index 5 */
    if (description_type != LUA_TNIL && description_type != LUA_TSTRING)
        declaration_error(L, d, "%s", "description must be a string");
    claim_name(L, d, false);
    size_t bytes = sizeof(wd_rule) + strlen(d->name) + 1 + strlen(file_of(d->list)) + 1;
    if (description_type == LUA_TSTRING)
        bytes += lua_rawlen(L, 5) + 1;
    if (action_count > 0)
        bytes += target_bytes(L, 2, action_count);
    if (operation_count > 0)
        bytes += target_bytes(L, 3, operation_count);
    reserve(L, d, bytes);

    wd_rule_list *list = d->list;
    wd_rule *grown = realloc(list->rules, (list->count + 1) * sizeof *grown);
    if (grown == NULL)
        return luaL_error(L, "out of memory");
    list->rules = grown;
    wd_rule rule = { .effect = effect, .line = d->line, .when = LUA_NOREF,
                     .action_count = action_count, .operation_count = operation_count };
    rule.name = strdup(d->name);
    rule.file = strdup(file_of(list));
    rule.description = description_type == LUA_TSTRING ? strdup(lua_tostring(L, 5)) : NULL;
    rule.actions = action_count > 0 ? copy_targets(L, 2, action_count) : NULL;
    rule.operations = operation_count > 0 ? copy_targets(L, 3, operation_count) : NULL;
    if (rule.name == NULL || rule.file == NULL || (description_type == LUA_TSTRING && rule.description == NULL)
        || (action_count > 0 && rule.actions == NULL) || (operation_count > 0 && rule.operations == NULL)) {
        free(rule.name);
        free(rule.file);
        free(rule.description);
        free_targets(rule.actions, rule.actions != NULL ? action_count : 0);
        free_targets(rule.operations, rule.operations != NULL ? operation_count : 0);
        return luaL_error(L, "out of memory");
    }
    if (when_type == LUA_TFUNCTION) {
        lua_pushvalue(L, 4);
        rule.when = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    list->rules[list->count++] = rule;
    return 0;
}

static int declare_test(lua_State *L, const declaration *d)
{
    check_keys(L, d, test_keys);
    int expect_type = lua_getfield(L, 1, "expect");
    const char *expect = lua_tostring(L, -1);
    if (expect_type != LUA_TSTRING || (strcmp(expect, "allow") != 0 && strcmp(expect, "deny") != 0))
        declaration_error(L, d, "%s", "expect must be \"allow\" or \"deny\"");
    int message_type = lua_getfield(L, 1, "message");
    int envelope_type = lua_getfield(L, 1, "envelope");
    if ((message_type == LUA_TNIL) == (envelope_type == LUA_TNIL))
        declaration_error(L, d, "%s", "give exactly one of message = { ... } or envelope = \"path\"");
    if (message_type != LUA_TNIL && message_type != LUA_TTABLE)
        declaration_error(L, d, "%s", "message must be a table shaped like the message view");
    if (envelope_type != LUA_TNIL && envelope_type != LUA_TSTRING)
        declaration_error(L, d, "%s", "envelope must be a path relative to the policy directory");
    static const struct { const char *key; int type; const char *why; } typed[] = {
        { "now", LUA_TSTRING, "now must be an ISO-8601 time such as 2026-11-25T12:00:30Z" },
        { "reason", LUA_TSTRING, "reason must be a string" },
        { "rules", LUA_TTABLE, "rules must be a list of rule names" },
        { "attrs", LUA_TTABLE, "attrs must be a table of name = value strings" },
        { "description", LUA_TSTRING, "description must be a string" },
    };
    for (size_t i = 0; i < sizeof typed / sizeof typed[0]; i++) {
        int type = lua_getfield(L, 1, typed[i].key);
        if (type != LUA_TNIL && type != typed[i].type)
            declaration_error(L, d, "%s", typed[i].why);
        lua_pop(L, 1);
    }
    claim_name(L, d, true);
    reserve(L, d, sizeof(wd_policy_test_case) + strlen(d->name) + 1 + strlen(file_of(d->list)) + 1);

    wd_rule_list *list = d->list;
    wd_policy_test_case *grown = realloc(list->tests, (list->test_count + 1) * sizeof *grown);
    if (grown == NULL)
        return luaL_error(L, "out of memory");
    list->tests = grown;
    wd_policy_test_case test = { .line = d->line, .spec = LUA_NOREF };
    test.name = strdup(d->name);
    test.file = strdup(file_of(list));
    if (test.name == NULL || test.file == NULL) {
        free(test.name);
        free(test.file);
        return luaL_error(L, "out of memory");
    }
    lua_pushvalue(L, 1);
    test.spec = luaL_ref(L, LUA_REGISTRYINDEX);
    list->tests[list->test_count++] = test;
    return 0;
}

/* permit, forbid, test and the functions they return work only while a file loads: a rule
** that declared rules at decision time would change what later decisions see. */
static void require_loading(lua_State *L, const wd_rule_list *list, const char *kind)
{
    if (list->current_file == NULL)
        luaL_error(L, "%s is only available while policy files load, not when a rule runs", kind);
}

/* The function `permit "name"` returns: takes the spec. */
static int take_spec(lua_State *L)
{
    require_loading(L, lua_touserdata(L, lua_upvalueindex(LIST_UPVALUE)), lua_tostring(L, lua_upvalueindex(KIND_UPVALUE)));
    declaration d = {
        .list = lua_touserdata(L, lua_upvalueindex(LIST_UPVALUE)),
        .kind = lua_tostring(L, lua_upvalueindex(KIND_UPVALUE)),
        .name = lua_tostring(L, lua_upvalueindex(NAME_UPVALUE)),
        .line = (int)lua_tointeger(L, lua_upvalueindex(LINE_UPVALUE)),
    };
    if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TTABLE)
        declaration_error(L, &d, "%s", "expected a spec table: NAME { ... }");
    lua_settop(L, 1);
    if (strcmp(d.kind, "test") == 0)
        declare_test(L, &d);
    else
        declare_rule(L, &d, strcmp(d.kind, "forbid") == 0 ? WD_RULE_FORBID : WD_RULE_PERMIT);
    return 0;
}

/* permit / forbid / test: take the name, return the spec taker. */
static int take_name(lua_State *L)
{
    wd_rule_list *list = lua_touserdata(L, lua_upvalueindex(LIST_UPVALUE));
    const char *kind = lua_tostring(L, lua_upvalueindex(KIND_UPVALUE));
    require_loading(L, list, kind);
    int line = caller_line(L);
    if (lua_type(L, 1) != LUA_TSTRING || lua_rawlen(L, 1) == 0)
        return located_error(L, "%s:%d: %s expects a name: %s \"name\" { ... }", file_of(list), line, kind, kind);
    if (lua_rawlen(L, 1) > WD_RULE_NAME_MAX)
        return located_error(L, "%s:%d: %s name longer than %d bytes", file_of(list), line, kind, WD_RULE_NAME_MAX);
    bool is_test = strcmp(kind, "test") == 0;
    if (is_test != list->loading_tests)
        return located_error(L, "%s:%d: %s is not available in %s", file_of(list), line, kind,
                          list->loading_tests ? "test files (*_test.lua)" : "policy files (only in *_test.lua)");
    lua_pushvalue(L, lua_upvalueindex(LIST_UPVALUE));
    lua_pushvalue(L, lua_upvalueindex(NAMES_UPVALUE));
    lua_pushvalue(L, lua_upvalueindex(KIND_UPVALUE));
    lua_pushvalue(L, 1);
    lua_pushinteger(L, line);
    lua_pushcclosure(L, take_spec, 5);
    return 1;
}

void wd_rules_push_declarers(lua_State *L, wd_rule_list *list)
{
    static const char *const kinds[] = { "permit", "forbid", "test" };
    lua_createtable(L, 0, 3);
    lua_newtable(L); /* names seen, shared by the three */
    for (size_t i = 0; i < 3; i++) {
        lua_pushlightuserdata(L, list);
        lua_pushvalue(L, -2);
        lua_pushstring(L, kinds[i]);
        lua_pushcclosure(L, take_name, 3);
        lua_setfield(L, -3, kinds[i]);
    }
    lua_pop(L, 1);
}

void wd_rules_clear(wd_rule_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        wd_rule *rule = &list->rules[i];
        free(rule->name);
        free(rule->file);
        free(rule->description);
        free_targets(rule->actions, rule->action_count);
        free_targets(rule->operations, rule->operation_count);
    }
    free(list->rules);
    for (size_t i = 0; i < list->test_count; i++) {
        free(list->tests[i].name);
        free(list->tests[i].file);
    }
    free(list->tests);
    memset(list, 0, sizeof *list);
}
