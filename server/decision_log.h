/*
** decision_log.h — `warden serve`'s decision log: one JSON line per decision (security
** rejections included) handed to a writer thread through a bounded queue, so that no request
** waits for the disk. When the queue is full, log.when_full decides: "drop" (the line is
** counted in warden_decision_log_dropped_total) or "block" (the request waits for room).
**
** The writer wakes for batches, not lines: a worker signals it only when it sleeps idle (the
** first line after a quiet spell) or when the queue is half full; once awake it lets lines
** gather for SERVE_LOG_GATHER_MS, then takes them all at once (two rings swapped under the
** lock) and writes them with one flush. A line thus reaches the file within a few
** milliseconds, and a busy server pays a few hundred wakeups a second, not one per decision.
*/
#ifndef WARDEN_SERVE_DECISION_LOG_H
#define WARDEN_SERVE_DECISION_LOG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SERVE_LOG_GATHER_MS 2

typedef struct serve_log {
    pthread_mutex_t   lock;
    pthread_cond_t    not_empty, not_full;
    char            **ring;      /* capacity slots; owned lines: the queue */
    char            **spare;     /* capacity empty slots: the writer's, swapped with ring */
    size_t            capacity, head, count;
    bool              idle;      /* the writer waits for a first line */
    bool              gathering; /* the writer waits for a batch to gather */
    bool              block;     /* when_full = "block" */
    bool              stopping;
    FILE             *out;       /* owned unless it is stdout */
    pthread_t         writer;
    bool              started;
    _Atomic uint64_t *dropped;   /* the metrics counter */
} serve_log;

/* Opens path ("-" for standard output, else appended to) and starts the writer. Returns 0, or
** -1 with why in message. */
int serve_log_start(serve_log *log, const char *path, size_t capacity, bool block, _Atomic uint64_t *dropped,
                    char *message, size_t size);

/* Queues line (taken over: freed by the log). Thread-safe. A NULL log (no log.decisions)
** frees line and returns. */
void serve_log_push(serve_log *log, char *line);

/* Writes what is queued, stops the writer and closes the file. */
void serve_log_stop(serve_log *log);

#endif
