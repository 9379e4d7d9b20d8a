/*
** decision_log.c — the bounded queue between the workers and the decision log's writer
** thread (a ring of owned lines under one mutex), and the writer: it takes the whole ring at
** once by swapping it with an empty one, writes the lines outside the lock, and flushes once
** per batch (decision_log.h says when it wakes). The writer runs below the workers' priority
** (lower_priority) so that its batch never delays a request.
*/
#define _GNU_SOURCE /* SCHED_IDLE, gettid, pthread_setname_np */
#include "decision_log.h"

#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* The writer's batch (a few dozen lines and a write every SERVE_LOG_GATHER_MS) must not take a
** worker's CPU while a request is being judged: at the workers' priority its wakeup preempts a
** worker on the same core, and the request waits for the batch (p99 +90% in bench/serve.sh).
** With when_full = "drop" the writer runs SCHED_IDLE: it only ever gets a CPU no worker wants,
** and a machine too busy to give it one drops lines, which "drop" counts. With "block" a starved
** writer would stall every request, so it runs at nice 19 instead: it never preempts a worker
** on wakeup, yet keeps a fair (small) share of a busy CPU, and a worker waiting for room sleeps,
** which leaves the writer its CPU. Failing to lower the priority changes nothing else. */
static void lower_priority(bool block)
{
    if (!block) {
        struct sched_param param = { .sched_priority = 0 };
        if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) == 0)
            return;
    }
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
}

/* Waits on not_empty until a batch has gathered, the queue fills or the log stops. */
static void gather(serve_log *log)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += SERVE_LOG_GATHER_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    log->gathering = true;
    while (!log->stopping && log->count < log->capacity / 2) {
        if (pthread_cond_timedwait(&log->not_empty, &log->lock, &until) == ETIMEDOUT)
            break;
    }
    log->gathering = false;
}

static void *write_lines(void *arg)
{
    serve_log *log = arg;
    (void)pthread_setname_np(pthread_self(), "warden-log"); /* for top -H, perf and the tests */
    lower_priority(log->block);
    pthread_mutex_lock(&log->lock);
    for (;;) {
        while (log->count == 0 && !log->stopping) {
            log->idle = true;
            pthread_cond_wait(&log->not_empty, &log->lock);
            log->idle = false;
        }
        if (log->count == 0 && log->stopping)
            break;
        gather(log);
        /* take the queue: the workers go on with the empty spare ring */
        char **batch = log->ring;
        size_t head = log->head, count = log->count;
        log->ring = log->spare;
        log->spare = NULL;
        log->head = 0;
        log->count = 0;
        pthread_cond_broadcast(&log->not_full);
        pthread_mutex_unlock(&log->lock);
        for (size_t i = 0; i < count; i++) {
            size_t slot = (head + i) % log->capacity;
            fputs(batch[slot], log->out);
            fputc('\n', log->out);
            free(batch[slot]);
            batch[slot] = NULL;
        }
        fflush(log->out);
        pthread_mutex_lock(&log->lock);
        assert(log->spare == NULL);
        log->spare = batch; /* every slot NULL again */
    }
    pthread_mutex_unlock(&log->lock);
    fflush(log->out);
    return NULL;
}

int serve_log_start(serve_log *log, const char *path, size_t capacity, bool block, _Atomic uint64_t *dropped,
                    char *message, size_t size)
{
    memset(log, 0, sizeof *log);
    log->capacity = capacity > 0 ? capacity : 1;
    log->block = block;
    log->dropped = dropped;
    log->ring = calloc(log->capacity, sizeof *log->ring);
    log->spare = calloc(log->capacity, sizeof *log->spare);
    if (log->ring == NULL || log->spare == NULL) {
        snprintf(message, size, "log.queue: cannot allocate %zu slots", log->capacity);
        free(log->ring);
        free(log->spare);
        log->ring = NULL;
        return -1;
    }
    log->out = strcmp(path, "-") == 0 ? stdout : fopen(path, "a");
    if (log->out == NULL) {
        snprintf(message, size, "log.decisions: cannot open %s: %s", path, strerror(errno));
        free(log->ring);
        free(log->spare);
        log->ring = NULL;
        return -1;
    }
    /* a batch leaves in one write, not one per stdio buffer of 4 KiB */
    setvbuf(log->out, NULL, _IOFBF, 1 << 18);
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_mutex_init(&log->lock, NULL);
    pthread_cond_init(&log->not_empty, &monotonic);
    pthread_cond_init(&log->not_full, NULL);
    pthread_condattr_destroy(&monotonic);
    if (pthread_create(&log->writer, NULL, write_lines, log) != 0) {
        snprintf(message, size, "log.decisions: cannot start the writer thread");
        serve_log_stop(log);
        return -1;
    }
    log->started = true;
    return 0;
}

void serve_log_push(serve_log *log, char *line)
{
    if (log == NULL || log->ring == NULL || line == NULL) {
        free(line);
        return;
    }
    pthread_mutex_lock(&log->lock);
    while (log->count == log->capacity && log->block && !log->stopping)
        pthread_cond_wait(&log->not_full, &log->lock);
    if (log->count == log->capacity || log->stopping) {
        pthread_mutex_unlock(&log->lock);
        atomic_fetch_add(log->dropped, 1);
        free(line);
        return;
    }
    log->ring[(log->head + log->count) % log->capacity] = line;
    log->count++;
    /* wake the writer for a first line, or when a batch must not wait for its time */
    if (log->idle || (log->gathering && log->count >= log->capacity / 2))
        pthread_cond_signal(&log->not_empty);
    pthread_mutex_unlock(&log->lock);
}

void serve_log_stop(serve_log *log)
{
    if (log->ring == NULL)
        return;
    if (log->started) {
        pthread_mutex_lock(&log->lock);
        log->stopping = true;
        pthread_cond_broadcast(&log->not_empty);
        pthread_cond_broadcast(&log->not_full);
        pthread_mutex_unlock(&log->lock);
        pthread_join(log->writer, NULL);
    }
    for (size_t i = 0; i < log->capacity; i++)
        free(log->ring[i]);
    free(log->ring);
    free(log->spare);
    log->ring = NULL;
    log->spare = NULL;
    if (log->out != NULL && log->out != stdout)
        fclose(log->out);
    pthread_mutex_destroy(&log->lock);
    pthread_cond_destroy(&log->not_empty);
    pthread_cond_destroy(&log->not_full);
}
