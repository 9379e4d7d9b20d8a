/*
** data.h — data documents (data/NAME.json) as read-only Lua values: parsed with jansson,
** converted to Lua tables (objects keyed by string, arrays 1-based, integral numbers as
** integers, true/false as booleans, null as nil — an array keeps its JSON length through
** __len), then wrapped in read-only proxies so policies can read but never change them.
*/
#ifndef WD_LUA_DATA_H
#define WD_LUA_DATA_H

#include <lua.h>
#include <stddef.h>

/* Parses a JSON document. Returns 0, or -1 with error ("line N, column M: message") when it
** does not parse. Does not touch any Lua state: used when a policy set is compiled. */
int wd_data_validate(const char *json, size_t length, char *error, size_t capacity);

/* Parses json and pushes a read-only proxy of its value (tables nested to any depth up to
** 64 levels; deeper is an error). Returns 0, or -1 with error filled and nothing pushed.
** [-0, +(0|1), m] */
int wd_data_push(lua_State *L, const char *json, size_t length, char *error, size_t capacity);

#endif
