/*
** time_text.h — xsd:dateTime text to Unix seconds and back: what core/ reads in messages, what
** policy tests read in `now`, and (as warden_time_parse/format) what the command reads.
*/
#ifndef WD_TIME_TEXT_H
#define WD_TIME_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define WD_TIME_REQUIRE_UTC 1 /* only the 'Z' suffix is accepted (BSP R3217) */
#define WD_TIME_MILLISECONDS 2 /* at most three fraction digits (BSP R3220, R3229) */

/* Parses "YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm)" (length bytes) into *out, Unix
** seconds (the fraction is dropped). A missing zone is refused: a time that means different
** instants on different machines cannot be checked. With WD_TIME_REQUIRE_UTC only 'Z'; with
** WD_TIME_MILLISECONDS a fraction of more than three digits is refused.
** Field ranges are checked (month 1-12, day within the month, hour 0-23, leap second 60
** refused). Returns 0, or -1 when the text is not such a time. */
int wd_time_parse(const char *text, size_t length, int flags, int64_t *out);

/* A UTC instant's calendar fields. */
typedef struct wd_time_fields {
    int year, month, day, hour, minute, second;
    int weekday; /* ISO: 1 = Monday .. 7 = Sunday */
    int yearday; /* 1 = January 1st */
} wd_time_fields;

/* Splits Unix seconds into UTC calendar fields (proleptic Gregorian). Returns 0, or -1 outside
** 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
int wd_time_split(int64_t seconds, wd_time_fields *out);

/* Writes "YYYY-MM-DDThh:mm:ssZ" and a NUL into buffer (at least 21 bytes). */
void wd_time_format(int64_t seconds, char buffer[21]);

#endif
