/*
** test_policy_limits.c — the sandbox limits through the public API: hostile rules (costly sorts,
** NUL-filled string comparisons, string builders, memory error texts, time spent in C before
** returning true) each deny with the expected reason and the engine then decides the next
** message normally; policy sets whose declarations or data would not fit in limits.memory fail
** to load with a clear error — in the engine, in `warden check` and `warden test` — and a hot
** reload of such a set keeps the revision serving.
*/
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <warden.h>

#include "test_engine.h"
#include "test_messages.h"
#include "test_run.h"

static warden_config *config_for(const te_policy_dir *dir, const char *memory, const char *time_ms)
{
    warden_config *config = NULL;
    warden_error err;
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "require.token", "false", &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "reload.watch", "false", &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "policies", dir->path, &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "limits.memory", memory, &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "limits.time_ms", time_ms, &err), WARDEN_OK);
    return config;
}

/* The plain order request (amount 250), or the same with amount 25000. */
static warden_decision *decide(warden_engine *engine, bool large)
{
    char *text = tm_plain_message();
    if (large) {
        char *amount = strstr(text, ">250<");
        char *grown = malloc(strlen(text) + 3);
        size_t head = (size_t)(amount - text) + 4;
        memcpy(grown, text, head);
        memcpy(grown + head, "00", 2);
        strcpy(grown + head + 2, amount + 4);
        free(text);
        text = grown;
    }
    warden_decision *decision = te_decide(engine, text);
    free(text);
    return decision;
}

/* ---- hostile rules ------------------------------------------------------------------ */

/* A 1 MiB string of NULs (less room for the header), and the same bytes as another value. */
#define NULS "local nuls = string.rep('\\0', 1048500) local same = nuls .. '' "

static const struct hostile {
    const char *what;
    const char *body;   /* `when` body, run for the 250 message only */
    const char *reason;
    const char *error;  /* a part of the reported error */
    const char *time_ms; /* limits.time_ms, NULL: 50 */
} hostiles[] = {
    { "sort of NUL-filled strings", NULS "local t = {} for i = 1, 300 do t[i] = i % 2 == 0 and nuls or same end "
                                         "table.sort(t) return true",
      "policy-limit", "limit exceeded", NULL },
    { "sort with a comparator comparing NUL strings", NULS "local t = {} for i = 1, 300 do t[i] = i end "
      "table.sort(t, function(a, b) return nuls < same or a < b end) return true", "policy-limit", "limit exceeded", NULL },
    { "sort with a C comparator", "local t = {} for i = 1, 300000 do t[i] = 300000 - i end table.sort(t, math.ult) "
                                  "return true",
      "policy-limit", "limit exceeded", NULL },
    { "NUL string comparisons in a loop", NULS "while true do local _ = nuls < same end", "policy-limit",
      "time limit exceeded", NULL },
    { "NUL string comparisons, then true", NULS "for i = 1, 200 do local _ = nuls < same end return true",
      "policy-limit", "limit exceeded", NULL },
    { "string.rep past string_bytes", "return #string.rep('x', 1048577) > 0", "policy-limit",
      "string limit exceeded (1048576 bytes)", NULL },
    { "concatenation doubling", "local s = 'x' for i = 1, 40 do s = s .. s end return true", "policy-limit",
      "string limit exceeded", NULL },
    { "table.concat builder", "local t = {} for i = 1, 64 do t[i] = string.rep('c', 32768) end return #table.concat(t) > 0",
      "policy-limit", "string limit exceeded", NULL },
    { "gsub builder", "return #string.gsub(string.rep('g', 700000), 'g', 'gg') > 0", "policy-limit",
      "limit exceeded", NULL },
    { "format builder", "local s = string.rep('f', 700000) return #string.format('%s%s', s, s) > 0",
      "policy-limit", "string limit exceeded", NULL },
    { "upper/lower/reverse churn", "local s = string.rep('u', 1000000) for i = 1, 1000 do "
                                   "s = s:upper():lower():reverse() end return true",
      "policy-limit", "limit exceeded", NULL },
    { "tostring of long strings in a loop", "local s = string.rep('t', 1000000) while true do s = tostring(s) .. '' end",
      "policy-limit", "limit exceeded", NULL },
    { "error('not enough memory')", "error('not enough memory', 0)", "policy-error", "not enough memory", NULL },
    { "error('not enough memory') with a position", "error('not enough memory')", "policy-error",
      "not enough memory", NULL },
    { "memory error text caught, then true", "local ok = pcall(error, 'not enough memory', 0) return not ok",
      "permitted", NULL, NULL },
    { "memory refused in a buffer, under pcall", "local t = {} local s = string.rep('b', 1 << 20) "
                                                 "for i = 1, 64 do t[i] = s end local ok = pcall(table.concat, t) return true",
      "policy-limit", "memory limit exceeded", "5000" },
    { "huge table", "local t = {} for i = 1, 1e9 do t[i] = { i } end return true", "policy-limit", "limit exceeded", NULL },
    { "deep recursion", "local function f(n) return f(n + 1) + 1 end return f(1)", NULL, NULL, NULL },
    { "utf8 over a long string", "local s = string.rep('\\u{10FFFF}', 200000) while true do local n = utf8.len(s) end",
      "policy-limit", "limit exceeded", NULL },
    { "pattern worst case", "return string.find(string.rep('a', 5000), string.rep('.-', 6) .. 'b') ~= nil",
      "policy-limit", "limit exceeded", NULL },
};

START_TEST(hostile_rule_denies_and_the_next_decision_is_normal)
{
    const struct hostile *h = &hostiles[_i];
    te_policy_dir dir = te_make_dir("limits");
    char text[2048];
    snprintf(text, sizeof text,
             "permit \"hostile\" { action = \"urn:example:orders/Create\",\n"
             "  when = function(m) if m:body('amount') ~= '250' then return false end %s end }\n"
             "permit \"large orders\" { action = \"urn:example:orders/Create\",\n"
             "  when = function(m) return m:body('amount') == '25000' end }\n",
             h->body);
    te_write_file(&dir, "a.lua", text);
    warden_config *config = config_for(&dir, "33554432", h->time_ms != NULL ? h->time_ms : "50");
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_msg(warden_engine_new(config, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_config_free(config);

    warden_decision *decision = decide(engine, false);
    const char *reason = warden_decision_reason(decision);
    const char *error = warden_decision_error_count(decision) > 0 ? warden_decision_error(decision, 0) : "";
    if (h->reason != NULL)
        ck_assert_msg(strcmp(reason, h->reason) == 0, "%s: reason %s (%s)", h->what, reason, error);
    else
        ck_assert_msg(strcmp(reason, "policy-error") == 0 || strcmp(reason, "policy-limit") == 0, "%s: %s", h->what,
                      reason);
    ck_assert_int_eq(warden_decision_allowed(decision), strcmp(reason, "permitted") == 0);
    if (h->error != NULL) {
        ck_assert_msg(strstr(error, "hostile: ") == error, "%s: error '%s'", h->what, error);
        ck_assert_msg(strstr(error, h->error) != NULL, "%s: error '%s'", h->what, error);
    }
    warden_decision_free(decision);

    /* the engine goes on: another message is decided normally, then this one again */
    for (int i = 0; i < 2; i++) {
        decision = decide(engine, true);
        ck_assert_msg(warden_decision_allowed(decision) == 1, "%s: next decision %s", h->what,
                      warden_decision_reason(decision));
        ck_assert_str_eq(warden_decision_rule(decision, 0), "large orders");
        warden_decision_free(decision);
    }
    decision = decide(engine, false);
    if (h->reason != NULL)
        ck_assert_str_eq(warden_decision_reason(decision), reason);
    else
        ck_assert_int_eq(warden_decision_allowed(decision), 0);
    warden_decision_free(decision);
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(time_over_budget_is_a_limit_even_when_every_rule_returned_true)
{
    /* each rule alone is well within 30 ms; together the decision is not */
    te_policy_dir dir = te_make_dir("limits");
    char text[4096] = "";
    for (int i = 0; i < 12; i++) {
        char rule[256];
        snprintf(rule, sizeof rule,
                 "permit \"slow %d\" { when = function(m) local s = string.rep('\\0', 1048500) "
                 "for i = 1, 2 do local _ = s < s .. '' end return true end }\n", i);
        strcat(text, rule);
    }
    te_write_file(&dir, "a.lua", text);
    warden_config *config = config_for(&dir, "67108864", "30");
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_msg(warden_engine_new(config, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_config_free(config);
    warden_decision *decision = decide(engine, false);
    ck_assert_int_eq(warden_decision_allowed(decision), 0);
    ck_assert_str_eq(warden_decision_reason(decision), "policy-limit");
    ck_assert_ptr_nonnull(strstr(warden_decision_error(decision, 0), "time limit exceeded (30 ms)"));
    warden_decision_free(decision);
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

/* ---- what a policy set makes the engine allocate ----------------------------------------- */

static const struct oversized {
    const char *what;
    const char *file;
    const char *text;   /* "%d" is replaced by nothing; see below */
    const char *memory; /* limits.memory */
    const char *error;  /* a part of the load error */
} oversized[] = {
    { "a huge target list", "a.lua",
      "local t = {} for i = 1, 60000 do t[i] = 'urn:example:orders/' .. i .. string.rep('t', 40) end\n"
      "permit 'many targets' { action = t }\n",
      "8388608", "memory limit exceeded" },
    { "many rules with long descriptions", "a.lua",
      "local d = string.rep('d', 500000)\n"
      "for i = 1, 40 do permit('rule ' .. i) { description = d .. i } end\n",
      "16777216", "memory limit exceeded" },
    { "a huge rule name", "a.lua", "permit(string.rep('n', 5000)) { }\n", "67108864",
      "name longer than 1024 bytes" },
    { "a string literal past string_bytes", "a.lua", NULL, "67108864", "string limit exceeded (1048576 bytes)" },
    { "a data document too big to parse", "data/big.json", NULL, "8388608", "memory limit exceeded" },
    { "policy text past the cap", "a.lua", NULL, "2097152", "do not fit in limits.memory" },
};

/* Writes the oversized file (generated ones for the NULL texts) plus a small good policy. */
static void write_oversized(const te_policy_dir *dir, const struct oversized *o)
{
    if (o->text != NULL) {
        te_write_file(dir, o->file, o->text);
    } else if (strstr(o->what, "literal") != NULL) {
        size_t n = (1u << 20) + 100;
        char *text = malloc(n + 64);
        strcpy(text, "local s = '");
        memset(text + 11, 'l', n);
        strcpy(text + 11 + n, "'\npermit 'p' { }\n");
        te_write_file(dir, o->file, text);
        free(text);
    } else if (strstr(o->what, "data") != NULL) {
        size_t n = 1000000; /* "[0,0,...]": 2 MB of text, about 100 MB parsed */
        char *text = malloc(2 * n + 8);
        text[0] = '[';
        for (size_t i = 0; i < n; i++) {
            text[1 + 2 * i] = '0';
            text[2 + 2 * i] = i + 1 < n ? ',' : ']';
        }
        text[1 + 2 * n] = '\0';
        te_write_file(dir, o->file, text);
        free(text);
    } else {
        size_t n = 3u << 20; /* a comment: text the state holds without Lua seeing it */
        char *text = malloc(n + 64);
        strcpy(text, "permit 'p' { }\n--");
        memset(text + 17, 'c', n);
        text[17 + n] = '\0';
        te_write_file(dir, o->file, text);
        free(text);
    }
    if (strcmp(o->file, "a.lua") != 0)
        te_write_file(dir, "a.lua", "permit 'p' { }\n");
}

START_TEST(policy_set_past_the_memory_cap_fails_to_load_everywhere)
{
    const struct oversized *o = &oversized[_i];
    te_policy_dir dir = te_make_dir("limits");
    write_oversized(&dir, o);
    warden_config *config = config_for(&dir, o->memory, "5000");
    warden_engine *engine = NULL;
    warden_error err;

    /* the engine refuses the set */
    ck_assert_int_eq(warden_engine_new(config, &engine, &err), WARDEN_E_POLICY);
    ck_assert_msg(strstr(err.text, o->error) != NULL, "%s: '%s'", o->what, err.text);

    /* warden test refuses it too */
    size_t passed = 0, failed = 0;
    ck_assert_int_eq(warden_policy_test(config, dir.path, NULL, NULL, &passed, &failed, &err), WARDEN_E_POLICY);
    ck_assert_msg(strstr(err.text, o->error) != NULL, "%s (test): '%s'", o->what, err.text);

    /* warden check reports a problem (or cannot load the set at all) */
    size_t problems = 0;
    int status = warden_policy_check(config, dir.path, NULL, NULL, &problems, &err);
    ck_assert_msg(status != WARDEN_OK || problems > 0, "%s: check found nothing", o->what);
    warden_config_free(config);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(reload_of_a_set_past_the_memory_cap_keeps_the_old_revision)
{
    te_policy_dir dir = te_make_dir("limits");
    te_write_file(&dir, "a.lua", "permit \"v1\" { action = \"urn:example:orders/Create\" }\n");
    warden_config *config = config_for(&dir, "16777216", "5000");
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_msg(warden_engine_new(config, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_config_free(config);
    warden_decision *decision = decide(engine, false);
    ck_assert_str_eq(warden_decision_rule(decision, 0), "v1");
    char revision[128];
    snprintf(revision, sizeof revision, "%s", warden_decision_revision(decision));
    warden_decision_free(decision);

    for (size_t i = 0; i < sizeof oversized / sizeof oversized[0]; i++) {
        if (strcmp(oversized[i].memory, "16777216") != 0)
            continue;
        te_write_file(&dir, "a.lua", oversized[i].text);
        ck_assert_int_eq(warden_engine_reload(engine, &err), WARDEN_E_POLICY);
        ck_assert_msg(strstr(err.text, "memory limit exceeded") != NULL, "%s", err.text);
        decision = decide(engine, false);
        ck_assert_int_eq(warden_decision_allowed(decision), 1);
        ck_assert_str_eq(warden_decision_rule(decision, 0), "v1");
        ck_assert_str_eq(warden_decision_revision(decision), revision);
        warden_decision_free(decision);
    }
    te_write_file(&dir, "a.lua", "permit \"v2\" { action = \"urn:example:orders/Create\" }\n");
    ck_assert_int_eq(warden_engine_reload(engine, &err), WARDEN_OK);
    decision = decide(engine, false);
    ck_assert_str_eq(warden_decision_rule(decision, 0), "v2");
    warden_decision_free(decision);
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(string_bytes_is_a_config_key)
{
    te_policy_dir dir = te_make_dir("limits");
    te_write_file(&dir, "a.lua",
                  "permit \"short strings\" { when = function(m) return #string.rep('s', 4096) > 0 end }\n");
    warden_config *config = config_for(&dir, "67108864", "5000");
    warden_error err;
    ck_assert_int_eq(warden_config_set(config, "limits.string_bytes", "4096", &err), WARDEN_OK);
    ck_assert_int_ne(warden_config_set(config, "limits.string_bytes", "0", &err), WARDEN_OK);
    warden_engine *engine = NULL;
    ck_assert_msg(warden_engine_new(config, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_decision *decision = decide(engine, false);
    ck_assert_str_eq(warden_decision_reason(decision), "permitted");
    warden_decision_free(decision);
    warden_engine_free(engine);
    ck_assert_int_eq(warden_config_set(config, "limits.string_bytes", "4095", &err), WARDEN_OK);
    ck_assert_msg(warden_engine_new(config, &engine, &err) == WARDEN_OK, "%s", err.text);
    decision = decide(engine, false);
    ck_assert_str_eq(warden_decision_reason(decision), "policy-limit");
    ck_assert_ptr_nonnull(strstr(warden_decision_error(decision, 0), "string limit exceeded (4095 bytes)"));
    warden_decision_free(decision);
    warden_engine_free(engine);
    warden_config_free(config);
    te_remove_dir(&dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("policy limits");
    TCase *tc = tcase_create("limits");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, hostile_rule_denies_and_the_next_decision_is_normal, 0,
                        (int)(sizeof hostiles / sizeof hostiles[0]));
    tcase_add_test(tc, time_over_budget_is_a_limit_even_when_every_rule_returned_true);
    tcase_add_loop_test(tc, policy_set_past_the_memory_cap_fails_to_load_everywhere, 0,
                        (int)(sizeof oversized / sizeof oversized[0]));
    tcase_add_test(tc, reload_of_a_set_past_the_memory_cap_keeps_the_old_revision);
    tcase_add_test(tc, string_bytes_is_a_config_key);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(suite());
}
