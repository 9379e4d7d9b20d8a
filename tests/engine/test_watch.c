/*
** test_watch.c — the file watcher (engine/watch.c): every way an operator changes a policy
** directory or a trust file (in-place write, rename-over, delete, new subdirectories, bursts,
** directory symlink swaps, Kubernetes ConfigMap "..data" swaps, a directory deleted and made
** again), the name filter for single files, queue overflow, the polling fallback, and stop.
** Each wait is bounded (3 s); the tests assert what was called, not how fast.
*/
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/watch.h"

#define WAIT_MS    3000   /* the longest any test waits for a callback */
#define DEBOUNCE   50
#define SETTLE_MS  (8 * DEBOUNCE)   /* quiet time after which no further callback is expected */

/* The per-test scratch folder (checked fixtures run in the forked test process). */
static char scratch[PATH_MAX];

/* snprintf that fails the test instead of truncating. */
static void format_path(char *out, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));
static void format_path(char *out, size_t size, const char *format, ...)
{
    va_list arguments;
    int length;

    va_start(arguments, format);
    length = vsnprintf(out, size, format, arguments);
    va_end(arguments);
    ck_assert_msg(length >= 0 && (size_t)length < size, "path too long");
}

static void remove_tree(const char *path)
{
    DIR *dir = opendir(path);
    struct dirent *entry;
    struct stat st;

    if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
        unlink(path);
        if (dir != NULL)
            closedir(dir);
        return;
    }
    if (dir == NULL) {
        unlink(path);
        return;
    }
    while ((entry = readdir(dir)) != NULL) {
        char child[PATH_MAX];
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        format_path(child, sizeof child, "%s/%s", path, entry->d_name);
        remove_tree(child);
    }
    closedir(dir);
    rmdir(path);
}

static void make_scratch(void)
{
    const char *base = getenv("TMPDIR");
    format_path(scratch, sizeof scratch, "%s/warden-watch-XXXXXX", base != NULL && base[0] != '\0' ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(scratch));
}

static void drop_scratch(void)
{
    remove_tree(scratch);
}

/* scratch + "/" + name, in a static ring so a test can hold a few at once. */
static const char *at(const char *name)
{
    static char ring[8][PATH_MAX];
    static int next;
    char *path = ring[next++ % 8];

    format_path(path, PATH_MAX, "%s/%s", scratch, name);
    return path;
}

static void make_dir(const char *name)
{
    ck_assert_msg(mkdir(at(name), 0700) == 0, "mkdir %s: %s", name, strerror(errno));
}

/* fopen "w" + write + close: truncate, write, close-write in place. */
static void write_in_place(const char *name, const char *text)
{
    FILE *file = fopen(at(name), "w");

    ck_assert_msg(file != NULL, "open %s: %s", name, strerror(errno));
    ck_assert_int_eq(fputs(text, file) >= 0, 1);
    ck_assert_int_eq(fclose(file), 0);
}

/* What editors and deploy tools do: write name.tmp, rename it over name. */
static void write_by_rename(const char *name, const char *text)
{
    char temporary[PATH_MAX];

    format_path(temporary, sizeof temporary, "%s.tmp", name);
    write_in_place(temporary, text);
    ck_assert_int_eq(rename(at(temporary), at(name)), 0);
}

static void make_link(const char *target, const char *name)
{
    ck_assert_msg(symlink(target, at(name)) == 0, "symlink %s: %s", name, strerror(errno));
}

/* Retarget the link name atomically: a new link beside it, renamed over it. */
static void swap_link(const char *target, const char *name)
{
    char temporary[PATH_MAX];

    format_path(temporary, sizeof temporary, "%s_tmp", name);
    make_link(target, temporary);
    ck_assert_int_eq(rename(at(temporary), at(name)), 0);
}

static void sleep_ms(int ms)
{
    struct timespec pause = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
        ;
}

/* ---------------------------------------------------------------------------------------
** The callback's side
*/

typedef struct counter {
    pthread_mutex_t lock;
    pthread_cond_t  changed;
    int             calls;
    bool            hold_first;   /* the first call waits until released */
    bool            released;
} counter;

static void counter_init(counter *c)
{
    pthread_condattr_t attributes;

    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&c->changed, &attributes);
    pthread_condattr_destroy(&attributes);
}

static void counter_destroy(counter *c)
{
    pthread_cond_destroy(&c->changed);
    pthread_mutex_destroy(&c->lock);
}

static void on_change(void *context)
{
    counter *c = context;

    pthread_mutex_lock(&c->lock);
    c->calls++;
    pthread_cond_broadcast(&c->changed);
    while (c->hold_first && c->calls == 1 && !c->released)
        pthread_cond_wait(&c->changed, &c->lock);
    pthread_mutex_unlock(&c->lock);
}

static void counter_release(counter *c)
{
    pthread_mutex_lock(&c->lock);
    c->released = true;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
}

/* Waits (at most timeout_ms) for at least `calls` calls; returns the count seen. */
static int wait_calls(counter *c, int calls, int timeout_ms)
{
    struct timespec deadline;
    int seen;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->lock);
    while (c->calls < calls && pthread_cond_timedwait(&c->changed, &c->lock, &deadline) == 0)
        ;
    seen = c->calls;
    pthread_mutex_unlock(&c->lock);
    return seen;
}

static int calls_now(counter *c)
{
    return wait_calls(c, 0, 0);
}

/* Lets any late callback happen, then returns the count. */
static int settle(counter *c)
{
    sleep_ms(SETTLE_MS);
    return calls_now(c);
}

static wd_watch_stats stats_of(wd_watch *watch)
{
    wd_watch_stats stats;

    wd_watch_get_stats(watch, &stats);
    return stats;
}

/* Waits (at most WAIT_MS) until the watch has made `polls` polling passes. */
static uint64_t wait_polls(wd_watch *watch, uint64_t polls)
{
    uint64_t seen = 0;

    for (int waited = 0; waited < WAIT_MS && (seen = stats_of(watch).polls) < polls; waited += 10)
        sleep_ms(10);
    return seen;
}

static wd_watch *start_watch(const char *directory, const char *file, counter *c, int debounce_ms, int poll_ms,
                             bool force_polling)
{
    char directory_path[PATH_MAX], file_path[PATH_MAX], error[256] = "";
    const char *directories[1], *files[1];
    wd_watch_options options;
    wd_watch *watch = NULL;

    memset(&options, 0, sizeof options);
    if (directory != NULL) {
        format_path(directory_path, sizeof directory_path, "%s/%s", scratch, directory);
        directories[0] = directory_path;
        options.directories = directories;
        options.directory_count = 1;
    }
    if (file != NULL) {
        format_path(file_path, sizeof file_path, "%s/%s", scratch, file);
        files[0] = file_path;
        options.files = files;
        options.file_count = 1;
    }
    options.debounce_ms = debounce_ms;
    options.poll_ms = poll_ms;
    options.force_polling = force_polling;
    ck_assert_msg(wd_watch_start(&options, on_change, c, &watch, error, sizeof error) == 0, "%s", error);
    ck_assert_ptr_nonnull(watch);
    return watch;
}

/* ---------------------------------------------------------------------------------------
** Arguments and stop
*/

START_TEST(start_refuses_bad_arguments_and_stop_null_is_a_no_op)
{
    counter c;
    wd_watch_options options;
    wd_watch *watch = (wd_watch *)&c;
    const char *missing[1] = { NULL };
    wd_watch_stats stats;
    char error[128] = "";

    counter_init(&c);
    memset(&options, 0, sizeof options);
    ck_assert_int_eq(wd_watch_start(NULL, on_change, &c, &watch, error, sizeof error), -1);
    ck_assert_ptr_null(watch);
    ck_assert_str_ne(error, "");
    ck_assert_int_eq(wd_watch_start(&options, NULL, &c, &watch, error, sizeof error), -1);
    ck_assert_int_eq(wd_watch_start(&options, on_change, &c, NULL, NULL, 0), -1);
    options.directories = missing;
    options.directory_count = 1;
    error[0] = '\0';
    ck_assert_int_eq(wd_watch_start(&options, on_change, &c, &watch, error, sizeof error), -1);
    ck_assert_ptr_null(watch);
    ck_assert_str_ne(error, "");
    options.directory_count = 0;
    options.files = NULL;
    options.file_count = 2;
    ck_assert_int_eq(wd_watch_start(&options, on_change, &c, &watch, error, sizeof error), -1);

    wd_watch_stop(NULL);
    wd_watch_get_stats(NULL, &stats);
    ck_assert_uint_eq(stats.callbacks, 0);
    counter_destroy(&c);
}
END_TEST

START_TEST(nothing_watched_still_starts_and_stops)
{
    counter c;
    wd_watch *watch;

    counter_init(&c);
    watch = start_watch(NULL, NULL, &c, DEBOUNCE, 0, false);
    ck_assert_int_eq(settle(&c), 0);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

START_TEST(stop_is_prompt_with_a_burst_pending)
{
    counter c;
    wd_watch *watch;
    struct timespec before, after;
    long elapsed_ms;

    counter_init(&c);
    make_dir("policies");
    write_in_place("policies/a.lua", "return 1\n");
    watch = start_watch("policies", NULL, &c, 60000, 60000, false);
    write_in_place("policies/a.lua", "return 2\n");
    sleep_ms(50);   /* let the event arrive: a burst now waits for a minute */
    clock_gettime(CLOCK_MONOTONIC, &before);
    wd_watch_stop(watch);
    clock_gettime(CLOCK_MONOTONIC, &after);
    elapsed_ms = (after.tv_sec - before.tv_sec) * 1000 + (after.tv_nsec - before.tv_nsec) / 1000000;
    ck_assert_msg(elapsed_ms < 2000, "stop took %ld ms", elapsed_ms);
    ck_assert_int_eq(calls_now(&c), 0);
    counter_destroy(&c);
}
END_TEST

START_TEST(stop_is_prompt_while_polling)
{
    counter c;
    wd_watch *watch;
    struct timespec before, after;
    long elapsed_ms;

    counter_init(&c);
    make_dir("policies");
    write_in_place("policies/a.lua", "return 1\n");
    watch = start_watch("policies", NULL, &c, DEBOUNCE, 60000, true);
    clock_gettime(CLOCK_MONOTONIC, &before);
    wd_watch_stop(watch);
    clock_gettime(CLOCK_MONOTONIC, &after);
    elapsed_ms = (after.tv_sec - before.tv_sec) * 1000 + (after.tv_nsec - before.tv_nsec) / 1000000;
    ck_assert_msg(elapsed_ms < 2000, "stop took %ld ms", elapsed_ms);
    counter_destroy(&c);
}
END_TEST

/* ---------------------------------------------------------------------------------------
** The policy directory
*/

START_TEST(in_place_write_calls_back_once)
{
    counter c;
    wd_watch *watch;
    wd_watch_stats stats;

    counter_init(&c);
    make_dir("policies");
    write_in_place("policies/a.lua", "return 1\n");
    watch = start_watch("policies", NULL, &c, DEBOUNCE, 0, false);
    write_in_place("policies/a.lua", "return 2\n");
    ck_assert_int_ge(wait_calls(&c, 1, WAIT_MS), 1);
    ck_assert_int_eq(settle(&c), 1);
    stats = stats_of(watch);
    ck_assert_uint_eq(stats.callbacks, 1);
    ck_assert_uint_ge(stats.events, 1);
    ck_assert_uint_eq(stats.rescans, 0);
    ck_assert_uint_eq(stats.polls, 0);
    ck_assert(!stats.polling);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

START_TEST(rename_over_calls_back_without_a_rescan)
{
    counter c;
    wd_watch *watch;

    counter_init(&c);
    make_dir("policies");
    write_in_place("policies/a.lua", "return 1\n");
    watch = start_watch("policies", NULL, &c, DEBOUNCE, 0, false);
    write_by_rename("policies/a.lua", "return 2\n");
    ck_assert_int_ge(wait_calls(&c, 1, WAIT_MS), 1);
    ck_assert_int_eq(settle(&c), 1);
    ck_assert_uint_eq(stats_of(watch).rescans, 0);
    /* the directory watch outlives the replaced file */
    write_by_rename("policies/a.lua", "return 3\n");
    ck_assert_int_ge(wait_calls(&c, 2, WAIT_MS), 2);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

START_TEST(delete_calls_back)
{
    counter c;
    wd_watch *watch;

    counter_init(&c);
    make_dir("policies");
    write_in_place("policies/a.lua", "return 1\n");
    write_in_place("policies/b.lua", "return 1\n");
    watch = start_watch("policies", NULL, &c, DEBOUNCE, 0, false);
    ck_assert_int_eq(unlink(at("policies/a.lua")), 0);
    ck_assert_int_ge(wait_calls(&c, 1, WAIT_MS), 1);
    ck_assert_int_eq(settle(&c), 1);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

START_TEST(new_subdirectories_are_watched)
{
    counter c;
    wd_watch *watch;
    int seen;

    counter_init(&c);
    make_dir("policies");
    watch = start_watch("policies", NULL, &c, DEBOUNCE, 0, false);
    make_dir("policies/orders");
    make_dir("policies/orders/clerks");   /* possibly before the watcher has seen orders */
    write_in_place("policies/orders/clerks/p.lua", "return 1\n");
    ck_assert_int_ge(wait_calls(&c, 1, WAIT_MS), 1);
    seen = settle(&c);
    ck_assert_int_ge(seen, 1);
    ck_assert_int_le(seen, 2);

    write_in_place("policies/orders/clerks/p.lua", "return 2\n");
    ck_assert_int_ge(wait_calls(&c, seen + 1, WAIT_MS), seen + 1);
    seen = settle(&c);
    write_in_place("policies/orders/q.lua", "return 2\n");
    ck_assert_int_ge(wait_calls(&c, seen + 1, WAIT_MS), seen + 1);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

START_TEST(burst_of_writes_is_one_callback)
{
    counter c;
    wd_watch *watch;
    int seen;

    counter_init(&c);
    make_dir("policies");
    watch = start_watch("policies", NULL, &c, 200, 0, false);
    for (int i = 0; i < 50; i++) {
        char name[64], text[64];
        format_path(name, sizeof name, "policies/p%d.lua", i % 7);
        format_path(text, sizeof text, "return %d\n", i);
        if (i % 2 == 0)
            write_in_place(name, text);
        else
            write_by_rename(name, text);
    }
    ck_assert_int_ge(wait_calls(&c, 1, WAIT_MS), 1);
    sleep_ms(400);
    seen = calls_now(&c);
    ck_assert_int_ge(seen, 1);
    ck_assert_int_le(seen, 2);
    ck_assert_uint_ge(stats_of(watch).events, 50);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

START_TEST(reading_files_does_not_call_back)
{
    counter c;
    wd_watch *watch;
    char buffer[64];

    counter_init(&c);
    make_dir("policies");
    make_dir("policies/sub");
    write_in_place("policies/a.lua", "return 1\n");
    write_in_place("policies/sub/b.lua", "return 1\n");
    watch = start_watch("policies", NULL, &c, DEBOUNCE, 0, false);
    for (int i = 0; i < 5; i++) {
        const char *names[] = { "policies/a.lua", "policies/sub/b.lua" };
        for (int j = 0; j < 2; j++) {
            FILE *file = fopen(at(names[j]), "r");
            ck_assert_ptr_nonnull(file);
            ck_assert_uint_gt(fread(buffer, 1, sizeof buffer, file), 0);
            fclose(file);
        }
        DIR *dir = opendir(at("policies"));
        ck_assert_ptr_nonnull(dir);
        while (readdir(dir) != NULL)
            ;
        closedir(dir);
    }
    ck_assert_int_eq(settle(&c), 0);
    ck_assert_uint_eq(stats_of(watch).events, 0);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

START_TEST(directory_symlink_swap_calls_back_and_follows_the_new_target)
{
    counter c;
    wd_watch *watch;
    int seen;

    counter_init(&c);
    make_dir("v1");
    make_dir("v2");
    write_in_place("v1/a.lua", "return 1\n");
    write_in_place("v2/a.lua", "return 2\n");
    make_link("v1", "policies");
    watch = start_watch("policies", NULL, &c, DEBOUNCE, 0, false);
    swap_link("v2", "policies");
    ck_assert_int_ge(wait_calls(&c, 1, WAIT_MS), 1);
    seen = settle(&c);
    ck_assert_uint_ge(stats_of(watch).rescans, 1);

    write_in_place("v1/a.lua", "return 10\n");   /* no longer the policy directory */
    ck_assert_int_eq(settle(&c), seen);
    write_in_place("v2/a.lua", "return 20\n");
    ck_assert_int_ge(wait_calls(&c, seen + 1, WAIT_MS), seen + 1);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

START_TEST(symlinked_ancestor_swap_calls_back_and_follows_the_new_target)
{
    counter c;
    wd_watch *watch;
    int seen;

    counter_init(&c);
    make_dir("r1");
    make_dir("r1/policies");
    make_dir("r2");
    make_dir("r2/policies");
    write_in_place("r1/policies/a.lua", "return 1\n");
    write_in_place("r2/policies/a.lua", "return 2\n");
    make_link("r1", "current");
    watch = start_watch("current/policies", NULL, &c, DEBOUNCE, 0, false);
    swap_link("r2", "current");
    ck_assert_int_ge(wait_calls(&c, 1, WAIT_MS), 1);
    seen = settle(&c);

    write_in_place("r1/policies/a.lua", "return 10\n");
    ck_assert_int_eq(settle(&c), seen);
    write_in_place("r2/policies/a.lua", "return 20\n");
    ck_assert_int_ge(wait_calls(&c, seen + 1, WAIT_MS), seen + 1);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

/* The kubelet's update of a ConfigMap volume, step by step. */
static void configmap_swap(const char *volume, const char *file, const char *text)
{
    char path[PATH_MAX], target[PATH_MAX];

    format_path(path, sizeof path, "%s/..2026_b", volume);
    make_dir(path);
    format_path(path, sizeof path, "%s/..2026_b/%s", volume, file);
    write_in_place(path, text);
    format_path(path, sizeof path, "%s/..data", volume);
    swap_link("..2026_b", path);
    format_path(target, sizeof target, "%s/..2026_a", volume);
    remove_tree(at(target));
}

static void configmap_make(const char *volume, const char *file, const char *text)
{
    char path[PATH_MAX], target[PATH_MAX];

    make_dir(volume);
    format_path(path, sizeof path, "%s/..2026_a", volume);
    make_dir(path);
    format_path(path, sizeof path, "%s/..2026_a/%s", volume, file);
    write_in_place(path, text);
    format_path(path, sizeof path, "%s/..data", volume);
    make_link("..2026_a", path);
    format_path(path, sizeof path, "%s/%s", volume, file);
    format_path(target, sizeof target, "..data/%s", file);
    make_link(target, path);
}

START_TEST(configmap_data_swap_calls_back_and_follows_the_new_target)
{
    counter c;
    wd_watch *watch;
    int seen;

    counter_init(&c);
    configmap_make("policies", "x.lua", "return 1\n");
    watch = start_watch("policies", NULL, &c, DEBOUNCE, 0, false);
    configmap_swap("policies", "x.lua", "return 2\n");
    ck_assert_int_ge(wait_calls(&c, 1, WAIT_MS), 1);
    seen = settle(&c);
    ck_assert_uint_ge(stats_of(watch).rescans, 1);

    write_in_place("policies/..2026_b/x.lua", "return 3\n");
    ck_assert_int_ge(wait_calls(&c, seen + 1, WAIT_MS), seen + 1);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

START_TEST(directory_removed_and_made_again_is_picked_up)
{
    counter c;
    wd_watch *watch;
    int seen;

    counter_init(&c);
    make_dir("policies");
    write_in_place("policies/a.lua", "return 1\n");
    watch = start_watch("policies", NULL, &c, DEBOUNCE, 0, false);
    remove_tree(at("policies"));
    ck_assert_int_ge(wait_calls(&c, 1, WAIT_MS), 1);
    seen = settle(&c);

    make_dir("policies");
    write_in_place("policies/a.lua", "return 2\n");
    ck_assert_int_ge(wait_calls(&c, seen + 1, WAIT_MS), seen + 1);
    seen = settle(&c);
    write_in_place("policies/a.lua", "return 3\n");
    ck_assert_int_ge(wait_calls(&c, seen + 1, WAIT_MS), seen + 1);
    ck_assert_uint_ge(stats_of(watch).rescans, 1);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

START_TEST(missing_directory_at_start_is_picked_up)
{
    counter c;
    wd_watch *watch;
    int seen;

    counter_init(&c);
    watch = start_watch("later", NULL, &c, DEBOUNCE, 0, false);
    make_dir("later");
    write_in_place("later/a.lua", "return 1\n");
    ck_assert_int_ge(wait_calls(&c, 1, WAIT_MS), 1);
    seen = settle(&c);
    write_in_place("later/a.lua", "return 2\n");
    ck_assert_int_ge(wait_calls(&c, seen + 1, WAIT_MS), seen + 1);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

START_TEST(symlink_loop_does_not_hang)
{
    counter c;
    wd_watch *watch;

    counter_init(&c);
    make_dir("policies");
    make_dir("policies/sub");
    make_link("..", "policies/sub/up");
    make_link(".", "policies/self");
    watch = start_watch("policies", NULL, &c, DEBOUNCE, 0, false);
    write_in_place("policies/sub/a.lua", "return 1\n");
    ck_assert_int_ge(wait_calls(&c, 1, WAIT_MS), 1);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

START_TEST(queue_overflow_rescans_and_calls_back)
{
    counter c;
    wd_watch *watch;
    long limit = 16384;
    FILE *proc = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
    wd_watch_stats stats;

    if (proc != NULL) {
        if (fscanf(proc, "%ld", &limit) != 1)
            limit = 16384;
        fclose(proc);
    }
    if (limit > 200000) {
        fprintf(stderr, "queue_overflow: max_queued_events %ld is too large to fill, skipped\n", limit);
        return;
    }
    counter_init(&c);
    c.hold_first = true;
    make_dir("policies");
    make_dir("flood");
    watch = start_watch("policies", NULL, &c, DEBOUNCE, 0, false);
    write_in_place("policies/a.lua", "return 1\n");
    ck_assert_int_ge(wait_calls(&c, 1, WAIT_MS), 1);   /* the watcher is now held in the callback */

    /* create, close-write, delete: three distinct events per file, none merged */
    for (long i = 0; i < limit / 3 + 500; i++) {
        char path[PATH_MAX];
        int fd;
        format_path(path, sizeof path, "%s/policies/f%ld", scratch, i);
        fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        close(fd);
        unlink(path);
    }
    counter_release(&c);
    ck_assert_int_ge(wait_calls(&c, 2, WAIT_MS), 2);
    stats = stats_of(watch);
    ck_assert_uint_ge(stats.overflows, 1);
    ck_assert_uint_ge(stats.rescans, 1);
    ck_assert(!stats.polling);

    /* and it still works afterwards */
    int seen = settle(&c);
    write_in_place("policies/a.lua", "return 2\n");
    ck_assert_int_ge(wait_calls(&c, seen + 1, WAIT_MS), seen + 1);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

/* ---------------------------------------------------------------------------------------
** Single files
*/

START_TEST(single_file_replaced_calls_back_and_its_neighbours_do_not)
{
    counter c;
    wd_watch *watch;
    int seen;

    counter_init(&c);
    make_dir("pki");
    write_in_place("pki/ca.pem", "one\n");
    write_in_place("pki/other.pem", "one\n");
    watch = start_watch(NULL, "pki/ca.pem", &c, DEBOUNCE, 0, false);
    write_in_place("pki/other.pem", "two\n");
    write_by_rename("pki/other.pem", "three\n");
    ck_assert_int_eq(unlink(at("pki/other.pem")), 0);
    make_dir("pki/sub");
    ck_assert_int_eq(settle(&c), 0);
    ck_assert_uint_eq(stats_of(watch).events, 0);

    write_by_rename("pki/ca.pem", "two\n");
    ck_assert_int_ge(wait_calls(&c, 1, WAIT_MS), 1);
    seen = settle(&c);
    write_in_place("pki/ca.pem", "three\n");
    ck_assert_int_ge(wait_calls(&c, seen + 1, WAIT_MS), seen + 1);
    seen = settle(&c);
    ck_assert_int_eq(unlink(at("pki/ca.pem")), 0);
    ck_assert_int_ge(wait_calls(&c, seen + 1, WAIT_MS), seen + 1);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

START_TEST(single_file_in_a_configmap_volume_follows_the_data_swap)
{
    counter c;
    wd_watch *watch;
    int seen;

    counter_init(&c);
    configmap_make("trust", "ca.pem", "one\n");
    watch = start_watch(NULL, "trust/ca.pem", &c, DEBOUNCE, 0, false);
    configmap_swap("trust", "ca.pem", "two\n");
    ck_assert_int_ge(wait_calls(&c, 1, WAIT_MS), 1);
    seen = settle(&c);
    /* the file's new home is watched too */
    write_in_place("trust/..2026_b/ca.pem", "three\n");
    ck_assert_int_ge(wait_calls(&c, seen + 1, WAIT_MS), seen + 1);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

START_TEST(single_file_whose_folder_does_not_exist_yet_is_picked_up)
{
    counter c;
    wd_watch *watch;
    int seen;

    counter_init(&c);
    watch = start_watch(NULL, "etc/warden/ca.pem", &c, DEBOUNCE, 50, false);
    make_dir("etc");
    make_dir("etc/warden");
    write_in_place("etc/warden/ca.pem", "one\n");
    ck_assert_int_ge(wait_calls(&c, 1, WAIT_MS), 1);
    seen = settle(&c);
    write_by_rename("etc/warden/ca.pem", "two\n");
    ck_assert_int_ge(wait_calls(&c, seen + 1, WAIT_MS), seen + 1);
    ck_assert(!stats_of(watch).polling);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

/* ---------------------------------------------------------------------------------------
** Polling
*/

START_TEST(polling_calls_back_on_content_change_only)
{
    counter c;
    wd_watch *watch;
    struct stat before;
    struct timespec times[2];
    uint64_t polls;

    counter_init(&c);
    make_dir("policies");
    make_dir("policies/sub");
    write_in_place("policies/sub/a.lua", "return 1\n");
    ck_assert_int_eq(mkfifo(at("policies/pipe"), 0600), 0);   /* never opened */
    make_link(".", "policies/loop");
    make_link("nowhere", "policies/dangling");
    watch = start_watch("policies", NULL, &c, DEBOUNCE, 20, true);
    ck_assert(stats_of(watch).polling);
    polls = wait_polls(watch, 3);
    ck_assert_uint_ge(polls, 3);
    ck_assert_int_eq(calls_now(&c), 0);

    /* same size, same modification time: only the contents tell */
    ck_assert_int_eq(stat(at("policies/sub/a.lua"), &before), 0);
    write_in_place("policies/sub/a.lua", "return 2\n");
    times[0] = before.st_atim;
    times[1] = before.st_mtim;
    ck_assert_int_eq(utimensat(AT_FDCWD, at("policies/sub/a.lua"), times, 0), 0);
    ck_assert_int_ge(wait_calls(&c, 1, WAIT_MS), 1);

    polls = stats_of(watch).polls;
    ck_assert_uint_ge(wait_polls(watch, polls + 3), polls + 3);
    ck_assert_int_eq(calls_now(&c), 1);
    ck_assert_uint_eq(stats_of(watch).events, 0);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

START_TEST(polling_sees_new_deleted_and_single_files)
{
    counter c;
    wd_watch *watch;
    const char *directories[1];
    const char *files[1];
    char directory[PATH_MAX], file[PATH_MAX], error[128];
    wd_watch_options options;
    int seen;

    counter_init(&c);
    make_dir("policies");
    make_dir("pki");
    write_in_place("pki/ca.pem", "one\n");
    format_path(directory, sizeof directory, "%s/policies", scratch);
    format_path(file, sizeof file, "%s/pki/ca.pem", scratch);
    directories[0] = directory;
    files[0] = file;
    memset(&options, 0, sizeof options);
    options.directories = directories;
    options.directory_count = 1;
    options.files = files;
    options.file_count = 1;
    options.poll_ms = 20;
    options.force_polling = true;
    ck_assert_int_eq(wd_watch_start(&options, on_change, &c, &watch, error, sizeof error), 0);

    write_in_place("policies/new.lua", "return 1\n");
    ck_assert_int_ge(wait_calls(&c, 1, WAIT_MS), 1);
    seen = calls_now(&c);
    ck_assert_int_eq(unlink(at("policies/new.lua")), 0);
    ck_assert_int_ge(wait_calls(&c, seen + 1, WAIT_MS), seen + 1);
    seen = calls_now(&c);
    write_by_rename("pki/ca.pem", "two\n");
    ck_assert_int_ge(wait_calls(&c, seen + 1, WAIT_MS), seen + 1);
    seen = calls_now(&c);
    write_in_place("pki/unrelated.pem", "two\n");
    ck_assert_uint_ge(wait_polls(watch, stats_of(watch).polls + 3), 3);
    ck_assert_int_eq(calls_now(&c), seen);
    wd_watch_stop(watch);
    counter_destroy(&c);
}
END_TEST

static Suite *watch_suite(void)
{
    Suite *suite = suite_create("watch");
    TCase *basics = tcase_create("basics");
    TCase *directory = tcase_create("directory");
    TCase *files = tcase_create("files");
    TCase *polling = tcase_create("polling");

    tcase_add_checked_fixture(basics, make_scratch, drop_scratch);
    tcase_add_test(basics, start_refuses_bad_arguments_and_stop_null_is_a_no_op);
    tcase_add_test(basics, nothing_watched_still_starts_and_stops);
    tcase_add_test(basics, stop_is_prompt_with_a_burst_pending);
    tcase_add_test(basics, stop_is_prompt_while_polling);
    suite_add_tcase(suite, basics);

    tcase_add_checked_fixture(directory, make_scratch, drop_scratch);
    tcase_add_test(directory, in_place_write_calls_back_once);
    tcase_add_test(directory, rename_over_calls_back_without_a_rescan);
    tcase_add_test(directory, delete_calls_back);
    tcase_add_test(directory, new_subdirectories_are_watched);
    tcase_add_test(directory, burst_of_writes_is_one_callback);
    tcase_add_test(directory, reading_files_does_not_call_back);
    tcase_add_test(directory, directory_symlink_swap_calls_back_and_follows_the_new_target);
    tcase_add_test(directory, symlinked_ancestor_swap_calls_back_and_follows_the_new_target);
    tcase_add_test(directory, configmap_data_swap_calls_back_and_follows_the_new_target);
    tcase_add_test(directory, directory_removed_and_made_again_is_picked_up);
    tcase_add_test(directory, missing_directory_at_start_is_picked_up);
    tcase_add_test(directory, symlink_loop_does_not_hang);
    tcase_add_test(directory, queue_overflow_rescans_and_calls_back);
    suite_add_tcase(suite, directory);

    tcase_add_checked_fixture(files, make_scratch, drop_scratch);
    tcase_add_test(files, single_file_replaced_calls_back_and_its_neighbours_do_not);
    tcase_add_test(files, single_file_in_a_configmap_volume_follows_the_data_swap);
    tcase_add_test(files, single_file_whose_folder_does_not_exist_yet_is_picked_up);
    suite_add_tcase(suite, files);

    tcase_add_checked_fixture(polling, make_scratch, drop_scratch);
    tcase_add_test(polling, polling_calls_back_on_content_change_only);
    tcase_add_test(polling, polling_sees_new_deleted_and_single_files);
    suite_add_tcase(suite, polling);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(watch_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
