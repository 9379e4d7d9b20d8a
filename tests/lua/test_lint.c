/*
** test_lint.c — wd_lint_globals (lua/lint.c): unknown globals found in the bytecode of chunks
** compiled in a plain Lua state, their lines (relative and absolute line information), the
** instruction shapes Lua 5.4.4 uses for globals, and refusal of what cannot be examined; and
** wd_lint_purity: _ENV and file-level variables, through nested closures, and kept functions.
*/
#include <check.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/lint.h"
#include "test_run.h"

#define MAX_FINDINGS 64

typedef struct finding {
    int  line;
    char message[256];
} finding;

typedef struct capture {
    finding items[MAX_FINDINGS];
    int     count;
} capture;

/* The names the sandbox offers (docs/reference.md, Sandbox), as the linter is given them. */
static const char *const sandbox_names[] = {
    "assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawlen", "select", "tonumber",
    "tostring", "type", "xpcall", "string", "table", "math", "utf8", "time", "log", "data", "permit", "forbid", NULL
};

static void collect(void *context, int line, const char *message)
{
    capture *out = context;
    ck_assert_int_lt(out->count, MAX_FINDINGS);
    out->items[out->count].line = line;
    snprintf(out->items[out->count].message, sizeof out->items[out->count].message, "%s", message);
    out->count++;
}

/* Compiles source in state L and lints it; checks that the stack is left as it was. */
static int lint_in(lua_State *L, const char *source, const char *const *allowed, capture *out)
{
    memset(out, 0, sizeof *out);
    int status = luaL_loadbufferx(L, source, strlen(source), "=policy", "t");
    ck_assert_msg(status == LUA_OK, "does not compile: %s", lua_tostring(L, -1));
    int top = lua_gettop(L);
    int found = wd_lint_globals(L, allowed, collect, out);
    ck_assert_int_eq(lua_gettop(L), top);
    if (found >= 0)
        ck_assert_int_eq(found, out->count);
    lua_pop(L, 1);
    return found;
}

static int lint(const char *source, const char *const *allowed, capture *out)
{
    lua_State *L = luaL_newstate();
    ck_assert_ptr_nonnull(L);
    int found = lint_in(L, source, allowed, out);
    lua_close(L);
    return found;
}

static void assert_finding(const capture *out, int index, int line, const char *name)
{
    char expected[256];
    snprintf(expected, sizeof expected, "unknown global '%s' (the sandbox does not offer it)", name);
    ck_assert_int_lt(index, out->count);
    ck_assert_str_eq(out->items[index].message, expected);
    ck_assert_int_eq(out->items[index].line, line);
}

/* A growing source text. */
typedef struct text {
    char  *bytes;
    size_t length;
    size_t capacity;
} text;

static void append(text *t, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int needed = vsnprintf(NULL, 0, format, args);
    va_end(args);
    ck_assert_int_ge(needed, 0);
    if (t->length + (size_t)needed + 1 > t->capacity) {
        t->capacity = (t->length + (size_t)needed + 1) * 2;
        t->bytes = realloc(t->bytes, t->capacity);
        ck_assert_ptr_nonnull(t->bytes);
    }
    va_start(args, format);
    vsnprintf(t->bytes + t->length, (size_t)needed + 1, format, args);
    va_end(args);
    t->length += (size_t)needed;
}

/* ---- what is reported ------------------------------------------------------------------ */

START_TEST(print_is_reported_at_its_line)
{
    capture out;
    ck_assert_int_eq(lint("print(\"x\")", sandbox_names, &out), 1);
    assert_finding(&out, 0, 1, "print");
}
END_TEST

START_TEST(a_local_of_the_same_name_is_not_a_global)
{
    capture out;
    ck_assert_int_eq(lint("local io = {} ; io.open()", sandbox_names, &out), 0);
    ck_assert_int_eq(lint("local function print() end\nprint('x')", sandbox_names, &out), 0);
    ck_assert_int_eq(lint("for _, os in ipairs({}) do os.exit() end", sandbox_names, &out), 0);
}
END_TEST

START_TEST(a_global_the_chunk_assigns_is_known)
{
    capture out;
    ck_assert_int_eq(lint("x = 1; return x", sandbox_names, &out), 0);
    /* assigned after the read, and inside a function: still the chunk's own */
    ck_assert_int_eq(lint("function f() return helper() end\nfunction helper() return 1 end\nreturn f()",
                          sandbox_names, &out),
                     0);
    ck_assert_int_eq(lint("local function g() limit = 10 end\nreturn limit", sandbox_names, &out), 0);
}
END_TEST

START_TEST(a_read_in_a_function_reports_its_own_line)
{
    capture out;
    ck_assert_int_eq(lint("-- helpers\n\nfunction f()\n  return os.time()\nend\n", sandbox_names, &out), 1);
    assert_finding(&out, 0, 4, "os");
}
END_TEST

START_TEST(reads_in_deeply_nested_closures_are_found)
{
    text source = { NULL, 0, 0 };
    for (int depth = 0; depth < 30; depth++)
        append(&source, "return function()\n");
    append(&source, "return io.open('x'), data\n");
    for (int depth = 0; depth < 30; depth++)
        append(&source, "end\n");
    capture out;
    ck_assert_int_eq(lint(source.bytes, sandbox_names, &out), 1);
    assert_finding(&out, 0, 31, "io");
    free(source.bytes);
}
END_TEST

/* `_ENV.io` and `_ENV["io"]` compile to GETTABUP on the _ENV upvalue exactly like `io` (Lua
** 5.4 folds an upvalue indexed by a constant string), so they are reported: they are reads of
** the global io. A local named _ENV makes a private namespace: accesses through it (GETFIELD
** on a register, or an "_ENV" upvalue of a nested function that captures that local) are not
** globals of the sandbox and are not reported. */
START_TEST(env_written_out_is_the_same_global)
{
    capture out;
    ck_assert_int_eq(lint("local f = _ENV.io\nreturn _ENV['os']", sandbox_names, &out), 2);
    assert_finding(&out, 0, 1, "io");
    assert_finding(&out, 1, 2, "os");
}
END_TEST

START_TEST(a_local_env_is_not_the_sandbox)
{
    capture out;
    ck_assert_int_eq(lint("local _ENV = { x = 1 }\nreturn io", sandbox_names, &out), 0);
    ck_assert_int_eq(lint("local _ENV = {}\nlocal function g()\n  return function() return os end\nend\nreturn g",
                          sandbox_names, &out),
                     0);
    /* a function of its own with a local _ENV does not hide the chunk's other reads */
    ck_assert_int_eq(lint("local function g() local _ENV = {} return io end\nreturn require", sandbox_names, &out),
                     1);
    assert_finding(&out, 0, 2, "require");
}
END_TEST

START_TEST(allowed_names_pass)
{
    const char *policy = "permit \"clerks\" {\n"
                         "  action = \"urn:example:orders/Create\",\n"
                         "  when = function(m)\n"
                         "    log(string.format(\"%d\", 1), tostring(m), type(m), select('#', 1))\n"
                         "    for _, v in ipairs(m.tokens or {}) do assert(v) end\n"
                         "    local ok = pcall(error, 'x') or xpcall(next, error, {})\n"
                         "    return tonumber(m:body(\"amount\")) < math.max(1000, 1) and utf8.len('x')\n"
                         "       and table.concat({}) and data.limits and rawequal(1, 1) and rawlen({})\n"
                         "  end,\n"
                         "}\n"
                         "forbid \"unsigned\" { when = function(m) return not m.signed.Body end }\n";
    capture out;
    ck_assert_int_eq(lint(policy, sandbox_names, &out), 0);
}
END_TEST

START_TEST(method_calls_on_allowed_tables_pass)
{
    capture out;
    ck_assert_int_eq(lint("local s = string.format('%s', ('x'):upper())\nreturn s:rep(2), string.rep('a', 3)",
                          sandbox_names, &out),
                     0);
    ck_assert_int_eq(lint("return os.getenv('HOME'):lower()", sandbox_names, &out), 1);
    assert_finding(&out, 0, 1, "os");
}
END_TEST

START_TEST(findings_come_in_source_order)
{
    capture out;
    ck_assert_int_eq(lint("print(io)\nlocal f = function() return os end\nrequire 'x'\nreturn setmetatable",
                          sandbox_names, &out),
                     5);
    assert_finding(&out, 0, 1, "print");
    assert_finding(&out, 1, 1, "io");
    assert_finding(&out, 2, 2, "os");
    assert_finding(&out, 3, 3, "require");
    assert_finding(&out, 4, 4, "setmetatable");

    /* a nested function's finding sits where the function is, also within one line */
    ck_assert_int_eq(lint("print(function() return os end, debug)", sandbox_names, &out), 3);
    assert_finding(&out, 0, 1, "print");
    assert_finding(&out, 1, 1, "os");
    assert_finding(&out, 2, 1, "debug");

    /* a function defined before a later read, its body on later lines */
    ck_assert_int_eq(lint("local function f()\n\n  return io\nend\nreturn print", sandbox_names, &out), 2);
    assert_finding(&out, 0, 3, "io");
    assert_finding(&out, 1, 5, "print");
}
END_TEST

START_TEST(each_name_is_reported_once_per_line)
{
    capture out;
    const char *source = "print(1) print(2) local g = function() print(3) end\nprint(4)";
    ck_assert_int_eq(lint(source, sandbox_names, &out), 2);
    assert_finding(&out, 0, 1, "print");
    assert_finding(&out, 1, 2, "print");
}
END_TEST

START_TEST(without_an_allowed_list_every_read_is_unknown)
{
    capture out;
    ck_assert_int_eq(lint("return type(1)", NULL, &out), 1);
    assert_finding(&out, 0, 1, "type");
}
END_TEST

/* ---- line information ------------------------------------------------------------------ */

/* 300 lines of code: more than 128 instructions, so the lines after the first 128 come from
** absolute anchors (abslineinfo) plus deltas. */
START_TEST(a_read_at_line_290_of_300_is_at_line_290)
{
    text source = { NULL, 0, 0 };
    append(&source, "local t = {}\n");
    for (int line = 2; line <= 300; line++) {
        if (line == 290)
            append(&source, "t[%d] = print\n", line);
        else
            append(&source, "t[%d] = %d\n", line, line);
    }
    capture out;
    ck_assert_int_eq(lint(source.bytes, sandbox_names, &out), 1);
    assert_finding(&out, 0, 290, "print");
    free(source.bytes);
}
END_TEST

/* A jump of more than 127 lines between two instructions does not fit a signed byte: the
** line is an absolute anchor (ABSLINEINFO in lineinfo). */
START_TEST(a_read_after_a_long_gap_is_at_its_line)
{
    text source = { NULL, 0, 0 };
    append(&source, "local a = 1\n");
    for (int line = 2; line < 1000; line++)
        append(&source, "-- comment %d\n", line);
    append(&source, "local b = io\n");
    for (int line = 1001; line < 1300; line++)
        append(&source, "\n");
    append(&source, "return os, a, b\n");
    capture out;
    ck_assert_int_eq(lint(source.bytes, sandbox_names, &out), 2);
    assert_finding(&out, 0, 1000, "io");
    assert_finding(&out, 1, 1300, "os");
    free(source.bytes);
}
END_TEST

/* ---- other instruction shapes and encodings -------------------------------------------- */

/* With more than 256 constants a name's constant index does not fit GETTABUP's 8-bit C, so
** Lua emits GETUPVAL _ENV; LOADK; GETTABLE (read) or GETUPVAL _ENV; LOADK; ...; SETTABLE
** (assignment). Both are recognised. */
START_TEST(more_than_256_constants)
{
    text source = { NULL, 0, 0 };
    append(&source, "local t = {\n");
    for (int i = 0; i < 300; i++)
        append(&source, "'s%d',\n", i);
    append(&source, "}\n");                               /* line 302 */
    append(&source, "print(1)\n");                        /* 303: GETUPVAL/LOADK/GETTABLE */
    append(&source, "zzz = 2\n");                         /* 304: assignment */
    append(&source, "local q = zzz\n");                   /* 305: read of an assigned name */
    append(&source, "local function f() return zzz, os end\n"); /* 306: small K in f */
    append(&source, "return t, q, f, io\n");              /* 307 */
    capture out;
    ck_assert_int_eq(lint(source.bytes, sandbox_names, &out), 3);
    assert_finding(&out, 0, 303, "print");
    assert_finding(&out, 1, 306, "os");
    assert_finding(&out, 2, 307, "io");
    free(source.bytes);
}
END_TEST

/* More than 2^17 constants: the key is loaded with LOADKX + EXTRAARG. */
START_TEST(more_than_131071_constants)
{
    text source = { NULL, 0, 0 };
    append(&source, "local t = {\n");
    for (int i = 0; i < 131100; i++)
        append(&source, "'s%d',\n", i);
    append(&source, "}\nprint(1)\nzzz = 2\nreturn zzz, t\n");
    capture out;
    ck_assert_int_eq(lint(source.bytes, sandbox_names, &out), 1);
    assert_finding(&out, 0, 131103, "print");
    free(source.bytes);
}
END_TEST

/* Names longer than 40 bytes are long strings, which GETTABUP cannot take either. Names in
** messages are cut after 80 bytes. */
START_TEST(long_names_are_found_and_cut_in_messages)
{
    char name[101];
    memset(name, 'n', 100);
    name[100] = '\0';
    char source[512];
    const char *long_name = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; /* 49 bytes */
    snprintf(source, sizeof source, "local a = %s\nreturn %s()", long_name, name);
    capture out;
    ck_assert_int_eq(lint(source, sandbox_names, &out), 2);
    assert_finding(&out, 0, 1, long_name);
    char shown[100];
    snprintf(shown, sizeof shown, "%.80s...", name);
    assert_finding(&out, 1, 2, shown);
}
END_TEST

/* String sizes are varints of 7-bit groups: > 127 bytes takes two, > 16383 three. */
START_TEST(long_string_constants_do_not_disturb_the_reader)
{
    text source = { NULL, 0, 0 };
    append(&source, "local s = '");
    for (int i = 0; i < 200; i++)
        append(&source, "x");
    append(&source, "'\nlocal u = '");
    for (int i = 0; i < 20000; i++)
        append(&source, "y");
    append(&source, "'\nreturn print(s, u)\n");
    capture out;
    ck_assert_int_eq(lint(source.bytes, sandbox_names, &out), 1);
    assert_finding(&out, 0, 3, "print");
    free(source.bytes);
}
END_TEST

/* Control characters in a name (possible through _ENV["..."]) are not passed through. */
START_TEST(control_characters_in_names_are_replaced)
{
    capture out;
    ck_assert_int_eq(lint("return _ENV['\\27[2Jx']", sandbox_names, &out), 1);
    assert_finding(&out, 0, 1, "?[2Jx");
}
END_TEST

/* ---- what cannot be examined ----------------------------------------------------------- */

START_TEST(a_value_that_is_not_a_lua_function_is_refused)
{
    lua_State *L = luaL_newstate();
    capture    out;
    memset(&out, 0, sizeof out);
    lua_pushinteger(L, 7);
    ck_assert_int_eq(wd_lint_globals(L, sandbox_names, collect, &out), -1);
    ck_assert_int_eq(out.count, 1);
    ck_assert_int_eq(out.items[0].line, 0);
    ck_assert_str_eq(out.items[0].message, "cannot examine the chunk");
    lua_pop(L, 1);

    memset(&out, 0, sizeof out);
    lua_pushcfunction(L, lua_error);
    ck_assert_int_eq(wd_lint_globals(L, sandbox_names, collect, &out), -1);
    ck_assert_int_eq(out.count, 1);
    ck_assert_str_eq(out.items[0].message, "cannot examine the chunk");
    ck_assert_int_eq(lua_gettop(L), 1);
    lua_close(L);
}
END_TEST

/* A function that is not a main chunk (its upvalue 0 is not _ENV) is refused too. */
START_TEST(a_function_that_is_not_a_chunk_is_refused)
{
    lua_State *L = luaL_newstate();
    const char *source = "local n = 0\nreturn function() n = n + 1 return print end";
    ck_assert_int_eq(luaL_loadbufferx(L, source, strlen(source), "=policy", "t"), LUA_OK);
    ck_assert_int_eq(lua_pcall(L, 0, 1, 0), LUA_OK);
    capture out;
    memset(&out, 0, sizeof out);
    ck_assert_int_eq(wd_lint_globals(L, sandbox_names, collect, &out), -1);
    ck_assert_int_eq(out.count, 1);
    ck_assert_int_eq(out.items[0].line, 0);
    lua_close(L);
}
END_TEST

/* An allocator that fails every request after a budget of them, once armed. */
typedef struct budget {
    int armed;
    int left;
} budget;

static void *budget_alloc(void *ud, void *block, size_t old_size, size_t new_size)
{
    budget *b = ud;
    (void)old_size;
    if (new_size == 0) {
        free(block);
        return NULL;
    }
    if (b->armed && (block == NULL || new_size > old_size)) {
        if (b->left == 0)
            return NULL;
        b->left--;
    }
    return realloc(block, new_size);
}

/* Every allocation the linter makes may fail: each failure is reported as such, leaks nothing
** (the sanitizer build checks) and never gives a wrong answer. */
START_TEST(running_out_of_memory_is_reported)
{
    const char *source = "print(1)\nlocal function f() return os, g end\nfunction g() return io end\n"
                         "return function() return function() return debug end end";
    int         succeeded = 0;
    for (int allowance = 0; allowance < 200 && !succeeded; allowance++) {
        budget     b = { 0, 0 };
        lua_State *L = lua_newstate(budget_alloc, &b);
        ck_assert_ptr_nonnull(L);
        ck_assert_int_eq(luaL_loadbufferx(L, source, strlen(source), "=policy", "t"), LUA_OK);
        capture out;
        memset(&out, 0, sizeof out);
        b.armed = 1;
        b.left = allowance;
        int found = wd_lint_globals(L, sandbox_names, collect, &out);
        b.armed = 0;
        if (found < 0) {
            ck_assert_int_eq(out.count, 1);
            ck_assert_int_eq(out.items[0].line, 0);
            ck_assert_str_eq(out.items[0].message, "cannot examine the chunk (out of memory)");
        } else {
            ck_assert_int_eq(found, 4);
            assert_finding(&out, 0, 1, "print");
            assert_finding(&out, 1, 2, "os");
            assert_finding(&out, 2, 3, "io");
            assert_finding(&out, 3, 4, "debug");
            succeeded = 1;
        }
        lua_close(L);
    }
    ck_assert(succeeded);
}
END_TEST

START_TEST(the_state_stays_usable)
{
    lua_State *L = luaL_newstate();
    capture    out;
    ck_assert_int_eq(lint_in(L, "print(1)", sandbox_names, &out), 1);
    ck_assert_int_eq(lint_in(L, "x = 2 return x", sandbox_names, &out), 0);
    const char *source = "return 40 + 2";
    ck_assert_int_eq(luaL_loadbufferx(L, source, strlen(source), "=policy", "t"), LUA_OK);
    ck_assert_int_eq(wd_lint_globals(L, sandbox_names, NULL, NULL), 0);
    ck_assert_int_eq(lua_pcall(L, 0, 1, 0), LUA_OK);
    ck_assert_int_eq(lua_tointeger(L, -1), 42);
    lua_close(L);
}
END_TEST

/* ---- the purity check --------------------------------------------------------------- */

/* Compiles source in a fresh plain state and runs the purity check on it (or, kept: runs the
** chunk and checks the function it returns as a kept function). */
static int purity(const char *source, wd_lint_scope scope, capture *out)
{
    memset(out, 0, sizeof *out);
    lua_State *L = luaL_newstate();
    ck_assert_ptr_nonnull(L);
    int status = luaL_loadbufferx(L, source, strlen(source), "=policy", "t");
    ck_assert_msg(status == LUA_OK, "does not compile: %s", lua_tostring(L, -1));
    if (scope == WD_LINT_KEPT) {
        ck_assert_int_eq(lua_pcall(L, 0, 1, 0), LUA_OK);
        ck_assert_int_eq(lua_type(L, -1), LUA_TFUNCTION);
    }
    int top = lua_gettop(L);
    int found = wd_lint_purity(L, scope, source, strlen(source), collect, out);
    ck_assert_int_eq(lua_gettop(L), top);
    if (found >= 0)
        ck_assert_int_eq(found, out->count);
    lua_close(L);
    return found;
}

static void assert_purity(const capture *out, int index, int line, const char *start)
{
    ck_assert_int_lt(index, out->count);
    ck_assert_msg(strncmp(out->items[index].message, start, strlen(start)) == 0, "'%s' does not start with '%s'",
                  out->items[index].message, start);
    ck_assert_int_eq(out->items[index].line, line);
}

START_TEST(a_function_assigning_a_file_level_local_is_reported_at_its_line)
{
    capture out;
    ck_assert_int_eq(purity("local count = 0\n"
                            "local function bump()\n"
                            "  count = count + 1\n"
                            "end\n"
                            "count = 5\n", WD_LINT_FILE, &out), 1);
    assert_purity(&out, 0, 3, "'count' is declared at file level");
}
END_TEST

START_TEST(file_level_locals_are_found_through_every_level_of_nesting)
{
    capture out;
    ck_assert_int_eq(purity("local a, b = 1, 2\n"
                            "do local c = 3\n"
                            "  local function f() return function() return function()\n"
                            "    a = 2\n"
                            "    local d = 0\n"
                            "    return function() d = d + 1 c = c end\n"
                            "  end end end\n"
                            "end\n"
                            "local function g() local x = b b = x end\n", WD_LINT_FILE, &out), 3);
    assert_purity(&out, 0, 4, "'a' is declared at file level");
    assert_purity(&out, 1, 6, "'c' is declared at file level");
    assert_purity(&out, 2, 9, "'b' is declared at file level");
}
END_TEST

START_TEST(locals_of_a_function_assigned_by_its_closures_are_free)
{
    capture out;
    ck_assert_int_eq(purity("local each = function(t, f) for _, v in ipairs(t) do f(v) end end\n"
                            "local when = function(m)\n"
                            "  local found = false\n"
                            "  each(m.tokens, function(t) found = found or t.kind == 'saml' end)\n"
                            "  local n = 0\n"
                            "  local function deeper() return function() n = n + 1 end end\n"
                            "  return found\n"
                            "end\n"
                            "local x = 1 x = 2\n", WD_LINT_FILE, &out), 0);
}
END_TEST

START_TEST(env_cannot_be_assigned_or_redeclared)
{
    capture out;
    ck_assert_int_eq(purity("_ENV = {}\n"
                            "local function f() _ENV = nil end\n"
                            "local function g(a, _ENV) return x end\n"
                            "for _ENV in pairs({}) do end\n"
                            "do local _ENV = { y = 1 } end\n"
                            "local function h()\n"
                            "  local _ENV <close> = nil\n"
                            "end\n", WD_LINT_FILE, &out), 6);
    assert_purity(&out, 0, 1, "_ENV cannot be assigned");
    assert_purity(&out, 1, 2, "_ENV cannot be assigned");
    assert_purity(&out, 2, 3, "_ENV cannot be redeclared");
    assert_purity(&out, 3, 4, "_ENV cannot be redeclared");
    assert_purity(&out, 4, 5, "_ENV cannot be redeclared");
    assert_purity(&out, 5, 7, "_ENV cannot be redeclared");
}
END_TEST

START_TEST(env_as_a_compile_time_constant_is_found_in_the_source)
{
    capture out;
    ck_assert_int_eq(purity("local s = '_ENV <' -- _ENV <const>\n"
                            "--[==[ _ENV <const>\n]==] local t = [[\n_ENV <]]\n"
                            "local a, _ENV <const> = 1, 'x'\n"
                            "return upper\n", WD_LINT_FILE, &out), 1);
    assert_purity(&out, 0, 5, "_ENV cannot be redeclared");
    ck_assert_int_eq(purity("local _ENV\r\n<const> = nil\n", WD_LINT_FILE, &out), 1);
    assert_purity(&out, 0, 1, "_ENV cannot be redeclared");
    /* a table constant is a real local: found once, not twice */
    ck_assert_int_eq(purity("\nlocal _ENV <const> = {}\n", WD_LINT_FILE, &out), 1);
    assert_purity(&out, 0, 2, "_ENV cannot be redeclared");
}
END_TEST

START_TEST(reading_env_is_allowed)
{
    capture out;
    ck_assert_int_eq(purity("local e = _ENV\nlocal function f() return _ENV.x, rawequal(_ENV, e) end\n",
                            WD_LINT_FILE, &out), 0);
}
END_TEST

START_TEST(a_kept_function_assigning_its_upvalues_is_reported)
{
    capture out;
    ck_assert_int_eq(purity("local function make()\n"
                            "  local n, m = 0, 0\n"
                            "  return function()\n"
                            "    n = n + 1\n"
                            "    local function bump() m = m + 1 end\n"
                            "    local k = 0\n"
                            "    local function free() k = k + 1 end\n"
                            "    return n\n"
                            "  end\n"
                            "end\n"
                            "return make()\n", WD_LINT_KEPT, &out), 2);
    assert_purity(&out, 0, 4, "'n' belongs to a function that ran while the file loaded");
    assert_purity(&out, 1, 5, "'m' belongs to a function that ran while the file loaded");
    ck_assert_int_eq(purity("local t = {}\nreturn function(m) local x = t x = 1 return x end\n", WD_LINT_KEPT, &out), 0);
}
END_TEST

static Suite *lint_suite(void)
{
    Suite *suite = suite_create("lint");
    TCase *tc = tcase_create("lint");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, print_is_reported_at_its_line);
    tcase_add_test(tc, a_local_of_the_same_name_is_not_a_global);
    tcase_add_test(tc, a_global_the_chunk_assigns_is_known);
    tcase_add_test(tc, a_read_in_a_function_reports_its_own_line);
    tcase_add_test(tc, reads_in_deeply_nested_closures_are_found);
    tcase_add_test(tc, env_written_out_is_the_same_global);
    tcase_add_test(tc, a_local_env_is_not_the_sandbox);
    tcase_add_test(tc, allowed_names_pass);
    tcase_add_test(tc, method_calls_on_allowed_tables_pass);
    tcase_add_test(tc, findings_come_in_source_order);
    tcase_add_test(tc, each_name_is_reported_once_per_line);
    tcase_add_test(tc, without_an_allowed_list_every_read_is_unknown);
    tcase_add_test(tc, a_read_at_line_290_of_300_is_at_line_290);
    tcase_add_test(tc, a_read_after_a_long_gap_is_at_its_line);
    tcase_add_test(tc, more_than_256_constants);
    tcase_add_test(tc, more_than_131071_constants);
    tcase_add_test(tc, long_names_are_found_and_cut_in_messages);
    tcase_add_test(tc, long_string_constants_do_not_disturb_the_reader);
    tcase_add_test(tc, control_characters_in_names_are_replaced);
    tcase_add_test(tc, a_value_that_is_not_a_lua_function_is_refused);
    tcase_add_test(tc, a_function_that_is_not_a_chunk_is_refused);
    tcase_add_test(tc, running_out_of_memory_is_reported);
    tcase_add_test(tc, the_state_stays_usable);
    tcase_add_test(tc, a_function_assigning_a_file_level_local_is_reported_at_its_line);
    tcase_add_test(tc, file_level_locals_are_found_through_every_level_of_nesting);
    tcase_add_test(tc, locals_of_a_function_assigned_by_its_closures_are_free);
    tcase_add_test(tc, env_cannot_be_assigned_or_redeclared);
    tcase_add_test(tc, env_as_a_compile_time_constant_is_found_in_the_source);
    tcase_add_test(tc, reading_env_is_allowed);
    tcase_add_test(tc, a_kept_function_assigning_its_upvalues_is_reported);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return tr_run_suite(lint_suite());
}
