/*
** engine.c — warden_engine: made from a config (trust store, users, replay cache), it
** receives messages through the verification core. Shared by all threads: everything it
** holds is immutable after warden_engine_new, or locks itself (caches, replay).
*/
#include <libxml/parser.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../core/replay_cache.h"
#include "../core/trust_store.h"
#include "../core/users.h"
#include "../core/verifier.h"
#include "config.h"
#include "error.h"

struct warden_engine {
    wd_verifier *verifier;
};

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
    *out = trust;
    return WARDEN_OK;

failed:
    wd_trust_store_free(trust);
    return wd_error_set(err, status, "", "%s", message);
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
    case WD_REPLAY_REDIS:
        return wd_error_set(err, WARDEN_E_CONFIG, "",
                            "replay.backend: \"redis\" is not available in this version of Warden "
                            "(use \"memory\" or \"none\")");
    }
    if (status != WARDEN_OK)
        return wd_error_set(err, status, "", "cannot make the replay cache");
    return WARDEN_OK;
}

/* libxml2 2.9 must initialise its tables once, before threads parse; pthread_once makes
** that safe whichever thread makes the first engine. */
static pthread_once_t xml_initialised = PTHREAD_ONCE_INIT;

static void initialise_xml(void)
{
    xmlInitParser();
}

int warden_engine_new(const warden_config *config, warden_engine **out, warden_error *err)
{
    wd_trust_store *trust = NULL;
    wd_users *users = NULL;
    wd_replay_cache *replay = NULL;
    warden_engine *engine = NULL;
    wd_settings settings;
    wd_failure failure = { 0 };
    int status;

    wd_error_clear(err);
    if (config == NULL || out == NULL)
        return wd_error_set(err, WARDEN_E_INVALID_ARG, "", "config and out must not be NULL");
    *out = NULL;
    pthread_once(&xml_initialised, initialise_xml);

    if ((status = load_trust(config, &trust, err)) != WARDEN_OK)
        goto failed;
    if (config->users != NULL) {
        char message[256] = "";
        status = wd_users_load(config->users, &users, message, sizeof message);
        if (status != WARDEN_OK) {
            wd_error_set(err, status, "", "%s", message);
            goto failed;
        }
    }
    if ((status = make_replay_cache(config, &replay, err)) != WARDEN_OK)
        goto failed;

    engine = calloc(1, sizeof *engine);
    if (engine == NULL) {
        status = wd_error_set(err, WARDEN_E_NOMEM, "", "out of memory");
        goto failed;
    }
    wd_config_to_settings(config, &settings);
    /* the verifier takes over trust, users and replay, even when it fails */
    status = wd_verifier_new(&settings, trust, users, config->password_callback,
                             config->password_context, replay, &engine->verifier, &failure);
    trust = NULL;
    users = NULL;
    replay = NULL;
    if (status != WARDEN_OK) {
        wd_error_from_failure(err, &failure);
        goto failed;
    }
    *out = engine;
    return WARDEN_OK;

failed:
    wd_trust_store_free(trust);
    wd_users_free(users);
    wd_replay_cache_free(replay);
    free(engine);
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
    wd_verifier_free(engine->verifier);
    free(engine);
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
    int status = wd_verifier_receive(engine->verifier, bytes, len, opt, out, &failure);
    if (status != WARDEN_OK)
        return wd_error_from_failure(err, &failure);
    return WARDEN_OK;
}
