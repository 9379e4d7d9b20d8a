/*
** file_text.h — reading a whole file into memory, for every layer and the command line: the
** trust store's PEM files, the users file, the config file, policy files, test envelopes and
** the messages `warden verify` reads. One routine, so that the bound, the EINTR loop, the
** regular-file check and the wiping of secrets are written once.
*/
#ifndef WD_FILE_TEXT_H
#define WD_FILE_TEXT_H

#include <stddef.h>

typedef enum wd_file_status {
    WD_FILE_OK = 0,
    WD_FILE_OPEN,        /* open failed; errno says why */
    WD_FILE_NOT_REGULAR, /* WD_FILE_REGULAR was asked and this is a folder, FIFO, device... */
    WD_FILE_READ,        /* fstat or read failed; errno says why */
    WD_FILE_TOO_LARGE,   /* more than limit bytes */
    WD_FILE_NOMEM
} wd_file_status;

#define WD_FILE_REGULAR 1 /* refuse anything but a regular file (and never wait on a FIFO) */
#define WD_FILE_SECRET  2 /* wipe every buffer before it is freed (a users file's passwords) */

/* Reads the whole file at path into a new buffer, NUL-terminated (the NUL is not counted in
** *length), at most limit bytes. Returns WD_FILE_OK with *out owned by the caller (free), or
** another status with *out NULL. Thread-safe. */
wd_file_status wd_file_read(const char *path, size_t limit, int flags, char **out, size_t *length);

/* The same from an open descriptor, which stays open (the caller closes it). */
wd_file_status wd_file_read_fd(int fd, size_t limit, int flags, char **out, size_t *length);

#endif
