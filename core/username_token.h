/*
** username_token.h — everything about wsse:UsernameToken: its form, PasswordText and
** PasswordDigest checks in constant time, and the freshness of its Created.
*/
#ifndef WD_USERNAME_TOKEN_H
#define WD_USERNAME_TOKEN_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "failure.h"
#include "settings.h"
#include "users.h"

typedef enum wd_password_type { WD_PASSWORD_TEXT = 1, WD_PASSWORD_DIGEST = 2 } wd_password_type;

typedef struct wd_username_token {
    xmlNode         *node;
    char            *username;       /* malloc'd, owned */
    size_t           username_length;
    wd_password_type password_type;
    char            *password;       /* malloc'd, owned: the text, or the base64 digest as sent */
    size_t           password_length;
    unsigned char   *nonce;          /* malloc'd, owned, decoded; NULL when absent */
    size_t           nonce_length;
    int64_t          created;        /* meaningful when has_created */
    bool             has_created;
    const char      *created_text;   /* points into the document (digest input is the text as sent) */
    size_t           created_text_length;
} wd_username_token;

/* Reads a wsse:UsernameToken. Rejections: token-unsupported (no Username, a Password Type
** that is neither PasswordText nor PasswordDigest, no Password, a Nonce EncodingType other
** than Base64Binary, an empty Nonce, more than one Username/Password/Nonce/Created),
** timestamp-invalid (Created not an xsd:dateTime with zone), malformed (username text with
** comments or elements). A missing Password Type means PasswordText (WSS 1.1). Whether
** Nonce and Created had to be there is wd_username_token_verify's question. On failure *out
** is left cleared. */
int wd_username_token_read(xmlNode *element, wd_username_token *out, wd_failure *failure);

/* Checks, in this order: Nonce and Created present when settings->require_nonce
** (timestamp-missing without Created, then token-unsupported without Nonce); the password
** against credentials: user-unknown, password-invalid (compared in constant time; digest =
** Base64(SHA-1(nonce ‖ created ‖ password)); a PasswordDigest without Nonce or Created);
** Created against the clock: timestamp-expired / timestamp-future (older than ttl or ahead by
** more than future_ttl). */
int wd_username_token_verify(const wd_username_token *token, const wd_credentials *credentials,
                             int64_t now, const wd_settings *settings, wd_failure *failure);

/* Frees what the token owns (wiping the password) and zeroes it. */
void wd_username_token_clear(wd_username_token *token);

#endif
