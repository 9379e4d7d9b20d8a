/*
** crl_status.c — the revocation check's waiver for trust anchors (crl_status.h).
*/
#include "crl_status.h"

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
