/*
** crl_status.h — what a certificate chain's revocation check may waive, shared by the engine's
** trust store (core/trust_store.c, message signers) and `warden serve`'s mutual TLS
** (server/tls.c, client certificates, which compiles this file in like json_text.c), so that a
** message signer and a TLS client are held to one revocation rule.
*/
#ifndef WD_CRL_STATUS_H
#define WD_CRL_STATUS_H

#include <openssl/x509_vfy.h>
#include <stdbool.h>

/* Whether an X509_V_ERR_* means "the revocation status cannot be established" (no CRL, a CRL
** that does not verify, has expired or is not yet valid...), as opposed to "revoked" or any
** other failure of the chain. */
bool wd_crl_status_unknown(int x509_error);

/* A verify callback for a store checked with X509_V_FLAG_CRL_CHECK_ALL: for the chain's top (the
** trust anchor) alone, an unknown revocation status is waived; every other failure stands.
** crl_status.c says why. */
int wd_crl_waive_anchor_status(int ok, X509_STORE_CTX *context);

#endif
