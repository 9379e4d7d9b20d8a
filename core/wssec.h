/*
** wssec.h — processing the wsse:Security header addressed to us: first the children whose
** checks are cheap (Timestamp, UsernameToken, BinarySecurityToken), then Signature,
** EncryptedKey and ReferenceList in document order, each at its place, so that a signature
** sees what the decryptions before it put in the document and a decryption after it replaces
** what it verified (an element decrypted into the header is read as it appears); then the
** requirements of the configuration (a token, a Timestamp, the parts a signature must cover
** and those that must arrive encrypted, decided by node identity; in a signed message the
** UsernameToken as well), then replay detection (nonces; signatures by canonical SignedInfo
** and signer). Fills the message's security properties.
*/
#ifndef WD_WSSEC_H
#define WD_WSSEC_H

#include <stdint.h>

#include "crypto.h"
#include "decrypt.h"
#include "envelope.h"
#include "failure.h"
#include "ids.h"
#include "message.h"
#include "replay_cache.h"
#include "saml.h"
#include "settings.h"
#include "trust_store.h"
#include "users.h"

typedef struct wd_wssec_context {
    const wd_settings    *settings;
    const wd_crypto      *crypto;
    wd_trust_store       *trust;
    const wd_credentials *credentials;
    wd_replay_cache      *replay;
    int64_t               now;
    size_t                message_bytes; /* the received message's size, for the c14n budget */
    const wd_saml_context *saml;          /* issuers, audiences, validator (its now and skew set) */
    const wd_recipient   *recipient;     /* our key pair (decrypt.key); NULL: nothing decrypts */
} wd_wssec_context;

/* Most children of one Security header; more is limit-exceeded. It also bounds
** limits.signatures, the most ds:Signature elements in one Security header. */
#define WD_WSSEC_MAX_CHILDREN 64

/* Runs security processing on a read envelope whose IDs are in ids, and fills message's
** protection level, username, timestamp, tokens, signed and encrypted parts. Decryption
** changes the document (the plaintext replaces each EncryptedData) and ids with it; the
** envelope's Header, Body and Security pointers stay valid, its operation and WS-Addressing
** pointers may not (the caller reads the envelope again when message->decrypted). Returns 0
** when every check passed; -1 with failure filled otherwise (message then holds partial
** results and must be freed, never delivered). Replay caches are written only after every
** other check passed, so a rejected message cannot poison a nonce. */
int wd_wssec_process(const wd_wssec_context *context, const wd_envelope *envelope,
                     wd_id_table *ids, warden_message *message, wd_failure *failure);

#endif
