/*
** key_reference.h — finding the signing certificate named by a signature's ds:KeyInfo: one
** wsse:SecurityTokenReference that points at a BinarySecurityToken of our Security header,
** identifies a known certificate (SKI, ThumbprintSHA1, IssuerSerial) or carries one inline.
** A key that is not a certificate (KeyValue, RetrievalMethod, KeyName) is never accepted:
** every key must be anchored by chain validation, which the caller does.
*/
#ifndef WD_KEY_REFERENCE_H
#define WD_KEY_REFERENCE_H

#include <libxml/tree.h>
#include <stddef.h>

#include "cert.h"
#include "failure.h"
#include "ids.h"
#include "trust_store.h"

/* A BinarySecurityToken of the Security header that the header processor has already read:
** a direct reference to it takes this certificate instead of decoding and parsing the token
** a second time. */
typedef struct wd_read_token {
    xmlNode *element;
    wd_cert *cert;    /* the token's certificate (one reference, owned by whoever made the list) */
} wd_read_token;

/* Resolves key_info (a ds:KeyInfo element; NULL is "no KeyInfo"). On success *cert holds
** one reference (caller unrefs) and *token is the BinarySecurityToken element the certificate
** came from, or NULL when it came from elsewhere. The chain is NOT validated here.
** Rejections:
**   token-unsupported  no KeyInfo; KeyInfo not exactly one wsse:SecurityTokenReference; an
**                      STR not of exactly one supported child; a KeyIdentifier of another
**                      ValueType or EncodingType, or a value that is not base64 (or not 20
**                      bytes for a thumbprint); X509Data holding anything but at most one
**                      X509IssuerSerial and at most one X509Certificate; an inline
**                      certificate that does not parse; a Reference ValueType other than X509v3
**   reference-invalid  a direct Reference whose URI is not "#id" of this message, or whose
**                      element is not a wsse:BinarySecurityToken child of security
**   cert-untrusted     an SKI, thumbprint or IssuerSerial that no known certificate has
** and those of wd_x509_token_read for a referenced token that is not among tokens (the
** token_count tokens already read; NULL and 0 when none were). */
int wd_key_reference_resolve(xmlNode *key_info, wd_trust_store *trust, const wd_id_table *ids,
                             const xmlNode *security, const wd_read_token *tokens, size_t token_count,
                             wd_cert **cert, xmlNode **token, wd_failure *failure);

/* The key of an assertion's signature (SAML issuers put the certificate in the signature
** itself): key_info must hold exactly one ds:X509Data, read as for an STR (an inline
** X509Certificate, else an X509IssuerSerial of a certificate known to trust). The chain is
** NOT validated here. Rejections: token-unsupported (no KeyInfo, another form), and those of
** the X509Data form above. */
int wd_key_reference_resolve_x509_data(xmlNode *key_info, wd_trust_store *trust, wd_cert **cert,
                                       wd_failure *failure);

#endif
