/*
** users.h — the users file ("name:password" lines) and the password lookup that combines it
** with the embedder's callback.
*/
#ifndef WD_USERS_H
#define WD_USERS_H

#include <stddef.h>

#include "../include/warden.h"
#include "failure.h"

typedef struct wd_users wd_users;

/* Loads a users file: one "name:password" per line (the password is everything after the
** first ':'; a trailing '\r' is dropped); blank lines and lines starting with '#' are
** skipped. A line without ':' or with an empty name, or a name given twice, is an error
** naming the line. *out is owned by the caller (wd_users_free).
** Returns WARDEN_OK, WARDEN_E_IO (unreadable; message filled), WARDEN_E_CONFIG (bad line),
** WARDEN_E_NOMEM. message (may be NULL) gets a text of at most capacity bytes. */
int wd_users_load(const char *path, wd_users **out, char *message, size_t capacity);

/* Looks a user up: WARDEN_OK with *password / *length pointing into the table, or
** WARDEN_E_NOT_APPLICABLE. Thread-safe (the table is read-only once loaded). */
int wd_users_lookup(const wd_users *users, const char *name, size_t name_length,
                    const char **password, size_t *length);

void wd_users_free(wd_users *users);

/* A user name as it may appear in a detail text: it comes from the message, so anything
** that is not printable ASCII is shown as '?', and names longer than 64 bytes are cut. */
void wd_users_printable_name(const char *name, size_t name_length, char buffer[68]);

/* Where passwords come from: the users file first, then the embedder's callback. */
typedef struct wd_credentials {
    const wd_users    *users;            /* may be NULL */
    warden_password_fn callback;         /* may be NULL */
    void              *callback_context;
} wd_credentials;

#define WD_PASSWORD_CAPACITY 1024

/* Finds the password of a user: 0 with the password copied into password[0..*length)
** (capacity WD_PASSWORD_CAPACITY); -1 with failure filled: user-unknown when no source
** knows the user, internal-error when the callback fails. The caller wipes the buffer
** (OPENSSL_cleanse) after use. */
int wd_credentials_lookup(const wd_credentials *credentials, const char *name, size_t name_length,
                          char password[WD_PASSWORD_CAPACITY], size_t *length, wd_failure *failure);

#endif
