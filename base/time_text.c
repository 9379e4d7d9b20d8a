/*
** time_text.c — xsd:dateTime text to Unix seconds and back, without the C library's time
** zone machinery: timegm and friends depend on the process's locale and TZ state, which a
** thread-safe library must not touch. Calendar arithmetic is Howard Hinnant's days_from_civil
** / civil_from_days (proleptic Gregorian calendar).
*/
#include "time_text.h"

#include "../include/warden.h"
#include "invariant.h"

#include <stdbool.h>

#define SECONDS_PER_DAY 86400
/* The years WS-Security can mean: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define EARLIEST_SECONDS (-62135596800LL)
#define LATEST_SECONDS   253402300799LL
/* xsd:dateTime bounds a zone offset to 14:00 either way. */
#define MAX_OFFSET_MINUTES (14 * 60)

static int64_t days_from_civil(int64_t year, unsigned month, unsigned day)
{
    year -= month <= 2;
    const int64_t  era = (year >= 0 ? year : year - 399) / 400;
    const unsigned year_of_era = (unsigned)(year - era * 400);
    const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + (int64_t)day_of_era - 719468;
}

static void civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
    days += 719468;
    const int64_t  era = (days >= 0 ? days : days - 146096) / 146097;
    const unsigned day_of_era = (unsigned)(days - era * 146097);
    const unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    const unsigned mp = (5 * day_of_year + 2) / 153;
    *day = day_of_year - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = (int64_t)year_of_era + era * 400 + (*month <= 2);
}

static bool is_leap_year(int64_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static unsigned days_in_month(int64_t year, unsigned month)
{
    static const unsigned char lengths[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (month == 2 && is_leap_year(year))
        return 29;
    return lengths[month - 1];
}

/* Reads exactly `count` ASCII digits at text[*at]; advances *at. */
static bool read_digits(const char *text, size_t length, size_t *at, int count, unsigned *value)
{
    unsigned result = 0;
    if (length - *at < (size_t)count)
        return false;
    for (int i = 0; i < count; i++) {
        char c = text[*at + (size_t)i];
        if (c < '0' || c > '9')
            return false;
        result = result * 10 + (unsigned)(c - '0');
    }
    *at += (size_t)count;
    *value = result;
    return true;
}

static bool read_char(const char *text, size_t length, size_t *at, char expected)
{
    if (*at >= length || text[*at] != expected)
        return false;
    (*at)++;
    return true;
}

int wd_time_parse(const char *text, size_t length, int flags, int64_t *out)
{
    size_t   at = 0;
    /* read_digits sets each before use; gcc -O2 cannot see that through the || chain */
    unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    int      offset_minutes = 0;

    if (text == NULL || out == NULL)
        return -1;
    if (!read_digits(text, length, &at, 4, &year) || !read_char(text, length, &at, '-')
        || !read_digits(text, length, &at, 2, &month) || !read_char(text, length, &at, '-')
        || !read_digits(text, length, &at, 2, &day) || !read_char(text, length, &at, 'T')
        || !read_digits(text, length, &at, 2, &hour) || !read_char(text, length, &at, ':')
        || !read_digits(text, length, &at, 2, &minute) || !read_char(text, length, &at, ':')
        || !read_digits(text, length, &at, 2, &second))
        return -1;

    if (at < length && text[at] == '.') {
        size_t first_digit = ++at;
        while (at < length && text[at] >= '0' && text[at] <= '9')
            at++;
        if (at == first_digit)
            return -1; /* "12:00:00.Z" */
        if ((flags & WD_TIME_MILLISECONDS) && at - first_digit > 3)
            return -1;
    }

    if (at >= length)
        return -1; /* no zone: the instant depends on where it is read */
    if (text[at] == 'Z') {
        at++;
    } else if (text[at] == '+' || text[at] == '-') {
        unsigned offset_hours, offset_rest;
        int      sign = text[at] == '-' ? -1 : 1;
        if (flags & WD_TIME_REQUIRE_UTC)
            return -1;
        at++;
        if (!read_digits(text, length, &at, 2, &offset_hours) || !read_char(text, length, &at, ':')
            || !read_digits(text, length, &at, 2, &offset_rest))
            return -1;
        if (offset_rest > 59)
            return -1;
        offset_minutes = (int)(offset_hours * 60 + offset_rest);
        if (offset_minutes > MAX_OFFSET_MINUTES)
            return -1;
        offset_minutes *= sign;
    } else {
        return -1;
    }
    if (at != length)
        return -1;

    if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)
        || hour > 23 || minute > 59 || second > 59)
        return -1;

    /* "12:00:00+01:00" is 11:00:00Z: the offset is subtracted. */
    *out = days_from_civil(year, month, day) * SECONDS_PER_DAY + (int64_t)hour * 3600
         + (int64_t)minute * 60 + (int64_t)second - (int64_t)offset_minutes * 60;
    return 0;
}

/* Writes value as exactly count decimal digits (the callers' values always fit). */
static void write_digits(char *out, unsigned value, int count)
{
    for (int i = count - 1; i >= 0; i--) {
        out[i] = (char)('0' + value % 10);
        value /= 10;
    }
}


int wd_time_split(int64_t seconds, wd_time_fields *out)
{
    int64_t  year;
    unsigned month, day;

    if (out == NULL || seconds < EARLIEST_SECONDS || seconds > LATEST_SECONDS)
        return -1;
    int64_t days = seconds / SECONDS_PER_DAY;
    int64_t rest = seconds % SECONDS_PER_DAY;
    if (rest < 0) {
        rest += SECONDS_PER_DAY;
        days--;
    }
    civil_from_days(days, &year, &month, &day);
    out->year = (int)year;
    out->month = (int)month;
    out->day = (int)day;
    out->hour = (int)(rest / 3600);
    out->minute = (int)(rest / 60 % 60);
    out->second = (int)(rest % 60);
    /* 1970-01-01 (day 0) was a Thursday: ISO weekday 4 */
    int64_t weekday = (days + 3) % 7;
    out->weekday = (int)(weekday < 0 ? weekday + 7 : weekday) + 1;
    out->yearday = (int)(days - days_from_civil(year, 1, 1)) + 1;
    return 0;
}

void wd_time_format(int64_t seconds, char buffer[21])
{
    wd_time_fields f;

    /* Outside years 0001-9999 the text would not fit the fixed form: show the nearest end. */
    if (seconds < EARLIEST_SECONDS)
        seconds = EARLIEST_SECONDS;
    if (seconds > LATEST_SECONDS)
        seconds = LATEST_SECONDS;

    int split = wd_time_split(seconds, &f);
    WD_ASSERT(split == 0); /* clamped into the range wd_time_split accepts */
    (void)split;
    write_digits(buffer, (unsigned)f.year, 4);
    buffer[4] = '-';
    write_digits(buffer + 5, (unsigned)f.month, 2);
    buffer[7] = '-';
    write_digits(buffer + 8, (unsigned)f.day, 2);
    buffer[10] = 'T';
    write_digits(buffer + 11, (unsigned)f.hour, 2);
    buffer[13] = ':';
    write_digits(buffer + 14, (unsigned)f.minute, 2);
    buffer[16] = ':';
    write_digits(buffer + 17, (unsigned)f.second, 2);
    buffer[19] = 'Z';
    buffer[20] = '\0';
}

/* ---- the public face (warden.h): for the policy runtime and embedders ------------------ */

int warden_time_parse(const char *text, size_t length, int64_t *seconds)
{
    if (text == NULL || seconds == NULL || wd_time_parse(text, length, 0, seconds) != 0)
        return WARDEN_E_INVALID_ARG;
    return WARDEN_OK;
}

int warden_time_format(int64_t seconds, char buffer[21])
{
    if (buffer == NULL || seconds < EARLIEST_SECONDS || seconds > LATEST_SECONDS)
        return WARDEN_E_INVALID_ARG;
    wd_time_format(seconds, buffer);
    return WARDEN_OK;
}

int warden_time_split(int64_t seconds, warden_time_parts *out)
{
    wd_time_fields fields;
    if (out == NULL || wd_time_split(seconds, &fields) != 0)
        return WARDEN_E_INVALID_ARG;
    out->year = fields.year;
    out->month = fields.month;
    out->day = fields.day;
    out->hour = fields.hour;
    out->minute = fields.minute;
    out->second = fields.second;
    out->weekday = fields.weekday;
    out->yearday = fields.yearday;
    return WARDEN_OK;
}
