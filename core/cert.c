/*
** cert.c — owns wd_cert: parsing a DER certificate once into every fact the property model
** reports (DNs, attributes, serial, fingerprints, SKI, validity, SANs, key), its reference
** count, and the rules a certificate must meet to sign a message (end entity, key usages).
** Each attribute or SAN list lives in one allocation (items followed by their text), so a
** list has exactly one owner and one free.
*/
#include "cert.h"

#include <arpa/inet.h>
#include <limits.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* ----- text pool: strings collected for one list, laid out behind its items at the end ----- */

typedef struct text_pool {
    char   *text;
    size_t  text_length, text_capacity;
    size_t *offsets;   /* start of each string in text */
    size_t *lengths;
    size_t  count, capacity;
} text_pool;

static void pool_clear(text_pool *pool)
{
    free(pool->text);
    free(pool->offsets);
    free(pool->lengths);
    memset(pool, 0, sizeof *pool);
}

/* Returns 0, or -1 on allocation failure. */
static int pool_add(text_pool *pool, const char *bytes, size_t length)
{
    if (pool->count == pool->capacity) {
        size_t capacity = pool->capacity ? pool->capacity * 2 : 8;
        size_t *offsets = realloc(pool->offsets, capacity * sizeof *offsets);
        if (offsets == NULL)
            return -1;
        pool->offsets = offsets;
        size_t *lengths = realloc(pool->lengths, capacity * sizeof *lengths);
        if (lengths == NULL)
            return -1;
        pool->lengths = lengths;
        pool->capacity = capacity;
    }
    if (length >= SIZE_MAX / 2 - pool->text_length)
        return -1;
    size_t needed = pool->text_length + length + 1;
    if (needed > pool->text_capacity) {
        size_t capacity = pool->text_capacity ? pool->text_capacity : 128;
        while (capacity < needed)
            capacity *= 2;
        char *text = realloc(pool->text, capacity);
        if (text == NULL)
            return -1;
        pool->text = text;
        pool->text_capacity = capacity;
    }
    memcpy(pool->text + pool->text_length, bytes, length);
    pool->text[pool->text_length + length] = '\0';
    pool->offsets[pool->count] = pool->text_length;
    pool->lengths[pool->count] = length;
    pool->count++;
    pool->text_length += length + 1;
    return 0;
}

/* The pool holds name, value, name, value, ... Returns 0 or -1 (NOMEM). */
static int pool_to_attr_list(const text_pool *pool, warden_attr_list *out)
{
    out->items = NULL;
    out->count = 0;
    size_t count = pool->count / 2;
    if (count == 0)
        return 0;
    warden_attr *items = malloc(count * sizeof *items + pool->text_length);
    if (items == NULL)
        return -1;
    char *text = (char *)(items + count);
    memcpy(text, pool->text, pool->text_length);
    for (size_t i = 0; i < count; i++) {
        items[i].name = text + pool->offsets[2 * i];
        items[i].value = text + pool->offsets[2 * i + 1];
    }
    out->items = items;
    out->count = count;
    return 0;
}

static int pool_to_string_list(const text_pool *pool, warden_string_list *out)
{
    out->items = NULL;
    out->count = 0;
    if (pool->count == 0)
        return 0;
    warden_string *items = malloc(pool->count * sizeof *items + pool->text_length);
    if (items == NULL)
        return -1;
    char *text = (char *)(items + pool->count);
    memcpy(text, pool->text, pool->text_length);
    for (size_t i = 0; i < pool->count; i++) {
        items[i].data = text + pool->offsets[i];
        items[i].length = pool->lengths[i];
    }
    out->items = items;
    out->count = pool->count;
    return 0;
}

/* ----- helpers over OpenSSL values ----- */

typedef enum extract_status { EXTRACT_OK = 0, EXTRACT_NOMEM, EXTRACT_UNSUPPORTED } extract_status;

static char *hex_lower(const unsigned char *bytes, size_t length)
{
    static const char digits[] = "0123456789abcdef";
    char *hex = malloc(length * 2 + 1);
    if (hex == NULL)
        return NULL;
    for (size_t i = 0; i < length; i++) {
        hex[2 * i] = digits[bytes[i] >> 4];
        hex[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    hex[length * 2] = '\0';
    return hex;
}

/* RFC 2253 order (most specific first), without escaping bytes >= 0x80 so that UTF-8
** stays readable UTF-8. */
static char *name_to_text(const X509_NAME *name)
{
    char *text = NULL;
    char *data = NULL;
    long length = 0;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL)
        return NULL;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
        goto done;
    length = BIO_get_mem_data(bio, &data);
    if (length < 0)
        goto done;
    text = malloc((size_t)length + 1);
    if (text == NULL)
        goto done;
    if (length > 0)
        memcpy(text, data, (size_t)length);
    text[length] = '\0';
done:
    BIO_free(bio);
    return text;
}

/* Entries are stored least specific first; the list follows the printed DN instead. */
static extract_status name_to_attrs(const X509_NAME *name, warden_attr_list *out)
{
    extract_status status = EXTRACT_NOMEM;
    text_pool pool = { 0 };
    unsigned char *utf8 = NULL;

    for (int i = X509_NAME_entry_count(name) - 1; i >= 0; i--) {
        const X509_NAME_ENTRY *entry = X509_NAME_get_entry(name, i);
        const ASN1_OBJECT *object = X509_NAME_ENTRY_get_object(entry);
        int nid = OBJ_obj2nid(object);
        char oid_text[128];
        const char *short_name = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
        if (short_name == NULL) {
            if (OBJ_obj2txt(oid_text, sizeof oid_text, object, 1) <= 0) {
                status = EXTRACT_UNSUPPORTED;
                goto done;
            }
            short_name = oid_text;
        }
        int length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
        if (length < 0) {
            status = EXTRACT_UNSUPPORTED;
            goto done;
        }
        /* A NUL inside a value would let "alice\0.evil" read as "alice" downstream. */
        if (memchr(utf8, '\0', (size_t)length) != NULL) {
            status = EXTRACT_UNSUPPORTED;
            goto done;
        }
        if (pool_add(&pool, short_name, strlen(short_name)) != 0
            || pool_add(&pool, (const char *)utf8, (size_t)length) != 0)
            goto done;
        OPENSSL_free(utf8);
        utf8 = NULL;
    }
    if (pool_to_attr_list(&pool, out) != 0)
        goto done;
    status = EXTRACT_OK;
done:
    OPENSSL_free(utf8);
    pool_clear(&pool);
    return status;
}

static char *serial_to_hex(const ASN1_INTEGER *serial)
{
    char *result = NULL;
    char *hex = NULL;
    const char *digits = NULL;
    char *cursor = NULL;
    bool negative = false;
    size_t length = 0;
    BIGNUM *number = ASN1_INTEGER_to_BN(serial, NULL);
    if (number == NULL)
        goto done;
    hex = BN_bn2hex(number);
    if (hex == NULL)
        goto done;
    digits = hex;
    negative = digits[0] == '-';
    if (negative)
        digits++;
    length = strlen(digits);
    result = malloc(length + 2);
    if (result == NULL)
        goto done;
    cursor = result;
    if (negative)
        *cursor++ = '-';
    for (size_t i = 0; i <= length; i++)
        cursor[i] = (char)((digits[i] >= 'A' && digits[i] <= 'F') ? digits[i] - 'A' + 'a' : digits[i]);
done:
    OPENSSL_free(hex);
    BN_free(number);
    return result;
}

/* Returns 0 and *out, or -1 for a time OpenSSL cannot read. */
static int time_to_unix(const ASN1_TIME *time, int64_t *out)
{
    struct tm fields;
    memset(&fields, 0, sizeof fields);
    if (time == NULL || ASN1_TIME_to_tm(time, &fields) != 1)
        return -1;
    *out = (int64_t)timegm(&fields);
    return 0;
}

static extract_status add_ia5(text_pool *pool, const ASN1_STRING *value)
{
    const unsigned char *bytes = ASN1_STRING_get0_data(value);
    int length = ASN1_STRING_length(value);
    if (bytes == NULL || length < 0 || memchr(bytes, '\0', (size_t)length) != NULL)
        return EXTRACT_UNSUPPORTED;
    return pool_add(pool, (const char *)bytes, (size_t)length) == 0 ? EXTRACT_OK : EXTRACT_NOMEM;
}

static extract_status add_ip(text_pool *pool, const ASN1_OCTET_STRING *value)
{
    char text[INET6_ADDRSTRLEN];
    const unsigned char *bytes = ASN1_STRING_get0_data(value);
    int length = ASN1_STRING_length(value);
    int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : 0;
    if (family == 0 || inet_ntop(family, bytes, text, sizeof text) == NULL)
        return EXTRACT_UNSUPPORTED;
    return pool_add(pool, text, strlen(text)) == 0 ? EXTRACT_OK : EXTRACT_NOMEM;
}

static extract_status extract_sans(X509 *x509, wd_cert *cert)
{
    extract_status status = EXTRACT_NOMEM;
    text_pool dns = { 0 }, email = { 0 }, uri = { 0 }, ip = { 0 };
    int critical = -1;
    GENERAL_NAMES *names = X509_get_ext_d2i(x509, NID_subject_alt_name, &critical, NULL);
    if (names == NULL) {
        /* -1: absent. Present but unparsable, or present twice: refuse rather than guess. */
        if (critical != -1) {
            status = EXTRACT_UNSUPPORTED;
            goto done;
        }
        status = EXTRACT_OK;
        goto done;
    }
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
        extract_status added = EXTRACT_OK;
        switch (name->type) {
        case GEN_DNS:   added = add_ia5(&dns, name->d.dNSName); break;
        case GEN_EMAIL: added = add_ia5(&email, name->d.rfc822Name); break;
        case GEN_URI:   added = add_ia5(&uri, name->d.uniformResourceIdentifier); break;
        case GEN_IPADD: added = add_ip(&ip, name->d.iPAddress); break;
        default: break; /* otherName, dirName, registeredID: not reported */
        }
        if (added != EXTRACT_OK) {
            status = added;
            goto done;
        }
    }
    if (pool_to_string_list(&dns, &cert->san_dns) != 0 || pool_to_string_list(&email, &cert->san_email) != 0
        || pool_to_string_list(&uri, &cert->san_uri) != 0 || pool_to_string_list(&ip, &cert->san_ip) != 0)
        goto done;
    status = EXTRACT_OK;
done:
    GENERAL_NAMES_free(names);
    pool_clear(&dns);
    pool_clear(&email);
    pool_clear(&uri);
    pool_clear(&ip);
    return status;
}

static const char *key_type_of(EVP_PKEY *key)
{
    static const struct { const char *openssl_name, *reported; } types[] = {
        { "RSA", "rsa" }, { "RSA-PSS", "rsa-pss" }, { "EC", "ec" },
        { "ED25519", "ed25519" }, { "ED448", "ed448" }, { "DSA", "dsa" },
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (EVP_PKEY_is_a(key, types[i].openssl_name) == 1)
            return types[i].reported;
    return "unknown";
}

static void cert_free(wd_cert *cert)
{
    wd_verify_cache_clear(&cert->verify_cache);
    X509_free(cert->x509);
    EVP_PKEY_free(cert->key);
    free(cert->der);
    free(cert->ski);
    free(cert->subject);
    free(cert->issuer);
    free(cert->serial_hex);
    free(cert->sha256_hex);
    free((void *)cert->subject_attrs.items);
    free((void *)cert->issuer_attrs.items);
    free((void *)cert->san_dns.items);
    free((void *)cert->san_email.items);
    free((void *)cert->san_uri.items);
    free((void *)cert->san_ip.items);
    free(cert);
}

/* ----- the public functions ----- */

int wd_cert_from_der(const unsigned char *der, size_t length, wd_cert **out, wd_failure *failure)
{
    int result = -1;
    wd_cert *cert = NULL;
    extract_status status;
    const unsigned char *cursor = der;
    EVP_PKEY *key = NULL;
    const ASN1_OCTET_STRING *ski = NULL;

    *out = NULL;
    if (der == NULL || length == 0 || length > (size_t)LONG_MAX)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "empty or oversized certificate");

    cert = calloc(1, sizeof *cert);
    if (cert == NULL)
        goto nomem;
    atomic_init(&cert->references, 1);

    cert->x509 = d2i_X509(NULL, &cursor, (long)length);
    if (cert->x509 == NULL) {
        result = wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "not an X.509 certificate");
        goto done;
    }
    /* Bytes after the certificate would be unsigned baggage carried along the DER. */
    if (cursor != der + length) {
        result = wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "%zu bytes after the certificate",
                         (size_t)(der + length - cursor));
        goto done;
    }
    /* Fills OpenSSL's extension cache now, while this thread alone sees the object. */
    X509_check_purpose(cert->x509, -1, 0);

    key = X509_get0_pubkey(cert->x509);
    if (key == NULL || EVP_PKEY_up_ref(key) != 1) {
        result = wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "the certificate's public key cannot be loaded");
        goto done;
    }
    cert->key = key;
    cert->key_type = key_type_of(key);
    cert->key_bits = EVP_PKEY_get_bits(key);

    cert->der = malloc(length);
    if (cert->der == NULL)
        goto nomem;
    memcpy(cert->der, der, length);
    cert->der_length = length;

    if (EVP_Digest(der, length, cert->sha256, NULL, EVP_sha256(), NULL) != 1
        || EVP_Digest(der, length, cert->sha1, NULL, EVP_sha1(), NULL) != 1) {
        result = wd_fail_internal(failure, WARDEN_E_INTERNAL, "cannot hash the certificate");
        goto done;
    }
    cert->sha256_hex = hex_lower(cert->sha256, sizeof cert->sha256);
    if (cert->sha256_hex == NULL)
        goto nomem;

    ski = X509_get0_subject_key_id(cert->x509);
    if (ski != NULL && ASN1_STRING_length(ski) > 0) {
        cert->ski_length = (size_t)ASN1_STRING_length(ski);
        cert->ski = malloc(cert->ski_length);
        if (cert->ski == NULL)
            goto nomem;
        memcpy(cert->ski, ASN1_STRING_get0_data(ski), cert->ski_length);
    }

    cert->subject = name_to_text(X509_get_subject_name(cert->x509));
    cert->issuer = name_to_text(X509_get_issuer_name(cert->x509));
    cert->serial_hex = serial_to_hex(X509_get0_serialNumber(cert->x509));
    if (cert->subject == NULL || cert->issuer == NULL || cert->serial_hex == NULL)
        goto nomem;

    status = name_to_attrs(X509_get_subject_name(cert->x509), &cert->subject_attrs);
    if (status == EXTRACT_OK)
        status = name_to_attrs(X509_get_issuer_name(cert->x509), &cert->issuer_attrs);
    if (status == EXTRACT_NOMEM)
        goto nomem;
    if (status == EXTRACT_UNSUPPORTED) {
        result = wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "a name attribute cannot be read as text");
        goto done;
    }

    if (time_to_unix(X509_get0_notBefore(cert->x509), &cert->not_before) != 0
        || time_to_unix(X509_get0_notAfter(cert->x509), &cert->not_after) != 0) {
        result = wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "unreadable validity period");
        goto done;
    }

    status = extract_sans(cert->x509, cert);
    if (status == EXTRACT_NOMEM)
        goto nomem;
    if (status == EXTRACT_UNSUPPORTED) {
        result = wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "unreadable subjectAltName");
        goto done;
    }

    *out = cert;
    cert = NULL;
    result = 0;
    goto done;
nomem:
    result = wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory parsing a certificate");
done:
    /* d2i and the extension cache may queue errors even on success; none concern the caller. */
    ERR_clear_error();
    if (cert != NULL)
        cert_free(cert);
    return result;
}

/* ----- may this certificate sign? ----- */

/* A purpose's name for messages: "clientAuth", or the dotted OID when OpenSSL has no name. */
static void purpose_name(const ASN1_OBJECT *purpose, char *out, size_t size)
{
    int nid = OBJ_obj2nid(purpose);
    if (nid != NID_undef && OBJ_nid2sn(nid) != NULL)
        snprintf(out, size, "%s", OBJ_nid2sn(nid));
    else if (OBJ_obj2txt(out, (int)size, purpose, 1) <= 0)
        snprintf(out, size, "?");
}

/* "clientAuth, 1.2.3.4" for the detail of a rejection. */
static void purposes_text(ASN1_OBJECT *const *purposes, size_t count, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < count && used + 1 < size; i++) {
        char name[80];
        purpose_name(purposes[i], name, sizeof name);
        int n = snprintf(out + used, size - used, "%s%s", i > 0 ? ", " : "", name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static int check_extended_usage(const wd_cert *cert, ASN1_OBJECT *const *purposes, size_t purpose_count,
                                wd_failure *failure)
{
    char wanted[160];
    int critical = 0;
    bool found = false;
    EXTENDED_KEY_USAGE *usage = X509_get_ext_d2i(cert->x509, NID_ext_key_usage, &critical, NULL);

    purposes_text(purposes, purpose_count, wanted, sizeof wanted);
    if (usage == NULL) {
        /* critical is -1 when the extension is absent, -2 when it occurs twice; an extension
        ** that does not decode leaves it >= 0. None of them grants a purpose. */
        ERR_clear_error();
        return wd_fail(failure, WD_REASON_CERT_USAGE, "%.100s: %s, and trust.eku requires one of %s", cert->subject,
                       critical == -1 ? "no extendedKeyUsage" : "an unreadable extendedKeyUsage", wanted);
    }
    for (int i = 0; i < sk_ASN1_OBJECT_num(usage) && !found; i++)
        for (size_t j = 0; j < purpose_count && !found; j++)
            found = OBJ_cmp(sk_ASN1_OBJECT_value(usage, i), purposes[j]) == 0;
    sk_ASN1_OBJECT_pop_free(usage, ASN1_OBJECT_free);
    if (!found)
        return wd_fail(failure, WD_REASON_CERT_USAGE, "%.100s: extendedKeyUsage has none of trust.eku (%s)",
                       cert->subject, wanted);
    return 0;
}

int wd_cert_check_signer(const wd_cert *cert, ASN1_OBJECT *const *purposes, size_t purpose_count,
                         wd_failure *failure)
{
    if (cert == NULL || cert->x509 == NULL)
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "no certificate to check");
    /* X509_check_ca reads the extension cache that parsing filled; it takes its own lock. */
    switch (X509_check_ca(cert->x509)) {
    case 0:
        break;
    case 1:
        return wd_fail(failure, WD_REASON_CERT_USAGE,
                       "%.100s: a CA certificate (basicConstraints CA:TRUE) may not sign messages", cert->subject);
    case 3:
        return wd_fail(failure, WD_REASON_CERT_USAGE,
                       "%.100s: a self-signed version 1 certificate is a CA and may not sign messages", cert->subject);
    default: /* 4: keyUsage keyCertSign without basicConstraints; 5: a Netscape CA type */
        return wd_fail(failure, WD_REASON_CERT_USAGE,
                       "%.100s: a CA certificate (it may sign certificates) may not sign messages", cert->subject);
    }
    /* UINT32_MAX when the certificate has no keyUsage: then every use is allowed. */
    uint32_t usage = X509_get_key_usage(cert->x509);
    if ((usage & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) == 0)
        return wd_fail(failure, WD_REASON_CERT_USAGE,
                       "%.100s: keyUsage allows neither digitalSignature nor nonRepudiation", cert->subject);
    if (purpose_count > 0)
        return check_extended_usage(cert, purposes, purpose_count, failure);
    return 0;
}

wd_cert *wd_cert_ref(wd_cert *cert)
{
    if (cert != NULL)
        atomic_fetch_add_explicit(&cert->references, 1, memory_order_relaxed);
    return cert;
}

void wd_cert_unref(wd_cert *cert)
{
    if (cert == NULL)
        return;
    /* acq_rel: the last holder must see every other holder's writes before freeing. */
    if (atomic_fetch_sub_explicit(&cert->references, 1, memory_order_acq_rel) == 1)
        cert_free(cert);
}
