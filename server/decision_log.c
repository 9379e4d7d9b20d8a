/*
** decision_log.c — the bounded queue between the workers and the decision log's writer
** thread (a buffer of whole lines under one mutex), and the writer: it takes the whole queue
** at once by swapping it with its empty spare, writes the batch outside the lock, and waits
** for the next (decision_log.h says when it wakes). The writer runs below the workers'
** priority (lower_priority) so that its batch never delays a request.
*/
#define _GNU_SOURCE /* SCHED_IDLE, gettid, pthread_setname_np */
#include "decision_log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* A batch buffer that grew past this for a burst is given back once a batch uses less than a
** quarter of it, so a quiet server does not keep the burst's memory. */
#define SERVE_LOG_KEEP_BYTES (4u << 20)

/* The writer's batch must not take a worker's CPU while a request is being judged: at the
** workers' priority its wakeup preempts a worker on the same core, and the request waits for
** the batch (p99 +90% in bench/serve.sh). With when_full = "drop" the writer runs SCHED_IDLE:
** it only ever gets a CPU no worker wants, and a machine too busy to give it one drops lines,
** which "drop" counts. With "block" a starved writer would stall every request, so it runs at
** nice 19 instead: it never preempts a worker on wakeup, yet keeps a fair (small) share of a
** busy CPU, and a worker waiting for room sleeps, which leaves the writer its CPU. Failing to
** lower the priority changes nothing else. */
static void lower_priority(bool block)
{
    if (!block) {
        struct sched_param param = { .sched_priority = 0 };
        if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) == 0)
            return;
    }
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
}

/* Waits on not_empty until a batch has gathered for flush_ms, the queue is half full or the
** log stops. */
static void gather(serve_log *log)
{
    if (log->flush_ms == 0)
        return;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += log->flush_ms / 1000;
    until.tv_nsec += (long)(log->flush_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    log->gathering = true;
    while (!log->stopping && log->queue.lines < log->capacity / 2) {
        if (pthread_cond_timedwait(&log->not_empty, &log->lock, &until) == ETIMEDOUT)
            break;
    }
    log->gathering = false;
}

static size_t lines_in(const char *bytes, size_t length)
{
    size_t lines = 0;
    for (const char *p = bytes, *end = bytes + length; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
        lines++;
    return lines;
}

/* Writes the batch; what cannot be written (a full disk, a closed pipe) is counted as
** dropped, and said once on stderr until a write succeeds again. Runs outside the lock. */
static void write_batch(serve_log *log, const serve_log_buffer *batch)
{
    size_t done = 0;
    while (done < batch->length) {
        ssize_t n = write(log->fd, batch->bytes + done, batch->length - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int error = n < 0 ? errno : EIO;
            size_t lost = lines_in(batch->bytes + done, batch->length - done);
            atomic_fetch_add(log->dropped, (uint64_t)lost);
            if (!log->failing)
                fprintf(stderr, "warden serve: decision log: write failed (%s): %zu lines lost, counted in "
                                "warden_decision_log_dropped_total\n", strerror(error), lost);
            log->failing = true;
            return;
        }
        done += (size_t)n;
    }
    log->failing = false;
}

static void *write_lines(void *arg)
{
    serve_log *log = arg;
    (void)pthread_setname_np(pthread_self(), "warden-log"); /* for top -H, perf and the tests */
    lower_priority(log->block);
    pthread_mutex_lock(&log->lock);
    for (;;) {
        while (log->queue.lines == 0 && !log->stopping) {
            log->idle = true;
            pthread_cond_wait(&log->not_empty, &log->lock);
            log->idle = false;
        }
        if (log->queue.lines == 0 && log->stopping)
            break;
        gather(log);
        /* take the queue: the workers go on with the empty spare */
        assert(log->spare.length == 0 && log->spare.lines == 0);
        serve_log_buffer batch = log->queue;
        log->queue = log->spare;
        log->spare = (serve_log_buffer){ 0 };
        pthread_cond_broadcast(&log->not_full);
        pthread_mutex_unlock(&log->lock);
        write_batch(log, &batch);
        if (batch.size > SERVE_LOG_KEEP_BYTES && batch.length < batch.size / 4) {
            free(batch.bytes);
            batch = (serve_log_buffer){ 0 };
        }
        batch.length = 0;
        batch.lines = 0;
        pthread_mutex_lock(&log->lock);
        log->spare = batch;
    }
    pthread_mutex_unlock(&log->lock);
    return NULL;
}

int serve_log_start(serve_log *log, const char *path, size_t capacity, int flush_ms, bool block,
                    _Atomic uint64_t *dropped, char *message, size_t size)
{
    memset(log, 0, sizeof *log);
    log->capacity = capacity > 0 ? capacity : 1;
    log->flush_ms = flush_ms > 0 ? flush_ms : 0;
    log->block = block;
    log->dropped = dropped;
    log->fd = strcmp(path, "-") == 0 ? STDOUT_FILENO : open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (log->fd < 0) {
        snprintf(message, size, "log.decisions: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_mutex_init(&log->lock, NULL);
    pthread_cond_init(&log->not_empty, &monotonic);
    pthread_cond_init(&log->not_full, NULL);
    pthread_condattr_destroy(&monotonic);
    if (pthread_create(&log->writer, NULL, write_lines, log) != 0) {
        snprintf(message, size, "log.decisions: cannot start the writer thread");
        if (log->fd != STDOUT_FILENO)
            close(log->fd);
        pthread_mutex_destroy(&log->lock);
        pthread_cond_destroy(&log->not_empty);
        pthread_cond_destroy(&log->not_full);
        return -1;
    }
    log->started = true;
    return 0;
}

bool serve_log_active(const serve_log *log)
{
    return log->started;
}

/* Room for length more bytes in buffer (doubling), or -1 when memory runs out. */
static int make_room(serve_log_buffer *buffer, size_t length)
{
    if (buffer->size - buffer->length >= length)
        return 0;
    size_t size = buffer->size > 0 ? buffer->size : 65536;
    while (size - buffer->length < length) {
        if (size > SIZE_MAX / 2)
            return -1;
        size *= 2;
    }
    char *bytes = realloc(buffer->bytes, size);
    if (bytes == NULL)
        return -1;
    buffer->bytes = bytes;
    buffer->size = size;
    return 0;
}

void serve_log_push(serve_log *log, const char *line, size_t length)
{
    if (!serve_log_active(log) || line == NULL)
        return;
    pthread_mutex_lock(&log->lock);
    while (log->queue.lines >= log->capacity && log->block && !log->stopping)
        pthread_cond_wait(&log->not_full, &log->lock);
    if (log->queue.lines >= log->capacity || log->stopping || make_room(&log->queue, length + 1) != 0) {
        pthread_mutex_unlock(&log->lock);
        atomic_fetch_add(log->dropped, 1);
        return;
    }
    memcpy(log->queue.bytes + log->queue.length, line, length);
    log->queue.bytes[log->queue.length + length] = '\n';
    log->queue.length += length + 1;
    log->queue.lines++;
    /* wake the writer for a first line, or when a batch must not wait for its time */
    if (log->idle || (log->gathering && log->queue.lines >= log->capacity / 2))
        pthread_cond_signal(&log->not_empty);
    pthread_mutex_unlock(&log->lock);
}

void serve_log_stop(serve_log *log)
{
    if (!serve_log_active(log))
        return;
    pthread_mutex_lock(&log->lock);
    log->stopping = true;
    pthread_cond_broadcast(&log->not_empty);
    pthread_cond_broadcast(&log->not_full);
    pthread_mutex_unlock(&log->lock);
    pthread_join(log->writer, NULL);
    free(log->queue.bytes);
    free(log->spare.bytes);
    log->queue = log->spare = (serve_log_buffer){ 0 };
    if (log->fd != STDOUT_FILENO)
        close(log->fd);
    log->fd = -1;
    pthread_mutex_destroy(&log->lock);
    pthread_cond_destroy(&log->not_empty);
    pthread_cond_destroy(&log->not_full);
    log->started = false;
}
