/*
** report.c — turning a delivered message's properties (read through the public API only)
** into the JSON of docs/reference.md (JSON output), and printing that for machines or people.
** Fields that do not apply are left out, never null.
*/
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "options.h"

static void set_string(json_t *object, const char *key, const warden_string *value)
{
    json_object_set_new(object, key, json_stringn(value->data, value->length));
}

static void set_time(json_t *object, const char *key, int64_t seconds)
{
    char text[21];
    /* The fixed form holds the years 0001-9999, but a time just outside them can reach here
    ** (a UsernameToken Created of 9999-12-31T23:59:59-14:00 is in the year 10000): it shows
    ** the nearest end instead, as the library's own formatting does. */
    if (warden_time_format(seconds, text) != WARDEN_OK)
        warden_time_format(seconds < 0 ? INT64_C(-62135596800) : INT64_C(253402300799), text);
    json_object_set_new(object, key, json_string(text));
}

static void message_string(json_t *object, const char *key, const warden_message *message,
                           warden_message_property_id id)
{
    warden_string value;
    if (warden_message_get_property(message, id, &value, sizeof value) == WARDEN_OK)
        set_string(object, key, &value);
}

static void token_string(json_t *object, const char *key, const warden_token *token,
                         warden_token_property_id id)
{
    warden_string value;
    if (warden_token_get_property(token, id, &value, sizeof value) == WARDEN_OK)
        set_string(object, key, &value);
}

static void token_list(json_t *object, const char *key, const warden_token *token,
                       warden_token_property_id id)
{
    warden_string_list list;
    if (warden_token_get_property(token, id, &list, sizeof list) != WARDEN_OK || list.count == 0)
        return;
    json_t *array = json_array();
    for (size_t i = 0; i < list.count; i++)
        json_array_append_new(array, json_stringn(list.items[i].data, list.items[i].length));
    json_object_set_new(object, key, array);
}

static json_t *x509_facts(const warden_token *token)
{
    json_t *x509 = json_object();
    token_string(x509, "subject", token, WARDEN_TOKEN_PROPERTY_CERT_SUBJECT);
    warden_attr_list attrs;
    if (warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_CERT_SUBJECT_ATTRS, &attrs, sizeof attrs) == WARDEN_OK) {
        for (size_t i = 0; i < attrs.count; i++) {
            if (strcmp(attrs.items[i].name, "CN") == 0) {
                json_object_set_new(x509, "subject_cn", json_string(attrs.items[i].value));
                break;
            }
        }
    }
    token_string(x509, "issuer", token, WARDEN_TOKEN_PROPERTY_CERT_ISSUER);
    token_string(x509, "serial", token, WARDEN_TOKEN_PROPERTY_CERT_SERIAL);
    token_string(x509, "sha256", token, WARDEN_TOKEN_PROPERTY_CERT_SHA256);
    json_t *key = json_object();
    token_string(key, "type", token, WARDEN_TOKEN_PROPERTY_CERT_KEY_TYPE);
    int bits;
    if (warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_CERT_KEY_BITS, &bits, sizeof bits) == WARDEN_OK)
        json_object_set_new(key, "bits", json_integer(bits));
    json_object_set_new(x509, "key", key);
    json_t *san = json_object();
    token_list(san, "dns", token, WARDEN_TOKEN_PROPERTY_CERT_SAN_DNS);
    token_list(san, "email", token, WARDEN_TOKEN_PROPERTY_CERT_SAN_EMAIL);
    token_list(san, "uri", token, WARDEN_TOKEN_PROPERTY_CERT_SAN_URI);
    token_list(san, "ip", token, WARDEN_TOKEN_PROPERTY_CERT_SAN_IP);
    if (json_object_size(san) > 0)
        json_object_set_new(x509, "san", san);
    else
        json_decref(san);
    return x509;
}

static void token_time(json_t *object, const char *key, const warden_token *token, warden_token_property_id id)
{
    int64_t value = 0;
    if (warden_token_get_property(token, id, &value, sizeof value) == WARDEN_OK)
        set_time(object, key, value);
}

/* The assertion's facts; attributes as NAME: [VALUE, ...] in document order. */
static json_t *saml_facts(const warden_token *token)
{
    json_t *saml = json_object();
    token_string(saml, "version", token, WARDEN_TOKEN_PROPERTY_SAML_VERSION);
    token_string(saml, "id", token, WARDEN_TOKEN_PROPERTY_SAML_ID);
    token_string(saml, "issuer", token, WARDEN_TOKEN_PROPERTY_SAML_ISSUER);
    token_string(saml, "subject", token, WARDEN_TOKEN_PROPERTY_SAML_SUBJECT);
    token_string(saml, "name_id_format", token, WARDEN_TOKEN_PROPERTY_SAML_NAME_ID_FORMAT);
    token_string(saml, "confirmation", token, WARDEN_TOKEN_PROPERTY_SAML_CONFIRMATION);
    json_t *audiences = json_array();
    warden_string_list list = { NULL, 0 };
    warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_SAML_AUDIENCES, &list, sizeof list);
    for (size_t i = 0; i < list.count; i++)
        json_array_append_new(audiences, json_stringn(list.items[i].data, list.items[i].length));
    json_object_set_new(saml, "audiences", audiences);
    token_time(saml, "not_before", token, WARDEN_TOKEN_PROPERTY_SAML_NOT_BEFORE);
    token_time(saml, "not_on_or_after", token, WARDEN_TOKEN_PROPERTY_SAML_NOT_ON_OR_AFTER);
    token_string(saml, "authn_context", token, WARDEN_TOKEN_PROPERTY_SAML_AUTHN_CONTEXT);
    json_t *attributes = json_object();
    warden_attr_list pairs = { NULL, 0 };
    warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_SAML_ATTRIBUTES, &pairs, sizeof pairs);
    for (size_t i = 0; i < pairs.count; i++) {
        json_t *values = json_object_get(attributes, pairs.items[i].name);
        if (values == NULL) {
            values = json_array();
            json_object_set_new(attributes, pairs.items[i].name, values);
        }
        if (pairs.items[i].value != NULL)
            json_array_append_new(values, json_string(pairs.items[i].value));
    }
    json_object_set_new(saml, "attributes", attributes);
    return saml;
}

static json_t *token_facts(const warden_token *token)
{
    json_t *object = json_object();
    warden_string kind = { "", 0 };
    warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_KIND, &kind, sizeof kind);
    set_string(object, "kind", &kind);
    token_string(object, "role", token, WARDEN_TOKEN_PROPERTY_ROLE);
    int key_type = 0;
    warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_KEY_TYPE, &key_type, sizeof key_type);
    json_object_set_new(object, "key_type", json_string(key_type == WARDEN_KEY_TYPE_ASYMMETRIC ? "asymmetric"
                                                        : key_type == WARDEN_KEY_TYPE_SYMMETRIC ? "symmetric" : "none"));
    int64_t from = 0, till = 0;
    warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_VALID_FROM_TIME, &from, sizeof from);
    warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_VALID_TILL_TIME, &till, sizeof till);
    if (from != 0)
        set_time(object, "valid_from", from);
    if (till != 0)
        set_time(object, "valid_till", till);
    if (strcmp(kind.data, "x509") == 0) {
        json_object_set_new(object, "x509", x509_facts(token));
    } else if (strcmp(kind.data, "username") == 0) {
        json_t *username = json_object();
        token_string(username, "name", token, WARDEN_TOKEN_PROPERTY_USERNAME);
        token_string(username, "password_type", token, WARDEN_TOKEN_PROPERTY_PASSWORD_TYPE);
        json_object_set_new(object, "username", username);
    } else if (strcmp(kind.data, "saml") == 0) {
        json_object_set_new(object, "saml", saml_facts(token));
    }
    return object;
}

json_t *cli_report_delivered(const warden_message *message)
{
    json_t *report = json_object();
    if (report == NULL)
        return NULL;
    json_object_set_new(report, "delivered", json_true());
    message_string(report, "soap", message, WARDEN_MESSAGE_PROPERTY_SOAP_VERSION);
    message_string(report, "action", message, WARDEN_MESSAGE_PROPERTY_ACTION);
    message_string(report, "to", message, WARDEN_MESSAGE_PROPERTY_TO);
    message_string(report, "message_id", message, WARDEN_MESSAGE_PROPERTY_MESSAGE_ID);
    message_string(report, "operation", message, WARDEN_MESSAGE_PROPERTY_OPERATION);
    int protection = WARDEN_PROTECTION_NONE;
    warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_PROTECTION_LEVEL, &protection, sizeof protection);
    json_object_set_new(report, "protection", json_string(protection == WARDEN_PROTECTION_SIGN ? "sign"
                                                          : protection == WARDEN_PROTECTION_SIGN_AND_ENCRYPT ? "sign_and_encrypt"
                                                          : "none"));
    message_string(report, "username", message, WARDEN_MESSAGE_PROPERTY_USERNAME);
    int64_t created, expires;
    if (warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_TIMESTAMP_CREATED, &created, sizeof created) == WARDEN_OK) {
        json_t *timestamp = json_object();
        set_time(timestamp, "created", created);
        if (warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_TIMESTAMP_EXPIRES, &expires, sizeof expires) == WARDEN_OK)
            set_time(timestamp, "expires", expires);
        json_object_set_new(report, "timestamp", timestamp);
    }
    warden_string_list parts = { NULL, 0 };
    warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_SIGNED_PART_LIST, &parts, sizeof parts);
    json_t *signed_parts = json_array();
    for (size_t i = 0; i < parts.count; i++)
        json_array_append_new(signed_parts, json_stringn(parts.items[i].data, parts.items[i].length));
    json_object_set_new(report, "signed", signed_parts);
    warden_string_list encrypted = { NULL, 0 };
    warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_ENCRYPTED_PART_LIST, &encrypted, sizeof encrypted);
    json_t *encrypted_parts = json_array();
    for (size_t i = 0; i < encrypted.count; i++)
        json_array_append_new(encrypted_parts, json_stringn(encrypted.items[i].data, encrypted.items[i].length));
    json_object_set_new(report, "encrypted", encrypted_parts);
    json_t *tokens = json_array();
    for (size_t i = 0; i < warden_message_token_count(message); i++)
        json_array_append_new(tokens, token_facts(warden_message_token(message, i)));
    json_object_set_new(report, "tokens", tokens);
    return report;
}

json_t *cli_report_rejected(const char *reason, const char *detail)
{
    json_t *report = json_object();
    if (report == NULL)
        return NULL;
    json_object_set_new(report, "delivered", json_false());
    json_object_set_new(report, "reason", json_string(reason));
    if (detail != NULL && detail[0] != '\0')
        json_object_set_new(report, "detail", json_string(detail));
    return report;
}

void cli_report_print_json(FILE *out, const json_t *report)
{
    char *line = json_dumps(report, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (line != NULL) {
        fprintf(out, "%s\n", line);
        free(line);
    }
}

void cli_print_safe(FILE *out, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            fprintf(out, "\\x%02x", *p);
        else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) /* C1 controls in UTF-8 */
            fprintf(out, "\\u00%02x", *++p);
        else
            fputc(*p, out);
    }
}

static const char *text_of(const json_t *object, const char *key)
{
    const char *text = json_string_value(json_object_get(object, key));
    return text != NULL ? text : "";
}

static void print_field(FILE *out, const char *indent, const char *label, const char *value)
{
    if (value != NULL && value[0] != '\0') {
        fprintf(out, "%s%-12s", indent, label);
        cli_print_safe(out, value);
        fputc('\n', out);
    }
}

static void print_list(FILE *out, const char *indent, const char *label, const json_t *array)
{
    if (!json_is_array(array) || json_array_size(array) == 0)
        return;
    fprintf(out, "%s%-12s", indent, label);
    for (size_t i = 0; i < json_array_size(array); i++)
        fprintf(out, "%s%s", i > 0 ? ", " : "", json_string_value(json_array_get(array, i)));
    fputc('\n', out);
}

void cli_report_print_text(FILE *out, const char *name, const json_t *report)
{
    if (!json_is_true(json_object_get(report, "delivered"))) {
        const char *detail = text_of(report, "detail");
        fprintf(out, "%s: rejected: %s%s", name, text_of(report, "reason"), detail[0] ? ": " : "");
        cli_print_safe(out, detail);
        fputc('\n', out);
        return;
    }
    fprintf(out, "%s: delivered\n", name);
    print_field(out, "  ", "soap", text_of(report, "soap"));
    print_field(out, "  ", "action", text_of(report, "action"));
    print_field(out, "  ", "to", text_of(report, "to"));
    print_field(out, "  ", "message id", text_of(report, "message_id"));
    print_field(out, "  ", "operation", text_of(report, "operation"));
    print_field(out, "  ", "protection", text_of(report, "protection"));
    print_field(out, "  ", "username", text_of(report, "username"));
    const json_t *timestamp = json_object_get(report, "timestamp");
    if (timestamp != NULL) {
        print_field(out, "  ", "created", text_of(timestamp, "created"));
        print_field(out, "  ", "expires", text_of(timestamp, "expires"));
    }
    print_list(out, "  ", "signed", json_object_get(report, "signed"));
    if (json_array_size(json_object_get(report, "encrypted")) > 0)
        print_list(out, "  ", "encrypted", json_object_get(report, "encrypted"));
    const json_t *tokens = json_object_get(report, "tokens");
    for (size_t i = 0; i < json_array_size(tokens); i++) {
        const json_t *token = json_array_get(tokens, i);
        fprintf(out, "  token %zu     %s (%s, key %s)\n", i + 1, text_of(token, "kind"), text_of(token, "role"),
                text_of(token, "key_type"));
        const json_t *x509 = json_object_get(token, "x509");
        if (x509 != NULL) {
            print_field(out, "    ", "subject", text_of(x509, "subject"));
            print_field(out, "    ", "issuer", text_of(x509, "issuer"));
            print_field(out, "    ", "serial", text_of(x509, "serial"));
            print_field(out, "    ", "sha256", text_of(x509, "sha256"));
            const json_t *key = json_object_get(x509, "key");
            fprintf(out, "    %-12s%s %lld bits\n", "key", text_of(key, "type"),
                    (long long)json_integer_value(json_object_get(key, "bits")));
            const json_t *san = json_object_get(x509, "san");
            if (san != NULL) {
                print_list(out, "    ", "san dns", json_object_get(san, "dns"));
                print_list(out, "    ", "san email", json_object_get(san, "email"));
                print_list(out, "    ", "san uri", json_object_get(san, "uri"));
                print_list(out, "    ", "san ip", json_object_get(san, "ip"));
            }
        }
        const json_t *username = json_object_get(token, "username");
        if (username != NULL) {
            print_field(out, "    ", "name", text_of(username, "name"));
            print_field(out, "    ", "password", text_of(username, "password_type"));
        }
        const json_t *saml = json_object_get(token, "saml");
        if (saml != NULL) {
            print_field(out, "    ", "issuer", text_of(saml, "issuer"));
            print_field(out, "    ", "subject", text_of(saml, "subject"));
            print_field(out, "    ", "confirmed", text_of(saml, "confirmation"));
            print_list(out, "    ", "audiences", json_object_get(saml, "audiences"));
        }
        print_field(out, "    ", "valid from", text_of(token, "valid_from"));
        print_field(out, "    ", "valid till", text_of(token, "valid_till"));
    }
}
