/*
** test_file_text.c — whole-file reading (base/file_text.c): the one routine behind the trust
** store, the users file, the config file, policy files, test envelopes and the command's input.
*/
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file_text.h"
#include "test_engine.h"
#include "test_run.h"

static te_policy_dir scratch;
static const char *folder = scratch.path;

static void make_folder(void)
{
    scratch = te_make_dir("file-text");
}

static void remove_folder(void)
{
    te_remove_dir(&scratch);
}

/* Writes length bytes of fill to folder/name; returns the path (static buffer). */
static const char *write_file(const char *name, size_t length, char fill)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    FILE *file = fopen(path, "wb");
    ck_assert_ptr_nonnull(file);
    for (size_t i = 0; i < length; i++)
        fputc(fill, file);
    fclose(file);
    return path;
}

START_TEST(whole_file_is_read_and_nul_terminated)
{
    char *text = NULL;
    size_t length = 0;
    const char *path = write_file("a.txt", 100000, 'x');
    ck_assert_int_eq(wd_file_read(path, 100000, WD_FILE_REGULAR, &text, &length), WD_FILE_OK);
    ck_assert_uint_eq(length, 100000);
    ck_assert_int_eq(text[length], '\0');
    ck_assert_int_eq(text[0], 'x');
    ck_assert_int_eq(text[length - 1], 'x');
    free(text);
    path = write_file("empty.txt", 0, 'x');
    ck_assert_int_eq(wd_file_read(path, 10, WD_FILE_SECRET, &text, &length), WD_FILE_OK);
    ck_assert_uint_eq(length, 0);
    ck_assert_str_eq(text, "");
    free(text);
}
END_TEST

START_TEST(one_byte_over_the_limit_is_too_large)
{
    char *text = (char *)1;
    size_t length = 7;
    const char *path = write_file("b.txt", 4097, 'y');
    ck_assert_int_eq(wd_file_read(path, 4096, 0, &text, &length), WD_FILE_TOO_LARGE);
    ck_assert_ptr_null(text);
    ck_assert_uint_eq(length, 0);
    ck_assert_int_eq(wd_file_read(path, 4097, WD_FILE_SECRET, &text, &length), WD_FILE_OK);
    ck_assert_uint_eq(length, 4097);
    free(text);
}
END_TEST

START_TEST(endless_device_stops_at_the_limit)
{
    char *text = NULL;
    size_t length = 0;
    ck_assert_int_eq(wd_file_read("/dev/zero", 1 << 20, 0, &text, &length), WD_FILE_TOO_LARGE);
    ck_assert_ptr_null(text);
    ck_assert_int_eq(wd_file_read("/dev/zero", 1 << 20, WD_FILE_REGULAR, &text, &length), WD_FILE_NOT_REGULAR);
}
END_TEST

START_TEST(folder_and_fifo_are_refused_without_waiting_when_regular_is_asked)
{
    char *text = NULL;
    size_t length = 0;
    char fifo[512];
    ck_assert_int_eq(wd_file_read(folder, 100, WD_FILE_REGULAR, &text, &length), WD_FILE_NOT_REGULAR);
    snprintf(fifo, sizeof fifo, "%s/pipe", folder);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    /* no writer: a blocking open would hang here */
    ck_assert_int_eq(wd_file_read(fifo, 100, WD_FILE_REGULAR, &text, &length), WD_FILE_NOT_REGULAR);
    ck_assert_ptr_null(text);
}
END_TEST

START_TEST(missing_file_is_an_open_failure_with_errno)
{
    char *text = NULL;
    size_t length = 0;
    char path[512];
    snprintf(path, sizeof path, "%s/none", folder);
    ck_assert_int_eq(wd_file_read(path, 100, 0, &text, &length), WD_FILE_OPEN);
    ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(descriptor_is_read_and_left_open)
{
    char *text = NULL;
    size_t length = 0;
    const char *path = write_file("c.txt", 5, 'z');
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(wd_file_read_fd(fd, 100, WD_FILE_REGULAR, &text, &length), WD_FILE_OK);
    ck_assert_str_eq(text, "zzzzz");
    ck_assert_int_eq(fcntl(fd, F_GETFD), 0);
    close(fd);
    free(text);
}
END_TEST

static Suite *file_text_suite(void)
{
    Suite *suite = suite_create("file_text");
    TCase *tc = tcase_create("file_text");
    tcase_add_checked_fixture(tc, make_folder, remove_folder);
    tcase_add_test(tc, whole_file_is_read_and_nul_terminated);
    tcase_add_test(tc, one_byte_over_the_limit_is_too_large);
    tcase_add_test(tc, endless_device_stops_at_the_limit);
    tcase_add_test(tc, folder_and_fifo_are_refused_without_waiting_when_regular_is_asked);
    tcase_add_test(tc, missing_file_is_an_open_failure_with_errno);
    tcase_add_test(tc, descriptor_is_read_and_left_open);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return tr_run_suite(file_text_suite());
}
