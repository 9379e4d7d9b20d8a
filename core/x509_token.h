/*
** x509_token.h — the X.509 BinarySecurityToken: ValueType X509v3, Base64Binary encoding,
** decoded and parsed through the trust store's cache.
*/
#ifndef WD_X509_TOKEN_H
#define WD_X509_TOKEN_H

#include <libxml/tree.h>

#include "cert.h"
#include "failure.h"
#include "trust_store.h"

/* Reads a wsse:BinarySecurityToken. Rejections: token-unsupported (ValueType other than
** X509v3, EncodingType other than Base64Binary (absent means Base64Binary), not base64, not
** a certificate). *out holds one reference (caller unrefs). Does not validate the chain. */
int wd_x509_token_read(xmlNode *element, wd_trust_store *store, wd_cert **out, wd_failure *failure);

#endif
