/*
** replay_cache.h — remembering what was seen (UsernameToken nonces, signed SignedInfos) for as
** long as a replay could be accepted. A backend interface so that a Redis backend can be
** added later; the memory backend is bounded and fails closed: when full of unexpired
** entries it refuses new ones ("replay-cache-full") rather than forgetting.
*/
#ifndef WD_REPLAY_CACHE_H
#define WD_REPLAY_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef enum wd_replay_verdict {
    WD_REPLAY_FRESH = 0, /* not seen before; now remembered until expires_at */
    WD_REPLAY_SEEN,      /* seen and not yet expired: a replay */
    WD_REPLAY_FULL,      /* cannot remember it: reject */
    WD_REPLAY_ERROR,     /* backend failure: reject */
    WD_REPLAY_UNAVAILABLE /* a shared store did not answer in time: reject (replay-unavailable) */
} wd_replay_verdict;

typedef struct wd_replay_backend {
    /* Atomically: if key (32 bytes) is remembered and unexpired at now, SEEN; else remember
    ** it until expires_at and answer FRESH (or FULL / ERROR / UNAVAILABLE). Called from many
    ** threads. why (why_size >= 1 bytes, "" on entry) may be given a short clause saying why
    ** a store was UNAVAILABLE ("is backed off ..."); it reaches the rejection's detail. */
    wd_replay_verdict (*remember)(void *self, const unsigned char key[32], int64_t expires_at,
                                  int64_t now, char *why, size_t why_size);
    void (*destroy)(void *self);
} wd_replay_backend;

typedef struct wd_replay_cache wd_replay_cache;

/* A bounded in-memory cache of at most entries keys. Thread-safe. */
int wd_replay_cache_new_memory(size_t entries, wd_replay_cache **out);

/* A cache that remembers nothing (replay.backend = "none"): every key is FRESH. */
int wd_replay_cache_new_none(wd_replay_cache **out);

/* A cache shared through Redis (replay.backend = "redis"): url "redis://[:PASSWORD@]HOST[:PORT][/DB]",
** keys stored as prefix + hex, one SET NX PX per key, a connection per calling thread made on
** first use and again after any failure. No answer within timeout_ms is UNAVAILABLE; from a
** thread's second failure in a row on, that thread backs off (answers UNAVAILABLE at once)
** for a while before trying Redis again (replay_redis.c). Errors: INVALID_ARG (a url it
** cannot read; message says why), NOMEM. */
int wd_replay_cache_new_redis(const char *url, const char *prefix, int timeout_ms, wd_replay_cache **out,
                              char *message, size_t message_size);

/* Wraps another backend (self is owned by the cache and destroyed with it). */
int wd_replay_cache_new_backend(const wd_replay_backend *backend, void *self, wd_replay_cache **out);

/* Remembers (kind, value): the key is SHA-256 of kind ‖ 0 ‖ value, so kinds never collide
** and the backend stores 32 bytes whatever the value's size. why (may be NULL) receives the
** backend's clause on why it was UNAVAILABLE, or "" when it gave none. */
wd_replay_verdict wd_replay_cache_remember(wd_replay_cache *cache, const char *kind,
                                           const void *value, size_t length, int64_t expires_at,
                                           int64_t now, char *why, size_t why_size);

/* Number of entries currently held (memory backend; 0 for others). For tests and status. */
size_t wd_replay_cache_size(wd_replay_cache *cache);

void wd_replay_cache_free(wd_replay_cache *cache);

#endif
