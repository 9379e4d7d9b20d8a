/*
** tls.c — the server's TLS: the SSL_CTX (TLS 1.2 or later) new connections get (conn.c makes an
** SSL of it per accepted connection and drives it on the socket), made at start and made again
** from the same files on SIGHUP, and the verified peer certificate of a connection. With
** tls.client_ca the peer must present a certificate that chains to it (unless
** require_client_cert is false, when one is verified if presented); with tls.crls every
** certificate of the client's chain must also have a current CRL of its issuer that does not
** list it, as the engine checks message signers (docs/operations.md, Trust, signers and
** revocation): fail closed.
**
** A reload builds a whole new context and swaps it in under a lock; an SSL holds its own
** reference to the context it was made from, so connections already open keep theirs and the
** old context is freed with the last of them. A reload that fails changes nothing.
**
** Handshake failures are counted from the info callback: a fatal alert sent or received
** before the handshake finished (a client without an acceptable certificate, a revoked one, a
** client that distrusts us, a peer that does not speak TLS).
*/
#include "serve.h"

#include <assert.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crl_status.h"
#include "file_text.h"

#define CRL_FILE_LIMIT (64 << 20) /* a CRL file larger than this is refused, not read */

static void info_callback(const SSL *ssl, int where, int value)
{
    if ((where & SSL_CB_ALERT) == 0 || SSL_is_init_finished(ssl))
        return;
    if (strcmp(SSL_alert_type_string(value), "F") != 0)
        return;
    serve_metrics *metrics = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    /* a fatal alert is sent or read once per failed connection; count ours (write) or theirs (read) */
    if (metrics != NULL)
        atomic_fetch_add(&metrics->tls_handshake_failures, 1);
}

static void openssl_error(char *message, size_t size, const char *what, const char *path)
{
    unsigned long code = ERR_get_error();
    char text[160] = "";
    if (code != 0)
        ERR_error_string_n(code, text, sizeof text);
    snprintf(message, size, "%s %s: %s", what, path, code != 0 ? text : "failed");
    ERR_clear_error();
}

/* ---- revocation ----------------------------------------------------------------------- */

/* The CRLs of one tls.crls file, in the format the engine's crls read (wd_crl_parse): one DER
** CRL filling it, or PEM "X509 CRL" blocks (at least one, and no damaged block). NULL with why
** in message. */
static STACK_OF(X509_CRL) *load_crls(const char *path, char *message, size_t size)
{
    char *data = NULL;
    size_t length = 0;
    STACK_OF(X509_CRL) *crls = NULL;
    char why[200];

    switch (wd_file_read(path, CRL_FILE_LIMIT, 0, &data, &length)) {
    case WD_FILE_OK:
        break;
    case WD_FILE_TOO_LARGE:
        snprintf(message, size, "serve.tls.crls: %s: larger than %d MiB", path, CRL_FILE_LIMIT >> 20);
        return NULL;
    case WD_FILE_NOMEM:
        snprintf(message, size, "serve.tls.crls: %s: out of memory", path);
        return NULL;
    default:
        snprintf(message, size, "serve.tls.crls: cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    switch (wd_crl_parse((const unsigned char *)data, length, &crls, why, sizeof why)) {
    case 0:
        break;
    case 1:
        snprintf(message, size, "serve.tls.crls: %s: %s", path, why);
        break;
    default:
        snprintf(message, size, "serve.tls.crls: %s: out of memory", path);
    }
    free(data);
    return crls;
}

/* A CRL whose issuer is a CA of tls.client_ca must verify with its key: a damaged or forged CRL
** file is a configuration error, as for the engine. A CRL of another CA (an intermediate the
** clients send) is kept; OpenSSL checks its signature when it uses it. */
static bool crl_signature_holds(X509_STORE *store, X509_CRL *crl)
{
    bool named = false;
    STACK_OF(X509_OBJECT) *objects = X509_STORE_get0_objects(store);
    for (int i = 0; i < sk_X509_OBJECT_num(objects); i++) {
        X509 *issuer = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i));
        if (issuer == NULL || X509_NAME_cmp(X509_get_subject_name(issuer), X509_CRL_get_issuer(crl)) != 0)
            continue;
        EVP_PKEY *key = X509_get0_pubkey(issuer);
        if (key != NULL && X509_CRL_verify(crl, key) == 1)
            return true;
        named = true;
    }
    ERR_clear_error();
    return !named;
}

/* Adds the CRLs of every tls.crls file to the context's store, each file whole or not at all,
** and turns revocation checking on for the whole chain. */
static int add_crls(SSL_CTX *ctx, const serve_settings *settings, char *message, size_t size)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    for (size_t i = 0; i < settings->tls_crl_count; i++) {
        const char *path = settings->tls_crls[i];
        STACK_OF(X509_CRL) *crls = load_crls(path, message, size);
        if (crls == NULL)
            return -1;
        int result = 0;
        for (int j = 0; j < sk_X509_CRL_num(crls) && result == 0; j++) {
            if (!crl_signature_holds(store, sk_X509_CRL_value(crls, j))) {
                snprintf(message, size, "serve.tls.crls: %s: a CRL of a client_ca CA does not verify with its key",
                         path);
                result = -1;
            }
        }
        for (int j = 0; j < sk_X509_CRL_num(crls) && result == 0; j++) {
            if (X509_STORE_add_crl(store, sk_X509_CRL_value(crls, j)) != 1) {
                openssl_error(message, size, "serve.tls.crls: cannot add a CRL of", path);
                result = -1;
            }
        }
        sk_X509_CRL_pop_free(crls, X509_CRL_free); /* the store holds its own references */
        if (result != 0)
            return -1;
    }
    if (settings->tls_crl_count > 0) {
        X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    }
    ERR_clear_error();
    return 0;
}

/* ---- the context ---------------------------------------------------------------------- */

/* A server TLS context from settings, read from the files now; NULL with why in message. */
static SSL_CTX *make_context(const serve_settings *settings, serve_metrics *metrics, char *message, size_t size)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        snprintf(message, size, "cannot make a TLS context");
        return NULL;
    }
    SSL_CTX_set_app_data(ctx, metrics);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_info_callback(ctx, info_callback);
    /* a record is read in one read(2) with what follows it, not header then body */
    SSL_CTX_set_read_ahead(ctx, 1);
    if (SSL_CTX_use_certificate_chain_file(ctx, settings->tls_cert) != 1) {
        openssl_error(message, size, "serve.tls.cert: cannot use", settings->tls_cert);
        goto failed;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, settings->tls_key, SSL_FILETYPE_PEM) != 1
        || SSL_CTX_check_private_key(ctx) != 1) {
        openssl_error(message, size, "serve.tls.key: cannot use", settings->tls_key);
        goto failed;
    }
    if (settings->tls_client_ca[0] != '\0') {
        if (SSL_CTX_load_verify_locations(ctx, settings->tls_client_ca, NULL) != 1) {
            openssl_error(message, size, "serve.tls.client_ca: cannot read", settings->tls_client_ca);
            goto failed;
        }
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(settings->tls_client_ca);
        if (names != NULL)
            SSL_CTX_set_client_CA_list(ctx, names);
        if (add_crls(ctx, settings, message, size) != 0)
            goto failed;
        int mode = SSL_VERIFY_PEER | (settings->require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
        SSL_CTX_set_verify(ctx, mode, settings->tls_crl_count > 0 ? wd_crl_waive_anchor_status : NULL);
        SSL_CTX_set_verify_depth(ctx, 8);
        /* sessions are not resumed across the client-certificate requirement */
        static const unsigned char context_id[] = "warden-serve";
        SSL_CTX_set_session_id_context(ctx, context_id, sizeof context_id - 1);
    }
    ERR_clear_error();
    return ctx;

failed:
    SSL_CTX_free(ctx);
    return NULL;
}

void serve_tls_init(serve_tls *tls)
{
    memset(tls, 0, sizeof *tls);
    pthread_mutex_init(&tls->lock, NULL);
}

int serve_tls_start(serve_tls *tls, const serve_settings *settings, serve_metrics *metrics, char *message,
                    size_t size)
{
    assert(tls->ctx == NULL);
    tls->ctx = make_context(settings, metrics, message, size);
    tls->enabled = tls->ctx != NULL;
    return tls->enabled ? 0 : -1;
}

int serve_tls_reload(serve_tls *tls, const serve_settings *settings, serve_metrics *metrics, char *message,
                     size_t size)
{
    assert(tls->enabled);
    SSL_CTX *fresh = make_context(settings, metrics, message, size);
    if (fresh == NULL) {
        atomic_fetch_add(&metrics->tls_reloads[SERVE_RELOAD_FAILURE], 1);
        return -1;
    }
    pthread_mutex_lock(&tls->lock);
    SSL_CTX *old = tls->ctx;
    tls->ctx = fresh;
    pthread_mutex_unlock(&tls->lock);
    /* our reference only: the connections made of it hold theirs */
    SSL_CTX_free(old);
    atomic_fetch_add(&metrics->tls_reloads[SERVE_RELOAD_SUCCESS], 1);
    return 0;
}

SSL *serve_tls_session(serve_tls *tls)
{
    assert(tls->enabled);
    /* a reference taken under the lock keeps the context alive through SSL_new, which takes its
    ** own, even if a reload swaps it out meanwhile; SSL_new itself stays outside the lock */
    pthread_mutex_lock(&tls->lock);
    SSL_CTX *ctx = tls->ctx;
    int referenced = SSL_CTX_up_ref(ctx);
    pthread_mutex_unlock(&tls->lock);
    if (referenced != 1)
        return NULL;
    SSL *ssl = SSL_new(ctx);
    SSL_CTX_free(ctx);
    return ssl;
}

void serve_tls_destroy(serve_tls *tls)
{
    SSL_CTX_free(tls->ctx); /* NULL-safe */
    tls->ctx = NULL;
    pthread_mutex_destroy(&tls->lock);
}

void serve_tls_peer_cert(SSL *ssl, unsigned char **der, size_t *length)
{
    *der = NULL;
    *length = 0;
    if (ssl == NULL)
        return;
    X509 *peer = SSL_get1_peer_certificate(ssl);
    if (peer == NULL)
        return;
    /* only a certificate the handshake verified against tls.client_ca (and tls.crls) is a
    ** transport token */
    if (SSL_get_verify_result(ssl) == X509_V_OK) {
        unsigned char *buffer = NULL;
        int n = i2d_X509(peer, &buffer);
        if (n > 0) {
            *der = malloc((size_t)n);
            if (*der != NULL) {
                memcpy(*der, buffer, (size_t)n);
                *length = (size_t)n;
            }
        }
        OPENSSL_free(buffer);
    }
    X509_free(peer);
}
