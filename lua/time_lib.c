/*
** time_lib.c — owns the sandbox's `time` library (docs/policies.md, "Time"):
**   time.parts(t [, offset_s]) -> { year, month, day, hour, min, sec, wday, yday }
**       (wday: 1 = Monday .. 7 = Sunday; yday: 1 = January 1st), for t shifted by offset_s
**       seconds (UTC when left out; at most 14 hours either way, as ISO-8601 zones);
**   time.parse(text) -> Unix seconds, for "YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm)";
**   time.format(t) -> "YYYY-MM-DDThh:mm:ssZ".
** Bad arguments raise (a rule that passes junk errs, and the decision is policy-error, never
** an allow by accident). Calendar arithmetic is the engine's own (warden_time_*), so a
** policy's business hours mean the same on every host whatever its TZ.
*/
#include "time_lib.h"

#include <lauxlib.h>
#include <stdint.h>

#include "../include/warden.h"

#define MAX_OFFSET_SECONDS (14 * 3600)

static int64_t check_time(lua_State *L, int arg, const char *function)
{
    int is_integer = 0;
    lua_Integer t = lua_type(L, arg) == LUA_TNUMBER ? lua_tointegerx(L, arg, &is_integer) : 0;
    if (!is_integer)
        return luaL_error(L, "%s expects a time in Unix seconds (an integer), got %s", function,
                          luaL_typename(L, arg));
    return (int64_t)t;
}

static int time_parts(lua_State *L)
{
    int64_t t = check_time(L, 1, "time.parts");
    lua_Integer offset = 0;
    if (!lua_isnoneornil(L, 2)) {
        int is_integer = 0;
        offset = lua_type(L, 2) == LUA_TNUMBER ? lua_tointegerx(L, 2, &is_integer) : 0;
        if (!is_integer || offset < -MAX_OFFSET_SECONDS || offset > MAX_OFFSET_SECONDS)
            return luaL_error(L, "time.parts: the offset must be whole seconds between -%d and %d",
                              MAX_OFFSET_SECONDS, MAX_OFFSET_SECONDS);
    }
    warden_time_parts parts;
    /* far outside the years 1..9999 either way: refused before the sum could overflow */
    if (t < -(INT64_C(1) << 40) || t > (INT64_C(1) << 40)
        || warden_time_split(t + (int64_t)offset, &parts) != WARDEN_OK)
        return luaL_error(L, "time.parts: the time is outside the years 1 to 9999");
    static const char *const names[] = { "year", "month", "day", "hour", "min", "sec", "wday", "yday" };
    const int values[] = { parts.year, parts.month, parts.day, parts.hour,
                           parts.minute, parts.second, parts.weekday, parts.yearday };
    lua_createtable(L, 0, 8);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        lua_pushinteger(L, values[i]);
        lua_setfield(L, -2, names[i]);
    }
    return 1;
}

static int time_parse(lua_State *L)
{
    size_t length = 0;
    if (lua_type(L, 1) != LUA_TSTRING)
        return luaL_error(L, "time.parse expects a string, got %s", luaL_typename(L, 1));
    const char *text = lua_tolstring(L, 1, &length);
    int64_t seconds = 0;
    if (warden_time_parse(text, length, &seconds) != WARDEN_OK)
        return luaL_error(L, "time.parse: not a date-time like 2026-06-01T10:00:00Z or "
                             "2026-06-01T12:00:00+02:00 (a zone is required)");
    lua_pushinteger(L, (lua_Integer)seconds);
    return 1;
}

static int time_format(lua_State *L)
{
    char buffer[21];
    if (warden_time_format(check_time(L, 1, "time.format"), buffer) != WARDEN_OK)
        return luaL_error(L, "time.format: the time is outside the years 1 to 9999");
    lua_pushstring(L, buffer);
    return 1;
}

void wd_time_lib_register(lua_State *L, int index)
{
    static const luaL_Reg functions[] = {
        { "parts", time_parts }, { "parse", time_parse }, { "format", time_format }, { NULL, NULL },
    };
    index = lua_absindex(L, index);
    for (const luaL_Reg *f = functions; f->name != NULL; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, index, f->name);
    }
}
