/*
** test_hostile_policies.c — policies written by an attacker who controls a policy file, run
** through the public API. Each row is one attempt: to escape the sandbox, to keep state from
** one decision to the next (upvalues, file-level tables, _ENV, declaring rules at decision
** time), to learn host addresses, or to forge log lines. Each row asserts either that loading
** is refused with file and line (as a reload, while the previous revision keeps serving) or
** the decision and its reason, twice (the first decision changed nothing), and then that the
** engine serves a benign message with the expected allow.
*/
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <warden.h>

#include "test_engine.h"
#include "test_messages.h"
#include "test_run.h"

/* Appended to every hostile policy: the rule the benign message (action .../Status) gets. */
#define BENIGN "\npermit \"benign\" { action = \"urn:example:orders/Status\" }\n"
#define CREATE "action = \"urn:example:orders/Create\""

typedef struct hostile {
    const char *what;
    const char *policy;   /* a.lua (BENIGN is appended) */
    const char *refused;  /* load refused: the error starts with this "a.lua:LINE: " ... */
    const char *problem;  /* ... and contains this; or, for a decision, the first error does */
    int         allowed;  /* the hostile message's decision (when not refused) */
    const char *reason;
    int         log;      /* 1: every log line must be free of control characters */
} hostile;

static const hostile rows[] = {
    /* ---- escapes: nothing outside the allowlist is reachable ---- */
    { "io.open", "permit \"x\" { " CREATE ", when = function(m) return io.open('/etc/passwd') ~= nil end }",
      NULL, "global 'io'", 0, "policy-error", 0 },
    { "os.execute", "permit \"x\" { " CREATE ", when = function(m) return os.execute('true') end }",
      NULL, "global 'os'", 0, "policy-error", 0 },
    { "debug.sethook", "permit \"x\" { " CREATE ", when = function(m) debug.sethook() return true end }",
      NULL, "global 'debug'", 0, "policy-error", 0 },
    { "load a chunk", "permit \"x\" { " CREATE ", when = function(m) return load('return true')() end }",
      NULL, "global 'load'", 0, "policy-error", 0 },
    { "require", "permit \"x\" { " CREATE ", when = function(m) return require('os') ~= nil end }",
      NULL, "global 'require'", 0, "policy-error", 0 },
    { "dofile", "permit \"x\" { " CREATE ", when = function(m) return dofile('/etc/passwd') end }",
      NULL, "global 'dofile'", 0, "policy-error", 0 },
    { "string.dump", "permit \"x\" { " CREATE ", when = function(m) return string.dump(function() end) ~= nil end }",
      NULL, "field 'dump'", 0, "policy-error", 0 },
    { "getmetatable of strings",
      "permit \"x\" { " CREATE ", when = function(m) return getmetatable('').__index.dump ~= nil end }",
      NULL, "global 'getmetatable'", 0, "policy-error", 0 },
    { "string methods through a string value",
      "permit \"x\" { " CREATE ", when = function(m) return (''):dump() ~= nil end }",
      NULL, "method 'dump'", 0, "policy-error", 0 },
    { "collectgarbage", "permit \"x\" { " CREATE ", when = function(m) collectgarbage('stop') return true end }",
      NULL, "global 'collectgarbage'", 0, "policy-error", 0 },
    { "coroutine to outrun the hook",
      "permit \"x\" { " CREATE ", when = function(m) return coroutine.wrap(function() return true end)() end }",
      NULL, "global 'coroutine'", 0, "policy-error", 0 },
    { "replace a library function",
      "permit \"x\" { " CREATE ", when = function(m) string.lower = string.upper return true end }",
      NULL, "read-only", 0, "policy-error", 0 },
    /* ---- _ENV ---- */
    { "_ENV swapped at file level", "_ENV = { permit = permit }\npermit \"x\" { " CREATE " }",
      "a.lua:1: ", "_ENV cannot be assigned", 0, NULL, 0 },
    { "_ENV swapped by a rule for later decisions",
      "permit \"x\" { " CREATE ", when = function(m)\n  _ENV = { tonumber = function() return 0 end }\n  return true end }",
      "a.lua:2: ", "_ENV cannot be assigned", 0, NULL, 0 },
    { "local _ENV", "local e = {}\nlocal _ENV = e\npermit \"x\" { " CREATE " }",
      "a.lua:2: ", "_ENV cannot be redeclared", 0, NULL, 0 },
    { "parameter named _ENV",
      "permit \"x\" { " CREATE ",\n  when = function(_ENV) return action ~= nil end }",
      "a.lua:2: ", "_ENV cannot be redeclared", 0, NULL, 0 },
    { "loop variable named _ENV",
      "permit \"x\" { " CREATE ", when = function(m)\n  for _ENV in pairs({}) do end return true end }",
      "a.lua:2: ", "_ENV cannot be redeclared", 0, NULL, 0 },
    { "_ENV as a compile-time constant",
      "local _ENV <const> = 'x'\nlocal f = upper",
      "a.lua:1: ", "_ENV cannot be redeclared", 0, NULL, 0 },
    { "globals assigned at decision time",
      "permit \"x\" { " CREATE ", when = function(m) seen = (seen or 0) + 1 return seen == 1 end }",
      NULL, "globals are read-only", 0, "policy-error", 0 },
    { "_ENV written through", "permit \"x\" { " CREATE ", when = function(m) _ENV.seen = true return true end }",
      NULL, "globals are read-only", 0, "policy-error", 0 },
    /* ---- declaring rules at decision time ---- */
    { "permit called by a rule",
      "permit \"x\" { " CREATE ", when = function(m) permit \"late\" { } return false end }",
      NULL, "only available while policy files load", 0, "policy-error", 0 },
    { "permit's spec taker kept for later",
      "local later = permit \"late\"\nforbid \"x\" { " CREATE ", when = function(m) later { } return false end }",
      NULL, "only available while policy files load", 0, "policy-error", 0 },
    { "permit under pcall, the rule allows",
      "permit \"x\" { " CREATE ", when = function(m) return not pcall(forbid, \"late\") end }",
      NULL, NULL, 1, "permitted", 0 },
    /* ---- state between decisions through variables ---- */
    { "a counter in a file-level local",
      "local count = 0\npermit \"x\" { " CREATE ", when = function(m)\n  count = count + 1\n  return count == 1 end }",
      "a.lua:3: ", "'count' is declared at file level", 0, NULL, 0 },
    { "upvalue cache across two principals",
      "local last\nforbid \"x\" { " CREATE ", when = function(m)\n"
      "  local other = last ~= nil and last ~= m:body('customer')\n  last = m:body('customer')\n  return other end }",
      "a.lua:4: ", "'last' is declared at file level", 0, NULL, 0 },
    { "the view kept for the next decision",
      "local kept\npermit \"x\" { " CREATE ", when = function(m) kept = m return true end }",
      "a.lua:2: ", "'kept' is declared at file level", 0, NULL, 0 },
    { "assignment three closures deep",
      "local hits = 0\nlocal function a() return function() return function()\n  hits = hits + 1 end end end\n"
      "permit \"x\" { " CREATE ", when = function(m) a()()() return hits < 2 end }",
      "a.lua:3: ", "'hits' is declared at file level", 0, NULL, 0 },
    { "a counter made by a factory that ran at load",
      "local function counter()\n  local n = 0\n  return function(m)\n    n = n + 1\n    return n == 1 end end\n"
      "permit \"x\" { " CREATE ", when = counter() }",
      "a.lua:4: ", "'n' belongs to a function that ran while the file loaded", 0, NULL, 0 },
    { "a factory's variable bumped by a nested closure",
      "local function make()\n  local n = 0\n  return function(m)\n    local function bump() n = n + 1 end\n"
      "    bump() return n == 1 end end\npermit \"x\" { " CREATE ", when = make() }",
      "a.lua:4: ", "'n' belongs to a function that ran while the file loaded", 0, NULL, 0 },
    { "locals of the rule assigned by its closures are fine",
      "local function each(list, f) for _, v in ipairs(list) do f(v) end end\n"
      "permit \"x\" { " CREATE ", when = function(m)\n  local found = false\n"
      "  each({ 'a', m:body('customer') }, function(t) found = found or t == 'ACME-1042' end)\n  return found end }",
      NULL, NULL, 1, "permitted", 0 },
    /* ---- state between decisions through tables ---- */
    { "a file-level cache table",
      "local cache = {}\npermit \"x\" { " CREATE ", when = function(m)\n"
      "  cache.n = (cache.n or 0) + 1 return cache.n == 1 end }",
      NULL, "read-only", 0, "policy-error", 0 },
    { "a nested file-level table",
      "local state = { inner = { list = {} } }\npermit \"x\" { " CREATE ", when = function(m)\n"
      "  state.inner.list[#state.inner.list + 1] = 1 return #state.inner.list == 1 end }",
      NULL, "read-only", 0, "policy-error", 0 },
    { "table.insert into a file-level list",
      "local seen = {}\npermit \"x\" { " CREATE ", when = function(m)\n"
      "  table.insert(seen, m:body('customer')) return #seen == 1 end }",
      NULL, "read-only", 0, "policy-error", 0 },
    { "a table reached only through a global",
      "registry = { hits = 0 }\npermit \"x\" { " CREATE ", when = function(m)\n"
      "  registry.hits = registry.hits + 1 return registry.hits == 1 end }",
      NULL, "read-only", 0, "policy-error", 0 },
    { "a table captured by a factory's closure",
      "local function box() local t = {} return function() return t end end\nlocal get = box()\n"
      "permit \"x\" { " CREATE ", when = function(m) get().n = 1 return true end }",
      NULL, "read-only", 0, "policy-error", 0 },
    { "a table used as a key",
      "local key = {}\nlocal t = { [key] = true }\npermit \"x\" { " CREATE ", when = function(m)\n"
      "  for k in pairs(t) do k.n = 1 end return true end }",
      NULL, "read-only", 0, "policy-error", 0 },
    { "rawset on a frozen table",
      "local t = {}\npermit \"x\" { " CREATE ", when = function(m) rawset(t, 'n', 1) return true end }",
      NULL, "global 'rawset'", 0, "policy-error", 0 },
    { "setmetatable on a frozen table",
      "local t = {}\npermit \"x\" { " CREATE ", when = function(m) setmetatable(t, nil) t.n = 1 return true end }",
      NULL, "global 'setmetatable'", 0, "policy-error", 0 },
    { "getmetatable of a frozen table",
      "local t = {}\npermit \"x\" { " CREATE ", when = function(m) getmetatable(t).__newindex = nil return true end }",
      NULL, "global 'getmetatable'", 0, "policy-error", 0 },
    { "table.sort on a frozen list",
      "local t = { 3, 1, 2 }\npermit \"x\" { " CREATE ", when = function(m) table.sort(t) return t[1] == 1 end }",
      NULL, "read-only", 0, "policy-error", 0 },
    { "setmetatable on data",
      "permit \"x\" { " CREATE ", when = function(m) setmetatable(data.limits, {}) return true end }",
      NULL, "global 'setmetatable'", 0, "policy-error", 0 },
    { "data written", "permit \"x\" { " CREATE ", when = function(m) data.limits.max = 1 return true end }",
      NULL, "read-only", 0, "policy-error", 0 },
    { "frozen tables and data still read, count and iterate",
      "local t = { a = 1, list = { 'x', 'y' } }\npermit \"x\" { " CREATE ", when = function(m)\n"
      "  local n = 0 for k, v in pairs(t) do n = n + 1 end\n"
      "  local k = next(t) local d = next(data.limits)\n"
      "  return n == 2 and #t.list == 2 and t.list[2] == 'y' and (k == 'a' or k == 'list') and d == 'max'\n"
      "    and table.concat(t.list, ',') == 'x,y' end }",
      NULL, NULL, 1, "permitted", 0 },
    /* ---- addresses ---- */
    { "%p in string.format",
      "permit \"x\" { " CREATE ", when = function(m) return string.format('%p', {}) ~= '' end }",
      NULL, "%p is not available", 0, "policy-error", 0 },
    { "%p through a method call",
      "permit \"x\" { " CREATE ", when = function(m) return ('%5p'):format(m) ~= '' end }",
      NULL, "%p is not available", 0, "policy-error", 0 },
    { "tostring and %s show no address",
      "forbid \"leak\" { " CREATE ", when = function(m)\n"
      "  local texts = { tostring({}), tostring(print or tostring), tostring(m), string.format('%s|%s', {}, m),\n"
      "    tostring(data.limits), tostring(string) }\n"
      "  return table.concat(texts, ' '):find('0x') ~= nil end }\n"
      "permit \"x\" { " CREATE ", when = function(m)\n"
      "  return tostring({}) == 'table' and tostring(tostring) == 'function' end }",
      NULL, NULL, 1, "permitted", 0 },
    { "an address in an error message",
      "permit \"x\" { " CREATE ", when = function(m) error(tostring(function() end) .. ' ' .. string.format('%s', {})) end }",
      NULL, "function table", 0, "policy-error", 0 },
    { "an error object that is a table",
      "permit \"x\" { " CREATE ", when = function(m) error({ code = 1 }) end }",
      NULL, "(error object is a table value)", 0, "policy-error", 0 },
    { "an error object with __tostring and __gc",
      "permit \"x\" { " CREATE ", when = function(m)\n"
      "  error(setmetatable({}, { __tostring = function() return 'x' end, __gc = function() while true do end end })) end }",
      NULL, "global 'setmetatable'", 0, "policy-error", 0 },
    /* ---- log lines ---- */
    { "log injection: newline, CR, ESC, NUL, C1",
      "permit \"x\" { " CREATE ", when = function(m)\n"
      "  log('ok\\nwarden: info: forged line\\r\\27[2J\\0tail\\194\\155[31m', '\\255') return true end }",
      NULL, NULL, 1, "permitted", 1 },
    { "log injection through a rule name in a load error",
      "permit \"x\\nwarden: info: reloaded: sha256:forged\\27[2J\" { when = 3 }",
      "a.lua:1: ", "when must be a function", 0, NULL, 1 },
};

/* ---- policy directories and messages ---------------------------------------------------- */

/* The plain order request (action .../Create, customer ACME-1042), or the same with the
** action .../Status: the benign message. */
static warden_decision *decide(warden_engine *engine, int benign)
{
    char *text = tm_plain_message();
    if (benign) {
        char *action = strstr(text, "orders/Create");
        ck_assert_ptr_nonnull(action);
        memcpy(action + strlen("orders/"), "Status", 6);
    }
    warden_decision *decision = te_decide(engine, text);
    free(text);
    return decision;
}

static warden_engine *open_engine(const te_policy_dir *dir, te_log_lines *log, warden_error *err, int *status)
{
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "require.token", "false", err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "policies", dir->path, err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "reload.watch", "false", err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "limits.time_ms", "2000", err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set_logger(config, te_collect_log, log), WARDEN_OK);
    *status = warden_engine_new(config, &engine, err);
    warden_config_free(config);
    return engine;
}

static void assert_benign_allowed(warden_engine *engine, const char *what)
{
    warden_decision *decision = decide(engine, 1);
    ck_assert_msg(warden_decision_allowed(decision) == 1, "%s: the benign message got %s", what,
                  warden_decision_reason(decision));
    ck_assert_str_eq(warden_decision_reason(decision), "permitted");
    ck_assert_uint_eq(warden_decision_rule_count(decision), 1); /* no rule was added at decision time */
    ck_assert_str_eq(warden_decision_rule(decision, 0), "benign");
    warden_decision_free(decision);
}

static void assert_clean_log(const te_log_lines *log, const char *what)
{
    for (int i = 0; i < log->count; i++)
        for (const unsigned char *c = (const unsigned char *)log->lines[i]; *c != '\0'; c++)
            ck_assert_msg((*c >= 0x20 || *c == '\t') && *c != 0x7f && !(c[0] == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f),
                          "%s: log line %d has byte 0x%02x: %s", what, i, *c, log->lines[i]);
}

START_TEST(hostile_policy_is_contained_and_the_engine_goes_on)
{
    const hostile *row = &rows[_i];
    te_policy_dir dir = te_make_dir("hostile");
    te_write_file(&dir, "data/limits.json", "{ \"max\": 1000 }");
    char text[4096];
    snprintf(text, sizeof text, "%s%s", row->policy, BENIGN);

    te_log_lines log = { .count = 0 };
    warden_error err;
    int status;
    warden_engine *engine;
    if (row->refused != NULL) {
        /* a good revision serves first; the hostile one arrives as a reload */
        te_write_file(&dir, "a.lua", BENIGN);
        engine = open_engine(&dir, &log, &err, &status);
        ck_assert_msg(status == WARDEN_OK, "%s: %s", row->what, err.text);
        te_write_file(&dir, "a.lua", text);
        ck_assert_int_eq(warden_engine_reload(engine, &err), WARDEN_E_POLICY);
        ck_assert_msg(strstr(err.text, row->refused) == err.text || strstr(err.text, row->refused) != NULL,
                      "%s: refused as '%s'", row->what, err.text);
        ck_assert_msg(strncmp(err.text, row->refused, strlen(row->refused)) == 0, "%s: '%s' does not start with '%s'",
                      row->what, err.text, row->refused);
        ck_assert_msg(strstr(err.text, row->problem) != NULL, "%s: '%s' lacks '%s'", row->what, err.text, row->problem);
        /* and the same file cannot start an engine either */
        warden_error again;
        int start_status;
        te_log_lines other = { .count = 0 };
        warden_engine *fresh = open_engine(&dir, &other, &again, &start_status);
        ck_assert_int_eq(start_status, WARDEN_E_POLICY);
        ck_assert_ptr_null(fresh);
        ck_assert_str_eq(again.text, err.text);
    } else {
        te_write_file(&dir, "a.lua", text);
        engine = open_engine(&dir, &log, &err, &status);
        ck_assert_msg(status == WARDEN_OK, "%s: %s", row->what, err.text);
        for (int round = 0; round < 2; round++) { /* the first decision changed nothing */
            warden_decision *decision = decide(engine, 0);
            const char *first_error = warden_decision_error_count(decision) ? warden_decision_error(decision, 0) : "-";
            ck_assert_msg(warden_decision_allowed(decision) == row->allowed && strcmp(warden_decision_reason(decision), row->reason) == 0,
                          "%s (decision %d): allowed %d, %s (%s)", row->what, round + 1, warden_decision_allowed(decision),
                          warden_decision_reason(decision), first_error);
            if (row->problem != NULL)
                ck_assert_msg(strstr(first_error, row->problem) != NULL, "%s: error '%s' lacks '%s'", row->what,
                              first_error, row->problem);
            ck_assert_msg(strstr(first_error, "0x") == NULL, "%s: an address in '%s'", row->what, first_error);
            warden_decision_free(decision);
        }
    }
    assert_benign_allowed(engine, row->what);
    if (row->log) {
        ck_assert_int_ge(log.count, 1);
        assert_clean_log(&log, row->what);
    }
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

/* The exact escaped text of log(...) with every kind of dangerous byte. */
START_TEST(log_text_reaches_the_log_escaped)
{
    te_policy_dir dir = te_make_dir("hostile");
    te_write_file(
        &dir, "a.lua",
        "permit \"x\" { when = function(m)\n"
        "  log('a\\nb\\rc\\27[2Jd\\0e\\\\f\\127g\\194\\155h\\255i', 'caf\\195\\169\\tx') return true end }\n");
    te_log_lines log = { .count = 0 };
    warden_error err;
    int status;
    warden_engine *engine = open_engine(&dir, &log, &err, &status);
    ck_assert_msg(status == WARDEN_OK, "%s", err.text);
    warden_decision_free(decide(engine, 0));
    ck_assert_int_ge(log.count, 1);
    ck_assert_str_eq(log.lines[log.count - 1],
                     "policy: a\\nb\\rc\\x1b[2Jd\\x00e\\\\f\\x7fg\\u009bh\\xffi\tcaf\xc3\xa9\tx");
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("hostile_policies");
    TCase *table = tcase_create("table");
    tcase_set_timeout(table, 300);
    tcase_add_loop_test(table, hostile_policy_is_contained_and_the_engine_goes_on, 0, (int)(sizeof rows / sizeof rows[0]));
    tcase_add_test(table, log_text_reaches_the_log_escaped);
    suite_add_tcase(suite, table);
    return tr_run_suite(suite);
}
