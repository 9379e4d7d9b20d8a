/*
** tls.c — the server's TLS: one SSL_CTX (TLS 1.2 or later) made at start (conn.c makes an
** SSL of it per accepted connection and drives it on the socket), and the verified peer
** certificate of a connection. With tls.client_ca the peer must present a certificate that chains to it
** (unless require_client_cert is false, when one is verified if presented).
**
** Handshake failures are counted from the info callback: a fatal alert sent or received
** before the handshake finished (a client without an acceptable certificate, a client that
** distrusts us, a peer that does not speak TLS).
*/
#include "serve.h"

#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int metrics_index = -1; /* SSL_CTX ex_data slot of the serve_metrics (set once, before threads) */

static void info_callback(const SSL *ssl, int where, int value)
{
    if ((where & SSL_CB_ALERT) == 0 || SSL_is_init_finished(ssl))
        return;
    if (strcmp(SSL_alert_type_string(value), "F") != 0)
        return;
    serve_metrics *metrics = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), metrics_index);
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

SSL_CTX *serve_tls_context(const serve_settings *settings, serve_metrics *metrics, char *message, size_t size)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        snprintf(message, size, "cannot make a TLS context");
        return NULL;
    }
    if (metrics_index < 0)
        metrics_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    SSL_CTX_set_ex_data(ctx, metrics_index, metrics);
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
        int mode = SSL_VERIFY_PEER | (settings->require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
        SSL_CTX_set_verify(ctx, mode, NULL);
        SSL_CTX_set_verify_depth(ctx, 8);
        /* sessions are not resumed across the client-certificate requirement */
        static const unsigned char context_id[] = "warden-serve";
        SSL_CTX_set_session_id_context(ctx, context_id, sizeof context_id - 1);
    }
    return ctx;

failed:
    SSL_CTX_free(ctx);
    return NULL;
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
    /* only a certificate the handshake verified against tls.client_ca is a transport token */
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
