/*
** policy_tools.c — `warden check` and `warden test` as library calls (warden_policy_check,
** warden_policy_test), and the test runner an engine uses before it starts on a policy set.
** Checking reports every problem it finds, file by file; testing runs each `test` of the
** *_test.lua files: a synthetic message straight into the rules, or a real envelope through
** the full verification first (the config's verifier over a fresh replay cache per test; no
** engine is made, so running the tests inside engine construction cannot recurse).
*/
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "file_text.h"
#include "time_text.h"
#include "../core/replay_cache.h"
#include "../core/verifier.h"
#include "../core/xml_parse.h"
#include "../lua/data.h"
#include "../lua/decide.h"
#include "../lua/view.h"
#include "config.h"
#include "config_schema.h"
#include "engine.h"
#include "error.h"

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
} lint_context;

/* A problem of one file: a finding at a line, or an error text that may carry "path:line:". */
static void file_problem(void *opaque, int line, const char *message)
{
    lint_context *lint = opaque;
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
    lint_context lint = { report, context, file->path };
    const char *globals[WD_POLICY_GLOBALS_MAX];
    *problems += wd_policy_state_check_file(state, file->path, file->text, file->length, as_test,
                                            wd_policy_state_globals(as_test, globals), file_problem, &lint);
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

static void describe_outcome(const wd_decision_outcome *outcome, char *buffer, size_t capacity)
{
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

/* Runs one test; returns true when it passed, with a line for the report in text. */
static bool run_test(const warden_config *config, wd_policy_state *state, const wd_policy_test_case *test,
                     char *text, size_t capacity)
{
    lua_State *L = state->L;
    int top = lua_gettop(L);
    bool passed = false;
    envelope_verifier verifier = { NULL, NULL };
    warden_message *message = NULL;
    wd_decision_outcome outcome;
    memset(&outcome, 0, sizeof outcome);
    outcome.rules = outcome.inline_rules;

    lua_rawgeti(L, LUA_REGISTRYINDEX, test->spec);
    int spec = lua_gettop(L);
    const char *expect = field_string(L, spec, "expect", NULL);
    const char *expected_reason = field_string(L, spec, "reason", NULL);
    int64_t now = (int64_t)time(NULL);
    size_t now_length = 0;
    const char *now_text = field_string(L, spec, "now", &now_length);
    if (now_text != NULL && wd_time_parse(now_text, now_length, 0, &now) != 0) {
        snprintf(text, capacity, "test '%s': now = \"%s\" is not an ISO-8601 time", test->name, now_text);
        goto done;
    }
    lua_getfield(L, spec, "attrs");
    int attrs = lua_type(L, -1) == LUA_TTABLE ? lua_gettop(L) : 0;

    char actual[512];
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
            if (!passed)
                snprintf(text, capacity, "test '%s': expected %s%s%s, got %s", test->name, expect,
                         expected_reason ? " " : "", expected_reason ? expected_reason : "", actual);
            goto done;
        }
        if (status != WARDEN_OK) {
            snprintf(text, capacity, "test '%s': %s", test->name, problem);
            goto done;
        }
        warden_string action = { NULL, 0 }, operation = { NULL, 0 };
        warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_ACTION, &action, sizeof action);
        warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_OPERATION, &operation, sizeof operation);
        wd_decide(state, action.data, action.length, operation.data, operation.length, push_real, message, &outcome);
    } else {
        lua_getfield(L, spec, "message");
        int view_table = lua_gettop(L);
        size_t action_length = 0, operation_length = 0;
        const char *action = field_string(L, view_table, "action", &action_length);
        const char *operation = field_string(L, view_table, "operation", &operation_length);
        lua_pushvalue(L, view_table);
        synthetic_view view = { luaL_ref(L, LUA_REGISTRYINDEX), now };
        wd_decide(state, action, action_length, operation, operation_length, push_synthetic, &view, &outcome);
        luaL_unref(L, LUA_REGISTRYINDEX, view.table);
    }

    describe_outcome(&outcome, actual, sizeof actual);
    passed = strcmp(expect, outcome.allowed ? "allow" : "deny") == 0
             && (expected_reason == NULL || strcmp(expected_reason, outcome.reason) == 0);
    if (!passed) {
        snprintf(text, capacity, "test '%s': expected %s%s%s, got %s", test->name, expect,
                 expected_reason ? " " : "", expected_reason ? expected_reason : "", actual);
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
                snprintf(text, capacity, "test '%s': expected rule '%s' among the decision's rules, got %s",
                         test->name, wanted, actual);
            }
            lua_pop(L, 1);
        }
    }
    if (passed)
        snprintf(text, capacity, "test '%s' passed: %s", test->name, actual);

done:
    wd_decision_outcome_clear(&outcome);
    warden_message_free(message);
    envelope_verifier_free(&verifier);
    lua_settop(L, top);
    return passed;
}

int wd_policy_tests_run(const warden_config *config, wd_policy_set *set, warden_report_fn report, void *context,
                        size_t *passed, size_t *failed, warden_error *err)
{
    wd_policy_state *state = NULL;
    char error[512];

    *passed = *failed = 0;
    if (wd_policy_state_new(set, quiet_log, NULL, &state, error, sizeof error) != 0)
        return wd_error_set(err, WARDEN_E_POLICY, "", "%s", error);
    if (wd_policy_state_load_tests(state, error, sizeof error) != 0) {
        wd_policy_state_free(state);
        return wd_error_set(err, WARDEN_E_POLICY, "", "%s", error);
    }
    for (size_t i = 0; i < state->list.test_count; i++) {
        const wd_policy_test_case *test = &state->list.tests[i];
        char text[1024];
        bool ok = run_test(config, state, test, text, sizeof text);
        if (ok)
            (*passed)++;
        else
            (*failed)++;
        if (report != NULL)
            report(context, test->file, test->line, ok ? 1 : 0, text);
    }
    wd_policy_state_free(state);
    return WARDEN_OK;
}

int warden_policy_test(const warden_config *config, const char *policy_dir, warden_report_fn report, void *ctx,
                       size_t *passed, size_t *failed, warden_error *err)
{
    char error[512];
    wd_sandbox_limits limits;
    wd_policy_set *set = NULL;

    wd_error_clear(err);
    if (config == NULL || policy_dir == NULL || passed == NULL || failed == NULL)
        return wd_error_set(err, WARDEN_E_INVALID_ARG, "", "config, policy_dir, passed and failed must not be NULL");
    *passed = *failed = 0;
    wd_engine_sandbox_limits(config, &limits);
    if (wd_policy_set_compile(policy_dir, &limits, &set, error, sizeof error) != 0)
        return wd_error_set(err, WARDEN_E_POLICY, "", "%s", error);
    int status = wd_policy_tests_run(config, set, report, ctx, passed, failed, err);
    wd_policy_set_unref(set);
    return status;
}
