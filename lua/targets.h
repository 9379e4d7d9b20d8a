/*
** targets.h — rule targets (action / operation: exact strings and '*' globs, where '*'
** matches any run of characters) and the index that finds, for one message, the rules
** whose targets can match, without looking at the others: exact targets in a hash table,
** globs by their literal prefix. The cost of a look-up does not grow with the number of
** rules that cannot apply.
*/
#ifndef WD_LUA_TARGETS_H
#define WD_LUA_TARGETS_H

#include <stdbool.h>
#include <stddef.h>

/* True when text matches pattern ('*' = any run, every other character literal). Linear
** in practice (greedy with one backtrack point). */
bool wd_glob_match(const char *pattern, const char *text, size_t text_length);

typedef struct wd_rule_targets {
    const char *const *actions;    /* NULL when the rule names no action target */
    size_t             action_count;
    const char *const *operations; /* NULL when the rule names no operation target */
    size_t             operation_count;
} wd_rule_targets;

/* True when every target the rule names matches (a rule naming none matches everything). */
bool wd_targets_match(const wd_rule_targets *targets, const char *action, size_t action_length,
                      const char *operation, size_t operation_length);

typedef struct wd_target_index wd_target_index;

/* Builds an index over rules[0..count) (borrowed; they must outlive the index). NULL on
** allocation failure. Immutable afterwards: safe to share between threads. */
wd_target_index *wd_target_index_new(const wd_rule_targets *rules, size_t count);

/* Writes into out (capacity entries; the caller sizes it to the rule count) the numbers of
** the rules whose targets all match action/operation (either may be NULL = absent: then
** only rules that do not target that field can match), in ascending rule order, each once.
** Returns how many were written. Thread-safe; allocates nothing. */
size_t wd_target_index_lookup(const wd_target_index *index, const char *action, size_t action_length,
                              const char *operation, size_t operation_length, unsigned *out, size_t capacity);

/* The bytes the index holds (counted against the compiling state's memory cap). */
size_t wd_target_index_bytes(const wd_target_index *index);

void wd_target_index_free(wd_target_index *index);

#endif
