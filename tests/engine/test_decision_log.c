/*
** test_decision_log.c — the decision log line (engine/decision_log.c): built from a decision
** alone, the same text jansson would make of its fields; one JSON object per decision with
** the documented fields, security rejections included (warden_engine_receive logs them),
** "remote" only when given, facts that are not UTF-8 never break the line.
*/
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <warden.h>

#include "engine/decision.h"
#include "test_engine.h"
#include "test_messages.h"
#include "test_run.h"

static te_policy_dir scratch;

static void make_scratch(void)
{
    scratch = te_make_dir("dlog");
}

/* An engine over one permit for the order request, logging to scratch/decisions.jsonl. */
static warden_engine *logging_engine(char *log_path, size_t capacity)
{
    char path[512];
    te_write_file(&scratch, "policies/orders.lua",
                  "permit \"users create orders\" { action = \"urn:example:orders/Create\",\n"
                  "  when = function(m) return m.username == \"alice\" end }\n");
    snprintf(log_path, capacity, "%s/decisions.jsonl", scratch.path);
    warden_config *config = NULL;
    warden_error err;
    char *users = tm_pki_path("users.txt");
    snprintf(path, sizeof path, "%s/policies", scratch.path);
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "users", users, &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "policies", path, &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "log.decisions", log_path, &err), WARDEN_OK);
    warden_engine *engine = NULL;
    ck_assert_msg(warden_engine_new(config, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_config_free(config);
    free(users);
    return engine;
}

static json_t *read_lines(const char *path)
{
    json_t *lines = json_array();
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[8192];
    while (fgets(line, sizeof line, f) != NULL) {
        json_error_t error;
        json_t *object = json_loads(line, 0, &error);
        ck_assert_msg(object != NULL, "not JSON: %s (%s)", line, error.text);
        json_array_append_new(lines, object);
    }
    fclose(f);
    return lines;
}

static const char *text_of(const json_t *object, const char *key)
{
    const json_t *value = json_object_get(object, key);
    ck_assert_msg(json_is_string(value), "%s is not a string", key);
    return json_string_value(value);
}

static void remove_scratch(void)
{
    te_remove_dir(&scratch);
}

START_TEST(policy_and_security_decisions_each_log_one_line)
{
    make_scratch();
    char log_path[512];
    warden_engine *engine = logging_engine(log_path, sizeof log_path);
    warden_error err;
    warden_receive_options options = { .size = sizeof options, .now = TM_NOW };

    /* a delivered UsernameToken request, allowed by policy */
    tm_username_options user = { .digest = 1 };
    char *text = tm_username_message(&user);
    warden_message *message = NULL;
    warden_decision *decision = NULL;
    ck_assert_msg(warden_engine_receive(engine, text, strlen(text), &options, &message, &err) == WARDEN_OK, "%s",
                  err.text);
    ck_assert_int_eq(warden_engine_decide(engine, message, &decision, &err), WARDEN_OK);
    warden_decision_free(decision);
    warden_message_free(message);
    free(text);

    /* no Security header: rejected by receive, which logs the deny */
    text = tm_plain_message();
    ck_assert_int_eq(warden_engine_receive(engine, text, strlen(text), &options, &message, &err), WARDEN_E_SECURITY);
    free(text);
    /* not XML at all */
    ck_assert_int_eq(warden_engine_receive(engine, "<<<", 3, &options, &message, &err), WARDEN_E_SECURITY);
    warden_engine_free(engine);

    json_t *lines = read_lines(log_path);
    ck_assert_uint_eq(json_array_size(lines), 3);
    const json_t *allowed = json_array_get(lines, 0);
    ck_assert_str_eq(text_of(allowed, "decision"), "allow");
    ck_assert_str_eq(text_of(allowed, "stage"), "policy");
    ck_assert_str_eq(text_of(allowed, "reason"), "permitted");
    ck_assert_str_eq(text_of(allowed, "action"), "urn:example:orders/Create");
    ck_assert_str_eq(text_of(allowed, "operation"), "{urn:example:orders}CreateOrder");
    ck_assert_ptr_nonnull(strstr(text_of(allowed, "message_id"), "urn:uuid:"));
    ck_assert_str_eq(text_of(json_object_get(allowed, "principal"), "username"), "alice");
    ck_assert_ptr_null(json_object_get(json_object_get(allowed, "principal"), "cert_subject"));
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(allowed, "rules"), 0)), "users create orders");
    ck_assert_uint_eq(json_array_size(json_object_get(allowed, "errors")), 0);
    ck_assert_ptr_nonnull(strstr(text_of(allowed, "revision"), "sha256:"));
    ck_assert(json_is_integer(json_object_get(allowed, "latency_us")));
    const char *id = text_of(allowed, "id"); /* a random UUID, version 4, RFC 4122 variant */
    ck_assert_uint_eq(strlen(id), 36);
    ck_assert(id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-');
    ck_assert_int_eq(id[14], '4');
    ck_assert_ptr_nonnull(strchr("89ab", id[19]));
    ck_assert_uint_eq(strspn(id, "0123456789abcdef-"), 36);
    ck_assert_str_ne(id, text_of(json_array_get(lines, 1), "id"));
    const char *when = text_of(allowed, "time");
    ck_assert_uint_eq(strlen(when), 24); /* 2026-12-05T00:01:02.345Z */
    ck_assert_int_eq(when[10], 'T');
    ck_assert_int_eq(when[23], 'Z');
    ck_assert_ptr_null(json_object_get(allowed, "remote"));

    const json_t *missing = json_array_get(lines, 1);
    ck_assert_str_eq(text_of(missing, "decision"), "deny");
    ck_assert_str_eq(text_of(missing, "stage"), "security");
    ck_assert_str_eq(text_of(missing, "reason"), "security-header-missing");
    ck_assert_str_eq(text_of(missing, "revision"), text_of(allowed, "revision"));
    ck_assert(json_is_integer(json_object_get(missing, "latency_us")));
    ck_assert_str_ne(text_of(missing, "id"), text_of(allowed, "id"));
    ck_assert_str_eq(text_of(json_array_get(lines, 2), "reason"), "malformed");
    json_decref(lines);
    remove_scratch();
}
END_TEST

START_TEST(line_builder_adds_remote_and_survives_bytes_that_are_not_utf8)
{
    warden_error err = { .code = WARDEN_E_SECURITY, .reason = "cert-untrusted", .text = "no chain" };
    warden_decision *decision = NULL;
    ck_assert_int_eq(wd_decision_new_rejection(&err, NULL, &decision), WARDEN_OK);
    wd_decision_facts_start(&decision->facts);
    decision->facts.cert_subject = strdup("CN=\xff\xfe" "evil,O=Example");
    decision->facts.latency_us = 42;
    char *line = wd_decision_log_line(decision, "192.0.2.7:5555");
    ck_assert_ptr_nonnull(line);
    ck_assert_ptr_null(strchr(line, '\n'));
    json_error_t error;
    json_t *object = json_loads(line, 0, &error);
    ck_assert_msg(object != NULL, "%s", line);
    ck_assert_str_eq(text_of(object, "remote"), "192.0.2.7:5555");
    ck_assert_str_eq(text_of(object, "stage"), "security");
    ck_assert_str_eq(text_of(object, "reason"), "cert-untrusted");
    ck_assert_str_eq(text_of(object, "detail"), "no chain");
    ck_assert_str_eq(text_of(object, "revision"), "");
    ck_assert_int_eq(json_integer_value(json_object_get(object, "latency_us")), 42);
    ck_assert_str_eq(text_of(json_object_get(object, "principal"), "cert_subject"), "CN=??evil,O=Example");
    json_decref(object);
    free(line);
    /* a decision that kept no facts has no time, id or latency, and still a valid line */
    wd_decision_facts_clear(&decision->facts);
    line = wd_decision_log_line(decision, NULL);
    object = json_loads(line, 0, &error);
    ck_assert_ptr_nonnull(object);
    ck_assert_ptr_null(json_object_get(object, "time"));
    ck_assert_ptr_null(json_object_get(object, "remote"));
    json_decref(object);
    free(line);
    warden_decision_free(decision);
}
END_TEST

/* The line is written without a JSON library: it must be the very text jansson would make
** of the same fields (compact, in order), for every kind of character a fact can carry. */
START_TEST(line_is_the_json_jansson_makes_of_the_same_fields)
{
    static const char *const tricky[] = {
        "plain", "quote \" backslash \\ slash /", "controls \x01\x1f\b\f\n\r\t\x7f",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92",
        "overlong \xc0\xaf", "surrogate \xed\xa0\x80", "cut \xe2\x82", "",
    };
    for (size_t i = 0; i < sizeof tricky / sizeof tricky[0]; i++) {
        warden_error err = { .code = WARDEN_E_SECURITY, .reason = "malformed" };
        snprintf(err.text, sizeof err.text, "%s", tricky[i]);
        warden_decision *decision = NULL;
        ck_assert_int_eq(wd_decision_new_rejection(&err, NULL, &decision), WARDEN_OK);
        decision->facts.message_id = strdup(tricky[i]);
        decision->facts.username = strdup(tricky[i]);
        char *line = wd_decision_log_line(decision, tricky[i]);
        ck_assert_ptr_nonnull(line);

        json_t *expected = json_object(), *principal = json_object();
        json_t *value = json_string(tricky[i]);
        if (value == NULL) { /* not UTF-8: every byte past ASCII is '?' */
            char clean[256];
            size_t n = strlen(tricky[i]);
            for (size_t k = 0; k <= n; k++)
                clean[k] = (unsigned char)tricky[i][k] < 0x80 ? tricky[i][k] : '?';
            value = json_string(clean);
        }
        json_object_set(expected, "message_id", value);
        json_object_set(principal, "username", value);
        json_object_set_new(expected, "principal", principal);
        json_object_set_new(expected, "decision", json_string("deny"));
        json_object_set_new(expected, "stage", json_string("security"));
        json_object_set_new(expected, "reason", json_string("malformed"));
        if (tricky[i][0] != '\0')
            json_object_set(expected, "detail", value);
        json_object_set_new(expected, "rules", json_array());
        json_object_set_new(expected, "errors", json_array());
        json_object_set_new(expected, "revision", json_string(""));
        json_object_set(expected, "remote", value);
        json_decref(value);
        char *text = json_dumps(expected, JSON_COMPACT | JSON_PRESERVE_ORDER);
        ck_assert_str_eq(line, text);
        free(text);
        json_decref(expected);
        free(line);
        wd_decision_facts_clear(&decision->facts);
        warden_decision_free(decision);
    }
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("decision log");
    TCase *tc = tcase_create("lines");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, policy_and_security_decisions_each_log_one_line);
    tcase_add_test(tc, line_builder_adds_remote_and_survives_bytes_that_are_not_utf8);
    tcase_add_test(tc, line_is_the_json_jansson_makes_of_the_same_fields);
    suite_add_tcase(suite, tc);
    return tr_run_suite(suite);
}
