/*
** input.h — reading a MESSAGE argument: a file path, or "-" for standard input.
*/
#ifndef WARDEN_CLI_INPUT_H
#define WARDEN_CLI_INPUT_H

#include <stddef.h>

/* Reads the whole of path ("-" = stdin) into a malloc'd buffer owned by the caller.
** Returns NULL with message filled (capacity bytes) when it cannot be read. */
unsigned char *cli_read_input(const char *path, size_t *length, char *message, size_t capacity);

#endif
