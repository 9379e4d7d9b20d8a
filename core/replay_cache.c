/*
** replay_cache.c — the replay cache front (keys are SHA-256 of kind ‖ 0 ‖ value) and its two
** built-in backends: "none", which remembers nothing, and "memory", a bounded hash table
** that fails closed.
**
** The memory backend is an open-addressing table with linear probing, sized to at least
** twice its capacity so that probe runs stay short and an empty slot always ends a search.
** Removal uses backward shifting, so no tombstones accumulate. Slots are chosen with SipHash
** under a per-cache random key: the stored keys are hashes of values an attacker picks, and
** without a secret they could grind values that all land in one slot and make every
** lookup walk a long run.
*/
#include "replay_cache.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../include/warden.h"
#include "invariant.h"

#define KEY_LENGTH 32
/* expires_at of a slot that holds nothing; a real expiry of INT64_MIN is stored one later. */
#define EMPTY_SLOT INT64_MIN

typedef struct slot {
    unsigned char key[KEY_LENGTH];
    int64_t       expires_at;
} slot;

typedef struct memory_table {
    pthread_mutex_t lock;
    slot           *slots;
    size_t          mask;            /* slot count - 1; the count is a power of two */
    size_t          capacity;        /* at most this many entries, expired or not */
    size_t          used;
    int64_t         earliest_expiry; /* no held entry expires before this: when it is still
                                     ** ahead of the clock a sweep would find nothing */
    uint64_t        hash_key[2];
} memory_table;

struct wd_replay_cache {
    wd_replay_backend backend;
    void             *self;
    memory_table     *memory; /* self, when the backend is the memory one */
};

/* ---- SipHash-2-4 of a 32-byte key ------------------------------------------------------- */

static uint64_t rotate_left(uint64_t x, int bits)
{
    return x << bits | x >> (64 - bits);
}

static uint64_t load_little_endian(const unsigned char *bytes)
{
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--)
        value = value << 8 | bytes[i];
    return value;
}

#define SIPROUND()                                                                                 \
    do {                                                                                           \
        v0 += v1; v1 = rotate_left(v1, 13); v1 ^= v0; v0 = rotate_left(v0, 32);                    \
        v2 += v3; v3 = rotate_left(v3, 16); v3 ^= v2;                                              \
        v0 += v3; v3 = rotate_left(v3, 21); v3 ^= v0;                                              \
        v2 += v1; v1 = rotate_left(v1, 17); v1 ^= v2; v2 = rotate_left(v2, 32);                    \
    } while (0)

static uint64_t siphash_key(const uint64_t secret[2], const unsigned char key[KEY_LENGTH])
{
    uint64_t v0 = secret[0] ^ 0x736f6d6570736575ULL;
    uint64_t v1 = secret[1] ^ 0x646f72616e646f6dULL;
    uint64_t v2 = secret[0] ^ 0x6c7967656e657261ULL;
    uint64_t v3 = secret[1] ^ 0x7465646279746573ULL;

    for (int i = 0; i < KEY_LENGTH; i += 8) {
        uint64_t m = load_little_endian(key + i);
        v3 ^= m;
        SIPROUND();
        SIPROUND();
        v0 ^= m;
    }
    uint64_t last = (uint64_t)KEY_LENGTH << 56;
    v3 ^= last;
    SIPROUND();
    SIPROUND();
    v0 ^= last;
    v2 ^= 0xff;
    SIPROUND();
    SIPROUND();
    SIPROUND();
    SIPROUND();
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- the memory backend ----------------------------------------------------------------- */

static size_t home_of(const memory_table *table, const unsigned char key[KEY_LENGTH])
{
    return (size_t)siphash_key(table->hash_key, key) & table->mask;
}

/* Empties slot `hole` and shifts later members of its run back, so that every entry stays
** reachable from its home slot without a gap. */
static void remove_at(memory_table *table, size_t hole)
{
    size_t next = hole;
    WD_ASSERT_LOCKED(&table->lock);
    WD_ASSERT(table->used > 0 && table->slots[hole].expires_at != EMPTY_SLOT);
    for (;;) {
        next = (next + 1) & table->mask;
        slot *candidate = &table->slots[next];
        if (candidate->expires_at == EMPTY_SLOT)
            break;
        size_t home = home_of(table, candidate->key);
        /* It must stay when its home lies cyclically in (hole, next]. */
        bool stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
        if (stays)
            continue;
        table->slots[hole] = *candidate;
        hole = next;
    }
    memset(table->slots[hole].key, 0, KEY_LENGTH);
    table->slots[hole].expires_at = EMPTY_SLOT;
    table->used--;
}

/* Removes every entry expired at now. A removal may shift a later entry into the slot just
** examined, so that slot is examined again; entries only move backwards into the slot being
** removed or slots after it, so none is skipped. */
static void purge_expired(memory_table *table, int64_t now)
{
    int64_t earliest = INT64_MAX;
    size_t  index = 0;

    WD_ASSERT_LOCKED(&table->lock);
    while (index <= table->mask) {
        const slot *current = &table->slots[index];
        if (current->expires_at != EMPTY_SLOT && current->expires_at < now) {
            remove_at(table, index);
            continue;
        }
        if (current->expires_at != EMPTY_SLOT && current->expires_at < earliest)
            earliest = current->expires_at;
        index++;
    }
    table->earliest_expiry = earliest;
}

static void store(memory_table *table, size_t index, const unsigned char key[KEY_LENGTH], int64_t expires_at)
{
    WD_ASSERT_LOCKED(&table->lock);
    WD_ASSERT(index <= table->mask && table->used <= table->capacity);
    memcpy(table->slots[index].key, key, KEY_LENGTH);
    table->slots[index].expires_at = expires_at;
    if (expires_at < table->earliest_expiry)
        table->earliest_expiry = expires_at;
}

/* An entry is alive while now <= expires_at: a token accepted up to and including its last
** second must still be remembered in that second. */
static wd_replay_verdict memory_remember(void *self, const unsigned char key[KEY_LENGTH], int64_t expires_at,
                                         int64_t now, char *why, size_t why_size)
{
    memory_table     *table = self;
    wd_replay_verdict verdict = WD_REPLAY_FRESH;
    size_t            home, index, reusable = SIZE_MAX;

    if (expires_at == EMPTY_SLOT)
        expires_at = EMPTY_SLOT + 1;
    if (pthread_mutex_lock(&table->lock) != 0)
        return WD_REPLAY_ERROR;

    home = home_of(table, key);
    for (index = home; table->slots[index].expires_at != EMPTY_SLOT; index = (index + 1) & table->mask) {
        slot *current = &table->slots[index];
        if (memcmp(current->key, key, KEY_LENGTH) == 0) {
            if (current->expires_at >= now) {
                verdict = WD_REPLAY_SEEN;
            } else {
                store(table, index, key, expires_at);
            }
            goto done;
        }
        if (reusable == SIZE_MAX && current->expires_at < now)
            reusable = index;
    }

    /* An expired entry on the probe path is as good as an empty slot: the run stays unbroken. */
    if (reusable != SIZE_MAX) {
        store(table, reusable, key, expires_at);
        goto done;
    }
    if (table->used >= table->capacity) {
        /* Sweep only when something can have expired, so a table full of live entries
        ** answers FULL in constant time instead of rescanning on every message. */
        if (table->earliest_expiry < now)
            purge_expired(table, now);
        if (table->used >= table->capacity) {
            verdict = WD_REPLAY_FULL;
            goto done;
        }
        for (index = home; table->slots[index].expires_at != EMPTY_SLOT; index = (index + 1) & table->mask)
            ;
    }
    store(table, index, key, expires_at);
    table->used++;

done:
    pthread_mutex_unlock(&table->lock);
    return verdict;
}

static void memory_destroy(void *self)
{
    memory_table *table = self;
    if (table == NULL)
        return;
    pthread_mutex_destroy(&table->lock);
    free(table->slots);
    free(table);
}

static const wd_replay_backend memory_backend = { memory_remember, memory_destroy };

static wd_replay_verdict none_remember(void *self, const unsigned char key[KEY_LENGTH], int64_t expires_at,
                                       int64_t now, char *why, size_t why_size)
{
    return WD_REPLAY_FRESH;
}

static const wd_replay_backend none_backend = { none_remember, NULL };

/* ---- the cache -------------------------------------------------------------------------- */

int wd_replay_cache_new_backend(const wd_replay_backend *backend, void *self, wd_replay_cache **out)
{
    wd_replay_cache *cache;

    if (out != NULL)
        *out = NULL;
    /* self is the cache's from this call on, so a failure here must not leak it. */
    if (backend == NULL || backend->remember == NULL || out == NULL) {
        if (backend != NULL && backend->destroy != NULL)
            backend->destroy(self);
        return WARDEN_E_INVALID_ARG;
    }
    cache = calloc(1, sizeof *cache);
    if (cache == NULL) {
        if (backend->destroy != NULL)
            backend->destroy(self);
        return WARDEN_E_NOMEM;
    }
    cache->backend = *backend;
    cache->self = self;
    *out = cache;
    return WARDEN_OK;
}

int wd_replay_cache_new_memory(size_t entries, wd_replay_cache **out)
{
    memory_table *table = NULL;
    size_t        slot_count = 8;
    int           result;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || entries == 0)
        return WARDEN_E_INVALID_ARG;
    if (entries > SIZE_MAX / 4 / sizeof(slot))
        return WARDEN_E_NOMEM;
    while (slot_count < entries * 2)
        slot_count *= 2;

    table = calloc(1, sizeof *table);
    if (table == NULL)
        return WARDEN_E_NOMEM;
    table->slots = malloc(slot_count * sizeof *table->slots);
    if (table->slots == NULL) {
        free(table);
        return WARDEN_E_NOMEM;
    }
    for (size_t i = 0; i < slot_count; i++) {
        memset(table->slots[i].key, 0, KEY_LENGTH);
        table->slots[i].expires_at = EMPTY_SLOT;
    }
    table->mask = slot_count - 1;
    table->capacity = entries;
    table->earliest_expiry = INT64_MAX;
    if (RAND_bytes((unsigned char *)table->hash_key, sizeof table->hash_key) != 1) {
        free(table->slots);
        free(table);
        return WARDEN_E_INTERNAL;
    }
    if (pthread_mutex_init(&table->lock, NULL) != 0) {
        free(table->slots);
        free(table);
        return WARDEN_E_INTERNAL;
    }

    result = wd_replay_cache_new_backend(&memory_backend, table, out);
    if (result == WARDEN_OK)
        (*out)->memory = table;
    return result;
}

int wd_replay_cache_new_none(wd_replay_cache **out)
{
    return wd_replay_cache_new_backend(&none_backend, NULL, out);
}

wd_replay_verdict wd_replay_cache_remember(wd_replay_cache *cache, const char *kind, const void *value,
                                           size_t length, int64_t expires_at, int64_t now, char *why,
                                           size_t why_size)
{
    static const unsigned char separator = 0;
    unsigned char              key[EVP_MAX_MD_SIZE];
    unsigned int               key_length = 0;
    EVP_MD_CTX                *context = NULL;
    wd_replay_verdict          verdict = WD_REPLAY_ERROR;
    char                       unused[1];

    /* backends always get a buffer, so they need not test for one */
    if (why == NULL || why_size == 0) {
        why = unused;
        why_size = sizeof unused;
    }
    why[0] = '\0';
    if (cache == NULL || kind == NULL || (value == NULL && length > 0))
        return WD_REPLAY_ERROR;
    context = EVP_MD_CTX_new();
    if (context == NULL)
        goto done;
    if (!EVP_DigestInit_ex(context, EVP_sha256(), NULL) || !EVP_DigestUpdate(context, kind, strlen(kind))
        || !EVP_DigestUpdate(context, &separator, 1) || !EVP_DigestUpdate(context, value, length)
        || !EVP_DigestFinal_ex(context, key, &key_length) || key_length != KEY_LENGTH)
        goto done;
    verdict = cache->backend.remember(cache->self, key, expires_at, now, why, why_size);

done:
    EVP_MD_CTX_free(context);
    return verdict;
}

size_t wd_replay_cache_size(wd_replay_cache *cache)
{
    size_t used;

    if (cache == NULL || cache->memory == NULL)
        return 0;
    if (pthread_mutex_lock(&cache->memory->lock) != 0)
        return 0;
    used = cache->memory->used;
    pthread_mutex_unlock(&cache->memory->lock);
    return used;
}

void wd_replay_cache_free(wd_replay_cache *cache)
{
    if (cache == NULL)
        return;
    if (cache->backend.destroy != NULL)
        cache->backend.destroy(cache->self);
    free(cache);
}
