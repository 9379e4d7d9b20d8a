/*
** test_targets.c — the '*' glob matcher, the per-rule target check, and the target index
** (lua/targets.c), the index checked against a brute-force scan of every rule.
*/
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/targets.h"
#include "test_run.h"

static bool glob(const char *pattern, const char *text)
{
    return wd_glob_match(pattern, text, strlen(text));
}

/* ---- the glob matcher ------------------------------------------------------------------ */

START_TEST(glob_exact_strings)
{
    ck_assert(glob("urn:example:orders/Create", "urn:example:orders/Create"));
    ck_assert(!glob("urn:example:orders/Create", "urn:example:orders/Creat"));
    ck_assert(!glob("urn:example:orders/Create", "urn:example:orders/Createx"));
    ck_assert(!glob("abc", "abd"));
    ck_assert(!glob("ABC", "abc"));
}
END_TEST

START_TEST(glob_prefix_and_suffix)
{
    ck_assert(glob("urn:example:orders/*", "urn:example:orders/Create"));
    ck_assert(glob("urn:example:orders/*", "urn:example:orders/"));
    ck_assert(!glob("urn:example:orders/*", "urn:example:orders"));
    ck_assert(glob("*/Create", "urn:example:orders/Create"));
    ck_assert(glob("*/Create", "/Create"));
    ck_assert(!glob("*/Create", "urn:example:orders/Created"));
    ck_assert(glob("{urn:example:orders}*", "{urn:example:orders}Create"));
}
END_TEST

START_TEST(glob_star_alone_and_empty)
{
    ck_assert(glob("*", ""));
    ck_assert(glob("*", "anything at all"));
    ck_assert(glob("**", ""));
    ck_assert(glob("***", "x"));
    ck_assert(glob("", ""));
    ck_assert(!glob("", "a"));
    ck_assert(!glob("a", ""));
    ck_assert(!glob("a*", ""));
    ck_assert(wd_glob_match("*", NULL, 0));
    ck_assert(!wd_glob_match(NULL, "a", 1));
}
END_TEST

START_TEST(glob_several_stars)
{
    ck_assert(glob("a*b*c", "abc"));
    ck_assert(glob("a*b*c", "aXXbYYc"));
    ck_assert(glob("a*b*c", "abbbcbc"));
    ck_assert(!glob("a*b*c", "acb"));
    ck_assert(!glob("a*b*c", "aXXbYYcd"));
    ck_assert(glob("*a*", "bab"));
    ck_assert(!glob("*a*", "bbb"));
    ck_assert(glob("a**b", "ab"));
    ck_assert(glob("*:*/*", "urn:x/y"));
    ck_assert(!glob("*:*/*", "urn-x/y"));
}
END_TEST

START_TEST(glob_backtracking)
{
    /* The first place the literal fits is not the right one. */
    ck_assert(glob("*ab", "aab"));
    ck_assert(glob("*aab", "aaab"));
    ck_assert(glob("a*ab", "aaab"));
    ck_assert(glob("*abc*abd", "abcabcabd"));
    ck_assert(glob("*issip*", "mississippi"));
    ck_assert(glob("*ss*ss*pi", "mississippi"));
    ck_assert(!glob("*ss*ss*ss*", "mississippi"));
    ck_assert(glob("*a*a*a*a*b", "aaaaaaaaaaaaaaab"));
    ck_assert(!glob("*a*a*a*a*b", "aaaaaaaaaaaaaaaa"));
    ck_assert(glob("*x", "xxxxxxxxxx"));
    ck_assert(!glob("*xy", "xxxxxxxxxx"));
}
END_TEST

START_TEST(glob_text_is_bounded_by_its_length)
{
    ck_assert(wd_glob_match("abc", "abcdef", 3));
    ck_assert(!wd_glob_match("abcd", "abcdef", 3));
    ck_assert(wd_glob_match("a*", "a\0b", 3));
    ck_assert(!wd_glob_match("a", "a\0", 2)); /* an embedded NUL is a character, not the end */
    ck_assert(wd_glob_match("a*c", "a\0c", 3));
}
END_TEST

/* A straightforward recursive matcher: the definition, for comparison. */
static bool reference_match(const char *pattern, const char *text, size_t length)
{
    if (*pattern == '\0')
        return length == 0;
    if (*pattern == '*') {
        for (size_t skip = 0; skip <= length; skip++)
            if (reference_match(pattern + 1, text + skip, length - skip))
                return true;
        return false;
    }
    return length > 0 && *pattern == *text && reference_match(pattern + 1, text + 1, length - 1);
}

typedef struct random_state {
    uint64_t state;
} random_state;

static uint64_t next_random(random_state *random)
{
    /* xorshift64*: fixed seed, same sequence on every run and machine */
    random->state ^= random->state >> 12;
    random->state ^= random->state << 25;
    random->state ^= random->state >> 27;
    return random->state * 0x2545F4914F6CDD1DULL;
}

static size_t below(random_state *random, size_t limit)
{
    return (size_t)(next_random(random) % limit);
}

static void random_string(random_state *random, char *out, size_t max_length, const char *alphabet)
{
    size_t length = below(random, max_length + 1);
    size_t letters = strlen(alphabet);
    for (size_t i = 0; i < length; i++)
        out[i] = alphabet[below(random, letters)];
    out[length] = '\0';
}

START_TEST(glob_agrees_with_the_definition)
{
    random_state random = { 0x9E3779B97F4A7C15ULL };
    char         pattern[16];
    char         text[16];
    for (int i = 0; i < 200000; i++) {
        random_string(&random, pattern, 8, "ab*");
        random_string(&random, text, 10, "ab");
        size_t length = strlen(text);
        ck_assert_msg(wd_glob_match(pattern, text, length) == reference_match(pattern, text, length),
                      "pattern \"%s\" text \"%s\"", pattern, text);
    }
}
END_TEST

START_TEST(glob_is_linear_on_hostile_input)
{
    /* "*a*a*...*b" against "aaaa...": exponential for naive backtracking. */
    size_t length = 20000;
    char  *text = malloc(length + 1);
    char   pattern[64];
    ck_assert_ptr_nonnull(text);
    memset(text, 'a', length);
    text[length] = '\0';
    strcpy(pattern, "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b");
    ck_assert(!wd_glob_match(pattern, text, length));
    text[length - 1] = 'b';
    ck_assert(wd_glob_match(pattern, text, length));
    free(text);
}
END_TEST

/* ---- one rule's targets ------------------------------------------------------------------ */

static bool match(const wd_rule_targets *targets, const char *action, const char *operation)
{
    return wd_targets_match(targets, action, action ? strlen(action) : 0, operation,
                            operation ? strlen(operation) : 0);
}

START_TEST(targets_action_only)
{
    static const char *const actions[] = { "urn:example:orders/Create", "urn:example:orders/Cancel*" };
    wd_rule_targets          rule = { .actions = actions, .action_count = 2 };
    ck_assert(match(&rule, "urn:example:orders/Create", NULL));
    ck_assert(match(&rule, "urn:example:orders/CancelAll", "{urn:x}Anything"));
    ck_assert(!match(&rule, "urn:example:orders/Read", NULL));
    ck_assert(!match(&rule, NULL, "{urn:x}Anything"));
    ck_assert(!match(&rule, NULL, NULL));
}
END_TEST

START_TEST(targets_operation_only)
{
    static const char *const operations[] = { "{urn:example:orders}*" };
    wd_rule_targets          rule = { .operations = operations, .operation_count = 1 };
    ck_assert(match(&rule, NULL, "{urn:example:orders}Create"));
    ck_assert(match(&rule, "any action", "{urn:example:orders}Create"));
    ck_assert(!match(&rule, "any action", "{urn:example:other}Create"));
    ck_assert(!match(&rule, "any action", NULL));
}
END_TEST

START_TEST(targets_both_must_match)
{
    static const char *const actions[] = { "urn:a/*" };
    static const char *const operations[] = { "{urn:b}X", "{urn:b}Y" };
    wd_rule_targets          rule = { .actions = actions, .action_count = 1, .operations = operations, .operation_count = 2 };
    ck_assert(match(&rule, "urn:a/1", "{urn:b}X"));
    ck_assert(match(&rule, "urn:a/1", "{urn:b}Y"));
    ck_assert(!match(&rule, "urn:a/1", "{urn:b}Z"));
    ck_assert(!match(&rule, "urn:c/1", "{urn:b}X"));
    ck_assert(!match(&rule, "urn:a/1", NULL));
    ck_assert(!match(&rule, NULL, "{urn:b}X"));
}
END_TEST

START_TEST(targets_none_match_everything)
{
    wd_rule_targets rule = { 0 };
    ck_assert(match(&rule, "urn:a", "{b}c"));
    ck_assert(match(&rule, NULL, NULL));
    ck_assert(match(&rule, "", ""));
}
END_TEST

/* ---- the index ------------------------------------------------------------------------ */

#define MAX_TARGETS 3

typedef struct rule_set {
    wd_rule_targets *rules;
    char          (*texts)[2 * MAX_TARGETS][260];
    const char     *(*pointers)[2 * MAX_TARGETS];
    size_t           count;
} rule_set;

static void rule_set_init(rule_set *set, size_t count)
{
    set->count = count;
    set->rules = calloc(count, sizeof *set->rules);
    set->texts = calloc(count, sizeof *set->texts);
    set->pointers = calloc(count, sizeof *set->pointers);
    ck_assert(set->rules && set->texts && set->pointers);
}

static void rule_set_free(rule_set *set)
{
    free(set->rules);
    free(set->texts);
    free(set->pointers);
}

/* Gives rule r n_actions action targets and n_operations operation targets, made by make. */
typedef void (*make_target)(random_state *random, char *out, bool operation);

static void random_rules(rule_set *set, random_state *random, make_target make)
{
    for (size_t r = 0; r < set->count; r++) {
        size_t actions = below(random, 4) == 0 ? 0 : 1 + below(random, MAX_TARGETS);
        size_t operations = below(random, 3) == 0 ? 1 + below(random, MAX_TARGETS) : 0;
        for (size_t i = 0; i < actions; i++) {
            make(random, set->texts[r][i], false);
            set->pointers[r][i] = set->texts[r][i];
        }
        for (size_t i = 0; i < operations; i++) {
            make(random, set->texts[r][MAX_TARGETS + i], true);
            set->pointers[r][MAX_TARGETS + i] = set->texts[r][MAX_TARGETS + i];
        }
        set->rules[r] = (wd_rule_targets){
            .actions = actions ? set->pointers[r] : NULL,
            .action_count = actions,
            .operations = operations ? set->pointers[r] + MAX_TARGETS : NULL,
            .operation_count = operations,
        };
    }
}

/* Short strings over a tiny alphabet: many collisions, every glob shape. */
static void small_target(random_state *random, char *out, bool operation)
{
    random_string(random, out, 5, operation ? "xy*" : "ab*");
}

static void small_text(random_state *random, char *out, bool operation)
{
    random_string(random, out, 6, operation ? "xy" : "ab");
}

/* URN-like targets with prefixes of every length up to ~200: forces the prefix cut. */
static void long_target(random_state *random, char *out, bool operation)
{
    size_t length = below(random, 200);
    for (size_t i = 0; i < length; i++)
        out[i] = "ab"[below(random, 8) == 0];
    out[length] = '\0';
    if (below(random, 4) != 0)
        strcat(out, below(random, 2) ? "*" : "*b*");
    (void)operation;
}

static void long_text(random_state *random, char *out, bool operation)
{
    size_t length = below(random, 220);
    for (size_t i = 0; i < length; i++)
        out[i] = "ab"[below(random, 8) == 0];
    out[length] = '\0';
    (void)operation;
}

static size_t brute_force(const rule_set *set, const char *action, const char *operation, unsigned *out)
{
    size_t found = 0;
    for (size_t r = 0; r < set->count; r++)
        if (match(&set->rules[r], action, operation))
            out[found++] = (unsigned)r;
    return found;
}

static void compare_with_brute_force(uint64_t seed, size_t rule_count, size_t message_count, make_target target,
                                     make_target text)
{
    random_state random = { seed };
    rule_set     set;
    rule_set_init(&set, rule_count);
    random_rules(&set, &random, target);
    wd_target_index *index = wd_target_index_new(set.rules, set.count);
    ck_assert_ptr_nonnull(index);

    unsigned *expected = malloc(rule_count * sizeof *expected);
    unsigned *got = malloc(rule_count * sizeof *got);
    char      action[260];
    char      operation[260];
    size_t    total = 0;
    ck_assert(expected && got);
    for (size_t m = 0; m < message_count; m++) {
        text(&random, action, false);
        text(&random, operation, true);
        const char *a = below(&random, 10) == 0 ? NULL : action;
        const char *o = below(&random, 4) == 0 ? NULL : operation;
        size_t      want = brute_force(&set, a, o, expected);
        size_t      have = wd_target_index_lookup(index, a, a ? strlen(a) : 0, o, o ? strlen(o) : 0, got, rule_count);
        ck_assert_msg(have == want, "message %zu (%s, %s): %zu rules, expected %zu", m, a ? a : "NULL",
                      o ? o : "NULL", have, want);
        ck_assert_int_eq(memcmp(got, expected, want * sizeof *got), 0);
        total += want;
    }
    ck_assert_uint_gt(total, 0); /* the test would prove nothing if nothing ever matched */
    wd_target_index_free(index);
    free(expected);
    free(got);
    rule_set_free(&set);
}

START_TEST(index_agrees_with_brute_force_on_short_targets)
{
    compare_with_brute_force(12345, 3000, 3000, small_target, small_text);
}
END_TEST

START_TEST(index_agrees_with_brute_force_on_many_prefix_lengths)
{
    compare_with_brute_force(67890, 2000, 2000, long_target, long_text);
}
END_TEST

START_TEST(index_finds_only_the_rules_that_can_apply)
{
    /* 10,000 rules over 1,000 actions: rule r targets action r % 1000, exactly when r / 1000
    ** is odd, else by a glob with the action's full text as its prefix. */
    enum { RULES = 10000, ACTIONS = 1000 };
    rule_set set;
    rule_set_init(&set, RULES);
    for (size_t r = 0; r < RULES; r++) {
        snprintf(set.texts[r][0], sizeof set.texts[r][0], "urn:example:service/Operation%04zu%s", r % ACTIONS,
                 r / ACTIONS % 2 ? "" : "*");
        set.pointers[r][0] = set.texts[r][0];
        set.rules[r] = (wd_rule_targets){ .actions = set.pointers[r], .action_count = 1 };
    }
    wd_target_index *index = wd_target_index_new(set.rules, set.count);
    ck_assert_ptr_nonnull(index);
    unsigned *out = malloc(RULES * sizeof *out);
    ck_assert_ptr_nonnull(out);
    for (size_t a = 0; a < ACTIONS; a++) {
        char action[64];
        int  length = snprintf(action, sizeof action, "urn:example:service/Operation%04zu", a);
        size_t found = wd_target_index_lookup(index, action, (size_t)length, NULL, 0, out, RULES);
        ck_assert_uint_eq(found, RULES / ACTIONS);
        for (size_t i = 0; i < found; i++)
            ck_assert_uint_eq(out[i], a + i * ACTIONS);
    }
    /* A suffix only the globs accept. */
    size_t found = wd_target_index_lookup(index, "urn:example:service/Operation0007/v2", 36, NULL, 0, out, RULES);
    ck_assert_uint_eq(found, RULES / ACTIONS / 2);
    ck_assert_uint_eq(wd_target_index_lookup(index, "urn:example:service/Nothing", 27, NULL, 0, out, RULES), 0);
    ck_assert_uint_eq(wd_target_index_lookup(index, NULL, 0, "{x}y", 4, out, RULES), 0);
    free(out);
    wd_target_index_free(index);
    rule_set_free(&set);
}
END_TEST

START_TEST(index_sides_and_the_always_list)
{
    static const char *const a_exact[] = { "urn:a" };
    static const char *const a_glob[] = { "urn:*" };
    static const char *const o_exact[] = { "{n}Op" };
    static const char *const o_glob[] = { "{n}*" };
    const wd_rule_targets    rules[] = {
        { 0 },                                                                               /* 0: always */
        { .actions = a_exact, .action_count = 1 },                                           /* 1 */
        { .actions = a_glob, .action_count = 1, .operations = o_exact, .operation_count = 1 }, /* 2 */
        { .operations = o_glob, .operation_count = 1 },                                      /* 3 */
        { .operations = o_exact, .operation_count = 1 },                                     /* 4 */
    };
    wd_target_index *index = wd_target_index_new(rules, 5);
    unsigned         out[5];
    ck_assert_ptr_nonnull(index);

    ck_assert_uint_eq(wd_target_index_lookup(index, NULL, 0, NULL, 0, out, 5), 1);
    ck_assert_uint_eq(out[0], 0);
    ck_assert_uint_eq(wd_target_index_lookup(index, "urn:a", 5, NULL, 0, out, 5), 2);
    ck_assert_uint_eq(out[1], 1);
    ck_assert_uint_eq(wd_target_index_lookup(index, "urn:a", 5, "{n}Op", 5, out, 5), 5);
    for (unsigned i = 0; i < 5; i++)
        ck_assert_uint_eq(out[i], i);
    ck_assert_uint_eq(wd_target_index_lookup(index, NULL, 0, "{n}Op", 5, out, 5), 3);
    ck_assert_uint_eq(out[0], 0);
    ck_assert_uint_eq(out[1], 3);
    ck_assert_uint_eq(out[2], 4);
    ck_assert_uint_eq(wd_target_index_lookup(index, "urn:b", 5, "{n}Other", 8, out, 5), 2);
    ck_assert_uint_eq(out[1], 3);
    /* capacity bounds the answer: the first rules in order */
    ck_assert_uint_eq(wd_target_index_lookup(index, "urn:a", 5, "{n}Op", 5, out, 2), 2);
    ck_assert_uint_eq(out[0], 0);
    ck_assert_uint_eq(out[1], 1);
    wd_target_index_free(index);
}
END_TEST

START_TEST(index_rule_filed_twice_is_returned_once)
{
    static const char *const actions[] = { "urn:a", "urn:*", "urn:a*", "u*", "*", "urn:a" };
    const wd_rule_targets    rules[] = { { .actions = actions, .action_count = 6 } };
    wd_target_index         *index = wd_target_index_new(rules, 1);
    unsigned                 out[1];
    ck_assert_ptr_nonnull(index);
    ck_assert_uint_eq(wd_target_index_lookup(index, "urn:a", 5, NULL, 0, out, 1), 1);
    ck_assert_uint_eq(out[0], 0);
    ck_assert_uint_eq(wd_target_index_lookup(index, "x", 1, NULL, 0, out, 1), 1);
    wd_target_index_free(index);
}
END_TEST

START_TEST(index_many_prefix_lengths_one_message)
{
    /* Globs "a*", "aa*", ... with 200 different prefix lengths, all matching one action:
    ** more runs than a look-up could merge without the prefix cut. */
    enum { RULES = 200 };
    rule_set set;
    rule_set_init(&set, RULES);
    for (size_t r = 0; r < RULES; r++) {
        memset(set.texts[r][0], 'a', r + 1);
        strcpy(set.texts[r][0] + r + 1, r % 3 ? "*" : "*a");
        set.pointers[r][0] = set.texts[r][0];
        set.rules[r] = (wd_rule_targets){ .actions = set.pointers[r], .action_count = 1 };
    }
    wd_target_index *index = wd_target_index_new(set.rules, set.count);
    ck_assert_ptr_nonnull(index);
    char     action[256];
    unsigned out[RULES];
    memset(action, 'a', 250);
    ck_assert_uint_eq(wd_target_index_lookup(index, action, 250, NULL, 0, out, RULES), RULES);
    for (unsigned i = 0; i < RULES; i++)
        ck_assert_uint_eq(out[i], i);
    action[100] = 'b'; /* only prefixes of up to 100 'a's still match; "...*a" needs a final 'a' */
    size_t found = wd_target_index_lookup(index, action, 250, NULL, 0, out, RULES);
    ck_assert_uint_eq(found, 100);
    action[249] = 'b';
    found = wd_target_index_lookup(index, action, 250, NULL, 0, out, RULES);
    ck_assert_uint_eq(found, 100 - 34); /* rules 0, 3, ..., 99 end in 'a' */
    wd_target_index_free(index);
    rule_set_free(&set);
}
END_TEST

START_TEST(index_empty)
{
    wd_target_index *index = wd_target_index_new(NULL, 0);
    unsigned         out[1];
    ck_assert_ptr_nonnull(index);
    ck_assert_uint_eq(wd_target_index_lookup(index, "a", 1, "b", 1, out, 1), 0);
    wd_target_index_free(index);
    wd_target_index_free(NULL);
}
END_TEST

typedef struct shared_lookup {
    const wd_target_index *index;
    const rule_set        *set;
    uint64_t               seed;
    int                    mismatches;
} shared_lookup;

static void *look_up_concurrently(void *argument)
{
    shared_lookup *job = argument;
    random_state   random = { job->seed };
    unsigned      *expected = malloc(job->set->count * sizeof *expected);
    unsigned      *got = malloc(job->set->count * sizeof *got);
    char           action[260];
    char           operation[260];
    for (int m = 0; m < 2000 && expected && got; m++) {
        small_text(&random, action, false);
        small_text(&random, operation, true);
        size_t want = brute_force(job->set, action, operation, expected);
        size_t have = wd_target_index_lookup(job->index, action, strlen(action), operation, strlen(operation), got,
                                             job->set->count);
        if (have != want || memcmp(got, expected, want * sizeof *got) != 0)
            job->mismatches++;
    }
    if (!expected || !got)
        job->mismatches++;
    free(expected);
    free(got);
    return NULL;
}

START_TEST(index_is_shared_between_threads)
{
    random_state random = { 424242 };
    rule_set     set;
    rule_set_init(&set, 500);
    random_rules(&set, &random, small_target);
    wd_target_index *index = wd_target_index_new(set.rules, set.count);
    ck_assert_ptr_nonnull(index);
    pthread_t     threads[4];
    shared_lookup jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (shared_lookup){ .index = index, .set = &set, .seed = 1000 + (uint64_t)i };
        ck_assert_int_eq(pthread_create(&threads[i], NULL, look_up_concurrently, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        ck_assert_int_eq(jobs[i].mismatches, 0);
    }
    wd_target_index_free(index);
    rule_set_free(&set);
}
END_TEST

static Suite *targets_suite(void)
{
    Suite *suite = suite_create("targets");
    TCase *globs = tcase_create("glob");
    tcase_add_test(globs, glob_exact_strings);
    tcase_add_test(globs, glob_prefix_and_suffix);
    tcase_add_test(globs, glob_star_alone_and_empty);
    tcase_add_test(globs, glob_several_stars);
    tcase_add_test(globs, glob_backtracking);
    tcase_add_test(globs, glob_text_is_bounded_by_its_length);
    tcase_add_test(globs, glob_agrees_with_the_definition);
    tcase_add_test(globs, glob_is_linear_on_hostile_input);
    suite_add_tcase(suite, globs);

    TCase *targets = tcase_create("targets");
    tcase_add_test(targets, targets_action_only);
    tcase_add_test(targets, targets_operation_only);
    tcase_add_test(targets, targets_both_must_match);
    tcase_add_test(targets, targets_none_match_everything);
    suite_add_tcase(suite, targets);

    TCase *index = tcase_create("index");
    tcase_add_test(index, index_agrees_with_brute_force_on_short_targets);
    tcase_add_test(index, index_agrees_with_brute_force_on_many_prefix_lengths);
    tcase_add_test(index, index_finds_only_the_rules_that_can_apply);
    tcase_add_test(index, index_sides_and_the_always_list);
    tcase_add_test(index, index_rule_filed_twice_is_returned_once);
    tcase_add_test(index, index_many_prefix_lengths_one_message);
    tcase_add_test(index, index_empty);
    tcase_add_test(index, index_is_shared_between_threads);
    suite_add_tcase(suite, index);
    return suite;
}

int main(void)
{
    return tr_run_suite(targets_suite());
}
