/*
** base64.c — strict Base64 (RFC 4648 alphabet) for the binary values XML carries: nonces,
** digests, signature values, certificates.
**
** The decoder is strict on purpose: a value that several decoders would read differently
** (stray characters, data after the padding, non-zero bits in the last character) is refused,
** so that two encodings of the same bytes cannot slip past a check keyed on one of them.
*/
#include "base64.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* What each byte is to the decoder: a sextet (0..63), or one of these. The table keeps the
** loop free of branches on character classes. */
enum { XX = 0xFF /* not base64 */, PA = 0xFE /* '=' */, SK = 0xFD /* XML whitespace, skipped */ };

static const unsigned char sextets[256] = {
    XX, XX, XX, XX, XX, XX, XX, XX, XX, SK, SK, XX, XX, SK, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    SK, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX, XX, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, PA, XX, XX,
    XX,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, XX,
    XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
};

unsigned char *wd_base64_decode(const char *text, size_t length, size_t *out_length)
{
    const unsigned char *in = (const unsigned char *)text;
    unsigned char *out = NULL;
    size_t         written = 0;
    size_t         i = 0;
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

    while (i < length) {
        /* The common case: a whole quantum of four data characters at a quantum boundary.
        ** Sextets are below 64, the three markers have both top bits set. */
        if (in_group == 0 && padding == 0 && length - i >= 4) {
            unsigned a = sextets[in[i]], b = sextets[in[i + 1]], c = sextets[in[i + 2]], d = sextets[in[i + 3]];
            if (((a | b | c | d) & 0xC0) == 0) {
                uint32_t quantum = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
                out[written++] = (unsigned char)(quantum >> 16);
                out[written++] = (unsigned char)(quantum >> 8);
                out[written++] = (unsigned char)quantum;
                i += 4;
                continue;
            }
        }
        /* One character at a time: whitespace, padding, a quantum split by line breaks. */
        unsigned value = sextets[in[i++]];
        if (value == SK)
            continue;
        if (value == XX)
            goto fail;
        if (value == PA) {
            /* "x===" and "====" are not padding: at least two data characters precede it. */
            if (in_group < 2)
                goto fail;
            padding++;
            in_group++;
        } else {
            if (padding > 0)
                goto fail; /* data after padding */
            group = group << 6 | value;
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
    assert(written <= length / 4 * 3);
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
