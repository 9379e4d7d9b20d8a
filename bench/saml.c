/*
** bench/saml.c — what a SAML assertion adds to verifying a message: per-message latency of
** warden_engine_receive on a zeep-signed request (the baseline) and on the same kind of request
** carrying a signed bearer assertion (pysaml2), and on one whose sender-vouches assertion the
** message signature also covers, measured in one run with the rounds alternating, so that a
** busy machine slows each alike. Reports the median over rounds of each round's p50 and the
** ratio to the baseline. The replay cache is off (the same bytes are received again and again).
**
** usage: bench_saml CA_PEM IDP_PEM NOW SECONDS ROUNDS BASELINE_MESSAGE MESSAGE...
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <warden.h>

#include "bench_clock.h"

#define MAX_MESSAGES 8
#define MAX_ROUNDS 64
#define MAX_SAMPLES 200000

typedef struct message {
    const char *path;
    char       *bytes;
    size_t      length;
    double      p50[MAX_ROUNDS];
} message;

static double now_us(void)
{
    return bench_now_seconds() * 1e6;
}

static char *read_file(const char *path, size_t *length)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *bytes = size >= 0 ? malloc((size_t)size + 1) : NULL;
    if (bytes != NULL && fread(bytes, 1, (size_t)size, f) != (size_t)size) {
        free(bytes);
        bytes = NULL;
    }
    fclose(f);
    *length = (size_t)size;
    return bytes;
}

/* One round of one message: receives for seconds, returns the p50 in microseconds. */
static double round_p50(warden_engine *engine, const message *m, int64_t now, double seconds, double *samples)
{
    warden_receive_options options = { .size = sizeof options, .now = now };
    size_t count = 0;
    double end = now_us() + seconds * 1e6;
    while (count < MAX_SAMPLES && now_us() < end) {
        warden_message *out = NULL;
        warden_error err;
        double start = now_us();
        if (warden_engine_receive(engine, m->bytes, m->length, &options, &out, &err) != WARDEN_OK) {
            fprintf(stderr, "bench_saml: %s rejected: %s: %s\n", m->path, err.reason, err.text);
            exit(1);
        }
        samples[count++] = now_us() - start;
        warden_message_free(out);
    }
    qsort(samples, count, sizeof *samples, bench_compare_doubles);
    return samples[count / 2];
}

static double median(double *values, int count)
{
    double copy[MAX_ROUNDS];
    memcpy(copy, values, (size_t)count * sizeof *values);
    qsort(copy, (size_t)count, sizeof *copy, bench_compare_doubles);
    return copy[count / 2];
}

int main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr, "usage: bench_saml CA_PEM IDP_PEM NOW SECONDS ROUNDS BASELINE_MESSAGE MESSAGE...\n");
        return 2;
    }
    int64_t now = 0;
    double seconds = atof(argv[4]);
    int rounds = atoi(argv[5]);
    int count = argc - 6;
    if (warden_time_parse(argv[3], strlen(argv[3]), &now) != WARDEN_OK || rounds < 1 || rounds > MAX_ROUNDS ||
        count > MAX_MESSAGES || seconds <= 0) {
        fprintf(stderr, "bench_saml: bad NOW, SECONDS or ROUNDS, or more than %d messages\n", MAX_MESSAGES);
        return 2;
    }
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    if (warden_config_new(&config) != WARDEN_OK || warden_config_set(config, "trust", argv[1], &err) != WARDEN_OK ||
        warden_config_set(config, "saml.issuers", argv[2], &err) != WARDEN_OK ||
        warden_config_set(config, "saml.audiences", "urn:example:orders", &err) != WARDEN_OK ||
        warden_config_set(config, "replay.backend", "none", &err) != WARDEN_OK ||
        warden_engine_new(config, &engine, &err) != WARDEN_OK) {
        fprintf(stderr, "bench_saml: cannot make the engine: %s\n", err.text);
        return 1;
    }
    warden_config_free(config);

    static message messages[MAX_MESSAGES];
    static double samples[MAX_SAMPLES];
    for (int i = 0; i < count; i++) {
        messages[i].path = argv[6 + i];
        messages[i].bytes = read_file(messages[i].path, &messages[i].length);
        if (messages[i].bytes == NULL) {
            fprintf(stderr, "bench_saml: cannot read %s\n", messages[i].path);
            return 1;
        }
        round_p50(engine, &messages[i], now, 0.2, samples); /* warm the caches (chains, parse) */
    }
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < count; i++)
            messages[i].p50[r] = round_p50(engine, &messages[i], now, seconds, samples);

    double baseline = median(messages[0].p50, rounds);
    printf("%-40s %8s %10s %8s\n", "message", "bytes", "p50 (us)", "ratio");
    for (int i = 0; i < count; i++) {
        const char *name = strrchr(messages[i].path, '/');
        double p50 = median(messages[i].p50, rounds);
        printf("%-40s %8zu %10.1f %8.2f%s\n", name != NULL ? name + 1 : messages[i].path, messages[i].length, p50,
               p50 / baseline, i == 0 ? "  (baseline)" : "");
    }
    printf("median over %d rounds of %.1f s each; rounds alternate the messages\n", rounds, seconds);
    for (int i = 0; i < count; i++)
        free(messages[i].bytes);
    warden_engine_free(engine);
    return 0;
}
