/*
** message.c — the delivered message and its tokens: construction by the verifier, the
** WWSAPI-style property getters (warden_message_get_property, warden_token_get_property),
** and freeing.
*/
#include "message.h"

#include <libxml/xmlsave.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "ids.h"
#include "namespaces.h"

warden_message *wd_message_new(void)
{
    warden_message *message = calloc(1, sizeof *message);
    if (message != NULL)
        message->protection = WARDEN_PROTECTION_NONE;
    return message;
}

warden_token *wd_message_add_token(warden_message *message)
{
    warden_token *grown = realloc(message->tokens, (message->token_count + 1) * sizeof *grown);
    if (grown == NULL)
        return NULL;
    message->tokens = grown;
    warden_token *token = &grown[message->token_count++];
    memset(token, 0, sizeof *token);
    token->message = message;
    /* the array moved: the back pointers of earlier tokens are still right (they point to the
    ** message), but message->signing may not be; the verifier sets it after the last append */
    return token;
}

int wd_message_set_string(warden_string *target, const char *text, size_t length)
{
    char *copy = malloc(length + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, text, length);
    copy[length] = '\0';
    free((char *)target->data);
    target->data = copy;
    target->length = length;
    return 0;
}

/* Makes a part list of names: comma-separated text, and the items over one storage. */
static int make_part_list(wd_part_list *list, const char *const *names, size_t count)
{
    size_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += strlen(names[i]) + 1;
    char *csv = malloc(total + 1);
    char *storage = malloc(total + 1);
    warden_string *items = calloc(count + 1, sizeof *items);
    if (csv == NULL || storage == NULL || items == NULL) {
        free(csv);
        free(storage);
        free(items);
        return -1;
    }
    size_t csv_used = 0, storage_used = 0;
    csv[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        size_t length = strlen(names[i]);
        if (i > 0)
            csv[csv_used++] = ',';
        memcpy(csv + csv_used, names[i], length);
        csv_used += length;
        memcpy(storage + storage_used, names[i], length + 1);
        items[i].data = storage + storage_used;
        items[i].length = length;
        storage_used += length + 1;
    }
    csv[csv_used] = '\0';
    free(list->text);
    free(list->storage);
    free(list->items);
    list->text = csv;
    list->storage = storage;
    list->items = items;
    list->count = count;
    return 0;
}

int wd_message_set_signed_parts(warden_message *message, const char *const *names, size_t count)
{
    wd_part_list list = { message->signed_parts, message->signed_part_items, message->signed_part_count,
                          message->signed_part_storage };
    if (make_part_list(&list, names, count) != 0)
        return -1;
    message->signed_parts = list.text;
    message->signed_part_items = list.items;
    message->signed_part_count = list.count;
    message->signed_part_storage = list.storage;
    return 0;
}

int wd_message_set_encrypted_parts(warden_message *message, const char *const *names, size_t count)
{
    return make_part_list(&message->encrypted, names, count);
}

int wd_message_set_attrs(warden_message *message, const warden_attr *attrs, size_t count)
{
    if (count == 0)
        return 0;
    warden_attr *copies = calloc(count, sizeof *copies);
    if (copies == NULL)
        return -1;
    message->attrs = copies;
    message->attr_count = count;
    for (size_t i = 0; i < count; i++) {
        copies[i].name = strdup(attrs[i].name != NULL ? attrs[i].name : "");
        copies[i].value = strdup(attrs[i].value != NULL ? attrs[i].value : "");
        if (copies[i].name == NULL || copies[i].value == NULL)
            return -1; /* the partial copies are freed with the message */
    }
    return 0;
}

/* ---- lazily made token strings ------------------------------------------------------ */

typedef char *(*lazy_maker)(const warden_token *token);

static const char *lazy_get(wd_lazy_string *slot, const warden_token *token, lazy_maker make)
{
    char *current = atomic_load_explicit(&slot->text, memory_order_acquire);
    if (current != NULL)
        return current;
    char *made = make(token);
    if (made == NULL)
        return NULL;
    char *expected = NULL;
    if (!atomic_compare_exchange_strong_explicit(&slot->text, &expected, made,
                                                 memory_order_acq_rel, memory_order_acquire)) {
        free(made); /* another reader published first */
        return expected;
    }
    return made;
}

static void lazy_free(wd_lazy_string *slot)
{
    free(atomic_load_explicit(&slot->text, memory_order_relaxed));
}

static char *make_serialized_xml(const warden_token *token)
{
    if (token->element == NULL)
        return NULL;
    xmlBufferPtr buffer = xmlBufferCreate();
    if (buffer == NULL)
        return NULL;
    char *text = NULL;
    if (xmlNodeDump(buffer, token->message->document, token->element, 0, 0) >= 0)
        text = strdup((const char *)xmlBufferContent(buffer));
    xmlBufferFree(buffer);
    return text;
}

static char *make_saml_xml(const warden_token *token)
{
    size_t length = 0;
    return token->saml != NULL ? wd_saml_serialize_element(token->saml->element, &length) : NULL;
}

static char *format_text(const char *format, const char *a, const char *b)
{
    int length = snprintf(NULL, 0, format, a, b);
    if (length < 0)
        return NULL;
    char *text = malloc((size_t)length + 1);
    if (text != NULL)
        snprintf(text, (size_t)length + 1, format, a, b);
    return text;
}

/* XML attribute values here are IDs (NCName-like) but are escaped all the same. */
static char *escape_attribute(const char *value)
{
    size_t length = 0;
    for (const char *p = value; *p; p++)
        length += (*p == '&') ? 5 : (*p == '<' || *p == '>') ? 4 : (*p == '"') ? 6 : 1;
    char *out = malloc(length + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (const char *p = value; *p; p++) {
        const char *replacement = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;"
                                : *p == '"' ? "&quot;" : NULL;
        if (replacement != NULL) {
            size_t n = strlen(replacement);
            memcpy(o, replacement, n);
            o += n;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

/* SAML Token Profile 1.1, 3.4.2: a SAML V2.0 assertion is referenced by its ID through a
** KeyIdentifier, from inside the message and from outside alike. */
static char *make_saml_reference(const warden_token *token)
{
    char *escaped = escape_attribute(token->saml->id);
    if (escaped == NULL)
        return NULL;
    char *text = format_text("<wsse:SecurityTokenReference xmlns:wsse=\"" WD_NS_WSSE "\" xmlns:wsse11=\"" WD_NS_WSSE11
                             "\" wsse11:TokenType=\"%s#SAMLV2.0\"><wsse:KeyIdentifier ValueType=\"%s#SAMLID\">",
                             WD_WSS_SAML_PROFILE, WD_WSS_SAML_PROFILE);
    char *tail = format_text("%s%s</wsse:KeyIdentifier></wsse:SecurityTokenReference>", escaped, "");
    char *joined = text != NULL && tail != NULL ? format_text("%s%s", text, tail) : NULL;
    free(text);
    free(tail);
    free(escaped);
    return joined;
}

static char *make_attached_reference(const warden_token *token)
{
    if (token->kind == WD_TOKEN_SAML && token->saml != NULL)
        return make_saml_reference(token);
    if (token->element == NULL)
        return NULL;
    const char *id = wd_ids_of(token->element);
    if (id == NULL)
        return NULL;
    char *escaped = escape_attribute(id);
    if (escaped == NULL)
        return NULL;
    const char *value_type = token->kind == WD_TOKEN_X509 ? WD_WSS_X509V3
                                                          : WD_WSS_UT_PROFILE "#UsernameToken";
    char *text = format_text("<wsse:SecurityTokenReference xmlns:wsse=\"" WD_NS_WSSE "\">"
                             "<wsse:Reference URI=\"#%s\" ValueType=\"%s\"/>"
                             "</wsse:SecurityTokenReference>", escaped, value_type);
    free(escaped);
    return text;
}

static char *make_unattached_reference(const warden_token *token)
{
    if (token->kind == WD_TOKEN_SAML && token->saml != NULL)
        return make_saml_reference(token);
    if (token->kind != WD_TOKEN_X509 || token->cert == NULL)
        return NULL;
    char *thumbprint = wd_base64_encode(token->cert->sha1, sizeof token->cert->sha1);
    if (thumbprint == NULL)
        return NULL;
    char *text = format_text("<wsse:SecurityTokenReference xmlns:wsse=\"" WD_NS_WSSE "\">"
                             "<wsse:KeyIdentifier ValueType=\"%s\" EncodingType=\"" WD_WSS_BASE64 "\">"
                             "%s</wsse:KeyIdentifier></wsse:SecurityTokenReference>",
                             WD_WSS_THUMBPRINT, thumbprint);
    free(thumbprint);
    return text;
}

/* ---- getters -------------------------------------------------------------------------- */

#define PUT(type, expression)                              \
    do {                                                   \
        if (value_size != sizeof(type))                    \
            return WARDEN_E_INVALID_ARG;                   \
        *(type *)value = (expression);                     \
        return WARDEN_OK;                                  \
    } while (0)

static int put_string(const warden_string *s, void *value, size_t value_size)
{
    if (value_size != sizeof(warden_string))
        return WARDEN_E_INVALID_ARG;
    if (s->data == NULL)
        return WARDEN_E_NOT_APPLICABLE;
    *(warden_string *)value = *s;
    return WARDEN_OK;
}

static int put_text(const char *text, void *value, size_t value_size)
{
    if (value_size != sizeof(warden_string))
        return WARDEN_E_INVALID_ARG;
    if (text == NULL)
        return WARDEN_E_NOT_APPLICABLE;
    ((warden_string *)value)->data = text;
    ((warden_string *)value)->length = strlen(text);
    return WARDEN_OK;
}

int warden_message_get_property(const warden_message *m, warden_message_property_id id,
                                void *value, size_t value_size)
{
    if (m == NULL || value == NULL)
        return WARDEN_E_INVALID_ARG;
    switch (id) {
    case WARDEN_MESSAGE_PROPERTY_USERNAME:
        return put_string(&m->username, value, value_size);
    case WARDEN_MESSAGE_PROPERTY_ENCODED_CERT:
        if (value_size != sizeof(warden_bytes))
            return WARDEN_E_INVALID_ARG;
        if (m->signing == NULL || m->signing->cert == NULL)
            return WARDEN_E_NOT_APPLICABLE;
        ((warden_bytes *)value)->data = m->signing->cert->der;
        ((warden_bytes *)value)->length = m->signing->cert->der_length;
        return WARDEN_OK;
    case WARDEN_MESSAGE_PROPERTY_PROTECTION_LEVEL:
        PUT(int, m->protection);
    case WARDEN_MESSAGE_PROPERTY_ACTION:
        return put_string(&m->action, value, value_size);
    case WARDEN_MESSAGE_PROPERTY_OPERATION:
        return put_string(&m->operation, value, value_size);
    case WARDEN_MESSAGE_PROPERTY_TO:
        return put_string(&m->to, value, value_size);
    case WARDEN_MESSAGE_PROPERTY_HTTP_ACTION:
        return put_string(&m->http_action, value, value_size);
    case WARDEN_MESSAGE_PROPERTY_HTTP_METHOD:
        return put_string(&m->http_method, value, value_size);
    case WARDEN_MESSAGE_PROPERTY_HTTP_PATH:
        return put_string(&m->http_path, value, value_size);
    case WARDEN_MESSAGE_PROPERTY_MESSAGE_ID:
        return put_string(&m->message_id, value, value_size);
    case WARDEN_MESSAGE_PROPERTY_TIMESTAMP_CREATED:
        if (value_size != sizeof(int64_t))
            return WARDEN_E_INVALID_ARG;
        if (!m->has_timestamp)
            return WARDEN_E_NOT_APPLICABLE;
        *(int64_t *)value = m->created;
        return WARDEN_OK;
    case WARDEN_MESSAGE_PROPERTY_TIMESTAMP_EXPIRES:
        if (value_size != sizeof(int64_t))
            return WARDEN_E_INVALID_ARG;
        if (!m->has_timestamp || !m->has_expires)
            return WARDEN_E_NOT_APPLICABLE;
        *(int64_t *)value = m->expires;
        return WARDEN_OK;
    case WARDEN_MESSAGE_PROPERTY_SIGNED_PARTS:
        return put_text(m->signed_parts != NULL ? m->signed_parts : "", value, value_size);
    case WARDEN_MESSAGE_PROPERTY_SIGNED_PART_LIST:
        if (value_size != sizeof(warden_string_list))
            return WARDEN_E_INVALID_ARG;
        ((warden_string_list *)value)->items = m->signed_part_items;
        ((warden_string_list *)value)->count = m->signed_part_count;
        return WARDEN_OK;
    case WARDEN_MESSAGE_PROPERTY_ENCRYPTED_PARTS:
        return put_text(m->encrypted.text != NULL ? m->encrypted.text : "", value, value_size);
    case WARDEN_MESSAGE_PROPERTY_ENCRYPTED_PART_LIST:
        if (value_size != sizeof(warden_string_list))
            return WARDEN_E_INVALID_ARG;
        ((warden_string_list *)value)->items = m->encrypted.items;
        ((warden_string_list *)value)->count = m->encrypted.count;
        return WARDEN_OK;
    case WARDEN_MESSAGE_PROPERTY_SOAP_VERSION:
        return put_text(m->soap_version == 12 ? "1.2" : "1.1", value, value_size);
    case WARDEN_MESSAGE_PROPERTY_ATTRS:
        if (value_size != sizeof(warden_attr_list))
            return WARDEN_E_INVALID_ARG;
        ((warden_attr_list *)value)->items = m->attrs;
        ((warden_attr_list *)value)->count = m->attr_count;
        return WARDEN_OK;
    case WARDEN_MESSAGE_PROPERTY_NOW:
        PUT(int64_t, m->now);
    case WARDEN_MESSAGE_PROPERTY_SAML_ASSERTION:
        if (value_size != sizeof(warden_string))
            return WARDEN_E_INVALID_ARG;
        for (size_t i = 0; i < m->token_count; i++) {
            warden_token *token = &m->tokens[i]; /* only its lazy slot changes */
            if (token->kind != WD_TOKEN_SAML || token->saml == NULL)
                continue;
            if (token->saml->xml != NULL) {
                ((warden_string *)value)->data = token->saml->xml;
                ((warden_string *)value)->length = token->saml->xml_length;
                return WARDEN_OK;
            }
            return put_text(lazy_get(&token->saml_xml, token, make_saml_xml), value, value_size);
        }
        return WARDEN_E_NOT_APPLICABLE;
    }
    return WARDEN_E_INVALID_ARG;
}

size_t warden_message_token_count(const warden_message *m)
{
    return m != NULL ? m->token_count : 0;
}

const warden_token *warden_message_token(const warden_message *m, size_t i)
{
    if (m == NULL || i >= m->token_count)
        return NULL;
    return &m->tokens[i];
}

static int put_cert_string(const warden_token *t, const char *text, void *value, size_t value_size)
{
    if (t->cert == NULL)
        return value_size == sizeof(warden_string) ? WARDEN_E_NOT_APPLICABLE : WARDEN_E_INVALID_ARG;
    return put_text(text, value, value_size);
}

static int put_list(const warden_token *t, const warden_string_list *list, void *value, size_t value_size)
{
    if (value_size != sizeof(warden_string_list))
        return WARDEN_E_INVALID_ARG;
    if (t->cert == NULL)
        return WARDEN_E_NOT_APPLICABLE;
    *(warden_string_list *)value = *list;
    return WARDEN_OK;
}

static int put_attrs(const warden_token *t, const warden_attr_list *list, void *value, size_t value_size)
{
    if (value_size != sizeof(warden_attr_list))
        return WARDEN_E_INVALID_ARG;
    if (t->cert == NULL)
        return WARDEN_E_NOT_APPLICABLE;
    *(warden_attr_list *)value = *list;
    return WARDEN_OK;
}

static int put_saml_text(const warden_token *t, const char *text, void *value, size_t value_size)
{
    if (value_size != sizeof(warden_string))
        return WARDEN_E_INVALID_ARG;
    return t->saml != NULL ? put_text(text, value, value_size) : WARDEN_E_NOT_APPLICABLE;
}

static int put_saml_time(const warden_token *t, bool present, int64_t time, void *value, size_t value_size)
{
    if (value_size != sizeof(int64_t))
        return WARDEN_E_INVALID_ARG;
    if (t->saml == NULL || !present)
        return WARDEN_E_NOT_APPLICABLE;
    *(int64_t *)value = time;
    return WARDEN_OK;
}

static const char *token_kind_name(const warden_token *t)
{
    switch (t->kind) {
    case WD_TOKEN_X509: return "x509";
    case WD_TOKEN_USERNAME: return "username";
    case WD_TOKEN_TRANSPORT: return "transport";
    case WD_TOKEN_SAML: return "saml";
    }
    return NULL;
}

static int token_key_type(const warden_token *t)
{
    if (t->kind == WD_TOKEN_USERNAME)
        return WARDEN_KEY_TYPE_NONE;
    if (t->kind == WD_TOKEN_SAML)
        return t->saml != NULL && t->saml->confirmation == WD_SAML_HOLDER_OF_KEY ? WARDEN_KEY_TYPE_ASYMMETRIC
                                                                                 : WARDEN_KEY_TYPE_NONE;
    return WARDEN_KEY_TYPE_ASYMMETRIC;
}

int warden_token_get_property(const warden_token *t, warden_token_property_id id, void *value,
                              size_t value_size)
{
    if (t == NULL || value == NULL)
        return WARDEN_E_INVALID_ARG;
    warden_token *mutable_token = (warden_token *)t; /* only its lazy slots change */
    const wd_cert *cert = t->cert;
    const wd_saml_assertion *saml = t->saml;
    switch (id) {
    case WARDEN_TOKEN_PROPERTY_KEY_TYPE:
        PUT(int, token_key_type(t));
    case WARDEN_TOKEN_PROPERTY_VALID_FROM_TIME:
        PUT(int64_t, t->valid_from);
    case WARDEN_TOKEN_PROPERTY_VALID_TILL_TIME:
        PUT(int64_t, t->valid_till);
    case WARDEN_TOKEN_PROPERTY_SERIALIZED_XML:
        if (value_size != sizeof(warden_string))
            return WARDEN_E_INVALID_ARG;
        return put_text(lazy_get(&mutable_token->serialized_xml, t, make_serialized_xml), value, value_size);
    case WARDEN_TOKEN_PROPERTY_ATTACHED_REFERENCE_XML:
        if (value_size != sizeof(warden_string))
            return WARDEN_E_INVALID_ARG;
        return put_text(lazy_get(&mutable_token->attached_reference, t, make_attached_reference), value, value_size);
    case WARDEN_TOKEN_PROPERTY_UNATTACHED_REFERENCE_XML:
        if (value_size != sizeof(warden_string))
            return WARDEN_E_INVALID_ARG;
        return put_text(lazy_get(&mutable_token->unattached_reference, t, make_unattached_reference), value, value_size);
    case WARDEN_TOKEN_PROPERTY_SYMMETRIC_KEY:
        return value_size == sizeof(warden_bytes) ? WARDEN_E_NOT_APPLICABLE : WARDEN_E_INVALID_ARG;
    case WARDEN_TOKEN_PROPERTY_KIND:
        return put_text(token_kind_name(t), value, value_size);
    case WARDEN_TOKEN_PROPERTY_ROLE:
        return put_text(t->kind == WD_TOKEN_TRANSPORT ? "transport" : t->signing ? "signing" : "supporting", value,
                        value_size);
    case WARDEN_TOKEN_PROPERTY_USERNAME:
        return put_string(&t->username, value, value_size);
    case WARDEN_TOKEN_PROPERTY_CERT_DER:
        if (value_size != sizeof(warden_bytes))
            return WARDEN_E_INVALID_ARG;
        if (cert == NULL)
            return WARDEN_E_NOT_APPLICABLE;
        ((warden_bytes *)value)->data = cert->der;
        ((warden_bytes *)value)->length = cert->der_length;
        return WARDEN_OK;
    case WARDEN_TOKEN_PROPERTY_CERT_SUBJECT:
        return put_cert_string(t, cert ? cert->subject : NULL, value, value_size);
    case WARDEN_TOKEN_PROPERTY_CERT_ISSUER:
        return put_cert_string(t, cert ? cert->issuer : NULL, value, value_size);
    case WARDEN_TOKEN_PROPERTY_CERT_SERIAL:
        return put_cert_string(t, cert ? cert->serial_hex : NULL, value, value_size);
    case WARDEN_TOKEN_PROPERTY_CERT_SHA256:
        return put_cert_string(t, cert ? cert->sha256_hex : NULL, value, value_size);
    case WARDEN_TOKEN_PROPERTY_CERT_KEY_TYPE:
        return put_cert_string(t, cert ? cert->key_type : NULL, value, value_size);
    case WARDEN_TOKEN_PROPERTY_CERT_KEY_BITS:
        if (value_size != sizeof(int))
            return WARDEN_E_INVALID_ARG;
        if (cert == NULL)
            return WARDEN_E_NOT_APPLICABLE;
        *(int *)value = cert->key_bits;
        return WARDEN_OK;
    case WARDEN_TOKEN_PROPERTY_CERT_SUBJECT_ATTRS:
        return put_attrs(t, cert ? &cert->subject_attrs : NULL, value, value_size);
    case WARDEN_TOKEN_PROPERTY_CERT_ISSUER_ATTRS:
        return put_attrs(t, cert ? &cert->issuer_attrs : NULL, value, value_size);
    case WARDEN_TOKEN_PROPERTY_CERT_SAN_DNS:
        return put_list(t, cert ? &cert->san_dns : NULL, value, value_size);
    case WARDEN_TOKEN_PROPERTY_CERT_SAN_EMAIL:
        return put_list(t, cert ? &cert->san_email : NULL, value, value_size);
    case WARDEN_TOKEN_PROPERTY_CERT_SAN_URI:
        return put_list(t, cert ? &cert->san_uri : NULL, value, value_size);
    case WARDEN_TOKEN_PROPERTY_CERT_SAN_IP:
        return put_list(t, cert ? &cert->san_ip : NULL, value, value_size);
    case WARDEN_TOKEN_PROPERTY_PASSWORD_TYPE:
        return put_text(t->password_type, value, value_size);
    case WARDEN_TOKEN_PROPERTY_SAML_VERSION:
        return put_saml_text(t, saml ? saml->version : NULL, value, value_size);
    case WARDEN_TOKEN_PROPERTY_SAML_ID:
        return put_saml_text(t, saml ? saml->id : NULL, value, value_size);
    case WARDEN_TOKEN_PROPERTY_SAML_ISSUER:
        return put_saml_text(t, saml ? saml->issuer : NULL, value, value_size);
    case WARDEN_TOKEN_PROPERTY_SAML_SUBJECT:
        return put_saml_text(t, saml ? saml->subject : NULL, value, value_size);
    case WARDEN_TOKEN_PROPERTY_SAML_NAME_ID_FORMAT:
        return put_saml_text(t, saml ? saml->name_id_format : NULL, value, value_size);
    case WARDEN_TOKEN_PROPERTY_SAML_CONFIRMATION:
        return put_saml_text(t, saml ? wd_saml_confirmation_name(saml->confirmation) : NULL, value, value_size);
    case WARDEN_TOKEN_PROPERTY_SAML_AUTHN_CONTEXT:
        return put_saml_text(t, saml ? saml->authn_context : NULL, value, value_size);
    case WARDEN_TOKEN_PROPERTY_SAML_AUDIENCES:
        if (value_size != sizeof(warden_string_list))
            return WARDEN_E_INVALID_ARG;
        if (saml == NULL)
            return WARDEN_E_NOT_APPLICABLE;
        ((warden_string_list *)value)->items = saml->audience_items;
        ((warden_string_list *)value)->count = saml->audience_count;
        return WARDEN_OK;
    case WARDEN_TOKEN_PROPERTY_SAML_ATTRIBUTES:
        if (value_size != sizeof(warden_attr_list))
            return WARDEN_E_INVALID_ARG;
        if (saml == NULL)
            return WARDEN_E_NOT_APPLICABLE;
        ((warden_attr_list *)value)->items = saml->attribute_pairs;
        ((warden_attr_list *)value)->count = saml->attribute_pair_count;
        return WARDEN_OK;
    case WARDEN_TOKEN_PROPERTY_SAML_NOT_BEFORE:
        return put_saml_time(t, saml != NULL && saml->has_not_before, saml ? saml->not_before : 0, value, value_size);
    case WARDEN_TOKEN_PROPERTY_SAML_NOT_ON_OR_AFTER:
        return put_saml_time(t, saml != NULL && saml->has_not_on_or_after, saml ? saml->not_on_or_after : 0, value,
                             value_size);
    case WARDEN_TOKEN_PROPERTY_SAML_ISSUE_INSTANT:
        return put_saml_time(t, saml != NULL, saml ? saml->issue_instant : 0, value, value_size);
    }
    return WARDEN_E_INVALID_ARG;
}

void warden_message_free(warden_message *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->token_count; i++) {
        warden_token *t = &m->tokens[i];
        wd_cert_unref(t->cert);
        if (t->saml != NULL) {
            wd_saml_clear(t->saml);
            free(t->saml);
        }
        free((char *)t->username.data);
        lazy_free(&t->serialized_xml);
        lazy_free(&t->attached_reference);
        lazy_free(&t->unattached_reference);
        lazy_free(&t->saml_xml);
    }
    free(m->tokens);
    for (size_t i = 0; i < m->attr_count; i++) {
        free((char *)m->attrs[i].name);
        free((char *)m->attrs[i].value);
    }
    free(m->attrs);
    free((char *)m->action.data);
    free((char *)m->to.data);
    free((char *)m->http_action.data);
    free((char *)m->http_method.data);
    free((char *)m->http_path.data);
    free((char *)m->message_id.data);
    free((char *)m->operation.data);
    free(m->signed_parts);
    free(m->signed_part_items);
    free(m->signed_part_storage);
    free(m->encrypted.text);
    free(m->encrypted.items);
    free(m->encrypted.storage);
    if (m->document != NULL)
        xmlFreeDoc(m->document);
    free(m);
}
