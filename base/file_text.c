/*
** file_text.c — reading a whole file (file_text.h). The buffer starts at the size fstat
** reports (plus room for one more read that confirms the end) and grows if the file grows
** while it is read, never past limit + 1 bytes: one byte over the limit is enough to know
** the file is too large.
*/
#include "file_text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Frees a buffer, wiped first when it may hold secrets. */
static void release(char *buffer, size_t allocated, int flags)
{
    if (buffer != NULL && (flags & WD_FILE_SECRET))
        explicit_bzero(buffer, allocated);
    free(buffer);
}

/* A bigger buffer holding the same bytes; with WD_FILE_SECRET the old one is wiped, not left
** behind by realloc. NULL (old untouched) when out of memory. */
static char *grow(char *old, size_t used, size_t allocated, size_t wanted, int flags)
{
    if (!(flags & WD_FILE_SECRET))
        return realloc(old, wanted);
    char *bigger = malloc(wanted);
    if (bigger == NULL)
        return NULL;
    memcpy(bigger, old, used);
    release(old, allocated, flags);
    return bigger;
}

wd_file_status wd_file_read_fd(int fd, size_t limit, int flags, char **out, size_t *length)
{
    wd_file_status status = WD_FILE_READ;
    struct stat info;
    char *buffer = NULL;
    size_t used = 0, allocated = 0;

    *out = NULL;
    *length = 0;
    if (fstat(fd, &info) != 0)
        return WD_FILE_READ;
    if ((flags & WD_FILE_REGULAR) && !S_ISREG(info.st_mode))
        return WD_FILE_NOT_REGULAR;
    if (S_ISREG(info.st_mode) && info.st_size > 0 && (unsigned long long)info.st_size > limit)
        return WD_FILE_TOO_LARGE;
    /* the size as fstat says, + 1 for the read that sees the end, + 1 for the NUL */
    allocated = (S_ISREG(info.st_mode) && info.st_size > 0 ? (size_t)info.st_size : 16384) + 2;
    buffer = malloc(allocated);
    if (buffer == NULL)
        return WD_FILE_NOMEM;
    for (;;) {
        if (used + 1 == allocated) { /* full: the file is longer than it was, or not regular */
            if (used > limit) {
                status = WD_FILE_TOO_LARGE;
                goto done;
            }
            size_t wanted = allocated * 2;
            if (limit < SIZE_MAX - 2 && wanted > limit + 2)
                wanted = limit + 2;
            if (wanted <= allocated) {
                status = WD_FILE_NOMEM;
                goto done;
            }
            char *bigger = grow(buffer, used, allocated, wanted, flags);
            if (bigger == NULL) {
                status = WD_FILE_NOMEM;
                goto done;
            }
            buffer = bigger;
            allocated = wanted;
        }
        ssize_t got = read(fd, buffer + used, allocated - 1 - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            goto done; /* WD_FILE_READ, errno set */
        if (got == 0)
            break;
        used += (size_t)got;
    }
    if (used > limit) {
        status = WD_FILE_TOO_LARGE;
        goto done;
    }
    buffer[used] = '\0';
    *out = buffer;
    *length = used;
    buffer = NULL;
    status = WD_FILE_OK;
done:
    if (buffer != NULL) {
        int saved = errno;
        release(buffer, allocated, flags);
        errno = saved;
    }
    return status;
}

wd_file_status wd_file_read(const char *path, size_t limit, int flags, char **out, size_t *length)
{
    /* O_NONBLOCK with WD_FILE_REGULAR: opening a FIFO must not wait for a writer; it is
    ** refused once fstat has seen it. Without it a FIFO or a device is read as it comes. */
    int open_flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | ((flags & WD_FILE_REGULAR) ? O_NONBLOCK : 0);
    *out = NULL;
    *length = 0;
    int fd = open(path, open_flags);
    if (fd < 0)
        return WD_FILE_OPEN;
    wd_file_status status = wd_file_read_fd(fd, limit, flags, out, length);
    int saved = errno;
    close(fd);
    errno = saved;
    return status;
}
