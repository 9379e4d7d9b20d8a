/*
** purity.h — what keeps a policy a pure function of the message, the data and the clock:
** after a policy file has run, every table it left reachable is frozen in place and every
** function it keeps for decisions is checked not to assign its upvalues (lint.h has the
** check made before the file runs).
*/
#ifndef WD_LUA_PURITY_H
#define WD_LUA_PURITY_H

#include <lua.h>

#include "lint.h"

/* Seals what one file left behind: starting from its globals (the environment at env_index)
** and the `count` functions whose registry references are in whens, it walks every table
** (keys, values) and every Lua function (its upvalues) it can reach, freezes each table in
** place (wd_sandbox_freeze_table), and runs wd_lint_purity(WD_LINT_KEPT) on each function,
** whose findings go to report. C functions and tables that have a metatable (proxies,
** environments) are not entered. Runs protected. Returns the number of findings, or -1 when
** memory ran out (reported at line 0). [-0, +0, -] */
int wd_purity_seal(lua_State *L, int env_index, const int *whens, size_t count, wd_lint_report_fn report,
                   void *context);

#endif
