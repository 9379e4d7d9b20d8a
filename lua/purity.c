/*
** purity.c — owns wd_purity_seal: what a policy file leaves behind after it has run is made
** unable to carry state from one decision to the next. Tables are frozen in place, so every
** reference the file kept (a file-level local, a global, a field, a key, an upvalue of a
** helper) now holds a read-only table; functions kept for decisions are checked not to assign
** their own upvalues, which would live as long as the state (the assignments to file-level
** variables were refused before the file ran, see lint.h).
**
** The walk keeps its own work list in a Lua table (no C recursion, so a chain of a million
** nested tables is no problem) and a visited set, so shared and cyclic structures are seen
** once. It never enters a table that has a metatable: policy code cannot set one (there is no
** setmetatable), so those are ours — read-only proxies and environments — and C functions,
** whose upvalues are host state such as the declarers' name table.
*/
#include "purity.h"

#include <lauxlib.h>

#include "sandbox.h"

typedef struct seal {
    const int        *whens;
    size_t            count;
    wd_lint_report_fn report;
    void             *context;
    int               findings;
    int               failed; /* a function could not be examined */
} seal;

static int collectible(lua_State *L, int index)
{
    int type = lua_type(L, index);
    return type == LUA_TTABLE || (type == LUA_TFUNCTION && !lua_iscfunction(L, index));
}

/* Arguments: the seal (light userdata) and the environment. */
static int seal_protected(lua_State *L)
{
    seal *s = lua_touserdata(L, 1);
    lua_createtable(L, 0, 16); /* 3: visited */
    lua_createtable(L, 16, 0); /* 4: the work list */
    const int visited = 3, work = 4;
    lua_Integer top = 0;

    /* the globals table itself has a metatable (it reads through to the sandbox): its
    ** entries are the roots; it is frozen with the environment */
    wd_sandbox_push_globals(L, 2);
    if (lua_type(L, -1) == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
            lua_rawseti(L, work, ++top);
            lua_pushvalue(L, -1);
            lua_rawseti(L, work, ++top);
        }
    }
    lua_pop(L, 1);
    for (size_t i = 0; i < s->count; i++) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, s->whens[i]);
        lua_rawseti(L, work, ++top);
    }
    while (top > 0) {
        lua_rawgeti(L, work, top);
        lua_pushnil(L);
        lua_rawseti(L, work, top--);
        int value = lua_gettop(L);
        if (!collectible(L, value)) {
            lua_settop(L, value - 1);
            continue;
        }
        lua_pushvalue(L, value);
        if (lua_rawget(L, visited) != LUA_TNIL) {
            lua_settop(L, value - 1);
            continue;
        }
        lua_pop(L, 1);
        lua_pushvalue(L, value);
        lua_pushboolean(L, 1);
        lua_rawset(L, visited);

        if (lua_type(L, value) == LUA_TTABLE) {
            if (lua_getmetatable(L, value)) {
                lua_settop(L, value - 1);
                continue;
            }
            lua_pushnil(L);
            while (lua_next(L, value) != 0) {
                if (collectible(L, -1))
                    lua_rawseti(L, work, ++top);
                else
                    lua_pop(L, 1);
                if (collectible(L, -1)) {
                    lua_pushvalue(L, -1);
                    lua_rawseti(L, work, ++top);
                }
            }
            wd_sandbox_freeze_table(L, value);
        } else {
            lua_pushvalue(L, value);
            int found = wd_lint_purity(L, WD_LINT_KEPT, NULL, 0, s->report, s->context);
            lua_pop(L, 1);
            if (found < 0)
                s->failed = 1;
            else
                s->findings += found;
            for (int i = 1; lua_getupvalue(L, value, i) != NULL; i++) {
                if (collectible(L, -1))
                    lua_rawseti(L, work, ++top);
                else
                    lua_pop(L, 1);
            }
        }
        lua_settop(L, value - 1);
    }
    return 0;
}

int wd_purity_seal(lua_State *L, int env_index, const int *whens, size_t count, wd_lint_report_fn report,
                   void *context)
{
    seal s = { whens, count, report, context, 0, 0 };
    env_index = lua_absindex(L, env_index);
    if (!lua_checkstack(L, 3)) {
        if (report != NULL)
            report(context, 0, "cannot seal the file (Lua stack overflow)");
        return -1;
    }
    lua_pushcfunction(L, seal_protected);
    lua_pushlightuserdata(L, &s);
    lua_pushvalue(L, env_index);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
        lua_pop(L, 1);
        if (report != NULL)
            report(context, 0, "cannot seal the file (out of memory)");
        return -1;
    }
    return s.failed ? -1 : s.findings;
}
