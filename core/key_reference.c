/*
** key_reference.c — ds:KeyInfo / wsse:SecurityTokenReference resolution for signatures: the
** forms real clients emit (WSS4J's five key identifier types, zeep's BinarySignature and its
** X509Data quirk, npm soap's direct reference) and nothing else.
*/
#include "key_reference.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../include/warden.h"
#include "base64.h"
#include "namespaces.h"
#include "x509_token.h"
#include "xml_text.h"

/* The element's text, trimmed, as a malloc'd string. Non-text content is `refusal`. */
static char *element_text(const xmlNode *element, size_t *length, wd_reason refusal,
                          const char *what, wd_failure *failure)
{
    size_t text_length = 0;
    char *text = wd_xml_text(element, true, &text_length);

    if (text == NULL) {
        if (text_length == 0)
            wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory reading %s", what);
        else
            wd_fail(failure, refusal, "%s holds more than text", what);
        return NULL;
    }
    if (length != NULL)
        *length = text_length;
    return text;
}

/* Decodes an element's base64 text into a malloc'd buffer; an empty or undecodable value is
** token-unsupported. */
static unsigned char *element_base64(const xmlNode *element, size_t *length, const char *what,
                                     wd_failure *failure)
{
    size_t text_length = 0;
    unsigned char *bytes = NULL;
    char *text = element_text(element, &text_length, WD_REASON_TOKEN_UNSUPPORTED, what, failure);

    if (text == NULL)
        return NULL;
    bytes = wd_base64_decode(text, text_length, length);
    free(text);
    if (bytes == NULL) {
        wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "%s is not base64", what);
        return NULL;
    }
    if (*length == 0) {
        free(bytes);
        wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "%s is empty", what);
        return NULL;
    }
    return bytes;
}

static int parse_inline_certificate(const xmlNode *element, wd_trust_store *trust, const char *what,
                                    wd_cert **cert, wd_failure *failure)
{
    size_t der_length = 0;
    unsigned char *der = element_base64(element, &der_length, what, failure);
    int result;

    if (der == NULL)
        return -1;
    result = wd_trust_store_parse(trust, der, der_length, cert, failure);
    free(der);
    return result;
}

static int resolve_direct_reference(const xmlNode *reference, wd_trust_store *trust,
                                    const wd_id_table *ids, const xmlNode *security,
                                    const wd_read_token *tokens, size_t token_count,
                                    wd_cert **cert, xmlNode **token, wd_failure *failure)
{
    const char *uri = wd_xml_attr(reference, NULL, "URI");
    const char *value_type = wd_xml_attr(reference, NULL, "ValueType");
    xmlNode *target;

    if (value_type != NULL && strcmp(value_type, WD_WSS_X509V3) != 0)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED,
                       "SecurityTokenReference points at a token of ValueType %.120s", value_type);
    if (uri == NULL || uri[0] != '#' || uri[1] == '\0')
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID,
                       "SecurityTokenReference URI is not \"#id\" of this message");
    target = wd_ids_find(ids, uri + 1, strlen(uri + 1));
    if (target == NULL)
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID,
                       "SecurityTokenReference points at an unknown id \"%.100s\"", uri + 1);
    /* Only a token of the header being processed: a BST parked elsewhere (another header, the
    ** Body) is nothing this Security header vouches for. */
    if (!wd_xml_is(target, WD_NS_WSSE, "BinarySecurityToken") || security == NULL ||
        target->parent != security)
        return wd_fail(failure, WD_REASON_REFERENCE_INVALID,
                       "SecurityTokenReference \"%.100s\" is not a BinarySecurityToken of the Security header",
                       uri + 1);
    /* Read once per message: the header processor decoded and parsed every token already. */
    for (size_t i = 0; i < token_count; i++) {
        if (tokens[i].element == target) {
            *cert = wd_cert_ref(tokens[i].cert);
            *token = target;
            return 0;
        }
    }
    if (wd_x509_token_read(target, trust, cert, failure) != 0)
        return -1;
    *token = target;
    return 0;
}

static int resolve_key_identifier(const xmlNode *identifier, wd_trust_store *trust, wd_cert **cert,
                                  wd_failure *failure)
{
    const char *value_type = wd_xml_attr(identifier, NULL, "ValueType");
    const char *encoding = wd_xml_attr(identifier, NULL, "EncodingType");
    unsigned char *value = NULL;
    size_t value_length = 0;
    int result = -1;

    if (encoding != NULL && strcmp(encoding, WD_WSS_BASE64) != 0)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "KeyIdentifier EncodingType %.120s", encoding);
    if (value_type == NULL)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "KeyIdentifier without ValueType");

    if (strcmp(value_type, WD_WSS_X509V3) == 0)
        return parse_inline_certificate(identifier, trust, "the KeyIdentifier certificate", cert, failure);

    if (strcmp(value_type, WD_WSS_X509_SKI) == 0) {
        value = element_base64(identifier, &value_length, "the KeyIdentifier SKI", failure);
        if (value == NULL)
            goto done;
        *cert = wd_trust_store_find_ski(trust, value, value_length);
        if (*cert == NULL) {
            wd_fail(failure, WD_REASON_CERT_UNTRUSTED, "no known certificate has this subject key identifier");
            goto done;
        }
    } else if (strcmp(value_type, WD_WSS_THUMBPRINT) == 0) {
        value = element_base64(identifier, &value_length, "the KeyIdentifier thumbprint", failure);
        if (value == NULL)
            goto done;
        if (value_length != 20) {
            wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "a ThumbprintSHA1 of %zu bytes, not 20", value_length);
            goto done;
        }
        *cert = wd_trust_store_find_thumbprint(trust, value);
        if (*cert == NULL) {
            wd_fail(failure, WD_REASON_CERT_UNTRUSTED, "no known certificate has this SHA-1 thumbprint");
            goto done;
        }
    } else {
        wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "KeyIdentifier ValueType %.120s", value_type);
        goto done;
    }
    result = 0;

done:
    free(value);
    return result;
}

static bool is_decimal(const char *text)
{
    if (*text == '\0')
        return false;
    for (; *text != '\0'; text++) {
        if (*text < '0' || *text > '9')
            return false;
    }
    return true;
}

/* X509IssuerSerial: X509IssuerName then X509SerialNumber, or nothing at all (zeep). */
static int resolve_issuer_serial(const xmlNode *issuer_serial, wd_trust_store *trust, wd_cert **cert,
                                 wd_failure *failure)
{
    xmlNode *name_element = wd_xml_first_element(issuer_serial);
    xmlNode *serial_element = wd_xml_next_element(name_element);
    char *issuer = NULL;
    char *serial = NULL;
    int result = -1;

    if (!wd_xml_is(name_element, WD_NS_DSIG, "X509IssuerName") ||
        !wd_xml_is(serial_element, WD_NS_DSIG, "X509SerialNumber") ||
        wd_xml_next_element(serial_element) != NULL)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED,
                       "X509IssuerSerial is not X509IssuerName followed by X509SerialNumber");
    issuer = element_text(name_element, NULL, WD_REASON_TOKEN_UNSUPPORTED, "X509IssuerName", failure);
    if (issuer == NULL)
        goto done;
    serial = element_text(serial_element, NULL, WD_REASON_TOKEN_UNSUPPORTED, "X509SerialNumber", failure);
    if (serial == NULL)
        goto done;
    if (issuer[0] == '\0' || !is_decimal(serial)) {
        wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "X509IssuerSerial needs an issuer and a decimal serial");
        goto done;
    }
    *cert = wd_trust_store_find_issuer_serial(trust, issuer, serial);
    if (*cert == NULL) {
        wd_fail(failure, WD_REASON_CERT_UNTRUSTED, "no known certificate has issuer \"%.100s\" and serial %.40s",
                issuer, serial);
        goto done;
    }
    result = 0;

done:
    free(issuer);
    free(serial);
    return result;
}

/* An inline certificate wins over an IssuerSerial next to it: the key comes from the bytes
** that are here (and get chain-validated), and zeep's `Signature` emits an empty
** X509IssuerSerial beside its X509Certificate. */
static int resolve_x509_data(const xmlNode *x509_data, wd_trust_store *trust, wd_cert **cert,
                             wd_failure *failure)
{
    const xmlNode *issuer_serial = NULL;
    const xmlNode *certificate = NULL;

    for (xmlNode *child = wd_xml_first_element(x509_data); child != NULL; child = wd_xml_next_element(child)) {
        if (wd_xml_is(child, WD_NS_DSIG, "X509IssuerSerial") && issuer_serial == NULL)
            issuer_serial = child;
        else if (wd_xml_is(child, WD_NS_DSIG, "X509Certificate") && certificate == NULL)
            certificate = child;
        else
            return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED,
                           "X509Data holds %.60s (only one X509IssuerSerial and one X509Certificate are supported)",
                           (const char *)child->name);
    }
    if (certificate != NULL)
        return parse_inline_certificate(certificate, trust, "X509Certificate", cert, failure);
    if (issuer_serial != NULL && wd_xml_first_element(issuer_serial) != NULL)
        return resolve_issuer_serial(issuer_serial, trust, cert, failure);
    return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "X509Data names no certificate");
}

int wd_key_reference_resolve(xmlNode *key_info, wd_trust_store *trust, const wd_id_table *ids,
                             const xmlNode *security, const wd_read_token *tokens, size_t token_count,
                             wd_cert **cert, xmlNode **token, wd_failure *failure)
{
    xmlNode *reference;
    xmlNode *form;

    *cert = NULL;
    *token = NULL;
    if (key_info == NULL)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "the signature has no KeyInfo");

    reference = wd_xml_first_element(key_info);
    if (reference == NULL || wd_xml_next_element(reference) != NULL)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED,
                       "KeyInfo must hold exactly one wsse:SecurityTokenReference");
    if (!wd_xml_is(reference, WD_NS_WSSE, "SecurityTokenReference"))
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED,
                       "KeyInfo holds %.60s, not a wsse:SecurityTokenReference", (const char *)reference->name);

    form = wd_xml_first_element(reference);
    if (form == NULL || wd_xml_next_element(form) != NULL)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED,
                       "SecurityTokenReference must hold exactly one reference");

    if (wd_xml_is(form, WD_NS_WSSE, "Reference"))
        return resolve_direct_reference(form, trust, ids, security, tokens, token_count, cert, token, failure);
    if (wd_xml_is(form, WD_NS_WSSE, "KeyIdentifier"))
        return resolve_key_identifier(form, trust, cert, failure);
    if (wd_xml_is(form, WD_NS_DSIG, "X509Data"))
        return resolve_x509_data(form, trust, cert, failure);
    return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED,
                   "SecurityTokenReference form %.60s is not supported", (const char *)form->name);
}

int wd_key_reference_resolve_x509_data(xmlNode *key_info, wd_trust_store *trust, wd_cert **cert,
                                       wd_failure *failure)
{
    xmlNode *x509_data;

    *cert = NULL;
    if (key_info == NULL)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "the signature has no KeyInfo");
    x509_data = wd_xml_first_element(key_info);
    if (!wd_xml_is(x509_data, WD_NS_DSIG, "X509Data") || wd_xml_next_element(x509_data) != NULL)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "KeyInfo must hold exactly one ds:X509Data");
    return resolve_x509_data(x509_data, trust, cert, failure);
}
