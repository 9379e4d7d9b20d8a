/*
** test_time_lib.c — the sandbox's `time` library (lua/time_lib.c): calendar fields with and
** without an offset, weekdays and year days across leap years and the epoch, ISO-8601 text
** both ways (offsets, fractions), and the errors that junk and out-of-range values raise.
*/
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/sandbox.h"
#include "test_run.h"

static const wd_sandbox_limits limits = { 1000000, 16u << 20, 5000, 0 };

/* Runs `return EXPRESSION` in a fresh sandbox environment; returns the sandbox outcome and
** leaves the text of the result (or the error) in out. */
static int eval(const char *expression, char *out, size_t capacity)
{
    lua_State *L = wd_sandbox_new(&limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    char source[1024];
    snprintf(source, sizeof source, "return tostring(%s)", expression);
    wd_sandbox_push_env(L, 0);
    int env = lua_gettop(L);
    int status = wd_sandbox_load(L, source, strlen(source), "=time", env, out, capacity);
    ck_assert_msg(status == 0, "syntax: %s", out);
    status = wd_sandbox_call(L, 0, 1, out, capacity);
    if (status == WD_SANDBOX_OK) {
        snprintf(out, capacity, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    wd_sandbox_close(L);
    return status;
}

#define EXPECT(expression, text) expect_value((expression), (text), __LINE__)
#define EXPECT_ERROR(expression, text) expect_error((expression), (text), __LINE__)

static void expect_value(const char *expression, const char *text, int line)
{
    char out[512];
    int status = eval(expression, out, sizeof out);
    ck_assert_msg(status == WD_SANDBOX_OK, "line %d: `%s` raised: %s", line, expression, out);
    ck_assert_msg(strcmp(out, text) == 0, "line %d: `%s` is `%s`, expected `%s`", line, expression, out, text);
}

static void expect_error(const char *expression, const char *text, int line)
{
    char out[512];
    int status = eval(expression, out, sizeof out);
    ck_assert_msg(status != WD_SANDBOX_OK, "line %d: `%s` did not raise (gave %s)", line, expression, out);
    ck_assert_msg(strstr(out, text) != NULL, "line %d: `%s` raised `%s`, expected `%s`", line, expression, out, text);
}

/* "y-m-d h:min:s wday yday" of time.parts(args) */
#define PARTS(args)                                                                                     \
    "(function() local p = time.parts(" args ") return string.format('%d-%02d-%02d %02d:%02d:%02d %d %d', " \
    "p.year, p.month, p.day, p.hour, p.min, p.sec, p.wday, p.yday) end)()"

START_TEST(parts_are_utc_calendar_fields)
{
    EXPECT(PARTS("0"), "1970-01-01 00:00:00 4 1");                  /* a Thursday */
    EXPECT(PARTS("1780308000"), "2026-06-01 10:00:00 1 152");        /* a Monday */
    EXPECT(PARTS("1780308000 - 86400"), "2026-05-31 10:00:00 7 151"); /* Sunday is 7 */
    EXPECT(PARTS("951782400"), "2000-02-29 00:00:00 2 60");          /* a leap day */
    EXPECT(PARTS("978307199"), "2000-12-31 23:59:59 7 366");
    EXPECT(PARTS("-1"), "1969-12-31 23:59:59 3 365");
    EXPECT(PARTS("1780308000.0"), "2026-06-01 10:00:00 1 152");      /* an integral float */
}
END_TEST

START_TEST(parts_with_an_offset_are_local_fields)
{
    EXPECT(PARTS("1780308000, 2 * 3600"), "2026-06-01 12:00:00 1 152");
    EXPECT(PARTS("1780308000, -11 * 3600"), "2026-05-31 23:00:00 7 151");
    EXPECT(PARTS("1780308000, 14 * 3600"), "2026-06-02 00:00:00 2 153");
    EXPECT(PARTS("1780308000, nil"), "2026-06-01 10:00:00 1 152");
    EXPECT_ERROR(PARTS("1780308000, 15 * 3600"), "the offset must be whole seconds between");
    EXPECT_ERROR(PARTS("1780308000, 0.5"), "the offset must be whole seconds");
    EXPECT_ERROR(PARTS("1780308000, '3600'"), "the offset must be whole seconds");
}
END_TEST

START_TEST(parse_reads_iso_8601_with_a_zone)
{
    EXPECT("time.parse('2026-06-01T10:00:00Z')", "1780308000");
    EXPECT("time.parse('2026-06-01T12:00:00+02:00')", "1780308000");
    EXPECT("time.parse('2026-06-01T05:30:00-04:30')", "1780308000");
    EXPECT("time.parse('2026-06-01T10:00:00.999Z')", "1780308000");
    EXPECT("math.type(time.parse('1970-01-01T00:00:00Z'))", "integer");
    EXPECT("time.parse(time.format(1780308000)) == 1780308000", "true");
}
END_TEST

START_TEST(parse_rejects_junk)
{
    static const char *const junk[] = {
        "time.parse('2026-06-01T10:00:00')",        /* no zone */
        "time.parse('2026-06-01 10:00:00Z')",
        "time.parse('2026-02-30T10:00:00Z')",
        "time.parse('2026-06-01T24:00:00Z')",
        "time.parse('2026-06-01T10:00:60Z')",
        "time.parse('2026-06-01T10:00:00+15:00')",
        "time.parse('2026-06-01T10:00:00Z ')",
        "time.parse('2026-06-01T10:00:00Z\\0')",
        "time.parse('tomorrow')",
        "time.parse('')",
    };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        EXPECT_ERROR(junk[i], "time.parse: not a date-time like 2026-06-01T10:00:00Z");
    EXPECT_ERROR("time.parse(1780308000)", "time.parse expects a string, got number");
    EXPECT_ERROR("time.parse()", "time.parse expects a string, got no value");
}
END_TEST

START_TEST(format_writes_utc)
{
    EXPECT("time.format(1780308000)", "2026-06-01T10:00:00Z");
    EXPECT("time.format(0)", "1970-01-01T00:00:00Z");
    EXPECT("time.format(-62135596800)", "0001-01-01T00:00:00Z");
    EXPECT("time.format(253402300799)", "9999-12-31T23:59:59Z");
    EXPECT_ERROR("time.format(253402300800)", "time.format: the time is outside the years 1 to 9999");
    EXPECT_ERROR("time.format(-62135596801)", "outside the years 1 to 9999");
    EXPECT_ERROR("time.parts(math.maxinteger)", "time.parts: the time is outside the years 1 to 9999");
    EXPECT_ERROR("time.parts(math.mininteger, -3600)", "outside the years 1 to 9999");
    EXPECT_ERROR("time.format(1.5)", "time.format expects a time in Unix seconds (an integer), got number");
    EXPECT_ERROR("time.format('0')", "got string");
}
END_TEST

START_TEST(a_business_hours_rule_reads_plainly)
{
    const char *rule =
        "(function(now) local p = time.parts(now, 2 * 3600) "
        "return p.wday <= 5 and p.hour >= 8 and p.hour < 18 end)";
    char expression[512];
    snprintf(expression, sizeof expression, "%s(time.parse('2026-06-01T16:59:59+02:00'))", rule);
    EXPECT(expression, "true");
    snprintf(expression, sizeof expression, "%s(time.parse('2026-06-01T18:00:00+02:00'))", rule);
    EXPECT(expression, "false");
    snprintf(expression, sizeof expression, "%s(time.parse('2026-06-06T10:00:00Z'))", rule); /* Saturday */
    EXPECT(expression, "false");
}
END_TEST

START_TEST(the_library_is_read_only)
{
    EXPECT_ERROR("(function() time.parse = nil end)()", "");
    EXPECT_ERROR("(function() time.now = 1 end)()", "");
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("time_lib");
    TCase *tc = tcase_create("time_lib");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, parts_are_utc_calendar_fields);
    tcase_add_test(tc, parts_with_an_offset_are_local_fields);
    tcase_add_test(tc, parse_reads_iso_8601_with_a_zone);
    tcase_add_test(tc, parse_rejects_junk);
    tcase_add_test(tc, format_writes_utc);
    tcase_add_test(tc, a_business_hours_rule_reads_plainly);
    tcase_add_test(tc, the_library_is_read_only);
    suite_add_tcase(suite, tc);
    return tr_run_suite(suite);
}
