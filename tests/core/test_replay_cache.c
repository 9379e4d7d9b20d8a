/*
** test_replay_cache.c — the replay cache front and its memory and none backends
** (core/replay_cache.c).
*/
#include <check.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/replay_cache.h"
#include "include/warden.h"
#include "test_run.h"

#define NOW 1795608030 /* 2026-11-25T12:00:30Z */

static wd_replay_cache *new_memory(size_t entries)
{
    wd_replay_cache *cache = NULL;
    ck_assert_int_eq(wd_replay_cache_new_memory(entries, &cache), WARDEN_OK);
    ck_assert_ptr_nonnull(cache);
    return cache;
}

static wd_replay_verdict remember_text(wd_replay_cache *cache, const char *value, int64_t expires_at, int64_t now)
{
    return wd_replay_cache_remember(cache, "nonce", value, strlen(value), expires_at, now, NULL, 0);
}

static wd_replay_verdict remember_number(wd_replay_cache *cache, int number, int64_t expires_at, int64_t now)
{
    char value[32];
    snprintf(value, sizeof value, "value-%d", number);
    return remember_text(cache, value, expires_at, now);
}

/* ---- memory backend --------------------------------------------------------------------- */

START_TEST(first_sight_is_fresh_and_the_second_is_seen)
{
    wd_replay_cache *cache = new_memory(16);
    ck_assert_int_eq(remember_text(cache, "abc", NOW + 300, NOW), WD_REPLAY_FRESH);
    ck_assert_int_eq(remember_text(cache, "abc", NOW + 300, NOW + 1), WD_REPLAY_SEEN);
    ck_assert_int_eq(remember_text(cache, "abd", NOW + 300, NOW + 1), WD_REPLAY_FRESH);
    ck_assert_uint_eq(wd_replay_cache_size(cache), 2);
    wd_replay_cache_free(cache);
}
END_TEST

START_TEST(kinds_never_collide)
{
    wd_replay_cache *cache = new_memory(16);
    ck_assert_int_eq(wd_replay_cache_remember(cache, "nonce", "abc", 3, NOW + 300, NOW, NULL, 0), WD_REPLAY_FRESH);
    ck_assert_int_eq(wd_replay_cache_remember(cache, "signature", "abc", 3, NOW + 300, NOW, NULL, 0), WD_REPLAY_FRESH);
    /* kind ‖ 0 ‖ value: "no" + "nceabc" is not "nonce" + "abc". */
    ck_assert_int_eq(wd_replay_cache_remember(cache, "no", "nceabc", 6, NOW + 300, NOW, NULL, 0), WD_REPLAY_FRESH);
    ck_assert_int_eq(wd_replay_cache_remember(cache, "nonce", "abc", 3, NOW + 300, NOW, NULL, 0), WD_REPLAY_SEEN);
    wd_replay_cache_free(cache);
}
END_TEST

START_TEST(binary_and_empty_values_are_remembered)
{
    wd_replay_cache    *cache = new_memory(16);
    const unsigned char bytes[] = { 0, 1, 0, 2 };
    ck_assert_int_eq(wd_replay_cache_remember(cache, "nonce", bytes, 4, NOW + 10, NOW, NULL, 0), WD_REPLAY_FRESH);
    ck_assert_int_eq(wd_replay_cache_remember(cache, "nonce", bytes, 3, NOW + 10, NOW, NULL, 0), WD_REPLAY_FRESH);
    ck_assert_int_eq(wd_replay_cache_remember(cache, "nonce", bytes, 4, NOW + 10, NOW, NULL, 0), WD_REPLAY_SEEN);
    ck_assert_int_eq(wd_replay_cache_remember(cache, "nonce", NULL, 0, NOW + 10, NOW, NULL, 0), WD_REPLAY_FRESH);
    ck_assert_int_eq(wd_replay_cache_remember(cache, "nonce", "", 0, NOW + 10, NOW, NULL, 0), WD_REPLAY_SEEN);
    wd_replay_cache_free(cache);
}
END_TEST

START_TEST(entry_is_seen_through_its_expiry_second)
{
    wd_replay_cache *cache = new_memory(16);
    ck_assert_int_eq(remember_text(cache, "abc", NOW + 300, NOW), WD_REPLAY_FRESH);
    ck_assert_int_eq(remember_text(cache, "abc", NOW + 300, NOW + 300), WD_REPLAY_SEEN);
    wd_replay_cache_free(cache);
}
END_TEST

START_TEST(entry_is_fresh_again_after_expires_at)
{
    wd_replay_cache *cache = new_memory(16);
    ck_assert_int_eq(remember_text(cache, "abc", NOW + 300, NOW), WD_REPLAY_FRESH);
    ck_assert_int_eq(remember_text(cache, "abc", NOW + 900, NOW + 301), WD_REPLAY_FRESH);
    /* ... and remembered again, until its new expiry. */
    ck_assert_int_eq(remember_text(cache, "abc", NOW + 900, NOW + 899), WD_REPLAY_SEEN);
    ck_assert_uint_eq(wd_replay_cache_size(cache), 1);
    wd_replay_cache_free(cache);
}
END_TEST

START_TEST(full_cache_rejects_new_keys_and_keeps_the_old)
{
    wd_replay_cache *cache = new_memory(4);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(remember_number(cache, i, NOW + 100, NOW), WD_REPLAY_FRESH);
    ck_assert_int_eq(remember_number(cache, 4, NOW + 100, NOW), WD_REPLAY_FULL);
    ck_assert_int_eq(remember_number(cache, 5, NOW + 100, NOW + 50), WD_REPLAY_FULL);
    /* Never forgotten to make room: every old key is still a replay. */
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(remember_number(cache, i, NOW + 100, NOW + 100), WD_REPLAY_SEEN);
    ck_assert_uint_eq(wd_replay_cache_size(cache), 4);
    wd_replay_cache_free(cache);
}
END_TEST

START_TEST(full_cache_accepts_again_once_entries_expire)
{
    wd_replay_cache *cache = new_memory(4);
    ck_assert_int_eq(remember_number(cache, 0, NOW + 10, NOW), WD_REPLAY_FRESH);
    ck_assert_int_eq(remember_number(cache, 1, NOW + 10, NOW), WD_REPLAY_FRESH);
    ck_assert_int_eq(remember_number(cache, 2, NOW + 100, NOW), WD_REPLAY_FRESH);
    ck_assert_int_eq(remember_number(cache, 3, NOW + 100, NOW), WD_REPLAY_FRESH);
    ck_assert_int_eq(remember_number(cache, 4, NOW + 100, NOW + 10), WD_REPLAY_FULL);

    /* Two entries expire after NOW + 10: room for exactly two. */
    ck_assert_int_eq(remember_number(cache, 4, NOW + 100, NOW + 11), WD_REPLAY_FRESH);
    ck_assert_int_eq(remember_number(cache, 5, NOW + 100, NOW + 11), WD_REPLAY_FRESH);
    ck_assert_int_eq(remember_number(cache, 6, NOW + 100, NOW + 11), WD_REPLAY_FULL);
    ck_assert_uint_eq(wd_replay_cache_size(cache), 4);
    for (int i = 2; i <= 5; i++)
        ck_assert_int_eq(remember_number(cache, i, NOW + 100, NOW + 12), WD_REPLAY_SEEN);

    /* Everything expired: the whole capacity is available again. */
    for (int i = 10; i < 14; i++)
        ck_assert_int_eq(remember_number(cache, i, NOW + 1000, NOW + 101), WD_REPLAY_FRESH);
    ck_assert_int_eq(remember_number(cache, 14, NOW + 1000, NOW + 101), WD_REPLAY_FULL);
    wd_replay_cache_free(cache);
}
END_TEST

START_TEST(purging_keeps_every_live_entry_findable)
{
    /* Many rounds of expiring part of a full table: removals shift entries in the probe runs,
    ** and no live entry may get lost (which would let a replay through). */
    enum { CAPACITY = 500, ROUNDS = 30 };
    wd_replay_cache *cache = new_memory(CAPACITY);
    int64_t          expiry[CAPACITY];
    int              key_of[CAPACITY];
    int              next_key = 0;
    unsigned         random_state = 12345;

    for (int i = 0; i < CAPACITY; i++) {
        random_state = random_state * 1103515245u + 12345u;
        expiry[i] = NOW + 1 + (int64_t)(random_state >> 16) % ROUNDS;
        key_of[i] = next_key++;
        ck_assert_int_eq(remember_number(cache, key_of[i], expiry[i], NOW), WD_REPLAY_FRESH);
    }
    ck_assert_int_eq(remember_number(cache, next_key, NOW + 1000, NOW), WD_REPLAY_FULL);

    for (int64_t now = NOW + 1; now <= NOW + ROUNDS + 1; now++) {
        /* Refill every slot whose entry expired, with new keys. */
        for (int i = 0; i < CAPACITY; i++) {
            if (expiry[i] >= now)
                continue;
            random_state = random_state * 1103515245u + 12345u;
            expiry[i] = now + 1 + (int64_t)(random_state >> 16) % ROUNDS;
            key_of[i] = next_key++;
            ck_assert_int_eq(remember_number(cache, key_of[i], expiry[i], now), WD_REPLAY_FRESH);
        }
        ck_assert_int_eq(remember_number(cache, next_key, now + 1000, now), WD_REPLAY_FULL);
        for (int i = 0; i < CAPACITY; i++)
            ck_assert_int_eq(remember_number(cache, key_of[i], expiry[i], now), WD_REPLAY_SEEN);
    }
    ck_assert_uint_le(wd_replay_cache_size(cache), CAPACITY);
    wd_replay_cache_free(cache);
}
END_TEST

START_TEST(zero_entries_is_an_invalid_argument)
{
    wd_replay_cache *cache = (wd_replay_cache *)1;
    ck_assert_int_eq(wd_replay_cache_new_memory(0, &cache), WARDEN_E_INVALID_ARG);
    ck_assert_ptr_null(cache);
    ck_assert_int_eq(wd_replay_cache_new_memory(10, NULL), WARDEN_E_INVALID_ARG);
}
END_TEST

START_TEST(absurd_sizes_are_refused)
{
    wd_replay_cache *cache = NULL;
    ck_assert_int_eq(wd_replay_cache_new_memory(SIZE_MAX, &cache), WARDEN_E_NOMEM);
    ck_assert_ptr_null(cache);
}
END_TEST

START_TEST(misuse_is_an_error_verdict)
{
    wd_replay_cache *cache = new_memory(4);
    ck_assert_int_eq(wd_replay_cache_remember(NULL, "nonce", "abc", 3, NOW, NOW, NULL, 0), WD_REPLAY_ERROR);
    ck_assert_int_eq(wd_replay_cache_remember(cache, NULL, "abc", 3, NOW, NOW, NULL, 0), WD_REPLAY_ERROR);
    ck_assert_int_eq(wd_replay_cache_remember(cache, "nonce", NULL, 3, NOW, NOW, NULL, 0), WD_REPLAY_ERROR);
    ck_assert_uint_eq(wd_replay_cache_size(NULL), 0);
    wd_replay_cache_free(cache);
    wd_replay_cache_free(NULL);
}
END_TEST

/* ---- threads ---------------------------------------------------------------------------- */

enum { SHARED_KEYS = 4000, OWN_KEYS = 1000 };

typedef struct worker {
    wd_replay_cache *cache;
    int              id;
    int              fresh;
    int              seen;
    int              other;
} worker;

static void *work(void *argument)
{
    worker *self = argument;
    char    value[48];
    for (int i = 0; i < SHARED_KEYS; i++) {
        /* Both threads race for each shared key: exactly one may see it fresh. */
        snprintf(value, sizeof value, "shared-%d", i);
        wd_replay_verdict verdict = remember_text(self->cache, value, NOW + 300, NOW);
        self->fresh += verdict == WD_REPLAY_FRESH;
        self->seen += verdict == WD_REPLAY_SEEN;
        self->other += verdict != WD_REPLAY_FRESH && verdict != WD_REPLAY_SEEN;
        if (i < OWN_KEYS) {
            snprintf(value, sizeof value, "own-%d-%d", self->id, i);
            verdict = remember_text(self->cache, value, NOW + 300, NOW);
            self->fresh += verdict == WD_REPLAY_FRESH;
            self->other += verdict != WD_REPLAY_FRESH;
        }
    }
    return NULL;
}

START_TEST(two_threads_keep_exact_counts)
{
    wd_replay_cache *cache = new_memory(SHARED_KEYS + 2 * OWN_KEYS);
    worker           workers[2] = { { cache, 0, 0, 0, 0 }, { cache, 1, 0, 0, 0 } };
    pthread_t        threads[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, work, &workers[i]), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);

    ck_assert_int_eq(workers[0].other + workers[1].other, 0);
    ck_assert_int_eq(workers[0].fresh + workers[1].fresh, SHARED_KEYS + 2 * OWN_KEYS);
    ck_assert_int_eq(workers[0].seen + workers[1].seen, SHARED_KEYS);
    ck_assert_uint_eq(wd_replay_cache_size(cache), SHARED_KEYS + 2 * OWN_KEYS);
    /* Exactly full now. */
    ck_assert_int_eq(remember_text(cache, "one more", NOW + 300, NOW), WD_REPLAY_FULL);
    wd_replay_cache_free(cache);
}
END_TEST

/* ---- none and custom backends ----------------------------------------------------------- */

START_TEST(none_backend_finds_everything_fresh)
{
    wd_replay_cache *cache = NULL;
    ck_assert_int_eq(wd_replay_cache_new_none(&cache), WARDEN_OK);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(remember_text(cache, "abc", NOW + 300, NOW), WD_REPLAY_FRESH);
    ck_assert_uint_eq(wd_replay_cache_size(cache), 0);
    wd_replay_cache_free(cache);
}
END_TEST

typedef struct recording_backend {
    unsigned char     last_key[32];
    int64_t           last_expires_at, last_now;
    int               calls;
    wd_replay_verdict answer;
    int              *destroyed;
} recording_backend;

static wd_replay_verdict recording_remember(void *self, const unsigned char key[32], int64_t expires_at, int64_t now,
                                            char *why, size_t why_size)
{
    recording_backend *backend = self;
    ck_assert(why != NULL && why_size >= 1 && why[0] == '\0');
    if (backend->answer == WD_REPLAY_UNAVAILABLE)
        snprintf(why, why_size, "is asleep");
    memcpy(backend->last_key, key, 32);
    backend->last_expires_at = expires_at;
    backend->last_now = now;
    backend->calls++;
    return backend->answer;
}

static void recording_destroy(void *self)
{
    recording_backend *backend = self;
    (*backend->destroyed)++;
    free(backend);
}

static const wd_replay_backend recording = { recording_remember, recording_destroy };

static recording_backend *new_recording(int *destroyed, wd_replay_verdict answer)
{
    recording_backend *backend = calloc(1, sizeof *backend);
    ck_assert_ptr_nonnull(backend);
    backend->destroyed = destroyed;
    backend->answer = answer;
    return backend;
}

START_TEST(custom_backend_gets_sha256_of_kind_zero_value)
{
    int                destroyed = 0;
    recording_backend *backend = new_recording(&destroyed, WD_REPLAY_SEEN);
    wd_replay_cache   *cache = NULL;
    ck_assert_int_eq(wd_replay_cache_new_backend(&recording, backend, &cache), WARDEN_OK);

    ck_assert_int_eq(wd_replay_cache_remember(cache, "nonce", "abc", 3, NOW + 300, NOW, NULL, 0), WD_REPLAY_SEEN);
    unsigned char expected[EVP_MAX_MD_SIZE];
    unsigned int  expected_length = 0;
    ck_assert(EVP_Digest("nonce\0abc", 9, expected, &expected_length, EVP_sha256(), NULL));
    ck_assert_uint_eq(expected_length, 32);
    ck_assert_int_eq(memcmp(backend->last_key, expected, 32), 0);
    ck_assert_int_eq(backend->last_expires_at, NOW + 300);
    ck_assert_int_eq(backend->last_now, NOW);
    ck_assert_uint_eq(wd_replay_cache_size(cache), 0);

    backend->answer = WD_REPLAY_ERROR;
    ck_assert_int_eq(remember_text(cache, "abc", NOW + 300, NOW), WD_REPLAY_ERROR);
    backend->answer = WD_REPLAY_FULL;
    ck_assert_int_eq(remember_text(cache, "abc", NOW + 300, NOW), WD_REPLAY_FULL);

    /* the backend's reason reaches the caller, cut to its buffer, and a caller without a
    ** buffer still gives the backend one */
    backend->answer = WD_REPLAY_UNAVAILABLE;
    char why[64] = "stale";
    ck_assert_int_eq(wd_replay_cache_remember(cache, "nonce", "abc", 3, NOW + 300, NOW, why, sizeof why),
                     WD_REPLAY_UNAVAILABLE);
    ck_assert_str_eq(why, "is asleep");
    char short_why[4];
    ck_assert_int_eq(wd_replay_cache_remember(cache, "nonce", "abc", 3, NOW + 300, NOW, short_why, sizeof short_why),
                     WD_REPLAY_UNAVAILABLE);
    ck_assert_str_eq(short_why, "is ");
    ck_assert_int_eq(wd_replay_cache_remember(cache, "nonce", "abc", 3, NOW + 300, NOW, NULL, 0),
                     WD_REPLAY_UNAVAILABLE);
    backend->answer = WD_REPLAY_SEEN;
    strcpy(why, "stale");
    ck_assert_int_eq(wd_replay_cache_remember(cache, "nonce", "abc", 3, NOW + 300, NOW, why, sizeof why),
                     WD_REPLAY_SEEN);
    ck_assert_str_eq(why, "");

    wd_replay_cache_free(cache);
    ck_assert_int_eq(destroyed, 1);
}
END_TEST

START_TEST(backend_without_remember_is_refused_and_destroyed)
{
    int                     destroyed = 0;
    const wd_replay_backend broken = { NULL, recording_destroy };
    wd_replay_cache        *cache = (wd_replay_cache *)1;
    ck_assert_int_eq(wd_replay_cache_new_backend(&broken, new_recording(&destroyed, WD_REPLAY_FRESH), &cache),
                     WARDEN_E_INVALID_ARG);
    ck_assert_ptr_null(cache);
    ck_assert_int_eq(destroyed, 1);
    ck_assert_int_eq(wd_replay_cache_new_backend(NULL, NULL, &cache), WARDEN_E_INVALID_ARG);
}
END_TEST

static Suite *replay_cache_suite(void)
{
    Suite *suite = suite_create("replay_cache");
    TCase *memory = tcase_create("memory");
    tcase_add_test(memory, first_sight_is_fresh_and_the_second_is_seen);
    tcase_add_test(memory, kinds_never_collide);
    tcase_add_test(memory, binary_and_empty_values_are_remembered);
    tcase_add_test(memory, entry_is_seen_through_its_expiry_second);
    tcase_add_test(memory, entry_is_fresh_again_after_expires_at);
    tcase_add_test(memory, full_cache_rejects_new_keys_and_keeps_the_old);
    tcase_add_test(memory, full_cache_accepts_again_once_entries_expire);
    tcase_add_test(memory, purging_keeps_every_live_entry_findable);
    tcase_add_test(memory, zero_entries_is_an_invalid_argument);
    tcase_add_test(memory, absurd_sizes_are_refused);
    tcase_add_test(memory, misuse_is_an_error_verdict);
    tcase_add_test(memory, two_threads_keep_exact_counts);
    suite_add_tcase(suite, memory);

    TCase *backends = tcase_create("backends");
    tcase_add_test(backends, none_backend_finds_everything_fresh);
    tcase_add_test(backends, custom_backend_gets_sha256_of_kind_zero_value);
    tcase_add_test(backends, backend_without_remember_is_refused_and_destroyed);
    suite_add_tcase(suite, backends);
    return suite;
}

int main(void)
{
    return tr_run_suite(replay_cache_suite());
}
