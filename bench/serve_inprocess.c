/*
** bench/serve_inprocess.c — the baseline of bench/serve.sh: the same signed messages put
** through warden_engine_receive + warden_engine_decide in process, on THREADS threads sharing
** one engine (each message once, so replay detection does its full work). Prints requests/s
** and p50/p99 latency in microseconds, the figures wrk prints for `warden serve`, and the CPU
** time per message (the figure a loaded machine does not distort).
**
** usage: bench_serve_inprocess CONFIG_LUA MESSAGES_DIR COUNT THREADS
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <warden.h>

#include "bench_clock.h"

typedef struct job {
    warden_engine *engine;
    char         **bodies;
    size_t        *lengths;
    size_t         first, step, count;
    double        *latency_us;
    size_t         done, allowed;
} job;

static void *run(void *arg)
{
    job *j = arg;
    for (size_t i = j->first; i < j->count; i += j->step) {
        warden_receive_options options = { .size = sizeof options };
        warden_message *message = NULL;
        warden_decision *decision = NULL;
        warden_error err;
        double started = bench_now_seconds();
        if (warden_engine_receive(j->engine, j->bodies[i], j->lengths[i], &options, &message, &err) == WARDEN_OK
            && warden_engine_decide(j->engine, message, &decision, &err) == WARDEN_OK)
            j->allowed += (size_t)warden_decision_allowed(decision);
        warden_decision_free(decision);
        warden_message_free(message);
        j->latency_us[j->done++] = (bench_now_seconds() - started) * 1e6;
    }
    return NULL;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s CONFIG_LUA MESSAGES_DIR COUNT THREADS\n", argv[0]);
        return 2;
    }
    size_t count = (size_t)atol(argv[3]), threads = (size_t)atol(argv[4]);
    char **bodies = calloc(count, sizeof *bodies);
    size_t *lengths = calloc(count, sizeof *lengths);
    double *latency = calloc(count, sizeof *latency);
    job *jobs = calloc(threads, sizeof *jobs);
    pthread_t *ids = calloc(threads, sizeof *ids);
    warden_engine *engine = NULL;
    warden_error err;
    for (size_t i = 0; i < count; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%zu.xml", argv[2], i);
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
            fprintf(stderr, "cannot read %s\n", path);
            return 2;
        }
        fseek(f, 0, SEEK_END);
        lengths[i] = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        bodies[i] = malloc(lengths[i]);
        if (fread(bodies[i], 1, lengths[i], f) != lengths[i])
            return 2;
        fclose(f);
    }
    if (warden_engine_open(argv[1], &engine, &err) != WARDEN_OK) {
        fprintf(stderr, "%s\n", err.text);
        return 2;
    }
    struct timespec cpu_started, cpu_ended;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu_started);
    double started = bench_now_seconds();
    size_t offset = 0;
    for (size_t t = 0; t < threads; t++) {
        jobs[t] = (job){ engine, bodies, lengths, t, threads, count, latency + offset, 0, 0 };
        offset += (count - t + threads - 1) / threads;
        pthread_create(&ids[t], NULL, run, &jobs[t]);
    }
    size_t done = 0, allowed = 0;
    for (size_t t = 0; t < threads; t++) {
        pthread_join(ids[t], NULL);
        done += jobs[t].done;
        allowed += jobs[t].allowed;
    }
    double elapsed = bench_now_seconds() - started;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu_ended);
    double cpu_us = ((double)(cpu_ended.tv_sec - cpu_started.tv_sec) * 1e6
                     + (double)(cpu_ended.tv_nsec - cpu_started.tv_nsec) / 1e3) / (double)(done > 0 ? done : 1);
    qsort(latency, done, sizeof *latency, compare);
    printf("in-process  %zu threads: %8.0f req/s  p50 %7.0f us  p99 %7.0f us  cpu %6.1f us/msg  (%zu of %zu allowed)\n",
           threads, (double)done / elapsed, latency[done / 2], latency[done * 99 / 100], cpu_us, allowed, done);
    warden_engine_free(engine);
    for (size_t i = 0; i < count; i++)
        free(bodies[i]);
    free(bodies);
    free(lengths);
    free(latency);
    free(jobs);
    free(ids);
    return 0;
}
