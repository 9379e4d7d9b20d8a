/*
** test_sandbox_limits.c — limits that hold inside C functions (lua/sandbox.c): a call that ran
** over its deadline is a limit even when it returned, table.sort charges every comparison,
** long strings (limits.string_bytes) are refused where Lua allocates them and make the clock
** be read more often, memory errors are known by the allocator's refusal and not by their
** text, and what the host allocates for a policy (wd_sandbox_reserve) counts against the cap.
** Table-driven: each case names its limits, its code and the outcome it must end in; after
** each the state must still evaluate normally. Work is counted with log() calls, never timed.
*/
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include <check.h>
#include <lauxlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lua/decide.h"
#include "lua/policy_set.h"
#include "lua/policy_state.h"
#include "lua/sandbox.h"
#include "test_engine.h"
#include "test_run.h"

enum { ANY_LIMIT = 101 };

typedef struct counter {
    int calls;
} counter;

static void count_log(void *context, const char *line, size_t length)
{
    (void)line;
    (void)length;
    ((counter *)context)->calls++;
}

/* busy(ms): spins for ms milliseconds of the thread's CPU time (so at least as much wall
** clock) without charging anything, as a C library function working on a long input would.
** CPU time, not wall clock: the sandbox confirms a passed deadline with the CPU clock, and on a
** loaded machine 40 ms of wall clock may hold less than the 10 ms of CPU it looks for. */
static int busy(lua_State *L)
{
    lua_Integer ms = luaL_checkinteger(L, 1);
    struct timespec start, now;
    /* the thread's CPU clock: the sandbox confirms a passed deadline with it, so spinning on
    ** the wall clock on a loaded machine could leave the CPU clock short of the limit */
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
    do
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < ms);
    lua_pushboolean(L, 1);
    return 1;
}

/* Runs source in a fresh frozen environment that also offers busy(); prelude (may be NULL)
** runs first, unfrozen and outside any evaluation, and the state is then settled: what it
** made is resident, as a policy file's top-level values are. */
static int run(lua_State *L, const char *prelude, const char *source, char *error, size_t capacity)
{
    int top = lua_gettop(L);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, busy);
    lua_setfield(L, -2, "busy");
    wd_sandbox_push_env(L, -1);
    int env = lua_gettop(L);
    int outcome = WD_SANDBOX_OK;
    if (prelude != NULL) {
        ck_assert_int_eq(wd_sandbox_load(L, prelude, strlen(prelude), "prelude.lua", env, error, capacity), 0);
        /* outside any evaluation (no budget to share with the case), like data loading */
        outcome = lua_pcall(L, 0, 0, 0);
        ck_assert_msg(outcome == LUA_OK, "prelude: %s", lua_tostring(L, -1));
        wd_sandbox_settle(L);
    }
    wd_sandbox_freeze_env(L, env);
    ck_assert_msg(wd_sandbox_load(L, source, strlen(source), "limits.lua", env, error, capacity) == 0, "%s", error);
    outcome = wd_sandbox_call(L, 0, 1, error, capacity);
    lua_settop(L, top);
    return outcome;
}

static void assert_state_usable(lua_State *L, const char *after)
{
    char error[256] = "";
    int outcome = run(L, NULL, "local t = {} for i = 1, 10 do t[i] = i end table.sort(t, function(a, b) return a > b end) "
                               "return t[1] == 10 and table.concat(t, ',', 9) == '2,1'",
                      error, sizeof error);
    ck_assert_msg(outcome == WD_SANDBOX_OK, "after '%s' the state is not usable: %d %s", after, outcome, error);
}

/* A 1 MiB string of NULs less a little (room for the header): comparing two such costs one
** strcoll per byte. */
#define NULS "local nuls = string.rep('\\0', 1048500) local same = nuls .. '' "
#define RESIDENT_NULS "nuls = string.rep('\\0', 1048500) same = nuls .. '' "

static const struct limit_case {
    const char *name;
    int64_t     instructions;
    int64_t     time_ms;
    size_t      memory;
    size_t      string_bytes;
    const char *prelude;
    const char *source;
    int         expect;      /* a wd_sandbox_abort kind, ANY_LIMIT, or -1 (an ordinary error) */
    const char *error;       /* a prefix of the error text, or NULL */
    int         max_logs;    /* at most this many log() calls may have run (0: not checked) */
} cases[] = {
    /* 1. the deadline passes inside a C function and the chunk returns true right after */
    { "deadline passed in C, then returned true", 1000000, 10, 16u << 20, 1u << 20, NULL,
      "return busy(40)", WD_SANDBOX_TIME, "time limit exceeded (10 ms)", 0 },
    { "deadline passed in C inside pcall, then returned true", 1000000, 10, 16u << 20, 1u << 20, NULL,
      "local ok = pcall(busy, 40) return ok", WD_SANDBOX_TIME, "time limit exceeded", 0 },
    /* 2. table.sort charges each comparison, by the bytes strcoll walks */
    { "sort of NUL strings, default comparator", INT64_C(1000000000000), 20, 64u << 20, 1u << 20, NULL,
      NULS "local t = {} for i = 1, 300 do t[i] = (i % 2 == 0) and nuls or same end table.sort(t) return true",
      WD_SANDBOX_TIME, "time limit exceeded", 0 },
    { "sort of NUL strings under the instruction budget", 1000000, 60000, 64u << 20, 1u << 20, NULL,
      NULS "local t = {} for i = 1, 300 do t[i] = (i % 2 == 0) and nuls or same end table.sort(t) return true",
      WD_SANDBOX_INSTRUCTIONS, "instruction limit exceeded", 0 },
    { "sort with a C comparator", 100000, 60000, 64u << 20, 1u << 20, NULL,
      "local t = {} for i = 1, 20000 do t[i] = 20000 - i end table.sort(t, math.ult) return true",
      WD_SANDBOX_INSTRUCTIONS, NULL, 0 },
    { "sort with a Lua comparator comparing NUL strings", INT64_C(1000000000000), 20, 64u << 20, 1u << 20, RESIDENT_NULS,
      "local t = {} for i = 1, 300 do t[i] = i end "
      "table.sort(t, function(a, b) log(1) return (nuls < same) and a < b end) return true",
      WD_SANDBOX_TIME, NULL, 40 },
    { "sort stays a sort", 1000000, 1000, 16u << 20, 1u << 20, NULL,
      "local t = {} for i = 1, 500 do t[i] = (i * 7919) % 503 end table.sort(t) "
      "for i = 2, #t do if t[i - 1] > t[i] then return false end end "
      "local u = { 'b', 'a', 'c' } table.sort(u, function(x, y) return x > y end) return table.concat(u) == 'cba'",
      WD_SANDBOX_OK, NULL, 0 },
    { "sort with an order function that is no order", 1000000, 1000, 16u << 20, 1u << 20, NULL,
      "local t = {} for i = 1, 300 do t[i] = i end table.sort(t, function(a, b) return true end) return true", -1,
      "limits.lua:1: invalid order function for sorting", 0 },
    /* 3. one long string comparison per instruction: the hook fires before the next one */
    { "NUL string comparisons in a loop", INT64_C(1000000000000), 20, 64u << 20, 1u << 20, NULL,
      NULS "while true do local _ = nuls < same log(1) end", WD_SANDBOX_TIME, NULL, 40 },
    { "resident NUL strings compared in a loop", INT64_C(1000000000000), 20, 64u << 20, 1u << 20, RESIDENT_NULS,
      "while true do local _ = nuls < same log(1) end", WD_SANDBOX_TIME, NULL, 40 },
    { "resident NUL strings compared, then true", INT64_C(1000000000000), 5, 64u << 20, 1u << 20, RESIDENT_NULS,
      "for i = 1, 50 do local _ = nuls < same log(1) end return true", WD_SANDBOX_TIME, NULL, 40 },
    /* 4. limits.string_bytes, where strings are allocated */
    { "string.rep one byte past string_bytes", 1000000, 1000, 64u << 20, 1u << 20, NULL,
      "return string.rep('x', 1048577)", WD_SANDBOX_STRING, "string limit exceeded (1048576 bytes)", 0 },
    { "string.rep of exactly string_bytes", 1000000, 1000, 64u << 20, 1u << 20, NULL,
      "return #string.rep('x', 1048576) == 1048576", WD_SANDBOX_OK, NULL, 0 },
    { "concatenation doubling", 1000000, 1000, 64u << 20, 1u << 20, NULL,
      "local s = 'x' for i = 1, 30 do s = s .. s end return true", WD_SANDBOX_STRING, "string limit exceeded", 0 },
    { "table.concat builder", 1000000, 1000, 64u << 20, 1u << 20, NULL,
      "local t = {} for i = 1, 40 do t[i] = string.rep('y', 65536) end return #table.concat(t)",
      WD_SANDBOX_STRING, "string limit exceeded", 0 },
    { "gsub builder", 100000000, 5000, 64u << 20, 1u << 20, NULL,
      "return (string.gsub(string.rep('x', 600000), 'x', 'xy'))", WD_SANDBOX_STRING, "string limit exceeded", 0 },
    { "format builder", 1000000, 1000, 64u << 20, 1u << 20, NULL,
      "local s = string.rep('z', 600000) return string.format('%s%s', s, s)", WD_SANDBOX_STRING, NULL, 0 },
    { "string limit caught by pcall stays a limit", 1000000, 1000, 64u << 20, 1u << 20, NULL,
      "local ok = pcall(string.rep, 'x', 2 ^ 21) return true", WD_SANDBOX_STRING, NULL, 0 },
    { "string.upper of a long string is charged", 20000, 1000, 64u << 20, 1u << 20, NULL,
      "local s = string.rep('a', 1000000) for i = 1, 100 do s = string.upper(string.lower(s)) end return true",
      WD_SANDBOX_INSTRUCTIONS, NULL, 0 },
    /* 5. deep recursion is cut short once its stack is large */
    { "deep recursion", INT64_C(1000000000000), 5000, 64u << 20, 1u << 20, NULL,
      "local function f(n) return f(n + 1) + 1 end return f(1)", -1,
      "stack overflow (more than 10000 nested calls)", 0 },
    { "recursion a policy may need", 1000000, 5000, 64u << 20, 1u << 20, NULL,
      "local function f(n) if n == 0 then return 0 end return f(n - 1) + 1 end return f(5000) == 5000",
      WD_SANDBOX_OK, NULL, 0 },
    /* 6. memory errors are known by how they happened */
    { "error('not enough memory') is an ordinary error", 1000000, 1000, 16u << 20, 1u << 20, NULL,
      "error('not enough memory', 0)", -1, "not enough memory", 0 },
    { "error('not enough memory') caught, then true", 1000000, 1000, 16u << 20, 1u << 20, NULL,
      "local ok, e = pcall(error, 'not enough memory', 0) return not ok and e == 'not enough memory'", WD_SANDBOX_OK,
      NULL, 0 },
    { "a buffer the cap refuses is a memory limit, even under pcall", 1000000, 1000, 16u << 20, 0, NULL,
      "local t = {} local s = string.rep('q', 1 << 20) for i = 1, 40 do t[i] = s end "
      "local ok = pcall(table.concat, t) return true",
      WD_SANDBOX_MEMORY, "memory limit exceeded (16777216 bytes)", 0 },
    { "garbage near the cap is collected, not a limit", 100000000, 5000, 16u << 20, 0, NULL,
      "for i = 1, 60 do local s = string.rep('g', 1 << 20) .. i end return true", WD_SANDBOX_OK, NULL, 0 },
};

START_TEST(limit_case_ends_as_expected_and_the_state_goes_on)
{
    const struct limit_case *c = &cases[_i];
    wd_sandbox_limits limits = { c->instructions, c->memory, c->time_ms, c->string_bytes };
    counter logs = { 0 };
    char error[512] = "";
    lua_State *L = wd_sandbox_new(&limits, count_log, &logs);
    ck_assert_ptr_nonnull(L);
    int outcome = run(L, c->prelude, c->source, error, sizeof error);
    if (c->expect == ANY_LIMIT)
        ck_assert_msg(outcome > 0, "%s: %d %s", c->name, outcome, error);
    else
        ck_assert_msg(outcome == c->expect, "%s: outcome %d, expected %d (%s)", c->name, outcome, c->expect, error);
    if (c->error != NULL)
        ck_assert_msg(strstr(error, c->error) != NULL, "%s: error '%s'", c->name, error);
    if (c->max_logs > 0)
        ck_assert_msg(logs.calls <= c->max_logs, "%s: %d comparisons ran before the limit", c->name, logs.calls);
    assert_state_usable(L, c->name);
    wd_sandbox_close(L);
}
END_TEST

START_TEST(reserve_counts_against_the_cap)
{
    wd_sandbox_limits limits = { 1000000, 4u << 20, 1000, 0 };
    lua_State *L = wd_sandbox_new(&limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    size_t before = wd_sandbox_memory(L);
    ck_assert(wd_sandbox_reserve(L, 1u << 20));
    ck_assert_uint_eq(wd_sandbox_memory(L), before + (1u << 20));
    ck_assert(!wd_sandbox_reserve(L, 4u << 20));
    ck_assert_uint_eq(wd_sandbox_memory(L), before + (1u << 20));
    ck_assert_str_eq(wd_sandbox_refusal(L), "memory limit exceeded (4194304 bytes)");
    /* what the host holds leaves less for the policy */
    char error[256];
    ck_assert(wd_sandbox_reserve(L, (size_t)(2.5 * (1 << 20))));
    ck_assert_int_eq(run(L, NULL, "return #string.rep('m', 1 << 20)", error, sizeof error), WD_SANDBOX_MEMORY);
    wd_sandbox_release(L, (size_t)(3.5 * (1 << 20)));
    ck_assert_uint_eq(wd_sandbox_memory(L) < before + 4096, 1);
    assert_state_usable(L, "reserve");
    wd_sandbox_close(L);
}
END_TEST

START_TEST(string_literal_past_string_bytes_fails_to_compile)
{
    wd_sandbox_limits limits = { 1000000, 16u << 20, 1000, 1000 };
    lua_State *L = wd_sandbox_new(&limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    size_t n = 3000;
    char *source = malloc(n + 32);
    strcpy(source, "return '");
    memset(source + 8, 'l', n);
    strcpy(source + 8 + n, "'");
    char error[256];
    wd_sandbox_push_env(L, 0);
    ck_assert_int_eq(wd_sandbox_load(L, source, strlen(source), "long.lua", -1, error, sizeof error), -1);
    ck_assert_str_eq(error, "long.lua: string limit exceeded (1000 bytes)");
    lua_pop(L, 1);
    free(source);
    assert_state_usable(L, "long literal");
    wd_sandbox_close(L);
}
END_TEST

/* ---- the same promises through wd_decide: outcome, reason, and whether the state is kept -- */

static void push_table_view(lua_State *L, void *argument)
{
    (void)argument;
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "250");
    lua_setfield(L, -2, "amount");
}

static const struct decide_case {
    const char *name;
    const char *policy;
    int64_t     time_ms;
    const char *reason;
    bool        memory_limit; /* the caller must throw the state away */
} decide_cases[] = {
    { "error text of a memory error", "permit 'p' { when = function(m) error('not enough memory', 0) end }", 5000,
      "policy-error", false },
    { "a real memory error",
      "permit 'p' { when = function(m) local t = {} for i = 1, 100 do t[i] = string.rep('x', 1 << 20) .. i end end }",
      5000, "policy-limit", true },
    { "a long string", "permit 'p' { when = function(m) return #string.rep('x', 1 << 21) > 0 end }", 5000,
      "policy-limit", false },
    { "time over budget, rule returned true",
      "permit 'p' { when = function(m) local s = string.rep('\\0', 1048500) for i = 1, 100 do local _ = s < s .. '' end return true end }",
      10, "policy-limit", false },
    { "a forbid applied, then a limit",
      "forbid 'f' { }\npermit 'p' { }\nforbid 'g' { when = function(m) while true do end end }", 50,
      "policy-limit", false },
};

START_TEST(decide_reports_the_limit_and_keeps_the_state_unless_memory_ran_out)
{
    const struct decide_case *c = &decide_cases[_i];
    te_policy_dir dir = te_make_dir("limits");
    te_write_file(&dir, "a.lua", c->policy);
    wd_sandbox_limits limits = { INT64_C(1000000000000), 16u << 20, c->time_ms, 1u << 20 };
    wd_policy_set *set = NULL;
    wd_policy_state *state = NULL;
    char error[512];
    ck_assert_msg(wd_policy_set_compile(dir.path, &limits, &set, error, sizeof error) == 0, "%s", error);
    ck_assert_int_eq(wd_policy_state_new(set, NULL, NULL, &state, error, sizeof error), 0);
    wd_decision_outcome out;
    ck_assert_int_eq(wd_decide(state, NULL, 0, NULL, 0, push_table_view, NULL, &out), 0);
    ck_assert_msg(!out.allowed && strcmp(out.reason, c->reason) == 0, "%s: %s (%s)", c->name, out.reason, out.error_count ? out.errors[0] : "-");
    ck_assert_msg(out.memory_limit == c->memory_limit, "%s: memory_limit %d (%s)", c->name, out.memory_limit, out.error_count ? out.errors[0] : "-");
    ck_assert_uint_ge(out.error_count, 1);
    wd_decision_outcome_clear(&out);
    wd_policy_state_free(state);
    wd_policy_set_unref(set);
    te_remove_dir(&dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sandbox limits");
    TCase *tc = tcase_create("limits");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, limit_case_ends_as_expected_and_the_state_goes_on, 0,
                        (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, reserve_counts_against_the_cap);
    tcase_add_test(tc, string_literal_past_string_bytes_fails_to_compile);
    tcase_add_loop_test(tc, decide_reports_the_limit_and_keeps_the_state_unless_memory_ran_out, 0,
                        (int)(sizeof decide_cases / sizeof decide_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tr_run_suite(suite());
}
