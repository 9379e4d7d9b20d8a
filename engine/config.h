/*
** config.h — the warden_config structure (docs/reference.md, Configuration) shared by engine/
** files. Every string and list here is owned by the config.
*/
#ifndef WD_ENGINE_CONFIG_H
#define WD_ENGINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/settings.h"
#include "../include/warden.h"

typedef struct wd_string_array {
    char  **items;
    size_t  count;
} wd_string_array;

typedef enum wd_replay_backend_kind { WD_REPLAY_MEMORY = 0, WD_REPLAY_REDIS, WD_REPLAY_NONE } wd_replay_backend_kind;

/* reload.tests: what failing policy tests do to a load or reload. "off" (not run at all) is
** what `warden decide` uses, so that a set can be investigated while a test fails. */
typedef enum wd_reload_tests { WD_TESTS_GATE = 0, WD_TESTS_REPORT, WD_TESTS_OFF } wd_reload_tests;

struct warden_config {
    wd_string_array trust;            /* CA bundle paths (absolute, or relative to the working folder) */
    wd_string_array certs;            /* known sender certificate bundles */
    wd_string_array crls;             /* CRL files (PEM or DER) */
    wd_string_array trust_eku;        /* trust.eku: purposes a signer's EKU must name one of */
    char           *users;            /* users file, or NULL */
    char           *policies;         /* policy directory, or NULL */
    char           *actor;            /* NULL = the Security header without actor */
    /* require */
    bool            require_token;
    wd_string_array require_signed;   /* part names */
    const char    **require_signed_view; /* the same strings, NULL-terminated, for wd_settings;
                                        ** rebuilt by config.c whenever require_signed changes */
    wd_timestamp_requirement require_timestamp;
    wd_string_array require_encrypted; /* part names that must arrive encrypted */
    /* decrypt: our key pair (paths, or NULL) and the weaker algorithms allowed */
    char           *decrypt_key, *decrypt_cert;
    bool            decrypt_allow_cbc, decrypt_allow_rsa15;
    /* algorithms */
    bool            allow_sha1;
    int64_t         min_rsa_bits;
    /* clock */
    int64_t         ttl, future_ttl, skew;
    /* username */
    bool            username_require_nonce;
    /* saml */
    wd_string_array saml_issuers;     /* certificate / CA bundle paths trusted to sign assertions */
    wd_string_array saml_audiences;   /* an AudienceRestriction must name one; empty = any */
    int64_t         saml_max_age;     /* seconds an IssueInstant may be old */
    /* replay */
    wd_replay_backend_kind replay_backend;
    int64_t         replay_entries;
    char           *replay_url;
    char           *replay_prefix;    /* redis: key prefix */
    int64_t         replay_timeout_ms; /* redis: how long an answer may take */
    /* limits */
    int64_t         limit_message_bytes, limit_depth, limit_attributes, limit_text_bytes;
    int64_t         limit_instructions, limit_memory, limit_time_ms;
    int64_t         limit_signatures, limit_references, limit_transforms;
    int64_t         limit_string_bytes;
    /* reload */
    bool            reload_watch;
    int64_t         reload_debounce_ms;
    int64_t         reload_max_stale_s; /* 0 = off (nil) */
    wd_reload_tests reload_tests;     /* reload.tests */
    /* log */
    char           *log_decisions;    /* path, or NULL */
    int64_t         log_queue;        /* serve: decision log lines waiting to be written, at most */
    bool            log_when_full_block; /* serve: a full queue makes requests wait (else drops) */
    int64_t         log_flush_ms;     /* serve: how long the writer lets a batch of lines gather */
    /* serve: read by `warden serve` through warden_config_get; the library ignores them */
    wd_string_array serve_listen;     /* "host:port" entries */
    char           *serve_tls_cert, *serve_tls_key, *serve_tls_client_ca;  /* paths, or NULL */
    wd_string_array serve_tls_crls;   /* CRL files (PEM or DER) client certificates are checked against */
    bool            serve_tls_require_client_cert;
    char           *serve_upstream;   /* NULL: check mode */
    int64_t         serve_threads;    /* 0 = one per core */
    int64_t         serve_read_ms, serve_request_ms, serve_upstream_ms, serve_drain_ms;
    int64_t         serve_upstream_keepalive; /* idle upstream connections per worker */
    int             serve_pass_get;   /* index in "none", "wsdl", "all": GETs the gateway forwards unverified */
    /* embedder callbacks */
    warden_password_fn password_callback;
    void              *password_context;
    warden_saml_validate_fn saml_validate;
    void              *saml_validate_context;
    warden_log_fn      log_callback;      /* NULL: standard error */
    void              *log_context;
};

/* Fills settings from config; settings borrows config's strings (require_signed, actor), so
** it is valid while config lives. */
void wd_config_to_settings(const warden_config *config, wd_settings *settings);

#endif
