/*
** test_wssec.c — the Security header processor and the verifier path end to end, on signed
** messages built by the test signer: which parts count as signed (by node identity, so
** wrapping fails), token roles, protection level, the configuration's requirements, the
** header's unsupported children and limits, signature replay, and which certificates of the
** header must meet the signer rules (those whose key signed) or only be trusted (the others).
*/
#include <check.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/namespaces.h"
#include "core/replay_cache.h"
#include "core/trust_store.h"
#include "core/users.h"
#include "core/verifier.h"
#include "test_messages.h"
#include "test_signer.h"
#include "test_run.h"

static const char order_body[] =
    "<ord:CreateOrder xmlns:ord=\"urn:example:orders\"><ord:amount>250</ord:amount></ord:CreateOrder>";

/* The verifier borrows its replay cache; the tests keep the caches here until the end. */
static wd_replay_cache *replay_caches[64];
static size_t replay_cache_count;

static void free_replay_caches(void)
{
    while (replay_cache_count > 0)
        wd_replay_cache_free(replay_caches[--replay_cache_count]);
}

/* A verifier on ca.pem + known.pem, with the CRLs named (NULL-terminated; crls may be NULL). */
static wd_verifier *make_verifier_with_crls(const wd_settings *settings, const char *const *crls)
{
    wd_trust_store *trust = NULL;
    wd_users *users = NULL;
    wd_replay_cache *replay = NULL;
    wd_verifier *verifier = NULL;
    wd_failure failure = { 0 };
    char message[256];
    char *ca = tm_pki_path("ca.pem"), *known = tm_pki_path("known.pem"), *users_path = tm_pki_path("users.txt");
    ck_assert_int_eq(wd_trust_store_new(&trust), WARDEN_OK);
    ck_assert_int_eq(wd_trust_store_add_anchors(trust, ca, message, sizeof message), WARDEN_OK);
    ck_assert_int_eq(wd_trust_store_add_known(trust, known, message, sizeof message), WARDEN_OK);
    for (size_t i = 0; crls != NULL && crls[i] != NULL; i++) {
        char *crl = tm_pki_path(crls[i]);
        ck_assert_msg(wd_trust_store_add_crls(trust, crl, message, sizeof message) == WARDEN_OK, "%s", message);
        free(crl);
    }
    ck_assert_int_eq(wd_users_load(users_path, &users, message, sizeof message), WARDEN_OK);
    ck_assert_int_eq(wd_replay_cache_new_memory(1000, &replay), WARDEN_OK);
    ck_assert_uint_lt(replay_cache_count, 64);
    replay_caches[replay_cache_count++] = replay;
    ck_assert_int_eq(wd_verifier_new(settings, trust, users, NULL, NULL, replay, &verifier, &failure), WARDEN_OK);
    free(ca);
    free(known);
    free(users_path);
    return verifier;
}

static wd_verifier *make_verifier(const wd_settings *settings)
{
    return make_verifier_with_crls(settings, NULL);
}

static wd_verifier *default_verifier(void)
{
    wd_settings settings;
    wd_settings_defaults(&settings);
    return make_verifier(&settings);
}

static xmlDoc *order_envelope(void)
{
    xmlDoc *doc = ts_envelope_new(11, order_body, "2026-11-25T12:00:00Z", "2026-11-25T12:05:00Z");
    ck_assert_ptr_nonnull(doc);
    return doc;
}

static void sign(xmlDoc *doc, const char *key, const char *cert, ts_key_reference reference,
                 const char *const *ids, size_t id_count)
{
    char key_path[512], cert_path[512];
    ts_options options = {
        .key_pem_path = ts_pki_path(key, key_path, sizeof key_path),
        .cert_pem_path = ts_pki_path(cert, cert_path, sizeof cert_path),
        .key_reference = reference, .ids = ids, .id_count = id_count,
    };
    ck_assert_int_eq(ts_sign(doc, ts_security(doc), &options), 0);
}

static void sign_as_alice(xmlDoc *doc, const char *const *ids, size_t id_count)
{
    sign(doc, "alice.key", "alice.pem", TS_KEY_BST, ids, id_count);
}

/* Signs doc's Body and Timestamp with NAME.key / NAME.pem (BST reference) and the given
** SignatureMethod. */
static void sign_with_method(xmlDoc *doc, const char *name, const char *method)
{
    char key[64], cert[64], key_path[512], cert_path[512];
    snprintf(key, sizeof key, "%s.key", name);
    snprintf(cert, sizeof cert, "%s.pem", name);
    ts_options options = {
        .key_pem_path = ts_pki_path(key, key_path, sizeof key_path),
        .cert_pem_path = ts_pki_path(cert, cert_path, sizeof cert_path),
        .signature_method = method, .key_reference = TS_KEY_BST,
    };
    ck_assert_int_eq(ts_sign(doc, ts_security(doc), &options), 0);
}

/* The text of the (last) SignatureValue, malloc'd. */
static char *signature_value_text(xmlDoc *doc)
{
    xmlChar *text = xmlNodeGetContent(ts_find(doc, WD_NS_DSIG, "SignatureValue"));
    ck_assert_ptr_nonnull(text);
    char *copy = strdup((const char *)text);
    xmlFree(text);
    return copy;
}

/* Replaces the XML-DSig ECDSA value r || s of doc's SignatureValue by r || (n - s), n being the
** order of the curve of the certificate in the PKI file cert_name: the twin that verifies as
** well as the original, which anyone who saw the message can make without the key. */
static void flip_ecdsa_s(xmlDoc *doc, const char *cert_name)
{
    char path[512];
    FILE *file = fopen(ts_pki_path(cert_name, path, sizeof path), "r");
    ck_assert_ptr_nonnull(file);
    X509 *cert = PEM_read_X509(file, NULL, NULL, NULL);
    fclose(file);
    ck_assert_ptr_nonnull(cert);
    char group_name[64];
    ck_assert_int_eq(EVP_PKEY_get_group_name(X509_get0_pubkey(cert), group_name, sizeof group_name, NULL), 1);
    EC_GROUP *group = EC_GROUP_new_by_curve_name(OBJ_txt2nid(group_name));
    ck_assert_ptr_nonnull(group);

    xmlNode *element = ts_find(doc, WD_NS_DSIG, "SignatureValue");
    char *text = signature_value_text(doc);
    size_t text_length = strlen(text);
    unsigned char raw[256];
    ck_assert_uint_lt(text_length, sizeof raw * 4 / 3);
    int decoded = EVP_DecodeBlock(raw, (const unsigned char *)text, (int)text_length);
    ck_assert_int_gt(decoded, 0);
    size_t length = (size_t)decoded - (text_length > 0 && text[text_length - 1] == '=')
                    - (text_length > 1 && text[text_length - 2] == '=');
    size_t half = length / 2;
    ck_assert_uint_eq(half, (size_t)EC_GROUP_order_bits(group) / 8);

    BIGNUM *s = BN_bin2bn(raw + half, (int)half, NULL);
    BIGNUM *twin = BN_new();
    ck_assert(s != NULL && twin != NULL);
    ck_assert_int_eq(BN_sub(twin, EC_GROUP_get0_order(group), s), 1);
    ck_assert_int_eq(BN_bn2binpad(twin, raw + half, (int)half), (int)half);

    char encoded[400];
    EVP_EncodeBlock((unsigned char *)encoded, raw, (int)length);
    ck_assert_str_ne(encoded, text);
    xmlNodeSetContent(element, BAD_CAST encoded);
    BN_free(s);
    BN_free(twin);
    free(text);
    EC_GROUP_free(group);
    X509_free(cert);
}

/* Appends a PasswordText UsernameToken with Nonce and Created (as username.require_nonce
** wants) to security, with wsu:Id id unless id is NULL. Each call makes another nonce. */
static xmlNode *add_username_token(xmlNode *security, const char *user, const char *password, const char *id)
{
    static unsigned counter;
    char nonce[32];
    snprintf(nonce, sizeof nonce, "bm9uY2Ut%08u", ++counter); /* base64 "nonce-" + digits */
    xmlNode *token = ts_add_element(security, WD_NS_WSSE, "wsse", "UsernameToken", NULL);
    if (id != NULL) {
        xmlNs *wsu = xmlNewNs(token, BAD_CAST WD_NS_WSU, BAD_CAST "wsu");
        xmlNewNsProp(token, wsu, BAD_CAST "Id", BAD_CAST id);
    }
    ts_add_element(token, WD_NS_WSSE, "wsse", "Username", user);
    xmlNode *element = ts_add_element(token, WD_NS_WSSE, "wsse", "Password", password);
    xmlNewProp(element, BAD_CAST "Type", BAD_CAST WD_WSS_PASSWORD_TEXT);
    ts_add_element(token, WD_NS_WSSE, "wsse", "Nonce", nonce);
    ts_add_element(token, WD_NS_WSU, "wsu", "Created", "2026-11-25T12:00:00Z");
    return token;
}

static int receive_doc(wd_verifier *verifier, xmlDoc *doc, warden_message **message, wd_failure *failure)
{
    size_t length = 0;
    char *bytes = ts_serialize(doc, &length);
    ck_assert_ptr_nonnull(bytes);
    warden_receive_options options = { .size = sizeof options, .now = TM_NOW };
    memset(failure, 0, sizeof *failure);
    int status = wd_verifier_receive(verifier, bytes, length, &options, message, failure);
    free(bytes);
    return status;
}

static void expect_rejection(wd_verifier *verifier, xmlDoc *doc, const char *reason)
{
    warden_message *message = NULL;
    wd_failure failure;
    int status = receive_doc(verifier, doc, &message, &failure);
    ck_assert_msg(status == WARDEN_E_SECURITY, "expected %s, got status %d (%s: %s)", reason, status,
                  wd_reason_name(failure.reason), failure.detail);
    ck_assert_ptr_null(message);
    ck_assert_msg(strcmp(wd_reason_name(failure.reason), reason) == 0, "expected %s, got %s: %s", reason,
                  wd_reason_name(failure.reason), failure.detail);
}

/* A verifier with the default settings rejects doc for reason; doc is freed. */
static void expect_default_rejection(xmlDoc *doc, const char *reason)
{
    wd_verifier *verifier = default_verifier();
    expect_rejection(verifier, doc, reason);
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);
}

static warden_message *expect_delivery(wd_verifier *verifier, xmlDoc *doc)
{
    warden_message *message = NULL;
    wd_failure failure;
    int status = receive_doc(verifier, doc, &message, &failure);
    ck_assert_msg(status == WARDEN_OK, "rejected: %s: %s", wd_reason_name(failure.reason), failure.detail);
    return message;
}

static const char *string_property(const warden_message *message, warden_message_property_id id)
{
    warden_string s;
    if (warden_message_get_property(message, id, &s, sizeof s) != WARDEN_OK)
        return NULL;
    return s.data;
}

static const char *token_string(const warden_token *token, warden_token_property_id id)
{
    warden_string s;
    if (warden_token_get_property(token, id, &s, sizeof s) != WARDEN_OK)
        return NULL;
    return s.data;
}

START_TEST(signed_message_is_delivered_with_signing_certificate_and_parts)
{
    wd_verifier *verifier = default_verifier();
    xmlDoc *doc = order_envelope();
    sign_as_alice(doc, NULL, 0);
    warden_message *message = expect_delivery(verifier, doc);

    int protection = 0;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_PROTECTION_LEVEL, &protection, sizeof protection), WARDEN_OK);
    ck_assert_int_eq(protection, WARDEN_PROTECTION_SIGN);
    ck_assert_str_eq(string_property(message, WARDEN_MESSAGE_PROPERTY_SIGNED_PARTS), "Body,Timestamp");
    warden_string_list parts;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_SIGNED_PART_LIST, &parts, sizeof parts), WARDEN_OK);
    ck_assert_uint_eq(parts.count, 2);
    ck_assert_str_eq(parts.items[1].data, "Timestamp");
    ck_assert_str_eq(string_property(message, WARDEN_MESSAGE_PROPERTY_ACTION), TS_ACTION);

    ck_assert_uint_eq(warden_message_token_count(message), 1);
    const warden_token *token = warden_message_token(message, 0);
    ck_assert_str_eq(token_string(token, WARDEN_TOKEN_PROPERTY_KIND), "x509");
    ck_assert_str_eq(token_string(token, WARDEN_TOKEN_PROPERTY_ROLE), "signing");
    ck_assert_str_eq(token_string(token, WARDEN_TOKEN_PROPERTY_CERT_SUBJECT), "CN=alice,OU=Payments,O=Example");
    ck_assert_str_eq(token_string(token, WARDEN_TOKEN_PROPERTY_CERT_ISSUER), "CN=Test Root CA,O=Example");
    ck_assert_str_eq(token_string(token, WARDEN_TOKEN_PROPERTY_CERT_SERIAL), "01e5");
    ck_assert_str_eq(token_string(token, WARDEN_TOKEN_PROPERTY_CERT_KEY_TYPE), "rsa");
    int bits = 0, key_type = 0;
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_CERT_KEY_BITS, &bits, sizeof bits), WARDEN_OK);
    ck_assert_int_eq(bits, 2048);
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_KEY_TYPE, &key_type, sizeof key_type), WARDEN_OK);
    ck_assert_int_eq(key_type, WARDEN_KEY_TYPE_ASYMMETRIC);
    int64_t from = 0, till = 0;
    warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_VALID_FROM_TIME, &from, sizeof from);
    warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_VALID_TILL_TIME, &till, sizeof till);
    ck_assert_int_eq(from, 1735689600); /* 2025-01-01 */
    ck_assert_int_eq(till, 2051222400); /* 2035-01-01 */
    warden_attr_list attrs;
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_CERT_SUBJECT_ATTRS, &attrs, sizeof attrs), WARDEN_OK);
    ck_assert_str_eq(attrs.items[1].name, "OU");
    ck_assert_str_eq(attrs.items[1].value, "Payments");
    warden_string_list dns;
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_CERT_SAN_DNS, &dns, sizeof dns), WARDEN_OK);
    ck_assert_str_eq(dns.items[0].data, "alice.example.com");

    /* the signing certificate's DER is the token's */
    warden_bytes encoded, der;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_ENCODED_CERT, &encoded, sizeof encoded), WARDEN_OK);
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_CERT_DER, &der, sizeof der), WARDEN_OK);
    ck_assert_uint_eq(encoded.length, der.length);
    ck_assert_int_eq(memcmp(encoded.data, der.data, der.length), 0);

    /* WWSAPI-style XML properties, made on first read and stable after */
    const char *xml = token_string(token, WARDEN_TOKEN_PROPERTY_SERIALIZED_XML);
    ck_assert_ptr_nonnull(strstr(xml, "BinarySecurityToken"));
    ck_assert_ptr_eq(token_string(token, WARDEN_TOKEN_PROPERTY_SERIALIZED_XML), xml);
    ck_assert_ptr_nonnull(strstr(token_string(token, WARDEN_TOKEN_PROPERTY_ATTACHED_REFERENCE_XML), "URI=\"#X509-"));
    ck_assert_ptr_nonnull(strstr(token_string(token, WARDEN_TOKEN_PROPERTY_UNATTACHED_REFERENCE_XML), "ThumbprintSHA1"));
    warden_message_free(message);
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(certificate_found_by_key_identifier_is_a_signing_token_without_element)
{
    wd_verifier *verifier = default_verifier();
    xmlDoc *doc = order_envelope();
    sign(doc, "alice.key", "alice.pem", TS_KEY_SKI, NULL, 0);
    warden_message *message = expect_delivery(verifier, doc);
    ck_assert_uint_eq(warden_message_token_count(message), 1);
    const warden_token *token = warden_message_token(message, 0);
    ck_assert_str_eq(token_string(token, WARDEN_TOKEN_PROPERTY_ROLE), "signing");
    ck_assert_str_eq(token_string(token, WARDEN_TOKEN_PROPERTY_CERT_SUBJECT), "CN=alice,OU=Payments,O=Example");
    warden_string s;
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_SERIALIZED_XML, &s, sizeof s), WARDEN_E_NOT_APPLICABLE);
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_ATTACHED_REFERENCE_XML, &s, sizeof s), WARDEN_E_NOT_APPLICABLE);
    warden_message_free(message);
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(body_left_unsigned_is_an_unsigned_part)
{
    xmlDoc *doc = order_envelope();
    const char *ids[] = { "TS-1" };
    sign_as_alice(doc, ids, 1);
    expect_default_rejection(doc, "unsigned-part");
}
END_TEST

START_TEST(timestamp_left_unsigned_is_an_unsigned_part)
{
    xmlDoc *doc = order_envelope();
    const char *ids[] = { "Body-1" };
    sign_as_alice(doc, ids, 1);
    expect_default_rejection(doc, "unsigned-part");
}
END_TEST

START_TEST(signed_body_moved_into_a_header_is_not_the_body)
{
    xmlDoc *doc = order_envelope();
    sign_as_alice(doc, NULL, 0);
    /* XSW: the signed Body goes into a new header, an evil Body takes its place */
    xmlNode *body = ts_find_id(doc, "Body-1");
    xmlNode *header = ts_find(doc, WD_NS_SOAP11, "Header");
    xmlNode *wrapper = ts_add_element(header, "urn:evil", "evil", "Wrapper", NULL);
    xmlNode *evil_body = xmlNewDocNode(doc, body->ns, BAD_CAST "Body", NULL);
    xmlAddPrevSibling(body, evil_body);
    xmlUnlinkNode(body);
    xmlAddChild(wrapper, body);
    xmlNode *order = ts_add_element(evil_body, "urn:example:orders", "ord", "CreateOrder", NULL);
    ts_add_element(order, "urn:example:orders", "ord", "amount", "1000000");
    expect_default_rejection(doc, "unsigned-part");
}
END_TEST

START_TEST(signed_message_without_timestamp_is_rejected)
{
    xmlDoc *doc = ts_envelope_new(11, order_body, NULL, NULL);
    const char *ids[] = { "Body-1" };
    sign_as_alice(doc, ids, 1);
    expect_default_rejection(doc, "timestamp-missing");
}
END_TEST

START_TEST(timestamp_requirement_never_accepts_a_signed_message_without_one)
{
    wd_settings settings;
    wd_settings_defaults(&settings);
    settings.require_timestamp = WD_TIMESTAMP_NEVER;
    wd_verifier *verifier = make_verifier(&settings);
    xmlDoc *doc = ts_envelope_new(11, order_body, NULL, NULL);
    const char *ids[] = { "Body-1" };
    sign_as_alice(doc, ids, 1);
    warden_message *message = expect_delivery(verifier, doc);
    ck_assert_str_eq(string_property(message, WARDEN_MESSAGE_PROPERTY_SIGNED_PARTS), "Body");
    warden_message_free(message);
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(required_addressing_header_must_be_signed)
{
    wd_settings settings;
    wd_settings_defaults(&settings);
    const char *required[] = { "Body", "Timestamp", "Action" };
    settings.require_signed = required;
    settings.require_signed_count = 3;
    wd_verifier *verifier = make_verifier(&settings);

    xmlDoc *doc = order_envelope();
    sign_as_alice(doc, NULL, 0);
    expect_rejection(verifier, doc, "unsigned-part");
    xmlFreeDoc(doc);

    doc = order_envelope();
    const char *ids[] = { "Body-1", "TS-1", "Action-1", "To-1" };
    sign_as_alice(doc, ids, 4);
    warden_message *message = expect_delivery(verifier, doc);
    ck_assert_str_eq(string_property(message, WARDEN_MESSAGE_PROPERTY_SIGNED_PARTS), "Body,Timestamp,Action,To");
    warden_message_free(message);
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(other_signed_elements_are_named_by_namespace_and_local_name)
{
    wd_verifier *verifier = default_verifier();
    xmlDoc *doc = order_envelope();
    xmlNode *header = ts_find(doc, WD_NS_SOAP11, "Header");
    xmlNode *tenant = ts_add_element(header, "urn:example:app", "app", "Tenant", "acme");
    xmlNs *wsu = xmlNewNs(tenant, BAD_CAST WD_NS_WSU, BAD_CAST "wsu");
    xmlNewNsProp(tenant, wsu, BAD_CAST "Id", BAD_CAST "Tenant-1");
    const char *ids[] = { "Body-1", "TS-1", "Tenant-1" };
    sign_as_alice(doc, ids, 3);
    warden_message *message = expect_delivery(verifier, doc);
    ck_assert_str_eq(string_property(message, WARDEN_MESSAGE_PROPERTY_SIGNED_PARTS),
                     "Body,Timestamp,{urn:example:app}Tenant");
    warden_message_free(message);
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(signature_not_covering_the_body_gives_no_protection_and_no_signer)
{
    wd_settings settings;
    wd_settings_defaults(&settings);
    const char *required[] = { "Timestamp" };
    settings.require_signed = required;
    settings.require_signed_count = 1;
    wd_verifier *verifier = make_verifier(&settings);
    xmlDoc *doc = order_envelope();
    const char *ids[] = { "TS-1" };
    sign_as_alice(doc, ids, 1);
    warden_message *message = expect_delivery(verifier, doc);
    int protection = 0;
    warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_PROTECTION_LEVEL, &protection, sizeof protection);
    ck_assert_int_eq(protection, WARDEN_PROTECTION_NONE);
    ck_assert_str_eq(token_string(warden_message_token(message, 0), WARDEN_TOKEN_PROPERTY_ROLE), "supporting");
    warden_bytes der;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_ENCODED_CERT, &der, sizeof der), WARDEN_E_NOT_APPLICABLE);
    warden_message_free(message);
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(replayed_signed_message_is_rejected)
{
    wd_verifier *verifier = default_verifier();
    xmlDoc *doc = order_envelope();
    sign_as_alice(doc, NULL, 0);
    warden_message *message = expect_delivery(verifier, doc);
    warden_message_free(message);
    expect_rejection(verifier, doc, "replay");
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(ecdsa_twin_with_flipped_s_is_a_replay)
{
    wd_verifier *verifier = default_verifier();
    wd_verifier *fresh = default_verifier();
    xmlDoc *doc = order_envelope();
    sign_with_method(doc, "ecuser", WD_ALG_ECDSA_SHA256);
    warden_message_free(expect_delivery(verifier, doc));

    flip_ecdsa_s(doc, "ecuser.pem");
    /* the twin is a valid signature: a verifier that never saw the original delivers it */
    warden_message_free(expect_delivery(fresh, doc));
    /* and one that did recognizes the message */
    expect_rejection(verifier, doc, "replay");
    xmlFreeDoc(doc);
    wd_verifier_free(fresh);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(same_content_signed_again_with_rsa_pss_is_a_replay)
{
    /* PSS is randomized: signing the same SignedInfo again gives other bytes, but it is the
    ** same message from the same signer. */
    wd_verifier *verifier = default_verifier();
    xmlDoc *doc = order_envelope();
    sign_with_method(doc, "alice", WD_ALG_RSA_PSS_SHA256);
    warden_message_free(expect_delivery(verifier, doc));
    char *before = signature_value_text(doc);
    char key_path[512];
    ck_assert_int_eq(ts_resign(ts_signature(doc), ts_pki_path("alice.key", key_path, sizeof key_path)), 0);
    char *after = signature_value_text(doc);
    ck_assert_str_ne(before, after);
    expect_rejection(verifier, doc, "replay");
    free(before);
    free(after);
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(same_content_signed_by_another_signer_is_not_a_replay)
{
    /* Same envelope, same ids: the two SignedInfos are identical, the signers are not. */
    wd_verifier *verifier = default_verifier();
    xmlDoc *first = order_envelope();
    xmlDoc *second = order_envelope();
    sign(first, "alice.key", "alice.pem", TS_KEY_BST, NULL, 0);
    sign(second, "bob.key", "bob.pem", TS_KEY_BST, NULL, 0);
    xmlChar *first_info = xmlNodeGetContent(ts_find(first, WD_NS_DSIG, "SignedInfo"));
    xmlChar *second_info = xmlNodeGetContent(ts_find(second, WD_NS_DSIG, "SignedInfo"));
    ck_assert_str_eq((const char *)first_info, (const char *)second_info);
    warden_message_free(expect_delivery(verifier, first));
    warden_message_free(expect_delivery(verifier, second));
    xmlFree(first_info);
    xmlFree(second_info);
    xmlFreeDoc(first);
    xmlFreeDoc(second);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(signature_and_username_token_give_both_tokens)
{
    wd_verifier *verifier = default_verifier();
    xmlDoc *doc = order_envelope();
    add_username_token(ts_security(doc), "bob", "hunter2", "UT-1");
    const char *ids[] = { "Body-1", "TS-1", "UT-1" };
    sign_as_alice(doc, ids, 3);
    warden_message *message = expect_delivery(verifier, doc);
    ck_assert_str_eq(string_property(message, WARDEN_MESSAGE_PROPERTY_USERNAME), "bob");
    ck_assert_str_eq(string_property(message, WARDEN_MESSAGE_PROPERTY_SIGNED_PARTS), "Body,Timestamp,UsernameToken");
    ck_assert_uint_eq(warden_message_token_count(message), 2);
    /* header order: the UsernameToken came before the BinarySecurityToken */
    ck_assert_str_eq(token_string(warden_message_token(message, 0), WARDEN_TOKEN_PROPERTY_KIND), "username");
    ck_assert_str_eq(token_string(warden_message_token(message, 0), WARDEN_TOKEN_PROPERTY_ROLE), "supporting");
    ck_assert_str_eq(token_string(warden_message_token(message, 1), WARDEN_TOKEN_PROPERTY_ROLE), "signing");
    warden_message_free(message);
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(unsigned_username_token_in_a_signed_message_is_an_unsigned_part)
{
    /* A man in the middle adds his own UsernameToken to alice's signed request. Whatever
    ** require.signed lists, the token must be covered. */
    static const char *const body_only[] = { "Body" };
    wd_settings settings;
    wd_settings_defaults(&settings);
    wd_verifier *verifier = default_verifier();
    settings.require_signed = body_only;
    settings.require_signed_count = 1;
    wd_verifier *body_only_verifier = make_verifier(&settings);
    settings.require_signed_count = 0;
    settings.require_timestamp = WD_TIMESTAMP_NEVER;
    wd_verifier *lenient = make_verifier(&settings);

    xmlDoc *doc = order_envelope();
    sign_as_alice(doc, NULL, 0);
    add_username_token(ts_security(doc), "bob", "hunter2", "UT-1"); /* after signing */
    expect_rejection(verifier, doc, "unsigned-part");
    expect_rejection(body_only_verifier, doc, "unsigned-part");
    expect_rejection(lenient, doc, "unsigned-part");
    xmlFreeDoc(doc);

    /* before the signature in the header, but not among its references: the same */
    doc = order_envelope();
    add_username_token(ts_security(doc), "bob", "hunter2", "UT-1");
    sign_as_alice(doc, NULL, 0);
    expect_rejection(verifier, doc, "unsigned-part");
    xmlFreeDoc(doc);

    /* without any signature the token authenticates on its own, as before */
    doc = order_envelope();
    add_username_token(ts_security(doc), "bob", "hunter2", NULL);
    warden_message *message = expect_delivery(verifier, doc);
    ck_assert_str_eq(string_property(message, WARDEN_MESSAGE_PROPERTY_USERNAME), "bob");
    warden_message_free(message);
    xmlFreeDoc(doc);
    wd_verifier_free(lenient);
    wd_verifier_free(body_only_verifier);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(username_token_without_nonce_is_rejected_unless_configured)
{
    wd_verifier *verifier = default_verifier();
    wd_settings settings;
    wd_settings_defaults(&settings);
    settings.require_nonce = false;
    wd_verifier *lenient = make_verifier(&settings);

    xmlDoc *doc = order_envelope();
    xmlNode *token = ts_add_element(ts_security(doc), WD_NS_WSSE, "wsse", "UsernameToken", NULL);
    ts_add_element(token, WD_NS_WSSE, "wsse", "Username", "bob");
    ts_add_element(token, WD_NS_WSSE, "wsse", "Password", "hunter2");
    expect_rejection(verifier, doc, "timestamp-missing");
    ts_add_element(token, WD_NS_WSU, "wsu", "Created", "2026-11-25T12:00:00Z");
    expect_rejection(verifier, doc, "token-unsupported");
    /* turned off, the same token is accepted, and again: it has nothing to tell copies apart */
    warden_message_free(expect_delivery(lenient, doc));
    warden_message_free(expect_delivery(lenient, doc));
    xmlFreeDoc(doc);
    wd_verifier_free(lenient);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(untrusted_token_in_the_header_is_rejected_even_when_unused)
{
    xmlDoc *doc = order_envelope();
    sign_as_alice(doc, NULL, 0);
    /* a second signature's BST from mallory; its signature only covers the Timestamp */
    const char *ids[] = { "TS-1" };
    sign(doc, "mallory.key", "mallory.pem", TS_KEY_BST, ids, 1);
    expect_default_rejection(doc, "cert-untrusted");
}
END_TEST

/* Appends to the Security header a BinarySecurityToken that no signature uses, holding the
** PKI certificate pem_name, with wsu:Id id unless id is NULL. */
static void add_unused_token(xmlDoc *doc, const char *pem_name, const char *id)
{
    char *path = tm_pki_path(pem_name);
    FILE *file = fopen(path, "r");
    ck_assert_ptr_nonnull(file);
    char text[8192] = "", line[256];
    size_t used = 0;
    while (fgets(line, sizeof line, file) != NULL) {
        if (strncmp(line, "-----", 5) == 0)
            continue;
        size_t n = strcspn(line, "\r\n");
        ck_assert_uint_lt(used + n, sizeof text);
        memcpy(text + used, line, n);
        used += n;
        text[used] = '\0';
    }
    fclose(file);
    free(path);
    xmlNode *token = ts_add_element(ts_security(doc), WD_NS_WSSE, "wsse", "BinarySecurityToken", text);
    ck_assert_ptr_nonnull(token);
    xmlSetProp(token, BAD_CAST "ValueType", BAD_CAST WD_WSS_X509V3);
    xmlSetProp(token, BAD_CAST "EncodingType", BAD_CAST WD_WSS_BASE64);
    if (id != NULL) {
        xmlNs *wsu = xmlNewNs(token, BAD_CAST WD_NS_WSU, BAD_CAST "wsu");
        xmlNewNsProp(token, wsu, BAD_CAST "Id", BAD_CAST id);
    }
}

START_TEST(trusted_token_no_signature_uses_or_covers_is_unsigned_part)
{
    /* bob's certificate is public: anyone can attach it to alice's message, and a policy
    ** reading m.tokens would take bob for a second sender */
    static const char *const pems[] = { "bob.pem", "ca.pem", "tls-server.pem" };
    wd_verifier *verifier = default_verifier();
    for (size_t i = 0; i < sizeof pems / sizeof pems[0]; i++) {
        xmlDoc *doc = order_envelope();
        sign_as_alice(doc, NULL, 0);
        add_unused_token(doc, pems[i], NULL);
        expect_rejection(verifier, doc, "unsigned-part");
        xmlFreeDoc(doc);
    }
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(token_the_signer_covers_is_delivered_without_usage_rules)
{
    /* a certificate alice vouches for by signing it is a signed supporting token: the usage
    ** rules are for the key that signed, so a CA certificate riding along needs only trust */
    wd_verifier *verifier = default_verifier();
    xmlDoc *doc = order_envelope();
    add_unused_token(doc, "ca.pem", "CA-Token-1");
    add_unused_token(doc, "tls-server.pem", "TLS-Token-1");
    const char *ids[] = { "Body-1", "TS-1", "CA-Token-1", "TLS-Token-1" };
    sign_as_alice(doc, ids, 4);
    warden_message *message = expect_delivery(verifier, doc);
    warden_message_free(message);
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(unused_revoked_token_is_cert_revoked)
{
    static const char *const crls[] = { "crl-root.pem", "crl-intermediate.pem", NULL };
    wd_settings settings;
    wd_settings_defaults(&settings);
    wd_verifier *verifier = make_verifier_with_crls(&settings, crls);
    xmlDoc *doc = order_envelope();
    sign_as_alice(doc, NULL, 0);
    add_unused_token(doc, "revoked.pem", NULL);
    expect_rejection(verifier, doc, "cert-revoked");
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(ca_key_signing_is_cert_usage)
{
    xmlDoc *doc = order_envelope();
    sign(doc, "ca.key", "ca.pem", TS_KEY_BST, NULL, 0);
    expect_default_rejection(doc, "cert-usage");
}
END_TEST

START_TEST(second_signature_by_an_intermediate_ca_is_cert_usage)
{
    /* alice signs what must be signed; the issuing CA's key adds a signature over the Timestamp */
    xmlDoc *doc = order_envelope();
    sign_as_alice(doc, NULL, 0);
    const char *ids[] = { "TS-1" };
    sign(doc, "intermediate.key", "intermediate.pem", TS_KEY_SKI, ids, 1);
    expect_default_rejection(doc, "cert-usage");
}
END_TEST

START_TEST(key_encipherment_certificate_signing_is_cert_usage)
{
    xmlDoc *doc = order_envelope();
    sign(doc, "tls-server.key", "tls-server.pem", TS_KEY_INLINE_X509, NULL, 0);
    expect_default_rejection(doc, "cert-usage");
}
END_TEST

START_TEST(revoked_signer_is_cert_revoked)
{
    static const char *const crls[] = { "crl-root.pem", "crl-intermediate.pem", NULL };
    wd_settings settings;
    wd_settings_defaults(&settings);
    wd_verifier *verifier = make_verifier_with_crls(&settings, crls);
    xmlDoc *doc = order_envelope();
    sign(doc, "revoked.key", "revoked.pem", TS_KEY_INLINE_X509, NULL, 0);
    expect_rejection(verifier, doc, "cert-revoked");
    xmlFreeDoc(doc);
    doc = order_envelope();
    sign(doc, "bob.key", "bob.pem", TS_KEY_BST, NULL, 0);
    warden_message_free(expect_delivery(verifier, doc));
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(timestamp_alone_does_not_authenticate)
{
    xmlDoc *doc = order_envelope();
    expect_default_rejection(doc, "security-header-missing");
}
END_TEST

START_TEST(unsupported_security_children_are_rejected)
{
    static const struct { const char *ns, *name; } children[] = {
        { WD_NS_XENC, "EncryptedKey" },
        { WD_NS_SAML1, "Assertion" },
        { WD_NS_WSSE, "SecurityTokenReference" },
        { "urn:unknown", "Thing" },
    };
    wd_verifier *verifier = default_verifier();
    for (size_t i = 0; i < sizeof children / sizeof children[0]; i++) {
        xmlDoc *doc = order_envelope();
        ts_add_element(ts_security(doc), children[i].ns, "x", children[i].name, NULL);
        sign_as_alice(doc, NULL, 0);
        expect_rejection(verifier, doc, "token-unsupported");
        xmlFreeDoc(doc);
    }
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(two_timestamps_or_two_username_tokens_are_rejected)
{
    wd_verifier *verifier = default_verifier();
    xmlDoc *doc = order_envelope();
    xmlNode *timestamp = ts_add_element(ts_security(doc), WD_NS_WSU, "wsu", "Timestamp", NULL);
    ts_add_element(timestamp, WD_NS_WSU, "wsu", "Created", "2026-11-25T12:00:00Z");
    sign_as_alice(doc, NULL, 0);
    expect_rejection(verifier, doc, "timestamp-invalid");
    xmlFreeDoc(doc);

    doc = order_envelope();
    for (int i = 0; i < 2; i++)
        add_username_token(ts_security(doc), "bob", "hunter2", NULL);
    expect_rejection(verifier, doc, "token-unsupported");
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(signatures_limit_follows_the_setting)
{
    wd_settings settings;
    wd_settings_defaults(&settings);
    settings.limits.signatures = 1;
    wd_verifier *verifier = make_verifier(&settings);
    xmlDoc *doc = order_envelope();
    sign_as_alice(doc, NULL, 0);
    sign_as_alice(doc, NULL, 0);
    expect_rejection(verifier, doc, "limit-exceeded");
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);

    settings.limits.signatures = 2;
    verifier = make_verifier(&settings);
    doc = order_envelope();
    const char *body_only[] = { "Body-1" };
    sign_as_alice(doc, NULL, 0);
    sign_as_alice(doc, body_only, 1); /* another SignedInfo: not a replay of the first */
    warden_message_free(expect_delivery(verifier, doc));
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);
}
END_TEST

/* A Body of `levels` nested elements around 100 KB of text, signed with the Body, the
** Timestamp and every nested element: each Reference covers nearly the whole message. */
static xmlDoc *nested_body_message(int levels)
{
    static char names[32][16];
    const char *ids[34] = { "Body-1", "TS-1" };
    size_t size = 120000;
    char *body = malloc(size);
    size_t used = 0;

    ck_assert_ptr_nonnull(body);
    ck_assert_int_le(levels, 32);
    for (int i = 0; i < levels; i++) {
        snprintf(names[i], sizeof names[i], "nest-%d", i + 1);
        ids[2 + i] = names[i];
        used += (size_t)snprintf(body + used, size - used,
                                 "<ord:nest xmlns:ord=\"urn:example:orders\" xmlns:wsu=\"%s\" wsu:Id=\"%s\">",
                                 WD_NS_WSU, names[i]);
    }
    memset(body + used, 'x', 100000);
    used += 100000;
    for (int i = 0; i < levels; i++)
        used += (size_t)snprintf(body + used, size - used, "</ord:nest>");
    ck_assert_uint_lt(used, size);
    body[used] = '\0';
    xmlDoc *doc = ts_envelope_new(11, body, "2026-11-25T12:00:00Z", "2026-11-25T12:05:00Z");
    ck_assert_ptr_nonnull(doc);
    free(body);
    sign_as_alice(doc, ids, 2 + (size_t)levels);
    return doc;
}

/* Without one budget for the whole message, 30 nested References would canonicalize 30 times
** the message. */
START_TEST(nested_references_beyond_the_message_budget_are_limit_exceeded)
{
    wd_verifier *verifier = default_verifier();
    xmlDoc *doc = nested_body_message(30);
    expect_rejection(verifier, doc, "limit-exceeded");
    xmlFreeDoc(doc);

    doc = nested_body_message(4);
    warden_message_free(expect_delivery(verifier, doc));
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(header_limits_are_enforced)
{
    wd_verifier *verifier = default_verifier();
    xmlDoc *doc = order_envelope();
    for (int i = 0; i < 5; i++)
        sign_as_alice(doc, NULL, 0);
    expect_rejection(verifier, doc, "limit-exceeded"); /* more than 4 signatures */
    xmlFreeDoc(doc);

    doc = order_envelope();
    for (int i = 0; i < 70; i++)
        ts_add_element(ts_security(doc), WD_NS_WSSE, "wsse", "BinarySecurityToken", NULL);
    expect_rejection(verifier, doc, "limit-exceeded");
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(security_header_for_another_actor_is_not_ours)
{
    wd_verifier *verifier = default_verifier();
    xmlDoc *doc = order_envelope();
    sign_as_alice(doc, NULL, 0);
    xmlNewNsProp(ts_security(doc), xmlSearchNsByHref(doc, xmlDocGetRootElement(doc), BAD_CAST WD_NS_SOAP11),
                 BAD_CAST "actor", BAD_CAST "urn:some-intermediary");
    expect_rejection(verifier, doc, "security-header-missing");
    xmlFreeDoc(doc);

    wd_settings settings;
    wd_settings_defaults(&settings);
    settings.actor = "urn:some-intermediary";
    wd_verifier *intermediary = make_verifier(&settings);
    doc = order_envelope();
    sign_as_alice(doc, NULL, 0);
    xmlNewNsProp(ts_security(doc), xmlSearchNsByHref(doc, xmlDocGetRootElement(doc), BAD_CAST WD_NS_SOAP11),
                 BAD_CAST "actor", BAD_CAST "urn:some-intermediary");
    warden_message *message = expect_delivery(intermediary, doc);
    warden_message_free(message);
    xmlFreeDoc(doc);
    wd_verifier_free(intermediary);
    wd_verifier_free(verifier);
}
END_TEST

START_TEST(soap12_signed_message_is_delivered)
{
    wd_verifier *verifier = default_verifier();
    xmlDoc *doc = ts_envelope_new(12, order_body, "2026-11-25T12:00:00Z", "2026-11-25T12:05:00Z");
    char key_path[512], cert_path[512];
    ts_options options = {
        .key_pem_path = ts_pki_path("ecuser.key", key_path, sizeof key_path),
        .cert_pem_path = ts_pki_path("ecuser.pem", cert_path, sizeof cert_path),
        .signature_method = WD_ALG_ECDSA_SHA256, .key_reference = TS_KEY_BST,
    };
    ck_assert_int_eq(ts_sign(doc, ts_security(doc), &options), 0);
    warden_message *message = expect_delivery(verifier, doc);
    ck_assert_str_eq(string_property(message, WARDEN_MESSAGE_PROPERTY_SOAP_VERSION), "1.2");
    ck_assert_str_eq(token_string(warden_message_token(message, 0), WARDEN_TOKEN_PROPERTY_CERT_KEY_TYPE), "ec");
    warden_message_free(message);
    xmlFreeDoc(doc);
    wd_verifier_free(verifier);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("wssec");
    TCase *tc = tcase_create("wssec");
    tcase_add_checked_fixture(tc, NULL, free_replay_caches);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, signed_message_is_delivered_with_signing_certificate_and_parts);
    tcase_add_test(tc, trusted_token_no_signature_uses_or_covers_is_unsigned_part);
    tcase_add_test(tc, token_the_signer_covers_is_delivered_without_usage_rules);
    tcase_add_test(tc, unused_revoked_token_is_cert_revoked);
    tcase_add_test(tc, ca_key_signing_is_cert_usage);
    tcase_add_test(tc, second_signature_by_an_intermediate_ca_is_cert_usage);
    tcase_add_test(tc, key_encipherment_certificate_signing_is_cert_usage);
    tcase_add_test(tc, revoked_signer_is_cert_revoked);
    tcase_add_test(tc, certificate_found_by_key_identifier_is_a_signing_token_without_element);
    tcase_add_test(tc, body_left_unsigned_is_an_unsigned_part);
    tcase_add_test(tc, timestamp_left_unsigned_is_an_unsigned_part);
    tcase_add_test(tc, signed_body_moved_into_a_header_is_not_the_body);
    tcase_add_test(tc, signed_message_without_timestamp_is_rejected);
    tcase_add_test(tc, timestamp_requirement_never_accepts_a_signed_message_without_one);
    tcase_add_test(tc, required_addressing_header_must_be_signed);
    tcase_add_test(tc, other_signed_elements_are_named_by_namespace_and_local_name);
    tcase_add_test(tc, signature_not_covering_the_body_gives_no_protection_and_no_signer);
    tcase_add_test(tc, replayed_signed_message_is_rejected);
    tcase_add_test(tc, ecdsa_twin_with_flipped_s_is_a_replay);
    tcase_add_test(tc, same_content_signed_again_with_rsa_pss_is_a_replay);
    tcase_add_test(tc, same_content_signed_by_another_signer_is_not_a_replay);
    tcase_add_test(tc, signature_and_username_token_give_both_tokens);
    tcase_add_test(tc, unsigned_username_token_in_a_signed_message_is_an_unsigned_part);
    tcase_add_test(tc, username_token_without_nonce_is_rejected_unless_configured);
    tcase_add_test(tc, untrusted_token_in_the_header_is_rejected_even_when_unused);
    tcase_add_test(tc, timestamp_alone_does_not_authenticate);
    tcase_add_test(tc, unsupported_security_children_are_rejected);
    tcase_add_test(tc, two_timestamps_or_two_username_tokens_are_rejected);
    tcase_add_test(tc, header_limits_are_enforced);
    tcase_add_test(tc, signatures_limit_follows_the_setting);
    tcase_add_test(tc, nested_references_beyond_the_message_budget_are_limit_exceeded);
    tcase_add_test(tc, security_header_for_another_actor_is_not_ours);
    tcase_add_test(tc, soap12_signed_message_is_delivered);
    suite_add_tcase(suite, tc);
    return tr_run_suite(suite);
}
