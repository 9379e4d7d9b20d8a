/*
** input.c — reading message files and standard input, with a ceiling so that a mistaken
** argument (a disk image, /dev/zero) cannot exhaust memory: the engine's own limit on
** message size is far below it. The reading itself is the library's (base/file_text.c,
** compiled into the command as well: a private helper, not part of libwarden's API).
*/
#include "input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file_text.h"

#define INPUT_CEILING ((size_t)1 << 30)

unsigned char *cli_read_input(const char *path, size_t *length, char *message, size_t capacity)
{
    char *data = NULL;
    wd_file_status status = strcmp(path, "-") == 0 ? wd_file_read_fd(STDIN_FILENO, INPUT_CEILING, 0, &data, length)
                                                   : wd_file_read(path, INPUT_CEILING, 0, &data, length);
    switch (status) {
    case WD_FILE_OK:
        return (unsigned char *)data;
    case WD_FILE_TOO_LARGE:
        snprintf(message, capacity, "%s: larger than %zu bytes", path, INPUT_CEILING);
        return NULL;
    case WD_FILE_NOMEM:
        snprintf(message, capacity, "%s: out of memory", path);
        return NULL;
    default:
        snprintf(message, capacity, "%s: %s", path, strerror(errno));
        return NULL;
    }
}
