/*
** test_engine.h — policy folders for the engine tests: a fresh folder under $TMPDIR, files
** written into it (parents made as needed), and its removal with everything in it.
*/
#ifndef WARDEN_TEST_ENGINE_H
#define WARDEN_TEST_ENGINE_H

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

#endif
