/*
** serve.h — `warden serve`: an HTTP(S) decision service and gateway over the public API
** (include/warden.h), on libevent. One engine is shared by every worker thread; each worker
** has its own event base, accepting on the same listening sockets.
**
** The server's state is one serve_server made by serve_main.c; conn.c serves each client
** connection's HTTP (conn.h), handlers.c answers requests, gateway.c forwards permitted ones
** upstream (as an evhttp client), metrics.c counts, tls.c holds the TLS context (replaced by
** SIGHUP).
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

#include "conn.h"
#include "decision_log.h"
#include "metrics.h"

struct event_base;
struct event;
struct evconnlistener;
struct evhttp_connection;
struct evbuffer;

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
    char          **tls_crls;        /* serve.tls.crls paths, owned */
    size_t          tls_crl_count;
    bool            require_client_cert;
    bool            gateway;         /* serve.upstream set */
    serve_upstream  upstream;
    int             threads;
    int             read_ms, upstream_ms, drain_ms;
    int             request_ms;      /* a whole request, first byte to our handler; an answer's delivery (conn.c) */
    int             upstream_keepalive; /* idle upstream connections kept per worker (0: none) */
    serve_pass_get  pass_get;
    size_t          body_limit;      /* limits.message_bytes */
    char            replay_backend[16];
} serve_settings;

typedef struct serve_server serve_server;

/* The TLS context new connections get. The main thread replaces it on SIGHUP while workers
** accept: ctx is read and swapped only under lock, and each SSL made of it holds its own
** reference, so a context is freed when neither this nor any connection uses it. */
typedef struct serve_tls {
    pthread_mutex_t lock;    /* guards ctx */
    SSL_CTX        *ctx;     /* our reference to the current context; NULL before the start */
    bool            enabled; /* HTTPS: set once before the workers start, constant after */
} serve_tls;

struct serve_worker {
    serve_server                *server;
    pthread_t                    thread;
    bool                         started;
    struct event_base           *base;
    struct evconnlistener      **listeners;   /* one per listening socket; NULL once stopped */
    size_t                       listener_count;
    serve_conn                  *conns;       /* the client connections (conn.c) */
    serve_conn                  *to_flush;    /* answers made this loop turn, written at its end (conn.c) */
    struct event                *stop_event;  /* activated by the main thread on SIGTERM */
    struct event                *drain_timer;
    struct event                *accept_resume; /* accepting paused after a failed accept (conn.c) */
    bool                         accept_failing; /* said on stderr; reset by the next accept */
    int64_t                      drain_deadline_ms;
    bool                         draining;
    int                          in_flight;   /* requests handed to a handler and not yet answered */
    char                         date[40];    /* the Date header of this second */
    int64_t                      date_at;
    struct evhttp_connection   **upstream_idle; /* serve.upstream_keepalive slots: kept-alive, unused */
    size_t                       upstream_idle_count;
    struct serve_forward        *forwards;    /* requests in flight upstream (gateway.c) */
    struct serve_forward        *reaping;     /* finished, their upstream connection freed next turn */
};

struct serve_server {
    warden_engine   *engine;
    serve_settings   settings;
    serve_tls        tls;              /* tls.enabled false: plain HTTP */
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

/* Answers a complete request (conn.c hands each one over): before it returns, or later
** through serve_request_defer (the gateway). */
void serve_handle(serve_request *request);

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

/* Whether name is one of ours in any spelling an application could read as ours: letter case
** aside, CGI and WSGI servers (and many frameworks) turn '-' into '_', so X_Warden_Subject
** arrives as HTTP_X_WARDEN_SUBJECT exactly like x-warden-subject. */
bool serve_is_warden_header(const char *name);

/* Adds x-warden-decision, -reason, -rules, -revision and, when allowed, -subject, -username
** and -saml-subject when known, through add (a request's answer or an upstream request's
** headers). */
void serve_add_verdict_headers(void (*add)(void *target, const char *name, const char *value), void *target,
                               const serve_verdict *verdict, const char *revision);

/* Answers a denied gateway request: 403 with a SOAP Fault of the request's version. */
void serve_gateway_deny(serve_request *request, const serve_verdict *verdict);

/* Forwards an allowed request upstream and relays the answer later (502/504 on upstream
** failure). The x-warden-* headers are made before it returns; the caller still owns verdict.
** With verdict NULL (serve_gateway_pass) no x-warden-* header is added. */
void serve_gateway_forward(serve_request *request, serve_verdict *verdict, const unsigned char *body, size_t length);

/* Forwards a GET or HEAD without a body upstream unverified (serve.pass_get): incoming
** x-warden-* headers are removed and none are added, so the application never takes it for a
** verified request. */
void serve_gateway_pass(serve_request *request);

/* The client of a forward has gone: its answer, when it comes, is dropped (conn.c). */
void serve_gateway_cancel(struct serve_forward *forward);

/* Frees the worker's upstream connections, idle and in flight (at shutdown, after its loop). */
void serve_gateway_stop(serve_worker *worker);

/* ---- soap_headers.c ---- */

#define SERVE_ACTION_LIMIT 1024 /* an HTTP-level action this long or longer is refused */

/* The HTTP-level SOAP action of a request: its SOAPAction (quotes removed), else the action
** parameter of its Content-Type (either may be NULL), written to out ("" when there is none;
** out may be NULL to check only). False when the two headers could be read another way by the
** application: quotes or a blank inside a SOAPAction, an unquoted comma, a Content-Type whose
** parameters do not parse, a backslash escape, the action parameter twice, a SOAPAction and an
** action parameter that differ, an action of SERVE_ACTION_LIMIT bytes or more. */
bool serve_http_action(const char *soap_action, const char *content_type, char out[SERVE_ACTION_LIMIT]);

/* Whether a Content-Type (NULL or "" when there is none) says the body is one XML document:
** text/xml, application/soap+xml, application/xml. Anything else (multipart/related, MTOM's
** or SwA's) an application reads otherwise than as the document Warden judges. */
bool serve_content_type_is_xml(const char *content_type);

/* Whether a Content-Type (NULL when there is none) says SOAP 1.2: application/soap+xml. */
bool serve_content_type_is_soap12(const char *content_type);

/* Whether the charset parameter of a Content-Type (when it has one) names the encoding the body
** is in by its own account (a byte-order mark, the XML declaration, else UTF-8): an application
** that decodes by the charset (as RFC 7303 has it) would read other text than Warden judged. */
bool serve_charset_agrees(const char *content_type, const unsigned char *body, size_t length);

/* Whether a comma-separated list (a Connection header's value) names name, in any letter case. */
bool serve_list_names(const char *list, const char *name);

/* ---- tls.c ---- */

/* An empty holder (plain HTTP until serve_tls_start); serve_tls_destroy frees it. */
void serve_tls_init(serve_tls *tls);

/* Makes the first context from settings (certificate, key, client CA, CRLs, read now), before
** the workers start; handshake failures are counted in metrics. 0, or -1 with why in message. */
int serve_tls_start(serve_tls *tls, const serve_settings *settings, serve_metrics *metrics, char *message,
                    size_t size);

/* Makes a new context from the same settings, the files read again, and swaps it in for the
** connections accepted from then on (open ones keep theirs); counted in metrics->tls_reloads.
** On failure the current context stays and -1 says why in message. Main thread; safe while the
** workers accept. */
int serve_tls_reload(serve_tls *tls, const serve_settings *settings, serve_metrics *metrics, char *message,
                     size_t size);

/* A server-side TLS session of the current context for one accepted connection (caller
** frees), or NULL. Any thread. */
SSL *serve_tls_session(serve_tls *tls);

/* Drops our reference to the context (after the workers have ended) and the lock. */
void serve_tls_destroy(serve_tls *tls);

/* The DER of the verified TLS peer certificate of a connection (ssl NULL: plain HTTP): *der is
** malloc'd (caller frees) or NULL when there is none. */
void serve_tls_peer_cert(SSL *ssl, unsigned char **der, size_t *length);

#endif
