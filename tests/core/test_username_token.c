/*
** test_username_token.c — wsse:UsernameToken form, PasswordText / PasswordDigest checks and
** Created freshness (core/username_token.c). Digests are computed here independently, with
** OpenSSL's one-shot SHA1 and EVP_EncodeBlock, as a client would.
*/
#include <check.h>
#include <libxml/parser.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/namespaces.h"
#include "core/username_token.h"
#include "include/warden.h"
#include "test_run.h"

#define CREATED_TEXT "2026-11-25T12:00:00Z"
#define CREATED_OFFSET_TEXT "2026-11-25T12:00:00+00:00" /* zeep's form */
#define CREATED 1795608000
#define PINNED_NOW 1795608030 /* 2026-11-25T12:00:30Z */

/* 16 bytes, as zeep and WSS4J make them. */
static const unsigned char client_nonce[16] = { 0x6b, 0x1f, 0x93, 0x00, 0xfe, 0x42, 0x17, 0x88,
                                                 0x0d, 0xa5, 0x5a, 0xc3, 0x21, 0x7e, 0xe9, 0x04 };

static xmlDocPtr current_document;

static void free_document(void)
{
    xmlFreeDoc(current_document);
    current_document = NULL;
}

static void base64(const unsigned char *data, size_t length, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, data, (int)length);
}

/* Base64(SHA-1(nonce ‖ created ‖ password)), the UsernameToken Profile's PasswordDigest. */
static void client_digest(const unsigned char *nonce, size_t nonce_length, const char *created,
                          const char *password, char out[64])
{
    unsigned char input[512], digest[SHA_DIGEST_LENGTH];
    size_t        length = 0;
    memcpy(input, nonce, nonce_length);
    length += nonce_length;
    memcpy(input + length, created, strlen(created));
    length += strlen(created);
    memcpy(input + length, password, strlen(password));
    length += strlen(password);
    SHA1(input, length, digest);
    base64(digest, sizeof digest, out);
}

/* Parses <wsse:UsernameToken>inner</wsse:UsernameToken> into current_document (freed by the
** fixture) and reads it. */
static int read_inner(const char *inner, wd_username_token *token, wd_failure *failure)
{
    char xml[4096];
    snprintf(xml, sizeof xml,
             "<wsse:UsernameToken xmlns:wsse=\"" WD_NS_WSSE "\" xmlns:wsu=\"" WD_NS_WSU "\" wsu:Id=\"UT-1\">%s"
             "</wsse:UsernameToken>",
             inner);
    free_document();
    current_document = xmlReadMemory(xml, (int)strlen(xml), "ut.xml", NULL, XML_PARSE_NONET);
    ck_assert_msg(current_document != NULL, "test XML does not parse: %s", xml);
    memset(failure, 0, sizeof *failure);
    return wd_username_token_read(xmlDocGetRootElement(current_document), token, failure);
}

/* A PasswordDigest token as a client sends it, with its digest computed over digest_created
** and digest_password (which a test may make differ from what is sent). */
static int read_digest_token(const char *username, const char *sent_created, const char *digest_created,
                             const char *digest_password, wd_username_token *token, wd_failure *failure)
{
    char nonce_text[64], digest[64], inner[2048];
    base64(client_nonce, sizeof client_nonce, nonce_text);
    client_digest(client_nonce, sizeof client_nonce, digest_created, digest_password, digest);
    snprintf(inner, sizeof inner,
             "<wsse:Username>%s</wsse:Username>"
             "<wsse:Password Type=\"" WD_WSS_PASSWORD_DIGEST "\">%s</wsse:Password>"
             "<wsse:Nonce EncodingType=\"" WD_WSS_BASE64 "\">%s</wsse:Nonce>"
             "<wsu:Created>%s</wsu:Created>",
             username, digest, nonce_text, sent_created);
    return read_inner(inner, token, failure);
}

static int read_text_token(const char *username, const char *password, wd_username_token *token,
                           wd_failure *failure)
{
    char inner[2048];
    snprintf(inner, sizeof inner,
             "<wsse:Username>%s</wsse:Username>"
             "<wsse:Password Type=\"" WD_WSS_PASSWORD_TEXT "\">%s</wsse:Password>"
             "<wsse:Nonce>ax+TAP5CF4gNpVrDIX7pBA==</wsse:Nonce>"
             "<wsu:Created>" CREATED_TEXT "</wsu:Created>",
             username, password);
    return read_inner(inner, token, failure);
}

static wd_users *load_pki_users(void)
{
    char        path[4096];
    const char *pki = getenv("WARDEN_TEST_PKI");
    wd_users   *users = NULL;
    ck_assert_msg(pki != NULL, "WARDEN_TEST_PKI is not set");
    snprintf(path, sizeof path, "%s/users.txt", pki);
    ck_assert_int_eq(wd_users_load(path, &users, NULL, 0), WARDEN_OK);
    return users;
}

/* Verifies against the PKI's users file at time now with the default settings, or with
** username.require_nonce = false. */
static int verify_with(const wd_username_token *token, int64_t now, bool require_nonce, wd_failure *failure)
{
    wd_users      *users = load_pki_users();
    wd_credentials credentials = { users, NULL, NULL };
    wd_settings    settings;
    wd_settings_defaults(&settings);
    settings.require_nonce = require_nonce;
    memset(failure, 0, sizeof *failure);
    int result = wd_username_token_verify(token, &credentials, now, &settings, failure);
    wd_users_free(users);
    return result;
}

static int verify_at(const wd_username_token *token, int64_t now, wd_failure *failure)
{
    return verify_with(token, now, true, failure);
}

/* Reads inner, which must read, and verifies it; returns the reason's name ("none" when
** delivered). */
static const char *verify_reason(const char *inner, bool require_nonce)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_msg(read_inner(inner, &token, &failure) == 0, "%s: %s", wd_reason_name(failure.reason), failure.detail);
    int result = verify_with(&token, PINNED_NOW, require_nonce, &failure);
    wd_username_token_clear(&token);
    return result == 0 ? "none" : wd_reason_name(failure.reason);
}

static void assert_read_rejected(const char *inner, const char *reason)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_inner(inner, &token, &failure), -1);
    ck_assert_msg(strcmp(wd_reason_name(failure.reason), reason) == 0, "expected %s, got %s (%s) for %s", reason,
                  wd_reason_name(failure.reason), failure.detail, inner);
    /* On failure the token is left cleared. */
    ck_assert_ptr_null(token.node);
    ck_assert_ptr_null(token.username);
    ck_assert_ptr_null(token.password);
    ck_assert_ptr_null(token.nonce);
    ck_assert(!token.has_created);
}

#define USERNAME "<wsse:Username>alice</wsse:Username>"
#define TEXT_PASSWORD "<wsse:Password Type=\"" WD_WSS_PASSWORD_TEXT "\">secret</wsse:Password>"
#define DIGEST_PASSWORD "<wsse:Password Type=\"" WD_WSS_PASSWORD_DIGEST "\">AAAAAAAAAAAAAAAAAAAAAAAAAAA=</wsse:Password>"
#define NONCE "<wsse:Nonce>ax+TAP5CF4gNpVrDIX7pBA==</wsse:Nonce>"
#define WSU_CREATED "<wsu:Created>" CREATED_TEXT "</wsu:Created>"

/* ---- PasswordDigest --------------------------------------------------------------------- */

START_TEST(digest_from_a_client_verifies)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_digest_token("alice", CREATED_TEXT, CREATED_TEXT, "secret", &token, &failure), 0);
    ck_assert_int_eq(token.password_type, WD_PASSWORD_DIGEST);
    ck_assert_str_eq(token.username, "alice");
    ck_assert_uint_eq(token.username_length, 5);
    ck_assert_uint_eq(token.nonce_length, 16);
    ck_assert_int_eq(memcmp(token.nonce, client_nonce, 16), 0);
    ck_assert(token.has_created);
    ck_assert_int_eq(token.created, CREATED);
    ck_assert_ptr_eq(token.node, xmlDocGetRootElement(current_document));
    ck_assert_int_eq(verify_at(&token, PINNED_NOW, &failure), 0);
    wd_username_token_clear(&token);
}
END_TEST

START_TEST(digest_over_created_with_offset_verifies)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_digest_token("alice", CREATED_OFFSET_TEXT, CREATED_OFFSET_TEXT, "secret", &token, &failure),
                     0);
    ck_assert_int_eq(token.created, CREATED);
    ck_assert_uint_eq(token.created_text_length, strlen(CREATED_OFFSET_TEXT));
    ck_assert_int_eq(memcmp(token.created_text, CREATED_OFFSET_TEXT, token.created_text_length), 0);
    ck_assert_int_eq(verify_at(&token, PINNED_NOW, &failure), 0);
    wd_username_token_clear(&token);
}
END_TEST

START_TEST(digest_with_wrong_password_is_rejected)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_digest_token("alice", CREATED_TEXT, CREATED_TEXT, "hunter2", &token, &failure), 0);
    ck_assert_int_eq(verify_at(&token, PINNED_NOW, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "password-invalid");
    ck_assert_int_eq(failure.code, WARDEN_E_SECURITY);
    wd_username_token_clear(&token);
}
END_TEST

START_TEST(digest_covers_created_exactly_as_sent)
{
    /* The same instant written another way is another digest input. */
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_digest_token("alice", CREATED_OFFSET_TEXT, CREATED_TEXT, "secret", &token, &failure), 0);
    ck_assert_int_eq(verify_at(&token, PINNED_NOW, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "password-invalid");
    wd_username_token_clear(&token);
}
END_TEST

START_TEST(digest_of_the_wrong_size_is_rejected)
{
    wd_username_token token;
    wd_failure        failure;
    /* 19 bytes, and then 32 bytes (a SHA-256 digest). */
    ck_assert_int_eq(read_inner(USERNAME "<wsse:Password Type=\"" WD_WSS_PASSWORD_DIGEST "\">AAAAAAAAAAAAAAAAAAAAAAAAAA==</wsse:Password>" NONCE WSU_CREATED,
                                &token, &failure),
                     0);
    ck_assert_int_eq(verify_at(&token, PINNED_NOW, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "password-invalid");
    wd_username_token_clear(&token);

    ck_assert_int_eq(read_inner(USERNAME "<wsse:Password Type=\"" WD_WSS_PASSWORD_DIGEST "\">AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=</wsse:Password>" NONCE WSU_CREATED,
                                &token, &failure),
                     0);
    ck_assert_int_eq(verify_at(&token, PINNED_NOW, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "password-invalid");
    wd_username_token_clear(&token);
}
END_TEST

START_TEST(digest_that_is_not_base64_is_rejected)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_inner(USERNAME "<wsse:Password Type=\"" WD_WSS_PASSWORD_DIGEST "\">not base64!</wsse:Password>" NONCE WSU_CREATED,
                                &token, &failure),
                     0);
    ck_assert_int_eq(verify_at(&token, PINNED_NOW, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "password-invalid");
    wd_username_token_clear(&token);
}
END_TEST

START_TEST(digest_without_nonce_is_rejected)
{
    /* by default for the missing Nonce; without the requirement the digest cannot be made */
    ck_assert_str_eq(verify_reason(USERNAME DIGEST_PASSWORD WSU_CREATED, true), "token-unsupported");
    ck_assert_str_eq(verify_reason(USERNAME DIGEST_PASSWORD WSU_CREATED, false), "password-invalid");
}
END_TEST

START_TEST(digest_without_created_is_rejected)
{
    ck_assert_str_eq(verify_reason(USERNAME DIGEST_PASSWORD NONCE, true), "timestamp-missing");
    ck_assert_str_eq(verify_reason(USERNAME DIGEST_PASSWORD NONCE, false), "password-invalid");
}
END_TEST

/* ---- username.require_nonce ------------------------------------------------------------- */

START_TEST(text_token_without_nonce_is_unsupported)
{
    ck_assert_str_eq(verify_reason(USERNAME TEXT_PASSWORD WSU_CREATED, true), "token-unsupported");
}
END_TEST

START_TEST(text_token_without_created_is_timestamp_missing)
{
    ck_assert_str_eq(verify_reason(USERNAME TEXT_PASSWORD NONCE, true), "timestamp-missing");
    /* with neither, Created is named first */
    ck_assert_str_eq(verify_reason(USERNAME TEXT_PASSWORD, true), "timestamp-missing");
}
END_TEST

START_TEST(text_token_with_nonce_and_created_passes)
{
    ck_assert_str_eq(verify_reason(USERNAME TEXT_PASSWORD NONCE WSU_CREATED, true), "none");
}
END_TEST

START_TEST(missing_nonce_is_refused_before_the_password_is_looked_at)
{
    /* a token that could never pass tells nothing about the password or the user */
    ck_assert_str_eq(verify_reason("<wsse:Username>alice</wsse:Username>"
                                   "<wsse:Password>wrong</wsse:Password>" WSU_CREATED, true),
                     "token-unsupported");
    ck_assert_str_eq(verify_reason("<wsse:Username>nobody</wsse:Username>" TEXT_PASSWORD, true),
                     "timestamp-missing");
}
END_TEST

START_TEST(require_nonce_false_accepts_a_bare_text_token)
{
    ck_assert_str_eq(verify_reason(USERNAME TEXT_PASSWORD, false), "none");
    ck_assert_str_eq(verify_reason(USERNAME TEXT_PASSWORD WSU_CREATED, false), "none");
    ck_assert_str_eq(verify_reason(USERNAME "<wsse:Password>wrong</wsse:Password>", false), "password-invalid");
}
END_TEST

/* ---- PasswordText ----------------------------------------------------------------------- */

START_TEST(text_password_right_passes)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_text_token("alice", "secret", &token, &failure), 0);
    ck_assert_int_eq(token.password_type, WD_PASSWORD_TEXT);
    ck_assert_int_eq(verify_at(&token, PINNED_NOW, &failure), 0);
    wd_username_token_clear(&token);
}
END_TEST

START_TEST(text_password_wrong_is_rejected)
{
    static const char *const wrong[] = { "Secret", "secre", "secret1", "", " secret" };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        wd_username_token token;
        wd_failure        failure;
        ck_assert_int_eq(read_text_token("alice", wrong[i], &token, &failure), 0);
        ck_assert_int_eq(verify_at(&token, PINNED_NOW, &failure), -1);
        ck_assert_str_eq(wd_reason_name(failure.reason), "password-invalid");
        wd_username_token_clear(&token);
    }
}
END_TEST

START_TEST(text_password_with_colons_passes)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_text_token("carol", "p:a:ss", &token, &failure), 0);
    ck_assert_int_eq(verify_at(&token, PINNED_NOW, &failure), 0);
    wd_username_token_clear(&token);
}
END_TEST

START_TEST(missing_type_means_password_text)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_inner("<wsse:Username>bob</wsse:Username><wsse:Password>hunter2</wsse:Password>", &token,
                                &failure),
                     0);
    ck_assert_int_eq(token.password_type, WD_PASSWORD_TEXT);
    ck_assert(!token.has_created);
    ck_assert_int_eq(verify_with(&token, PINNED_NOW, false, &failure), 0);
    wd_username_token_clear(&token);
}
END_TEST

START_TEST(unknown_user_is_rejected)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_text_token("mallory", "secret", &token, &failure), 0);
    ck_assert_int_eq(verify_at(&token, PINNED_NOW, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "user-unknown");
    wd_username_token_clear(&token);
}
END_TEST

/* ---- the callback as password source ---------------------------------------------------- */

static int directory_callback(void *context, const char *username, size_t username_length, char *password,
                              size_t capacity, size_t *length)
{
    (void)context;
    if (username_length == 4 && memcmp(username, "dave", 4) == 0) {
        memcpy(password, "d4ve!", 5);
        *length = 5;
        return WARDEN_OK;
    }
    if (username_length == 6 && memcmp(username, "broken", 6) == 0)
        return WARDEN_E_INTERNAL;
    return WARDEN_E_NOT_APPLICABLE;
}

static int verify_with_callback(const wd_username_token *token, wd_failure *failure)
{
    wd_credentials credentials = { NULL, directory_callback, NULL };
    wd_settings    settings;
    wd_settings_defaults(&settings);
    memset(failure, 0, sizeof *failure);
    return wd_username_token_verify(token, &credentials, PINNED_NOW, &settings, failure);
}

START_TEST(callback_password_verifies_a_digest)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_digest_token("dave", CREATED_TEXT, CREATED_TEXT, "d4ve!", &token, &failure), 0);
    ck_assert_int_eq(verify_with_callback(&token, &failure), 0);
    wd_username_token_clear(&token);
}
END_TEST

START_TEST(callback_unknown_user_is_rejected)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_digest_token("erin", CREATED_TEXT, CREATED_TEXT, "x", &token, &failure), 0);
    ck_assert_int_eq(verify_with_callback(&token, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "user-unknown");
    wd_username_token_clear(&token);
}
END_TEST

START_TEST(failing_callback_rejects_with_internal_error)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_text_token("broken", "x", &token, &failure), 0);
    ck_assert_int_eq(verify_with_callback(&token, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "internal-error");
    ck_assert_int_eq(failure.code, WARDEN_E_INTERNAL);
    wd_username_token_clear(&token);
}
END_TEST

/* ---- Created freshness ------------------------------------------------------------------ */

START_TEST(created_exactly_ttl_old_passes)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_digest_token("alice", CREATED_TEXT, CREATED_TEXT, "secret", &token, &failure), 0);
    ck_assert_int_eq(verify_at(&token, CREATED + 300, &failure), 0);
    wd_username_token_clear(&token);
}
END_TEST

START_TEST(created_older_than_ttl_is_expired)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_digest_token("alice", CREATED_TEXT, CREATED_TEXT, "secret", &token, &failure), 0);
    ck_assert_int_eq(verify_at(&token, CREATED + 301, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "timestamp-expired");
    ck_assert_ptr_nonnull(strstr(failure.detail, CREATED_TEXT));
    wd_username_token_clear(&token);
}
END_TEST

START_TEST(created_ahead_by_more_than_future_ttl_is_future)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_text_token("alice", "secret", &token, &failure), 0);
    ck_assert_int_eq(verify_at(&token, CREATED - 60, &failure), 0);
    ck_assert_int_eq(verify_at(&token, CREATED - 61, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "timestamp-future");
    wd_username_token_clear(&token);
}
END_TEST

/* ---- form ------------------------------------------------------------------------------- */

START_TEST(username_is_trimmed)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_inner("<wsse:Username>\n   alice \t</wsse:Username>" TEXT_PASSWORD, &token, &failure), 0);
    ck_assert_str_eq(token.username, "alice");
    ck_assert_uint_eq(token.username_length, 5);
    wd_username_token_clear(&token);
}
END_TEST

START_TEST(created_in_the_wsse_namespace_is_accepted)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_inner(USERNAME TEXT_PASSWORD "<wsse:Created>" CREATED_TEXT "</wsse:Created>", &token, &failure),
                     0);
    ck_assert(token.has_created);
    ck_assert_int_eq(token.created, CREATED);
    wd_username_token_clear(&token);
}
END_TEST

START_TEST(missing_username_is_unsupported)
{
    assert_read_rejected(TEXT_PASSWORD, "token-unsupported");
}
END_TEST

START_TEST(empty_username_is_unsupported)
{
    assert_read_rejected("<wsse:Username>  </wsse:Username>" TEXT_PASSWORD, "token-unsupported");
    assert_read_rejected("<wsse:Username/>" TEXT_PASSWORD, "token-unsupported");
}
END_TEST

START_TEST(username_with_comment_or_element_is_malformed)
{
    assert_read_rejected("<wsse:Username>alice<!---->.evil</wsse:Username>" TEXT_PASSWORD, "malformed");
    assert_read_rejected("<wsse:Username>alice<b>x</b></wsse:Username>" TEXT_PASSWORD, "malformed");
}
END_TEST

START_TEST(two_usernames_are_unsupported)
{
    assert_read_rejected(USERNAME "<wsse:Username>bob</wsse:Username>" TEXT_PASSWORD, "token-unsupported");
}
END_TEST

START_TEST(missing_password_is_unsupported)
{
    assert_read_rejected(USERNAME NONCE WSU_CREATED, "token-unsupported");
}
END_TEST

START_TEST(two_passwords_are_unsupported)
{
    assert_read_rejected(USERNAME TEXT_PASSWORD TEXT_PASSWORD, "token-unsupported");
}
END_TEST

START_TEST(unknown_password_type_is_unsupported)
{
    assert_read_rejected(USERNAME "<wsse:Password Type=\"urn:example:PasswordHash\">x</wsse:Password>",
                         "token-unsupported");
    assert_read_rejected(USERNAME "<wsse:Password Type=\"PasswordText\">secret</wsse:Password>", "token-unsupported");
}
END_TEST

START_TEST(password_with_an_element_is_malformed)
{
    assert_read_rejected(USERNAME "<wsse:Password>sec<i/>ret</wsse:Password>", "malformed");
}
END_TEST

START_TEST(nonce_with_another_encoding_is_unsupported)
{
    assert_read_rejected(USERNAME DIGEST_PASSWORD
                         "<wsse:Nonce EncodingType=\"urn:example:hex\">6b1f9300</wsse:Nonce>" WSU_CREATED,
                         "token-unsupported");
}
END_TEST

START_TEST(nonce_that_is_not_base64_is_unsupported)
{
    assert_read_rejected(USERNAME DIGEST_PASSWORD "<wsse:Nonce>not*base64</wsse:Nonce>" WSU_CREATED,
                         "token-unsupported");
    assert_read_rejected(USERNAME DIGEST_PASSWORD "<wsse:Nonce></wsse:Nonce>" WSU_CREATED, "token-unsupported");
}
END_TEST

START_TEST(two_nonces_are_unsupported)
{
    assert_read_rejected(USERNAME DIGEST_PASSWORD NONCE NONCE WSU_CREATED, "token-unsupported");
}
END_TEST

START_TEST(two_created_are_unsupported)
{
    assert_read_rejected(USERNAME DIGEST_PASSWORD NONCE WSU_CREATED WSU_CREATED, "token-unsupported");
    assert_read_rejected(USERNAME DIGEST_PASSWORD NONCE WSU_CREATED "<wsse:Created>" CREATED_TEXT "</wsse:Created>",
                         "token-unsupported");
}
END_TEST

START_TEST(created_that_is_not_a_datetime_is_invalid)
{
    assert_read_rejected(USERNAME DIGEST_PASSWORD NONCE "<wsu:Created>2026-11-25T12:00:00</wsu:Created>",
                         "timestamp-invalid");
    assert_read_rejected(USERNAME DIGEST_PASSWORD NONCE "<wsu:Created>2026-02-30T12:00:00Z</wsu:Created>",
                         "timestamp-invalid");
    assert_read_rejected(USERNAME DIGEST_PASSWORD NONCE "<wsu:Created>now</wsu:Created>", "timestamp-invalid");
    assert_read_rejected(USERNAME DIGEST_PASSWORD NONCE "<wsu:Created/>", "timestamp-invalid");
    assert_read_rejected(USERNAME DIGEST_PASSWORD NONCE "<wsu:Created>2026-11-25<!---->T12:00:00Z</wsu:Created>",
                         "timestamp-invalid");
}
END_TEST

START_TEST(unknown_child_elements_are_unsupported)
{
    assert_read_rejected(USERNAME TEXT_PASSWORD "<wsse11:Salt xmlns:wsse11=\"" WD_NS_WSSE11 "\">AAAA</wsse11:Salt>",
                         "token-unsupported");
    assert_read_rejected(USERNAME TEXT_PASSWORD "<Extra/>", "token-unsupported");
}
END_TEST

START_TEST(text_between_children_is_malformed)
{
    assert_read_rejected(USERNAME "stray" TEXT_PASSWORD, "malformed");
}
END_TEST

START_TEST(an_element_that_is_not_a_username_token_is_unsupported)
{
    const char *xml = "<wsse:BinarySecurityToken xmlns:wsse=\"" WD_NS_WSSE "\"/>";
    xmlDocPtr   doc = xmlReadMemory(xml, (int)strlen(xml), "x.xml", NULL, XML_PARSE_NONET);
    ck_assert_ptr_nonnull(doc);
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(wd_username_token_read(xmlDocGetRootElement(doc), &token, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "token-unsupported");
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(clear_zeroes_the_token)
{
    wd_username_token token;
    wd_failure        failure;
    ck_assert_int_eq(read_digest_token("alice", CREATED_TEXT, CREATED_TEXT, "secret", &token, &failure), 0);
    wd_username_token_clear(&token);
    ck_assert_ptr_null(token.username);
    ck_assert_ptr_null(token.password);
    ck_assert_ptr_null(token.nonce);
    ck_assert_ptr_null(token.created_text);
    ck_assert(!token.has_created);
    wd_username_token_clear(&token); /* twice is harmless */
    wd_username_token_clear(NULL);
}
END_TEST

START_TEST(misuse_is_an_internal_error)
{
    wd_username_token token;
    wd_failure        failure;
    wd_settings       settings;
    wd_settings_defaults(&settings);
    ck_assert_int_eq(read_text_token("alice", "secret", &token, &failure), 0);
    memset(&failure, 0, sizeof failure);
    ck_assert_int_eq(wd_username_token_verify(&token, NULL, PINNED_NOW, &settings, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "internal-error");
    ck_assert_int_eq(failure.code, WARDEN_E_INTERNAL);
    memset(&failure, 0, sizeof failure);
    ck_assert_int_eq(wd_username_token_read(token.node, NULL, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "internal-error");
    wd_username_token_clear(&token);
}
END_TEST

static Suite *username_token_suite(void)
{
    Suite *suite = suite_create("username_token");

    TCase *digest = tcase_create("digest");
    tcase_add_checked_fixture(digest, NULL, free_document);
    tcase_add_test(digest, digest_from_a_client_verifies);
    tcase_add_test(digest, digest_over_created_with_offset_verifies);
    tcase_add_test(digest, digest_with_wrong_password_is_rejected);
    tcase_add_test(digest, digest_covers_created_exactly_as_sent);
    tcase_add_test(digest, digest_of_the_wrong_size_is_rejected);
    tcase_add_test(digest, digest_that_is_not_base64_is_rejected);
    tcase_add_test(digest, digest_without_nonce_is_rejected);
    tcase_add_test(digest, digest_without_created_is_rejected);
    suite_add_tcase(suite, digest);

    TCase *text = tcase_create("text");
    tcase_add_checked_fixture(text, NULL, free_document);
    tcase_add_test(text, text_password_right_passes);
    tcase_add_test(text, text_password_wrong_is_rejected);
    tcase_add_test(text, text_password_with_colons_passes);
    tcase_add_test(text, missing_type_means_password_text);
    tcase_add_test(text, unknown_user_is_rejected);
    suite_add_tcase(suite, text);

    TCase *nonce = tcase_create("require_nonce");
    tcase_add_checked_fixture(nonce, NULL, free_document);
    tcase_add_test(nonce, text_token_without_nonce_is_unsupported);
    tcase_add_test(nonce, text_token_without_created_is_timestamp_missing);
    tcase_add_test(nonce, text_token_with_nonce_and_created_passes);
    tcase_add_test(nonce, missing_nonce_is_refused_before_the_password_is_looked_at);
    tcase_add_test(nonce, require_nonce_false_accepts_a_bare_text_token);
    suite_add_tcase(suite, nonce);

    TCase *callback = tcase_create("callback");
    tcase_add_checked_fixture(callback, NULL, free_document);
    tcase_add_test(callback, callback_password_verifies_a_digest);
    tcase_add_test(callback, callback_unknown_user_is_rejected);
    tcase_add_test(callback, failing_callback_rejects_with_internal_error);
    suite_add_tcase(suite, callback);

    TCase *freshness = tcase_create("freshness");
    tcase_add_checked_fixture(freshness, NULL, free_document);
    tcase_add_test(freshness, created_exactly_ttl_old_passes);
    tcase_add_test(freshness, created_older_than_ttl_is_expired);
    tcase_add_test(freshness, created_ahead_by_more_than_future_ttl_is_future);
    suite_add_tcase(suite, freshness);

    TCase *form = tcase_create("form");
    tcase_add_checked_fixture(form, NULL, free_document);
    tcase_add_test(form, username_is_trimmed);
    tcase_add_test(form, created_in_the_wsse_namespace_is_accepted);
    tcase_add_test(form, missing_username_is_unsupported);
    tcase_add_test(form, empty_username_is_unsupported);
    tcase_add_test(form, username_with_comment_or_element_is_malformed);
    tcase_add_test(form, two_usernames_are_unsupported);
    tcase_add_test(form, missing_password_is_unsupported);
    tcase_add_test(form, two_passwords_are_unsupported);
    tcase_add_test(form, unknown_password_type_is_unsupported);
    tcase_add_test(form, password_with_an_element_is_malformed);
    tcase_add_test(form, nonce_with_another_encoding_is_unsupported);
    tcase_add_test(form, nonce_that_is_not_base64_is_unsupported);
    tcase_add_test(form, two_nonces_are_unsupported);
    tcase_add_test(form, two_created_are_unsupported);
    tcase_add_test(form, created_that_is_not_a_datetime_is_invalid);
    tcase_add_test(form, unknown_child_elements_are_unsupported);
    tcase_add_test(form, text_between_children_is_malformed);
    tcase_add_test(form, an_element_that_is_not_a_username_token_is_unsupported);
    tcase_add_test(form, clear_zeroes_the_token);
    tcase_add_test(form, misuse_is_an_internal_error);
    suite_add_tcase(suite, form);
    return suite;
}

int main(void)
{
    return tr_run_suite(username_token_suite());
}
