/*
** test_decrypt.c — XML Encryption: the primitives of xenc_cipher.c (AES-GCM, AES-CBC with XML
** Encryption's padding, RSA-OAEP with its digests and label, the substitute key) and the
** decryption of a whole message through the engine, with an xmlenc11 rsa-oaep EncryptedKey
** (SHA-256, MGF1-SHA-256) that no producer installed here writes, so the test makes it with
** OpenSSL at run time.
*/
#include <check.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/failure.h"
#include "core/namespaces.h"
#include "core/xenc_cipher.h"
#include "test_encryptor.h"
#include "test_engine.h"
#include "test_messages.h"
#include "warden.h"

static const wd_xenc_data_algorithm *algorithm(const char *uri)
{
    const wd_xenc_data_algorithm *found = NULL;
    wd_failure f = { 0 };
    ck_assert_int_eq(wd_xenc_data_algorithm_find(uri, true, &found, &f), 0);
    return found;
}

START_TEST(gcm_decrypts_and_a_flipped_tag_or_byte_fails)
{
    wd_xenc_ciphers ciphers;
    wd_failure f = { 0 };
    unsigned char key[32], in[128], out[128];
    const unsigned char plain[] = "<a>hello</a>";
    size_t length = 0;

    ck_assert_int_eq(wd_xenc_ciphers_init(&ciphers, &f), 0);
    RAND_bytes(key, sizeof key);
    size_t n = tx_gcm_encrypt(key, 32, plain, sizeof plain - 1, in);
    ck_assert_int_eq(wd_xenc_decrypt(&ciphers, algorithm(WD_XENC_AES256_GCM), key, in, n, out, &length), 1);
    ck_assert_uint_eq(length, sizeof plain - 1);
    ck_assert_int_eq(memcmp(out, plain, length), 0);
    in[n - 1] ^= 1;
    ck_assert_int_eq(wd_xenc_decrypt(&ciphers, algorithm(WD_XENC_AES256_GCM), key, in, n, out, &length), 0);
    in[n - 1] ^= 1;
    in[14] ^= 0x40;
    ck_assert_int_eq(wd_xenc_decrypt(&ciphers, algorithm(WD_XENC_AES256_GCM), key, in, n, out, &length), 0);
    /* too short to hold an IV and a tag */
    ck_assert_int_eq(wd_xenc_decrypt(&ciphers, algorithm(WD_XENC_AES256_GCM), key, in, 27, out, &length), 0);
    wd_xenc_ciphers_clear(&ciphers);
}
END_TEST

START_TEST(cbc_padding_is_xml_encryptions_and_wrong_counts_fail)
{
    wd_xenc_ciphers ciphers;
    wd_failure f = { 0 };
    unsigned char key[16], in[128], out[128];
    const unsigned char plain[] = "<a>twenty-one bytes</a>";
    size_t length = 0;

    ck_assert_int_eq(wd_xenc_ciphers_init(&ciphers, &f), 0);
    RAND_bytes(key, sizeof key);
    size_t pad = 16 - (sizeof plain - 1) % 16;
    /* padding bytes other than the last are arbitrary (WSS4J's are random), not PKCS#7 */
    size_t n = tx_cbc_encrypt(key, plain, sizeof plain - 1, (unsigned char)pad, 0xA5, in);
    ck_assert_int_eq(wd_xenc_decrypt(&ciphers, algorithm(WD_XENC_AES128_CBC), key, in, n, out, &length), 1);
    ck_assert_uint_eq(length, sizeof plain - 1);
    ck_assert_int_eq(memcmp(out, plain, length), 0);
    /* a count of 0 and one over the block size are padding errors */
    n = tx_cbc_encrypt(key, plain, sizeof plain - 1, 0, 0, in);
    ck_assert_int_eq(wd_xenc_decrypt(&ciphers, algorithm(WD_XENC_AES128_CBC), key, in, n, out, &length), 0);
    ck_assert_uint_le(length, n);
    n = tx_cbc_encrypt(key, plain, sizeof plain - 1, 17, 0, in);
    ck_assert_int_eq(wd_xenc_decrypt(&ciphers, algorithm(WD_XENC_AES128_CBC), key, in, n, out, &length), 0);
    /* not whole blocks */
    ck_assert_int_eq(wd_xenc_decrypt(&ciphers, algorithm(WD_XENC_AES128_CBC), key, in, n - 1, out, &length), 0);
    wd_xenc_ciphers_clear(&ciphers);
}
END_TEST

START_TEST(cbc_and_unknown_algorithms_are_weak_unless_allowed)
{
    const wd_xenc_data_algorithm *found = NULL;
    wd_failure f = { 0 };
    ck_assert_int_eq(wd_xenc_data_algorithm_find(WD_XENC_AES128_CBC, false, &found, &f), -1);
    ck_assert_str_eq(wd_reason_name(f.reason), "weak-algorithm");
    ck_assert_int_eq(wd_xenc_data_algorithm_find(WD_NS_XENC "tripledes-cbc", true, &found, &f), -1);
    ck_assert_str_eq(wd_reason_name(f.reason), "weak-algorithm");
    ck_assert_int_eq(wd_xenc_data_algorithm_find(WD_XENC_AES192_GCM, false, &found, &f), 0);
    ck_assert_uint_eq(found->key_length, 24);
}
END_TEST

START_TEST(oaep_unwraps_with_its_digests_and_label_and_a_wrong_label_is_a_flag)
{
    EVP_PKEY *public_key = tx_load_key("server-enc.pem", 0);
    EVP_PKEY *private_key = tx_load_key("server-enc.key", 1);
    unsigned char key[16], wrapped[512], unwrapped[WD_XENC_MAX_UNWRAPPED], session[32];
    size_t length = 0;
    RAND_bytes(key, sizeof key);
    size_t n = tx_oaep_wrap(public_key, key, sizeof key, "label", wrapped);

    wd_xenc_transport transport = { true, "SHA256", "SHA256", (const unsigned char *)"label", 5 };
    ck_assert_int_eq(wd_xenc_unwrap(private_key, &transport, wrapped, n, unwrapped, &length), 1);
    ck_assert_uint_eq(length, 16);
    ck_assert_int_eq(wd_xenc_session_key(unwrapped, length, 1, 16, session), 1);
    ck_assert_int_eq(memcmp(session, key, 16), 0);
    /* a key of the wrong length for the cipher: the substitute, not a truncation */
    ck_assert_int_eq(wd_xenc_session_key(unwrapped, length, 1, 32, session), 0);

    transport.label = (const unsigned char *)"other";
    ck_assert_int_eq(wd_xenc_unwrap(private_key, &transport, wrapped, n, unwrapped, &length), 0);
    ck_assert_uint_eq(length, 0);
    ck_assert_int_eq(wd_xenc_session_key(unwrapped, length, 0, 16, session), 0);
    ck_assert_int_ne(memcmp(session, key, 16), 0);
    EVP_PKEY_free(public_key);
    EVP_PKEY_free(private_key);
}
END_TEST

/* ---- a whole message ---------------------------------------------------------------- */

static warden_engine *service(const char *require_encrypted, te_log_lines *log)
{
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    char *key = tm_pki_path("server-enc.key");
    char *cert = tm_pki_path("server-enc.pem");
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "require.token", "false", &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "decrypt.key", key, &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "decrypt.cert", cert, &err), WARDEN_OK);
    if (require_encrypted != NULL)
        ck_assert_int_eq(warden_config_set(config, "require.encrypted", require_encrypted, &err), WARDEN_OK);
    if (log != NULL)
        warden_config_set_logger(config, te_collect_log, log);
    ck_assert_msg(warden_engine_new(config, &engine, &err) == WARDEN_OK, "engine: %s", err.text);
    warden_config_free(config);
    free(key);
    free(cert);
    return engine;
}

static void expect_rejection(warden_engine *engine, const char *text, const char *reason)
{
    warden_message *message = NULL;
    warden_error err;
    warden_receive_options options = { .size = sizeof options, .now = TM_NOW };
    ck_assert_int_eq(warden_engine_receive(engine, text, strlen(text), &options, &message, &err), WARDEN_E_SECURITY);
    ck_assert_msg(strcmp(err.reason, reason) == 0, "%s (%s), expected %s", err.reason, err.text, reason);
}

START_TEST(xmlenc11_oaep_message_is_decrypted_into_its_body)
{
    warden_engine *engine = service("Body", NULL);
    char *text = tx_encrypted_message("label", tx_order, NULL);
    warden_message *message = te_receive(engine, text);
    warden_string value;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_OPERATION, &value, sizeof value),
                     WARDEN_OK);
    ck_assert_str_eq(value.data, "{urn:example:orders}CreateOrder");
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_ENCRYPTED_PARTS, &value,
                                                 sizeof value), WARDEN_OK);
    ck_assert_str_eq(value.data, "Body");
    int protection = 0;
    warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_PROTECTION_LEVEL, &protection, sizeof protection);
    ck_assert_int_eq(protection, WARDEN_PROTECTION_NONE); /* no signature: encryption proves no sender */
    warden_message_free(message);
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(plaintext_prefixes_resolve_against_the_namespaces_in_scope_where_it_goes)
{
    /* the plaintext uses ds:, which only the Envelope declares: the sender serialized the
    ** element in its context, and it must mean the same thing back in it */
    warden_engine *engine = service(NULL, NULL);
    char *text = tx_encrypted_message(NULL, "<ds:Order><ds:amount>5</ds:amount></ds:Order>", NULL);
    warden_message *message = te_receive(engine, text);
    warden_string value;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_OPERATION, &value, sizeof value),
                     WARDEN_OK);
    ck_assert_str_eq(value.data, "{" WD_NS_DSIG "}Order");
    warden_message_free(message);
    free(text);
    /* an undeclared prefix is not XML where it goes */
    text = tx_encrypted_message(NULL, "<nope:Order/>", NULL);
    expect_rejection(engine, text, "decrypt-failed");
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(wrong_oaep_label_is_decrypt_failed_and_only_the_log_says_why)
{
    te_log_lines log;
    memset(&log, 0, sizeof log);
    warden_engine *engine = service(NULL, &log);
    char *text = tx_encrypted_message("label", tx_order, NULL);
    char *label = strstr(text, "<xenc:OAEPparams>") + strlen("<xenc:OAEPparams>");
    label[0] = label[0] == 'A' ? 'B' : 'A';
    warden_message *message = NULL;
    warden_error err;
    warden_receive_options options = { .size = sizeof options, .now = TM_NOW };
    ck_assert_int_eq(warden_engine_receive(engine, text, strlen(text), &options, &message, &err), WARDEN_E_SECURITY);
    ck_assert_str_eq(err.reason, "decrypt-failed");
    ck_assert_str_eq(err.text, "the message could not be decrypted");
    ck_assert_int_ge(log.count, 1);
    ck_assert_msg(strstr(log.lines[0], "did not unwrap") != NULL, "log: %s", log.lines[0]);
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(plaintext_beside_the_encrypted_body_is_unencrypted_part)
{
    warden_engine *engine = service("Body", NULL);
    char *text = tx_encrypted_message(NULL, tx_order, "<ord:Note xmlns:ord=\"urn:example:orders\">clear</ord:Note>");
    expect_rejection(engine, text, "unencrypted-part");
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(plaintext_deeper_than_the_depth_limit_is_decrypt_failed)
{
    warden_engine *engine = service(NULL, NULL);
    char deep[4096] = "";
    for (int i = 0; i < 70; i++)
        strcat(deep, "<a>");
    for (int i = 0; i < 70; i++)
        strcat(deep, "</a>");
    char *text = tx_encrypted_message(NULL, deep, NULL);
    expect_rejection(engine, text, "decrypt-failed");
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(decrypt_key_that_is_not_the_certificates_is_a_config_error)
{
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    char *key = tm_pki_path("other-enc.key");
    char *cert = tm_pki_path("server-enc.pem");
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "decrypt.key", key, &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "decrypt.cert", cert, &err), WARDEN_OK);
    ck_assert_int_eq(warden_engine_new(config, &engine, &err), WARDEN_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.text, "is not the key of decrypt.cert"));
    ck_assert_int_eq(warden_config_set(config, "decrypt.key", "", &err), WARDEN_OK);
    ck_assert_int_eq(warden_engine_new(config, &engine, &err), WARDEN_E_CONFIG);
    warden_config_free(config);
    free(key);
    free(cert);
}
END_TEST

static char *pki_text(const char *name)
{
    char *path = tm_pki_path(name);
    FILE *file = fopen(path, "rb");
    ck_assert_msg(file != NULL, "cannot open %s", path);
    char *text = calloc(1, 65536);
    size_t n = fread(text, 1, 65535, file);
    ck_assert_uint_gt(n, 0);
    fclose(file);
    free(path);
    return text;
}

START_TEST(reload_takes_the_new_key_pair)
{
    te_policy_dir dir = te_make_dir("decrypt-reload");
    char *key = pki_text("server-enc.key"), *cert = pki_text("server-enc.pem");
    te_write_file(&dir, "service.key", key);
    te_write_file(&dir, "service.pem", cert);
    char key_path[512], cert_path[512];
    snprintf(key_path, sizeof key_path, "%s/service.key", dir.path);
    snprintf(cert_path, sizeof cert_path, "%s/service.pem", dir.path);
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "require.token", "false", &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "decrypt.key", key_path, &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "decrypt.cert", cert_path, &err), WARDEN_OK);
    ck_assert_int_eq(warden_engine_new(config, &engine, &err), WARDEN_OK);
    warden_config_free(config);

    char *text = tx_encrypted_message(NULL, tx_order, NULL);
    warden_message_free(te_receive(engine, text));
    /* the service moves to another key pair: messages for the old one no longer decrypt */
    char *other_key = pki_text("other-enc.key"), *other_cert = pki_text("other-enc.pem");
    te_replace_file(&dir, "service.key", other_key);
    te_replace_file(&dir, "service.pem", other_cert);
    ck_assert_int_eq(warden_engine_reload(engine, &err), WARDEN_OK);
    expect_rejection(engine, text, "decrypt-failed");
    /* a key that is not the certificate's: the reload fails, the current pair keeps serving */
    te_replace_file(&dir, "service.key", key);
    ck_assert_int_eq(warden_engine_reload(engine, &err), WARDEN_E_CONFIG);
    expect_rejection(engine, text, "decrypt-failed");

    warden_engine_free(engine);
    free(text);
    free(key);
    free(cert);
    free(other_key);
    free(other_cert);
    te_remove_dir(&dir);
}
END_TEST

static Suite *decrypt_suite(void)
{
    Suite *suite = suite_create("decrypt");
    TCase *cipher = tcase_create("cipher");
    TCase *message = tcase_create("message");
    tcase_add_test(cipher, gcm_decrypts_and_a_flipped_tag_or_byte_fails);
    tcase_add_test(cipher, cbc_padding_is_xml_encryptions_and_wrong_counts_fail);
    tcase_add_test(cipher, cbc_and_unknown_algorithms_are_weak_unless_allowed);
    tcase_add_test(cipher, oaep_unwraps_with_its_digests_and_label_and_a_wrong_label_is_a_flag);
    tcase_add_test(message, xmlenc11_oaep_message_is_decrypted_into_its_body);
    tcase_add_test(message, plaintext_prefixes_resolve_against_the_namespaces_in_scope_where_it_goes);
    tcase_add_test(message, wrong_oaep_label_is_decrypt_failed_and_only_the_log_says_why);
    tcase_add_test(message, plaintext_beside_the_encrypted_body_is_unencrypted_part);
    tcase_add_test(message, plaintext_deeper_than_the_depth_limit_is_decrypt_failed);
    tcase_add_test(message, decrypt_key_that_is_not_the_certificates_is_a_config_error);
    tcase_add_test(message, reload_takes_the_new_key_pair);
    suite_add_tcase(suite, cipher);
    suite_add_tcase(suite, message);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(decrypt_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
