/*
** pattern.h — Lua's string.find / match / gmatch / gsub with the same pattern semantics
** (character classes, sets, quantifiers * + - ?, anchors, captures, position captures,
** %b, %f, back-references) but a matcher of our own that counts its steps: every step is
** charged to the evaluation's budget through wd_sandbox_charge, so a pathological pattern
** ends in a limit error instead of running for minutes inside C where no hook fires.
*/
#ifndef WD_LUA_PATTERN_H
#define WD_LUA_PATTERN_H

#include <lua.h>

/* Sets find, match, gmatch and gsub into the table at index. [-0, +0, m] */
void wd_pattern_register(lua_State *L, int table_index);

#endif
