/*
** test_base64.c — the strict Base64 decoder and the encoder (core/base64.c).
*/
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "test_run.h"

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

/* The decoder's rules one character at a time, as plainly as they can be written: the
** table-driven decoder (with its four-character fast path) must agree with it on every text. */
static int reference_decode(const char *text, size_t length, unsigned char *out, size_t *out_length)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t group = 0;
    int in_group = 0, padding = 0;
    size_t written = 0;

    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        const char *found = c != '\0' ? strchr(alphabet, c) : NULL;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            if (in_group < 2)
                return -1;
            padding++;
            in_group++;
        } else if (found != NULL) {
            if (padding > 0)
                return -1;
            group = group << 6 | (uint32_t)(found - alphabet);
            in_group++;
        } else {
            return -1;
        }
        if (in_group == 4) {
            int bytes = 3 - padding;
            if (bytes < 1 || (padding == 1 && (group & 0x3)) || (padding == 2 && (group & 0xF)))
                return -1;
            uint32_t bits = group >> (padding * 2);
            for (int b = bytes - 1; b >= 0; b--)
                out[written++] = (unsigned char)(bits >> (8 * b));
            group = 0;
            in_group = 0;
        }
    }
    if (in_group != 0)
        return -1;
    *out_length = written;
    return 0;
}

START_TEST(table_decoder_agrees_with_the_rules_on_generated_texts)
{
    /* Mostly alphabet, with whitespace, padding and strangers sprinkled in at every offset. */
    static const char pool[] = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo+/09azAZ===== \t\r\n-_.*\x80\xff";
    uint64_t state = 0x9E3779B97F4A7C15u;
    size_t accepted = 0, refused = 0;

    for (int round = 0; round < 20000; round++) {
        char text[64];
        unsigned char expected[64];
        size_t expected_length = 0, length;
        state = state * 6364136223846793005u + 1442695040888963407u;
        length = (size_t)(state >> 59) * 2 + (size_t)(state >> 33) % 3;
        for (size_t i = 0; i < length; i++) {
            state = state * 6364136223846793005u + 1442695040888963407u;
            uint32_t pick = (uint32_t)(state >> 33);
            /* three texts in four are clean base64 characters, to reach the padding rules */
            text[i] = pick % 4 != 0 ? pool[pick / 4 % 44] : pool[pick / 4 % (sizeof pool - 1)];
        }
        int rule = reference_decode(text, length, expected, &expected_length);
        size_t got_length = 99;
        unsigned char *got = wd_base64_decode(text, length, &got_length);
        ck_assert_msg((got != NULL) == (rule == 0), "\"%.*s\": table %s, rules %s", (int)length, text,
                      got != NULL ? "decoded" : "refused", rule == 0 ? "decode" : "refuse");
        if (got != NULL) {
            ck_assert_uint_eq(got_length, expected_length);
            ck_assert_int_eq(memcmp(got, expected, got_length), 0);
            accepted++;
        } else {
            refused++;
        }
        free(got);
    }
    ck_assert_uint_gt(accepted, 1000);
    ck_assert_uint_gt(refused, 1000);
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
    tcase_add_test(tc, table_decoder_agrees_with_the_rules_on_generated_texts);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return tr_run_suite(base64_suite());
}
