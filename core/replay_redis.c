/*
** replay_redis.c — the "redis" replay backend: replicas that share a Redis share the replay
** window. Each key is remembered with one atomic command, SET prefix+hex(key) 1 NX PX ttl:
** "OK" means it was fresh (and is now remembered until it expires), nil means another
** replica (or this one) already saw it. Redis expires the keys itself, so nothing here grows.
**
** Connections: one per calling thread (a thread-specific slot), made on first use with the
** configured timeout for connecting and for every command, and dropped after any failure so
** that the next message reconnects. Fail closed: no answer in time (Redis down, slow,
** unreachable) is WD_REPLAY_UNAVAILABLE and the message is rejected, never accepted unseen.
** Every connection is also on the backend's list, so destroying the backend frees the
** connections of threads that are still alive. A Redis is reached by host and port or by a
** unix socket (unix:///PATH); TLS (rediss://) is refused: Debian's hiredis has none.
**
** Back-off (a circuit breaker per thread, kept in the same slot): a Redis that hangs or is
** black-holed costs every message the whole timeout, so a worker would fall to 1000/timeout_ms
** messages a second with its clients queued behind it. One failure alone is taken for a blip
** and the next message reconnects. From the second failure in a row on, the thread does not
** try Redis again until a back-off has passed, and rejects the messages of that time at once
** (still UNAVAILABLE: fail closed); the first message after it is a probe, whose success ends
** the back-off and whose failure doubles it. The back-off starts at the larger of 100 ms and
** the timeout and ends at the larger of 1 s and 4 timeouts, so that probing a hung Redis
** costs a worker at most half of its time at first and a fifth once backed off fully. Times
** come from CLOCK_MONOTONIC, which a wall clock step cannot move. Each thread backs off by
** itself (no shared state, no lock): a thread that has not yet failed still tries at once.
*/
#include "replay_cache.h"

#include <hiredis.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../include/warden.h"
#include "invariant.h"

#define BACKOFF_FIRST_MS    100  /* or the timeout, if longer */
#define BACKOFF_LONGEST_MS  1000 /* or 4 timeouts, if longer */
#define BACKOFF_TIMEOUTS    4

typedef struct redis_backend redis_backend;

typedef struct connection {
    redis_backend     *owner;
    redisContext      *context;   /* NULL until connected, and after a failure */
    unsigned           failures;  /* failures in a row; 0 after an answer */
    int64_t            retry_at;  /* with failures >= 2: CLOCK_MONOTONIC ms before which Redis
                                  ** is not tried */
    struct connection *next;      /* on owner->connections */
} connection;

struct redis_backend {
    char            socket_path[108]; /* a unix socket (sun_path's size), or "" for host and port */
    char            host[256];
    int             port;
    int             database;
    char            password[256]; /* "" for none */
    char            prefix[128];
    struct timeval  timeout;
    int64_t         backoff_first_ms;   /* after the second failure in a row */
    int64_t         backoff_longest_ms; /* doubling stops here */
    pthread_key_t   slot;          /* this thread's connection */
    pthread_mutex_t lock;          /* guards connections */
    connection     *connections;
};

static void connection_free(connection *c)
{
    if (c->context != NULL)
        redisFree(c->context);
    free(c);
}

/* A thread ends: its connection goes (the backend, which outlives its threads' use, is
** still there; pthread_key_delete in destroy keeps this from running after it). */
static void thread_exit(void *opaque)
{
    connection *c = opaque;
    redis_backend *backend = c->owner;
    pthread_mutex_lock(&backend->lock);
    for (connection **p = &backend->connections; *p != NULL; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    pthread_mutex_unlock(&backend->lock);
    connection_free(c);
}

static bool connect_to_redis(redis_backend *backend, connection *c)
{
    c->context = backend->socket_path[0] != '\0'
                     ? redisConnectUnixWithTimeout(backend->socket_path, backend->timeout)
                     : redisConnectWithTimeout(backend->host, backend->port, backend->timeout);
    if (c->context == NULL || c->context->err != 0 || redisSetTimeout(c->context, backend->timeout) != REDIS_OK)
        goto failed;
    if (backend->password[0] != '\0') {
        redisReply *reply = redisCommand(c->context, "AUTH %s", backend->password);
        bool ok = reply != NULL && reply->type == REDIS_REPLY_STATUS;
        freeReplyObject(reply);
        if (!ok)
            goto failed;
    }
    if (backend->database != 0) {
        redisReply *reply = redisCommand(c->context, "SELECT %d", backend->database);
        bool ok = reply != NULL && reply->type == REDIS_REPLY_STATUS;
        freeReplyObject(reply);
        if (!ok)
            goto failed;
    }
    return true;
failed:
    if (c->context != NULL)
        redisFree(c->context);
    c->context = NULL;
    return false;
}

static int64_t monotonic_ms(void)
{
    struct timespec now;
    /* cannot fail with CLOCK_MONOTONIC on Linux; if it did, 0 keeps a back-off on (fail closed) */
    if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
        return 0;
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* The back-off after `failures` (>= 2) failures in a row: the first one, doubled per further
** failure, up to the longest. */
static int64_t backoff_ms(const redis_backend *backend, unsigned failures)
{
    int64_t delay = backend->backoff_first_ms;
    WD_ASSERT(failures >= 2);
    for (unsigned i = 2; i < failures && delay < backend->backoff_longest_ms; i++)
        delay *= 2;
    return delay < backend->backoff_longest_ms ? delay : backend->backoff_longest_ms;
}

/* An attempt failed (what says how): the connection goes, since a timeout leaves it out of step
** with its replies, and from the second failure in a row the thread backs off. */
static void attempt_failed(redis_backend *backend, connection *c, const char *what, char *why, size_t why_size)
{
    if (c->context != NULL)
        redisFree(c->context);
    c->context = NULL;
    if (c->failures < UINT_MAX)
        c->failures++;
    if (c->failures < 2) {
        snprintf(why, why_size, "%s", what);
        return;
    }
    /* timed from the end of this attempt, which may itself have taken the whole timeout */
    int64_t delay = backoff_ms(backend, c->failures);
    c->retry_at = monotonic_ms() + delay;
    snprintf(why, why_size, "%s (%u failures in a row: backed off, tried again in %lld ms)", what, c->failures,
             (long long)delay);
}

/* Redis answered: whatever failed before was passing. */
static void attempt_answered(connection *c)
{
    c->failures = 0;
    c->retry_at = 0;
}

static connection *this_thread(redis_backend *backend)
{
    connection *c = pthread_getspecific(backend->slot);
    if (c != NULL)
        return c;
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->owner = backend;
    if (pthread_setspecific(backend->slot, c) != 0) {
        free(c);
        return NULL;
    }
    pthread_mutex_lock(&backend->lock);
    c->next = backend->connections;
    backend->connections = c;
    pthread_mutex_unlock(&backend->lock);
    return c;
}

static wd_replay_verdict redis_remember(void *self, const unsigned char key[32], int64_t expires_at, int64_t now,
                                        char *why, size_t why_size)
{
    redis_backend *backend = self;
    static const char hex[] = "0123456789abcdef";
    char name[32 * 2];
    long long ttl_ms = expires_at > now ? (long long)(expires_at - now) * 1000 : 1000;

    for (int i = 0; i < 32; i++) {
        name[2 * i] = hex[key[i] >> 4];
        name[2 * i + 1] = hex[key[i] & 15];
    }
    connection *c = this_thread(backend);
    if (c == NULL)
        return WD_REPLAY_ERROR;
    if (c->failures >= 2) {
        /* backed off: refuse now rather than spend a timeout on a Redis that just failed twice */
        int64_t wait = c->retry_at - monotonic_ms();
        if (wait > 0) {
            snprintf(why, why_size, "(Redis) is backed off after %u failures in a row; it is tried again in %lld ms",
                     c->failures, (long long)wait);
            return WD_REPLAY_UNAVAILABLE;
        }
        WD_ASSERT(c->context == NULL); /* the probe connects afresh */
    }
    if (c->context == NULL && !connect_to_redis(backend, c)) {
        attempt_failed(backend, c, "(Redis) could not be reached", why, why_size);
        return WD_REPLAY_UNAVAILABLE;
    }
    redisReply *reply = redisCommand(c->context, "SET %s%b 1 NX PX %lld", backend->prefix, name, sizeof name, ttl_ms);
    wd_replay_verdict verdict = WD_REPLAY_UNAVAILABLE;
    if (reply != NULL && reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "OK") == 0)
        verdict = WD_REPLAY_FRESH;
    else if (reply != NULL && reply->type == REDIS_REPLY_NIL)
        verdict = WD_REPLAY_SEEN;
    if (verdict != WD_REPLAY_UNAVAILABLE)
        attempt_answered(c);
    else if (reply == NULL)
        attempt_failed(backend, c, "(Redis) did not answer in time or dropped the connection", why, why_size);
    else /* an error (MOVED, READONLY, OOM...): not shown, it may name internal addresses */
        attempt_failed(backend, c, "(Redis) answered with an error", why, why_size);
    freeReplyObject(reply);
    return verdict;
}

static void redis_destroy(void *self)
{
    redis_backend *backend = self;
    pthread_key_delete(backend->slot);
    while (backend->connections != NULL) {
        connection *c = backend->connections;
        backend->connections = c->next;
        connection_free(c);
    }
    pthread_mutex_destroy(&backend->lock);
    free(backend);
}

#define URL_FORMS "redis://[:PASSWORD@]HOST[:PORT][/DB] or unix://[:PASSWORD@]/PATH[?db=DB]"

/* unix://[:PASSWORD@]/PATH[?db=DB] (the form of redis-py), or unix:/PATH: a Redis on this host
** (or in this pod) through its unix socket. p is past "unix:". */
static int parse_unix_url(const char *p, redis_backend *backend)
{
    if (strncmp(p, "//", 2) == 0) {
        p += 2;
        if (*p == ':') {
            const char *at = strchr(p, '@');
            if (at == NULL || (size_t)(at - p - 1) >= sizeof backend->password)
                return -1;
            memcpy(backend->password, p + 1, (size_t)(at - p - 1));
            backend->password[at - p - 1] = '\0';
            p = at + 1;
        }
    }
    size_t length = strcspn(p, "?");
    if (p[0] != '/' || length >= sizeof backend->socket_path)
        return -1;
    memcpy(backend->socket_path, p, length);
    backend->socket_path[length] = '\0';
    p += length;
    if (*p == '\0')
        return 0;
    if (strncmp(p, "?db=", 4) != 0)
        return -1;
    char *end = NULL;
    long db = strtol(p + 4, &end, 10);
    if (end == p + 4 || *end != '\0' || db < 0 || db > 1000000)
        return -1;
    backend->database = (int)db;
    return 0;
}

/* redis://[:PASSWORD@]HOST[:PORT][/DB] or a unix socket (parse_unix_url) */
static int parse_url(const char *url, redis_backend *backend, char *message, size_t size)
{
    const char *p = url;
    if (strncmp(p, "rediss://", 9) == 0) {
        /* Debian's hiredis (0.14) has no TLS: say so rather than talk plain text to a TLS port */
        snprintf(message, size, "replay.url: rediss:// (TLS) is not supported by this build; reach Redis through "
                                "a local TLS tunnel (stunnel, a sidecar) and give its address as redis:// or unix:");
        return -1;
    }
    if (strncmp(p, "unix:", 5) == 0) {
        if (parse_unix_url(p + 5, backend) == 0)
            return 0;
        goto bad;
    }
    if (strncmp(p, "redis://", 8) != 0) {
        snprintf(message, size, "replay.url: expected " URL_FORMS ", got %.200s", url);
        return -1;
    }
    p += 8;
    const char *at = strchr(p, '@');
    if (at != NULL) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *secret = colon != NULL ? colon + 1 : p;
        if ((size_t)(at - secret) >= sizeof backend->password)
            goto bad;
        memcpy(backend->password, secret, (size_t)(at - secret));
        backend->password[at - secret] = '\0';
        p = at + 1;
    }
    size_t host_length = strcspn(p, ":/");
    if (host_length == 0 || host_length >= sizeof backend->host)
        goto bad;
    memcpy(backend->host, p, host_length);
    backend->host[host_length] = '\0';
    p += host_length;
    backend->port = 6379;
    if (*p == ':') {
        char *end = NULL;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port < 1 || port > 65535)
            goto bad;
        backend->port = (int)port;
        p = end;
    }
    if (*p == '/' && p[1] != '\0') {
        char *end = NULL;
        long db = strtol(p + 1, &end, 10);
        if (*end != '\0' || db < 0 || db > 1000000)
            goto bad;
        backend->database = (int)db;
    } else if (*p != '\0' && strcmp(p, "/") != 0) {
        goto bad;
    }
    return 0;
bad:
    snprintf(message, size, "replay.url: cannot read %.200s (expected " URL_FORMS ")", url);
    return -1;
}

int wd_replay_cache_new_redis(const char *url, const char *prefix, int timeout_ms, wd_replay_cache **out,
                              char *message, size_t message_size)
{
    redis_backend *backend = calloc(1, sizeof *backend);
    if (backend == NULL)
        return WARDEN_E_NOMEM;
    if (parse_url(url != NULL ? url : "redis://127.0.0.1:6379/0", backend, message, message_size) != 0) {
        free(backend);
        return WARDEN_E_INVALID_ARG;
    }
    snprintf(backend->prefix, sizeof backend->prefix, "%s", prefix != NULL ? prefix : "warden:");
    if (timeout_ms < 1)
        timeout_ms = 1;
    backend->timeout.tv_sec = timeout_ms / 1000;
    backend->timeout.tv_usec = (timeout_ms % 1000) * 1000;
    backend->backoff_first_ms = timeout_ms > BACKOFF_FIRST_MS ? timeout_ms : BACKOFF_FIRST_MS;
    backend->backoff_longest_ms = (int64_t)timeout_ms * BACKOFF_TIMEOUTS > BACKOFF_LONGEST_MS
                                      ? (int64_t)timeout_ms * BACKOFF_TIMEOUTS
                                      : BACKOFF_LONGEST_MS;
    if (pthread_key_create(&backend->slot, thread_exit) != 0) {
        free(backend);
        return WARDEN_E_NOMEM;
    }
    pthread_mutex_init(&backend->lock, NULL);
    static const wd_replay_backend functions = { redis_remember, redis_destroy };
    return wd_replay_cache_new_backend(&functions, backend, out);
}
