/*
** test_policy_files.c — reading a policy directory (lua/policy_files.c): what counts as a
** policy, a test or a data document, dot-names and the ConfigMap layout, symbolic links and
** loops, limits, errors, and the revision. Every layout is built in a fresh temporary
** directory and removed afterwards.
*/
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lua/policy_files.h"
#include "test_run.h"

#define PATH_BYTES 4096

/* ---- building layouts ------------------------------------------------------------------ */

static void make_temporary(char *out, size_t capacity)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    snprintf(out, capacity, "%s/warden-policy-files-XXXXXX", base);
    ck_assert_msg(mkdtemp(out) != NULL, "mkdtemp: %s", strerror(errno));
}

static void join(char *out, const char *root, const char *relative)
{
    int written = snprintf(out, PATH_BYTES, "%s/%s", root, relative);
    ck_assert(written > 0 && written < PATH_BYTES);
}

/* mkdir -p for the folders above root/relative. */
static void make_parents(const char *root, const char *relative)
{
    char path[PATH_BYTES];
    join(path, root, relative);
    size_t skip = strlen(root) + 1;
    for (char *slash = strchr(path + skip, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
        *slash = '/';
    }
}

static void put_bytes(const char *root, const char *relative, const char *bytes, size_t length)
{
    char path[PATH_BYTES];
    make_parents(root, relative);
    join(path, root, relative);
    FILE *file = fopen(path, "wb");
    ck_assert_msg(file != NULL, "fopen %s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(bytes, 1, length, file), length);
    ck_assert_int_eq(fclose(file), 0);
}

static void put(const char *root, const char *relative, const char *text)
{
    put_bytes(root, relative, text, strlen(text));
}

static void folder(const char *root, const char *relative)
{
    char path[PATH_BYTES];
    make_parents(root, relative);
    join(path, root, relative);
    ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
}

static void link_to(const char *root, const char *relative, const char *target)
{
    char path[PATH_BYTES];
    make_parents(root, relative);
    join(path, root, relative);
    ck_assert_msg(symlink(target, path) == 0, "symlink %s: %s", path, strerror(errno));
}

/* rm -rf that never follows a symbolic link. */
static void remove_tree(const char *path)
{
    struct stat status;
    if (lstat(path, &status) != 0)
        return;
    if (S_ISDIR(status.st_mode)) {
        chmod(path, 0755);
        DIR *dir = opendir(path);
        if (dir != NULL) {
            struct dirent *entry;
            while ((entry = readdir(dir)) != NULL) {
                if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
                    continue;
                char child[PATH_BYTES];
                snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
                remove_tree(child);
            }
            closedir(dir);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static const wd_policy_file *find(const wd_policy_file *files, size_t count, const char *path)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(files[i].path, path) == 0)
            return &files[i];
    return NULL;
}

static void read_ok(const char *root, wd_policy_files *files)
{
    char error[512] = "";
    int  status = wd_policy_files_read(root, files, error, sizeof error);
    ck_assert_msg(status == 0, "read failed: %s", error);
}

/* Expects the read to fail with a message containing each of the given fragments. */
static void read_fails(const char *root, const char *fragment, const char *other_fragment)
{
    wd_policy_files files;
    char            error[512] = "";
    memset(&files, 0xab, sizeof files);
    ck_assert_int_eq(wd_policy_files_read(root, &files, error, sizeof error), -1);
    ck_assert_msg(strstr(error, fragment) != NULL, "\"%s\" not in \"%s\"", fragment, error);
    if (other_fragment != NULL)
        ck_assert_msg(strstr(error, other_fragment) != NULL, "\"%s\" not in \"%s\"", other_fragment, error);
    /* left empty */
    ck_assert_ptr_null(files.policies);
    ck_assert_ptr_null(files.directory);
    ck_assert_uint_eq(files.policy_count + files.test_count + files.data_count, 0);
    wd_policy_files_clear(&files);
}

static void assert_paths(const wd_policy_file *files, size_t count, const char *const *expected, size_t expected_count)
{
    ck_assert_uint_eq(count, expected_count);
    for (size_t i = 0; i < count; i++)
        ck_assert_str_eq(files[i].path, expected[i]);
}

#define PATHS(files, count, ...)                                                                                   \
    do {                                                                                                           \
        static const char *const expected_[] = { __VA_ARGS__ };                                                    \
        assert_paths(files, count, expected_, sizeof expected_ / sizeof expected_[0]);                             \
    } while (0)

/* ---- what is read ------------------------------------------------------------------------ */

START_TEST(nested_policies_are_found_and_sorted_bytewise)
{
    char root[PATH_BYTES];
    make_temporary(root, sizeof root);
    put(root, "b.lua", "-- b");
    put(root, "a/z.lua", "-- a/z");
    put(root, "a/b/c.lua", "-- a/b/c");
    put(root, "A.lua", "-- A");
    put(root, "a.lua", "-- a");
    put(root, "a-b.lua", "-- a-b");
    put(root, "deep/er/and/deeper/still.lua", "-- deep");
    put(root, "README.md", "not a policy");
    put(root, "notes.lua.txt", "not a policy");
    put(root, "a/empty.lua", "");

    wd_policy_files files;
    read_ok(root, &files);
    PATHS(files.policies, files.policy_count, "A.lua", "a-b.lua", "a.lua", "a/b/c.lua", "a/empty.lua", "a/z.lua",
          "b.lua", "deep/er/and/deeper/still.lua");
    ck_assert_uint_eq(files.test_count, 0);
    ck_assert_uint_eq(files.data_count, 0);
    const wd_policy_file *c = find(files.policies, files.policy_count, "a/b/c.lua");
    ck_assert_str_eq(c->text, "-- a/b/c");
    ck_assert_uint_eq(c->length, 8);
    ck_assert_ptr_null(c->name);
    const wd_policy_file *empty = find(files.policies, files.policy_count, "a/empty.lua");
    ck_assert_uint_eq(empty->length, 0);
    ck_assert_str_eq(empty->text, "");
    ck_assert_str_eq(files.directory, root);
    ck_assert_int_eq(strncmp(files.revision, "sha256:", 7), 0);
    ck_assert_uint_eq(strlen(files.revision), 71);
    wd_policy_files_clear(&files);
    ck_assert_ptr_null(files.policies);
    wd_policy_files_clear(&files); /* twice is harmless */
    remove_tree(root);
}
END_TEST

START_TEST(test_files_are_tests)
{
    char root[PATH_BYTES];
    make_temporary(root, sizeof root);
    put(root, "orders.lua", "permit");
    put(root, "orders_test.lua", "test");
    put(root, "sub/x_test.lua", "test");
    put(root, "sub/test.lua", "policy: the name is not *_test.lua");
    put(root, "_test.lua", "test");

    wd_policy_files files;
    read_ok(root, &files);
    PATHS(files.policies, files.policy_count, "orders.lua", "sub/test.lua");
    PATHS(files.tests, files.test_count, "_test.lua", "orders_test.lua", "sub/x_test.lua");
    wd_policy_files_clear(&files);
    remove_tree(root);
}
END_TEST

START_TEST(data_documents_and_fixtures)
{
    char root[PATH_BYTES];
    make_temporary(root, sizeof root);
    put(root, "policy.lua", "p");
    put(root, "data/limits.json", "{\"max\": 1000}");
    put(root, "data/Users_2.json", "[]");
    put(root, "data/_x.json", "{}");
    put(root, "data/helper.lua", "not a policy");
    put(root, "data/helper_test.lua", "not a test");
    put(root, "data/readme.txt", "ignored");
    put(root, "data/nested/deeper.json", "ignored: folders inside data/ are not read");
    put(root, "data/nested/bad name.json", "ignored with its folder");
    put(root, "fixtures/create.xml", "<Envelope/>");
    put(root, "fixtures/policy.lua", "not a policy");
    put(root, "fixtures/x_test.lua", "not a test");
    put(root, "fixtures/data/9bad.json", "never looked at");
    put(root, "sub/data/inner.lua", "a policy: only the top-level data/ is special");
    put(root, "sub/fixtures/inner.lua", "a policy too");
    put(root, "sub/data/inner.json", "not data");

    wd_policy_files files;
    read_ok(root, &files);
    PATHS(files.policies, files.policy_count, "policy.lua", "sub/data/inner.lua", "sub/fixtures/inner.lua");
    ck_assert_uint_eq(files.test_count, 0);
    PATHS(files.data, files.data_count, "data/Users_2.json", "data/_x.json", "data/limits.json");
    ck_assert_str_eq(files.data[0].name, "Users_2");
    ck_assert_str_eq(files.data[1].name, "_x");
    ck_assert_str_eq(files.data[2].name, "limits");
    ck_assert_str_eq(files.data[2].text, "{\"max\": 1000}");
    wd_policy_files_clear(&files);
    remove_tree(root);
}
END_TEST

START_TEST(bad_data_names_are_reported)
{
    static const char *const bad[] = { "data/9x.json", "data/a-b.json", "data/a.b.json", "data/caf\xc3\xa9.json" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char root[PATH_BYTES];
        make_temporary(root, sizeof root);
        put(root, "ok.lua", "p");
        put(root, bad[i], "{}");
        read_fails(root, bad[i], "identifier");
        remove_tree(root);
    }
}
END_TEST

START_TEST(dot_names_are_ignored)
{
    char root[PATH_BYTES];
    make_temporary(root, sizeof root);
    put(root, "visible.lua", "p");
    put(root, ".hidden.lua", "ignored");
    put(root, ".git/hooks/x.lua", "ignored");
    put(root, "sub/.swp.lua", "ignored");
    put(root, "sub/.visible.lua.swp", "ignored");
    put(root, "sub/.cache/y_test.lua", "ignored");
    put(root, ".data/z.json", "ignored");
    put(root, "data/.hidden.json", "ignored");
    link_to(root, ".dangling.lua", "nowhere"); /* never even resolved */

    wd_policy_files files;
    read_ok(root, &files);
    PATHS(files.policies, files.policy_count, "visible.lua");
    ck_assert_uint_eq(files.test_count, 0);
    ck_assert_uint_eq(files.data_count, 0);
    wd_policy_files_clear(&files);
    remove_tree(root);
}
END_TEST

START_TEST(configmap_layout_is_read_once)
{
    char root[PATH_BYTES];
    make_temporary(root, sizeof root);
    put(root, "..2026_11_25_12_00_00.123/orders.lua", "permit \"x\" {}");
    put(root, "..2026_11_25_12_00_00.123/orders_test.lua", "test \"y\" {}");
    put(root, "..2026_11_25_12_00_00.123/data/limits.json", "{}");
    put(root, "..2026_11_24_09_00_00.001/orders.lua", "an old version being removed");
    link_to(root, "..data", "..2026_11_25_12_00_00.123");
    link_to(root, "orders.lua", "..data/orders.lua");
    link_to(root, "orders_test.lua", "..data/orders_test.lua");
    link_to(root, "data", "..data/data");

    wd_policy_files files;
    read_ok(root, &files);
    PATHS(files.policies, files.policy_count, "orders.lua");
    ck_assert_str_eq(files.policies[0].text, "permit \"x\" {}");
    PATHS(files.tests, files.test_count, "orders_test.lua");
    PATHS(files.data, files.data_count, "data/limits.json");
    ck_assert_str_eq(files.data[0].name, "limits");
    wd_policy_files_clear(&files);
    remove_tree(root);
}
END_TEST

START_TEST(symbolic_links_are_followed)
{
    char root[PATH_BYTES];
    char elsewhere[PATH_BYTES];
    make_temporary(root, sizeof root);
    make_temporary(elsewhere, sizeof elsewhere);
    put(elsewhere, "shared/common.lua", "-- shared");
    put(elsewhere, "single.lua", "-- single");
    put(root, "real/p.lua", "-- p");

    char target[PATH_BYTES];
    join(target, elsewhere, "shared");
    link_to(root, "linked", target);           /* a folder outside the tree */
    link_to(root, "alias", "real");            /* a folder inside it: read under both names */
    join(target, elsewhere, "single.lua");
    link_to(root, "one.lua", target);          /* a file */
    link_to(root, "chain.lua", "one.lua");     /* a link to a link */

    wd_policy_files files;
    read_ok(root, &files);
    PATHS(files.policies, files.policy_count, "alias/p.lua", "chain.lua", "linked/common.lua", "one.lua", "real/p.lua");
    ck_assert_str_eq(files.policies[2].text, "-- shared");
    ck_assert_str_eq(files.policies[1].text, "-- single");
    wd_policy_files_clear(&files);
    remove_tree(root);
    remove_tree(elsewhere);
}
END_TEST

START_TEST(link_loops_are_reported)
{
    char root[PATH_BYTES];
    make_temporary(root, sizeof root);
    put(root, "dir/p.lua", "p");
    link_to(root, "dir/loop", "..");
    read_fails(root, "link loop at", "dir/loop");
    remove_tree(root);

    make_temporary(root, sizeof root);
    folder(root, "a/b");
    link_to(root, "a/b/up", "../../a");
    read_fails(root, "link loop at", "a/b/up");
    remove_tree(root);

    make_temporary(root, sizeof root); /* links that point at each other */
    link_to(root, "x.lua", "y.lua");
    link_to(root, "y.lua", "x.lua");
    read_fails(root, "link loop", ".lua");
    remove_tree(root);
}
END_TEST

START_TEST(dangling_and_unreadable_entries_are_reported)
{
    char root[PATH_BYTES];
    make_temporary(root, sizeof root);
    put(root, "ok.lua", "p");
    link_to(root, "gone.lua", "missing.lua");
    read_fails(root, "gone.lua", NULL);
    remove_tree(root);

    make_temporary(root, sizeof root); /* a dangling folder link could hide policies */
    link_to(root, "policies", "missing-folder");
    read_fails(root, "policies", NULL);
    remove_tree(root);

    if (geteuid() != 0) { /* root reads anything */
        make_temporary(root, sizeof root);
        put(root, "secret.lua", "p");
        char path[PATH_BYTES];
        join(path, root, "secret.lua");
        ck_assert_int_eq(chmod(path, 0), 0);
        read_fails(root, "secret.lua", NULL);
        remove_tree(root);
    }
}
END_TEST

START_TEST(missing_or_non_directory_is_reported)
{
    char root[PATH_BYTES];
    char path[PATH_BYTES];
    make_temporary(root, sizeof root);
    join(path, root, "missing");
    read_fails(path, "missing", NULL);
    put(root, "file.lua", "p");
    join(path, root, "file.lua");
    read_fails(path, "not a directory", "file.lua");
    read_fails("", "", NULL);

    wd_policy_files files;
    char            error[128];
    ck_assert_int_eq(wd_policy_files_read(NULL, &files, error, sizeof error), -1);
    ck_assert_int_eq(wd_policy_files_read(root, &files, NULL, 0), 0); /* no error buffer is fine */
    wd_policy_files_clear(&files);
    remove_tree(root);
}
END_TEST

START_TEST(limits_are_enforced)
{
    char root[PATH_BYTES];
    char path[PATH_BYTES];

    /* a file larger than the limit (sparse: nothing is written) */
    make_temporary(root, sizeof root);
    put(root, "big.lua", "");
    join(path, root, "big.lua");
    ck_assert_int_eq(truncate(path, (off_t)WD_POLICY_MAX_FILE_BYTES + 1), 0);
    read_fails(root, "big.lua", "larger than");
    ck_assert_int_eq(truncate(path, (off_t)WD_POLICY_MAX_FILE_BYTES), 0);
    wd_policy_files files;
    read_ok(root, &files); /* exactly the limit is allowed */
    ck_assert_uint_eq(files.policies[0].length, WD_POLICY_MAX_FILE_BYTES);
    wd_policy_files_clear(&files);
    remove_tree(root);

    /* folders nested WD_POLICY_MAX_DEPTH deep are fine; one more is too deep */
    make_temporary(root, sizeof root);
    char relative[PATH_BYTES] = "";
    for (int i = 0; i < WD_POLICY_MAX_DEPTH; i++)
        strcat(relative, "d/");
    strcat(relative, "p.lua");
    put(root, relative, "p");
    read_ok(root, &files);
    ck_assert_uint_eq(files.policy_count, 1);
    wd_policy_files_clear(&files);
    strcpy(relative + strlen(relative) - strlen("p.lua"), "d/q.lua");
    put(root, relative, "q");
    read_fails(root, "too deep", NULL);
    remove_tree(root);
}
END_TEST

/* ---- the revision ------------------------------------------------------------------------ */

static void revision_of(const char *root, char revision[72])
{
    wd_policy_files files;
    read_ok(root, &files);
    memcpy(revision, files.revision, 72);
    wd_policy_files_clear(&files);
}

static void build_set(const char *root, bool reversed)
{
    static const char *const paths[] = { "a.lua", "a_test.lua", "data/d.json", "sub/b.lua", "z.lua" };
    static const char *const texts[] = { "one", "two", "{}", "three", "four" };
    for (size_t k = 0; k < 5; k++) {
        size_t i = reversed ? 4 - k : k;
        put(root, paths[i], texts[i]);
    }
}

START_TEST(revision_depends_on_content_and_names_only)
{
    char first[PATH_BYTES];
    char second[PATH_BYTES];
    char a[72];
    char b[72];
    make_temporary(first, sizeof first);
    make_temporary(second, sizeof second);
    build_set(first, false);
    build_set(second, true);
    put(second, "ignored.txt", "not part of the set");
    put(second, ".hidden.lua", "not part of the set");

    revision_of(first, a);
    revision_of(first, b);
    ck_assert_str_eq(a, b);        /* stable */
    revision_of(second, b);
    ck_assert_str_eq(a, b);        /* another folder, another creation order, ignored files */

    put(second, "sub/b.lua", "threE");
    revision_of(second, b);
    ck_assert_str_ne(a, b);        /* one byte */
    put(second, "sub/b.lua", "three");
    revision_of(second, b);
    ck_assert_str_eq(a, b);

    char from[PATH_BYTES];
    char to[PATH_BYTES];
    join(from, second, "z.lua");
    join(to, second, "y.lua");
    ck_assert_int_eq(rename(from, to), 0);
    revision_of(second, b);
    ck_assert_str_ne(a, b);        /* a file name */
    ck_assert_int_eq(rename(to, from), 0);

    /* moving a byte from one file to the next changes it (lengths are hashed) */
    put(second, "a.lua", "on");
    put(second, "a_test.lua", "etwo");
    revision_of(second, b);
    ck_assert_str_ne(a, b);
    remove_tree(first);
    remove_tree(second);
}
END_TEST

static void expected_revision(const char *const *paths, const char *const *texts, size_t count, char out[72])
{
    EVP_MD_CTX   *context = EVP_MD_CTX_new();
    unsigned char digest[32];
    unsigned int  length = 0;
    ck_assert_ptr_nonnull(context);
    ck_assert_int_eq(EVP_DigestInit_ex(context, EVP_sha256(), NULL), 1);
    for (size_t i = 0; i < count; i++) {
        uint64_t      n = strlen(texts[i]);
        unsigned char big_endian[8];
        for (int k = 0; k < 8; k++)
            big_endian[k] = (unsigned char)(n >> (56 - 8 * k));
        EVP_DigestUpdate(context, paths[i], strlen(paths[i]) + 1);
        EVP_DigestUpdate(context, big_endian, 8);
        EVP_DigestUpdate(context, texts[i], n);
    }
    ck_assert_int_eq(EVP_DigestFinal_ex(context, digest, &length), 1);
    EVP_MD_CTX_free(context);
    strcpy(out, "sha256:");
    for (int i = 0; i < 32; i++)
        sprintf(out + 7 + 2 * i, "%02x", digest[i]);
}

START_TEST(revision_format_is_the_documented_one)
{
    char root[PATH_BYTES];
    make_temporary(root, sizeof root);
    build_set(root, false);
    /* one path order across policies, tests and data */
    static const char *const paths[] = { "a.lua", "a_test.lua", "data/d.json", "sub/b.lua", "z.lua" };
    static const char *const texts[] = { "one", "two", "{}", "three", "four" };
    char expected[72];
    char actual[72];
    expected_revision(paths, texts, 5, expected);
    revision_of(root, actual);
    ck_assert_str_eq(actual, expected);
    remove_tree(root);
}
END_TEST

START_TEST(empty_directory_is_fine)
{
    char root[PATH_BYTES];
    make_temporary(root, sizeof root);
    wd_policy_files files;
    read_ok(root, &files);
    ck_assert_uint_eq(files.policy_count + files.test_count + files.data_count, 0);
    ck_assert_str_eq(files.revision, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    wd_policy_files_clear(&files);

    folder(root, "data");
    folder(root, "fixtures");
    folder(root, "empty/inside");
    put(root, "README", "no policies here");
    read_ok(root, &files);
    ck_assert_uint_eq(files.policy_count + files.test_count + files.data_count, 0);
    ck_assert_str_eq(files.revision, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    wd_policy_files_clear(&files);
    remove_tree(root);
}
END_TEST

/* ---- speed ------------------------------------------------------------------------------ */

static double seconds_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

START_TEST(a_thousand_files_read_quickly)
{
    char root[PATH_BYTES];
    make_temporary(root, sizeof root);
    for (int i = 0; i < 1000; i++) {
        char relative[64];
        char text[128];
        snprintf(relative, sizeof relative, "service%02d/rules%03d%s.lua", i % 20, i, i % 10 == 0 ? "_test" : "");
        snprintf(text, sizeof text, "permit \"rule %d\" { action = \"urn:example:s%d/Op\" }\n", i, i);
        put(root, relative, text);
    }
    for (int i = 0; i < 50; i++) {
        char relative[64];
        snprintf(relative, sizeof relative, "service%02d/notes%d.md", i % 20, i);
        put(root, relative, "ignored");
    }

    wd_policy_files files;
    read_ok(root, &files); /* warm the cache */
    wd_policy_files_clear(&files);
    double best = 1e9;
    for (int round = 0; round < 5; round++) {
        double start = seconds_now();
        read_ok(root, &files);
        double elapsed = seconds_now() - start;
        if (elapsed < best)
            best = elapsed;
        ck_assert_uint_eq(files.policy_count, 900);
        ck_assert_uint_eq(files.test_count, 100);
        wd_policy_files_clear(&files);
    }
    printf("policy_files: 1,000 files read in %.2f ms (best of 5)\n", best * 1000.0);
    /* The target is well under 50 ms; the bound is loose for sanitizer builds and busy machines. */
    ck_assert_msg(best < 0.25, "reading 1,000 files took %.1f ms", best * 1000.0);
    remove_tree(root);
}
END_TEST

static Suite *policy_files_suite(void)
{
    Suite *suite = suite_create("policy_files");
    TCase *reading = tcase_create("reading");
    tcase_add_test(reading, nested_policies_are_found_and_sorted_bytewise);
    tcase_add_test(reading, test_files_are_tests);
    tcase_add_test(reading, data_documents_and_fixtures);
    tcase_add_test(reading, bad_data_names_are_reported);
    tcase_add_test(reading, dot_names_are_ignored);
    tcase_add_test(reading, configmap_layout_is_read_once);
    tcase_add_test(reading, symbolic_links_are_followed);
    tcase_add_test(reading, link_loops_are_reported);
    tcase_add_test(reading, dangling_and_unreadable_entries_are_reported);
    tcase_add_test(reading, missing_or_non_directory_is_reported);
    tcase_add_test(reading, limits_are_enforced);
    suite_add_tcase(suite, reading);

    TCase *revision = tcase_create("revision");
    tcase_add_test(revision, revision_depends_on_content_and_names_only);
    tcase_add_test(revision, revision_format_is_the_documented_one);
    tcase_add_test(revision, empty_directory_is_fine);
    suite_add_tcase(suite, revision);

    TCase *speed = tcase_create("speed");
    tcase_add_test(speed, a_thousand_files_read_quickly);
    suite_add_tcase(suite, speed);
    return suite;
}

int main(void)
{
    return tr_run_suite(policy_files_suite());
}
