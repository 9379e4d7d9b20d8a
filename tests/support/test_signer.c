/*
** test_signer.c — the signing side for tests: envelopes shaped like real clients' messages and
** XML signatures over them. Canonicalization goes through XPath node sets and
** xmlC14NDocDumpMemory (the way xmlsec and lxml do it), not through the verifier's subtree
** callback, so the two sides are independent implementations of the same standard.
*/
#include "test_signer.h"

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/namespaces.h"

#define TS_NS_EC WD_NS_EXC_C14N

static int complain(const char *format, ...) __attribute__((format(printf, 1, 2)));
static int complain(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fputs("test_signer: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    return -1;
}

/* ------------------------------------------------------------------------------------------
** Small text builder
*/
typedef struct text_builder {
    char  *data;
    size_t length;
    size_t capacity;
    int    failed;
} text_builder;

static void append(text_builder *b, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void append(text_builder *b, const char *format, ...)
{
    va_list args;
    int needed;

    if (b->failed)
        return;
    va_start(args, format);
    needed = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (needed < 0) {
        b->failed = 1;
        return;
    }
    if (b->length + (size_t)needed + 1 > b->capacity) {
        size_t capacity = (b->length + (size_t)needed + 1) * 2;
        char *grown = realloc(b->data, capacity);
        if (grown == NULL) {
            b->failed = 1;
            return;
        }
        b->data = grown;
        b->capacity = capacity;
    }
    va_start(args, format);
    vsnprintf(b->data + b->length, b->capacity - b->length, format, args);
    va_end(args);
    b->length += (size_t)needed;
}

/* ------------------------------------------------------------------------------------------
** Finding things
*/
static xmlNode *find_in(xmlNode *node, const char *ns_uri, const char *local_name)
{
    for (; node != NULL; node = node->next) {
        if (node->type == XML_ELEMENT_NODE) {
            int ns_ok = ns_uri == NULL ? node->ns == NULL
                                       : node->ns != NULL && strcmp((const char *)node->ns->href, ns_uri) == 0;
            if (ns_ok && strcmp((const char *)node->name, local_name) == 0)
                return node;
            xmlNode *found = find_in(node->children, ns_uri, local_name);
            if (found != NULL)
                return found;
        }
    }
    return NULL;
}

xmlNode *ts_find(xmlDoc *doc, const char *ns_uri, const char *local_name)
{
    return doc != NULL ? find_in(doc->children, ns_uri, local_name) : NULL;
}

xmlNode *ts_security(xmlDoc *doc)
{
    return ts_find(doc, WD_NS_WSSE, "Security");
}

static int has_id(const xmlNode *element, const char *id)
{
    for (const xmlAttr *a = element->properties; a != NULL; a = a->next) {
        const char *name = (const char *)a->name;
        int is_id_name = strcmp(name, "Id") == 0 || strcmp(name, "ID") == 0 ||
                         (strcmp(name, "id") == 0 && a->ns != NULL &&
                          strcmp((const char *)a->ns->href, WD_NS_XML) == 0);
        if (is_id_name && a->children != NULL && a->children->content != NULL &&
            strcmp((const char *)a->children->content, id) == 0)
            return 1;
    }
    return 0;
}

static xmlNode *find_id_in(xmlNode *node, const char *id)
{
    for (; node != NULL; node = node->next) {
        if (node->type == XML_ELEMENT_NODE) {
            if (has_id(node, id))
                return node;
            xmlNode *found = find_id_in(node->children, id);
            if (found != NULL)
                return found;
        }
    }
    return NULL;
}

xmlNode *ts_find_id(xmlDoc *doc, const char *id)
{
    return doc != NULL && id != NULL ? find_id_in(doc->children, id) : NULL;
}

static void last_signature_in(xmlNode *node, xmlNode **last)
{
    for (; node != NULL; node = node->next) {
        if (node->type != XML_ELEMENT_NODE)
            continue;
        if (node->ns != NULL && strcmp((const char *)node->ns->href, WD_NS_DSIG) == 0 &&
            strcmp((const char *)node->name, "Signature") == 0)
            *last = node;
        last_signature_in(node->children, last);
    }
}

xmlNode *ts_signature(xmlDoc *doc)
{
    xmlNode *last = NULL;
    if (doc != NULL)
        last_signature_in(doc->children, &last);
    return last;
}

static xmlNode *first_element(xmlNode *node)
{
    for (xmlNode *c = node != NULL ? node->children : NULL; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

static xmlNode *next_element(xmlNode *node)
{
    for (xmlNode *c = node != NULL ? node->next : NULL; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

static int named(const xmlNode *node, const char *ns_uri, const char *local_name)
{
    return node != NULL && node->type == XML_ELEMENT_NODE && node->ns != NULL &&
           strcmp((const char *)node->ns->href, ns_uri) == 0 && strcmp((const char *)node->name, local_name) == 0;
}

xmlNode *ts_reference(xmlNode *signature, size_t i)
{
    xmlNode *signed_info = first_element(signature);
    for (xmlNode *c = first_element(signed_info); c != NULL; c = next_element(c)) {
        if (named(c, WD_NS_DSIG, "Reference") && i-- == 0)
            return c;
    }
    return NULL;
}

xmlNode *ts_add_element(xmlNode *parent, const char *ns_uri, const char *prefix, const char *local_name,
                        const char *text)
{
    xmlNs *ns = NULL;
    xmlNode *element;

    if (parent == NULL)
        return NULL;
    element = xmlNewDocNode(parent->doc, NULL, BAD_CAST local_name, NULL);
    if (element == NULL)
        return NULL;
    if (ns_uri != NULL) {
        ns = xmlSearchNsByHref(parent->doc, parent, BAD_CAST ns_uri);
        if (ns == NULL)
            ns = xmlNewNs(element, BAD_CAST ns_uri, BAD_CAST prefix);
        xmlSetNs(element, ns);
    }
    if (text != NULL)
        xmlNodeAddContent(element, BAD_CAST text);
    xmlAddChild(parent, element);
    return element;
}

const char *ts_pki_path(const char *name, char *buffer, size_t capacity)
{
    const char *dir = getenv("WARDEN_TEST_PKI");
    int n;

    if (dir == NULL)
        return NULL;
    n = snprintf(buffer, capacity, "%s/%s", dir, name);
    return n > 0 && (size_t)n < capacity ? buffer : NULL;
}

/* ------------------------------------------------------------------------------------------
** Envelope, serialization, parsing
*/
xmlDoc *ts_envelope_new(int soap_version, const char *body_xml, const char *created, const char *expires)
{
    text_builder b = { NULL, 0, 0, 0 };
    const char *soap_ns = soap_version == 12 ? WD_NS_SOAP12 : WD_NS_SOAP11;
    const char *must_understand = soap_version == 12 ? "true" : "1";
    xmlDoc *doc = NULL;

    if (soap_version != 11 && soap_version != 12) {
        complain("soap_version must be 11 or 12");
        return NULL;
    }
    append(&b, "<soap:Envelope xmlns:soap=\"%s\">\n  <soap:Header>\n", soap_ns);
    append(&b, "    <wsa:Action xmlns:wsa=\"%s\" xmlns:wsu=\"%s\" wsu:Id=\"Action-1\">%s</wsa:Action>\n",
           WD_NS_WSA, WD_NS_WSU, TS_ACTION);
    append(&b, "    <wsa:To xmlns:wsa=\"%s\" xmlns:wsu=\"%s\" wsu:Id=\"To-1\">%s</wsa:To>\n", WD_NS_WSA, WD_NS_WSU, TS_TO);
    append(&b, "    <wsa:MessageID xmlns:wsa=\"%s\" xmlns:wsu=\"%s\" wsu:Id=\"MessageID-1\">%s</wsa:MessageID>\n",
           WD_NS_WSA, WD_NS_WSU, TS_MESSAGE_ID);
    append(&b, "    <wsse:Security xmlns:wsse=\"%s\" xmlns:wsu=\"%s\" soap:mustUnderstand=\"%s\">",
           WD_NS_WSSE, WD_NS_WSU, must_understand);
    if (created != NULL) {
        append(&b, "<wsu:Timestamp wsu:Id=\"TS-1\"><wsu:Created>%s</wsu:Created>", created);
        if (expires != NULL)
            append(&b, "<wsu:Expires>%s</wsu:Expires>", expires);
        append(&b, "</wsu:Timestamp>");
    }
    append(&b, "</wsse:Security>\n  </soap:Header>\n");
    append(&b, "  <soap:Body xmlns:wsu=\"%s\" wsu:Id=\"Body-1\">%s</soap:Body>\n</soap:Envelope>\n", WD_NS_WSU,
           body_xml != NULL ? body_xml : "");
    if (b.failed) {
        complain("out of memory building an envelope");
        goto done;
    }
    doc = ts_parse(b.data, b.length);

done:
    free(b.data);
    return doc;
}

char *ts_serialize(xmlDoc *doc, size_t *length)
{
    xmlChar *text = NULL;
    int size = 0;
    char *copy;

    xmlDocDumpMemory(doc, &text, &size);
    if (text == NULL || size < 0) {
        complain("cannot serialize the document");
        return NULL;
    }
    copy = malloc((size_t)size + 1);
    if (copy != NULL) {
        memcpy(copy, text, (size_t)size);
        copy[size] = '\0';
        if (length != NULL)
            *length = (size_t)size;
    }
    xmlFree(text);
    return copy;
}

xmlDoc *ts_parse(const char *bytes, size_t length)
{
    xmlDoc *doc;

    if (length > (size_t)INT32_MAX)
        return NULL;
    doc = xmlReadMemory(bytes, (int)length, "message.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOWARNING);
    if (doc == NULL)
        complain("cannot parse a message");
    return doc;
}

int ts_write_file(xmlDoc *doc, const char *path)
{
    size_t length = 0;
    char *bytes = ts_serialize(doc, &length);
    FILE *file;
    int result = -1;

    if (bytes == NULL)
        return -1;
    file = fopen(path, "wb");
    if (file != NULL) {
        if (fwrite(bytes, 1, length, file) == length)
            result = 0;
        if (fclose(file) != 0)
            result = -1;
    }
    free(bytes);
    if (result != 0)
        complain("cannot write %s", path);
    return result;
}

/* ------------------------------------------------------------------------------------------
** Crypto helpers
*/
static char *base64_of(const unsigned char *data, size_t length, int line_breaks)
{
    size_t encoded_length = 4 * ((length + 2) / 3);
    unsigned char *flat = malloc(encoded_length + 1);
    char *out;
    size_t o = 0;

    if (flat == NULL || length > (size_t)INT32_MAX) {
        free(flat);
        return NULL;
    }
    EVP_EncodeBlock(flat, data, (int)length);
    if (!line_breaks)
        return (char *)flat;
    out = malloc(encoded_length + encoded_length / 76 + 2);
    if (out == NULL) {
        free(flat);
        return NULL;
    }
    for (size_t i = 0; i < encoded_length; i++) {
        if (i > 0 && i % 76 == 0)
            out[o++] = '\n';
        out[o++] = (char)flat[i];
    }
    out[o] = '\0';
    free(flat);
    return out;
}

static EVP_PKEY *read_key(const char *path)
{
    BIO *bio = BIO_new_file(path, "r");
    EVP_PKEY *key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (key == NULL)
        complain("cannot read the private key %s", path != NULL ? path : "(null)");
    return key;
}

static X509 *read_cert(const char *path)
{
    BIO *bio = BIO_new_file(path, "r");
    X509 *cert = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (cert == NULL)
        complain("cannot read the certificate %s", path != NULL ? path : "(null)");
    return cert;
}

/* The hash an algorithm URI names; sha256 when it names none we know. */
static const char *hash_of_uri(const char *uri)
{
    if (uri == NULL)
        return "SHA256";
    if (strstr(uri, "md5") != NULL)
        return "MD5";
    if (strstr(uri, "sha384") != NULL)
        return "SHA384";
    if (strstr(uri, "sha512") != NULL)
        return "SHA512";
    if (strstr(uri, "sha1") != NULL)
        return "SHA1";
    return "SHA256";
}

/* ------------------------------------------------------------------------------------------
** Canonicalization through XPath node sets
*/

/* Exclusive c14n of element's subtree; with exclude_signature, minus that ds:Signature (the
** enveloped-signature transform, as XML-DSig defines it in XPath). */
static xmlChar *canonicalize(xmlNode *element, xmlNode *exclude_signature, const char *prefix_list, int *length)
{
    xmlXPathContext *xpath = NULL;
    xmlXPathObject *result = NULL;
    xmlChar *out = NULL;
    char expression[512];
    char *prefix_copy = NULL;
    xmlChar *prefixes[65];
    int prefix_count = 0;

    *length = -1;
    if (exclude_signature != NULL) {
        xmlChar *id = xmlGetProp(exclude_signature, BAD_CAST "Id");
        if (id != NULL)
            snprintf(expression, sizeof expression,
                     "(descendant-or-self::node() | descendant-or-self::node()/@* | "
                     "descendant-or-self::node()/namespace::*)[not(ancestor-or-self::ds:Signature[@Id='%s'])]",
                     (const char *)id);
        else
            snprintf(expression, sizeof expression,
                     "(descendant-or-self::node() | descendant-or-self::node()/@* | "
                     "descendant-or-self::node()/namespace::*)[not(ancestor-or-self::ds:Signature)]");
        xmlFree(id);
    } else {
        snprintf(expression, sizeof expression,
                 "descendant-or-self::node() | descendant-or-self::node()/@* | descendant-or-self::node()/namespace::*");
    }

    if (prefix_list != NULL) {
        prefix_copy = strdup(prefix_list);
        for (char *token = prefix_copy != NULL ? strtok(prefix_copy, " \t\r\n") : NULL; token != NULL && prefix_count < 64;
             token = strtok(NULL, " \t\r\n"))
            prefixes[prefix_count++] = BAD_CAST token;
    }
    prefixes[prefix_count] = NULL;

    xpath = xmlXPathNewContext(element->doc);
    if (xpath == NULL)
        goto done;
    xmlXPathRegisterNs(xpath, BAD_CAST "ds", BAD_CAST WD_NS_DSIG);
    xpath->node = element;
    result = xmlXPathEvalExpression(BAD_CAST expression, xpath);
    if (result == NULL || result->type != XPATH_NODESET) {
        complain("XPath for canonicalization failed");
        goto done;
    }
    *length = xmlC14NDocDumpMemory(element->doc, result->nodesetval, XML_C14N_EXCLUSIVE_1_0,
                                   prefix_count > 0 ? prefixes : NULL, 0, &out);
    if (*length < 0)
        complain("canonicalization failed");

done:
    xmlXPathFreeObject(result);
    xmlXPathFreeContext(xpath);
    free(prefix_copy);
    return out;
}

static const char *prefix_list_of(xmlNode *method, xmlChar **owned)
{
    xmlNode *inclusive = first_element(method);
    *owned = NULL;
    if (named(inclusive, TS_NS_EC, "InclusiveNamespaces"))
        *owned = xmlGetProp(inclusive, BAD_CAST "PrefixList");
    return (const char *)*owned;
}

static void set_text(xmlNode *element, const char *text)
{
    xmlNodeSetContent(element, NULL);
    xmlNodeAddContent(element, BAD_CAST text);
}

int ts_redigest(xmlNode *reference)
{
    xmlChar *uri = xmlGetProp(reference, BAD_CAST "URI");
    xmlNode *signature = reference != NULL && reference->parent != NULL ? reference->parent->parent : NULL;
    xmlNode *transforms = first_element(reference);
    xmlNode *digest_method = next_element(transforms);
    xmlNode *digest_value = next_element(digest_method);
    xmlNode *target;
    xmlNode *exclude = NULL;
    xmlChar *prefixes_owned = NULL;
    const char *prefix_list = NULL;
    xmlChar *canonical = NULL;
    int canonical_length;
    xmlChar *digest_uri = NULL;
    EVP_MD *md = NULL;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    char *encoded = NULL;
    int result = -1;

    if (uri == NULL || uri[0] != '#' || !named(digest_value, WD_NS_DSIG, "DigestValue")) {
        complain("ts_redigest: not a same-document Reference with a DigestValue");
        goto done;
    }
    target = ts_find_id(reference->doc, (const char *)uri + 1);
    if (target == NULL) {
        complain("ts_redigest: no element has id %s", (const char *)uri + 1);
        goto done;
    }
    for (xmlNode *t = first_element(transforms); t != NULL; t = next_element(t)) {
        xmlChar *algorithm = xmlGetProp(t, BAD_CAST "Algorithm");
        if (algorithm != NULL && strcmp((const char *)algorithm, WD_ALG_ENVELOPED) == 0)
            exclude = signature;
        if (algorithm != NULL && strcmp((const char *)algorithm, WD_ALG_EXC_C14N) == 0) {
            xmlFree(prefixes_owned);
            prefix_list = prefix_list_of(t, &prefixes_owned);
        }
        xmlFree(algorithm);
    }
    canonical = canonicalize(target, exclude, prefix_list, &canonical_length);
    if (canonical_length < 0)
        goto done;
    digest_uri = xmlGetProp(digest_method, BAD_CAST "Algorithm");
    md = EVP_MD_fetch(NULL, hash_of_uri((const char *)digest_uri), NULL);
    if (md == NULL || EVP_Digest(canonical != NULL ? canonical : BAD_CAST "", (size_t)canonical_length, digest,
                                 &digest_length, md, NULL) != 1) {
        complain("ts_redigest: digest failed");
        goto done;
    }
    encoded = base64_of(digest, digest_length, 0);
    if (encoded == NULL)
        goto done;
    set_text(digest_value, encoded);
    result = 0;

done:
    xmlFree(uri);
    xmlFree(prefixes_owned);
    xmlFree(canonical);
    xmlFree(digest_uri);
    EVP_MD_free(md);
    free(encoded);
    return result;
}

/* XML-DSig wants ECDSA as r||s, each as long as the curve's order. */
static int ecdsa_der_to_raw(EVP_PKEY *key, const unsigned char *der, size_t der_length, unsigned char **raw,
                            size_t *raw_length)
{
    const unsigned char *cursor = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &cursor, (long)der_length);
    size_t half = ((size_t)EVP_PKEY_get_bits(key) + 7) / 8;
    const BIGNUM *r;
    const BIGNUM *s;
    int result = -1;

    *raw = NULL;
    if (sig == NULL)
        return complain("bad ECDSA signature from OpenSSL");
    ECDSA_SIG_get0(sig, &r, &s);
    *raw = malloc(2 * half);
    if (*raw != NULL && BN_bn2binpad(r, *raw, (int)half) == (int)half &&
        BN_bn2binpad(s, *raw + half, (int)half) == (int)half) {
        *raw_length = 2 * half;
        result = 0;
    }
    ECDSA_SIG_free(sig);
    return result;
}

static int sign_bytes(EVP_PKEY *key, const char *method_uri, const unsigned char *data, size_t length,
                      unsigned char **signature, size_t *signature_length)
{
    EVP_MD *md = EVP_MD_fetch(NULL, hash_of_uri(method_uri), NULL);
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    EVP_PKEY_CTX *key_context = NULL;
    unsigned char *der = NULL;
    size_t der_length = 0;
    int result = -1;

    *signature = NULL;
    if (md == NULL || context == NULL || EVP_DigestSignInit(context, &key_context, md, NULL, key) != 1) {
        complain("cannot start signing");
        goto done;
    }
    if (method_uri != NULL && strstr(method_uri, "rsa-MGF1") != NULL) {
        if (EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, RSA_PSS_SALTLEN_DIGEST) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(key_context, md) != 1) {
            complain("cannot set up RSA-PSS");
            goto done;
        }
    }
    if (EVP_DigestSign(context, NULL, &der_length, data, length) != 1 || (der = malloc(der_length)) == NULL ||
        EVP_DigestSign(context, der, &der_length, data, length) != 1) {
        complain("signing failed");
        goto done;
    }
    if (EVP_PKEY_is_a(key, "EC")) {
        if (ecdsa_der_to_raw(key, der, der_length, signature, signature_length) != 0)
            goto done;
    } else {
        *signature = der;
        *signature_length = der_length;
        der = NULL;
    }
    result = 0;

done:
    free(der);
    EVP_MD_CTX_free(context);
    EVP_MD_free(md);
    return result;
}

int ts_resign(xmlNode *signature, const char *key_pem_path)
{
    xmlNode *signed_info = first_element(signature);
    xmlNode *c14n_method = first_element(signed_info);
    xmlNode *signature_method = next_element(c14n_method);
    xmlNode *signature_value = next_element(signed_info);
    EVP_PKEY *key = NULL;
    xmlChar *prefixes_owned = NULL;
    xmlChar *method_uri = NULL;
    xmlChar *canonical = NULL;
    int canonical_length;
    unsigned char *value = NULL;
    size_t value_length = 0;
    char *encoded = NULL;
    int result = -1;

    if (!named(signed_info, WD_NS_DSIG, "SignedInfo") || !named(signature_value, WD_NS_DSIG, "SignatureValue")) {
        complain("ts_resign: the signature has no SignedInfo + SignatureValue");
        goto done;
    }
    key = read_key(key_pem_path);
    if (key == NULL)
        goto done;
    method_uri = signature_method != NULL ? xmlGetProp(signature_method, BAD_CAST "Algorithm") : NULL;
    canonical = canonicalize(signed_info, NULL, prefix_list_of(c14n_method, &prefixes_owned), &canonical_length);
    if (canonical_length <= 0)
        goto done;
    if (sign_bytes(key, (const char *)method_uri, canonical, (size_t)canonical_length, &value, &value_length) != 0)
        goto done;
    encoded = base64_of(value, value_length, 0);
    if (encoded == NULL)
        goto done;
    set_text(signature_value, encoded);
    result = 0;

done:
    EVP_PKEY_free(key);
    xmlFree(prefixes_owned);
    xmlFree(method_uri);
    xmlFree(canonical);
    free(value);
    free(encoded);
    return result;
}

/* ------------------------------------------------------------------------------------------
** Building the signature
*/
static xmlNode *add(xmlNode *parent, xmlNs *ns, const char *name, const char *text)
{
    xmlNode *element = xmlNewChild(parent, ns, BAD_CAST name, NULL);
    if (element != NULL && text != NULL)
        xmlNodeAddContent(element, BAD_CAST text);
    return element;
}

static xmlNs *namespace_for(xmlDoc *doc, xmlNode *where, const char *href, const char *prefix)
{
    xmlNs *ns = xmlSearchNsByHref(doc, where, BAD_CAST href);
    return ns != NULL ? ns : xmlNewNs(where, BAD_CAST href, BAD_CAST prefix);
}

static void add_inclusive_namespaces(xmlNode *method, const char *prefix_list)
{
    xmlNode *inclusive;
    xmlNs *ec;

    if (prefix_list == NULL)
        return;
    inclusive = xmlNewChild(method, NULL, BAD_CAST "InclusiveNamespaces", NULL);
    ec = xmlNewNs(inclusive, BAD_CAST TS_NS_EC, BAD_CAST "ec");
    xmlSetNs(inclusive, ec);
    xmlNewProp(inclusive, BAD_CAST "PrefixList", BAD_CAST prefix_list);
}

static char *unique_id(xmlDoc *doc, const char *stem, char *buffer, size_t capacity)
{
    for (int n = 1;; n++) {
        snprintf(buffer, capacity, "%s-%d", stem, n);
        if (ts_find_id(doc, buffer) == NULL)
            return buffer;
    }
}

static int add_key_info(xmlDoc *doc, xmlNode *security, xmlNode *signature, xmlNs *ds, const ts_options *opt,
                        X509 *cert)
{
    xmlNs *wsse = namespace_for(doc, security, WD_NS_WSSE, "wsse");
    xmlNs *wsu = namespace_for(doc, security, WD_NS_WSU, "wsu");
    unsigned char *der = NULL;
    int der_length = i2d_X509(cert, &der);
    char *encoded = NULL;
    char id[64];
    xmlNode *key_info;
    xmlNode *reference;
    xmlNode *form;
    int result = -1;

    if (der_length <= 0)
        return complain("cannot encode the certificate");

    if (opt->key_reference == TS_KEY_BST) {
        xmlNode *token = xmlNewDocNode(doc, wsse, BAD_CAST "BinarySecurityToken", NULL);
        encoded = base64_of(der, (size_t)der_length, 1);
        if (token == NULL || encoded == NULL)
            goto done;
        xmlNewProp(token, BAD_CAST "EncodingType", BAD_CAST WD_WSS_BASE64);
        xmlNewProp(token, BAD_CAST "ValueType", BAD_CAST WD_WSS_X509V3);
        xmlNewNsProp(token, wsu, BAD_CAST "Id", BAD_CAST unique_id(doc, "X509", id, sizeof id));
        xmlNodeAddContent(token, BAD_CAST encoded);
        /* Tokens come before the signature that uses them. */
        xmlAddPrevSibling(signature, token);
    }

    key_info = add(signature, ds, "KeyInfo", NULL);
    reference = add(key_info, wsse, "SecurityTokenReference", NULL);
    switch (opt->key_reference) {
    case TS_KEY_BST: {
        char uri[80];
        snprintf(uri, sizeof uri, "#%s", id);
        form = add(reference, wsse, "Reference", NULL);
        xmlNewProp(form, BAD_CAST "URI", BAD_CAST uri);
        xmlNewProp(form, BAD_CAST "ValueType", BAD_CAST WD_WSS_X509V3);
        break;
    }
    case TS_KEY_SKI: {
        const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(cert);
        if (ski == NULL) {
            complain("the certificate has no subject key identifier");
            goto done;
        }
        encoded = base64_of(ASN1_STRING_get0_data(ski), (size_t)ASN1_STRING_length(ski), 0);
        form = add(reference, wsse, "KeyIdentifier", encoded);
        xmlNewProp(form, BAD_CAST "EncodingType", BAD_CAST WD_WSS_BASE64);
        xmlNewProp(form, BAD_CAST "ValueType", BAD_CAST WD_WSS_X509_SKI);
        break;
    }
    case TS_KEY_THUMBPRINT: {
        unsigned char sha1[EVP_MAX_MD_SIZE];
        unsigned int sha1_length = 0;
        EVP_MD *md = EVP_MD_fetch(NULL, "SHA1", NULL);
        int ok = md != NULL && EVP_Digest(der, (size_t)der_length, sha1, &sha1_length, md, NULL) == 1;
        EVP_MD_free(md);
        if (!ok)
            goto done;
        encoded = base64_of(sha1, sha1_length, 0);
        form = add(reference, wsse, "KeyIdentifier", encoded);
        xmlNewProp(form, BAD_CAST "EncodingType", BAD_CAST WD_WSS_BASE64);
        xmlNewProp(form, BAD_CAST "ValueType", BAD_CAST WD_WSS_THUMBPRINT);
        break;
    }
    case TS_KEY_ISSUER_SERIAL: {
        BIO *bio = BIO_new(BIO_s_mem());
        BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
        char *serial_text = serial != NULL ? BN_bn2dec(serial) : NULL;
        char issuer[512] = "";
        xmlNode *data = add(reference, ds, "X509Data", NULL);
        xmlNode *issuer_serial = add(data, ds, "X509IssuerSerial", NULL);
        if (bio != NULL && X509_NAME_print_ex(bio, X509_get_issuer_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
            int n = BIO_read(bio, issuer, (int)sizeof issuer - 1);
            issuer[n > 0 ? n : 0] = '\0';
        }
        add(issuer_serial, ds, "X509IssuerName", issuer);
        add(issuer_serial, ds, "X509SerialNumber", serial_text != NULL ? serial_text : "");
        OPENSSL_free(serial_text);
        BN_free(serial);
        BIO_free(bio);
        break;
    }
    case TS_KEY_X509_DATA_CERT:
    case TS_KEY_ZEEP_X509_DATA: {
        xmlNode *data = add(reference, ds, "X509Data", NULL);
        encoded = base64_of(der, (size_t)der_length, 1);
        if (opt->key_reference == TS_KEY_ZEEP_X509_DATA)
            add(data, ds, "X509IssuerSerial", NULL);
        add(data, ds, "X509Certificate", encoded);
        break;
    }
    case TS_KEY_INLINE_X509:
        encoded = base64_of(der, (size_t)der_length, 0);
        form = add(reference, wsse, "KeyIdentifier", encoded);
        xmlNewProp(form, BAD_CAST "EncodingType", BAD_CAST WD_WSS_BASE64);
        xmlNewProp(form, BAD_CAST "ValueType", BAD_CAST WD_WSS_X509V3);
        break;
    default:
        complain("unknown key reference %d", (int)opt->key_reference);
        goto done;
    }
    result = 0;

done:
    OPENSSL_free(der);
    free(encoded);
    return result;
}

int ts_sign(xmlDoc *doc, xmlNode *security, const ts_options *opt)
{
    static const char *const default_ids[] = { "Body-1", "TS-1" };
    const char *const *ids = opt->ids != NULL ? opt->ids : default_ids;
    size_t id_count = opt->ids != NULL ? opt->id_count : 2;
    const char *method = opt->signature_method != NULL ? opt->signature_method : WD_ALG_RSA_SHA256;
    const char *digest = opt->digest_method != NULL ? opt->digest_method : WD_ALG_SHA256;
    X509 *cert = NULL;
    xmlNode *signature;
    xmlNode *signed_info;
    xmlNode *element;
    xmlNs *ds;
    char signature_id[64];
    int result = -1;

    if (doc == NULL || security == NULL || opt == NULL)
        return complain("ts_sign needs a document, a Security header and options");
    cert = read_cert(opt->cert_pem_path);
    if (cert == NULL)
        goto done;

    signature = xmlNewDocNode(doc, NULL, BAD_CAST "Signature", NULL);
    ds = xmlNewNs(signature, BAD_CAST WD_NS_DSIG, BAD_CAST "ds");
    xmlSetNs(signature, ds);
    xmlNewProp(signature, BAD_CAST "Id", BAD_CAST unique_id(doc, "SIG", signature_id, sizeof signature_id));
    xmlAddChild(security, signature);

    signed_info = add(signature, ds, "SignedInfo", NULL);
    element = add(signed_info, ds, "CanonicalizationMethod", NULL);
    xmlNewProp(element, BAD_CAST "Algorithm", BAD_CAST WD_ALG_EXC_C14N);
    add_inclusive_namespaces(element, opt->signed_info_prefixes);
    element = add(signed_info, ds, "SignatureMethod", NULL);
    xmlNewProp(element, BAD_CAST "Algorithm", BAD_CAST method);

    for (size_t i = 0; i < id_count; i++) {
        char uri[256];
        xmlNode *reference = add(signed_info, ds, "Reference", NULL);
        xmlNode *transforms = add(reference, ds, "Transforms", NULL);
        snprintf(uri, sizeof uri, "#%s", ids[i]);
        xmlNewProp(reference, BAD_CAST "URI", BAD_CAST uri);
        if (opt->enveloped_transform) {
            element = add(transforms, ds, "Transform", NULL);
            xmlNewProp(element, BAD_CAST "Algorithm", BAD_CAST WD_ALG_ENVELOPED);
        }
        element = add(transforms, ds, "Transform", NULL);
        xmlNewProp(element, BAD_CAST "Algorithm", BAD_CAST WD_ALG_EXC_C14N);
        add_inclusive_namespaces(element, opt->inclusive_prefixes);
        element = add(reference, ds, "DigestMethod", NULL);
        xmlNewProp(element, BAD_CAST "Algorithm", BAD_CAST digest);
        add(reference, ds, "DigestValue", NULL);
    }
    add(signature, ds, "SignatureValue", NULL);
    if (add_key_info(doc, security, signature, ds, opt, cert) != 0)
        goto done;

    for (size_t i = 0; i < id_count; i++) {
        if (ts_redigest(ts_reference(signature, i)) != 0)
            goto done;
    }
    if (ts_resign(signature, opt->key_pem_path) != 0)
        goto done;
    result = 0;

done:
    X509_free(cert);
    return result;
}

int ts_sign_assertion(xmlDoc *doc, xmlNode *assertion, const char *key_pem_path, const char *cert_pem_path)
{
    xmlChar *id = xmlGetProp(assertion, BAD_CAST "ID");
    if (id == NULL)
        return complain("ts_sign_assertion: the assertion has no ID");
    const char *ids[] = { (const char *)id };
    ts_options options = { .key_pem_path = key_pem_path, .cert_pem_path = cert_pem_path,
                           .key_reference = TS_KEY_X509_DATA_CERT, .ids = ids, .id_count = 1,
                           .enveloped_transform = true };
    int status = ts_sign(doc, assertion, &options);
    xmlFree(id);
    if (status != 0)
        return -1;
    /* where IdPs put it: after Issuer (the enveloped transform cuts it out wherever it is),
    ** and the certificate straight in KeyInfo rather than in a SecurityTokenReference (KeyInfo
    ** is not signed) */
    xmlNode *signature = ts_signature(doc);
    xmlNode *issuer = xmlFirstElementChild(assertion);
    if (signature == NULL || issuer == NULL)
        return complain("ts_sign_assertion: no signature or no Issuer");
    xmlUnlinkNode(signature);
    xmlAddNextSibling(issuer, signature);
    xmlNode *key_info = xmlLastElementChild(signature);
    xmlNode *reference = key_info != NULL ? xmlFirstElementChild(key_info) : NULL;
    xmlNode *x509_data = reference != NULL ? xmlFirstElementChild(reference) : NULL;
    if (x509_data == NULL)
        return complain("ts_sign_assertion: KeyInfo is not STR/X509Data");
    xmlUnlinkNode(x509_data);
    xmlUnlinkNode(reference);
    xmlFreeNode(reference);
    xmlAddChild(key_info, x509_data);
    return 0;
}
