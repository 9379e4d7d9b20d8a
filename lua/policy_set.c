/*
** policy_set.c — compiling a policy directory into a revision: read the source, load it
** once in a scratch state to learn and check the rules, and index the rules' targets. The
** scratch state is thrown away; each deciding thread loads its own from the same source.
*/
#include "policy_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "invariant.h"
#include "policy_state.h"

static void ignore_log(void *context, const char *line, size_t length)
{
    (void)context;
    (void)line;
    (void)length;
}

static void free_set(wd_policy_set *set)
{
    wd_target_index_free(set->index);
    free(set->targets);
    wd_rules_clear(&set->rules);
    wd_policy_source_clear(&set->source);
    free(set);
}

static int build_index(wd_policy_set *set)
{
    size_t count = set->rules.count;
    set->targets = calloc(count > 0 ? count : 1, sizeof *set->targets);
    if (set->targets == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        const wd_rule *rule = &set->rules.rules[i];
        set->targets[i].actions = (const char *const *)rule->actions;
        set->targets[i].action_count = rule->action_count;
        set->targets[i].operations = (const char *const *)rule->operations;
        set->targets[i].operation_count = rule->operation_count;
    }
    set->index = wd_target_index_new(set->targets, count);
    return set->index != NULL ? 0 : -1;
}

int wd_policy_set_compile(const char *directory, const wd_sandbox_limits *limits, wd_policy_set **out,
                          char *error, size_t capacity)
{
    wd_policy_state *scratch = NULL;
    wd_policy_set *set = calloc(1, sizeof *set);

    *out = NULL;
    if (set == NULL) {
        snprintf(error, capacity, "out of memory");
        return -1;
    }
    atomic_init(&set->references, 1);
    set->loaded_at = (int64_t)time(NULL);
    if (wd_policy_source_read(directory, limits, &set->source, error, capacity) != 0)
        goto failed;
    /* the scratch state reads the source only; the set is not shared until it is complete */
    if (wd_policy_state_load(&set->source, ignore_log, NULL, &scratch, error, capacity) != 0)
        goto failed;
    /* The rule metadata moves from the scratch state to the set; the `when` references
    ** die with the scratch state. */
    set->rules = scratch->list;
    memset(&scratch->list, 0, sizeof scratch->list);
    for (size_t i = 0; i < set->rules.count; i++)
        set->rules.rules[i].when = -1;
    if (build_index(set) != 0) {
        snprintf(error, capacity, "out of memory indexing the rules");
        goto failed;
    }
    /* The index counts against limits.memory with the rules and the Lua heap of the load. */
    size_t index_bytes = wd_target_index_bytes(set->index) + set->rules.count * sizeof *set->targets;
    if (!wd_sandbox_reserve(scratch->L, index_bytes)) {
        snprintf(error, capacity, "%s: indexing %zu rules takes %zu bytes more than limits.memory allows",
                 directory, set->rules.count, index_bytes);
        goto failed;
    }
    wd_policy_state_free(scratch);
    scratch = NULL;
    *out = set;
    return 0;

failed:
    wd_policy_state_free(scratch);
    wd_policy_set_unref(set);
    return -1;
}

wd_policy_set *wd_policy_set_ref(wd_policy_set *set)
{
    /* only a holder of a reference may make another */
    size_t before = atomic_fetch_add_explicit(&set->references, 1, memory_order_relaxed);
    WD_ASSERT(before > 0);
    (void)before;
    return set;
}

void wd_policy_set_unref(wd_policy_set *set)
{
    if (set == NULL)
        return;
    size_t before = atomic_fetch_sub_explicit(&set->references, 1, memory_order_acq_rel);
    WD_ASSERT(before > 0); /* more unrefs than refs: someone freed a set they did not own */
    if (before == 1)
        free_set(set);
}
