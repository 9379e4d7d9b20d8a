/*
** config_schema.h — the one table of configuration keys (docs/reference.md, Configuration) that
** both the config file loader (config_file.c) and warden_config_set (config.c) go through, so
** the two cannot disagree on a key's name, type, range or storage. Private to engine/config*.c.
*/
#ifndef WD_ENGINE_CONFIG_SCHEMA_H
#define WD_ENGINE_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef enum wd_config_kind {
    WD_CONFIG_BOOL,      /* bool at offset */
    WD_CONFIG_INT,       /* int64_t at offset, within [min, max] */
    WD_CONFIG_OPT_INT,   /* like INT, or nil, stored as 0 ("off") */
    WD_CONFIG_STRING,    /* char * at offset; nil or "" stores NULL */
    WD_CONFIG_PATH,      /* like STRING; a config file resolves it against its folder */
    WD_CONFIG_PATH_LIST, /* wd_string_array at offset; values are appended, never replace */
    WD_CONFIG_NAME_LIST, /* wd_string_array at offset; a value replaces the whole list */
    WD_CONFIG_CHOICE     /* one of choices[], stored through set_choice(index) */
} wd_config_kind;

typedef struct wd_config_key {
    const char        *name;    /* dotted, e.g. "clock.ttl" */
    wd_config_kind     kind;
    size_t             offset;  /* offsetof(warden_config, field); unused for CHOICE */
    int64_t            min, max;
    const char *const *choices; /* CHOICE: NULL-terminated */
    void             (*set_choice)(warden_config *config, int index);
} wd_config_key;

/* A value on its way into a config, already of the key's kind. Strings and lists are owned
** by the value until wd_config_store consumes them. */
typedef struct wd_config_value {
    bool            is_nil;  /* OPT_INT, STRING, PATH */
    bool            boolean;
    int64_t         integer;
    char           *text;    /* STRING, PATH, CHOICE */
    wd_string_array list;    /* PATH_LIST, NAME_LIST */
} wd_config_value;

/* The key named exactly name[0..length), or NULL. */
const wd_config_key *wd_config_key_find(const char *name, size_t length);

/* True when name[0..length) is a section ("clock") holding dotted keys ("clock.ttl"). */
bool wd_config_is_section(const char *name, size_t length);

/* What a value of the key must be ("a positive integer"), for "KEY: expected <this>, got ..."
** messages; written to out (always NUL-terminated). */
void wd_config_expected(const wd_config_key *key, char *out, size_t size);

/* Checks value against the key's range or choices and stores it in config. Consumes value
** (its strings are moved into config or freed) whether it succeeds or not. On failure config
** is unchanged and err says why: WARDEN_E_CONFIG or WARDEN_E_NOMEM. */
int wd_config_store(warden_config *config, const wd_config_key *key, wd_config_value *value,
                    warden_error *err);

/* Frees what value owns and zeroes it. */
void wd_config_value_clear(wd_config_value *value);

/* A deep copy of src, callbacks included. WARDEN_E_NOMEM on failure (*out is then NULL). */
int wd_config_copy(const warden_config *src, warden_config **out);

/* Copies text[0..length) to out in a form safe to show a person: control bytes become '?',
** and text longer than limit bytes is cut and ends in "...". out is always NUL-terminated. */
void wd_config_quote(char *out, size_t out_size, const char *text, size_t length, size_t limit);

#endif
