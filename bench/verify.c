/*
** bench/verify.c — verified messages per second and per-message latency (p50/p99) of
** warden_engine_receive on one signed message, single thread, beside the same measurement
** for libxmlsec1 verifying the same message in-process (its usual recipe: parse, register
** IDs, xmlSecDSigCtxVerify with the key preset). Both run in the same process, interleaved
** in rounds, so a noisy machine affects both alike; medians over rounds are reported.
**
** usage: bench_verify MESSAGE CA_PEM CERT_PEM [SECONDS_PER_ROUND] [ROUNDS]
*/
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <warden.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

typedef struct measurement {
    double rate;     /* messages per second */
    double p50_us;
    double p99_us;
} measurement;

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static unsigned char *read_file(const char *path, size_t *length)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc((size_t)size + 1);
    if (data != NULL && fread(data, 1, (size_t)size, f) != (size_t)size) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *length = (size_t)size;
    return data;
}

typedef int (*verify_once)(void *context);

typedef struct warden_context {
    warden_engine *engine;
    const unsigned char *bytes;
    size_t length;
} warden_context;

static int warden_once(void *opaque)
{
    warden_context *c = opaque;
    warden_message *message = NULL;
    warden_error err;
    int status = warden_engine_receive(c->engine, c->bytes, c->length, NULL, &message, &err);
    if (status != WARDEN_OK)
        fprintf(stderr, "warden rejected the message: %s: %s\n", err.reason, err.text);
    warden_message_free(message);
    return status == WARDEN_OK ? 0 : -1;
}

typedef struct xmlsec_context {
    xmlSecKeyPtr key;
    const unsigned char *bytes;
    size_t length;
} xmlsec_context;

static int xmlsec_once(void *opaque)
{
    xmlsec_context *c = opaque;
    static const xmlChar *id_attributes[] = { BAD_CAST "Id", NULL };
    int result = -1;
    xmlSecDSigCtxPtr dsig = NULL;
    xmlDocPtr doc = xmlReadMemory((const char *)c->bytes, (int)c->length, NULL, NULL, XML_PARSE_NONET);
    if (doc == NULL)
        goto done;
    xmlSecAddIDs(doc, xmlDocGetRootElement(doc), id_attributes);
    xmlNodePtr signature = xmlSecFindNode(xmlDocGetRootElement(doc), xmlSecNodeSignature, xmlSecDSigNs);
    if (signature == NULL)
        goto done;
    dsig = xmlSecDSigCtxCreate(NULL);
    if (dsig == NULL)
        goto done;
    dsig->signKey = xmlSecKeyDuplicate(c->key);
    if (xmlSecDSigCtxVerify(dsig, signature) < 0 || dsig->status != xmlSecDSigStatusSucceeded)
        goto done;
    result = 0;
done:
    if (result != 0)
        fprintf(stderr, "xmlsec did not verify the message\n");
    xmlSecDSigCtxDestroy(dsig);
    xmlFreeDoc(doc);
    return result;
}

/* Runs fn for about seconds, recording each call's latency. */
static int measure(verify_once fn, void *context, double seconds, measurement *out)
{
    size_t capacity = 1 << 20, count = 0;
    double *latencies = malloc(capacity * sizeof *latencies);
    if (latencies == NULL)
        return -1;
    double start = now_seconds(), end = start + seconds, t = start;
    while (t < end && count < capacity) {
        double before = t;
        if (fn(context) != 0) {
            free(latencies);
            return -1;
        }
        t = now_seconds();
        latencies[count++] = (t - before) * 1e6;
    }
    qsort(latencies, count, sizeof *latencies, compare_doubles);
    out->rate = (double)count / (t - start);
    out->p50_us = latencies[count / 2];
    out->p99_us = latencies[(size_t)((double)count * 0.99)];
    free(latencies);
    return 0;
}

static double median(double *values, int n)
{
    qsort(values, (size_t)n, sizeof *values, compare_doubles);
    return values[n / 2];
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s MESSAGE CA_PEM CERT_PEM [SECONDS_PER_ROUND] [ROUNDS]\n", argv[0]);
        return 2;
    }
    double seconds = argc > 4 ? atof(argv[4]) : 1.0;
    int rounds = argc > 5 ? atoi(argv[5]) : 5;
    if (rounds < 1 || rounds > 64)
        rounds = 5;
    size_t length;
    unsigned char *bytes = read_file(argv[1], &length);
    if (bytes == NULL) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }

    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    warden_config_new(&config);
    if (warden_config_set(config, "trust", argv[2], &err) != WARDEN_OK ||
        warden_config_set(config, "replay.backend", "none", &err) != WARDEN_OK || /* the same message, again and again */
        warden_engine_new(config, &engine, &err) != WARDEN_OK) {
        fprintf(stderr, "engine: %s\n", err.text);
        return 2;
    }
    warden_config_free(config);

    if (xmlSecInit() < 0 || xmlSecCryptoAppInit(NULL) < 0 || xmlSecCryptoInit() < 0) {
        fprintf(stderr, "xmlsec initialisation failed\n");
        return 2;
    }
    xmlSecKeyPtr key = xmlSecCryptoAppKeyLoad(argv[3], xmlSecKeyDataFormatCertPem, NULL, NULL, NULL);
    if (key == NULL) {
        fprintf(stderr, "xmlsec cannot load %s\n", argv[3]);
        return 2;
    }

    warden_context wc = { engine, bytes, length };
    xmlsec_context xc = { key, bytes, length };
    /* warm up both (caches, page faults) */
    measurement m;
    if (measure(warden_once, &wc, 0.2, &m) != 0 || measure(xmlsec_once, &xc, 0.2, &m) != 0)
        return 1;

    double w_rate[64], w_p50[64], w_p99[64], x_rate[64], x_p50[64], x_p99[64];
    for (int r = 0; r < rounds; r++) {
        measurement w, x;
        if (measure(warden_once, &wc, seconds, &w) != 0 || measure(xmlsec_once, &xc, seconds, &x) != 0)
            return 1;
        w_rate[r] = w.rate; w_p50[r] = w.p50_us; w_p99[r] = w.p99_us;
        x_rate[r] = x.rate; x_p50[r] = x.p50_us; x_p99[r] = x.p99_us;
    }
    double wr = median(w_rate, rounds), xr = median(x_rate, rounds);
    printf("message: %zu bytes; %d rounds of %.1f s each, medians over rounds, one thread\n", length, rounds, seconds);
    printf("%-28s %12s %10s %10s\n", "", "messages/s", "p50 us", "p99 us");
    printf("%-28s %12.0f %10.1f %10.1f\n", "warden_engine_receive", wr, median(w_p50, rounds), median(w_p99, rounds));
    printf("%-28s %12.0f %10.1f %10.1f\n", "xmlsec1 (baseline)", xr, median(x_p50, rounds), median(x_p99, rounds));
    printf("ratio warden/xmlsec: %.2fx\n", wr / xr);

    xmlSecKeyDestroy(key);
    xmlSecCryptoShutdown();
    xmlSecCryptoAppShutdown();
    xmlSecShutdown();
    warden_engine_free(engine);
    free(bytes);
    return 0;
}
