/*
** cert.h — a parsed X.509 certificate and every fact the property model reports about it.
** A wd_cert is immutable once made (but for its key's cache of prepared verification
** contexts, which fills atomically) and reference-counted, so that the trust store can cache
** it by the SHA-256 of its DER and many messages (in many threads) can hold it at once.
*/
#ifndef WD_CERT_H
#define WD_CERT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../include/warden.h"
#include "crypto.h"
#include "failure.h"

typedef struct wd_cert {
    atomic_size_t  references;
    X509          *x509;
    EVP_PKEY      *key;            /* the subject public key (owned) */
    unsigned char *der;            /* owned */
    size_t         der_length;
    unsigned char  sha256[32];     /* of the DER */
    unsigned char  sha1[20];       /* of the DER: the WS-Security ThumbprintSHA1 */
    unsigned char *ski;            /* subject key identifier extension value, or NULL */
    size_t         ski_length;
    char          *subject;        /* RFC 4514 DN, most specific first (OpenSSL RFC 2253 form) */
    char          *issuer;
    char          *serial_hex;     /* lowercase hex of the serial's bytes, as `openssl x509 -serial` prints it ("01e5") */
    char          *sha256_hex;     /* lowercase hex */
    const char    *key_type;       /* static: "rsa", "rsa-pss", "ec", "ed25519", "ed448", "dsa", "unknown" */
    int            key_bits;
    int64_t        not_before;     /* Unix seconds */
    int64_t        not_after;
    warden_attr_list   subject_attrs; /* (short name such as "CN", value) in DN order; owned */
    warden_attr_list   issuer_attrs;
    warden_string_list san_dns, san_email, san_uri, san_ip; /* owned */
    wd_verify_cache    verify_cache; /* the key's prepared verification contexts; the one
                                     ** part that changes after the cert is made (crypto.h) */
} wd_cert;

/* Parses a DER certificate and extracts all the facts above. *out has one reference, owned
** by the caller (wd_cert_unref). Rejection: token-unsupported (not a parsable X.509
** certificate, or a key type OpenSSL cannot load). NOMEM as internal-error. */
int wd_cert_from_der(const unsigned char *der, size_t length, wd_cert **out, wd_failure *failure);

/* Whether cert may have made a message signature (a certificate's chain is a separate
** question, see wd_trust_store_validate_signer): it must be an end entity, not a CA (neither
** basicConstraints CA:TRUE, nor keyUsage keyCertSign, nor a version 1 self-signed root, all
** of which OpenSSL takes for a CA); when it has keyUsage, that must include digitalSignature
** or nonRepudiation; and when purposes is not empty, its extendedKeyUsage must be present and
** contain at least one of purposes (anyExtendedKeyUsage counts only when listed itself).
** Returns 0, or -1 with the rejection cert-usage (the detail names the rule). Thread-safe. */
int wd_cert_check_signer(const wd_cert *cert, ASN1_OBJECT *const *purposes, size_t purpose_count,
                         wd_failure *failure);

/* Takes one more reference; returns cert. Thread-safe. */
wd_cert *wd_cert_ref(wd_cert *cert);

/* Drops a reference; frees on the last. NULL is a no-op. Thread-safe. */
void wd_cert_unref(wd_cert *cert);

#endif
