/*
** engine.c — warden_engine: made from a config (trust store, users, replay cache, policy
** set) and freed here, its one home (every lock and the thread key too; reloads use the same
** builders); it receives messages through the verification core and reports its status. Shared
** by all threads: everything it holds is immutable after warden_engine_new, or locks itself
** (caches, replay, the revision pointer).
*/
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/replay_cache.h"
#include "../core/trust_store.h"
#include "../core/users.h"
#include "../core/verifier.h"
#include "../core/xml_parse.h"
#include "config.h"
#include "config_schema.h"
#include "decision.h"
#include "engine.h"
#include "error.h"
#include "log_text.h"

/* Every line leaves escaped (log_text.h): rule names, error texts and policy log(...) text
** are quoted into these lines, and none of them may end a line or drive a terminal. */
static void engine_log_text(const warden_engine *engine, int level, const char *text, size_t length)
{
    char line[2048];
    wd_log_escape(text, length, line, sizeof line);
    if (engine->log != NULL) {
        engine->log(engine->log_context, level, line);
        return;
    }
    static const char *const levels[] = { "", "error", "warning", "info" };
    fprintf(stderr, "warden: %s: %s\n", level >= 1 && level <= 3 ? levels[level] : "log", line);
}

void wd_engine_log(const warden_engine *engine, int level, const char *format, ...)
{
    char line[1024];
    va_list args;
    va_start(args, format);
    int length = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (length < 0)
        return;
    engine_log_text(engine, level, line, (size_t)length < sizeof line ? (size_t)length : sizeof line - 1);
}

/* The policy's text is taken as bytes (a NUL in it is escaped, not an end). */
void wd_engine_policy_log(void *context, const char *line, size_t length)
{
    static const char prefix[] = "policy: ";
    char text[sizeof prefix - 1 + 900];
    size_t shown = length > 900 ? 900 : length;
    memcpy(text, prefix, sizeof prefix - 1);
    memcpy(text + sizeof prefix - 1, line, shown);
    engine_log_text(context, WARDEN_LOG_INFO, text, sizeof prefix - 1 + shown);
}

void wd_engine_sandbox_limits(const warden_config *config, wd_sandbox_limits *limits)
{
    limits->instructions = config->limit_instructions;
    limits->memory = (size_t)config->limit_memory;
    limits->time_ms = config->limit_time_ms;
    limits->string_bytes = (size_t)config->limit_string_bytes;
}

static int load_trust(const warden_config *config, wd_trust_store **out, warden_error *err)
{
    wd_trust_store *trust = NULL;
    char message[256] = "";
    int status = wd_trust_store_new(&trust);
    if (status != WARDEN_OK)
        return wd_error_set(err, status, "", "cannot make the trust store");
    for (size_t i = 0; i < config->trust.count; i++) {
        status = wd_trust_store_add_anchors(trust, config->trust.items[i], message, sizeof message);
        if (status != WARDEN_OK)
            goto failed;
    }
    for (size_t i = 0; i < config->certs.count; i++) {
        status = wd_trust_store_add_known(trust, config->certs.items[i], message, sizeof message);
        if (status != WARDEN_OK)
            goto failed;
    }
    /* after anchors and known certificates: a CRL's signature is checked against them */
    for (size_t i = 0; i < config->crls.count; i++) {
        status = wd_trust_store_add_crls(trust, config->crls.items[i], message, sizeof message);
        if (status != WARDEN_OK)
            goto failed;
    }
    status = wd_trust_store_require_eku(trust, (const char *const *)config->trust_eku.items, config->trust_eku.count,
                                        message, sizeof message);
    if (status != WARDEN_OK)
        goto failed;
    *out = trust;
    return WARDEN_OK;

failed:
    wd_trust_store_free(trust);
    return wd_error_set(err, status, "", "%s", message);
}

/* saml.issuers: each file's certificates are trust anchors (a self-signed IdP certificate
** anchors itself; a CA bundle anchors what it issued) and known certificates (found by an
** X509IssuerSerial, or used when an assertion's signature has no KeyInfo and there is one).
** NULL when none are configured. */
static int load_saml_issuers(const warden_config *config, wd_trust_store **out, warden_error *err)
{
    wd_trust_store *issuers = NULL;
    char message[256] = "";
    int status;

    *out = NULL;
    if (config->saml_issuers.count == 0)
        return WARDEN_OK;
    if ((status = wd_trust_store_new(&issuers)) != WARDEN_OK)
        return wd_error_set(err, status, "", "cannot make the SAML issuer trust store");
    for (size_t i = 0; i < config->saml_issuers.count; i++) {
        status = wd_trust_store_add_anchors(issuers, config->saml_issuers.items[i], message, sizeof message);
        if (status == WARDEN_OK)
            status = wd_trust_store_add_known(issuers, config->saml_issuers.items[i], message, sizeof message);
        if (status != WARDEN_OK) {
            wd_trust_store_free(issuers);
            return wd_error_set(err, status, "", "saml.issuers: %s", message);
        }
    }
    *out = issuers;
    return WARDEN_OK;
}

int wd_engine_build_verifier(const warden_config *config, wd_replay_cache *replay, wd_verifier **out,
                             warden_error *err)
{
    wd_trust_store *trust = NULL;
    wd_users *users = NULL;
    wd_settings settings;
    wd_failure failure = { 0 };
    int status;

    if ((status = load_trust(config, &trust, err)) != WARDEN_OK)
        return status;
    if (config->users != NULL) {
        char message[256] = "";
        status = wd_users_load(config->users, &users, message, sizeof message);
        if (status != WARDEN_OK) {
            wd_trust_store_free(trust);
            return wd_error_set(err, status, "", "%s", message);
        }
    }
    wd_recipient *recipient = NULL;
    if (config->decrypt_key != NULL || config->decrypt_cert != NULL) {
        char message[512] = "";
        if (config->decrypt_key == NULL || config->decrypt_cert == NULL)
            status = wd_error_set(err, WARDEN_E_CONFIG, "config", "decrypt.key and decrypt.cert go together");
        else if ((status = wd_recipient_load(config->decrypt_key, config->decrypt_cert, &recipient, message,
                                             sizeof message)) != WARDEN_OK)
            wd_error_set(err, status, status == WARDEN_E_CONFIG ? "config" : "", "%s", message);
        if (status != WARDEN_OK) {
            wd_trust_store_free(trust);
            wd_users_free(users);
            return status;
        }
    }
    wd_config_to_settings(config, &settings);
    /* the verifier takes over trust and users, even when it fails */
    status = wd_verifier_new(&settings, trust, users, config->password_callback, config->password_context,
                             replay, out, &failure);
    if (status != WARDEN_OK) {
        wd_recipient_free(recipient);
        wd_error_from_failure(err, &failure);
        return status;
    }
    wd_verifier_set_recipient(*out, recipient);
    wd_trust_store *issuers = NULL;
    if ((status = load_saml_issuers(config, &issuers, err)) == WARDEN_OK) {
        /* the verifier takes over issuers, even when it fails */
        status = wd_verifier_set_saml(*out, issuers, (const char *const *)config->saml_audiences.items,
                                      config->saml_audiences.count, config->saml_max_age, config->saml_validate,
                                      config->saml_validate_context);
        if (status != WARDEN_OK)
            wd_error_set(err, status, "", "out of memory");
    }
    if (status != WARDEN_OK) {
        wd_verifier_free(*out);
        *out = NULL;
    }
    return status;
}

/* Collects the names of the failing tests for the log and the error text. */
typedef struct failing_tests {
    warden_engine *engine;
    char           names[200];   /* "'a', 'b', ..." as far as it fits */
    size_t         count;
} failing_tests;

static void note_test(void *context, const warden_test_result *result)
{
    failing_tests *failing = context;
    if (result->passed)
        return;
    failing->count++;
    if (failing->engine != NULL)
        wd_engine_log(failing->engine, WARDEN_LOG_ERROR, "policy test failed: %s:%d: test '%s': %s", result->file,
                      result->line, result->name, result->text);
    size_t used = strlen(failing->names);
    if (used + 8 < sizeof failing->names)
        snprintf(failing->names + used, sizeof failing->names - used, "%s'%s'", used > 0 ? ", " : "", result->name);
}

int wd_engine_build_policies(warden_engine *engine, const warden_config *config, wd_policy_set **out,
                             warden_error *err)
{
    char error[512];
    wd_sandbox_limits limits;
    wd_policy_set *set = NULL;
    size_t passed = 0, failed = 0;

    *out = NULL;
    wd_engine_sandbox_limits(config, &limits);
    if (wd_policy_set_compile(config->policies, &limits, &set, error, sizeof error) != 0)
        return wd_error_set(err, WARDEN_E_POLICY, "", "%s", error);
    int status = WARDEN_OK;
    if (config->reload_tests != WD_TESTS_OFF) {
        failing_tests failing = { .engine = engine };
        status = wd_policy_tests_execute(config, set, NULL, note_test, &failing, &passed, &failed, err);
        if (status == WARDEN_OK && failed > 0 && config->reload_tests == WD_TESTS_GATE)
            status = wd_error_set(err, WARDEN_E_POLICY, "", "%zu of %zu policy tests failed in %s: %s",
                                  failed, passed + failed, config->policies, failing.names);
        else if (status == WARDEN_OK && failed > 0 && engine != NULL)
            wd_engine_log(engine, WARDEN_LOG_WARNING,
                          "%zu of %zu policy tests failed in %s; serving it anyway (reload.tests = \"report\"): %s",
                          failed, passed + failed, config->policies, failing.names);
    }
    if (status != WARDEN_OK) {
        wd_policy_set_unref(set);
        return status;
    }
    *out = set;
    return WARDEN_OK;
}

static int make_replay_cache(const warden_config *config, wd_replay_cache **out, warden_error *err)
{
    int status = WARDEN_OK;
    switch (config->replay_backend) {
    case WD_REPLAY_MEMORY:
        status = wd_replay_cache_new_memory((size_t)config->replay_entries, out);
        break;
    case WD_REPLAY_NONE:
        status = wd_replay_cache_new_none(out);
        break;
    case WD_REPLAY_REDIS: {
        char message[256] = "";
        status = wd_replay_cache_new_redis(config->replay_url, config->replay_prefix, (int)config->replay_timeout_ms,
                                           out, message, sizeof message);
        if (status == WARDEN_E_INVALID_ARG)
            return wd_error_set(err, WARDEN_E_CONFIG, "", "%s", message);
        break;
    }
    }
    if (status != WARDEN_OK)
        return wd_error_set(err, status, "", "cannot make the replay cache");
    return WARDEN_OK;
}

int warden_engine_new(const warden_config *config, warden_engine **out, warden_error *err)
{
    warden_engine *engine = NULL;
    int status;

    wd_error_clear(err);
    if (config == NULL || out == NULL)
        return wd_error_set(err, WARDEN_E_INVALID_ARG, "", "config and out must not be NULL");
    *out = NULL;
    wd_xml_initialise();

    engine = calloc(1, sizeof *engine);
    if (engine == NULL)
        return wd_error_set(err, WARDEN_E_NOMEM, "", "out of memory");
    /* Every lock and the thread key, here and only here (freed in warden_engine_free). */
    if (pthread_key_create(&engine->thread_key, wd_engine_thread_exited) != 0) {
        free(engine);
        return wd_error_set(err, WARDEN_E_INTERNAL, "", "cannot create a thread-specific key");
    }
    pthread_rwlock_init(&engine->verifier_lock, NULL);
    pthread_mutex_init(&engine->reload_lock, NULL);
    pthread_mutex_init(&engine->policy_lock, NULL);
    pthread_mutex_init(&engine->states_lock, NULL);
    pthread_mutex_init(&engine->decision_log_lock, NULL);
    engine->locks_ready = true;
    engine->log = config->log_callback;
    engine->log_context = config->log_context;
    engine->max_stale_s = config->reload_max_stale_s;
    if ((status = wd_config_copy(config, &engine->config)) != WARDEN_OK) {
        wd_error_set(err, status, "", "out of memory");
        goto failed;
    }
    if ((status = make_replay_cache(config, &engine->replay, err)) != WARDEN_OK)
        goto failed;
    if ((status = wd_engine_build_verifier(config, engine->replay, &engine->verifier, err)) != WARDEN_OK)
        goto failed;
    if (config->log_decisions != NULL) {
        engine->decision_log = strcmp(config->log_decisions, "-") == 0 ? stdout : fopen(config->log_decisions, "a");
        if (engine->decision_log == NULL) {
            status = wd_error_set(err, WARDEN_E_IO, "", "log.decisions: cannot open %s", config->log_decisions);
            goto failed;
        }
    }
    if (config->policies != NULL) {
        if ((status = wd_engine_build_policies(engine, config, &engine->policy_set, err)) != WARDEN_OK)
            goto failed;
        engine->policy_directory = strdup(config->policies);
        if (engine->policy_directory == NULL) {
            status = wd_error_set(err, WARDEN_E_NOMEM, "", "out of memory");
            goto failed;
        }
        atomic_store(&engine->generation, 1);
    }
    if ((status = wd_engine_watch_start(engine, err)) != WARDEN_OK)
        goto failed;
    *out = engine;
    return WARDEN_OK;

failed:
    warden_engine_free(engine);
    return status;
}

int warden_engine_open(const char *config_path, warden_engine **out, warden_error *err)
{
    warden_config *config = NULL;
    int status = warden_config_new(&config);
    if (status != WARDEN_OK)
        return wd_error_set(err, status, "", "cannot make a config");
    status = warden_config_load(config, config_path, err);
    if (status == WARDEN_OK)
        status = warden_engine_new(config, out, err);
    warden_config_free(config);
    return status;
}

void warden_engine_free(warden_engine *engine)
{
    if (engine == NULL)
        return;
    wd_engine_watch_stop(engine); /* no reload may run from here on */
    if (engine->locks_ready) {
        /* No destructor runs after the key is deleted; the states still alive are closed
        ** here. The caller guarantees no thread is deciding on this engine any more. */
        pthread_key_delete(engine->thread_key);
        wd_engine_states_free(engine);
    }
    wd_policy_set_unref(engine->policy_set);
    free(engine->policy_directory);
    if (engine->decision_log != NULL && engine->decision_log != stdout)
        fclose(engine->decision_log);
    wd_verifier_free(engine->verifier);
    wd_replay_cache_free(engine->replay);
    warden_config_free(engine->config);
    if (engine->locks_ready) {
        pthread_rwlock_destroy(&engine->verifier_lock);
        pthread_mutex_destroy(&engine->reload_lock);
        pthread_mutex_destroy(&engine->policy_lock);
        pthread_mutex_destroy(&engine->states_lock);
        pthread_mutex_destroy(&engine->decision_log_lock);
    }
    free(engine);
}

int warden_engine_status(warden_engine *engine, warden_status *caller)
{
    if (engine == NULL || caller == NULL || caller->size < sizeof caller->size)
        return WARDEN_E_INVALID_ARG;
    /* filled in full here, then copied as far as the caller's version of the struct goes */
    warden_status status, *out = &status;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&engine->policy_lock);
    if (engine->policy_set != NULL) {
        snprintf(out->revision, sizeof out->revision, "%s", engine->policy_set->source.files.revision);
        out->loaded_at = engine->policy_set->loaded_at;
    }
    out->reloads = engine->reloads;
    out->reload_failures = engine->reload_failures;
    snprintf(out->last_error, sizeof out->last_error, "%s", engine->last_error);
    out->last_error_at = engine->last_error_at;
    out->failing_since = atomic_load_explicit(&engine->failing_since, memory_order_relaxed);
    pthread_mutex_unlock(&engine->policy_lock);
    /* the same test the decisions make, so /health and "policy-stale" agree */
    out->stale = wd_engine_policy_stale(engine, (int64_t)time(NULL)) ? 1 : 0;
    static const char *const backends[] = { [WD_REPLAY_MEMORY] = "memory", [WD_REPLAY_REDIS] = "redis",
                                            [WD_REPLAY_NONE] = "none" };
    snprintf(out->replay_backend, sizeof out->replay_backend, "%s", backends[engine->config->replay_backend]);
    out->replay_entries = wd_replay_cache_size(engine->replay);
    size_t size = caller->size < sizeof status ? caller->size : sizeof status;
    status.size = caller->size;
    memcpy(caller, &status, size);
    return WARDEN_OK;
}

/* A rejected message is a deny decision at stage "security": with log.decisions set, it
** gets its line like every policy decision does (whoever called receive: `warden decide`,
** `warden verify`, an embedder). */
static void log_rejection(warden_engine *engine, const warden_error *err, const struct timespec *started)
{
    pthread_mutex_lock(&engine->policy_lock);
    wd_policy_set *set = engine->policy_set != NULL ? wd_policy_set_ref(engine->policy_set) : NULL;
    pthread_mutex_unlock(&engine->policy_lock);
    warden_decision *decision = NULL;
    if (wd_decision_new_rejection(err, set, &decision) == WARDEN_OK) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        wd_decision_facts_start(&decision->facts);
        decision->facts.latency_us = (int64_t)(now.tv_sec - started->tv_sec) * 1000000
                                     + (now.tv_nsec - started->tv_nsec) / 1000;
        wd_engine_log_decision(engine, decision);
        warden_decision_free(decision);
    }
    wd_policy_set_unref(set);
}

int warden_engine_receive(warden_engine *engine, const void *bytes, size_t len,
                          const warden_receive_options *opt, warden_message **out,
                          warden_error *err)
{
    wd_failure failure = { 0 };

    wd_error_clear(err);
    if (out != NULL)
        *out = NULL;
    if (engine == NULL || out == NULL || (bytes == NULL && len > 0))
        return wd_error_set(err, WARDEN_E_INVALID_ARG, "", "engine and out must not be NULL");
    struct timespec started = { 0, 0 };
    if (engine->decision_log != NULL)
        clock_gettime(CLOCK_MONOTONIC, &started);
    pthread_rwlock_rdlock(&engine->verifier_lock);
    int status = wd_verifier_receive(engine->verifier, bytes, len, opt, out, &failure);
    pthread_rwlock_unlock(&engine->verifier_lock);
    if (status == WARDEN_OK)
        return WARDEN_OK;
    warden_error local;
    if (err == NULL)
        err = &local;
    status = wd_error_from_failure(err, &failure);
    /* why a decryption failed: for the operator, never for the sender (decrypt.h) */
    if (failure.cause[0] != '\0')
        wd_engine_log(engine, WARDEN_LOG_WARNING, "%s: %s", err->reason, failure.cause);
    if (engine->decision_log != NULL && status == WARDEN_E_SECURITY)
        log_rejection(engine, err, &started);
    return status;
}

int warden_engine_keep_decision_facts(warden_engine *engine, int keep)
{
    if (engine == NULL)
        return WARDEN_E_INVALID_ARG;
    engine->keep_decision_facts = keep != 0;
    return WARDEN_OK;
}

int warden_engine_rejection(warden_engine *engine, const warden_error *err, int64_t latency_us,
                            warden_decision **out)
{
    if (out != NULL)
        *out = NULL;
    if (engine == NULL || err == NULL || out == NULL)
        return WARDEN_E_INVALID_ARG;
    pthread_mutex_lock(&engine->policy_lock);
    wd_policy_set *set = engine->policy_set != NULL ? wd_policy_set_ref(engine->policy_set) : NULL;
    pthread_mutex_unlock(&engine->policy_lock);
    int status = wd_decision_new_rejection(err, set, out);
    wd_policy_set_unref(set);
    if (status == WARDEN_OK) {
        wd_decision_facts_start(&(*out)->facts);
        (*out)->facts.latency_us = latency_us;
    }
    return status;
}

char *warden_decision_log_line(const warden_decision *decision, const char *remote)
{
    return wd_decision_log_line(decision, remote);
}
