/*
** username_token.c — everything about wsse:UsernameToken (WSS UsernameToken Profile 1.0/1.1):
** its form, the PasswordText and PasswordDigest checks, done in constant time, and the
** freshness of its Created. Nonce replay is the caller's: it owns the replay cache.
*/
#include "username_token.h"

#include "timestamp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../include/warden.h"
#include "base64.h"
#include "namespaces.h"
#include "time_text.h"
#include "xml_text.h"

#define SHA1_LENGTH 20

static bool is_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_whitespace_only(const xmlChar *text)
{
    for (; text != NULL && *text != '\0'; text++) {
        if (!is_xml_space((char)*text))
            return false;
    }
    return true;
}


/* wd_xml_text with its two ways of failing told apart. */
static int read_text(const xmlNode *element, bool trim, const char *what, char **out, size_t *length,
                     wd_failure *failure)
{
    *length = 0;
    *out = wd_xml_text(element, trim, length);
    if (*out != NULL)
        return 0;
    if (*length == SIZE_MAX)
        return wd_fail(failure, WD_REASON_MALFORMED, "UsernameToken %s holds more than text", what);
    return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory reading UsernameToken %s", what);
}

static int read_password(const xmlNode *element, wd_username_token *out, wd_failure *failure)
{
    const char *type = wd_xml_attr(element, NULL, "Type");

    if (type == NULL || strcmp(type, WD_WSS_PASSWORD_TEXT) == 0)
        out->password_type = WD_PASSWORD_TEXT; /* WSS 1.1: no Type means PasswordText */
    else if (strcmp(type, WD_WSS_PASSWORD_DIGEST) == 0)
        out->password_type = WD_PASSWORD_DIGEST;
    else
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "UsernameToken Password Type \"%.100s\" is not supported",
                       type);
    /* Not trimmed: spaces may be part of a PasswordText; a digest's base64 skips them anyway. */
    return read_text(element, false, "Password", &out->password, &out->password_length, failure);
}

static int read_nonce(const xmlNode *element, wd_username_token *out, wd_failure *failure)
{
    const char *encoding = wd_xml_attr(element, NULL, "EncodingType");
    char       *text = NULL;
    size_t      text_length = 0;
    int         result = -1;

    if (encoding != NULL && strcmp(encoding, WD_WSS_BASE64) != 0)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED,
                       "UsernameToken Nonce EncodingType \"%.100s\" is not supported", encoding);
    if (read_text(element, true, "Nonce", &text, &text_length, failure) != 0)
        return -1;
    out->nonce = wd_base64_decode(text, text_length, &out->nonce_length);
    if (out->nonce == NULL) {
        wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "UsernameToken Nonce is not base64");
        goto done;
    }
    /* An empty nonce makes every digest of the same password and Created alike: no nonce. */
    if (out->nonce_length == 0) {
        wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "UsernameToken Nonce is empty");
        goto done;
    }
    result = 0;

done:
    free(text);
    return result;
}

/* The digest covers Created exactly as sent, so the text is kept where it is in the
** document; that needs it to be one text node. */
static int read_created(const xmlNode *element, wd_username_token *out, wd_failure *failure)
{
    const xmlNode *text = element->children;
    const char    *start;
    size_t         length;

    if (text == NULL || text->next != NULL || text->type != XML_TEXT_NODE || text->content == NULL)
        return wd_fail(failure, WD_REASON_TIMESTAMP_INVALID, "UsernameToken Created is not a single text");
    out->created_text = (const char *)text->content;
    out->created_text_length = strlen(out->created_text);

    start = out->created_text;
    length = out->created_text_length;
    while (length > 0 && is_xml_space(*start)) {
        start++;
        length--;
    }
    while (length > 0 && is_xml_space(start[length - 1]))
        length--;
    /* Offsets are fine here (zeep writes "+00:00"): the UsernameToken profile does not
    ** restrict Created to 'Z' as the BSP does for wsu:Timestamp. */
    if (wd_time_parse(start, length, 0, &out->created) != 0)
        return wd_fail(failure, WD_REASON_TIMESTAMP_INVALID,
                       "UsernameToken Created \"%.*s\" is not an xsd:dateTime with a zone",
                       (int)(length > 40 ? 40 : length), start);
    out->has_created = true;
    return 0;
}

int wd_username_token_read(xmlNode *element, wd_username_token *out, wd_failure *failure)
{
    int username_count = 0, password_count = 0, nonce_count = 0, created_count = 0;
    int result = -1;

    if (out == NULL)
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "wd_username_token_read without a result");
    memset(out, 0, sizeof *out);
    if (!wd_xml_is(element, WD_NS_WSSE, "UsernameToken"))
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "not a wsse:UsernameToken element");
    out->node = element;

    for (const xmlNode *child = element->children; child != NULL; child = child->next) {
        if (child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE) {
            if (!is_whitespace_only(child->content)) {
                wd_fail(failure, WD_REASON_MALFORMED, "UsernameToken holds text between its elements");
                goto done;
            }
            continue;
        }
        if (child->type != XML_ELEMENT_NODE)
            continue;

        if (wd_xml_is(child, WD_NS_WSSE, "Username")) {
            if (++username_count > 1) {
                wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "UsernameToken has more than one Username");
                goto done;
            }
            if (read_text(child, true, "Username", &out->username, &out->username_length, failure) != 0)
                goto done;
            if (out->username_length == 0) {
                wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "UsernameToken Username is empty");
                goto done;
            }
        } else if (wd_xml_is(child, WD_NS_WSSE, "Password")) {
            if (++password_count > 1) {
                wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "UsernameToken has more than one Password");
                goto done;
            }
            if (read_password(child, out, failure) != 0)
                goto done;
        } else if (wd_xml_is(child, WD_NS_WSSE, "Nonce")) {
            if (++nonce_count > 1) {
                wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "UsernameToken has more than one Nonce");
                goto done;
            }
            if (read_nonce(child, out, failure) != 0)
                goto done;
        } else if (wd_xml_is(child, WD_NS_WSU, "Created") || wd_xml_is(child, WD_NS_WSSE, "Created")) {
            /* The profile puts Created in wsu; some clients write it in wsse. Either is the
            ** same Created, so one of each is two. */
            if (++created_count > 1) {
                wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "UsernameToken has more than one Created");
                goto done;
            }
            if (read_created(child, out, failure) != 0)
                goto done;
        } else {
            /* Fail closed: wsse11:Salt / Iteration (derived keys) and anything else change
            ** what the token means, and we would be ignoring it. */
            wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "UsernameToken element %.80s is not supported",
                    child->name != NULL ? (const char *)child->name : "?");
            goto done;
        }
    }

    if (username_count == 0) {
        wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "UsernameToken has no Username");
        goto done;
    }
    if (password_count == 0) {
        wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "UsernameToken has no Password");
        goto done;
    }
    result = 0;

done:
    if (result != 0)
        wd_username_token_clear(out);
    return result;
}

static int check_text_password(const wd_username_token *token, const char *password, size_t password_length,
                               const char *shown, wd_failure *failure)
{
    unsigned char given[EVP_MAX_MD_SIZE], expected[EVP_MAX_MD_SIZE];
    unsigned int  given_length = 0, expected_length = 0;
    int           result = -1;

    /* Comparing hashes takes the same time whatever the lengths and wherever they differ. */
    if (!EVP_Digest(token->password, token->password_length, given, &given_length, EVP_sha256(), NULL)
        || !EVP_Digest(password, password_length, expected, &expected_length, EVP_sha256(), NULL)) {
        wd_fail_internal(failure, WARDEN_E_INTERNAL, "SHA-256 failed");
        goto done;
    }
    if (given_length != expected_length || CRYPTO_memcmp(given, expected, given_length) != 0) {
        wd_fail(failure, WD_REASON_PASSWORD_INVALID, "wrong password for user \"%s\"", shown);
        goto done;
    }
    result = 0;

done:
    OPENSSL_cleanse(given, sizeof given);
    OPENSSL_cleanse(expected, sizeof expected);
    return result;
}

static int check_digest_password(const wd_username_token *token, const char *password, size_t password_length,
                                 const char *shown, wd_failure *failure)
{
    unsigned char  expected[EVP_MAX_MD_SIZE];
    unsigned int   expected_length = 0;
    unsigned char *given = NULL;
    size_t         given_length = 0;
    EVP_MD_CTX    *context = NULL;
    int            result = -1;

    if (token->nonce == NULL || token->created_text == NULL) {
        wd_fail(failure, WD_REASON_PASSWORD_INVALID, "PasswordDigest without Nonce or Created");
        goto done;
    }
    given = wd_base64_decode(token->password, token->password_length, &given_length);
    if (given == NULL || given_length != SHA1_LENGTH) {
        wd_fail(failure, WD_REASON_PASSWORD_INVALID, "PasswordDigest of user \"%s\" is not a base64 SHA-1 value",
                shown);
        goto done;
    }
    context = EVP_MD_CTX_new();
    if (context == NULL) {
        wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory computing PasswordDigest");
        goto done;
    }
    if (!EVP_DigestInit_ex(context, EVP_sha1(), NULL)
        || !EVP_DigestUpdate(context, token->nonce, token->nonce_length)
        || !EVP_DigestUpdate(context, token->created_text, token->created_text_length)
        || !EVP_DigestUpdate(context, password, password_length)
        || !EVP_DigestFinal_ex(context, expected, &expected_length) || expected_length != SHA1_LENGTH) {
        wd_fail_internal(failure, WARDEN_E_INTERNAL, "SHA-1 failed computing PasswordDigest");
        goto done;
    }
    if (CRYPTO_memcmp(given, expected, SHA1_LENGTH) != 0) {
        wd_fail(failure, WD_REASON_PASSWORD_INVALID, "wrong password digest for user \"%s\"", shown);
        goto done;
    }
    result = 0;

done:
    EVP_MD_CTX_free(context);
    OPENSSL_cleanse(expected, sizeof expected);
    free(given);
    return result;
}

/* Without Nonce and Created a token is the same bytes every time: captured once, it is good
** until the password changes. Checked before the password, so that such a token tells nothing
** about it either. */
static int check_replay_protection(const wd_username_token *token, const wd_settings *settings,
                                   wd_failure *failure)
{
    if (!settings->require_nonce)
        return 0;
    if (!token->has_created)
        return wd_fail(failure, WD_REASON_TIMESTAMP_MISSING,
                       "UsernameToken has no Created (required by username.require_nonce)");
    if (token->nonce == NULL)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED,
                       "UsernameToken has no Nonce (required by username.require_nonce)");
    return 0;
}

static int check_created(const wd_username_token *token, int64_t now, const wd_settings *settings,
                         wd_failure *failure)
{
    if (!token->has_created)
        return 0;
    return wd_timestamp_check_created("UsernameToken", token->created, now, settings, failure);
}

int wd_username_token_verify(const wd_username_token *token, const wd_credentials *credentials,
                             int64_t now, const wd_settings *settings, wd_failure *failure)
{
    char   password[WD_PASSWORD_CAPACITY];
    size_t password_length = 0;
    char   shown[68];
    int    result = -1;

    if (token == NULL || token->username == NULL || token->password == NULL || credentials == NULL
        || settings == NULL)
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "wd_username_token_verify: missing argument");
    wd_users_printable_name(token->username, token->username_length, shown);

    if (check_replay_protection(token, settings, failure) != 0)
        goto done;
    if (wd_credentials_lookup(credentials, token->username, token->username_length, password, &password_length,
                              failure) != 0)
        goto done;
    if (token->password_type == WD_PASSWORD_DIGEST) {
        if (check_digest_password(token, password, password_length, shown, failure) != 0)
            goto done;
    } else if (token->password_type == WD_PASSWORD_TEXT) {
        if (check_text_password(token, password, password_length, shown, failure) != 0)
            goto done;
    } else {
        wd_fail_internal(failure, WARDEN_E_INTERNAL, "UsernameToken has no password type");
        goto done;
    }
    if (check_created(token, now, settings, failure) != 0)
        goto done;
    result = 0;

done:
    OPENSSL_cleanse(password, sizeof password);
    return result;
}

void wd_username_token_clear(wd_username_token *token)
{
    if (token == NULL)
        return;
    free(token->username);
    if (token->password != NULL) {
        OPENSSL_cleanse(token->password, token->password_length);
        free(token->password);
    }
    free(token->nonce);
    memset(token, 0, sizeof *token);
}
