/*
** log_text.c — owns wd_log_escape, the one place where text bound for a log line (a policy's
** log(...) text, rule names and error texts the engine quotes) is made unable to forge a
** line or reach a terminal as control sequences. Valid UTF-8 passes through unchanged.
*/
#include "log_text.h"

#include <stdio.h>
#include <string.h>

/* The length of the UTF-8 sequence at text (at most length bytes), or 0 if it is not one
** (overlong forms, surrogates and code points past U+10FFFF are not). */
static size_t utf8_sequence(const unsigned char *text, size_t length)
{
    unsigned char lead = text[0];
    size_t need;
    unsigned char low = 0x80, high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf)
        need = 2;
    else if (lead >= 0xe0 && lead <= 0xef) {
        need = 3;
        if (lead == 0xe0)
            low = 0xa0;
        else if (lead == 0xed)
            high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        need = 4;
        if (lead == 0xf0)
            low = 0x90;
        else if (lead == 0xf4)
            high = 0x8f;
    } else
        return 0;
    if (length < need || text[1] < low || text[1] > high)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (text[i] < 0x80 || text[i] > 0xbf)
            return 0;
    return need;
}

size_t wd_log_escape(const char *text, size_t length, char *out, size_t capacity)
{
    const unsigned char *in = (const unsigned char *)text;
    size_t used = 0;
    for (size_t i = 0; i < length;) {
        char piece[8];
        size_t size;
        unsigned char c = in[i];
        size_t sequence = c >= 0x80 ? utf8_sequence(in + i, length - i) : 1;
        if (c == '\n') {
            memcpy(piece, "\\n", size = 2);
        } else if (c == '\r') {
            memcpy(piece, "\\r", size = 2);
        } else if (c == '\\') {
            memcpy(piece, "\\\\", size = 2);
        } else if ((c < 0x20 && c != '\t') || c == 0x7f || sequence == 0) {
            size = (size_t)snprintf(piece, sizeof piece, "\\x%02x", c);
            sequence = 1;
        } else if (c == 0xc2 && in[i + 1] <= 0x9f) { /* a C1 control, e.g. U+009B (CSI) */
            size = (size_t)snprintf(piece, sizeof piece, "\\u%04x", in[i + 1]);
        } else {
            memcpy(piece, in + i, size = sequence);
        }
        if (used + size + 1 > capacity)
            break;
        memcpy(out + used, piece, size);
        used += size;
        i += sequence;
    }
    out[used] = '\0';
    return used;
}
