/*
** seeds.c — the signed seed messages of seeds.h: SOAP 1.1 and 1.2, signers with a root- and an
** intermediate-issued certificate (RSA) and an EC one, every KeyInfo form the test signer
** knows, and Reference sets from the Body alone to Body + Timestamp + WS-Addressing headers;
** plus UsernameToken, SAML bearer, plain and encrypted (xmlenc11 rsa-oaep, AES-GCM) requests for
** the receive target.
*/
#include "seeds.h"

#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "tests/support/test_encryptor.h"
#include "tests/support/test_messages.h"
#include "tests/support/test_signer.h"

static const char order_body[] =
    "<ord:CreateOrder xmlns:ord=\"urn:example:orders\"><ord:customer>ACME-1042</ord:customer>"
    "<ord:amount>250</ord:amount></ord:CreateOrder>";

static const char *const ids_default[] = { "Body-1", "TS-1" };
static const char *const ids_addressing[] = { "TS-1", "Body-1", "Action-1", "To-1", "MessageID-1" };
static const char *const ids_body_action[] = { "Body-1", "Action-1", "TS-1" };

typedef struct variant {
    const char      *name;
    int              soap_version;
    const char      *key, *cert;
    const char      *signature_method;
    ts_key_reference key_reference;
    const char *const *ids;
    size_t           id_count;
    bool             enveloped;
    const char      *inclusive_prefixes;
} variant;

#define IDS(a) a, sizeof a / sizeof a[0]
static const variant variants[] = {
    { "alice-bst-11.xml", 11, "alice.key", "alice.pem", NULL, TS_KEY_BST, IDS(ids_default), false, NULL },
    { "alice-ski-12-wsa.xml", 12, "alice.key", "alice.pem", NULL, TS_KEY_SKI, IDS(ids_addressing), false, NULL },
    { "bob-issuer-serial-11.xml", 11, "bob.key", "bob.pem", NULL, TS_KEY_ISSUER_SERIAL, IDS(ids_default), true,
      NULL },
    { "alice-thumbprint-11-action.xml", 11, "alice.key", "alice.pem", NULL, TS_KEY_THUMBPRINT, IDS(ids_body_action),
      false, NULL },
    { "bob-bst-12-prefixes.xml", 12, "bob.key", "bob.pem", NULL, TS_KEY_BST, IDS(ids_addressing), false, "soap wsu" },
    { "alice-inline-11.xml", 11, "alice.key", "alice.pem", NULL, TS_KEY_INLINE_X509, IDS(ids_default), false, NULL },
    { "alice-zeep-x509data-11.xml", 11, "alice.key", "alice.pem", NULL, TS_KEY_ZEEP_X509_DATA, IDS(ids_default), false,
      NULL },
    { "alice-x509data-12.xml", 12, "alice.key", "alice.pem", NULL, TS_KEY_X509_DATA_CERT, IDS(ids_body_action), true,
      NULL },
    { "ecuser-bst-11.xml", 11, "ecuser.key", "ecuser.pem", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
      TS_KEY_BST, IDS(ids_default), false, NULL },
};
#undef IDS

static void add(fz_seed **seeds, size_t *count, fz_seed seed)
{
    fz_seed *grown = realloc(*seeds, (*count + 1) * sizeof **seeds);
    if (grown == NULL || seed.bytes == NULL)
        fz_fail("seeds: out of memory");
    *seeds = grown;
    (*seeds)[(*count)++] = seed;
}

static fz_seed sign_variant(const variant *v)
{
    char *key = tm_pki_path(v->key), *cert = tm_pki_path(v->cert);
    xmlDoc *doc = ts_envelope_new(v->soap_version, order_body, FZ_SEED_CREATED, FZ_SEED_EXPIRES);
    ts_options options = {
        .key_pem_path = key, .cert_pem_path = cert, .signature_method = v->signature_method,
        .key_reference = v->key_reference, .ids = v->ids, .id_count = v->id_count,
        .enveloped_transform = v->enveloped, .inclusive_prefixes = v->inclusive_prefixes,
    };
    if (key == NULL || cert == NULL || doc == NULL || ts_sign(doc, ts_security(doc), &options) != 0)
        fz_fail("seeds: cannot sign %s (is WARDEN_TEST_PKI set?)", v->name);
    fz_seed seed = { .name = v->name, .deterministic = v->signature_method == NULL, .cert_name = v->cert,
                     .ids = v->ids, .id_count = v->id_count, .inclusive_prefixes = v->inclusive_prefixes };
    seed.bytes = ts_serialize(doc, &seed.length);
    xmlFreeDoc(doc);
    free(key);
    free(cert);
    return seed;
}

/* An unsigned request authenticated by a bearer assertion the test IdP signed (saml.issuers of
** the fuzz fixture), with attributes and an audience for the reader to chew on; into doc (NULL:
** a plain request), whose Security header takes the assertion first. */
static fz_seed saml_seed(xmlDoc *doc, const char *name)
{
    static const char assertion_text[] =
        "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" Version=\"2.0\" ID=\"_fz1\""
        " IssueInstant=\"" FZ_SEED_CREATED "\"><saml:Issuer>https://idp.example.com</saml:Issuer>"
        "<saml:Subject><saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">"
        "carol@example.com</saml:NameID><saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">"
        "<saml:SubjectConfirmationData NotOnOrAfter=\"" FZ_SEED_EXPIRES "\"/></saml:SubjectConfirmation>"
        "</saml:Subject><saml:Conditions NotBefore=\"" FZ_SEED_CREATED "\" NotOnOrAfter=\"" FZ_SEED_EXPIRES "\">"
        "<saml:AudienceRestriction><saml:Audience>urn:example:orders</saml:Audience></saml:AudienceRestriction>"
        "<saml:OneTimeUse/></saml:Conditions><saml:AuthnStatement AuthnInstant=\"" FZ_SEED_CREATED "\">"
        "<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password"
        "</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement>"
        "<saml:Attribute Name=\"role\"><saml:AttributeValue>clerk</saml:AttributeValue>"
        "<saml:AttributeValue>auditor</saml:AttributeValue></saml:Attribute><saml:Attribute Name=\"none\"/>"
        "</saml:AttributeStatement></saml:Assertion>";
    char *key = tm_pki_path("idp.key"), *cert = tm_pki_path("idp.pem");
    if (doc == NULL)
        doc = ts_envelope_new(11, order_body, FZ_SEED_CREATED, FZ_SEED_EXPIRES);
    xmlDoc *fragment = xmlReadMemory(assertion_text, (int)sizeof assertion_text - 1, "a.xml", NULL, XML_PARSE_NONET);
    if (key == NULL || cert == NULL || doc == NULL || fragment == NULL)
        fz_fail("seeds: cannot make the SAML seed (is WARDEN_TEST_PKI set?)");
    xmlNode *assertion = xmlDocCopyNode(xmlDocGetRootElement(fragment), doc, 1);
    xmlFreeDoc(fragment);
    xmlNode *security = ts_security(doc);
    if (assertion == NULL || security == NULL || xmlAddPrevSibling(xmlFirstElementChild(security), assertion) == NULL ||
        ts_sign_assertion(doc, assertion, key, cert) != 0)
        fz_fail("seeds: cannot sign the SAML seed");
    fz_seed seed = { .name = name };
    seed.bytes = ts_serialize(doc, &seed.length);
    xmlFreeDoc(doc);
    free(key);
    free(cert);
    return seed;
}

static fz_seed text_seed(const char *name, char *text)
{
    return (fz_seed){ .bytes = text, .length = text != NULL ? strlen(text) : 0, .name = name };
}

void fz_seeds_make(fz_seed **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        add(out, count, sign_variant(&variants[i]));

    tm_username_options digest = { .digest = 1, .timestamp_created = FZ_SEED_CREATED,
                                   .timestamp_expires = FZ_SEED_EXPIRES, .token_id = "UT-1" };
    tm_username_options text = { .digest = 0, .username = "bob", .password = "hunter2", .soap12 = 1 };
    add(out, count, text_seed("username-digest-11.xml", tm_username_message(&digest)));
    add(out, count, text_seed("username-text-12.xml", tm_username_message(&text)));
    add(out, count, text_seed("plain-11.xml", tm_plain_message()));
    add(out, count, saml_seed(NULL, "saml-bearer-11.xml"));
    add(out, count, text_seed("encrypted-oaep-label-11.xml", tx_encrypted_message("label", tx_order, NULL)));
    add(out, count, text_seed("encrypted-oaep-11.xml", tx_encrypted_message(NULL, tx_order, NULL)));
    /* both features at once: the assertion beside the EncryptedKey, the Body encrypted */
    char *encrypted = tx_encrypted_message(NULL, tx_order, NULL);
    xmlDoc *doc = encrypted != NULL ? xmlReadMemory(encrypted, (int)strlen(encrypted), "e.xml", NULL, XML_PARSE_NONET)
                                    : NULL;
    free(encrypted);
    if (doc == NULL)
        fz_fail("seeds: cannot read the encrypted seed");
    add(out, count, saml_seed(doc, "saml-bearer-encrypted-body-11.xml"));
}

void fz_seeds_free(fz_seed *seeds, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(seeds[i].bytes);
    free(seeds);
}
