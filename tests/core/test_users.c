/*
** test_users.c — the users file and the password lookup over file and callback
** (core/users.c).
*/
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/users.h"
#include "include/warden.h"
#include "test_run.h"

static char temporary_folder[4096];

/* The users.txt of the test PKI: alice:secret, bob:hunter2, carol:p:a:ss. */
static const char *pki_users_path(void)
{
    static char path[4096];
    const char *pki = getenv("WARDEN_TEST_PKI");
    ck_assert_msg(pki != NULL, "WARDEN_TEST_PKI is not set");
    snprintf(path, sizeof path, "%s/users.txt", pki);
    return path;
}

static void make_temporary_folder(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(temporary_folder, sizeof temporary_folder, "%s/warden-users-XXXXXX",
             base != NULL && base[0] != '\0' ? base : P_tmpdir);
    ck_assert_ptr_nonnull(mkdtemp(temporary_folder));
}

static void remove_temporary_folder(void)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/users.txt", temporary_folder);
    unlink(path);
    rmdir(temporary_folder);
}

/* Writes a users file with these contents into the test's folder; returns its path. */
static const char *write_users(const char *contents, size_t length)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/users.txt", temporary_folder);
    FILE *file = fopen(path, "wb");
    ck_assert_ptr_nonnull(file);
    ck_assert_uint_eq(fwrite(contents, 1, length, file), length);
    fclose(file);
    return path;
}

static int load_text(const char *contents, wd_users **users, char *message, size_t capacity)
{
    return wd_users_load(write_users(contents, strlen(contents)), users, message, capacity);
}

static void assert_password(const wd_users *users, const char *name, const char *expected)
{
    const char *password = NULL;
    size_t      length = 0;
    ck_assert_msg(wd_users_lookup(users, name, strlen(name), &password, &length) == WARDEN_OK,
                  "user %s should be known", name);
    ck_assert_uint_eq(length, strlen(expected));
    ck_assert_int_eq(memcmp(password, expected, length), 0);
}

static void assert_unknown(const wd_users *users, const char *name)
{
    const char *password = NULL;
    size_t      length = 0;
    ck_assert_int_eq(wd_users_lookup(users, name, strlen(name), &password, &length), WARDEN_E_NOT_APPLICABLE);
}

/* ---- the users file --------------------------------------------------------------------- */

START_TEST(pki_users_file_loads)
{
    wd_users *users = NULL;
    char      message[256];
    ck_assert_int_eq(wd_users_load(pki_users_path(), &users, message, sizeof message), WARDEN_OK);
    assert_password(users, "alice", "secret");
    assert_password(users, "bob", "hunter2");
    assert_unknown(users, "mallory");
    wd_users_free(users);
}
END_TEST

START_TEST(password_keeps_every_colon_after_the_first)
{
    wd_users *users = NULL;
    ck_assert_int_eq(wd_users_load(pki_users_path(), &users, NULL, 0), WARDEN_OK);
    assert_password(users, "carol", "p:a:ss");
    wd_users_free(users);
}
END_TEST

START_TEST(comments_blank_lines_and_crlf_are_handled)
{
    wd_users *users = NULL;
    char      message[256];
    ck_assert_int_eq(load_text("# team\r\n\r\n   \nalice:secret\r\n#bob:nope\nbob:hunter2\r\ndave: spaced \nerin:",
                               &users, message, sizeof message),
                     WARDEN_OK);
    assert_password(users, "alice", "secret");
    assert_password(users, "bob", "hunter2");
    assert_password(users, "dave", " spaced ");
    assert_password(users, "erin", ""); /* the last line needs no newline; an empty password is a password */
    assert_unknown(users, "#bob");
    wd_users_free(users);
}
END_TEST

START_TEST(an_empty_file_has_no_users)
{
    wd_users *users = NULL;
    ck_assert_int_eq(load_text("", &users, NULL, 0), WARDEN_OK);
    assert_unknown(users, "alice");
    wd_users_free(users);
}
END_TEST

START_TEST(names_match_exactly)
{
    wd_users *users = NULL;
    ck_assert_int_eq(load_text("alice:secret\nalicia:other\n", &users, NULL, 0), WARDEN_OK);
    assert_unknown(users, "alic");
    assert_unknown(users, "Alice");
    assert_unknown(users, "alice ");
    assert_unknown(users, "");
    const char *password;
    size_t      length;
    ck_assert_int_eq(wd_users_lookup(users, "alicexyz", 5, &password, &length), WARDEN_OK);
    ck_assert_int_eq(wd_users_lookup(users, "alicexyz", 6, &password, &length), WARDEN_E_NOT_APPLICABLE);
    wd_users_free(users);
}
END_TEST

START_TEST(many_users_are_all_found)
{
    size_t capacity = 2000 * 32;
    char  *contents = malloc(capacity);
    size_t used = 0;
    ck_assert_ptr_nonnull(contents);
    /* Written in an order that is not sorted, so the lookup depends on the load sorting. */
    for (int i = 0; i < 2000; i++)
        used += (size_t)snprintf(contents + used, capacity - used, "user%d:pw%d\n", (i * 7919) % 2000,
                                 (i * 7919) % 2000);
    wd_users *users = NULL;
    ck_assert_int_eq(wd_users_load(write_users(contents, used), &users, NULL, 0), WARDEN_OK);
    for (int i = 0; i < 2000; i++) {
        char name[32], password[32];
        snprintf(name, sizeof name, "user%d", i);
        snprintf(password, sizeof password, "pw%d", i);
        assert_password(users, name, password);
    }
    assert_unknown(users, "user2000");
    assert_unknown(users, "user");
    wd_users_free(users);
    free(contents);
}
END_TEST

START_TEST(missing_file_is_an_io_error)
{
    wd_users *users = (wd_users *)1;
    char      message[256] = "";
    char      path[4200];
    snprintf(path, sizeof path, "%s/no-such-users.txt", temporary_folder);
    ck_assert_int_eq(wd_users_load(path, &users, message, sizeof message), WARDEN_E_IO);
    ck_assert_ptr_null(users);
    ck_assert_ptr_nonnull(strstr(message, "no-such-users.txt"));
}
END_TEST

START_TEST(a_folder_is_an_io_error)
{
    wd_users *users = NULL;
    char      message[256] = "";
    ck_assert_int_eq(wd_users_load(temporary_folder, &users, message, sizeof message), WARDEN_E_IO);
    ck_assert_ptr_null(users);
    ck_assert(message[0] != '\0');
}
END_TEST

START_TEST(line_without_colon_is_a_config_error_naming_the_line)
{
    wd_users *users = (wd_users *)1;
    char      message[256] = "";
    ck_assert_int_eq(load_text("# users\nalice:secret\nbob hunter2\n", &users, message, sizeof message),
                     WARDEN_E_CONFIG);
    ck_assert_ptr_null(users);
    ck_assert_msg(strstr(message, "line 3") != NULL, "message: %s", message);
}
END_TEST

START_TEST(empty_name_is_a_config_error_naming_the_line)
{
    wd_users *users = NULL;
    char      message[256] = "";
    ck_assert_int_eq(load_text("alice:secret\n:nobody\n", &users, message, sizeof message), WARDEN_E_CONFIG);
    ck_assert_ptr_null(users);
    ck_assert_msg(strstr(message, "line 2") != NULL, "message: %s", message);
}
END_TEST

START_TEST(a_name_given_twice_is_a_config_error_naming_the_line)
{
    wd_users *users = NULL;
    char      message[256] = "";
    ck_assert_int_eq(load_text("alice:secret\nbob:hunter2\n\nalice:other\n", &users, message, sizeof message),
                     WARDEN_E_CONFIG);
    ck_assert_ptr_null(users);
    ck_assert_msg(strstr(message, "line 4") != NULL, "message: %s", message);
    ck_assert_msg(strstr(message, "line 1") != NULL, "message: %s", message);
}
END_TEST

START_TEST(a_password_too_long_to_look_up_is_a_config_error)
{
    char contents[WD_PASSWORD_CAPACITY + 64];
    strcpy(contents, "alice:secret\nbob:");
    size_t used = strlen(contents);
    memset(contents + used, 'x', WD_PASSWORD_CAPACITY + 1);
    used += WD_PASSWORD_CAPACITY + 1;
    contents[used++] = '\n';
    wd_users *users = NULL;
    char      message[256] = "";
    ck_assert_int_eq(wd_users_load(write_users(contents, used), &users, message, sizeof message), WARDEN_E_CONFIG);
    ck_assert_msg(strstr(message, "line 2") != NULL, "message: %s", message);

    /* Exactly the capacity is fine. */
    used -= 2;
    contents[used++] = '\n';
    ck_assert_int_eq(wd_users_load(write_users(contents, used), &users, message, sizeof message), WARDEN_OK);
    wd_users_free(users);
}
END_TEST

START_TEST(a_nul_byte_is_a_config_error)
{
    wd_users *users = NULL;
    char      message[256] = "";
    ck_assert_int_eq(wd_users_load(write_users("alice:secret\nbob:hun\0ter\n", 25), &users, message, sizeof message),
                     WARDEN_E_CONFIG);
    ck_assert_msg(strstr(message, "line 2") != NULL, "message: %s", message);
}
END_TEST

START_TEST(freeing_null_does_nothing)
{
    wd_users_free(NULL);
}
END_TEST

/* ---- credentials: the file, then the callback ------------------------------------------- */

typedef struct callback_script {
    int         status;
    const char *password;
    size_t      length;   /* reported length (may lie) */
    int         calls;
} callback_script;

static int scripted_callback(void *context, const char *username, size_t username_length, char *password,
                             size_t capacity, size_t *length)
{
    callback_script *script = context;
    script->calls++;
    ck_assert_uint_eq(capacity, WD_PASSWORD_CAPACITY);
    if (script->password != NULL)
        memcpy(password, script->password, strlen(script->password));
    *length = script->length;
    return script->status;
}

static int lookup(const wd_credentials *credentials, const char *name, char *password, size_t *length,
                  wd_failure *failure)
{
    memset(failure, 0, sizeof *failure);
    return wd_credentials_lookup(credentials, name, strlen(name), password, length, failure);
}

START_TEST(file_is_consulted_before_the_callback)
{
    wd_users *users = NULL;
    ck_assert_int_eq(wd_users_load(pki_users_path(), &users, NULL, 0), WARDEN_OK);
    callback_script script = { WARDEN_OK, "from-callback", 13, 0 };
    wd_credentials  credentials = { users, scripted_callback, &script };
    char            password[WD_PASSWORD_CAPACITY];
    size_t          length = 0;
    wd_failure      failure;
    ck_assert_int_eq(lookup(&credentials, "alice", password, &length, &failure), 0);
    ck_assert_uint_eq(length, 6);
    ck_assert_int_eq(memcmp(password, "secret", 6), 0);
    ck_assert_int_eq(script.calls, 0);
    wd_users_free(users);
}
END_TEST

START_TEST(callback_finds_a_user_the_file_does_not_know)
{
    wd_users *users = NULL;
    ck_assert_int_eq(wd_users_load(pki_users_path(), &users, NULL, 0), WARDEN_OK);
    callback_script script = { WARDEN_OK, "from-callback", 13, 0 };
    wd_credentials  credentials = { users, scripted_callback, &script };
    char            password[WD_PASSWORD_CAPACITY];
    size_t          length = 0;
    wd_failure      failure;
    ck_assert_int_eq(lookup(&credentials, "dave", password, &length, &failure), 0);
    ck_assert_uint_eq(length, 13);
    ck_assert_int_eq(memcmp(password, "from-callback", 13), 0);
    ck_assert_int_eq(script.calls, 1);
    wd_users_free(users);
}
END_TEST

START_TEST(callback_not_applicable_means_user_unknown)
{
    callback_script script = { WARDEN_E_NOT_APPLICABLE, NULL, 0, 0 };
    wd_credentials  credentials = { NULL, scripted_callback, &script };
    char            password[WD_PASSWORD_CAPACITY];
    size_t          length = 0;
    wd_failure      failure;
    ck_assert_int_eq(lookup(&credentials, "dave", password, &length, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "user-unknown");
    ck_assert_int_eq(failure.code, WARDEN_E_SECURITY);
    ck_assert_ptr_nonnull(strstr(failure.detail, "dave"));
}
END_TEST

START_TEST(failing_callback_is_an_internal_error)
{
    callback_script script = { WARDEN_E_IO, "partial", 7, 0 };
    wd_credentials  credentials = { NULL, scripted_callback, &script };
    char            password[WD_PASSWORD_CAPACITY];
    size_t          length = 99;
    wd_failure      failure;
    ck_assert_int_eq(lookup(&credentials, "dave", password, &length, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "internal-error");
    ck_assert_int_eq(failure.code, WARDEN_E_INTERNAL);
    ck_assert_uint_eq(length, 0);
    /* What the callback wrote before failing is wiped. */
    ck_assert_int_ne(memcmp(password, "partial", 7), 0);

    script.status = WARDEN_E_NOMEM;
    ck_assert_int_eq(lookup(&credentials, "dave", password, &length, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "internal-error");
    ck_assert_int_eq(failure.code, WARDEN_E_NOMEM);
}
END_TEST

START_TEST(callback_length_beyond_capacity_is_an_internal_error)
{
    callback_script script = { WARDEN_OK, "x", WD_PASSWORD_CAPACITY + 1, 0 };
    wd_credentials  credentials = { NULL, scripted_callback, &script };
    char            password[WD_PASSWORD_CAPACITY];
    size_t          length = 0;
    wd_failure      failure;
    ck_assert_int_eq(lookup(&credentials, "dave", password, &length, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "internal-error");
    ck_assert_uint_eq(length, 0);
}
END_TEST

START_TEST(no_source_knows_the_user)
{
    wd_users *users = NULL;
    ck_assert_int_eq(wd_users_load(pki_users_path(), &users, NULL, 0), WARDEN_OK);
    wd_credentials credentials = { users, NULL, NULL };
    char           password[WD_PASSWORD_CAPACITY];
    size_t         length = 0;
    wd_failure     failure;
    ck_assert_int_eq(lookup(&credentials, "mallory", password, &length, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "user-unknown");

    wd_credentials nothing = { NULL, NULL, NULL };
    ck_assert_int_eq(lookup(&nothing, "alice", password, &length, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "user-unknown");
    wd_users_free(users);
}
END_TEST

START_TEST(hostile_user_names_are_shown_safely)
{
    wd_credentials credentials = { NULL, NULL, NULL };
    char           password[WD_PASSWORD_CAPACITY];
    size_t         length = 0;
    wd_failure     failure;
    char           name[300];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    name[3] = '\n';
    ck_assert_int_eq(lookup(&credentials, name, password, &length, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "user-unknown");
    ck_assert_ptr_null(strchr(failure.detail, '\n'));
    ck_assert_uint_lt(strlen(failure.detail), 120);
}
END_TEST

START_TEST(lookup_misuse_is_an_internal_error)
{
    wd_credentials credentials = { NULL, NULL, NULL };
    char           password[WD_PASSWORD_CAPACITY];
    wd_failure     failure;
    memset(&failure, 0, sizeof failure);
    ck_assert_int_eq(wd_credentials_lookup(&credentials, "alice", 5, password, NULL, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "internal-error");
    ck_assert_int_eq(wd_users_load(NULL, NULL, NULL, 0), WARDEN_E_INVALID_ARG);
}
END_TEST

static Suite *users_suite(void)
{
    Suite *suite = suite_create("users");
    TCase *file = tcase_create("file");
    tcase_add_checked_fixture(file, make_temporary_folder, remove_temporary_folder);
    tcase_add_test(file, pki_users_file_loads);
    tcase_add_test(file, password_keeps_every_colon_after_the_first);
    tcase_add_test(file, comments_blank_lines_and_crlf_are_handled);
    tcase_add_test(file, an_empty_file_has_no_users);
    tcase_add_test(file, names_match_exactly);
    tcase_add_test(file, many_users_are_all_found);
    tcase_add_test(file, missing_file_is_an_io_error);
    tcase_add_test(file, a_folder_is_an_io_error);
    tcase_add_test(file, line_without_colon_is_a_config_error_naming_the_line);
    tcase_add_test(file, empty_name_is_a_config_error_naming_the_line);
    tcase_add_test(file, a_name_given_twice_is_a_config_error_naming_the_line);
    tcase_add_test(file, a_password_too_long_to_look_up_is_a_config_error);
    tcase_add_test(file, a_nul_byte_is_a_config_error);
    tcase_add_test(file, freeing_null_does_nothing);
    suite_add_tcase(suite, file);

    TCase *credentials = tcase_create("credentials");
    tcase_add_test(credentials, file_is_consulted_before_the_callback);
    tcase_add_test(credentials, callback_finds_a_user_the_file_does_not_know);
    tcase_add_test(credentials, callback_not_applicable_means_user_unknown);
    tcase_add_test(credentials, failing_callback_is_an_internal_error);
    tcase_add_test(credentials, callback_length_beyond_capacity_is_an_internal_error);
    tcase_add_test(credentials, no_source_knows_the_user);
    tcase_add_test(credentials, hostile_user_names_are_shown_safely);
    tcase_add_test(credentials, lookup_misuse_is_an_internal_error);
    suite_add_tcase(suite, credentials);
    return suite;
}

int main(void)
{
    return tr_run_suite(users_suite());
}
