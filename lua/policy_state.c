/*
** policy_state.c — loading a policy source into a sandboxed Lua state: the data
** documents as read-only `data.NAME`, then each policy file in path order, each in its own
** environment that offers permit/forbid/data on top of the sandbox's allowlist and is frozen
** once the file has run. Before a file runs its chunk passes the purity check (no _ENV
** assignment or redeclaration, no function assigning a file-level variable); after it has
** run, what it left behind is sealed (purity.h): tables frozen in place, functions kept for
** decisions checked.
*/
#include "policy_state.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "invariant.h"
#include "lint.h"
#include "policy_set.h"
#include "purity.h"

/* Pushes the read-only `data` table: one entry per data document. Runs protected (below). */
static int push_data(lua_State *L, wd_policy_state *state, char *error, size_t capacity)
{
    const wd_policy_files *files = &state->source->files;
    lua_createtable(L, 0, (int)files->data_count);
    for (size_t i = 0; i < files->data_count; i++) {
        char problem[256];
        if (wd_data_push(L, files->data[i].text, files->data[i].length, problem, sizeof problem) != 0) {
            snprintf(error, capacity, "%s: %s", files->data[i].path, problem);
            lua_pop(L, 1);
            return -1;
        }
        lua_setfield(L, -2, files->data[i].name);
    }
    wd_sandbox_push_readonly(L, -1);
    lua_remove(L, -2);
    return 0;
}

typedef struct setup {
    wd_policy_state *state;
    char            *error;
    size_t           capacity;
    bool             data_failed;
} setup;

/* Builds { permit, forbid, test, data } and keeps it in the registry. Runs protected:
** building tables can raise on memory, and a state at its cap must fail, not panic. */
static int build_extras(lua_State *L)
{
    setup *context = lua_touserdata(L, 1);
    if (push_data(L, context->state, context->error, context->capacity) != 0) {
        context->data_failed = true;
        return 0;
    }
    wd_rules_push_declarers(L, &context->state->list);
    lua_insert(L, -2);
    lua_setfield(L, -2, "data");
    context->state->extras = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* How one file's problems are handled: reported one by one (checking), or the first one
** kept as the load error. */
typedef struct problems {
    const char          *path;
    wd_policy_problem_fn report;   /* NULL: loading */
    void                *context;
    char                *error;    /* loading: the first problem, "path:line: message" */
    size_t               capacity;
    size_t               count;
} problems;

static void add_problem(problems *p, int line, const char *message)
{
    if (p->report != NULL)
        p->report(p->context, line, message);
    else if (p->count == 0 && p->error != NULL && p->capacity > 0) {
        if (line > 0)
            snprintf(p->error, p->capacity, "%s:%d: %s", p->path, line, message);
        else if (strncmp(message, p->path, strlen(p->path)) == 0) /* Lua's errors carry "file:line:" */
            snprintf(p->error, p->capacity, "%s", message);
        else
            snprintf(p->error, p->capacity, "%s: %s", p->path, message);
    }
    p->count++;
}

static void lint_problem(void *context, int line, const char *message)
{
    add_problem(context, line, message);
}

/* data_type of wd_lint_fields: the type of data.PATH in this state's data documents. */
static int data_type(void *context, const char *path)
{
    wd_policy_state *state = context;
    lua_State *L = state->L;
    int top = lua_gettop(L), type = -1;
    char key[128];

    lua_rawgeti(L, LUA_REGISTRYINDEX, state->extras);
    if (lua_type(L, -1) == LUA_TTABLE && lua_getfield(L, -1, "data") == LUA_TTABLE) {
        type = LUA_TTABLE;
        while (*path != '\0' && type == LUA_TTABLE) {
            size_t length = strcspn(path, ".");
            if (length >= sizeof key)
                break;
            memcpy(key, path, length);
            key[length] = '\0';
            type = lua_getfield(L, -1, key);
            path += length + (path[length] == '.');
        }
        if (*path != '\0')
            type = -1;
    }
    lua_settop(L, top);
    return type;
}

/* Checking: the reads of the compiled chunk on top (wd_lint_fields) against the view's names
** and this source's data documents. */
static void check_reads(wd_policy_state *state, wd_lint_report_fn report, void *context)
{
    const wd_policy_files *files = &state->source->files;
    const char **names = calloc(files->data_count + 1, sizeof *names);
    if (names == NULL) {
        report(context, 0, "out of memory");
        return;
    }
    for (size_t i = 0; i < files->data_count; i++)
        names[i] = files->data[i].name;
    wd_lint_fields_options options = { names, data_type, state };
    wd_lint_fields(state->L, &options, report, context);
    free(names);
}

/* Loads one file: compile, the purity check (before any of its code runs), the globals check
** (when checking), run, seal what it left behind, freeze its globals. Loading stops at the
** first problem; checking goes on where it can. Returns the number of problems. */
static size_t load_file(wd_policy_state *state, const char *path, const char *text, size_t length, int as_test,
                        const char *const *globals, problems *p)
{
    lua_State *L = state->L;
    int top = lua_gettop(L);
    char problem[512];
    size_t first_rule = state->list.count;

    state->list.current_file = path;
    state->list.loading_tests = as_test != 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, state->extras);
    wd_sandbox_push_env(L, lua_gettop(L));
    int env = lua_gettop(L);
    if (wd_sandbox_load(L, text, length, path, env, problem, sizeof problem) != 0) {
        add_problem(p, 0, problem);
        goto done;
    }
    int impure = wd_lint_purity(L, WD_LINT_FILE, text, length, lint_problem, p);
    if (impure != 0 && p->report == NULL)
        goto done;
    if (globals != NULL) {
        wd_lint_globals(L, globals, lint_problem, p);
        check_reads(state, lint_problem, p);
    }
    if (wd_sandbox_call(L, 0, 0, problem, sizeof problem) != WD_SANDBOX_OK) {
        add_problem(p, 0, problem);
        goto done;
    }
    /* test files keep no code for decisions, and their specs are read raw by the runner */
    if (!as_test && impure == 0) {
        size_t count = state->list.count - first_rule;
        int *whens = count > 0 ? malloc(count * sizeof *whens) : NULL;
        if (count > 0 && whens == NULL) {
            add_problem(p, 0, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < count; i++)
            whens[i] = state->list.rules[first_rule + i].when;
        wd_purity_seal(L, env, whens, count, lint_problem, p);
        free(whens);
    }
    wd_sandbox_freeze_env(L, env);
done:
    state->list.current_file = NULL;
    state->list.loading_tests = false;
    lua_settop(L, top);
    return p->count;
}

int wd_policy_state_run_file(wd_policy_state *state, const char *path, const char *text, size_t length,
                             int as_test, char *error, size_t capacity)
{
    problems p = { path, NULL, NULL, error, capacity, 0 };
    return load_file(state, path, text, length, as_test, NULL, &p) == 0 ? 0 : -1;
}

size_t wd_policy_state_check_file(wd_policy_state *state, const char *path, const char *text, size_t length,
                                  int as_test, const char *const *globals, wd_policy_problem_fn report,
                                  void *context)
{
    problems p = { path, report, context, NULL, 0, 0 };
    return load_file(state, path, text, length, as_test, globals, &p);
}

int wd_policy_state_new_empty(const wd_policy_source *source, wd_sandbox_log_fn log, void *log_context,
                              wd_policy_state **out, char *error, size_t capacity)
{
    wd_policy_state *state = calloc(1, sizeof *state);
    *out = NULL;
    if (state == NULL) {
        snprintf(error, capacity, "out of memory");
        return -1;
    }
    state->source = source;
    state->extras = LUA_NOREF;
    state->L = wd_sandbox_new(&source->limits, log, log_context);
    if (state->L == NULL) {
        snprintf(error, capacity, "out of memory making a Lua state");
        goto failed;
    }
    /* The text of the files this state is loaded from counts against its memory cap. */
    size_t text = wd_policy_source_text_bytes(source);
    if (!wd_sandbox_reserve(state->L, text)) {
        snprintf(error, capacity, "the policy files (%zu bytes) do not fit in limits.memory (%zu bytes)", text,
                 source->limits.memory);
        goto failed;
    }
    setup context = { state, error, capacity, false };
    lua_pushcfunction(state->L, build_extras);
    lua_pushlightuserdata(state->L, &context);
    if (lua_pcall(state->L, 1, 0, 0) != LUA_OK) {
        snprintf(error, capacity, "cannot set up the policy environment: %s",
                 lua_type(state->L, -1) == LUA_TSTRING ? lua_tostring(state->L, -1) : "error");
        goto failed;
    }
    if (context.data_failed)
        goto failed;
    wd_sandbox_settle(state->L);
    *out = state;
    return 0;

failed:
    wd_policy_state_free(state);
    return -1;
}

int wd_policy_state_load(const wd_policy_source *source, wd_sandbox_log_fn log, void *log_context,
                         wd_policy_state **out, char *error, size_t capacity)
{
    wd_policy_state *state = NULL;
    if (wd_policy_state_new_empty(source, log, log_context, &state, error, capacity) != 0)
        return -1;
    const wd_policy_files *files = &source->files;
    for (size_t i = 0; i < files->policy_count; i++) {
        if (wd_policy_state_run_file(state, files->policies[i].path, files->policies[i].text,
                                     files->policies[i].length, 0, error, capacity) != 0)
            goto failed;
    }
    size_t rules = state->list.count > 0 ? state->list.count : 1;
    if (!wd_sandbox_reserve(state->L, rules * sizeof *state->candidates)) {
        snprintf(error, capacity, "memory limit exceeded (%zu bytes) by %zu rules", source->limits.memory, rules);
        goto failed;
    }
    state->candidates = malloc(rules * sizeof *state->candidates);
    if (state->candidates == NULL) {
        snprintf(error, capacity, "out of memory");
        goto failed;
    }
    wd_sandbox_settle(state->L);
    *out = state;
    return 0;

failed:
    wd_policy_state_free(state);
    return -1;
}

int wd_policy_state_new(wd_policy_set *set, wd_sandbox_log_fn log, void *log_context,
                        wd_policy_state **out, char *error, size_t capacity)
{
    if (wd_policy_state_load(&set->source, log, log_context, out, error, capacity) != 0)
        return -1;
    (*out)->set = wd_policy_set_ref(set);
    return 0;
}

int wd_policy_state_load_tests(wd_policy_state *state, char *error, size_t capacity)
{
    const wd_policy_files *files = &state->source->files;
    for (size_t i = 0; i < files->test_count; i++) {
        if (wd_policy_state_run_file(state, files->tests[i].path, files->tests[i].text, files->tests[i].length,
                                     1, error, capacity) != 0)
            return -1;
    }
    wd_sandbox_settle(state->L);
    return 0;
}

const char *const *wd_policy_state_globals(int as_test, const char *names[WD_POLICY_GLOBALS_MAX])
{
    /* what build_extras offers each kind of file; the declarers refuse the other kind's */
    static const char *const policy_extras[] = { "data", "permit", "forbid", NULL };
    static const char *const test_extras[] = { "data", "test", NULL };
    size_t count = 0;
    for (const char *const *name = wd_sandbox_globals; *name != NULL; name++)
        names[count++] = *name;
    for (const char *const *name = as_test ? test_extras : policy_extras; *name != NULL; name++)
        names[count++] = *name;
    WD_ASSERT(count < WD_POLICY_GLOBALS_MAX);
    names[count] = NULL;
    return names;
}

void wd_policy_state_free(wd_policy_state *state)
{
    if (state == NULL)
        return;
    wd_sandbox_close(state->L); /* registry references die with it */
    wd_rules_clear(&state->list);
    free(state->candidates);
    wd_policy_set_unref(state->set);
    free(state);
}
