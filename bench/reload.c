/*
** bench/reload.c — hot reload figures: the time from a file change to the new revision
** serving, for sets of 10, 100 and 1,000 policy files (watching on, debounce subtracted), and
** decision latency p50/p99 while the set reloads every 100 ms, beside the same without
** reloads (the baseline, measured in the same run).
**
** usage: bench_reload ENVELOPE NOW_UNIX CA_PEM [SECONDS]
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <warden.h>

#include "bench_clock.h"

#define DEBOUNCE_MS 100

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void write_rule(const char *directory, int file, int version)
{
    char path[512], temporary[600];
    snprintf(path, sizeof path, "%s/rules_%04d.lua", directory, file);
    snprintf(temporary, sizeof temporary, "%s/.rules_%04d.lua.tmp", directory, file);
    FILE *f = fopen(temporary, "w");
    fprintf(f, "permit \"rule %d v%d\" { action = \"urn:example:orders/Create\", when = function(m) return m.cert ~= nil end }\n",
            file, version);
    fclose(f);
    rename(temporary, path);
}

static warden_engine *open_engine(const char *directory, const char *ca, bool watch)
{
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    char debounce[16];
    snprintf(debounce, sizeof debounce, "%d", DEBOUNCE_MS);
    warden_config_new(&config);
    if (warden_config_set(config, "trust", ca, &err) != WARDEN_OK ||
        warden_config_set(config, "policies", directory, &err) != WARDEN_OK ||
        warden_config_set(config, "replay.backend", "none", &err) != WARDEN_OK ||
        warden_config_set(config, "reload.watch", watch ? "true" : "false", &err) != WARDEN_OK ||
        warden_config_set(config, "reload.debounce_ms", debounce, &err) != WARDEN_OK ||
        warden_engine_new(config, &engine, &err) != WARDEN_OK) {
        fprintf(stderr, "engine: %s\n", err.text);
        exit(2);
    }
    warden_config_free(config);
    return engine;
}

static void make_set(const char *directory, int files)
{
    mkdir(directory, 0755);
    for (int i = 0; i < files; i++)
        write_rule(directory, i, 0);
}

/* Change one file; wait until the engine serves a new revision. Milliseconds, debounce
** subtracted; negative on time-out. */
static double time_to_serve(warden_engine *engine, const char *directory, int version)
{
    warden_status before = { .size = sizeof(warden_status) }, now = { .size = sizeof(warden_status) };
    warden_engine_status(engine, &before);
    double start = now_ms();
    write_rule(directory, 0, version);
    for (;;) {
        warden_engine_status(engine, &now);
        if (strcmp(now.revision, before.revision) != 0)
            return now_ms() - start - DEBOUNCE_MS;
        if (now_ms() - start > 10000)
            return -1;
        usleep(200);
    }
}

typedef struct latency_run {
    warden_engine  *engine;
    warden_message *message;
    double          seconds;
    double          p50_us, p99_us;
    size_t          count;
} latency_run;

static void *measure_latency(void *opaque)
{
    latency_run *run = opaque;
    size_t capacity = 1 << 22, count = 0;
    double *latencies = malloc(capacity * sizeof *latencies);
    double end = now_ms() + run->seconds * 1000;
    while (count < capacity) {
        double started = now_ms();
        if (started > end)
            break;
        warden_decision *decision = NULL;
        warden_error err;
        if (warden_engine_decide(run->engine, run->message, &decision, &err) != WARDEN_OK) {
            fprintf(stderr, "decide: %s\n", err.text);
            exit(1);
        }
        warden_decision_free(decision);
        latencies[count++] = (now_ms() - started) * 1000;
    }
    qsort(latencies, count, sizeof *latencies, bench_compare_doubles);
    run->p50_us = latencies[count / 2];
    run->p99_us = latencies[(size_t)((double)count * 0.99)];
    run->count = count;
    free(latencies);
    return NULL;
}

typedef struct rewriter {
    const char *directory;
    atomic_bool done;
    int         rewrites;
} rewriter;

static void *rewrite_every_100ms(void *opaque)
{
    rewriter *r = opaque;
    int version = 1000;
    while (!atomic_load(&r->done)) {
        write_rule(r->directory, 1, version++);
        r->rewrites++;
        usleep(100 * 1000);
    }
    return NULL;
}

static warden_message *receive(warden_engine *engine, const char *path, int64_t now)
{
    static char bytes[1 << 20];
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        exit(2);
    size_t length = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    warden_message *message = NULL;
    warden_error err;
    warden_receive_options options = { .size = sizeof options, .now = now };
    if (warden_engine_receive(engine, bytes, length, &options, &message, &err) != WARDEN_OK) {
        fprintf(stderr, "receive: %s\n", err.text);
        exit(2);
    }
    return message;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s ENVELOPE NOW_UNIX CA_PEM [SECONDS]\n", argv[0]);
        return 2;
    }
    int64_t now = atoll(argv[2]);
    double seconds = argc > 4 ? atof(argv[4]) : 3.0;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char base[256];
    snprintf(base, sizeof base, "%s/warden-bench-reload-%d", tmp, (int)getpid());
    mkdir(base, 0755);

    printf("time from a file change to the new revision serving (watching, debounce %d ms subtracted; median of 5)\n",
           DEBOUNCE_MS);
    int sizes[] = { 10, 100, 1000 };
    for (int s = 0; s < 3; s++) {
        char directory[300];
        snprintf(directory, sizeof directory, "%s/set%d", base, sizes[s]);
        make_set(directory, sizes[s]);
        warden_engine *engine = open_engine(directory, argv[3], true);
        double samples[5];
        for (int i = 0; i < 5; i++) {
            samples[i] = time_to_serve(engine, directory, i + 1);
            usleep(50 * 1000);
        }
        qsort(samples, 5, sizeof samples[0], bench_compare_doubles);
        printf("  %5d files: %8.1f ms\n", sizes[s], samples[2]);
        warden_engine_free(engine);
    }

    char directory[300];
    snprintf(directory, sizeof directory, "%s/set100", base);
    warden_engine *engine = open_engine(directory, argv[3], true);
    warden_message *message = receive(engine, argv[1], now);
    latency_run quiet = { engine, message, seconds, 0, 0, 0 };
    measure_latency(&quiet);
    rewriter r = { directory, false, 0 };
    pthread_t writer;
    pthread_create(&writer, NULL, rewrite_every_100ms, &r);
    latency_run busy = { engine, message, seconds, 0, 0, 0 };
    measure_latency(&busy);
    atomic_store(&r.done, true);
    pthread_join(writer, NULL);
    warden_status status = { .size = sizeof(warden_status) };
    warden_engine_status(engine, &status);
    printf("decision latency, 100-file set, %.0f s each              p50 us    p99 us\n", seconds);
    printf("  without reloads (baseline)                        %8.2f  %8.2f\n", quiet.p50_us, quiet.p99_us);
    printf("  reloading every 100 ms (%d rewrites, %llu reloads) %8.2f  %8.2f\n", r.rewrites,
           (unsigned long long)status.reloads, busy.p50_us, busy.p99_us);
    printf("  p99 ratio during reloads: %.2fx\n", busy.p99_us / quiet.p99_us);
    warden_message_free(message);
    warden_engine_free(engine);
    char command[400];
    snprintf(command, sizeof command, "rm -rf '%s'", base);
    return system(command) == 0 ? 0 : 1;
}
