/*
** policy_set.h — a compiled policy set: one immutable *revision*. It holds the source it
** was compiled from (files and limits, so every thread's Lua state can load exactly the same
** thing), the rule metadata in declaration order, and the target index over it.
** Reference-counted: each thread's state and each decision in flight hold a reference; it
** is freed when the last lets go.
*/
#ifndef WD_LUA_POLICY_SET_H
#define WD_LUA_POLICY_SET_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "policy_source.h"
#include "rules.h"
#include "targets.h"

typedef struct wd_policy_set {
    atomic_size_t     references;
    wd_policy_source  source;       /* owned; .files.revision names the revision */
    wd_rule_list      rules;        /* metadata only: the `when` references belong to no state */
    wd_rule_targets  *targets;      /* one per rule, views into rules */
    wd_target_index  *index;
    int64_t           loaded_at;    /* Unix seconds */
} wd_policy_set;

/* Reads and compiles a policy directory: the source is read, every policy file loads from it
** in a scratch state (wd_policy_state_load), its declarations are checked, and the target
** index is built. Test files are not run here.
** Returns 0 with *out holding one reference, or -1 with error ("file:line: message"). */
int wd_policy_set_compile(const char *directory, const wd_sandbox_limits *limits, wd_policy_set **out,
                          char *error, size_t capacity);

wd_policy_set *wd_policy_set_ref(wd_policy_set *set);
void wd_policy_set_unref(wd_policy_set *set); /* NULL is a no-op */

#endif
