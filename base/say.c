/*
** say.c — the bounded message writer of say.h.
*/
#include "say.h"

#include <stdarg.h>
#include <stdio.h>

void wd_say(char *message, size_t capacity, const char *format, ...)
{
    va_list args;
    if (message == NULL || capacity == 0)
        return;
    va_start(args, format);
    vsnprintf(message, capacity, format, args);
    va_end(args);
}
