/*
** decide.c — evaluating the rules that can apply to one message. The view `m` is pushed
** once, before the first `when` runs, and shared by all rules of the decision; a rule
** without `when` applies as soon as its targets match. Errors and limits never let a
** decision allow.
*/
#include "decide.h"

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

typedef struct view_request {
    wd_view_pusher push;
    void          *argument;
} view_request;

static int push_view_protected(lua_State *L)
{
    view_request *request = lua_touserdata(L, 1);
    request->push(L, request->argument);
    return 1;
}

/* Pushes the view in protected mode: building it allocates, and a state at its memory cap
** must fail into a deny, never into a panic. Returns 0, or -1 with nothing pushed. */
static int push_view(lua_State *L, wd_view_pusher push, void *argument)
{
    view_request request = { push, argument };
    lua_pushcfunction(L, push_view_protected);
    lua_pushlightuserdata(L, &request);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

int wd_decide(wd_policy_state *state, const char *action, size_t action_length, const char *operation,
              size_t operation_length, wd_view_pusher push_view_function, void *view_argument,
              wd_decision_outcome *out)
{
    lua_State *L = state->L;
    const wd_policy_set *set = state->set;
    int top = lua_gettop(L);
    int view = 0;
    bool any_forbid = false, any_permit = false, any_error = false, any_limit = false, out_of_memory = false;
    char problem[512];

    memset(out, 0, sizeof *out);
    out->rules = out->inline_rules;
    size_t count = wd_target_index_lookup(set->index, action, action_length, operation, operation_length,
                                          state->candidates, set->rules.count);

    /* Two passes over the candidates: forbids, then permits. Permit names are recorded
    ** only while no forbid has applied; the permits still run, so their errors count. */
    for (int pass = 0; pass < 2; pass++) {
        wd_rule_effect effect = pass == 0 ? WD_RULE_FORBID : WD_RULE_PERMIT;
        for (size_t i = 0; i < count; i++) {
            const wd_rule *rule = &state->list.rules[state->candidates[i]];
            /* names come from the set, which the decision keeps alive; the state may go */
            const char *name = set->rules.rules[state->candidates[i]].name;
            if (rule->effect != effect)
                continue;
            bool applies = true;
            if (rule->when != LUA_NOREF && rule->when != LUA_REFNIL) {
                if (view == 0) {
                    if (push_view(L, push_view_function, view_argument) != 0) {
                        any_limit = true;
                        if (add_error(out, name, "cannot build the message view (memory limit)") != 0)
                            out_of_memory = true;
                        continue;
                    }
                    view = lua_gettop(L);
                }
                lua_rawgeti(L, LUA_REGISTRYINDEX, rule->when);
                lua_pushvalue(L, view);
                int outcome = wd_sandbox_call(L, 1, 1, problem, sizeof problem);
                if (outcome != WD_SANDBOX_OK) {
                    if (outcome == -1)
                        any_error = true;
                    else
                        any_limit = true;
                    if (add_error(out, name, problem) != 0)
                        out_of_memory = true;
                    continue;
                }
                applies = lua_toboolean(L, -1);
                lua_pop(L, 1);
            }
            if (!applies)
                continue;
            if (effect == WD_RULE_FORBID) {
                any_forbid = true;
                if (add_rule(out, name) != 0)
                    out_of_memory = true;
            } else {
                if (!any_forbid && add_rule(out, name) != 0)
                    out_of_memory = true;
                any_permit = true;
            }
        }
    }
    lua_settop(L, top);

    out->allowed = false;
    if (any_forbid)
        out->reason = "forbidden";
    else if (any_limit)
        out->reason = "policy-limit";
    else if (any_error || out_of_memory)
        out->reason = "policy-error";
    else if (any_permit) {
        out->reason = "permitted";
        out->allowed = true;
    } else
        out->reason = "no-permit";
    return out_of_memory ? -1 : 0;
}
