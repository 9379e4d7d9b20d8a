/*
** digest.h — SHA-256 over data fed in pieces, for every layer (policy revision
** ids, the watcher's polling pass) so that they hash without touching OpenSSL objects.
*/
#ifndef WD_DIGEST_H
#define WD_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct wd_sha256 wd_sha256;

/* A new hashing context owned by the caller (wd_sha256_free); NULL on allocation failure. */
wd_sha256 *wd_sha256_new(void);

/* Feeds length bytes. Returns false once anything has failed (the context then stays failed). */
bool wd_sha256_update(wd_sha256 *context, const void *data, size_t length);

/* Writes the 32-byte digest. Returns false when any step failed. The context cannot be fed
** afterwards. */
bool wd_sha256_final(wd_sha256 *context, unsigned char digest[32]);

void wd_sha256_free(wd_sha256 *context); /* NULL is a no-op */

#endif
