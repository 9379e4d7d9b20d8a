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

/* Setup (add_anchors, add_known, add_crls, require_eku) happens before the store is shared: it must not overlap
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

/* Adds every CRL of a file (PEM "X509 CRL" blocks, or one DER CRL) after the anchors and
** known certificates are in. From then on chain validation checks revocation of every
** member of a chain with OpenSSL (X509_V_FLAG_CRL_CHECK_ALL), and fails closed: a member
** whose issuer has no CRL here, or whose CRL has expired (nextUpdate passed) or is not yet
** valid, makes the chain cert-untrusted ("revocation status unknown"). The anchor itself
** needs no CRL (it is revoked by removing it from trust), though a CRL listing it rejects it. A CRL
** whose issuer is an anchor or known certificate must verify with its key, else the file is
** refused (WARDEN_E_CONFIG); a file is checked whole before any of it is added. Returns
** WARDEN_OK, WARDEN_E_IO, WARDEN_E_CONFIG (not a CRL, bad signature), WARDEN_E_NOMEM. */
int wd_trust_store_add_crls(wd_trust_store *store, const char *path, char *message, size_t capacity);

/* The purposes (trust.eku) a signer's extendedKeyUsage must name one of: dotted OIDs, or
** clientAuth, serverAuth, emailProtection, codeSigning, timeStamping, OCSPSigning,
** anyExtendedKeyUsage (case-insensitive). Replaces earlier ones; count 0 clears them.
** Returns WARDEN_OK, WARDEN_E_CONFIG (an unknown name; message says which), WARDEN_E_NOMEM. */
int wd_trust_store_require_eku(wd_trust_store *store, const char *const *names, size_t count, char *message,
                               size_t capacity);

/* Parses a DER certificate through the cache keyed by its SHA-256: the same bytes give the
** same shared wd_cert. *out holds one reference for the caller. Thread-safe. */
int wd_trust_store_parse(wd_trust_store *store, const unsigned char *der, size_t length,
                         wd_cert **out, wd_failure *failure);

/* The token text cache: a BinarySecurityToken's base64 text exactly as it arrived, mapped to
** the certificate it decoded and parsed to, so that a repeated sender's token costs a hash and
** a comparison instead of a base64 decode and a SHA-256. Texts up to WD_TOKEN_TEXT_MAX bytes.
** find returns a new reference (caller unrefs) when this very text was remembered, else NULL;
** remember stores text (copied) with a reference to cert, only after it decoded to cert, and
** silently does nothing when memory is short. Thread-safe. */
#define WD_TOKEN_TEXT_MAX 8192 /* with 64 sets of 4 ways: at most 2 MiB held */
wd_cert *wd_trust_store_find_token_text(wd_trust_store *store, const char *text, size_t length);
void wd_trust_store_remember_token_text(wd_trust_store *store, const char *text, size_t length, wd_cert *cert);

/* Validates cert's chain to a trust anchor at time now (intermediates may come from the
** known certificates). Rejections: cert-expired (cert or a chain member outside its validity
** at now), cert-revoked (cert or a chain member listed in a CRL), cert-untrusted (no path to
** an anchor, revocation status unknown, or any other chain error; the detail holds OpenSSL's
** reason). A verdict is cached by the certificate's SHA-256 together with the time window in
** which it holds (the chain's validity, narrowed to the lastUpdate..nextUpdate of the CRLs of
** its issuers), so repeated senders do not pay for chain building.
** Thread-safe. */
int wd_trust_store_validate(wd_trust_store *store, wd_cert *cert, int64_t now, wd_failure *failure);

/* wd_trust_store_validate, then the rules for a certificate whose key made a signature
** (wd_cert_check_signer with the store's trust.eku purposes): cert-usage when it is a CA,
** when its keyUsage allows neither digitalSignature nor nonRepudiation, or when trust.eku is
** set and its extendedKeyUsage names none of them. Certificates that only appear in a message
** (an unused BinarySecurityToken) take wd_trust_store_validate alone. Thread-safe. */
int wd_trust_store_validate_signer(wd_trust_store *store, wd_cert *cert, int64_t now, wd_failure *failure);

/* Known-certificate look-ups. Return a new reference (caller unrefs) or NULL. */
wd_cert *wd_trust_store_find_ski(wd_trust_store *store, const unsigned char *ski, size_t length);
wd_cert *wd_trust_store_find_thumbprint(wd_trust_store *store, const unsigned char sha1[20]);
/* issuer: a DN as text in any common form (RFC 2253/4514 "CN=x,O=y", with or without spaces
** after commas, attribute types in any case); serial: decimal text as XML-DSig's
** X509SerialNumber. */
wd_cert *wd_trust_store_find_issuer_serial(wd_trust_store *store, const char *issuer,
                                           const char *serial_decimal);

/* The one known certificate when the store holds exactly one (a new reference, caller
** unrefs), else NULL: the key of a SAML issuer that signs without KeyInfo. */
wd_cert *wd_trust_store_sole_known(wd_trust_store *store);

/* Number of trust anchors, known certificates, CRLs. */
size_t wd_trust_store_anchor_count(const wd_trust_store *store);
size_t wd_trust_store_known_count(const wd_trust_store *store);
size_t wd_trust_store_crl_count(const wd_trust_store *store);

void wd_trust_store_free(wd_trust_store *store);

#endif
