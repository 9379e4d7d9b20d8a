/*
** policy_source.h — what a policy set is made from: the files of a policy directory and the
** sandbox limits they load under. Plain data with one owner (a compiled set owns its own;
** `warden check` keeps one on its stack); a Lua state loads from a source and never owns it.
*/
#ifndef WD_LUA_POLICY_SOURCE_H
#define WD_LUA_POLICY_SOURCE_H

#include <stddef.h>

#include "policy_files.h"
#include "sandbox.h"

typedef struct wd_policy_source {
    wd_policy_files   files;
    wd_sandbox_limits limits;
} wd_policy_source;

/* Reads directory (wd_policy_files_read) into *out, with limits. Returns 0, or -1 with error
** and *out empty. */
int wd_policy_source_read(const char *directory, const wd_sandbox_limits *limits, wd_policy_source *out,
                          char *error, size_t capacity);

/* Frees what the source owns and empties it. */
void wd_policy_source_clear(wd_policy_source *source);

/* The bytes of every file's text: what a state loaded from the source holds at least. */
size_t wd_policy_source_text_bytes(const wd_policy_source *source);

#endif
