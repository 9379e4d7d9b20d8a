/*
** test_json_text.c — JSON string text and UTF-8 validation (base/json_text.c), shared by the
** decision log and `warden serve`'s answers.
*/
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_text.h"
#include "test_run.h"

typedef struct text_sink {
    char   text[256];
    size_t length;
} text_sink;

static void sink_put(void *context, const char *bytes, size_t length)
{
    text_sink *sink = context;
    ck_assert_uint_lt(sink->length + length, sizeof sink->text);
    memcpy(sink->text + sink->length, bytes, length);
    sink->length += length;
    sink->text[sink->length] = '\0';
}

static void assert_json(const char *value, const char *expected)
{
    text_sink sink = { .length = 0 };
    wd_json_put_string(sink_put, &sink, value);
    ck_assert_str_eq(sink.text, expected);
}

START_TEST(plain_text_is_quoted_as_is)
{
    assert_json("", "\"\"");
    assert_json("CN=alice,OU=Payments", "\"CN=alice,OU=Payments\"");
}
END_TEST

START_TEST(quotes_backslashes_and_controls_are_escaped_so_a_line_never_breaks)
{
    assert_json("a\"b\\c", "\"a\\\"b\\\\c\"");
    assert_json("line\nbreak\r\ttab\b\f", "\"line\\nbreak\\r\\ttab\\b\\f\"");
    assert_json("\x1b[31m\x01", "\"\\u001B[31m\\u0001\"");
}
END_TEST

START_TEST(valid_utf8_is_kept_and_invalid_text_keeps_its_field_as_ascii)
{
    assert_json("Jos\xc3\xa9 \xe2\x82\xac", "\"Jos\xc3\xa9 \xe2\x82\xac\"");
    /* a character cut in the middle: every byte past ASCII of the whole value is '?' */
    assert_json("Jos\xc3\xa9 \xe2\x82", "\"Jos?? ??\"");
    assert_json("\xff\"", "\"?\\\"\"");
}
END_TEST

START_TEST(escapes_after_text_past_ascii_are_still_made_whether_or_not_it_is_utf8)
{
    /* the scan checks the value as UTF-8 at its first byte past ASCII and goes on escaping */
    assert_json("Jos\xc3\xa9 \"q\"\n\xe2\x82\xac\\", "\"Jos\xc3\xa9 \\\"q\\\"\\n\xe2\x82\xac\\\\\"");
    assert_json("\xff\n\xc3\xa9\x01", "\"?\\n??\\u0001\"");
}
END_TEST

START_TEST(overlong_forms_surrogates_and_code_points_past_the_range_are_not_utf8)
{
    ck_assert(wd_utf8_valid((const unsigned char *)"plain"));
    ck_assert(wd_utf8_valid((const unsigned char *)"\xf0\x9f\x98\x80"));     /* U+1F600 */
    ck_assert(!wd_utf8_valid((const unsigned char *)"\xc0\xaf"));            /* overlong '/' */
    ck_assert(!wd_utf8_valid((const unsigned char *)"\xe0\x80\xaf"));        /* overlong, 3 bytes */
    ck_assert(!wd_utf8_valid((const unsigned char *)"\xed\xa0\x80"));        /* surrogate U+D800 */
    ck_assert(!wd_utf8_valid((const unsigned char *)"\xf4\x90\x80\x80"));    /* U+110000 */
    ck_assert(!wd_utf8_valid((const unsigned char *)"\xe2\x82"));            /* cut at the end */
}
END_TEST

static Suite *json_text_suite(void)
{
    Suite *suite = suite_create("json_text");
    TCase *text = tcase_create("text");
    tcase_add_test(text, plain_text_is_quoted_as_is);
    tcase_add_test(text, quotes_backslashes_and_controls_are_escaped_so_a_line_never_breaks);
    tcase_add_test(text, valid_utf8_is_kept_and_invalid_text_keeps_its_field_as_ascii);
    tcase_add_test(text, escapes_after_text_past_ascii_are_still_made_whether_or_not_it_is_utf8);
    tcase_add_test(text, overlong_forms_surrogates_and_code_points_past_the_range_are_not_utf8);
    suite_add_tcase(suite, text);
    return suite;
}

int main(void)
{
    return tr_run_suite(json_text_suite());
}
