/*
** decrypt.c — XML Encryption for the Security header processor (decrypt.h): the recipient's
** key pair, EncryptedKey, ReferenceList / DataReference, EncryptedData and EncryptedHeader,
** and the plaintext's way into the document.
**
** The defences against the padding-oracle family follow WSS4J and Santuario. Whatever fails
** inside a decryption, the sender learns one thing: decrypt-failed, with one detail text.
** And the work does not stop at the first failure: a key that does not unwrap is replaced by
** a random one (wd_xenc_session_key), the data is decrypted with it all the same, and the
** plaintext is parsed whether the cipher was satisfied or not; the flags are combined only at
** the end. Checks on the structure, which the sender can evaluate without any secret (an
** algorithm, a reference), come first and keep their own reasons.
**
** The plaintext is parsed by the same parser as a message (xml_parse.c: no DTD, no entity,
** no processing instruction, the limits), inside a wrapper element that declares every
** namespace in scope where it goes, and copied into the document before the EncryptedData,
** which then leaves the document (and the ID table) but is kept until wd_decryption_clear.
*/
#include "decrypt.h"

#include <libxml/parser.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../include/warden.h"
#include "base64.h"
#include "invariant.h"
#include "key_reference.h"
#include "namespaces.h"
#include "xml_parse.h"
#include "xml_text.h"

struct wd_recipient {
    EVP_PKEY        *key;     /* our private key (RSA) */
    wd_cert         *cert;    /* our certificate */
    wd_trust_store  *lookup;  /* a store whose known certificates are those of decrypt.cert: finds
                              ** ours by SKI, thumbprint or IssuerSerial like any key reference */
    wd_xenc_ciphers  ciphers;
};

struct wd_unwrapped_key {
    const xmlNode *element;   /* the EncryptedKey */
    unsigned char  bytes[WD_XENC_MAX_UNWRAPPED];
    size_t         length;
    int            ok;        /* 1 when the padding was right; never branched on before a decryption */
};

/* ---- the recipient ---------------------------------------------------------------- */

int wd_recipient_load(const char *key_path, const char *cert_path, wd_recipient **out, char *message,
                      size_t capacity)
{
    wd_recipient *recipient = NULL;
    FILE *file = NULL;
    X509 *x509 = NULL;
    unsigned char *der = NULL;
    wd_failure failure = { 0 };
    int status = WARDEN_E_NOMEM;

    *out = NULL;
    recipient = calloc(1, sizeof *recipient);
    if (recipient == NULL) {
        snprintf(message, capacity, "out of memory");
        goto done;
    }
    file = fopen(key_path, "r");
    if (file == NULL) {
        status = WARDEN_E_IO;
        snprintf(message, capacity, "decrypt.key: cannot read %s", key_path);
        goto done;
    }
    recipient->key = PEM_read_PrivateKey(file, NULL, NULL, NULL);
    fclose(file);
    file = NULL;
    if (recipient->key == NULL) {
        status = WARDEN_E_CONFIG;
        snprintf(message, capacity, "decrypt.key: %s holds no unencrypted PEM private key", key_path);
        goto done;
    }
    if (!EVP_PKEY_is_a(recipient->key, "RSA")) {
        status = WARDEN_E_CONFIG;
        snprintf(message, capacity, "decrypt.key: %s is not an RSA key (key transport is RSA-OAEP)", key_path);
        goto done;
    }
    file = fopen(cert_path, "r");
    if (file == NULL) {
        status = WARDEN_E_IO;
        snprintf(message, capacity, "decrypt.cert: cannot read %s", cert_path);
        goto done;
    }
    x509 = PEM_read_X509(file, NULL, NULL, NULL);
    if (x509 == NULL) {
        status = WARDEN_E_CONFIG;
        snprintf(message, capacity, "decrypt.cert: %s holds no PEM certificate", cert_path);
        goto done;
    }
    int der_length = i2d_X509(x509, &der);
    if (der_length <= 0 || wd_cert_from_der(der, (size_t)der_length, &recipient->cert, &failure) != 0) {
        status = WARDEN_E_CONFIG;
        snprintf(message, capacity, "decrypt.cert: %s: %s", cert_path, failure.detail);
        goto done;
    }
    if (EVP_PKEY_eq(recipient->cert->key, recipient->key) != 1) {
        status = WARDEN_E_CONFIG;
        snprintf(message, capacity, "decrypt.key (%s) is not the key of decrypt.cert (%s)", key_path, cert_path);
        goto done;
    }
    if ((status = wd_trust_store_new(&recipient->lookup)) != WARDEN_OK) {
        snprintf(message, capacity, "out of memory");
        goto done;
    }
    if ((status = wd_trust_store_add_known(recipient->lookup, cert_path, message, capacity)) != WARDEN_OK)
        goto done;
    if (wd_xenc_ciphers_init(&recipient->ciphers, &failure) != 0) {
        status = WARDEN_E_INTERNAL;
        snprintf(message, capacity, "%s", failure.detail);
        goto done;
    }
    *out = recipient;
    recipient = NULL;
    status = WARDEN_OK;

done:
    ERR_clear_error();
    if (file != NULL)
        fclose(file);
    OPENSSL_free(der);
    X509_free(x509);
    wd_recipient_free(recipient);
    return status;
}

void wd_recipient_free(wd_recipient *recipient)
{
    if (recipient == NULL)
        return;
    EVP_PKEY_free(recipient->key);
    wd_cert_unref(recipient->cert);
    wd_trust_store_free(recipient->lookup);
    wd_xenc_ciphers_clear(&recipient->ciphers);
    free(recipient);
}

bool wd_recipient_owns(const wd_recipient *recipient, const wd_cert *cert)
{
    return recipient != NULL && cert != NULL &&
           memcmp(recipient->cert->sha256, cert->sha256, sizeof cert->sha256) == 0;
}

/* ---- failing ---------------------------------------------------------------------- */

/* The one answer to every failure of a decryption; the cause is for the engine's log only. */
static int decrypt_failed(wd_failure *failure, const char *format, ...) __attribute__((format(printf, 2, 3)));
static int decrypt_failed(wd_failure *failure, const char *format, ...)
{
    wd_fail(failure, WD_REASON_DECRYPT_FAILED, "%s", WD_DECRYPT_FAILED_TEXT);
    if (failure != NULL) {
        va_list args;
        va_start(args, format);
        vsnprintf(failure->cause, sizeof failure->cause, format, args);
        va_end(args);
    }
    return -1;
}

static const char *element_name(const xmlNode *element)
{
    return element != NULL && element->name != NULL ? (const char *)element->name : "nothing";
}

static bool is_within(const xmlNode *node, const xmlNode *ancestor)
{
    for (; node != NULL; node = node->parent)
        if (node == ancestor)
            return true;
    return false;
}

/* An element's base64 text, decoded (malloc'd). Not text, not base64, empty: token-unsupported. */
static unsigned char *element_base64(const xmlNode *element, size_t *length, const char *what,
                                     wd_failure *failure)
{
    size_t text_length = 0;
    char *text = wd_xml_text(element, true, &text_length);
    if (text == NULL) {
        if (text_length == SIZE_MAX)
            wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "%s holds more than text", what);
        else
            wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory reading %s", what);
        return NULL;
    }
    unsigned char *bytes = wd_base64_decode(text, text_length, length);
    free(text);
    if (bytes == NULL || *length == 0) {
        free(bytes);
        wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "%s is not base64 or empty", what);
        return NULL;
    }
    return bytes;
}

/* ---- EncryptedKey: algorithm and recipient ------------------------------------------ */

typedef struct digest_name { const char *uri; const char *name; } digest_name;

/* OAEP's digests. SHA-1 in OAEP is the standard's default and not weak there (no collision
** matters to a mask), so algorithms.allow_sha1 does not apply. */
static const digest_name oaep_digests[] = {
    { WD_ALG_SHA1, "SHA1" }, { WD_ALG_SHA256, "SHA256" }, { WD_ALG_SHA384, "SHA384" }, { WD_ALG_SHA512, "SHA512" },
};
static const digest_name mgf_digests[] = {
    { WD_XENC_MGF1_SHA1, "SHA1" }, { WD_XENC_MGF1_SHA224, "SHA224" }, { WD_XENC_MGF1_SHA256, "SHA256" },
    { WD_XENC_MGF1_SHA384, "SHA384" }, { WD_XENC_MGF1_SHA512, "SHA512" },
};

static const char *find_digest(const digest_name *table, size_t count, const char *uri)
{
    for (size_t i = 0; uri != NULL && i < count; i++)
        if (strcmp(table[i].uri, uri) == 0)
            return table[i].name;
    return NULL;
}

/* EncryptionMethod of an EncryptedKey into *transport; *label gets a malloc'd OAEPparams. */
static int read_transport(const xmlNode *method, bool allow_rsa15, wd_xenc_transport *transport,
                          unsigned char **label, wd_failure *failure)
{
    const char *uri = wd_xml_attr(method, NULL, "Algorithm");
    bool xmlenc11 = false;

    memset(transport, 0, sizeof *transport);
    *label = NULL;
    if (uri == NULL)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "an EncryptedKey's EncryptionMethod has no Algorithm");
    if (strcmp(uri, WD_XENC_RSA_15) == 0) {
        /* Bleichenbacher: PKCS#1 v1.5 decryption is an oracle unless everything after it is
        ** indistinguishable, which a SOAP stack cannot promise. */
        if (!allow_rsa15)
            return wd_fail(failure, WD_REASON_WEAK_ALGORITHM, "key transport RSA-1.5 is off (decrypt.allow_rsa15)");
        if (wd_xml_first_element(method) != NULL)
            return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "RSA-1.5 key transport takes no parameters");
        return 0;
    }
    if (strcmp(uri, WD_XENC_RSA_OAEP) == 0)
        xmlenc11 = true;
    else if (strcmp(uri, WD_XENC_RSA_OAEP_MGF1P) != 0)
        return wd_fail(failure, WD_REASON_WEAK_ALGORITHM, "key transport %.120s is not on the allow-list", uri);
    transport->oaep = true;
    transport->oaep_digest = "SHA1";
    transport->mgf1_digest = "SHA1";
    for (xmlNode *child = wd_xml_first_element(method); child != NULL; child = wd_xml_next_element(child)) {
        if (wd_xml_is(child, WD_NS_DSIG, "DigestMethod")) {
            const char *digest = wd_xml_attr(child, NULL, "Algorithm");
            transport->oaep_digest = find_digest(oaep_digests, sizeof oaep_digests / sizeof oaep_digests[0], digest);
            if (transport->oaep_digest == NULL)
                return wd_fail(failure, WD_REASON_WEAK_ALGORITHM, "OAEP digest %.120s is not on the allow-list",
                               digest != NULL ? digest : "(without Algorithm)");
        } else if (xmlenc11 && wd_xml_is(child, WD_NS_XENC11, "MGF")) {
            const char *mgf = wd_xml_attr(child, NULL, "Algorithm");
            transport->mgf1_digest = find_digest(mgf_digests, sizeof mgf_digests / sizeof mgf_digests[0], mgf);
            if (transport->mgf1_digest == NULL)
                return wd_fail(failure, WD_REASON_WEAK_ALGORITHM, "mask generation %.120s is not on the allow-list",
                               mgf != NULL ? mgf : "(without Algorithm)");
        } else if (wd_xml_is(child, WD_NS_XENC, "OAEPparams") && *label == NULL) {
            *label = element_base64(child, &transport->label_length, "OAEPparams", failure);
            if (*label == NULL)
                return -1;
            transport->label = *label;
        } else {
            return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "EncryptionMethod parameter %.60s is not supported",
                           element_name(child));
        }
    }
    return 0;
}

/* The certificate a ds:X509Data (directly in KeyInfo, as xmlsec writes it) names, found
** among ours: X509Certificate, X509IssuerSerial or X509SKI. NULL when it names another. */
static int resolve_x509_data(const wd_recipient *recipient, const xmlNode *x509_data, wd_cert **cert,
                             wd_failure *failure)
{
    xmlNode *child = wd_xml_first_element(x509_data);
    size_t length = 0;

    *cert = NULL;
    if (child == NULL || wd_xml_next_element(child) != NULL)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "X509Data must name one certificate one way");
    if (wd_xml_is(child, WD_NS_DSIG, "X509Certificate")) {
        unsigned char *der = element_base64(child, &length, "X509Certificate", failure);
        if (der == NULL)
            return -1;
        int status = wd_trust_store_parse(recipient->lookup, der, length, cert, failure);
        free(der);
        return status;
    }
    if (wd_xml_is(child, WD_NS_DSIG, "X509SKI")) {
        unsigned char *ski = element_base64(child, &length, "X509SKI", failure);
        if (ski == NULL)
            return -1;
        *cert = wd_trust_store_find_ski(recipient->lookup, ski, length);
        free(ski);
        return 0;
    }
    if (wd_xml_is(child, WD_NS_DSIG, "X509IssuerSerial")) {
        xmlNode *name = wd_xml_first_element(child);
        xmlNode *serial = wd_xml_next_element(name);
        if (!wd_xml_is(name, WD_NS_DSIG, "X509IssuerName") || !wd_xml_is(serial, WD_NS_DSIG, "X509SerialNumber"))
            return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "X509IssuerSerial is not IssuerName, SerialNumber");
        char *issuer = wd_xml_text(name, true, NULL);
        char *number = wd_xml_text(serial, true, NULL);
        if (issuer != NULL && number != NULL)
            *cert = wd_trust_store_find_issuer_serial(recipient->lookup, issuer, number);
        free(issuer);
        free(number);
        return 0;
    }
    return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "X509Data holds %.60s", element_name(child));
}

/* Whether the EncryptedKey's KeyInfo names our certificate, in the forms WSS4J and xmlsec
** write: a SecurityTokenReference (IssuerSerial, SKI, thumbprint, an X509v3 key identifier,
** a direct reference to a BinarySecurityToken of the header) or a bare ds:X509Data. */
static int check_recipient(const wd_decryption *d, xmlNode *key_info, wd_failure *failure)
{
    wd_cert *cert = NULL;
    xmlNode *token = NULL;
    wd_failure local = { 0 };
    xmlNode *form = wd_xml_first_element(key_info);
    int status;

    if (key_info == NULL || form == NULL)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "an EncryptedKey without KeyInfo names no recipient");
    if (wd_xml_is(form, WD_NS_DSIG, "X509Data") && wd_xml_next_element(form) == NULL)
        status = resolve_x509_data(d->recipient, form, &cert, &local);
    else
        status = wd_key_reference_resolve(key_info, d->recipient->lookup, d->ids, d->envelope->security, NULL, 0,
                                          &cert, &token, &local);
    if (status != 0 && local.reason != WD_REASON_CERT_UNTRUSTED) {
        *failure = local;
        return -1;
    }
    bool ours = status == 0 && wd_recipient_owns(d->recipient, cert);
    wd_cert_unref(cert);
    if (!ours)
        return decrypt_failed(failure, "the EncryptedKey is for another recipient than decrypt.cert");
    return 0;
}

/* Moves *cipher from a CipherData to the one CipherValue it must hold. */
static int take_cipher_value(xmlNode **cipher, wd_failure *failure)
{
    xmlNode *value = wd_xml_first_element(*cipher);
    if (!wd_xml_is(value, WD_NS_XENC, "CipherValue") || wd_xml_next_element(value) != NULL)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED,
                       "CipherData holds no CipherValue (CipherReference is not supported)");
    *cipher = value;
    return 0;
}

/* ---- EncryptedKey ------------------------------------------------------------------- */

typedef struct encrypted_key_parts {
    xmlNode *method, *key_info, *cipher_value, *reference_list;
} encrypted_key_parts;

static int read_encrypted_key(const xmlNode *encrypted_key, encrypted_key_parts *parts, wd_failure *failure)
{
    memset(parts, 0, sizeof *parts);
    for (xmlNode *child = wd_xml_first_element(encrypted_key); child != NULL; child = wd_xml_next_element(child)) {
        xmlNode **slot = NULL;
        if (wd_xml_is(child, WD_NS_XENC, "EncryptionMethod"))
            slot = &parts->method;
        else if (wd_xml_is(child, WD_NS_DSIG, "KeyInfo"))
            slot = &parts->key_info;
        else if (wd_xml_is(child, WD_NS_XENC, "CipherData"))
            slot = &parts->cipher_value;
        else if (wd_xml_is(child, WD_NS_XENC, "ReferenceList"))
            slot = &parts->reference_list;
        else if (wd_xml_is(child, WD_NS_XENC, "CarriedKeyName") || wd_xml_is(child, WD_NS_XENC, "EncryptionProperties"))
            continue;
        else
            return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "EncryptedKey holds %.60s", element_name(child));
        if (*slot != NULL)
            return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "EncryptedKey holds two %.60s", element_name(child));
        *slot = child;
    }
    if (parts->method == NULL || parts->cipher_value == NULL)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "EncryptedKey lacks its EncryptionMethod or CipherData");
    return take_cipher_value(&parts->cipher_value, failure);
}

/* Unwraps an EncryptedKey into key: the recipient and the algorithm first (public), then
** the one private-key operation, whose outcome stays a flag. */
static int unwrap_key(wd_decryption *d, xmlNode *encrypted_key, wd_unwrapped_key *key,
                      encrypted_key_parts *parts, wd_failure *failure)
{
    wd_xenc_transport transport;
    unsigned char *label = NULL;
    unsigned char *wrapped = NULL;
    size_t wrapped_length = 0;
    int status = -1;

    if (read_encrypted_key(encrypted_key, parts, failure) != 0)
        return -1;
    if (read_transport(parts->method, d->settings->allow_rsa15, &transport, &label, failure) != 0)
        goto done;
    if (d->recipient == NULL) {
        decrypt_failed(failure, "an EncryptedKey arrived and no decrypt.key is configured");
        goto done;
    }
    if (check_recipient(d, parts->key_info, failure) != 0)
        goto done;
    if (d->unwrap_count == WD_DECRYPT_MAX_KEYS) {
        wd_fail(failure, WD_REASON_LIMIT_EXCEEDED, "more than %d EncryptedKeys", WD_DECRYPT_MAX_KEYS);
        goto done;
    }
    d->unwrap_count++;
    wrapped = element_base64(parts->cipher_value, &wrapped_length, "the EncryptedKey's CipherValue", failure);
    if (wrapped == NULL)
        goto done;
    memset(key, 0, sizeof *key);
    key->element = encrypted_key;
    key->ok = wd_xenc_unwrap(d->recipient->key, &transport, wrapped, wrapped_length, key->bytes, &key->length);
    if (key->ok < 0) {
        wd_fail_internal(failure, WARDEN_E_INTERNAL, "the RSA key transport could not run");
        goto done;
    }
    status = 0;

done:
    free(label);
    free(wrapped);
    return status;
}

static const wd_unwrapped_key *find_key(const wd_decryption *d, const xmlNode *element)
{
    for (size_t i = 0; i < d->key_count; i++)
        if (d->keys[i].element == element)
            return &d->keys[i];
    return NULL;
}

/* ---- the plaintext into the document ---------------------------------------------- */

typedef struct text_buffer {
    char  *data;
    size_t length, capacity;
} text_buffer;

static bool append(text_buffer *buffer, const char *text, size_t length)
{
    if (length > buffer->capacity - buffer->length) {
        size_t capacity = buffer->capacity > 0 ? buffer->capacity : 256;
        while (capacity - buffer->length < length) {
            if (capacity > SIZE_MAX / 2)
                return false;
            capacity *= 2;
        }
        char *grown = realloc(buffer->data, capacity);
        if (grown == NULL)
            return false;
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->length, text, length);
    buffer->length += length;
    return true;
}

static bool append_escaped(text_buffer *buffer, const char *text)
{
    for (const char *p = text; *p != '\0'; p++) {
        const char *escape = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '"' ? "&quot;" : NULL;
        if (!(escape != NULL ? append(buffer, escape, strlen(escape)) : append(buffer, p, 1)))
            return false;
    }
    return true;
}

/* The wrapper document's text: <plaintext NAMESPACES-IN-SCOPE>PLAINTEXT</plaintext>. */
static bool wrap_plaintext(xmlNode *parent, const unsigned char *plaintext, size_t length, text_buffer *buffer,
                           int *namespaces)
{
    xmlNs **in_scope = xmlGetNsList(parent->doc, parent);
    bool ok = append(buffer, "<plaintext", 10);

    *namespaces = 0;
    for (size_t i = 0; ok && in_scope != NULL && in_scope[i] != NULL; i++) {
        const xmlNs *ns = in_scope[i];
        if (ns->prefix != NULL && strcmp((const char *)ns->prefix, "xml") == 0)
            continue;
        ok = append(buffer, " xmlns", 6) &&
             (ns->prefix == NULL || (append(buffer, ":", 1) && append(buffer, (const char *)ns->prefix,
                                                                      strlen((const char *)ns->prefix)))) &&
             append(buffer, "=\"", 2) && append_escaped(buffer, ns->href != NULL ? (const char *)ns->href : "") &&
             append(buffer, "\"", 1);
        (*namespaces)++;
    }
    xmlFree(in_scope);
    return ok && append(buffer, ">", 1) && append(buffer, (const char *)plaintext, length) &&
           append(buffer, "</plaintext>", 12);
}

static int depth_of(const xmlNode *node)
{
    int depth = 0;
    for (; node != NULL && node->type == XML_ELEMENT_NODE; node = node->parent)
        depth++;
    return depth;
}

static bool is_soap_structure(const xmlNode *node)
{
    if (node->ns == NULL || node->ns->href == NULL)
        return false;
    const char *ns = (const char *)node->ns->href;
    if (strcmp(ns, WD_NS_SOAP11) != 0 && strcmp(ns, WD_NS_SOAP12) != 0)
        return false;
    const char *name = (const char *)node->name;
    return strcmp(name, "Envelope") == 0 || strcmp(name, "Header") == 0 || strcmp(name, "Body") == 0;
}

/* Whether the parsed plaintext fits where it goes: one element (and blank text) for Type
** Element; and never a SOAP Envelope, Header or Body, which would make a second Body. */
static bool plaintext_fits(const xmlNode *wrapper, bool element_type, const char **why)
{
    size_t elements = 0;
    for (const xmlNode *child = wrapper->children; child != NULL; child = child->next) {
        if (child->type == XML_ELEMENT_NODE) {
            elements++;
        } else if (element_type) {
            bool blank = child->type == XML_TEXT_NODE && xmlIsBlankNode(child);
            if (!blank) {
                *why = "Type Element holds more than one element";
                return false;
            }
        }
    }
    if (element_type && elements != 1) {
        *why = "Type Element does not hold exactly one element";
        return false;
    }
    for (const xmlNode *node = wrapper->children; node != NULL;) {
        if (node->type == XML_ELEMENT_NODE && is_soap_structure(node)) {
            *why = "the plaintext holds a SOAP Envelope, Header or Body";
            return false;
        }
        if (node->type == XML_ELEMENT_NODE && node->children != NULL) {
            node = node->children;
            continue;
        }
        while (node != NULL && node->next == NULL)
            node = node->parent != wrapper ? node->parent : NULL;
        if (node != NULL)
            node = node->next;
    }
    return true;
}

/* Parses the plaintext in the namespace context of parent. Returns the wrapper document (the
** caller frees it) or NULL with *why set; *nomem on allocation failure. */
static xmlDoc *parse_plaintext(const wd_decryption *d, xmlNode *parent, const unsigned char *plaintext,
                               size_t length, bool element_type, const char **why, bool *nomem)
{
    text_buffer buffer = { NULL, 0, 0 };
    xmlDoc *document = NULL;
    int namespaces = 0;
    wd_failure local = { 0 };

    *nomem = false;
    if (!wrap_plaintext(parent, plaintext, length, &buffer, &namespaces)) {
        *nomem = true;
        goto done;
    }
    /* The message's limits, counted from where the plaintext goes: the wrapper stands for
    ** parent, so its children are as deep as the plaintext's elements will be. */
    wd_limits limits = d->settings->limits;
    limits.depth = limits.depth - depth_of(parent) + 1;
    if (limits.attributes < namespaces)
        limits.attributes = namespaces;
    limits.message_bytes = buffer.length;
    if (limits.depth < 2) {
        *why = "no depth is left for the plaintext (limits.depth)";
        goto done;
    }
    if (wd_xml_parse(buffer.data, buffer.length, &limits, &document, &local) != 0) {
        *nomem = local.code == WARDEN_E_NOMEM;
        *why = "the plaintext is not well-formed XML within the limits";
        goto done;
    }
    if (!plaintext_fits(xmlDocGetRootElement(document), element_type, why)) {
        xmlFreeDoc(document);
        document = NULL;
    }

done:
    free(buffer.data);
    return document;
}

static int note_inserted(wd_decryption *d, xmlNode *element, wd_failure *failure)
{
    if (d->inserted_count == d->inserted_capacity) {
        size_t capacity = d->inserted_capacity > 0 ? d->inserted_capacity * 2 : 16;
        xmlNode **grown = realloc(d->inserted, capacity * sizeof *grown);
        if (grown == NULL)
            return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");
        d->inserted = grown;
        d->inserted_capacity = capacity;
    }
    d->inserted[d->inserted_count++] = element;
    return 0;
}

/* Orders element pointers by address (wd_decryption_inserted searches them). */
static int compare_nodes(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(xmlNode *const *)a, y = (uintptr_t)*(xmlNode *const *)b;
    return (x > y) - (x < y);
}

/* Puts the wrapper's children in place of replaced (copies in the message's document, which
** declare the namespaces they use), moves the IDs, and keeps replaced aside. */
static int replace_with_plaintext(wd_decryption *d, xmlNode *replaced, xmlDoc *plaintext, bool element_type,
                                  wd_failure *failure)
{
    xmlNode *wrapper = xmlDocGetRootElement(plaintext);
    xmlNode *parent = replaced->parent;
    xmlNode *element = NULL;
    size_t first = d->inserted_count;

    WD_ASSERT(d->done_count < WD_DECRYPT_MAX);
    for (xmlNode *child = wrapper->children; child != NULL; child = child->next) {
        xmlNode *copy = xmlDocCopyNode(child, replaced->doc, 1);
        if (copy == NULL)
            return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory placing the plaintext");
        bool is_element = copy->type == XML_ELEMENT_NODE;
        xmlNode *placed = xmlAddPrevSibling(replaced, copy); /* text may merge into its neighbour */
        if (placed == NULL) {
            xmlFreeNode(copy);
            return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory placing the plaintext");
        }
        if (is_element) {
            if (note_inserted(d, placed, failure) != 0)
                return -1;
            element = placed;
        }
    }
    xmlUnlinkNode(replaced);
    wd_ids_forget(d->ids, replaced);
    d->done[d->done_count++] = (wd_decrypted){ replaced, parent, element_type ? element : NULL, first,
                                               d->inserted_count };
    for (size_t i = first; i < d->inserted_count; i++)
        if (wd_ids_add(d->ids, d->inserted[i], failure) != 0)
            return -1;
    qsort(d->inserted + first, d->inserted_count - first, sizeof *d->inserted, compare_nodes);
    return 0;
}

/* ---- EncryptedData ---------------------------------------------------------------- */

typedef struct encrypted_data_parts {
    bool           element_type;
    xmlNode       *method, *key_info, *cipher_value;
    const wd_xenc_data_algorithm *algorithm;
} encrypted_data_parts;

static int read_encrypted_data(const wd_decryption *d, const xmlNode *encrypted_data, encrypted_data_parts *parts,
                               wd_failure *failure)
{
    const char *type = wd_xml_attr(encrypted_data, NULL, "Type");

    memset(parts, 0, sizeof *parts);
    if (type != NULL && strcmp(type, WD_XENC_TYPE_ELEMENT) == 0)
        parts->element_type = true;
    else if (type == NULL || strcmp(type, WD_XENC_TYPE_CONTENT) != 0)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "EncryptedData Type %.120s is neither Element nor Content",
                       type != NULL ? type : "(absent)");
    for (xmlNode *child = wd_xml_first_element(encrypted_data); child != NULL; child = wd_xml_next_element(child)) {
        xmlNode **slot = NULL;
        if (wd_xml_is(child, WD_NS_XENC, "EncryptionMethod"))
            slot = &parts->method;
        else if (wd_xml_is(child, WD_NS_DSIG, "KeyInfo"))
            slot = &parts->key_info;
        else if (wd_xml_is(child, WD_NS_XENC, "CipherData"))
            slot = &parts->cipher_value;
        else if (wd_xml_is(child, WD_NS_XENC, "EncryptionProperties"))
            continue;
        else
            return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "EncryptedData holds %.60s", element_name(child));
        if (*slot != NULL)
            return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "EncryptedData holds two %.60s", element_name(child));
        *slot = child;
    }
    if (parts->method == NULL || parts->cipher_value == NULL)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "EncryptedData lacks its EncryptionMethod or CipherData");
    if (take_cipher_value(&parts->cipher_value, failure) != 0)
        return -1;
    const char *uri = wd_xml_attr(parts->method, NULL, "Algorithm");
    if (uri == NULL)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "an EncryptedData's EncryptionMethod has no Algorithm");
    for (xmlNode *child = wd_xml_first_element(parts->method); child != NULL; child = wd_xml_next_element(child))
        if (!wd_xml_is(child, WD_NS_XENC, "KeySize"))
            return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "EncryptionMethod parameter %.60s is not supported",
                           element_name(child));
    return wd_xenc_data_algorithm_find(uri, d->settings->allow_cbc, &parts->algorithm, failure);
}

/* The key of an EncryptedData named by a standalone ReferenceList: a SecurityTokenReference
** to an EncryptedKey unwrapped earlier in the header, or an EncryptedKey in its KeyInfo. */
static int key_from_key_info(wd_decryption *d, xmlNode *key_info, wd_unwrapped_key *embedded,
                             const wd_unwrapped_key **key, wd_failure *failure)
{
    xmlNode *form = wd_xml_first_element(key_info);

    *key = NULL;
    if (form == NULL || wd_xml_next_element(form) != NULL)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "an EncryptedData's KeyInfo must name one key");
    if (wd_xml_is(form, WD_NS_XENC, "EncryptedKey")) {
        encrypted_key_parts parts;
        if (unwrap_key(d, form, embedded, &parts, failure) != 0)
            return -1;
        *key = embedded;
        return 0;
    }
    xmlNode *reference = wd_xml_is(form, WD_NS_WSSE, "SecurityTokenReference") ? wd_xml_first_element(form) : NULL;
    const char *uri = wd_xml_is(reference, WD_NS_WSSE, "Reference") ? wd_xml_attr(reference, NULL, "URI") : NULL;
    if (uri == NULL || uri[0] != '#' || uri[1] == '\0')
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED,
                       "an EncryptedData's KeyInfo is neither an EncryptedKey nor a reference to one");
    xmlNode *target = wd_ids_find(d->ids, uri + 1, strlen(uri + 1));
    *key = target != NULL ? find_key(d, target) : NULL;
    if (*key == NULL)
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID,
                       "an EncryptedData refers to \"%.100s\", not an EncryptedKey read earlier in the header",
                       uri + 1);
    return 0;
}

/* Namespace declarations on node and its ancestors, shadowed ones included; counting stops
** past limit. */
static size_t declarations_in_scope(const xmlNode *node, size_t limit)
{
    size_t count = 0;
    for (; node != NULL && node->type == XML_ELEMENT_NODE && count <= limit; node = node->parent)
        for (const xmlNs *ns = node->nsDef; ns != NULL && count <= limit; ns = ns->next)
            count++;
    return count;
}

/* Where encrypted data may be: in the Body, a header block, a child of our Security header;
** and not under more namespace declarations than a plaintext's wrapper may repeat. */
static int check_place(const wd_decryption *d, const xmlNode *replaced, bool element_type, wd_failure *failure)
{
    const wd_envelope *envelope = d->envelope;
    const xmlNode *parent = replaced->parent;

    if (parent != NULL && declarations_in_scope(parent, WD_DECRYPT_MAX_NAMESPACES) > WD_DECRYPT_MAX_NAMESPACES)
        return wd_fail(failure, WD_REASON_LIMIT_EXCEEDED,
                       "encrypted data under more than %d namespace declarations", WD_DECRYPT_MAX_NAMESPACES);

    if (is_within(replaced, envelope->body) && replaced != envelope->body)
        return 0;
    if (parent != NULL && (parent == envelope->security || (envelope->header != NULL && parent == envelope->header))) {
        if (!element_type)
            return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "encrypted content (Type Content) in a header");
        return 0;
    }
    return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "encrypted data outside the Body and the headers");
}

/* Decrypts the EncryptedData (or EncryptedHeader) a DataReference names. key: the
** EncryptedKey whose ReferenceList names it, or NULL to take it from its KeyInfo. */
static int decrypt_reference(wd_decryption *d, const xmlNode *data_reference, const wd_unwrapped_key *key,
                             wd_failure *failure)
{
    const char *uri = wd_xml_attr(data_reference, NULL, "URI");
    encrypted_data_parts parts;
    wd_unwrapped_key *embedded = NULL;
    unsigned char *ciphertext = NULL, *plaintext = NULL;
    size_t ciphertext_length = 0, plaintext_length = 0;
    unsigned char session[64];
    xmlDoc *parsed = NULL;
    const char *why = NULL;
    bool nomem = false;
    int status = -1;

    if (uri == NULL || uri[0] != '#' || uri[1] == '\0')
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "a DataReference URI is not \"#id\" of this message");
    xmlNode *target = wd_ids_find(d->ids, uri + 1, strlen(uri + 1));
    if (target == NULL)
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID, "DataReference to unknown id \"%.100s\"", uri + 1);
    xmlNode *data = target, *replaced = target;
    if (wd_xml_is(target, WD_NS_WSSE11, "EncryptedHeader")) {
        data = wd_xml_first_element(target);
        if (!wd_xml_is(data, WD_NS_XENC, "EncryptedData") || wd_xml_next_element(data) != NULL)
            return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED,
                           "an EncryptedHeader holds more than one EncryptedData");
    } else if (!wd_xml_is(target, WD_NS_XENC, "EncryptedData")) {
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID,
                       "DataReference \"%.100s\" points at %.60s, not EncryptedData", uri + 1, element_name(target));
    } else if (wd_xml_is(target->parent, WD_NS_WSSE11, "EncryptedHeader")) {
        replaced = target->parent;
    }
    if (d->done_count == WD_DECRYPT_MAX)
        return wd_fail(failure, WD_REASON_LIMIT_EXCEEDED, "more than %d encrypted parts", WD_DECRYPT_MAX);
    if (read_encrypted_data(d, data, &parts, failure) != 0)
        return -1;
    if (check_place(d, replaced, parts.element_type, failure) != 0)
        return -1;
    if (key == NULL) {
        if (parts.key_info == NULL)
            return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "an EncryptedData names no key");
        embedded = calloc(1, sizeof *embedded);
        if (embedded == NULL)
            return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");
        if (key_from_key_info(d, parts.key_info, embedded, &key, failure) != 0)
            goto done;
    }
    if (d->recipient == NULL) {
        decrypt_failed(failure, "encrypted data arrived and no decrypt.key is configured");
        goto done;
    }
    ciphertext = element_base64(parts.cipher_value, &ciphertext_length, "the EncryptedData's CipherValue", failure);
    if (ciphertext == NULL)
        goto done;
    plaintext = malloc(ciphertext_length + 1);
    if (plaintext == NULL) {
        wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");
        goto done;
    }

    /* From here every step runs whatever the one before it found. */
    int key_ok = wd_xenc_session_key(key->bytes, key->length, key->ok, parts.algorithm->key_length, session);
    if (key_ok < 0) {
        wd_fail_internal(failure, WARDEN_E_INTERNAL, "no random bytes for the substitute key");
        goto done;
    }
    int cipher_ok = wd_xenc_decrypt(&d->recipient->ciphers, parts.algorithm, session, ciphertext, ciphertext_length,
                                    plaintext, &plaintext_length);
    if (cipher_ok < 0) {
        wd_fail_internal(failure, WARDEN_E_INTERNAL, "the cipher could not run");
        goto done;
    }
    parsed = parse_plaintext(d, replaced->parent, plaintext, plaintext_length, parts.element_type, &why, &nomem);
    if (nomem) {
        wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory parsing the plaintext");
        goto done;
    }
    if (key_ok != 1 || cipher_ok != 1 || parsed == NULL) {
        decrypt_failed(failure, "%s (DataReference \"%.80s\")",
                       key_ok != 1 ? "the key did not unwrap (wrong recipient key or padding)"
                       : cipher_ok != 1 ? (parts.algorithm->gcm ? "the ciphertext did not authenticate"
                                                                 : "the CBC padding is wrong")
                       : why, uri + 1);
        goto done;
    }
    if (replace_with_plaintext(d, replaced, parsed, parts.element_type, failure) != 0)
        goto done;
    status = 0;

done:
    OPENSSL_cleanse(session, sizeof session);
    if (plaintext != NULL) {
        OPENSSL_cleanse(plaintext, ciphertext_length + 1);
        free(plaintext);
    }
    free(ciphertext);
    if (embedded != NULL) {
        OPENSSL_cleanse(embedded, sizeof *embedded);
        free(embedded);
    }
    if (parsed != NULL)
        xmlFreeDoc(parsed);
    return status;
}

static int decrypt_list(wd_decryption *d, const xmlNode *reference_list, const wd_unwrapped_key *key,
                        wd_failure *failure)
{
    size_t count = 0;
    for (xmlNode *child = wd_xml_first_element(reference_list); child != NULL; child = wd_xml_next_element(child)) {
        if (!wd_xml_is(child, WD_NS_XENC, "DataReference"))
            return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "ReferenceList holds %.60s (only DataReference)",
                           element_name(child));
        if (++count > WD_DECRYPT_MAX)
            return wd_fail(failure, WD_REASON_LIMIT_EXCEEDED, "more than %d DataReferences", WD_DECRYPT_MAX);
    }
    if (count == 0)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "an empty ReferenceList");
    for (xmlNode *child = wd_xml_first_element(reference_list); child != NULL; child = wd_xml_next_element(child))
        if (decrypt_reference(d, child, key, failure) != 0)
            return -1;
    return 0;
}

/* ---- entry points ----------------------------------------------------------------- */

void wd_decryption_init(wd_decryption *decryption, const wd_recipient *recipient, const wd_settings *settings,
                        wd_id_table *ids, const wd_envelope *envelope)
{
    memset(decryption, 0, sizeof *decryption);
    decryption->recipient = recipient;
    decryption->settings = settings;
    decryption->ids = ids;
    decryption->envelope = envelope;
}

int wd_decrypt_encrypted_key(wd_decryption *d, xmlNode *encrypted_key, wd_failure *failure)
{
    encrypted_key_parts parts;

    if (d->key_count == WD_DECRYPT_MAX_KEYS)
        return wd_fail(failure, WD_REASON_LIMIT_EXCEEDED, "more than %d EncryptedKeys", WD_DECRYPT_MAX_KEYS);
    if (d->keys == NULL) {
        d->keys = calloc(WD_DECRYPT_MAX_KEYS, sizeof *d->keys);
        if (d->keys == NULL)
            return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");
    }
    wd_unwrapped_key *key = &d->keys[d->key_count];
    if (unwrap_key(d, encrypted_key, key, &parts, failure) != 0)
        return -1;
    d->key_count++;
    if (parts.reference_list == NULL)
        return 0; /* its key serves EncryptedData that refer to it (a standalone ReferenceList) */
    return decrypt_list(d, parts.reference_list, key, failure);
}

int wd_decrypt_reference_list(wd_decryption *d, xmlNode *reference_list, wd_failure *failure)
{
    return decrypt_list(d, reference_list, NULL, failure);
}

static bool is_true(const char *value)
{
    return value != NULL && (strcmp(value, "1") == 0 || strcmp(value, "true") == 0);
}

int wd_decrypt_check_leftovers(const wd_decryption *d, wd_failure *failure)
{
    const wd_envelope *envelope = d->envelope;

    /* The Body, every level: a policy reads it, and ciphertext there means the message was
    ** not what its sender meant us to see (a DataReference that went missing, say). */
    for (xmlNode *node = envelope->body->children; node != NULL;) {
        if (node->type == XML_ELEMENT_NODE && wd_xml_is(node, WD_NS_XENC, "EncryptedData"))
            return decrypt_failed(failure, "an EncryptedData in the Body that nothing in the Security header decrypts");
        if (node->type == XML_ELEMENT_NODE && node->children != NULL) {
            node = node->children;
            continue;
        }
        while (node != NULL && node->next == NULL)
            node = node->parent != envelope->body ? node->parent : NULL;
        if (node != NULL)
            node = node->next;
    }
    if (envelope->security != NULL)
        for (xmlNode *child = wd_xml_first_element(envelope->security); child != NULL;
             child = wd_xml_next_element(child))
            if (wd_xml_is(child, WD_NS_XENC, "EncryptedData"))
                return decrypt_failed(failure, "an EncryptedData in the Security header that no key decrypts");
    if (envelope->header != NULL) {
        const char *target = envelope->soap_version == 11 ? "actor" : "role";
        for (xmlNode *child = wd_xml_first_element(envelope->header); child != NULL;
             child = wd_xml_next_element(child)) {
            if (!wd_xml_is(child, WD_NS_WSSE11, "EncryptedHeader") && !wd_xml_is(child, WD_NS_XENC, "EncryptedData"))
                continue;
            if (is_true(wd_xml_attr(child, envelope->soap_ns, "mustUnderstand")) &&
                wd_xml_attr(child, envelope->soap_ns, target) == NULL)
                return wd_fail(failure, WD_REASON_MUSTUNDERSTAND,
                               "an encrypted header with mustUnderstand that nothing decrypts");
        }
    }
    return 0;
}

bool wd_decryption_inserted(const wd_decryption *d, const xmlNode *element)
{
    for (size_t i = 0; i < d->done_count; i++) {
        const wd_decrypted *done = &d->done[i];
        if (done->inserted_end > done->inserted_first &&
            bsearch(&element, d->inserted + done->inserted_first, done->inserted_end - done->inserted_first,
                    sizeof *d->inserted, compare_nodes) != NULL)
            return true;
    }
    return false;
}

void wd_decryption_clear(wd_decryption *d)
{
    for (size_t i = 0; i < d->done_count; i++)
        xmlFreeNode(d->done[i].replaced);
    if (d->keys != NULL) {
        OPENSSL_cleanse(d->keys, WD_DECRYPT_MAX_KEYS * sizeof *d->keys);
        free(d->keys);
    }
    free(d->inserted);
    memset(d, 0, sizeof *d);
}
