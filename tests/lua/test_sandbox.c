/*
** test_sandbox.c — the policy sandbox (lua/sandbox.c): escape attempts that must fail with a
** reported error and leave the state usable, the allowlist at work, environments, read-only
** proxies, log(), and the instruction, time and memory limits.
*/
#include <check.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lua/sandbox.h"
#include "test_run.h"

enum {
    ANY_FAILURE = 100, /* expected: some failure, whichever */
    ANY_LIMIT = 101,   /* expected: one of the limits */
    LOAD_FAILED = -2   /* run(): the chunk did not compile */
};

static const wd_sandbox_limits small_limits = { 1000000, 16u << 20, 200, 0 };

typedef struct log_capture {
    char text[1024];
    int  calls;
} log_capture;

static void capture_log(void *context, const char *line, size_t length)
{
    log_capture *capture = context;
    size_t n = length < sizeof capture->text - 1 ? length : sizeof capture->text - 1;
    memcpy(capture->text, line, n);
    capture->text[n] = '\0';
    capture->calls++;
}

static double elapsed_ms(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1e3 + (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* Runs source as a chunk in the environment at env (nargs arguments already pushed above
** nothing: they are moved below the chunk). Leaves nresults on success. */
static int run_in(lua_State *L, int env, const char *source, int nargs, int nresults, char *error, size_t capacity)
{
    if (wd_sandbox_load(L, source, strlen(source), "escape.lua", env, error, capacity) != 0) {
        lua_pop(L, nargs);
        return LOAD_FAILED;
    }
    lua_insert(L, -1 - nargs);
    return wd_sandbox_call(L, nargs, nresults, error, capacity);
}

/* Runs source in a fresh environment (frozen before the call when freeze is set); leaves its
** one result on the stack when it succeeds, nothing otherwise. */
static int run(lua_State *L, const char *source, bool freeze, char *error, size_t capacity)
{
    wd_sandbox_push_env(L, 0);
    int env = lua_gettop(L);
    if (freeze)
        wd_sandbox_freeze_env(L, env);
    int outcome = run_in(L, env, source, 0, 1, error, capacity);
    lua_remove(L, env);
    return outcome;
}

/* A trivial evaluation must work in the state after whatever came before. */
static void assert_state_usable(lua_State *L, const char *after)
{
    char error[256] = "";
    int top = lua_gettop(L);
    wd_sandbox_push_env(L, 0);
    int env = lua_gettop(L);
    int outcome = run_in(L, env, "local t = {} for i = 1, 10 do t[i] = i end return #t + select('#', 1, 2)", 0, 1,
                         error, sizeof error);
    ck_assert_msg(outcome == WD_SANDBOX_OK, "after '%s' the state is not usable: %d %s", after, outcome, error);
    ck_assert_int_eq(lua_tointeger(L, -1), 12);
    lua_settop(L, top);
}

/* ------------------------------------------------------------------------ escape attempts --- */

typedef struct escape_case {
    const char *name;
    const char *prelude; /* run at load time (unfrozen) in the same environment, or NULL */
    const char *source;  /* run after the environment is frozen */
    int         expect;  /* -1, a wd_sandbox_abort kind, ANY_LIMIT or ANY_FAILURE */
    const char *text;    /* expected in the error message, or NULL */
} escape_case;

static const escape_case escapes[] = {
    { "read a file with io.open", NULL, "local f = io.open('secret.txt') return f:read('a')", -1, "global 'io'" },
    { "os.execute", NULL, "return os.execute('true')", -1, "global 'os'" },
    { "os.getenv", NULL, "return os.getenv('HOME')", -1, "global 'os'" },
    { "load a binary chunk literal", NULL, "return load('\\27Lua\\84\\0\\25\\147\\13\\10\\26\\10')()", -1,
      "global 'load'" },
    { "loadstring", NULL, "return loadstring('return 1')()", -1, "global 'loadstring'" },
    { "loadfile", NULL, "return loadfile('x.lua')", -1, "global 'loadfile'" },
    { "string.dump", NULL, "return string.dump(function() end)", -1, "field 'dump'" },
    { "dump through the string metatable", NULL, "return ('x').dump(function() end)", -1, "field 'dump'" },
    { "getmetatable('').__index replaced", NULL, "getmetatable('').__index = { upper = function() end }", -1,
      "global 'getmetatable'" },
    { "assign through a string value", NULL, "local s = '' s.upper = nil", -1, "attempt to index a string value" },
    { "string.upper = nil", NULL, "string.upper = nil", -1, "attempt to modify a read-only table" },
    { "math.pi changed", NULL, "math.pi = 3", -1, "attempt to modify a read-only table" },
    { "setmetatable on a table", NULL, "return setmetatable({}, { __index = function() end })", -1,
      "global 'setmetatable'" },
    { "rawset on _ENV", NULL, "rawset(_ENV, 'x', 1)", -1, "global 'rawset'" },
    { "rawget of the base", NULL, "return rawget(_ENV, 'string')", -1, "global 'rawget'" },
    { "debug.getinfo", NULL, "return debug.getinfo(1)", -1, "global 'debug'" },
    { "_G.debug", NULL, "return _G.debug.getregistry()", -1, "global '_G'" },
    { "package.loaded.debug", NULL, "return package.loaded.debug.getregistry()", -1, "global 'package'" },
    { "collectgarbage", NULL, "collectgarbage('stop')", -1, "global 'collectgarbage'" },
    { "coroutine.wrap around the hook", NULL, "coroutine.wrap(function() while true do end end)()", -1,
      "global 'coroutine'" },
    { "coroutine.create", NULL, "local co = coroutine.create(function() end) return coroutine.resume(co)", -1,
      "global 'coroutine'" },
    { "infinite loop", NULL, "while true do end", WD_SANDBOX_INSTRUCTIONS, "instruction limit exceeded (1000000)" },
    { "infinite loop inside pcall", NULL, "while true do pcall(function() while true do end end) end",
      WD_SANDBOX_INSTRUCTIONS, "instruction limit exceeded" },
    { "pcall returns after the limit", NULL,
      "local ok, e = pcall(function() while true do end end) return 'swallowed: ' .. tostring(e)",
      WD_SANDBOX_INSTRUCTIONS, "instruction limit exceeded" },
    { "xpcall with a handler that loops", NULL,
      "return xpcall(function() error('x') end, function() while true do end end)", WD_SANDBOX_INSTRUCTIONS,
      "instruction limit exceeded" },
    { "infinite recursion", NULL, "local function f() return 1 + f() end return f()", ANY_FAILURE, NULL },
    { "string.rep memory bomb", NULL, "return string.rep('x', 1e9)", WD_SANDBOX_MEMORY,
      "memory limit exceeded (16777216 bytes)" },
    { "string.rep memory bomb inside pcall", NULL, "local ok = pcall(string.rep, 'x', 1e9) return ok",
      WD_SANDBOX_MEMORY, "memory limit exceeded" },
    { "string.rep separator bomb", NULL, "return string.rep('', 1e12, 'x')", WD_SANDBOX_MEMORY, NULL },
    { "table growth memory bomb", NULL,
      "local t = {} local i = 0 while true do i = i + 1 t[i] = string.rep('x', 1000) .. i end", WD_SANDBOX_MEMORY,
      NULL },
    { "concat bomb", NULL, "local s = 'x' while true do s = s .. s end", WD_SANDBOX_MEMORY, NULL },
    { "concat bomb inside pcall", NULL,
      "local ok = pcall(function() local s = 'x' while true do s = s .. s end end) return 'swallowed'",
      WD_SANDBOX_MEMORY, NULL },
    { "table.concat bomb", NULL,
      "local t = {} for i = 1, 64 do t[i] = string.rep('y', 65536) end "
      "local all = {} for i = 1, 1e6 do all[i] = table.concat(t) end",
      ANY_LIMIT, NULL },
    { "xpcall handler catching a memory error", NULL,
      "local ok, e = xpcall(function() local s = 'x' while true do s = s .. s end end, function(e) return e end) "
      "return tostring(ok)",
      WD_SANDBOX_MEMORY, NULL },
    { "table.unpack of a huge range", NULL, "return select('#', table.unpack({}, 1, 1e8))", ANY_FAILURE, NULL },
    { "table.move over a huge empty range", NULL, "table.move({}, 1, 1e15, 1, {})", WD_SANDBOX_INSTRUCTIONS, NULL },
    { "pathological pattern", NULL, "return string.find(string.rep('a', 800), string.rep('.-', 3) .. 'b')",
      WD_SANDBOX_INSTRUCTIONS, "instruction limit exceeded" },
    { "gsub with a replacement that loops", NULL, "return string.gsub('aaa', 'a', function() while true do end end)",
      WD_SANDBOX_INSTRUCTIONS, NULL },
    { "table.sort with a comparator that loops", NULL,
      "table.sort({3, 2, 1}, function(a, b) while true do end end)", WD_SANDBOX_INSTRUCTIONS, NULL },
    { "error object with __tostring", NULL,
      "error(setmetatable({}, { __tostring = function() while true do end end }))", -1, "global 'setmetatable'" },
    { "object with __gc", NULL, "setmetatable({}, { __gc = function() while true do end end })", -1,
      "global 'setmetatable'" },
    { "assign a new global after freeze", NULL, "x = 1", -1, "globals are read-only" },
    { "replace a load-time global after freeze", "helper = function() return 1 end",
      "helper = function() return 2 end", -1, "globals are read-only" },
    { "replace a library after freeze", NULL, "string = {}", -1, "globals are read-only" },
    { "require", NULL, "return require('os')", -1, "global 'require'" },
    { "dofile", NULL, "return dofile('x.lua')", -1, "global 'dofile'" },
    { "print", NULL, "print('to stdout')", -1, "global 'print'" },
    { "warn", NULL, "warn('to stderr')", -1, "global 'warn'" },
    { "_G access", NULL, "return _G.io", -1, "global '_G'" },
    { "tostring on a read-only proxy", NULL,
      "local s = tostring(string) assert(s == 'table', s) return getmetatable(string).__index", -1,
      "global 'getmetatable'" },
    { "error(table)", NULL, "error({ code = 1 })", -1, "(error object is a table value)" },
    { "next/pairs on the environment", NULL,
      "assert(next(_ENV) == nil, 'next leaked') "
      "for k in pairs(_ENV) do error('pairs leaked ' .. tostring(k)) end "
      "return rawget(_ENV, 'string')",
      -1, "global 'rawget'" },
    { "math.random", NULL, "return math.random()", -1, "field 'random'" },
    { "proxy iterator on a foreign value", NULL, "local f = pairs(string) return f('', nil)", -1,
      "not a read-only table" },
};

static const size_t escape_count = sizeof escapes / sizeof escapes[0];

static void check_escape(lua_State *L, const escape_case *c)
{
    char error[512] = "";
    int top = lua_gettop(L);
    int outcome;
    struct timespec start;

    clock_gettime(CLOCK_MONOTONIC, &start);
    wd_sandbox_push_env(L, 0);
    int env = lua_gettop(L);
    if (c->prelude != NULL) {
        outcome = run_in(L, env, c->prelude, 0, 0, error, sizeof error);
        ck_assert_msg(outcome == WD_SANDBOX_OK, "%s: prelude failed: %s", c->name, error);
    }
    wd_sandbox_freeze_env(L, env);
    outcome = run_in(L, env, c->source, 0, 1, error, sizeof error);
    lua_settop(L, top);

    ck_assert_msg(outcome != WD_SANDBOX_OK && outcome != LOAD_FAILED, "%s: escaped (outcome %d)", c->name, outcome);
    ck_assert_msg(error[0] != '\0', "%s: no error reported", c->name);
    if (c->expect == ANY_LIMIT)
        ck_assert_msg(outcome > 0, "%s: expected a limit, got %d: %s", c->name, outcome, error);
    else if (c->expect != ANY_FAILURE)
        ck_assert_msg(outcome == c->expect, "%s: expected outcome %d, got %d: %s", c->name, c->expect, outcome, error);
    if (c->text != NULL)
        ck_assert_msg(strstr(error, c->text) != NULL, "%s: error '%s' lacks '%s'", c->name, error, c->text);
    ck_assert_msg(elapsed_ms(&start) < 5000, "%s: took %.0f ms", c->name, elapsed_ms(&start));
    assert_state_usable(L, c->name);
}

START_TEST(escape_attempt_fails_and_state_survives)
{
    lua_State *L = wd_sandbox_new(&small_limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    check_escape(L, &escapes[_i]);
    wd_sandbox_close(L);
}
END_TEST

START_TEST(all_escape_attempts_in_one_state)
{
    lua_State *L = wd_sandbox_new(&small_limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    size_t baseline = wd_sandbox_memory(L);
    for (size_t i = 0; i < escape_count; i++)
        check_escape(L, &escapes[i]);
    ck_assert_int_eq(lua_gettop(L), 0);
    ck_assert_msg(wd_sandbox_memory(L) < baseline + (1u << 20), "memory grew from %zu to %zu", baseline,
                  wd_sandbox_memory(L));
    printf("sandbox: %zu escape attempts, all refused\n", escape_count);
    wd_sandbox_close(L);
}
END_TEST

/* ------------------------------------------------------------------------ the allowlist --- */

START_TEST(allowed_functions_work)
{
    char error[256];
    lua_State *L = wd_sandbox_new(&small_limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    const char *source =
        "local t = { 5, 3, 9, 1 } table.sort(t) "
        "local u = table.pack(1, 2, 3) "
        "return table.concat({ string.format('%d-%s-%.1f', 7, 'x', 2.25), table.concat(t, ','), "
        "math.floor(3.7), math.type(math.maxinteger), ('abc'):upper(), utf8.char(72, 228), "
        "tostring(tonumber('0x10')), select('#', 1, 2, 3), string.rep('ab', 3, ','), "
        "u.n, #string.rep('', 1e18), ('x'):byte(), string.char(65), string.reverse('abc'), "
        "tostring(rawequal(t, t)), rawlen({1, 2}), type(_ENV), tostring(_G), tostring(string.dump), "
        "string.sub('hello', 2, 3), ('%d'):format(3), utf8.len('häh'), math.abs(-2), "
        "tostring(pcall(error, 'boom')), select(2, pcall(error, 'boom', 0)), "
        "tostring(select(2, xpcall(function() error({}) end, function(e) return type(e) end))), "
        "string.find('abc', 'b', 1, true), table.unpack({ 'p', 'q' }), "
        "(string.gsub('a.b', '%.', '/')), table.remove({ 1, 2, 3 }, 1), "
        "#table.move({1, 2, 3}, 1, 3, 1, {}) }, ' ')";
    int outcome = run(L, source, true, error, sizeof error);
    ck_assert_msg(outcome == WD_SANDBOX_OK, "%s", error);
    ck_assert_str_eq(lua_tostring(L, -1),
                     "7-x-2.2 1,3,5,9 3 integer ABC H\xc3\xa4 16 3 ab,ab,ab 3 0 120 A cba true 2 table nil nil "
                     "el 3 3 2 false boom table 2 p a/b 1 3");
    wd_sandbox_close(L);
}
END_TEST

START_TEST(exactly_the_allowlist_is_offered)
{
    char error[256];
    lua_State *L = wd_sandbox_new(&small_limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    /* pairs over the library proxies lists their contents; the base itself is not listable,
    ** so probe each expected name and a few forbidden ones */
    const char *source =
        "local names = {} "
        "for _, n in ipairs({ 'assert', 'error', 'ipairs', 'next', 'pairs', 'pcall', 'rawequal', 'rawlen', "
        "  'select', 'tonumber', 'tostring', 'type', 'xpcall', 'string', 'table', 'math', 'utf8', 'time', 'log' }) do "
        "  if _ENV[n] == nil then error('missing ' .. n) end end "
        "for _, n in ipairs({ 'print', 'load', 'loadstring', 'dofile', 'loadfile', 'require', 'setmetatable', "
        "  'getmetatable', 'rawget', 'rawset', 'collectgarbage', 'io', 'os', 'debug', 'package', 'coroutine', "
        "  'warn', '_G', '_VERSION', 'module', 'unpack', 'getfenv', 'setfenv', 'newproxy' }) do "
        "  if _ENV[n] ~= nil then error('present ' .. n) end end "
        "local function keys(t) local k = {} for n in pairs(t) do k[#k + 1] = n end table.sort(k) "
        "  return table.concat(k, ',') end "
        "return keys(string) .. ' ' .. keys(table) .. ' ' .. keys(utf8) .. ' ' .. keys(time)";
    int outcome = run(L, source, true, error, sizeof error);
    ck_assert_msg(outcome == WD_SANDBOX_OK, "%s", error);
    ck_assert_str_eq(lua_tostring(L, -1), "byte,char,find,format,gmatch,gsub,len,lower,match,rep,reverse,sub,upper "
                                          "concat,insert,move,pack,remove,sort,unpack "
                                          "char,charpattern,codepoint,codes,len,offset "
                                          "format,parse,parts");
    lua_pop(L, 1);
    outcome = run(L, "return math.random == nil and math.randomseed == nil and math.pi > 3 and "
                     "math.sqrt(16) == 4 and math.huge > 0 and math.tointeger(3.0) == 3",
                  true, error, sizeof error);
    ck_assert_msg(outcome == WD_SANDBOX_OK, "%s", error);
    ck_assert(lua_toboolean(L, -1));
    /* every name of the published list (what `warden check` accepts) is offered */
    for (const char *const *name = wd_sandbox_globals; *name != NULL; name++) {
        char probe[128];
        snprintf(probe, sizeof probe, "return _ENV['%s'] ~= nil", *name);
        outcome = run(L, probe, true, error, sizeof error);
        ck_assert_msg(outcome == WD_SANDBOX_OK && lua_toboolean(L, -1), "%s is not offered", *name);
        lua_pop(L, 1);
    }
    wd_sandbox_close(L);
}
END_TEST

START_TEST(string_metatable_is_locked)
{
    char error[256];
    lua_State *L = wd_sandbox_new(&small_limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    /* from C: the metatable's __metatable is false and its __index is read-only */
    lua_pushliteral(L, "x");
    ck_assert(lua_getmetatable(L, -1));
    ck_assert_int_eq(lua_getfield(L, -1, "__metatable"), LUA_TBOOLEAN);
    ck_assert(!lua_toboolean(L, -1));
    lua_pop(L, 1);
    ck_assert_int_eq(lua_getfield(L, -1, "__index"), LUA_TTABLE);
    ck_assert_int_eq(lua_getfield(L, -1, "dump"), LUA_TNIL);
    lua_settop(L, 0);
    int outcome = run(L, "return ('%s=%d'):format('a', 1) .. (''):len() .. ('x'):rep(2)", true, error, sizeof error);
    ck_assert_msg(outcome == WD_SANDBOX_OK, "%s", error);
    ck_assert_str_eq(lua_tostring(L, -1), "a=10xx");
    wd_sandbox_close(L);
}
END_TEST

/* A bare state (config files): nothing to read but the extras, strings without methods, and
** the same limits as a policy state. */
START_TEST(bare_state_offers_nothing_and_keeps_the_limits)
{
    static const wd_sandbox_limits limits = { 1000000, 8u << 20, 10000, 1024 };
    char error[256];
    lua_State *L = wd_sandbox_new_bare(&limits);
    ck_assert_ptr_nonnull(L);
    lua_pushliteral(L, "x");
    ck_assert(!lua_getmetatable(L, -1));
    lua_settop(L, 0);
    ck_assert_int_eq(run(L, "for _ in pairs({}) do end", false, error, sizeof error), -1);
    ck_assert_msg(strstr(error, "global 'pairs'") != NULL, "%s", error);
    const char *source =
        "local present = '' local names = { 'assert', 'error', 'ipairs', 'next', 'pairs', 'pcall', 'rawequal', "
        "  'rawlen', 'select', 'tonumber', 'tostring', 'type', 'xpcall', 'string', 'table', 'math', 'utf8', "
        "  'log', 'print', 'load', 'require', 'setmetatable', 'getmetatable', 'io', 'os', 'debug', '_G' } "
        "for i = 1, #names do if _ENV[names[i]] ~= nil then present = present .. names[i] end end "
        "answer = 42 "
        "return present .. '|' .. answer";
    int outcome = run(L, source, false, error, sizeof error);
    ck_assert_msg(outcome == WD_SANDBOX_OK, "%s", error);
    ck_assert_str_eq(lua_tostring(L, -1), "|42");
    lua_pop(L, 1);
    ck_assert_int_eq(run(L, "return ('x'):upper()", false, error, sizeof error), -1);
    ck_assert_msg(strstr(error, "attempt to index a string value") != NULL, "%s", error);
    /* extras are what a bare environment offers */
    lua_createtable(L, 0, 1);
    lua_pushinteger(L, 7);
    lua_setfield(L, -2, "seven");
    wd_sandbox_push_env(L, -1);
    ck_assert_int_eq(run_in(L, lua_gettop(L), "return seven * 6", 0, 1, error, sizeof error), WD_SANDBOX_OK);
    ck_assert_int_eq(lua_tointeger(L, -1), 42);
    lua_settop(L, 0);
    /* the limits, each with its kind; the state stays usable */
    ck_assert_int_eq(run(L, "while true do end", false, error, sizeof error), WD_SANDBOX_INSTRUCTIONS);
    ck_assert_int_eq(run(L, "local s = 'x' while true do s = s .. s end", false, error, sizeof error),
                     WD_SANDBOX_STRING);
    ck_assert_str_eq(error, "string limit exceeded (1024 bytes)");
    ck_assert_int_eq(run(L, "local s = 'x' for i = 1, 9 do s = s .. s end local t = {} "
                            "for i = 1, 1e5 do t[i] = s .. i end",
                         false, error, sizeof error),
                     WD_SANDBOX_MEMORY);
    ck_assert_int_eq(run(L, "local function f() return 1 + f() end return f()", false, error, sizeof error), -1);
    ck_assert_msg(strstr(error, "stack overflow") != NULL, "%s", error);
    ck_assert_int_eq(run(L, "local t = {} for i = 1, 10 do t[i] = i end return #t", false, error, sizeof error),
                     WD_SANDBOX_OK);
    ck_assert_int_eq(lua_tointeger(L, -1), 10);
    wd_sandbox_close(L);
}
END_TEST

/* ------------------------------------------------------------------------- environments --- */

START_TEST(globals_set_at_load_are_readable_after_freeze)
{
    char error[256];
    lua_State *L = wd_sandbox_new(&small_limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    wd_sandbox_push_env(L, 0);
    int env = lua_gettop(L);
    int outcome = run_in(L, env, "limit = 10 function helper(x) return x * limit end counter = 0 counter = counter + 1",
                         0, 0, error, sizeof error);
    ck_assert_msg(outcome == WD_SANDBOX_OK, "%s", error);
    wd_sandbox_freeze_env(L, env);
    outcome = run_in(L, env, "return helper(4) + counter", 0, 1, error, sizeof error);
    ck_assert_msg(outcome == WD_SANDBOX_OK, "%s", error);
    ck_assert_int_eq(lua_tointeger(L, -1), 41);
    lua_pop(L, 1);
    outcome = run_in(L, env, "counter = 2", 0, 0, error, sizeof error);
    ck_assert_int_eq(outcome, -1);
    ck_assert_str_eq(error, "escape.lua:1: globals are read-only");
    outcome = run_in(L, env, "local limit = 5 return helper(1)", 0, 1, error, sizeof error);
    ck_assert_msg(outcome == WD_SANDBOX_OK, "%s", error);
    ck_assert_int_eq(lua_tointeger(L, -1), 10);
    wd_sandbox_close(L);
}
END_TEST

START_TEST(environments_are_separate_and_see_extras)
{
    char error[256];
    lua_State *L = wd_sandbox_new(&small_limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, 7);
    lua_setfield(L, -2, "seven");
    lua_pushliteral(L, "mine");
    lua_setfield(L, -2, "type"); /* extras come before the base */
    int extras = lua_gettop(L);

    wd_sandbox_push_env(L, extras);
    int first = lua_gettop(L);
    wd_sandbox_push_env(L, 0);
    int second = lua_gettop(L);

    ck_assert_int_eq(run_in(L, first, "shared = 'first' return seven, type", 0, 2, error, sizeof error),
                     WD_SANDBOX_OK);
    ck_assert_int_eq(lua_tointeger(L, -2), 7);
    ck_assert_str_eq(lua_tostring(L, -1), "mine");
    lua_pop(L, 2);
    ck_assert_int_eq(run_in(L, second, "return tostring(shared) .. tostring(seven) .. type(1)", 0, 1, error,
                            sizeof error),
                     WD_SANDBOX_OK);
    ck_assert_str_eq(lua_tostring(L, -1), "nilnilnumber");
    lua_pop(L, 1);
    /* a file may shadow a base name for itself only */
    ck_assert_int_eq(run_in(L, second, "tostring = function() return 'shadow' end return tostring(1)", 0, 1, error,
                            sizeof error),
                     WD_SANDBOX_OK);
    ck_assert_str_eq(lua_tostring(L, -1), "shadow");
    lua_pop(L, 1);
    ck_assert_int_eq(run_in(L, first, "return tostring(1)", 0, 1, error, sizeof error), WD_SANDBOX_OK);
    ck_assert_str_eq(lua_tostring(L, -1), "1");
    wd_sandbox_close(L);
}
END_TEST

START_TEST(load_refuses_binary_and_reports_syntax_errors)
{
    char error[256];
    lua_State *L = wd_sandbox_new(&small_limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    wd_sandbox_push_env(L, 0);
    int env = lua_gettop(L);

    /* real bytecode, made in a plain state */
    lua_State *plain = luaL_newstate();
    luaL_openlibs(plain);
    ck_assert_int_eq(luaL_dostring(plain, "return string.dump(function() return 1 end)"), LUA_OK);
    size_t length = 0;
    const char *bytecode = lua_tolstring(plain, -1, &length);
    ck_assert_int_eq(wd_sandbox_load(L, bytecode, length, "compiled.lua", env, error, sizeof error), -1);
    ck_assert_str_eq(error, "compiled.lua: binary chunks are not accepted");
    lua_close(plain);
    ck_assert_int_eq(lua_gettop(L), env);

    ck_assert_int_eq(wd_sandbox_load(L, "\x1bLua", 4, "x.lua", env, error, sizeof error), -1);
    ck_assert_int_eq(wd_sandbox_load(L, "x = = 1", 7, "orders/bad.lua", env, error, sizeof error), -1);
    ck_assert_msg(strncmp(error, "orders/bad.lua:1:", 17) == 0, "%s", error);
    ck_assert_int_eq(lua_gettop(L), env);
    ck_assert_int_eq(wd_sandbox_load(L, "", 0, "empty.lua", env, error, sizeof error), 0);
    ck_assert_int_eq(wd_sandbox_call(L, 0, 0, error, sizeof error), WD_SANDBOX_OK);
    ck_assert_int_eq(lua_gettop(L), env);
    wd_sandbox_close(L);
}
END_TEST

START_TEST(error_messages_never_run_metamethods)
{
    char error[256];
    lua_State *L = wd_sandbox_new(&small_limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    ck_assert_int_eq(run(L, "error({})", true, error, sizeof error), -1);
    ck_assert_str_eq(error, "(error object is a table value)");
    ck_assert_int_eq(run(L, "error()", true, error, sizeof error), -1);
    ck_assert_str_eq(error, "(error object is a nil value)");
    ck_assert_int_eq(run(L, "error(42)", true, error, sizeof error), -1);
    ck_assert_str_eq(error, "42");
    ck_assert_int_eq(run(L, "error(1.5)", true, error, sizeof error), -1);
    ck_assert_str_eq(error, "1.5");
    ck_assert_int_eq(run(L, "error(string)", true, error, sizeof error), -1);
    ck_assert_str_eq(error, "(error object is a table value)");
    ck_assert_int_eq(run(L, "error('plain', 0)", true, error, sizeof error), -1);
    ck_assert_str_eq(error, "plain");
    ck_assert_int_eq(run(L, "local x = nil return x.y", true, error, sizeof error), -1);
    ck_assert_msg(strstr(error, "escape.lua:1: attempt to index a nil value") == error, "%s", error);
    /* a short buffer is truncated, not overrun */
    char tiny[8];
    ck_assert_int_eq(run(L, "error('a long message', 0)", true, tiny, sizeof tiny), -1);
    ck_assert_str_eq(tiny, "a long ");
    wd_sandbox_close(L);
}
END_TEST

/* ------------------------------------------------------------------------------- log() --- */

START_TEST(log_reaches_the_log_function)
{
    char error[256];
    log_capture capture = { "", 0 };
    lua_State *L = wd_sandbox_new(&small_limits, capture_log, &capture);
    ck_assert_ptr_nonnull(L);
    int outcome = run(L, "log('a', 1, 2.5, true, nil, {}, string, log, 3.0) log()", true, error, sizeof error);
    ck_assert_msg(outcome == WD_SANDBOX_OK, "%s", error);
    ck_assert_int_eq(capture.calls, 2);
    ck_assert_str_eq(capture.text, "");
    outcome = run(L, "log('a', 1, 2.5, true, nil, {}, string, log, 3.0)", true, error, sizeof error);
    ck_assert_msg(outcome == WD_SANDBOX_OK, "%s", error);
    ck_assert_str_eq(capture.text, "a\t1\t2.5\ttrue\tnil\t<table>\t<table>\t<function>\t3.0");
    wd_sandbox_close(L);

    /* without a log function, log() is quiet */
    L = wd_sandbox_new(&small_limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    ck_assert_int_eq(run(L, "log('nobody listens') return 1", true, error, sizeof error), WD_SANDBOX_OK);
    wd_sandbox_close(L);
}
END_TEST

/* -------------------------------------------------------------------- read-only proxies --- */

/* Pushes { name = "alice", tags = { "a", "b", "c" }, cert = { subject = { CN = "alice", OU = "Pay" } } }. */
static void push_sample(lua_State *L)
{
    lua_createtable(L, 0, 3);
    lua_pushliteral(L, "alice");
    lua_setfield(L, -2, "name");
    lua_createtable(L, 3, 0);
    const char *tags[] = { "a", "b", "c" };
    for (int i = 0; i < 3; i++) {
        lua_pushstring(L, tags[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "tags");
    lua_createtable(L, 0, 1);
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "alice");
    lua_setfield(L, -2, "CN");
    lua_pushliteral(L, "Pay");
    lua_setfield(L, -2, "OU");
    lua_setfield(L, -2, "subject");
    lua_setfield(L, -2, "cert");
}

static int run_with_sample(lua_State *L, const char *source, char *error, size_t capacity)
{
    wd_sandbox_push_env(L, 0);
    int env = lua_gettop(L);
    wd_sandbox_freeze_env(L, env);
    push_sample(L);
    wd_sandbox_push_readonly(L, -1);
    lua_remove(L, -2);
    int outcome = run_in(L, env, source, 1, 1, error, capacity);
    lua_remove(L, env);
    return outcome;
}

START_TEST(readonly_proxies_read_but_never_write)
{
    char error[256];
    lua_State *L = wd_sandbox_new(&small_limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    const char *reads =
        "local m = ... "
        "local n = 0 for k, v in pairs(m) do n = n + 1 end "
        "local joined = '' for i, t in ipairs(m.tags) do joined = joined .. i .. t end "
        "local subject = 0 for k, v in pairs(m.cert.subject) do subject = subject + #v end "
        "return table.concat({ m.name, #m.tags, joined, m.cert.subject.CN, m.cert.subject.OU, n, subject, "
        "tostring(m.cert == m.cert), tostring(m.missing), type(m.cert), m.tags[2], table.concat(m.tags, '+'), "
        "tostring(next(m) ~= nil), tostring(rawlen(m)), select('#', table.unpack(m.tags)) }, ' ')";
    ck_assert_int_eq(run_with_sample(L, reads, error, sizeof error), WD_SANDBOX_OK);
    ck_assert_str_eq(lua_tostring(L, -1), "alice 3 1a2b3c alice Pay 3 8 true nil table b a+b+c true 0 3");
    lua_pop(L, 1);

    const char *writes[] = {
        "local m = ... m.name = 'mallory'",
        "local m = ... m.cert.subject.CN = 'mallory'",
        "local m = ... m.tags[4] = 'd'",
        "local m = ... table.insert(m.tags, 'd')",
        "local m = ... table.remove(m.tags)",
        "local m = ... table.sort(m.tags, function(a, b) return a > b end)",
        "local m = ... m.new = {}",
    };
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        ck_assert_int_eq(run_with_sample(L, writes[i], error, sizeof error), -1);
        ck_assert_msg(strstr(error, "read-only") != NULL, "%s: %s", writes[i], error);
    }
    /* the real table is unchanged and pushing it again gives the same proxy */
    push_sample(L);
    wd_sandbox_push_readonly(L, -1);
    wd_sandbox_push_readonly(L, -2);
    ck_assert(lua_rawequal(L, -1, -2));
    wd_sandbox_push_readonly(L, -1); /* a proxy of a proxy is itself */
    ck_assert(lua_rawequal(L, -1, -2));
    lua_pushinteger(L, 5);
    wd_sandbox_push_readonly(L, -1); /* non-tables push as they are */
    ck_assert_int_eq(lua_tointeger(L, -1), 5);
    wd_sandbox_close(L);
}
END_TEST

/* ------------------------------------------------------------------------------- limits --- */

START_TEST(instruction_limit_reports_its_message)
{
    char error[256];
    lua_State *L = wd_sandbox_new(&small_limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    ck_assert_int_eq(run(L, "local i = 0 while true do i = i + 1 end", true, error, sizeof error),
                     WD_SANDBOX_INSTRUCTIONS);
    ck_assert_str_eq(error, "instruction limit exceeded (1000000)");
    /* the budget is per call: a loop well under it runs, many times */
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(run(L, "local s = 0 for i = 1, 100000 do s = s + i end return s", true, error, sizeof error),
                         WD_SANDBOX_OK);
        ck_assert_int_eq(lua_tointeger(L, -1), 5000050000);
        lua_pop(L, 1);
    }
    wd_sandbox_close(L);
}
END_TEST

START_TEST(time_limit_fires_under_a_large_instruction_budget)
{
    char error[256];
    wd_sandbox_limits limits = { INT64_C(1000000000000), 16u << 20, 50, 0 };
    lua_State *L = wd_sandbox_new(&limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    ck_assert_int_eq(run(L, "while true do end", true, error, sizeof error), WD_SANDBOX_TIME);
    double took = elapsed_ms(&start);
    ck_assert_str_eq(error, "time limit exceeded (50 ms)");
    ck_assert_msg(took >= 45 && took < 1000, "took %.1f ms", took);
    /* and inside pcall, and in a pattern match */
    ck_assert_int_eq(run(L, "while true do pcall(function() while true do end end) end", true, error, sizeof error),
                     WD_SANDBOX_TIME);
    clock_gettime(CLOCK_MONOTONIC, &start);
    ck_assert_int_eq(run(L, "return string.find(string.rep('a', 800), string.rep('.-', 3) .. 'b')", true, error,
                         sizeof error),
                     WD_SANDBOX_TIME);
    ck_assert_msg(elapsed_ms(&start) < 1000, "pattern took %.1f ms", elapsed_ms(&start));
    assert_state_usable(L, "time limit");
    wd_sandbox_close(L);
}
END_TEST

START_TEST(memory_returns_to_baseline_after_a_memory_abort)
{
    char error[256];
    /* a budget large enough that memory is what runs out */
    wd_sandbox_limits limits = { 100000000, 16u << 20, 5000, 0 };
    lua_State *L = wd_sandbox_new(&limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    assert_state_usable(L, "start");
    lua_gc(L, LUA_GCCOLLECT);
    size_t baseline = wd_sandbox_memory(L);
    ck_assert_uint_gt(baseline, 0);
    ck_assert_uint_lt(baseline, 256u << 10);

    const char *bombs[] = {
        "local t = {} local i = 0 while true do i = i + 1 t[i] = string.rep('x', 1000) .. i end",
        "local s = 'x' while true do s = s .. s end",
        "local t = {} for i = 1, 1e7 do t[i] = { i } end",
        "return string.rep('x', 1e9)",
    };
    for (size_t i = 0; i < sizeof bombs / sizeof bombs[0]; i++) {
        int outcome = run(L, bombs[i], true, error, sizeof error);
        ck_assert_msg(outcome == WD_SANDBOX_MEMORY, "%s: %d %s", bombs[i], outcome, error);
        ck_assert_str_eq(error, "memory limit exceeded (16777216 bytes)");
        ck_assert_msg(wd_sandbox_memory(L) < baseline + (128u << 10), "after '%s': %zu bytes, baseline %zu", bombs[i],
                      wd_sandbox_memory(L), baseline);
        ck_assert_uint_le(wd_sandbox_memory(L), 16u << 20);
        assert_state_usable(L, bombs[i]);
    }
    wd_sandbox_close(L);
}
END_TEST

START_TEST(too_small_a_memory_cap_makes_no_state)
{
    wd_sandbox_limits limits = { 1000, 4096, 10, 0 };
    ck_assert_ptr_null(wd_sandbox_new(&limits, NULL, NULL));
    wd_sandbox_close(NULL);
}
END_TEST

START_TEST(charge_is_a_no_op_in_a_plain_state_and_outside_calls)
{
    lua_State *plain = luaL_newstate();
    wd_sandbox_charge(plain, INT64_MAX);
    ck_assert_int_eq(wd_sandbox_memory(plain), 0);
    lua_close(plain);

    char error[256];
    lua_State *L = wd_sandbox_new(&small_limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    wd_sandbox_charge(L, INT64_MAX); /* no evaluation running */
    assert_state_usable(L, "charge outside a call");
    ck_assert_int_eq(run(L, "return 1", true, error, sizeof error), WD_SANDBOX_OK);
    wd_sandbox_close(L);
}
END_TEST

/* A host C function that charges, as pattern.c does. */
static int charging_function(lua_State *L)
{
    wd_sandbox_charge(L, luaL_checkinteger(L, 1));
    lua_pushboolean(L, 1);
    return 1;
}

START_TEST(charges_from_c_count_against_the_budget)
{
    char error[256];
    lua_State *L = wd_sandbox_new(&small_limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, charging_function);
    lua_setfield(L, -2, "spend");
    wd_sandbox_push_env(L, -1);
    int env = lua_gettop(L);
    ck_assert_int_eq(run_in(L, env, "return spend(500000) and spend(400000)", 0, 1, error, sizeof error),
                     WD_SANDBOX_OK);
    lua_pop(L, 1);
    ck_assert_int_eq(run_in(L, env, "spend(600000) return pcall(spend, 600000)", 0, 1, error, sizeof error),
                     WD_SANDBOX_INSTRUCTIONS);
    ck_assert_str_eq(error, "instruction limit exceeded (1000000)");
    wd_sandbox_close(L);
}
END_TEST

/* Rough cost of one wd_sandbox_call of a small rule, printed for the report. */
START_TEST(call_cost_is_small)
{
    char error[256];
    lua_State *L = wd_sandbox_new(NULL, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    wd_sandbox_push_env(L, 0);
    int env = lua_gettop(L);
    ck_assert_int_eq(run_in(L, env, "function when(m) return m.cert.subject.OU == 'Pay' and #m.tags == 3 end", 0, 0,
                            error, sizeof error),
                     WD_SANDBOX_OK);
    wd_sandbox_freeze_env(L, env);
    push_sample(L);
    wd_sandbox_push_readonly(L, -1);
    int view = lua_gettop(L);
    lua_getfield(L, env, "when");
    int when = lua_gettop(L);
    enum { ROUNDS = 200000 };
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < ROUNDS; i++) {
        lua_pushvalue(L, when);
        lua_pushvalue(L, view);
        ck_assert_int_eq(wd_sandbox_call(L, 1, 1, error, sizeof error), WD_SANDBOX_OK);
        ck_assert(lua_toboolean(L, -1));
        lua_pop(L, 1);
    }
    printf("sandbox: %.0f ns per wd_sandbox_call of a small rule (this build)\n", elapsed_ms(&start) * 1e6 / ROUNDS);
    wd_sandbox_close(L);
}
END_TEST

static Suite *sandbox_suite(void)
{
    Suite *suite = suite_create("sandbox");
    TCase *escapes_case = tcase_create("escapes");
    tcase_add_loop_test(escapes_case, escape_attempt_fails_and_state_survives, 0, (int)escape_count);
    tcase_add_test(escapes_case, all_escape_attempts_in_one_state);
    suite_add_tcase(suite, escapes_case);

    TCase *tc = tcase_create("sandbox");
    tcase_add_test(tc, allowed_functions_work);
    tcase_add_test(tc, exactly_the_allowlist_is_offered);
    tcase_add_test(tc, string_metatable_is_locked);
    tcase_add_test(tc, bare_state_offers_nothing_and_keeps_the_limits);
    tcase_add_test(tc, globals_set_at_load_are_readable_after_freeze);
    tcase_add_test(tc, environments_are_separate_and_see_extras);
    tcase_add_test(tc, load_refuses_binary_and_reports_syntax_errors);
    tcase_add_test(tc, error_messages_never_run_metamethods);
    tcase_add_test(tc, log_reaches_the_log_function);
    tcase_add_test(tc, readonly_proxies_read_but_never_write);
    tcase_add_test(tc, instruction_limit_reports_its_message);
    tcase_add_test(tc, time_limit_fires_under_a_large_instruction_budget);
    tcase_add_test(tc, memory_returns_to_baseline_after_a_memory_abort);
    tcase_add_test(tc, too_small_a_memory_cap_makes_no_state);
    tcase_add_test(tc, charge_is_a_no_op_in_a_plain_state_and_outside_calls);
    tcase_add_test(tc, charges_from_c_count_against_the_budget);
    tcase_add_test(tc, call_cost_is_small);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    printf("sandbox: %zu escape attempts in the table\n", escape_count);
    return tr_run_suite(sandbox_suite());
}
