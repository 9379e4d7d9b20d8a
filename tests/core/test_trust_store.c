/*
** test_trust_store.c — loading anchors and known certificates, chain validation against the
** test PKI with a pinned clock, the verdict and parse caches, the known-certificate look-ups
** (SKI, thumbprint, issuer + serial in its spelling variants), two threads at once, CRLs
** (revoked leaves and intermediates, missing, expired and forged CRLs, the verdict cache
** under a CRL) and the rules for a certificate that signs (end entity, keyUsage, trust.eku).
*/
#include <check.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cert.h"
#include "core/failure.h"
#include "core/trust_store.h"
#include "include/warden.h"
#include "test_run.h"

#define NOW         1795608030 /* 2026-11-25T12:00:30Z */
#define T_2024_06   1717200000
#define T_2025      1735689600
#define T_2035      2051222400
#define T_2020_06   1590969600
#define T_2025_06   1748736000 /* 2025-06-01 */
#define T_2026      1767225600 /* 2026-01-01: crl-root-expired.pem's nextUpdate */

#define ASSERT_REASON(failure, expected) \
    ck_assert_str_eq(wd_reason_name((failure).reason), (expected))

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

static unsigned char *pki_der(const char *name, size_t *length)
{
    char *path = pki_path(name);
    FILE *file = fopen(path, "r");
    ck_assert_msg(file != NULL, "cannot open %s", path);
    X509 *x509 = PEM_read_X509(file, NULL, NULL, NULL);
    fclose(file);
    ck_assert_ptr_nonnull(x509);
    unsigned char *der = NULL;
    int size = i2d_X509(x509, &der);
    ck_assert_int_gt(size, 0);
    *length = (size_t)size;
    X509_free(x509);
    free(path);
    return der;
}

static void add_anchors(wd_trust_store *store, const char *name)
{
    char *path = pki_path(name);
    char message[256] = "";
    ck_assert_msg(wd_trust_store_add_anchors(store, path, message, sizeof message) == WARDEN_OK, "%s", message);
    free(path);
}

static void add_known(wd_trust_store *store, const char *name)
{
    char *path = pki_path(name);
    char message[256] = "";
    ck_assert_msg(wd_trust_store_add_known(store, path, message, sizeof message) == WARDEN_OK, "%s", message);
    free(path);
}

/* ca.pem as anchor, known.pem as the known certificates: the engine's usual set-up. */
static wd_trust_store *full_store(void)
{
    wd_trust_store *store = NULL;
    ck_assert_int_eq(wd_trust_store_new(&store), WARDEN_OK);
    add_anchors(store, "ca.pem");
    add_known(store, "known.pem");
    return store;
}

static wd_cert *parse(wd_trust_store *store, const char *name)
{
    size_t length = 0;
    unsigned char *der = pki_der(name, &length);
    wd_cert *cert = NULL;
    wd_failure failure = { 0 };
    ck_assert_msg(wd_trust_store_parse(store, der, length, &cert, &failure) == 0, "%s", failure.detail);
    OPENSSL_free(der);
    return cert;
}

static char *temp_file(const char *content)
{
    const char *dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    size_t size = strlen(dir) + 32;
    char *path = malloc(size);
    snprintf(path, size, "%s/wd-trust-XXXXXX", dir);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    return path;
}

static void expect_rejected(wd_trust_store *store, const char *name, int64_t now, const char *reason);
static void expect_signer(wd_trust_store *store, const char *name, int64_t now);

/* ----- loading ----- */

START_TEST(loading_counts_anchors_and_known_certificates)
{
    wd_trust_store *store = NULL;
    ck_assert_int_eq(wd_trust_store_new(&store), WARDEN_OK);
    ck_assert_uint_eq(wd_trust_store_anchor_count(store), 0);
    ck_assert_uint_eq(wd_trust_store_known_count(store), 0);
    add_anchors(store, "ca.pem");
    add_known(store, "known.pem");
    ck_assert_uint_eq(wd_trust_store_anchor_count(store), 1);
    ck_assert_uint_eq(wd_trust_store_known_count(store), 4);
    wd_trust_store_free(store);
    wd_trust_store_free(NULL);
}
END_TEST

START_TEST(missing_file_is_io_error_with_message)
{
    wd_trust_store *store = NULL;
    ck_assert_int_eq(wd_trust_store_new(&store), WARDEN_OK);
    char message[256] = "";
    ck_assert_int_eq(wd_trust_store_add_anchors(store, "/nonexistent/warden/ca.pem", message, sizeof message),
                     WARDEN_E_IO);
    ck_assert_ptr_nonnull(strstr(message, "/nonexistent/warden/ca.pem"));
    ck_assert_int_eq(wd_trust_store_add_known(store, "/nonexistent/warden/known.pem", NULL, 0), WARDEN_E_IO);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(file_without_certificates_is_config_error)
{
    wd_trust_store *store = NULL;
    ck_assert_int_eq(wd_trust_store_new(&store), WARDEN_OK);
    char *users = pki_path("users.txt");
    char *key_only = pki_path("alice.key");
    char *empty = temp_file("");
    char message[256] = "";
    ck_assert_int_eq(wd_trust_store_add_anchors(store, users, message, sizeof message), WARDEN_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(message, "no PEM certificate"));
    ck_assert_int_eq(wd_trust_store_add_anchors(store, key_only, message, sizeof message), WARDEN_E_CONFIG);
    ck_assert_int_eq(wd_trust_store_add_known(store, empty, message, sizeof message), WARDEN_E_CONFIG);
    ck_assert_uint_eq(wd_trust_store_anchor_count(store), 0);
    ck_assert_uint_eq(wd_trust_store_known_count(store), 0);
    unlink(empty);
    free(users);
    free(key_only);
    free(empty);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(broken_pem_block_is_config_error)
{
    wd_trust_store *store = NULL;
    ck_assert_int_eq(wd_trust_store_new(&store), WARDEN_OK);
    char *broken = temp_file("-----BEGIN CERTIFICATE-----\n!!!! not base64 !!!!\n-----END CERTIFICATE-----\n");
    char *not_a_cert = temp_file("-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n");
    char message[256] = "";
    ck_assert_int_eq(wd_trust_store_add_anchors(store, broken, message, sizeof message), WARDEN_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(message, "not a valid PEM certificate"));
    ck_assert_int_eq(wd_trust_store_add_known(store, not_a_cert, message, sizeof message), WARDEN_E_CONFIG);
    unlink(broken);
    unlink(not_a_cert);
    free(broken);
    free(not_a_cert);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(oversized_file_is_config_error)
{
    char *path = temp_file("");
    FILE *file = fopen(path, "r+");
    ck_assert_ptr_nonnull(file);
    ck_assert_int_eq(ftruncate(fileno(file), 65L * 1024 * 1024), 0); /* sparse: costs no disk */
    fclose(file);
    wd_trust_store *store = NULL;
    ck_assert_int_eq(wd_trust_store_new(&store), WARDEN_OK);
    char message[256] = "";
    ck_assert_int_eq(wd_trust_store_add_anchors(store, path, message, sizeof message), WARDEN_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(message, "64 MiB"));
    unlink(path);
    free(path);
    wd_trust_store_free(store);
}
END_TEST

/* A PEM certificate that OpenSSL reads but wd_cert refuses (a NUL inside its CN). */
static char *unreadable_certificate_pem(void)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x509 = X509_new();
    X509_NAME *name = X509_get_subject_name(x509);
    ck_assert_ptr_nonnull(key);
    ck_assert_int_eq(X509_set_version(x509, 2), 1);
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(x509), 0));
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(x509), 3600));
    ck_assert_int_eq(X509_NAME_add_entry_by_txt(name, "CN", V_ASN1_UTF8STRING, (const unsigned char *)"a\0b", 3, -1,
                                                0), 1);
    ck_assert_int_eq(X509_set_issuer_name(x509, name), 1);
    ck_assert_int_eq(X509_set_pubkey(x509, key), 1);
    ck_assert_int_gt(X509_sign(x509, key, EVP_sha256()), 0);
    BIO *bio = BIO_new(BIO_s_mem());
    ck_assert_int_eq(PEM_write_bio_X509(bio, x509), 1);
    char *data = NULL;
    long length = BIO_get_mem_data(bio, &data);
    char *pem = calloc(1, (size_t)length + 1);
    memcpy(pem, data, (size_t)length);
    BIO_free(bio);
    X509_free(x509);
    EVP_PKEY_free(key);
    return pem;
}

START_TEST(known_certificate_that_cannot_be_read_is_config_error)
{
    char *bad = unreadable_certificate_pem();
    char *known_path = pki_path("known.pem");
    FILE *known = fopen(known_path, "r");
    ck_assert_ptr_nonnull(known);
    char *pem = calloc(1, 65536);
    size_t used = fread(pem, 1, 65535 - strlen(bad), known);
    fclose(known);
    memcpy(pem + used, bad, strlen(bad)); /* four good certificates, then the bad one */
    char *path = temp_file(pem);
    wd_trust_store *store = NULL;
    ck_assert_int_eq(wd_trust_store_new(&store), WARDEN_OK);
    char message[256] = "";
    ck_assert_int_eq(wd_trust_store_add_known(store, path, message, sizeof message), WARDEN_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(message, path));
    ck_assert_uint_eq(wd_trust_store_known_count(store), 0); /* the good ones are not kept either */
    add_anchors(store, "ca.pem");
    expect_rejected(store, "bob.pem", NOW, "cert-untrusted"); /* nor its intermediate */
    unlink(path);
    free(path);
    free(pem);
    free(bad);
    free(known_path);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(directory_is_io_error)
{
    wd_trust_store *store = NULL;
    ck_assert_int_eq(wd_trust_store_new(&store), WARDEN_OK);
    const char *dir = getenv("WARDEN_TEST_PKI");
    char message[256] = "";
    ck_assert_int_eq(wd_trust_store_add_anchors(store, dir, message, sizeof message), WARDEN_E_IO);
    wd_trust_store_free(store);
}
END_TEST

/* ----- validation ----- */

/* wd_trust_store_validate or wd_trust_store_validate_signer */
typedef int (*validate_fn)(wd_trust_store *store, wd_cert *cert, int64_t now, wd_failure *failure);

/* validate accepts the PKI certificate name at now. */
static void expect_accepted_by(validate_fn validate, wd_trust_store *store, const char *name, int64_t now)
{
    wd_cert *cert = parse(store, name);
    wd_failure failure = { 0 };
    ck_assert_msg(validate(store, cert, now, &failure) == 0, "%s: %s", name, failure.detail);
    wd_cert_unref(cert);
}

/* validate refuses it at now for reason, a security error whose detail holds part (the
** certificate's subject when part is NULL). */
static void expect_refused_by(validate_fn validate, wd_trust_store *store, const char *name, int64_t now,
                              const char *reason, const char *part)
{
    wd_cert *cert = parse(store, name);
    wd_failure failure = { 0 };
    ck_assert_int_eq(validate(store, cert, now, &failure), -1);
    ASSERT_REASON(failure, reason);
    ck_assert_int_eq(failure.code, WARDEN_E_SECURITY);
    ck_assert_msg(strstr(failure.detail, part != NULL ? part : cert->subject) != NULL, "%s: detail %s", name,
                  failure.detail);
    wd_cert_unref(cert);
}

static void expect_valid(wd_trust_store *store, const char *name, int64_t now)
{
    expect_accepted_by(wd_trust_store_validate, store, name, now);
}

static void expect_rejected(wd_trust_store *store, const char *name, int64_t now, const char *reason)
{
    expect_refused_by(wd_trust_store_validate, store, name, now, reason, NULL);
}

START_TEST(root_issued_certificates_are_valid)
{
    wd_trust_store *store = full_store();
    expect_valid(store, "alice.pem", NOW);
    expect_valid(store, "ecuser.pem", NOW);
    expect_valid(store, "small.pem", NOW); /* key size is the signature check's business */
    wd_trust_store_free(store);
}
END_TEST

START_TEST(intermediate_from_known_certificates_completes_the_chain)
{
    wd_trust_store *store = full_store();
    expect_valid(store, "bob.pem", NOW);
    wd_trust_store_free(store);

    wd_trust_store *anchors_only = NULL;
    ck_assert_int_eq(wd_trust_store_new(&anchors_only), WARDEN_OK);
    add_anchors(anchors_only, "ca.pem");
    expect_rejected(anchors_only, "bob.pem", NOW, "cert-untrusted");
    wd_trust_store_free(anchors_only);
}
END_TEST

START_TEST(expired_certificate_is_cert_expired)
{
    wd_trust_store *store = full_store();
    expect_rejected(store, "expired.pem", NOW, "cert-expired");
    wd_trust_store_free(store);
}
END_TEST

START_TEST(certificate_before_its_not_before_is_cert_expired)
{
    wd_trust_store *store = full_store();
    expect_rejected(store, "alice.pem", T_2024_06, "cert-expired");
    expect_rejected(store, "alice.pem", T_2025 - 1, "cert-expired");
    expect_valid(store, "alice.pem", T_2025);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(certificate_at_its_not_after_is_cert_expired)
{
    wd_trust_store *store = full_store();
    expect_valid(store, "alice.pem", T_2035 - 1);
    expect_rejected(store, "alice.pem", T_2035, "cert-expired");
    wd_trust_store_free(store);
}
END_TEST

START_TEST(rogue_ca_leaf_is_cert_untrusted)
{
    wd_trust_store *store = full_store();
    expect_rejected(store, "mallory.pem", NOW, "cert-untrusted");
    expect_rejected(store, "rogue-ca.pem", NOW, "cert-untrusted");
    wd_trust_store_free(store);
}
END_TEST

START_TEST(empty_store_trusts_nothing)
{
    wd_trust_store *store = NULL;
    ck_assert_int_eq(wd_trust_store_new(&store), WARDEN_OK);
    expect_rejected(store, "alice.pem", NOW, "cert-untrusted");
    add_known(store, "known.pem"); /* known is not trusted */
    expect_rejected(store, "alice.pem", NOW, "cert-untrusted");
    expect_rejected(store, "bob.pem", NOW, "cert-untrusted");
    wd_trust_store_free(store);
}
END_TEST

START_TEST(intermediate_as_anchor_is_trusted_on_its_own)
{
    wd_trust_store *store = NULL;
    ck_assert_int_eq(wd_trust_store_new(&store), WARDEN_OK);
    add_anchors(store, "intermediate.pem");
    expect_valid(store, "bob.pem", NOW);
    expect_rejected(store, "alice.pem", NOW, "cert-untrusted");
    wd_trust_store_free(store);
}
END_TEST

START_TEST(validate_without_certificate_is_internal_error)
{
    wd_trust_store *store = full_store();
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_trust_store_validate(store, NULL, NOW, &failure), -1);
    ASSERT_REASON(failure, "internal-error");
    wd_trust_store_free(store);
}
END_TEST

/* A certificate whose sha256 field claims alice's: chain building on it fails (mallory), so
** a success proves the verdict came from the cache, keyed by SHA-256. */
static wd_cert *impostor_of(wd_trust_store *store, const wd_cert *alice)
{
    wd_cert *impostor = NULL;
    size_t length = 0;
    unsigned char *der = pki_der("mallory.pem", &length);
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_cert_from_der(der, length, &impostor, &failure), 0);
    memcpy(impostor->sha256, alice->sha256, 32);
    OPENSSL_free(der);
    return impostor;
}

START_TEST(second_validation_is_served_from_the_verdict_cache)
{
    wd_trust_store *store = full_store();
    wd_cert *alice = parse(store, "alice.pem");
    wd_cert *impostor = impostor_of(store, alice);
    wd_failure failure = { 0 };

    ck_assert_int_eq(wd_trust_store_validate(store, impostor, NOW, &failure), -1);
    ASSERT_REASON(failure, "cert-untrusted"); /* nothing cached yet: real chain building */

    ck_assert_int_eq(wd_trust_store_validate(store, alice, NOW, &failure), 0);
    ck_assert_int_eq(wd_trust_store_validate(store, impostor, NOW, &failure), 0);
    ck_assert_int_eq(wd_trust_store_validate(store, impostor, T_2025, &failure), 0);
    ck_assert_int_eq(wd_trust_store_validate(store, impostor, T_2035 - 1, &failure), 0);

    wd_cert_unref(impostor);
    wd_cert_unref(alice);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(cached_verdict_ends_when_now_leaves_its_window)
{
    wd_trust_store *store = full_store();
    wd_cert *alice = parse(store, "alice.pem");
    wd_cert *impostor = impostor_of(store, alice);
    wd_failure failure = { 0 };

    ck_assert_int_eq(wd_trust_store_validate(store, alice, NOW, &failure), 0);
    /* outside [notBefore, notAfter) the cache does not answer: chain building does */
    ck_assert_int_eq(wd_trust_store_validate(store, impostor, T_2035, &failure), -1);
    ASSERT_REASON(failure, "cert-untrusted");
    ck_assert_int_eq(wd_trust_store_validate(store, impostor, T_2025 - 1, &failure), -1);
    ASSERT_REASON(failure, "cert-untrusted");
    ck_assert_int_eq(wd_trust_store_validate(store, alice, T_2035, &failure), -1);
    ASSERT_REASON(failure, "cert-expired");
    /* and inside it, still */
    ck_assert_int_eq(wd_trust_store_validate(store, impostor, NOW + 86400, &failure), 0);

    wd_cert_unref(impostor);
    wd_cert_unref(alice);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(rejections_are_not_cached)
{
    wd_trust_store *store = NULL;
    ck_assert_int_eq(wd_trust_store_new(&store), WARDEN_OK);
    add_anchors(store, "ca.pem");
    expect_rejected(store, "bob.pem", NOW, "cert-untrusted");
    add_known(store, "known.pem");
    expect_valid(store, "bob.pem", NOW);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(chain_member_outside_its_validity_is_cert_expired)
{
    /* in 2020 expired.pem itself is valid, but the root (from 2024) is not yet */
    wd_trust_store *store = full_store();
    wd_cert *old = parse(store, "expired.pem");
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_trust_store_validate(store, old, T_2020_06, &failure), -1);
    ASSERT_REASON(failure, "cert-expired");
    ck_assert_ptr_nonnull(strstr(failure.detail, "depth 1"));
    wd_cert_unref(old);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(adding_certificates_clears_the_verdict_cache)
{
    wd_trust_store *store = full_store();
    wd_cert *alice = parse(store, "alice.pem");
    wd_cert *impostor = impostor_of(store, alice);
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_trust_store_validate(store, alice, NOW, &failure), 0);
    ck_assert_int_eq(wd_trust_store_validate(store, impostor, NOW, &failure), 0);
    add_known(store, "known.pem");
    ck_assert_int_eq(wd_trust_store_validate(store, impostor, NOW, &failure), -1);
    ASSERT_REASON(failure, "cert-untrusted");
    wd_cert_unref(impostor);
    wd_cert_unref(alice);
    wd_trust_store_free(store);
}
END_TEST

/* ----- revocation ----- */

static int add_crls(wd_trust_store *store, const char *name, char *message, size_t capacity)
{
    char *path = pki_path(name);
    int result = wd_trust_store_add_crls(store, path, message, capacity);
    free(path);
    return result;
}

static void add_crl_ok(wd_trust_store *store, const char *name)
{
    char message[256] = "";
    ck_assert_msg(add_crls(store, name, message, sizeof message) == WARDEN_OK, "%s", message);
}

static void expect_detail(wd_trust_store *store, const char *name, int64_t now, const char *reason, const char *part)
{
    wd_cert *cert = parse(store, name);
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_trust_store_validate(store, cert, now, &failure), -1);
    ASSERT_REASON(failure, reason);
    ck_assert_msg(strstr(failure.detail, part) != NULL, "detail: %s", failure.detail);
    wd_cert_unref(cert);
}

START_TEST(crl_revokes_a_leaf)
{
    wd_trust_store *store = full_store();
    add_crl_ok(store, "crl-root.pem");
    add_crl_ok(store, "crl-intermediate.pem");
    ck_assert_uint_eq(wd_trust_store_crl_count(store), 2);
    expect_valid(store, "alice.pem", NOW);
    expect_valid(store, "bob.pem", NOW);
    expect_rejected(store, "revoked.pem", NOW, "cert-revoked");
    wd_trust_store_free(store);
}
END_TEST

START_TEST(revoked_intermediate_revokes_the_leaves_below_it)
{
    wd_trust_store *store = full_store();
    add_crl_ok(store, "crl-root-revokes-intermediate.pem");
    add_crl_ok(store, "crl-intermediate.pem");
    expect_valid(store, "alice.pem", NOW);
    expect_detail(store, "bob.pem", NOW, "cert-revoked", "CN=Test Issuing CA");
    expect_detail(store, "bob.pem", NOW, "cert-revoked", "depth 1");
    wd_trust_store_free(store);
}
END_TEST

START_TEST(der_crl_is_read_like_pem)
{
    wd_trust_store *store = full_store();
    add_crl_ok(store, "crl-root.der");
    ck_assert_uint_eq(wd_trust_store_crl_count(store), 1);
    expect_rejected(store, "revoked.pem", NOW, "cert-revoked");
    expect_valid(store, "alice.pem", NOW);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(issuer_without_a_crl_fails_closed)
{
    /* CRLs are configured, but the issuing CA has none: bob's status is unknown */
    wd_trust_store *store = full_store();
    add_crl_ok(store, "crl-root.pem");
    expect_valid(store, "alice.pem", NOW);
    expect_detail(store, "bob.pem", NOW, "cert-untrusted", "revocation status unknown");
    wd_trust_store_free(store);
}
END_TEST

START_TEST(expired_crl_fails_closed)
{
    wd_trust_store *store = full_store();
    add_crl_ok(store, "crl-root-expired.pem");
    expect_valid(store, "alice.pem", T_2025_06);
    expect_rejected(store, "revoked.pem", T_2025_06, "cert-revoked");
    expect_detail(store, "alice.pem", NOW, "cert-untrusted", "CRL has expired");
    expect_detail(store, "alice.pem", T_2026, "cert-untrusted", "revocation status unknown");
    wd_trust_store_free(store);
}
END_TEST

START_TEST(crl_not_yet_valid_fails_closed)
{
    /* before its lastUpdate (2025-01-01) a CRL says nothing yet */
    wd_trust_store *store = full_store();
    add_crl_ok(store, "crl-root.pem");
    expect_detail(store, "alice.pem", T_2025 - 86400, "cert-untrusted", "revocation status unknown");
    wd_trust_store_free(store);
}
END_TEST

START_TEST(crl_with_a_bad_signature_is_refused)
{
    /* it names the root as issuer and revokes nothing, but the root did not sign it */
    wd_trust_store *store = full_store();
    char message[256] = "";
    ck_assert_int_eq(add_crls(store, "crl-root-forged.pem", message, sizeof message), WARDEN_E_CONFIG);
    ck_assert_msg(strstr(message, "crl-root-forged.pem") != NULL && strstr(message, "does not verify") != NULL, "%s",
                  message);
    ck_assert_uint_eq(wd_trust_store_crl_count(store), 0);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(crl_files_that_are_not_crls_are_refused)
{
    wd_trust_store *store = full_store();
    char message[256] = "";
    ck_assert_int_eq(add_crls(store, "no-such-crl.pem", message, sizeof message), WARDEN_E_IO);
    ck_assert_int_eq(add_crls(store, "ca.pem", message, sizeof message), WARDEN_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(message, "no CRL in it"));
    char *der_junk = temp_file("0\x03junk");
    ck_assert_int_eq(wd_trust_store_add_crls(store, der_junk, message, sizeof message), WARDEN_E_CONFIG);
    char *broken = temp_file("-----BEGIN X509 CRL-----\nnot base64!\n-----END X509 CRL-----\n");
    ck_assert_int_eq(wd_trust_store_add_crls(store, broken, message, sizeof message), WARDEN_E_CONFIG);
    ck_assert_uint_eq(wd_trust_store_crl_count(store), 0);
    unlink(der_junk);
    unlink(broken);
    free(der_junk);
    free(broken);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(crl_of_an_unknown_ca_is_accepted_but_speaks_for_no_one_else)
{
    wd_trust_store *store = NULL;
    ck_assert_int_eq(wd_trust_store_new(&store), WARDEN_OK);
    add_anchors(store, "rogue-ca.pem");
    add_crl_ok(store, "crl-root.pem"); /* the Test Root CA is not in this store */
    expect_detail(store, "mallory.pem", NOW, "cert-untrusted", "revocation status unknown");
    wd_trust_store_free(store);
}
END_TEST

START_TEST(self_signed_anchor_needs_no_crl_of_its_own)
{
    /* a partner's pinned self-signed certificate has no issuer above it to revoke it */
    wd_trust_store *store = full_store();
    add_anchors(store, "pinned.pem");
    add_crl_ok(store, "crl-root.pem");
    add_crl_ok(store, "crl-intermediate.pem");
    expect_signer(store, "pinned.pem", NOW);
    expect_valid(store, "ca.pem", NOW);
    expect_valid(store, "bob.pem", NOW);
    expect_rejected(store, "revoked.pem", NOW, "cert-revoked");
    wd_trust_store_free(store);
}
END_TEST

START_TEST(anchor_that_is_not_self_signed_needs_no_crl_of_its_own)
{
    /* the issuing CA trusted directly: only what it issued needs a CRL */
    wd_trust_store *store = NULL;
    ck_assert_int_eq(wd_trust_store_new(&store), WARDEN_OK);
    add_anchors(store, "intermediate.pem");
    add_crl_ok(store, "crl-intermediate.pem");
    expect_valid(store, "bob.pem", NOW);
    expect_signer(store, "bob.pem", NOW);
    wd_trust_store_free(store);

    /* and the anchor does not excuse the members below it: the root's leaves need its CRL */
    ck_assert_int_eq(wd_trust_store_new(&store), WARDEN_OK);
    add_anchors(store, "ca.pem");
    add_crl_ok(store, "crl-intermediate.pem");
    expect_detail(store, "alice.pem", NOW, "cert-untrusted", "revocation status unknown");
    wd_trust_store_free(store);
}
END_TEST

START_TEST(adding_a_crl_clears_the_verdict_cache)
{
    wd_trust_store *store = full_store();
    wd_cert *revoked = parse(store, "revoked.pem");
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_trust_store_validate(store, revoked, NOW, &failure), 0); /* cached */
    add_crl_ok(store, "crl-root.pem");
    ck_assert_int_eq(wd_trust_store_validate(store, revoked, NOW, &failure), -1);
    ASSERT_REASON(failure, "cert-revoked");
    wd_cert_unref(revoked);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(cached_verdict_ends_at_the_crl_next_update)
{
    wd_trust_store *store = full_store();
    add_crl_ok(store, "crl-root-expired.pem");
    wd_cert *alice = parse(store, "alice.pem");
    wd_cert *impostor = impostor_of(store, alice);
    wd_failure failure = { 0 };

    ck_assert_int_eq(wd_trust_store_validate(store, alice, T_2025_06, &failure), 0);
    ck_assert_int_eq(wd_trust_store_validate(store, impostor, T_2026 - 1, &failure), 0); /* from the cache */
    /* from the CRL's nextUpdate on, the cache does not answer (alice's own window runs to
    ** 2035): chain building does, and finds mallory untrusted */
    ck_assert_int_eq(wd_trust_store_validate(store, impostor, T_2026, &failure), -1);
    ck_assert_int_eq(wd_trust_store_validate(store, impostor, NOW, &failure), -1);
    ck_assert_int_eq(wd_trust_store_validate(store, alice, NOW, &failure), -1);
    ASSERT_REASON(failure, "cert-untrusted");

    wd_cert_unref(impostor);
    wd_cert_unref(alice);
    wd_trust_store_free(store);
}
END_TEST

/* ----- the certificate that signs ----- */

static void expect_signer(wd_trust_store *store, const char *name, int64_t now)
{
    expect_accepted_by(wd_trust_store_validate_signer, store, name, now);
}

static void expect_not_signer(wd_trust_store *store, const char *name, const char *reason, const char *part)
{
    ck_assert_ptr_nonnull(part);
    expect_refused_by(wd_trust_store_validate_signer, store, name, NOW, reason, part);
}

static void require_eku(wd_trust_store *store, const char *const *names, size_t count)
{
    char message[256] = "";
    ck_assert_msg(wd_trust_store_require_eku(store, names, count, message, sizeof message) == WARDEN_OK, "%s", message);
}

START_TEST(leaves_with_a_signing_key_usage_may_sign)
{
    wd_trust_store *store = full_store();
    expect_signer(store, "alice.pem", NOW);
    expect_signer(store, "bob.pem", NOW);
    expect_signer(store, "ecuser.pem", NOW);
    expect_signer(store, "client.pem", NOW);
    expect_signer(store, "mailer.pem", NOW);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(ca_certificates_are_trusted_but_may_not_sign)
{
    wd_trust_store *store = full_store();
    /* as tokens they are trusted: the rule is for the key that signed */
    expect_valid(store, "ca.pem", NOW);
    expect_valid(store, "intermediate.pem", NOW);
    expect_not_signer(store, "ca.pem", "cert-usage", "CA:TRUE");
    expect_not_signer(store, "intermediate.pem", "cert-usage", "CN=Test Issuing CA");
    /* trust comes first: an untrusted CA is untrusted */
    expect_not_signer(store, "rogue-ca.pem", "cert-untrusted", "CN=Rogue CA");
    wd_trust_store_free(store);
}
END_TEST

START_TEST(key_encipherment_only_may_not_sign)
{
    wd_trust_store *store = full_store();
    expect_valid(store, "tls-server.pem", NOW);
    expect_not_signer(store, "tls-server.pem", "cert-usage", "digitalSignature");
    wd_trust_store_free(store);
}
END_TEST

START_TEST(revoked_signer_is_cert_revoked_before_its_usage_is_looked_at)
{
    wd_trust_store *store = full_store();
    add_crl_ok(store, "crl-root.pem");
    add_crl_ok(store, "crl-intermediate.pem");
    expect_not_signer(store, "revoked.pem", "cert-revoked", "CN=revoked");
    expect_not_signer(store, "ca.pem", "cert-usage", "CA:TRUE");
    expect_signer(store, "alice.pem", NOW);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(trust_eku_requires_one_of_the_listed_purposes)
{
    wd_trust_store *store = full_store();
    static const char *const client_or_code[] = { "clientAuth", "1.3.6.1.5.5.7.3.3" };
    require_eku(store, client_or_code, 2);
    expect_signer(store, "client.pem", NOW);
    expect_not_signer(store, "alice.pem", "cert-usage", "no extendedKeyUsage");
    expect_not_signer(store, "mailer.pem", "cert-usage", "none of trust.eku (clientAuth, codeSigning)");
    /* serverAuth is not clientAuth, and keyEncipherment alone is refused first anyway */
    expect_not_signer(store, "tls-server.pem", "cert-usage", "keyUsage");

    static const char *const email[] = { "EMAILPROTECTION" }; /* names are case-insensitive */
    require_eku(store, email, 1);
    expect_signer(store, "mailer.pem", NOW);
    expect_not_signer(store, "client.pem", "cert-usage", "emailProtection");

    require_eku(store, NULL, 0); /* cleared: no purpose needed */
    expect_signer(store, "alice.pem", NOW);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(trust_eku_refuses_unknown_purposes)
{
    wd_trust_store *store = full_store();
    static const char *const cases[] = { "clientauthentication", "", "1", "1..2", "commonName", "1.2.x" };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *names[] = { "clientAuth", cases[i] };
        char message[256] = "";
        ck_assert_msg(wd_trust_store_require_eku(store, names, 2, message, sizeof message) == WARDEN_E_CONFIG,
                      "\"%s\" was accepted", cases[i]);
        ck_assert_msg(strstr(message, "trust.eku[2]") != NULL, "%s", message);
    }
    /* a refused list leaves the one before it */
    expect_signer(store, "alice.pem", NOW);
    wd_trust_store_free(store);
}
END_TEST

/* ----- parse cache ----- */

START_TEST(parse_cache_returns_the_same_certificate_for_the_same_der)
{
    wd_trust_store *store = full_store();
    wd_cert *first = parse(store, "alice.pem");
    wd_cert *second = parse(store, "alice.pem");
    wd_cert *bob = parse(store, "bob.pem");
    ck_assert_ptr_eq(first, second);
    ck_assert_ptr_ne(first, bob);
    ck_assert_str_eq(first->subject, "CN=alice,OU=Payments,O=Example");
    wd_cert_unref(first);
    wd_cert_unref(second);
    wd_cert_unref(bob);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(parse_rejects_garbage_and_empty_input)
{
    wd_trust_store *store = full_store();
    wd_cert *cert = NULL;
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_trust_store_parse(store, (const unsigned char *)"garbage", 7, &cert, &failure), -1);
    ASSERT_REASON(failure, "token-unsupported");
    ck_assert_ptr_null(cert);
    wd_failure empty = { 0 };
    ck_assert_int_eq(wd_trust_store_parse(store, (const unsigned char *)"", 0, &cert, &empty), -1);
    ASSERT_REASON(empty, "token-unsupported");
    wd_failure no_store = { 0 };
    ck_assert_int_eq(wd_trust_store_parse(NULL, (const unsigned char *)"x", 1, &cert, &no_store), -1);
    ASSERT_REASON(no_store, "internal-error");
    wd_trust_store_free(store);
}
END_TEST

START_TEST(parse_cache_stays_bounded_and_holders_keep_evicted_certificates)
{
    wd_trust_store *store = full_store();
    size_t length = 0;
    unsigned char *der = pki_der("alice.pem", &length);
    wd_cert *held = NULL;
    wd_failure failure = { 0 };

    /* 3000 distinct DERs (the signature's last bytes differ; parsing does not verify it),
    ** three times the cache's bound */
    for (unsigned i = 0; i < 3000; i++) {
        der[length - 1] = (unsigned char)i;
        der[length - 2] = (unsigned char)(i >> 8);
        wd_cert *cert = NULL;
        ck_assert_int_eq(wd_trust_store_parse(store, der, length, &cert, &failure), 0);
        if (i == 0)
            held = cert;
        else
            wd_cert_unref(cert);
    }
    ck_assert_str_eq(held->subject, "CN=alice,OU=Payments,O=Example");
    ck_assert_uint_eq(held->der[length - 1], 0);
    wd_cert_unref(held);

    /* the newest entry is still cached */
    der[length - 1] = (unsigned char)2999;
    der[length - 2] = (unsigned char)(2999 >> 8);
    wd_cert *a = NULL, *b = NULL;
    ck_assert_int_eq(wd_trust_store_parse(store, der, length, &a, &failure), 0);
    ck_assert_int_eq(wd_trust_store_parse(store, der, length, &b, &failure), 0);
    ck_assert_ptr_eq(a, b);
    wd_cert_unref(a);
    wd_cert_unref(b);
    OPENSSL_free(der);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(certificates_outlive_their_store)
{
    wd_trust_store *store = full_store();
    wd_cert *alice = parse(store, "alice.pem");
    wd_cert *known = wd_trust_store_find_thumbprint(store, alice->sha1);
    wd_trust_store_free(store);
    ck_assert_str_eq(alice->serial_hex, "01e5");
    ck_assert_str_eq(known->serial_hex, "01e5");
    wd_cert_unref(alice);
    wd_cert_unref(known);
}
END_TEST

/* ----- look-ups ----- */

START_TEST(find_by_ski_and_thumbprint)
{
    wd_trust_store *store = full_store();
    wd_cert *alice = parse(store, "alice.pem");

    wd_cert *by_ski = wd_trust_store_find_ski(store, alice->ski, alice->ski_length);
    ck_assert_ptr_nonnull(by_ski);
    ck_assert_mem_eq(by_ski->sha256, alice->sha256, 32);
    wd_cert *by_thumbprint = wd_trust_store_find_thumbprint(store, alice->sha1);
    ck_assert_ptr_nonnull(by_thumbprint);
    ck_assert_mem_eq(by_thumbprint->sha256, alice->sha256, 32);
    ck_assert_ptr_eq(by_ski, by_thumbprint);
    wd_cert_unref(by_ski);
    wd_cert_unref(by_thumbprint);

    unsigned char other[20];
    memcpy(other, alice->sha1, 20);
    other[19] ^= 1;
    ck_assert_ptr_null(wd_trust_store_find_thumbprint(store, other));
    memcpy(other, alice->ski, 20);
    other[0] ^= 1;
    ck_assert_ptr_null(wd_trust_store_find_ski(store, other, 20));
    ck_assert_ptr_null(wd_trust_store_find_ski(store, alice->ski, 19));
    ck_assert_ptr_null(wd_trust_store_find_ski(store, NULL, 0));
    ck_assert_ptr_null(wd_trust_store_find_thumbprint(store, NULL));
    wd_cert_unref(alice);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(mallory_is_not_known)
{
    wd_trust_store *store = full_store();
    wd_cert *mallory = parse(store, "mallory.pem");
    ck_assert_ptr_null(wd_trust_store_find_thumbprint(store, mallory->sha1));
    ck_assert_ptr_null(wd_trust_store_find_ski(store, mallory->ski, mallory->ski_length));
    ck_assert_ptr_null(wd_trust_store_find_issuer_serial(store, "CN=Rogue CA,O=Rogue", "96"));
    wd_cert_unref(mallory);
    wd_trust_store_free(store);
}
END_TEST

static void expect_issuer_serial(wd_trust_store *store, const char *issuer, const char *serial,
                                 const char *subject)
{
    wd_cert *found = wd_trust_store_find_issuer_serial(store, issuer, serial);
    if (subject == NULL) {
        ck_assert_msg(found == NULL, "\"%s\" / %s found %s", issuer, serial, found ? found->subject : "");
        return;
    }
    ck_assert_msg(found != NULL, "\"%s\" / %s not found", issuer, serial);
    ck_assert_str_eq(found->subject, subject);
    wd_cert_unref(found);
}

START_TEST(find_by_issuer_serial_accepts_spelling_variants)
{
    static const char *const spellings[] = {
        "CN=Test Root CA,O=Example",
        "CN=Test Root CA, O=Example",
        "cn=Test Root CA,o=Example",
        "  CN = Test Root CA ;  O = Example  ",
        "CN=test root ca,O=EXAMPLE",
        "CN=Test  Root   CA,O=Example",
        "CN=\"Test Root CA\",O=Example",
        "CN=Test\\20Root CA,O=Exampl\\65",
        "2.5.4.3=Test Root CA,OID.2.5.4.10=Example",
        "CommonName=Test Root CA,O=Example",
    };
    wd_trust_store *store = full_store();
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++)
        expect_issuer_serial(store, spellings[i], "485", "CN=alice,OU=Payments,O=Example");
    expect_issuer_serial(store, "CN=Test Root CA,O=Example", " 485\n", "CN=alice,OU=Payments,O=Example");
    expect_issuer_serial(store, "CN=Test Root CA,O=Example", "+485", "CN=alice,OU=Payments,O=Example");
    expect_issuer_serial(store, "CN=Test Issuing CA,O=Example", "32", "CN=bob,OU=Ops,O=Example");
    expect_issuer_serial(store, "CN=Test Root CA,O=Example", "48", "CN=ecuser,OU=Payments,O=Example");
    expect_issuer_serial(store, "CN=Test Root CA,O=Example", "16", "CN=Test Issuing CA,O=Example");
    wd_trust_store_free(store);
}
END_TEST

START_TEST(find_by_issuer_serial_misses_return_null)
{
    wd_trust_store *store = full_store();
    expect_issuer_serial(store, "CN=Test Root CA,O=Example", "486", NULL);
    expect_issuer_serial(store, "CN=Test Root CA,O=Example", "-485", NULL);
    expect_issuer_serial(store, "CN=Test Issuing CA,O=Example", "485", NULL);
    expect_issuer_serial(store, "O=Example,CN=Test Root CA", "485", NULL);
    expect_issuer_serial(store, "CN=Test Root CA", "485", NULL);
    expect_issuer_serial(store, "CN=Test Root CA,O=Example,C=US", "485", NULL);
    expect_issuer_serial(store, "CN=Test Root CA+O=Example", "485", NULL);
    expect_issuer_serial(store, "CN=Test Root CAX,O=Example", "485", NULL);
    /* not a serial */
    expect_issuer_serial(store, "CN=Test Root CA,O=Example", "0x1e5", NULL);
    expect_issuer_serial(store, "CN=Test Root CA,O=Example", "1e5", NULL);
    expect_issuer_serial(store, "CN=Test Root CA,O=Example", "", NULL);
    expect_issuer_serial(store, "CN=Test Root CA,O=Example", "48 5", NULL);
    expect_issuer_serial(store, "CN=Test Root CA,O=Example",
                         "4850000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
                         "000000000000000000000000000000000000000000000000000000000000000000000000", NULL);
    /* not a DN */
    expect_issuer_serial(store, "", "485", NULL);
    expect_issuer_serial(store, "Test Root CA", "485", NULL);
    expect_issuer_serial(store, "CN=Test Root CA,O=Example,", "485", NULL);
    expect_issuer_serial(store, "CN=\"Test Root CA,O=Example", "485", NULL);
    expect_issuer_serial(store, "CN=\"Test Root CA\"x,O=Example", "485", NULL);
    expect_issuer_serial(store, "CN=Test Root CA\\", "485", NULL);
    ck_assert_ptr_null(wd_trust_store_find_issuer_serial(store, NULL, "485"));
    ck_assert_ptr_null(wd_trust_store_find_issuer_serial(store, "CN=Test Root CA,O=Example", NULL));
    wd_trust_store_free(store);
}
END_TEST

/* ----- threads ----- */

typedef struct worker {
    wd_trust_store *store;
    int             wrong;
} worker;

static void *validate_many(void *argument)
{
    worker *job = argument;
    static const struct { const char *name; int64_t now; const char *reason; } cases[] = {
        { "alice.pem", NOW, "" },
        { "bob.pem", NOW, "" },
        { "mallory.pem", NOW, "cert-untrusted" },
        { "expired.pem", NOW, "cert-expired" },
        { "alice.pem", T_2035 + 10, "cert-expired" },
        { "ecuser.pem", NOW, "" },
    };
    size_t lengths[6];
    unsigned char *ders[6];
    for (size_t i = 0; i < 6; i++)
        ders[i] = pki_der(cases[i].name, &lengths[i]);
    for (int round = 0; round < 60; round++) {
        for (size_t i = 0; i < 6; i++) {
            wd_cert *cert = NULL;
            wd_failure failure = { 0 };
            if (wd_trust_store_parse(job->store, ders[i], lengths[i], &cert, &failure) != 0) {
                job->wrong++;
                continue;
            }
            int result = wd_trust_store_validate(job->store, cert, cases[i].now, &failure);
            const char *reason = result == 0 ? "" : wd_reason_name(failure.reason);
            if (strcmp(reason, cases[i].reason) != 0)
                job->wrong++;
            wd_cert *known = wd_trust_store_find_issuer_serial(job->store, "CN=Test Root CA,O=Example", "485");
            if (known == NULL)
                job->wrong++;
            wd_cert_unref(known);
            wd_cert_unref(cert);
        }
    }
    for (size_t i = 0; i < 6; i++)
        OPENSSL_free(ders[i]);
    return NULL;
}

START_TEST(two_threads_parsing_and_validating_stay_correct)
{
    wd_trust_store *store = full_store();
    worker jobs[2] = { { store, 0 }, { store, 0 } };
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, validate_many, &jobs[i]), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    ck_assert_int_eq(jobs[0].wrong, 0);
    ck_assert_int_eq(jobs[1].wrong, 0);
    wd_trust_store_free(store);
}
END_TEST

static Suite *trust_store_suite(void)
{
    Suite *suite = suite_create("trust_store");
    TCase *loading = tcase_create("loading");
    tcase_add_test(loading, loading_counts_anchors_and_known_certificates);
    tcase_add_test(loading, missing_file_is_io_error_with_message);
    tcase_add_test(loading, file_without_certificates_is_config_error);
    tcase_add_test(loading, broken_pem_block_is_config_error);
    tcase_add_test(loading, directory_is_io_error);
    tcase_add_test(loading, oversized_file_is_config_error);
    tcase_add_test(loading, known_certificate_that_cannot_be_read_is_config_error);
    suite_add_tcase(suite, loading);

    TCase *validation = tcase_create("validation");
    tcase_add_test(validation, root_issued_certificates_are_valid);
    tcase_add_test(validation, intermediate_from_known_certificates_completes_the_chain);
    tcase_add_test(validation, expired_certificate_is_cert_expired);
    tcase_add_test(validation, certificate_before_its_not_before_is_cert_expired);
    tcase_add_test(validation, certificate_at_its_not_after_is_cert_expired);
    tcase_add_test(validation, rogue_ca_leaf_is_cert_untrusted);
    tcase_add_test(validation, empty_store_trusts_nothing);
    tcase_add_test(validation, intermediate_as_anchor_is_trusted_on_its_own);
    tcase_add_test(validation, validate_without_certificate_is_internal_error);
    tcase_add_test(validation, second_validation_is_served_from_the_verdict_cache);
    tcase_add_test(validation, cached_verdict_ends_when_now_leaves_its_window);
    tcase_add_test(validation, rejections_are_not_cached);
    tcase_add_test(validation, chain_member_outside_its_validity_is_cert_expired);
    tcase_add_test(validation, adding_certificates_clears_the_verdict_cache);
    suite_add_tcase(suite, validation);

    TCase *revocation = tcase_create("revocation");
    tcase_add_test(revocation, crl_revokes_a_leaf);
    tcase_add_test(revocation, revoked_intermediate_revokes_the_leaves_below_it);
    tcase_add_test(revocation, der_crl_is_read_like_pem);
    tcase_add_test(revocation, issuer_without_a_crl_fails_closed);
    tcase_add_test(revocation, expired_crl_fails_closed);
    tcase_add_test(revocation, crl_not_yet_valid_fails_closed);
    tcase_add_test(revocation, crl_with_a_bad_signature_is_refused);
    tcase_add_test(revocation, crl_files_that_are_not_crls_are_refused);
    tcase_add_test(revocation, crl_of_an_unknown_ca_is_accepted_but_speaks_for_no_one_else);
    tcase_add_test(revocation, self_signed_anchor_needs_no_crl_of_its_own);
    tcase_add_test(revocation, anchor_that_is_not_self_signed_needs_no_crl_of_its_own);
    tcase_add_test(revocation, adding_a_crl_clears_the_verdict_cache);
    tcase_add_test(revocation, cached_verdict_ends_at_the_crl_next_update);
    suite_add_tcase(suite, revocation);

    TCase *signer = tcase_create("signer");
    tcase_add_test(signer, leaves_with_a_signing_key_usage_may_sign);
    tcase_add_test(signer, ca_certificates_are_trusted_but_may_not_sign);
    tcase_add_test(signer, key_encipherment_only_may_not_sign);
    tcase_add_test(signer, revoked_signer_is_cert_revoked_before_its_usage_is_looked_at);
    tcase_add_test(signer, trust_eku_requires_one_of_the_listed_purposes);
    tcase_add_test(signer, trust_eku_refuses_unknown_purposes);
    suite_add_tcase(suite, signer);

    TCase *caches = tcase_create("parse cache and look-ups");
    tcase_add_test(caches, parse_cache_returns_the_same_certificate_for_the_same_der);
    tcase_add_test(caches, parse_rejects_garbage_and_empty_input);
    tcase_add_test(caches, parse_cache_stays_bounded_and_holders_keep_evicted_certificates);
    tcase_add_test(caches, certificates_outlive_their_store);
    tcase_add_test(caches, find_by_ski_and_thumbprint);
    tcase_add_test(caches, mallory_is_not_known);
    tcase_add_test(caches, find_by_issuer_serial_accepts_spelling_variants);
    tcase_add_test(caches, find_by_issuer_serial_misses_return_null);
    tcase_add_test(caches, two_threads_parsing_and_validating_stay_correct);
    suite_add_tcase(suite, caches);
    return suite;
}

int main(void)
{
    return tr_run_suite(trust_store_suite());
}
