/*
** policy_state.h — a Lua state loaded from one policy source: the sandbox, the data
** documents, every policy file run in its own environment, and the `when` functions ready
** to call. Loaded from a compiled set's source it decides on its own (decide.h); loaded from
** a bare source it is the compiler's scratch state or `warden check`'s. A state is used by
** one thread at a time.
*/
#ifndef WD_LUA_POLICY_STATE_H
#define WD_LUA_POLICY_STATE_H

#include <lua.h>
#include <stddef.h>

#include "policy_source.h"
#include "rules.h"
#include "sandbox.h"

typedef struct wd_policy_set wd_policy_set; /* policy_set.h */

typedef struct wd_policy_state {
    lua_State              *L;
    wd_policy_set          *set;         /* a deciding state's revision, one reference; else NULL */
    wd_rule_list            list;        /* this state's declarations: `when` references valid in L */
    unsigned               *candidates;  /* scratch for target look-ups, one entry per rule */
    int                     extras;      /* registry reference: { permit, forbid, test, data } */
    /* last: the decision path reads the fields above, at the offsets they have always had */
    const wd_policy_source *source;      /* loaded from; outlives the state (the set's, or the caller's) */
} wd_policy_state;

/* Loads a compiled set into a new state for deciding: its source's policy files run, and the
** state holds a reference to set (state->set). log receives the policies' log(...) lines.
** Returns 0 with *out owned by the caller (wd_policy_state_free), or -1 with error. */
int wd_policy_state_new(wd_policy_set *set, wd_sandbox_log_fn log, void *log_context,
                        wd_policy_state **out, char *error, size_t capacity);

/* The same load from a bare source (state->set stays NULL): how a set is compiled. source
** must outlive the state. */
int wd_policy_state_load(const wd_policy_source *source, wd_sandbox_log_fn log, void *log_context,
                         wd_policy_state **out, char *error, size_t capacity);

/* A state with the data documents and declarers ready but no file run yet (for `warden
** check`, which runs the files one by one). source must outlive the state. */
int wd_policy_state_new_empty(const wd_policy_source *source, wd_sandbox_log_fn log, void *log_context,
                              wd_policy_state **out, char *error, size_t capacity);

/* Also runs the set's test files (*_test.lua) in the state, collecting their `test`
** declarations into state->list.tests. Returns 0, or -1 with error. */
int wd_policy_state_load_tests(wd_policy_state *state, char *error, size_t capacity);

/* Loads one file's text the way policy files load: own environment; refused before it runs
** when the purity check finds an assignment to _ENV or to a file-level variable from a
** function, or a local named _ENV (lint.h); after it has run, its tables are frozen in
** place and the functions it keeps are checked (purity.h), then its globals are frozen.
** as_test: the file may declare tests instead of rules (test files are not sealed). Returns 0,
** or -1 with error ("path:line: message" where a line is known). */
int wd_policy_state_run_file(wd_policy_state *state, const char *path, const char *text, size_t length,
                             int as_test, char *error, size_t capacity);

/* Where wd_policy_state_check_file sends problems: line > 0 with a message, or line 0 with a
** text that may itself start with "path:line:" (Lua's and the declarers' errors). */
typedef void (*wd_policy_problem_fn)(void *context, int line, const char *message);

/* The same load, for `warden check`: every problem is reported and the load goes on where it
** can (the purity findings, then globals not offered (globals: the names the environment
** offers; NULL = not checked), then what running the file raises). Returns the number of
** problems. */
size_t wd_policy_state_check_file(wd_policy_state *state, const char *path, const char *text, size_t length,
                                  int as_test, const char *const *globals, wd_policy_problem_fn report,
                                  void *context);

/* The globals a policy file's environment offers (as_test 0) or a test file's (1): the
** sandbox's (wd_sandbox_globals) plus data and the declarers (permit, forbid; or test).
** Written to names (NULL-terminated, at most WD_POLICY_GLOBALS_MAX entries with the NULL);
** returns names, for wd_policy_state_check_file's globals. */
#define WD_POLICY_GLOBALS_MAX 64
const char *const *wd_policy_state_globals(int as_test, const char *names[WD_POLICY_GLOBALS_MAX]);

void wd_policy_state_free(wd_policy_state *state); /* NULL is a no-op */

#endif
