/*
** policy_tools.c — `warden check` and `warden test` as library calls (warden_policy_check,
** warden_policy_test), and the test runner an engine uses before it starts on a policy set.
** Checking reports every problem it finds, file by file; testing runs each `test` of the
** *_test.lua files: a synthetic message straight into the rules, or a real envelope through
** the full verification first (the config's verifier over a fresh replay cache per test; no
** engine is made, so running the tests inside engine construction cannot recurse). Each
** test's decision is traced (lua/decide.h), so that a failure names the rule that erred and
** carries the log() lines, and --coverage counts per rule and per line; a name pattern picks
** tests.
*/
#include <jansson.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "file_text.h"
#include "time_text.h"
#include "../core/failure.h"
#include "../core/replay_cache.h"
#include "../core/verifier.h"
#include "../core/xml_parse.h"
#include "../lua/data.h"
#include "../lua/decide.h"
#include "../lua/pattern.h"
#include "../lua/set_lint.h"
#include "../lua/view.h"
#include "config.h"
#include "config_schema.h"
#include "engine.h"
#include "error.h"
#include "log_text.h"

static void quiet_log(void *context, const char *line, size_t length)
{
    (void)context;
    (void)line;
    (void)length;
}

/* Splits "path:line: message" (as Lua and the declarers write errors) into its parts. */
static void report_error_text(warden_report_fn report, void *context, const char *path, const char *text)
{
    int line = 0;
    const char *message = text;
    size_t path_length = strlen(path);
    if (strncmp(text, path, path_length) == 0 && text[path_length] == ':') {
        const char *p = text + path_length + 1;
        char *end = NULL;
        long value = strtol(p, &end, 10);
        if (end != p && *end == ':') {
            line = (int)value;
            message = end + 1;
            while (*message == ' ')
                message++;
        } else {
            message = p;
            while (*message == ' ')
                message++;
        }
    }
    if (report != NULL)
        report(context, path, line, 0, message);
}

/* ---- warden_policy_check ----------------------------------------------------------- */

typedef struct lint_context {
    warden_report_fn report;
    void            *context;
    const char      *path;
    size_t           warnings; /* findings that start with "warning: " (not counted as problems) */
} lint_context;

static bool is_warning(const char *message)
{
    return strncmp(message, "warning: ", 9) == 0;
}

/* A problem of one file: a finding at a line, or an error text that may carry "path:line:". */
static void file_problem(void *opaque, int line, const char *message)
{
    lint_context *lint = opaque;
    if (is_warning(message))
        lint->warnings++;
    if (line > 0) {
        if (lint->report != NULL)
            lint->report(lint->context, lint->path, line, 0, message);
    } else {
        report_error_text(lint->report, lint->context, lint->path, message);
    }
}

/* Loads the file as the engine would, with every problem reported (the purity check, unknown
** globals, errors raised while it runs). */
static void check_file(wd_policy_state *state, const wd_policy_file *file, bool as_test, warden_report_fn report,
                       void *context, size_t *problems)
{
    lint_context lint = { report, context, file->path, 0 };
    const char *globals[WD_POLICY_GLOBALS_MAX];
    *problems += wd_policy_state_check_file(state, file->path, file->text, file->length, as_test,
                                            wd_policy_state_globals(as_test, globals), file_problem, &lint)
               - lint.warnings;
}

typedef struct set_context {
    warden_report_fn report;
    void            *context;
} set_context;

static void set_problem(void *opaque, const char *file, int line, const char *message)
{
    set_context *set = opaque;
    if (set->report != NULL)
        set->report(set->context, file, line, 0, message);
}

/* What needs the whole set: targets, unsigned action targets, the names tests use. */
static size_t check_set(wd_policy_state *state, const warden_config *config, warden_report_fn report, void *ctx)
{
    static const char *const policy_reasons[] = { "permitted", "forbidden", "no-permit", "policy-error",
                                                  "policy-limit" };
    const size_t policy_count = sizeof policy_reasons / sizeof policy_reasons[0];
    const char *reasons[sizeof policy_reasons / sizeof policy_reasons[0] + WD_REASON_COUNT + 1];
    size_t count = 0;
    for (size_t i = 0; i < policy_count; i++)
        reasons[count++] = policy_reasons[i];
    for (int r = WD_REASON_NONE + 1; r < WD_REASON_COUNT; r++)
        if (wd_reason_name((wd_reason)r)[0] != '\0')
            reasons[count++] = wd_reason_name((wd_reason)r);
    reasons[count] = NULL;
    wd_set_lint_options options = { (const char *const *)config->require_signed_view, reasons };
    set_context context = { report, ctx };
    return wd_set_lint(state->L, &state->list, &options, set_problem, &context);
}

int warden_policy_check(const warden_config *config, const char *policy_dir, warden_report_fn report, void *ctx,
                        size_t *problems, warden_error *err)
{
    size_t found = 0;
    char error[512];
    wd_policy_state *state = NULL;
    int status = WARDEN_OK;

    wd_error_clear(err);
    if (config == NULL || policy_dir == NULL || problems == NULL)
        return wd_error_set(err, WARDEN_E_INVALID_ARG, "", "config, policy_dir and problems must not be NULL");
    wd_sandbox_limits limits;
    wd_policy_source source;
    wd_engine_sandbox_limits(config, &limits);
    if (wd_policy_source_read(policy_dir, &limits, &source, error, sizeof error) != 0) {
        status = wd_error_set(err, WARDEN_E_IO, "", "%s", error);
        goto done;
    }
    /* Data documents that do not parse are findings; the rest are loaded for the files. */
    size_t kept = 0;
    for (size_t i = 0; i < source.files.data_count; i++) {
        wd_policy_file *document = &source.files.data[i];
        if (wd_data_validate(document->text, document->length, error, sizeof error) != 0) {
            found++;
            if (report != NULL)
                report(ctx, document->path, 0, 0, error);
            free(document->path);
            free(document->text);
            free(document->name);
            continue;
        }
        source.files.data[kept++] = *document;
    }
    source.files.data_count = kept;
    if (wd_policy_state_new_empty(&source, quiet_log, NULL, &state, error, sizeof error) != 0) {
        status = wd_error_set(err, WARDEN_E_NOMEM, "", "%s", error);
        goto done;
    }
    for (size_t i = 0; i < source.files.policy_count; i++)
        check_file(state, &source.files.policies[i], false, report, ctx, &found);
    for (size_t i = 0; i < source.files.test_count; i++)
        check_file(state, &source.files.tests[i], true, report, ctx, &found);
    found += check_set(state, config, report, ctx);
done:
    wd_policy_state_free(state);
    wd_policy_source_clear(&source);
    *problems = found;
    return status;
}

/* ---- running tests ------------------------------------------------------------------- */

/* The test's message table is reached through the registry: the view is pushed inside a
** protected call, whose stack frame cannot see the caller's slots. */
typedef struct synthetic_view {
    int     table;  /* registry reference */
    int64_t now;
} synthetic_view;

static void push_synthetic(lua_State *L, void *opaque)
{
    synthetic_view *view = opaque;
    lua_rawgeti(L, LUA_REGISTRYINDEX, view->table);
    wd_view_push_synthetic(L, lua_gettop(L), view->now);
    lua_remove(L, -2);
}

static void push_real(lua_State *L, void *message)
{
    wd_view_push_message(L, message);
}

static const char *field_string(lua_State *L, int table, const char *key, size_t *length)
{
    lua_getfield(L, table, key);
    const char *text = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, length) : NULL;
    lua_pop(L, 1); /* the string stays alive in the table */
    return text;
}

/* What an envelope test verifies with: the config's trust material and settings over a fresh
** replay cache (so one test's nonce cannot replay another's). The message received refers
** to both: they are freed after it. */
typedef struct envelope_verifier {
    wd_replay_cache *replay;
    wd_verifier     *verifier;
} envelope_verifier;

static void envelope_verifier_free(envelope_verifier *v)
{
    wd_verifier_free(v->verifier);
    wd_replay_cache_free(v->replay);
}

/* Verifies an envelope test's message with the config's verification settings and a fresh
** replay cache. Returns WARDEN_OK with *message, WARDEN_E_SECURITY with reason filled, or
** another error with text. */
static int verify_envelope(const warden_config *config, const char *path, int64_t now, lua_State *L, int attrs,
                           envelope_verifier *v, warden_message **message, char *reason, size_t reason_capacity,
                           char *text, size_t text_capacity)
{
    warden_error err;
    wd_failure failure = { 0 };
    size_t length = 0;
    wd_xml_initialise();
    int status = wd_replay_cache_new_memory((size_t)config->replay_entries, &v->replay);
    if (status != WARDEN_OK) {
        snprintf(text, text_capacity, "cannot make the replay cache");
        return status;
    }
    status = wd_engine_build_verifier(config, v->replay, &v->verifier, &err);
    if (status != WARDEN_OK) {
        snprintf(text, text_capacity, "%s", err.text);
        return status;
    }
    char *bytes = NULL;
    if (wd_file_read(path, (size_t)16 << 20, 0, &bytes, &length) != WD_FILE_OK) {
        snprintf(text, text_capacity, "cannot read the envelope %.200s", path);
        return WARDEN_E_IO;
    }
    warden_attr pairs[32];
    size_t pair_count = 0;
    if (attrs != 0) {
        lua_pushnil(L);
        while (lua_next(L, attrs) != 0 && pair_count < 32) {
            if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
                pairs[pair_count].name = lua_tostring(L, -2);
                pairs[pair_count].value = lua_tostring(L, -1);
                pair_count++;
            }
            lua_pop(L, 1);
        }
    }
    warden_receive_options options = { .size = sizeof options, .now = now, .attrs = pairs, .attr_count = pair_count };
    status = wd_verifier_receive(v->verifier, bytes, length, &options, message, &failure);
    free(bytes);
    if (status != WARDEN_OK) {
        wd_error_from_failure(&err, &failure);
        snprintf(reason, reason_capacity, "%s", err.reason);
        snprintf(text, text_capacity, "%s", err.text);
    }
    return status;
}

/* Appends ", " + text to a fixed buffer. */
static void append(char *buffer, size_t capacity, const char *text)
{
    size_t used = strlen(buffer);
    if (used + 1 < capacity)
        snprintf(buffer + used, capacity - used, "%s%s", used > 0 ? ", " : "", text);
}

/* What a decision came to, for a person: "deny (forbidden: RULE)", or for a decision that
** a rule's error or limit made, the rule that erred (from the trace: its name, file and line)
** rather than the permits that happened to apply. *erring is that rule, or NULL. */
static void describe_outcome(const wd_decision_outcome *outcome, const wd_trace *trace, const wd_policy_set *set,
                             char *buffer, size_t capacity, const char **erring)
{
    *erring = NULL;
    const wd_rule_trace *failed = NULL;
    for (size_t i = 0; trace != NULL && i < trace->count && failed == NULL; i++)
        if (trace->rules[i].error != NULL)
            failed = &trace->rules[i];
    if (failed != NULL) {
        const wd_rule *rule = &set->rules.rules[failed->rule];
        *erring = rule->name;
        snprintf(buffer, capacity, "%s (%s): rule '%s' (%s:%d) %s: %s", outcome->allowed ? "allow" : "deny",
                 outcome->reason, rule->name, rule->file, rule->line,
                 strcmp(outcome->reason, "policy-limit") == 0 ? "hit a limit" : "raised", failed->error);
        return;
    }
    char rules[256] = "";
    for (size_t i = 0; i < outcome->rule_count; i++)
        append(rules, sizeof rules, outcome->rules[i]);
    snprintf(buffer, capacity, "%s (%s%s%s)", outcome->allowed ? "allow" : "deny", outcome->reason,
             rules[0] ? ": " : "", rules);
    for (size_t i = 0; i < outcome->error_count; i++) {
        append(buffer, capacity, "error: ");
        size_t used = strlen(buffer);
        snprintf(buffer + used, capacity - used, "%s", outcome->errors[i]);
    }
}

/* ---- coverage ------------------------------------------------------------------------ */

typedef struct file_lines {
    const char    *path;      /* the set's */
    unsigned char *seen;      /* one byte per line, 1 = ran */
    int            capacity;
} file_lines;

typedef struct coverage {
    size_t     *applied, *not_applied;  /* per rule */
    file_lines *files;                  /* per policy file */
    size_t      file_count;
    bool        out_of_memory;
} coverage;

static void line_ran(void *context, const char *chunkname, int line)
{
    coverage *cov = context;
    if (chunkname == NULL || chunkname[0] != '@' || line <= 0)
        return;
    for (size_t i = 0; i < cov->file_count; i++) {
        file_lines *file = &cov->files[i];
        if (strcmp(file->path, chunkname + 1) != 0)
            continue;
        if (line >= file->capacity) {
            int grown = line + 64;
            unsigned char *seen = realloc(file->seen, (size_t)grown);
            if (seen == NULL) {
                cov->out_of_memory = true;
                return;
            }
            memset(seen + file->capacity, 0, (size_t)(grown - file->capacity));
            file->seen = seen;
            file->capacity = grown;
        }
        file->seen[line] = 1;
        return;
    }
}

static void coverage_clear(coverage *cov)
{
    free(cov->applied);
    free(cov->not_applied);
    for (size_t i = 0; i < cov->file_count; i++)
        free(cov->files[i].seen);
    free(cov->files);
    memset(cov, 0, sizeof *cov);
}

static int coverage_init(coverage *cov, const wd_policy_set *set)
{
    memset(cov, 0, sizeof *cov);
    cov->applied = calloc(set->rules.count + 1, sizeof *cov->applied);
    cov->not_applied = calloc(set->rules.count + 1, sizeof *cov->not_applied);
    cov->files = calloc(set->source.files.policy_count + 1, sizeof *cov->files);
    if (cov->applied == NULL || cov->not_applied == NULL || cov->files == NULL) {
        coverage_clear(cov);
        return -1;
    }
    cov->file_count = set->source.files.policy_count;
    for (size_t i = 0; i < cov->file_count; i++)
        cov->files[i].path = set->source.files.policies[i].path;
    return 0;
}

static void coverage_count(coverage *cov, const wd_trace *trace)
{
    for (size_t i = 0; i < trace->count; i++) {
        const wd_rule_trace *rule = &trace->rules[i];
        if (rule->applied)
            cov->applied[rule->rule]++;
        else if (rule->targets && rule->ran)
            cov->not_applied[rule->rule]++;
    }
}

/* {"rules": [{"rule", "file", "line", "applied", "not_applied", "reached"}],
**  "files": [{"file", "lines_run", "lines": [N, ...]}]} */
static char *coverage_json(const coverage *cov, const wd_policy_set *set)
{
    json_t *root = json_object(), *rules = json_array(), *files = json_array();
    for (size_t i = 0; i < set->rules.count; i++) {
        const wd_rule *rule = &set->rules.rules[i];
        json_t *entry = json_object();
        json_object_set_new(entry, "rule", json_string(rule->name));
        json_object_set_new(entry, "effect", json_string(rule->effect == WD_RULE_FORBID ? "forbid" : "permit"));
        json_object_set_new(entry, "file", json_string(rule->file));
        json_object_set_new(entry, "line", json_integer(rule->line));
        json_object_set_new(entry, "applied", json_integer((json_int_t)cov->applied[i]));
        json_object_set_new(entry, "not_applied", json_integer((json_int_t)cov->not_applied[i]));
        json_object_set_new(entry, "reached", json_boolean(cov->applied[i] + cov->not_applied[i] > 0));
        json_array_append_new(rules, entry);
    }
    for (size_t i = 0; i < cov->file_count; i++) {
        const file_lines *file = &cov->files[i];
        json_t *entry = json_object(), *lines = json_array();
        for (int line = 1; line < file->capacity; line++)
            if (file->seen[line])
                json_array_append_new(lines, json_integer(line));
        json_object_set_new(entry, "file", json_string(file->path));
        json_object_set_new(entry, "lines_run", json_integer((json_int_t)json_array_size(lines)));
        json_object_set_new(entry, "lines", lines);
        json_array_append_new(files, entry);
    }
    json_object_set_new(root, "rules", rules);
    json_object_set_new(root, "files", files);
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    return text;
}

/* ---- one test ------------------------------------------------------------------------ */

typedef struct test_run {
    char        text[1024];
    const char *erring_rule;  /* the set's */
    wd_trace    trace;        /* its decision's explanation: log lines, coverage */
} test_run;

/* Runs one test; returns true when it passed, with a line for the report in run->text (what
** it decided, or why it failed) and the decision's trace. */
static bool run_test(const warden_config *config, wd_policy_state *state, const wd_policy_test_case *test,
                     test_run *run)
{
    lua_State *L = state->L;
    int top = lua_gettop(L);
    bool passed = false;
    envelope_verifier verifier = { NULL, NULL };
    warden_message *message = NULL;
    wd_decision_outcome outcome;
    memset(&outcome, 0, sizeof outcome);
    outcome.rules = outcome.inline_rules;
    char *text = run->text;
    size_t capacity = sizeof run->text;
    text[0] = '\0';
    run->erring_rule = NULL;
    memset(&run->trace, 0, sizeof run->trace);

    lua_rawgeti(L, LUA_REGISTRYINDEX, test->spec);
    int spec = lua_gettop(L);
    const char *expect = field_string(L, spec, "expect", NULL);
    const char *expected_reason = field_string(L, spec, "reason", NULL);
    int64_t now = (int64_t)time(NULL);
    size_t now_length = 0;
    const char *now_text = field_string(L, spec, "now", &now_length);
    if (now_text != NULL && wd_time_parse(now_text, now_length, 0, &now) != 0) {
        snprintf(text, capacity, "now = \"%s\" is not an ISO-8601 time", now_text);
        goto done;
    }
    lua_getfield(L, spec, "attrs");
    int attrs = lua_type(L, -1) == LUA_TTABLE ? lua_gettop(L) : 0;

    char actual[768];
    size_t envelope_length = 0;
    const char *envelope = field_string(L, spec, "envelope", &envelope_length);
    if (envelope != NULL) {
        char path[4096], reason[48] = "", problem[256] = "";
        snprintf(path, sizeof path, "%s/%s", state->source->files.directory, envelope);
        int status = verify_envelope(config, path, now, L, attrs, &verifier, &message, reason, sizeof reason,
                                     problem, sizeof problem);
        if (status == WARDEN_E_SECURITY) {
            snprintf(actual, sizeof actual, "deny (security: %s: %s)", reason, problem);
            passed = strcmp(expect, "deny") == 0 && (expected_reason == NULL || strcmp(expected_reason, reason) == 0);
            if (passed)
                snprintf(text, capacity, "%s", actual);
            else
                snprintf(text, capacity, "expected %s%s%s, got %s", expect, expected_reason ? " " : "",
                         expected_reason ? expected_reason : "", actual);
            goto done;
        }
        if (status != WARDEN_OK) {
            snprintf(text, capacity, "%s", problem);
            goto done;
        }
        warden_string action = { NULL, 0 }, operation = { NULL, 0 };
        warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_ACTION, &action, sizeof action);
        warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_OPERATION, &operation, sizeof operation);
        wd_decide_traced(state, action.data, action.length, operation.data, operation.length, push_real, message,
                         &outcome, &run->trace);
    } else {
        lua_getfield(L, spec, "message");
        int view_table = lua_gettop(L);
        size_t action_length = 0, operation_length = 0;
        const char *action = field_string(L, view_table, "action", &action_length);
        const char *operation = field_string(L, view_table, "operation", &operation_length);
        lua_pushvalue(L, view_table);
        synthetic_view view = { luaL_ref(L, LUA_REGISTRYINDEX), now };
        wd_decide_traced(state, action, action_length, operation, operation_length, push_synthetic, &view, &outcome,
                         &run->trace);
        luaL_unref(L, LUA_REGISTRYINDEX, view.table);
    }

    describe_outcome(&outcome, &run->trace, state->set, actual, sizeof actual, &run->erring_rule);
    passed = strcmp(expect, outcome.allowed ? "allow" : "deny") == 0
             && (expected_reason == NULL || strcmp(expected_reason, outcome.reason) == 0);
    if (!passed) {
        snprintf(text, capacity, "expected %s%s%s, got %s", expect, expected_reason ? " " : "",
                 expected_reason ? expected_reason : "", actual);
        goto done;
    }
    lua_getfield(L, spec, "rules");
    if (lua_type(L, -1) == LUA_TTABLE) {
        int rules = lua_gettop(L);
        for (lua_Integer i = 1; passed && lua_rawgeti(L, rules, i) == LUA_TSTRING; i++) {
            const char *wanted = lua_tostring(L, -1);
            bool found = false;
            for (size_t k = 0; k < outcome.rule_count && !found; k++)
                found = strcmp(outcome.rules[k], wanted) == 0;
            if (!found) {
                passed = false;
                snprintf(text, capacity, "expected rule '%s' among the decision's rules, got %s", wanted, actual);
            }
            lua_pop(L, 1);
        }
    }
    if (passed)
        snprintf(text, capacity, "%s", actual);

done:
    wd_decision_outcome_clear(&outcome);
    warden_message_free(message);
    envelope_verifier_free(&verifier);
    lua_settop(L, top);
    return passed;
}

/* ---- running a set's tests ----------------------------------------------------------- */

/* True when the test's name matches the Lua pattern (string.find, bounded like a policy's);
** a pattern that is not valid is an error (-1 with error filled). */
static int name_matches(lua_State *L, int find, const char *name, const char *pattern, char *error, size_t capacity)
{
    lua_pushvalue(L, find);
    lua_pushstring(L, name);
    lua_pushstring(L, pattern);
    if (wd_sandbox_call(L, 2, 1, error, capacity) != WD_SANDBOX_OK)
        return -1;
    int matched = !lua_isnil(L, -1);
    lua_pop(L, 1);
    return matched;
}

int wd_policy_tests_execute(const warden_config *config, wd_policy_set *set, const warden_test_options *options,
                            warden_test_fn report, void *context, size_t *passed, size_t *failed, warden_error *err)
{
    wd_policy_state *state = NULL;
    char error[512];
    coverage cov;
    bool covering = options != NULL && options->coverage && options->coverage_fn != NULL;
    const char *pattern = options != NULL ? options->run : NULL;
    int status = WARDEN_OK;

    *passed = *failed = 0;
    memset(&cov, 0, sizeof cov);
    if (wd_policy_state_new(set, quiet_log, NULL, &state, error, sizeof error) != 0)
        return wd_error_set(err, WARDEN_E_POLICY, "", "%s", error);
    if (wd_policy_state_load_tests(state, error, sizeof error) != 0) {
        status = wd_error_set(err, WARDEN_E_POLICY, "", "%s", error);
        goto done;
    }
    lua_State *L = state->L;
    lua_newtable(L);
    int find = 0;
    if (pattern != NULL) {
        wd_pattern_register(L, lua_gettop(L));
        lua_getfield(L, -1, "find");
        find = lua_gettop(L);
    }
    if (covering) {
        if (coverage_init(&cov, set) != 0) {
            status = wd_error_set(err, WARDEN_E_NOMEM, "", "out of memory");
            goto done;
        }
        wd_sandbox_set_line_hook(L, line_ran, &cov);
    }
    for (size_t i = 0; i < state->list.test_count; i++) {
        const wd_policy_test_case *test = &state->list.tests[i];
        if (pattern != NULL) {
            int matched = name_matches(L, find, test->name, pattern, error, sizeof error);
            if (matched < 0) {
                status = wd_error_set(err, WARDEN_E_INVALID_ARG, "", "--run: %s", error);
                goto done;
            }
            if (!matched)
                continue;
        }
        test_run *run = calloc(1, sizeof *run);
        if (run == NULL) {
            status = wd_error_set(err, WARDEN_E_NOMEM, "", "out of memory");
            goto done;
        }
        bool ok = run_test(config, state, test, run);
        if (ok)
            (*passed)++;
        else
            (*failed)++;
        if (covering)
            coverage_count(&cov, &run->trace);
        if (report != NULL) {
            /* every log line the test's decision wrote, in evaluation order, and the text,
            ** escaped as log lines are (log_text.h): they may quote the message */
            size_t log_count = 0;
            for (size_t k = 0; k < run->trace.count; k++)
                log_count += run->trace.rules[k].log_count;
            char **log = calloc(log_count + 1, sizeof *log);
            size_t n = 0;
            for (size_t k = 0; log != NULL && k < run->trace.count; k++) {
                for (size_t j = 0; j < run->trace.rules[k].log_count; j++) {
                    const char *line = run->trace.rules[k].log[j];
                    size_t length = strlen(line), capacity = length * 6 + 1 < 4096 ? length * 6 + 1 : 4096;
                    if ((log[n] = malloc(capacity)) != NULL)
                        wd_log_escape(line, length, log[n++], capacity);
                }
            }
            char text[sizeof run->text * 2];
            wd_log_escape(run->text, strlen(run->text), text, sizeof text);
            warden_test_result result = {
                .name = test->name, .file = test->file, .line = test->line, .passed = ok ? 1 : 0,
                .text = text, .erring_rule = run->erring_rule, .log = (const char *const *)log, .log_count = n,
            };
            report(context, &result);
            for (size_t k = 0; k < n; k++)
                free(log[k]);
            free(log);
        }
        wd_trace_clear(&run->trace);
        free(run);
    }
    if (covering) {
        wd_sandbox_set_line_hook(L, NULL, NULL);
        char *json = cov.out_of_memory ? NULL : coverage_json(&cov, set);
        if (json == NULL) {
            status = wd_error_set(err, WARDEN_E_NOMEM, "", "out of memory");
            goto done;
        }
        options->coverage_fn(context, json);
        free(json);
    }
done:
    coverage_clear(&cov);
    wd_policy_state_free(state);
    return status;
}

/* The one-line report of warden_policy_test: "test 'NAME' passed: ..." or "test 'NAME': ...". */
typedef struct legacy_report {
    warden_report_fn report;
    void            *context;
} legacy_report;

static void report_legacy(void *context, const warden_test_result *result)
{
    legacy_report *legacy = context;
    char text[1400];
    snprintf(text, sizeof text, result->passed ? "test '%s' passed: %s" : "test '%s': %s", result->name,
             result->text);
    legacy->report(legacy->context, result->file, result->line, result->passed, text);
}

int wd_policy_tests_run(const warden_config *config, wd_policy_set *set, warden_report_fn report, void *context,
                        size_t *passed, size_t *failed, warden_error *err)
{
    legacy_report legacy = { report, context };
    return wd_policy_tests_execute(config, set, NULL, report != NULL ? report_legacy : NULL, &legacy, passed, failed,
                                   err);
}

static int compile_and_run(const warden_config *config, const char *policy_dir, const warden_test_options *options,
                           warden_test_fn report, void *ctx, size_t *passed, size_t *failed, warden_error *err)
{
    char error[512];
    wd_sandbox_limits limits;
    wd_policy_set *set = NULL;

    wd_engine_sandbox_limits(config, &limits);
    if (wd_policy_set_compile(policy_dir, &limits, &set, error, sizeof error) != 0)
        return wd_error_set(err, WARDEN_E_POLICY, "", "%s", error);
    int status = wd_policy_tests_execute(config, set, options, report, ctx, passed, failed, err);
    wd_policy_set_unref(set);
    return status;
}

int warden_policy_test(const warden_config *config, const char *policy_dir, warden_report_fn report, void *ctx,
                       size_t *passed, size_t *failed, warden_error *err)
{
    wd_error_clear(err);
    if (config == NULL || policy_dir == NULL || passed == NULL || failed == NULL)
        return wd_error_set(err, WARDEN_E_INVALID_ARG, "", "config, policy_dir, passed and failed must not be NULL");
    *passed = *failed = 0;
    legacy_report legacy = { report, ctx };
    return compile_and_run(config, policy_dir, NULL, report != NULL ? report_legacy : NULL, &legacy, passed, failed,
                           err);
}

int warden_policy_run_tests(const warden_config *config, const char *policy_dir, const warden_test_options *options,
                            warden_test_fn report, void *ctx, size_t *passed, size_t *failed, warden_error *err)
{
    wd_error_clear(err);
    if (config == NULL || policy_dir == NULL || passed == NULL || failed == NULL)
        return wd_error_set(err, WARDEN_E_INVALID_ARG, "", "config, policy_dir, passed and failed must not be NULL");
    if (options != NULL && options->size < sizeof(size_t))
        return wd_error_set(err, WARDEN_E_INVALID_ARG, "", "options->size must be sizeof(warden_test_options)");
    *passed = *failed = 0;
    /* an older caller's smaller struct: the fields it did not have are zero */
    warden_test_options copy = { 0 };
    if (options != NULL)
        memcpy(&copy, options, options->size < sizeof copy ? options->size : sizeof copy);
    return compile_and_run(config, policy_dir, options != NULL ? &copy : NULL, report, ctx, passed, failed, err);
}
