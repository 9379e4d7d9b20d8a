/*
** decrypt.h — XML Encryption in the wsse:Security header: our key pair (decrypt.key and
** decrypt.cert), xenc:EncryptedKey (RSA key transport to our certificate), xenc:ReferenceList
** and DataReference (inside an EncryptedKey or on their own), xenc:EncryptedData and
** wsse11:EncryptedHeader. The plaintext takes the EncryptedData's place in the document, its
** IDs join the message's ID table, and what was replaced is kept aside until processing ends,
** so that nothing a signature result points at is ever freed under it.
**
** Every failure of the decryption itself — the key transport, the cipher, the padding, the
** plaintext not parsing or not fitting where it goes — is decrypt-failed with one fixed
** detail; the cause goes to wd_failure.cause, which only the engine's log shows (an answer
** that said which step failed would be the oracle of the Bleichenbacher and Jager-Somorovsky
** attacks). Structural problems a sender can see for himself (an unknown algorithm, a
** reference to nothing) keep their own reasons.
*/
#ifndef WD_DECRYPT_H
#define WD_DECRYPT_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

#include "cert.h"
#include "envelope.h"
#include "failure.h"
#include "ids.h"
#include "settings.h"
#include "trust_store.h"
#include "xenc_cipher.h"

/* The one detail every decrypt-failed rejection carries. */
#define WD_DECRYPT_FAILED_TEXT "the message could not be decrypted"

/* Our key pair: immutable once loaded, shared by every receiving thread. */
typedef struct wd_recipient wd_recipient;

/* Loads decrypt.key (a PEM private key, RSA) and decrypt.cert (PEM; its first certificate is
** ours and must hold the key's public half). *out is owned by the caller (wd_recipient_free).
** Returns WARDEN_OK, WARDEN_E_IO (unreadable), WARDEN_E_CONFIG (not PEM, not RSA, a key that
** is not the certificate's), WARDEN_E_NOMEM, WARDEN_E_INTERNAL; message says why. */
int wd_recipient_load(const char *key_path, const char *cert_path, wd_recipient **out, char *message,
                      size_t capacity);
void wd_recipient_free(wd_recipient *recipient);

/* Whether cert is our certificate (by the SHA-256 of its DER). */
bool wd_recipient_owns(const wd_recipient *recipient, const wd_cert *cert);

/* Most EncryptedData decrypted in one message, and most EncryptedKeys unwrapped: each costs
** a private-key operation the sender gets for free, and a client encrypts for us once or twice.
** More is limit-exceeded. */
#define WD_DECRYPT_MAX 64
#define WD_DECRYPT_MAX_KEYS 8
/* Most namespace declarations in scope where a plaintext goes: the plaintext is parsed inside
** a wrapper that declares each of them, and both the gathering (libxml2's xmlGetNsList) and the
** wrapper's parse cost their square. Real messages have a few dozen. More is limit-exceeded. */
#define WD_DECRYPT_MAX_NAMESPACES 512

/* One decryption done: replaced is out of the document (freed by wd_decryption_clear). */
typedef struct wd_decrypted {
    xmlNode *replaced;   /* the EncryptedData, or the wsse11:EncryptedHeader around it */
    xmlNode *parent;     /* where the plaintext went */
    xmlNode *element;    /* Type Element: the decrypted element; Content: NULL */
    size_t   inserted_first, inserted_end; /* its elements in wd_decryption.inserted, sorted by
                                           ** address so that a look-up costs a binary search */
} wd_decrypted;

typedef struct wd_unwrapped_key wd_unwrapped_key;

/* The decryption state of one message. */
typedef struct wd_decryption {
    const wd_recipient *recipient;   /* NULL: no decrypt.key configured (every decryption fails) */
    const wd_settings  *settings;
    wd_id_table        *ids;
    const wd_envelope  *envelope;
    wd_unwrapped_key   *keys;        /* malloc'd, WD_DECRYPT_MAX_KEYS at most */
    size_t              key_count;
    size_t              unwrap_count; /* private-key operations so far (embedded EncryptedKeys too) */
    wd_decrypted        done[WD_DECRYPT_MAX];
    size_t              done_count;
    xmlNode           **inserted;    /* malloc'd: every element a decryption put in the document */
    size_t              inserted_count, inserted_capacity;
} wd_decryption;

void wd_decryption_init(wd_decryption *decryption, const wd_recipient *recipient, const wd_settings *settings,
                        wd_id_table *ids, const wd_envelope *envelope);

/* An xenc:EncryptedKey child of the Security header: checks that it is for us, unwraps it
** (a wrong key is not known until a decryption with it fails), then decrypts what its
** ReferenceList names. Rejections: decrypt-failed; weak-algorithm (RSA-1.5 without
** decrypt.allow_rsa15, an unknown transport or data algorithm, CBC without
** decrypt.allow_cbc); token-unsupported (a structure or key identifier not supported);
** reference-invalid (a DataReference to no element, to something that is not encrypted data,
** or to encrypted data outside the Body and the headers); duplicate-id, limit-exceeded. */
int wd_decrypt_encrypted_key(wd_decryption *decryption, xmlNode *encrypted_key, wd_failure *failure);

/* A standalone xenc:ReferenceList of the Security header: each EncryptedData it names finds
** its key through its own KeyInfo (a SecurityTokenReference to an EncryptedKey read earlier
** in the header, or an EncryptedKey inside it). Same rejections. */
int wd_decrypt_reference_list(wd_decryption *decryption, xmlNode *reference_list, wd_failure *failure);

/* After the header: nothing encrypted may be left where a policy reads (an EncryptedData in
** the Body or among the Security header's children: decrypt-failed), and an EncryptedHeader
** left with mustUnderstand for us is mustunderstand. */
int wd_decrypt_check_leftovers(const wd_decryption *decryption, wd_failure *failure);

/* Whether element is one a decryption put in the document (top-level of a plaintext). A
** binary search per decryption: callers ask it for every child of the Body, which a single
** plaintext can fill with hundreds of thousands of elements. */
bool wd_decryption_inserted(const wd_decryption *decryption, const xmlNode *element);

/* Frees what was replaced and the keys (cleansed). */
void wd_decryption_clear(wd_decryption *decryption);

#endif
