/*
** test_time_text.c — xsd:dateTime parsing and formatting (base/time_text.c).
*/
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/time_text.h"
#include "include/warden.h"
#include "test_run.h"

#define PINNED_NOW 1795608030 /* 2026-11-25T12:00:30Z */

static int parse(const char *text, int flags, int64_t *out)
{
    return wd_time_parse(text, strlen(text), flags, out);
}

static void assert_parses_to(const char *text, int flags, int64_t expected)
{
    int64_t value = 0;
    ck_assert_msg(parse(text, flags, &value) == 0, "\"%s\" should parse", text);
    ck_assert_msg(value == expected, "\"%s\" gave %lld, expected %lld", text, (long long)value,
                  (long long)expected);
}

static void assert_refused(const char *text, int flags)
{
    int64_t value = 12345;
    ck_assert_msg(parse(text, flags, &value) == -1, "\"%s\" should be refused", text);
}

START_TEST(utc_time_parses_to_unix_seconds)
{
    assert_parses_to("2026-11-25T12:00:30Z", WD_TIME_REQUIRE_UTC, PINNED_NOW);
    assert_parses_to("1970-01-01T00:00:00Z", 0, 0);
    assert_parses_to("1969-12-31T23:59:59Z", 0, -1);
    assert_parses_to("2000-03-01T00:00:00Z", 0, 951868800);
}
END_TEST

START_TEST(fraction_digits_of_any_count_are_dropped)
{
    assert_parses_to("2026-11-25T12:00:30.9Z", WD_TIME_REQUIRE_UTC, PINNED_NOW);
    assert_parses_to("2026-11-25T12:00:30.988Z", WD_TIME_REQUIRE_UTC, PINNED_NOW);
    assert_parses_to("2026-11-25T12:00:30.123456789012Z", 0, PINNED_NOW);
}
END_TEST

START_TEST(milliseconds_flag_refuses_a_longer_fraction)
{
    assert_parses_to("2026-11-25T12:00:30Z", WD_TIME_MILLISECONDS, PINNED_NOW);
    assert_parses_to("2026-11-25T12:00:30.9Z", WD_TIME_MILLISECONDS, PINNED_NOW);
    assert_parses_to("2026-11-25T12:00:30.988Z", WD_TIME_REQUIRE_UTC | WD_TIME_MILLISECONDS, PINNED_NOW);
    assert_refused("2026-11-25T12:00:30.9880Z", WD_TIME_MILLISECONDS);
    assert_refused("2026-11-25T12:00:30.123456789012Z", WD_TIME_REQUIRE_UTC | WD_TIME_MILLISECONDS);
    assert_refused("2026-11-25T12:00:30.1234+01:00", WD_TIME_MILLISECONDS);
}
END_TEST

START_TEST(zone_offsets_are_applied)
{
    assert_parses_to("2026-11-25T13:00:30+01:00", 0, PINNED_NOW);
    assert_parses_to("2026-11-25T06:30:30-05:30", 0, PINNED_NOW);
    assert_parses_to("2026-11-25T12:00:30+00:00", 0, PINNED_NOW);
    assert_parses_to("2026-11-25T12:00:30-00:00", 0, PINNED_NOW);
    assert_parses_to("2026-11-26T02:00:30+14:00", 0, PINNED_NOW);
    assert_parses_to("2026-11-25T12:00:30.5+00:00", 0, PINNED_NOW);
}
END_TEST

START_TEST(require_utc_refuses_offsets)
{
    assert_refused("2026-11-25T12:00:30+00:00", WD_TIME_REQUIRE_UTC);
    assert_refused("2026-11-25T13:00:30+01:00", WD_TIME_REQUIRE_UTC);
}
END_TEST

START_TEST(missing_zone_is_refused)
{
    assert_refused("2026-11-25T12:00:30", 0);
    assert_refused("2026-11-25T12:00:30.123", 0);
}
END_TEST

START_TEST(bad_zone_offsets_are_refused)
{
    assert_refused("2026-11-25T12:00:30+15:00", 0);
    assert_refused("2026-11-25T12:00:30+14:01", 0);
    assert_refused("2026-11-25T12:00:30+01:60", 0);
    assert_refused("2026-11-25T12:00:30+0100", 0);
    assert_refused("2026-11-25T12:00:30+01", 0);
    assert_refused("2026-11-25T12:00:30z", 0);
    assert_refused("2026-11-25T12:00:30ZZ", 0);
    assert_refused("2026-11-25T12:00:30 Z", 0);
}
END_TEST

START_TEST(leap_day_is_valid_only_in_leap_years)
{
    assert_parses_to("2024-02-29T00:00:00Z", 0, 1709164800);
    assert_parses_to("2000-02-29T00:00:00Z", 0, 951782400);
    assert_refused("2026-02-29T00:00:00Z", 0);
    assert_refused("2100-02-29T00:00:00Z", 0);
}
END_TEST

START_TEST(impossible_dates_are_refused)
{
    assert_refused("2026-02-30T00:00:00Z", 0);
    assert_refused("2026-04-31T00:00:00Z", 0);
    assert_refused("2026-13-01T00:00:00Z", 0);
    assert_refused("2026-00-10T00:00:00Z", 0);
    assert_refused("2026-01-00T00:00:00Z", 0);
    assert_refused("2026-01-32T00:00:00Z", 0);
    assert_refused("0000-01-01T00:00:00Z", 0);
}
END_TEST

START_TEST(impossible_times_are_refused)
{
    assert_refused("2026-11-25T24:00:00Z", 0);
    assert_refused("2026-11-25T12:60:00Z", 0);
    assert_refused("2026-12-31T23:59:60Z", 0); /* leap seconds are refused */
}
END_TEST

START_TEST(garbage_is_refused)
{
    assert_refused("", 0);
    assert_refused("garbage", 0);
    assert_refused("2026-11-25", 0);
    assert_refused("2026-11-25 12:00:30Z", 0);
    assert_refused("2026-11-25t12:00:30Z", 0);
    assert_refused("26-11-25T12:00:30Z", 0);
    assert_refused("+2026-11-25T12:00:30Z", 0);
    assert_refused("-2026-11-25T12:00:30Z", 0);
    assert_refused("12026-11-25T12:00:30Z", 0);
    assert_refused("2026-1-25T12:00:30Z", 0);
    assert_refused("2026-11-25T12:0:30Z", 0);
    assert_refused("2026-11-25T12:00:30.Z", 0);
    assert_refused(" 2026-11-25T12:00:30Z", 0);
    assert_refused("2026-11-25T12:00:30Z ", 0);
    assert_refused("2026-11-25T12:00:3aZ", 0);
    assert_refused("1795608030", 0);
}
END_TEST

START_TEST(only_length_bytes_are_read)
{
    const char text[] = "2026-11-25T12:00:30Zjunk";
    int64_t    value = 0;
    ck_assert_int_eq(wd_time_parse(text, 20, WD_TIME_REQUIRE_UTC, &value), 0);
    ck_assert_int_eq(value, PINNED_NOW);
    ck_assert_int_eq(wd_time_parse(text, 19, 0, &value), -1);
    ck_assert_int_eq(wd_time_parse(text, strlen(text), 0, &value), -1);
}
END_TEST

START_TEST(years_one_to_9999_are_in_range)
{
    assert_parses_to("0001-01-01T00:00:00Z", 0, -62135596800LL);
    assert_parses_to("9999-12-31T23:59:59Z", 0, 253402300799LL);
}
END_TEST

START_TEST(format_writes_utc_text)
{
    char buffer[21];
    wd_time_format(PINNED_NOW, buffer);
    ck_assert_str_eq(buffer, "2026-11-25T12:00:30Z");
    wd_time_format(0, buffer);
    ck_assert_str_eq(buffer, "1970-01-01T00:00:00Z");
    wd_time_format(-1, buffer);
    ck_assert_str_eq(buffer, "1969-12-31T23:59:59Z");
    wd_time_format(1709164800, buffer);
    ck_assert_str_eq(buffer, "2024-02-29T00:00:00Z");
}
END_TEST

START_TEST(format_clamps_to_years_one_to_9999)
{
    char buffer[21];
    wd_time_format(INT64_MIN, buffer);
    ck_assert_str_eq(buffer, "0001-01-01T00:00:00Z");
    wd_time_format(INT64_MAX, buffer);
    ck_assert_str_eq(buffer, "9999-12-31T23:59:59Z");
}
END_TEST

START_TEST(format_and_parse_round_trip)
{
    char    buffer[21];
    int64_t value = 0;
    /* A stride that visits every month, day and time of day across the whole range. */
    for (int64_t seconds = -62135596800LL; seconds <= 253402300799LL; seconds += 7777777 + 13) {
        wd_time_format(seconds, buffer);
        ck_assert_int_eq(wd_time_parse(buffer, 20, WD_TIME_REQUIRE_UTC, &value), 0);
        ck_assert_int_eq(value, seconds);
    }
}
END_TEST

/* The public entry points are the same parser (the command line reads --now through them). */
START_TEST(public_parse_and_format_are_the_same_functions)
{
    int64_t seconds = 0;
    ck_assert_int_eq(warden_time_parse("2026-11-25T13:00:30+01:00", 25, &seconds), WARDEN_OK);
    ck_assert_int_eq(seconds, PINNED_NOW);
    ck_assert_int_eq(warden_time_parse("2026-02-30T00:00:00Z", 20, &seconds), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_time_parse("2026-11-25T12:00:30", 19, &seconds), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_time_parse(NULL, 0, &seconds), WARDEN_E_INVALID_ARG);
    char text[21];
    ck_assert_int_eq(warden_time_format(PINNED_NOW, text), WARDEN_OK);
    ck_assert_str_eq(text, "2026-11-25T12:00:30Z");
    ck_assert_int_eq(warden_time_format(INT64_C(253402300800), text), WARDEN_E_INVALID_ARG); /* year 10000 */
}
END_TEST

static Suite *time_text_suite(void)
{
    Suite *suite = suite_create("time_text");
    TCase *tc = tcase_create("time_text");
    tcase_add_test(tc, utc_time_parses_to_unix_seconds);
    tcase_add_test(tc, public_parse_and_format_are_the_same_functions);
    tcase_add_test(tc, fraction_digits_of_any_count_are_dropped);
    tcase_add_test(tc, milliseconds_flag_refuses_a_longer_fraction);
    tcase_add_test(tc, zone_offsets_are_applied);
    tcase_add_test(tc, require_utc_refuses_offsets);
    tcase_add_test(tc, missing_zone_is_refused);
    tcase_add_test(tc, bad_zone_offsets_are_refused);
    tcase_add_test(tc, leap_day_is_valid_only_in_leap_years);
    tcase_add_test(tc, impossible_dates_are_refused);
    tcase_add_test(tc, impossible_times_are_refused);
    tcase_add_test(tc, garbage_is_refused);
    tcase_add_test(tc, only_length_bytes_are_read);
    tcase_add_test(tc, years_one_to_9999_are_in_range);
    tcase_add_test(tc, format_writes_utc_text);
    tcase_add_test(tc, format_clamps_to_years_one_to_9999);
    tcase_add_test(tc, format_and_parse_round_trip);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return tr_run_suite(time_text_suite());
}
