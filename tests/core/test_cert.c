/*
** test_cert.c — the facts wd_cert extracts from the test PKI's certificates (checked
** against the openssl command and OpenSSL's own digests), certificates built here to reach
** the corner cases (UTF-8, escaping, IPv6, hostile bytes), and every rejection of parsing.
*/
#include <check.h>
#include <ctype.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cert.h"
#include "core/failure.h"
#include "test_run.h"

#define T_2025 1735689600
#define T_2035 2051222400
#define T_2020 1577836800
#define T_2021 1609459200

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

static X509 *read_pem(const char *name)
{
    char *path = pki_path(name);
    FILE *file = fopen(path, "r");
    ck_assert_msg(file != NULL, "cannot open %s", path);
    X509 *x509 = PEM_read_X509(file, NULL, NULL, NULL);
    fclose(file);
    free(path);
    ck_assert_ptr_nonnull(x509);
    return x509;
}

static unsigned char *der_of(X509 *x509, size_t *length)
{
    unsigned char *der = NULL;
    int size = i2d_X509(x509, &der);
    ck_assert_int_gt(size, 0);
    *length = (size_t)size;
    return der;
}

static wd_cert *parse_pki(const char *name)
{
    X509 *x509 = read_pem(name);
    size_t length = 0;
    unsigned char *der = der_of(x509, &length);
    wd_cert *cert = NULL;
    wd_failure failure = { 0 };
    ck_assert_msg(wd_cert_from_der(der, length, &cert, &failure) == 0, "%s: %s", name, failure.detail);
    OPENSSL_free(der);
    X509_free(x509);
    return cert;
}

static void to_hex(const unsigned char *bytes, size_t length, char *out)
{
    for (size_t i = 0; i < length; i++)
        sprintf(out + 2 * i, "%02x", bytes[i]);
}

/* ----- the test PKI ----- */

START_TEST(alice_names_are_rfc2253_most_specific_first)
{
    wd_cert *alice = parse_pki("alice.pem");
    ck_assert_str_eq(alice->subject, "CN=alice,OU=Payments,O=Example");
    ck_assert_str_eq(alice->issuer, "CN=Test Root CA,O=Example");
    wd_cert_unref(alice);
}
END_TEST

START_TEST(alice_attributes_follow_dn_order_with_short_names)
{
    wd_cert *alice = parse_pki("alice.pem");
    ck_assert_uint_eq(alice->subject_attrs.count, 3);
    ck_assert_str_eq(alice->subject_attrs.items[0].name, "CN");
    ck_assert_str_eq(alice->subject_attrs.items[0].value, "alice");
    ck_assert_str_eq(alice->subject_attrs.items[1].name, "OU");
    ck_assert_str_eq(alice->subject_attrs.items[1].value, "Payments");
    ck_assert_str_eq(alice->subject_attrs.items[2].name, "O");
    ck_assert_str_eq(alice->subject_attrs.items[2].value, "Example");
    ck_assert_uint_eq(alice->issuer_attrs.count, 2);
    ck_assert_str_eq(alice->issuer_attrs.items[0].name, "CN");
    ck_assert_str_eq(alice->issuer_attrs.items[0].value, "Test Root CA");
    ck_assert_str_eq(alice->issuer_attrs.items[1].name, "O");
    ck_assert_str_eq(alice->issuer_attrs.items[1].value, "Example");
    wd_cert_unref(alice);
}
END_TEST

START_TEST(alice_serial_is_lowercase_hex_of_its_bytes)
{
    wd_cert *alice = parse_pki("alice.pem");
    ck_assert_str_eq(alice->serial_hex, "01e5"); /* as `openssl x509 -serial` prints it */
    wd_cert_unref(alice);
    wd_cert *bob = parse_pki("bob.pem");
    ck_assert_str_eq(bob->serial_hex, "20");
    wd_cert_unref(bob);
}
END_TEST

/* What `openssl x509 -fingerprint -sha256` prints, as lowercase hex without colons. */
static void openssl_fingerprint(const char *name, const char *digest, char *out, size_t capacity)
{
    char *path = pki_path(name);
    char command[1024];
    snprintf(command, sizeof command, "openssl x509 -noout -fingerprint -%s -in '%s'", digest, path);
    FILE *pipe = popen(command, "r");
    ck_assert_ptr_nonnull(pipe);
    char line[512] = "";
    ck_assert_ptr_nonnull(fgets(line, sizeof line, pipe));
    ck_assert_int_eq(pclose(pipe), 0);
    const char *value = strchr(line, '=');
    ck_assert_ptr_nonnull(value);
    size_t used = 0;
    for (value++; *value && *value != '\n' && used + 1 < capacity; value++)
        if (*value != ':')
            out[used++] = (char)tolower((unsigned char)*value);
    out[used] = '\0';
    free(path);
}

START_TEST(alice_fingerprints_match_openssl)
{
    wd_cert *alice = parse_pki("alice.pem");
    char expected[200];
    openssl_fingerprint("alice.pem", "sha256", expected, sizeof expected);
    ck_assert_uint_eq(strlen(expected), 64);
    ck_assert_str_eq(alice->sha256_hex, expected);

    char sha256[65], sha1[41];
    to_hex(alice->sha256, 32, sha256);
    ck_assert_str_eq(sha256, expected);
    openssl_fingerprint("alice.pem", "sha1", expected, sizeof expected);
    to_hex(alice->sha1, 20, sha1);
    ck_assert_str_eq(sha1, expected);
    wd_cert_unref(alice);
}
END_TEST

START_TEST(alice_ski_is_the_extension_value)
{
    wd_cert *alice = parse_pki("alice.pem");
    X509 *x509 = read_pem("alice.pem");
    /* the PKI makes SKIs with "hash": SHA-1 of the subjectPublicKey bits */
    const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(x509);
    unsigned char expected[20];
    ck_assert_int_eq(EVP_Digest(ASN1_STRING_get0_data(bits), (size_t)ASN1_STRING_length(bits), expected, NULL,
                                EVP_sha1(), NULL), 1);
    ck_assert_ptr_nonnull(alice->ski);
    ck_assert_uint_eq(alice->ski_length, 20);
    ck_assert_mem_eq(alice->ski, expected, 20);
    X509_free(x509);
    wd_cert_unref(alice);
}
END_TEST

START_TEST(alice_sans_are_listed_by_kind)
{
    wd_cert *alice = parse_pki("alice.pem");
    ck_assert_uint_eq(alice->san_dns.count, 2);
    ck_assert_str_eq(alice->san_dns.items[0].data, "alice.example.com");
    ck_assert_uint_eq(alice->san_dns.items[0].length, strlen("alice.example.com"));
    ck_assert_str_eq(alice->san_dns.items[1].data, "payments.example.com");
    ck_assert_uint_eq(alice->san_email.count, 1);
    ck_assert_str_eq(alice->san_email.items[0].data, "alice@example.com");
    ck_assert_uint_eq(alice->san_uri.count, 1);
    ck_assert_str_eq(alice->san_uri.items[0].data, "urn:example:alice");
    ck_assert_uint_eq(alice->san_ip.count, 1);
    ck_assert_str_eq(alice->san_ip.items[0].data, "192.0.2.10");
    ck_assert_uint_eq(alice->san_ip.items[0].length, 10);
    wd_cert_unref(alice);
}
END_TEST

START_TEST(alice_key_and_validity)
{
    wd_cert *alice = parse_pki("alice.pem");
    ck_assert_str_eq(alice->key_type, "rsa");
    ck_assert_int_eq(alice->key_bits, 2048);
    ck_assert_ptr_nonnull(alice->key);
    ck_assert_int_eq(EVP_PKEY_is_a(alice->key, "RSA"), 1);
    ck_assert_int_eq(alice->not_before, T_2025);
    ck_assert_int_eq(alice->not_after, T_2035);
    ck_assert_ptr_nonnull(alice->x509);
    wd_cert_unref(alice);
}
END_TEST

START_TEST(der_is_kept_verbatim)
{
    X509 *x509 = read_pem("alice.pem");
    size_t length = 0;
    unsigned char *der = der_of(x509, &length);
    wd_cert *cert = NULL;
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_cert_from_der(der, length, &cert, &failure), 0);
    ck_assert_uint_eq(cert->der_length, length);
    ck_assert_mem_eq(cert->der, der, length);
    ck_assert_ptr_ne(cert->der, der);
    wd_cert_unref(cert);
    OPENSSL_free(der);
    X509_free(x509);
}
END_TEST

START_TEST(ecuser_is_ec_256_without_sans)
{
    wd_cert *ecuser = parse_pki("ecuser.pem");
    ck_assert_str_eq(ecuser->key_type, "ec");
    ck_assert_int_eq(ecuser->key_bits, 256);
    ck_assert_str_eq(ecuser->subject, "CN=ecuser,OU=Payments,O=Example");
    ck_assert_uint_eq(ecuser->san_dns.count, 0);
    ck_assert_uint_eq(ecuser->san_email.count, 0);
    ck_assert_uint_eq(ecuser->san_uri.count, 0);
    ck_assert_uint_eq(ecuser->san_ip.count, 0);
    wd_cert_unref(ecuser);
}
END_TEST

START_TEST(small_and_expired_report_their_facts)
{
    wd_cert *small = parse_pki("small.pem");
    ck_assert_int_eq(small->key_bits, 1024);
    wd_cert_unref(small);
    wd_cert *expired = parse_pki("expired.pem");
    ck_assert_int_eq(expired->not_before, T_2020);
    ck_assert_int_eq(expired->not_after, T_2021);
    ck_assert_str_eq(expired->subject, "CN=old,O=Example");
    wd_cert_unref(expired);
}
END_TEST

START_TEST(references_count_up_and_down)
{
    wd_cert *alice = parse_pki("alice.pem");
    ck_assert_uint_eq(atomic_load(&alice->references), 1);
    ck_assert_ptr_eq(wd_cert_ref(alice), alice);
    ck_assert_uint_eq(atomic_load(&alice->references), 2);
    wd_cert_unref(alice);
    ck_assert_uint_eq(atomic_load(&alice->references), 1);
    ck_assert_str_eq(alice->subject, "CN=alice,OU=Payments,O=Example");
    wd_cert_unref(alice);
    wd_cert_unref(NULL);
    ck_assert_ptr_null(wd_cert_ref(NULL));
}
END_TEST

/* ----- certificates built here ----- */

typedef void (*customise_fn)(X509 *x509, X509_NAME *name);

static unsigned char *build_cert(customise_fn customise, long serial, size_t *length)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ck_assert_ptr_nonnull(key);
    X509 *x509 = X509_new();
    X509_NAME *name = X509_NAME_new();
    ck_assert_ptr_nonnull(x509);
    ck_assert_ptr_nonnull(name);
    ck_assert_int_eq(X509_set_version(x509, 2), 1);
    ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(x509), serial), 1);
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notBefore(x509), 0));
    ck_assert_ptr_nonnull(X509_gmtime_adj(X509_getm_notAfter(x509), 3600));
    ck_assert_int_eq(X509_set_pubkey(x509, key), 1);
    customise(x509, name);
    if (X509_NAME_entry_count(name) == 0)
        ck_assert_int_eq(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)"built", -1,
                                                    -1, 0), 1);
    ck_assert_int_eq(X509_set_subject_name(x509, name), 1);
    ck_assert_int_eq(X509_set_issuer_name(x509, name), 1);
    ck_assert_int_gt(X509_sign(x509, key, EVP_sha256()), 0);
    unsigned char *der = der_of(x509, length);
    X509_NAME_free(name);
    X509_free(x509);
    EVP_PKEY_free(key);
    return der;
}

static wd_cert *parse_built(customise_fn customise, long serial)
{
    size_t length = 0;
    unsigned char *der = build_cert(customise, serial, &length);
    wd_cert *cert = NULL;
    wd_failure failure = { 0 };
    ck_assert_msg(wd_cert_from_der(der, length, &cert, &failure) == 0, "%s", failure.detail);
    OPENSSL_free(der);
    return cert;
}

/* detail_part names the check that must have refused it, not merely some failure. */
static void expect_unsupported(customise_fn customise, const char *detail_part)
{
    size_t length = 0;
    unsigned char *der = build_cert(customise, 1, &length);
    wd_cert *cert = (wd_cert *)0x1;
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_cert_from_der(der, length, &cert, &failure), -1);
    ASSERT_REASON(failure, "token-unsupported");
    ck_assert_msg(strstr(failure.detail, detail_part) != NULL, "detail \"%s\" lacks \"%s\"", failure.detail,
                  detail_part);
    ck_assert_ptr_null(cert);
    OPENSSL_free(der);
    ck_assert_int_eq(ERR_peek_error(), 0);
}

static void add_text(X509_NAME *name, const char *field, const char *value)
{
    ck_assert_int_eq(X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, (const unsigned char *)value, -1, -1, 0),
                     1);
}

static void add_extension(X509 *x509, int nid, const char *value)
{
    X509_EXTENSION *extension = X509V3_EXT_conf_nid(NULL, NULL, nid, value);
    ck_assert_ptr_nonnull(extension);
    ck_assert_int_eq(X509_add_ext(x509, extension, -1), 1);
    X509_EXTENSION_free(extension);
}

static void utf8_names(X509 *x509, X509_NAME *name)
{
    add_text(name, "O", "Exämple");
    add_text(name, "CN", "Zoë Ünicode");
}

START_TEST(utf8_names_stay_utf8)
{
    wd_cert *cert = parse_built(utf8_names, 1);
    ck_assert_str_eq(cert->subject, "CN=Zoë Ünicode,O=Exämple");
    ck_assert_str_eq(cert->issuer, "CN=Zoë Ünicode,O=Exämple");
    ck_assert_str_eq(cert->subject_attrs.items[0].value, "Zoë Ünicode");
    ck_assert_str_eq(cert->subject_attrs.items[1].value, "Exämple");
    wd_cert_unref(cert);
}
END_TEST

static void special_names(X509 *x509, X509_NAME *name)
{
    add_text(name, "emailAddress", "ops@example.com");
    add_text(name, "1.3.6.1.4.1.99999.7", "custom");
    add_text(name, "CN", "a,b+c");
}

START_TEST(special_characters_are_escaped_in_dn_but_not_in_attributes)
{
    wd_cert *cert = parse_built(special_names, 1);
    /* RFC 2253: an attribute type without a name keeps its value as #hex of the DER */
    ck_assert_str_eq(cert->subject, "CN=a\\,b\\+c,1.3.6.1.4.1.99999.7=#0C06637573746F6D,emailAddress=ops@example.com");
    ck_assert_uint_eq(cert->subject_attrs.count, 3);
    ck_assert_str_eq(cert->subject_attrs.items[0].name, "CN");
    ck_assert_str_eq(cert->subject_attrs.items[0].value, "a,b+c");
    ck_assert_str_eq(cert->subject_attrs.items[1].name, "1.3.6.1.4.1.99999.7");
    ck_assert_str_eq(cert->subject_attrs.items[1].value, "custom");
    ck_assert_str_eq(cert->subject_attrs.items[2].name, "emailAddress");
    ck_assert_str_eq(cert->subject_attrs.items[2].value, "ops@example.com");
    wd_cert_unref(cert);
}
END_TEST

static void ipv6_san(X509 *x509, X509_NAME *name)
{
    add_extension(x509, NID_subject_alt_name, "IP:2001:db8::1,DNS:v6.example,otherName:1.2.3.4;UTF8:ignored");
}

START_TEST(ipv6_sans_are_textual_and_other_kinds_ignored)
{
    wd_cert *cert = parse_built(ipv6_san, 1);
    ck_assert_uint_eq(cert->san_ip.count, 1);
    ck_assert_str_eq(cert->san_ip.items[0].data, "2001:db8::1");
    ck_assert_uint_eq(cert->san_dns.count, 1);
    ck_assert_str_eq(cert->san_dns.items[0].data, "v6.example");
    ck_assert_uint_eq(cert->san_email.count + cert->san_uri.count, 0);
    ck_assert_ptr_null(cert->ski);
    ck_assert_uint_eq(cert->ski_length, 0);
    wd_cert_unref(cert);
}
END_TEST

static void plain(X509 *x509, X509_NAME *name)
{
}

START_TEST(serial_zero_negative_and_long)
{
    wd_cert *zero = parse_built(plain, 0);
    ck_assert_str_eq(zero->serial_hex, "0");
    wd_cert_unref(zero);
    wd_cert *negative = parse_built(plain, -300);
    ck_assert_str_eq(negative->serial_hex, "-012c");
    wd_cert_unref(negative);
    wd_cert *long_serial = parse_built(plain, 0x0abcdef0L);
    ck_assert_str_eq(long_serial->serial_hex, "0abcdef0");
    wd_cert_unref(long_serial);
}
END_TEST

/* ----- rejections ----- */

START_TEST(garbage_is_token_unsupported)
{
    static const unsigned char garbage[] = "this is not a certificate";
    wd_cert *cert = NULL;
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_cert_from_der(garbage, sizeof garbage, &cert, &failure), -1);
    ASSERT_REASON(failure, "token-unsupported");
    ck_assert_int_eq(failure.code, 5);
    ck_assert_ptr_null(cert);
    ck_assert_int_eq(ERR_peek_error(), 0);
}
END_TEST

START_TEST(empty_input_is_token_unsupported)
{
    wd_cert *cert = NULL;
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_cert_from_der(NULL, 0, &cert, &failure), -1);
    ASSERT_REASON(failure, "token-unsupported");
    ck_assert_int_eq(wd_cert_from_der((const unsigned char *)"", 0, &cert, &failure), -1);
    ASSERT_REASON(failure, "token-unsupported");
}
END_TEST

START_TEST(trailing_bytes_are_token_unsupported)
{
    X509 *x509 = read_pem("alice.pem");
    size_t length = 0;
    unsigned char *der = der_of(x509, &length);
    unsigned char *longer = malloc(length + 1);
    memcpy(longer, der, length);
    longer[length] = 0;
    wd_cert *cert = NULL;
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_cert_from_der(longer, length + 1, &cert, &failure), -1);
    ASSERT_REASON(failure, "token-unsupported");
    free(longer);
    OPENSSL_free(der);
    X509_free(x509);
}
END_TEST

START_TEST(truncated_der_is_token_unsupported)
{
    X509 *x509 = read_pem("alice.pem");
    size_t length = 0;
    unsigned char *der = der_of(x509, &length);
    for (size_t cut = 1; cut < length; cut += 97) {
        wd_cert *cert = NULL;
        wd_failure failure = { 0 };
        ck_assert_int_eq(wd_cert_from_der(der, cut, &cert, &failure), -1);
        ASSERT_REASON(failure, "token-unsupported");
    }
    OPENSSL_free(der);
    X509_free(x509);
}
END_TEST

static void nul_in_dns_san(X509 *x509, X509_NAME *name)
{
    GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *entry = GENERAL_NAME_new();
    ASN1_IA5STRING *text = ASN1_IA5STRING_new();
    ck_assert_int_eq(ASN1_STRING_set(text, "victim.example\0.evil", 20), 1);
    GENERAL_NAME_set0_value(entry, GEN_DNS, text);
    sk_GENERAL_NAME_push(names, entry);
    ck_assert_int_eq(X509_add1_ext_i2d(x509, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT), 1);
    GENERAL_NAMES_free(names);
}

START_TEST(nul_inside_a_san_is_token_unsupported)
{
    expect_unsupported(nul_in_dns_san, "subjectAltName");
}
END_TEST

static void nul_in_common_name(X509 *x509, X509_NAME *name)
{
    ck_assert_int_eq(X509_NAME_add_entry_by_txt(name, "CN", V_ASN1_UTF8STRING, (const unsigned char *)"alice\0evil",
                                                10, -1, 0), 1);
}

START_TEST(nul_inside_a_name_attribute_is_token_unsupported)
{
    expect_unsupported(nul_in_common_name, "name attribute");
}
END_TEST

static void bit_string_attribute(X509 *x509, X509_NAME *name)
{
    add_text(name, "CN", "x");
    ck_assert_int_eq(X509_NAME_add_entry_by_txt(name, "x500UniqueIdentifier", V_ASN1_BIT_STRING,
                                                (const unsigned char *)"\x01\x02", 2, -1, 0), 1);
}

START_TEST(name_attribute_that_is_not_text_is_token_unsupported)
{
    expect_unsupported(bit_string_attribute, "name attribute");
}
END_TEST

static void five_byte_ip(X509 *x509, X509_NAME *name)
{
    GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *entry = GENERAL_NAME_new();
    ASN1_OCTET_STRING *address = ASN1_OCTET_STRING_new();
    ck_assert_int_eq(ASN1_OCTET_STRING_set(address, (const unsigned char *)"\x0a\x00\x00\x01\x05", 5), 1);
    GENERAL_NAME_set0_value(entry, GEN_IPADD, address);
    sk_GENERAL_NAME_push(names, entry);
    ck_assert_int_eq(X509_add1_ext_i2d(x509, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT), 1);
    GENERAL_NAMES_free(names);
}

START_TEST(ip_san_of_odd_length_is_token_unsupported)
{
    expect_unsupported(five_byte_ip, "subjectAltName");
}
END_TEST

static void two_san_extensions(X509 *x509, X509_NAME *name)
{
    add_extension(x509, NID_subject_alt_name, "DNS:first.example");
    add_extension(x509, NID_subject_alt_name, "DNS:second.example");
}

START_TEST(duplicate_san_extension_is_token_unsupported)
{
    expect_unsupported(two_san_extensions, "subjectAltName");
}
END_TEST

static void broken_san_extension(X509 *x509, X509_NAME *name)
{
    ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
    ck_assert_int_eq(ASN1_OCTET_STRING_set(value, (const unsigned char *)"\x30\x05\x82\x01", 4), 1);
    X509_EXTENSION *extension = X509_EXTENSION_create_by_NID(NULL, NID_subject_alt_name, 0, value);
    ck_assert_ptr_nonnull(extension);
    ck_assert_int_eq(X509_add_ext(x509, extension, -1), 1);
    X509_EXTENSION_free(extension);
    ASN1_OCTET_STRING_free(value);
}

START_TEST(unparsable_san_extension_is_token_unsupported)
{
    expect_unsupported(broken_san_extension, "subjectAltName");
}
END_TEST

static void unknown_key_algorithm(X509 *x509, X509_NAME *name)
{
    X509_PUBKEY *key = X509_get_X509_PUBKEY(x509);
    unsigned char *bits = OPENSSL_malloc(8);
    memset(bits, 0x42, 8);
    ck_assert_int_eq(X509_PUBKEY_set0_param(key, OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1), V_ASN1_NULL, NULL, bits, 8),
                     1);
}

START_TEST(unloadable_key_is_token_unsupported)
{
    expect_unsupported(unknown_key_algorithm, "public key");
}
END_TEST

static void impossible_date(X509 *x509, X509_NAME *name)
{
    ASN1_GENERALIZEDTIME *time = ASN1_GENERALIZEDTIME_new();
    ck_assert_int_eq(ASN1_STRING_set(time, "20251399000000Z", 15), 1);
    ck_assert_int_eq(X509_set1_notBefore(x509, time), 1);
    ASN1_GENERALIZEDTIME_free(time);
}

START_TEST(unreadable_validity_is_token_unsupported)
{
    expect_unsupported(impossible_date, "validity");
}
END_TEST

static Suite *cert_suite(void)
{
    Suite *suite = suite_create("cert");
    TCase *facts = tcase_create("facts");
    tcase_add_test(facts, alice_names_are_rfc2253_most_specific_first);
    tcase_add_test(facts, alice_attributes_follow_dn_order_with_short_names);
    tcase_add_test(facts, alice_serial_is_lowercase_hex_of_its_bytes);
    tcase_add_test(facts, alice_fingerprints_match_openssl);
    tcase_add_test(facts, alice_ski_is_the_extension_value);
    tcase_add_test(facts, alice_sans_are_listed_by_kind);
    tcase_add_test(facts, alice_key_and_validity);
    tcase_add_test(facts, der_is_kept_verbatim);
    tcase_add_test(facts, ecuser_is_ec_256_without_sans);
    tcase_add_test(facts, small_and_expired_report_their_facts);
    tcase_add_test(facts, references_count_up_and_down);
    tcase_add_test(facts, utf8_names_stay_utf8);
    tcase_add_test(facts, special_characters_are_escaped_in_dn_but_not_in_attributes);
    tcase_add_test(facts, ipv6_sans_are_textual_and_other_kinds_ignored);
    tcase_add_test(facts, serial_zero_negative_and_long);
    suite_add_tcase(suite, facts);

    TCase *rejections = tcase_create("rejections");
    tcase_add_test(rejections, garbage_is_token_unsupported);
    tcase_add_test(rejections, empty_input_is_token_unsupported);
    tcase_add_test(rejections, trailing_bytes_are_token_unsupported);
    tcase_add_test(rejections, truncated_der_is_token_unsupported);
    tcase_add_test(rejections, nul_inside_a_san_is_token_unsupported);
    tcase_add_test(rejections, nul_inside_a_name_attribute_is_token_unsupported);
    tcase_add_test(rejections, name_attribute_that_is_not_text_is_token_unsupported);
    tcase_add_test(rejections, ip_san_of_odd_length_is_token_unsupported);
    tcase_add_test(rejections, duplicate_san_extension_is_token_unsupported);
    tcase_add_test(rejections, unparsable_san_extension_is_token_unsupported);
    tcase_add_test(rejections, unloadable_key_is_token_unsupported);
    tcase_add_test(rejections, unreadable_validity_is_token_unsupported);
    suite_add_tcase(suite, rejections);
    return suite;
}

int main(void)
{
    return tr_run_suite(cert_suite());
}
