/*
** lint.h — finding references to globals a policy file cannot have: names that the sandbox
** does not offer (io, os, print, require, setmetatable, ...) and that the file itself never
** assigns. Read from the compiled chunk's bytecode (GETTABUP / SETTABUP on _ENV with a
** constant name), so scoping is exactly Lua's; the chunk comes from our own compiler in
** this process, never from disk.
*/
#ifndef WD_LUA_LINT_H
#define WD_LUA_LINT_H

#include <lua.h>
#include <stddef.h>

/* Called once per finding, in source order. */
typedef void (*wd_lint_report_fn)(void *context, int line, const char *message);

/* Examines the Lua function on top of the stack (a compiled chunk, not yet run). allowed is
** a NULL-terminated list of the global names the environment provides. Each read of a
** global that is neither allowed nor assigned anywhere in the chunk is reported as
** "unknown global 'io' (the sandbox does not offer it)". Returns the number of findings,
** or -1 if the chunk could not be examined (message reported at line 0). [-0, +0, m] */
int wd_lint_globals(lua_State *L, const char *const *allowed, wd_lint_report_fn report, void *context);

#endif
