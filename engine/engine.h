/*
** engine.h — struct warden_engine, shared by the engine/ files: the verifier, the current
** policy revision, the per-thread policy states, and the engine's logs. engine.c makes and
** frees it (every lock and the thread key included); reload.c swaps what it holds;
** decision.c decides with it.
*/
#ifndef WD_ENGINE_ENGINE_H
#define WD_ENGINE_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../core/verifier.h"
#include "../include/warden.h"
#include "../lua/policy_set.h"
#include "../lua/policy_state.h"

typedef struct wd_thread_state wd_thread_state;

struct wd_watch;

struct warden_engine {
    warden_config    *config;                /* deep copy: reloads rebuild from it */
    wd_replay_cache  *replay;                /* one cache for the engine's life, across reloads */
    /* Receives hold the verifier lock shared for the length of one verification; a reload
    ** of the trust material swaps the verifier under it exclusively. */
    pthread_rwlock_t  verifier_lock;
    wd_verifier      *verifier;
    /* The current revision. Readers that already hold a state for the current generation
    ** never touch the lock: they compare generations (one atomic load). */
    pthread_mutex_t   policy_lock;
    wd_policy_set    *policy_set;            /* NULL without a policy directory */
    atomic_uint_least64_t generation;
    char             *policy_directory;
    /* Each deciding thread's Lua state, found through a thread-specific key; all of them are
    ** also on a list so that warden_engine_free can close the ones whose threads live on. */
    pthread_key_t     thread_key;
    pthread_mutex_t   states_lock;
    wd_thread_state  *states;
    /* reloads: one at a time; the status fields are guarded by policy_lock */
    pthread_mutex_t   reload_lock;
    struct wd_watch  *watch;                 /* NULL when not watching */
    uint64_t          reloads, reload_failures;
    char              last_error[256];
    int64_t           last_error_at;
    _Atomic int64_t   failing_since;         /* first failure since the last success; 0 = none */
    int64_t           max_stale_s;           /* reload.max_stale_s; 0 = off */
    bool              locks_ready;           /* the locks and thread_key exist */
    /* logs */
    warden_log_fn     log;
    void             *log_context;
    FILE             *decision_log;          /* log.decisions, or NULL */
    /* Decisions keep their log facts (decision.h) even without decision_log: for a server
    ** that builds the lines itself (wd_decision_log_line with the remote address) and
    ** queues them. */
    bool              keep_decision_facts;
    pthread_mutex_t   decision_log_lock;
};

/* Writes one line to the engine's log (printf-style), control characters escaped. */
void wd_engine_log(const warden_engine *engine, int level, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* For the sandbox: a policy's log(...) line. context is the engine. */
void wd_engine_policy_log(void *context, const char *line, size_t length);

/* The thread-specific key's destructor (decision.c): closes an exiting thread's state. */
void wd_engine_thread_exited(void *thread_state);

/* Writes a decision's line (decision_log.c) to log.decisions; the engine must have one. */
void wd_engine_log_decision(warden_engine *engine, const warden_decision *decision);

/* Closes every thread's policy state still alive (their threads live on). The caller
** guarantees no thread is deciding on this engine any more. */
void wd_engine_states_free(warden_engine *engine);

/* Builds a verifier from config's trust material (CA bundles, known certificates, users file)
** over replay (not owned: it must outlive the verifier). Used by engine construction, reloads
** and envelope policy tests (each with a fresh cache). Returns WARDEN_OK or an error code
** with err. */
int wd_engine_build_verifier(const warden_config *config, wd_replay_cache *replay, wd_verifier **out,
                             warden_error *err);

/* Compiles config's policy directory and runs its tests as reload.tests says: "gate" refuses
** a set whose tests fail (err names them), "report" keeps it and logs the failures, "off"
** runs none. Each failing test is also logged through engine (may be NULL: no log).
** Returns WARDEN_OK with *out holding one reference, or WARDEN_E_POLICY (and others) with err. */
int wd_engine_build_policies(warden_engine *engine, const warden_config *config, wd_policy_set **out,
                             warden_error *err);

/* Starts watching the policy directory and the trust files when the config asks for it. */
int wd_engine_watch_start(warden_engine *engine, warden_error *err);
void wd_engine_watch_stop(warden_engine *engine);

/* True when reloads have been failing for longer than reload.max_stale_s at time now. */
bool wd_engine_policy_stale(warden_engine *engine, int64_t now);

/* Runs the policy tests of set with config's verification settings. Fills passed/failed;
** report may be NULL. Returns WARDEN_OK when the tests ran, or an error code with err. */
int wd_policy_tests_run(const warden_config *config, wd_policy_set *set, warden_report_fn report,
                        void *context, size_t *passed, size_t *failed, warden_error *err);

/* The test runner behind warden_policy_run_tests (options may be NULL: every test, no
** coverage); wd_policy_tests_run is the same with the one-line reports of warden_policy_test. */
int wd_policy_tests_execute(const warden_config *config, wd_policy_set *set, const warden_test_options *options,
                            warden_test_fn report, void *context, size_t *passed, size_t *failed, warden_error *err);

/* The sandbox limits of a config. */
void wd_engine_sandbox_limits(const warden_config *config, wd_sandbox_limits *limits);

#endif
