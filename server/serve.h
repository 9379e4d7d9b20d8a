/*
** serve.h — `warden serve`: an HTTP(S) decision service and gateway over the public API
** (include/warden.h), on libevent. One engine is shared by every worker thread; each worker
** has its own event base and evhttp, accepting on the same listening sockets.
**
** The server's state is one serve_server made by serve_main.c; handlers.c answers requests,
** gateway.c forwards permitted ones upstream, metrics.c counts, tls.c holds the TLS context.
*/
#ifndef WARDEN_SERVE_H
#define WARDEN_SERVE_H

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <warden.h>

#include "decision_log.h"
#include "metrics.h"

struct event_base;
struct event;
struct evhttp;
struct evhttp_bound_socket;
struct evhttp_request;
struct evhttp_connection;
struct evkeyvalq;
struct evbuffer;
struct bufferevent;

typedef struct serve_upstream {
    char     host[256];    /* as configured: the Host header */
    char     address[64];  /* host resolved once at start (numeric), so no lookup blocks a worker */
    uint16_t port;
    char     prefix[512];  /* path prefix put before the request's path ("" for none) */
} serve_upstream;

/* serve.pass_get: the GET (and HEAD) requests the gateway forwards without verifying. */
typedef enum serve_pass_get {
    SERVE_PASS_GET_NONE, /* refused: 405 */
    SERVE_PASS_GET_WSDL, /* only the service's metadata: ?wsdl, ?wsdl=..., ?xsd=..., ?singleWsdl */
    SERVE_PASS_GET_ALL
} serve_pass_get;

typedef struct serve_settings {
    char          **listen;          /* "host:port" entries, owned */
    size_t          listen_count;
    char            tls_cert[4096], tls_key[4096], tls_client_ca[4096]; /* "" when unset */
    bool            require_client_cert;
    bool            gateway;         /* serve.upstream set */
    serve_upstream  upstream;
    int             threads;
    int             read_ms, upstream_ms, drain_ms;
    int             request_ms;      /* a whole request, first byte to our handler (peers.c) */
    int             upstream_keepalive; /* idle upstream connections kept per worker (0: none) */
    serve_pass_get  pass_get;
    size_t          body_limit;      /* limits.message_bytes */
    char            replay_backend[16];
} serve_settings;

typedef struct serve_server serve_server;

typedef struct serve_worker {
    serve_server                *server;
    pthread_t                    thread;
    bool                         started;
    struct event_base           *base;
    struct evhttp               *http;
    struct evhttp_bound_socket **bound;       /* one per listening socket; NULL once stopped */
    size_t                       bound_count;
    struct event                *stop_event;  /* activated by the main thread on SIGTERM */
    struct event                *drain_timer;
    int64_t                      drain_deadline_ms;
    int                          in_flight;   /* requests handed to us whose answer is not yet written */
    bool                         replying;    /* inside serve_reply: writes are ours, not evhttp's */
    struct evhttp_connection   **upstream_idle; /* serve.upstream_keepalive slots: kept-alive, unused */
    size_t                       upstream_idle_count;
    struct serve_forward        *forwards;    /* requests in flight upstream (gateway.c) */
    bool                         closing;     /* evhttp_free is closing the remaining connections */
} serve_worker;

struct serve_server {
    warden_engine   *engine;
    serve_settings   settings;
    SSL_CTX         *tls;              /* NULL: plain HTTP */
    serve_metrics    metrics;
    serve_log        log;             /* started only with log.decisions */
    int64_t          started_at;
    int             *listeners;
    size_t           listener_count;
    serve_worker    *workers;
    size_t           worker_count;
};

/* The `warden serve` command: argv after the command word. Returns the exit code. */
int cli_serve(int argc, char **argv);

/* Installs the request handler on a worker's evhttp. */
void serve_handlers_install(serve_worker *worker);

/* Milliseconds of a monotonic clock. */
int64_t serve_monotonic_ms(void);

/* ---- gateway.c ---- */

/* The facts of an allowed decision forwarded upstream as x-warden-* headers. */
typedef struct serve_verdict {
    bool              allowed;
    const char       *stage;          /* "security" or "policy" */
    char              reason[48];
    char              detail[256];
    warden_message   *message;        /* owned; NULL when rejected */
    warden_decision  *decision;       /* owned; NULL when rejected */
    int               soap_version;   /* 11 or 12 */
} serve_verdict;

/* Adds x-warden-decision, -reason, -rules, -revision and, when allowed, -subject and
** -username to headers. */
void serve_add_verdict_headers(struct evkeyvalq *headers, const serve_verdict *verdict, const char *revision);

/* Answers a denied gateway request: 403 with a SOAP Fault of the request's version. */
void serve_gateway_deny(serve_worker *worker, struct evhttp_request *request, const serve_verdict *verdict);

/* Forwards an allowed request upstream and relays the answer (502/504 on upstream failure).
** The x-warden-* headers are made before it returns; the caller still owns verdict. With
** verdict NULL (serve_gateway_pass) no x-warden-* header is added. */
void serve_gateway_forward(serve_worker *worker, struct evhttp_request *request, serve_verdict *verdict,
                           const unsigned char *body, size_t length);

/* Forwards a GET or HEAD without a body upstream unverified (serve.pass_get): incoming
** x-warden-* headers are removed and none are added, so the application never takes it for a
** verified request. */
void serve_gateway_pass(serve_worker *worker, struct evhttp_request *request);

/* Whether a request of this client connection is being forwarded upstream: complete, and
** waiting for its answer (upstream_ms governs it, not request_ms). O(forwards in flight). */
bool serve_gateway_waiting(const serve_worker *worker, const struct evhttp_connection *connection);

/* Frees the worker's upstream connections, idle and in flight (at shutdown, after its loop). */
void serve_gateway_stop(serve_worker *worker);

/* Sends a reply and counts it. */
void serve_reply(serve_worker *worker, struct evhttp_request *request, int code, const char *reason,
                 struct evbuffer *body);

/* ---- peers.c ---- */

/* The evhttp_set_bevcb callback (arg: the serve_worker): the bufferevent of an accepted
** connection (TLS when serve.tls is set), watched so that the answers evhttp writes itself and
** the way the connection ends are counted (warden_http_connections_closed_total). */
struct bufferevent *serve_peer_bufferevent(struct event_base *base, void *worker);

/* ---- tls.c ---- */

/* A server TLS context from settings (certificate, key, client CA), or NULL with why in
** message. */
SSL_CTX *serve_tls_context(const serve_settings *settings, serve_metrics *metrics, char *message, size_t size);

/* The bufferevent callback that wraps each accepted connection in TLS (evhttp_set_bevcb). */
struct bufferevent *serve_tls_bufferevent(struct event_base *base, void *server);

/* The DER of the verified TLS peer certificate of request's connection: *der is malloc'd
** (caller frees) or NULL when there is none. */
void serve_tls_peer_cert(struct evhttp_request *request, unsigned char **der, size_t *length);

#endif
