/*
** crl_status.c — CRL files and the revocation check's waiver for trust anchors (crl_status.h).
*/
#include "crl_status.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>

int wd_crl_parse(const unsigned char *data, size_t length, STACK_OF(X509_CRL) **out, char *why, size_t why_size)
{
    int result = -1;
    BIO *bio = NULL;
    X509_CRL *crl = NULL;
    STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();

    *out = NULL;
    if (crls == NULL || length > INT_MAX)
        goto done;
    ERR_clear_error();
    if (length > 0 && data[0] == 0x30) {
        /* DER: one CRL (an ASN.1 SEQUENCE) filling the whole file */
        const unsigned char *cursor = data;
        crl = d2i_X509_CRL(NULL, &cursor, (long)length);
        if (crl == NULL || cursor != data + length) {
            snprintf(why, why_size, "not a valid DER or PEM CRL");
            result = 1;
            goto done;
        }
        if (sk_X509_CRL_push(crls, crl) <= 0)
            goto done;
        crl = NULL;
    } else {
        if ((bio = BIO_new_mem_buf(data, (int)length)) == NULL)
            goto done;
        while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
            if (sk_X509_CRL_push(crls, crl) <= 0)
                goto done;
            crl = NULL;
        }
        /* the end of the blocks is "no start line"; anything else is a damaged block */
        unsigned long error = ERR_peek_last_error();
        if (error != 0 && !(ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE)) {
            char reason[160];
            ERR_error_string_n(error, reason, sizeof reason);
            snprintf(why, why_size, "not a valid PEM CRL (%s)", reason);
            result = 1;
            goto done;
        }
    }
    if (sk_X509_CRL_num(crls) == 0) {
        snprintf(why, why_size, "no CRL in it (PEM \"X509 CRL\" blocks or one DER CRL)");
        result = 1;
        goto done;
    }
    *out = crls;
    crls = NULL;
    result = 0;
done:
    ERR_clear_error();
    X509_CRL_free(crl);
    sk_X509_CRL_pop_free(crls, X509_CRL_free);
    BIO_free(bio);
    return result;
}

bool wd_crl_status_unknown(int x509_error)
{
    switch (x509_error) {
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
        return true;
    default:
        return false;
    }
}

/* OpenSSL's CRL_CHECK_ALL asks for the revocation status of every member of the chain, the
** trust anchor included. But an anchor is trusted because the configuration says so, not
** because of a path (RFC 5280 leaves it out of path validation): a self-signed one has no
** issuer that could revoke it (a root CA, a partner's pinned certificate), and for one that
** is not self-signed OpenSSL cannot verify its issuer's CRL, the issuer being outside the
** chain. So for the anchor alone an unknown status is waived; it is revoked by removing it
** from trust. A CRL that does list the anchor still rejects it, and every certificate an anchor
** issued still needs a current CRL. The chain's top is the anchor: revocation is checked only
** once the chain is trusted. */
int wd_crl_waive_anchor_status(int ok, X509_STORE_CTX *context)
{
    if (ok || !wd_crl_status_unknown(X509_STORE_CTX_get_error(context)))
        return ok;
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(context);
    if (chain == NULL || X509_STORE_CTX_get_error_depth(context) != sk_X509_num(chain) - 1)
        return ok;
    X509_STORE_CTX_set_error(context, X509_V_OK);
    return 1;
}
