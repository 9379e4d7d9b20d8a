/*
** test_x509_token.c — reading wsse:BinarySecurityToken elements: the accepted form (X509v3,
** Base64Binary or no EncodingType, base64 with line breaks) and each way a token is refused.
*/
#include <check.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/cert.h"
#include "core/failure.h"
#include "core/namespaces.h"
#include "core/trust_store.h"
#include "core/x509_token.h"

#define ASSERT_REASON(failure, expected) \
    ck_assert_str_eq(wd_reason_name((failure).reason), (expected))

#define WSSE_DECL "xmlns:wsse=\"" WD_NS_WSSE "\""

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

/* The base64 body of a PEM file, line breaks and all, as clients put it in a token. */
static char *pem_body(const char *name)
{
    char *path = pki_path(name);
    FILE *file = fopen(path, "r");
    ck_assert_ptr_nonnull(file);
    char *body = calloc(1, 8192);
    char line[256];
    bool inside = false;
    while (fgets(line, sizeof line, file) != NULL) {
        if (strncmp(line, "-----BEGIN", 10) == 0) {
            inside = true;
            continue;
        }
        if (strncmp(line, "-----END", 8) == 0)
            break;
        if (inside)
            strcat(body, line);
    }
    fclose(file);
    free(path);
    return body;
}

/* A document whose root is the token; the caller frees it with xmlFreeDoc. */
static xmlDoc *token_document(const char *attributes, const char *content)
{
    size_t size = strlen(attributes) + strlen(content) + 512;
    char *xml = malloc(size);
    snprintf(xml, size, "<wsse:BinarySecurityToken " WSSE_DECL " %s>%s</wsse:BinarySecurityToken>", attributes,
             content);
    xmlDoc *document = xmlReadMemory(xml, (int)strlen(xml), "token.xml", NULL, XML_PARSE_NONET);
    ck_assert_ptr_nonnull(document);
    free(xml);
    return document;
}

static const char *const x509v3 = "ValueType=\"" WD_WSS_X509V3 "\"";
static const char *const x509v3_base64 = "ValueType=\"" WD_WSS_X509V3 "\" EncodingType=\"" WD_WSS_BASE64 "\"";

static void expect_unsupported(const char *attributes, const char *content, const char *detail_part)
{
    xmlDoc *document = token_document(attributes, content);
    wd_cert *cert = (wd_cert *)0x1;
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_x509_token_read(xmlDocGetRootElement(document), NULL, &cert, &failure), -1);
    ASSERT_REASON(failure, "token-unsupported");
    ck_assert_msg(strstr(failure.detail, detail_part) != NULL, "detail \"%s\" lacks \"%s\"", failure.detail,
                  detail_part);
    ck_assert_ptr_null(cert);
    xmlFreeDoc(document);
}

START_TEST(good_token_gives_the_certificate)
{
    char *body = pem_body("alice.pem");
    xmlDoc *document = token_document(x509v3_base64, body);
    wd_cert *cert = NULL;
    wd_failure failure = { 0 };
    ck_assert_msg(wd_x509_token_read(xmlDocGetRootElement(document), NULL, &cert, &failure) == 0, "%s",
                  failure.detail);
    ck_assert_str_eq(cert->subject, "CN=alice,OU=Payments,O=Example");
    ck_assert_str_eq(cert->serial_hex, "01e5");
    wd_cert_unref(cert);
    xmlFreeDoc(document);
    free(body);
}
END_TEST

START_TEST(absent_encoding_type_means_base64)
{
    size_t length = 0;
    unsigned char *der = pki_der("ecuser.pem", &length);
    char *text = wd_base64_encode(der, length);
    xmlDoc *document = token_document(x509v3, text);
    wd_cert *cert = NULL;
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_x509_token_read(xmlDocGetRootElement(document), NULL, &cert, &failure), 0);
    ck_assert_str_eq(cert->key_type, "ec");
    wd_cert_unref(cert);
    xmlFreeDoc(document);
    free(text);
    OPENSSL_free(der);
}
END_TEST

START_TEST(token_goes_through_the_trust_store_parse_cache)
{
    wd_trust_store *store = NULL;
    ck_assert_int_eq(wd_trust_store_new(&store), 0);
    char *body = pem_body("alice.pem");
    xmlDoc *document = token_document(x509v3_base64, body);
    size_t length = 0;
    unsigned char *der = pki_der("alice.pem", &length);
    wd_cert *from_token = NULL, *from_der = NULL;
    wd_failure failure = { 0 };

    ck_assert_int_eq(wd_x509_token_read(xmlDocGetRootElement(document), store, &from_token, &failure), 0);
    ck_assert_int_eq(wd_trust_store_parse(store, der, length, &from_der, &failure), 0);
    ck_assert_ptr_eq(from_token, from_der);

    wd_cert_unref(from_token);
    wd_cert_unref(from_der);
    OPENSSL_free(der);
    xmlFreeDoc(document);
    free(body);
    wd_trust_store_free(store);
}
END_TEST

/* The token text cache: the same text again is the same certificate without a decode; a
** differently wrapped text of the same certificate decodes and finds it through the DER
** cache; a text that was refused is never remembered, so it is refused every time. */
START_TEST(token_text_seen_before_is_the_same_certificate)
{
    wd_trust_store *store = NULL;
    ck_assert_int_eq(wd_trust_store_new(&store), 0);
    char *body = pem_body("alice.pem");
    xmlDoc *first = token_document(x509v3_base64, body);
    xmlDoc *again = token_document(x509v3_base64, body);
    size_t wrapped_size = strlen(body) + 3;
    char *wrapped = malloc(wrapped_size);
    snprintf(wrapped, wrapped_size, "\n%s\n", body);
    xmlDoc *rewrapped = token_document(x509v3_base64, wrapped);
    wd_cert *a = NULL, *b = NULL, *c = NULL;
    wd_failure failure = { 0 };

    ck_assert_ptr_null(wd_trust_store_find_token_text(store, body, strlen(body)));
    ck_assert_int_eq(wd_x509_token_read(xmlDocGetRootElement(first), store, &a, &failure), 0);
    wd_cert *remembered = wd_trust_store_find_token_text(store, body, strlen(body));
    ck_assert_ptr_eq(remembered, a);
    wd_cert_unref(remembered);
    ck_assert_ptr_null(wd_trust_store_find_token_text(store, body, strlen(body) - 1));
    ck_assert_int_eq(wd_x509_token_read(xmlDocGetRootElement(again), store, &b, &failure), 0);
    ck_assert_ptr_eq(b, a);
    ck_assert_int_eq(wd_x509_token_read(xmlDocGetRootElement(rewrapped), store, &c, &failure), 0);
    ck_assert_ptr_eq(c, a);

    wd_cert_unref(a);
    wd_cert_unref(b);
    wd_cert_unref(c);
    xmlFreeDoc(first);
    xmlFreeDoc(again);
    xmlFreeDoc(rewrapped);
    free(wrapped);
    free(body);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(refused_token_text_is_never_remembered)
{
    wd_trust_store *store = NULL;
    ck_assert_int_eq(wd_trust_store_new(&store), 0);
    char *garbage = wd_base64_encode((const unsigned char *)"hello, I am not a certificate", 29);
    const char *texts[] = { "MIIB!!not*base64", garbage };

    for (size_t i = 0; i < 2; i++) {
        for (int round = 0; round < 2; round++) {
            xmlDoc *document = token_document(x509v3_base64, texts[i]);
            wd_cert *cert = NULL;
            wd_failure failure = { 0 };
            ck_assert_int_eq(wd_x509_token_read(xmlDocGetRootElement(document), store, &cert, &failure), -1);
            ASSERT_REASON(failure, "token-unsupported");
            ck_assert_ptr_null(cert);
            xmlFreeDoc(document);
        }
        ck_assert_ptr_null(wd_trust_store_find_token_text(store, texts[i], strlen(texts[i])));
    }
    free(garbage);
    wd_trust_store_free(store);
}
END_TEST

START_TEST(pki_path_and_pkcs7_value_types_are_token_unsupported)
{
    char *body = pem_body("alice.pem");
    expect_unsupported("ValueType=\"" WD_WSS_X509_PROFILE "#X509PKIPathv1\"", body, "ValueType");
    expect_unsupported("ValueType=\"" WD_WSS_X509_PROFILE "#PKCS7\"", body, "ValueType");
    expect_unsupported("ValueType=\"urn:example:other\"", body, "ValueType");
    expect_unsupported("ValueType=\"" WD_WSS_X509V3 " \"", body, "ValueType");
    free(body);
}
END_TEST

START_TEST(missing_value_type_is_token_unsupported)
{
    char *body = pem_body("alice.pem");
    expect_unsupported("EncodingType=\"" WD_WSS_BASE64 "\"", body, "(absent)");
    free(body);
}
END_TEST

START_TEST(other_encoding_type_is_token_unsupported)
{
    char *body = pem_body("alice.pem");
    expect_unsupported("ValueType=\"" WD_WSS_X509V3 "\" EncodingType=\"" WD_WSS_UT_PROFILE "#HexBinary\"", body,
                       "EncodingType");
    expect_unsupported("ValueType=\"" WD_WSS_X509V3 "\" EncodingType=\"\"", body, "EncodingType");
    free(body);
}
END_TEST

START_TEST(non_base64_text_is_token_unsupported)
{
    expect_unsupported(x509v3_base64, "MIIB!!not*base64", "base64");
    expect_unsupported(x509v3_base64, "MIIBCg=", "base64");
}
END_TEST

START_TEST(garbage_der_is_token_unsupported)
{
    char *text = wd_base64_encode((const unsigned char *)"hello, I am not a certificate", 29);
    expect_unsupported(x509v3_base64, text, "certificate");
    free(text);
}
END_TEST

START_TEST(empty_token_is_token_unsupported)
{
    expect_unsupported(x509v3_base64, "", "empty");
    expect_unsupported(x509v3_base64, " \n\t ", "empty");
}
END_TEST

START_TEST(markup_inside_the_token_is_token_unsupported)
{
    char *body = pem_body("alice.pem");
    size_t size = strlen(body) + 64;
    char *with_comment = malloc(size);
    snprintf(with_comment, size, "MII<!-- x -->%s", body + 3);
    expect_unsupported(x509v3_base64, with_comment, "more than text");
    snprintf(with_comment, size, "<wsse:Embedded/>%s", body);
    expect_unsupported(x509v3_base64, with_comment, "more than text");
    free(with_comment);
    free(body);
}
END_TEST

START_TEST(other_element_is_token_unsupported)
{
    const char *xml = "<wsse:UsernameToken " WSSE_DECL " ValueType=\"" WD_WSS_X509V3 "\">AAAA</wsse:UsernameToken>";
    xmlDoc *document = xmlReadMemory(xml, (int)strlen(xml), "other.xml", NULL, XML_PARSE_NONET);
    wd_cert *cert = NULL;
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_x509_token_read(xmlDocGetRootElement(document), NULL, &cert, &failure), -1);
    ASSERT_REASON(failure, "token-unsupported");
    ck_assert_int_eq(wd_x509_token_read(NULL, NULL, &cert, &failure), -1);
    ASSERT_REASON(failure, "token-unsupported");
    xmlFreeDoc(document);

    /* the right local name in another namespace is not the token either */
    const char *foreign = "<BinarySecurityToken xmlns=\"urn:example\" ValueType=\"" WD_WSS_X509V3
                          "\">AAAA</BinarySecurityToken>";
    document = xmlReadMemory(foreign, (int)strlen(foreign), "foreign.xml", NULL, XML_PARSE_NONET);
    ck_assert_int_eq(wd_x509_token_read(xmlDocGetRootElement(document), NULL, &cert, &failure), -1);
    ASSERT_REASON(failure, "token-unsupported");
    xmlFreeDoc(document);
}
END_TEST

static Suite *x509_token_suite(void)
{
    Suite *suite = suite_create("x509_token");
    TCase *tokens = tcase_create("tokens");
    tcase_add_test(tokens, good_token_gives_the_certificate);
    tcase_add_test(tokens, absent_encoding_type_means_base64);
    tcase_add_test(tokens, token_goes_through_the_trust_store_parse_cache);
    tcase_add_test(tokens, token_text_seen_before_is_the_same_certificate);
    tcase_add_test(tokens, refused_token_text_is_never_remembered);
    tcase_add_test(tokens, pki_path_and_pkcs7_value_types_are_token_unsupported);
    tcase_add_test(tokens, missing_value_type_is_token_unsupported);
    tcase_add_test(tokens, other_encoding_type_is_token_unsupported);
    tcase_add_test(tokens, non_base64_text_is_token_unsupported);
    tcase_add_test(tokens, garbage_der_is_token_unsupported);
    tcase_add_test(tokens, empty_token_is_token_unsupported);
    tcase_add_test(tokens, markup_inside_the_token_is_token_unsupported);
    tcase_add_test(tokens, other_element_is_token_unsupported);
    suite_add_tcase(suite, tokens);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(x509_token_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    xmlCleanupParser();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
