/*
** test_encryptor.c — encrypted requests for tests and fuzz seeds, made with OpenSSL the way
** XML Encryption lays them out (test_encryptor.h).
*/
#include "test_encryptor.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/namespaces.h"
#include "test_messages.h"

#define CHECK(condition)                                                                  \
    do {                                                                                  \
        if (!(condition)) {                                                               \
            fprintf(stderr, "test_encryptor: %s failed at line %d\n", #condition, __LINE__); \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

#define CHECK_EQ(a, b) CHECK((a) == (b))
#define CHECK_NONNULL(a) CHECK((a) != NULL)

/* IV ‖ ciphertext ‖ tag, as XML Encryption 1.1 lays out AES-GCM. */
size_t tx_gcm_encrypt(const unsigned char *key, size_t key_length, const unsigned char *plain, size_t length,
                          unsigned char *out)
{
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    const EVP_CIPHER *cipher = key_length == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
    CHECK_EQ(RAND_bytes(out, 12), 1);
    CHECK_EQ(EVP_EncryptInit_ex(context, cipher, NULL, key, out), 1);
    CHECK_EQ(EVP_EncryptUpdate(context, out + 12, &n, plain, (int)length), 1);
    CHECK_EQ(EVP_EncryptFinal_ex(context, out + 12 + n, &m), 1);
    CHECK_EQ(EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, out + 12 + n + m), 1);
    EVP_CIPHER_CTX_free(context);
    return 12 + (size_t)n + (size_t)m + 16;
}

/* IV ‖ CBC ciphertext of plain padded the XML Encryption way: pad_fill bytes, then the count. */
size_t tx_cbc_encrypt(const unsigned char *key, const unsigned char *plain, size_t length, unsigned char pad_count,
                          unsigned char pad_fill, unsigned char *out)
{
    unsigned char padded[256];
    size_t total = length + 16 - length % 16;
    memcpy(padded, plain, length);
    memset(padded + length, pad_fill, total - length);
    padded[total - 1] = pad_count;
    EVP_CIPHER_CTX *context = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    CHECK_EQ(RAND_bytes(out, 16), 1);
    CHECK_EQ(EVP_EncryptInit_ex(context, EVP_aes_128_cbc(), NULL, key, out), 1);
    EVP_CIPHER_CTX_set_padding(context, 0);
    CHECK_EQ(EVP_EncryptUpdate(context, out + 16, &n, padded, (int)total), 1);
    CHECK_EQ(EVP_EncryptFinal_ex(context, out + 16 + n, &m), 1);
    EVP_CIPHER_CTX_free(context);
    return 16 + (size_t)n + (size_t)m;
}

EVP_PKEY *tx_load_key(const char *name, int private_key)
{
    char *path = tm_pki_path(name);
    FILE *file = fopen(path, "r");
    CHECK(file != NULL);
    EVP_PKEY *key = NULL;
    if (private_key) {
        key = PEM_read_PrivateKey(file, NULL, NULL, NULL);
    } else {
        X509 *x509 = PEM_read_X509(file, NULL, NULL, NULL);
        CHECK_NONNULL(x509);
        key = X509_get_pubkey(x509);
        X509_free(x509);
    }
    fclose(file);
    free(path);
    CHECK_NONNULL(key);
    return key;
}

/* RSA-OAEP with SHA-256 and MGF1-SHA-256, and a label when given. */
size_t tx_oaep_wrap(EVP_PKEY *public_key, const unsigned char *key, size_t key_length, const char *label,
                        unsigned char *out)
{
    EVP_PKEY_CTX *context = EVP_PKEY_CTX_new(public_key, NULL);
    size_t length = 512;
    CHECK_EQ(EVP_PKEY_encrypt_init(context), 1);
    CHECK_EQ(EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_OAEP_PADDING), 1);
    CHECK_EQ(EVP_PKEY_CTX_set_rsa_oaep_md(context, EVP_sha256()), 1);
    CHECK_EQ(EVP_PKEY_CTX_set_rsa_mgf1_md(context, EVP_sha256()), 1);
    if (label != NULL)
        CHECK_EQ(EVP_PKEY_CTX_set0_rsa_oaep_label(context, OPENSSL_strdup(label), (int)strlen(label)), 1);
    CHECK_EQ(EVP_PKEY_encrypt(context, out, &length, key, key_length), 1);
    EVP_PKEY_CTX_free(context);
    return length;
}

const char tx_order[] = "<ord:CreateOrder xmlns:ord=\"urn:example:orders\"><ord:amount>250</ord:amount>"
                            "</ord:CreateOrder>";

/* A request whose Body content is encrypted with AES-128-GCM under a key wrapped by xmlenc11
** rsa-oaep (SHA-256, MGF1-SHA-256) for server-enc.pem, named by its thumbprint. */
char *tx_encrypted_message(const char *label_attribute, const char *plaintext, const char *extra_body)
{
    EVP_PKEY *public_key = tx_load_key("server-enc.pem", 0);
    unsigned char key[16], wrapped[512], data[1024], thumbprint[20];
    RAND_bytes(key, sizeof key);
    size_t wrapped_length = tx_oaep_wrap(public_key, key, sizeof key, label_attribute, wrapped);
    size_t data_length = tx_gcm_encrypt(key, 16, (const unsigned char *)plaintext, strlen(plaintext), data);
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

