/*
** time_lib.h — the sandbox's `time` library: calendar fields, ISO-8601 text to Unix seconds
** and back, all UTC unless an offset is given, through warden.h's date-time functions (never
** the C library's, which read the process's TZ state).
*/
#ifndef WD_LUA_TIME_LIB_H
#define WD_LUA_TIME_LIB_H

#include <lua.h>

/* Sets parts, parse and format into the table at index. [-0, +0, m] */
void wd_time_lib_register(lua_State *L, int index);

#endif
