/*
** digest.c — SHA-256 in pieces over OpenSSL EVP, behind an opaque context.
*/
#include "digest.h"

#include <openssl/evp.h>
#include <stdlib.h>

struct wd_sha256 {
    EVP_MD_CTX *md;
    bool        ok;
};

wd_sha256 *wd_sha256_new(void)
{
    wd_sha256 *context = malloc(sizeof *context);
    if (context == NULL)
        return NULL;
    context->md = EVP_MD_CTX_new();
    context->ok = context->md != NULL && EVP_DigestInit_ex(context->md, EVP_sha256(), NULL) == 1;
    if (context->md == NULL) {
        free(context);
        return NULL;
    }
    return context;
}

bool wd_sha256_update(wd_sha256 *context, const void *data, size_t length)
{
    if (context->ok && length > 0 && EVP_DigestUpdate(context->md, data, length) != 1)
        context->ok = false;
    return context->ok;
}

bool wd_sha256_final(wd_sha256 *context, unsigned char digest[32])
{
    unsigned int length = 0;
    if (context->ok && (EVP_DigestFinal_ex(context->md, digest, &length) != 1 || length != 32))
        context->ok = false;
    bool ok = context->ok;
    context->ok = false;
    return ok;
}

void wd_sha256_free(wd_sha256 *context)
{
    if (context == NULL)
        return;
    EVP_MD_CTX_free(context->md);
    free(context);
}
