/*
** lint.h — finding references to globals a policy file cannot have: names that the sandbox
** does not offer (io, os, print, require, setmetatable, ...) and that the file itself never
** assigns; and the purity check, which finds assignments that would carry state from one
** decision to the next (file-level variables, _ENV). Read from the compiled chunk's bytecode (GETTABUP / SETTABUP on _ENV with a
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

/* What wd_lint_purity examines the function on top of the stack as. */
typedef enum wd_lint_scope {
    WD_LINT_FILE = 1, /* a compiled policy file, not yet run */
    WD_LINT_KEPT = 2  /* a function that exists after its file has run (a `when`, a helper) */
} wd_lint_scope;

/* The purity check: code that would let one decision change what a later one sees.
** WD_LINT_FILE reports, anywhere in the chunk, each local, parameter or loop variable named
** _ENV ("_ENV cannot be redeclared ..."), each assignment to _ENV ("_ENV cannot be
** assigned ..."), and each assignment from inside a function to a variable declared at file
** level, outside every function, however deeply the function is nested ("'x' is declared at
** file level ..."); a function's own locals, also assigned from closures it makes, are free.
** WD_LINT_KEPT reports each assignment, by the function or by a function nested in it, to
** one of the function's own upvalues: a function that outlives the file's loading keeps
** those variables for the life of the state (a counter made by a factory function that ran
** at load). Findings come by line. With WD_LINT_FILE, source (length bytes; NULL = not
** given) is the chunk's text, scanned for `_ENV <const>`, which leaves no trace in bytecode.
** Returns their number, or -1 if the function could not be examined (message reported at
** line 0). [-0, +0, m] */
int wd_lint_purity(lua_State *L, wd_lint_scope scope, const char *source, size_t length, wd_lint_report_fn report,
                   void *context);

/* What wd_lint_fields checks reads against. */
typedef struct wd_lint_fields_options {
    const char *const *data_names; /* the data documents' names, NULL-terminated; NULL: not checked */
    /* The Lua type (LUA_TSTRING, ...) of data.PATH ("limits.max"), or -1 when unknown; may be NULL. */
    int (*data_type)(void *context, const char *path);
    void *context;
} wd_lint_fields_options;

/* Finds, in the function on top of the stack (a compiled chunk), reads the view would refuse
** and reads that cannot be what the author meant, where the bytecode shows them: a name the
** message view does not know read with a constant key from a parameter named `m` (GETFIELD
** chains, m.tokens[i], m:body; "no field `usename` on m; did you mean `username`?"), a data
** document that does not exist (data.NAME), and text (what m:body returned, a string of a
** data document) compared with a number or ordered against text ("warning: ..."). Registers are followed within a
** basic block only, so what is reported is certain; what is not seen is not guessed. Returns
** the number of findings (by line), or -1 if the chunk could not be examined. [-0, +0, m] */
int wd_lint_fields(lua_State *L, const wd_lint_fields_options *options, wd_lint_report_fn report, void *context);

#endif
