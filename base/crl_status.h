/*
** crl_status.h — CRL files and what a certificate chain's revocation check may waive, shared by
** the engine's trust store (core/trust_store.c, message signers) and `warden serve`'s mutual
** TLS (server/tls.c, client certificates, which compiles this file in like json_text.c), so that
** a message signer and a TLS client are held to one revocation rule and one CRL file format.
*/
#ifndef WD_CRL_STATUS_H
#define WD_CRL_STATUS_H

#include <openssl/x509_vfy.h>
#include <stdbool.h>
#include <stddef.h>

/* Whether an X509_V_ERR_* means "the revocation status cannot be established" (no CRL, a CRL
** that does not verify, has expired or is not yet valid...), as opposed to "revoked" or any
** other failure of the chain. */
bool wd_crl_status_unknown(int x509_error);

/* A verify callback for a store checked with X509_V_FLAG_CRL_CHECK_ALL: for the chain's top (the
** trust anchor) alone, an unknown revocation status is waived; every other failure stands.
** crl_status.c says why. */
int wd_crl_waive_anchor_status(int ok, X509_STORE_CTX *context);

/* The CRLs of a CRL file's bytes: one DER CRL filling them, or PEM "X509 CRL" blocks (at least
** one, none damaged). 0 with *out owned by the caller (sk_X509_CRL_pop_free); 1 when the bytes
** are no such file, with why (the reason, without the file's name) in why; -1 when memory runs
** out. Clears OpenSSL's error queue. */
int wd_crl_parse(const unsigned char *data, size_t length, STACK_OF(X509_CRL) **out, char *why, size_t why_size);

#endif
