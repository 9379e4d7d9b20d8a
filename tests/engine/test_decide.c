/*
** test_decide.c — deciding through the public API: the decision semantics of
** docs/reference.md, Decisions (forbid overrides permit, no applicable rule denies, an erroring rule denies,
** targets and globs, data documents, revision ids), the sandbox escape table run as real
** policies (each attempt ends in deny with a reported error, and the engine then decides
** the next message normally), load errors, and threads deciding at once.
*/
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <warden.h>

#include "test_engine.h"
#include "test_messages.h"
#include "test_run.h"

/* ---- policy directories made for one test ---------------------------------------------- */

static int open_engine(const te_policy_dir *dir, const char *const *settings, size_t count, warden_engine **engine,
                       warden_error *err)
{
    warden_config *config = NULL;
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "require.token", "false", err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "policies", dir->path, err), WARDEN_OK);
    for (size_t i = 0; i + 1 < count; i += 2)
        ck_assert_msg(warden_config_set(config, settings[i], settings[i + 1], err) == WARDEN_OK, "%s", err->text);
    int status = warden_engine_new(config, engine, err);
    warden_config_free(config);
    return status;
}

static warden_engine *engine_for(const te_policy_dir *dir)
{
    warden_engine *engine = NULL;
    warden_error err;
    int status = open_engine(dir, NULL, 0, &engine, &err);
    ck_assert_msg(status == WARDEN_OK, "engine: %s", err.text);
    return engine;
}

/* Receives the plain order request (action urn:example:orders/Create, amount 250) and
** decides on it. */
static warden_decision *decide(warden_engine *engine)
{
    char *text = tm_plain_message();
    warden_decision *decision = te_decide(engine, text);
    free(text);
    return decision;
}

static void expect_decision(warden_engine *engine, int allowed, const char *reason, const char *rule)
{
    warden_decision *decision = decide(engine);
    ck_assert_msg(warden_decision_allowed(decision) == allowed, "allowed %d, reason %s, error %s",
                  warden_decision_allowed(decision), warden_decision_reason(decision),
                  warden_decision_error_count(decision) ? warden_decision_error(decision, 0) : "-");
    ck_assert_str_eq(warden_decision_reason(decision), reason);
    ck_assert_str_eq(warden_decision_stage(decision), "policy");
    if (rule != NULL) {
        ck_assert_uint_ge(warden_decision_rule_count(decision), 1);
        ck_assert_str_eq(warden_decision_rule(decision, 0), rule);
    }
    warden_decision_free(decision);
}

/* ---- decision semantics ------------------------------------------------------------- */

START_TEST(permit_that_applies_allows)
{
    te_policy_dir dir = te_make_dir("decide");
    te_write_file(&dir, "orders.lua",
                  "permit \"small orders\" { action = \"urn:example:orders/Create\",\n"
                  "  when = function(m) return tonumber(m:body(\"amount\")) < 1000 end }\n");
    warden_engine *engine = engine_for(&dir);
    expect_decision(engine, 1, "permitted", "small orders");
    warden_decision *decision = decide(engine);
    ck_assert_ptr_eq(warden_decision_rule(decision, 1), NULL);
    ck_assert_uint_eq(warden_decision_error_count(decision), 0);
    ck_assert_ptr_nonnull(strstr(warden_decision_revision(decision), "sha256:"));
    warden_decision_free(decision);
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(forbid_overrides_permit)
{
    te_policy_dir dir = te_make_dir("decide");
    te_write_file(&dir, "a.lua", "permit \"everyone\" { }\n");
    te_write_file(&dir, "b.lua", "forbid \"no orders\" { operation = \"{urn:example:orders}*\" }\n");
    warden_engine *engine = engine_for(&dir);
    expect_decision(engine, 0, "forbidden", "no orders");
    warden_decision *decision = decide(engine);
    ck_assert_uint_eq(warden_decision_rule_count(decision), 1); /* only the forbid is named */
    warden_decision_free(decision);
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(no_applicable_rule_denies)
{
    te_policy_dir dir = te_make_dir("decide");
    te_write_file(
        &dir, "a.lua",
        "permit \"other action\" { action = \"urn:example:orders/Cancel\" }\n"
        "permit \"false when\" { action = \"urn:example:orders/Create\", when = function(m) return false end }\n");
    warden_engine *engine = engine_for(&dir);
    expect_decision(engine, 0, "no-permit", NULL);
    warden_decision *decision = decide(engine);
    ck_assert_uint_eq(warden_decision_rule_count(decision), 0);
    warden_decision_free(decision);
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(erroring_permit_denies_and_reports)
{
    te_policy_dir dir = te_make_dir("decide");
    te_write_file(&dir, "a.lua",
                  "permit \"fine\" { }\n"
                  "permit \"broken\" { when = function(m) return m.cert.subject.CN == 'x' end }\n");
    warden_engine *engine = engine_for(&dir);
    warden_decision *decision = decide(engine);
    ck_assert_int_eq(warden_decision_allowed(decision), 0);
    ck_assert_str_eq(warden_decision_reason(decision), "policy-error");
    ck_assert_uint_eq(warden_decision_error_count(decision), 1);
    ck_assert_ptr_nonnull(strstr(warden_decision_error(decision, 0), "broken: "));
    warden_decision_free(decision);
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(erroring_forbid_denies)
{
    te_policy_dir dir = te_make_dir("decide");
    te_write_file(&dir, "a.lua",
                  "permit \"fine\" { }\n"
                  "forbid \"broken guard\" { when = function(m) error('cannot tell') end }\n");
    warden_engine *engine = engine_for(&dir);
    expect_decision(engine, 0, "policy-error", NULL);
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(targets_match_exactly_and_by_glob)
{
    static const struct { const char *targets; int allowed; } cases[] = {
        { "action = \"urn:example:orders/Create\"", 1 },
        { "action = \"urn:example:orders/*\"", 1 },
        { "action = \"*Create\"", 1 },
        { "action = \"urn:*:orders/C*\"", 1 },
        { "action = { \"urn:x\", \"urn:example:orders/Create\" }", 1 },
        { "action = \"urn:example:orders/Cancel\"", 0 },
        { "action = \"urn:example:orders/\"", 0 },
        { "operation = \"{urn:example:orders}CreateOrder\"", 1 },
        { "operation = \"{urn:example:orders}Cancel*\"", 0 },
        { "action = \"urn:example:orders/*\", operation = \"{urn:other}*\"", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        te_policy_dir dir = te_make_dir("decide");
        char text[256];
        snprintf(text, sizeof text, "permit \"target\" { %s }\n", cases[i].targets);
        te_write_file(&dir, "a.lua", text);
        warden_engine *engine = engine_for(&dir);
        warden_decision *decision = decide(engine);
        ck_assert_msg(warden_decision_allowed(decision) == cases[i].allowed, "%s", cases[i].targets);
        warden_decision_free(decision);
        warden_engine_free(engine);
        te_remove_dir(&dir);
    }
}
END_TEST

START_TEST(data_documents_are_readable_and_read_only)
{
    te_policy_dir dir = te_make_dir("decide");
    te_write_file(&dir, "data/limits.json", "{ \"max\": 1000, \"names\": [\"a\", \"b\"] }");
    te_write_file(&dir, "a.lua",
                  "permit \"within limit\" { when = function(m)\n"
                  "  return tonumber(m:body('amount')) <= data.limits.max and #data.limits.names == 2 end }\n"
                  "forbid \"changes data\" { when = function(m) data.limits.max = 1 end }\n");
    warden_engine *engine = engine_for(&dir);
    warden_decision *decision = decide(engine);
    /* the forbid's write raised: deny with an error, and the data unchanged for the permit */
    ck_assert_str_eq(warden_decision_reason(decision), "policy-error");
    ck_assert_uint_eq(warden_decision_rule_count(decision), 1);
    ck_assert_str_eq(warden_decision_rule(decision, 0), "within limit");
    warden_decision_free(decision);
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(revision_is_stable_for_the_same_files)
{
    te_policy_dir one = te_make_dir("decide"), two = te_make_dir("decide");
    te_write_file(&one, "a.lua", "permit \"all\" { }\n");
    te_write_file(&two, "a.lua", "permit \"all\" { }\n");
    warden_engine *first = engine_for(&one), *second = engine_for(&two);
    warden_status a = { .size = sizeof(warden_status) }, b = { .size = sizeof(warden_status) };
    ck_assert_int_eq(warden_engine_status(first, &a), WARDEN_OK);
    ck_assert_int_eq(warden_engine_status(second, &b), WARDEN_OK);
    ck_assert_str_eq(a.revision, b.revision);
    ck_assert_int_eq(strncmp(a.revision, "sha256:", 7), 0);
    ck_assert_uint_eq(strlen(a.revision), 7 + 64);
    warden_engine_free(second);
    te_write_file(&two, "a.lua", "permit \"all\" { } \n");
    second = engine_for(&two);
    ck_assert_int_eq(warden_engine_status(second, &b), WARDEN_OK);
    ck_assert_str_ne(a.revision, b.revision);
    warden_engine_free(first);
    warden_engine_free(second);
    te_remove_dir(&one);
    te_remove_dir(&two);
}
END_TEST

/* warden_status is versioned by its leading size: a caller built against an older, shorter
** struct gets the fields it knows and nothing is written past them. */
START_TEST(status_fills_only_the_fields_the_callers_size_covers)
{
    te_policy_dir dir = te_make_dir("decide");
    te_write_file(&dir, "a.lua", "permit \"all\" { }\n");
    warden_engine *engine = engine_for(&dir);
    warden_status full = { .size = sizeof(warden_status) };
    ck_assert_int_eq(warden_engine_status(engine, &full), WARDEN_OK);
    ck_assert_uint_eq(full.size, sizeof(warden_status));
    ck_assert_str_eq(full.replay_backend, "memory");

    /* an older caller whose struct ended after last_error_at */
    size_t old_size = offsetof(warden_status, replay_backend);
    warden_status older;
    memset(&older, 0x5a, sizeof older);
    older.size = old_size;
    ck_assert_int_eq(warden_engine_status(engine, &older), WARDEN_OK);
    ck_assert_uint_eq(older.size, old_size);
    ck_assert_str_eq(older.revision, full.revision);
    ck_assert_int_eq(older.loaded_at, full.loaded_at);
    const unsigned char *past = (const unsigned char *)&older + old_size;
    for (size_t i = 0; i < sizeof older - old_size; i++)
        ck_assert_uint_eq(past[i], 0x5a);

    warden_status unsized = { .size = 0 };
    ck_assert_int_eq(warden_engine_status(engine, &unsized), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_engine_status(engine, NULL), WARDEN_E_INVALID_ARG);
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(load_errors_stop_the_engine_with_file_and_line)
{
    static const struct { const char *text, *expected; } cases[] = {
        { "permit \"a\" {\n  action = 1 }\n", "a.lua:1:" },
        { "permit \"a\" { colour = \"red\" }\n", "unknown key 'colour'" },
        { "permit \"a\" { }\n\npermit \"a\" { }\n", "duplicate" },
        { "permit \"a\" { when = 3 }\n", "when must be a function" },
        { "permit \"a\" {\n", "a.lua:" },
        { "test \"t\" { message = {}, expect = \"allow\" }\n", "test is not available" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        te_policy_dir dir = te_make_dir("decide");
        te_write_file(&dir, "a.lua", cases[i].text);
        warden_engine *engine = NULL;
        warden_error err;
        ck_assert_int_eq(open_engine(&dir, NULL, 0, &engine, &err), WARDEN_E_POLICY);
        ck_assert_ptr_null(engine);
        ck_assert_msg(strstr(err.text, cases[i].expected) != NULL, "case %zu: %s", i, err.text);
        te_remove_dir(&dir);
    }
}
END_TEST

START_TEST(failing_policy_tests_stop_the_engine)
{
    te_policy_dir dir = te_make_dir("decide");
    te_write_file(&dir, "a.lua", "permit \"all\" { }\n");
    te_write_file(&dir, "a_test.lua",
                  "test \"nothing is allowed\" { message = { action = \"x\" }, expect = \"deny\" }\n");
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_int_eq(open_engine(&dir, NULL, 0, &engine, &err), WARDEN_E_POLICY);
    ck_assert_ptr_nonnull(strstr(err.text, "1 of 1 policy tests failed"));
    te_remove_dir(&dir);
}
END_TEST

START_TEST(deciding_without_a_policy_set_is_an_error)
{
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "require.token", "false", &err), WARDEN_OK);
    ck_assert_int_eq(warden_engine_new(config, &engine, &err), WARDEN_OK);
    warden_config_free(config);
    char *text = tm_plain_message();
    warden_message *message = NULL;
    warden_decision *decision = NULL;
    ck_assert_int_eq(warden_engine_receive(engine, text, strlen(text), NULL, &message, &err), WARDEN_OK);
    ck_assert_int_eq(warden_engine_decide(engine, message, &decision, &err), WARDEN_E_POLICY);
    ck_assert_ptr_null(decision);
    ck_assert_int_eq(warden_engine_decide(engine, NULL, &decision, &err), WARDEN_E_INVALID_ARG);
    warden_message_free(message);
    free(text);
    warden_engine_free(engine);
    warden_decision_free(NULL);
}
END_TEST

START_TEST(policy_log_lines_reach_the_embedders_logger)
{
    te_policy_dir dir = te_make_dir("decide");
    te_write_file(&dir, "a.lua",
                  "permit \"logs\" { when = function(m) log('amount', m:body('amount'), 7) return true end }\n");
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    te_log_lines log = { .count = 0 };
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "require.token", "false", &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "policies", dir.path, &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set_logger(config, te_collect_log, &log), WARDEN_OK);
    ck_assert_int_eq(warden_engine_new(config, &engine, &err), WARDEN_OK);
    warden_config_free(config);
    expect_decision(engine, 1, "permitted", "logs");
    ck_assert_int_ge(log.count, 1);
    ck_assert_ptr_nonnull(strstr(log.lines[log.count - 1], "amount\t250\t7"));
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(decision_log_has_one_json_line_per_decision)
{
    te_policy_dir dir = te_make_dir("decide");
    te_write_file(&dir, "a.lua", "permit \"small orders\" { action = \"urn:example:orders/Create\" }\n");
    char log_path[512];
    snprintf(log_path, sizeof log_path, "%s/decisions.jsonl", dir.path);
    const char *settings[] = { "log.decisions", log_path };
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_msg(open_engine(&dir, settings, 2, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_decision_free(decide(engine));
    warden_decision_free(decide(engine));
    warden_engine_free(engine);
    FILE *f = fopen(log_path, "r");
    ck_assert_ptr_nonnull(f);
    char line[2048];
    int lines = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        lines++;
        ck_assert_ptr_nonnull(strstr(line, "\"decision\":\"allow\""));
        ck_assert_ptr_nonnull(strstr(line, "\"action\":\"urn:example:orders/Create\""));
        ck_assert_ptr_nonnull(strstr(line, "\"message_id\":\"urn:uuid:"));
        ck_assert_ptr_nonnull(strstr(line, "\"rules\":[\"small orders\"]"));
        ck_assert_ptr_nonnull(strstr(line, "\"revision\":\"sha256:"));
        ck_assert_ptr_nonnull(strstr(line, "\"latency_us\":"));
        ck_assert_ptr_nonnull(strstr(line, "\"time\":"));
        ck_assert_ptr_nonnull(strstr(line, "\"errors\":[]"));
    }
    fclose(f);
    ck_assert_int_eq(lines, 2);
    te_remove_dir(&dir);
}
END_TEST

/* ---- the sandbox escape table ------------------------------------------------------- */

static const struct escape {
    const char *what;
    const char *body;   /* the body of `when = function(m) ... end` */
    const char *reason; /* "policy-error" or "policy-limit"; NULL: either */
} escapes[] = {
    { "read a file", "return io.open('/etc/passwd'):read('a') ~= nil", "policy-error" },
    { "run a command", "return os.execute('true')", "policy-error" },
    { "load a binary chunk", "return load('\\27Lua') ~= nil", "policy-error" },
    { "string.dump", "return string.dump(function() end) ~= nil", "policy-error" },
    { "change the string metatable", "getmetatable('').__index = {} return true", "policy-error" },
    { "replace a string function", "string.upper = function() return 'x' end return true", "policy-error" },
    { "setmetatable on the view", "setmetatable(m, {}) return true", "policy-error" },
    { "assign to the view", "m.action = 'urn:other' return true", "policy-error" },
    { "assign inside the view", "m.signed.Body = true return true", "policy-error" },
    { "rawset on the environment", "rawset(_ENV, 'x', 1) return true", "policy-error" },
    { "debug library", "return debug.getinfo(1) ~= nil", "policy-error" },
    { "debug through _G", "return _G.debug ~= nil and _G.debug.sethook ~= nil", "policy-error" },
    { "debug through package", "return package.loaded.debug ~= nil", "policy-error" },
    { "collectgarbage", "collectgarbage('stop') return true", "policy-error" },
    { "coroutine against the hook", "local co = coroutine.wrap(function() while true do end end) co() return true", "policy-error" },
    { "require", "return require('os') ~= nil", "policy-error" },
    { "dofile", "return dofile('/etc/passwd')", "policy-error" },
    { "print", "print('leak') return true", "policy-error" },
    { "assign a global", "allowed = true return allowed", "policy-error" },
    { "error object with metamethods", "error(setmetatable({}, { __tostring = function() return 'x' end, __gc = function() while true do end end }))", "policy-error" },
    { "infinite loop", "while true do end", "policy-limit" },
    { "loop that swallows the limit with pcall", "while true do pcall(function() while true do end end) end", "policy-limit" },
    { "infinite recursion", "local function f(n) return f(n + 1) + 1 end return f(1)", NULL },
    { "string.rep memory bomb", "return #string.rep('x', 1e9) > 0", "policy-limit" },
    { "table growth memory bomb", "local t = {} for i = 1, 1e9 do t[i] = i end return true", "policy-limit" },
    { "concatenation bomb", "local s = 'x' for i = 1, 64 do s = s .. s end return true", "policy-limit" },
    { "pathological pattern", "return string.find(string.rep('a', 800), string.rep('.-', 3) .. 'b') ~= nil", "policy-limit" },
    { "xpcall handler that loops", "return xpcall(function() error('x') end, function() while true do end end)", "policy-limit" },
};

START_TEST(escape_attempt_denies_and_the_next_decision_works)
{
    const struct escape *escape = &escapes[_i];
    te_policy_dir dir = te_make_dir("decide");
    char text[1024];
    snprintf(text, sizeof text,
             "permit \"escape\" { action = \"urn:example:orders/Create\", when = function(m) %s end }\n"
             "permit \"plain\" { action = \"urn:example:orders/Cancel\" }\n",
             escape->body);
    te_write_file(&dir, "a.lua", text);
    const char *limits[] = { "limits.instructions", "1000000", "limits.memory", "33554432", "limits.time_ms", "2000" };
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_msg(open_engine(&dir, limits, 6, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_decision *decision = decide(engine);
    ck_assert_msg(warden_decision_allowed(decision) == 0, "%s: allowed", escape->what);
    const char *reason = warden_decision_reason(decision);
    int expected = escape->reason != NULL ? strcmp(reason, escape->reason) == 0
                                          : strcmp(reason, "policy-error") == 0 || strcmp(reason, "policy-limit") == 0;
    ck_assert_msg(expected, "%s: reason %s (%s)", escape->what,
                  warden_decision_reason(decision),
                  warden_decision_error_count(decision) ? warden_decision_error(decision, 0) : "no error");
    ck_assert_msg(warden_decision_error_count(decision) == 1, "%s: no error reported", escape->what);
    ck_assert_ptr_nonnull(strstr(warden_decision_error(decision, 0), "escape: "));
    warden_decision_free(decision);
    /* the engine goes on: the same rule is evaluated again, and fails the same way */
    decision = decide(engine);
    ck_assert_str_eq(warden_decision_reason(decision), reason);
    warden_decision_free(decision);
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(engine_decides_normally_after_a_runaway_policy)
{
    te_policy_dir dir = te_make_dir("decide");
    te_write_file(&dir, "a.lua",
                  "permit \"runaway\" { action = \"urn:example:orders/Create\",\n"
                  "  when = function(m) if m:body('amount') == '250' then while true do end end return true end }\n"
                  "permit \"ok\" { action = \"urn:example:orders/Create\" }\n");
    warden_engine *engine = engine_for(&dir);
    for (int i = 0; i < 3; i++) {
        warden_decision *decision = decide(engine);
        ck_assert_str_eq(warden_decision_reason(decision), "policy-limit");
        warden_decision_free(decision);
    }
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(instruction_budget_is_shared_by_the_rules_of_a_decision)
{
    te_policy_dir dir = te_make_dir("decide");
    /* each rule alone fits in the budget; together they do not */
    te_write_file(
        &dir, "a.lua",
        "permit \"first\" { when = function(m) local n = 0 for i = 1, 60000 do n = n + 1 end return true end }\n"
        "permit \"second\" { when = function(m) local n = 0 for i = 1, 60000 do n = n + 1 end return true end }\n");
    const char *limits[] = { "limits.instructions", "150000" };
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_msg(open_engine(&dir, limits, 2, &engine, &err) == WARDEN_OK, "%s", err.text);
    expect_decision(engine, 0, "policy-limit", NULL);
    warden_engine_free(engine);
    te_write_file(
        &dir, "a.lua",
        "permit \"first\" { when = function(m) local n = 0 for i = 1, 60000 do n = n + 1 end return true end }\n");
    ck_assert_msg(open_engine(&dir, limits, 2, &engine, &err) == WARDEN_OK, "%s", err.text);
    expect_decision(engine, 1, "permitted", "first");
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

/* ---- threads ------------------------------------------------------------------------ */

typedef struct decider {
    warden_engine *engine;
    int            allowed;
} decider;

/* Each thread receives and decides its own messages, alternating a small order (allowed)
** and a large one (denied), and checks every decision. */
static void *decide_many(void *opaque)
{
    decider *d = opaque;
    char *small = tm_plain_message();
    /* the same request with amount 25000 */
    const char *amount = strstr(small, ">250<");
    size_t head = (size_t)(amount - small) + 4; /* up to and including "250" */
    char *large = malloc(strlen(small) + 3);
    memcpy(large, small, head);
    memcpy(large + head, "00", 2);
    strcpy(large + head + 2, amount + 4);
    for (int i = 0; i < 300; i++) {
        const char *text = i % 2 == 0 ? small : large;
        warden_message *message = NULL;
        warden_decision *decision = NULL;
        warden_error err;
        warden_receive_options options = { .size = sizeof options, .now = TM_NOW };
        if (warden_engine_receive(d->engine, text, strlen(text), &options, &message, &err) == WARDEN_OK
            && warden_engine_decide(d->engine, message, &decision, &err) == WARDEN_OK) {
            if (warden_decision_allowed(decision) == (i % 2 == 0))
                d->allowed++;
        }
        warden_decision_free(decision);
        warden_message_free(message);
    }
    free(small);
    free(large);
    return NULL;
}

START_TEST(threads_decide_in_their_own_states)
{
    te_policy_dir dir = te_make_dir("decide");
    te_write_file(&dir, "a.lua",
                  "local seen = 0\n"
                  "permit \"small orders\" { action = \"urn:example:orders/Create\",\n"
                  "  when = function(m) return tonumber(m:body(\"amount\")) < 1000 and m.soap == '1.1' end }\n");
    warden_engine *engine = engine_for(&dir);
    decider deciders[3] = { { engine, 0 }, { engine, 0 }, { engine, 0 } };
    pthread_t threads[3];
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, decide_many, &deciders[i]), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(deciders[i].allowed, 300); /* every decision was the right one */
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("decide");
    TCase *semantics = tcase_create("semantics");
    tcase_set_timeout(semantics, 120);
    tcase_add_test(semantics, permit_that_applies_allows);
    tcase_add_test(semantics, forbid_overrides_permit);
    tcase_add_test(semantics, no_applicable_rule_denies);
    tcase_add_test(semantics, erroring_permit_denies_and_reports);
    tcase_add_test(semantics, erroring_forbid_denies);
    tcase_add_test(semantics, targets_match_exactly_and_by_glob);
    tcase_add_test(semantics, data_documents_are_readable_and_read_only);
    tcase_add_test(semantics, revision_is_stable_for_the_same_files);
    tcase_add_test(semantics, status_fills_only_the_fields_the_callers_size_covers);
    tcase_add_test(semantics, load_errors_stop_the_engine_with_file_and_line);
    tcase_add_test(semantics, failing_policy_tests_stop_the_engine);
    tcase_add_test(semantics, deciding_without_a_policy_set_is_an_error);
    tcase_add_test(semantics, policy_log_lines_reach_the_embedders_logger);
    tcase_add_test(semantics, decision_log_has_one_json_line_per_decision);
    suite_add_tcase(suite, semantics);
    TCase *sandbox = tcase_create("sandbox");
    tcase_set_timeout(sandbox, 120);
    tcase_add_loop_test(sandbox, escape_attempt_denies_and_the_next_decision_works, 0,
                        (int)(sizeof escapes / sizeof escapes[0]));
    tcase_add_test(sandbox, engine_decides_normally_after_a_runaway_policy);
    tcase_add_test(sandbox, instruction_budget_is_shared_by_the_rules_of_a_decision);
    tcase_add_test(sandbox, threads_decide_in_their_own_states);
    suite_add_tcase(suite, sandbox);
    return tr_run_suite(suite);
}
