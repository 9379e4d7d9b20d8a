/*
** seeds.h — the signed messages the message targets start from, made with the repository's
** test signer over the test PKI (whose keys are made fresh by tests/support/make_pki.sh, so
** signed seeds cannot be checked in). Every message carries the Timestamp window
** 2026-11-25T12:00:00Z..12:05:00Z, valid at fz_now(). The RSA variants are deterministic
** (PKCS#1 v1.5), so the xsw target can remake the very originals of its corpus in memory.
*/
#ifndef FZ_SEEDS_H
#define FZ_SEEDS_H

#include <stdbool.h>
#include <stddef.h>

#define FZ_SEED_CREATED "2026-11-25T12:00:00Z"
#define FZ_SEED_EXPIRES "2026-11-25T12:05:00Z"

typedef struct fz_seed {
    char       *bytes;        /* malloc'd, owned */
    size_t      length;
    const char *name;         /* static: a file name for the corpus folder */
    bool        deterministic; /* RSA-signed: the same bytes every time for one PKI */
    const char *cert_name;    /* the signer's certificate in the PKI folder, or NULL */
    const char *const *ids;   /* the wsu:Ids it signs (static), or NULL */
    size_t      id_count;
    const char *inclusive_prefixes; /* the PrefixList of each Reference's exc-c14n, or NULL */
} fz_seed;

/* Makes every signed seed (and a few unsigned ones) into *out (malloc'd array of *count;
** free with fz_seeds_free). Aborts when the signer fails. */
void fz_seeds_make(fz_seed **out, size_t *count);

void fz_seeds_free(fz_seed *seeds, size_t count);

#endif
