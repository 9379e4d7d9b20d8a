/*
** bench/attack.c — limits under attack: the worst messages we can think of, up to
** limits.message_bytes (4 MB), each timed through warden_engine_receive beside the baseline
** of parsing the same bytes alone (libxml2, no verification), in the same run. For each it
** prints the outcome (delivered or the rejection reason), the median wall time of both and the
** peak heap of both, measured by counting every allocation of the process (malloc and friends
** are wrapped below, so libxml2, OpenSSL and Warden are all counted).
**
** Messages are signed here: References' digests and SignedInfo come from the verifier's own
** subtree canonicalizer (which tests/core/test_c14n.c holds to libxml2's) and OpenSSL, with a
** trusted key (a BinarySecurityToken, as zeep and WSS4J send it) or a key made on the spot
** whose self-signed certificate travels inline.
**
** usage: bench_attack CA_PEM KEY_PEM CERT_PEM [RUNS [NAME_PART]] (NAME_PART: run only those messages)
** Targets (issue "Verifier hardening"): every message <= 0.5 s and <= 40 x its size + 40 MB.
*/
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <malloc.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <warden.h>

#include "core/c14n.h"
#include "core/namespaces.h"
#include "bench_clock.h"

#define MAX_MESSAGE 4194304

/* ---- counting the heap ------------------------------------------------------------- */

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void  __libc_free(void *p);

static size_t heap_now, heap_peak;

static void *counted(void *p)
{
    if (p != NULL) {
        heap_now += malloc_usable_size(p);
        if (heap_now > heap_peak)
            heap_peak = heap_now;
    }
    return p;
}

/* Visible to the shared libraries, so that libxml2 and OpenSSL allocate through them. */
#define EXPORTED __attribute__((visibility("default")))

EXPORTED void *malloc(size_t size) { return counted(__libc_malloc(size)); }
EXPORTED void *calloc(size_t count, size_t size) { return counted(__libc_calloc(count, size)); }
EXPORTED void *memalign(size_t alignment, size_t size) { return counted(__libc_memalign(alignment, size)); }
EXPORTED void *aligned_alloc(size_t alignment, size_t size) { return counted(__libc_memalign(alignment, size)); }

EXPORTED int posix_memalign(void **out, size_t alignment, size_t size)
{
    void *p = counted(__libc_memalign(alignment, size));
    if (p == NULL)
        return 12; /* ENOMEM */
    *out = p;
    return 0;
}

EXPORTED void free(void *p)
{
    if (p != NULL)
        heap_now -= malloc_usable_size(p);
    __libc_free(p);
}

EXPORTED void *realloc(void *p, size_t size)
{
    size_t before = p != NULL ? malloc_usable_size(p) : 0;
    void *q = __libc_realloc(p, size);
    if (q == NULL) {
        if (size == 0)
            heap_now -= before; /* glibc freed p */
        return NULL;
    }
    heap_now -= before;
    return counted(q);
}

/* ---- building messages --------------------------------------------------------------- */

typedef struct text {
    char  *data;
    size_t length;
    size_t capacity;
} text;

static void put(text *t, const char *s, size_t n)
{
    if (t->length + n + 1 > t->capacity) {
        t->capacity = (t->length + n + 1) * 2;
        t->data = realloc(t->data, t->capacity);
        if (t->data == NULL)
            abort();
    }
    memcpy(t->data + t->length, s, n);
    t->length += n;
    t->data[t->length] = '\0';
}

static void puts_(text *t, const char *s)
{
    put(t, s, strlen(s));
}

static void putf(text *t, const char *format, ...)
{
    char buffer[4096];
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(buffer, sizeof buffer, format, ap);
    va_end(ap);
    put(t, buffer, (size_t)n);
}

typedef enum signer { SIGNER_NONE, SIGNER_TRUSTED, SIGNER_SELF_MADE } signer;

typedef struct signature_spec {
    signer      by;
    const char *ids[32];
    int         id_count;
} signature_spec;

typedef struct keys {
    EVP_PKEY *trusted;
    X509     *trusted_cert;
    EVP_PKEY *self_made;
    X509     *self_made_cert;
} keys;

static char *base64(const unsigned char *data, size_t length)
{
    char *out = malloc(4 * ((length + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, data, (int)length);
    return out;
}

static char *cert_base64(X509 *cert)
{
    unsigned char *der = NULL;
    int n = i2d_X509(cert, &der);
    char *b = base64(der, (size_t)n);
    OPENSSL_free(der);
    return b;
}

/* The envelope around body (already XML), with a Security header holding a Timestamp,
** `extra_header` (raw XML, may be ""), and one Signature per spec with empty values. */
static void envelope(text *t, const keys *k, const char *extra_header, const signature_spec *specs, int spec_count,
                     const char *body)
{
    char created[32], expires[32];
    time_t now = time(NULL);
    time_t later = now + 300;
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    strftime(expires, sizeof expires, "%Y-%m-%dT%H:%M:%SZ", gmtime(&later));

    putf(t, "<soap:Envelope xmlns:soap=\"%s\" xmlns:wsu=\"%s\" xmlns:wsse=\"%s\">", WD_NS_SOAP11, WD_NS_WSU,
         WD_NS_WSSE);
    putf(t, "<soap:Header><wsse:Security soap:mustUnderstand=\"1\">"
            "<wsu:Timestamp wsu:Id=\"TS-1\"><wsu:Created>%s</wsu:Created><wsu:Expires>%s</wsu:Expires></wsu:Timestamp>",
         created, expires);
    puts_(t, extra_header);
    bool bst = false;
    for (int s = 0; s < spec_count; s++)
        bst = bst || specs[s].by == SIGNER_TRUSTED;
    if (bst) {
        char *b = cert_base64(k->trusted_cert);
        putf(t, "<wsse:BinarySecurityToken wsu:Id=\"X509-1\" EncodingType=\"%s\" ValueType=\"%s\">", WD_WSS_BASE64,
             WD_WSS_X509V3);
        puts_(t, b);
        puts_(t, "</wsse:BinarySecurityToken>");
        free(b);
    }
    for (int s = 0; s < spec_count; s++) {
        const signature_spec *spec = &specs[s];
        putf(t, "<ds:Signature xmlns:ds=\"%s\"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"%s\"/>"
                "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>",
             WD_NS_DSIG, WD_ALG_EXC_C14N);
        for (int i = 0; i < spec->id_count; i++)
            putf(t, "<ds:Reference URI=\"#%s\"><ds:Transforms><ds:Transform Algorithm=\"%s\"/></ds:Transforms>"
                    "<ds:DigestMethod Algorithm=\"%s\"/><ds:DigestValue></ds:DigestValue></ds:Reference>",
                 spec->ids[i], WD_ALG_EXC_C14N, WD_ALG_SHA256);
        puts_(t, "</ds:SignedInfo><ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><wsse:SecurityTokenReference>");
        if (spec->by == SIGNER_TRUSTED) {
            putf(t, "<wsse:Reference URI=\"#X509-1\" ValueType=\"%s\"/>", WD_WSS_X509V3);
        } else {
            char *b = cert_base64(k->self_made_cert);
            putf(t, "<wsse:KeyIdentifier EncodingType=\"%s\" ValueType=\"%s\">", WD_WSS_BASE64, WD_WSS_X509V3);
            puts_(t, b);
            puts_(t, "</wsse:KeyIdentifier>");
            free(b);
        }
        puts_(t, "</wsse:SecurityTokenReference></ds:KeyInfo></ds:Signature>");
    }
    puts_(t, "</wsse:Security></soap:Header><soap:Body wsu:Id=\"Body-1\">");
    puts_(t, body);
    puts_(t, "</soap:Body></soap:Envelope>");
}

static int to_digest(void *context, const unsigned char *data, size_t length)
{
    return EVP_DigestUpdate(context, data, length) == 1 ? 0 : -1;
}

static int to_text(void *context, const unsigned char *data, size_t length)
{
    put(context, (const char *)data, length);
    return 0;
}

static xmlNode *next_in_order(xmlNode *node)
{
    if (node->children != NULL)
        return node->children;
    while (node != NULL && node->next == NULL)
        node = node->parent;
    return node != NULL ? node->next : NULL;
}

static xmlNode *find_id(xmlDoc *doc, const char *id)
{
    for (xmlNode *n = xmlDocGetRootElement(doc); n != NULL; n = next_in_order(n)) {
        if (n->type != XML_ELEMENT_NODE || n->properties == NULL)
            continue;
        xmlChar *value = xmlGetNsProp(n, BAD_CAST "Id", BAD_CAST WD_NS_WSU);
        bool found = value != NULL && strcmp((const char *)value, id) == 0;
        xmlFree(value);
        if (found)
            return n;
    }
    return NULL;
}

static xmlNode *child_named(xmlNode *parent, const char *name)
{
    for (xmlNode *c = parent->children; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

/* Fills every DigestValue and SignatureValue of the message. The values are computed on the
** parsed document and then written into the empty elements of the original text, so the
** bytes the verifier receives are exactly those that were built (no re-serialization). */
static int sign_message(text *message, const keys *k, const signature_spec *specs)
{
    xmlDoc *doc = xmlReadMemory(message->data, (int)message->length, NULL, NULL, XML_PARSE_NONET | XML_PARSE_HUGE);
    char *values[4 * 33];
    int value_count = 0;
    wd_failure failure;
    int s = 0;

    if (doc == NULL)
        return -1;
    for (xmlNode *n = xmlDocGetRootElement(doc); n != NULL; n = next_in_order(n)) {
        if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "Signature") != 0)
            continue;
        const signature_spec *spec = &specs[s++];
        xmlNode *signed_info = child_named(n, "SignedInfo");
        int r = 0;
        for (xmlNode *ref = signed_info->children; ref != NULL; ref = ref->next) {
            if (strcmp((const char *)ref->name, "Reference") != 0)
                continue;
            xmlNode *target = find_id(doc, spec->ids[r++]);
            EVP_MD_CTX *md = EVP_MD_CTX_new();
            unsigned char digest[32];
            unsigned int digest_length = 0;
            EVP_DigestInit_ex(md, EVP_sha256(), NULL);
            if (target == NULL || wd_c14n_subtree(target, NULL, NULL, to_digest, md, NULL, WD_REASON_REFERENCE_INVALID,
                                                  &failure) != 0)
                return -1;
            EVP_DigestFinal_ex(md, digest, &digest_length);
            EVP_MD_CTX_free(md);
            values[value_count] = base64(digest, digest_length);
            xmlNodeSetContent(child_named(ref, "DigestValue"), BAD_CAST values[value_count]);
            value_count++;
        }
        text canonical = { 0 };
        if (wd_c14n_subtree(signed_info, NULL, NULL, to_text, &canonical, NULL, WD_REASON_SIGNATURE_INVALID,
                            &failure) != 0)
            return -1;
        EVP_PKEY *key = spec->by == SIGNER_TRUSTED ? k->trusted : k->self_made;
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char value[1024];
        size_t value_length = sizeof value;
        if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
            EVP_DigestSign(md, value, &value_length, (unsigned char *)canonical.data, canonical.length) != 1)
            return -1;
        EVP_MD_CTX_free(md);
        free(canonical.data);
        values[value_count++] = base64(value, value_length);
    }
    xmlFreeDoc(doc);

    static const char digest_slot[] = "<ds:DigestValue></ds:DigestValue>";
    static const char signature_slot[] = "<ds:SignatureValue></ds:SignatureValue>";
    text out = { 0 };
    const char *cursor = message->data;
    for (int v = 0; v < value_count; v++) {
        const char *d = strstr(cursor, digest_slot);
        const char *g = strstr(cursor, signature_slot);
        bool is_digest = d != NULL && (g == NULL || d < g);
        const char *slot = is_digest ? d : g;
        const char *tag = is_digest ? "<ds:DigestValue>" : "<ds:SignatureValue>";
        put(&out, cursor, (size_t)(slot - cursor));
        puts_(&out, tag);
        puts_(&out, values[v]);
        cursor = slot + strlen(tag);
        free(values[v]);
    }
    puts_(&out, cursor);
    free(message->data);
    *message = out;
    return 0;
}

/* ---- the attacks ------------------------------------------------------------------- */

/* Repeats `unit` (printf format taking the repetition number) until body reaches size. */
static void fill(text *body, size_t size, const char *unit)
{
    for (int i = 0; body->length < size; i++)
        putf(body, unit, i);
}

typedef struct attack {
    const char    *name;
    text           message;
} attack;

static void build(attack *a, const char *name, const keys *k, const char *extra_header, const signature_spec *specs,
                  int spec_count, const text *body)
{
    a->name = name;
    memset(&a->message, 0, sizeof a->message);
    envelope(&a->message, k, extra_header, specs, spec_count, body->data != NULL ? body->data : "");
    if (spec_count > 0 && sign_message(&a->message, k, specs) != 0) {
        fprintf(stderr, "%s: cannot sign\n", name);
        exit(2);
    }
}

static const signature_spec body_by_trusted = { SIGNER_TRUSTED, { "Body-1", "TS-1" }, 2 };

static int make_attacks(attack *attacks, const keys *k)
{
    int n = 0;
    size_t room = MAX_MESSAGE - 8192; /* the envelope, header and signature around the body */
    text body = { 0 };

    /* 1. node flood: a million empty elements, signed by the trusted signer (all canonicalized) */
    body.length = 0;
    puts_(&body, "<f>");
    fill(&body, room - 8, "<a/>");
    puts_(&body, "</f>");
    build(&attacks[n++], "node flood, signed (1M elements)", k, "", &body_by_trusted, 1, &body);

    /* 2. the same flood from a key nobody trusts, certificate inline */
    signature_spec self_body = { SIGNER_SELF_MADE, { "Body-1", "TS-1" }, 2 };
    build(&attacks[n++], "node flood, self-made key", k, "", &self_body, 1, &body);

    /* 3. deep nesting: chains as deep as limits.depth allows, over and over */
    body.length = 0;
    while (body.length < room - 2000) {
        for (int d = 0; d < 60; d++)
            puts_(&body, "<d>");
        for (int d = 0; d < 60; d++)
            puts_(&body, "</d>");
    }
    build(&attacks[n++], "deep nesting (60 levels, repeated)", k, "", &body_by_trusted, 1, &body);

    /* 4. attribute flood: 250 attributes on each element */
    body.length = 0;
    while (body.length < room - 4000) {
        puts_(&body, "<e");
        for (int i = 0; i < 250; i++)
            putf(&body, " a%d=\"\"", i);
        puts_(&body, "/>");
    }
    build(&attacks[n++], "attribute flood (250 per element)", k, "", &body_by_trusted, 1, &body);

    /* 5. namespace flood: 250 declarations per element, each used by an attribute (all rendered,
    ** sorted, and re-rendered on every element) */
    body.length = 0;
    while (body.length < room - 12000) {
        puts_(&body, "<e");
        for (int i = 0; i < 125; i++)
            putf(&body, " xmlns:p%d=\"urn:%d\" p%d:a=\"\"", i, i, i);
        puts_(&body, "/>");
    }
    build(&attacks[n++], "namespace flood (125 used per element)", k, "", &body_by_trusted, 1, &body);

    /* 6. namespace declarations nobody uses, deep: every element declares 250 prefixes */
    body.length = 0;
    while (body.length < room - 100000) {
        for (int d = 0; d < 20; d++) {
            puts_(&body, "<u");
            for (int i = 0; i < 250; i++)
                putf(&body, " xmlns:q%d=\"urn:q%d\"", i, d);
            puts_(&body, ">");
        }
        for (int d = 0; d < 20; d++)
            puts_(&body, "</u>");
    }
    build(&attacks[n++], "unused namespace declarations", k, "", &body_by_trusted, 1, &body);

    /* 7. huge text: text nodes at limits.text_bytes of '>' (4 x longer when canonical) */
    body.length = 0;
    while (body.length < room - 1048600 && body.length < 3 * 1048600) {
        puts_(&body, "<t>");
        for (int i = 0; i < 1048000 / 64; i++)
            puts_(&body, ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>");
        puts_(&body, "</t>");
    }
    build(&attacks[n++], "huge text of '>' (3 x 1 MB nodes)", k, "", &body_by_trusted, 1, &body);

    /* 8. the message: 3.4 MB, a self-made key, 30 References each over the Body */
    static char ids[32][16];
    body.length = 0;
    for (int i = 0; i < 28; i++) {
        snprintf(ids[i], sizeof ids[i], "part-%d", i + 1);
        putf(&body, "<p wsu:Id=\"%s\">", ids[i]);
    }
    fill(&body, 3400000, "<item n=\"%d\">some order line text</item>");
    for (int i = 0; i < 28; i++)
        puts_(&body, "</p>");
    signature_spec self30 = { SIGNER_SELF_MADE, { "Body-1", "TS-1" }, 30 };
    for (int i = 0; i < 28; i++)
        self30.ids[2 + i] = ids[i];
    build(&attacks[n++], "self-made key, 3.4 MB, 30 References", k, "", &self30, 1, &body);

    /* 9. a legitimate signer: 4 signatures x 30 distinct References over a 3.4 MB message */
    static char part_ids[120][16];
    body.length = 0;
    for (int i = 0; i < 118; i++) {
        snprintf(part_ids[i], sizeof part_ids[i], "line-%d", i + 1);
        putf(&body, "<line wsu:Id=\"%s\">", part_ids[i]);
        size_t until = body.length + 3400000 / 118;
        fill(&body, until, "<item n=\"%d\">some order line text</item>");
        puts_(&body, "</line>");
    }
    signature_spec legit[4];
    for (int s = 0; s < 4; s++) {
        legit[s].by = SIGNER_TRUSTED;
        legit[s].id_count = 30;
        for (int i = 0; i < 30; i++) {
            int index = s * 30 + i;
            legit[s].ids[i] = index == 0 ? "Body-1" : index == 1 ? "TS-1" : part_ids[index - 2];
        }
    }
    build(&attacks[n++], "trusted signer, 4 x 30 References", k, "", legit, 4, &body);

    /* 10. nested References: 4 signatures x 32 References, each over (nearly) the whole Body */
    body.length = 0;
    static char nest_ids[32][16];
    for (int i = 0; i < 32; i++) {
        snprintf(nest_ids[i], sizeof nest_ids[i], "nest-%d", i + 1);
        putf(&body, "<n wsu:Id=\"%s\">", nest_ids[i]);
    }
    fill(&body, room - 40000, "<item n=\"%d\">some order line text</item>");
    for (int i = 0; i < 32; i++)
        puts_(&body, "</n>");
    signature_spec nested[4];
    for (int s = 0; s < 4; s++) {
        nested[s].by = SIGNER_TRUSTED;
        nested[s].id_count = 32;
        for (int i = 0; i < 32; i++)
            nested[s].ids[i] = nest_ids[i];
    }
    build(&attacks[n++], "nested References, 4 x 32", k, "", nested, 4, &body);

    /* 11. many BinarySecurityTokens: 16 copies of a 200 KB garbage certificate */
    text header = { 0 };
    for (int i = 0; i < 16; i++) {
        putf(&header, "<wsse:BinarySecurityToken wsu:Id=\"junk-%d\" EncodingType=\"%s\" ValueType=\"%s\">", i,
             WD_WSS_BASE64, WD_WSS_X509V3);
        for (int j = 0; j < 200000 / 64; j++)
            puts_(&header, "MIIBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        puts_(&header, "</wsse:BinarySecurityToken>");
    }
    body.length = 0;
    fill(&body, room - header.length - 4000, "<item n=\"%d\">some order line text</item>");
    build(&attacks[n++], "16 BinarySecurityTokens of 200 KB", k, header.data, &body_by_trusted, 1, &body);
    free(header.data);

    /* 12. a plain 4 MB signed order for comparison */
    body.length = 0;
    fill(&body, room, "<item n=\"%d\">some order line text</item>");
    build(&attacks[n++], "plain 4 MB, signed (reference)", k, "", &body_by_trusted, 1, &body);

    free(body.data);
    return n;
}

/* ---- measuring --------------------------------------------------------------------- */

/* CPU time of this thread: what the call costs when the machine is shared with other work. */
static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef struct result {
    double median_s;
    double median_cpu_s;
    size_t peak_bytes;
    char   outcome[64];
} result;

static void run_receive(warden_engine *engine, const text *m, int runs, result *out)
{
    double times[64], cpu[64];
    warden_receive_options options = { .size = sizeof options };
    out->peak_bytes = 0;
    for (int r = 0; r < runs; r++) {
        warden_message *message = NULL;
        warden_error err;
        malloc_trim(0);
        size_t start = heap_now;
        heap_peak = heap_now;
        double t0 = bench_now_seconds(), c0 = cpu_seconds();
        int status = warden_engine_receive(engine, m->data, m->length, &options, &message, &err);
        warden_message_free(message);
        times[r] = bench_now_seconds() - t0;
        cpu[r] = cpu_seconds() - c0;
        if (heap_peak - start > out->peak_bytes)
            out->peak_bytes = heap_peak - start;
        snprintf(out->outcome, sizeof out->outcome, "%s", status == WARDEN_OK ? "delivered" : err.reason);
    }
    qsort(times, (size_t)runs, sizeof times[0], bench_compare_doubles);
    qsort(cpu, (size_t)runs, sizeof cpu[0], bench_compare_doubles);
    out->median_s = times[runs / 2];
    out->median_cpu_s = cpu[runs / 2];
}

static void run_parse(const text *m, int runs, result *out)
{
    double times[64], cpu[64];
    out->peak_bytes = 0;
    for (int r = 0; r < runs; r++) {
        malloc_trim(0);
        size_t start = heap_now;
        heap_peak = heap_now;
        double t0 = bench_now_seconds(), c0 = cpu_seconds();
        xmlDoc *doc = xmlReadMemory(m->data, (int)m->length, NULL, NULL, XML_PARSE_NONET);
        xmlFreeDoc(doc);
        times[r] = bench_now_seconds() - t0;
        cpu[r] = cpu_seconds() - c0;
        if (heap_peak - start > out->peak_bytes)
            out->peak_bytes = heap_peak - start;
        snprintf(out->outcome, sizeof out->outcome, "%s", doc != NULL ? "parsed" : "refused");
    }
    qsort(times, (size_t)runs, sizeof times[0], bench_compare_doubles);
    qsort(cpu, (size_t)runs, sizeof cpu[0], bench_compare_doubles);
    out->median_s = times[runs / 2];
    out->median_cpu_s = cpu[runs / 2];
}

static int load_keys(keys *k, const char *key_pem, const char *cert_pem)
{
    FILE *f = fopen(key_pem, "r");
    if (f == NULL)
        return -1;
    k->trusted = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    f = fopen(cert_pem, "r");
    if (f == NULL)
        return -1;
    k->trusted_cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);

    /* a key and certificate anyone can make */
    k->self_made = EVP_RSA_gen(2048);
    k->self_made_cert = X509_new();
    X509_set_version(k->self_made_cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(k->self_made_cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(k->self_made_cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(k->self_made_cert), 86400);
    X509_NAME *name = X509_get_subject_name(k->self_made_cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"alice", -1, -1, 0);
    X509_set_issuer_name(k->self_made_cert, name);
    X509_set_pubkey(k->self_made_cert, k->self_made);
    X509_sign(k->self_made_cert, k->self_made, EVP_sha256());
    return k->trusted != NULL && k->trusted_cert != NULL && k->self_made != NULL ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s CA_PEM KEY_PEM CERT_PEM [RUNS]\n", argv[0]);
        return 2;
    }
    int runs = argc > 4 ? atoi(argv[4]) : 5;
    if (runs < 1 || runs > 64)
        runs = 5;
    keys k;
    if (load_keys(&k, argv[2], argv[3]) != 0) {
        fprintf(stderr, "cannot load the signer's key and certificate\n");
        return 2;
    }

    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    warden_config_new(&config);
    if (warden_config_set(config, "trust", argv[1], &err) != WARDEN_OK ||
        warden_config_set(config, "replay.backend", "none", &err) != WARDEN_OK || /* the same message, again and again */
        warden_engine_new(config, &engine, &err) != WARDEN_OK) {
        fprintf(stderr, "engine: %s\n", err.text);
        return 2;
    }
    warden_config_free(config);

    attack attacks[16];
    int count = make_attacks(attacks, &k);
    printf("limits under attack: %d runs each, medians; wall and CPU (this thread) time of warden_engine_receive\n"
           "beside parsing the same bytes alone; heap = peak bytes allocated during the call\n", runs);
    printf("target: <= 0.5 s and <= 40 x size + 40 MB per message (time judged on CPU: the machine is shared)\n\n");
    printf("%-40s %7s  %-17s %8s %8s %8s %8s %6s %8s %8s %6s\n", "message", "size KB", "outcome", "recv ms",
           "cpu ms", "parse ms", "cpu ms", "ratio", "recv MB", "parse MB", "target");
    double worst_time = 0, worst_memory_ratio = 0;
    for (int i = 0; i < count; i++) {
        const text *m = &attacks[i].message;
        result receive, parse;
        if (argc > 5 && strstr(attacks[i].name, argv[5]) == NULL)
            continue;
        if (m->length > MAX_MESSAGE)
            fprintf(stderr, "%s: %zu bytes is over limits.message_bytes\n", attacks[i].name, m->length);
        run_receive(engine, m, 1, &receive); /* warm-up */
        run_receive(engine, m, runs, &receive);
        run_parse(m, runs, &parse);
        double budget = 40.0 * (double)m->length + 40.0 * 1048576;
        bool ok = receive.median_cpu_s <= 0.5 && (double)receive.peak_bytes <= budget;
        printf("%-40s %7.0f  %-17s %8.1f %8.1f %8.1f %8.1f %6.2f %8.1f %8.1f %6s\n", attacks[i].name,
               (double)m->length / 1024, receive.outcome, receive.median_s * 1e3, receive.median_cpu_s * 1e3,
               parse.median_s * 1e3, parse.median_cpu_s * 1e3, receive.median_cpu_s / parse.median_cpu_s,
               (double)receive.peak_bytes / 1048576, (double)parse.peak_bytes / 1048576, ok ? "ok" : "MISSED");
        if (receive.median_cpu_s > worst_time)
            worst_time = receive.median_cpu_s;
        if ((double)receive.peak_bytes / (double)m->length > worst_memory_ratio)
            worst_memory_ratio = (double)receive.peak_bytes / (double)m->length;
        free(attacks[i].message.data);
    }
    printf("\nworst receive CPU time %.1f ms; worst heap %.1f x the message size\n", worst_time * 1e3, worst_memory_ratio);
    warden_engine_free(engine);
    EVP_PKEY_free(k.trusted);
    EVP_PKEY_free(k.self_made);
    X509_free(k.trusted_cert);
    X509_free(k.self_made_cert);
    return 0;
}
