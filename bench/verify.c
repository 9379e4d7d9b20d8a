/*
** bench/verify.c — per-message verification latency over a sweep of message sizes, Warden
** (warden_engine_receive) beside three baselines measured in the same run:
**   xmlsec1  libxmlsec1 in-process, its usual recipe: parse, register IDs, xmlSecDSigCtxVerify
**            with the key preset (so it does no certificate work at all);
**   WSS4J    Apache WSS4J 1.6 in a warmed-up JVM (bench/wss4j/Wss4jVerify.java), a child
**            process driven over a pipe, idle while the others run;
**   floor    what no verifier can skip: parse the message (libxml2, plain), one SHA-256 over
**            all its bytes (at least the signed bytes), one RSA verify of the canonical
**            SignedInfo (fresh EVP context, as a verifier needs per message).
** Rounds alternate all of them over every size, so a noisy machine affects each alike; the
** report gives the median over rounds of each round's p50 (and p99), and the ratios of those
** medians. The load average before and after says how busy the machine was.
**
** usage: bench_verify [--wss4j CLASSPATH] [--warm SECONDS] CA_PEM CERT_PEM SECONDS ROUNDS MESSAGE...
**        bench_verify --profile warden|xmlsec|floor COUNT CA_PEM CERT_PEM MESSAGE
**            (COUNT verifications of one kind only: a loop to run under perf or callgrind)
*/
#include <errno.h>
#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <warden.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include "bench_child.h"
#include "bench_clock.h"

#define MAX_MESSAGES 8
#define MAX_ROUNDS 64
#define DSIG_NS "http://www.w3.org/2000/09/xmldsig#"

enum { WARDEN, XMLSEC, WSS4J, FLOOR, KINDS };
static const char *const kind_names[KINDS] = { "warden", "xmlsec1", "WSS4J", "floor" };

typedef struct measurement {
    double rate; /* verifications per second */
    double p50_us;
    double p99_us;
} measurement;

typedef struct message {
    const char    *path;
    unsigned char *bytes;
    size_t         length;
    /* for the floor: the canonical SignedInfo and the decoded SignatureValue */
    unsigned char *signed_info;
    size_t         signed_info_length;
    unsigned char *signature;
    size_t         signature_length;
} message;

typedef struct bench {
    warden_engine *engine;
    xmlSecKeyPtr   xmlsec_key;
    EVP_PKEY      *key;
    const EVP_MD  *sha256;
    FILE          *to_java;   /* NULL: no WSS4J column */
    FILE          *from_java;
    pid_t          java;
} bench;

static double median(double *values, int n)
{
    qsort(values, (size_t)n, sizeof *values, bench_compare_doubles);
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

static unsigned char *read_file(const char *path, size_t *length)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    long size;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        data = malloc((size_t)size + 1);
        if (data != NULL && fread(data, 1, (size_t)size, f) != (size_t)size) {
            free(data);
            data = NULL;
        }
        *length = (size_t)size;
    }
    fclose(f);
    return data;
}

static void load_average(char *out, size_t capacity)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double one = 0, five = 0, fifteen = 0;
    if (f != NULL && fscanf(f, "%lf %lf %lf", &one, &five, &fifteen) == 3)
        snprintf(out, capacity, "%.2f %.2f %.2f", one, five, fifteen);
    else
        snprintf(out, capacity, "unknown");
    if (f != NULL)
        fclose(f);
}

/* ---- the verifiers ------------------------------------------------------------------- */

static int warden_once(bench *b, const message *m)
{
    warden_message *delivered = NULL;
    warden_error err;
    int status = warden_engine_receive(b->engine, m->bytes, m->length, NULL, &delivered, &err);
    if (status != WARDEN_OK)
        fprintf(stderr, "warden rejected %s: %s: %s\n", m->path, err.reason, err.text);
    warden_message_free(delivered);
    return status == WARDEN_OK ? 0 : -1;
}

static int xmlsec_once(bench *b, const message *m)
{
    static const xmlChar *id_attributes[] = { BAD_CAST "Id", NULL };
    int result = -1;
    xmlSecDSigCtxPtr dsig = NULL;
    xmlDocPtr doc = xmlReadMemory((const char *)m->bytes, (int)m->length, NULL, NULL, XML_PARSE_NONET);
    xmlNodePtr signature;

    if (doc == NULL)
        goto done;
    xmlSecAddIDs(doc, xmlDocGetRootElement(doc), id_attributes);
    signature = xmlSecFindNode(xmlDocGetRootElement(doc), xmlSecNodeSignature, xmlSecDSigNs);
    if (signature == NULL)
        goto done;
    dsig = xmlSecDSigCtxCreate(NULL);
    if (dsig == NULL)
        goto done;
    dsig->signKey = xmlSecKeyDuplicate(b->xmlsec_key);
    if (xmlSecDSigCtxVerify(dsig, signature) < 0 || dsig->status != xmlSecDSigStatusSucceeded)
        goto done;
    result = 0;
done:
    if (result != 0)
        fprintf(stderr, "xmlsec1 did not verify %s\n", m->path);
    xmlSecDSigCtxDestroy(dsig);
    xmlFreeDoc(doc);
    return result;
}

static int floor_once(bench *b, const message *m)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    int result = -1;
    xmlDocPtr doc = xmlReadMemory((const char *)m->bytes, (int)m->length, NULL, NULL, XML_PARSE_NONET);
    EVP_MD_CTX *context = EVP_MD_CTX_new();

    if (doc != NULL && context != NULL && EVP_Digest(m->bytes, m->length, digest, NULL, b->sha256, NULL) == 1 &&
        EVP_DigestVerifyInit(context, NULL, b->sha256, NULL, b->key) == 1 &&
        EVP_DigestVerify(context, m->signature, m->signature_length, m->signed_info, m->signed_info_length) == 1)
        result = 0;
    if (result != 0)
        fprintf(stderr, "the floor's RSA verify failed on %s\n", m->path);
    EVP_MD_CTX_free(context);
    xmlFreeDoc(doc);
    return result;
}

/* Runs one kind on one message for about seconds (at least once), recording latencies. */
static int measure(bench *b, int kind, const message *m, double seconds, measurement *out)
{
    int (*once)(bench *, const message *) =
        kind == WARDEN ? warden_once : kind == XMLSEC ? xmlsec_once : floor_once;
    size_t capacity = 1 << 20, count = 0;
    double *latencies = malloc(capacity * sizeof *latencies);
    double start, end, t;

    if (latencies == NULL)
        return -1;
    start = bench_now_seconds();
    end = start + seconds;
    t = start;
    do {
        double before = t;
        if (once(b, m) != 0) {
            free(latencies);
            return -1;
        }
        t = bench_now_seconds();
        latencies[count++] = (t - before) * 1e6;
    } while (t < end && count < capacity);
    qsort(latencies, count, sizeof *latencies, bench_compare_doubles);
    out->rate = (double)count / (t - start);
    out->p50_us = latencies[count / 2];
    out->p99_us = latencies[(size_t)((double)count * 0.99)];
    free(latencies);
    return 0;
}

/* ---- WSS4J, in its own JVM ---------------------------------------------------------- */

static int start_java(bench *b, const char *classpath, const char *ca, message *messages, int count)
{
    char *argv[4 + 1 + MAX_MESSAGES + 1];
    int n = 0;

    argv[n++] = "java";
    argv[n++] = "-cp";
    argv[n++] = (char *)classpath;
    argv[n++] = "Wss4jVerify";
    argv[n++] = (char *)ca;
    for (int i = 0; i < count; i++)
        argv[n++] = (char *)messages[i].path;
    argv[n] = NULL;
    return bench_spawn_piped(argv, &b->java, &b->to_java, &b->from_java);
}

static int ask_java(bench *b, const char *command, int index, double seconds, measurement *out)
{
    char reply[256];

    fprintf(b->to_java, "%s %d %.3f\n", command, index, seconds);
    fflush(b->to_java);
    if (fgets(reply, sizeof reply, b->from_java) == NULL) {
        fprintf(stderr, "WSS4J harness: no reply\n");
        return -1;
    }
    if (out == NULL)
        return strncmp(reply, "ok", 2) == 0 ? 0 : (fprintf(stderr, "WSS4J harness: %s", reply), -1);
    if (sscanf(reply, "%lf %lf %lf", &out->rate, &out->p50_us, &out->p99_us) != 3) {
        fprintf(stderr, "WSS4J harness: %s", reply);
        return -1;
    }
    return 0;
}

static void stop_java(bench *b)
{
    if (b->to_java != NULL)
        fclose(b->to_java); /* end of input: the harness exits */
    if (b->from_java != NULL)
        fclose(b->from_java);
    if (b->java > 0)
        waitpid(b->java, NULL, 0);
}

/* ---- setup ---------------------------------------------------------------------------- */

typedef struct subtree {
    const xmlNode *apex;
} subtree;

static int in_subtree(void *user_data, xmlNodePtr node, xmlNodePtr parent)
{
    const subtree *set = user_data;
    const xmlNode *walk = node->type == XML_NAMESPACE_DECL || node->type == XML_ATTRIBUTE_NODE ? parent : node;
    for (; walk != NULL; walk = walk->parent)
        if (walk == set->apex)
            return 1;
    return 0;
}

static xmlNode *find(xmlNode *node, const char *local)
{
    for (; node != NULL; node = node->next) {
        if (node->type == XML_ELEMENT_NODE && node->ns != NULL && strcmp((const char *)node->ns->href, DSIG_NS) == 0 &&
            strcmp((const char *)node->name, local) == 0)
            return node;
        xmlNode *found = find(node->children, local);
        if (found != NULL)
            return found;
    }
    return NULL;
}

/* The floor's inputs: SignedInfo canonicalized once by libxml2, the SignatureValue decoded. */
static int prepare_floor(message *m)
{
    xmlDocPtr doc = xmlReadMemory((const char *)m->bytes, (int)m->length, NULL, NULL, XML_PARSE_NONET);
    xmlNode *signed_info = doc != NULL ? find(xmlDocGetRootElement(doc), "SignedInfo") : NULL;
    xmlNode *value = doc != NULL ? find(xmlDocGetRootElement(doc), "SignatureValue") : NULL;
    xmlChar *text = NULL;
    int result = -1;

    if (signed_info == NULL || value == NULL)
        goto done;
    subtree set = { signed_info };
    xmlOutputBufferPtr out = xmlAllocOutputBuffer(NULL);
    if (out == NULL || xmlC14NExecute(doc, in_subtree, &set, XML_C14N_EXCLUSIVE_1_0, NULL, 0, out) < 0) {
        if (out != NULL)
            xmlOutputBufferClose(out);
        goto done;
    }
    m->signed_info_length = xmlOutputBufferGetSize(out);
    m->signed_info = malloc(m->signed_info_length);
    if (m->signed_info != NULL)
        memcpy(m->signed_info, xmlOutputBufferGetContent(out), m->signed_info_length);
    xmlOutputBufferClose(out);

    text = xmlNodeGetContent(value);
    size_t w = 0;
    for (size_t r = 0; text[r] != '\0'; r++)
        if (text[r] != ' ' && text[r] != '\n' && text[r] != '\r' && text[r] != '\t')
            text[w++] = text[r];
    m->signature = malloc(w / 4 * 3 + 3);
    int decoded = m->signature != NULL ? EVP_DecodeBlock(m->signature, text, (int)w) : -1;
    if (decoded < 0 || m->signed_info == NULL)
        goto done;
    m->signature_length = (size_t)decoded - (w > 0 && text[w - 1] == '=') - (w > 1 && text[w - 2] == '=');
    result = 0;
done:
    xmlFree(text);
    xmlFreeDoc(doc);
    return result;
}

static int setup(bench *b, const char *ca, const char *cert_pem)
{
    warden_config *config = NULL;
    warden_error err;
    FILE *f;
    X509 *cert;

    warden_config_new(&config);
    if (warden_config_set(config, "trust", ca, &err) != WARDEN_OK ||
        /* the same message, again and again: no replay cache */
        warden_config_set(config, "replay.backend", "none", &err) != WARDEN_OK ||
        warden_engine_new(config, &b->engine, &err) != WARDEN_OK) {
        fprintf(stderr, "engine: %s\n", err.text);
        warden_config_free(config);
        return -1;
    }
    warden_config_free(config);

    if (xmlSecInit() < 0 || xmlSecCryptoAppInit(NULL) < 0 || xmlSecCryptoInit() < 0) {
        fprintf(stderr, "xmlsec initialisation failed\n");
        return -1;
    }
    b->xmlsec_key = xmlSecCryptoAppKeyLoad(cert_pem, xmlSecKeyDataFormatCertPem, NULL, NULL, NULL);
    if (b->xmlsec_key == NULL) {
        fprintf(stderr, "xmlsec cannot load %s\n", cert_pem);
        return -1;
    }
    f = fopen(cert_pem, "r");
    cert = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f != NULL)
        fclose(f);
    b->key = cert != NULL ? X509_get_pubkey(cert) : NULL;
    X509_free(cert);
    b->sha256 = EVP_sha256();
    if (b->key == NULL) {
        fprintf(stderr, "cannot read the public key of %s\n", cert_pem);
        return -1;
    }
    return 0;
}

static void teardown(bench *b)
{
    stop_java(b);
    xmlSecKeyDestroy(b->xmlsec_key);
    xmlSecCryptoShutdown();
    xmlSecCryptoAppShutdown();
    xmlSecShutdown();
    EVP_PKEY_free(b->key);
    warden_engine_free(b->engine);
}

static int load_messages(message *messages, int count, char **paths)
{
    for (int i = 0; i < count; i++) {
        message *m = &messages[i];
        memset(m, 0, sizeof *m);
        m->path = paths[i];
        m->bytes = read_file(m->path, &m->length);
        if (m->bytes == NULL) {
            fprintf(stderr, "cannot read %s\n", m->path);
            return -1;
        }
        if (prepare_floor(m) != 0) {
            fprintf(stderr, "%s: no SignedInfo / SignatureValue to measure the floor with\n", m->path);
            return -1;
        }
    }
    return 0;
}

/* ---- the modes ---------------------------------------------------------------------- */

static int profile(int argc, char **argv)
{
    bench b = { 0 };
    message m;
    const char *kind = argv[2];
    long count = atol(argv[3]);
    int (*once)(bench *, const message *) = strcmp(kind, "warden") == 0   ? warden_once
                                            : strcmp(kind, "xmlsec") == 0 ? xmlsec_once
                                            : strcmp(kind, "floor") == 0  ? floor_once
                                                                          : NULL;
    if (argc != 7 || once == NULL || count < 1) {
        fprintf(stderr, "usage: %s --profile warden|xmlsec|floor COUNT CA_PEM CERT_PEM MESSAGE\n", argv[0]);
        return 2;
    }
    if (setup(&b, argv[4], argv[5]) != 0 || load_messages(&m, 1, &argv[6]) != 0)
        return 2;
    for (long i = 0; i < count; i++)
        if (once(&b, &m) != 0)
            return 1;
    teardown(&b);
    return 0;
}

static void print_size(size_t bytes, char *out, size_t capacity)
{
    if (bytes >= 1000 * 1024)
        snprintf(out, capacity, "%.1f MB", (double)bytes / (1024 * 1024));
    else
        snprintf(out, capacity, "%.1f KB", (double)bytes / 1024);
}

int main(int argc, char **argv)
{
    const char *classpath = NULL;
    double warm_seconds = 5;
    int first = 1;
    bench b = { 0 };
    message messages[MAX_MESSAGES];
    static double p50[MAX_MESSAGES][KINDS][MAX_ROUNDS], p99[MAX_MESSAGES][KINDS][MAX_ROUNDS];
    static double rate[MAX_MESSAGES][KINDS][MAX_ROUNDS];
    char load_before[64], load_after[64];

    if (argc > 1 && strcmp(argv[1], "--profile") == 0)
        return argc >= 4 ? profile(argc, argv)
                         : (fprintf(stderr, "--profile needs a kind and a count\n"), 2);
    while (first + 1 < argc && strncmp(argv[first], "--", 2) == 0) {
        if (strcmp(argv[first], "--wss4j") == 0)
            classpath = argv[first + 1];
        else if (strcmp(argv[first], "--warm") == 0)
            warm_seconds = atof(argv[first + 1]);
        else
            break;
        first += 2;
    }
    if (argc - first < 5 || argc - first - 4 > MAX_MESSAGES) {
        fprintf(stderr,
                "usage: %s [--wss4j CLASSPATH] [--warm SECONDS] CA_PEM CERT_PEM SECONDS ROUNDS MESSAGE..."
                " (at most %d)\n"
                "       %s --profile warden|xmlsec|floor COUNT CA_PEM CERT_PEM MESSAGE\n",
                argv[0], MAX_MESSAGES, argv[0]);
        return 2;
    }
    const char *ca = argv[first], *cert = argv[first + 1];
    double seconds = atof(argv[first + 2]);
    int rounds = atoi(argv[first + 3]);
    int count = argc - first - 4;
    if (rounds < 1 || rounds > MAX_ROUNDS || seconds <= 0) {
        fprintf(stderr, "SECONDS must be positive and ROUNDS within 1..%d\n", MAX_ROUNDS);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (setup(&b, ca, cert) != 0 || load_messages(messages, count, &argv[first + 4]) != 0)
        return 2;
    if (classpath != NULL && start_java(&b, classpath, ca, messages, count) != 0) {
        fprintf(stderr, "cannot start the WSS4J harness\n");
        return 2;
    }

    load_average(load_before, sizeof load_before);
    /* Warm-up: caches, page faults, and the JVM's JIT (which needs the most). */
    for (int i = 0; i < count; i++) {
        measurement ignored;
        for (int kind = 0; kind < KINDS; kind++) {
            if (kind == WSS4J) {
                if (b.to_java != NULL && ask_java(&b, "warm", i, warm_seconds, NULL) != 0)
                    return 1;
            } else if (measure(&b, kind, &messages[i], 0.3, &ignored) != 0) {
                return 1;
            }
        }
    }
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < count; i++) {
            for (int kind = 0; kind < KINDS; kind++) {
                measurement m = { 0, 0, 0 };
                if (kind == WSS4J) {
                    if (b.to_java != NULL && ask_java(&b, "measure", i, seconds, &m) != 0)
                        return 1;
                } else if (measure(&b, kind, &messages[i], seconds, &m) != 0) {
                    return 1;
                }
                p50[i][kind][r] = m.p50_us;
                p99[i][kind][r] = m.p99_us;
                rate[i][kind][r] = m.rate;
            }
        }
    }
    load_average(load_after, sizeof load_after);

    printf("%d rounds of %.1f s per verifier and size, alternating; medians over rounds; one thread each\n", rounds,
           seconds);
    printf("load average before: %s, after: %s (%ld CPUs)\n", load_before, load_after, sysconf(_SC_NPROCESSORS_ONLN));
    printf("\n%-9s %-8s %12s %10s %10s\n", "message", "", "verifies/s", "p50 us", "p99 us");
    for (int i = 0; i < count; i++) {
        char size[32];
        print_size(messages[i].length, size, sizeof size);
        for (int kind = 0; kind < KINDS; kind++) {
            if (kind == WSS4J && b.to_java == NULL)
                continue;
            printf("%-9s %-8s %12.0f %10.1f %10.1f\n", kind == 0 ? size : "", kind_names[kind],
                   median(rate[i][kind], rounds), median(p50[i][kind], rounds), median(p99[i][kind], rounds));
        }
    }
    printf("\nratios of median p50 latencies:\n%-9s %14s %14s %14s\n", "message", "xmlsec1/warden", "WSS4J/warden",
           "warden/floor");
    for (int i = 0; i < count; i++) {
        char size[32], wss4j[32];
        double w = median(p50[i][WARDEN], rounds);
        print_size(messages[i].length, size, sizeof size);
        if (b.to_java != NULL)
            snprintf(wss4j, sizeof wss4j, "%.2fx", median(p50[i][WSS4J], rounds) / w);
        else
            snprintf(wss4j, sizeof wss4j, "-");
        printf("%-9s %13.2fx %14s %13.2fx\n", size, median(p50[i][XMLSEC], rounds) / w, wss4j,
               w / median(p50[i][FLOOR], rounds));
    }
    teardown(&b);
    for (int i = 0; i < count; i++) {
        free(messages[i].bytes);
        free(messages[i].signed_info);
        free(messages[i].signature);
    }
    return 0;
}
