/*
** log_text.h — text made safe for one log line: nothing in it can end the line, start a
** forged one, or drive a terminal, whatever bytes a policy or a message put into it.
*/
#ifndef WD_ENGINE_LOG_TEXT_H
#define WD_ENGINE_LOG_TEXT_H

#include <stddef.h>

/* Copies length bytes of text (NULs included) into out as one line: control characters
** (C0 but TAB, DEL, and the C1 range U+0080..U+009F) and bytes that are not UTF-8 become
** \n, \r or \xNN (C1 as \u00NN), and a backslash becomes \\, so every escape is unambiguous.
** The result is NUL-terminated and cut (never inside an escape or a character) to fit
** capacity bytes, which must be at least 1. Returns the length written. */
size_t wd_log_escape(const char *text, size_t length, char *out, size_t capacity);

#endif
