/*
** fixture.c — the shared fuzzing fixture of fixture.h.
*/
#define _XOPEN_SOURCE 700
#include "fixture.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/test_messages.h"

int64_t fz_now(void)
{
    return TM_NOW;
}

void fz_fail(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fputs("fuzz finding: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    abort();
}

static void set(warden_config *config, const char *key, const char *value)
{
    warden_error err = { 0 };
    if (warden_config_set(config, key, value, &err) != WARDEN_OK)
        fz_fail("fixture: %s = %s: %s", key, value, err.text);
}

static void set_pki(warden_config *config, const char *key, const char *name)
{
    char *path = tm_pki_path(name);
    if (path == NULL || access(path, R_OK) != 0)
        fz_fail("fixture: %s not readable; set WARDEN_TEST_PKI (tests/support/make_pki.sh DIR)",
                path != NULL ? path : name);
    set(config, key, path);
    free(path);
}

warden_engine *fz_engine_new(const char *const *settings)
{
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err = { 0 };

    if (warden_config_new(&config) != WARDEN_OK)
        fz_fail("fixture: warden_config_new");
    set_pki(config, "trust", "ca.pem");
    set_pki(config, "certs", "known.pem");
    set_pki(config, "users", "users.txt");
    set_pki(config, "saml.issuers", "idp.pem");
    set(config, "reload.watch", "false");
    /* the service's key pair: encrypted seeds decrypt, and the decryption code is reached */
    set_pki(config, "decrypt.key", "server-enc.key");
    set_pki(config, "decrypt.cert", "server-enc.pem");
    for (size_t i = 0; settings != NULL && settings[i] != NULL; i += 2)
        set(config, settings[i], settings[i + 1]);
    if (warden_engine_new(config, &engine, &err) != WARDEN_OK)
        fz_fail("fixture: warden_engine_new: %s", err.text);
    warden_config_free(config);
    return engine;
}

static void check_string(warden_string s, const char *what)
{
    if (s.data == NULL)
        fz_fail("%s: a NULL string returned with WARDEN_OK", what);
    if (s.data[s.length] != '\0')
        fz_fail("%s: string not NUL-terminated at its length", what);
}

static void check_string_list(warden_string_list list, const char *what)
{
    if (list.count > 0 && list.items == NULL)
        fz_fail("%s: %zu items but no array", what, list.count);
    for (size_t i = 0; i < list.count; i++)
        check_string(list.items[i], what);
}

static void check_attr_list(warden_attr_list list, const char *what)
{
    if (list.count > 0 && list.items == NULL)
        fz_fail("%s: %zu items but no array", what, list.count);
    for (size_t i = 0; i < list.count; i++)
        if (list.items[i].name == NULL || list.items[i].value == NULL)
            fz_fail("%s: item %zu has a NULL name or value", what, i);
}

/* One getter call: only WARDEN_OK and NOT_APPLICABLE are acceptable for a right-sized value. */
static int got(int status, const char *what)
{
    if (status != WARDEN_OK && status != WARDEN_E_NOT_APPLICABLE)
        fz_fail("%s: status %d for a correctly sized value", what, status);
    return status == WARDEN_OK;
}

static void exercise_token(const warden_token *token)
{
    static const warden_token_property_id ints[] = { WARDEN_TOKEN_PROPERTY_KEY_TYPE,
                                                     WARDEN_TOKEN_PROPERTY_CERT_KEY_BITS };
    static const warden_token_property_id times[] = {
        WARDEN_TOKEN_PROPERTY_VALID_FROM_TIME, WARDEN_TOKEN_PROPERTY_VALID_TILL_TIME,
        WARDEN_TOKEN_PROPERTY_SAML_NOT_BEFORE, WARDEN_TOKEN_PROPERTY_SAML_NOT_ON_OR_AFTER,
        WARDEN_TOKEN_PROPERTY_SAML_ISSUE_INSTANT };
    static const warden_token_property_id strings[] = {
        WARDEN_TOKEN_PROPERTY_SERIALIZED_XML, WARDEN_TOKEN_PROPERTY_ATTACHED_REFERENCE_XML,
        WARDEN_TOKEN_PROPERTY_UNATTACHED_REFERENCE_XML, WARDEN_TOKEN_PROPERTY_KIND,
        WARDEN_TOKEN_PROPERTY_ROLE, WARDEN_TOKEN_PROPERTY_USERNAME, WARDEN_TOKEN_PROPERTY_CERT_SUBJECT,
        WARDEN_TOKEN_PROPERTY_CERT_ISSUER, WARDEN_TOKEN_PROPERTY_CERT_SERIAL,
        WARDEN_TOKEN_PROPERTY_CERT_SHA256, WARDEN_TOKEN_PROPERTY_CERT_KEY_TYPE,
        WARDEN_TOKEN_PROPERTY_PASSWORD_TYPE, WARDEN_TOKEN_PROPERTY_SAML_VERSION, WARDEN_TOKEN_PROPERTY_SAML_ID,
        WARDEN_TOKEN_PROPERTY_SAML_ISSUER, WARDEN_TOKEN_PROPERTY_SAML_SUBJECT,
        WARDEN_TOKEN_PROPERTY_SAML_NAME_ID_FORMAT, WARDEN_TOKEN_PROPERTY_SAML_CONFIRMATION,
        WARDEN_TOKEN_PROPERTY_SAML_AUTHN_CONTEXT };
    static const warden_token_property_id bytes[] = { WARDEN_TOKEN_PROPERTY_SYMMETRIC_KEY,
                                                      WARDEN_TOKEN_PROPERTY_CERT_DER };
    static const warden_token_property_id attr_lists[] = { WARDEN_TOKEN_PROPERTY_CERT_SUBJECT_ATTRS,
                                                           WARDEN_TOKEN_PROPERTY_CERT_ISSUER_ATTRS };
    static const warden_token_property_id string_lists[] = {
        WARDEN_TOKEN_PROPERTY_CERT_SAN_DNS, WARDEN_TOKEN_PROPERTY_CERT_SAN_EMAIL,
        WARDEN_TOKEN_PROPERTY_CERT_SAN_URI, WARDEN_TOKEN_PROPERTY_CERT_SAN_IP,
        WARDEN_TOKEN_PROPERTY_SAML_AUDIENCES };

    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int v = 0;
        got(warden_token_get_property(token, ints[i], &v, sizeof v), "token int");
    }
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        int64_t v = 0;
        got(warden_token_get_property(token, times[i], &v, sizeof v), "token time");
    }
    /* twice: the lazily made strings must come back the same the second time */
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
            warden_string v = { 0 };
            if (got(warden_token_get_property(token, strings[i], &v, sizeof v), "token string"))
                check_string(v, "token string");
        }
    for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++) {
        warden_bytes v = { 0 };
        if (got(warden_token_get_property(token, bytes[i], &v, sizeof v), "token bytes") && v.length > 0
            && v.data == NULL)
            fz_fail("token bytes: NULL data with length %zu", v.length);
    }
    for (size_t i = 0; i < sizeof attr_lists / sizeof attr_lists[0]; i++) {
        warden_attr_list v = { 0 };
        if (got(warden_token_get_property(token, attr_lists[i], &v, sizeof v), "token attrs"))
            check_attr_list(v, "token attrs");
    }
    for (size_t i = 0; i < sizeof string_lists / sizeof string_lists[0]; i++) {
        warden_string_list v = { 0 };
        if (got(warden_token_get_property(token, string_lists[i], &v, sizeof v), "token list"))
            check_string_list(v, "token list");
    }
    /* SAML attributes: (Name, value) pairs; the value is NULL for an Attribute without values */
    warden_attr_list saml_attributes = { 0 };
    if (got(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_SAML_ATTRIBUTES, &saml_attributes,
                                      sizeof saml_attributes), "saml attributes")) {
        if (saml_attributes.count > 0 && saml_attributes.items == NULL)
            fz_fail("saml attributes: %zu items but no array", saml_attributes.count);
        for (size_t i = 0; i < saml_attributes.count; i++)
            if (saml_attributes.items[i].name == NULL)
                fz_fail("saml attributes: item %zu has a NULL name", i);
    }
    int wrong = 0;
    if (warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_KIND, &wrong, sizeof wrong) != WARDEN_E_INVALID_ARG)
        fz_fail("token getter accepted a wrong value_size");
}

void fz_exercise_message(const warden_message *message)
{
    static const warden_message_property_id strings[] = {
        WARDEN_MESSAGE_PROPERTY_USERNAME, WARDEN_MESSAGE_PROPERTY_SAML_ASSERTION,
        WARDEN_MESSAGE_PROPERTY_ACTION, WARDEN_MESSAGE_PROPERTY_OPERATION, WARDEN_MESSAGE_PROPERTY_TO,
        WARDEN_MESSAGE_PROPERTY_MESSAGE_ID, WARDEN_MESSAGE_PROPERTY_SIGNED_PARTS,
        WARDEN_MESSAGE_PROPERTY_SOAP_VERSION };
    static const warden_message_property_id times[] = {
        WARDEN_MESSAGE_PROPERTY_TIMESTAMP_CREATED, WARDEN_MESSAGE_PROPERTY_TIMESTAMP_EXPIRES,
        WARDEN_MESSAGE_PROPERTY_NOW };
    static const char *const paths[] = { "amount", "CreateOrder/amount", "{urn:example:orders}CreateOrder",
                                         "customer", "*", "", "/", "a//b" };

    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        warden_string v = { 0 };
        if (got(warden_message_get_property(message, strings[i], &v, sizeof v), "message string"))
            check_string(v, "message string");
    }
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        int64_t v = 0;
        got(warden_message_get_property(message, times[i], &v, sizeof v), "message time");
    }
    int protection = 0;
    if (!got(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_PROTECTION_LEVEL, &protection,
                                         sizeof protection), "protection")
        || protection < WARDEN_PROTECTION_NONE || protection > WARDEN_PROTECTION_SIGN_AND_ENCRYPT)
        fz_fail("protection level %d", protection);
    warden_bytes cert = { 0 };
    if (got(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_ENCODED_CERT, &cert, sizeof cert),
            "encoded cert") && (cert.data == NULL || cert.length == 0))
        fz_fail("encoded cert: empty");
    warden_string_list parts = { 0 };
    if (got(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_SIGNED_PART_LIST, &parts,
                                        sizeof parts), "signed parts"))
        check_string_list(parts, "signed part list");
    warden_attr_list attrs = { 0 };
    if (got(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_ATTRS, &attrs, sizeof attrs), "attrs"))
        check_attr_list(attrs, "attrs");

    size_t count = warden_message_token_count(message);
    for (size_t i = 0; i < count; i++) {
        const warden_token *token = warden_message_token(message, i);
        if (token == NULL)
            fz_fail("token %zu of %zu is NULL", i, count);
        exercise_token(token);
    }
    if (warden_message_token(message, count) != NULL)
        fz_fail("a token past the count");

    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char small[4], large[256];
        size_t length = 0, again = 0;
        int status = warden_message_body_text(message, paths[i], small, sizeof small, &length);
        if (status != WARDEN_OK && status != WARDEN_E_NOT_APPLICABLE && status != WARDEN_E_INVALID_ARG)
            fz_fail("body text %s: status %d", paths[i], status);
        if (status != WARDEN_OK)
            continue;
        if (strlen(small) != (length < sizeof small ? length : sizeof small - 1))
            fz_fail("body text %s: truncated text is not NUL-terminated at capacity-1", paths[i]);
        if (warden_message_body_text(message, paths[i], large, sizeof large, &again) != WARDEN_OK || again != length)
            fz_fail("body text %s: a second read disagrees", paths[i]);
    }
}

static char scratch[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_scratch(void)
{
    if (scratch[0] != '\0')
        nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fz_scratch_dir(void)
{
    if (scratch[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        snprintf(scratch, sizeof scratch, "%s/warden-fuzz-XXXXXX", tmp != NULL && strlen(tmp) < 40 ? tmp : "/tmp");
        if (mkdtemp(scratch) == NULL)
            fz_fail("fixture: mkdtemp %s", scratch);
        atexit(remove_scratch);
    }
    return scratch;
}

void fz_write_file(const char *path, const void *data, size_t size)
{
    FILE *file = fopen(path, "wb");
    if (file == NULL || (size > 0 && fwrite(data, 1, size, file) != size) || fclose(file) != 0)
        fz_fail("fixture: cannot write %s", path);
}
