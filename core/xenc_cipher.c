/*
** xenc_cipher.c — XML Encryption's cryptographic primitives on OpenSSL EVP (xenc_cipher.h).
**
** Nothing here returns early on a secret: RSA unwrap failures and wrong padding become a
** flag the caller combines with the others, the substitute key is picked with a mask, and
** CBC's padding byte is checked with arithmetic, not branches. (What the plaintext then does
** is decrypt.c's concern.)
*/
#include "xenc_cipher.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <string.h>

#include "../include/warden.h"
#include "namespaces.h"

#define GCM_IV 12
#define GCM_TAG 16
#define CBC_BLOCK 16

static const wd_xenc_data_algorithm data_algorithms[] = {
    { WD_XENC_AES128_GCM, WD_XENC_DATA_AES128_GCM, 16, true },
    { WD_XENC_AES192_GCM, WD_XENC_DATA_AES192_GCM, 24, true },
    { WD_XENC_AES256_GCM, WD_XENC_DATA_AES256_GCM, 32, true },
    { WD_XENC_AES128_CBC, WD_XENC_DATA_AES128_CBC, 16, false },
    { WD_XENC_AES192_CBC, WD_XENC_DATA_AES192_CBC, 24, false },
    { WD_XENC_AES256_CBC, WD_XENC_DATA_AES256_CBC, 32, false },
};

static const char *const cipher_names[WD_XENC_DATA_COUNT] = {
    "AES-128-GCM", "AES-192-GCM", "AES-256-GCM", "AES-128-CBC", "AES-192-CBC", "AES-256-CBC",
};

int wd_xenc_ciphers_init(wd_xenc_ciphers *ciphers, wd_failure *failure)
{
    memset(ciphers, 0, sizeof *ciphers);
    for (size_t i = 0; i < WD_XENC_DATA_COUNT; i++) {
        ciphers->ciphers[i] = EVP_CIPHER_fetch(NULL, cipher_names[i], NULL);
        if (ciphers->ciphers[i] == NULL) {
            ERR_clear_error();
            wd_xenc_ciphers_clear(ciphers);
            return wd_fail_internal(failure, WARDEN_E_INTERNAL, "OpenSSL has no %s", cipher_names[i]);
        }
    }
    return 0;
}

void wd_xenc_ciphers_clear(wd_xenc_ciphers *ciphers)
{
    for (size_t i = 0; i < WD_XENC_DATA_COUNT; i++) {
        EVP_CIPHER_free(ciphers->ciphers[i]);
        ciphers->ciphers[i] = NULL;
    }
}

int wd_xenc_data_algorithm_find(const char *uri, bool allow_cbc, const wd_xenc_data_algorithm **out,
                                wd_failure *failure)
{
    for (size_t i = 0; i < sizeof data_algorithms / sizeof data_algorithms[0]; i++) {
        if (strcmp(uri, data_algorithms[i].uri) != 0)
            continue;
        /* CBC has no integrity: with a parser or any later check as an oracle its plaintext
        ** can be recovered byte by byte (Jager and Somorovsky, 2011). */
        if (!data_algorithms[i].gcm && !allow_cbc)
            return wd_fail(failure, WD_REASON_WEAK_ALGORITHM,
                           "data encryption %.100s is CBC, which is off (decrypt.allow_cbc)", uri);
        *out = &data_algorithms[i];
        return 0;
    }
    return wd_fail(failure, WD_REASON_WEAK_ALGORITHM, "data encryption %.120s is not on the allow-list", uri);
}

/* ---- key transport ---------------------------------------------------------------- */

int wd_xenc_unwrap(EVP_PKEY *key, const wd_xenc_transport *transport, const unsigned char *wrapped,
                   size_t wrapped_length, unsigned char out[WD_XENC_MAX_UNWRAPPED], size_t *out_length)
{
    EVP_PKEY_CTX *context = NULL;
    size_t length = WD_XENC_MAX_UNWRAPPED;
    int result = -1;

    *out_length = 0;
    memset(out, 0, WD_XENC_MAX_UNWRAPPED);
    if (EVP_PKEY_get_size(key) > WD_XENC_MAX_UNWRAPPED)
        return -1;
    context = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (context == NULL || EVP_PKEY_decrypt_init(context) != 1)
        goto done;
    if (transport->oaep) {
        if (EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_OAEP_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_oaep_md_name(context, transport->oaep_digest, NULL) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md_name(context, transport->mgf1_digest, NULL) != 1)
            goto done;
        if (transport->label != NULL && transport->label_length > 0) {
            /* OpenSSL takes ownership of the label it is given */
            unsigned char *label = OPENSSL_memdup(transport->label, transport->label_length);
            if (label == NULL)
                goto done;
            if (EVP_PKEY_CTX_set0_rsa_oaep_label(context, label, (int)transport->label_length) != 1) {
                OPENSSL_free(label);
                goto done;
            }
        }
    } else if (EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) != 1) {
        goto done;
    }
    /* The one answer that depends on the secret: kept as a flag, never explained. */
    if (EVP_PKEY_decrypt(context, out, &length, wrapped, wrapped_length) == 1 && length <= WD_XENC_MAX_UNWRAPPED) {
        *out_length = length;
        result = 1;
    } else {
        memset(out, 0, WD_XENC_MAX_UNWRAPPED);
        result = 0;
    }

done:
    ERR_clear_error();
    EVP_PKEY_CTX_free(context);
    return result;
}

/* 0xff..ff when a == b, else 0, without a branch. */
static unsigned char equal_mask(size_t a, size_t b)
{
    size_t x = a ^ b;
    /* (x | -x) has its top bit set exactly when x != 0 */
    size_t nonzero = (x | (0 - x)) >> (sizeof(size_t) * 8 - 1);
    return (unsigned char)(nonzero - 1);
}

int wd_xenc_session_key(const unsigned char unwrapped[WD_XENC_MAX_UNWRAPPED], size_t unwrapped_length,
                        int unwrap_ok, size_t key_length, unsigned char *key)
{
    unsigned char random[64];

    if (key_length > sizeof random || RAND_bytes(random, (int)key_length) != 1)
        return -1;
    unsigned char take = equal_mask((size_t)(unwrap_ok == 1), 1) & equal_mask(unwrapped_length, key_length);
    for (size_t i = 0; i < key_length; i++)
        key[i] = (unsigned char)((unwrapped[i] & take) | (random[i] & (unsigned char)~take));
    OPENSSL_cleanse(random, sizeof random);
    return take & 1;
}

/* ---- data decryption -------------------------------------------------------------- */

static int decrypt_gcm(EVP_CIPHER_CTX *context, const EVP_CIPHER *cipher, const unsigned char *key,
                       const unsigned char *in, size_t in_length, unsigned char *out, size_t *out_length)
{
    int length = 0, final_length = 0;
    size_t body = in_length - GCM_IV - GCM_TAG;

    if (EVP_DecryptInit_ex2(context, cipher, NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, GCM_IV, NULL) != 1 ||
        EVP_DecryptInit_ex2(context, NULL, key, in, NULL) != 1)
        return -1;
    if (EVP_DecryptUpdate(context, out, &length, in + GCM_IV, (int)body) != 1)
        return -1;
    if (EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, GCM_TAG, (void *)(in + in_length - GCM_TAG)) != 1)
        return -1;
    int ok = EVP_DecryptFinal_ex(context, out + length, &final_length) == 1;
    *out_length = (size_t)length + (size_t)final_length;
    return ok ? 1 : 0;
}

static int decrypt_cbc(EVP_CIPHER_CTX *context, const EVP_CIPHER *cipher, const unsigned char *key,
                       const unsigned char *in, size_t in_length, unsigned char *out, size_t *out_length)
{
    int length = 0, final_length = 0;
    size_t body = in_length - CBC_BLOCK;

    /* OpenSSL's padding is PKCS#7, which checks every padding byte; XML Encryption's (ISO
    ** 10126) leaves them arbitrary, and WSS4J fills them at random. So no padding here,
    ** and the last byte is checked below, in constant time. */
    if (EVP_DecryptInit_ex2(context, cipher, key, in, NULL) != 1 || EVP_CIPHER_CTX_set_padding(context, 0) != 1)
        return -1;
    if (EVP_DecryptUpdate(context, out, &length, in + CBC_BLOCK, (int)body) != 1 ||
        EVP_DecryptFinal_ex(context, out + length, &final_length) != 1)
        return -1;
    size_t total = (size_t)length + (size_t)final_length;
    if (total != body || total == 0)
        return -1;
    size_t pad = out[total - 1];
    /* good = 1 <= pad <= 16, as a mask: (pad - 1) < 16 in unsigned arithmetic */
    size_t in_range = ((pad - 1) >> 4) == 0;
    size_t good_mask = 0 - in_range;
    *out_length = total - (pad & good_mask);
    return (int)in_range;
}

int wd_xenc_decrypt(const wd_xenc_ciphers *ciphers, const wd_xenc_data_algorithm *algorithm,
                    const unsigned char *key, const unsigned char *in, size_t in_length, unsigned char *out,
                    size_t *out_length)
{
    EVP_CIPHER_CTX *context = NULL;
    int result;

    *out_length = 0;
    /* Lengths are public: a ciphertext too short to hold its IV (and tag) or not made of
    ** whole blocks is refused before any key touches it. */
    if (algorithm->gcm ? in_length < GCM_IV + GCM_TAG
                       : in_length < 2 * CBC_BLOCK || in_length % CBC_BLOCK != 0 || in_length > INT32_MAX)
        return 0;
    if (in_length > INT32_MAX)
        return 0;
    context = EVP_CIPHER_CTX_new();
    if (context == NULL)
        return -1;
    const EVP_CIPHER *cipher = ciphers->ciphers[algorithm->id];
    if (algorithm->gcm)
        result = decrypt_gcm(context, cipher, key, in, in_length, out, out_length);
    else
        result = decrypt_cbc(context, cipher, key, in, in_length, out, out_length);
    ERR_clear_error();
    EVP_CIPHER_CTX_free(context);
    return result;
}
