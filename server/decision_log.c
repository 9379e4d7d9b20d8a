/*
** decision_log.c — the bounded queue between the workers and the decision log's writer
** thread (a chain of blocks of whole lines under one mutex), and the writer: it takes the whole
** chain at once, writes it outside the lock, and waits for the next batch (decision_log.h says
** when it wakes). The writer runs below the workers' priority (lower_priority) so that its
** batch never delays a request.
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
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Lines are copied into blocks of this size (a longer line gets a block of its own); the
** writer keeps up to SERVE_LOG_REUSE emptied blocks for the workers, and frees the rest, so a
** burst's memory goes back once it is written. */
#define SERVE_LOG_BLOCK (64u << 10)
#define SERVE_LOG_REUSE 16

/* The most one write system call takes. A buffered write into a file of ext4 runs in the kernel
** without yielding, SCHED_IDLE or not: a worker woken meanwhile waits for it to return. At
** 500 KB (a 100 ms batch at 10,000 decisions a second) that held a request up for a millisecond
** and put the decision log's p99 at +80% in bench/serve.sh; a page at a time it waits for one
** page's copy at most. The system calls this adds are a few thousand a second at full load. */
#define SERVE_LOG_WRITE_BYTES (4u << 10)

struct serve_log_block {
    serve_log_block *next;
    size_t           length, size;
    char             bytes[];
};

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

/* Whether the gathering batch is complete before its time: a block is full (a later line
** started another) or the queue is half full. Under the lock. */
static size_t half_queue(const serve_log *log)
{
    return log->capacity / 2 > 0 ? log->capacity / 2 : 1;
}

static bool batch_complete(const serve_log *log)
{
    return log->first != log->last || log->lines >= half_queue(log);
}

/* Waits on not_empty until a batch has gathered for flush_ms, is complete or the log stops.
** A batch is at most about a block: written at once, a busy second's lines (megabytes) took
** the core for milliseconds in bursts, and a request that came meanwhile waited (the
** throughput run's p99 in bench/serve.sh); a block at a time the work comes in small pieces. */
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
    while (!log->stopping && !batch_complete(log)) {
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

/* Lines of the chain from block on, skipping the first done bytes of it. */
static size_t lines_from(const serve_log_block *block, size_t done)
{
    size_t lines = 0;
    for (; block != NULL; block = block->next, done = 0)
        lines += lines_in(block->bytes + done, block->length - done);
    return lines;
}

/* Writes the chain, SERVE_LOG_WRITE_BYTES per writev; what cannot be written (a full disk, a
** closed pipe) is counted as dropped, and said once on stderr until a write succeeds again.
** Runs outside the lock. */
static void write_batch(serve_log *log, const serve_log_block *batch)
{
    const serve_log_block *block = batch;
    size_t done = 0; /* bytes of block already written */
    while (block != NULL) {
        struct iovec parts[8];
        int count = 0;
        size_t skip = done, room = SERVE_LOG_WRITE_BYTES;
        for (const serve_log_block *b = block; b != NULL && count < 8 && room > 0; b = b->next, skip = 0) {
            size_t length = b->length - skip < room ? b->length - skip : room;
            parts[count++] = (struct iovec){ .iov_base = (char *)b->bytes + skip, .iov_len = length };
            room -= length;
        }
        ssize_t n = writev(log->fd, parts, count);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int error = n < 0 ? errno : EIO;
            size_t lost = lines_from(block, done);
            atomic_fetch_add(log->dropped, (uint64_t)lost);
            if (!log->failing)
                fprintf(stderr, "warden serve: decision log: write failed (%s): %zu lines lost, counted in "
                                "warden_decision_log_dropped_total\n", strerror(error), lost);
            log->failing = true;
            return;
        }
        /* step past what was written */
        size_t written = (size_t)n;
        while (block != NULL && written >= block->length - done) {
            written -= block->length - done;
            block = block->next;
            done = 0;
        }
        done += written;
        /* a worker that became runnable meanwhile without preempting this thread (a busy
        ** core's scheduler may still pick it once in a while) runs before the next page */
        if (block != NULL)
            sched_yield();
    }
    log->failing = false;
}

/* Gives emptied blocks back: a few are kept for the workers, the rest freed. Under the lock. */
static void recycle(serve_log *log, serve_log_block *batch)
{
    while (batch != NULL) {
        serve_log_block *next = batch->next;
        if (batch->size == SERVE_LOG_BLOCK && log->reuse_count < SERVE_LOG_REUSE) {
            batch->length = 0;
            batch->next = log->reuse;
            log->reuse = batch;
            log->reuse_count++;
        } else {
            free(batch);
        }
        batch = next;
    }
}

static void *write_lines(void *arg)
{
    serve_log *log = arg;
    (void)pthread_setname_np(pthread_self(), "warden-log"); /* for top -H, perf and the tests */
    lower_priority(log->block);
    pthread_mutex_lock(&log->lock);
    for (;;) {
        while (log->lines == 0 && !log->stopping) {
            log->idle = true;
            pthread_cond_wait(&log->not_empty, &log->lock);
            log->idle = false;
        }
        if (log->lines == 0 && log->stopping)
            break;
        gather(log);
        /* take the queue: the workers go on with an empty one */
        serve_log_block *batch = log->first;
        log->first = log->last = NULL;
        log->lines = 0;
        pthread_cond_broadcast(&log->not_full);
        pthread_mutex_unlock(&log->lock);
        write_batch(log, batch);
        pthread_mutex_lock(&log->lock);
        recycle(log, batch);
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

/* The block the next length bytes go to (a new one when the last is full), or NULL when
** memory runs out. Under the lock. */
static serve_log_block *room_for(serve_log *log, size_t length)
{
    if (log->last != NULL && log->last->size - log->last->length >= length)
        return log->last;
    serve_log_block *block;
    if (length <= SERVE_LOG_BLOCK && log->reuse != NULL) {
        block = log->reuse;
        log->reuse = block->next;
        log->reuse_count--;
    } else {
        size_t size = length > SERVE_LOG_BLOCK ? length : SERVE_LOG_BLOCK;
        block = malloc(sizeof *block + size);
        if (block == NULL)
            return NULL;
        block->size = size;
    }
    block->next = NULL;
    block->length = 0;
    if (log->last != NULL)
        log->last->next = block;
    else
        log->first = block;
    log->last = block;
    return block;
}

void serve_log_push(serve_log *log, const char *line, size_t length)
{
    if (!serve_log_active(log) || line == NULL)
        return;
    pthread_mutex_lock(&log->lock);
    while (log->lines >= log->capacity && log->block && !log->stopping)
        pthread_cond_wait(&log->not_full, &log->lock);
    serve_log_block *block = NULL, *last_before = log->last;
    if (log->lines >= log->capacity || log->stopping || (block = room_for(log, length + 1)) == NULL) {
        pthread_mutex_unlock(&log->lock);
        atomic_fetch_add(log->dropped, 1);
        return;
    }
    memcpy(block->bytes + block->length, line, length);
    block->bytes[block->length + length] = '\n';
    block->length += length + 1;
    log->lines++;
    /* wake the writer for a first line, or when this line completes a gathering batch before
    ** its time (batch_complete): it started a block after the first, or brought the queue to
    ** half full. At those moments only, not for every line after them: the writer takes the
    ** whole chain when it runs, and a worker pays no wakeup per line meanwhile. */
    bool completes = (block != last_before && block != log->first) || log->lines == half_queue(log);
    if (log->idle || (log->gathering && completes))
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
    recycle(log, log->first); /* empty: the writer wrote everything before it stopped */
    log->first = log->last = NULL;
    while (log->reuse != NULL) {
        serve_log_block *next = log->reuse->next;
        free(log->reuse);
        log->reuse = next;
    }
    log->reuse_count = 0;
    if (log->fd != STDOUT_FILENO)
        close(log->fd);
    log->fd = -1;
    pthread_mutex_destroy(&log->lock);
    pthread_cond_destroy(&log->not_empty);
    pthread_cond_destroy(&log->not_full);
    log->started = false;
}
