/*
** rules.h — the declarations a policy file makes while it loads: `permit "name" { ... }`,
** `forbid "name" { ... }` and, in test files, `test "name" { ... }`. Their specs are checked
** here (keys, types, duplicate names; errors carry file and line), and what they declare is
** collected for the policy state: rule metadata in C, `when` functions and test specs in the
** Lua registry.
*/
#ifndef WD_LUA_RULES_H
#define WD_LUA_RULES_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

/* Longest rule or test name: names are copied into every decision that reports them (its
** rules and errors) and into log lines, so they are kept short. */
#define WD_RULE_NAME_MAX 1024

typedef enum wd_rule_effect { WD_RULE_PERMIT = 1, WD_RULE_FORBID = 2 } wd_rule_effect;

typedef struct wd_rule {
    char          *name;
    wd_rule_effect effect;
    char          *file;          /* relative path of the policy file */
    int            line;
    char          *description;   /* or NULL */
    char         **actions;       /* NULL when the rule names no action target */
    size_t         action_count;
    char         **operations;
    size_t         operation_count;
    int            when;          /* registry reference of the `when` function, or LUA_NOREF */
} wd_rule;

typedef struct wd_policy_test_case {
    char *name;
    char *file;
    int   line;
    int   spec;                   /* registry reference of the spec table */
} wd_policy_test_case;

/* Everything one state's policy files declared, in declaration order. Owned by the state's
** builder; freed with wd_rules_clear (registry references die with the state). */
typedef struct wd_rule_list {
    wd_rule             *rules;
    size_t               count;
    wd_policy_test_case *tests;
    size_t               test_count;
    const char          *current_file; /* set by the loader while a file runs (borrowed) */
    bool                 loading_tests; /* test files may declare tests, not rules */
} wd_rule_list;

/* Pushes a table { permit = ..., forbid = ..., test = ... } whose functions add to list
** (which must outlive the state's loading). [-0, +1, m] */
void wd_rules_push_declarers(lua_State *L, wd_rule_list *list);

/* Frees the C side of the list (names, targets) and zeroes it. */
void wd_rules_clear(wd_rule_list *list);

#endif
