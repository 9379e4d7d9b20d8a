/*
** crypto.h — algorithm allow-lists (XML-DSig URIs to OpenSSL algorithms) and the OpenSSL
** objects fetched once per engine, so that the hot path never pays for provider look-ups.
*/
#ifndef WD_CRYPTO_H
#define WD_CRYPTO_H

#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "failure.h"

typedef enum wd_digest_id { WD_DIGEST_SHA1 = 0, WD_DIGEST_SHA256, WD_DIGEST_SHA384, WD_DIGEST_SHA512, WD_DIGEST_COUNT } wd_digest_id;

typedef enum wd_key_kind { WD_KEY_RSA = 1, WD_KEY_RSA_PSS, WD_KEY_EC } wd_key_kind;

typedef struct wd_signature_algorithm {
    const char  *uri;
    wd_key_kind  key_kind;  /* WD_KEY_RSA_PSS: an RSA key used with PSS padding */
    wd_digest_id digest;
} wd_signature_algorithm;

/* Fetched digests, shared read-only by all threads. */
typedef struct wd_crypto {
    EVP_MD *digests[WD_DIGEST_COUNT];
} wd_crypto;

/* Fetches the digests. Returns 0 or -1 (failure filled, internal-error). */
int  wd_crypto_init(wd_crypto *crypto, wd_failure *failure);
void wd_crypto_clear(wd_crypto *crypto);

/* Looks up a DigestMethod URI. Returns 0 with *out set; -1 with failure filled:
** weak-algorithm for SHA-1 when allow_sha1 is false, for MD5, and for any URI not on the
** allow-list (sha1, sha256, sha384, sha512). */
int wd_crypto_digest_algorithm(const char *uri, bool allow_sha1, wd_digest_id *out,
                               wd_failure *failure);

/* Looks up a SignatureMethod URI among rsa-sha1/256/384/512, rsa-pss sha256/384/512 (RFC
** 6931 MGF1 URIs), ecdsa-sha1/256/384/512. SHA-1 ones only with allow_sha1. HMAC and every
** other URI: weak-algorithm. */
int wd_crypto_signature_algorithm(const char *uri, bool allow_sha1,
                                  const wd_signature_algorithm **out, wd_failure *failure);

/* Checks that key fits the algorithm: key-mismatch when the key's type does not match
** (an EC key with an RSA URI, ...); weak-algorithm for RSA keys below min_rsa_bits and EC
** curves other than P-256, P-384, P-521. */
int wd_crypto_check_key(const wd_signature_algorithm *algorithm, EVP_PKEY *key, int min_rsa_bits,
                        wd_failure *failure);

/* Verifies signature (as XML-DSig encodes it: PKCS#1 bytes for RSA, r‖s for ECDSA) over
** data with key. Returns 0 when valid; -1 with signature-invalid otherwise (internal-error
** on allocation failure). Thread-safe with a shared key. */
int wd_crypto_verify(const wd_crypto *crypto, const wd_signature_algorithm *algorithm, EVP_PKEY *key,
                     const unsigned char *data, size_t data_length,
                     const unsigned char *signature, size_t signature_length, wd_failure *failure);

/* The signature algorithms wd_crypto_signature_algorithm knows. */
#define WD_SIGNATURE_ALGORITHM_COUNT 11

/* Verification contexts prepared once per key and algorithm (EVP_PKEY_verify_init, the
** digest and the padding parameters) and copied for each signature: the copy skips OpenSSL
** 3's algorithm fetch and key set-up, which cost about as much as the rest of a verification
** after the RSA arithmetic. A cache belongs to one key (a wd_cert holds its key's); slots fill on
** first use, atomically, and the prepared contexts are only ever read afterwards, so any
** number of threads may use one cache. Zero-initialised means empty. */
typedef struct wd_verify_cache {
    _Atomic(EVP_PKEY_CTX *) prepared[WD_SIGNATURE_ALGORITHM_COUNT];
} wd_verify_cache;

/* Frees the prepared contexts (when the key goes). */
void wd_verify_cache_clear(wd_verify_cache *cache);

/* wd_crypto_verify through cache (prepared contexts of this key; NULL: none). data_sha256,
** when not NULL, is the caller's SHA-256 of data, used instead of hashing it again when the
** algorithm's digest is SHA-256. Same returns. */
int wd_crypto_verify_cached(const wd_crypto *crypto, const wd_signature_algorithm *algorithm, EVP_PKEY *key,
                            wd_verify_cache *cache, const unsigned char *data, size_t data_length,
                            const unsigned char *data_sha256, const unsigned char *signature,
                            size_t signature_length, wd_failure *failure);

/* Digest of data into out (at least EVP_MAX_MD_SIZE bytes); *out_length gets the size.
** Returns 0 or -1 (internal-error). */
int wd_crypto_digest(const wd_crypto *crypto, wd_digest_id digest, const unsigned char *data,
                     size_t length, unsigned char *out, unsigned int *out_length, wd_failure *failure);

#endif
