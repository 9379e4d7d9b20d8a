/*
** trust_store.h — the trust anchors (CA bundles), the known sender certificates (for
** references by IssuerSerial, SKI or thumbprint), chain validation with OpenSSL's X509_STORE,
** and the caches that spare repeated senders the cost of parsing and chain building.
*/
#ifndef WD_TRUST_STORE_H
#define WD_TRUST_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "cert.h"
#include "failure.h"

typedef struct wd_trust_store wd_trust_store;

/* An empty store. *out owned by the caller (wd_trust_store_free). Returns WARDEN_OK or
** WARDEN_E_NOMEM. */
int wd_trust_store_new(wd_trust_store **out);

/* Setup (add_anchors, add_known) happens before the store is shared: it must not overlap
** with validation or look-ups from other threads.
**
** Adds every certificate of a PEM file as a trust anchor. Returns WARDEN_OK, WARDEN_E_IO
** (unreadable), WARDEN_E_CONFIG (no certificate in it, or not PEM); message gets the why. */
int wd_trust_store_add_anchors(wd_trust_store *store, const char *pem_path, char *message,
                               size_t capacity);

/* Adds every certificate of a PEM file as a known sender certificate (found by IssuerSerial,
** SKI, thumbprint; still chain-validated when used). Same returns. */
int wd_trust_store_add_known(wd_trust_store *store, const char *pem_path, char *message,
                             size_t capacity);

/* Parses a DER certificate through the cache keyed by its SHA-256: the same bytes give the
** same shared wd_cert. *out holds one reference for the caller. Thread-safe. */
int wd_trust_store_parse(wd_trust_store *store, const unsigned char *der, size_t length,
                         wd_cert **out, wd_failure *failure);

/* Validates cert's chain to a trust anchor at time now (intermediates may come from the
** known certificates). Rejections: cert-expired (cert or a chain member outside its validity
** at now), cert-untrusted (no path to an anchor, or any other chain error; the detail holds
** OpenSSL's reason). A verdict is cached by the certificate's SHA-256 together with the
** time window in which it holds, so repeated senders do not pay for chain building.
** Thread-safe. */
int wd_trust_store_validate(wd_trust_store *store, wd_cert *cert, int64_t now, wd_failure *failure);

/* Known-certificate look-ups. Return a new reference (caller unrefs) or NULL. */
wd_cert *wd_trust_store_find_ski(wd_trust_store *store, const unsigned char *ski, size_t length);
wd_cert *wd_trust_store_find_thumbprint(wd_trust_store *store, const unsigned char sha1[20]);
/* issuer: a DN as text in any common form (RFC 2253/4514 "CN=x,O=y", with or without spaces
** after commas, attribute types in any case); serial: decimal text as XML-DSig's
** X509SerialNumber. */
wd_cert *wd_trust_store_find_issuer_serial(wd_trust_store *store, const char *issuer,
                                           const char *serial_decimal);

/* Number of trust anchors, known certificates. */
size_t wd_trust_store_anchor_count(const wd_trust_store *store);
size_t wd_trust_store_known_count(const wd_trust_store *store);

void wd_trust_store_free(wd_trust_store *store);

#endif
