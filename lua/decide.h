/*
** decide.h — one decision in a policy state (docs/reference.md, Decisions): the rules whose
** targets match are found through the index, forbids are evaluated first, then permits;
** deny if any forbid applies, otherwise allow if any permit applies, otherwise deny. A rule
** whose `when` raises an error or hits a limit makes the decision deny and is reported.
*/
#ifndef WD_LUA_DECIDE_H
#define WD_LUA_DECIDE_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy_set.h"
#include "policy_state.h"

/* Pushes the message view `m` for this decision (wd_view_push_message or _synthetic). It
** runs inside a protected call of its own, so it cannot refer to the caller's stack slots. */
typedef void (*wd_view_pusher)(lua_State *L, void *argument);

#define WD_DECISION_INLINE_RULES 8

typedef struct wd_decision_outcome {
    bool            allowed;
    const char     *reason;       /* static: "permitted", "forbidden", "no-permit", "policy-error", "policy-limit" */
    const char    **rules;        /* names (owned by the state's set); points at inline_rules or a malloc'd array */
    size_t          rule_count;
    char          **errors;       /* malloc'd "RULE NAME: message" strings */
    size_t          error_count;
    bool            memory_limit; /* the state's memory cap was hit: the caller should start over with a fresh state */
    const char     *inline_rules[WD_DECISION_INLINE_RULES];
} wd_decision_outcome;

/* Decides for a message with this action and operation (either may be NULL = absent).
** Returns 0 with *out filled (release with wd_decision_outcome_clear), or -1 when memory ran
** out outside the policies (then *out is a deny with reason "policy-error"). */
int wd_decide(wd_policy_state *state, const char *action, size_t action_length, const char *operation,
              size_t operation_length, wd_view_pusher push_view, void *view_argument, wd_decision_outcome *out);

void wd_decision_outcome_clear(wd_decision_outcome *outcome);

/* An explanation of one decision (warden decide --explain): one entry per rule of the set,
** in evaluation order (forbids, then permits, each in declaration order). Tracing costs a
** hook call per instruction and a copy of every log line; a decision without a trace pays
** nothing for it. */
typedef struct wd_rule_trace {
    unsigned rule;          /* index into the set's rules */
    bool     targets;       /* every target it names matched */
    bool     has_when;
    bool     ran;           /* its `when` ran to an end (returned, raised or hit a limit) */
    bool     applied;
    char    *returned;      /* what `when` returned, as text ("true", "nil", "42", "\"x\"", "table"); NULL otherwise */
    char    *error;         /* what `when` raised, or the limit it hit; NULL otherwise */
    int64_t  instructions;  /* steps its `when` charged (instructions plus C work) */
    char   **log;           /* its log(...) lines */
    size_t   log_count;
} wd_rule_trace;

typedef struct wd_trace {
    wd_rule_trace *rules;
    size_t         count;
    wd_rule_trace *current;   /* the rule whose `when` runs now (log lines go to it) */
    wd_sandbox_log_fn forward_log; /* the state's own log function and context, restored after */
    void          *forward_context;
    bool           out_of_memory;
} wd_trace;

/* wd_decide, and when trace is not NULL, the explanation into it (release with
** wd_trace_clear even when this fails). */
int wd_decide_traced(wd_policy_state *state, const char *action, size_t action_length, const char *operation,
                     size_t operation_length, wd_view_pusher push_view, void *view_argument,
                     wd_decision_outcome *out, wd_trace *trace);

void wd_trace_clear(wd_trace *trace);

#endif
