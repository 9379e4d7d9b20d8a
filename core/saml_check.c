/*
** saml_check.c — what makes an assertion's facts believable: the issuer's enveloped signature
** (through signature.c, the one signature implementation, against the saml.issuers trust
** store), the clock (IssueInstant age, Conditions and SubjectConfirmationData windows), the
** audiences, the subject confirmation against the message's own verified signatures, and the
** embedder's validator. wssec.c runs them in that order, after the message's signatures.
*/
#include "saml.h"
#include "invariant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "time_text.h"

#define SAML_INVALID(failure, ...) wd_fail((failure), WD_REASON_SAML_INVALID, __VA_ARGS__)

/* Signature failures that say "this assertion is not what the issuer signed" become
** saml-invalid (the contract's one code for a bad assertion), keeping signature.c's detail;
** those about the issuer's certificate, algorithms and limits keep their own codes, which
** operators already alert on. */
static int assertion_signature_failure(wd_failure *failure)
{
    if (failure == NULL || failure->code != WARDEN_E_SECURITY)
        return -1;
    switch (failure->reason) {
    case WD_REASON_REFERENCE_INVALID:
    case WD_REASON_DIGEST_MISMATCH:
    case WD_REASON_SIGNATURE_INVALID:
    case WD_REASON_KEY_MISMATCH:
    case WD_REASON_TOKEN_UNSUPPORTED:
    case WD_REASON_DUPLICATE_ID: {
        char detail[sizeof failure->detail];
        snprintf(detail, sizeof detail, "%s", failure->detail);
        return SAML_INVALID(failure, "assertion signature (%s): %s", wd_reason_name(failure->reason), detail);
    }
    default:
        return -1;
    }
}

int wd_saml_check_signature(const wd_saml_assertion *assertion, const wd_saml_context *context,
                            const wd_signature_context *base, wd_failure *failure)
{
    wd_signature_result result;
    wd_cert *default_cert = NULL;
    int status;

    if (assertion->signature == NULL)
        return SAML_INVALID(failure, "the assertion is not signed by its issuer");
    if (context->issuers == NULL)
        return wd_fail(failure, WD_REASON_CERT_UNTRUSTED, "no saml.issuers are configured: no assertion is trusted");

    wd_signature_context signature_context = *base;
    signature_context.trust = context->issuers;
    signature_context.security = NULL;
    signature_context.tokens = NULL;
    signature_context.token_count = 0;
    signature_context.enveloping = assertion->element;
    default_cert = wd_trust_store_sole_known(context->issuers);
    signature_context.default_cert = default_cert;

    status = wd_signature_verify(assertion->signature, &signature_context, &result, failure);
    wd_cert_unref(default_cert);
    if (status != 0)
        return assertion_signature_failure(failure);
    /* signature.c held the Reference to the assertion itself; say so where it matters */
    WD_ASSERT(result.covered_count == 1 && result.covered[0] == assertion->element);
    wd_signature_result_clear(&result);
    return 0;
}

static void format_time(int64_t t, char out[21])
{
    wd_time_format(t, out);
}

int wd_saml_check_conditions(const wd_saml_assertion *a, const wd_saml_context *context, wd_failure *failure)
{
    char when[21], clock[21];
    int64_t now = context->now, skew = context->skew;

    format_time(now, clock);
    if (a->issue_instant > now + skew) {
        format_time(a->issue_instant, when);
        return SAML_INVALID(failure, "IssueInstant %s is ahead of the clock %s (more than clock.skew)", when, clock);
    }
    if (now - a->issue_instant > context->max_age + skew) {
        format_time(a->issue_instant, when);
        return SAML_INVALID(failure, "IssueInstant %s is older than saml.max_age (%lld s) at %s", when,
                            (long long)context->max_age, clock);
    }
    if (a->has_not_before && now + skew < a->not_before) {
        format_time(a->not_before, when);
        return SAML_INVALID(failure, "not yet valid: Conditions NotBefore %s is after %s", when, clock);
    }
    if (a->has_not_on_or_after && now - skew >= a->not_on_or_after) {
        format_time(a->not_on_or_after, when);
        return SAML_INVALID(failure, "expired: Conditions NotOnOrAfter %s has passed at %s", when, clock);
    }
    if (a->has_confirmation_not_before && now + skew < a->confirmation_not_before) {
        format_time(a->confirmation_not_before, when);
        return SAML_INVALID(failure, "not yet valid: SubjectConfirmationData NotBefore %s is after %s", when, clock);
    }
    if (a->has_confirmation_not_on_or_after && now - skew >= a->confirmation_not_on_or_after) {
        format_time(a->confirmation_not_on_or_after, when);
        return SAML_INVALID(failure, "expired: SubjectConfirmationData NotOnOrAfter %s has passed at %s", when, clock);
    }

    /* Each AudienceRestriction must name us (SAML core 2.5.1.4: all of them hold). */
    if (context->audience_count == 0)
        return 0;
    if (!a->has_audience_restriction)
        return SAML_INVALID(failure,
                            "wrong audience: the assertion has no AudienceRestriction and saml.audiences is set");
    size_t start = 0;
    for (size_t r = 0; r < a->restriction_count; r++) {
        bool ours = false;
        for (size_t i = start; i < a->restriction_ends[r] && !ours; i++)
            for (size_t k = 0; k < context->audience_count && !ours; k++)
                ours = strcmp(a->audience_items[i].data, context->audiences[k]) == 0;
        if (!ours)
            return SAML_INVALID(failure,
                                "wrong audience: AudienceRestriction names none of saml.audiences (\"%.100s\"%s)",
                                a->audience_items[start].data, a->restriction_ends[r] - start > 1 ? ", ..." : "");
        start = a->restriction_ends[r];
    }
    return 0;
}

static bool covers(const wd_signature_result *result, const xmlNode *node)
{
    for (size_t i = 0; i < result->covered_count; i++)
        if (result->covered[i] == node)
            return true;
    return false;
}

int wd_saml_check_confirmation(const wd_saml_assertion *a, const wd_signature_result *results, size_t count,
                               const xmlNode *body, const xmlNode *timestamp, const wd_signature_result **proof,
                               wd_failure *failure)
{
    *proof = NULL;
    switch (a->confirmation) {
    case WD_SAML_BEARER:
        return 0;
    case WD_SAML_HOLDER_OF_KEY:
        WD_ASSERT(a->confirmation_cert != NULL); /* saml_read.c refuses holder-of-key without one */
        for (size_t i = 0; i < count; i++) {
            const wd_signature_result *r = &results[i];
            if (memcmp(r->cert->sha256, a->confirmation_cert->sha256, sizeof r->cert->sha256) != 0)
                continue;
            if (!covers(r, body) || timestamp == NULL || !covers(r, timestamp))
                return SAML_INVALID(failure, "holder-of-key: the signature made with the confirmation key does not "
                                             "cover both Body and Timestamp");
            *proof = r;
            return 0;
        }
        return SAML_INVALID(failure, "holder-of-key: no message signature was made with the key of the "
                                     "assertion's SubjectConfirmationData");
    case WD_SAML_SENDER_VOUCHES:
        for (size_t i = 0; i < count; i++) {
            if (covers(&results[i], body) && covers(&results[i], a->element)) {
                *proof = &results[i];
                return 0;
            }
        }
        return SAML_INVALID(failure, "sender-vouches: no message signature covers both the assertion and the Body");
    }
    return wd_fail_internal(failure, WARDEN_E_INTERNAL, "an assertion without confirmation method");
}

int wd_saml_check_validator(const wd_saml_assertion *a, const wd_saml_context *context, wd_failure *failure)
{
    char reason[200] = "";
    if (context->validate == NULL)
        return 0;
    WD_ASSERT(a->xml != NULL);
    int status = context->validate(context->validate_context, a->xml, a->xml_length, reason, sizeof reason);
    if (status == WARDEN_OK)
        return 0;
    reason[sizeof reason - 1] = '\0';
    return SAML_INVALID(failure, "refused by the SAML validator: %s", reason[0] != '\0' ? reason : "(no reason given)");
}
