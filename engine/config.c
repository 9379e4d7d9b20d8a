/*
** config.c — the warden_config handle: its defaults (docs/reference.md, Configuration), the
** schema of every key shared with the config file loader, warden_config_set (values as text),
** the password callback, and the mapping to the verification core's wd_settings.
*/
#include "config.h"
#include "error.h"
#include "config_schema.h"
#include "invariant.h"
#include "../lua/sandbox.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Limits that end up in size_t fields must fit one, on any platform. */
#define WD_SIZE_MAX_I64 ((uint64_t)SIZE_MAX < (uint64_t)INT64_MAX ? (int64_t)SIZE_MAX : INT64_MAX)

/* ---------------------------------------------------------------------------------------
** The schema
*/

static const char *const timestamp_choices[] = { "when-signed", "always", "never", NULL };
static const char *const backend_choices[] = { "memory", "redis", "none", NULL };
static const char *const when_full_choices[] = { "drop", "block", NULL };
static const char *const tests_choices[] = { "gate", "report", "off", NULL };
static const char *const pass_get_choices[] = { "none", "wsdl", "all", NULL };

/* The choice tables list names in the order of the enums' values; the setters keep the
** enum's storage size out of the schema. */
static void set_require_timestamp(warden_config *config, int index)
{
    static const wd_timestamp_requirement values[] = { WD_TIMESTAMP_WHEN_SIGNED, WD_TIMESTAMP_ALWAYS,
                                                       WD_TIMESTAMP_NEVER };
    WD_ASSERT(index >= 0 && (size_t)index < sizeof values / sizeof values[0]);
    config->require_timestamp = values[index];
}

static void set_replay_backend(warden_config *config, int index)
{
    static const wd_replay_backend_kind values[] = { WD_REPLAY_MEMORY, WD_REPLAY_REDIS, WD_REPLAY_NONE };
    WD_ASSERT(index >= 0 && (size_t)index < sizeof values / sizeof values[0]);
    config->replay_backend = values[index];
}

static void set_log_when_full(warden_config *config, int index)
{
    config->log_when_full_block = index == 1;
}

static void set_reload_tests(warden_config *config, int index)
{
    static const wd_reload_tests values[] = { WD_TESTS_GATE, WD_TESTS_REPORT, WD_TESTS_OFF };
    config->reload_tests = values[index];
}

static void set_serve_pass_get(warden_config *config, int index)
{
    WD_ASSERT(index >= 0 && index <= 2);
    config->serve_pass_get = index;
}

#define FIELD(f) offsetof(warden_config, f)
/* Time values are capped at 68 years so the core's "now + ttl" arithmetic cannot overflow;
** depth, attributes and min_rsa_bits land in int fields. */
static const wd_config_key schema[] = {
    { "trust", WD_CONFIG_PATH_LIST, FIELD(trust), 0, 0, NULL, NULL },
    { "certs", WD_CONFIG_PATH_LIST, FIELD(certs), 0, 0, NULL, NULL },
    { "crls", WD_CONFIG_PATH_LIST, FIELD(crls), 0, 0, NULL, NULL },
    { "trust.eku", WD_CONFIG_NAME_LIST, FIELD(trust_eku), 0, 0, NULL, NULL },
    { "users", WD_CONFIG_PATH, FIELD(users), 0, 0, NULL, NULL },
    { "policies", WD_CONFIG_PATH, FIELD(policies), 0, 0, NULL, NULL },
    { "actor", WD_CONFIG_STRING, FIELD(actor), 0, 0, NULL, NULL },
    { "require.token", WD_CONFIG_BOOL, FIELD(require_token), 0, 0, NULL, NULL },
    { "require.signed", WD_CONFIG_NAME_LIST, FIELD(require_signed), 0, 0, NULL, NULL },
    { "require.timestamp", WD_CONFIG_CHOICE, 0, 0, 0, timestamp_choices, set_require_timestamp },
    { "require.encrypted", WD_CONFIG_NAME_LIST, FIELD(require_encrypted), 0, 0, NULL, NULL },
    { "decrypt.key", WD_CONFIG_PATH, FIELD(decrypt_key), 0, 0, NULL, NULL },
    { "decrypt.cert", WD_CONFIG_PATH, FIELD(decrypt_cert), 0, 0, NULL, NULL },
    { "decrypt.allow_cbc", WD_CONFIG_BOOL, FIELD(decrypt_allow_cbc), 0, 0, NULL, NULL },
    { "decrypt.allow_rsa15", WD_CONFIG_BOOL, FIELD(decrypt_allow_rsa15), 0, 0, NULL, NULL },
    { "algorithms.allow_sha1", WD_CONFIG_BOOL, FIELD(allow_sha1), 0, 0, NULL, NULL },
    { "algorithms.min_rsa_bits", WD_CONFIG_INT, FIELD(min_rsa_bits), 1024, INT_MAX, NULL, NULL },
    { "clock.ttl", WD_CONFIG_INT, FIELD(ttl), 0, INT32_MAX, NULL, NULL },
    { "clock.future_ttl", WD_CONFIG_INT, FIELD(future_ttl), 0, INT32_MAX, NULL, NULL },
    { "clock.skew", WD_CONFIG_INT, FIELD(skew), 0, INT32_MAX, NULL, NULL },
    { "username.require_nonce", WD_CONFIG_BOOL, FIELD(username_require_nonce), 0, 0, NULL, NULL },
    { "saml.issuers", WD_CONFIG_PATH_LIST, FIELD(saml_issuers), 0, 0, NULL, NULL },
    { "saml.audiences", WD_CONFIG_NAME_LIST, FIELD(saml_audiences), 0, 0, NULL, NULL },
    { "saml.max_age", WD_CONFIG_INT, FIELD(saml_max_age), 1, INT32_MAX, NULL, NULL },
    { "replay.backend", WD_CONFIG_CHOICE, 0, 0, 0, backend_choices, set_replay_backend },
    { "replay.entries", WD_CONFIG_INT, FIELD(replay_entries), 1, INT32_MAX, NULL, NULL },
    { "replay.url", WD_CONFIG_STRING, FIELD(replay_url), 0, 0, NULL, NULL },
    { "replay.prefix", WD_CONFIG_STRING, FIELD(replay_prefix), 0, 0, NULL, NULL },
    { "replay.timeout_ms", WD_CONFIG_INT, FIELD(replay_timeout_ms), 1, INT32_MAX, NULL, NULL },
    { "limits.message_bytes", WD_CONFIG_INT, FIELD(limit_message_bytes), 1, WD_SIZE_MAX_I64, NULL, NULL },
    { "limits.depth", WD_CONFIG_INT, FIELD(limit_depth), 1, INT_MAX, NULL, NULL },
    { "limits.attributes", WD_CONFIG_INT, FIELD(limit_attributes), 1, INT_MAX, NULL, NULL },
    { "limits.text_bytes", WD_CONFIG_INT, FIELD(limit_text_bytes), 1, WD_SIZE_MAX_I64, NULL, NULL },
    { "limits.signatures", WD_CONFIG_INT, FIELD(limit_signatures), 1, 64, NULL, NULL }, /* a Security header holds 64 children at most */
    { "limits.references", WD_CONFIG_INT, FIELD(limit_references), 1, 1024, NULL, NULL },
    { "limits.transforms", WD_CONFIG_INT, FIELD(limit_transforms), 1, 16, NULL, NULL },
    { "limits.instructions", WD_CONFIG_INT, FIELD(limit_instructions), 1, INT64_MAX, NULL, NULL },
    { "limits.memory", WD_CONFIG_INT, FIELD(limit_memory), 1, WD_SIZE_MAX_I64, NULL, NULL },
    { "limits.time_ms", WD_CONFIG_INT, FIELD(limit_time_ms), 1, INT32_MAX, NULL, NULL },
    { "limits.string_bytes", WD_CONFIG_INT, FIELD(limit_string_bytes), 1, WD_SIZE_MAX_I64, NULL, NULL },
    { "reload.watch", WD_CONFIG_BOOL, FIELD(reload_watch), 0, 0, NULL, NULL },
    { "reload.debounce_ms", WD_CONFIG_INT, FIELD(reload_debounce_ms), 0, INT32_MAX, NULL, NULL },
    { "reload.max_stale_s", WD_CONFIG_OPT_INT, FIELD(reload_max_stale_s), 1, INT32_MAX, NULL, NULL },
    { "reload.tests", WD_CONFIG_CHOICE, 0, 0, 0, tests_choices, set_reload_tests },
    { "log.decisions", WD_CONFIG_PATH, FIELD(log_decisions), 0, 0, NULL, NULL },
    { "log.queue", WD_CONFIG_INT, FIELD(log_queue), 1, 16777216, NULL, NULL },
    { "log.when_full", WD_CONFIG_CHOICE, 0, 0, 0, when_full_choices, set_log_when_full },
    { "log.flush_ms", WD_CONFIG_INT, FIELD(log_flush_ms), 0, 60000, NULL, NULL },
    { "serve.listen", WD_CONFIG_NAME_LIST, FIELD(serve_listen), 0, 0, NULL, NULL },
    { "serve.tls.cert", WD_CONFIG_PATH, FIELD(serve_tls_cert), 0, 0, NULL, NULL },
    { "serve.tls.key", WD_CONFIG_PATH, FIELD(serve_tls_key), 0, 0, NULL, NULL },
    { "serve.tls.client_ca", WD_CONFIG_PATH, FIELD(serve_tls_client_ca), 0, 0, NULL, NULL },
    { "serve.tls.crls", WD_CONFIG_PATH_LIST, FIELD(serve_tls_crls), 0, 0, NULL, NULL },
    { "serve.tls.require_client_cert", WD_CONFIG_BOOL, FIELD(serve_tls_require_client_cert), 0, 0, NULL, NULL },
    { "serve.upstream", WD_CONFIG_STRING, FIELD(serve_upstream), 0, 0, NULL, NULL },
    { "serve.threads", WD_CONFIG_INT, FIELD(serve_threads), 0, 1024, NULL, NULL },
    { "serve.timeouts.read_ms", WD_CONFIG_INT, FIELD(serve_read_ms), 1, INT32_MAX, NULL, NULL },
    { "serve.timeouts.request_ms", WD_CONFIG_INT, FIELD(serve_request_ms), 1, INT32_MAX, NULL, NULL },
    { "serve.timeouts.upstream_ms", WD_CONFIG_INT, FIELD(serve_upstream_ms), 1, INT32_MAX, NULL, NULL },
    { "serve.timeouts.drain_ms", WD_CONFIG_INT, FIELD(serve_drain_ms), 0, INT32_MAX, NULL, NULL },
    { "serve.pass_get", WD_CONFIG_CHOICE, 0, 0, 0, pass_get_choices, set_serve_pass_get },
    { "serve.upstream_keepalive", WD_CONFIG_INT, FIELD(serve_upstream_keepalive), 0, 4096, NULL, NULL },
};
#undef FIELD

#define SCHEMA_SIZE (sizeof schema / sizeof schema[0])

const wd_config_key *wd_config_key_find(const char *name, size_t length)
{
    for (size_t i = 0; i < SCHEMA_SIZE; i++) {
        if (strlen(schema[i].name) == length && memcmp(schema[i].name, name, length) == 0)
            return &schema[i];
    }
    return NULL;
}

bool wd_config_is_section(const char *name, size_t length)
{
    /* nested sections ("serve.tls") are sections too */
    if (length == 0 || name[length - 1] == '.')
        return false;
    for (size_t i = 0; i < SCHEMA_SIZE; i++) {
        if (strncmp(schema[i].name, name, length) == 0 && schema[i].name[length] == '.')
            return true;
    }
    return false;
}

void wd_config_expected(const wd_config_key *key, char *out, size_t size)
{
    switch (key->kind) {
    case WD_CONFIG_BOOL:
        snprintf(out, size, "a boolean");
        break;
    case WD_CONFIG_INT:
    case WD_CONFIG_OPT_INT:
        if (key->min == 0)
            snprintf(out, size, "a non-negative integer");
        else if (key->min == 1)
            snprintf(out, size, "a positive integer");
        else
            snprintf(out, size, "an integer >= %" PRId64, key->min);
        break;
    case WD_CONFIG_STRING:
    case WD_CONFIG_PATH:
        snprintf(out, size, "a string");
        break;
    case WD_CONFIG_PATH_LIST:
        snprintf(out, size, "a string or a list of strings");
        break;
    case WD_CONFIG_NAME_LIST:
        snprintf(out, size, "a list of strings");
        break;
    case WD_CONFIG_CHOICE: {
        size_t used = 0;
        out[0] = '\0';
        for (size_t i = 0; key->choices[i] != NULL && used < size; i++) {
            const char *sep = i == 0 ? "" : key->choices[i + 1] == NULL ? " or " : ", ";
            int n = snprintf(out + used, size - used, "%s\"%s\"", sep, key->choices[i]);
            if (n < 0)
                break;
            used += (size_t)n;
        }
        break;
    }
    }
}

/* ---------------------------------------------------------------------------------------
** Small helpers
*/


void wd_config_quote(char *out, size_t out_size, const char *text, size_t length, size_t limit)
{
    size_t n = 0;
    bool cut = length > limit;
    size_t take = cut ? limit : length;

    if (out_size == 0)
        return;
    for (size_t i = 0; i < take && n + 1 < out_size; i++) {
        unsigned char c = (unsigned char)text[i];
        out[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (cut) {
        for (int i = 0; i < 3 && n + 1 < out_size; i++)
            out[n++] = '.';
    }
    out[n] = '\0';
}

static void string_array_free(wd_string_array *array)
{
    for (size_t i = 0; i < array->count; i++)
        free(array->items[i]);
    free(array->items);
    array->items = NULL;
    array->count = 0;
}

static int string_array_copy(const wd_string_array *src, wd_string_array *out)
{
    int rc = WARDEN_E_NOMEM;
    wd_string_array copy = { NULL, 0 };

    if (src->count > 0) {
        copy.items = calloc(src->count, sizeof *copy.items);
        if (copy.items == NULL)
            goto done;
        for (; copy.count < src->count; copy.count++) {
            copy.items[copy.count] = strdup(src->items[copy.count]);
            if (copy.items[copy.count] == NULL)
                goto done;
        }
    }
    *out = copy;
    copy.items = NULL;
    copy.count = 0;
    rc = WARDEN_OK;
done:
    string_array_free(&copy);
    return rc;
}

static int strdup_optional(const char *src, char **out)
{
    *out = NULL;
    if (src == NULL)
        return WARDEN_OK;
    *out = strdup(src);
    return *out == NULL ? WARDEN_E_NOMEM : WARDEN_OK;
}

/* A NULL-terminated view of names, so wd_settings can point at const strings. */
static const char **names_view(const wd_string_array *names)
{
    const char **view = calloc(names->count + 1, sizeof *view);

    if (view == NULL)
        return NULL;
    for (size_t i = 0; i < names->count; i++)
        view[i] = names->items[i];
    return view;
}

/* ---------------------------------------------------------------------------------------
** Storing a value
*/

void wd_config_value_clear(wd_config_value *value)
{
    free(value->text);
    string_array_free(&value->list);
    memset(value, 0, sizeof *value);
}

static int check_list_items(const wd_config_key *key, const wd_string_array *list, warden_error *err)
{
    for (size_t i = 0; i < list->count; i++) {
        if (list->items[i][0] == '\0') {
            wd_error_set(err, WARDEN_E_CONFIG, "config", "%s[%zu]: expected a non-empty string", key->name, i + 1);
            return WARDEN_E_CONFIG;
        }
    }
    return WARDEN_OK;
}

static int store_integer(warden_config *config, const wd_config_key *key, const wd_config_value *value,
                         warden_error *err)
{
    int64_t *slot = (int64_t *)(void *)((char *)config + key->offset);
    char expected[96];

    WD_ASSERT(key->kind == WD_CONFIG_INT || key->kind == WD_CONFIG_OPT_INT);

    if (key->kind == WD_CONFIG_OPT_INT && value->is_nil) {
        *slot = 0;
        return WARDEN_OK;
    }
    if (value->integer < key->min) {
        wd_config_expected(key, expected, sizeof expected);
        wd_error_set(err, WARDEN_E_CONFIG, "config", "%s: expected %s, got %" PRId64, key->name, expected, value->integer);
        return WARDEN_E_CONFIG;
    }
    if (value->integer > key->max) {
        wd_error_set(err, WARDEN_E_CONFIG, "config", "%s: expected an integer from %" PRId64 " to %" PRId64 ", got %" PRId64,
             key->name, key->min, key->max, value->integer);
        return WARDEN_E_CONFIG;
    }
    *slot = value->integer;
    return WARDEN_OK;
}

static int store_choice(warden_config *config, const wd_config_key *key, const wd_config_value *value,
                        warden_error *err)
{
    char expected[96];
    char got[64];
    const char *text = value->text != NULL ? value->text : "";

    for (int i = 0; key->choices[i] != NULL; i++) {
        if (strcmp(key->choices[i], text) == 0) {
            key->set_choice(config, i);
            return WARDEN_OK;
        }
    }
    wd_config_expected(key, expected, sizeof expected);
    wd_config_quote(got, sizeof got, text, strlen(text), 40);
    wd_error_set(err, WARDEN_E_CONFIG, "config", "%s: expected %s, got \"%s\"", key->name, expected, got);
    return WARDEN_E_CONFIG;
}

static int append_list(const wd_config_key *key, wd_string_array *slot, wd_config_value *value,
                       warden_error *err)
{
    int rc = check_list_items(key, &value->list, err);
    char **grown;

    if (rc != WARDEN_OK || value->list.count == 0)
        return rc;
    if (slot->count > SIZE_MAX / sizeof *grown - value->list.count) {
        wd_error_set(err, WARDEN_E_NOMEM, "config", "%s: list too long", key->name);
        return WARDEN_E_NOMEM;
    }
    grown = realloc(slot->items, (slot->count + value->list.count) * sizeof *grown);
    if (grown == NULL) {
        wd_error_set(err, WARDEN_E_NOMEM, "config", "%s: out of memory", key->name);
        return WARDEN_E_NOMEM;
    }
    slot->items = grown;
    memcpy(slot->items + slot->count, value->list.items, value->list.count * sizeof *grown);
    slot->count += value->list.count;
    /* The strings now belong to the config; only the value's array itself is left to free. */
    free(value->list.items);
    value->list.items = NULL;
    value->list.count = 0;
    return WARDEN_OK;
}

static int replace_names(warden_config *config, const wd_config_key *key, wd_config_value *value,
                         warden_error *err)
{
    wd_string_array *slot = (wd_string_array *)(void *)((char *)config + key->offset);
    int rc = check_list_items(key, &value->list, err);
    const char **view;

    if (rc != WARDEN_OK)
        return rc;
    /* require.signed has a view that must follow it. */
    bool has_view = slot == &config->require_signed;
    view = has_view ? names_view(&value->list) : NULL;
    if (has_view && view == NULL) {
        wd_error_set(err, WARDEN_E_NOMEM, "config", "%s: out of memory", key->name);
        return WARDEN_E_NOMEM;
    }
    string_array_free(slot);
    *slot = value->list;
    if (has_view) {
        free(config->require_signed_view);
        config->require_signed_view = view;
    }
    value->list.items = NULL;
    value->list.count = 0;
    return WARDEN_OK;
}

int wd_config_store(warden_config *config, const wd_config_key *key, wd_config_value *value,
                    warden_error *err)
{
    int rc = WARDEN_OK;
    char *field = (char *)config + key->offset;

    switch (key->kind) {
    case WD_CONFIG_BOOL:
        *(bool *)(void *)field = value->boolean;
        break;
    case WD_CONFIG_INT:
    case WD_CONFIG_OPT_INT:
        rc = store_integer(config, key, value, err);
        break;
    case WD_CONFIG_STRING:
    case WD_CONFIG_PATH: {
        char **slot = (char **)(void *)field;
        char *text = value->text;

        value->text = NULL;
        if (value->is_nil || (text != NULL && text[0] == '\0')) {
            free(text);
            text = NULL;
        }
        free(*slot);
        *slot = text;
        break;
    }
    case WD_CONFIG_PATH_LIST:
        rc = append_list(key, (wd_string_array *)(void *)field, value, err);
        break;
    case WD_CONFIG_NAME_LIST:
        rc = replace_names(config, key, value, err);
        break;
    case WD_CONFIG_CHOICE:
        rc = store_choice(config, key, value, err);
        break;
    }
    wd_config_value_clear(value);
    WD_ASSERT(value->text == NULL && value->list.items == NULL); /* consumed, as promised */
    return rc;
}

/* ---------------------------------------------------------------------------------------
** The handle
*/

int warden_config_new(warden_config **out)
{
    int rc = WARDEN_E_NOMEM;
    warden_config *config = NULL;

    if (out == NULL)
        return WARDEN_E_INVALID_ARG;
    *out = NULL;
    config = calloc(1, sizeof *config);
    if (config == NULL)
        goto done;
    /* The verification defaults are the core's (core/settings.c) and the sandbox's are the
    ** policy runtime's (lua/sandbox.h); only the engine's own keys are set here. */
    wd_settings core;
    wd_settings_defaults(&core);
    config->require_token = core.require_token;
    config->require_signed.items = calloc(core.require_signed_count, sizeof(char *));
    if (config->require_signed.items == NULL)
        goto done;
    for (size_t i = 0; i < core.require_signed_count; i++) {
        config->require_signed.items[i] = strdup(core.require_signed[i]);
        config->require_signed.count++;
        if (config->require_signed.items[i] == NULL)
            goto done;
    }
    config->require_signed_view = names_view(&config->require_signed);
    if (config->require_signed_view == NULL)
        goto done;
    config->require_timestamp = core.require_timestamp;
    config->allow_sha1 = core.allow_sha1;
    config->min_rsa_bits = core.min_rsa_bits;
    config->ttl = core.ttl;
    config->future_ttl = core.future_ttl;
    config->skew = core.skew;
    config->username_require_nonce = core.require_nonce;
    config->limit_message_bytes = (int64_t)core.limits.message_bytes;
    config->limit_depth = core.limits.depth;
    config->limit_attributes = core.limits.attributes;
    config->limit_text_bytes = (int64_t)core.limits.text_bytes;
    config->limit_signatures = core.limits.signatures;
    config->limit_references = core.limits.references;
    config->limit_transforms = core.limits.transforms;
    const wd_sandbox_limits sandbox = WD_SANDBOX_DEFAULT_LIMITS;
    config->limit_instructions = sandbox.instructions;
    config->limit_memory = (int64_t)sandbox.memory;
    config->limit_time_ms = sandbox.time_ms;
    config->limit_string_bytes = (int64_t)sandbox.string_bytes;
    config->replay_backend = WD_REPLAY_MEMORY;
    config->replay_entries = 100000;
    config->reload_watch = true;
    config->reload_debounce_ms = 100;
    config->reload_max_stale_s = 0;
    config->replay_timeout_ms = 50;
    config->log_queue = 65536;
    config->log_flush_ms = 100;
    config->replay_prefix = strdup("warden:");
    if (config->replay_prefix == NULL)
        goto done;
    config->serve_tls_require_client_cert = true;
    config->serve_read_ms = 10000;
    config->serve_request_ms = 30000;
    config->serve_upstream_ms = 30000;
    config->serve_drain_ms = 10000;
    config->serve_upstream_keepalive = 16;
    config->reload_tests = WD_TESTS_GATE;
    config->saml_max_age = 3600;
    *out = config;
    config = NULL;
    rc = WARDEN_OK;
done:
    warden_config_free(config);
    return rc;
}

void warden_config_free(warden_config *config)
{
    if (config == NULL)
        return;
    string_array_free(&config->trust);
    string_array_free(&config->certs);
    string_array_free(&config->crls);
    string_array_free(&config->trust_eku);
    string_array_free(&config->saml_issuers);
    string_array_free(&config->saml_audiences);
    free(config->users);
    free(config->policies);
    free(config->actor);
    string_array_free(&config->require_signed);
    free(config->require_signed_view);
    string_array_free(&config->require_encrypted);
    free(config->decrypt_key);
    free(config->decrypt_cert);
    free(config->replay_url);
    free(config->log_decisions);
    free(config->replay_prefix);
    string_array_free(&config->serve_listen);
    free(config->serve_tls_cert);
    free(config->serve_tls_key);
    free(config->serve_tls_client_ca);
    string_array_free(&config->serve_tls_crls);
    free(config->serve_upstream);
    free(config);
}

int wd_config_copy(const warden_config *src, warden_config **out)
{
    int rc = WARDEN_E_NOMEM;
    warden_config *copy = calloc(1, sizeof *copy);

    *out = NULL;
    if (copy == NULL)
        return WARDEN_E_NOMEM;
    /* Scalars and callbacks first, then every owned pointer is replaced by its own copy; until
    ** then the copy must not be freed with the borrowed pointers in it. */
    *copy = *src;
    copy->trust = (wd_string_array){ NULL, 0 };
    copy->certs = (wd_string_array){ NULL, 0 };
    copy->crls = (wd_string_array){ NULL, 0 };
    copy->trust_eku = (wd_string_array){ NULL, 0 };
    copy->saml_issuers = (wd_string_array){ NULL, 0 };
    copy->saml_audiences = (wd_string_array){ NULL, 0 };
    copy->require_signed = (wd_string_array){ NULL, 0 };
    copy->require_signed_view = NULL;
    copy->require_encrypted = (wd_string_array){ NULL, 0 };
    copy->decrypt_key = copy->decrypt_cert = NULL;
    copy->users = copy->policies = copy->actor = copy->replay_url = copy->log_decisions = NULL;
    copy->replay_prefix = copy->serve_tls_cert = copy->serve_tls_key = copy->serve_tls_client_ca = NULL;
    copy->serve_upstream = NULL;
    copy->serve_listen = (wd_string_array){ NULL, 0 };
    copy->serve_tls_crls = (wd_string_array){ NULL, 0 };
    if (string_array_copy(&src->trust, &copy->trust) != WARDEN_OK
        || string_array_copy(&src->certs, &copy->certs) != WARDEN_OK
        || string_array_copy(&src->crls, &copy->crls) != WARDEN_OK
        || string_array_copy(&src->trust_eku, &copy->trust_eku) != WARDEN_OK
        || string_array_copy(&src->saml_issuers, &copy->saml_issuers) != WARDEN_OK
        || string_array_copy(&src->saml_audiences, &copy->saml_audiences) != WARDEN_OK
        || string_array_copy(&src->require_signed, &copy->require_signed) != WARDEN_OK
        || string_array_copy(&src->require_encrypted, &copy->require_encrypted) != WARDEN_OK
        || strdup_optional(src->decrypt_key, &copy->decrypt_key) != WARDEN_OK
        || strdup_optional(src->decrypt_cert, &copy->decrypt_cert) != WARDEN_OK
        || strdup_optional(src->users, &copy->users) != WARDEN_OK
        || strdup_optional(src->policies, &copy->policies) != WARDEN_OK
        || strdup_optional(src->actor, &copy->actor) != WARDEN_OK
        || strdup_optional(src->replay_url, &copy->replay_url) != WARDEN_OK
        || strdup_optional(src->log_decisions, &copy->log_decisions) != WARDEN_OK
        || strdup_optional(src->replay_prefix, &copy->replay_prefix) != WARDEN_OK
        || string_array_copy(&src->serve_listen, &copy->serve_listen) != WARDEN_OK
        || strdup_optional(src->serve_tls_cert, &copy->serve_tls_cert) != WARDEN_OK
        || strdup_optional(src->serve_tls_key, &copy->serve_tls_key) != WARDEN_OK
        || strdup_optional(src->serve_tls_client_ca, &copy->serve_tls_client_ca) != WARDEN_OK
        || string_array_copy(&src->serve_tls_crls, &copy->serve_tls_crls) != WARDEN_OK
        || strdup_optional(src->serve_upstream, &copy->serve_upstream) != WARDEN_OK)
        goto done;
    copy->require_signed_view = names_view(&copy->require_signed);
    if (copy->require_signed_view == NULL)
        goto done;
    *out = copy;
    copy = NULL;
    rc = WARDEN_OK;
done:
    warden_config_free(copy);
    return rc;
}

int warden_config_set_password_callback(warden_config *config, warden_password_fn fn, void *context)
{
    if (config == NULL)
        return WARDEN_E_INVALID_ARG;
    config->password_callback = fn;
    config->password_context = context;
    return WARDEN_OK;
}

int warden_config_set_saml_validator(warden_config *config, warden_saml_validate_fn fn, void *context)
{
    if (config == NULL)
        return WARDEN_E_INVALID_ARG;
    config->saml_validate = fn;
    config->saml_validate_context = fn != NULL ? context : NULL;
    return WARDEN_OK;
}

int warden_config_set_logger(warden_config *config, warden_log_fn fn, void *context)
{
    if (config == NULL)
        return WARDEN_E_INVALID_ARG;
    config->log_callback = fn;
    config->log_context = context;
    return WARDEN_OK;
}

/* ---------------------------------------------------------------------------------------
** warden_config_set: values as text
*/

/* Decimal, optional sign, nothing else: " 10", "10s" and "0x10" are all refused. */
static bool parse_integer(const char *text, int64_t *out)
{
    const char *p = text;
    bool negative = false;
    uint64_t magnitude = 0;
    uint64_t limit;

    if (*p == '+' || *p == '-')
        negative = *p++ == '-';
    if (*p == '\0')
        return false;
    limit = negative ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    for (; *p != '\0'; p++) {
        unsigned digit;
        if (*p < '0' || *p > '9')
            return false;
        digit = (unsigned)(*p - '0');
        if (magnitude > (limit - digit) / 10u)
            return false;
        magnitude = magnitude * 10u + digit;
    }
    if (negative)
        *out = magnitude == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)magnitude;
    else
        *out = (int64_t)magnitude;
    return true;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* "Body, Timestamp" → {"Body", "Timestamp"}; "" → the empty list. Empty items are kept (as
** "") so that wd_config_store rejects them with the key's name. */
static int split_names(const char *text, wd_string_array *out)
{
    int rc = WARDEN_E_NOMEM;
    wd_string_array list = { NULL, 0 };
    size_t commas = 0;
    const char *p = text;

    if (text[0] == '\0')
        goto empty;
    for (const char *c = text; *c != '\0'; c++)
        commas += *c == ',';
    list.items = calloc(commas + 1, sizeof *list.items);
    if (list.items == NULL)
        goto done;
    for (;;) {
        const char *end = strchr(p, ',');
        const char *stop = end != NULL ? end : p + strlen(p);
        const char *start = p;

        while (start < stop && is_space(*start))
            start++;
        while (stop > start && is_space(stop[-1]))
            stop--;
        list.items[list.count] = strndup(start, (size_t)(stop - start));
        if (list.items[list.count] == NULL)
            goto done;
        list.count++;
        if (end == NULL)
            break;
        p = end + 1;
    }
empty:
    *out = list;
    list.items = NULL;
    list.count = 0;
    rc = WARDEN_OK;
done:
    string_array_free(&list);
    return rc;
}

static int value_from_text(const wd_config_key *key, const char *text, wd_config_value *value,
                           warden_error *err)
{
    char expected[96];
    char got[64];

    switch (key->kind) {
    case WD_CONFIG_BOOL:
        if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0) {
            value->boolean = text[0] == 't';
            return WARDEN_OK;
        }
        break;
    case WD_CONFIG_OPT_INT:
        if (text[0] == '\0') {
            value->is_nil = true;
            return WARDEN_OK;
        }
        /* fall through */
    case WD_CONFIG_INT:
        if (parse_integer(text, &value->integer))
            return WARDEN_OK;
        break;
    case WD_CONFIG_STRING:
    case WD_CONFIG_PATH:
    case WD_CONFIG_CHOICE:
        value->is_nil = text[0] == '\0' && key->kind != WD_CONFIG_CHOICE;
        value->text = strdup(text);
        goto copied;
    case WD_CONFIG_PATH_LIST:
        value->list.items = calloc(1, sizeof *value->list.items);
        if (value->list.items == NULL)
            goto nomem;
        value->list.items[0] = strdup(text);
        if (value->list.items[0] == NULL)
            goto nomem;
        value->list.count = 1;
        return WARDEN_OK;
    case WD_CONFIG_NAME_LIST:
        if (split_names(text, &value->list) != WARDEN_OK)
            goto nomem;
        return WARDEN_OK;
    }
    wd_config_expected(key, expected, sizeof expected);
    wd_config_quote(got, sizeof got, text, strlen(text), 40);
    wd_error_set(err, WARDEN_E_CONFIG, "config", "%s: expected %s, got \"%s\"", key->name, expected, got);
    return WARDEN_E_CONFIG;
copied:
    if (value->text != NULL)
        return WARDEN_OK;
nomem:
    wd_error_set(err, WARDEN_E_NOMEM, "config", "%s: out of memory", key->name);
    return WARDEN_E_NOMEM;
}

int warden_config_set(warden_config *config, const char *key, const char *value, warden_error *err)
{
    int rc;
    const wd_config_key *entry;
    wd_config_value parsed;
    char name[80];

    memset(&parsed, 0, sizeof parsed);
    if (config == NULL || key == NULL || value == NULL) {
        wd_error_set(err, WARDEN_E_INVALID_ARG, "config", "warden_config_set: config, key and value are required");
        return WARDEN_E_INVALID_ARG;
    }
    entry = wd_config_key_find(key, strlen(key));
    if (entry == NULL) {
        wd_config_quote(name, sizeof name, key, strlen(key), 64);
        if (wd_config_is_section(key, strlen(key)))
            wd_error_set(err, WARDEN_E_CONFIG, "config", "%s: a section, not a key (set one of its keys, e.g. %s.<key>)", name, name);
        else
            wd_error_set(err, WARDEN_E_CONFIG, "config", "%s: unknown key", name);
        return WARDEN_E_CONFIG;
    }
    rc = value_from_text(entry, value, &parsed, err);
    if (rc == WARDEN_OK)
        rc = wd_config_store(config, entry, &parsed, err);
    wd_config_value_clear(&parsed);
    return rc;
}

/* ---------------------------------------------------------------------------------------
** warden_config_get: values as text (for programs over the library, such as `warden serve`)
*/

/* The index in the key's choices of the value the config holds (the inverse of set_choice). */
static int choice_index(const warden_config *config, const wd_config_key *key)
{
    if (key->set_choice == set_replay_backend)
        return config->replay_backend == WD_REPLAY_REDIS ? 1 : config->replay_backend == WD_REPLAY_NONE ? 2 : 0;
    if (key->set_choice == set_reload_tests)
        return config->reload_tests == WD_TESTS_REPORT ? 1 : config->reload_tests == WD_TESTS_OFF ? 2 : 0;
    if (key->set_choice == set_log_when_full)
        return config->log_when_full_block ? 1 : 0;
    if (key->set_choice == set_serve_pass_get)
        return config->serve_pass_get;
    if (key->set_choice == set_require_timestamp)
        return config->require_timestamp == WD_TIMESTAMP_ALWAYS ? 1
               : config->require_timestamp == WD_TIMESTAMP_NEVER ? 2 : 0;
    return -1;
}

static int put_text(const char *text, char *out, size_t out_size)
{
    if (text == NULL)
        return WARDEN_E_NOT_APPLICABLE;
    size_t length = strlen(text);
    if (length >= out_size)
        return WARDEN_E_INVALID_ARG;
    memcpy(out, text, length + 1);
    return WARDEN_OK;
}

int warden_config_get(const warden_config *config, const char *key, size_t index, char *out, size_t out_size)
{
    const wd_config_key *entry;
    const char *base = (const char *)config;
    char number[32];

    if (config == NULL || key == NULL || out == NULL || out_size == 0)
        return WARDEN_E_INVALID_ARG;
    out[0] = '\0';
    entry = wd_config_key_find(key, strlen(key));
    if (entry == NULL)
        return WARDEN_E_INVALID_ARG;
    if (entry->kind != WD_CONFIG_PATH_LIST && entry->kind != WD_CONFIG_NAME_LIST && index > 0)
        return WARDEN_E_NOT_APPLICABLE;
    switch (entry->kind) {
    case WD_CONFIG_BOOL:
        return put_text(*(const bool *)(base + entry->offset) ? "true" : "false", out, out_size);
    case WD_CONFIG_INT:
    case WD_CONFIG_OPT_INT: {
        int64_t value = *(const int64_t *)(base + entry->offset);
        if (entry->kind == WD_CONFIG_OPT_INT && value == 0)
            return WARDEN_E_NOT_APPLICABLE;
        snprintf(number, sizeof number, "%" PRId64, value);
        return put_text(number, out, out_size);
    }
    case WD_CONFIG_STRING:
    case WD_CONFIG_PATH:
        return put_text(*(char *const *)(base + entry->offset), out, out_size);
    case WD_CONFIG_PATH_LIST:
    case WD_CONFIG_NAME_LIST: {
        const wd_string_array *list = (const wd_string_array *)(base + entry->offset);
        return index < list->count ? put_text(list->items[index], out, out_size) : WARDEN_E_NOT_APPLICABLE;
    }
    case WD_CONFIG_CHOICE: {
        int i = choice_index(config, entry);
        return i >= 0 ? put_text(entry->choices[i], out, out_size) : WARDEN_E_NOT_APPLICABLE;
    }
    }
    return WARDEN_E_INVALID_ARG;
}

/* ---------------------------------------------------------------------------------------
** To the verification core
*/

void wd_config_to_settings(const warden_config *config, wd_settings *settings)
{
    /* Defaults first, so fields the core adds later never stay uninitialised. */
    wd_settings_defaults(settings);
    settings->require_token = config->require_token;
    settings->require_signed = config->require_signed_view;
    settings->require_signed_count = config->require_signed.count;
    settings->require_timestamp = config->require_timestamp;
    settings->require_encrypted = (const char *const *)config->require_encrypted.items;
    settings->require_encrypted_count = config->require_encrypted.count;
    settings->allow_cbc = config->decrypt_allow_cbc;
    settings->allow_rsa15 = config->decrypt_allow_rsa15;
    settings->allow_sha1 = config->allow_sha1;
    settings->min_rsa_bits = (int)config->min_rsa_bits;
    settings->ttl = config->ttl;
    settings->future_ttl = config->future_ttl;
    settings->skew = config->skew;
    settings->actor = config->actor;
    settings->require_nonce = config->username_require_nonce;
    settings->limits.message_bytes = (size_t)config->limit_message_bytes;
    settings->limits.depth = (int)config->limit_depth;
    settings->limits.attributes = (int)config->limit_attributes;
    settings->limits.text_bytes = (size_t)config->limit_text_bytes;
    settings->limits.signatures = (int)config->limit_signatures;
    settings->limits.references = (int)config->limit_references;
    settings->limits.transforms = (int)config->limit_transforms;
}
