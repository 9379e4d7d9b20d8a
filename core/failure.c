/*
** failure.c — reason code names and the helpers that record a rejection.
*/
#include "failure.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../include/warden.h"

static const char *const reason_names[WD_REASON_COUNT] = {
    [WD_REASON_NONE]                      = "",
    [WD_REASON_MALFORMED]                 = "malformed",
    [WD_REASON_NOT_SOAP]                  = "not-soap",
    [WD_REASON_DTD_FORBIDDEN]             = "dtd-forbidden",
    [WD_REASON_LIMIT_EXCEEDED]            = "limit-exceeded",
    [WD_REASON_MUSTUNDERSTAND]            = "mustunderstand",
    [WD_REASON_SECURITY_HEADER_MISSING]   = "security-header-missing",
    [WD_REASON_SECURITY_HEADER_DUPLICATE] = "security-header-duplicate",
    [WD_REASON_TIMESTAMP_MISSING]         = "timestamp-missing",
    [WD_REASON_TIMESTAMP_INVALID]         = "timestamp-invalid",
    [WD_REASON_TIMESTAMP_EXPIRED]         = "timestamp-expired",
    [WD_REASON_TIMESTAMP_FUTURE]          = "timestamp-future",
    [WD_REASON_REFERENCE_INVALID]         = "reference-invalid",
    [WD_REASON_DUPLICATE_ID]              = "duplicate-id",
    [WD_REASON_DIGEST_MISMATCH]           = "digest-mismatch",
    [WD_REASON_SIGNATURE_INVALID]         = "signature-invalid",
    [WD_REASON_UNSIGNED_PART]             = "unsigned-part",
    [WD_REASON_WEAK_ALGORITHM]            = "weak-algorithm",
    [WD_REASON_KEY_MISMATCH]              = "key-mismatch",
    [WD_REASON_CERT_UNTRUSTED]            = "cert-untrusted",
    [WD_REASON_CERT_EXPIRED]              = "cert-expired",
    [WD_REASON_CERT_REVOKED]              = "cert-revoked",
    [WD_REASON_CERT_USAGE]                = "cert-usage",
    [WD_REASON_TOKEN_UNSUPPORTED]         = "token-unsupported",
    [WD_REASON_PASSWORD_INVALID]          = "password-invalid",
    [WD_REASON_USER_UNKNOWN]              = "user-unknown",
    [WD_REASON_REPLAY]                    = "replay",
    [WD_REASON_REPLAY_CACHE_FULL]         = "replay-cache-full",
    [WD_REASON_REPLAY_UNAVAILABLE]        = "replay-unavailable",
    [WD_REASON_SAML_INVALID]              = "saml-invalid",
    [WD_REASON_DECRYPT_FAILED]            = "decrypt-failed",
    [WD_REASON_UNENCRYPTED_PART]          = "unencrypted-part",
    [WD_REASON_INTERNAL_ERROR]            = "internal-error",
};

const char *wd_reason_name(wd_reason reason)
{
    if ((unsigned)reason >= WD_REASON_COUNT)
        return "internal-error";
    return reason_names[reason];
}

static void record(wd_failure *f, int code, wd_reason reason, const char *format, va_list args)
{
    if (f == NULL)
        return;
    f->code = code;
    f->reason = reason;
    vsnprintf(f->detail, sizeof f->detail, format, args);
}

int wd_fail(wd_failure *f, wd_reason reason, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    record(f, WARDEN_E_SECURITY, reason, format, args);
    va_end(args);
    return -1;
}

int wd_fail_internal(wd_failure *f, int code, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    record(f, code, WD_REASON_INTERNAL_ERROR, format, args);
    va_end(args);
    return -1;
}
