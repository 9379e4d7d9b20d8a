/*
** set_lint.h — warden check's findings about what a policy set declared, once every file
** has loaded: target spellings, action targets the configuration does not require to be
** signed, and what the tests name (rules, reasons, message fields).
*/
#ifndef WD_LUA_SET_LINT_H
#define WD_LUA_SET_LINT_H

#include <lua.h>
#include <stddef.h>

#include "rules.h"

/* Called once per finding: file is the declaring file's relative path, line its line;
** messages of findings that do not make the set wrong start with "warning: ". */
typedef void (*wd_set_lint_report_fn)(void *context, const char *file, int line, const char *message);

typedef struct wd_set_lint_options {
    const char *const *signed_parts; /* require.signed, NULL-terminated; NULL: not known */
    const char *const *reasons;      /* every reason code a decision can carry, NULL-terminated */
} wd_set_lint_options;

/* Examines list (declared into L, whose registry holds the test specs). Reports, in
** declaration order: an `operation` target that is not "{namespace}Name" (or "*"), an
** `action` target spelled like an operation, an `action` target when require.signed lacks
** "Action" and the rule has no `operation` target (a warning: anyone can relabel an unsigned
** wsa:Action), a test's `rules` entry
** that names no rule, a `reason` that is no reason code, and a field of a test's `message`
** that the view does not know (the nearest name suggested). Returns the number of findings
** that are not warnings. [-0, +0, m] */
size_t wd_set_lint(lua_State *L, const wd_rule_list *list, const wd_set_lint_options *options,
                   wd_set_lint_report_fn report, void *context);

#endif
