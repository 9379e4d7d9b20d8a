/*
** test_base64.c — the strict Base64 decoder and the encoder (core/base64.c).
*/
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"

/* Decodes a NUL-terminated text; the result (or NULL) is the caller's. */
static unsigned char *decode(const char *text, size_t *length)
{
    return wd_base64_decode(text, strlen(text), length);
}

static void assert_decodes_to(const char *text, const char *expected)
{
    size_t         length = 99;
    unsigned char *bytes = decode(text, &length);
    ck_assert_msg(bytes != NULL, "\"%s\" should decode", text);
    ck_assert_uint_eq(length, strlen(expected));
    ck_assert_int_eq(memcmp(bytes, expected, length), 0);
    free(bytes);
}

static void assert_refused(const char *text)
{
    size_t         length = 99;
    unsigned char *bytes = decode(text, &length);
    ck_assert_msg(bytes == NULL, "\"%s\" should be refused", text);
    free(bytes);
}

START_TEST(rfc4648_vectors_decode)
{
    assert_decodes_to("Zg==", "f");
    assert_decodes_to("Zm8=", "fo");
    assert_decodes_to("Zm9v", "foo");
    assert_decodes_to("Zm9vYg==", "foob");
    assert_decodes_to("Zm9vYmE=", "fooba");
    assert_decodes_to("Zm9vYmFy", "foobar");
}
END_TEST

START_TEST(rfc4648_vectors_encode)
{
    static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const encoded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        char *text = wd_base64_encode((const unsigned char *)plain[i], strlen(plain[i]));
        ck_assert_ptr_nonnull(text);
        ck_assert_str_eq(text, encoded[i]);
        free(text);
    }
}
END_TEST

START_TEST(whitespace_anywhere_is_skipped)
{
    assert_decodes_to(" Zm9v\r\nYm\tFy\n", "foobar");
    assert_decodes_to("Zm9vYg=\n=", "foob");
    assert_decodes_to("Zg==\r\n", "f");
}
END_TEST

START_TEST(empty_text_decodes_to_an_empty_buffer)
{
    size_t         length = 99;
    unsigned char *bytes = wd_base64_decode("", 0, &length);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_uint_eq(length, 0);
    free(bytes);

    length = 99;
    bytes = decode(" \r\n\t", &length);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_uint_eq(length, 0);
    free(bytes);
}
END_TEST

START_TEST(characters_outside_the_alphabet_are_refused)
{
    assert_refused("Zm9v!");
    assert_refused("Zm9-");     /* base64url is another alphabet */
    assert_refused("Zm9_");
    assert_refused("Zm\x01v");
    assert_refused("Zm9v\xc3\xa9");
    size_t length;
    ck_assert_ptr_null(wd_base64_decode("Zm9v\0Zm9v", 9, &length));
}
END_TEST

START_TEST(data_after_padding_is_refused)
{
    assert_refused("Zg==Zg==");
    assert_refused("Zg=a");
    assert_refused("Zm8=Z");
}
END_TEST

START_TEST(length_not_a_multiple_of_four_is_refused)
{
    assert_refused("Z");
    assert_refused("Zm");
    assert_refused("Zm9");
    assert_refused("Zm9vY");
}
END_TEST

START_TEST(malformed_padding_is_refused)
{
    assert_refused("Z===");
    assert_refused("====");
    assert_refused("Zg=");
    assert_refused("Zg===");
    assert_refused("Zm8==");
    assert_refused("=Zm9");
}
END_TEST

START_TEST(non_zero_bits_after_the_last_byte_are_refused)
{
    /* "Zh==" and "Zm9=" would decode to "f" and "fo" in lenient decoders. */
    assert_refused("Zh==");
    assert_refused("Zm9=");
}
END_TEST

START_TEST(every_byte_value_round_trips)
{
    unsigned char data[256];
    for (int i = 0; i < 256; i++)
        data[i] = (unsigned char)(255 - i);
    for (size_t length = 0; length <= sizeof data; length += (length < 40 ? 1 : 37)) {
        char *text = wd_base64_encode(data, length);
        ck_assert_ptr_nonnull(text);
        ck_assert_uint_eq(strlen(text), (length + 2) / 3 * 4);
        size_t         decoded_length = 0;
        unsigned char *decoded = decode(text, &decoded_length);
        ck_assert_ptr_nonnull(decoded);
        ck_assert_uint_eq(decoded_length, length);
        ck_assert_int_eq(memcmp(decoded, data, length), 0);
        free(decoded);
        free(text);
    }
}
END_TEST

static Suite *base64_suite(void)
{
    Suite *suite = suite_create("base64");
    TCase *tc = tcase_create("base64");
    tcase_add_test(tc, rfc4648_vectors_decode);
    tcase_add_test(tc, rfc4648_vectors_encode);
    tcase_add_test(tc, whitespace_anywhere_is_skipped);
    tcase_add_test(tc, empty_text_decodes_to_an_empty_buffer);
    tcase_add_test(tc, characters_outside_the_alphabet_are_refused);
    tcase_add_test(tc, data_after_padding_is_refused);
    tcase_add_test(tc, length_not_a_multiple_of_four_is_refused);
    tcase_add_test(tc, malformed_padding_is_refused);
    tcase_add_test(tc, non_zero_bits_after_the_last_byte_are_refused);
    tcase_add_test(tc, every_byte_value_round_trips);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(base64_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
