/*
** xenc_cipher.h — the XML Encryption primitives, over OpenSSL EVP: the data algorithms
** (AES-GCM; AES-CBC with XML Encryption's padding) and RSA key transport (OAEP, PKCS#1 v1.5).
** They are written for a receiver that must not become an oracle: a failure leaves a flag
** and costs the work a success costs, so the caller can carry on to the same end whatever
** went wrong and decide only there (decrypt.c).
*/
#ifndef WD_XENC_CIPHER_H
#define WD_XENC_CIPHER_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

#include "failure.h"

typedef enum wd_xenc_data_id {
    WD_XENC_DATA_AES128_GCM = 0,
    WD_XENC_DATA_AES192_GCM,
    WD_XENC_DATA_AES256_GCM,
    WD_XENC_DATA_AES128_CBC,
    WD_XENC_DATA_AES192_CBC,
    WD_XENC_DATA_AES256_CBC,
    WD_XENC_DATA_COUNT
} wd_xenc_data_id;

typedef struct wd_xenc_data_algorithm {
    const char     *uri;
    wd_xenc_data_id id;
    size_t          key_length;  /* bytes */
    bool            gcm;         /* else CBC */
} wd_xenc_data_algorithm;

/* The ciphers, fetched once per recipient and shared read-only by every thread. */
typedef struct wd_xenc_ciphers {
    EVP_CIPHER *ciphers[WD_XENC_DATA_COUNT];
} wd_xenc_ciphers;

/* Fetches the ciphers. Returns 0 or -1 (internal-error). */
int  wd_xenc_ciphers_init(wd_xenc_ciphers *ciphers, wd_failure *failure);
void wd_xenc_ciphers_clear(wd_xenc_ciphers *ciphers);

/* Looks up an EncryptedData EncryptionMethod URI: AES-128/192/256-GCM (xmlenc11), and the
** AES-CBC ones only with allow_cbc. Anything else (CBC without allow_cbc, Triple DES, key
** wrap URIs, unknown): weak-algorithm. */
int wd_xenc_data_algorithm_find(const char *uri, bool allow_cbc, const wd_xenc_data_algorithm **out,
                                wd_failure *failure);

/* The RSA key transport of an EncryptedKey, as read from its EncryptionMethod. */
typedef struct wd_xenc_transport {
    bool                 oaep;          /* else PKCS#1 v1.5 */
    const char          *oaep_digest;   /* OpenSSL digest names ("SHA1", "SHA256", ...) */
    const char          *mgf1_digest;
    const unsigned char *label;         /* OAEPparams, borrowed; NULL: none */
    size_t               label_length;
} wd_xenc_transport;

/* The most bytes an unwrapped key may have: a 4096-bit modulus' worth. */
#define WD_XENC_MAX_UNWRAPPED 512

/* Unwraps wrapped with key (an RSA private key) into out (WD_XENC_MAX_UNWRAPPED bytes).
** Returns 1 when the padding was right (*out_length set), 0 when it was not (*out_length 0;
** the OpenSSL error queue is cleared), -1 when the unwrap could not even run (allocation,
** a key that is not RSA: internal). Never says why a padding was wrong. */
int wd_xenc_unwrap(EVP_PKEY *key, const wd_xenc_transport *transport, const unsigned char *wrapped,
                   size_t wrapped_length, unsigned char out[WD_XENC_MAX_UNWRAPPED], size_t *out_length);

/* The data key to use, in constant time: the unwrapped bytes when unwrap_ok and they are
** key_length long, else key_length random bytes (WSS4J and Santuario do the same, so that a
** wrong key costs a decryption that fails like any other). Returns 1 when the real key was
** taken, 0 when the random one was, -1 when no random bytes could be had. */
int wd_xenc_session_key(const unsigned char unwrapped[WD_XENC_MAX_UNWRAPPED], size_t unwrapped_length,
                        int unwrap_ok, size_t key_length, unsigned char *key);

/* Decrypts in (IV ‖ ciphertext [‖ tag]) with the algorithm and key into out (capacity at
** least in_length). GCM: a 12-byte IV and a 16-byte tag. CBC: a 16-byte IV, whole blocks,
** XML Encryption's padding (the last byte counts the padding bytes, 1..16; the others are
** arbitrary), checked in constant time. *out_length is the plaintext length, or a length
** within in_length when it failed. Returns 1 when the ciphertext authenticated (GCM) or
** its padding was right (CBC), 0 otherwise, -1 on an internal error. */
int wd_xenc_decrypt(const wd_xenc_ciphers *ciphers, const wd_xenc_data_algorithm *algorithm,
                    const unsigned char *key, const unsigned char *in, size_t in_length, unsigned char *out,
                    size_t *out_length);

#endif
