/*
** explain.h — turning a decision's trace into the explanation JSON (explain.c).
*/
#ifndef WD_ENGINE_EXPLAIN_H
#define WD_ENGINE_EXPLAIN_H

#include <string.h>

#include "../lua/decide.h"
#include "../lua/policy_set.h"

/* The explanation of trace (made over set) as a JSON array text, malloc'd (free); NULL when
** memory runs out. Each object: rule, effect ("permit"/"forbid"), file, line, targets (bool);
** when the targets matched also when ("returned", "raised", "absent": no `when`, "not run":
** a limit ended the decision first), value (what it returned, as text), error (what it
** raised or the limit), applied (bool), instructions (integer), log (list of its log(...)
** lines); otherwise applied = false. */
char *wd_explanation_json(const wd_trace *trace, const wd_policy_set *set);

#endif
