/*
** data.c — fuzzes JSON data documents (lua/data.c): wd_data_validate, the check made when a
** policy set compiles, and wd_data_push, which builds the read-only Lua value policies read.
** Both must agree on what parses; the pushed value is then walked through its metamethods
** (__len, __index, __pairs) the way a policy reads it, and a write into it must fail.
*/
#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>
#include <string.h>

#include "fixture.h"
#include "lua/data.h"
#include "lua/sandbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { BUDGET = 20000 };

static int walk(lua_State *L, int index, int depth, int *budget);

static int walk_pairs(lua_State *L, int index, int depth, int *budget)
{
    if (luaL_getmetafield(L, index, "__pairs") == LUA_TNIL)
        return 0;
    lua_pushvalue(L, index);
    lua_call(L, 1, 3);                     /* next, t, nil */
    int next = lua_gettop(L) - 2;
    for (;;) {
        if (--*budget < 0)
            break;
        lua_pushvalue(L, next);
        lua_pushvalue(L, next + 1);
        lua_pushvalue(L, next + 2);
        lua_call(L, 2, 2);                 /* key, value */
        if (lua_isnil(L, -2)) {
            lua_pop(L, 2);
            break;
        }
        if (lua_type(L, -2) != LUA_TSTRING && lua_type(L, -2) != LUA_TNUMBER)
            fz_fail("data: a key of type %s", luaL_typename(L, -2));
        walk(L, lua_gettop(L), depth + 1, budget);
        lua_pop(L, 1);
        lua_replace(L, next + 2);          /* the key continues the iteration */
    }
    lua_pop(L, 3);
    return 0;
}

static int walk(lua_State *L, int index, int depth, int *budget)
{
    luaL_checkstack(L, 8, "walk");
    if (depth > 70)
        fz_fail("data: a value nested %d deep (the limit is 64)", depth);
    switch (lua_type(L, index)) {
    case LUA_TTABLE: {
        lua_Integer length = luaL_len(L, index);
        if (length < 0)
            fz_fail("data: negative length");
        for (lua_Integer i = 1; i <= length && --*budget >= 0; i++) {
            lua_geti(L, index, i);
            walk(L, lua_gettop(L), depth + 1, budget);
            lua_pop(L, 1);
        }
        walk_pairs(L, index, depth, budget);
        break;
    }
    case LUA_TSTRING: case LUA_TNUMBER: case LUA_TBOOLEAN: case LUA_TNIL: /* nil: a null in an array */
        break;
    default:
        fz_fail("data: a value of type %s", luaL_typename(L, index));
    }
    return 0;
}

static int walk_root(lua_State *L)
{
    int budget = BUDGET;
    walk(L, 1, 0, &budget);
    return 0;
}

static int write_root(lua_State *L)
{
    lua_pushinteger(L, 1);
    lua_setfield(L, 1, "written");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char error[256] = "", push_error[256] = "";
    int valid = wd_data_validate((const char *)data, size, error, sizeof error) == 0;
    if (!valid && error[0] == '\0')
        fz_fail("data: rejected without a message");

    wd_sandbox_limits limits = { .instructions = 1000000, .memory = 64u << 20, .time_ms = 1000 };
    lua_State *L = wd_sandbox_new(&limits, NULL, NULL);
    if (L == NULL)
        fz_fail("data: wd_sandbox_new");
    int pushed = wd_data_push(L, (const char *)data, size, push_error, sizeof push_error) == 0;
    if (pushed && !valid)
        fz_fail("data: pushed a document that does not validate (%s)", error);
    if (!pushed && valid && strcmp(push_error, "not enough memory") != 0)
        fz_fail("data: validates but does not push: %s", push_error);
    if (pushed) {
        int root = lua_gettop(L);
        lua_pushcfunction(L, walk_root);
        lua_pushvalue(L, root);
        if (lua_pcall(L, 1, 0, 0) != LUA_OK)
            fz_fail("data: reading the value raised: %s", lua_tostring(L, -1));
        if (lua_type(L, root) == LUA_TTABLE) {
            lua_pushcfunction(L, write_root);
            lua_pushvalue(L, root);
            if (lua_pcall(L, 1, 0, 0) == LUA_OK)
                fz_fail("data: a write into the read-only value succeeded");
            lua_pop(L, 1);
        }
        lua_settop(L, 0);
    }
    wd_sandbox_close(L);
    return 0;
}
