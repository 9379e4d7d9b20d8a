/*
** test_engine.h — policy folders for the engine tests: a fresh folder under $TMPDIR, files
** written into it (parents made as needed), and its removal with everything in it; receiving
** and deciding a message at the pinned clock; and a logger that keeps the lines it is given.
*/
#ifndef WARDEN_TEST_ENGINE_H
#define WARDEN_TEST_ENGINE_H

#include <warden.h>

typedef struct te_policy_dir {
    char path[256];
} te_policy_dir;

/* A new empty folder $TMPDIR/warden-LABEL-XXXXXX (/tmp without TMPDIR); fails the test when it
** cannot be made. */
te_policy_dir te_make_dir(const char *label);

/* Writes text to NAME inside dir in place, making every missing parent folder first. */
void te_write_file(const te_policy_dir *dir, const char *name, const char *text);

/* The same, but written whole to NAME.tmp and renamed over NAME, as editors and deploy tools
** do: a reload never sees a half-written file. */
void te_replace_file(const te_policy_dir *dir, const char *name, const char *text);

/* Removes dir and everything under it (symbolic links are removed, not followed). */
void te_remove_dir(const te_policy_dir *dir);

/* Receives text at TM_NOW (test_messages.h), failing the test unless it is accepted. The
** message is the caller's. */
warden_message *te_receive(warden_engine *engine, const char *text);

/* Receives text at TM_NOW and decides on it, failing the test unless both succeed. The
** decision is the caller's; the message is freed. */
warden_decision *te_decide(warden_engine *engine, const char *text);

/* The first 16 lines a logger was given (a warden_log_fn context), each cut at 1023 bytes. */
typedef struct te_log_lines {
    char lines[16][1024];
    int count;
} te_log_lines;

/* A warden_log_fn: appends message to the te_log_lines context, ignoring level. */
void te_collect_log(void *context, int level, const char *message);

#endif
