/*
** decision_log.c — the bounded queue between the workers and the decision log's writer
** thread (a ring of owned lines under one mutex), and the writer: it takes the whole ring at
** once by swapping it with an empty one, writes the lines outside the lock, and flushes once
** per batch (decision_log.h says when it wakes).
*/
#include "decision_log.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
