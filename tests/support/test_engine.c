/*
** test_engine.c — the policy folders of test_engine.h, shared by the engine tests so each
** test file keeps only what it checks.
*/
#define _XOPEN_SOURCE 700 /* nftw, mkdtemp */
#include "test_engine.h"

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test_messages.h"

te_policy_dir te_make_dir(const char *label)
{
    te_policy_dir dir;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir.path, sizeof dir.path, "%s/warden-%s-XXXXXX", tmp, label);
    ck_assert_ptr_nonnull(mkdtemp(dir.path));
    return dir;
}

/* The full path of NAME in dir, every missing parent made, like mkdir -p. */
static void prepare_path(const te_policy_dir *dir, const char *name, char *path, size_t capacity)
{
    int length = snprintf(path, capacity, "%s/%s", dir->path, name);
    ck_assert(length > 0 && (size_t)length < capacity);
    for (char *slash = strchr(path + strlen(dir->path) + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(path, 0755);
        *slash = '/';
    }
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

void te_write_file(const te_policy_dir *dir, const char *name, const char *text)
{
    char path[512];
    prepare_path(dir, name, path, sizeof path);
    write_text(path, text);
}

void te_replace_file(const te_policy_dir *dir, const char *name, const char *text)
{
    char path[512], temporary[600];
    prepare_path(dir, name, path, sizeof path);
    snprintf(temporary, sizeof temporary, "%s.tmp", path);
    write_text(temporary, text);
    ck_assert_int_eq(rename(temporary, path), 0);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void te_remove_dir(const te_policy_dir *dir)
{
    nftw(dir->path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

warden_message *te_receive(warden_engine *engine, const char *text)
{
    warden_message *message = NULL;
    warden_error err;
    warden_receive_options options = { .size = sizeof options, .now = TM_NOW };
    ck_assert_int_eq(warden_engine_receive(engine, text, strlen(text), &options, &message, &err), WARDEN_OK);
    return message;
}

warden_decision *te_decide(warden_engine *engine, const char *text)
{
    warden_message *message = te_receive(engine, text);
    warden_decision *decision = NULL;
    warden_error err;
    ck_assert_msg(warden_engine_decide(engine, message, &decision, &err) == WARDEN_OK, "decide: %s", err.text);
    warden_message_free(message);
    return decision;
}

void te_collect_log(void *context, int level, const char *message)
{
    te_log_lines *log = context;
    (void)level;
    if (log->count < (int)(sizeof log->lines / sizeof log->lines[0]))
        snprintf(log->lines[log->count++], sizeof log->lines[0], "%s", message);
}
