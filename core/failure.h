/*
** failure.h — why a message was rejected: the stable reason codes of docs/reference.md
** and the record every core check fills when it fails.
*/
#ifndef WD_FAILURE_H
#define WD_FAILURE_H

typedef enum wd_reason {
    WD_REASON_NONE = 0,
    WD_REASON_MALFORMED,
    WD_REASON_NOT_SOAP,
    WD_REASON_DTD_FORBIDDEN,
    WD_REASON_LIMIT_EXCEEDED,
    WD_REASON_MUSTUNDERSTAND,
    WD_REASON_SECURITY_HEADER_MISSING,
    WD_REASON_SECURITY_HEADER_DUPLICATE,
    WD_REASON_TIMESTAMP_MISSING,
    WD_REASON_TIMESTAMP_INVALID,
    WD_REASON_TIMESTAMP_EXPIRED,
    WD_REASON_TIMESTAMP_FUTURE,
    WD_REASON_REFERENCE_INVALID,
    WD_REASON_DUPLICATE_ID,
    WD_REASON_DIGEST_MISMATCH,
    WD_REASON_SIGNATURE_INVALID,
    WD_REASON_UNSIGNED_PART,
    WD_REASON_WEAK_ALGORITHM,
    WD_REASON_KEY_MISMATCH,
    WD_REASON_CERT_UNTRUSTED,
    WD_REASON_CERT_EXPIRED,
    WD_REASON_CERT_REVOKED,
    WD_REASON_CERT_USAGE,
    WD_REASON_TOKEN_UNSUPPORTED,
    WD_REASON_PASSWORD_INVALID,
    WD_REASON_USER_UNKNOWN,
    WD_REASON_REPLAY,
    WD_REASON_REPLAY_CACHE_FULL,
    WD_REASON_REPLAY_UNAVAILABLE, /* a shared replay store (Redis) did not answer in time */
    WD_REASON_SAML_INVALID,
    WD_REASON_DECRYPT_FAILED,     /* one generic detail whatever failed (decrypt.c): no oracle */
    WD_REASON_UNENCRYPTED_PART,   /* a part require.encrypted names arrived in plaintext */
    /* Not a verdict on the message: the verifier itself failed (out of memory, a callback
    ** error). The message is still rejected. */
    WD_REASON_INTERNAL_ERROR,
    WD_REASON_COUNT
} wd_reason;

/* Filled by the check that rejects a message. code is a WARDEN_E_* value: WARDEN_E_SECURITY
** for a verdict on the message, WARDEN_E_NOMEM / WARDEN_E_INTERNAL when the verifier failed. */
typedef struct wd_failure {
    int       code;
    wd_reason reason;
    char      detail[256];
    char      cause[160]; /* what only the engine's log may tell (why a decryption failed);
                          ** "" otherwise. Never shown to the sender: see decrypt.c */
} wd_failure;

/* "timestamp-expired" for WD_REASON_TIMESTAMP_EXPIRED; "internal-error"; "" for NONE. */
const char *wd_reason_name(wd_reason reason);

/* Records a security rejection (code WARDEN_E_SECURITY) with a printf-style detail.
** f may be NULL. Always returns -1 so that checks can `return wd_fail(...)`. */
int wd_fail(wd_failure *f, wd_reason reason, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Records a failure of the verifier itself (code WARDEN_E_NOMEM or WARDEN_E_INTERNAL, reason
** WD_REASON_INTERNAL_ERROR). Returns -1. */
int wd_fail_internal(wd_failure *f, int code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

#endif
