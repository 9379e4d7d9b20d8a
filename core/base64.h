/*
** base64.h — Base64 as XML carries it (RFC 4648 alphabet; line breaks and XML whitespace
** allowed between characters when decoding).
*/
#ifndef WD_BASE64_H
#define WD_BASE64_H

#include <stddef.h>

/* Decodes text (length bytes) into a malloc'd buffer owned by the caller; *out_length gets
** its size. Whitespace (space, tab, CR, LF) anywhere is skipped. Returns NULL when the text
** is not valid base64 (bad character, bad padding, wrong length) or on allocation failure.
** An empty text decodes to a non-NULL empty buffer. */
unsigned char *wd_base64_decode(const char *text, size_t length, size_t *out_length);

/* Encodes without line breaks into a malloc'd NUL-terminated string owned by the caller.
** NULL on allocation failure. */
char *wd_base64_encode(const unsigned char *data, size_t length);

#endif
