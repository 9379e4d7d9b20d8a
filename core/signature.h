/*
** signature.h — verifying one ds:Signature of the wsse:Security header: SignedInfo,
** exclusive c14n of the signed subtrees (c14n.c), each Reference's digest, the SignatureValue, and
** the key found through the SecurityTokenReference. It reports which elements the verified
** references point at (by node identity); deciding whether those are the parts that had to
** be signed is the caller's job (wssec.c).
*/
#ifndef WD_SIGNATURE_H
#define WD_SIGNATURE_H

#include <libxml/tree.h>
#include <stddef.h>
#include <stdint.h>

#include "c14n.h"
#include "cert.h"
#include "crypto.h"
#include "failure.h"
#include "ids.h"
#include "key_reference.h"
#include "settings.h"
#include "trust_store.h"

typedef struct wd_signature_context {
    const wd_crypto   *crypto;
    wd_trust_store    *trust;
    const wd_id_table *ids;
    xmlNode           *security;  /* the Security header; a direct reference must point at a BST inside it */
    const wd_settings *settings;  /* allow_sha1, min_rsa_bits, limits.references/transforms */
    int64_t            now;       /* for chain validation */
    size_t            *c14n_budget; /* canonicalization work left for this message (c14n.h); NULL: unbounded */
    wd_c14n_memo      *c14n_memo;  /* namespace URIs found good in this message (c14n.h); NULL: none */
    const wd_read_token *tokens;  /* the Security header's BinarySecurityTokens already read (NULL: none) */
    size_t             token_count;
    /* Assertion mode (saml_check.c): the element whose enveloped signature this is, or NULL
    ** for a message signature. Then SignedInfo must hold exactly one Reference, to this very
    ** element, with the enveloped-signature transform; the key comes from a ds:X509Data in
    ** KeyInfo (no SecurityTokenReference), or is default_cert when there is no KeyInfo. */
    const xmlNode     *enveloping;
    wd_cert           *default_cert;  /* borrowed; NULL: a KeyInfo is required */
} wd_signature_context;

typedef struct wd_signature_result {
    xmlNode      **covered;        /* malloc'd: the element each verified Reference points at, in order */
    size_t         covered_count;
    wd_cert       *cert;           /* the signing certificate, chain-validated; one reference owned */
    xmlNode       *token;          /* the BinarySecurityToken the key came from, or NULL */
    unsigned char *signature_value; /* malloc'd decoded SignatureValue */
    size_t         signature_value_length;
    unsigned char  signed_info_sha256[32]; /* of the canonical SignedInfo that verified: what was
                                           ** signed, whatever the signature's encoding (replay key) */
} wd_signature_result;

/* Verifies signature (a ds:Signature element). On success fills *out (clear it with
** wd_signature_result_clear). The work is ordered so that a rejection costs as little as it
** can: structure and key reference first, then the signer's certificate chain (cached), then
** the one public-key operation over SignedInfo, and only then the References' digests.
** Rejections:
**   reference-invalid  a URI that is not "#id" of this document, an id not in the table, no
**                      Reference, two References to one element, a transform not
**                      allowed (exc-c14n, enveloped-signature), missing Transforms, the last
**                      transform not exc-c14n, a ds:Object/Manifest, an STR that does not
**                      resolve to a BinarySecurityToken in the Security header
**   limit-exceeded     more References than limits.references, more transforms than
**                      limits.transforms, canonicalization over the message's budget
**   digest-mismatch    a Reference's DigestValue differs
**   signature-invalid  the SignatureValue does not verify, missing/duplicate SignedInfo parts,
**                      CanonicalizationMethod other than exc-c14n, HMACOutputLength present
**   weak-algorithm     a digest or signature algorithm off the allow-list, a small key
**   key-mismatch       the key type does not fit the signature algorithm
**   token-unsupported  KeyInfo that is not exactly one wsse:SecurityTokenReference of a
**                      supported form (direct Reference, KeyIdentifier SKI / ThumbprintSHA1 /
**                      X509v3, ds:X509Data with X509IssuerSerial or X509Certificate)
**   cert-untrusted, cert-expired  from chain validation; an SKI, thumbprint or IssuerSerial
**                      that no known certificate has is cert-untrusted
** In assertion mode (context->enveloping set) also reference-invalid for a second Reference,
** a Reference to any other element, or one without the enveloped-signature transform. */
int wd_signature_verify(xmlNode *signature, const wd_signature_context *context,
                        wd_signature_result *out, wd_failure *failure);

void wd_signature_result_clear(wd_signature_result *result);

#endif
