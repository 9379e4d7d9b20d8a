/*
** test_crypto.c — algorithm allow-lists, key checks, and verification of real signatures
** made here with the test PKI's keys (RSA PKCS#1 v1.5, RSA-PSS, ECDSA as r||s).
*/
#include <check.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/failure.h"
#include "core/namespaces.h"
#include "test_run.h"

#define ALG_HMAC_SHA1   "http://www.w3.org/2000/09/xmldsig#hmac-sha1"
#define ALG_HMAC_SHA256 "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"
#define ALG_MD5         "http://www.w3.org/2001/04/xmldsig-more#md5"
#define ALG_RSA_MD5     "http://www.w3.org/2001/04/xmldsig-more#rsa-md5"
#define ALG_DSA_SHA1    "http://www.w3.org/2000/09/xmldsig#dsa-sha1"
#define ALG_PSS_SHA1    "http://www.w3.org/2007/05/xmldsig-more#sha1-rsa-MGF1"

static const unsigned char signed_info[] =
    "<ds:SignedInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:CanonicalizationMethod "
    "Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"></ds:CanonicalizationMethod></ds:SignedInfo>";

static wd_crypto crypto;

static void setup(void)
{
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_init(&crypto, &failure), 0);
}

static void teardown(void)
{
    wd_crypto_clear(&crypto);
}

static char *pki_path(const char *name)
{
    const char *dir = getenv("WARDEN_TEST_PKI");
    ck_assert_msg(dir != NULL, "WARDEN_TEST_PKI is not set");
    size_t size = strlen(dir) + strlen(name) + 2;
    char *path = malloc(size);
    ck_assert_ptr_nonnull(path);
    snprintf(path, size, "%s/%s", dir, name);
    return path;
}

static EVP_PKEY *private_key(const char *name)
{
    char *path = pki_path(name);
    FILE *file = fopen(path, "r");
    ck_assert_msg(file != NULL, "cannot open %s", path);
    EVP_PKEY *key = PEM_read_PrivateKey(file, NULL, NULL, NULL);
    fclose(file);
    ck_assert_msg(key != NULL, "no key in %s", path);
    free(path);
    return key;
}

/* The public key as a verifier gets it: out of the certificate. */
static EVP_PKEY *certificate_key(const char *name)
{
    char *path = pki_path(name);
    FILE *file = fopen(path, "r");
    ck_assert_msg(file != NULL, "cannot open %s", path);
    X509 *x509 = PEM_read_X509(file, NULL, NULL, NULL);
    fclose(file);
    ck_assert_ptr_nonnull(x509);
    EVP_PKEY *key = X509_get_pubkey(x509);
    ck_assert_ptr_nonnull(key);
    X509_free(x509);
    free(path);
    return key;
}

/* Signs with OpenSSL directly. pss_salt < 0: PKCS#1 v1.5 (or ECDSA); else PSS with that salt. */
static unsigned char *sign(EVP_PKEY *key, const char *digest, int pss_salt, const unsigned char *data,
                           size_t length, size_t *signature_length)
{
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    EVP_PKEY_CTX *key_context = NULL;
    const EVP_MD *md = EVP_get_digestbyname(digest);
    ck_assert_ptr_nonnull(context);
    ck_assert_ptr_nonnull(md);
    ck_assert_int_eq(EVP_DigestSignInit(context, &key_context, md, NULL, key), 1);
    if (pss_salt >= 0) {
        ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING), 1);
        ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, pss_salt), 1);
        ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_mgf1_md(key_context, md), 1);
    }
    ck_assert_int_eq(EVP_DigestSign(context, NULL, signature_length, data, length), 1);
    unsigned char *signature = malloc(*signature_length);
    ck_assert_ptr_nonnull(signature);
    ck_assert_int_eq(EVP_DigestSign(context, signature, signature_length, data, length), 1);
    EVP_MD_CTX_free(context);
    return signature;
}

/* ECDSA DER -> XML-DSig r||s with halves of half_size bytes. */
static unsigned char *der_to_raw(const unsigned char *der, size_t der_length, int half_size, size_t *raw_length)
{
    const unsigned char *cursor = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &cursor, (long)der_length);
    ck_assert_ptr_nonnull(sig);
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(sig, &r, &s);
    unsigned char *raw = malloc((size_t)half_size * 2);
    ck_assert_ptr_nonnull(raw);
    ck_assert_int_eq(BN_bn2binpad(r, raw, half_size), half_size);
    ck_assert_int_eq(BN_bn2binpad(s, raw + half_size, half_size), half_size);
    ECDSA_SIG_free(sig);
    *raw_length = (size_t)half_size * 2;
    return raw;
}

static const wd_signature_algorithm *algorithm(const char *uri)
{
    const wd_signature_algorithm *found = NULL;
    wd_failure failure = { 0 };
    ck_assert_msg(wd_crypto_signature_algorithm(uri, false, &found, &failure) == 0, "%s: %s", uri, failure.detail);
    return found;
}

#define ASSERT_REASON(failure, expected) \
    ck_assert_str_eq(wd_reason_name((failure).reason), (expected))

/* ----- digest allow-list ----- */

START_TEST(digest_sha2_family_is_allowed)
{
    static const struct { const char *uri; wd_digest_id id; } cases[] = {
        { WD_ALG_SHA256, WD_DIGEST_SHA256 }, { WD_ALG_SHA384, WD_DIGEST_SHA384 }, { WD_ALG_SHA512, WD_DIGEST_SHA512 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wd_digest_id id = WD_DIGEST_COUNT;
        wd_failure failure = { 0 };
        ck_assert_int_eq(wd_crypto_digest_algorithm(cases[i].uri, false, &id, &failure), 0);
        ck_assert_int_eq(id, cases[i].id);
    }
}
END_TEST

START_TEST(digest_sha1_is_weak_unless_allowed)
{
    wd_digest_id id = WD_DIGEST_COUNT;
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_digest_algorithm(WD_ALG_SHA1, false, &id, &failure), -1);
    ASSERT_REASON(failure, "weak-algorithm");
    ck_assert_int_eq(failure.code, 5);

    wd_failure allowed = { 0 };
    ck_assert_int_eq(wd_crypto_digest_algorithm(WD_ALG_SHA1, true, &id, &allowed), 0);
    ck_assert_int_eq(id, WD_DIGEST_SHA1);
}
END_TEST

START_TEST(digest_md5_unknown_and_missing_are_weak)
{
    const char *uris[] = { ALG_MD5, "urn:example:no-such-digest", WD_ALG_RSA_SHA256, "", NULL };
    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
        wd_digest_id id = WD_DIGEST_COUNT;
        wd_failure failure = { 0 };
        ck_assert_int_eq(wd_crypto_digest_algorithm(uris[i], true, &id, &failure), -1);
        ASSERT_REASON(failure, "weak-algorithm");
        ck_assert_int_eq(id, WD_DIGEST_COUNT);
    }
}
END_TEST

/* ----- signature allow-list ----- */

START_TEST(signature_methods_map_to_key_kind_and_digest)
{
    static const struct { const char *uri; wd_key_kind kind; wd_digest_id digest; } cases[] = {
        { WD_ALG_RSA_SHA256, WD_KEY_RSA, WD_DIGEST_SHA256 },
        { WD_ALG_RSA_SHA384, WD_KEY_RSA, WD_DIGEST_SHA384 },
        { WD_ALG_RSA_SHA512, WD_KEY_RSA, WD_DIGEST_SHA512 },
        { WD_ALG_RSA_PSS_SHA256, WD_KEY_RSA_PSS, WD_DIGEST_SHA256 },
        { WD_ALG_RSA_PSS_SHA384, WD_KEY_RSA_PSS, WD_DIGEST_SHA384 },
        { WD_ALG_RSA_PSS_SHA512, WD_KEY_RSA_PSS, WD_DIGEST_SHA512 },
        { WD_ALG_ECDSA_SHA256, WD_KEY_EC, WD_DIGEST_SHA256 },
        { WD_ALG_ECDSA_SHA384, WD_KEY_EC, WD_DIGEST_SHA384 },
        { WD_ALG_ECDSA_SHA512, WD_KEY_EC, WD_DIGEST_SHA512 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const wd_signature_algorithm *found = algorithm(cases[i].uri);
        ck_assert_str_eq(found->uri, cases[i].uri);
        ck_assert_int_eq(found->key_kind, cases[i].kind);
        ck_assert_int_eq(found->digest, cases[i].digest);
    }
}
END_TEST

START_TEST(signature_sha1_methods_are_weak_unless_allowed)
{
    const char *uris[] = { WD_ALG_RSA_SHA1, WD_ALG_ECDSA_SHA1 };
    for (size_t i = 0; i < 2; i++) {
        const wd_signature_algorithm *found = NULL;
        wd_failure failure = { 0 };
        ck_assert_int_eq(wd_crypto_signature_algorithm(uris[i], false, &found, &failure), -1);
        ASSERT_REASON(failure, "weak-algorithm");
        ck_assert_ptr_null(found);
        ck_assert_int_eq(wd_crypto_signature_algorithm(uris[i], true, &found, &failure), 0);
        ck_assert_int_eq(found->digest, WD_DIGEST_SHA1);
    }
}
END_TEST

START_TEST(signature_hmac_md5_dsa_and_unknown_are_weak_even_with_sha1)
{
    const char *uris[] = { ALG_HMAC_SHA1, ALG_HMAC_SHA256, ALG_RSA_MD5, ALG_DSA_SHA1, ALG_PSS_SHA1,
                           "urn:example:no-such-signature", WD_ALG_SHA256, NULL };
    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
        const wd_signature_algorithm *found = NULL;
        wd_failure failure = { 0 };
        ck_assert_int_eq(wd_crypto_signature_algorithm(uris[i], true, &found, &failure), -1);
        ASSERT_REASON(failure, "weak-algorithm");
        ck_assert_ptr_null(found);
    }
}
END_TEST

/* ----- key checks ----- */

START_TEST(key_check_accepts_matching_keys)
{
    EVP_PKEY *rsa = certificate_key("alice.pem");
    EVP_PKEY *ec = certificate_key("ecuser.pem");
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_check_key(algorithm(WD_ALG_RSA_SHA256), rsa, 2048, &failure), 0);
    ck_assert_int_eq(wd_crypto_check_key(algorithm(WD_ALG_RSA_PSS_SHA512), rsa, 2048, &failure), 0);
    ck_assert_int_eq(wd_crypto_check_key(algorithm(WD_ALG_ECDSA_SHA256), ec, 2048, &failure), 0);
    ck_assert_int_eq(wd_crypto_check_key(algorithm(WD_ALG_ECDSA_SHA512), ec, 2048, &failure), 0);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
}
END_TEST

START_TEST(key_check_ec_key_with_rsa_uri_is_key_mismatch)
{
    EVP_PKEY *ec = certificate_key("ecuser.pem");
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_check_key(algorithm(WD_ALG_RSA_SHA256), ec, 2048, &failure), -1);
    ASSERT_REASON(failure, "key-mismatch");
    wd_failure pss = { 0 };
    ck_assert_int_eq(wd_crypto_check_key(algorithm(WD_ALG_RSA_PSS_SHA256), ec, 2048, &pss), -1);
    ASSERT_REASON(pss, "key-mismatch");
    EVP_PKEY_free(ec);
}
END_TEST

START_TEST(key_check_rsa_key_with_ecdsa_uri_is_key_mismatch)
{
    EVP_PKEY *rsa = certificate_key("alice.pem");
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_check_key(algorithm(WD_ALG_ECDSA_SHA256), rsa, 2048, &failure), -1);
    ASSERT_REASON(failure, "key-mismatch");
    EVP_PKEY_free(rsa);
}
END_TEST

START_TEST(key_check_ed25519_key_is_key_mismatch)
{
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    ck_assert_ptr_nonnull(ed);
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_check_key(algorithm(WD_ALG_ECDSA_SHA256), ed, 2048, &failure), -1);
    ASSERT_REASON(failure, "key-mismatch");
    ck_assert_int_eq(wd_crypto_check_key(algorithm(WD_ALG_RSA_SHA256), ed, 2048, &failure), -1);
    ASSERT_REASON(failure, "key-mismatch");
    EVP_PKEY_free(ed);
}
END_TEST

START_TEST(key_check_missing_key_is_key_mismatch)
{
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_check_key(algorithm(WD_ALG_RSA_SHA256), NULL, 2048, &failure), -1);
    ASSERT_REASON(failure, "key-mismatch");
}
END_TEST

START_TEST(key_check_rsa_1024_is_weak_algorithm)
{
    EVP_PKEY *small = certificate_key("small.pem");
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_check_key(algorithm(WD_ALG_RSA_SHA256), small, 2048, &failure), -1);
    ASSERT_REASON(failure, "weak-algorithm");
    wd_failure pss = { 0 };
    ck_assert_int_eq(wd_crypto_check_key(algorithm(WD_ALG_RSA_PSS_SHA256), small, 2048, &pss), -1);
    ASSERT_REASON(pss, "weak-algorithm");
    /* min_rsa_bits is the operator's to lower */
    ck_assert_int_eq(wd_crypto_check_key(algorithm(WD_ALG_RSA_SHA256), small, 1024, &failure), 0);
    EVP_PKEY_free(small);
}
END_TEST

START_TEST(key_check_curve_outside_nist_set_is_weak_algorithm)
{
    EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    ck_assert_ptr_nonnull(k1);
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_check_key(algorithm(WD_ALG_ECDSA_SHA256), k1, 2048, &failure), -1);
    ASSERT_REASON(failure, "weak-algorithm");
    EVP_PKEY_free(k1);

    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    ck_assert_ptr_nonnull(p384);
    ck_assert_int_eq(wd_crypto_check_key(algorithm(WD_ALG_ECDSA_SHA384), p384, 2048, &failure), 0);
    EVP_PKEY_free(p384);
}
END_TEST

START_TEST(key_check_rsa_pss_only_key_needs_pss_uri)
{
    EVP_PKEY *pss_key = NULL;
    EVP_PKEY_CTX *generator = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
    ck_assert_ptr_nonnull(generator);
    ck_assert_int_eq(EVP_PKEY_keygen_init(generator), 1);
    ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_keygen_bits(generator, 2048), 1);
    ck_assert_int_eq(EVP_PKEY_generate(generator, &pss_key), 1);
    EVP_PKEY_CTX_free(generator);
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_check_key(algorithm(WD_ALG_RSA_SHA256), pss_key, 2048, &failure), -1);
    ASSERT_REASON(failure, "key-mismatch");
    ck_assert_int_eq(wd_crypto_check_key(algorithm(WD_ALG_RSA_PSS_SHA256), pss_key, 2048, &failure), 0);

    size_t length = 0;
    unsigned char *signature = sign(pss_key, "SHA256", 32, signed_info, sizeof signed_info, &length);
    ck_assert_int_eq(wd_crypto_verify(&crypto, algorithm(WD_ALG_RSA_PSS_SHA256), pss_key, signed_info,
                                      sizeof signed_info, signature, length, &failure), 0);
    free(signature);
    EVP_PKEY_free(pss_key);
}
END_TEST

/* ----- verification ----- */

/* Once without a cache of prepared contexts, then twice through one (filling it, then
** copying from it, given the data's SHA-256 as the verifier gives it): a prepared context
** must verify and refuse exactly like a fresh one. */
static void check_rsa_round_trip(const char *uri, const char *digest, int pss_salt)
{
    EVP_PKEY *signer = private_key("alice.key");
    EVP_PKEY *verifier = certificate_key("alice.pem");
    const wd_signature_algorithm *method = algorithm(uri);
    wd_verify_cache cache;

    memset(&cache, 0, sizeof cache);
    for (int pass = 0; pass < 3; pass++) {
        wd_verify_cache *prepared = pass == 0 ? NULL : &cache;
        size_t length = 0;
        unsigned char *signature = sign(signer, digest, pss_salt, signed_info, sizeof signed_info, &length);
        wd_failure failure = { 0 };

        unsigned char sha256[32];
        ck_assert_int_eq(EVP_Digest(signed_info, sizeof signed_info, sha256, NULL, EVP_sha256(), NULL), 1);
        ck_assert_msg(wd_crypto_verify_cached(&crypto, method, verifier, prepared, signed_info, sizeof signed_info,
                                              pass == 2 ? sha256 : NULL, signature, length, &failure) == 0,
                      "%s (pass %d): %s", uri, pass, failure.detail);
        if (method->digest == WD_DIGEST_SHA256) {
            /* the SHA-256 given is the one verified */
            sha256[0] ^= 0x01;
            ck_assert_int_eq(wd_crypto_verify_cached(&crypto, method, verifier, prepared, signed_info,
                                                     sizeof signed_info, sha256, signature, length, &failure), -1);
            ASSERT_REASON(failure, "signature-invalid");
        }

        unsigned char tampered_data[sizeof signed_info];
        memcpy(tampered_data, signed_info, sizeof signed_info);
        tampered_data[10] ^= 0x01;
        ck_assert_int_eq(wd_crypto_verify_cached(&crypto, method, verifier, prepared, tampered_data,
                                                 sizeof tampered_data, NULL, signature, length, &failure), -1);
        ASSERT_REASON(failure, "signature-invalid");

        signature[length / 2] ^= 0x80;
        wd_failure second = { 0 };
        ck_assert_int_eq(wd_crypto_verify_cached(&crypto, method, verifier, prepared, signed_info, sizeof signed_info,
                                                 NULL, signature, length, &second), -1);
        ASSERT_REASON(second, "signature-invalid");

        wd_failure truncated = { 0 };
        ck_assert_int_eq(wd_crypto_verify_cached(&crypto, method, verifier, prepared, signed_info, sizeof signed_info,
                                                 NULL, signature, length - 1, &truncated), -1);
        ASSERT_REASON(truncated, "signature-invalid");
        free(signature);
        ck_assert_int_eq(ERR_peek_error(), 0);
    }
    wd_verify_cache_clear(&cache);
    EVP_PKEY_free(signer);
    EVP_PKEY_free(verifier);
}

START_TEST(verify_rsa_pkcs1_sha256_and_tampered)
{
    check_rsa_round_trip(WD_ALG_RSA_SHA256, "SHA256", -1);
}
END_TEST

START_TEST(verify_rsa_pkcs1_sha384_and_tampered)
{
    check_rsa_round_trip(WD_ALG_RSA_SHA384, "SHA384", -1);
}
END_TEST

START_TEST(verify_rsa_pkcs1_sha512_and_tampered)
{
    check_rsa_round_trip(WD_ALG_RSA_SHA512, "SHA512", -1);
}
END_TEST

START_TEST(verify_rsa_sha1_when_allowed)
{
    EVP_PKEY *signer = private_key("alice.key");
    EVP_PKEY *verifier = certificate_key("alice.pem");
    const wd_signature_algorithm *method = NULL;
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_signature_algorithm(WD_ALG_RSA_SHA1, true, &method, &failure), 0);
    size_t length = 0;
    unsigned char *signature = sign(signer, "SHA1", -1, signed_info, sizeof signed_info, &length);
    ck_assert_int_eq(wd_crypto_verify(&crypto, method, verifier, signed_info, sizeof signed_info, signature,
                                      length, &failure), 0);
    free(signature);
    EVP_PKEY_free(signer);
    EVP_PKEY_free(verifier);
}
END_TEST

START_TEST(verify_rsa_pss_sha256_and_tampered)
{
    check_rsa_round_trip(WD_ALG_RSA_PSS_SHA256, "SHA256", 32);
}
END_TEST

START_TEST(verify_rsa_pss_sha512_and_tampered)
{
    check_rsa_round_trip(WD_ALG_RSA_PSS_SHA512, "SHA512", 64);
}
END_TEST

START_TEST(verify_rsa_pss_with_other_salt_length_is_invalid)
{
    /* RFC 6931 fixes the salt at the digest length; a zero-salt PSS value does not pass. */
    EVP_PKEY *signer = private_key("alice.key");
    EVP_PKEY *verifier = certificate_key("alice.pem");
    size_t length = 0;
    unsigned char *signature = sign(signer, "SHA256", 0, signed_info, sizeof signed_info, &length);
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_verify(&crypto, algorithm(WD_ALG_RSA_PSS_SHA256), verifier, signed_info,
                                      sizeof signed_info, signature, length, &failure), -1);
    ASSERT_REASON(failure, "signature-invalid");
    free(signature);
    EVP_PKEY_free(signer);
    EVP_PKEY_free(verifier);
}
END_TEST

START_TEST(verify_pkcs1_value_under_pss_uri_is_invalid)
{
    EVP_PKEY *signer = private_key("alice.key");
    EVP_PKEY *verifier = certificate_key("alice.pem");
    size_t length = 0;
    unsigned char *signature = sign(signer, "SHA256", -1, signed_info, sizeof signed_info, &length);
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_verify(&crypto, algorithm(WD_ALG_RSA_PSS_SHA256), verifier, signed_info,
                                      sizeof signed_info, signature, length, &failure), -1);
    ASSERT_REASON(failure, "signature-invalid");
    free(signature);
    EVP_PKEY_free(signer);
    EVP_PKEY_free(verifier);
}
END_TEST

START_TEST(verify_sha256_value_under_sha512_uri_is_invalid)
{
    EVP_PKEY *signer = private_key("alice.key");
    EVP_PKEY *verifier = certificate_key("alice.pem");
    size_t length = 0;
    unsigned char *signature = sign(signer, "SHA256", -1, signed_info, sizeof signed_info, &length);
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_verify(&crypto, algorithm(WD_ALG_RSA_SHA512), verifier, signed_info,
                                      sizeof signed_info, signature, length, &failure), -1);
    ASSERT_REASON(failure, "signature-invalid");
    free(signature);
    EVP_PKEY_free(signer);
    EVP_PKEY_free(verifier);
}
END_TEST

START_TEST(verify_signature_from_another_key_is_invalid)
{
    EVP_PKEY *signer = private_key("bob.key");
    EVP_PKEY *verifier = certificate_key("alice.pem");
    size_t length = 0;
    unsigned char *signature = sign(signer, "SHA256", -1, signed_info, sizeof signed_info, &length);
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_verify(&crypto, algorithm(WD_ALG_RSA_SHA256), verifier, signed_info,
                                      sizeof signed_info, signature, length, &failure), -1);
    ASSERT_REASON(failure, "signature-invalid");
    free(signature);
    EVP_PKEY_free(signer);
    EVP_PKEY_free(verifier);
}
END_TEST

START_TEST(verify_ecdsa_p256_raw_and_tampered)
{
    EVP_PKEY *signer = private_key("ecuser.key");
    EVP_PKEY *verifier = certificate_key("ecuser.pem");
    const wd_signature_algorithm *method = algorithm(WD_ALG_ECDSA_SHA256);
    size_t der_length = 0, raw_length = 0;
    unsigned char *der = sign(signer, "SHA256", -1, signed_info, sizeof signed_info, &der_length);
    unsigned char *raw = der_to_raw(der, der_length, 32, &raw_length);
    wd_failure failure = { 0 };

    ck_assert_int_eq(raw_length, 64);
    ck_assert_msg(wd_crypto_verify(&crypto, method, verifier, signed_info, sizeof signed_info, raw, raw_length,
                                   &failure) == 0, "%s", failure.detail);

    unsigned char tampered_data[sizeof signed_info];
    memcpy(tampered_data, signed_info, sizeof signed_info);
    tampered_data[0] = '[';
    ck_assert_int_eq(wd_crypto_verify(&crypto, method, verifier, tampered_data, sizeof tampered_data, raw,
                                      raw_length, &failure), -1);
    ASSERT_REASON(failure, "signature-invalid");

    raw[40] ^= 0x04;
    wd_failure flipped = { 0 };
    ck_assert_int_eq(wd_crypto_verify(&crypto, method, verifier, signed_info, sizeof signed_info, raw, raw_length,
                                      &flipped), -1);
    ASSERT_REASON(flipped, "signature-invalid");

    free(der);
    free(raw);
    EVP_PKEY_free(signer);
    EVP_PKEY_free(verifier);
}
END_TEST

START_TEST(verify_ecdsa_value_of_wrong_length_is_invalid)
{
    EVP_PKEY *signer = private_key("ecuser.key");
    EVP_PKEY *verifier = certificate_key("ecuser.pem");
    const wd_signature_algorithm *method = algorithm(WD_ALG_ECDSA_SHA256);
    size_t der_length = 0, raw_length = 0;
    unsigned char *der = sign(signer, "SHA256", -1, signed_info, sizeof signed_info, &der_length);
    unsigned char *raw = der_to_raw(der, der_length, 32, &raw_length);

    /* the DER form OpenSSL produced is not what XML-DSig carries */
    wd_failure as_der = { 0 };
    ck_assert_int_eq(wd_crypto_verify(&crypto, method, verifier, signed_info, sizeof signed_info, der, der_length,
                                      &as_der), -1);
    ASSERT_REASON(as_der, "signature-invalid");

    wd_failure short_value = { 0 };
    ck_assert_int_eq(wd_crypto_verify(&crypto, method, verifier, signed_info, sizeof signed_info, raw, 63,
                                      &short_value), -1);
    ASSERT_REASON(short_value, "signature-invalid");

    unsigned char padded[66] = { 0 };
    memcpy(padded + 1, raw, 32);
    memcpy(padded + 34, raw + 32, 32);
    wd_failure padded_value = { 0 };
    ck_assert_int_eq(wd_crypto_verify(&crypto, method, verifier, signed_info, sizeof signed_info, padded,
                                      sizeof padded, &padded_value), -1);
    ASSERT_REASON(padded_value, "signature-invalid");

    free(der);
    free(raw);
    EVP_PKEY_free(signer);
    EVP_PKEY_free(verifier);
}
END_TEST

START_TEST(verify_ecdsa_p384_sha384)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    ck_assert_ptr_nonnull(key);
    size_t der_length = 0, raw_length = 0;
    unsigned char *der = sign(key, "SHA384", -1, signed_info, sizeof signed_info, &der_length);
    unsigned char *raw = der_to_raw(der, der_length, 48, &raw_length);
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_verify(&crypto, algorithm(WD_ALG_ECDSA_SHA384), key, signed_info,
                                      sizeof signed_info, raw, raw_length, &failure), 0);
    free(der);
    free(raw);
    EVP_PKEY_free(key);
}
END_TEST

START_TEST(verify_empty_signature_is_invalid)
{
    EVP_PKEY *verifier = certificate_key("alice.pem");
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_verify(&crypto, algorithm(WD_ALG_RSA_SHA256), verifier, signed_info,
                                      sizeof signed_info, (const unsigned char *)"", 0, &failure), -1);
    ASSERT_REASON(failure, "signature-invalid");
    wd_failure null_value = { 0 };
    ck_assert_int_eq(wd_crypto_verify(&crypto, algorithm(WD_ALG_RSA_SHA256), verifier, signed_info,
                                      sizeof signed_info, NULL, 0, &null_value), -1);
    ASSERT_REASON(null_value, "signature-invalid");
    EVP_PKEY_free(verifier);
}
END_TEST

START_TEST(verify_ec_key_under_rsa_uri_is_invalid_not_a_crash)
{
    /* check_key normally stops this first; verify alone must still fail closed */
    EVP_PKEY *signer = private_key("alice.key");
    EVP_PKEY *ec = certificate_key("ecuser.pem");
    size_t length = 0;
    unsigned char *signature = sign(signer, "SHA256", -1, signed_info, sizeof signed_info, &length);
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_verify(&crypto, algorithm(WD_ALG_RSA_SHA256), ec, signed_info, sizeof signed_info,
                                      signature, length, &failure), -1);
    ASSERT_REASON(failure, "signature-invalid");
    free(signature);
    EVP_PKEY_free(signer);
    EVP_PKEY_free(ec);
}
END_TEST

START_TEST(verify_without_init_is_internal_error)
{
    wd_crypto empty;
    memset(&empty, 0, sizeof empty);
    EVP_PKEY *verifier = certificate_key("alice.pem");
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_verify(&empty, algorithm(WD_ALG_RSA_SHA256), verifier, signed_info,
                                      sizeof signed_info, (const unsigned char *)"x", 1, &failure), -1);
    ASSERT_REASON(failure, "internal-error");
    EVP_PKEY_free(verifier);
}
END_TEST

/* ----- digests ----- */

static void hex(const unsigned char *bytes, size_t length, char *out)
{
    for (size_t i = 0; i < length; i++)
        sprintf(out + 2 * i, "%02x", bytes[i]);
}

START_TEST(digest_matches_known_vectors)
{
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    char text[2 * EVP_MAX_MD_SIZE + 1];
    wd_failure failure = { 0 };

    ck_assert_int_eq(wd_crypto_digest(&crypto, WD_DIGEST_SHA256, (const unsigned char *)"abc", 3, out, &length,
                                      &failure), 0);
    ck_assert_uint_eq(length, 32);
    hex(out, length, text);
    ck_assert_str_eq(text, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    ck_assert_int_eq(wd_crypto_digest(&crypto, WD_DIGEST_SHA1, (const unsigned char *)"abc", 3, out, &length,
                                      &failure), 0);
    ck_assert_uint_eq(length, 20);
    hex(out, length, text);
    ck_assert_str_eq(text, "a9993e364706816aba3e25717850c26c9cd0d89d");

    ck_assert_int_eq(wd_crypto_digest(&crypto, WD_DIGEST_SHA384, (const unsigned char *)"", 0, out, &length,
                                      &failure), 0);
    ck_assert_uint_eq(length, 48);
    ck_assert_int_eq(wd_crypto_digest(&crypto, WD_DIGEST_SHA512, (const unsigned char *)"abc", 3, out, &length,
                                      &failure), 0);
    ck_assert_uint_eq(length, 64);
    hex(out, 4, text);
    ck_assert_str_eq(text, "ddaf35a1");
}
END_TEST

START_TEST(digest_with_bad_id_is_internal_error)
{
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_digest(&crypto, WD_DIGEST_COUNT, (const unsigned char *)"abc", 3, out, &length,
                                      &failure), -1);
    ASSERT_REASON(failure, "internal-error");
}
END_TEST

START_TEST(clear_is_idempotent)
{
    wd_crypto local;
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_crypto_init(&local, &failure), 0);
    wd_crypto_clear(&local);
    wd_crypto_clear(&local);
    wd_crypto_clear(NULL);
    for (int i = 0; i < WD_DIGEST_COUNT; i++)
        ck_assert_ptr_null(local.digests[i]);
}
END_TEST

/* ----- threads ----- */

typedef struct verify_job {
    EVP_PKEY            *key;
    const unsigned char *signature;
    size_t               length;
    int                  wrong;
} verify_job;

static void *verify_many(void *argument)
{
    verify_job *job = argument;
    const wd_signature_algorithm *method = NULL;
    wd_crypto_signature_algorithm(WD_ALG_RSA_SHA256, false, &method, NULL);
    for (int i = 0; i < 200; i++) {
        wd_failure failure = { 0 };
        bool tampered = (i % 3) == 0;
        unsigned char data[sizeof signed_info];
        memcpy(data, signed_info, sizeof data);
        if (tampered)
            data[5] ^= 1;
        int result = wd_crypto_verify(&crypto, method, job->key, data, sizeof data, job->signature, job->length,
                                      &failure);
        if (result != (tampered ? -1 : 0))
            job->wrong++;
    }
    return NULL;
}

START_TEST(verify_from_two_threads_with_one_key_stays_correct)
{
    EVP_PKEY *signer = private_key("alice.key");
    EVP_PKEY *verifier = certificate_key("alice.pem");
    size_t length = 0;
    unsigned char *signature = sign(signer, "SHA256", -1, signed_info, sizeof signed_info, &length);
    verify_job jobs[2] = { { verifier, signature, length, 0 }, { verifier, signature, length, 0 } };
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, verify_many, &jobs[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    ck_assert_int_eq(jobs[0].wrong, 0);
    ck_assert_int_eq(jobs[1].wrong, 0);
    free(signature);
    EVP_PKEY_free(signer);
    EVP_PKEY_free(verifier);
}
END_TEST

static Suite *crypto_suite(void)
{
    Suite *suite = suite_create("crypto");
    TCase *lists = tcase_create("allow-lists");
    tcase_add_test(lists, digest_sha2_family_is_allowed);
    tcase_add_test(lists, digest_sha1_is_weak_unless_allowed);
    tcase_add_test(lists, digest_md5_unknown_and_missing_are_weak);
    tcase_add_test(lists, signature_methods_map_to_key_kind_and_digest);
    tcase_add_test(lists, signature_sha1_methods_are_weak_unless_allowed);
    tcase_add_test(lists, signature_hmac_md5_dsa_and_unknown_are_weak_even_with_sha1);
    suite_add_tcase(suite, lists);

    TCase *keys = tcase_create("keys");
    tcase_add_checked_fixture(keys, setup, teardown);
    tcase_add_test(keys, key_check_accepts_matching_keys);
    tcase_add_test(keys, key_check_ec_key_with_rsa_uri_is_key_mismatch);
    tcase_add_test(keys, key_check_rsa_key_with_ecdsa_uri_is_key_mismatch);
    tcase_add_test(keys, key_check_ed25519_key_is_key_mismatch);
    tcase_add_test(keys, key_check_missing_key_is_key_mismatch);
    tcase_add_test(keys, key_check_rsa_1024_is_weak_algorithm);
    tcase_add_test(keys, key_check_curve_outside_nist_set_is_weak_algorithm);
    tcase_add_test(keys, key_check_rsa_pss_only_key_needs_pss_uri);
    suite_add_tcase(suite, keys);

    TCase *verify = tcase_create("verify");
    tcase_add_checked_fixture(verify, setup, teardown);
    tcase_add_test(verify, verify_rsa_pkcs1_sha256_and_tampered);
    tcase_add_test(verify, verify_rsa_pkcs1_sha384_and_tampered);
    tcase_add_test(verify, verify_rsa_pkcs1_sha512_and_tampered);
    tcase_add_test(verify, verify_rsa_sha1_when_allowed);
    tcase_add_test(verify, verify_rsa_pss_sha256_and_tampered);
    tcase_add_test(verify, verify_rsa_pss_sha512_and_tampered);
    tcase_add_test(verify, verify_rsa_pss_with_other_salt_length_is_invalid);
    tcase_add_test(verify, verify_pkcs1_value_under_pss_uri_is_invalid);
    tcase_add_test(verify, verify_sha256_value_under_sha512_uri_is_invalid);
    tcase_add_test(verify, verify_signature_from_another_key_is_invalid);
    tcase_add_test(verify, verify_ecdsa_p256_raw_and_tampered);
    tcase_add_test(verify, verify_ecdsa_value_of_wrong_length_is_invalid);
    tcase_add_test(verify, verify_ecdsa_p384_sha384);
    tcase_add_test(verify, verify_empty_signature_is_invalid);
    tcase_add_test(verify, verify_ec_key_under_rsa_uri_is_invalid_not_a_crash);
    tcase_add_test(verify, verify_without_init_is_internal_error);
    tcase_add_test(verify, digest_matches_known_vectors);
    tcase_add_test(verify, digest_with_bad_id_is_internal_error);
    tcase_add_test(verify, clear_is_idempotent);
    tcase_add_test(verify, verify_from_two_threads_with_one_key_stays_correct);
    suite_add_tcase(suite, verify);
    return suite;
}

int main(void)
{
    return tr_run_suite(crypto_suite());
}
