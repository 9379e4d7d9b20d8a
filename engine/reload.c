/*
** reload.c — hot reload: building a new revision (policy files compiled, targets indexed,
** policy tests run) and new trust material (CA bundles, known certificates, CRLs, users file) off
** the decision path, with the builders engine construction uses (engine.c), and swapping them
** in only when all of it succeeded. A failed reload
** keeps the current revision serving and is reported: a log line, the status, a counter.
** Also the file watcher that triggers reloads, and the staleness bound.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "engine.h"
#include "error.h"
#include "watch.h"

static void record_failure(warden_engine *engine, const warden_error *err)
{
    int64_t now = (int64_t)time(NULL);
    pthread_mutex_lock(&engine->policy_lock);
    engine->reload_failures++;
    snprintf(engine->last_error, sizeof engine->last_error, "%s", err->text);
    engine->last_error_at = now;
    if (engine->failing_since == 0)
        engine->failing_since = now;
    pthread_mutex_unlock(&engine->policy_lock);
    wd_engine_log(engine, WARDEN_LOG_ERROR, "reload failed, the current revision keeps serving: %s", err->text);
}

int warden_engine_reload(warden_engine *engine, warden_error *err)
{
    wd_policy_set *set = NULL;
    wd_verifier *verifier = NULL;
    warden_error local;
    int status;

    if (err == NULL)
        err = &local;
    wd_error_clear(err);
    if (engine == NULL)
        return wd_error_set(err, WARDEN_E_INVALID_ARG, "", "engine must not be NULL");

    pthread_mutex_lock(&engine->reload_lock);
    /* everything new is built first, with no lock that a decision or a receive would wait on */
    status = wd_engine_build_verifier(engine->config, engine->replay, &verifier, err);
    if (status == WARDEN_OK && engine->policy_directory != NULL)
        status = wd_engine_build_policies(engine, engine->config, &set, err);
    if (status != WARDEN_OK) {
        wd_verifier_free(verifier);
        record_failure(engine, err);
        pthread_mutex_unlock(&engine->reload_lock);
        return status;
    }

    /* swap: receives wait only for the pointer exchange; decisions not at all (they compare
    ** generations and pick the new revision up at their next start) */
    pthread_rwlock_wrlock(&engine->verifier_lock);
    wd_verifier *old_verifier = engine->verifier;
    engine->verifier = verifier;
    pthread_rwlock_unlock(&engine->verifier_lock);
    wd_verifier_free(old_verifier);

    wd_policy_set *old_set = NULL;
    bool changed = false;
    pthread_mutex_lock(&engine->policy_lock);
    if (set != NULL) {
        changed = engine->policy_set == NULL
                  || strcmp(engine->policy_set->source.files.revision, set->source.files.revision) != 0;
        if (changed) {
            old_set = engine->policy_set;
            engine->policy_set = set;
            set = NULL;
            atomic_fetch_add_explicit(&engine->generation, 1, memory_order_acq_rel);
        }
    }
    engine->reloads++;
    engine->last_error[0] = '\0';
    engine->failing_since = 0;
    const char *revision = engine->policy_set != NULL ? engine->policy_set->source.files.revision : "";
    char revision_copy[80];
    snprintf(revision_copy, sizeof revision_copy, "%s", revision);
    pthread_mutex_unlock(&engine->policy_lock);
    wd_policy_set_unref(old_set); /* freed when its last decision or state lets go */
    wd_policy_set_unref(set);     /* an unchanged revision: the new copy is not needed */
    pthread_mutex_unlock(&engine->reload_lock);
    wd_engine_log(engine, WARDEN_LOG_INFO, "reloaded: %s%s", revision_copy[0] ? revision_copy : "trust material",
                  changed ? "" : " (policies unchanged)");
    return WARDEN_OK;
}

bool wd_engine_policy_stale(warden_engine *engine, int64_t now)
{
    if (engine->max_stale_s <= 0)
        return false;
    int64_t since = atomic_load_explicit(&engine->failing_since, memory_order_relaxed);
    return since != 0 && now - since > engine->max_stale_s;
}

/* ---- watching ----------------------------------------------------------------------- */

static void files_changed(void *context)
{
    warden_engine *engine = context;
    warden_engine_reload(engine, NULL); /* failures are logged and recorded in the status */
}

int wd_engine_watch_start(warden_engine *engine, warden_error *err)
{
    const warden_config *config = engine->config;
    if (!config->reload_watch || config->policies == NULL)
        return WARDEN_OK;
    const char *files[516]; /* 510 listed files at most, then the users file and the key pair */
    size_t file_count = 0;
    for (size_t i = 0; i < config->trust.count && file_count < 500; i++)
        files[file_count++] = config->trust.items[i];
    for (size_t i = 0; i < config->certs.count && file_count < 510; i++)
        files[file_count++] = config->certs.items[i];
    for (size_t i = 0; i < config->crls.count && file_count < 510; i++)
        files[file_count++] = config->crls.items[i];
    for (size_t i = 0; i < config->saml_issuers.count && file_count < 510; i++)
        files[file_count++] = config->saml_issuers.items[i];
    if (config->users != NULL)
        files[file_count++] = config->users;
    if (config->decrypt_key != NULL)
        files[file_count++] = config->decrypt_key;
    if (config->decrypt_cert != NULL)
        files[file_count++] = config->decrypt_cert;
    const char *directories[1] = { config->policies };
    wd_watch_options options = {
        .directories = directories, .directory_count = 1,
        .files = files, .file_count = file_count,
        .debounce_ms = (int)config->reload_debounce_ms, .poll_ms = 1000,
    };
    char error[256];
    if (wd_watch_start(&options, files_changed, engine, &engine->watch, error, sizeof error) != 0)
        return wd_error_set(err, WARDEN_E_IO, "", "cannot watch %s: %s", config->policies, error);
    return WARDEN_OK;
}

void wd_engine_watch_stop(warden_engine *engine)
{
    wd_watch_stop(engine->watch);
    engine->watch = NULL;
}
