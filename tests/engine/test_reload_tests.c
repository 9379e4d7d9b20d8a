/*
** test_reload_tests.c — reload.tests: "gate" (the default) refuses a set whose policy tests
** fail, at start and at reload, naming the failing tests in the error and the log; "report"
** serves it anyway and logs the failures; "off" runs no test.
*/
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <warden.h>

#include "test_engine.h"
#include "test_run.h"

typedef struct log_lines {
    char text[8192];
} log_lines;

static void keep_line(void *context, int level, const char *message)
{
    (void)level;
    log_lines *log = context;
    size_t used = strlen(log->text);
    snprintf(log->text + used, sizeof log->text - used, "%s\n", message);
}

static te_policy_dir dir;

static const char rules[] = "permit \"creates\" { action = \"urn:example:orders/Create\" }\n";
static const char passing[] =
    "test \"creating is allowed\" { message = { action = \"urn:example:orders/Create\" }, expect = \"allow\" }\n";
static const char failing[] =
    "test \"creating is allowed\" { message = { action = \"urn:example:orders/Create\" }, expect = \"allow\" }\n"
    "test \"cancelling is allowed\" { message = { action = \"urn:example:orders/Cancel\" }, expect = \"allow\" }\n";

static int open_engine(const char *tests, log_lines *log, warden_engine **engine, warden_error *err)
{
    warden_config *config = NULL;
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "policies", dir.path, err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "reload.watch", "false", err), WARDEN_OK);
    if (tests != NULL)
        ck_assert_int_eq(warden_config_set(config, "reload.tests", tests, err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set_logger(config, keep_line, log), WARDEN_OK);
    int status = warden_engine_new(config, engine, err);
    warden_config_free(config);
    return status;
}

static void setup(void)
{
    dir = te_make_dir("gate");
    te_write_file(&dir, "orders.lua", rules);
}

static void teardown(void)
{
    te_remove_dir(&dir);
}

START_TEST(gate_refuses_a_set_whose_tests_fail_and_names_them)
{
    te_write_file(&dir, "orders_test.lua", failing);
    log_lines log = { "" };
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_int_eq(open_engine(NULL, &log, &engine, &err), WARDEN_E_POLICY);
    ck_assert_ptr_null(engine);
    ck_assert_msg(strstr(err.text, "1 of 2 policy tests failed") != NULL, "%s", err.text);
    ck_assert_msg(strstr(err.text, "'cancelling is allowed'") != NULL, "%s", err.text);
    ck_assert_ptr_null(strstr(err.text, "'creating is allowed'"));
    ck_assert_msg(strstr(log.text, "policy test failed: orders_test.lua:2: test 'cancelling is allowed'") != NULL,
                  "%s", log.text);
}
END_TEST

START_TEST(gate_keeps_the_serving_revision_when_a_reload_fails_its_tests)
{
    te_write_file(&dir, "orders_test.lua", passing);
    log_lines log = { "" };
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_msg(open_engine("gate", &log, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_status before = { .size = sizeof(warden_status) }, after = { .size = sizeof(warden_status) };
    warden_engine_status(engine, &before);
    te_write_file(&dir, "orders_test.lua", failing);
    ck_assert_int_eq(warden_engine_reload(engine, &err), WARDEN_E_POLICY);
    ck_assert_ptr_nonnull(strstr(err.text, "'cancelling is allowed'"));
    warden_engine_status(engine, &after);
    ck_assert_str_eq(after.revision, before.revision);
    ck_assert_ptr_nonnull(strstr(after.last_error, "'cancelling is allowed'"));
    ck_assert_ptr_nonnull(strstr(log.text, "reload failed"));
    ck_assert_ptr_nonnull(strstr(log.text, "test 'cancelling is allowed'"));
    warden_engine_free(engine);
}
END_TEST

START_TEST(report_serves_the_set_and_logs_the_failures)
{
    te_write_file(&dir, "orders_test.lua", passing);
    log_lines log = { "" };
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_msg(open_engine("report", &log, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_status before = { .size = sizeof(warden_status) }, after = { .size = sizeof(warden_status) };
    warden_engine_status(engine, &before);
    te_write_file(&dir, "orders.lua",
                  "permit \"creates\" { action = \"urn:example:orders/Create\" }\n-- revoked someone\n");
    te_write_file(&dir, "orders_test.lua", failing);
    ck_assert_msg(warden_engine_reload(engine, &err) == WARDEN_OK, "%s", err.text);
    warden_engine_status(engine, &after);
    ck_assert_str_ne(after.revision, before.revision);
    ck_assert_msg(strstr(log.text, "1 of 2 policy tests failed") != NULL, "%s", log.text);
    ck_assert_ptr_nonnull(strstr(log.text, "serving it anyway"));
    ck_assert_ptr_nonnull(strstr(log.text, "test 'cancelling is allowed'"));
    warden_engine_free(engine);
    /* and at start */
    log.text[0] = '\0';
    ck_assert_msg(open_engine("report", &log, &engine, &err) == WARDEN_OK, "%s", err.text);
    ck_assert_ptr_nonnull(strstr(log.text, "'cancelling is allowed'"));
    warden_engine_free(engine);
}
END_TEST

START_TEST(off_runs_no_test)
{
    te_write_file(&dir, "orders_test.lua", failing);
    log_lines log = { "" };
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_msg(open_engine("off", &log, &engine, &err) == WARDEN_OK, "%s", err.text);
    ck_assert_str_eq(log.text, "");
    warden_engine_free(engine);
    warden_config *config = NULL;
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "reload.tests", "sometimes", &err), WARDEN_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.text, "reload.tests"));
    warden_config_free(config);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("reload tests");
    TCase *tc = tcase_create("gate");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, gate_refuses_a_set_whose_tests_fail_and_names_them);
    tcase_add_test(tc, gate_keeps_the_serving_revision_when_a_reload_fails_its_tests);
    tcase_add_test(tc, report_serves_the_set_and_logs_the_failures);
    tcase_add_test(tc, off_runs_no_test);
    suite_add_tcase(suite, tc);
    return tr_run_suite(suite);
}
