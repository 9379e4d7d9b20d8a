/*
** users.c — the users file ("name:password" lines), held as a sorted array searched by
** binary search (read-only once loaded, so any number of threads may look up at once), and
** the password lookup that consults it before the embedder's callback.
*/
#include "users.h"

#include "file_text.h"
#include "say.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct user_entry {
    const char *name;     /* points into wd_users.text, not NUL-terminated */
    size_t      name_length;
    const char *password; /* likewise */
    size_t      password_length;
    size_t      line;     /* for error messages about duplicates */
} user_entry;

struct wd_users {
    char       *text;     /* the whole file; wiped when freed, it holds passwords */
    size_t      text_length;
    user_entry *entries;  /* sorted by name */
    size_t      count;
};

static int compare_names(const char *a, size_t a_length, const char *b, size_t b_length)
{
    int order = memcmp(a, b, a_length < b_length ? a_length : b_length);
    if (order != 0)
        return order;
    return (a_length > b_length) - (a_length < b_length);
}

static int compare_entries(const void *left, const void *right)
{
    const user_entry *a = left, *b = right;
    return compare_names(a->name, a->name_length, b->name, b->name_length);
}

/* Reads the whole file (file_text.h), wiping every buffer it lets go of. Returns WARDEN_OK,
** WARDEN_E_IO or WARDEN_E_NOMEM. */
static int read_file(const char *path, char **out, size_t *out_length, char *message, size_t capacity)
{
    char error_text[128] = "";
    switch (wd_file_read(path, SIZE_MAX, WD_FILE_SECRET, out, out_length)) {
    case WD_FILE_OK:
        return WARDEN_OK;
    case WD_FILE_NOMEM:
    case WD_FILE_TOO_LARGE:
        wd_say(message, capacity, "users file %s: out of memory", path);
        return WARDEN_E_NOMEM;
    default:
        strerror_r(errno, error_text, sizeof error_text);
        wd_say(message, capacity, "users file %s: %s", path, error_text);
        return WARDEN_E_IO;
    }
}

static bool is_blank(const char *line, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        if (line[i] != ' ' && line[i] != '\t')
            return false;
    }
    return true;
}

int wd_users_load(const char *path, wd_users **out, char *message, size_t capacity)
{
    wd_users *users = NULL;
    size_t    line_count = 0;
    size_t    line_number = 0;
    int       result;

    wd_say(message, capacity, "%s", "");
    if (path == NULL || out == NULL) {
        wd_say(message, capacity, "users file: no path");
        return WARDEN_E_INVALID_ARG;
    }
    *out = NULL;

    users = calloc(1, sizeof *users);
    if (users == NULL) {
        wd_say(message, capacity, "users file %s: out of memory", path);
        return WARDEN_E_NOMEM;
    }
    result = read_file(path, &users->text, &users->text_length, message, capacity);
    if (result != WARDEN_OK)
        goto done;

    /* At most one entry per line: count the lines to size the array once. */
    for (size_t i = 0; i < users->text_length; i++)
        line_count += users->text[i] == '\n';
    line_count++;
    users->entries = calloc(line_count, sizeof *users->entries);
    if (users->entries == NULL) {
        result = WARDEN_E_NOMEM;
        wd_say(message, capacity, "users file %s: out of memory", path);
        goto done;
    }

    result = WARDEN_E_CONFIG;
    for (size_t start = 0; start < users->text_length;) {
        const char *line = users->text + start;
        const char *newline = memchr(line, '\n', users->text_length - start);
        size_t      length = newline != NULL ? (size_t)(newline - line) : users->text_length - start;
        start += length + 1;
        line_number++;

        if (length > 0 && line[length - 1] == '\r')
            length--;
        if (is_blank(line, length) || line[0] == '#')
            continue;
        if (memchr(line, '\0', length) != NULL) {
            wd_say(message, capacity, "users file %s, line %zu: contains a NUL byte", path, line_number);
            goto done;
        }
        const char *colon = memchr(line, ':', length);
        if (colon == NULL) {
            wd_say(message, capacity, "users file %s, line %zu: expected name:password", path, line_number);
            goto done;
        }
        if (colon == line) {
            wd_say(message, capacity, "users file %s, line %zu: empty user name", path, line_number);
            goto done;
        }
        user_entry *entry = &users->entries[users->count++];
        entry->name = line;
        entry->name_length = (size_t)(colon - line);
        entry->password = colon + 1;
        entry->password_length = length - entry->name_length - 1;
        entry->line = line_number;
        if (entry->password_length > WD_PASSWORD_CAPACITY) {
            wd_say(message, capacity, "users file %s, line %zu: password longer than %d bytes", path,
                        line_number, WD_PASSWORD_CAPACITY);
            goto done;
        }
    }

    if (users->count > 0)
        qsort(users->entries, users->count, sizeof *users->entries, compare_entries);
    for (size_t i = 1; i < users->count; i++) {
        const user_entry *a = &users->entries[i - 1], *b = &users->entries[i];
        if (compare_entries(a, b) == 0) {
            size_t first = a->line < b->line ? a->line : b->line;
            size_t again = a->line < b->line ? b->line : a->line;
            wd_say(message, capacity, "users file %s, line %zu: user \"%.*s\" already given on line %zu",
                        path, again, (int)(a->name_length > 64 ? 64 : a->name_length), a->name, first);
            goto done;
        }
    }
    *out = users;
    users = NULL;
    result = WARDEN_OK;

done:
    wd_users_free(users);
    return result;
}

int wd_users_lookup(const wd_users *users, const char *name, size_t name_length,
                    const char **password, size_t *length)
{
    size_t low = 0, high;

    if (users == NULL || (name == NULL && name_length > 0))
        return WARDEN_E_NOT_APPLICABLE;
    high = users->count;
    while (low < high) {
        size_t            middle = low + (high - low) / 2;
        const user_entry *entry = &users->entries[middle];
        int               order = compare_names(name, name_length, entry->name, entry->name_length);
        if (order == 0) {
            if (password != NULL)
                *password = entry->password;
            if (length != NULL)
                *length = entry->password_length;
            return WARDEN_OK;
        }
        if (order < 0)
            high = middle;
        else
            low = middle + 1;
    }
    return WARDEN_E_NOT_APPLICABLE;
}

void wd_users_free(wd_users *users)
{
    if (users == NULL)
        return;
    if (users->text != NULL) {
        OPENSSL_cleanse(users->text, users->text_length);
        free(users->text);
    }
    free(users->entries);
    free(users);
}

void wd_users_printable_name(const char *name, size_t name_length, char buffer[68])
{
    size_t shown = name_length > 64 ? 64 : name_length;
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)name[i];
        buffer[i] = c >= 0x20 && c < 0x7F && c != '"' && c != '\\' ? (char)c : '?';
    }
    if (shown < name_length) {
        memcpy(buffer + shown, "...", 3);
        shown += 3;
    }
    buffer[shown] = '\0';
}

int wd_credentials_lookup(const wd_credentials *credentials, const char *name, size_t name_length,
                          char password[WD_PASSWORD_CAPACITY], size_t *length, wd_failure *failure)
{
    char        shown[68];
    const char *stored = NULL;
    size_t      stored_length = 0;
    size_t      given_length = 0;
    int         status;

    if (credentials == NULL || password == NULL || length == NULL || (name == NULL && name_length > 0))
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "wd_credentials_lookup: missing argument");
    *length = 0;
    wd_users_printable_name(name, name_length, shown);

    if (wd_users_lookup(credentials->users, name, name_length, &stored, &stored_length) == WARDEN_OK) {
        if (stored_length > WD_PASSWORD_CAPACITY)
            return wd_fail_internal(failure, WARDEN_E_INTERNAL, "password of user \"%s\" is too long", shown);
        memcpy(password, stored, stored_length);
        *length = stored_length;
        return 0;
    }
    if (credentials->callback == NULL)
        return wd_fail(failure, WD_REASON_USER_UNKNOWN, "user \"%s\" is unknown", shown);

    status = credentials->callback(credentials->callback_context, name, name_length, password,
                                   WD_PASSWORD_CAPACITY, &given_length);
    if (status == WARDEN_OK && given_length <= WD_PASSWORD_CAPACITY) {
        *length = given_length;
        return 0;
    }
    /* Whatever the callback wrote is of no use now, and may be a secret. */
    OPENSSL_cleanse(password, WD_PASSWORD_CAPACITY);
    if (status == WARDEN_E_NOT_APPLICABLE)
        return wd_fail(failure, WD_REASON_USER_UNKNOWN, "user \"%s\" is unknown", shown);
    if (status == WARDEN_OK)
        return wd_fail_internal(failure, WARDEN_E_INTERNAL,
                                "password callback gave %zu bytes for user \"%s\" (at most %d)", given_length,
                                shown, WD_PASSWORD_CAPACITY);
    return wd_fail_internal(failure, status == WARDEN_E_NOMEM ? WARDEN_E_NOMEM : WARDEN_E_INTERNAL,
                            "password callback failed for user \"%s\" (status %d)", shown, status);
}
