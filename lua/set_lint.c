/*
** set_lint.c — owns wd_set_lint: the findings of `warden check` that need the whole set
** loaded (rule names, targets, tests), as opposed to one chunk's bytecode (lint.c).
*/
#include "set_lint.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

#define MESSAGE_MAX 512
#define MESSAGE_DEPTH 4 /* how deep a test's message table is compared with the view */

typedef struct set_lint {
    lua_State             *L;
    wd_set_lint_report_fn  report;
    void                  *context;
    size_t                 problems;
} set_lint;

static void finding(set_lint *s, const char *file, int line, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static void finding(set_lint *s, const char *file, int line, const char *format, ...)
{
    char message[MESSAGE_MAX];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(message, sizeof message, format, arguments);
    va_end(arguments);
    if (strncmp(message, "warning: ", 9) != 0)
        s->problems++;
    if (s->report != NULL)
        s->report(s->context, file, line, message);
}

/* "{namespace}Name": a non-empty namespace in braces, then a non-empty local name; '*' may
** stand for any part, and "*" alone matches every operation. */
static bool is_operation_spelling(const char *target)
{
    if (strcmp(target, "*") == 0)
        return true;
    if (target[0] != '{')
        return false;
    const char *close = strchr(target, '}');
    return close != NULL && close > target + 1 && close[1] != '\0' && strchr(close + 1, '{') == NULL
        && strchr(close + 1, '}') == NULL;
}

static bool lists(const char *const *names, const char *name)
{
    for (size_t i = 0; names != NULL && names[i] != NULL; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static const char *kind_of(const wd_rule *rule)
{
    return rule->effect == WD_RULE_FORBID ? "forbid" : "permit";
}

static void check_rule(set_lint *s, const wd_rule *rule, const wd_set_lint_options *options)
{
    for (size_t i = 0; i < rule->operation_count; i++)
        if (!is_operation_spelling(rule->operations[i]))
            finding(s, rule->file, rule->line,
                    "%s '%s': operation target `%s` is not spelled {namespace}Name (m.operation is the Body "
                    "element's namespace in braces, then its local name)",
                    kind_of(rule), rule->name, rule->operations[i]);
    for (size_t i = 0; i < rule->action_count; i++)
        if (rule->actions[i][0] == '{')
            finding(s, rule->file, rule->line,
                    "%s '%s': action target `%s` is spelled like an operation: use operation = \"%s\", or the "
                    "wsa:Action URI",
                    kind_of(rule), rule->name, rule->actions[i], rule->actions[i]);
    if (rule->action_count > 0 && rule->operation_count == 0 && options->signed_parts != NULL
        && !lists(options->signed_parts, "Action"))
        finding(s, rule->file, rule->line,
                "warning: %s '%s' matches on action, but require.signed does not list \"Action\": anyone can "
                "relabel an unsigned wsa:Action; prefer an operation target, require the Action signed, or "
                "check m.signed.Action",
                kind_of(rule), rule->name);
}

/* Collects the rule names into a NULL-terminated array (for suggestions); NULL on memory. */
static const char **rule_names(const wd_rule_list *list)
{
    const char **names = calloc(list->count + 1, sizeof *names);
    for (size_t i = 0; names != NULL && i < list->count; i++)
        names[i] = list->rules[i].name;
    return names;
}

static void suggestion(char *out, size_t capacity, const char *nearest)
{
    if (nearest != NULL)
        snprintf(out, capacity, "; did you mean `%s`?", nearest);
    else
        out[0] = '\0';
}

/* Compares the keys of the message table on top with schema (recursively, a few levels). */
static void check_message(set_lint *s, const wd_policy_test_case *test, const wd_view_schema *schema,
                          const char *where, int depth)
{
    lua_State *L = s->L;
    int table = lua_gettop(L);
    if (depth > MESSAGE_DEPTH || lua_type(L, table) != LUA_TTABLE || !lua_checkstack(L, 4))
        return;
    lua_pushnil(L);
    while (lua_next(L, table) != 0) {
        const wd_view_schema *child = NULL;
        char path[128];
        if (lua_type(L, -2) == LUA_TSTRING) {
            const char *name = lua_tostring(L, -2);
            bool known = true;
            child = wd_view_schema_field(schema, name, &known);
            if (!known) {
                char message[WD_VIEW_MESSAGE_MAX];
                wd_view_schema_unknown(schema, name, message, sizeof message);
                finding(s, test->file, test->line, "test '%s': the message sets %s.%s, which the view never "
                        "reads (%s)", test->name, where, name, message);
            }
            if (depth == 0 && strcmp(name, "body") == 0)
                child = NULL; /* the body map's keys are paths, not fields */
            snprintf(path, sizeof path, "%s.%s", where, name);
        } else if (lua_type(L, -2) == LUA_TNUMBER) {
            child = wd_view_schema_item(schema);
            snprintf(path, sizeof path, "%s[%lld]", where, (long long)lua_tointeger(L, -2));
        }
        if (child != NULL && lua_type(L, -1) == LUA_TTABLE)
            check_message(s, test, child, path, depth + 1);
        lua_settop(L, table + 1);
    }
    lua_settop(L, table);
}

static void check_test(set_lint *s, const wd_policy_test_case *test, const wd_rule_list *list,
                       const char **names, const wd_set_lint_options *options)
{
    lua_State *L = s->L;
    int top = lua_gettop(L);
    char hint[WD_RULE_NAME_MAX + 32];

    if (lua_rawgeti(L, LUA_REGISTRYINDEX, test->spec) != LUA_TTABLE)
        goto done;
    int spec = lua_gettop(L);
    if (lua_getfield(L, spec, "reason") == LUA_TSTRING) {
        const char *reason = lua_tostring(L, -1);
        if (!lists(options->reasons, reason)) {
            suggestion(hint, sizeof hint, wd_view_nearest(reason, options->reasons));
            finding(s, test->file, test->line, "test '%s': reason `%s` is not a reason code%s", test->name,
                    reason, hint);
        }
    }
    lua_settop(L, spec);
    if (lua_getfield(L, spec, "rules") == LUA_TTABLE) {
        for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
            const char *name = lua_tostring(L, -1);
            bool found = false;
            for (size_t r = 0; r < list->count && !found; r++)
                found = strcmp(list->rules[r].name, name) == 0;
            if (!found) {
                suggestion(hint, sizeof hint, wd_view_nearest(name, names));
                finding(s, test->file, test->line, "test '%s': no rule is named `%s`%s", test->name, name, hint);
            }
            lua_pop(L, 1);
        }
    }
    lua_settop(L, spec);
    if (lua_getfield(L, spec, "message") == LUA_TTABLE)
        check_message(s, test, wd_view_schema_root(), "m", 0);
done:
    lua_settop(L, top);
}

size_t wd_set_lint(lua_State *L, const wd_rule_list *list, const wd_set_lint_options *options,
                   wd_set_lint_report_fn report, void *context)
{
    set_lint s = { L, report, context, 0 };
    for (size_t i = 0; i < list->count; i++)
        check_rule(&s, &list->rules[i], options);
    const char **names = rule_names(list);
    if (names == NULL) {
        finding(&s, NULL, 0, "out of memory");
        return s.problems;
    }
    for (size_t i = 0; i < list->test_count; i++)
        check_test(&s, &list->tests[i], list, names, options);
    free(names);
    return s.problems;
}
