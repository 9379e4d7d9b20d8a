/*
** say.h — writing a formatted message into a caller's buffer, the way the loaders (trust store,
** users file, policy folder) report why a file was refused: bounded, always NUL-terminated, and
** a no-op when the caller passed no buffer.
*/
#ifndef WD_SAY_H
#define WD_SAY_H

#include <stddef.h>

/* Formats into message (capacity bytes, cut to fit); does nothing when message is NULL or
** capacity is 0. Thread-safe. */
void wd_say(char *message, size_t capacity, const char *format, ...) __attribute__((format(printf, 3, 4)));

#endif
