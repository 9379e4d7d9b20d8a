/*
** peers.c — one serve_peer per accepted connection, so that what libevent's evhttp does on its
** own is counted too: the 400, 413 and 501 answers it writes without calling our handler
** (malformed HTTP, a body or headers over the limits, an unknown method) and the connections
** it closes without an answer (a read timeout, a client gone mid-request, a failed TLS
** handshake).
**
** evhttp (libevent 2.1) gives a server no hook on a request before its handler runs, and its
** request error callbacks fire for outgoing requests only. What it does give is the
** bufferevent of each connection (evhttp_set_bevcb, used here for plain and TLS connections
** alike) and a close callback on a connection (evhttp_connection_set_closecb). So:
** - two evbuffer callbacks watch the connection's plaintext: bytes read from the client, and
**   bytes written to it. A write while this worker is not inside serve_reply is an answer
**   evhttp wrote itself; its status line is read where it was added.
** - the evhttp_connection is the bufferevent's callback argument once evhttp has set it up;
**   a callback activated from the bevcb runs right after the accept (before any I/O on the new
**   socket can be seen) and sets the close callback there. Until then the peer holds a
**   reference on the bufferevent, so it can tell whether evhttp freed it in between.
** - at close, what was seen decides why: evhttp's own answer, an unfinished TLS handshake,
**   bytes of a request not yet complete, an answer not yet delivered, and whether the client
**   had already gone (a peek at the socket: end of stream or reset) or evhttp gave up on it.
** - evhttp's read timeout is an idle timeout, renewed by every byte. A whole-request deadline
**   (serve.timeouts.request_ms) is this file's timer: armed by the first byte of a request,
**   re-armed for a pipelined one when an answer is written, and spent when it fires on a
**   request that reached our handler (only a gateway request waiting upstream can be there
**   then: every other handler answers before it returns). A request still incomplete then
**   closes the connection.
*/
#include "serve.h"

#include <assert.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef struct serve_peer {
    serve_worker             *worker;
    struct bufferevent       *bev;
    struct evhttp_connection *connection; /* set by peer_link; NULL before */
    struct event             *deadline;  /* request_ms from a request's first byte */
    bool                      expired;   /* the deadline closed the connection */
    struct evbuffer_cb_entry *input_watch, *output_watch;
    uint64_t                  received;  /* plaintext bytes read from the client */
    uint64_t                  boundary;  /* received at the end of the last request we answered */
    bool                      answered;  /* we wrote at least one answer on this connection */
    int                       evhttp_code; /* status of an answer evhttp wrote itself, 0 if none */
    bool                      refuse;    /* a TLS port whose TLS could not be set up: close at once */
} serve_peer;

static void arm_deadline(serve_peer *peer)
{
    int ms = peer->worker->server->settings.request_ms;
    struct timeval deadline = { ms / 1000, (ms % 1000) * 1000 };
    evtimer_add(peer->deadline, &deadline);
}

static void watch_input(struct evbuffer *buffer, const struct evbuffer_cb_info *info, void *arg)
{
    serve_peer *peer = arg;
    (void)buffer;
    peer->received += info->n_added;
    if (info->n_added > 0 && peer->received > peer->boundary && !evtimer_pending(peer->deadline, NULL))
        arm_deadline(peer);
}

/* The status code at the start of an answer's first line ("HTTP/1.1 413 ..."), or 0. */
static int status_code_at(struct evbuffer *buffer, size_t offset)
{
    struct evbuffer_ptr at;
    char line[16];
    if (evbuffer_ptr_set(buffer, &at, offset, EVBUFFER_PTR_SET) != 0)
        return 0;
    ev_ssize_t n = evbuffer_copyout_from(buffer, &at, line, sizeof line - 1);
    if (n < 12 || memcmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ')
        return 0;
    int code = 0;
    for (int i = 9; i < 12; i++) {
        if (line[i] < '0' || line[i] > '9')
            return 0;
        code = code * 10 + (line[i] - '0');
    }
    return code;
}

static void watch_output(struct evbuffer *buffer, const struct evbuffer_cb_info *info, void *arg)
{
    serve_peer *peer = arg;
    if (info->n_added == 0)
        return;
    if (peer->worker->replying) {
        /* evhttp had read the whole request before handing it to us: what is still in the
        ** input buffer belongs to the next one */
        peer->answered = true;
        peer->boundary = peer->received - evbuffer_get_length(bufferevent_get_input(peer->bev));
        if (peer->received > peer->boundary)
            arm_deadline(peer); /* a pipelined request: evhttp reads it from now on */
        else
            evtimer_del(peer->deadline);
        return;
    }
    /* evhttp's own answer (evhttp_send_error) starts with its status line, added alone;
    ** 100 Continue is not an answer */
    int code = status_code_at(buffer, info->orig_size);
    if (code >= 200 && peer->evhttp_code == 0) {
        peer->evhttp_code = code;
        serve_metrics_http(&peer->worker->server->metrics, code);
    }
}

/* Whether the client has closed or reset its end: a peek that sees end of stream or an error. */
static bool client_gone(evutil_socket_t fd)
{
    char c;
    if (fd < 0)
        return true;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static serve_close_why why_closed(const serve_peer *peer)
{
    if (peer->refuse)
        return SERVE_CLOSE_TLS_HANDSHAKE;
    if (peer->worker->closing)
        return SERVE_CLOSE_SHUTDOWN;
    if (peer->expired)
        return SERVE_CLOSE_REQUEST_TIMEOUT;
    SSL *ssl = bufferevent_openssl_get_ssl(peer->bev);
    /* The handshake completed once the client's Finished was verified (SSL_is_init_finished
    ** cannot tell: an unexpected end of stream puts the connection back "in init"). A peer
    ** that connected and sent nothing has not failed a handshake. */
    unsigned char finished[EVP_MAX_MD_SIZE];
    if (ssl != NULL && SSL_get_peer_finished(ssl, finished, sizeof finished) == 0 && SSL_get_rbio(ssl) != NULL
        && BIO_number_read(SSL_get_rbio(ssl)) > 0)
        return SERVE_CLOSE_TLS_HANDSHAKE;
    if (peer->evhttp_code == 413)
        return SERVE_CLOSE_TOO_LARGE;
    if (peer->evhttp_code == 501)
        return SERVE_CLOSE_METHOD;
    if (peer->evhttp_code != 0)
        return SERVE_CLOSE_MALFORMED;
    bool partial = peer->received > peer->boundary;
    bool undelivered = evbuffer_get_length(bufferevent_get_output(peer->bev)) > 0;
    if (client_gone(bufferevent_getfd(peer->bev)))
        return partial || undelivered ? SERVE_CLOSE_CLIENT_CLOSED : SERVE_CLOSE_DONE;
    /* the client is still there: evhttp gave up on it (timeouts.read_ms) */
    if (undelivered)
        return SERVE_CLOSE_WRITE_TIMEOUT;
    return partial || !peer->answered ? SERVE_CLOSE_READ_TIMEOUT : SERVE_CLOSE_DONE;
}

static void peer_free(serve_peer *peer)
{
    event_free(peer->deadline); /* may be inside its own callback (request_expired): it is not pending */
    evbuffer_remove_cb_entry(bufferevent_get_input(peer->bev), peer->input_watch);
    evbuffer_remove_cb_entry(bufferevent_get_output(peer->bev), peer->output_watch);
    free(peer);
}

/* evhttp is freeing the connection; its bufferevent and socket are still open. */
static void peer_closed(struct evhttp_connection *connection, void *arg)
{
    serve_peer *peer = arg;
    (void)connection;
    serve_metrics_closed(&peer->worker->server->metrics, why_closed(peer));
    peer_free(peer);
}

/* request_ms after a request's first byte. A request still incomplete closes the connection
** (peer_closed counts it and frees the peer, this timer included); one waiting upstream is
** complete and left to upstream_ms; an answer not yet taken is left to read_ms (the write side). */
static void request_expired(evutil_socket_t fd, short what, void *arg)
{
    serve_peer *peer = arg;
    (void)fd;
    (void)what;
    if (peer->connection == NULL || peer->received <= peer->boundary)
        return;
    if (serve_gateway_waiting(peer->worker, peer->connection)
        || evbuffer_get_length(bufferevent_get_output(peer->bev)) > 0)
        return;
    peer->expired = true;
    evhttp_connection_free(peer->connection);
}

/* Right after the accept: evhttp has made the connection around our bufferevent. */
static void peer_link(evutil_socket_t fd, short what, void *arg)
{
    serve_peer *peer = arg;
    struct bufferevent *bev = peer->bev;
    void *connection = NULL;
    (void)fd;
    (void)what;
    bufferevent_getcb(bev, NULL, NULL, NULL, &connection);
    if (connection != NULL) {
        peer->connection = connection;
        evhttp_connection_set_closecb(connection, peer_closed, peer);
        if (peer->refuse)
            evhttp_connection_free(connection); /* nothing was read from it yet */
    } else {
        peer_free(peer); /* evhttp could not take the connection and freed it already */
    }
    bufferevent_decref(bev);
}

struct bufferevent *serve_peer_bufferevent(struct event_base *base, void *arg)
{
    serve_worker *worker = arg;
    serve_peer *peer = calloc(1, sizeof *peer);
    struct bufferevent *bev = NULL;
    if (worker->server->tls != NULL)
        bev = serve_tls_bufferevent(base, worker->server);
    if (bev == NULL && peer != NULL) {
        /* fail closed: a plain bufferevent (evhttp's own choice when we return none) would
        ** serve plain HTTP on the TLS port; this one is closed before anything is read */
        peer->refuse = worker->server->tls != NULL;
        bev = bufferevent_socket_new(base, -1, 0);
    }
    if (bev == NULL || peer == NULL)
        goto uncounted;
    peer->worker = worker;
    peer->bev = bev;
    peer->deadline = evtimer_new(base, request_expired, peer);
    if (peer->deadline == NULL)
        goto uncounted;
    peer->input_watch = evbuffer_add_cb(bufferevent_get_input(bev), watch_input, peer);
    peer->output_watch = evbuffer_add_cb(bufferevent_get_output(bev), watch_output, peer);
    if (peer->input_watch == NULL || peer->output_watch == NULL)
        goto uncounted;
    bufferevent_incref(bev); /* until peer_link has looked */
    if (event_base_once(base, -1, EV_TIMEOUT, peer_link, peer, NULL) != 0) {
        bufferevent_decref(bev);
        goto uncounted;
    }
    return bev;

uncounted:
    /* out of memory: the connection is served, but not counted */
    if (peer != NULL && bev != NULL) {
        if (peer->input_watch != NULL)
            evbuffer_remove_cb_entry(bufferevent_get_input(bev), peer->input_watch);
        if (peer->output_watch != NULL)
            evbuffer_remove_cb_entry(bufferevent_get_output(bev), peer->output_watch);
    }
    if (peer != NULL && peer->deadline != NULL)
        event_free(peer->deadline);
    if (peer != NULL && peer->refuse) {
        bufferevent_free(bev);
        bev = NULL;
    }
    free(peer);
    return bev;
}
