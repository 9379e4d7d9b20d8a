/*
** test_encryptor.h — encrypted requests for the tests and the fuzz seeds: AES-GCM and AES-CBC
** (XML Encryption's padding) and RSA-OAEP key transport (SHA-256, MGF1-SHA-256: xmlenc11
** rsa-oaep, which no producer installed here writes) made with OpenSSL, for the service key
** pair of the test PKI (server-enc.pem). A failing OpenSSL call aborts.
*/
#ifndef WARDEN_TEST_ENCRYPTOR_H
#define WARDEN_TEST_ENCRYPTOR_H

#include <openssl/evp.h>
#include <stddef.h>

/* <ord:CreateOrder> with an amount: the plaintext of most encrypted test Bodies. */
extern const char tx_order[];

/* IV ‖ ciphertext ‖ tag of plain under key (16 or 32 bytes) with AES-GCM; returns the length. */
size_t tx_gcm_encrypt(const unsigned char *key, size_t key_length, const unsigned char *plain, size_t length,
                      unsigned char *out);

/* IV ‖ AES-128-CBC ciphertext of plain padded the XML Encryption way (pad_fill bytes, then
** pad_count); returns the length. plain is at most 200 bytes. */
size_t tx_cbc_encrypt(const unsigned char *key, const unsigned char *plain, size_t length, unsigned char pad_count,
                      unsigned char pad_fill, unsigned char *out);

/* The public key of a certificate, or the private key, of the test PKI (caller frees). */
EVP_PKEY *tx_load_key(const char *name, int private_key);

/* key wrapped with RSA-OAEP (SHA-256, MGF1-SHA-256) and label (NULL: none); returns the length. */
size_t tx_oaep_wrap(EVP_PKEY *public_key, const unsigned char *key, size_t key_length, const char *label,
                    unsigned char *out);

/* A request whose Body content is plaintext, encrypted with AES-128-GCM under a key wrapped by
** xmlenc11 rsa-oaep for server-enc.pem, named by its thumbprint, through an EncryptedKey with a
** ReferenceList; label: the OAEPparams (NULL: none); extra_body: XML after the EncryptedData
** in the Body (NULL: none). malloc'd. */
char *tx_encrypted_message(const char *label, const char *plaintext, const char *extra_body);

#endif
