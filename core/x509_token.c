/*
** x509_token.c — owns reading a wsse:BinarySecurityToken that carries an X.509v3
** certificate: its ValueType and EncodingType, the base64 text, and the parse through the
** trust store's cache. Chain validation is the caller's next step, not this file's.
*/
#include "x509_token.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../include/warden.h"
#include "base64.h"
#include "namespaces.h"
#include "xml_text.h"

int wd_x509_token_read(xmlNode *element, wd_trust_store *store, wd_cert **out, wd_failure *failure)
{
    int result = -1;
    char *text = NULL;
    unsigned char *der = NULL;
    size_t text_length = 0, der_length = 0;

    *out = NULL;
    if (element == NULL || !wd_xml_is(element, WD_NS_WSSE, "BinarySecurityToken"))
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "not a wsse:BinarySecurityToken");

    /* X509PKIPathv1 and PKCS7 carry chains whose order and trust are ambiguous; only a single
    ** certificate is accepted. */
    const char *value_type = wd_xml_attr(element, NULL, "ValueType");
    if (value_type == NULL || strcmp(value_type, WD_WSS_X509V3) != 0)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "BinarySecurityToken ValueType %.160s is not X509v3",
                       value_type != NULL ? value_type : "(absent)");

    const char *encoding_type = wd_xml_attr(element, NULL, "EncodingType");
    if (encoding_type != NULL && strcmp(encoding_type, WD_WSS_BASE64) != 0)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED,
                       "BinarySecurityToken EncodingType %.160s is not Base64Binary", encoding_type);

    /* A token seen before, character for character, is the certificate it was then. */
    const xmlNode *only = element->children;
    const char *raw = only != NULL && only->next == NULL && only->type == XML_TEXT_NODE && only->content != NULL
                          ? (const char *)only->content : NULL;
    size_t raw_length = raw != NULL ? strlen(raw) : 0;
    if (raw != NULL && store != NULL && (*out = wd_trust_store_find_token_text(store, raw, raw_length)) != NULL)
        return 0;

    text = wd_xml_text(element, true, &text_length);
    if (text == NULL) {
        if (text_length == SIZE_MAX)
            result = wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "BinarySecurityToken holds more than text");
        else
            result = wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory reading a BinarySecurityToken");
        goto done;
    }
    der = wd_base64_decode(text, text_length, &der_length);
    if (der == NULL) {
        result = wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "BinarySecurityToken is not valid base64");
        goto done;
    }
    if (der_length == 0) {
        result = wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "BinarySecurityToken is empty");
        goto done;
    }

    if (store != NULL) {
        result = wd_trust_store_parse(store, der, der_length, out, failure);
        if (result == 0 && raw != NULL)
            wd_trust_store_remember_token_text(store, raw, raw_length, *out);
    } else {
        result = wd_cert_from_der(der, der_length, out, failure);
    }
done:
    free(text);
    free(der);
    return result;
}
