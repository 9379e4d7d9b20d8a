/*
** signature.c — verification of one ds:Signature of the Security header: the strict reading
** of its structure (the BSP / secure-validation profile: exc-c14n only, no Manifest or Object,
** at most limits.references References of at most limits.transforms transforms each), the
** chain validation of the certificate that made it, the SignatureValue check over the
** canonical SignedInfo, and the digest of each Reference. Key resolution lives in
** key_reference.c, canonicalization in c14n.c.
**
** The order of work is chosen for cost and for safety: everything that is only reading
** (structure, algorithms, key reference) comes first; then the signer's certificate chain,
** which is cached per certificate, so that a message signed by a key we do not trust costs no
** public-key operation and no digest; then the one public-key operation over SignedInfo, so
** that a forged message costs one verify and no digest of a large Body; then the References'
** digests, whose canonicalization draws on the message's budget. Nothing reaches the result
** unless every check has passed.
*/
#include "signature.h"

#include <assert.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../include/warden.h"
#include "base64.h"
#include "c14n.h"
#include "key_reference.h"
#include "namespaces.h"
#include "xml_text.h"

#define DSIG_MANIFEST_TYPE WD_NS_DSIG "Manifest"

typedef struct reference_plan {
    xmlNode       *target;        /* the element the URI names */
    const char    *id;            /* the URI without '#', for messages */
    const xmlNode *excluded;      /* the Signature itself, when the enveloped transform removes it */
    const char    *prefix_list;   /* of the final exc-c14n transform, or NULL */
    wd_digest_id   digest;
    const xmlNode *digest_value;
} reference_plan;

typedef struct signature_plan {
    xmlNode                      *signed_info;
    xmlNode                      *signature_value;
    xmlNode                      *key_info;        /* NULL when absent */
    const char                   *prefix_list;     /* of SignedInfo's CanonicalizationMethod */
    const wd_signature_algorithm *algorithm;
    reference_plan               *references;      /* malloc'd, limits.references at most */
    size_t                        reference_count;
} signature_plan;

typedef struct byte_buffer {
    unsigned char *data;
    size_t         length;
    size_t         capacity;
    wd_failure    *failure;
} byte_buffer;

typedef struct digest_stream {
    EVP_MD_CTX *context;
    wd_failure *failure;
} digest_stream;

static bool is_within(const xmlNode *node, const xmlNode *ancestor)
{
    for (; node != NULL; node = node->parent) {
        if (node == ancestor)
            return true;
    }
    return false;
}

static const char *element_name(const xmlNode *element)
{
    return element != NULL && element->name != NULL ? (const char *)element->name : "nothing";
}

/* ds:Signature = SignedInfo, SignatureValue, KeyInfo; an Object anywhere is refused on its
** own ground (it is where Manifests and wrapped content hide). */
static int read_signature_parts(const xmlNode *signature, signature_plan *plan, wd_failure *failure)
{
    xmlNode *signed_info;
    xmlNode *signature_value;
    xmlNode *key_info;

    for (xmlNode *child = wd_xml_first_element(signature); child != NULL; child = wd_xml_next_element(child)) {
        if (wd_xml_is(child, WD_NS_DSIG, "Object"))
            return wd_fail(failure, WD_REASON_REFERENCE_INVALID,
                           "the signature carries a ds:Object (Objects and Manifests are not supported)");
    }

    signed_info = wd_xml_first_element(signature);
    if (!wd_xml_is(signed_info, WD_NS_DSIG, "SignedInfo"))
        return wd_fail(failure, WD_REASON_SIGNATURE_INVALID, "the signature begins with %.60s, not SignedInfo",
                       element_name(signed_info));
    signature_value = wd_xml_next_element(signed_info);
    if (!wd_xml_is(signature_value, WD_NS_DSIG, "SignatureValue"))
        return wd_fail(failure, WD_REASON_SIGNATURE_INVALID, "SignedInfo is followed by %.60s, not SignatureValue",
                       element_name(signature_value));
    key_info = wd_xml_next_element(signature_value);
    if (key_info != NULL && !wd_xml_is(key_info, WD_NS_DSIG, "KeyInfo"))
        return wd_fail(failure, WD_REASON_SIGNATURE_INVALID, "SignatureValue is followed by %.60s, not KeyInfo",
                       element_name(key_info));
    if (key_info != NULL && wd_xml_next_element(key_info) != NULL)
        return wd_fail(failure, WD_REASON_SIGNATURE_INVALID, "unexpected %.60s after KeyInfo",
                       element_name(wd_xml_next_element(key_info)));

    plan->signed_info = signed_info;
    plan->signature_value = signature_value;
    plan->key_info = key_info;
    return 0;
}

/* The optional ec:InclusiveNamespaces child of an exc-c14n CanonicalizationMethod or
** Transform, and nothing else. */
static int read_inclusive_namespaces(const xmlNode *method, const char **prefix_list, wd_reason refusal,
                                     wd_failure *failure)
{
    xmlNode *child = wd_xml_first_element(method);

    *prefix_list = NULL;
    if (child == NULL)
        return 0;
    if (!wd_xml_is(child, WD_NS_EXC_C14N, "InclusiveNamespaces"))
        return wd_fail(failure, refusal, "exc-c14n takes only an InclusiveNamespaces parameter, not %.60s",
                       element_name(child));
    if (wd_xml_next_element(child) != NULL)
        return wd_fail(failure, refusal, "exc-c14n takes a single InclusiveNamespaces parameter");
    *prefix_list = wd_xml_attr(child, NULL, "PrefixList");
    return 0;
}

static int read_transforms(const xmlNode *transforms, reference_plan *reference, int max_transforms,
                           bool *enveloped, wd_failure *failure)
{
    size_t count = 0;
    size_t position = 0;
    bool last_is_c14n = false;

    for (xmlNode *t = wd_xml_first_element(transforms); t != NULL; t = wd_xml_next_element(t)) {
        if (!wd_xml_is(t, WD_NS_DSIG, "Transform"))
            return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "Transforms holds %.60s", element_name(t));
        if (++count > (size_t)max_transforms)
            return wd_fail(failure, WD_REASON_LIMIT_EXCEEDED,
                           "Reference \"%.80s\" has more than %d transforms (limits.transforms)", reference->id,
                           max_transforms);
    }
    if (count == 0)
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "Reference \"%.80s\" has an empty Transforms",
                       reference->id);

    *enveloped = false;
    for (xmlNode *t = wd_xml_first_element(transforms); t != NULL; t = wd_xml_next_element(t), position++) {
        const char *algorithm = wd_xml_attr(t, NULL, "Algorithm");
        last_is_c14n = false;
        if (algorithm != NULL && strcmp(algorithm, WD_ALG_ENVELOPED) == 0) {
            if (wd_xml_first_element(t) != NULL)
                return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "the enveloped-signature transform takes no parameters");
            *enveloped = true;
        } else if (algorithm != NULL && strcmp(algorithm, WD_ALG_EXC_C14N) == 0) {
            /* A canonicalization in the middle would turn the node set into octets that the
            ** next transform re-parses; nobody emits that, and allowing it would make "what
            ** was digested" depend on subtleties no one tests. */
            if (position + 1 != count)
                return wd_fail(failure, WD_REASON_REFERENCE_INVALID,
                               "Reference \"%.80s\": exc-c14n may only be the last transform", reference->id);
            if (read_inclusive_namespaces(t, &reference->prefix_list, WD_REASON_REFERENCE_INVALID, failure) != 0)
                return -1;
            last_is_c14n = true;
        } else {
            return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "transform %.120s is not allowed",
                           algorithm != NULL ? algorithm : "(without Algorithm)");
        }
    }
    if (!last_is_c14n)
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "Reference \"%.80s\": the last transform is not exc-c14n",
                       reference->id);
    return 0;
}

static int read_reference(xmlNode *element, const wd_signature_context *context, const xmlNode *signature,
                          signature_plan *plan, wd_failure *failure)
{
    reference_plan *reference = &plan->references[plan->reference_count];
    const char *uri = wd_xml_attr(element, NULL, "URI");
    const char *type = wd_xml_attr(element, NULL, "Type");
    xmlNode *transforms;
    xmlNode *digest_method;
    xmlNode *digest_value;
    const char *digest_uri;
    bool enveloped = false;

    if (type != NULL && strcmp(type, DSIG_MANIFEST_TYPE) == 0)
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "a Reference to a Manifest");
    if (uri == NULL)
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "a Reference without URI");
    if (uri[0] == '\0')
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "a Reference with an empty URI (the whole document)");
    if (uri[0] != '#' || uri[1] == '\0')
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "Reference URI \"%.100s\" is not \"#id\" of this message", uri);
    if (strncmp(uri, "#xpointer(", 10) == 0)
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "XPointer Reference URIs are not supported");

    reference->id = uri + 1;
    reference->target = wd_ids_find(context->ids, reference->id, strlen(reference->id));
    if (reference->target == NULL)
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "Reference to unknown id \"%.100s\"", reference->id);
    /* Signing part of the signature being verified is circular, and nothing a caller should
    ** count as a signed part of the message. */
    if (is_within(reference->target, signature))
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "Reference \"%.100s\" points into the signature itself",
                       reference->id);
    /* Two References to one element (by the same id or by two ids of it) would make "what
    ** was signed" ambiguous. */
    for (size_t i = 0; i < plan->reference_count; i++) {
        if (plan->references[i].target == reference->target)
            return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "two References point at the element of \"%.100s\"",
                           reference->id);
    }

    transforms = wd_xml_first_element(element);
    if (!wd_xml_is(transforms, WD_NS_DSIG, "Transforms"))
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "Reference \"%.100s\" has no Transforms", reference->id);
    if (read_transforms(transforms, reference, context->settings->limits.transforms, &enveloped, failure) != 0)
        return -1;

    digest_method = wd_xml_next_element(transforms);
    if (!wd_xml_is(digest_method, WD_NS_DSIG, "DigestMethod") || wd_xml_first_element(digest_method) != NULL)
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "Reference \"%.100s\" has no plain DigestMethod after Transforms",
                       reference->id);
    digest_uri = wd_xml_attr(digest_method, NULL, "Algorithm");
    if (digest_uri == NULL)
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "DigestMethod without Algorithm");
    if (wd_crypto_digest_algorithm(digest_uri, context->settings->allow_sha1, &reference->digest, failure) != 0)
        return -1;

    digest_value = wd_xml_next_element(digest_method);
    if (!wd_xml_is(digest_value, WD_NS_DSIG, "DigestValue") || wd_xml_next_element(digest_value) != NULL)
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "Reference \"%.100s\" does not end with its DigestValue",
                       reference->id);
    reference->digest_value = digest_value;
    reference->excluded = enveloped && is_within(signature, reference->target) ? signature : NULL;
    /* An assertion's signature vouches for its assertion and nothing else: the Reference must
    ** name that very element (node identity, not "some element with this ID"), and enveloped
    ** must be what cuts the signature out of it. */
    if (context->enveloping != NULL) {
        if (reference->target != context->enveloping)
            return wd_fail(failure, WD_REASON_REFERENCE_INVALID,
                           "the assertion's Reference \"%.100s\" points at another element, not the assertion",
                           reference->id);
        if (reference->excluded != signature || signature->parent != reference->target)
            return wd_fail(failure, WD_REASON_REFERENCE_INVALID,
                           "the assertion's signature is not enveloped (enveloped-signature transform, "
                           "signature a child of the assertion)");
    }
    plan->reference_count++;
    return 0;
}

static int read_signed_info(const xmlNode *signature, const wd_signature_context *context, signature_plan *plan,
                            wd_failure *failure)
{
    xmlNode *c14n_method = wd_xml_first_element(plan->signed_info);
    xmlNode *signature_method;
    xmlNode *parameter;
    const char *uri;
    size_t count = 0;

    if (!wd_xml_is(c14n_method, WD_NS_DSIG, "CanonicalizationMethod"))
        return wd_fail(failure, WD_REASON_SIGNATURE_INVALID, "SignedInfo begins with %.60s, not CanonicalizationMethod",
                       element_name(c14n_method));
    uri = wd_xml_attr(c14n_method, NULL, "Algorithm");
    if (uri == NULL || strcmp(uri, WD_ALG_EXC_C14N) != 0)
        return wd_fail(failure, WD_REASON_SIGNATURE_INVALID, "CanonicalizationMethod %.120s is not exc-c14n",
                       uri != NULL ? uri : "(without Algorithm)");
    if (read_inclusive_namespaces(c14n_method, &plan->prefix_list, WD_REASON_SIGNATURE_INVALID, failure) != 0)
        return -1;

    signature_method = wd_xml_next_element(c14n_method);
    if (!wd_xml_is(signature_method, WD_NS_DSIG, "SignatureMethod"))
        return wd_fail(failure, WD_REASON_SIGNATURE_INVALID, "CanonicalizationMethod is followed by %.60s, not SignatureMethod",
                       element_name(signature_method));
    /* CVE-2009-0217: a truncated MAC is forgeable; BSP R5401 forbids the element outright. */
    parameter = wd_xml_first_element(signature_method);
    if (wd_xml_is(parameter, WD_NS_DSIG, "HMACOutputLength"))
        return wd_fail(failure, WD_REASON_SIGNATURE_INVALID, "SignatureMethod carries HMACOutputLength");
    if (parameter != NULL)
        return wd_fail(failure, WD_REASON_SIGNATURE_INVALID, "SignatureMethod carries parameter %.60s",
                       element_name(parameter));
    uri = wd_xml_attr(signature_method, NULL, "Algorithm");
    if (uri == NULL)
        return wd_fail(failure, WD_REASON_SIGNATURE_INVALID, "SignatureMethod without Algorithm");
    if (wd_crypto_signature_algorithm(uri, context->settings->allow_sha1, &plan->algorithm, failure) != 0)
        return -1;

    /* Count before reading any, so that an oversized SignedInfo costs nothing more. */
    for (xmlNode *r = wd_xml_next_element(signature_method); r != NULL; r = wd_xml_next_element(r)) {
        if (!wd_xml_is(r, WD_NS_DSIG, "Reference"))
            return wd_fail(failure, WD_REASON_SIGNATURE_INVALID, "SignedInfo holds %.60s", element_name(r));
        if (++count > (size_t)context->settings->limits.references)
            return wd_fail(failure, WD_REASON_LIMIT_EXCEEDED, "SignedInfo has more than %d References (limits.references)",
                           context->settings->limits.references);
    }
    if (count == 0)
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "SignedInfo has no Reference");
    if (context->enveloping != NULL && count != 1)
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "the assertion's signature has %zu References, not one",
                       count);
    plan->references = calloc(count, sizeof *plan->references);
    if (plan->references == NULL)
        return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory reading SignedInfo");

    for (xmlNode *r = wd_xml_next_element(signature_method); r != NULL; r = wd_xml_next_element(r)) {
        if (read_reference(r, context, signature, plan, failure) != 0)
            return -1;
    }
    return 0;
}

static int decode_signature_value(const xmlNode *element, unsigned char **value, size_t *length,
                                  wd_failure *failure)
{
    size_t text_length = 0;
    char *text = wd_xml_text(element, true, &text_length);

    if (text == NULL) {
        if (text_length == 0)
            return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory reading SignatureValue");
        return wd_fail(failure, WD_REASON_SIGNATURE_INVALID, "SignatureValue holds more than text");
    }
    *value = wd_base64_decode(text, text_length, length);
    free(text);
    if (*value == NULL)
        return wd_fail(failure, WD_REASON_SIGNATURE_INVALID, "SignatureValue is not base64");
    if (*length == 0) {
        free(*value);
        *value = NULL;
        return wd_fail(failure, WD_REASON_SIGNATURE_INVALID, "SignatureValue is empty");
    }
    return 0;
}

static int append_bytes(void *context, const unsigned char *data, size_t length)
{
    byte_buffer *buffer = context;

    if (length > buffer->capacity - buffer->length) {
        size_t capacity = buffer->capacity > 0 ? buffer->capacity : 1024;
        unsigned char *grown;
        while (capacity - buffer->length < length) {
            if (capacity > SIZE_MAX / 2)
                return wd_fail_internal(buffer->failure, WARDEN_E_NOMEM, "canonical SignedInfo too large");
            capacity *= 2;
        }
        grown = realloc(buffer->data, capacity);
        if (grown == NULL)
            return wd_fail_internal(buffer->failure, WARDEN_E_NOMEM, "out of memory canonicalizing SignedInfo");
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->length, data, length);
    buffer->length += length;
    return 0;
}

static int update_digest(void *context, const unsigned char *data, size_t length)
{
    digest_stream *stream = context;

    if (EVP_DigestUpdate(stream->context, data, length) != 1)
        return wd_fail_internal(stream->failure, WARDEN_E_INTERNAL, "digest update failed");
    return 0;
}

static int check_reference_digest(const reference_plan *reference, size_t index, const wd_crypto *crypto,
                                  EVP_MD_CTX *digest_context, size_t *budget, wd_c14n_memo *memo,
                                  wd_failure *failure)
{
    digest_stream stream = { digest_context, failure };
    unsigned char computed[EVP_MAX_MD_SIZE];
    unsigned int computed_length = 0;
    unsigned char *expected = NULL;
    size_t expected_length = 0;
    size_t text_length = 0;
    char *text = NULL;
    int result = -1;

    text = wd_xml_text(reference->digest_value, true, &text_length);
    if (text == NULL) {
        if (text_length == 0)
            wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory reading a DigestValue");
        else
            wd_fail(failure, WD_REASON_DIGEST_MISMATCH, "DigestValue of \"%.100s\" holds more than text", reference->id);
        goto done;
    }
    expected = wd_base64_decode(text, text_length, &expected_length);
    if (expected == NULL) {
        wd_fail(failure, WD_REASON_DIGEST_MISMATCH, "DigestValue of \"%.100s\" is not base64", reference->id);
        goto done;
    }

    if (crypto->digests[reference->digest] == NULL ||
        EVP_DigestInit_ex(digest_context, crypto->digests[reference->digest], NULL) != 1) {
        wd_fail_internal(failure, WARDEN_E_INTERNAL, "digest initialisation failed");
        goto done;
    }
    if (wd_c14n_subtree_memo(reference->target, reference->excluded, reference->prefix_list, update_digest, &stream,
                             budget, memo, WD_REASON_REFERENCE_INVALID, failure) != 0)
        goto done;
    if (EVP_DigestFinal_ex(digest_context, computed, &computed_length) != 1) {
        wd_fail_internal(failure, WARDEN_E_INTERNAL, "digest finalisation failed");
        goto done;
    }
    if (expected_length != computed_length || CRYPTO_memcmp(expected, computed, computed_length) != 0) {
        wd_fail(failure, WD_REASON_DIGEST_MISMATCH, "Reference %zu (\"%.100s\"): the digest does not match",
                index + 1, reference->id);
        goto done;
    }
    result = 0;

done:
    free(text);
    free(expected);
    return result;
}

int wd_signature_verify(xmlNode *signature, const wd_signature_context *context,
                        wd_signature_result *out, wd_failure *failure)
{
    signature_plan plan;
    wd_cert *cert = NULL;
    xmlNode *token = NULL;
    unsigned char *signature_value = NULL;
    size_t signature_value_length = 0;
    byte_buffer canonical = { NULL, 0, 0, failure };
    unsigned char signed_info_digest[EVP_MAX_MD_SIZE];
    unsigned int signed_info_digest_length = 0;
    EVP_MD_CTX *digest_context = NULL;
    xmlNode **covered = NULL;
    int result = -1;

    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (out == NULL || context == NULL || context->crypto == NULL || context->trust == NULL ||
        context->ids == NULL || context->settings == NULL)
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "signature verification called without its context");
    if (!wd_xml_is(signature, WD_NS_DSIG, "Signature"))
        return wd_fail(failure, WD_REASON_SIGNATURE_INVALID, "not a ds:Signature element");

    memset(&plan, 0, sizeof plan);
    if (read_signature_parts(signature, &plan, failure) != 0)
        goto done;
    if (read_signed_info(signature, context, &plan, failure) != 0)
        goto done;
    if (decode_signature_value(plan.signature_value, &signature_value, &signature_value_length, failure) != 0)
        goto done;

    if (context->enveloping != NULL) {
        if (plan.key_info == NULL && context->default_cert != NULL)
            cert = wd_cert_ref(context->default_cert);
        else if (wd_key_reference_resolve_x509_data(plan.key_info, context->trust, &cert, failure) != 0)
            goto done;
    } else if (wd_key_reference_resolve(plan.key_info, context->trust, context->ids, context->security,
                                        context->tokens, context->token_count, &cert, &token, failure) != 0) {
        goto done;
    }
    if (wd_crypto_check_key(plan.algorithm, cert->key, context->settings->min_rsa_bits, failure) != 0)
        goto done;
    /* Before anything is canonicalized or verified: the chain cache makes this cheap, and a
    ** key nobody vouches for must not buy a public-key operation or a single digest. */
    if (wd_trust_store_validate_signer(context->trust, cert, context->now, failure) != 0)
        goto done;

    if (wd_c14n_subtree_memo(plan.signed_info, NULL, plan.prefix_list, append_bytes, &canonical,
                             context->c14n_budget, context->c14n_memo, WD_REASON_SIGNATURE_INVALID, failure) != 0)
        goto done;
    /* SHA-256 of SignedInfo once: the replay cache's key, and the RSA-SHA256 digest. ECDSA's
    ** (r, n-s) and a re-encoded SignatureValue verify too; SignedInfo is what the signer
    ** vouched for, so that is what the replay cache remembers. */
    if (wd_crypto_digest(context->crypto, WD_DIGEST_SHA256, canonical.data, canonical.length, signed_info_digest,
                         &signed_info_digest_length, failure) != 0)
        goto done;
    if (wd_crypto_verify_cached(context->crypto, plan.algorithm, cert->key, &cert->verify_cache, canonical.data,
                                canonical.length, signed_info_digest, signature_value, signature_value_length,
                                failure) != 0)
        goto done;

    digest_context = EVP_MD_CTX_new();
    if (digest_context == NULL) {
        wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory for a digest context");
        goto done;
    }
    for (size_t i = 0; i < plan.reference_count; i++) {
        if (check_reference_digest(&plan.references[i], i, context->crypto, digest_context, context->c14n_budget,
                                   context->c14n_memo, failure) != 0)
            goto done;
    }

    covered = malloc(plan.reference_count * sizeof *covered);
    if (covered == NULL) {
        wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory reporting signed parts");
        goto done;
    }
    for (size_t i = 0; i < plan.reference_count; i++)
        covered[i] = plan.references[i].target;

    out->covered = covered;
    out->covered_count = plan.reference_count;
    out->cert = cert;
    out->token = token;
    out->signature_value = signature_value;
    out->signature_value_length = signature_value_length;
    assert(signed_info_digest_length == sizeof out->signed_info_sha256);
    memcpy(out->signed_info_sha256, signed_info_digest, sizeof out->signed_info_sha256);
    covered = NULL;
    cert = NULL;
    signature_value = NULL;
    result = 0;

done:
    EVP_MD_CTX_free(digest_context);
    free(plan.references);
    free(canonical.data);
    free(covered);
    free(signature_value);
    wd_cert_unref(cert);
    return result;
}

void wd_signature_result_clear(wd_signature_result *result)
{
    if (result == NULL)
        return;
    free(result->covered);
    wd_cert_unref(result->cert);
    free(result->signature_value);
    memset(result, 0, sizeof *result);
}
