/*
** json_text.h — JSON string text for the lines and answers written without a JSON library's
** objects: the decision log (engine/decision_log.c) and `warden serve`'s decision answers
** (server/handlers.c, which compiles this file in like the command's file_text.c). One
** escaping, so that the log and the answer can never disagree on a subject or a detail.
*/
#ifndef WD_JSON_TEXT_H
#define WD_JSON_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Receives the text piece by piece (never NUL-terminated pieces; length may be 0). */
typedef void (*wd_json_put_fn)(void *context, const char *bytes, size_t length);

/* Whether text (NUL-terminated) is well-formed UTF-8: no overlong forms, surrogates or code
** points past U+10FFFF. */
bool wd_utf8_valid(const unsigned char *text);

/* Writes value as a JSON string, quotes included, through put. Control characters are escaped
** as jansson does (\n, \u001B), so a line never breaks. Text that is not UTF-8 (a detail cut in
** the middle of a character, a certificate subject's raw bytes) keeps its field with every
** byte past ASCII written as '?': a JSON reader never sees invalid text, and nothing is
** dropped. */
void wd_json_put_string(wd_json_put_fn put, void *context, const char *value);

#endif
