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

/* IV ‖ ciphertext ‖ tag, as XML Encryption 1.1 lays out AES-GCM. */
static size_t gcm_encrypt(const unsigned char *key, size_t key_length, const unsigned char *plain, size_t length,
                          unsigned char *out)
{
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    const EVP_CIPHER *cipher = key_length == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
    ck_assert_int_eq(RAND_bytes(out, 12), 1);
    ck_assert_int_eq(EVP_EncryptInit_ex(context, cipher, NULL, key, out), 1);
    ck_assert_int_eq(EVP_EncryptUpdate(context, out + 12, &n, plain, (int)length), 1);
    ck_assert_int_eq(EVP_EncryptFinal_ex(context, out + 12 + n, &m), 1);
    ck_assert_int_eq(EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, out + 12 + n + m), 1);
    EVP_CIPHER_CTX_free(context);
    return 12 + (size_t)n + (size_t)m + 16;
}

/* IV ‖ CBC ciphertext of plain padded the XML Encryption way: pad_fill bytes, then the count. */
static size_t cbc_encrypt(const unsigned char *key, const unsigned char *plain, size_t length, unsigned char pad_count,
                          unsigned char pad_fill, unsigned char *out)
{
    unsigned char padded[256];
    size_t total = length + 16 - length % 16;
    memcpy(padded, plain, length);
    memset(padded + length, pad_fill, total - length);
    padded[total - 1] = pad_count;
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    ck_assert_int_eq(RAND_bytes(out, 16), 1);
    ck_assert_int_eq(EVP_EncryptInit_ex(context, EVP_aes_128_cbc(), NULL, key, out), 1);
    EVP_CIPHER_CTX_set_padding(context, 0);
    ck_assert_int_eq(EVP_EncryptUpdate(context, out + 16, &n, padded, (int)total), 1);
    ck_assert_int_eq(EVP_EncryptFinal_ex(context, out + 16 + n, &m), 1);
    EVP_CIPHER_CTX_free(context);
    return 16 + (size_t)n + (size_t)m;
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
    size_t n = gcm_encrypt(key, 32, plain, sizeof plain - 1, in);
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
    size_t n = cbc_encrypt(key, plain, sizeof plain - 1, (unsigned char)pad, 0xA5, in);
    ck_assert_int_eq(wd_xenc_decrypt(&ciphers, algorithm(WD_XENC_AES128_CBC), key, in, n, out, &length), 1);
    ck_assert_uint_eq(length, sizeof plain - 1);
    ck_assert_int_eq(memcmp(out, plain, length), 0);
    /* a count of 0 and one over the block size are padding errors */
    n = cbc_encrypt(key, plain, sizeof plain - 1, 0, 0, in);
    ck_assert_int_eq(wd_xenc_decrypt(&ciphers, algorithm(WD_XENC_AES128_CBC), key, in, n, out, &length), 0);
    ck_assert_uint_le(length, n);
    n = cbc_encrypt(key, plain, sizeof plain - 1, 17, 0, in);
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

static EVP_PKEY *load_key(const char *name, int private_key)
{
    char *path = tm_pki_path(name);
    FILE *file = fopen(path, "r");
    ck_assert_msg(file != NULL, "cannot open %s", path);
    EVP_PKEY *key = NULL;
    if (private_key) {
        key = PEM_read_PrivateKey(file, NULL, NULL, NULL);
    } else {
        X509 *x509 = PEM_read_X509(file, NULL, NULL, NULL);
        ck_assert_ptr_nonnull(x509);
        key = X509_get_pubkey(x509);
        X509_free(x509);
    }
    fclose(file);
    free(path);
    ck_assert_ptr_nonnull(key);
    return key;
}

/* RSA-OAEP with SHA-256 and MGF1-SHA-256, and a label when given. */
static size_t oaep_wrap(EVP_PKEY *public_key, const unsigned char *key, size_t key_length, const char *label,
                        unsigned char *out)
{
    EVP_PKEY_CTX *context = EVP_PKEY_CTX_new(public_key, NULL);
    size_t length = 512;
    ck_assert_int_eq(EVP_PKEY_encrypt_init(context), 1);
    ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_OAEP_PADDING), 1);
    ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_oaep_md(context, EVP_sha256()), 1);
    ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_mgf1_md(context, EVP_sha256()), 1);
    if (label != NULL)
        ck_assert_int_eq(EVP_PKEY_CTX_set0_rsa_oaep_label(context, OPENSSL_strdup(label), (int)strlen(label)), 1);
    ck_assert_int_eq(EVP_PKEY_encrypt(context, out, &length, key, key_length), 1);
    EVP_PKEY_CTX_free(context);
    return length;
}

START_TEST(oaep_unwraps_with_its_digests_and_label_and_a_wrong_label_is_a_flag)
{
    EVP_PKEY *public_key = load_key("server-enc.pem", 0);
    EVP_PKEY *private_key = load_key("server-enc.key", 1);
    unsigned char key[16], wrapped[512], unwrapped[WD_XENC_MAX_UNWRAPPED], session[32];
    size_t length = 0;
    RAND_bytes(key, sizeof key);
    size_t n = oaep_wrap(public_key, key, sizeof key, "label", wrapped);

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

static const char order[] = "<ord:CreateOrder xmlns:ord=\"urn:example:orders\"><ord:amount>250</ord:amount>"
                            "</ord:CreateOrder>";

/* A request whose Body content is encrypted with AES-128-GCM under a key wrapped by xmlenc11
** rsa-oaep (SHA-256, MGF1-SHA-256) for server-enc.pem, named by its thumbprint. */
static char *encrypted_message(const char *label_attribute, const char *plaintext, const char *extra_body)
{
    EVP_PKEY *public_key = load_key("server-enc.pem", 0);
    unsigned char key[16], wrapped[512], data[1024], thumbprint[20];
    RAND_bytes(key, sizeof key);
    size_t wrapped_length = oaep_wrap(public_key, key, sizeof key, label_attribute, wrapped);
    size_t data_length = gcm_encrypt(key, 16, (const unsigned char *)plaintext, strlen(plaintext), data);
    char *path = tm_pki_path("server-enc.pem");
    FILE *file = fopen(path, "r");
    X509 *x509 = PEM_read_X509(file, NULL, NULL, NULL);
    unsigned int digest_length = 0;
    X509_digest(x509, EVP_sha1(), thumbprint, &digest_length);
    X509_free(x509);
    fclose(file);
    free(path);
    char *wrapped64 = wd_base64_encode(wrapped, wrapped_length);
    char *data64 = wd_base64_encode(data, data_length);
    char *thumb64 = wd_base64_encode(thumbprint, 20);
    char *label64 = label_attribute != NULL ? wd_base64_encode((const unsigned char *)"label", 5) : NULL;
    char *text = malloc(8192);
    snprintf(text, 8192,
             "<soap:Envelope xmlns:soap=\"" WD_NS_SOAP11 "\" xmlns:wsse=\"" WD_NS_WSSE "\" xmlns:xenc=\""
             WD_NS_XENC "\" xmlns:xenc11=\"" WD_NS_XENC11 "\" xmlns:ds=\"" WD_NS_DSIG "\"><soap:Header>"
             "<wsse:Security><xenc:EncryptedKey Id=\"EK-1\">"
             "<xenc:EncryptionMethod Algorithm=\"" WD_XENC_RSA_OAEP "\">"
             "<ds:DigestMethod Algorithm=\"" WD_ALG_SHA256 "\"/>"
             "<xenc11:MGF Algorithm=\"" WD_XENC_MGF1_SHA256 "\"/>%s%s%s</xenc:EncryptionMethod>"
             "<ds:KeyInfo><wsse:SecurityTokenReference><wsse:KeyIdentifier ValueType=\"" WD_WSS_THUMBPRINT "\">%s"
             "</wsse:KeyIdentifier></wsse:SecurityTokenReference></ds:KeyInfo>"
             "<xenc:CipherData><xenc:CipherValue>%s</xenc:CipherValue></xenc:CipherData>"
             "<xenc:ReferenceList><xenc:DataReference URI=\"#ED-1\"/></xenc:ReferenceList></xenc:EncryptedKey>"
             "</wsse:Security></soap:Header><soap:Body>"
             "<xenc:EncryptedData Id=\"ED-1\" Type=\"" WD_XENC_TYPE_CONTENT "\">"
             "<xenc:EncryptionMethod Algorithm=\"" WD_XENC_AES128_GCM "\"/>"
             "<xenc:CipherData><xenc:CipherValue>%s</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>%s"
             "</soap:Body></soap:Envelope>",
             label64 != NULL ? "<xenc:OAEPparams>" : "", label64 != NULL ? label64 : "",
             label64 != NULL ? "</xenc:OAEPparams>" : "", thumb64, wrapped64, data64,
             extra_body != NULL ? extra_body : "");
    free(wrapped64);
    free(data64);
    free(thumb64);
    free(label64);
    EVP_PKEY_free(public_key);
    return text;
}

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
    char *text = encrypted_message("label", order, NULL);
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

START_TEST(wrong_oaep_label_is_decrypt_failed_and_only_the_log_says_why)
{
    te_log_lines log;
    memset(&log, 0, sizeof log);
    warden_engine *engine = service(NULL, &log);
    char *text = encrypted_message("label", order, NULL);
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
    char *text = encrypted_message(NULL, order, "<ord:Note xmlns:ord=\"urn:example:orders\">clear</ord:Note>");
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
    char *text = encrypted_message(NULL, deep, NULL);
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
    tcase_add_test(message, wrong_oaep_label_is_decrypt_failed_and_only_the_log_says_why);
    tcase_add_test(message, plaintext_beside_the_encrypted_body_is_unencrypted_part);
    tcase_add_test(message, plaintext_deeper_than_the_depth_limit_is_decrypt_failed);
    tcase_add_test(message, decrypt_key_that_is_not_the_certificates_is_a_config_error);
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
