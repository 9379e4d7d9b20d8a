/*
** targets.c — rule targets (targets.h): the '*' glob matcher, the check of one rule's
** targets against a message, and the target index that finds the rules whose targets can
** match a message without looking at the others.
**
** The index. Every rule is filed under one side: its action targets when it names any,
** else its operation targets, else the "always" list. On a side, a target without '*' is
** filed in the exact table under the whole string; a glob is filed in the glob table under
** its literal prefix (the text before the first '*'), and the side keeps the sorted set of
** distinct prefix lengths. A look-up of an action probes the exact table once and the glob
** table once per distinct prefix length no longer than the action, hashing the action
** incrementally (FNV-1a) so all the probes together cost one pass over its bytes. Every
** table entry holds a sorted, duplicate-free run of rule numbers in one shared array; the
** look-up merges the runs it found (cursors on the stack), confirms each candidate with
** wd_targets_match, and writes the survivors in ascending order. Nothing is allocated.
**
** The tables are open-addressing with linear probing, at most half full, so an empty slot
** ends every search. Keys are borrowed from the rules' target strings.
**
** Bounding the merge: a side with more than MAX_EXACT_LENGTHS distinct prefix lengths (a
** policy set with globs of very many different prefix lengths) files each glob under its
** prefix cut to the largest power of two not above its length instead. A shorter prefix
** only adds candidates, which the confirmation removes, and it caps the number of probes
** and runs per side at 65 (0 and the powers of two up to 2^63), so the cursors fit in a
** fixed array.
*/
#include "targets.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXACT_LENGTHS 64
#define MAX_LENGTHS_PER_SIDE 65
#define MAX_RUNS (2 * (1 + MAX_LENGTHS_PER_SIDE) + 1)

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

enum { SIDE_ACTION = 0, SIDE_OPERATION = 1 };
enum { TABLE_EXACT = 0, TABLE_GLOB = 1 };

typedef struct slot {
    const char *key; /* NULL: the slot is empty */
    size_t      key_length;
    uint64_t    hash;
    size_t      first; /* the run of rule numbers: numbers[first .. first + count) */
    size_t      count;
} slot;

typedef struct table {
    slot  *slots; /* NULL when the table holds nothing */
    size_t mask;  /* slot count - 1; the count is a power of two */
} table;

typedef struct side {
    table   tables[2];      /* TABLE_EXACT, TABLE_GLOB */
    size_t *prefix_lengths; /* the distinct glob prefix lengths, ascending */
    size_t  prefix_length_count;
} side;

struct wd_target_index {
    const wd_rule_targets *rules;
    size_t                 rule_count;
    side                   sides[2];
    unsigned              *numbers;
    size_t                 always_first;
    size_t                 always_count;
    size_t                 bytes; /* what the index allocated (wd_target_index_bytes) */
};

/* One (target key, rule) pair while building. */
typedef struct filing {
    const char *key;
    size_t      key_length;
    unsigned    rule;
    unsigned    where; /* side * 2 + table */
} filing;

typedef struct run {
    const unsigned *next;
    const unsigned *end;
} run;

/* ---- matching ------------------------------------------------------------------------ */

bool wd_glob_match(const char *pattern, const char *text, size_t text_length)
{
    /* Greedy, remembering only the last '*': when a later literal part fails, that star
    ** takes one more character and matching resumes after it. Earlier stars never need to
    ** be revisited, because the last one can absorb whatever they would have. */
    size_t p = 0;
    size_t t = 0;
    size_t star_p = SIZE_MAX; /* pattern position just after the last '*' */
    size_t star_t = 0;        /* text position that star's run currently ends at */

    if (pattern == NULL || (text == NULL && text_length > 0))
        return false;
    while (t < text_length) {
        if (pattern[p] == '*') {
            star_p = ++p;
            star_t = t;
        } else if (pattern[p] != '\0' && pattern[p] == text[t]) {
            p++;
            t++;
        } else if (star_p != SIZE_MAX) {
            p = star_p;
            t = ++star_t;
        } else {
            return false;
        }
    }
    while (pattern[p] == '*')
        p++;
    return pattern[p] == '\0';
}

static bool any_matches(const char *const *patterns, size_t count, const char *text, size_t length)
{
    for (size_t i = 0; i < count; i++)
        if (patterns[i] != NULL && wd_glob_match(patterns[i], text, length))
            return true;
    return false;
}

static bool names_actions(const wd_rule_targets *targets)
{
    return targets->actions != NULL && targets->action_count > 0;
}

static bool names_operations(const wd_rule_targets *targets)
{
    return targets->operations != NULL && targets->operation_count > 0;
}

bool wd_targets_match(const wd_rule_targets *targets, const char *action, size_t action_length,
                      const char *operation, size_t operation_length)
{
    if (targets == NULL)
        return true;
    if (names_actions(targets)
        && (action == NULL || !any_matches(targets->actions, targets->action_count, action, action_length)))
        return false;
    if (names_operations(targets)
        && (operation == NULL
            || !any_matches(targets->operations, targets->operation_count, operation, operation_length)))
        return false;
    return true;
}

/* ---- hash tables ------------------------------------------------------------------------ */

static uint64_t fnv_step(uint64_t hash, unsigned char byte)
{
    return (hash ^ byte) * FNV_PRIME;
}

static uint64_t fnv(const char *key, size_t length)
{
    uint64_t hash = FNV_OFFSET;
    for (size_t i = 0; i < length; i++)
        hash = fnv_step(hash, (unsigned char)key[i]);
    return hash;
}

static size_t slot_of(const table *t, uint64_t hash)
{
    return (size_t)(hash ^ hash >> 29) & t->mask;
}

static const slot *table_find(const table *t, const char *key, size_t key_length, uint64_t hash)
{
    if (t->slots == NULL)
        return NULL;
    for (size_t i = slot_of(t, hash);; i = (i + 1) & t->mask) {
        const slot *s = &t->slots[i];
        if (s->key == NULL)
            return NULL;
        if (s->hash == hash && s->key_length == key_length && memcmp(s->key, key, key_length) == 0)
            return s;
    }
}

/* Sizes the table for count keys; returns 0 or -1 (out of memory). */
static int table_init(table *t, size_t count, size_t *bytes)
{
    if (count == 0)
        return 0;
    size_t size = 4;
    while (size < count * 2) {
        if (size > SIZE_MAX / 4 / sizeof(slot))
            return -1;
        size *= 2;
    }
    t->slots = calloc(size, sizeof(slot));
    if (t->slots == NULL)
        return -1;
    *bytes += size * sizeof(slot);
    t->mask = size - 1;
    return 0;
}

/* Keys are distinct when this is called, so no search for an equal key is needed. */
static void table_insert(table *t, const char *key, size_t key_length, size_t first, size_t count)
{
    uint64_t hash = fnv(key, key_length);
    size_t   i = slot_of(t, hash);
    while (t->slots[i].key != NULL)
        i = (i + 1) & t->mask;
    t->slots[i] = (slot){ .key = key, .key_length = key_length, .hash = hash, .first = first, .count = count };
}

/* ---- building ------------------------------------------------------------------------ */

static size_t prefix_length_of(const char *pattern)
{
    const char *star = strchr(pattern, '*');
    return star != NULL ? (size_t)(star - pattern) : SIZE_MAX; /* SIZE_MAX: no '*' */
}

static size_t floor_power_of_two(size_t length)
{
    if (length == 0)
        return 0;
    size_t power = 1;
    while (power <= length / 2)
        power *= 2;
    return power;
}

static int compare_sizes(const void *a, const void *b)
{
    size_t x = *(const size_t *)a;
    size_t y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static int compare_filings(const void *a, const void *b)
{
    const filing *x = a;
    const filing *y = b;
    if (x->where != y->where)
        return x->where < y->where ? -1 : 1;
    size_t shorter = x->key_length < y->key_length ? x->key_length : y->key_length;
    int    order = memcmp(x->key, y->key, shorter);
    if (order != 0)
        return order;
    if (x->key_length != y->key_length)
        return x->key_length < y->key_length ? -1 : 1;
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static bool same_key(const filing *x, const filing *y)
{
    return x->where == y->where && x->key_length == y->key_length && memcmp(x->key, y->key, x->key_length) == 0;
}

/* Sorts lengths[0..count) and removes repeats; returns the new count. */
static size_t sort_unique(size_t *lengths, size_t count)
{
    if (count == 0)
        return 0;
    qsort(lengths, count, sizeof *lengths, compare_sizes);
    size_t kept = 1;
    for (size_t i = 1; i < count; i++)
        if (lengths[i] != lengths[kept - 1])
            lengths[kept++] = lengths[i];
    return kept;
}

/* Cuts the glob prefixes of a side with too many distinct prefix lengths (see the top). */
static int limit_prefix_lengths(filing *filings, size_t filing_count, unsigned where)
{
    size_t  count = 0;
    size_t *lengths = malloc((filing_count ? filing_count : 1) * sizeof *lengths);
    if (lengths == NULL)
        return -1;
    for (size_t i = 0; i < filing_count; i++)
        if (filings[i].where == where)
            lengths[count++] = filings[i].key_length;
    count = sort_unique(lengths, count);
    free(lengths);
    if (count > MAX_EXACT_LENGTHS)
        for (size_t i = 0; i < filing_count; i++)
            if (filings[i].where == where)
                filings[i].key_length = floor_power_of_two(filings[i].key_length);
    return 0;
}

static void add_filings(filing *filings, size_t *count, const char *const *targets, size_t target_count,
                       unsigned rule, unsigned which_side)
{
    for (size_t i = 0; i < target_count; i++) {
        if (targets[i] == NULL)
            continue; /* a NULL target matches nothing: no filing needed */
        size_t prefix = prefix_length_of(targets[i]);
        bool   glob = prefix != SIZE_MAX;
        filings[(*count)++] = (filing){
            .key = targets[i],
            .key_length = glob ? prefix : strlen(targets[i]),
            .rule = rule,
            .where = which_side * 2 + (glob ? TABLE_GLOB : TABLE_EXACT),
        };
    }
}

wd_target_index *wd_target_index_new(const wd_rule_targets *rules, size_t count)
{
    wd_target_index *index = NULL;
    wd_target_index *result = NULL;
    filing          *filings = NULL;
    size_t           filing_count = 0;
    size_t           capacity = 0;

    if (count > UINT32_MAX || (rules == NULL && count > 0))
        goto done;
    index = calloc(1, sizeof *index);
    if (index == NULL)
        goto done;
    index->rules = rules;
    index->rule_count = count;

    for (size_t r = 0; r < count; r++) {
        size_t n = names_actions(&rules[r]) ? rules[r].action_count
                 : names_operations(&rules[r]) ? rules[r].operation_count : 0;
        if (n > SIZE_MAX / sizeof(filing) - capacity - 1)
            goto done;
        capacity += n;
    }
    filings = malloc((capacity ? capacity : 1) * sizeof *filings);
    /* Rule numbers: at most one per filing plus one per "always" rule. */
    index->numbers = malloc((capacity + count ? capacity + count : 1) * sizeof *index->numbers);
    if (filings == NULL || index->numbers == NULL)
        goto done;
    index->bytes = sizeof *index + (capacity + count ? capacity + count : 1) * sizeof *index->numbers;

    size_t used = 0;
    for (size_t r = 0; r < count; r++) {
        const wd_rule_targets *rule = &rules[r];
        if (names_actions(rule))
            add_filings(filings, &filing_count, rule->actions, rule->action_count, (unsigned)r, SIDE_ACTION);
        else if (names_operations(rule))
            add_filings(filings, &filing_count, rule->operations, rule->operation_count, (unsigned)r,
                        SIDE_OPERATION);
        else
            index->numbers[used++] = (unsigned)r;
    }
    index->always_first = 0;
    index->always_count = used;

    for (unsigned s = 0; s < 2; s++)
        if (limit_prefix_lengths(filings, filing_count, s * 2 + TABLE_GLOB) != 0)
            goto done;
    if (filing_count > 1)
        qsort(filings, filing_count, sizeof *filings, compare_filings);

    /* Size the tables: one key per group of equal (where, key). */
    size_t keys[4] = { 0, 0, 0, 0 };
    for (size_t i = 0; i < filing_count; i++)
        if (i == 0 || !same_key(&filings[i], &filings[i - 1]))
            keys[filings[i].where]++;
    for (unsigned w = 0; w < 4; w++)
        if (table_init(&index->sides[w / 2].tables[w % 2], keys[w], &index->bytes) != 0)
            goto done;
    for (unsigned s = 0; s < 2; s++) {
        size_t n = keys[s * 2 + TABLE_GLOB];
        if (n > 0) {
            index->sides[s].prefix_lengths = malloc(n * sizeof(size_t));
            if (index->sides[s].prefix_lengths == NULL)
                goto done;
            index->bytes += n * sizeof(size_t);
        }
    }

    /* File each group's rules as one sorted, duplicate-free run. */
    for (size_t i = 0; i < filing_count;) {
        size_t first = used;
        size_t j = i;
        for (; j < filing_count && same_key(&filings[j], &filings[i]); j++)
            if (used == first || index->numbers[used - 1] != filings[j].rule)
                index->numbers[used++] = filings[j].rule;
        unsigned w = filings[i].where;
        side    *sd = &index->sides[w / 2];
        table_insert(&sd->tables[w % 2], filings[i].key, filings[i].key_length, first, used - first);
        if (w % 2 == TABLE_GLOB)
            sd->prefix_lengths[sd->prefix_length_count++] = filings[i].key_length;
        i = j;
    }
    for (unsigned s = 0; s < 2; s++) {
        side *sd = &index->sides[s];
        sd->prefix_length_count = sort_unique(sd->prefix_lengths, sd->prefix_length_count);
    }
    result = index;
    index = NULL;
done:
    free(filings);
    wd_target_index_free(index);
    return result;
}

size_t wd_target_index_bytes(const wd_target_index *index)
{
    return index != NULL ? index->bytes : 0;
}

void wd_target_index_free(wd_target_index *index)
{
    if (index == NULL)
        return;
    for (unsigned s = 0; s < 2; s++) {
        free(index->sides[s].tables[TABLE_EXACT].slots);
        free(index->sides[s].tables[TABLE_GLOB].slots);
        free(index->sides[s].prefix_lengths);
    }
    free(index->numbers);
    free(index);
}

/* ---- looking up ------------------------------------------------------------------------ */

static void add_run(run *runs, size_t *run_count, const unsigned *numbers, const slot *found)
{
    if (found != NULL && found->count > 0)
        runs[(*run_count)++] = (run){ .next = numbers + found->first, .end = numbers + found->first + found->count };
}

/* Adds the runs of one side for text: each glob prefix length, then the whole text. */
static void gather_side(const wd_target_index *index, const side *sd, const char *text, size_t length, run *runs,
                        size_t *run_count)
{
    uint64_t hash = FNV_OFFSET;
    size_t   hashed = 0;

    for (size_t i = 0; i < sd->prefix_length_count; i++) {
        size_t prefix = sd->prefix_lengths[i];
        if (prefix > length)
            break;
        for (; hashed < prefix; hashed++)
            hash = fnv_step(hash, (unsigned char)text[hashed]);
        add_run(runs, run_count, index->numbers, table_find(&sd->tables[TABLE_GLOB], text, prefix, hash));
    }
    if (sd->tables[TABLE_EXACT].slots == NULL)
        return;
    for (; hashed < length; hashed++)
        hash = fnv_step(hash, (unsigned char)text[hashed]);
    add_run(runs, run_count, index->numbers, table_find(&sd->tables[TABLE_EXACT], text, length, hash));
}

size_t wd_target_index_lookup(const wd_target_index *index, const char *action, size_t action_length,
                              const char *operation, size_t operation_length, unsigned *out, size_t capacity)
{
    run    runs[MAX_RUNS];
    size_t run_count = 0;
    size_t written = 0;

    if (index == NULL || out == NULL || capacity == 0)
        return 0;
    if (action != NULL)
        gather_side(index, &index->sides[SIDE_ACTION], action, action_length, runs, &run_count);
    if (operation != NULL)
        gather_side(index, &index->sides[SIDE_OPERATION], operation, operation_length, runs, &run_count);
    if (index->always_count > 0)
        runs[run_count++] = (run){ .next = index->numbers + index->always_first,
                                   .end = index->numbers + index->always_first + index->always_count };

    /* Merge: take the smallest head, advance every run that holds it (a rule can be in
    ** several runs: its exact and glob targets), drop runs that are used up. */
    while (run_count > 0 && written < capacity) {
        unsigned smallest = *runs[0].next;
        for (size_t i = 1; i < run_count; i++)
            if (*runs[i].next < smallest)
                smallest = *runs[i].next;
        for (size_t i = 0; i < run_count;) {
            if (*runs[i].next == smallest && ++runs[i].next == runs[i].end)
                runs[i] = runs[--run_count];
            else
                i++;
        }
        if (wd_targets_match(&index->rules[smallest], action, action_length, operation, operation_length))
            out[written++] = smallest;
    }
    return written;
}
