/*
** crypto.c — owns the XML-DSig algorithm allow-lists, the key checks that go with them, and
** signature-value verification with OpenSSL 3 EVP. Digests are fetched once per engine so
** that the per-message path skips provider name look-ups.
*/
#include "crypto.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <string.h>

#include "../include/warden.h"
#include "namespaces.h"

static const char *const digest_fetch_names[WD_DIGEST_COUNT] = {
    [WD_DIGEST_SHA1]   = "SHA1",
    [WD_DIGEST_SHA256] = "SHA256",
    [WD_DIGEST_SHA384] = "SHA384",
    [WD_DIGEST_SHA512] = "SHA512",
};

typedef struct digest_entry {
    const char  *uri;
    wd_digest_id id;
} digest_entry;

static const digest_entry digest_table[] = {
    { WD_ALG_SHA1,   WD_DIGEST_SHA1 },
    { WD_ALG_SHA256, WD_DIGEST_SHA256 },
    { WD_ALG_SHA384, WD_DIGEST_SHA384 },
    { WD_ALG_SHA512, WD_DIGEST_SHA512 },
};

static const wd_signature_algorithm signature_table[] = {
    { WD_ALG_RSA_SHA1,       WD_KEY_RSA,     WD_DIGEST_SHA1 },
    { WD_ALG_RSA_SHA256,     WD_KEY_RSA,     WD_DIGEST_SHA256 },
    { WD_ALG_RSA_SHA384,     WD_KEY_RSA,     WD_DIGEST_SHA384 },
    { WD_ALG_RSA_SHA512,     WD_KEY_RSA,     WD_DIGEST_SHA512 },
    { WD_ALG_RSA_PSS_SHA256, WD_KEY_RSA_PSS, WD_DIGEST_SHA256 },
    { WD_ALG_RSA_PSS_SHA384, WD_KEY_RSA_PSS, WD_DIGEST_SHA384 },
    { WD_ALG_RSA_PSS_SHA512, WD_KEY_RSA_PSS, WD_DIGEST_SHA512 },
    { WD_ALG_ECDSA_SHA1,     WD_KEY_EC,      WD_DIGEST_SHA1 },
    { WD_ALG_ECDSA_SHA256,   WD_KEY_EC,      WD_DIGEST_SHA256 },
    { WD_ALG_ECDSA_SHA384,   WD_KEY_EC,      WD_DIGEST_SHA384 },
    { WD_ALG_ECDSA_SHA512,   WD_KEY_EC,      WD_DIGEST_SHA512 },
};

/* Curves below P-256 are refused; OpenSSL reports the NIST curves under their SEC names
** ("prime256v1"), and some providers under the NIST ones. */
static const char *const allowed_curves[] = {
    "prime256v1", "P-256", "secp384r1", "P-384", "secp521r1", "P-521",
};

#define COUNT_OF(array) (sizeof(array) / sizeof((array)[0]))

_Static_assert(COUNT_OF(signature_table) == WD_SIGNATURE_ALGORITHM_COUNT, "WD_SIGNATURE_ALGORITHM_COUNT");

int wd_crypto_init(wd_crypto *crypto, wd_failure *failure)
{
    memset(crypto, 0, sizeof *crypto);
    for (size_t i = 0; i < WD_DIGEST_COUNT; i++) {
        crypto->digests[i] = EVP_MD_fetch(NULL, digest_fetch_names[i], NULL);
        if (crypto->digests[i] == NULL) {
            wd_crypto_clear(crypto);
            ERR_clear_error();
            return wd_fail_internal(failure, WARDEN_E_INTERNAL, "OpenSSL has no %s digest",
                                    digest_fetch_names[i]);
        }
    }
    return 0;
}

void wd_crypto_clear(wd_crypto *crypto)
{
    if (crypto == NULL)
        return;
    for (size_t i = 0; i < WD_DIGEST_COUNT; i++) {
        EVP_MD_free(crypto->digests[i]);
        crypto->digests[i] = NULL;
    }
}

int wd_crypto_digest_algorithm(const char *uri, bool allow_sha1, wd_digest_id *out,
                               wd_failure *failure)
{
    if (uri == NULL)
        return wd_fail(failure, WD_REASON_WEAK_ALGORITHM, "DigestMethod has no Algorithm");
    for (size_t i = 0; i < COUNT_OF(digest_table); i++) {
        if (strcmp(uri, digest_table[i].uri) != 0)
            continue;
        if (digest_table[i].id == WD_DIGEST_SHA1 && !allow_sha1)
            return wd_fail(failure, WD_REASON_WEAK_ALGORITHM,
                           "digest %s: SHA-1 is not allowed (algorithms.allow_sha1)", uri);
        *out = digest_table[i].id;
        return 0;
    }
    return wd_fail(failure, WD_REASON_WEAK_ALGORITHM, "digest %.200s is not allowed", uri);
}

int wd_crypto_signature_algorithm(const char *uri, bool allow_sha1,
                                  const wd_signature_algorithm **out, wd_failure *failure)
{
    if (uri == NULL)
        return wd_fail(failure, WD_REASON_WEAK_ALGORITHM, "SignatureMethod has no Algorithm");
    for (size_t i = 0; i < COUNT_OF(signature_table); i++) {
        if (strcmp(uri, signature_table[i].uri) != 0)
            continue;
        if (signature_table[i].digest == WD_DIGEST_SHA1 && !allow_sha1)
            return wd_fail(failure, WD_REASON_WEAK_ALGORITHM,
                           "signature %s: SHA-1 is not allowed (algorithms.allow_sha1)", uri);
        *out = &signature_table[i];
        return 0;
    }
    /* HMAC lands here on purpose: with an X.509 key it is the key-confusion attack. */
    return wd_fail(failure, WD_REASON_WEAK_ALGORITHM, "signature method %.200s is not allowed", uri);
}

static const char *key_type_name(EVP_PKEY *key)
{
    const char *name = EVP_PKEY_get0_type_name(key);
    return name != NULL ? name : "another key type";
}

static bool curve_allowed(EVP_PKEY *key, char *name, size_t capacity)
{
    size_t length = 0;
    name[0] = '\0';
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, capacity, &length) != 1) {
        ERR_clear_error();
        snprintf(name, capacity, "%s", "explicit or unknown");
        return false;
    }
    for (size_t i = 0; i < COUNT_OF(allowed_curves); i++)
        if (strcmp(name, allowed_curves[i]) == 0)
            return true;
    return false;
}

int wd_crypto_check_key(const wd_signature_algorithm *algorithm, EVP_PKEY *key, int min_rsa_bits,
                        wd_failure *failure)
{
    if (algorithm == NULL || key == NULL)
        return wd_fail(failure, WD_REASON_KEY_MISMATCH, "no key for %s",
                       algorithm != NULL ? algorithm->uri : "the signature");

    bool is_rsa = EVP_PKEY_is_a(key, "RSA") == 1;
    bool is_rsa_pss = EVP_PKEY_is_a(key, "RSA-PSS") == 1;
    bool is_ec = EVP_PKEY_is_a(key, "EC") == 1;

    switch (algorithm->key_kind) {
    case WD_KEY_RSA:
        /* An RSASSA-PSS key is restricted to PSS padding; PKCS#1 v1.5 with it is a mismatch. */
        if (!is_rsa)
            return wd_fail(failure, WD_REASON_KEY_MISMATCH, "%s needs an RSA key, the certificate has %s",
                           algorithm->uri, key_type_name(key));
        break;
    case WD_KEY_RSA_PSS:
        if (!is_rsa && !is_rsa_pss)
            return wd_fail(failure, WD_REASON_KEY_MISMATCH, "%s needs an RSA key, the certificate has %s",
                           algorithm->uri, key_type_name(key));
        break;
    case WD_KEY_EC:
        if (!is_ec)
            return wd_fail(failure, WD_REASON_KEY_MISMATCH, "%s needs an EC key, the certificate has %s",
                           algorithm->uri, key_type_name(key));
        break;
    default:
        return wd_fail(failure, WD_REASON_KEY_MISMATCH, "unknown key kind for %s", algorithm->uri);
    }

    if (is_rsa || is_rsa_pss) {
        int bits = EVP_PKEY_get_bits(key);
        if (bits <= 0 || bits < min_rsa_bits)
            return wd_fail(failure, WD_REASON_WEAK_ALGORITHM, "RSA key of %d bits (at least %d required)",
                           bits, min_rsa_bits);
    } else {
        char curve[64];
        if (!curve_allowed(key, curve, sizeof curve))
            return wd_fail(failure, WD_REASON_WEAK_ALGORITHM, "EC curve %s is not allowed", curve);
    }
    return 0;
}

/* XML-DSig carries ECDSA as r‖s, each half as long as the curve order; OpenSSL wants the
** DER SEQUENCE. *out is OPENSSL_malloc'd (caller frees with OPENSSL_free). Returns 1 when
** converted, 0 when the value cannot be an ECDSA signature for this key, -1 on NOMEM. */
static int ecdsa_raw_to_der(EVP_PKEY *key, const unsigned char *raw, size_t raw_length,
                            unsigned char **out, size_t *out_length)
{
    int bits = EVP_PKEY_get_bits(key);
    if (bits <= 0)
        return 0;
    size_t half = ((size_t)bits + 7) / 8;
    if (raw_length != 2 * half)
        return 0;

    int result = -1;
    ECDSA_SIG *sig = NULL;
    unsigned char *der = NULL;
    int der_length = 0;
    BIGNUM *r = BN_bin2bn(raw, (int)half, NULL);
    BIGNUM *s = BN_bin2bn(raw + half, (int)half, NULL);
    if (r == NULL || s == NULL)
        goto done;
    sig = ECDSA_SIG_new();
    if (sig == NULL)
        goto done;
    if (ECDSA_SIG_set0(sig, r, s) != 1)
        goto done;
    r = s = NULL; /* now owned by sig */

    der_length = i2d_ECDSA_SIG(sig, &der);
    if (der_length <= 0)
        goto done;
    *out = der;
    *out_length = (size_t)der_length;
    result = 1;
done:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return result;
}

/* A context ready for EVP_PKEY_verify of a digest made with md, with key under algorithm, or
** NULL. */
static EVP_PKEY_CTX *prepare(const EVP_MD *md, const wd_signature_algorithm *algorithm, EVP_PKEY *key)
{
    EVP_PKEY_CTX *context = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);

    if (context == NULL)
        return NULL;
    if (EVP_PKEY_verify_init(context) != 1 || EVP_PKEY_CTX_set_signature_md(context, md) != 1)
        goto fail;
    if (algorithm->key_kind == WD_KEY_RSA_PSS) {
        /* RFC 6931: salt as long as the digest, MGF1 with the same digest. */
        if (EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PSS_PADDING) != 1
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(context, EVP_MD_get_size(md)) != 1
            || EVP_PKEY_CTX_set_rsa_mgf1_md(context, md) != 1)
            goto fail;
    } else if (algorithm->key_kind == WD_KEY_RSA) {
        if (EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) != 1)
            goto fail;
    }
    return context;
fail:
    EVP_PKEY_CTX_free(context);
    return NULL;
}

/* A context for one verification: a copy of the cache's prepared one (prepared now if this
** is the key's first use of the algorithm), or, without a cache, a fresh one. */
static EVP_PKEY_CTX *verification_context(const EVP_MD *md, const wd_signature_algorithm *algorithm, EVP_PKEY *key,
                                          wd_verify_cache *cache)
{
    size_t slot = (size_t)(algorithm - signature_table);
    EVP_PKEY_CTX *prepared, *copy;

    if (cache == NULL || slot >= WD_SIGNATURE_ALGORITHM_COUNT)
        return prepare(md, algorithm, key);
    prepared = atomic_load_explicit(&cache->prepared[slot], memory_order_acquire);
    if (prepared == NULL) {
        EVP_PKEY_CTX *expected = NULL;
        prepared = prepare(md, algorithm, key);
        if (prepared == NULL)
            return NULL;
        /* Another thread may have filled the slot meanwhile: keep its context. */
        if (!atomic_compare_exchange_strong_explicit(&cache->prepared[slot], &expected, prepared,
                                                     memory_order_acq_rel, memory_order_acquire)) {
            EVP_PKEY_CTX_free(prepared);
            prepared = expected;
        }
    }
    copy = EVP_PKEY_CTX_dup(prepared);
    return copy != NULL ? copy : prepare(md, algorithm, key);
}

void wd_verify_cache_clear(wd_verify_cache *cache)
{
    if (cache == NULL)
        return;
    for (size_t i = 0; i < WD_SIGNATURE_ALGORITHM_COUNT; i++) {
        EVP_PKEY_CTX_free(atomic_load_explicit(&cache->prepared[i], memory_order_acquire));
        atomic_store_explicit(&cache->prepared[i], NULL, memory_order_release);
    }
}

int wd_crypto_verify(const wd_crypto *crypto, const wd_signature_algorithm *algorithm, EVP_PKEY *key,
                     const unsigned char *data, size_t data_length,
                     const unsigned char *signature, size_t signature_length, wd_failure *failure)
{
    return wd_crypto_verify_cached(crypto, algorithm, key, NULL, data, data_length, NULL, signature,
                                   signature_length, failure);
}

int wd_crypto_verify_cached(const wd_crypto *crypto, const wd_signature_algorithm *algorithm, EVP_PKEY *key,
                            wd_verify_cache *cache, const unsigned char *data, size_t data_length,
                            const unsigned char *data_sha256, const unsigned char *signature,
                            size_t signature_length, wd_failure *failure)
{
    int result = -1;
    EVP_PKEY_CTX *context = NULL;
    unsigned char *ecdsa_der = NULL;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    const unsigned char *hashed = digest;

    if (crypto == NULL || algorithm == NULL || key == NULL || (unsigned)algorithm->digest >= WD_DIGEST_COUNT
        || crypto->digests[algorithm->digest] == NULL)
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "signature verification is not set up");
    if (signature == NULL || signature_length == 0)
        return wd_fail(failure, WD_REASON_SIGNATURE_INVALID, "empty signature value");

    const EVP_MD *md = crypto->digests[algorithm->digest];
    const unsigned char *value = signature;
    size_t value_length = signature_length;

    if (algorithm->key_kind == WD_KEY_EC) {
        int converted = ecdsa_raw_to_der(key, signature, signature_length, &ecdsa_der, &value_length);
        if (converted < 0) {
            result = wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory converting an ECDSA signature");
            goto done;
        }
        if (converted == 0) {
            result = wd_fail(failure, WD_REASON_SIGNATURE_INVALID,
                             "ECDSA signature value has %zu bytes, not r||s for this curve", signature_length);
            goto done;
        }
        value = ecdsa_der;
    }

    /* The signed data is hashed here (or was, by the caller, when the algorithm's digest is
    ** SHA-256), and the prepared context verifies that digest. */
    if (algorithm->digest == WD_DIGEST_SHA256 && data_sha256 != NULL) {
        hashed = data_sha256;
        digest_length = 32;
    } else if (EVP_Digest(data, data_length, digest, &digest_length, md, NULL) != 1) {
        result = wd_fail_internal(failure, WARDEN_E_INTERNAL, "digest of the signed data failed");
        goto done;
    }
    context = verification_context(md, algorithm, key, cache);
    if (context == NULL) {
        result = wd_fail(failure, WD_REASON_SIGNATURE_INVALID, "the key cannot verify %s", algorithm->uri);
        goto done;
    }
    if (EVP_PKEY_verify(context, value, value_length, hashed, digest_length) != 1) {
        result = wd_fail(failure, WD_REASON_SIGNATURE_INVALID, "signature value does not verify (%s)",
                         algorithm->uri);
        goto done;
    }
    result = 0;
done:
    /* A failed verification leaves errors on this thread's queue; they must not surface
    ** in an unrelated later call. */
    if (result != 0)
        ERR_clear_error();
    EVP_PKEY_CTX_free(context);
    OPENSSL_free(ecdsa_der);
    return result;
}

int wd_crypto_digest(const wd_crypto *crypto, wd_digest_id digest, const unsigned char *data,
                     size_t length, unsigned char *out, unsigned int *out_length, wd_failure *failure)
{
    if (crypto == NULL || (unsigned)digest >= WD_DIGEST_COUNT || crypto->digests[digest] == NULL)
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "digest is not set up");
    if (EVP_Digest(data, length, out, out_length, crypto->digests[digest], NULL) != 1) {
        ERR_clear_error();
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "digest computation failed");
    }
    return 0;
}
