/*
** saml.h — SAML 2.0 assertions carried in the wsse:Security header (WS-Security SAML Token
** Profile 1.1): the strict reading of one saml2:Assertion into its identity facts
** (saml_read.c), and the checks that make those facts believable (saml_check.c): the
** issuer's enveloped signature, verified by signature.c against the saml.issuers trust store,
** IssueInstant age, Conditions, audiences, and the subject confirmation method against the
** message's own signatures. wssec.c calls both and records the result as a token.
*/
#ifndef WD_SAML_H
#define WD_SAML_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../include/warden.h"
#include "cert.h"
#include "failure.h"
#include "settings.h"
#include "signature.h"
#include "trust_store.h"

typedef enum wd_saml_confirmation {
    WD_SAML_BEARER = 1,
    WD_SAML_HOLDER_OF_KEY,
    WD_SAML_SENDER_VOUCHES
} wd_saml_confirmation;

#define WD_SAML_CM_BEARER         "urn:oasis:names:tc:SAML:2.0:cm:bearer"
#define WD_SAML_CM_HOLDER_OF_KEY  "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"
#define WD_SAML_CM_SENDER_VOUCHES "urn:oasis:names:tc:SAML:2.0:cm:sender-vouches"

/* Most attribute values, audiences and statements one assertion may carry; more is
** saml-invalid (a token is a few dozen facts, not a database). */
#define WD_SAML_MAX_VALUES 256

/* One assertion as read. Every string is malloc'd and NUL-terminated; the lists for the token
** properties (audience_items, attribute_pairs) point into those strings. Owned by whoever
** called wd_saml_read: wd_saml_clear frees it. element and signature point into the
** document and are valid as long as it is. */
typedef struct wd_saml_assertion {
    xmlNode      *element;          /* the saml2:Assertion */
    xmlNode      *signature;        /* its ds:Signature child (after Issuer), or NULL */
    char         *version, *id, *issuer, *subject, *name_id_format, *authn_context; /* NULL when absent */
    int64_t       issue_instant;
    bool          has_not_before, has_not_on_or_after;
    int64_t       not_before, not_on_or_after;              /* Conditions */
    bool          has_confirmation_not_before, has_confirmation_not_on_or_after;
    int64_t       confirmation_not_before, confirmation_not_on_or_after; /* SubjectConfirmationData */
    bool          one_time_use;
    bool          has_audience_restriction;
    wd_saml_confirmation confirmation;
    wd_cert      *confirmation_cert; /* holder-of-key: the certificate of its KeyInfo (one reference) */
    warden_string *audience_items;   /* every Audience of every AudienceRestriction, in order */
    size_t        audience_count;
    size_t       *restriction_ends;  /* restriction i holds audience_items[ends[i-1] .. ends[i]) */
    size_t        restriction_count;
    warden_attr  *attribute_pairs;   /* (Name, value) per AttributeValue; (Name, NULL) for an
                                     ** Attribute without values; in document order */
    size_t        attribute_pair_count;
    char         *xml;               /* the serialized element, made by wd_saml_serialize only when
                                     ** a validator needs it (else on demand, message.c) */
    size_t        xml_length;
} wd_saml_assertion;

/* Reads assertion (a saml2:Assertion element) into *out (zeroed first). Checks what the
** element itself says, without a clock or keys: Version "2.0", a non-empty ID, an
** IssueInstant in UTC, an Issuer first, children in schema order (Issuer, Signature, Subject,
** Conditions, AuthnStatement / AttributeStatement), a Subject with one NameID and exactly
** one SubjectConfirmation of a known Method (holder-of-key with one X509Certificate in its
** SubjectConfirmationData/KeyInfo), Conditions of known kinds only. Identity text (Issuer,
** NameID, attribute values, Audience, AuthnContextClassRef) is all the text children of its
** element; an element that mixes a comment, processing instruction or child element into it
** is refused, which closes the comment-injection family (`admin<!---->.evil.com`).
** trust parses the holder-of-key certificate (its cache). Rejections: saml-invalid, detail
** naming the check. On failure *out holds what was read so far: clear it either way. */
int wd_saml_read(xmlNode *assertion, wd_trust_store *trust, wd_saml_assertion *out, wd_failure *failure);

/* The element serialized as a standalone text (the namespaces it uses from its ancestors are
** declared on it): what WARDEN_MESSAGE_PROPERTY_SAML_ASSERTION returns. malloc'd, *length set;
** NULL when memory runs out. */
char *wd_saml_serialize_element(const xmlNode *element, size_t *length);

/* Fills assertion->xml with wd_saml_serialize_element (once). Returns 0, or -1 when memory runs
** out. */
int wd_saml_serialize(wd_saml_assertion *assertion);

void wd_saml_clear(wd_saml_assertion *assertion);

/* The confirmation method's name in the contract: "bearer", "holder-of-key", "sender-vouches". */
const char *wd_saml_confirmation_name(wd_saml_confirmation confirmation);

/* What checking an assertion needs beyond the message's signature context: the trust store
** of saml.issuers (NULL: none configured, so every assertion is cert-untrusted), the audiences
** and age limit, and the embedder's validator. */
typedef struct wd_saml_context {
    wd_trust_store          *issuers;
    const char *const       *audiences;
    size_t                   audience_count;
    int64_t                  max_age;
    int64_t                  skew;
    int64_t                  now;
    warden_saml_validate_fn  validate;
    void                    *validate_context;
} wd_saml_context;

/* Verifies the assertion's enveloped signature with signature.c (the one implementation for
** messages and assertions), over base (the message's signature context: budget, memo, ids,
** algorithms) with the issuers' trust store: exactly one Reference, to this very element
** (node identity), transforms enveloped-signature and exc-c14n only, the key from the
** signature's KeyInfo X509Data (or, without KeyInfo, the one issuer certificate configured),
** chaining to saml.issuers. Rejections: saml-invalid (unsigned, a Reference elsewhere, a
** digest or signature that does not verify: the detail carries signature.c's), cert-untrusted
** / cert-expired / cert-revoked / cert-usage for the issuer's certificate, weak-algorithm,
** limit-exceeded. */
int wd_saml_check_signature(const wd_saml_assertion *assertion, const wd_saml_context *context,
                            const wd_signature_context *base, wd_failure *failure);

/* The clock and audience checks, after the signature: IssueInstant at most max_age (plus
** skew) old and not ahead by more than skew; Conditions NotBefore / NotOnOrAfter and the
** SubjectConfirmationData's, each with skew; every AudienceRestriction naming one of
** audiences (when any are configured, an assertion without AudienceRestriction fails too).
** Rejections: saml-invalid naming the check. */
int wd_saml_check_conditions(const wd_saml_assertion *assertion, const wd_saml_context *context,
                             wd_failure *failure);

/* The subject confirmation against the message's verified signatures (results, count):
** bearer needs nothing more; holder-of-key needs a signature made with the confirmation
** certificate's key that covers body and timestamp (timestamp NULL: the message has none,
** which fails); sender-vouches needs a signature that covers the assertion and body. On
** success *proof is the signature that confirmed (NULL for bearer). Rejection: saml-invalid. */
int wd_saml_check_confirmation(const wd_saml_assertion *assertion, const wd_signature_result *results,
                               size_t count, const xmlNode *body, const xmlNode *timestamp,
                               const wd_signature_result **proof, wd_failure *failure);

/* Runs the embedder's validator (when set) on the serialized assertion. Rejection:
** saml-invalid with the validator's text. */
int wd_saml_check_validator(const wd_saml_assertion *assertion, const wd_saml_context *context,
                            wd_failure *failure);

#endif
