/*
** test_body_text.c — warden_message_body_text through the public API: local names found in
** document order, paths from the Body's children with "{ns}local" steps, text joined from
** text and CDATA children, elements that hold elements, snprintf-like buffers, malformed
** paths and their limits, and that nothing outside the verified Body is ever read.
*/
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <warden.h>

#include "test_messages.h"
#include "test_run.h"

static warden_engine *unsigned_engine(void)
{
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_msg(warden_config_set(config, "require.token", "false", &err) == WARDEN_OK, "%s", err.text);
    ck_assert_msg(warden_engine_new(config, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_config_free(config);
    return engine;
}

static warden_message *receive_text(warden_engine *engine, const char *text)
{
    warden_receive_options options = { .size = sizeof options, .now = TM_NOW };
    warden_message *message = NULL;
    warden_error err;
    ck_assert_msg(warden_engine_receive(engine, text, strlen(text), &options, &message, &err) == WARDEN_OK,
                  "%s: %s", err.reason, err.text);
    return message;
}

/* The plain order request of test_messages.h. */
static warden_message *order_message(warden_engine *engine)
{
    char *text = tm_plain_message();
    ck_assert_ptr_nonnull(text);
    warden_message *message = receive_text(engine, text);
    free(text);
    return message;
}

/* An unsigned request whose Header holds header_xml and whose Body holds body_xml. */
static warden_message *message_with(warden_engine *engine, const char *header_xml, const char *body_xml)
{
    const char *format =
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
        "<soap:Header>%s</soap:Header><soap:Body>%s</soap:Body></soap:Envelope>";
    size_t length = strlen(format) + strlen(header_xml) + strlen(body_xml) + 1;
    char *text = malloc(length);
    ck_assert_ptr_nonnull(text);
    snprintf(text, length, format, header_xml, body_xml);
    warden_message *message = receive_text(engine, text);
    free(text);
    return message;
}

/* The text at path, or NULL when the call does not return WARDEN_OK (its status in *status). */
static const char *text_at(const warden_message *message, const char *path, char *buffer, size_t capacity,
                           int *status)
{
    size_t length = 0;
    int rc = warden_message_body_text(message, path, buffer, capacity, &length);
    if (status != NULL)
        *status = rc;
    if (rc != WARDEN_OK)
        return NULL;
    ck_assert_uint_eq(strlen(buffer), length);
    return buffer;
}

static void expect_text(const warden_message *message, const char *path, const char *expected)
{
    char buffer[256];
    int status = 0;
    const char *text = text_at(message, path, buffer, sizeof buffer, &status);
    ck_assert_msg(text != NULL, "%s: status %d", path, status);
    ck_assert_str_eq(text, expected);
}

static void expect_status(const warden_message *message, const char *path, int expected)
{
    char buffer[64] = "untouched";
    size_t length = 12345;
    int status = warden_message_body_text(message, path, buffer, sizeof buffer, &length);
    ck_assert_msg(status == expected, "%s: status %d, expected %d", path, status, expected);
}

START_TEST(local_name_finds_the_first_element_in_the_body)
{
    warden_engine *engine = unsigned_engine();
    warden_message *message = order_message(engine);
    expect_text(message, "amount", "250");
    expect_text(message, "customer", "ACME-1042");
    expect_text(message, "{urn:example:orders}amount", "250");
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(path_steps_start_at_the_body_children)
{
    warden_engine *engine = unsigned_engine();
    warden_message *message = order_message(engine);
    expect_text(message, "CreateOrder/amount", "250");
    expect_text(message, "CreateOrder/customer", "ACME-1042");
    expect_text(message, "{urn:example:orders}CreateOrder/{urn:example:orders}amount", "250");
    expect_text(message, "CreateOrder/{urn:example:orders}amount", "250");
    expect_status(message, "amount/CreateOrder", WARDEN_E_NOT_APPLICABLE);
    expect_status(message, "CreateOrder/CreateOrder/amount", WARDEN_E_NOT_APPLICABLE);
    expect_status(message, "Body/CreateOrder/amount", WARDEN_E_NOT_APPLICABLE);
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(missing_elements_and_wrong_namespaces_do_not_apply)
{
    warden_engine *engine = unsigned_engine();
    warden_message *message = order_message(engine);
    expect_status(message, "nope", WARDEN_E_NOT_APPLICABLE);
    expect_status(message, "Body", WARDEN_E_NOT_APPLICABLE);
    expect_status(message, "Action", WARDEN_E_NOT_APPLICABLE);   /* a header, not in the Body */
    expect_status(message, "{urn:other}amount", WARDEN_E_NOT_APPLICABLE);
    expect_status(message, "{}amount", WARDEN_E_NOT_APPLICABLE);
    expect_status(message, "Amount", WARDEN_E_NOT_APPLICABLE);   /* names are case-sensitive */
    expect_status(message, "ord:amount", WARDEN_E_NOT_APPLICABLE); /* prefixes are not names */
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(element_holding_elements_does_not_apply)
{
    warden_engine *engine = unsigned_engine();
    warden_message *message = order_message(engine);
    expect_status(message, "CreateOrder", WARDEN_E_NOT_APPLICABLE);
    expect_status(message, "{urn:example:orders}CreateOrder", WARDEN_E_NOT_APPLICABLE);
    warden_message_free(message);

    /* the first match decides: a later text-only element of that name is not used instead */
    message = message_with(engine, "", "<a:Order xmlns:a=\"urn:a\"><a:item><a:x>1</a:x></a:item><a:item>2</a:item></a:Order>");
    expect_status(message, "item", WARDEN_E_NOT_APPLICABLE);
    /* but a path takes the first element that has the whole path */
    expect_text(message, "Order/item/x", "1");
    warden_message_free(message);

    message = message_with(engine, "", "<a:Order xmlns:a=\"urn:a\"><a:note>ali<!-- -->ce</a:note></a:Order>");
    expect_status(message, "note", WARDEN_E_NOT_APPLICABLE);
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(text_and_cdata_children_are_joined_untrimmed)
{
    warden_engine *engine = unsigned_engine();
    warden_message *message = message_with(engine, "",
        "<a:Order xmlns:a=\"urn:a\"><a:note>  one <![CDATA[<two>]]> &amp; three  </a:note>"
        "<a:empty/><a:blank></a:blank></a:Order>");
    expect_text(message, "note", "  one <two> & three  ");
    expect_text(message, "Order/note", "  one <two> & three  ");
    expect_text(message, "empty", "");
    expect_text(message, "blank", "");
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(document_order_and_backtracking)
{
    warden_engine *engine = unsigned_engine();
    warden_message *message = message_with(engine, "",
        "<a:Order xmlns:a=\"urn:a\" xmlns:b=\"urn:b\">"
        "<a:Line><a:Deep><a:amount>1</a:amount></a:Deep></a:Line>"
        "<a:amount>2</a:amount>"
        "<a:Line><b:amount>3</b:amount></a:Line>"
        "<a:Line><a:Other>x</a:Other></a:Line>"
        "</a:Order><a:Second xmlns:a=\"urn:a\"><a:amount>4</a:amount></a:Second>");
    expect_text(message, "amount", "1");
    expect_text(message, "Order/amount", "2");
    expect_text(message, "Order/Line/amount", "3");
    expect_text(message, "{urn:a}Order/{urn:a}Line/{urn:a}Other", "x");
    expect_text(message, "{urn:b}amount", "3");
    expect_text(message, "Second/amount", "4");
    expect_text(message, "Order/Line/Deep/amount", "1");
    expect_status(message, "Order/Line/{urn:a}amount", WARDEN_E_NOT_APPLICABLE);
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(namespace_steps_may_hold_slashes)
{
    warden_engine *engine = unsigned_engine();
    warden_message *message = message_with(engine, "",
        "<p:Pay xmlns:p=\"http://example.com/pay/v1\"><p:Amount>99</p:Amount>"
        "<Plain xmlns=\"\">7</Plain></p:Pay>");
    expect_text(message, "{http://example.com/pay/v1}Amount", "99");
    expect_text(message, "{http://example.com/pay/v1}Pay/{http://example.com/pay/v1}Amount", "99");
    expect_text(message, "Pay/{http://example.com/pay/v1}Amount", "99");
    expect_text(message, "{}Plain", "7");
    expect_text(message, "Pay/{}Plain", "7");
    expect_status(message, "{http://example.com/pay}Amount", WARDEN_E_NOT_APPLICABLE);
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(elements_outside_the_body_are_never_read)
{
    warden_engine *engine = unsigned_engine();
    warden_message *message = message_with(engine,
        "<o:amount xmlns:o=\"urn:example:orders\">1000000</o:amount>",
        "<o:CreateOrder xmlns:o=\"urn:example:orders\"><o:amount>250</o:amount></o:CreateOrder>");
    expect_text(message, "amount", "250");
    expect_status(message, "Header", WARDEN_E_NOT_APPLICABLE);
    expect_status(message, "Envelope", WARDEN_E_NOT_APPLICABLE);
    warden_message_free(message);

    message = message_with(engine, "<o:amount xmlns:o=\"urn:example:orders\">1000000</o:amount>", "");
    expect_status(message, "amount", WARDEN_E_NOT_APPLICABLE);
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(buffers_behave_like_snprintf)
{
    warden_engine *engine = unsigned_engine();
    warden_message *message = order_message(engine);
    char buffer[16];
    size_t length = 0;

    ck_assert_int_eq(warden_message_body_text(message, "amount", NULL, 0, &length), WARDEN_OK);
    ck_assert_uint_eq(length, 3);

    memset(buffer, 'x', sizeof buffer);
    ck_assert_int_eq(warden_message_body_text(message, "amount", buffer, 0, &length), WARDEN_OK);
    ck_assert_uint_eq(length, 3);
    ck_assert_int_eq(buffer[0], 'x'); /* capacity 0: nothing written */

    ck_assert_int_eq(warden_message_body_text(message, "amount", buffer, 1, &length), WARDEN_OK);
    ck_assert_uint_eq(length, 3);
    ck_assert_str_eq(buffer, "");
    ck_assert_int_eq(buffer[1], 'x');

    ck_assert_int_eq(warden_message_body_text(message, "amount", buffer, 3, &length), WARDEN_OK);
    ck_assert_uint_eq(length, 3);
    ck_assert_str_eq(buffer, "25");

    ck_assert_int_eq(warden_message_body_text(message, "amount", buffer, 4, &length), WARDEN_OK);
    ck_assert_uint_eq(length, 3);
    ck_assert_str_eq(buffer, "250");

    ck_assert_int_eq(warden_message_body_text(message, "customer", buffer, 4, &length), WARDEN_OK);
    ck_assert_uint_eq(length, 9);
    ck_assert_str_eq(buffer, "ACM");
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(long_text_is_returned_whole_with_a_large_enough_buffer)
{
    warden_engine *engine = unsigned_engine();
    size_t count = 5000;
    char *body = malloc(count + 64);
    ck_assert_ptr_nonnull(body);
    strcpy(body, "<a:Note xmlns:a=\"urn:a\">");
    size_t at = strlen(body);
    memset(body + at, 'n', count);
    strcpy(body + at + count, "</a:Note>");
    warden_message *message = message_with(engine, "", body);
    size_t length = 0;
    char small[8];
    ck_assert_int_eq(warden_message_body_text(message, "Note", small, sizeof small, &length), WARDEN_OK);
    ck_assert_uint_eq(length, count);
    char *large = malloc(length + 1);
    ck_assert_ptr_nonnull(large);
    ck_assert_int_eq(warden_message_body_text(message, "Note", large, length + 1, &length), WARDEN_OK);
    ck_assert_uint_eq(strlen(large), count);
    ck_assert_int_eq(memcmp(large, body + at, count), 0);
    free(large);
    free(body);
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(malformed_paths_and_arguments_are_invalid)
{
    warden_engine *engine = unsigned_engine();
    warden_message *message = order_message(engine);
    char buffer[16];
    size_t length = 0;
    const char *bad[] = { "", "/", "/amount", "amount/", "CreateOrder//amount", "{urn:x", "{urn:x}",
                          "{urn:x}/amount", "am{ount", "amo}unt", "{a{b}c", "CreateOrder/{urn:x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_status(message, bad[i], WARDEN_E_INVALID_ARG);

    ck_assert_int_eq(warden_message_body_text(NULL, "amount", buffer, sizeof buffer, &length), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_message_body_text(message, NULL, buffer, sizeof buffer, &length), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_message_body_text(message, "amount", buffer, sizeof buffer, NULL), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_message_body_text(message, "amount", NULL, 4, &length), WARDEN_E_INVALID_ARG);
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(path_limits_are_32_steps_and_1024_bytes)
{
    warden_engine *engine = unsigned_engine();
    warden_message *message = order_message(engine);
    char path[2048];

    /* 32 steps is allowed (and finds nothing), 33 is not */
    path[0] = '\0';
    for (int i = 0; i < 32; i++)
        strcat(path, i == 0 ? "a" : "/a");
    expect_status(message, path, WARDEN_E_NOT_APPLICABLE);
    strcat(path, "/a");
    expect_status(message, path, WARDEN_E_INVALID_ARG);

    /* 1024 bytes is allowed, 1025 is not */
    memset(path, 'n', 1024);
    path[1024] = '\0';
    expect_status(message, path, WARDEN_E_NOT_APPLICABLE);
    memset(path, 'n', 1025);
    path[1025] = '\0';
    expect_status(message, path, WARDEN_E_INVALID_ARG);

    /* a long namespace inside the limit still works */
    int written = snprintf(path, sizeof path, "{urn:example:orders}CreateOrder/{urn:example:orders}amount");
    ck_assert_int_gt(written, 0);
    expect_text(message, path, "250");
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("body_text");
    TCase *tc = tcase_create("body_text");
    tcase_add_test(tc, local_name_finds_the_first_element_in_the_body);
    tcase_add_test(tc, path_steps_start_at_the_body_children);
    tcase_add_test(tc, missing_elements_and_wrong_namespaces_do_not_apply);
    tcase_add_test(tc, element_holding_elements_does_not_apply);
    tcase_add_test(tc, text_and_cdata_children_are_joined_untrimmed);
    tcase_add_test(tc, document_order_and_backtracking);
    tcase_add_test(tc, namespace_steps_may_hold_slashes);
    tcase_add_test(tc, elements_outside_the_body_are_never_read);
    tcase_add_test(tc, buffers_behave_like_snprintf);
    tcase_add_test(tc, long_text_is_returned_whole_with_a_large_enough_buffer);
    tcase_add_test(tc, malformed_paths_and_arguments_are_invalid);
    tcase_add_test(tc, path_limits_are_32_steps_and_1024_bytes);
    suite_add_tcase(suite, tc);
    return tr_run_suite(suite);
}
