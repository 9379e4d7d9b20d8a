/*
** input.c — reading message files and standard input, with a ceiling so that a mistaken
** argument (a disk image, /dev/zero) cannot exhaust memory: the engine's own limit on
** message size is far below it.
*/
#include "input.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_CEILING ((size_t)1 << 30)

unsigned char *cli_read_input(const char *path, size_t *length, char *message, size_t capacity)
{
    FILE *file = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    unsigned char *data = NULL;
    size_t used = 0, allocated = 0;

    if (file == NULL) {
        snprintf(message, capacity, "%s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (used == allocated) {
            size_t grown = allocated == 0 ? 65536 : allocated * 2;
            if (grown > INPUT_CEILING) {
                snprintf(message, capacity, "%s: larger than %zu bytes", path, INPUT_CEILING);
                goto failed;
            }
            unsigned char *bigger = realloc(data, grown);
            if (bigger == NULL) {
                snprintf(message, capacity, "%s: out of memory", path);
                goto failed;
            }
            data = bigger;
            allocated = grown;
        }
        size_t got = fread(data + used, 1, allocated - used, file);
        used += got;
        if (got == 0) {
            if (ferror(file)) {
                snprintf(message, capacity, "%s: %s", path, strerror(errno));
                goto failed;
            }
            break;
        }
    }
    if (file != stdin)
        fclose(file);
    *length = used;
    return data;

failed:
    if (file != stdin)
        fclose(file);
    free(data);
    return NULL;
}
