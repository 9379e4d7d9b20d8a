/*
** test_transport_token.c — warden_receive_options.transport_cert: the TLS peer certificate
** an embedder (`warden serve` with tls.client_ca) passes becomes a token of kind and role
** "transport" with the certificate's facts; one that cannot be read rejects the message; a
** message without it has no transport token; the signing token keeps its place.
*/
#include <check.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <warden.h>

#include "test_messages.h"
#include "test_run.h"

static warden_engine *make_engine(void)
{
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    char *users = tm_pki_path("users.txt");
    char *ca = tm_pki_path("ca.pem");
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "users", users, &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "trust", ca, &err), WARDEN_OK);
    ck_assert_msg(warden_engine_new(config, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_config_free(config);
    free(users);
    free(ca);
    return engine;
}

/* The DER of a PEM certificate of the test PKI; *length set; caller frees. */
static unsigned char *pki_der(const char *name, size_t *length)
{
    char *path = tm_pki_path(name);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    free(path);
    ck_assert_ptr_nonnull(cert);
    unsigned char *der = NULL;
    int n = i2d_X509(cert, &der);
    X509_free(cert);
    ck_assert_int_gt(n, 0);
    unsigned char *copy = malloc((size_t)n);
    memcpy(copy, der, (size_t)n);
    OPENSSL_free(der);
    *length = (size_t)n;
    return copy;
}

static char *message_text(const char *nonce)
{
    tm_username_options o = { .digest = 1, .nonce = nonce, .timestamp_created = "2026-11-25T12:00:00Z",
                              .timestamp_expires = "2026-11-25T12:05:00Z", .token_id = "UT-1" };
    return tm_username_message(&o);
}

static int receive(warden_engine *engine, const char *text, const unsigned char *der, size_t length,
                   warden_message **message, warden_error *err)
{
    warden_receive_options options = { .size = sizeof options, .now = TM_NOW };
    options.transport_cert.data = der;
    options.transport_cert.length = length;
    return warden_engine_receive(engine, text, strlen(text), &options, message, err);
}

static int token_is(const warden_token *token, const char *kind, const char *role)
{
    warden_string k, r;
    return warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_KIND, &k, sizeof k) == WARDEN_OK
           && warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_ROLE, &r, sizeof r) == WARDEN_OK
           && strcmp(k.data, kind) == 0 && strcmp(r.data, role) == 0;
}

START_TEST(the_peer_certificate_is_a_transport_token_with_its_facts)
{
    warden_engine *engine = make_engine();
    size_t length = 0;
    unsigned char *der = pki_der("client.pem", &length);
    char *text = message_text("transport-1");
    warden_message *message = NULL;
    warden_error err;

    ck_assert_msg(receive(engine, text, der, length, &message, &err) == WARDEN_OK, "%s", err.text);
    ck_assert_uint_eq(warden_message_token_count(message), 2);
    ck_assert(token_is(warden_message_token(message, 0), "username", "supporting"));
    const warden_token *transport = warden_message_token(message, 1);
    ck_assert(token_is(transport, "transport", "transport"));
    warden_string subject;
    ck_assert_int_eq(warden_token_get_property(transport, WARDEN_TOKEN_PROPERTY_CERT_SUBJECT, &subject, sizeof subject),
                     WARDEN_OK);
    ck_assert_str_eq(subject.data, "CN=client,OU=Payments,O=Example");
    warden_bytes bytes;
    ck_assert_int_eq(warden_token_get_property(transport, WARDEN_TOKEN_PROPERTY_CERT_DER, &bytes, sizeof bytes),
                     WARDEN_OK);
    ck_assert_uint_eq(bytes.length, length);
    ck_assert_int_eq(memcmp(bytes.data, der, length), 0);
    int key_type = 0;
    ck_assert_int_eq(warden_token_get_property(transport, WARDEN_TOKEN_PROPERTY_KEY_TYPE, &key_type, sizeof key_type),
                     WARDEN_OK);
    ck_assert_int_eq(key_type, WARDEN_KEY_TYPE_ASYMMETRIC);
    /* the transport certificate is not the message's signing certificate */
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_ENCODED_CERT, &bytes, sizeof bytes),
                     WARDEN_E_NOT_APPLICABLE);
    warden_message_free(message);
    free(text);
    free(der);
    warden_engine_free(engine);
}
END_TEST

START_TEST(without_a_peer_certificate_there_is_no_transport_token)
{
    warden_engine *engine = make_engine();
    char *text = message_text("transport-2");
    warden_message *message = NULL;
    warden_error err;
    ck_assert_msg(receive(engine, text, NULL, 0, &message, &err) == WARDEN_OK, "%s", err.text);
    ck_assert_uint_eq(warden_message_token_count(message), 1);
    warden_message_free(message);
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(a_peer_certificate_that_cannot_be_read_rejects_the_message)
{
    warden_engine *engine = make_engine();
    char *text = message_text("transport-3");
    static const unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
    warden_message *message = NULL;
    warden_error err;
    ck_assert_int_eq(receive(engine, text, junk, sizeof junk, &message, &err), WARDEN_E_SECURITY);
    ck_assert_ptr_null(message);
    ck_assert_str_eq(err.reason, "token-unsupported");
    free(text);
    warden_engine_free(engine);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("transport_token");
    TCase *tc = tcase_create("transport");
    tcase_add_test(tc, the_peer_certificate_is_a_transport_token_with_its_facts);
    tcase_add_test(tc, without_a_peer_certificate_there_is_no_transport_token);
    tcase_add_test(tc, a_peer_certificate_that_cannot_be_read_rejects_the_message);
    suite_add_tcase(suite, tc);
    return tr_run_suite(suite);
}
