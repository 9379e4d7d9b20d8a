/*
** decide.c — evaluating the rules that can apply to one message. The view `m` is pushed
** once, before the first `when` runs, and shared by all rules of the decision; a rule
** without `when` applies as soon as its targets match. Errors and limits never let a
** decision allow; a limit (instructions, time, memory, string length) makes it policy-limit
** whatever the rules returned. When explaining (wd_decide_traced with a trace), every rule of
** the set is visited and recorded: the sandbox counts every instruction and hands each log()
** line to the rule whose `when` runs; without a trace none of that happens.
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
    wd_trace            *trace;          /* NULL unless explaining */
    bool any_forbid, any_permit, any_error, any_limit, out_of_memory;
    bool rule_reported;                  /* a rule's own error was recorded */
} evaluation;

static char *copy_text(const char *text)
{
    return text != NULL ? strdup(text) : NULL;
}

/* What a `when` returned, for a person: the value at the top of the stack. */
static char *describe_value(lua_State *L)
{
    char text[256];
    switch (lua_type(L, -1)) {
    case LUA_TBOOLEAN:
        return copy_text(lua_toboolean(L, -1) ? "true" : "false");
    case LUA_TNIL:
        return copy_text("nil");
    case LUA_TNUMBER:
        if (lua_isinteger(L, -1))
            snprintf(text, sizeof text, "%lld", (long long)lua_tointeger(L, -1));
        else
            snprintf(text, sizeof text, "%.14g", (double)lua_tonumber(L, -1));
        return copy_text(text);
    case LUA_TSTRING: {
        size_t length = 0;
        const char *value = lua_tolstring(L, -1, &length);
        snprintf(text, sizeof text, "\"%.*s%s\"", (int)(length > 200 ? 200 : length), value,
                 length > 200 ? "..." : "");
        return copy_text(text);
    }
    default:
        return copy_text(lua_typename(L, lua_type(L, -1)));
    }
}

/* The sandbox's log function while a traced decision runs: the line goes to the rule whose
** `when` runs, and on to the state's own log as always. */
static void trace_log(void *context, const char *line, size_t length)
{
    wd_trace *trace = context;
    wd_rule_trace *rule = trace->current;
    if (rule != NULL) {
        char **grown = realloc(rule->log, (rule->log_count + 1) * sizeof *grown);
        char *copy = grown != NULL ? strndup(line, length) : NULL;
        if (grown != NULL)
            rule->log = grown;
        if (copy != NULL)
            rule->log[rule->log_count++] = copy;
        else
            trace->out_of_memory = true;
    }
    if (trace->forward_log != NULL)
        trace->forward_log(trace->forward_context, line, length);
}

void wd_trace_clear(wd_trace *trace)
{
    if (trace == NULL)
        return;
    for (size_t i = 0; i < trace->count; i++) {
        wd_rule_trace *rule = &trace->rules[i];
        free(rule->returned);
        free(rule->error);
        for (size_t k = 0; k < rule->log_count; k++)
            free(rule->log[k]);
        free(rule->log);
    }
    free(trace->rules);
    memset(trace, 0, sizeof *trace);
}

/* True when rule number is among the sorted candidates. */
static bool is_candidate(const unsigned *candidates, size_t count, unsigned number)
{
    size_t low = 0, high = count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (candidates[middle] == number)
            return true;
        if (candidates[middle] < number)
            low = middle + 1;
        else
            high = middle;
    }
    return false;
}

/* The entry of a traced rule (appended in evaluation order), or NULL when not tracing. */
static wd_rule_trace *trace_entry(evaluation *e, unsigned number, bool targets)
{
    if (e->trace == NULL)
        return NULL;
    wd_rule_trace *entry = &e->trace->rules[e->trace->count++];
    entry->rule = number;
    entry->targets = targets;
    entry->has_when = e->state->list.rules[number].when != LUA_NOREF && e->state->list.rules[number].when != LUA_REFNIL;
    return entry;
}

/* The rule loop. It runs inside one sandbox call, so the instruction, time and memory
** limits hold for the decision as a whole; each `when` runs in a nested call that catches
** its own errors. Building the view allocates, so it happens here, protected too. When
** explaining, every rule of the set is visited (those whose targets do not match only
** to be listed); otherwise only the candidates. */
static int evaluate_rules(lua_State *L)
{
    evaluation *e = lua_touserdata(L, 1);
    wd_policy_state *state = e->state;
    const wd_policy_set *set = state->set;
    int view = 0;
    char problem[512];
    size_t visits = e->trace != NULL ? set->rules.count : e->count;

    /* Two passes over the candidates: forbids, then permits. Permit names are recorded
    ** only while no forbid has applied; the permits still run, so their errors count. */
    for (int pass = 0; pass < 2; pass++) {
        wd_rule_effect effect = pass == 0 ? WD_RULE_FORBID : WD_RULE_PERMIT;
        for (size_t i = 0; i < visits; i++) {
            unsigned number = e->trace != NULL ? (unsigned)i : state->candidates[i];
            const wd_rule *rule = &state->list.rules[number];
            /* names come from the set, which the decision keeps alive; the state may go */
            const char *name = set->rules.rules[number].name;
            if (rule->effect != effect)
                continue;
            if (e->trace != NULL && !is_candidate(state->candidates, e->count, number)) {
                trace_entry(e, number, false);
                continue;
            }
            wd_rule_trace *entry = trace_entry(e, number, true);
            bool applies = true;
            if (rule->when != LUA_NOREF && rule->when != LUA_REFNIL) {
                if (view == 0) {
                    e->push_view(L, e->view_argument);
                    view = lua_gettop(L);
                }
                lua_rawgeti(L, LUA_REGISTRYINDEX, rule->when);
                lua_pushvalue(L, view);
                int64_t spent = 0;
                if (entry != NULL) {
                    e->trace->current = entry;
                    spent = wd_sandbox_spent(L);
                }
                int outcome = wd_sandbox_call(L, 1, 1, problem, sizeof problem);
                if (entry != NULL) {
                    e->trace->current = NULL;
                    entry->ran = true;
                    entry->instructions = wd_sandbox_spent(L) - spent;
                }
                if (outcome != WD_SANDBOX_OK) {
                    e->rule_reported = true;
                    if (add_error(e->out, name, problem) != 0)
                        e->out_of_memory = true;
                    if (entry != NULL && (entry->error = copy_text(problem)) == NULL)
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
                if (entry != NULL && (entry->returned = describe_value(L)) == NULL)
                    e->out_of_memory = true;
                lua_pop(L, 1);
            } else if (entry != NULL) {
                entry->ran = true;
            }
            if (entry != NULL)
                entry->applied = applies;
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

/* Lists the rules a limit kept from running (or all of them when no candidate matched), so
** that an explanation names every rule once. */
static void trace_rest(evaluation *e)
{
    wd_trace *trace = e->trace;
    const wd_policy_set *set = e->state->set;
    size_t total = set->rules.count;
    bool *seen = calloc(total + 1, sizeof *seen);
    if (seen == NULL) {
        trace->out_of_memory = true;
        return;
    }
    for (size_t i = 0; i < trace->count; i++)
        seen[trace->rules[i].rule] = true;
    for (int pass = 0; pass < 2; pass++) {
        wd_rule_effect effect = pass == 0 ? WD_RULE_FORBID : WD_RULE_PERMIT;
        for (size_t i = 0; i < total; i++) {
            if (seen[i] || e->state->list.rules[i].effect != effect)
                continue;
            trace_entry(e, (unsigned)i, is_candidate(e->state->candidates, e->count, (unsigned)i));
        }
    }
    free(seen);
}

int wd_decide(wd_policy_state *state, const char *action, size_t action_length, const char *operation,
              size_t operation_length, wd_view_pusher push_view_function, void *view_argument,
              wd_decision_outcome *out)
{
    return wd_decide_traced(state, action, action_length, operation, operation_length, push_view_function,
                            view_argument, out, NULL);
}

int wd_decide_traced(wd_policy_state *state, const char *action, size_t action_length, const char *operation,
                     size_t operation_length, wd_view_pusher push_view_function, void *view_argument,
                     wd_decision_outcome *out, wd_trace *trace)
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
    wd_sandbox_log_fn own_log = NULL;
    void *own_context = NULL;
    if (trace != NULL) {
        memset(trace, 0, sizeof *trace);
        trace->rules = calloc(set->rules.count + 1, sizeof *trace->rules);
        if (trace->rules == NULL) {
            trace->out_of_memory = true;
        } else {
            e.trace = trace;
            wd_sandbox_get_log(L, &own_log, &own_context);
            trace->forward_log = own_log;
            trace->forward_context = own_context;
            wd_sandbox_set_log(L, trace_log, trace);
            wd_sandbox_set_precise(L, true);
        }
    }
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
    if (e.trace != NULL) {
        wd_sandbox_set_precise(L, false);
        wd_sandbox_set_log(L, own_log, own_context);
        trace_rest(&e);
    }

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
