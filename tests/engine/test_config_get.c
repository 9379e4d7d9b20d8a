/*
** test_config_get.c — warden_config_get (values as text, for programs over the library such
** as `warden serve`), the serve section with its nested tls and timeouts sections, and the
** replay and log keys the server reads.
*/
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "include/warden.h"
#include "test_engine.h"
#include "test_run.h"

static te_policy_dir scratch;
static const char *folder = scratch.path;
static char path[sizeof scratch.path + 16];

static void make_folder(void)
{
    scratch = te_make_dir("config-get");
    snprintf(path, sizeof path, "%s/warden.lua", folder);
}

static void drop_folder(void)
{
    te_remove_dir(&scratch);
}

static int load(warden_config *config, const char *text, warden_error *err)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return warden_config_load(config, path, err);
}

static void assert_value(const warden_config *config, const char *key, size_t index, const char *expected)
{
    char out[512];
    int status = warden_config_get(config, key, index, out, sizeof out);
    ck_assert_msg(status == WARDEN_OK, "%s[%zu]: status %d", key, index, status);
    ck_assert_str_eq(out, expected);
}

START_TEST(defaults_read_as_text)
{
    warden_config *config = NULL;
    char out[64];
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    assert_value(config, "clock.ttl", 0, "300");
    assert_value(config, "algorithms.allow_sha1", 0, "false");
    assert_value(config, "replay.backend", 0, "memory");
    assert_value(config, "replay.prefix", 0, "warden:");
    assert_value(config, "replay.timeout_ms", 0, "50");
    assert_value(config, "require.signed", 1, "Timestamp");
    assert_value(config, "require.timestamp", 0, "when-signed");
    assert_value(config, "log.queue", 0, "65536");
    assert_value(config, "log.when_full", 0, "drop");
    assert_value(config, "log.flush_ms", 0, "100");
    assert_value(config, "serve.tls.require_client_cert", 0, "true");
    assert_value(config, "serve.timeouts.read_ms", 0, "10000");
    assert_value(config, "serve.timeouts.request_ms", 0, "30000");
    assert_value(config, "serve.timeouts.upstream_ms", 0, "30000");
    assert_value(config, "serve.timeouts.drain_ms", 0, "10000");
    assert_value(config, "serve.threads", 0, "0");
    /* unset values, items past the end, and indexes on a single value are not applicable */
    ck_assert_int_eq(warden_config_get(config, "serve.upstream", 0, out, sizeof out), WARDEN_E_NOT_APPLICABLE);
    ck_assert_int_eq(warden_config_get(config, "serve.listen", 0, out, sizeof out), WARDEN_E_NOT_APPLICABLE);
    ck_assert_int_eq(warden_config_get(config, "serve.tls.crls", 0, out, sizeof out), WARDEN_E_NOT_APPLICABLE);
    ck_assert_int_eq(warden_config_get(config, "require.signed", 2, out, sizeof out), WARDEN_E_NOT_APPLICABLE);
    ck_assert_int_eq(warden_config_get(config, "clock.ttl", 1, out, sizeof out), WARDEN_E_NOT_APPLICABLE);
    ck_assert_int_eq(warden_config_get(config, "reload.max_stale_s", 0, out, sizeof out), WARDEN_E_NOT_APPLICABLE);
    warden_config_free(config);
}
END_TEST

START_TEST(unknown_keys_small_buffers_and_null_arguments_are_refused)
{
    warden_config *config = NULL;
    char out[4];
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_get(config, "clock.tll", 0, out, sizeof out), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_config_get(config, "serve", 0, out, sizeof out), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_config_get(config, "replay.backend", 0, out, sizeof out), WARDEN_E_INVALID_ARG);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(warden_config_get(NULL, "clock.ttl", 0, out, sizeof out), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_config_get(config, NULL, 0, out, sizeof out), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_config_get(config, "clock.ttl", 0, NULL, 0), WARDEN_E_INVALID_ARG);
    warden_config_free(config);
}
END_TEST

START_TEST(the_serve_section_is_read_from_a_file_with_its_nested_sections)
{
    warden_config *config = NULL;
    warden_error err;
    char expected[PATH_MAX + 32];
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    int status = load(config,
                      "return { serve = {\n"
                      "  listen = { '127.0.0.1:8181', '[::1]:8443' },\n"
                      "  tls = { cert = 'server.pem', key = 'server.key', client_ca = 'clients.pem',\n"
                      "          crls = { 'clients.crl', 'issuing.crl' }, require_client_cert = false },\n"
                      "  upstream = 'http://127.0.0.1:8080',\n"
                      "  threads = 4,\n"
                      "  timeouts = { read_ms = 500, request_ms = 1500, upstream_ms = 2000, drain_ms = 0 },\n"
                      "}, replay = { backend = 'redis', url = 'redis://10.0.0.5:6380/2', prefix = 'orders:',\n"
                      "              timeout_ms = 25 },\n"
                      "  log = { decisions = '-', queue = 16, when_full = 'block', flush_ms = 0 } }\n",
                      &err);
    ck_assert_msg(status == WARDEN_OK, "%s", err.text);
    assert_value(config, "serve.listen", 0, "127.0.0.1:8181");
    assert_value(config, "serve.listen", 1, "[::1]:8443");
    snprintf(expected, sizeof expected, "%s/server.pem", folder);
    assert_value(config, "serve.tls.cert", 0, expected); /* paths relative to the config file */
    snprintf(expected, sizeof expected, "%s/clients.pem", folder);
    assert_value(config, "serve.tls.client_ca", 0, expected);
    snprintf(expected, sizeof expected, "%s/clients.crl", folder);
    assert_value(config, "serve.tls.crls", 0, expected);
    snprintf(expected, sizeof expected, "%s/issuing.crl", folder);
    assert_value(config, "serve.tls.crls", 1, expected);
    char out[16];
    ck_assert_int_eq(warden_config_get(config, "serve.tls.crls", 2, out, sizeof out), WARDEN_E_NOT_APPLICABLE);
    assert_value(config, "serve.tls.require_client_cert", 0, "false");
    assert_value(config, "serve.upstream", 0, "http://127.0.0.1:8080");
    assert_value(config, "serve.threads", 0, "4");
    assert_value(config, "serve.timeouts.read_ms", 0, "500");
    assert_value(config, "serve.timeouts.request_ms", 0, "1500");
    assert_value(config, "serve.timeouts.drain_ms", 0, "0");
    assert_value(config, "replay.backend", 0, "redis");
    assert_value(config, "replay.url", 0, "redis://10.0.0.5:6380/2");
    assert_value(config, "replay.prefix", 0, "orders:");
    assert_value(config, "replay.timeout_ms", 0, "25");
    assert_value(config, "log.queue", 0, "16");
    assert_value(config, "log.when_full", 0, "block");
    assert_value(config, "log.flush_ms", 0, "0");
    warden_config_free(config);
}
END_TEST

START_TEST(unknown_and_mistyped_keys_in_nested_sections_are_named)
{
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        { "return { serve = { tls = { certs = 'x.pem' } } }", "serve.tls.certs: unknown key" },
        { "return { serve = { timeouts = { read = 5 } } }", "serve.timeouts.read: unknown key" },
        { "return { serve = { timeouts = { read_ms = 'soon' } } }", "serve.timeouts.read_ms" },
        { "return { serve = { tls = true } }", "serve.tls: unknown key" },
        { "return { ['serve.tls'] = { cert = 'x.pem' } }", "serve.tls: unknown key" },
        { "return { serve = { threads = -1 } }", "serve.threads" },
        { "return { log = { when_full = 'wait' } }", "log.when_full" },
        { "return { log = { flush_ms = 60001 } }", "log.flush_ms" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        warden_config *config = NULL;
        warden_error err;
        ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
        ck_assert_int_eq(load(config, cases[i].text, &err), WARDEN_E_CONFIG);
        ck_assert_msg(strstr(err.text, cases[i].message) != NULL, "%s: got '%s'", cases[i].text, err.text);
        warden_config_free(config);
    }
}
END_TEST

START_TEST(a_redis_url_that_cannot_be_read_is_a_config_error)
{
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "replay.backend", "redis", &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "replay.url", "http://127.0.0.1:6379", &err), WARDEN_OK);
    ck_assert_int_eq(warden_engine_new(config, &engine, &err), WARDEN_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.text, "replay.url"));
    ck_assert_ptr_null(engine);
    warden_config_free(config);
}
END_TEST

static Suite *config_get_suite(void)
{
    Suite *suite = suite_create("config_get");
    TCase *values = tcase_create("values");
    tcase_add_checked_fixture(values, make_folder, drop_folder);
    tcase_add_test(values, defaults_read_as_text);
    tcase_add_test(values, unknown_keys_small_buffers_and_null_arguments_are_refused);
    tcase_add_test(values, the_serve_section_is_read_from_a_file_with_its_nested_sections);
    tcase_add_test(values, unknown_and_mistyped_keys_in_nested_sections_are_named);
    tcase_add_test(values, a_redis_url_that_cannot_be_read_is_a_config_error);
    suite_add_tcase(suite, values);
    return suite;
}

int main(void)
{
    return tr_run_suite(config_get_suite());
}
