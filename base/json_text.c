/*
** json_text.c — JSON string escaping and UTF-8 validation (json_text.h).
*/
#include "json_text.h"

#include <stdio.h>

bool wd_utf8_valid(const unsigned char *text)
{
    while (*text != '\0') {
        unsigned c = *text, point;
        size_t more;
        if (c < 0x80) {
            text++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            more = 1;
            point = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            more = 2;
            point = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3;
            point = c & 0x07;
        } else {
            return false;
        }
        for (size_t i = 1; i <= more; i++) {
            if ((text[i] & 0xc0) != 0x80) /* also stops at the NUL: it is not a continuation */
                return false;
            point = (point << 6) | (text[i] & 0x3f);
        }
        if ((more == 2 && point < 0x800) || (more == 3 && (point < 0x10000 || point > 0x10ffff))
            || (point >= 0xd800 && point <= 0xdfff))
            return false;
        text += more + 1;
    }
    return true;
}

/* Bytes the scan stops at: the end, what JSON escapes, and bytes past ASCII (whose text must be
** checked as UTF-8). Every other byte is copied in runs: a decision log line is mostly such runs,
** and it is built for every decision a log keeps. */
static bool stops_scan(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

void wd_json_put_string(wd_json_put_fn put, void *context, const char *value)
{
    enum { UNCHECKED, UTF8, NOT_UTF8 } text = UNCHECKED; /* checked at the first byte past ASCII */
    put(context, "\"", 1);
    const char *run = value;
    for (const char *p = value;; p++) {
        unsigned char c = (unsigned char)*p;
        if (!stops_scan(c))
            continue;
        if (c >= 0x80) {
            if (text == UNCHECKED)
                text = wd_utf8_valid((const unsigned char *)value) ? UTF8 : NOT_UTF8;
            if (text == UTF8)
                continue;
        }
        put(context, run, (size_t)(p - run));
        run = p + 1;
        if (c == '\0')
            break;
        char escape[8];
        switch (c) {
        case '"': put(context, "\\\"", 2); break;
        case '\\': put(context, "\\\\", 2); break;
        case '\b': put(context, "\\b", 2); break;
        case '\f': put(context, "\\f", 2); break;
        case '\n': put(context, "\\n", 2); break;
        case '\r': put(context, "\\r", 2); break;
        case '\t': put(context, "\\t", 2); break;
        default:
            if (c >= 0x80) {
                put(context, "?", 1);
            } else {
                snprintf(escape, sizeof escape, "\\u%04X", c);
                put(context, escape, 6);
            }
        }
    }
    put(context, "\"", 1);
}
