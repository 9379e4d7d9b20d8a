/*
** test_replay_redis.c — the "redis" replay backend's back-off (core/replay_redis.c) against a
** black hole: a listener on loopback that accepts TCP connections and never answers, as a
** hung Redis or a proxy in front of a dead one does (or, as a replica does after a failover, answers
** every command with an error). Outcomes only (verdicts, the detail
** clause, how many connections were made), never how long anything took.
*/
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/replay_cache.h"
#include "include/warden.h"
#include "test_run.h"

#define NOW            1795608030 /* 2026-11-25T12:00:30Z */
#define MAX_HELD       64
/* Long, so that the messages after the second failure arrive well within the first back-off
** (which is never shorter than the timeout) even on a loaded machine. */
#define TIMEOUT_MS     1000

typedef struct black_hole {
    int             listener;
    int             port;
    pthread_t       thread;
    pthread_mutex_t lock;
    bool            stop;
    int             accepted;          /* guarded by lock */
    int             held[MAX_HELD];    /* kept open, never read or answered */
    int             held_count;
    const char     *error_reply;       /* when set, written to each connection as it is accepted */
} black_hole;

static bool accept_one(black_hole *hole)
{
    int fd = accept(hole->listener, NULL, NULL);
    if (fd < 0)
        return false;
    if (hole->error_reply != NULL)
        (void)!write(fd, hole->error_reply, strlen(hole->error_reply));
    pthread_mutex_lock(&hole->lock);
    hole->accepted++;
    if (hole->held_count < MAX_HELD)
        hole->held[hole->held_count++] = fd;
    else
        close(fd);
    pthread_mutex_unlock(&hole->lock);
    return true;
}

static void *black_hole_run(void *opaque)
{
    black_hole *hole = opaque;
    for (;;) {
        pthread_mutex_lock(&hole->lock);
        bool stop = hole->stop;
        pthread_mutex_unlock(&hole->lock);
        if (stop)
            break;
        struct pollfd pfd = { .fd = hole->listener, .events = POLLIN };
        if (poll(&pfd, 1, 20) > 0)
            accept_one(hole);
    }
    /* every connection the kernel completed is counted, even one not yet accepted */
    while (accept_one(hole))
        ;
    return NULL;
}

static void black_hole_start_answering(black_hole *hole, const char *error_reply)
{
    memset(hole, 0, sizeof *hole);
    hole->error_reply = error_reply;
    pthread_mutex_init(&hole->lock, NULL);
    hole->listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ck_assert_int_ge(hole->listener, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t          length = sizeof address;
    ck_assert_int_eq(bind(hole->listener, (struct sockaddr *)&address, sizeof address), 0);
    ck_assert_int_eq(listen(hole->listener, 64), 0);
    ck_assert_int_eq(getsockname(hole->listener, (struct sockaddr *)&address, &length), 0);
    hole->port = ntohs(address.sin_port);
    ck_assert_int_eq(pthread_create(&hole->thread, NULL, black_hole_run, hole), 0);
}

static void black_hole_start(black_hole *hole)
{
    black_hole_start_answering(hole, NULL);
}

/* Stops accepting and returns how many connections were made to it. */
static int black_hole_stop(black_hole *hole)
{
    pthread_mutex_lock(&hole->lock);
    hole->stop = true;
    pthread_mutex_unlock(&hole->lock);
    ck_assert_int_eq(pthread_join(hole->thread, NULL), 0);
    for (int i = 0; i < hole->held_count; i++)
        close(hole->held[i]);
    close(hole->listener);
    pthread_mutex_destroy(&hole->lock);
    return hole->accepted;
}

static wd_replay_cache *cache_at(int port)
{
    char             url[64], message[256] = "";
    wd_replay_cache *cache = NULL;
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", port);
    ck_assert_msg(wd_replay_cache_new_redis(url, "warden:test:", TIMEOUT_MS, &cache, message, sizeof message)
                      == WARDEN_OK, "%s", message);
    return cache;
}

static wd_replay_verdict remember(wd_replay_cache *cache, int number, char *why, size_t why_size)
{
    char value[32];
    snprintf(value, sizeof value, "nonce-%d", number);
    return wd_replay_cache_remember(cache, "nonce", value, strlen(value), NOW + 300, NOW, why, why_size);
}

/* A hung Redis: the first failure is a blip (the next message tries again), the second starts
** a back-off in which messages are refused at once, so ten messages sent back to back make
** two connections (three if the machine stalls past the first back-off), not ten. */
START_TEST(a_hung_redis_is_backed_off_after_two_failures)
{
    black_hole hole;
    black_hole_start(&hole);
    wd_replay_cache *cache = cache_at(hole.port);
    char             why[160];

    ck_assert_int_eq(remember(cache, 1, why, sizeof why), WD_REPLAY_UNAVAILABLE);
    ck_assert_msg(strstr(why, "did not answer") != NULL && strstr(why, "backed off") == NULL, "%s", why);
    ck_assert_int_eq(remember(cache, 2, why, sizeof why), WD_REPLAY_UNAVAILABLE);
    ck_assert_msg(strstr(why, "2 failures in a row: backed off, tried again in") != NULL, "%s", why);
    for (int i = 3; i <= 10; i++) {
        ck_assert_int_eq(remember(cache, i, why, sizeof why), WD_REPLAY_UNAVAILABLE);
        ck_assert_msg(strstr(why, "backed off") != NULL && strstr(why, "tried again in") != NULL, "%s", why);
    }
    wd_replay_cache_free(cache);
    int connections = black_hole_stop(&hole);
    ck_assert_int_ge(connections, 2);
    ck_assert_int_le(connections, 3);
}
END_TEST

/* Back-off is per thread: a thread that has not failed still tries Redis, and is refused
** only after failing twice itself. */
typedef struct thread_result {
    wd_replay_cache  *cache;
    wd_replay_verdict first;
    char              why[160];
} thread_result;

static void *remember_once(void *opaque)
{
    thread_result *result = opaque;
    result->first = remember(result->cache, 100, result->why, sizeof result->why);
    return NULL;
}

START_TEST(another_thread_is_not_backed_off_by_this_ones_failures)
{
    black_hole hole;
    black_hole_start(&hole);
    wd_replay_cache *cache = cache_at(hole.port);
    char             why[160];

    ck_assert_int_eq(remember(cache, 1, why, sizeof why), WD_REPLAY_UNAVAILABLE);
    ck_assert_int_eq(remember(cache, 2, why, sizeof why), WD_REPLAY_UNAVAILABLE);
    ck_assert_int_eq(remember(cache, 3, why, sizeof why), WD_REPLAY_UNAVAILABLE);
    ck_assert_msg(strstr(why, "backed off") != NULL, "%s", why);

    thread_result result = { .cache = cache };
    pthread_t     thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, remember_once, &result), 0);
    ck_assert_int_eq(pthread_join(thread, NULL), 0);
    ck_assert_int_eq(result.first, WD_REPLAY_UNAVAILABLE);
    /* it tried (and failed once: a blip, no back-off of its own yet) */
    ck_assert_msg(strstr(result.why, "did not answer") != NULL && strstr(result.why, "backed off") == NULL, "%s",
                  result.why);

    wd_replay_cache_free(cache);
    int connections = black_hole_stop(&hole);
    ck_assert_int_ge(connections, 3);
    ck_assert_int_le(connections, 4);
}
END_TEST

/* A refused connection fails at once and counts like any other failure. */
START_TEST(a_refused_connection_is_backed_off_too)
{
    black_hole hole;
    black_hole_start(&hole);
    int port = hole.port;
    black_hole_stop(&hole); /* nothing listens there now: refused */
    wd_replay_cache *cache = cache_at(port);
    char             why[160];

    ck_assert_int_eq(remember(cache, 1, why, sizeof why), WD_REPLAY_UNAVAILABLE);
    ck_assert_msg(strstr(why, "could not be reached") != NULL, "%s", why);
    ck_assert_int_eq(remember(cache, 2, why, sizeof why), WD_REPLAY_UNAVAILABLE);
    ck_assert_msg(strstr(why, "could not be reached (2 failures in a row: backed off") != NULL, "%s", why);
    /* refused at once, with when Redis is tried next (not a second connection attempt) */
    ck_assert_int_eq(remember(cache, 3, why, sizeof why), WD_REPLAY_UNAVAILABLE);
    ck_assert_msg(strstr(why, "backed off") != NULL && strstr(why, "tried again in") != NULL, "%s", why);
    wd_replay_cache_free(cache);
}
END_TEST

/* A Redis that answers with an error (a replica after a failover: READONLY) fails like one
** that does not answer, and its error text, which can name internal addresses, is not passed on. */
START_TEST(an_error_reply_fails_closed_without_its_text_and_is_backed_off)
{
    black_hole hole;
    black_hole_start_answering(&hole, "-READONLY You can't write against a read only replica 10.0.0.7:6379.\r\n");
    wd_replay_cache *cache = cache_at(hole.port);
    char             why[160];

    ck_assert_int_eq(remember(cache, 1, why, sizeof why), WD_REPLAY_UNAVAILABLE);
    ck_assert_msg(strstr(why, "answered with an error") != NULL && strstr(why, "backed off") == NULL, "%s", why);
    ck_assert_msg(strstr(why, "READONLY") == NULL && strstr(why, "10.0.0.7") == NULL, "%s", why);
    ck_assert_int_eq(remember(cache, 2, why, sizeof why), WD_REPLAY_UNAVAILABLE);
    ck_assert_msg(strstr(why, "answered with an error (2 failures in a row: backed off") != NULL, "%s", why);
    ck_assert_int_eq(remember(cache, 3, why, sizeof why), WD_REPLAY_UNAVAILABLE);
    ck_assert_msg(strstr(why, "backed off") != NULL && strstr(why, "tried again in") != NULL, "%s", why);
    wd_replay_cache_free(cache);
    int connections = black_hole_stop(&hole);
    ck_assert_int_ge(connections, 2);
    ck_assert_int_le(connections, 3);
}
END_TEST

static Suite *replay_redis_suite(void)
{
    Suite *suite = suite_create("replay_redis");
    TCase *backoff = tcase_create("backoff");
    tcase_set_timeout(backoff, 120);
    tcase_add_test(backoff, a_hung_redis_is_backed_off_after_two_failures);
    tcase_add_test(backoff, another_thread_is_not_backed_off_by_this_ones_failures);
    tcase_add_test(backoff, a_refused_connection_is_backed_off_too);
    tcase_add_test(backoff, an_error_reply_fails_closed_without_its_text_and_is_backed_off);
    suite_add_tcase(suite, backoff);
    return suite;
}

int main(void)
{
    return tr_run_suite(replay_redis_suite());
}
