/*
** settings.h — what the verification core needs to know of the configuration. engine/ fills
** it from a warden_config; core/ only reads it. Defaults: docs/reference.md, Configuration.
*/
#ifndef WD_SETTINGS_H
#define WD_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum wd_timestamp_requirement {
    WD_TIMESTAMP_WHEN_SIGNED = 0, /* a signed message must carry a Timestamp */
    WD_TIMESTAMP_ALWAYS,
    WD_TIMESTAMP_NEVER            /* not required; still checked when present */
} wd_timestamp_requirement;

/* Parser limits; any one exceeded is "limit-exceeded". */
typedef struct wd_limits {
    size_t message_bytes; /* whole message */
    int    depth;         /* element nesting, the Envelope being depth 1 */
    int    attributes;    /* attributes (namespace declarations included) on one element */
    size_t text_bytes;    /* one text node (adjacent character data counted together) */
    int    signatures;    /* ds:Signature elements in the Security header */
    int    references;    /* References in one SignedInfo */
    int    transforms;    /* Transforms of one Reference */
} wd_limits;

typedef struct wd_settings {
    bool                     require_token;       /* default true */
    const char *const       *require_signed;      /* part names, default {"Body","Timestamp"} */
    size_t                   require_signed_count;
    wd_timestamp_requirement require_timestamp;   /* default WHEN_SIGNED */
    bool                     allow_sha1;          /* default false */
    int                      min_rsa_bits;        /* default 2048 */
    int64_t                  ttl;                 /* default 300 */
    int64_t                  future_ttl;          /* default 60 */
    int64_t                  skew;                /* default 300 */
    const char              *actor;               /* NULL: the Security header without actor/role */
    const char *const       *require_encrypted;   /* part names that must arrive encrypted; default none */
    size_t                   require_encrypted_count;
    bool                     allow_cbc;           /* decrypt.allow_cbc: AES-CBC data; default false */
    bool                     allow_rsa15;         /* decrypt.allow_rsa15: RSA PKCS#1 v1.5 key
                                                  ** transport; default false */
    bool                     require_nonce;       /* username.require_nonce: a UsernameToken must
                                                  ** carry Nonce and Created; default true */
    wd_limits                limits;              /* defaults 4194304, 64, 256, 1048576, 4, 32, 4 */
} wd_settings;

/* Fills every field with the defaults above (require_signed points to static strings). */
void wd_settings_defaults(wd_settings *settings);

#endif
