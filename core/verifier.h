/*
** verifier.h — the whole path of one message through the core: safe parse, envelope, ID
** table, WS-Security processing, and the delivered message. A wd_verifier holds what that
** path needs (settings, fetched algorithms, trust store, credentials, replay cache); it is
** immutable after creation and shared by all receiving threads.
*/
#ifndef WD_VERIFIER_H
#define WD_VERIFIER_H

#include <stddef.h>

#include "../include/warden.h"
#include "decrypt.h"
#include "failure.h"
#include "replay_cache.h"
#include "settings.h"
#include "trust_store.h"
#include "users.h"

typedef struct wd_verifier wd_verifier;

/* Makes a verifier. settings is deep-copied. trust and users are taken over (freed with the
** verifier) even on failure; users may be NULL. replay is borrowed: it must outlive the
** verifier (the engine keeps one replay cache across reloads of the trust material). Returns WARDEN_OK or an error
** code with failure filled. */
int wd_verifier_new(const wd_settings *settings, wd_trust_store *trust, wd_users *users,
                    warden_password_fn password_callback, void *password_context,
                    wd_replay_cache *replay, wd_verifier **out, wd_failure *failure);

/* Gives the verifier our key pair for decryption (decrypt.key and decrypt.cert), taken over:
** freed with the verifier. Call before the verifier is shared. */
void wd_verifier_set_recipient(wd_verifier *verifier, wd_recipient *recipient);
/* Gives the verifier what SAML assertions are checked against (before it is shared): issuers
** (the saml.issuers trust store; taken over, freed with the verifier, even on failure; NULL:
** no issuer is trusted), the audiences (copied), max_age (seconds), and the embedder's
** validator (may be NULL). Returns WARDEN_OK or WARDEN_E_NOMEM. */
int wd_verifier_set_saml(wd_verifier *verifier, wd_trust_store *issuers, const char *const *audiences,
                         size_t audience_count, int64_t max_age, warden_saml_validate_fn validate,
                         void *validate_context);

/* Verifies one message (see warden_engine_receive). Returns WARDEN_OK with *out owned by
** the caller, or WARDEN_E_SECURITY / WARDEN_E_NOMEM / WARDEN_E_INTERNAL with failure filled.
** Thread-safe. */
int wd_verifier_receive(wd_verifier *verifier, const void *bytes, size_t length,
                        const warden_receive_options *options, warden_message **out,
                        wd_failure *failure);

void wd_verifier_free(wd_verifier *verifier);

#endif
