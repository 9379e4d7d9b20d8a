/*
** test_signer.h — builds signed SOAP messages for tests the way real WS-Security clients do
** (WSS4J, zeep, npm soap): a realistic envelope, a wsse:Security header with a Timestamp, an
** optional BinarySecurityToken, and a ds:Signature made with libxml2's exclusive
** canonicalizer and OpenSSL EVP. It shares no code with the verifier, so that a mistake on one
** side shows up as a failed test instead of cancelling out; xmlsec1 verifies its output.
**
** Functions report failures on stderr and return -1 / NULL; tests assert on that.
*/
#ifndef TS_TEST_SIGNER_H
#define TS_TEST_SIGNER_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

/* What the envelope's WS-Addressing headers say (their wsu:Ids are "Action-1", "To-1",
** "MessageID-1"; the Timestamp's is "TS-1", the Body's "Body-1"). */
#define TS_ACTION     "urn:example:orders/Create"
#define TS_TO         "https://orders.example.com/service"
#define TS_MESSAGE_ID "urn:uuid:6b29fc40-ca47-1067-b31d-00dd010662da"

/* How the signature's KeyInfo names the signing certificate. */
typedef enum ts_key_reference {
    TS_KEY_BST = 0,          /* BinarySecurityToken (wsu:Id "X509-<n>") + STR/wsse:Reference (WSS4J default, zeep BinarySignature, npm soap) */
    TS_KEY_SKI,              /* STR/KeyIdentifier X509SubjectKeyIdentifier */
    TS_KEY_THUMBPRINT,       /* STR/KeyIdentifier ThumbprintSHA1 */
    TS_KEY_ISSUER_SERIAL,    /* STR/ds:X509Data/ds:X509IssuerSerial */
    TS_KEY_X509_DATA_CERT,   /* STR/ds:X509Data/ds:X509Certificate */
    TS_KEY_ZEEP_X509_DATA,   /* STR/ds:X509Data with an empty X509IssuerSerial + X509Certificate (zeep `Signature`) */
    TS_KEY_INLINE_X509       /* STR/KeyIdentifier X509v3: the certificate inline */
} ts_key_reference;

typedef struct ts_options {
    const char        *key_pem_path;       /* private key (PEM) */
    const char        *cert_pem_path;      /* its certificate (PEM) */
    const char        *signature_method;   /* SignatureMethod URI; NULL = rsa-sha256. The digest
                                           ** follows the URI (sha1/384/512 in it, else sha256);
                                           ** an EC key gives r||s whatever the URI says. */
    const char        *digest_method;      /* DigestMethod URI; NULL = sha256 (md5 is honoured) */
    ts_key_reference   key_reference;
    const char *const *ids;                /* ids of the elements to sign, in order; NULL = {"Body-1", "TS-1"} */
    size_t             id_count;
    bool               enveloped_transform; /* each Reference: enveloped-signature, then exc-c14n */
    const char        *inclusive_prefixes;   /* PrefixList of each Reference's exc-c14n (NULL: none) */
    const char        *signed_info_prefixes; /* PrefixList of SignedInfo's CanonicalizationMethod (NULL: none) */
} ts_options;

/* A SOAP envelope (soap_version 11 or 12) with WS-Addressing Action/To/MessageID headers, a
** wsse:Security header (mustUnderstand) holding a wsu:Timestamp wsu:Id="TS-1" with the given
** Created/Expires (created NULL: no Timestamp; expires NULL: no Expires), and a Body
** wsu:Id="Body-1" whose content is body_xml (may be NULL or ""; namespaces it uses must be
** declared inside it). Owned by the caller (xmlFreeDoc). NULL on error. */
xmlDoc *ts_envelope_new(int soap_version, const char *body_xml, const char *created, const char *expires);

/* Appends (for TS_KEY_BST) a BinarySecurityToken and then a ds:Signature to security,
** covering opt->ids. Returns 0 or -1. */
int ts_sign(xmlDoc *doc, xmlNode *security, const ts_options *opt);

/* Signs a SAML assertion element (already in doc, with its ID attribute) as identity providers
** do: an enveloped signature with one Reference to the assertion (enveloped-signature +
** exc-c14n), placed right after its Issuer, the certificate in KeyInfo/X509Data. Returns 0 or -1. */
int ts_sign_assertion(xmlDoc *doc, xmlNode *assertion, const char *key_pem_path, const char *cert_pem_path);

/* Recomputes the SignatureValue of signature over its current SignedInfo with the private
** key in key_pem_path, using the algorithm its SignatureMethod names (as ts_sign would). For
** tests that edit SignedInfo and need the signature itself to stay valid. Returns 0 or -1. */
int ts_resign(xmlNode *signature, const char *key_pem_path);

/* Recomputes the DigestValue of one Reference (exc-c14n with its PrefixList, honouring an
** enveloped transform) for tests that edit a signed element on purpose. Returns 0 or -1. */
int ts_redigest(xmlNode *reference);

/* The document as bytes, unchanged (no reformatting). malloc'd (free()); *length gets the
** size. NULL on error. */
char *ts_serialize(xmlDoc *doc, size_t *length);

/* Parses bytes the way a receiver would (no network, no entities, no DTD loading).
** Owned by the caller (xmlFreeDoc). NULL on error. */
xmlDoc *ts_parse(const char *bytes, size_t length);

/* Writes the serialized document to a file. Returns 0 or -1. */
int ts_write_file(xmlDoc *doc, const char *path);

/* The first wsse:Security header, or NULL. */
xmlNode *ts_security(xmlDoc *doc);

/* The first element in document order with this namespace (NULL: none) and local name. */
xmlNode *ts_find(xmlDoc *doc, const char *ns_uri, const char *local_name);

/* The first element carrying this id in wsu:Id, Id, ID or xml:id, or NULL. */
xmlNode *ts_find_id(xmlDoc *doc, const char *id);

/* The last ds:Signature in the document (the one ts_sign added most recently), or NULL. */
xmlNode *ts_signature(xmlDoc *doc);

/* The i-th (0-based) ds:Reference of signature's SignedInfo, or NULL. */
xmlNode *ts_reference(xmlNode *signature, size_t i);

/* A new element child of parent in namespace ns_uri (declaring prefix on it when parent does
** not already have the namespace in scope), appended at the end. Convenience for tests that
** build hostile shapes. NULL on error. */
xmlNode *ts_add_element(xmlNode *parent, const char *ns_uri, const char *prefix, const char *local_name,
                        const char *text);

/* The path of a file of the test PKI (getenv WARDEN_TEST_PKI + "/" + name), written to
** buffer; NULL when WARDEN_TEST_PKI is not set or the path does not fit. */
const char *ts_pki_path(const char *name, char *buffer, size_t capacity);

#endif
