/*
** decision_log.c — the bounded queue between the workers and the decision log's writer
** thread (a ring of owned lines under one mutex). The writer takes every queued line at
** once and flushes when the queue runs dry, so a burst costs one flush, not one per line.
*/
#include "decision_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void *write_lines(void *arg)
{
    serve_log *log = arg;
    pthread_mutex_lock(&log->lock);
    for (;;) {
        while (log->count == 0 && !log->stopping)
            pthread_cond_wait(&log->not_empty, &log->lock);
        if (log->count == 0 && log->stopping)
            break;
        char *line = log->ring[log->head];
        log->ring[log->head] = NULL;
        log->head = (log->head + 1) % log->capacity;
        log->count--;
        bool last = log->count == 0;
        pthread_cond_signal(&log->not_full);
        pthread_mutex_unlock(&log->lock);
        fputs(line, log->out);
        fputc('\n', log->out);
        if (last)
            fflush(log->out);
        free(line);
        pthread_mutex_lock(&log->lock);
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
    if (log->ring == NULL) {
        snprintf(message, size, "log.queue: cannot allocate %zu slots", log->capacity);
        return -1;
    }
    log->out = strcmp(path, "-") == 0 ? stdout : fopen(path, "a");
    if (log->out == NULL) {
        snprintf(message, size, "log.decisions: cannot open %s: %s", path, strerror(errno));
        free(log->ring);
        log->ring = NULL;
        return -1;
    }
    pthread_mutex_init(&log->lock, NULL);
    pthread_cond_init(&log->not_empty, NULL);
    pthread_cond_init(&log->not_full, NULL);
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
    log->ring = NULL;
    if (log->out != NULL && log->out != stdout)
        fclose(log->out);
    pthread_mutex_destroy(&log->lock);
    pthread_cond_destroy(&log->not_empty);
    pthread_cond_destroy(&log->not_full);
}
