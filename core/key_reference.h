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

#include "cert.h"
#include "failure.h"
#include "ids.h"
#include "trust_store.h"

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
** and those of wd_x509_token_read for the referenced token. */
int wd_key_reference_resolve(xmlNode *key_info, wd_trust_store *trust, const wd_id_table *ids,
                             const xmlNode *security, wd_cert **cert, xmlNode **token,
                             wd_failure *failure);

#endif
