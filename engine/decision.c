/*
** decision.c — warden_engine_decide and the decision object. Each deciding thread has its
** own Lua state (found through a thread-specific key), built on its first decision and
** rebuilt when the engine's revision changes; the decision path takes no lock. A state
** whose policies hit the memory cap is thrown away, so the next decision starts clean.
*/
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lua/decide.h"
#include "../lua/view.h"
#include "decision.h"
#include "engine.h"
#include "error.h"
#include "explain.h"

struct wd_thread_state {
    warden_engine   *engine;
    wd_policy_state *policy;
    uint64_t         generation;
    wd_thread_state *previous, *next;
};

static void forget_state(warden_engine *engine, wd_thread_state *state)
{
    pthread_mutex_lock(&engine->states_lock);
    if (state->previous != NULL)
        state->previous->next = state->next;
    else
        engine->states = state->next;
    if (state->next != NULL)
        state->next->previous = state->previous;
    pthread_mutex_unlock(&engine->states_lock);
}

/* Runs when a thread that decided exits. */
void wd_engine_thread_exited(void *opaque)
{
    wd_thread_state *state = opaque;
    forget_state(state->engine, state);
    wd_policy_state_free(state->policy);
    free(state);
}

void wd_engine_states_free(warden_engine *engine)
{
    wd_thread_state *state = engine->states;
    while (state != NULL) {
        wd_thread_state *next = state->next;
        wd_policy_state_free(state->policy);
        free(state);
        state = next;
    }
    engine->states = NULL;
}

static wd_thread_state *thread_state(warden_engine *engine, warden_error *err)
{
    wd_thread_state *state = pthread_getspecific(engine->thread_key);
    if (state != NULL)
        return state;
    state = calloc(1, sizeof *state);
    if (state == NULL) {
        wd_error_set(err, WARDEN_E_NOMEM, "", "out of memory");
        return NULL;
    }
    state->engine = engine;
    if (pthread_setspecific(engine->thread_key, state) != 0) {
        free(state);
        wd_error_set(err, WARDEN_E_NOMEM, "", "cannot keep a per-thread state");
        return NULL;
    }
    pthread_mutex_lock(&engine->states_lock);
    state->next = engine->states;
    if (engine->states != NULL)
        engine->states->previous = state;
    engine->states = state;
    pthread_mutex_unlock(&engine->states_lock);
    return state;
}

/* Makes sure the thread's Lua state is loaded with the current revision. */
static int current_policy(warden_engine *engine, wd_thread_state *state, warden_error *err)
{
    uint64_t generation = atomic_load_explicit(&engine->generation, memory_order_acquire);
    if (state->policy != NULL && state->generation == generation)
        return WARDEN_OK;
    pthread_mutex_lock(&engine->policy_lock);
    wd_policy_set *set = engine->policy_set != NULL ? wd_policy_set_ref(engine->policy_set) : NULL;
    generation = atomic_load_explicit(&engine->generation, memory_order_acquire);
    pthread_mutex_unlock(&engine->policy_lock);
    if (set == NULL)
        return wd_error_set(err, WARDEN_E_POLICY, "", "the engine has no policy set (set the config key \"policies\")");

    char error[512];
    wd_policy_state *policy = NULL;
    int status = wd_policy_state_new(set, wd_engine_policy_log, engine, &policy, error, sizeof error);
    if (status == 0 && policy->list.count != set->rules.count) {
        /* loading is deterministic; a difference means the files changed under us */
        wd_policy_state_free(policy);
        policy = NULL;
        snprintf(error, sizeof error, "the policy files declared different rules than when compiled");
        status = -1;
    }
    wd_policy_set_unref(set);
    if (status != 0)
        return wd_error_set(err, WARDEN_E_POLICY, "", "%s", error);
    wd_policy_state_free(state->policy);
    state->policy = policy;
    state->generation = generation;
    return WARDEN_OK;
}

static void push_message_view(lua_State *L, void *message)
{
    wd_view_push_message(L, message);
}

static double monotonic_microseconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* Writes a decision's log line to log.decisions (one line, flushed, under the log's lock). */
void wd_engine_log_decision(warden_engine *engine, const warden_decision *decision)
{
    char *text = wd_decision_log_line(decision, NULL);
    if (text == NULL) {
        wd_engine_log(engine, WARDEN_LOG_ERROR, "log.decisions: out of memory, a decision was not logged");
        return;
    }
    pthread_mutex_lock(&engine->decision_log_lock);
    fputs(text, engine->decision_log);
    fputc('\n', engine->decision_log);
    fflush(engine->decision_log);
    pthread_mutex_unlock(&engine->decision_log_lock);
    free(text);
}

static int decide(warden_engine *engine, const warden_message *message, bool explain, warden_decision **out,
                  warden_error *err)
{
    wd_error_clear(err);
    if (out != NULL)
        *out = NULL;
    if (engine == NULL || message == NULL || out == NULL)
        return wd_error_set(err, WARDEN_E_INVALID_ARG, "", "engine, message and out must not be NULL");
    bool keep_facts = engine->decision_log != NULL || engine->keep_decision_facts;
    double started = keep_facts ? monotonic_microseconds() : 0;

    wd_thread_state *state = thread_state(engine, err);
    if (state == NULL)
        return err != NULL ? err->code : WARDEN_E_NOMEM;
    int status = current_policy(engine, state, err);
    if (status != WARDEN_OK)
        return status;

    warden_decision *decision = calloc(1, sizeof *decision);
    if (decision == NULL)
        return wd_error_set(err, WARDEN_E_NOMEM, "", "out of memory");
    decision->stage = "policy";
    decision->set = wd_policy_set_ref(state->policy->set);
    if (keep_facts)
        wd_decision_facts_from_message(&decision->facts, message);
    wd_trace trace = { 0 };

    if (engine->max_stale_s > 0 && wd_engine_policy_stale(engine, (int64_t)time(NULL))) {
        /* reloads have been failing for too long: the revision serving may be out of date */
        wd_decision_outcome_clear(&decision->outcome);
        decision->outcome.reason = "policy-stale";
        decision->outcome.allowed = false;
    } else {
        warden_string action = { NULL, 0 }, operation = { NULL, 0 };
        warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_ACTION, &action, sizeof action);
        warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_OPERATION, &operation, sizeof operation);
        wd_decide_traced(state->policy, action.data, action.length, operation.data, operation.length,
                         push_message_view, (void *)message, &decision->outcome, explain ? &trace : NULL);
        if (explain) {
            if (!trace.out_of_memory)
                decision->explanation = wd_explanation_json(&trace, decision->set);
            wd_trace_clear(&trace);
        }
    }
    if (decision->outcome.memory_limit) {
        /* the state hit its memory cap: whatever the policies keep between decisions may
        ** fill it again, so the next decision starts from a fresh state. (Instruction and
        ** time limits leave the state usable; rebuilding on those would let a message that
        ** trips them cost a full policy load each time.) */
        wd_policy_state_free(state->policy);
        state->policy = NULL;
    }
    if (keep_facts)
        decision->facts.latency_us = (int64_t)(monotonic_microseconds() - started);
    if (engine->decision_log != NULL)
        wd_engine_log_decision(engine, decision);
    *out = decision;
    return WARDEN_OK;
}

int warden_engine_decide(warden_engine *engine, const warden_message *message, warden_decision **out,
                         warden_error *err)
{
    return decide(engine, message, false, out, err);
}

int warden_engine_explain(warden_engine *engine, const warden_message *message, warden_decision **out,
                          warden_error *err)
{
    return decide(engine, message, true, out, err);
}

const char *warden_decision_explanation(const warden_decision *decision)
{
    return decision != NULL ? decision->explanation : NULL;
}

int warden_decision_allowed(const warden_decision *decision)
{
    return decision != NULL && decision->outcome.allowed ? 1 : 0;
}

const char *warden_decision_stage(const warden_decision *decision)
{
    return decision != NULL ? decision->stage : NULL;
}

const char *warden_decision_reason(const warden_decision *decision)
{
    return decision != NULL ? decision->outcome.reason : NULL;
}

const char *warden_decision_revision(const warden_decision *decision)
{
    if (decision == NULL)
        return NULL;
    return decision->set != NULL ? decision->set->source.files.revision : "";
}

size_t warden_decision_rule_count(const warden_decision *decision)
{
    return decision != NULL ? decision->outcome.rule_count : 0;
}

const char *warden_decision_rule(const warden_decision *decision, size_t i)
{
    if (decision == NULL || i >= decision->outcome.rule_count)
        return NULL;
    return decision->outcome.rules[i];
}

size_t warden_decision_error_count(const warden_decision *decision)
{
    return decision != NULL ? decision->outcome.error_count : 0;
}

const char *warden_decision_error(const warden_decision *decision, size_t i)
{
    if (decision == NULL || i >= decision->outcome.error_count)
        return NULL;
    return decision->outcome.errors[i];
}

void warden_decision_free(warden_decision *decision)
{
    if (decision == NULL)
        return;
    wd_decision_outcome_clear(&decision->outcome);
    wd_policy_set_unref(decision->set);
    if (decision->facts.kept) /* the serving path without a decision log kept none */
        wd_decision_facts_clear(&decision->facts);
    free(decision->detail);
    free(decision->explanation);
    free(decision);
}
