/*
** base64.c — strict Base64 (RFC 4648 alphabet) for the binary values XML carries: nonces,
** digests, signature values, certificates.
**
** The decoder is strict on purpose: a value that several decoders would read differently
** (stray characters, data after the padding, non-zero bits in the last character) is refused,
** so that two encodings of the same bytes cannot slip past a check keyed on one of them.
*/
#include "base64.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

enum { NOT_BASE64 = -1, PADDING = -2, SKIPPED = -3 };

static int sextet_of(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    switch (c) {
    case '+': return 62;
    case '/': return 63;
    case '=': return PADDING;
    case ' ': case '\t': case '\r': case '\n': return SKIPPED;
    default: return NOT_BASE64;
    }
}

unsigned char *wd_base64_decode(const char *text, size_t length, size_t *out_length)
{
    unsigned char *out = NULL;
    size_t         written = 0;
    uint32_t       group = 0;     /* sextets of the current quantum, packed */
    int            in_group = 0;  /* sextets (data or padding) seen in the current quantum */
    int            padding = 0;   /* '=' seen; once non-zero only '=' and whitespace may follow */

    if (out_length != NULL)
        *out_length = 0;
    if (text == NULL && length > 0)
        return NULL;

    /* Every 4 characters give at most 3 bytes; +1 keeps an empty result non-NULL. */
    out = malloc(length / 4 * 3 + 1);
    if (out == NULL)
        return NULL;

    for (size_t i = 0; i < length; i++) {
        int value = sextet_of((unsigned char)text[i]);
        if (value == SKIPPED)
            continue;
        if (value == NOT_BASE64)
            goto fail;
        if (value == PADDING) {
            /* "x===" and "====" are not padding: at least two data characters precede it. */
            if (in_group < 2)
                goto fail;
            padding++;
            in_group++;
        } else {
            if (padding > 0)
                goto fail; /* data after padding */
            group = group << 6 | (uint32_t)value;
            in_group++;
        }
        if (in_group == 4) {
            if (padding == 0) {
                out[written++] = (unsigned char)(group >> 16);
                out[written++] = (unsigned char)(group >> 8);
                out[written++] = (unsigned char)group;
            } else if (padding == 1) {
                /* 3 data sextets = 18 bits for 2 bytes: the low 2 bits must be zero. */
                if (group & 0x3)
                    goto fail;
                out[written++] = (unsigned char)(group >> 10);
                out[written++] = (unsigned char)(group >> 2);
            } else {
                /* 2 data sextets = 12 bits for 1 byte: the low 4 bits must be zero. */
                if (group & 0xF)
                    goto fail;
                out[written++] = (unsigned char)(group >> 4);
            }
            /* padding stays set: after a padded quantum only whitespace may follow. */
            group = 0;
            in_group = 0;
        }
    }
    if (in_group != 0)
        goto fail; /* length not a multiple of 4 */
    if (out_length != NULL)
        *out_length = written;
    return out;

fail:
    free(out);
    return NULL;
}

char *wd_base64_encode(const unsigned char *data, size_t length)
{
    if (length > (SIZE_MAX - 1) / 4 * 3 - 3)
        return NULL;
    size_t encoded_length = (length + 2) / 3 * 4;
    char  *out = malloc(encoded_length + 1);
    if (out == NULL)
        return NULL;

    char  *p = out;
    size_t i = 0;
    for (; i + 3 <= length; i += 3) {
        uint32_t group = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        *p++ = alphabet[group >> 18 & 0x3F];
        *p++ = alphabet[group >> 12 & 0x3F];
        *p++ = alphabet[group >> 6 & 0x3F];
        *p++ = alphabet[group & 0x3F];
    }
    if (length - i == 1) {
        uint32_t group = (uint32_t)data[i] << 16;
        *p++ = alphabet[group >> 18 & 0x3F];
        *p++ = alphabet[group >> 12 & 0x3F];
        *p++ = '=';
        *p++ = '=';
    } else if (length - i == 2) {
        uint32_t group = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
        *p++ = alphabet[group >> 18 & 0x3F];
        *p++ = alphabet[group >> 12 & 0x3F];
        *p++ = alphabet[group >> 6 & 0x3F];
        *p++ = '=';
    }
    *p = '\0';
    return out;
}
