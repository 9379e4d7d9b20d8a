/*
** decide.c — evaluating the rules that can apply to one message. The view `m` is pushed
** once, before the first `when` runs, and shared by all rules of the decision; a rule
** without `when` applies as soon as its targets match. Errors and limits never let a
** decision allow; a limit (instructions, time, memory, string length) makes it policy-limit
** whatever the rules returned.
*/
#include "decide.h"
#include "invariant.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_error(wd_decision_outcome *out, const char *rule, const char *message)
{
    char **grown = realloc(out->errors, (out->error_count + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    out->errors = grown;
    size_t length = strlen(rule) + strlen(message) + 3;
    char *text = malloc(length);
    if (text == NULL)
        return -1;
    snprintf(text, length, "%s: %s", rule, message);
    out->errors[out->error_count++] = text;
    return 0;
}

static int add_rule(wd_decision_outcome *out, const char *name)
{
    if (out->rule_count < WD_DECISION_INLINE_RULES) {
        WD_ASSERT(out->rules == out->inline_rules);
        out->inline_rules[out->rule_count++] = name;
        return 0;
    }
    const char **grown;
    if (out->rules == out->inline_rules) {
        grown = malloc((out->rule_count + 1) * sizeof *grown);
        if (grown != NULL)
            memcpy(grown, out->inline_rules, out->rule_count * sizeof *grown);
    } else {
        grown = realloc((void *)out->rules, (out->rule_count + 1) * sizeof *grown);
    }
    if (grown == NULL)
        return -1;
    out->rules = grown;
    out->rules[out->rule_count++] = name;
    return 0;
}

void wd_decision_outcome_clear(wd_decision_outcome *out)
{
    for (size_t i = 0; i < out->error_count; i++)
        free(out->errors[i]);
    free(out->errors);
    if (out->rules != out->inline_rules)
        free((void *)out->rules);
    memset(out, 0, sizeof *out);
    out->rules = out->inline_rules;
}

/* One decision's progress, shared between wd_decide and the rule loop it runs protected. */
typedef struct evaluation {
    wd_policy_state     *state;
    size_t               count;          /* candidates */
    wd_view_pusher       push_view;
    void                *view_argument;
    wd_decision_outcome *out;
    bool any_forbid, any_permit, any_error, any_limit, out_of_memory;
    bool rule_reported;                  /* a rule's own error was recorded */
} evaluation;

/* The rule loop. It runs inside one sandbox call, so the instruction, time and memory
** limits hold for the decision as a whole; each `when` runs in a nested call that catches
** its own errors. Building the view allocates, so it happens here, protected too. */
static int evaluate_rules(lua_State *L)
{
    evaluation *e = lua_touserdata(L, 1);
    wd_policy_state *state = e->state;
    const wd_policy_set *set = state->set;
    int view = 0;
    char problem[512];

    /* Two passes over the candidates: forbids, then permits. Permit names are recorded
    ** only while no forbid has applied; the permits still run, so their errors count. */
    for (int pass = 0; pass < 2; pass++) {
        wd_rule_effect effect = pass == 0 ? WD_RULE_FORBID : WD_RULE_PERMIT;
        for (size_t i = 0; i < e->count; i++) {
            const wd_rule *rule = &state->list.rules[state->candidates[i]];
            /* names come from the set, which the decision keeps alive; the state may go */
            const char *name = set->rules.rules[state->candidates[i]].name;
            if (rule->effect != effect)
                continue;
            bool applies = true;
            if (rule->when != LUA_NOREF && rule->when != LUA_REFNIL) {
                if (view == 0) {
                    e->push_view(L, e->view_argument);
                    view = lua_gettop(L);
                }
                lua_rawgeti(L, LUA_REGISTRYINDEX, rule->when);
                lua_pushvalue(L, view);
                int outcome = wd_sandbox_call(L, 1, 1, problem, sizeof problem);
                if (outcome != WD_SANDBOX_OK) {
                    e->rule_reported = true;
                    if (add_error(e->out, name, problem) != 0)
                        e->out_of_memory = true;
                    if (outcome == -1) {
                        e->any_error = true;
                        continue;
                    }
                    /* a limit ends the decision: the budget is the decision's */
                    e->any_limit = true;
                    if (outcome == WD_SANDBOX_MEMORY)
                        e->out->memory_limit = true;
                    return 0;
                }
                applies = lua_toboolean(L, -1);
                lua_pop(L, 1);
            }
            if (!applies)
                continue;
            if (effect == WD_RULE_FORBID) {
                e->any_forbid = true;
                if (add_rule(e->out, name) != 0)
                    e->out_of_memory = true;
            } else {
                if (!e->any_forbid && add_rule(e->out, name) != 0)
                    e->out_of_memory = true;
                e->any_permit = true;
            }
        }
    }
    return 0;
}

int wd_decide(wd_policy_state *state, const char *action, size_t action_length, const char *operation,
              size_t operation_length, wd_view_pusher push_view_function, void *view_argument,
              wd_decision_outcome *out)
{
    lua_State *L = state->L;
    const wd_policy_set *set = state->set;
    WD_ASSERT(set != NULL); /* only a state loaded from a compiled set decides (policy_state.h) */
    int top = lua_gettop(L);
    char problem[512];

    memset(out, 0, sizeof *out);
    out->rules = out->inline_rules;
    evaluation e = { .state = state, .push_view = push_view_function, .view_argument = view_argument, .out = out };
    e.count = wd_target_index_lookup(set->index, action, action_length, operation, operation_length,
                                     state->candidates, set->rules.count);
    if (e.count > 0) {
        lua_pushcfunction(L, evaluate_rules);
        lua_pushlightuserdata(L, &e);
        int outcome = wd_sandbox_call(L, 1, 0, problem, sizeof problem);
        if (outcome != WD_SANDBOX_OK) {
            if (outcome == -1)
                e.any_error = true;
            else
                e.any_limit = true;
            if (outcome == WD_SANDBOX_MEMORY)
                out->memory_limit = true;
            if (!e.rule_reported && add_error(out, "(decision)", problem) != 0)
                e.out_of_memory = true;
        }
    }
    lua_settop(L, top);

    /* A limit outranks everything: a decision that ran over its budget is policy-limit even
    ** when a forbid had applied or every rule returned true (the sandbox reads the clock and
    ** the budget when each `when` returns and when the decision ends). */
    out->allowed = false;
    if (e.any_limit)
        out->reason = "policy-limit";
    else if (e.any_forbid)
        out->reason = "forbidden";
    else if (e.any_error || e.out_of_memory)
        out->reason = "policy-error";
    else if (e.any_permit) {
        out->reason = "permitted";
        out->allowed = true;
    } else
        out->reason = "no-permit";
    return e.out_of_memory ? -1 : 0;
}
