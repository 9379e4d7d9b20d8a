/*
** decision_log.h — `warden serve`'s decision log: one JSON line per decision (security
** rejections included) handed to a writer thread through a bounded queue, so that no request
** waits for the disk. When the queue is full, log.when_full decides: "drop" (the line is
** counted in warden_decision_log_dropped_total) or "block" (the request waits for room).
**
** The queue is a chain of byte blocks holding whole lines, appended to under a mutex by the
** workers (a copy of the line; its owner frees it on its own thread): a queue that grows takes
** another block and never copies what it holds, so a backlog costs no worker a stall. The
** writer wakes for batches, not lines: a worker signals it only when it sleeps idle (the first
** line after a quiet spell) or when the batch is complete (a block full, or the queue half
** full); once awake it lets lines gather for log.flush_ms at most, then takes the whole chain
** under the lock, writes it a page at a time outside it (decision_log.c says why) and keeps a
** few blocks for the workers to reuse. A line thus reaches the file within flush_ms, and a
** busy server pays one wakeup per block of lines, not one per decision.
*/
#ifndef WARDEN_SERVE_DECISION_LOG_H
#define WARDEN_SERVE_DECISION_LOG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct serve_log_block serve_log_block; /* decision_log.c */

typedef struct serve_log {
    pthread_mutex_t   lock;
    pthread_cond_t    not_empty, not_full;
    serve_log_block  *first, *last; /* the queue: whole lines, each ending in '\n' */
    size_t            lines;     /* in the queue */
    size_t            capacity;  /* lines the queue holds at most (log.queue) */
    serve_log_block  *reuse;     /* empty blocks kept for the workers (a few) */
    size_t            reuse_count;
    int               flush_ms;  /* how long the writer lets a batch gather (log.flush_ms) */
    bool              idle;      /* the writer waits for a first line */
    bool              gathering; /* the writer waits for a batch to gather */
    bool              block;     /* when_full = "block" */
    bool              stopping;
    bool              failing;   /* the last write failed (said once on stderr, not per batch) */
    int               fd;        /* owned unless it is standard output; -1 when stopped */
    pthread_t         writer;
    bool              started;
    _Atomic uint64_t *dropped;   /* the metrics counter: lines dropped or not written */
} serve_log;

/* Opens path ("-" for standard output, else appended to) and starts the writer, which lets a
** batch gather for flush_ms (0: writes as soon as it wakes). Returns 0, or -1 with why in
** message. */
int serve_log_start(serve_log *log, const char *path, size_t capacity, int flush_ms, bool block,
                    _Atomic uint64_t *dropped, char *message, size_t size);

/* Whether the log was started (log.decisions set). */
bool serve_log_active(const serve_log *log);

/* Queues a copy of line (length bytes, no newline; the caller keeps it). Thread-safe. A
** log not started ignores it. */
void serve_log_push(serve_log *log, const char *line, size_t length);

/* Writes what is queued, stops the writer and closes the file. */
void serve_log_stop(serve_log *log);

#endif
