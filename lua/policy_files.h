/*
** policy_files.h — reading a policy directory (docs/reference.md, Policy directory): policy
** files *.lua at any depth, policy tests *_test.lua, data documents data/NAME.json; *.lua under
** the top-level data/ and fixtures/ folders are not policies; names starting with a dot are
** ignored; symbolic links are followed, and a link loop is an error. The revision id is
** "sha256:" + hex over the files' relative paths and contents, in path order.
*/
#ifndef WD_LUA_POLICY_FILES_H
#define WD_LUA_POLICY_FILES_H

#include <stddef.h>

typedef struct wd_policy_file {
    char  *path;    /* relative to the directory, '/'-separated, e.g. "orders/clerks.lua" */
    char  *text;    /* the contents, NUL-terminated (owned) */
    size_t length;
    char  *name;    /* data documents: NAME of data/NAME.json; NULL otherwise */
} wd_policy_file;

typedef struct wd_policy_files {
    char           *directory;     /* as given, owned */
    wd_policy_file *policies;      /* *.lua that are not tests, sorted by path (bytewise) */
    size_t          policy_count;
    wd_policy_file *tests;         /* *_test.lua, sorted by path */
    size_t          test_count;
    wd_policy_file *data;          /* data/NAME.json (top-level data/ only), sorted by path */
    size_t          data_count;
    char            revision[72];  /* "sha256:" + 64 hex digits */
} wd_policy_files;

/* Limits that keep a hostile or mistaken directory from exhausting the process. */
#define WD_POLICY_MAX_FILES      20000
#define WD_POLICY_MAX_FILE_BYTES (4u << 20)
#define WD_POLICY_MAX_DEPTH      32

/* Reads the directory into *out (cleared first; on failure left empty). Returns 0, or -1
** with error (capacity bytes) naming the path and the problem: not a directory, unreadable
** file, a link loop, a file larger than WD_POLICY_MAX_FILE_BYTES, too many files, too deep,
** a data document whose NAME is not a Lua identifier ([A-Za-z_][A-Za-z0-9_]*). The revision
** hashes, for every policy, test and data file in one bytewise path order: the path, a NUL
** byte, the length as 8 bytes big-endian, the contents. */
int wd_policy_files_read(const char *directory, wd_policy_files *out, char *error, size_t capacity);

void wd_policy_files_clear(wd_policy_files *files);

#endif
