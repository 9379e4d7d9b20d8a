/*
** trust_store.c — owns the trust anchors (an X509_STORE), the known sender certificates and
** their look-ups (SKI, SHA-1 thumbprint, issuer + serial), the CRLs, chain validation with
** revocation checks (OpenSSL's, never our own), the signer rules (end entity, key usages,
** trust.eku), and the two caches keyed by a certificate's SHA-256: parsed certificates and
** successful verdicts.
**
** Anchors, known certificates, CRLs and purposes are added while the engine is being built
** and are read-only afterwards, so the look-ups take no lock. The caches change on the hot
** path; one mutex guards both, held only for a few slot comparisons (never during parsing or
** chain building).
*/
#include "trust_store.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../include/warden.h"
#include "crl_status.h"
#include "file_text.h"
#include "say.h"

/* Each cache: 256 sets of 4 slots, the set chosen by the first byte of the SHA-256. Bounded
** at 1024 entries; a full set replaces its least recently used slot. */
#define CACHE_SETS 256
#define CACHE_WAYS 4
#define TEXT_SETS 64 /* token texts are a kilobyte or two each: fewer of them */

/* A PEM bundle larger than this is a mistake, not a CA list. */
#define MAX_PEM_BYTES (64u * 1024u * 1024u)
/* X509SerialNumber digits accepted; serials are at most 20 octets (RFC 5280), ~49 digits. */
#define MAX_SERIAL_DIGITS 128

typedef struct parse_slot {
    wd_cert  *cert;       /* one reference held by the cache */
    uint64_t  last_used;
} parse_slot;

/* A BinarySecurityToken's base64 text as it arrived, and the certificate it decoded to. */
typedef struct text_slot {
    char     *text;       /* owned copy; NULL: free slot */
    size_t    length;
    uint64_t  hash;
    wd_cert  *cert;       /* one reference held by the cache */
    uint64_t  last_used;
} text_slot;

/* A successful chain validation, valid for any time in [valid_from, valid_until]. */
typedef struct verdict_slot {
    bool          used;
    unsigned char sha256[32];
    int64_t       valid_from;
    int64_t       valid_until;
    uint64_t      last_used;
} verdict_slot;

typedef struct known_cert {
    wd_cert *cert;
    char    *issuer_key;  /* the issuer DN in normalised form (see dn_normalise) */
} known_cert;

struct wd_trust_store {
    X509_STORE     *anchors;
    STACK_OF(X509) *untrusted;    /* the known certificates, offered to chain building */
    known_cert     *known;
    size_t          known_count, known_capacity;
    size_t          anchor_count;
    STACK_OF(X509_CRL) *crls;     /* also in anchors, where OpenSSL finds them; kept here for
                                  ** the verdict cache, which must not outlive a CRL */
    ASN1_OBJECT   **purposes;     /* trust.eku: a signer needs one of them; owned */
    size_t          purpose_count;
    EVP_MD         *sha256;

    pthread_mutex_t cache_lock;   /* guards everything below */
    uint64_t        clock;
    parse_slot      parse_cache[CACHE_SETS][CACHE_WAYS];
    verdict_slot    verdict_cache[CACHE_SETS][CACHE_WAYS];
    text_slot       text_cache[TEXT_SETS][CACHE_WAYS];
};

static void set_message(char *message, size_t capacity, const char *format, const char *path, const char *why)
{
    if (message != NULL && capacity > 0)
        snprintf(message, capacity, format, path, why);
}

/* ----- store life cycle ----- */

int wd_trust_store_new(wd_trust_store **out)
{
    *out = NULL;
    wd_trust_store *store = calloc(1, sizeof *store);
    if (store == NULL)
        return WARDEN_E_NOMEM;
    if (pthread_mutex_init(&store->cache_lock, NULL) != 0) {
        free(store);
        return WARDEN_E_NOMEM;
    }
    store->anchors = X509_STORE_new();
    store->untrusted = sk_X509_new_null();
    store->crls = sk_X509_CRL_new_null();
    store->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (store->anchors == NULL || store->untrusted == NULL || store->crls == NULL || store->sha256 == NULL) {
        ERR_clear_error();
        wd_trust_store_free(store);
        return WARDEN_E_NOMEM;
    }
    *out = store;
    return WARDEN_OK;
}

void wd_trust_store_free(wd_trust_store *store)
{
    if (store == NULL)
        return;
    X509_STORE_free(store->anchors);
    sk_X509_pop_free(store->untrusted, X509_free);
    sk_X509_CRL_pop_free(store->crls, X509_CRL_free);
    for (size_t i = 0; i < store->purpose_count; i++)
        ASN1_OBJECT_free(store->purposes[i]);
    free(store->purposes);
    for (size_t i = 0; i < store->known_count; i++) {
        wd_cert_unref(store->known[i].cert);
        free(store->known[i].issuer_key);
    }
    free(store->known);
    for (size_t set = 0; set < CACHE_SETS; set++)
        for (size_t way = 0; way < CACHE_WAYS; way++)
            wd_cert_unref(store->parse_cache[set][way].cert);
    for (size_t set = 0; set < TEXT_SETS; set++) {
        for (size_t way = 0; way < CACHE_WAYS; way++) {
            wd_cert_unref(store->text_cache[set][way].cert);
            free(store->text_cache[set][way].text);
        }
    }
    EVP_MD_free(store->sha256);
    pthread_mutex_destroy(&store->cache_lock);
    free(store);
}

size_t wd_trust_store_anchor_count(const wd_trust_store *store)
{
    return store != NULL ? store->anchor_count : 0;
}

wd_cert *wd_trust_store_sole_known(wd_trust_store *store)
{
    return store != NULL && store->known_count == 1 ? wd_cert_ref(store->known[0].cert) : NULL;
}

size_t wd_trust_store_known_count(const wd_trust_store *store)
{
    return store != NULL ? store->known_count : 0;
}

size_t wd_trust_store_crl_count(const wd_trust_store *store)
{
    return store != NULL ? (size_t)sk_X509_CRL_num(store->crls) : 0;
}

/* ----- PEM files ----- */

/* Reads the whole file (file_text.h); WARDEN_E_IO when it cannot be read. */
static int read_file(const char *path, unsigned char **out, size_t *out_length, char *message, size_t capacity)
{
    char *text = NULL;
    switch (wd_file_read(path, MAX_PEM_BYTES, 0, &text, out_length)) {
    case WD_FILE_OK:
        *out = (unsigned char *)text;
        return WARDEN_OK;
    case WD_FILE_TOO_LARGE:
        set_message(message, capacity, "%s: %s", path, "larger than 64 MiB");
        return WARDEN_E_CONFIG;
    case WD_FILE_NOMEM:
        set_message(message, capacity, "%s: %s", path, "out of memory");
        return WARDEN_E_NOMEM;
    default:
        set_message(message, capacity, "cannot read %s: %s", path, strerror(errno));
        return WARDEN_E_IO;
    }
}

/* After a PEM_read_bio_* call returned NULL: 0 when it only found no further block (the
** normal end of a file), else 1 with the message naming what (a "certificate", a "CRL") failed
** and OpenSSL's reason. The caller cleared the error queue before its first read. */
static int pem_read_failed(const char *path, const char *what, char *message, size_t capacity)
{
    unsigned long error = ERR_peek_last_error();
    if (ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE)
        return 0;
    char why[160];
    ERR_error_string_n(error, why, sizeof why);
    wd_say(message, capacity, "%s: not a valid PEM %s (%s)", path, what, why);
    return 1;
}

/* Every CERTIFICATE block of a PEM file, in order. *out owned by the caller. */
static int load_pem_certificates(const char *path, STACK_OF(X509) **out, char *message, size_t capacity)
{
    int result;
    unsigned char *data = NULL;
    size_t length = 0;
    BIO *bio = NULL;
    STACK_OF(X509) *certs = NULL;

    *out = NULL;
    result = read_file(path, &data, &length, message, capacity);
    if (result != WARDEN_OK)
        return result;
    result = WARDEN_E_NOMEM;
    bio = BIO_new_mem_buf(data, (int)length);
    certs = sk_X509_new_null();
    if (bio == NULL || certs == NULL) {
        set_message(message, capacity, "%s: %s", path, "out of memory");
        goto done;
    }
    ERR_clear_error();
    for (;;) {
        X509 *x509 = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (x509 == NULL) {
            if (!pem_read_failed(path, "certificate", message, capacity))
                break; /* no further block: the normal end */
            result = WARDEN_E_CONFIG;
            goto done;
        }
        if (sk_X509_push(certs, x509) <= 0) {
            X509_free(x509);
            set_message(message, capacity, "%s: %s", path, "out of memory");
            goto done;
        }
    }
    if (sk_X509_num(certs) == 0) {
        set_message(message, capacity, "%s: %s", path, "no PEM certificate in it");
        result = WARDEN_E_CONFIG;
        goto done;
    }
    *out = certs;
    certs = NULL;
    result = WARDEN_OK;
done:
    ERR_clear_error();
    sk_X509_pop_free(certs, X509_free);
    BIO_free(bio);
    free(data);
    return result;
}

static void clear_verdicts(wd_trust_store *store)
{
    pthread_mutex_lock(&store->cache_lock);
    memset(store->verdict_cache, 0, sizeof store->verdict_cache);
    pthread_mutex_unlock(&store->cache_lock);
}

int wd_trust_store_add_anchors(wd_trust_store *store, const char *pem_path, char *message, size_t capacity)
{
    STACK_OF(X509) *certs = NULL;
    int result = load_pem_certificates(pem_path, &certs, message, capacity);
    if (result != WARDEN_OK)
        return result;
    for (int i = 0; i < sk_X509_num(certs); i++) {
        if (X509_STORE_add_cert(store->anchors, sk_X509_value(certs, i)) != 1) {
            ERR_clear_error();
            set_message(message, capacity, "%s: %s", pem_path, "cannot add a certificate to the trust store");
            result = WARDEN_E_CONFIG;
            goto done;
        }
        store->anchor_count++;
    }
    /* A cached success can only stay true with more anchors; cleared anyway so that no
    ** verdict ever predates the configuration it was made under. */
    clear_verdicts(store);
done:
    sk_X509_pop_free(certs, X509_free);
    return result;
}

/* ----- distinguished names as text ----- */

static const struct { const char *spelling, *canonical; } attribute_synonyms[] = {
    { "E", "EMAILADDRESS" }, { "EMAIL", "EMAILADDRESS" }, { "1.2.840.113549.1.9.1", "EMAILADDRESS" },
    { "S", "ST" }, { "2.5.4.8", "ST" }, { "STATEORPROVINCENAME", "ST" },
    { "2.5.4.3", "CN" }, { "COMMONNAME", "CN" },
    { "2.5.4.10", "O" }, { "ORGANIZATIONNAME", "O" },
    { "2.5.4.11", "OU" }, { "ORGANIZATIONALUNITNAME", "OU" },
    { "2.5.4.6", "C" }, { "COUNTRYNAME", "C" },
    { "2.5.4.7", "L" }, { "LOCALITYNAME", "L" },
    { "2.5.4.9", "STREET" }, { "0.9.2342.19200300.100.1.25", "DC" },
    { "0.9.2342.19200300.100.1.1", "UID" }, { "USERID", "UID" },
    { "2.5.4.5", "SERIALNUMBER" },
};

typedef struct text_buffer {
    char  *data;
    size_t length, capacity;
} text_buffer;

static int buffer_put(text_buffer *buffer, char c)
{
    if (buffer->length + 1 >= buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity * 2 : 128;
        char *data = realloc(buffer->data, capacity);
        if (data == NULL)
            return -1;
        buffer->data = data;
        buffer->capacity = capacity;
    }
    buffer->data[buffer->length++] = c;
    buffer->data[buffer->length] = '\0';
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_dn_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Appends the canonical attribute type: upper case, "OID." dropped, synonyms mapped. */
static int put_type(text_buffer *out, const char *type, size_t length)
{
    char upper[64];
    if (length >= 4 && strncasecmp(type, "OID.", 4) == 0) {
        type += 4;
        length -= 4;
    }
    if (length == 0 || length >= sizeof upper)
        return -2;
    for (size_t i = 0; i < length; i++)
        upper[i] = (char)toupper((unsigned char)type[i]);
    upper[length] = '\0';
    const char *canonical = upper;
    for (size_t i = 0; i < sizeof attribute_synonyms / sizeof attribute_synonyms[0]; i++)
        if (strcmp(upper, attribute_synonyms[i].spelling) == 0)
            canonical = attribute_synonyms[i].canonical;
    for (const char *c = canonical; *c; c++)
        if (buffer_put(out, *c) != 0)
            return -1;
    return 0;
}

/* A value byte in canonical form: ASCII case folded (X.500 caseIgnoreMatch), and the bytes
** that separate parts escaped as \XX so that the canonical text stays unambiguous. */
static int put_value_byte(text_buffer *out, unsigned char byte)
{
    static const char digits[] = "0123456789ABCDEF";
    if (byte < 0x20 || byte == ',' || byte == '+' || byte == '=' || byte == '\\' || byte == 0x7f) {
        if (buffer_put(out, '\\') != 0 || buffer_put(out, digits[byte >> 4]) != 0)
            return -1;
        return buffer_put(out, digits[byte & 15]);
    }
    return buffer_put(out, (char)tolower(byte));
}

/* Normalises a DN written as RFC 2253/4514 text (also accepting ';' between RDNs, spaces
** around separators and '=', quoted values, any case) into one canonical string: RDNs
** joined by ',', multi-valued ones by '+', types canonical, values unescaped, trimmed,
** inner spaces collapsed, case folded. Returns a malloc'd string, or NULL when the text is
** not a DN (*nomem tells allocation failure apart). */
static char *dn_normalise(const char *dn, bool *nomem)
{
    text_buffer out = { 0 };
    const char *cursor = dn;
    int status = 0;
    *nomem = false;

    while (is_dn_space(*cursor))
        cursor++;
    if (*cursor == '\0')
        goto fail;

    for (;;) {
        /* type */
        while (is_dn_space(*cursor))
            cursor++;
        const char *type = cursor;
        while (*cursor && *cursor != '=' && *cursor != ',' && *cursor != ';' && *cursor != '+')
            cursor++;
        if (*cursor != '=')
            goto fail;
        size_t type_length = (size_t)(cursor - type);
        while (type_length > 0 && is_dn_space(type[type_length - 1]))
            type_length--;
        status = put_type(&out, type, type_length);
        if (status != 0)
            goto fail;
        if (buffer_put(&out, '=') != 0)
            goto nomem;
        cursor++; /* '=' */

        /* value: unescaped; whitespace (escaped or not) trimmed at both ends and collapsed
        ** inside, as OpenSSL's own canonical name comparison does */
        while (is_dn_space(*cursor))
            cursor++;
        bool quoted = *cursor == '"';
        if (quoted)
            cursor++;
        bool pending_space = false, any = false;
        for (;;) {
            char c = *cursor;
            if (c == '\0')
                break;
            if (quoted && c == '"') {
                cursor++;
                quoted = false;
                while (is_dn_space(*cursor))
                    cursor++;
                break;
            }
            if (!quoted && (c == ',' || c == ';' || c == '+'))
                break;
            unsigned char byte;
            if (c == '\\') {
                int high = hex_value(cursor[1]);
                int low = high >= 0 ? hex_value(cursor[2]) : -1;
                if (high >= 0 && low >= 0) {
                    byte = (unsigned char)(high * 16 + low);
                    cursor += 3;
                } else if (cursor[1] != '\0') {
                    byte = (unsigned char)cursor[1];
                    cursor += 2;
                } else {
                    goto fail;
                }
            } else {
                byte = (unsigned char)c;
                cursor++;
            }
            if (is_dn_space((char)byte)) {
                pending_space = any;
                continue;
            }
            if (pending_space && put_value_byte(&out, ' ') != 0)
                goto nomem;
            pending_space = false;
            any = true;
            if (put_value_byte(&out, byte) != 0)
                goto nomem;
        }
        if (quoted)
            goto fail; /* unterminated quote */

        char separator = *cursor;
        if (separator == '\0')
            break;
        if (separator != ',' && separator != ';' && separator != '+')
            goto fail; /* text after a closing quote */
        cursor++;
        if (buffer_put(&out, separator == '+' ? '+' : ',') != 0)
            goto nomem;
    }
    return out.data;
nomem:
    *nomem = true;
fail:
    if (status == -1)
        *nomem = true;
    free(out.data);
    return NULL;
}

/* ----- known certificates ----- */

static int add_known_cert(wd_trust_store *store, X509 *x509, char *message, size_t capacity, const char *path)
{
    int result = WARDEN_E_NOMEM;
    unsigned char *der = NULL;
    wd_cert *cert = NULL;
    char *issuer_key = NULL;
    bool nomem = false;
    wd_failure failure = { 0 };

    int length = i2d_X509(x509, &der);
    if (length <= 0) {
        set_message(message, capacity, "%s: %s", path, "cannot encode a certificate");
        result = WARDEN_E_CONFIG;
        goto done;
    }
    if (wd_cert_from_der(der, (size_t)length, &cert, &failure) != 0) {
        set_message(message, capacity, "%s: %s", path, failure.detail);
        result = failure.code == WARDEN_E_NOMEM ? WARDEN_E_NOMEM : WARDEN_E_CONFIG;
        goto done;
    }
    issuer_key = dn_normalise(cert->issuer, &nomem);
    if (issuer_key == NULL && nomem) {
        set_message(message, capacity, "%s: %s", path, "out of memory");
        goto done;
    }
    /* issuer_key may stay NULL for an issuer that prints as no DN: such a certificate can
    ** still be found by SKI or thumbprint. */
    if (store->known_count == store->known_capacity) {
        size_t grown = store->known_capacity ? store->known_capacity * 2 : 16;
        known_cert *bigger = realloc(store->known, grown * sizeof *bigger);
        if (bigger == NULL) {
            set_message(message, capacity, "%s: %s", path, "out of memory");
            goto done;
        }
        store->known = bigger;
        store->known_capacity = grown;
    }
    if (X509_up_ref(cert->x509) != 1 || sk_X509_push(store->untrusted, cert->x509) <= 0) {
        X509_free(cert->x509); /* balances the up_ref when only the push failed */
        set_message(message, capacity, "%s: %s", path, "out of memory");
        goto done;
    }
    store->known[store->known_count].cert = cert;
    store->known[store->known_count].issuer_key = issuer_key;
    store->known_count++;
    cert = NULL;
    issuer_key = NULL;
    result = WARDEN_OK;
done:
    ERR_clear_error();
    OPENSSL_free(der);
    wd_cert_unref(cert);
    free(issuer_key);
    return result;
}

int wd_trust_store_add_known(wd_trust_store *store, const char *pem_path, char *message, size_t capacity)
{
    STACK_OF(X509) *certs = NULL;
    int result = load_pem_certificates(pem_path, &certs, message, capacity);
    if (result != WARDEN_OK)
        return result;
    size_t before = store->known_count;
    for (int i = 0; i < sk_X509_num(certs) && result == WARDEN_OK; i++)
        result = add_known_cert(store, sk_X509_value(certs, i), message, capacity, pem_path);
    /* A file is taken whole or not at all. */
    while (result != WARDEN_OK && store->known_count > before) {
        known_cert *last = &store->known[--store->known_count];
        X509_free(sk_X509_pop(store->untrusted));
        wd_cert_unref(last->cert);
        free(last->issuer_key);
    }
    /* New intermediates can open chains that had none; see add_anchors. */
    clear_verdicts(store);
    sk_X509_pop_free(certs, X509_free);
    return result;
}

/* ----- CRLs ----- */

/* Every CRL of a file: the "X509 CRL" blocks of a PEM file, or one DER CRL (wd_crl_parse, the
** format `warden serve`'s tls.crls reads too). *out owned by the caller. */
static int load_crls(const char *path, STACK_OF(X509_CRL) **out, char *message, size_t capacity)
{
    unsigned char *data = NULL;
    size_t length = 0;
    char why[200];

    *out = NULL;
    int result = read_file(path, &data, &length, message, capacity);
    if (result != WARDEN_OK)
        return result;
    switch (wd_crl_parse(data, length, out, why, sizeof why)) {
    case 0:
        result = WARDEN_OK;
        break;
    case 1:
        set_message(message, capacity, "%s: %s", path, why);
        result = WARDEN_E_CONFIG;
        break;
    default:
        set_message(message, capacity, "%s: %s", path, "out of memory");
        result = WARDEN_E_NOMEM;
    }
    free(data);
    return result;
}

/* A DN in RFC 2253 form ("CN=Test Root CA,O=Example"), for messages; "" when it cannot be
** printed. */
static void name_text(const X509_NAME *name, char *out, size_t size)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int length = 0;
    if (bio != NULL && name != NULL && X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0)
        length = BIO_read(bio, out, (int)size - 1);
    out[length > 0 ? length : 0] = '\0';
    BIO_free(bio);
    ERR_clear_error();
}

/* 1 when issuer's subject is the CRL's issuer and its key verifies the CRL, 0 when it is the
** issuer by name only, -1 when it is another certificate. */
static int crl_signed_by(X509_CRL *crl, X509 *issuer)
{
    if (issuer == NULL || X509_NAME_cmp(X509_get_subject_name(issuer), X509_CRL_get_issuer(crl)) != 0)
        return -1;
    EVP_PKEY *key = X509_get0_pubkey(issuer);
    return key != NULL && X509_CRL_verify(crl, key) == 1 ? 1 : 0;
}

/* A CRL whose issuer is among the anchors or known certificates must verify with one of them:
** a damaged or forged CRL file is a configuration error, refused like any bad file (a reload
** keeps the material that serves). A CRL of a CA that none of them is never consulted by chain
** validation, and is accepted. OpenSSL checks the signature again when it uses the CRL. */
static int check_crl_signature(wd_trust_store *store, X509_CRL *crl, const char *path, char *message,
                               size_t capacity)
{
    bool named = false;
    STACK_OF(X509_OBJECT) *objects = X509_STORE_get0_objects(store->anchors);
    for (int i = 0; i < sk_X509_OBJECT_num(objects); i++) {
        int verdict = crl_signed_by(crl, X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i)));
        if (verdict == 1)
            return WARDEN_OK;
        named = named || verdict == 0;
    }
    for (int i = 0; i < sk_X509_num(store->untrusted); i++) {
        int verdict = crl_signed_by(crl, sk_X509_value(store->untrusted, i));
        if (verdict == 1)
            return WARDEN_OK;
        named = named || verdict == 0;
    }
    ERR_clear_error();
    if (!named)
        return WARDEN_OK;
    char issuer[200];
    name_text(X509_CRL_get_issuer(crl), issuer, sizeof issuer);
    wd_say(message, capacity, "%s: the CRL of %s does not verify with its issuer's key", path, issuer);
    return WARDEN_E_CONFIG;
}

int wd_trust_store_add_crls(wd_trust_store *store, const char *path, char *message, size_t capacity)
{
    STACK_OF(X509_CRL) *crls = NULL;
    int result = load_crls(path, &crls, message, capacity);
    if (result != WARDEN_OK)
        return result;
    /* A file is taken whole or not at all: every CRL is checked before any is added. */
    for (int i = 0; i < sk_X509_CRL_num(crls) && result == WARDEN_OK; i++)
        result = check_crl_signature(store, sk_X509_CRL_value(crls, i), path, message, capacity);
    for (int i = 0; i < sk_X509_CRL_num(crls) && result == WARDEN_OK; i++) {
        X509_CRL *crl = sk_X509_CRL_value(crls, i);
        if (X509_STORE_add_crl(store->anchors, crl) != 1 || X509_CRL_up_ref(crl) != 1) {
            set_message(message, capacity, "%s: %s", path, "cannot add a CRL to the trust store");
            result = WARDEN_E_NOMEM;
            break;
        }
        if (sk_X509_CRL_push(store->crls, crl) <= 0) {
            X509_CRL_free(crl);
            set_message(message, capacity, "%s: %s", path, "out of memory");
            result = WARDEN_E_NOMEM;
        }
    }
    /* A cached success may not hold under a CRL; see add_anchors. */
    clear_verdicts(store);
    ERR_clear_error();
    sk_X509_CRL_pop_free(crls, X509_CRL_free);
    return result;
}

/* ----- signer purposes (trust.eku) ----- */

static const struct { const char *name; int nid; } purpose_names[] = {
    { "clientAuth", NID_client_auth },   { "serverAuth", NID_server_auth },
    { "emailProtection", NID_email_protect }, { "codeSigning", NID_code_sign },
    { "timeStamping", NID_time_stamp },  { "OCSPSigning", NID_OCSP_sign },
    { "anyExtendedKeyUsage", NID_anyExtendedKeyUsage },
};

/* A dotted OID ("1.3.6.1.5.5.7.3.2") or one of the names above, case-insensitively. */
static ASN1_OBJECT *purpose_from_text(const char *text)
{
    for (size_t i = 0; i < sizeof purpose_names / sizeof purpose_names[0]; i++)
        if (strcasecmp(text, purpose_names[i].name) == 0)
            return OBJ_dup(OBJ_nid2obj(purpose_names[i].nid));
    /* arcs of digits joined by single dots, at least two, the first 0, 1 or 2 */
    size_t length = strlen(text), arcs = 0;
    if (length == 0 || length > 200 || text[0] < '0' || text[0] > '2' || text[1] != '.')
        return NULL;
    for (const char *arc = text; *arc != '\0'; arcs++) {
        size_t digits = strspn(arc, "0123456789");
        if (digits == 0 || (arc[digits] != '.' && arc[digits] != '\0') || (arc[digits] == '.' && arc[digits + 1] == '\0'))
            return NULL;
        arc += digits + (arc[digits] == '.');
    }
    if (arcs < 2)
        return NULL;
    ASN1_OBJECT *object = OBJ_txt2obj(text, 1);
    ERR_clear_error();
    return object;
}

int wd_trust_store_require_eku(wd_trust_store *store, const char *const *names, size_t count, char *message,
                               size_t capacity)
{
    ASN1_OBJECT **purposes = count > 0 ? calloc(count, sizeof *purposes) : NULL;
    int result = WARDEN_OK;

    if (count > 0 && purposes == NULL) {
        wd_say(message, capacity, "trust.eku: out of memory");
        return WARDEN_E_NOMEM;
    }
    for (size_t i = 0; i < count && result == WARDEN_OK; i++) {
        purposes[i] = purpose_from_text(names[i]);
        if (purposes[i] == NULL) {
            wd_say(message, capacity,
                "trust.eku[%zu]: unknown purpose \"%.60s\" (a dotted OID, or clientAuth, serverAuth, "
                "emailProtection, codeSigning, timeStamping, OCSPSigning, anyExtendedKeyUsage)",
                i + 1, names[i]);
            result = WARDEN_E_CONFIG;
        }
    }
    if (result != WARDEN_OK) {
        for (size_t i = 0; i < count; i++)
            ASN1_OBJECT_free(purposes[i]);
        free(purposes);
        return result;
    }
    for (size_t i = 0; i < store->purpose_count; i++)
        ASN1_OBJECT_free(store->purposes[i]);
    free(store->purposes);
    store->purposes = purposes;
    store->purpose_count = count;
    return WARDEN_OK;
}

wd_cert *wd_trust_store_find_ski(wd_trust_store *store, const unsigned char *ski, size_t length)
{
    if (store == NULL || ski == NULL || length == 0)
        return NULL;
    for (size_t i = 0; i < store->known_count; i++) {
        const wd_cert *cert = store->known[i].cert;
        if (cert->ski != NULL && cert->ski_length == length && memcmp(cert->ski, ski, length) == 0)
            return wd_cert_ref(store->known[i].cert);
    }
    return NULL;
}

wd_cert *wd_trust_store_find_thumbprint(wd_trust_store *store, const unsigned char sha1[20])
{
    if (store == NULL || sha1 == NULL)
        return NULL;
    for (size_t i = 0; i < store->known_count; i++)
        if (memcmp(store->known[i].cert->sha1, sha1, 20) == 0)
            return wd_cert_ref(store->known[i].cert);
    return NULL;
}

/* X509SerialNumber is an XML-Schema integer: optional sign, decimal digits, spaces around. */
static ASN1_INTEGER *serial_from_decimal(const char *text)
{
    ASN1_INTEGER *serial = NULL;
    BIGNUM *number = NULL;
    char digits[MAX_SERIAL_DIGITS + 2];
    size_t length = 0;

    while (is_dn_space(*text))
        text++;
    if (*text == '+')
        text++;
    else if (*text == '-')
        digits[length++] = *text++;
    size_t first_digit = length;
    while (*text >= '0' && *text <= '9') {
        if (length >= MAX_SERIAL_DIGITS)
            return NULL;
        digits[length++] = *text++;
    }
    while (is_dn_space(*text))
        text++;
    if (*text != '\0' || length == first_digit)
        return NULL;
    digits[length] = '\0';
    if (BN_dec2bn(&number, digits) != (int)length)
        goto done;
    serial = BN_to_ASN1_INTEGER(number, NULL);
done:
    BN_free(number);
    return serial;
}

wd_cert *wd_trust_store_find_issuer_serial(wd_trust_store *store, const char *issuer,
                                           const char *serial_decimal)
{
    wd_cert *found = NULL;
    char *issuer_key = NULL;
    bool nomem = false;
    ASN1_INTEGER *serial = NULL;

    if (store == NULL || issuer == NULL || serial_decimal == NULL)
        return NULL;
    serial = serial_from_decimal(serial_decimal);
    if (serial == NULL)
        goto done;
    issuer_key = dn_normalise(issuer, &nomem);
    if (issuer_key == NULL)
        goto done;
    for (size_t i = 0; i < store->known_count; i++) {
        const known_cert *known = &store->known[i];
        if (known->issuer_key == NULL)
            continue;
        if (ASN1_INTEGER_cmp(X509_get0_serialNumber(known->cert->x509), serial) != 0)
            continue;
        if (strcmp(known->issuer_key, issuer_key) != 0)
            continue;
        found = wd_cert_ref(known->cert);
        break;
    }
done:
    ERR_clear_error();
    ASN1_INTEGER_free(serial);
    free(issuer_key);
    return found;
}

/* ----- the parse cache ----- */

static parse_slot *parse_lookup(wd_trust_store *store, const unsigned char sha256[32],
                                const unsigned char *der, size_t length)
{
    parse_slot *set = store->parse_cache[sha256[0]];
    for (size_t way = 0; way < CACHE_WAYS; way++) {
        const wd_cert *cert = set[way].cert;
        /* The DER itself is compared too: cheap, and it makes a hash collision harmless. */
        if (cert != NULL && memcmp(cert->sha256, sha256, 32) == 0 && cert->der_length == length
            && memcmp(cert->der, der, length) == 0)
            return &set[way];
    }
    return NULL;
}

/* Replaces an empty slot, else the least recently used one that no message holds, else the
** least recently used one. Dropping the cache's reference is safe in every case: holders
** keep their own. */
static parse_slot *parse_victim(wd_trust_store *store, const unsigned char sha256[32])
{
    parse_slot *set = store->parse_cache[sha256[0]];
    parse_slot *idle = NULL, *oldest = NULL;
    for (size_t way = 0; way < CACHE_WAYS; way++) {
        parse_slot *slot = &set[way];
        if (slot->cert == NULL)
            return slot;
        if (atomic_load_explicit(&slot->cert->references, memory_order_relaxed) == 1
            && (idle == NULL || slot->last_used < idle->last_used))
            idle = slot;
        if (oldest == NULL || slot->last_used < oldest->last_used)
            oldest = slot;
    }
    return idle != NULL ? idle : oldest;
}

int wd_trust_store_parse(wd_trust_store *store, const unsigned char *der, size_t length,
                         wd_cert **out, wd_failure *failure)
{
    unsigned char sha256[32];
    wd_cert *parsed = NULL;
    wd_cert *evicted = NULL;
    parse_slot *hit = NULL;

    *out = NULL;
    if (store == NULL)
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "no trust store");
    if (der == NULL || length == 0)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "empty certificate");
    if (EVP_Digest(der, length, sha256, NULL, store->sha256, NULL) != 1) {
        ERR_clear_error();
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "cannot hash the certificate");
    }

    pthread_mutex_lock(&store->cache_lock);
    hit = parse_lookup(store, sha256, der, length);
    if (hit != NULL) {
        hit->last_used = ++store->clock;
        *out = wd_cert_ref(hit->cert);
    }
    pthread_mutex_unlock(&store->cache_lock);
    if (*out != NULL)
        return 0;

    if (wd_cert_from_der(der, length, &parsed, failure) != 0)
        return -1;

    pthread_mutex_lock(&store->cache_lock);
    /* Another thread may have parsed the same bytes meanwhile; share its copy. */
    hit = parse_lookup(store, sha256, der, length);
    if (hit != NULL) {
        hit->last_used = ++store->clock;
        *out = wd_cert_ref(hit->cert);
    } else {
        parse_slot *slot = parse_victim(store, sha256);
        evicted = slot->cert; /* released below, outside the lock */
        slot->cert = wd_cert_ref(parsed);
        slot->last_used = ++store->clock;
        *out = parsed;
        parsed = NULL;
    }
    pthread_mutex_unlock(&store->cache_lock);
    wd_cert_unref(parsed);
    wd_cert_unref(evicted);
    return 0;
}

/* ----- the token text cache ----- */

/* Not cryptographic, and need not be: a hit compares every byte. Eight bytes a step, so that
** hashing a certificate's text costs a fraction of decoding it. */
static uint64_t text_hash(const char *text, size_t length)
{
    uint64_t h = 0x9E3779B97F4A7C15u ^ (uint64_t)length;
    size_t i = 0;
    for (; i + 8 <= length; i += 8) {
        uint64_t word;
        memcpy(&word, text + i, sizeof word);
        h = (h ^ word) * 0xFF51AFD7ED558CCDu;
        h ^= h >> 32;
    }
    for (; i < length; i++)
        h = (h ^ (unsigned char)text[i]) * 0x100000001B3u;
    return h ^ (h >> 29);
}

wd_cert *wd_trust_store_find_token_text(wd_trust_store *store, const char *text, size_t length)
{
    wd_cert *found = NULL;

    if (store == NULL || text == NULL || length == 0 || length > WD_TOKEN_TEXT_MAX)
        return NULL;
    uint64_t hash = text_hash(text, length);
    pthread_mutex_lock(&store->cache_lock);
    text_slot *set = store->text_cache[hash % TEXT_SETS];
    for (size_t way = 0; way < CACHE_WAYS; way++) {
        text_slot *slot = &set[way];
        if (slot->text != NULL && slot->hash == hash && slot->length == length &&
            memcmp(slot->text, text, length) == 0) {
            slot->last_used = ++store->clock;
            found = wd_cert_ref(slot->cert);
            break;
        }
    }
    pthread_mutex_unlock(&store->cache_lock);
    return found;
}

void wd_trust_store_remember_token_text(wd_trust_store *store, const char *text, size_t length, wd_cert *cert)
{
    char *copy;
    text_slot *victim = NULL;
    text_slot evicted;

    if (store == NULL || text == NULL || cert == NULL || length == 0 || length > WD_TOKEN_TEXT_MAX)
        return;
    copy = malloc(length);
    if (copy == NULL)
        return; /* only a cache: the next message decodes again */
    memcpy(copy, text, length);
    uint64_t hash = text_hash(text, length);
    pthread_mutex_lock(&store->cache_lock);
    text_slot *set = store->text_cache[hash % TEXT_SETS];
    for (size_t way = 0; way < CACHE_WAYS && victim == NULL; way++) {
        text_slot *slot = &set[way];
        if (slot->text != NULL && slot->hash == hash && slot->length == length &&
            memcmp(slot->text, text, length) == 0) {
            pthread_mutex_unlock(&store->cache_lock); /* another thread was first */
            free(copy);
            return;
        }
        if (slot->text == NULL)
            victim = slot;
    }
    if (victim == NULL) { /* the least recently used way */
        victim = &set[0];
        for (size_t way = 1; way < CACHE_WAYS; way++)
            if (set[way].last_used < victim->last_used)
                victim = &set[way];
    }
    evicted = *victim; /* released below, outside the lock */
    victim->text = copy;
    victim->length = length;
    victim->hash = hash;
    victim->cert = wd_cert_ref(cert);
    victim->last_used = ++store->clock;
    pthread_mutex_unlock(&store->cache_lock);
    free(evicted.text);
    wd_cert_unref(evicted.cert);
}

/* ----- chain validation and the verdict cache ----- */

static int time_to_unix(const ASN1_TIME *time, int64_t *out)
{
    struct tm fields;
    memset(&fields, 0, sizeof fields);
    if (time == NULL || ASN1_TIME_to_tm(time, &fields) != 1)
        return -1;
    *out = (int64_t)timegm(&fields);
    return 0;
}

static bool verdict_holds(wd_trust_store *store, const unsigned char sha256[32], int64_t now)
{
    bool holds = false;
    pthread_mutex_lock(&store->cache_lock);
    verdict_slot *set = store->verdict_cache[sha256[0]];
    for (size_t way = 0; way < CACHE_WAYS; way++) {
        verdict_slot *slot = &set[way];
        if (slot->used && memcmp(slot->sha256, sha256, 32) == 0 && now >= slot->valid_from
            && now <= slot->valid_until) {
            slot->last_used = ++store->clock;
            holds = true;
            break;
        }
    }
    pthread_mutex_unlock(&store->cache_lock);
    return holds;
}

static void verdict_remember(wd_trust_store *store, const unsigned char sha256[32], int64_t valid_from,
                             int64_t valid_until)
{
    pthread_mutex_lock(&store->cache_lock);
    verdict_slot *set = store->verdict_cache[sha256[0]];
    verdict_slot *slot = NULL;
    /* the same certificate under an older window first, then a free slot, then the LRU */
    for (size_t way = 0; way < CACHE_WAYS && slot == NULL; way++)
        if (set[way].used && memcmp(set[way].sha256, sha256, 32) == 0)
            slot = &set[way];
    for (size_t way = 0; way < CACHE_WAYS && slot == NULL; way++)
        if (!set[way].used)
            slot = &set[way];
    if (slot == NULL) {
        slot = &set[0];
        for (size_t way = 1; way < CACHE_WAYS; way++)
            if (set[way].last_used < slot->last_used)
                slot = &set[way];
    }
    slot->used = true;
    memcpy(slot->sha256, sha256, 32);
    slot->valid_from = valid_from;
    slot->valid_until = valid_until;
    slot->last_used = ++store->clock;
    pthread_mutex_unlock(&store->cache_lock);
}

/* The span of time in which every member of the chain is inside its validity: OpenSSL
** accepts notBefore <= now and rejects now >= notAfter. Returns 0, or -1 when a time is
** unreadable (the verdict is then simply not cached). */
static int chain_window(STACK_OF(X509) *chain, int64_t *valid_from, int64_t *valid_until)
{
    int64_t from = INT64_MIN, until = INT64_MAX;
    for (int i = 0; i < sk_X509_num(chain); i++) {
        X509 *member = sk_X509_value(chain, i);
        int64_t not_before, not_after;
        if (time_to_unix(X509_get0_notBefore(member), &not_before) != 0
            || time_to_unix(X509_get0_notAfter(member), &not_after) != 0)
            return -1;
        if (not_before > from)
            from = not_before;
        if (not_after - 1 < until)
            until = not_after - 1;
    }
    *valid_from = from;
    *valid_until = until;
    return 0;
}

/* Narrows [*from, *until] to the time in which every CRL that may speak for a member of the
** chain is current: OpenSSL refuses a CRL before its lastUpdate and from its nextUpdate on.
** Every CRL by the issuer of a member counts, even one OpenSSL passed over for a newer one:
** at worst a verdict is cached for less time. Returns 0, or -1 when a time is unreadable. */
static int crl_window(const wd_trust_store *store, STACK_OF(X509) *chain, int64_t *from, int64_t *until)
{
    for (int i = 0; i < sk_X509_CRL_num(store->crls); i++) {
        X509_CRL *crl = sk_X509_CRL_value(store->crls, i);
        bool applies = false;
        for (int j = 0; j < sk_X509_num(chain) && !applies; j++)
            applies = X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(sk_X509_value(chain, j))) == 0;
        if (!applies)
            continue;
        int64_t last_update, next_update;
        if (time_to_unix(X509_CRL_get0_lastUpdate(crl), &last_update) != 0)
            return -1;
        if (last_update > *from)
            *from = last_update;
        if (X509_CRL_get0_nextUpdate(crl) == NULL)
            continue; /* OpenSSL takes a CRL without nextUpdate as current for ever */
        if (time_to_unix(X509_CRL_get0_nextUpdate(crl), &next_update) != 0)
            return -1;
        if (next_update - 1 < *until)
            *until = next_update - 1;
    }
    return 0;
}

int wd_trust_store_validate(wd_trust_store *store, wd_cert *cert, int64_t now, wd_failure *failure)
{
    int result = -1;
    X509_STORE_CTX *context = NULL;
    X509_VERIFY_PARAM *param = NULL;
    int64_t valid_from = 0, valid_until = 0;
    int error = X509_V_OK, depth = 0;

    if (store == NULL || cert == NULL || cert->x509 == NULL)
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "no certificate or trust store to validate with");
    if (verdict_holds(store, cert->sha256, now))
        return 0;

    context = X509_STORE_CTX_new();
    if (context == NULL || X509_STORE_CTX_init(context, store->anchors, cert->x509, store->untrusted) != 1) {
        result = wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory validating a certificate");
        goto done;
    }
    param = X509_STORE_CTX_get0_param(context);
    X509_VERIFY_PARAM_set_time(param, (time_t)now);
    /* A configured anchor is trusted as it is, even an intermediate CA that is not
    ** self-signed; certificates that are only "known" never act as anchors. */
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
    /* With CRLs configured, every member of the chain below the anchor needs a current CRL of
    ** its issuer that does not list it; no such CRL fails the chain (fail closed). See
    ** wd_crl_waive_anchor_status (base/crl_status.c) for the anchor. */
    if (sk_X509_CRL_num(store->crls) > 0) {
        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
        X509_STORE_CTX_set_verify_cb(context, wd_crl_waive_anchor_status);
    }
    X509_STORE_CTX_set_purpose(context, X509_PURPOSE_ANY);

    if (X509_verify_cert(context) == 1) {
        STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(context);
        if (chain_window(chain, &valid_from, &valid_until) == 0
            && crl_window(store, chain, &valid_from, &valid_until) == 0
            && now >= valid_from && now <= valid_until)
            verdict_remember(store, cert->sha256, valid_from, valid_until);
        result = 0;
        goto done;
    }

    error = X509_STORE_CTX_get_error(context);
    depth = X509_STORE_CTX_get_error_depth(context);
    if (error == X509_V_ERR_CERT_REVOKED || wd_crl_status_unknown(error)) {
        /* Below the signer, name the member the verdict is about. */
        char member[160] = "";
        X509 *current = X509_STORE_CTX_get_current_cert(context);
        if (depth > 0 && current != NULL)
            name_text(X509_get_subject_name(current), member, sizeof member);
        if (error == X509_V_ERR_CERT_REVOKED && depth == 0)
            result = wd_fail(failure, WD_REASON_CERT_REVOKED, "%.100s: revoked by a CRL of its issuer", cert->subject);
        else if (error == X509_V_ERR_CERT_REVOKED)
            result = wd_fail(failure, WD_REASON_CERT_REVOKED, "%.100s: the CA %.100s above it is revoked by a CRL (chain depth %d)",
                             cert->subject, member, depth);
        else
            result = wd_fail(failure, WD_REASON_CERT_UNTRUSTED, "%.80s: revocation status unknown: %s%s%.80s (chain depth %d)",
                             cert->subject, X509_verify_cert_error_string(error), member[0] ? " for " : "", member, depth);
    } else if (error == X509_V_ERR_CERT_HAS_EXPIRED || error == X509_V_ERR_CERT_NOT_YET_VALID) {
        result = wd_fail(failure, WD_REASON_CERT_EXPIRED, "%s: %s (chain depth %d)", cert->subject,
                         X509_verify_cert_error_string(error), depth);
    } else {
        result = wd_fail(failure, WD_REASON_CERT_UNTRUSTED, "%s: %s (chain depth %d)", cert->subject,
                         X509_verify_cert_error_string(error), depth);
    }
done:
    ERR_clear_error();
    X509_STORE_CTX_free(context);
    return result;
}

int wd_trust_store_validate_signer(wd_trust_store *store, wd_cert *cert, int64_t now, wd_failure *failure)
{
    if (wd_trust_store_validate(store, cert, now, failure) != 0)
        return -1;
    return wd_cert_check_signer(cert, store->purposes, store->purpose_count, failure);
}
