/*
** test_signature.c — wd_signature_verify over messages made by the test signer and parsed
** fresh from their bytes: every accepted key reference form and algorithm, what the result
** reports as covered, each rejection the verifier can produce, and xmlsec1 as an independent
** oracle for the signer.
*/
#include <check.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/base64.h"
#include "core/crypto.h"
#include "core/failure.h"
#include "core/ids.h"
#include "core/namespaces.h"
#include "core/settings.h"
#include "core/signature.h"
#include "core/trust_store.h"
#include "test_signer.h"

#define NOW      ((int64_t)1795608030) /* 2026-11-25T12:00:30Z */
#define CREATED  "2026-11-25T12:00:00Z"
#define EXPIRES  "2026-11-25T12:05:00Z"
#define BODY     "<ord:CreateOrder xmlns:ord=\"urn:example:orders\"><ord:amount>250</ord:amount>" \
                 "<ord:item>widget</ord:item></ord:CreateOrder>"

#define ALG_HMAC_SHA256 "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"
#define ALG_MD5         "http://www.w3.org/2001/04/xmldsig-more#md5"
#define ALG_XSLT        "http://www.w3.org/TR/1999/REC-xslt-19991116"
#define ALG_BASE64      "http://www.w3.org/2000/09/xmldsig#base64"
#define ALG_C14N        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
#define ALG_EXC_C14N_COMMENTS "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"

static wd_crypto       crypto;
static wd_trust_store *trust;

/* Per-test changes to the verifier's settings and budget, reset by setup(). */
static int     references_limit; /* 0: the default */
static int     transforms_limit;
static size_t *budget;           /* NULL: unbounded */

static const char *pki(const char *name, char *buffer, size_t capacity)
{
    const char *path = ts_pki_path(name, buffer, capacity);
    ck_assert_msg(path != NULL, "WARDEN_TEST_PKI is not set");
    return path;
}

static void setup(void)
{
    wd_failure failure = { 0 };
    char path[1024];
    char message[256];

    references_limit = 0;
    transforms_limit = 0;
    budget = NULL;
    ck_assert_int_eq(wd_crypto_init(&crypto, &failure), 0);
    ck_assert_int_eq(wd_trust_store_new(&trust), 0);
    ck_assert_msg(wd_trust_store_add_anchors(trust, pki("ca.pem", path, sizeof path), message, sizeof message) == 0,
                  "%s", message);
    ck_assert_msg(wd_trust_store_add_known(trust, pki("known.pem", path, sizeof path), message, sizeof message) == 0,
                  "%s", message);
}

static void teardown(void)
{
    wd_trust_store_free(trust);
    wd_crypto_clear(&crypto);
}

/* ------------------------------------------------------------------------------------------
** Making messages
*/

/* Key and certificate paths of one PKI identity ("alice" -> alice.key, alice.pem). */
typedef struct identity {
    char key[1024];
    char cert[1024];
} identity;

static void identity_of(const char *who, identity *out)
{
    char name[64];
    snprintf(name, sizeof name, "%s.key", who);
    pki(name, out->key, sizeof out->key);
    snprintf(name, sizeof name, "%s.pem", who);
    pki(name, out->cert, sizeof out->cert);
}

static xmlDoc *new_message(const char *body)
{
    xmlDoc *doc = ts_envelope_new(11, body != NULL ? body : BODY, CREATED, EXPIRES);
    ck_assert_ptr_nonnull(doc);
    return doc;
}

/* Signs doc as `who`; opt may be NULL (Body + Timestamp, rsa-sha256, sha256, BST). */
static void sign_as(xmlDoc *doc, const char *who, ts_options *opt)
{
    identity id;
    ts_options defaults = { 0 };

    identity_of(who, &id);
    if (opt == NULL)
        opt = &defaults;
    opt->key_pem_path = id.key;
    opt->cert_pem_path = id.cert;
    ck_assert_int_eq(ts_sign(doc, ts_security(doc), opt), 0);
}

static xmlDoc *signed_message(const char *who, ts_key_reference key_reference, const char *method)
{
    xmlDoc *doc = new_message(NULL);
    ts_options opt = { .key_reference = key_reference, .signature_method = method };
    sign_as(doc, who, &opt);
    return doc;
}

static xmlDoc *alice_message(void)
{
    return signed_message("alice", TS_KEY_BST, NULL);
}

static void resign_as(xmlDoc *doc, const char *who)
{
    identity id;
    identity_of(who, &id);
    ck_assert_int_eq(ts_resign(ts_signature(doc), id.key), 0);
}

/* ------------------------------------------------------------------------------------------
** Editing messages
*/
static xmlNode *child(xmlNode *parent, const char *ns_uri, const char *local_name)
{
    for (xmlNode *c = parent != NULL ? parent->children : NULL; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && c->ns != NULL && strcmp((const char *)c->ns->href, ns_uri) == 0 &&
            strcmp((const char *)c->name, local_name) == 0)
            return c;
    }
    return NULL;
}

static xmlNode *signed_info(xmlDoc *doc)
{
    return child(ts_signature(doc), WD_NS_DSIG, "SignedInfo");
}

static xmlNode *key_info(xmlDoc *doc)
{
    return child(ts_signature(doc), WD_NS_DSIG, "KeyInfo");
}

static xmlNode *token_reference(xmlDoc *doc)
{
    return child(key_info(doc), WD_NS_WSSE, "SecurityTokenReference");
}

static xmlNode *first_reference(xmlDoc *doc)
{
    return ts_reference(ts_signature(doc), 0);
}

static xmlNode *transforms_of(xmlNode *reference)
{
    return child(reference, WD_NS_DSIG, "Transforms");
}

static void remove_node(xmlNode *node)
{
    ck_assert_ptr_nonnull(node);
    xmlUnlinkNode(node);
    xmlFreeNode(node);
}

static void remove_children(xmlNode *node)
{
    while (node->children != NULL)
        remove_node(node->children);
}

static void set_attr(xmlNode *node, const char *name, const char *value)
{
    ck_assert_ptr_nonnull(node);
    xmlSetProp(node, BAD_CAST name, BAD_CAST value);
}

static void set_text(xmlNode *node, const char *text)
{
    ck_assert_ptr_nonnull(node);
    xmlNodeSetContent(node, NULL);
    xmlNodeAddContent(node, BAD_CAST text);
}

static xmlNode *add_transform(xmlNode *reference, const char *algorithm, bool first)
{
    xmlNode *transforms = transforms_of(reference);
    xmlNode *transform = ts_add_element(transforms, WD_NS_DSIG, "ds", "Transform", NULL);
    ck_assert_ptr_nonnull(transform);
    set_attr(transform, "Algorithm", algorithm);
    if (first && transforms->children != transform) {
        xmlUnlinkNode(transform);
        xmlAddPrevSibling(transforms->children, transform);
    }
    return transform;
}

/* Rebinds a namespace prefix declared on the Envelope: the attack PrefixList defends. */
static void rebind_envelope_prefix(xmlDoc *doc, const char *prefix, const char *href)
{
    xmlNode *envelope = xmlDocGetRootElement(doc);
    for (xmlNs *ns = envelope->nsDef; ns != NULL; ns = ns->next) {
        if ((prefix == NULL && ns->prefix == NULL) ||
            (prefix != NULL && ns->prefix != NULL && strcmp((const char *)ns->prefix, prefix) == 0)) {
            xmlFree((xmlChar *)ns->href);
            ns->href = xmlStrdup(BAD_CAST href);
            return;
        }
    }
    ck_abort_msg("no such prefix on the Envelope");
}

/* ------------------------------------------------------------------------------------------
** Verifying
*/
typedef struct outcome {
    xmlDoc             *doc;      /* parsed fresh from the signed message's bytes */
    wd_id_table        *ids;
    wd_signature_result result;
    wd_failure          failure;
    int                 status;
} outcome;

/* Verifies the element of target_id (NULL: the last ds:Signature) of signed_doc, parsed fresh
** from its bytes. */
static void verify_at(xmlDoc *signed_doc, bool allow_sha1, const char *target_id, outcome *o)
{
    wd_settings settings;
    wd_failure id_failure = { 0 };
    size_t length = 0;
    char *bytes = ts_serialize(signed_doc, &length);

    memset(o, 0, sizeof *o);
    ck_assert_ptr_nonnull(bytes);
    o->doc = ts_parse(bytes, length);
    free(bytes);
    ck_assert_ptr_nonnull(o->doc);
    ck_assert_msg(wd_ids_build(o->doc, &o->ids, &id_failure) == 0, "ids: %s", id_failure.detail);

    wd_settings_defaults(&settings);
    settings.allow_sha1 = allow_sha1;
    if (references_limit > 0)
        settings.limits.references = references_limit;
    if (transforms_limit > 0)
        settings.limits.transforms = transforms_limit;
    wd_signature_context context = {
        .crypto = &crypto, .trust = trust, .ids = o->ids, .security = ts_security(o->doc),
        .settings = &settings, .now = NOW, .c14n_budget = budget,
    };
    xmlNode *target = target_id != NULL ? ts_find_id(o->doc, target_id) : ts_signature(o->doc);
    o->status = wd_signature_verify(target, &context, &o->result, &o->failure);
}

static void verify_message(xmlDoc *signed_doc, bool allow_sha1, outcome *o)
{
    verify_at(signed_doc, allow_sha1, NULL, o);
}

static void verify_element(xmlDoc *signed_doc, const char *target_id, outcome *o)
{
    verify_at(signed_doc, false, target_id, o);
}

static void outcome_clear(outcome *o)
{
    wd_signature_result_clear(&o->result);
    wd_ids_free(o->ids);
    xmlFreeDoc(o->doc);
}

/* Verifies signed_doc (then frees it) and asserts the reason: "" for success. */
static void expect_reason_with(xmlDoc *signed_doc, bool allow_sha1, const char *reason)
{
    outcome o;
    verify_message(signed_doc, allow_sha1, &o);
    xmlFreeDoc(signed_doc);
    ck_assert_msg(strcmp(wd_reason_name(o.failure.reason), reason) == 0, "expected \"%s\", got \"%s\" (%s)", reason,
                  wd_reason_name(o.failure.reason), o.failure.detail);
    ck_assert_int_eq(o.status, reason[0] == '\0' ? 0 : -1);
    if (reason[0] == '\0') {
        ck_assert_ptr_nonnull(o.result.cert);
        ck_assert_uint_gt(o.result.covered_count, 0);
    } else {
        ck_assert_ptr_null(o.result.covered);
        ck_assert_ptr_null(o.result.cert);
        ck_assert_ptr_null(o.result.signature_value);
    }
    outcome_clear(&o);
}

static void expect_reason(xmlDoc *signed_doc, const char *reason)
{
    expect_reason_with(signed_doc, false, reason);
}

static void expect_verified(xmlDoc *signed_doc)
{
    expect_reason_with(signed_doc, false, "");
}

/* ------------------------------------------------------------------------------------------
** Accepted signatures
*/
START_TEST(rsa_sha256_by_binary_security_token_verifies)
{
    xmlDoc *doc = alice_message();
    outcome o;

    verify_message(doc, false, &o);
    xmlFreeDoc(doc);
    ck_assert_msg(o.status == 0, "%s: %s", wd_reason_name(o.failure.reason), o.failure.detail);
    ck_assert_uint_eq(o.result.covered_count, 2);
    ck_assert_ptr_eq(o.result.covered[0], ts_find_id(o.doc, "Body-1"));
    ck_assert_ptr_eq(o.result.covered[1], ts_find_id(o.doc, "TS-1"));
    ck_assert_ptr_eq(o.result.token, ts_find(o.doc, WD_NS_WSSE, "BinarySecurityToken"));
    ck_assert_ptr_nonnull(o.result.cert);
    ck_assert_str_eq(o.result.cert->subject, "CN=alice,OU=Payments,O=Example");
    ck_assert_uint_eq(o.result.signature_value_length, 256);
    outcome_clear(&o);
}
END_TEST

/* The header processor reads each BinarySecurityToken once; a signature whose key reference
** points at a token already read takes that certificate and never decodes the token again.
** Shown with a token whose text was spoiled after it was read: it still verifies with the
** certificate read before, and is token-unsupported when nothing was read. */
START_TEST(binary_security_token_already_read_is_not_decoded_again)
{
    xmlDoc *signed_doc = alice_message();
    size_t length = 0;
    char *bytes = ts_serialize(signed_doc, &length);
    xmlFreeDoc(signed_doc);
    xmlDoc *doc = ts_parse(bytes, length);
    free(bytes);
    wd_id_table *ids = NULL;
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_ids_build(doc, &ids, &failure), 0);

    xmlNode *token = ts_find(doc, WD_NS_WSSE, "BinarySecurityToken");
    ck_assert_ptr_nonnull(token);
    xmlChar *text = xmlNodeGetContent(token);
    size_t der_length = 0;
    unsigned char *der = wd_base64_decode((const char *)text, strlen((const char *)text), &der_length);
    xmlFree(text);
    ck_assert_ptr_nonnull(der);
    wd_cert *cert = NULL;
    ck_assert_int_eq(wd_trust_store_parse(trust, der, der_length, &cert, &failure), 0);
    free(der);
    xmlNodeSetContent(token, BAD_CAST "not base64 at all!");

    wd_settings settings;
    wd_settings_defaults(&settings);
    wd_read_token read = { token, cert };
    wd_signature_context context = {
        .crypto = &crypto, .trust = trust, .ids = ids, .security = ts_security(doc),
        .settings = &settings, .now = NOW, .tokens = &read, .token_count = 1,
    };
    wd_signature_result result;
    ck_assert_msg(wd_signature_verify(ts_signature(doc), &context, &result, &failure) == 0, "%s",
                  failure.detail);
    ck_assert_ptr_eq(result.cert, cert);
    ck_assert_ptr_eq(result.token, token);
    wd_signature_result_clear(&result);

    context.tokens = NULL;
    context.token_count = 0;
    ck_assert_int_eq(wd_signature_verify(ts_signature(doc), &context, &result, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "token-unsupported");

    wd_cert_unref(cert);
    wd_ids_free(ids);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(key_by_subject_key_identifier_verifies)
{
    xmlDoc *doc = signed_message("alice", TS_KEY_SKI, NULL);
    outcome o;

    verify_message(doc, false, &o);
    xmlFreeDoc(doc);
    ck_assert_msg(o.status == 0, "%s: %s", wd_reason_name(o.failure.reason), o.failure.detail);
    ck_assert_ptr_null(o.result.token);
    ck_assert_str_eq(o.result.cert->subject, "CN=alice,OU=Payments,O=Example");
    outcome_clear(&o);
}
END_TEST

START_TEST(key_by_thumbprint_verifies)
{
    expect_verified(signed_message("alice", TS_KEY_THUMBPRINT, NULL));
}
END_TEST

START_TEST(key_by_issuer_serial_verifies)
{
    expect_verified(signed_message("alice", TS_KEY_ISSUER_SERIAL, NULL));
}
END_TEST

START_TEST(key_by_issuer_serial_of_intermediate_issued_cert_verifies)
{
    expect_verified(signed_message("bob", TS_KEY_ISSUER_SERIAL, NULL));
}
END_TEST

START_TEST(key_by_x509_data_certificate_verifies)
{
    expect_verified(signed_message("alice", TS_KEY_X509_DATA_CERT, NULL));
}
END_TEST

START_TEST(zeep_x509_data_with_empty_issuer_serial_verifies)
{
    expect_verified(signed_message("alice", TS_KEY_ZEEP_X509_DATA, NULL));
}
END_TEST

START_TEST(key_by_inline_x509_key_identifier_verifies)
{
    expect_verified(signed_message("alice", TS_KEY_INLINE_X509, NULL));
}
END_TEST

START_TEST(ecdsa_p256_sha256_verifies)
{
    expect_verified(signed_message("ecuser", TS_KEY_BST, WD_ALG_ECDSA_SHA256));
}
END_TEST

START_TEST(rsa_pss_sha256_verifies)
{
    expect_verified(signed_message("alice", TS_KEY_BST, WD_ALG_RSA_PSS_SHA256));
}
END_TEST

START_TEST(rsa_sha512_with_sha384_digests_verifies)
{
    xmlDoc *doc = new_message(NULL);
    ts_options opt = { .signature_method = WD_ALG_RSA_SHA512, .digest_method = WD_ALG_SHA384 };
    sign_as(doc, "alice", &opt);
    expect_verified(doc);
}
END_TEST

START_TEST(soap12_message_verifies)
{
    xmlDoc *doc = ts_envelope_new(12, BODY, CREATED, EXPIRES);
    ck_assert_ptr_nonnull(doc);
    sign_as(doc, "alice", NULL);
    expect_verified(doc);
}
END_TEST

START_TEST(sha1_is_refused_by_default)
{
    xmlDoc *doc = new_message(NULL);
    ts_options opt = { .signature_method = WD_ALG_RSA_SHA1, .digest_method = WD_ALG_SHA1 };
    sign_as(doc, "alice", &opt);
    expect_reason(doc, "weak-algorithm");
}
END_TEST

START_TEST(sha1_digest_is_refused_by_default)
{
    xmlDoc *doc = new_message(NULL);
    ts_options opt = { .digest_method = WD_ALG_SHA1 };
    sign_as(doc, "alice", &opt);
    expect_reason(doc, "weak-algorithm");
}
END_TEST

START_TEST(sha1_is_accepted_when_allowed)
{
    xmlDoc *doc = new_message(NULL);
    ts_options opt = { .signature_method = WD_ALG_RSA_SHA1, .digest_method = WD_ALG_SHA1 };
    sign_as(doc, "alice", &opt);
    expect_reason_with(doc, true, "");
}
END_TEST

START_TEST(covered_holds_exactly_the_referenced_elements_in_order)
{
    static const char *const ids[] = { "Action-1", "Body-1", "TS-1" };
    xmlDoc *doc = new_message(NULL);
    ts_options opt = { .ids = ids, .id_count = 3 };
    outcome o;

    sign_as(doc, "alice", &opt);
    verify_message(doc, false, &o);
    xmlFreeDoc(doc);
    ck_assert_msg(o.status == 0, "%s: %s", wd_reason_name(o.failure.reason), o.failure.detail);
    ck_assert_uint_eq(o.result.covered_count, 3);
    ck_assert_ptr_eq(o.result.covered[0], ts_find(o.doc, WD_NS_WSA, "Action"));
    ck_assert_ptr_eq(o.result.covered[1], ts_find(o.doc, WD_NS_SOAP11, "Body"));
    ck_assert_ptr_eq(o.result.covered[2], ts_find(o.doc, WD_NS_WSU, "Timestamp"));
    outcome_clear(&o);
}
END_TEST

START_TEST(enveloped_transform_is_accepted)
{
    xmlDoc *doc = new_message(NULL);
    ts_options opt = { .enveloped_transform = true };
    sign_as(doc, "alice", &opt);
    expect_verified(doc);
}
END_TEST

START_TEST(enveloped_transform_leaves_out_the_signature_inside_the_referenced_element)
{
    static const char *const ids[] = { "SEC-1", "Body-1" };
    xmlDoc *doc = new_message(NULL);
    ts_options opt = { .ids = ids, .id_count = 2, .enveloped_transform = true };
    outcome o;

    xmlNewNsProp(ts_security(doc), xmlSearchNsByHref(doc, ts_security(doc), BAD_CAST WD_NS_WSU), BAD_CAST "Id",
                 BAD_CAST "SEC-1");
    sign_as(doc, "alice", &opt);
    verify_message(doc, false, &o);
    xmlFreeDoc(doc);
    ck_assert_msg(o.status == 0, "%s: %s", wd_reason_name(o.failure.reason), o.failure.detail);
    ck_assert_ptr_eq(o.result.covered[0], ts_security(o.doc));
    outcome_clear(&o);
}
END_TEST

START_TEST(element_containing_the_signature_without_enveloped_transform_is_digest_mismatch)
{
    static const char *const ids[] = { "SEC-1" };
    xmlDoc *doc = new_message(NULL);
    ts_options opt = { .ids = ids, .id_count = 1 };

    xmlNewNsProp(ts_security(doc), xmlSearchNsByHref(doc, ts_security(doc), BAD_CAST WD_NS_WSU), BAD_CAST "Id",
                 BAD_CAST "SEC-1");
    sign_as(doc, "alice", &opt);
    expect_reason(doc, "digest-mismatch");
}
END_TEST

START_TEST(four_transforms_are_accepted)
{
    xmlDoc *doc = alice_message();
    for (int i = 0; i < 3; i++)
        add_transform(first_reference(doc), WD_ALG_ENVELOPED, true);
    resign_as(doc, "alice");
    expect_verified(doc);
}
END_TEST

static xmlDoc *message_with_items(int count, const char *const **ids_out)
{
    static char names[40][16];
    static const char *ids[40];
    char body[8192];
    size_t used = 0;

    ck_assert_int_le(count, 40);
    used += (size_t)snprintf(body + used, sizeof body - used, "<ord:Batch xmlns:ord=\"urn:example:orders\">");
    for (int i = 0; i < count; i++) {
        snprintf(names[i], sizeof names[i], "item-%d", i + 1);
        ids[i] = names[i];
        used += (size_t)snprintf(body + used, sizeof body - used, "<ord:item wsu:Id=\"%s\">%d</ord:item>", names[i], i);
    }
    snprintf(body + used, sizeof body - used, "</ord:Batch>");
    *ids_out = ids;
    return new_message(body);
}

START_TEST(thirty_two_references_are_accepted)
{
    const char *const *ids;
    xmlDoc *doc = message_with_items(32, &ids);
    ts_options opt = { .ids = ids, .id_count = 32 };
    sign_as(doc, "alice", &opt);
    expect_verified(doc);
}
END_TEST

START_TEST(inclusive_prefix_list_is_honoured)
{
    xmlDoc *doc = new_message("<CreateOrder xmlns=\"urn:example:orders\"><item type=\"t:Gadget\">1</item></CreateOrder>");
    ts_options opt = { .inclusive_prefixes = "t", .signed_info_prefixes = "wsse soap" };

    xmlNewNs(xmlDocGetRootElement(doc), BAD_CAST "urn:example:types", BAD_CAST "t");
    sign_as(doc, "alice", &opt);
    expect_verified(xmlCopyDoc(doc, 1));
    /* The declaration of t is part of what was signed: moving t to another namespace changes
    ** what t:Gadget means, and must break the Body's digest. */
    rebind_envelope_prefix(doc, "t", "urn:evil:types");
    expect_reason(doc, "digest-mismatch");
}
END_TEST

START_TEST(without_prefix_list_an_unused_prefix_is_not_signed)
{
    xmlDoc *doc = new_message("<CreateOrder xmlns=\"urn:example:orders\"><item type=\"t:Gadget\">1</item></CreateOrder>");

    xmlNewNs(xmlDocGetRootElement(doc), BAD_CAST "urn:example:types", BAD_CAST "t");
    sign_as(doc, "alice", NULL);
    rebind_envelope_prefix(doc, "t", "urn:evil:types");
    /* Exclusive c14n drops a prefix only an attribute value uses: this is why clients send a
    ** PrefixList, and why the previous test's mismatch proves it is honoured. */
    expect_verified(doc);
}
END_TEST

START_TEST(default_namespace_in_prefix_list_is_honoured)
{
    xmlDoc *doc = new_message("<ord:CreateOrder xmlns:ord=\"urn:example:orders\"><ord:item type=\"Gadget\"/></ord:CreateOrder>");
    ts_options opt = { .inclusive_prefixes = "#default" };

    xmlNewNs(xmlDocGetRootElement(doc), BAD_CAST "urn:example:types", NULL);
    sign_as(doc, "alice", &opt);
    expect_verified(xmlCopyDoc(doc, 1));
    rebind_envelope_prefix(doc, NULL, "urn:evil:types");
    expect_reason(doc, "digest-mismatch");
}
END_TEST

/* ------------------------------------------------------------------------------------------
** digest-mismatch, signature-invalid
*/
START_TEST(body_edited_after_signing_is_digest_mismatch)
{
    xmlDoc *doc = alice_message();
    set_text(ts_find(doc, "urn:example:orders", "amount"), "25000");
    expect_reason(doc, "digest-mismatch");
}
END_TEST

START_TEST(digest_value_not_base64_is_digest_mismatch)
{
    xmlDoc *doc = alice_message();
    set_text(child(first_reference(doc), WD_NS_DSIG, "DigestValue"), "not*base64");
    resign_as(doc, "alice");
    expect_reason(doc, "digest-mismatch");
}
END_TEST

START_TEST(digest_value_with_markup_is_digest_mismatch)
{
    xmlDoc *doc = alice_message();
    ts_add_element(child(first_reference(doc), WD_NS_DSIG, "DigestValue"), WD_NS_DSIG, "ds", "X", "1");
    resign_as(doc, "alice");
    expect_reason(doc, "digest-mismatch");
}
END_TEST

START_TEST(flipped_signature_value_is_signature_invalid)
{
    xmlDoc *doc = alice_message();
    xmlNode *value = child(ts_signature(doc), WD_NS_DSIG, "SignatureValue");
    xmlChar *text = xmlNodeGetContent(value);

    text[10] = text[10] == 'A' ? 'B' : 'A';
    set_text(value, (const char *)text);
    xmlFree(text);
    expect_reason(doc, "signature-invalid");
}
END_TEST

START_TEST(signed_info_edited_after_signing_is_signature_invalid)
{
    xmlDoc *doc = alice_message();
    /* Dropping the Timestamp's Reference keeps every remaining digest right. */
    remove_node(ts_reference(ts_signature(doc), 1));
    expect_reason(doc, "signature-invalid");
}
END_TEST

START_TEST(signature_value_not_base64_is_signature_invalid)
{
    xmlDoc *doc = alice_message();
    set_text(child(ts_signature(doc), WD_NS_DSIG, "SignatureValue"), "%%%");
    expect_reason(doc, "signature-invalid");
}
END_TEST

START_TEST(empty_signature_value_is_signature_invalid)
{
    xmlDoc *doc = alice_message();
    set_text(child(ts_signature(doc), WD_NS_DSIG, "SignatureValue"), "");
    expect_reason(doc, "signature-invalid");
}
END_TEST

START_TEST(signature_value_with_markup_is_signature_invalid)
{
    xmlDoc *doc = alice_message();
    ts_add_element(child(ts_signature(doc), WD_NS_DSIG, "SignatureValue"), WD_NS_DSIG, "ds", "X", NULL);
    expect_reason(doc, "signature-invalid");
}
END_TEST

START_TEST(missing_signed_info_is_signature_invalid)
{
    xmlDoc *doc = alice_message();
    remove_node(signed_info(doc));
    expect_reason(doc, "signature-invalid");
}
END_TEST

START_TEST(duplicate_signed_info_is_signature_invalid)
{
    xmlDoc *doc = alice_message();
    xmlAddNextSibling(signed_info(doc), xmlCopyNode(signed_info(doc), 1));
    expect_reason(doc, "signature-invalid");
}
END_TEST

START_TEST(missing_signature_value_is_signature_invalid)
{
    xmlDoc *doc = alice_message();
    remove_node(child(ts_signature(doc), WD_NS_DSIG, "SignatureValue"));
    expect_reason(doc, "signature-invalid");
}
END_TEST

START_TEST(element_after_key_info_is_signature_invalid)
{
    xmlDoc *doc = alice_message();
    ts_add_element(ts_signature(doc), "urn:example:other", "x", "Extra", NULL);
    expect_reason(doc, "signature-invalid");
}
END_TEST

START_TEST(element_in_place_of_key_info_is_signature_invalid)
{
    xmlDoc *doc = alice_message();
    xmlNodeSetName(key_info(doc), BAD_CAST "KeyInformation");
    expect_reason(doc, "signature-invalid");
}
END_TEST

START_TEST(inclusive_c14n_method_is_signature_invalid)
{
    xmlDoc *doc = alice_message();
    set_attr(child(signed_info(doc), WD_NS_DSIG, "CanonicalizationMethod"), "Algorithm", ALG_C14N);
    resign_as(doc, "alice");
    expect_reason(doc, "signature-invalid");
}
END_TEST

START_TEST(exc_c14n_with_comments_method_is_signature_invalid)
{
    xmlDoc *doc = alice_message();
    set_attr(child(signed_info(doc), WD_NS_DSIG, "CanonicalizationMethod"), "Algorithm", ALG_EXC_C14N_COMMENTS);
    resign_as(doc, "alice");
    expect_reason(doc, "signature-invalid");
}
END_TEST

START_TEST(c14n_method_with_foreign_parameter_is_signature_invalid)
{
    xmlDoc *doc = alice_message();
    ts_add_element(child(signed_info(doc), WD_NS_DSIG, "CanonicalizationMethod"), "urn:example:other", "x", "P", NULL);
    resign_as(doc, "alice");
    expect_reason(doc, "signature-invalid");
}
END_TEST

START_TEST(hmac_output_length_is_signature_invalid)
{
    xmlDoc *doc = alice_message();
    ts_add_element(child(signed_info(doc), WD_NS_DSIG, "SignatureMethod"), WD_NS_DSIG, "ds", "HMACOutputLength", "40");
    resign_as(doc, "alice");
    expect_reason(doc, "signature-invalid");
}
END_TEST

START_TEST(signature_method_with_other_parameters_is_signature_invalid)
{
    xmlDoc *doc = alice_message();
    ts_add_element(child(signed_info(doc), WD_NS_DSIG, "SignatureMethod"), "urn:example:other", "x", "P", "1");
    resign_as(doc, "alice");
    expect_reason(doc, "signature-invalid");
}
END_TEST

START_TEST(signature_method_without_algorithm_is_signature_invalid)
{
    xmlDoc *doc = alice_message();
    xmlUnsetProp(child(signed_info(doc), WD_NS_DSIG, "SignatureMethod"), BAD_CAST "Algorithm");
    expect_reason(doc, "signature-invalid");
}
END_TEST

START_TEST(signed_info_holding_other_elements_is_signature_invalid)
{
    xmlDoc *doc = alice_message();
    ts_add_element(signed_info(doc), WD_NS_DSIG, "ds", "Manifest", NULL);
    resign_as(doc, "alice");
    expect_reason(doc, "signature-invalid");
}
END_TEST

START_TEST(signed_info_prefix_list_too_long_is_signature_invalid)
{
    char prefixes[1024] = "";
    xmlDoc *doc = new_message(NULL);
    ts_options opt = { 0 };

    for (int i = 0; i <= 64; i++)
        snprintf(prefixes + strlen(prefixes), sizeof prefixes - strlen(prefixes), "p%d ", i);
    opt.signed_info_prefixes = prefixes;
    sign_as(doc, "alice", &opt);
    expect_reason(doc, "signature-invalid");
}
END_TEST

START_TEST(relative_namespace_uri_is_refused)
{
    xmlDoc *doc = alice_message();
    xmlNode *order = ts_find(doc, "urn:example:orders", "CreateOrder");
    xmlNode *odd = xmlNewChild(order, NULL, BAD_CAST "note", BAD_CAST "x");
    xmlSetNs(odd, xmlNewNs(odd, BAD_CAST "relative/path", NULL));
    /* Found when the Body is canonicalized: only signed subtrees are walked. */
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(element_that_is_not_a_signature_is_signature_invalid)
{
    xmlDoc *doc = alice_message();
    outcome o;

    verify_element(doc, "Body-1", &o);
    xmlFreeDoc(doc);
    ck_assert_int_eq(o.status, -1);
    ck_assert_str_eq(wd_reason_name(o.failure.reason), "signature-invalid");
    outcome_clear(&o);
}
END_TEST

/* ------------------------------------------------------------------------------------------
** reference-invalid
*/
static void expect_reference_uri_refused(const char *uri)
{
    xmlDoc *doc = alice_message();
    set_attr(first_reference(doc), "URI", uri);
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}

START_TEST(reference_to_unknown_id_is_reference_invalid)
{
    expect_reference_uri_refused("#nope");
}
END_TEST

START_TEST(empty_reference_uri_is_reference_invalid)
{
    expect_reference_uri_refused("");
}
END_TEST

START_TEST(external_reference_uri_is_reference_invalid)
{
    expect_reference_uri_refused("http://evil.example.com/body.xml");
}
END_TEST

START_TEST(bare_hash_reference_uri_is_reference_invalid)
{
    expect_reference_uri_refused("#");
}
END_TEST

START_TEST(xpointer_reference_uri_is_reference_invalid)
{
    expect_reference_uri_refused("#xpointer(id('Body-1'))");
}
END_TEST

START_TEST(reference_without_uri_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    xmlUnsetProp(first_reference(doc), BAD_CAST "URI");
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(reference_into_the_signature_itself_is_reference_invalid)
{
    expect_reference_uri_refused("#SIG-1");
}
END_TEST

START_TEST(reference_of_manifest_type_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    set_attr(first_reference(doc), "Type", "http://www.w3.org/2000/09/xmldsig#Manifest");
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(missing_transforms_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    remove_node(transforms_of(first_reference(doc)));
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(empty_transforms_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    remove_children(transforms_of(first_reference(doc)));
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(xslt_transform_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    add_transform(first_reference(doc), ALG_XSLT, true);
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(base64_transform_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    add_transform(first_reference(doc), ALG_BASE64, true);
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(transform_without_algorithm_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    xmlNode *transform = add_transform(first_reference(doc), WD_ALG_ENVELOPED, true);
    xmlUnsetProp(transform, BAD_CAST "Algorithm");
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(five_transforms_are_limit_exceeded)
{
    xmlDoc *doc = alice_message();
    for (int i = 0; i < 4; i++)
        add_transform(first_reference(doc), WD_ALG_ENVELOPED, true);
    resign_as(doc, "alice");
    expect_reason(doc, "limit-exceeded");
}
END_TEST

START_TEST(transforms_limit_follows_the_setting)
{
    xmlDoc *doc = alice_message();
    add_transform(first_reference(doc), WD_ALG_ENVELOPED, true);
    resign_as(doc, "alice");
    transforms_limit = 1;
    expect_reason(doc, "limit-exceeded");
}
END_TEST

START_TEST(last_transform_not_exc_c14n_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    xmlNode *transforms = transforms_of(first_reference(doc));
    remove_children(transforms);
    add_transform(first_reference(doc), WD_ALG_ENVELOPED, false);
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(exc_c14n_before_the_last_transform_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    add_transform(first_reference(doc), WD_ALG_EXC_C14N, true);
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(enveloped_transform_with_parameters_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    xmlNode *transform = add_transform(first_reference(doc), WD_ALG_ENVELOPED, true);
    ts_add_element(transform, WD_NS_DSIG, "ds", "XPath", "1");
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(transforms_holding_other_elements_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    ts_add_element(transforms_of(first_reference(doc)), WD_NS_DSIG, "ds", "XPath", "1");
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(transform_prefix_list_too_long_is_reference_invalid)
{
    char prefixes[1024] = "";
    xmlDoc *doc = new_message(NULL);
    ts_options opt = { 0 };

    for (int i = 0; i <= 64; i++)
        snprintf(prefixes + strlen(prefixes), sizeof prefixes - strlen(prefixes), "p%d ", i);
    opt.inclusive_prefixes = prefixes;
    sign_as(doc, "alice", &opt);
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(exc_c14n_transform_with_foreign_parameter_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    xmlNode *transforms = transforms_of(first_reference(doc));
    ts_add_element(child(transforms, WD_NS_DSIG, "Transform"), WD_NS_DSIG, "ds", "XPath", "1");
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(exc_c14n_transform_with_two_inclusive_namespaces_is_reference_invalid)
{
    xmlDoc *doc = new_message(NULL);
    ts_options opt = { .inclusive_prefixes = "ord" };
    xmlNode *transform;
    xmlNode *inclusive;

    sign_as(doc, "alice", &opt);
    transform = child(transforms_of(first_reference(doc)), WD_NS_DSIG, "Transform");
    inclusive = child(transform, WD_NS_EXC_C14N, "InclusiveNamespaces");
    xmlAddChild(transform, xmlCopyNode(inclusive, 1));
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(digest_method_with_parameters_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    ts_add_element(child(first_reference(doc), WD_NS_DSIG, "DigestMethod"), "urn:example:other", "x", "P", NULL);
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(missing_digest_method_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    remove_node(child(first_reference(doc), WD_NS_DSIG, "DigestMethod"));
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(digest_method_without_algorithm_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    xmlUnsetProp(child(first_reference(doc), WD_NS_DSIG, "DigestMethod"), BAD_CAST "Algorithm");
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(missing_digest_value_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    remove_node(child(first_reference(doc), WD_NS_DSIG, "DigestValue"));
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(element_after_digest_value_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    ts_add_element(first_reference(doc), WD_NS_DSIG, "ds", "DigestValue", "AAAA");
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(thirty_three_references_are_limit_exceeded)
{
    const char *const *ids;
    xmlDoc *doc = message_with_items(33, &ids);
    ts_options opt = { .ids = ids, .id_count = 33 };
    sign_as(doc, "alice", &opt);
    expect_reason(doc, "limit-exceeded");
}
END_TEST

START_TEST(references_limit_follows_the_setting)
{
    const char *const *ids;
    xmlDoc *doc = message_with_items(3, &ids);
    ts_options opt = { .ids = ids, .id_count = 3 };
    sign_as(doc, "alice", &opt);
    references_limit = 2;
    expect_reason(doc, "limit-exceeded");
}
END_TEST

/* Each Reference covers the next one's element and more: without a budget shared by all of
** them, n nested References cost n passes over the message. */
static xmlDoc *nested_references_message(int depth)
{
    static char names[16][16];
    static const char *ids[16];
    char body[16384];
    size_t used = 0;

    ck_assert_int_le(depth, 16);
    for (int i = 0; i < depth; i++) {
        snprintf(names[i], sizeof names[i], "nest-%d", i + 1);
        ids[i] = names[i];
        used += (size_t)snprintf(body + used, sizeof body - used,
                                 "<ord:nest xmlns:ord=\"urn:example:orders\" wsu:Id=\"%s\">%0400d", names[i], i);
    }
    for (int i = 0; i < depth; i++)
        used += (size_t)snprintf(body + used, sizeof body - used, "</ord:nest>");
    ck_assert_uint_lt(used, sizeof body);
    xmlDoc *doc = new_message(body);
    ts_options opt = { .ids = ids, .id_count = (size_t)depth };
    sign_as(doc, "alice", &opt);
    return doc;
}

START_TEST(nested_references_within_the_budget_are_accepted_and_charged)
{
    size_t left = 1000000;
    budget = &left;
    expect_verified(nested_references_message(8));
    /* 8 nested References of about 8 x 430, 7 x 430, ... bytes (15,000 canonical bytes), the
    ** namespace declarations they walk, and SignedInfo */
    ck_assert_uint_lt(left, 1000000 - 15000);
    ck_assert_uint_gt(left, 1000000 - 50000);
}
END_TEST

START_TEST(nested_references_over_the_budget_are_limit_exceeded)
{
    size_t left = 8000;
    budget = &left;
    expect_reason(nested_references_message(8), "limit-exceeded");
    ck_assert_uint_eq(left, 0);
}
END_TEST

START_TEST(signed_info_without_reference_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    remove_node(ts_reference(ts_signature(doc), 1));
    remove_node(ts_reference(ts_signature(doc), 0));
    resign_as(doc, "alice");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(ds_object_in_the_signature_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    ts_add_element(ts_signature(doc), WD_NS_DSIG, "ds", "Object", "wrapped");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(duplicate_reference_is_reference_invalid)
{
    static const char *const ids[] = { "Body-1", "TS-1", "Body-1" };
    xmlDoc *doc = new_message(NULL);
    ts_options opt = { .ids = ids, .id_count = 3 };
    sign_as(doc, "alice", &opt);
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(two_references_to_one_element_by_two_ids_are_reference_invalid)
{
    static const char *const ids[] = { "Body-1", "Body-2" };
    xmlDoc *doc = new_message(NULL);
    ts_options opt = { .ids = ids, .id_count = 2 };

    set_attr(ts_find_id(doc, "Body-1"), "Id", "Body-2");
    sign_as(doc, "alice", &opt);
    expect_reason(doc, "reference-invalid");
}
END_TEST

/* ------------------------------------------------------------------------------------------
** weak-algorithm, key-mismatch
*/
START_TEST(md5_digest_is_weak_algorithm)
{
    xmlDoc *doc = new_message(NULL);
    ts_options opt = { .digest_method = ALG_MD5 };
    sign_as(doc, "alice", &opt);
    expect_reason(doc, "weak-algorithm");
}
END_TEST

START_TEST(hmac_signature_method_is_weak_algorithm)
{
    expect_reason(signed_message("alice", TS_KEY_BST, ALG_HMAC_SHA256), "weak-algorithm");
}
END_TEST

START_TEST(rsa_1024_key_is_weak_algorithm)
{
    expect_reason(signed_message("small", TS_KEY_BST, NULL), "weak-algorithm");
}
END_TEST

START_TEST(ec_key_declared_as_rsa_sha256_is_key_mismatch)
{
    expect_reason(signed_message("ecuser", TS_KEY_BST, WD_ALG_RSA_SHA256), "key-mismatch");
}
END_TEST

START_TEST(rsa_key_declared_as_ecdsa_is_key_mismatch)
{
    expect_reason(signed_message("alice", TS_KEY_BST, WD_ALG_ECDSA_SHA256), "key-mismatch");
}
END_TEST

/* ------------------------------------------------------------------------------------------
** token-unsupported and key reference errors
*/
START_TEST(key_value_instead_of_token_reference_is_token_unsupported)
{
    xmlDoc *doc = alice_message();
    xmlNode *info = key_info(doc);
    remove_children(info);
    xmlNode *value = ts_add_element(info, WD_NS_DSIG, "ds", "KeyValue", NULL);
    ts_add_element(value, WD_NS_DSIG, "ds", "RSAKeyValue", NULL);
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(retrieval_method_is_token_unsupported)
{
    xmlDoc *doc = alice_message();
    xmlNode *info = key_info(doc);
    remove_children(info);
    set_attr(ts_add_element(info, WD_NS_DSIG, "ds", "RetrievalMethod", NULL), "URI", "#X509-1");
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(two_key_info_children_are_token_unsupported)
{
    xmlDoc *doc = alice_message();
    ts_add_element(key_info(doc), WD_NS_DSIG, "ds", "KeyName", "alice");
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(missing_key_info_is_token_unsupported)
{
    xmlDoc *doc = alice_message();
    remove_node(key_info(doc));
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(token_reference_with_two_children_is_token_unsupported)
{
    xmlDoc *doc = alice_message();
    xmlNode *copy = xmlCopyNode(child(token_reference(doc), WD_NS_WSSE, "Reference"), 1);
    xmlAddChild(token_reference(doc), copy);
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(embedded_token_reference_is_token_unsupported)
{
    xmlDoc *doc = alice_message();
    remove_children(token_reference(doc));
    ts_add_element(token_reference(doc), WD_NS_WSSE, "wsse", "Embedded", NULL);
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(direct_reference_to_the_body_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    set_attr(child(token_reference(doc), WD_NS_WSSE, "Reference"), "URI", "#Body-1");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(direct_reference_to_unknown_id_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    set_attr(child(token_reference(doc), WD_NS_WSSE, "Reference"), "URI", "#X509-9");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(direct_reference_that_is_not_same_document_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    set_attr(child(token_reference(doc), WD_NS_WSSE, "Reference"), "URI", "http://example.com/cert");
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(direct_reference_to_token_outside_the_security_header_is_reference_invalid)
{
    xmlDoc *doc = alice_message();
    xmlNode *token = ts_find(doc, WD_NS_WSSE, "BinarySecurityToken");
    xmlNode *header = ts_security(doc)->parent;
    xmlUnlinkNode(token);
    xmlAddChild(header, token);
    xmlReconciliateNs(doc, token);
    expect_reason(doc, "reference-invalid");
}
END_TEST

START_TEST(direct_reference_of_other_value_type_is_token_unsupported)
{
    xmlDoc *doc = alice_message();
    set_attr(child(token_reference(doc), WD_NS_WSSE, "Reference"), "ValueType",
             "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0");
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(key_identifier_of_unknown_value_type_is_token_unsupported)
{
    xmlDoc *doc = signed_message("alice", TS_KEY_SKI, NULL);
    set_attr(child(token_reference(doc), WD_NS_WSSE, "KeyIdentifier"), "ValueType", "urn:example:kerberos");
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(key_identifier_without_value_type_is_token_unsupported)
{
    xmlDoc *doc = signed_message("alice", TS_KEY_SKI, NULL);
    xmlUnsetProp(child(token_reference(doc), WD_NS_WSSE, "KeyIdentifier"), BAD_CAST "ValueType");
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(key_identifier_of_other_encoding_is_token_unsupported)
{
    xmlDoc *doc = signed_message("alice", TS_KEY_SKI, NULL);
    set_attr(child(token_reference(doc), WD_NS_WSSE, "KeyIdentifier"), "EncodingType",
             "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#HexBinary");
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(key_identifier_not_base64_is_token_unsupported)
{
    xmlDoc *doc = signed_message("alice", TS_KEY_SKI, NULL);
    set_text(child(token_reference(doc), WD_NS_WSSE, "KeyIdentifier"), "***");
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(empty_key_identifier_is_token_unsupported)
{
    xmlDoc *doc = signed_message("alice", TS_KEY_SKI, NULL);
    set_text(child(token_reference(doc), WD_NS_WSSE, "KeyIdentifier"), "");
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(key_identifier_with_markup_is_token_unsupported)
{
    xmlDoc *doc = signed_message("alice", TS_KEY_SKI, NULL);
    ts_add_element(child(token_reference(doc), WD_NS_WSSE, "KeyIdentifier"), WD_NS_WSSE, "wsse", "X", NULL);
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(thumbprint_of_wrong_length_is_token_unsupported)
{
    xmlDoc *doc = signed_message("alice", TS_KEY_THUMBPRINT, NULL);
    set_text(child(token_reference(doc), WD_NS_WSSE, "KeyIdentifier"), "AAECAwQFBgcICQ==");
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(inline_certificate_that_does_not_parse_is_token_unsupported)
{
    xmlDoc *doc = signed_message("alice", TS_KEY_INLINE_X509, NULL);
    set_text(child(token_reference(doc), WD_NS_WSSE, "KeyIdentifier"), "AAECAwQFBgcICQ==");
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(x509_data_with_subject_key_identifier_is_token_unsupported)
{
    xmlDoc *doc = signed_message("alice", TS_KEY_X509_DATA_CERT, NULL);
    ts_add_element(child(token_reference(doc), WD_NS_DSIG, "X509Data"), WD_NS_DSIG, "ds", "X509SKI", "AAAA");
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(x509_data_with_only_an_empty_issuer_serial_is_token_unsupported)
{
    xmlDoc *doc = signed_message("alice", TS_KEY_ZEEP_X509_DATA, NULL);
    remove_node(child(child(token_reference(doc), WD_NS_DSIG, "X509Data"), WD_NS_DSIG, "X509Certificate"));
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(x509_data_certificate_not_base64_is_token_unsupported)
{
    xmlDoc *doc = signed_message("alice", TS_KEY_X509_DATA_CERT, NULL);
    set_text(child(child(token_reference(doc), WD_NS_DSIG, "X509Data"), WD_NS_DSIG, "X509Certificate"), "#");
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(issuer_serial_with_a_non_decimal_serial_is_token_unsupported)
{
    xmlDoc *doc = signed_message("alice", TS_KEY_ISSUER_SERIAL, NULL);
    xmlNode *issuer_serial = child(child(token_reference(doc), WD_NS_DSIG, "X509Data"), WD_NS_DSIG, "X509IssuerSerial");
    set_text(child(issuer_serial, WD_NS_DSIG, "X509SerialNumber"), "0x1e5");
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(issuer_serial_without_serial_number_is_token_unsupported)
{
    xmlDoc *doc = signed_message("alice", TS_KEY_ISSUER_SERIAL, NULL);
    xmlNode *issuer_serial = child(child(token_reference(doc), WD_NS_DSIG, "X509Data"), WD_NS_DSIG, "X509IssuerSerial");
    remove_node(child(issuer_serial, WD_NS_DSIG, "X509SerialNumber"));
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(issuer_name_with_markup_is_token_unsupported)
{
    xmlDoc *doc = signed_message("alice", TS_KEY_ISSUER_SERIAL, NULL);
    xmlNode *issuer_serial = child(child(token_reference(doc), WD_NS_DSIG, "X509Data"), WD_NS_DSIG, "X509IssuerSerial");
    ts_add_element(child(issuer_serial, WD_NS_DSIG, "X509IssuerName"), WD_NS_DSIG, "ds", "X", NULL);
    expect_reason(doc, "token-unsupported");
}
END_TEST

START_TEST(binary_security_token_that_is_not_a_certificate_is_token_unsupported)
{
    xmlDoc *doc = alice_message();
    set_text(ts_find(doc, WD_NS_WSSE, "BinarySecurityToken"), "AAECAwQFBgcICQ==");
    expect_reason(doc, "token-unsupported");
}
END_TEST

/* ------------------------------------------------------------------------------------------
** cert-untrusted, cert-expired
*/
START_TEST(rogue_ca_certificate_is_cert_untrusted)
{
    expect_reason(signed_message("mallory", TS_KEY_BST, NULL), "cert-untrusted");
}
END_TEST

START_TEST(rogue_inline_certificate_is_cert_untrusted)
{
    expect_reason(signed_message("mallory", TS_KEY_INLINE_X509, NULL), "cert-untrusted");
}
END_TEST

START_TEST(unknown_subject_key_identifier_is_cert_untrusted)
{
    expect_reason(signed_message("mallory", TS_KEY_SKI, NULL), "cert-untrusted");
}
END_TEST

START_TEST(unknown_thumbprint_is_cert_untrusted)
{
    expect_reason(signed_message("mallory", TS_KEY_THUMBPRINT, NULL), "cert-untrusted");
}
END_TEST

START_TEST(unknown_issuer_serial_is_cert_untrusted)
{
    expect_reason(signed_message("mallory", TS_KEY_ISSUER_SERIAL, NULL), "cert-untrusted");
}
END_TEST

START_TEST(expired_certificate_is_cert_expired)
{
    expect_reason(signed_message("expired", TS_KEY_BST, NULL), "cert-expired");
}
END_TEST

/* The signer's chain is checked before SignedInfo is verified and before any Reference is
** digested: a self-made key with its certificate inline buys no canonicalization. */
START_TEST(untrusted_signer_is_refused_before_any_reference_is_digested)
{
    size_t left = 1000000;
    xmlDoc *doc = signed_message("mallory", TS_KEY_INLINE_X509, NULL);
    set_text(ts_find(doc, "urn:example:orders", "amount"), "999999");
    budget = &left;
    expect_reason(doc, "cert-untrusted");
    ck_assert_uint_eq(left, 1000000);
}
END_TEST

START_TEST(untrusted_signer_with_a_broken_signature_value_is_cert_untrusted)
{
    xmlDoc *doc = signed_message("mallory", TS_KEY_X509_DATA_CERT, NULL);
    set_text(ts_find(doc, WD_NS_DSIG, "SignatureValue"), "AAECAwQFBgcICQ==");
    expect_reason(doc, "cert-untrusted");
}
END_TEST

/* ------------------------------------------------------------------------------------------
** cert-usage, cert-revoked: the certificate whose key signed
*/
START_TEST(root_ca_signing_is_cert_usage)
{
    expect_reason(signed_message("ca", TS_KEY_BST, NULL), "cert-usage");
    expect_reason(signed_message("ca", TS_KEY_INLINE_X509, NULL), "cert-usage");
}
END_TEST

START_TEST(intermediate_ca_signing_is_cert_usage)
{
    /* the issuing CA is a known certificate: found by reference as well as carried inline */
    expect_reason(signed_message("intermediate", TS_KEY_BST, NULL), "cert-usage");
    expect_reason(signed_message("intermediate", TS_KEY_ISSUER_SERIAL, NULL), "cert-usage");
    expect_reason(signed_message("intermediate", TS_KEY_SKI, NULL), "cert-usage");
}
END_TEST

START_TEST(key_encipherment_only_certificate_signing_is_cert_usage)
{
    expect_reason(signed_message("tls-server", TS_KEY_BST, NULL), "cert-usage");
}
END_TEST

START_TEST(trust_eku_decides_which_leaves_may_sign)
{
    static const char *const client_auth[] = { "clientAuth" };
    char message[256] = "";
    ck_assert_int_eq(wd_trust_store_require_eku(trust, client_auth, 1, message, sizeof message), WARDEN_OK);
    expect_verified(signed_message("client", TS_KEY_BST, NULL));
    expect_reason(signed_message("alice", TS_KEY_BST, NULL), "cert-usage");
    expect_reason(signed_message("mailer", TS_KEY_X509_DATA_CERT, NULL), "cert-usage");
}
END_TEST

START_TEST(revoked_signer_is_cert_revoked)
{
    char path[1024], message[256] = "";
    ck_assert_msg(wd_trust_store_add_crls(trust, pki("crl-root.pem", path, sizeof path), message, sizeof message) == 0,
                  "%s", message);
    expect_reason(signed_message("revoked", TS_KEY_BST, NULL), "cert-revoked");
    expect_verified(signed_message("alice", TS_KEY_BST, NULL));
    /* no CRL of the issuing CA: bob's status is unknown, which is not good enough */
    expect_reason(signed_message("bob", TS_KEY_BST, NULL), "cert-untrusted");
}
END_TEST

/* ------------------------------------------------------------------------------------------
** xmlsec1 as an oracle for the signer
*/
static bool have_xmlsec1(void)
{
    return system("xmlsec1 --version >/dev/null 2>&1") == 0;
}

/* Runs xmlsec1 --verify on doc with the certificate's key; true when it says OK. */
static bool xmlsec1_verifies(xmlDoc *doc, const char *cert_name, const char *extra_id_attrs)
{
    const char *tmp = getenv("TMPDIR");
    char path[1024];
    char cert[1024];
    char command[4096];
    int fd;
    int status;

    snprintf(path, sizeof path, "%s/warden-signature-XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(ts_write_file(doc, path), 0);
    snprintf(command, sizeof command,
             "xmlsec1 --verify --id-attr:Id '%s:Timestamp' --id-attr:Id '%s:Body' --id-attr:Id '%s:Body' %s "
             "--pubkey-cert-pem '%s' '%s' >/dev/null 2>&1",
             WD_NS_WSU, WD_NS_SOAP11, WD_NS_SOAP12, extra_id_attrs != NULL ? extra_id_attrs : "",
             pki(cert_name, cert, sizeof cert), path);
    status = system(command);
    unlink(path);
    return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

START_TEST(xmlsec1_accepts_what_the_signer_makes)
{
    static const char *const ids[] = { "Action-1", "Body-1", "TS-1" };
    char extra[512];
    xmlDoc *doc;

    if (!have_xmlsec1())
        return;
    snprintf(extra, sizeof extra, "--id-attr:Id '%s:Action' --id-attr:Id '%s:Security'", WD_NS_WSA, WD_NS_WSSE);

    doc = alice_message();
    ck_assert_msg(xmlsec1_verifies(doc, "alice.pem", NULL), "RSA-SHA256 by BST");
    xmlFreeDoc(doc);

    doc = signed_message("ecuser", TS_KEY_ISSUER_SERIAL, WD_ALG_ECDSA_SHA256);
    ck_assert_msg(xmlsec1_verifies(doc, "ecuser.pem", NULL), "ECDSA-SHA256");
    xmlFreeDoc(doc);

    doc = new_message("<CreateOrder xmlns=\"urn:example:orders\"><item type=\"t:Gadget\">1</item></CreateOrder>");
    xmlNewNs(xmlDocGetRootElement(doc), BAD_CAST "urn:example:types", BAD_CAST "t");
    {
        ts_options opt = { .ids = ids, .id_count = 3, .inclusive_prefixes = "t #default",
                           .signed_info_prefixes = "wsse soap", .enveloped_transform = true,
                           .key_reference = TS_KEY_ZEEP_X509_DATA };
        sign_as(doc, "alice", &opt);
    }
    ck_assert_msg(xmlsec1_verifies(doc, "alice.pem", extra), "PrefixList, enveloped, WS-A header");
    xmlFreeDoc(doc);

    doc = ts_envelope_new(12, BODY, CREATED, EXPIRES);
    xmlNewNsProp(ts_security(doc), xmlSearchNsByHref(doc, ts_security(doc), BAD_CAST WD_NS_WSU), BAD_CAST "Id",
                 BAD_CAST "SEC-1");
    {
        static const char *const security_ids[] = { "SEC-1", "Body-1" };
        ts_options opt = { .ids = security_ids, .id_count = 2, .enveloped_transform = true };
        sign_as(doc, "alice", &opt);
    }
    ck_assert_msg(xmlsec1_verifies(doc, "alice.pem", extra), "enveloped over the Security header, SOAP 1.2");
    xmlFreeDoc(doc);

    /* And the oracle does say no. */
    doc = alice_message();
    set_text(ts_find(doc, "urn:example:orders", "amount"), "25000");
    ck_assert_msg(!xmlsec1_verifies(doc, "alice.pem", NULL), "xmlsec1 accepted an edited Body");
    xmlFreeDoc(doc);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
static Suite *signature_suite(void)
{
    Suite *suite = suite_create("signature");
    TCase *accepted = tcase_create("accepted");
    TCase *integrity = tcase_create("integrity");
    TCase *references = tcase_create("references");
    TCase *algorithms = tcase_create("algorithms");
    TCase *keys = tcase_create("keys");
    TCase *oracle = tcase_create("oracle");
    TCase *all[] = { accepted, integrity, references, algorithms, keys, oracle };

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        tcase_add_checked_fixture(all[i], setup, teardown);
        tcase_set_timeout(all[i], 120);
        suite_add_tcase(suite, all[i]);
    }

    tcase_add_test(accepted, rsa_sha256_by_binary_security_token_verifies);
    tcase_add_test(accepted, binary_security_token_already_read_is_not_decoded_again);
    tcase_add_test(accepted, key_by_subject_key_identifier_verifies);
    tcase_add_test(accepted, key_by_thumbprint_verifies);
    tcase_add_test(accepted, key_by_issuer_serial_verifies);
    tcase_add_test(accepted, key_by_issuer_serial_of_intermediate_issued_cert_verifies);
    tcase_add_test(accepted, key_by_x509_data_certificate_verifies);
    tcase_add_test(accepted, zeep_x509_data_with_empty_issuer_serial_verifies);
    tcase_add_test(accepted, key_by_inline_x509_key_identifier_verifies);
    tcase_add_test(accepted, ecdsa_p256_sha256_verifies);
    tcase_add_test(accepted, rsa_pss_sha256_verifies);
    tcase_add_test(accepted, rsa_sha512_with_sha384_digests_verifies);
    tcase_add_test(accepted, soap12_message_verifies);
    tcase_add_test(accepted, sha1_is_accepted_when_allowed);
    tcase_add_test(accepted, covered_holds_exactly_the_referenced_elements_in_order);
    tcase_add_test(accepted, enveloped_transform_is_accepted);
    tcase_add_test(accepted, enveloped_transform_leaves_out_the_signature_inside_the_referenced_element);
    tcase_add_test(accepted, four_transforms_are_accepted);
    tcase_add_test(accepted, thirty_two_references_are_accepted);
    tcase_add_test(accepted, nested_references_within_the_budget_are_accepted_and_charged);
    tcase_add_test(accepted, inclusive_prefix_list_is_honoured);
    tcase_add_test(accepted, without_prefix_list_an_unused_prefix_is_not_signed);
    tcase_add_test(accepted, default_namespace_in_prefix_list_is_honoured);

    tcase_add_test(integrity, body_edited_after_signing_is_digest_mismatch);
    tcase_add_test(integrity, element_containing_the_signature_without_enveloped_transform_is_digest_mismatch);
    tcase_add_test(integrity, digest_value_not_base64_is_digest_mismatch);
    tcase_add_test(integrity, digest_value_with_markup_is_digest_mismatch);
    tcase_add_test(integrity, flipped_signature_value_is_signature_invalid);
    tcase_add_test(integrity, signed_info_edited_after_signing_is_signature_invalid);
    tcase_add_test(integrity, signature_value_not_base64_is_signature_invalid);
    tcase_add_test(integrity, empty_signature_value_is_signature_invalid);
    tcase_add_test(integrity, signature_value_with_markup_is_signature_invalid);
    tcase_add_test(integrity, missing_signed_info_is_signature_invalid);
    tcase_add_test(integrity, duplicate_signed_info_is_signature_invalid);
    tcase_add_test(integrity, missing_signature_value_is_signature_invalid);
    tcase_add_test(integrity, element_after_key_info_is_signature_invalid);
    tcase_add_test(integrity, element_in_place_of_key_info_is_signature_invalid);
    tcase_add_test(integrity, inclusive_c14n_method_is_signature_invalid);
    tcase_add_test(integrity, exc_c14n_with_comments_method_is_signature_invalid);
    tcase_add_test(integrity, c14n_method_with_foreign_parameter_is_signature_invalid);
    tcase_add_test(integrity, hmac_output_length_is_signature_invalid);
    tcase_add_test(integrity, signature_method_with_other_parameters_is_signature_invalid);
    tcase_add_test(integrity, signature_method_without_algorithm_is_signature_invalid);
    tcase_add_test(integrity, signed_info_holding_other_elements_is_signature_invalid);
    tcase_add_test(integrity, signed_info_prefix_list_too_long_is_signature_invalid);
    tcase_add_test(integrity, relative_namespace_uri_is_refused);
    tcase_add_test(integrity, element_that_is_not_a_signature_is_signature_invalid);

    tcase_add_test(references, reference_to_unknown_id_is_reference_invalid);
    tcase_add_test(references, empty_reference_uri_is_reference_invalid);
    tcase_add_test(references, external_reference_uri_is_reference_invalid);
    tcase_add_test(references, bare_hash_reference_uri_is_reference_invalid);
    tcase_add_test(references, xpointer_reference_uri_is_reference_invalid);
    tcase_add_test(references, reference_without_uri_is_reference_invalid);
    tcase_add_test(references, reference_into_the_signature_itself_is_reference_invalid);
    tcase_add_test(references, reference_of_manifest_type_is_reference_invalid);
    tcase_add_test(references, missing_transforms_is_reference_invalid);
    tcase_add_test(references, empty_transforms_is_reference_invalid);
    tcase_add_test(references, xslt_transform_is_reference_invalid);
    tcase_add_test(references, base64_transform_is_reference_invalid);
    tcase_add_test(references, transform_without_algorithm_is_reference_invalid);
    tcase_add_test(references, five_transforms_are_limit_exceeded);
    tcase_add_test(references, transforms_limit_follows_the_setting);
    tcase_add_test(references, last_transform_not_exc_c14n_is_reference_invalid);
    tcase_add_test(references, exc_c14n_before_the_last_transform_is_reference_invalid);
    tcase_add_test(references, enveloped_transform_with_parameters_is_reference_invalid);
    tcase_add_test(references, transforms_holding_other_elements_is_reference_invalid);
    tcase_add_test(references, transform_prefix_list_too_long_is_reference_invalid);
    tcase_add_test(references, exc_c14n_transform_with_foreign_parameter_is_reference_invalid);
    tcase_add_test(references, exc_c14n_transform_with_two_inclusive_namespaces_is_reference_invalid);
    tcase_add_test(references, digest_method_with_parameters_is_reference_invalid);
    tcase_add_test(references, missing_digest_method_is_reference_invalid);
    tcase_add_test(references, digest_method_without_algorithm_is_reference_invalid);
    tcase_add_test(references, missing_digest_value_is_reference_invalid);
    tcase_add_test(references, element_after_digest_value_is_reference_invalid);
    tcase_add_test(references, thirty_three_references_are_limit_exceeded);
    tcase_add_test(references, references_limit_follows_the_setting);
    tcase_add_test(references, nested_references_over_the_budget_are_limit_exceeded);
    tcase_add_test(references, signed_info_without_reference_is_reference_invalid);
    tcase_add_test(references, ds_object_in_the_signature_is_reference_invalid);
    tcase_add_test(references, duplicate_reference_is_reference_invalid);
    tcase_add_test(references, two_references_to_one_element_by_two_ids_are_reference_invalid);

    tcase_add_test(algorithms, sha1_is_refused_by_default);
    tcase_add_test(algorithms, sha1_digest_is_refused_by_default);
    tcase_add_test(algorithms, md5_digest_is_weak_algorithm);
    tcase_add_test(algorithms, hmac_signature_method_is_weak_algorithm);
    tcase_add_test(algorithms, rsa_1024_key_is_weak_algorithm);
    tcase_add_test(algorithms, ec_key_declared_as_rsa_sha256_is_key_mismatch);
    tcase_add_test(algorithms, rsa_key_declared_as_ecdsa_is_key_mismatch);

    tcase_add_test(keys, key_value_instead_of_token_reference_is_token_unsupported);
    tcase_add_test(keys, retrieval_method_is_token_unsupported);
    tcase_add_test(keys, two_key_info_children_are_token_unsupported);
    tcase_add_test(keys, missing_key_info_is_token_unsupported);
    tcase_add_test(keys, token_reference_with_two_children_is_token_unsupported);
    tcase_add_test(keys, embedded_token_reference_is_token_unsupported);
    tcase_add_test(keys, direct_reference_to_the_body_is_reference_invalid);
    tcase_add_test(keys, direct_reference_to_unknown_id_is_reference_invalid);
    tcase_add_test(keys, direct_reference_that_is_not_same_document_is_reference_invalid);
    tcase_add_test(keys, direct_reference_to_token_outside_the_security_header_is_reference_invalid);
    tcase_add_test(keys, direct_reference_of_other_value_type_is_token_unsupported);
    tcase_add_test(keys, key_identifier_of_unknown_value_type_is_token_unsupported);
    tcase_add_test(keys, key_identifier_without_value_type_is_token_unsupported);
    tcase_add_test(keys, key_identifier_of_other_encoding_is_token_unsupported);
    tcase_add_test(keys, key_identifier_not_base64_is_token_unsupported);
    tcase_add_test(keys, empty_key_identifier_is_token_unsupported);
    tcase_add_test(keys, key_identifier_with_markup_is_token_unsupported);
    tcase_add_test(keys, thumbprint_of_wrong_length_is_token_unsupported);
    tcase_add_test(keys, inline_certificate_that_does_not_parse_is_token_unsupported);
    tcase_add_test(keys, x509_data_with_subject_key_identifier_is_token_unsupported);
    tcase_add_test(keys, x509_data_with_only_an_empty_issuer_serial_is_token_unsupported);
    tcase_add_test(keys, x509_data_certificate_not_base64_is_token_unsupported);
    tcase_add_test(keys, issuer_serial_with_a_non_decimal_serial_is_token_unsupported);
    tcase_add_test(keys, issuer_serial_without_serial_number_is_token_unsupported);
    tcase_add_test(keys, issuer_name_with_markup_is_token_unsupported);
    tcase_add_test(keys, binary_security_token_that_is_not_a_certificate_is_token_unsupported);
    tcase_add_test(keys, rogue_ca_certificate_is_cert_untrusted);
    tcase_add_test(keys, rogue_inline_certificate_is_cert_untrusted);
    tcase_add_test(keys, unknown_subject_key_identifier_is_cert_untrusted);
    tcase_add_test(keys, unknown_thumbprint_is_cert_untrusted);
    tcase_add_test(keys, unknown_issuer_serial_is_cert_untrusted);
    tcase_add_test(keys, expired_certificate_is_cert_expired);
    tcase_add_test(keys, untrusted_signer_is_refused_before_any_reference_is_digested);
    tcase_add_test(keys, untrusted_signer_with_a_broken_signature_value_is_cert_untrusted);
    tcase_add_test(keys, root_ca_signing_is_cert_usage);
    tcase_add_test(keys, intermediate_ca_signing_is_cert_usage);
    tcase_add_test(keys, key_encipherment_only_certificate_signing_is_cert_usage);
    tcase_add_test(keys, trust_eku_decides_which_leaves_may_sign);
    tcase_add_test(keys, revoked_signer_is_cert_revoked);

    tcase_add_test(oracle, xmlsec1_accepts_what_the_signer_makes);
    return suite;
}

int main(void)
{
    Suite *suite = signature_suite();
    SRunner *runner = srunner_create(suite);
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}
