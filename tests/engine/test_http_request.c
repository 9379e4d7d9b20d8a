/*
** test_http_request.c — what an embedder passes of the HTTP request a message came with
** (warden_receive_options http_action, http_method, http_path): copied into the message, read
** through the property API and by policies (m.http_method, m.http_path), absent when not
** given, and never read past an older caller's smaller options struct.
*/
#include <check.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <warden.h>

#include "test_engine.h"
#include "test_messages.h"
#include "test_run.h"

static warden_engine *engine_with_policy(te_policy_dir *dir, const char *policy)
{
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    *dir = te_make_dir("http-request");
    te_write_file(dir, "endpoints.lua", policy);
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "require.token", "false", &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "policies", dir->path, &err), WARDEN_OK);
    ck_assert_msg(warden_engine_new(config, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_config_free(config);
    return engine;
}

/* The plain order request (action urn:example:orders/Create) received with options. */
static warden_message *receive(warden_engine *engine, const warden_receive_options *options)
{
    char *text = tm_plain_message();
    warden_message *message = NULL;
    warden_error err;
    ck_assert_msg(warden_engine_receive(engine, text, strlen(text), options, &message, &err) == WARDEN_OK, "%s: %s",
                  err.reason, err.text);
    free(text);
    return message;
}

/* The string property id of message, or NULL when it does not apply. */
static const char *property(const warden_message *message, warden_message_property_id id)
{
    warden_string value = { NULL, 0 };
    int status = warden_message_get_property(message, id, &value, sizeof value);
    ck_assert_msg(status == WARDEN_OK || status == WARDEN_E_NOT_APPLICABLE, "property %d: %d", (int)id, status);
    if (status != WARDEN_OK)
        return NULL;
    ck_assert_uint_eq(value.length, strlen(value.data));
    return value.data;
}

/* Decides the plain order request received with options; checks the outcome and reason. */
static void expect(warden_engine *engine, const warden_receive_options *options, int allowed, const char *reason)
{
    warden_message *message = receive(engine, options);
    warden_decision *decision = NULL;
    warden_error err;
    ck_assert_msg(warden_engine_decide(engine, message, &decision, &err) == WARDEN_OK, "%s", err.text);
    ck_assert_msg(warden_decision_allowed(decision) == allowed, "allowed %d, reason %s, error %s",
                  warden_decision_allowed(decision), warden_decision_reason(decision),
                  warden_decision_error_count(decision) ? warden_decision_error(decision, 0) : "-");
    ck_assert_str_eq(warden_decision_reason(decision), reason);
    ck_assert_uint_eq(warden_decision_error_count(decision), 0);
    warden_decision_free(decision);
    warden_message_free(message);
}

START_TEST(method_and_path_are_copied_into_message_properties)
{
    te_policy_dir dir;
    warden_engine *engine = engine_with_policy(&dir, "permit \"all\" { }\n");
    char method[] = "POST", path[] = "/orders/v2";
    warden_receive_options options = { .size = sizeof options, .now = TM_NOW, .http_action = "urn:x",
                                       .http_method = method, .http_path = path };
    warden_message *message = receive(engine, &options);
    memset(method, 'X', sizeof method - 1); /* the caller's strings may change once receive returns */
    memset(path, 'X', sizeof path - 1);
    ck_assert_str_eq(property(message, WARDEN_MESSAGE_PROPERTY_HTTP_METHOD), "POST");
    ck_assert_str_eq(property(message, WARDEN_MESSAGE_PROPERTY_HTTP_PATH), "/orders/v2");
    ck_assert_str_eq(property(message, WARDEN_MESSAGE_PROPERTY_HTTP_ACTION), "urn:x");
    warden_string value;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_HTTP_PATH, &value, sizeof value - 1),
                     WARDEN_E_INVALID_ARG);
    warden_message_free(message);

    /* not over HTTP: none of them */
    warden_receive_options none = { .size = sizeof none, .now = TM_NOW };
    message = receive(engine, &none);
    ck_assert_ptr_null(property(message, WARDEN_MESSAGE_PROPERTY_HTTP_METHOD));
    ck_assert_ptr_null(property(message, WARDEN_MESSAGE_PROPERTY_HTTP_PATH));
    ck_assert_ptr_null(property(message, WARDEN_MESSAGE_PROPERTY_HTTP_ACTION));
    warden_message_free(message);
    /* no options at all */
    message = receive(engine, NULL);
    ck_assert_ptr_null(property(message, WARDEN_MESSAGE_PROPERTY_HTTP_PATH));
    warden_message_free(message);
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(an_older_callers_options_leave_method_and_path_absent)
{
    te_policy_dir dir;
    warden_engine *engine = engine_with_policy(&dir, "permit \"all\" { }\n");
    /* a caller compiled against the header before http_method: its struct ends after
    ** http_action, so what lies past it (here: our own fields) must not be read */
    warden_receive_options options = { .size = offsetof(warden_receive_options, http_method), .now = TM_NOW,
                                       .http_action = "urn:x", .http_method = "POST", .http_path = "/admin" };
    warden_message *message = receive(engine, &options);
    ck_assert_str_eq(property(message, WARDEN_MESSAGE_PROPERTY_HTTP_ACTION), "urn:x");
    ck_assert_ptr_null(property(message, WARDEN_MESSAGE_PROPERTY_HTTP_METHOD));
    ck_assert_ptr_null(property(message, WARDEN_MESSAGE_PROPERTY_HTTP_PATH));
    warden_message_free(message);

    /* a struct that holds http_method but not http_path */
    options.size = offsetof(warden_receive_options, http_path);
    message = receive(engine, &options);
    ck_assert_str_eq(property(message, WARDEN_MESSAGE_PROPERTY_HTTP_METHOD), "POST");
    ck_assert_ptr_null(property(message, WARDEN_MESSAGE_PROPERTY_HTTP_PATH));
    warden_message_free(message);
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

/* The cookbook rule of docs/policies.md: an operation bound to its endpoint's path. */
static const char endpoint_policy[] =
    "permit \"orders are created at /orders\" { action = \"urn:example:orders/Create\",\n"
    "  when = function(m) return m.http_method == \"POST\" and m.http_path == \"/orders\" end }\n";

START_TEST(a_policy_binds_an_operation_to_its_endpoint_path)
{
    te_policy_dir dir;
    warden_engine *engine = engine_with_policy(&dir, endpoint_policy);
    warden_receive_options options = { .size = sizeof options, .now = TM_NOW, .http_method = "POST",
                                       .http_path = "/orders" };
    expect(engine, &options, 1, "permitted");
    /* the same message sent to another service's path, or spelled another way */
    const char *elsewhere[] = { "/admin", "/orders/", "/Orders", "/%6Frders", "//orders", "/orders;x", "" };
    for (size_t i = 0; i < sizeof elsewhere / sizeof elsewhere[0]; i++) {
        options.http_path = elsewhere[i];
        expect(engine, &options, 0, "no-permit");
    }
    options.http_path = "/orders";
    options.http_method = "PUT";
    expect(engine, &options, 0, "no-permit");
    /* not given (m.http_path and m.http_method nil): the rule does not apply */
    options.http_method = NULL;
    options.http_path = NULL;
    expect(engine, &options, 0, "no-permit");
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(a_forbid_on_the_method_or_path_denies)
{
    te_policy_dir dir;
    warden_engine *engine =
        engine_with_policy(&dir, "permit \"everyone\" { }\n"
                                 "forbid \"not over HTTP\" { when = function(m) return m.http_path == nil end }\n"
                                 "forbid \"POST only\" { when = function(m) return m.http_method ~= \"POST\" end }\n");
    warden_receive_options options = { .size = sizeof options, .now = TM_NOW, .http_method = "POST",
                                       .http_path = "/orders" };
    expect(engine, &options, 1, "permitted");
    options.http_method = "DELETE";
    expect(engine, &options, 0, "forbidden");
    options.http_method = "POST";
    options.http_path = NULL;
    expect(engine, &options, 0, "forbidden");
    /* an older caller cannot pass a path: the forbid holds */
    options.http_path = "/orders";
    options.size = offsetof(warden_receive_options, http_path);
    expect(engine, &options, 0, "forbidden");
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("http_request");
    TCase *tc = tcase_create("http_request");
    tcase_add_test(tc, method_and_path_are_copied_into_message_properties);
    tcase_add_test(tc, an_older_callers_options_leave_method_and_path_absent);
    tcase_add_test(tc, a_policy_binds_an_operation_to_its_endpoint_path);
    tcase_add_test(tc, a_forbid_on_the_method_or_path_denies);
    suite_add_tcase(suite, tc);
    return tr_run_suite(suite);
}
