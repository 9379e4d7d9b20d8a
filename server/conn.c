/*
** conn.c — one serve_conn per accepted client connection: its socket (and TLS session), a
** persistent read event, a write event armed only when a write would block, the read buffer
** the request is parsed from (http-parser), the output buffer, and one timer for its deadlines.
** It answers itself what never reaches a handler (400 malformed or hostile framing, 413 a body
** over limits.message_bytes, 431 headers over 64 KiB, 501 a method not served, 417 an unknown
** expectation) and counts why each connection ended (warden_http_connections_closed_total).
**
** Costs per request in the steady state: one read (the buffer holds a whole request), one
** write, no epoll change (the read event stays armed, the timer is re-armed only when a
** deadline it holds has passed). The answers made while a loop turn reads are written together
** at the turn's end (serve_conn_flush_answers, as Redis writes its replies before it sleeps):
** on loopback a write does the client's receive path and wakes the client, and a client woken
** once for the turn's answers costs the worker one cross-CPU wakeup instead of one per answer
** (bench/serve.sh: about 6 us less per request at -c8; a turn with one answer is unchanged).
**
** Deadlines (serve.timeouts): read_ms of silence while the connection waits for bytes (the
** first request, the rest of one, or the next one on a kept-alive connection); request_ms from
** a request's first byte until it is complete (a request answered later, the gateway's, is
** then governed by upstream_ms); request_ms for the output to be taken by the client once it
** holds an answer; request_ms from the accept for a TLS handshake.
**
** The request itself is parsed by request.c into the same structure (conn_state.h).
*/
#include "conn_state.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <http_parser.h>
#include <limits.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_ROOM     16384 /* room offered to one read (a body in progress gets room for all of it) */
#define TLS_RECORD    16384 /* the most plaintext one TLS record carries */
#define OUT_HIGH      (1 << 20) /* answers not yet taken: no further request is parsed past this */

static void conn_close(serve_conn *c, serve_close_why why);
static void conn_flush(serve_conn *c);
static void conn_process(serve_conn *c);
static void leave(serve_conn *c);

/* ---- answering ------------------------------------------------------------------------ */

static void head_add(serve_conn *c, const char *text, size_t length)
{
    if (serve_grow(&c->answer_head, &c->answer_head_capacity, c->answer_head_length + length) == 0) {
        memcpy(c->answer_head + c->answer_head_length, text, length);
        c->answer_head_length += length;
    }
}

/* An answer the connection writes itself (no handler saw the request), then closes. */
static void conn_fail(serve_conn *c, int code, serve_close_why why)
{
    const char *reason = http_status_str((enum http_status)code);
    char text[160];
    int length = snprintf(text, sizeof text, "%d %s\n", code, reason);
    serve_metrics_http(&c->worker->server->metrics, code);
    evbuffer_add_printf(c->out,
                        "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                        "Connection: close\r\n\r\n%s",
                        code, reason, length, text);
    if (c->write_ms == 0)
        c->write_ms = serve_monotonic_ms();
    c->close_after = true;
    c->close_why = why;
    if (c->reading) {
        event_del(c->read_event); /* nothing more is read from it */
        c->reading = false;
    }
}

/* Hands the complete request to the handlers. */
static void dispatch(serve_conn *c)
{
    serve_request *r = &c->request;
    assert(!c->waiting);
    c->waiting = true;
    c->worker->in_flight++; /* until answered */
    serve_handle(r);
    if (c->waiting) {
        /* deferred: what the body pointed at may be moved by the next read */
        r->body = NULL;
        r->body_length = 0;
    }
}

/* Parses what was read and answers what is complete, one request at a time. */
static void conn_process(serve_conn *c)
{
    /* a client that sends requests and takes no answers is not answered without bound: its
    ** requests wait (and reading stops once the buffer is full) until it takes some */
    while (!c->dead && !c->waiting && !c->close_after && c->in_parsed < c->in_length
           && evbuffer_get_length(c->out) < OUT_HIGH) {
        serve_parse_step step = serve_request_parse(c);
        if (step == SERVE_PARSE_FAILED) {
            conn_fail(c, c->fail_code, c->fail_why);
            break;
        }
        if (step == SERVE_PARSE_MORE)
            break;
        dispatch(c);
    }
    serve_request_rewind(c);
}

static void conn_flush(serve_conn *c)
{
    c->write_wants_read = false;
    while (!c->dead && evbuffer_get_length(c->out) > 0) {
        size_t length = evbuffer_get_length(c->out);
        if (c->ssl != NULL) {
            /* one record per write: an answer that fits leaves in one */
            size_t n = length < TLS_RECORD ? length : TLS_RECORD;
            unsigned char *bytes = evbuffer_pullup(c->out, (ev_ssize_t)n);
            ERR_clear_error();
            int written = bytes != NULL ? SSL_write(c->ssl, bytes, (int)n) : -1;
            if (written > 0) {
                evbuffer_drain(c->out, (size_t)written);
                continue;
            }
            int error = SSL_get_error(c->ssl, written);
            if (error == SSL_ERROR_WANT_READ) {
                c->write_wants_read = true; /* the read event is armed; it writes again */
                return;
            }
            if (error != SSL_ERROR_WANT_WRITE) {
                conn_close(c, SERVE_CLOSE_CLIENT_CLOSED);
                return;
            }
        } else {
            int written = evbuffer_write(c->out, c->fd);
            if (written >= 0 && (size_t)written == length)
                continue;
            if (written < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                conn_close(c, SERVE_CLOSE_CLIENT_CLOSED);
                return;
            }
        }
        /* the socket is full: wait until the client takes some */
        if (!c->write_armed) {
            event_add(c->write_event, NULL);
            c->write_armed = true;
        }
        return;
    }
    if (c->dead)
        return;
    c->write_ms = 0;
    if (c->write_armed) {
        event_del(c->write_event);
        c->write_armed = false;
    }
    if (c->close_after) {
        conn_close(c, c->close_why);
        return;
    }
    if (c->worker->draining && !c->waiting && c->phase == PHASE_IDLE && c->in_parsed == c->in_length)
        conn_close(c, SERVE_CLOSE_DONE);
}

static void answer(serve_request *r, int code, const char *reason, struct evbuffer *body, bool count)
{
    serve_conn *c = r->conn;
    serve_worker *worker = c->worker;
    assert(c->waiting && !c->dead);
    c->waiting = false;
    c->forward = NULL;
    worker->in_flight--;
    assert(worker->in_flight >= 0);
    if (count)
        serve_metrics_http(&worker->server->metrics, code);
    if (body == NULL)
        body = c->answer_body;
    size_t length = evbuffer_get_length(body);
    bool keep = r->keep_alive && !worker->draining;
    bool no_body = code == 204 || code == 304 || (code >= 100 && code < 200);
    int64_t now = serve_monotonic_ms();
    if (now / 1000 != worker->date_at) {
        time_t seconds = time(NULL);
        struct tm utc;
        gmtime_r(&seconds, &utc);
        strftime(worker->date, sizeof worker->date, "%a, %d %b %Y %H:%M:%S GMT", &utc);
        worker->date_at = now / 1000;
    }
    char line[256];
    int n = snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\nDate: %s\r\n", code, reason != NULL ? reason : "",
                     worker->date);
    if (evbuffer_get_length(c->out) == 0)
        c->write_ms = now; /* the write deadline runs from here */
    evbuffer_add(c->out, line, n > 0 && (size_t)n < sizeof line ? (size_t)n : 0);
    evbuffer_add(c->out, c->answer_head, c->answer_head_length);
    c->answer_head_length = 0;
    const char *connection = !keep                                           ? "Connection: close\r\n"
                             : r->http_major == 1 && r->http_minor == 0 ? "Connection: keep-alive\r\n"
                                                                        : "";
    if (!no_body)
        n = snprintf(line, sizeof line, "Content-Length: %zu\r\n%s\r\n", length, connection);
    else
        n = snprintf(line, sizeof line, "%s\r\n", connection);
    evbuffer_add(c->out, line, (size_t)n);
    if (r->method != HTTP_HEAD && !no_body)
        evbuffer_add_buffer(c->out, body);
    else
        evbuffer_drain(body, length);
    c->answered = true;
    c->active_ms = now;
    if (!keep && !c->close_after) {
        c->close_after = true;
        c->close_why = SERVE_CLOSE_DONE;
    }
    if (c->busy > 0)
        return; /* inside the read callback: it writes once it has parsed what it holds */
    /* answered later (the gateway): write now, then go on with what the client sent meanwhile */
    c->busy++;
    conn_flush(c);
    if (!c->dead)
        conn_process(c);
    if (!c->dead && evbuffer_get_length(c->out) > 0)
        conn_flush(c);
    leave(c);
}

void serve_reply(serve_request *request, int code, const char *reason, struct evbuffer *body)
{
    answer(request, code, reason, body, true);
}

void serve_send(serve_request *request, int code, const char *reason, struct evbuffer *body)
{
    answer(request, code, reason, body, false);
}

void serve_request_add_header(serve_request *request, const char *name, const char *value)
{
    serve_conn *c = request->conn;
    size_t start = c->answer_head_length;
    head_add(c, name, strlen(name));
    head_add(c, ": ", 2);
    head_add(c, value, strlen(value));
    head_add(c, "\r\n", 2);
    /* no header may end early or start another (the last CRLF is ours) */
    for (size_t i = start; i + 2 < c->answer_head_length; i++) {
        if (c->answer_head[i] == '\r' || c->answer_head[i] == '\n')
            c->answer_head[i] = ' ';
    }
}

struct evbuffer *serve_request_body_out(serve_request *request)
{
    return request->conn->answer_body;
}

void serve_request_defer(serve_request *request, struct serve_forward *forward)
{
    serve_conn *c = request->conn;
    assert(c->waiting);
    c->forward = forward;
}

/* ---- deadlines ------------------------------------------------------------------------ */

/* The earliest deadline the connection is under now, or 0 for none. */
static int64_t next_deadline(const serve_conn *c)
{
    const serve_settings *settings = &c->worker->server->settings;
    int64_t at = 0;
#define EARLIEST(t) \
    do { \
        int64_t t_ = (t); \
        if (at == 0 || t_ < at) \
            at = t_; \
    } while (0)
    if (c->ssl != NULL && !c->handshaken)
        EARLIEST(c->accepted_ms + settings->request_ms);
    if (evbuffer_get_length(c->out) > 0 && c->write_ms != 0)
        EARLIEST(c->write_ms + settings->request_ms);
    if (!c->waiting) {
        if (c->phase != PHASE_IDLE)
            EARLIEST(c->request_ms + settings->request_ms);
        if (evbuffer_get_length(c->out) == 0)
            EARLIEST(c->active_ms + settings->read_ms);
    }
#undef EARLIEST
    return at;
}

/* Makes sure the timer fires no later than the earliest deadline (it re-arms itself then). */
static void schedule(serve_conn *c)
{
    int64_t at = next_deadline(c);
    if (at == 0 || (c->timer_at_ms != 0 && c->timer_at_ms <= at))
        return;
    int64_t wait = at - serve_monotonic_ms();
    if (wait < 0)
        wait = 0;
    struct timeval tv = { (time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000 };
    evtimer_add(c->timer, &tv);
    c->timer_at_ms = at;
}

static bool bytes_of_handshake(const serve_conn *c)
{
    BIO *rbio = SSL_get_rbio(c->ssl);
    return rbio != NULL && BIO_number_read(rbio) > 0;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    serve_conn *c = arg;
    const serve_settings *settings = &c->worker->server->settings;
    int64_t now = serve_monotonic_ms();
    (void)fd;
    (void)what;
    c->timer_at_ms = 0;
    if (c->ssl != NULL && !c->handshaken
        && (now >= c->accepted_ms + settings->request_ms || now >= c->active_ms + settings->read_ms)) {
        conn_close(c, bytes_of_handshake(c) ? SERVE_CLOSE_TLS_HANDSHAKE : SERVE_CLOSE_READ_TIMEOUT);
        return;
    }
    if (evbuffer_get_length(c->out) > 0 && c->write_ms != 0 && now >= c->write_ms + settings->request_ms) {
        conn_close(c, SERVE_CLOSE_WRITE_TIMEOUT);
        return;
    }
    if (!c->waiting && c->phase != PHASE_IDLE && now >= c->request_ms + settings->request_ms) {
        conn_close(c, SERVE_CLOSE_REQUEST_TIMEOUT);
        return;
    }
    if (!c->waiting && evbuffer_get_length(c->out) == 0 && now >= c->active_ms + settings->read_ms) {
        bool partial = c->phase != PHASE_IDLE || c->in_parsed < c->in_length;
        conn_close(c, partial || !c->answered ? SERVE_CLOSE_READ_TIMEOUT : SERVE_CLOSE_DONE);
        return;
    }
    schedule(c);
}

/* ---- reading -------------------------------------------------------------------------- */

/* Room for a read, keeping what is not parsed yet and a Content-Length body in progress; false
** when the buffer is at its cap (a client sending ahead of an answer: reading waits). */
static bool make_room(serve_conn *c)
{
    const serve_settings *settings = &c->worker->server->settings;
    size_t cap = settings->body_limit + 2 * SERVE_HEAD_LIMIT + READ_ROOM;
    size_t want = READ_ROOM;
    if (c->phase == PHASE_BODY && !c->chunked && c->parser.content_length != ULLONG_MAX
        && c->parser.content_length > want)
        want = (size_t)c->parser.content_length; /* the rest of the body in one go */
    if (c->in_capacity - c->in_length >= want)
        return true;
    serve_request_compact(c);
    size_t needed = c->in_length + want;
    if (needed > cap)
        needed = cap;
    if (needed > c->in_capacity) {
        char *grown = realloc(c->in, needed);
        if (grown != NULL) {
            c->in = grown;
            c->in_capacity = needed;
        }
    }
    return c->in_capacity > c->in_length;
}

/* Reads what the socket holds. Returns 1 after bytes, 0 at the end of the stream, -1 on an
** error, 2 when nothing is there (or more must be written first). */
static int read_some(serve_conn *c)
{
    int got = 2;
    for (;;) {
        if (!make_room(c)) {
            event_del(c->read_event); /* full: reading resumes once the waiting answer is written */
            c->reading = false;
            return got;
        }
        size_t room = c->in_capacity - c->in_length;
        if (c->ssl != NULL) {
            ERR_clear_error();
            int n = SSL_read(c->ssl, c->in + c->in_length, room > INT32_MAX ? INT32_MAX : (int)room);
            if (n > 0) {
                c->in_length += (size_t)n;
                got = 1;
                if (SSL_has_pending(c->ssl))
                    continue; /* a record already read from the socket: no event tells of it */
                return got;
            }
            int error = SSL_get_error(c->ssl, n);
            if (error == SSL_ERROR_WANT_READ)
                return got;
            if (error == SSL_ERROR_WANT_WRITE) {
                c->read_wants_write = true;
                if (!c->write_armed) {
                    event_add(c->write_event, NULL);
                    c->write_armed = true;
                }
                return got;
            }
            if (error == SSL_ERROR_ZERO_RETURN)
                return got == 1 ? 1 : 0;
            return got == 1 ? 1 : -1; /* SSL_ERROR_SYSCALL (an end without close_notify included) */
        }
        ssize_t n = read(c->fd, c->in + c->in_length, room);
        if (n > 0) {
            c->in_length += (size_t)n;
            got = 1;
            if ((size_t)n < room)
                return got; /* the socket is drained: the persistent event tells of more */
            continue;
        }
        if (n == 0)
            return got == 1 ? 1 : 0;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return got;
        return got == 1 ? 1 : -1;
    }
}

/* The client's end of the stream (or a reset): why the connection ends. */
static serve_close_why why_gone(const serve_conn *c)
{
    bool partial = c->phase != PHASE_IDLE || c->in_parsed < c->in_length;
    bool undelivered = evbuffer_get_length(c->out) > 0;
    return partial || undelivered || c->waiting ? SERVE_CLOSE_CLIENT_CLOSED : SERVE_CLOSE_DONE;
}

static void handshake(serve_conn *c)
{
    ERR_clear_error();
    int rc = SSL_accept(c->ssl);
    if (rc == 1) {
        c->handshaken = true;
        return;
    }
    int error = SSL_get_error(c->ssl, rc);
    if (error == SSL_ERROR_WANT_READ) {
        if (c->write_armed && !c->write_wants_read && !c->read_wants_write) {
            event_del(c->write_event);
            c->write_armed = false;
        }
        return;
    }
    if (error == SSL_ERROR_WANT_WRITE) {
        c->read_wants_write = true;
        if (!c->write_armed) {
            event_add(c->write_event, NULL);
            c->write_armed = true;
        }
        return;
    }
    /* a failed handshake; a peer that connected and sent nothing has not failed one */
    conn_close(c, bytes_of_handshake(c) ? SERVE_CLOSE_TLS_HANDSHAKE : SERVE_CLOSE_DONE);
}

/* ---- answers written at the loop turn's end ------------------------------------------- */

static void flush_at_turn_end(serve_conn *c)
{
    if (c->flush_queued)
        return;
    c->flush_queued = true;
    c->flush_prev = NULL;
    c->flush_next = c->worker->to_flush;
    if (c->flush_next != NULL)
        c->flush_next->flush_prev = c;
    c->worker->to_flush = c;
}

static void unqueue_flush(serve_conn *c)
{
    if (!c->flush_queued)
        return;
    if (c->flush_prev != NULL)
        c->flush_prev->flush_next = c->flush_next;
    else
        c->worker->to_flush = c->flush_next;
    if (c->flush_next != NULL)
        c->flush_next->flush_prev = c->flush_prev;
    c->flush_queued = false;
    c->flush_prev = c->flush_next = NULL;
}

void serve_conn_flush_answers(serve_worker *worker)
{
    while (worker->to_flush != NULL) {
        serve_conn *c = worker->to_flush;
        unqueue_flush(c);
        c->busy++;
        if (!c->dead)
            conn_flush(c);
        leave(c);
    }
}

static void conn_read(serve_conn *c)
{
    if (c->ssl != NULL && !c->handshaken) {
        handshake(c);
        if (c->dead || !c->handshaken)
            return;
    }
    int got = read_some(c);
    if (got == 1)
        c->active_ms = serve_monotonic_ms();
    conn_process(c);
    /* a client still sending gets its answers at the turn's end; one that has ended its side
    ** (or a TLS write waiting for a read) is written to now, before the connection closes */
    if (!c->dead && got == 1 && !c->write_wants_read && !c->write_armed && evbuffer_get_length(c->out) > 0)
        flush_at_turn_end(c);
    else if (evbuffer_get_length(c->out) > 0 || c->write_wants_read)
        conn_flush(c);
    if (!c->dead && (got == 0 || got == -1))
        conn_close(c, why_gone(c));
}

/* The end of one of our callbacks: a connection closed inside it is freed now; a live one
** reads again if it had stopped for room, and has its timer checked. */
static void leave(serve_conn *c)
{
    c->busy--;
    if (c->dead) {
        if (c->busy == 0)
            conn_close(c, c->close_why); /* frees it: counted already */
        return;
    }
    if (!c->reading && !c->waiting && !c->close_after && evbuffer_get_length(c->out) < OUT_HIGH
        && event_add(c->read_event, NULL) == 0) {
        c->reading = true;
        if (c->ssl != NULL && SSL_has_pending(c->ssl))
            event_active(c->read_event, EV_READ, 0); /* records read ahead: no event tells of them */
    }
    schedule(c);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    serve_conn *c = arg;
    (void)fd;
    (void)what;
    c->busy++;
    conn_read(c);
    leave(c);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    serve_conn *c = arg;
    (void)fd;
    (void)what;
    c->busy++;
    if (c->read_wants_write) {
        c->read_wants_write = false;
        conn_read(c);
    }
    if (!c->dead && evbuffer_get_length(c->out) > 0)
        conn_flush(c);
    if (!c->dead && !c->waiting && c->in_parsed < c->in_length && evbuffer_get_length(c->out) < OUT_HIGH) {
        conn_process(c); /* requests held back while the client took its answers */
        if (!c->dead && evbuffer_get_length(c->out) > 0)
            conn_flush(c);
    }
    if (!c->dead && c->write_armed && evbuffer_get_length(c->out) == 0 && !c->read_wants_write) {
        event_del(c->write_event);
        c->write_armed = false;
    }
    leave(c);
}

/* ---- life and end --------------------------------------------------------------------- */

static void conn_free(serve_conn *c)
{
    serve_worker *worker = c->worker;
    unqueue_flush(c);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        worker->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    if (c->read_event != NULL)
        event_free(c->read_event);
    if (c->write_event != NULL)
        event_free(c->write_event);
    if (c->timer != NULL)
        event_free(c->timer);
    if (c->ssl != NULL)
        SSL_free(c->ssl);
    if (c->fd >= 0)
        close(c->fd);
    if (c->out != NULL)
        evbuffer_free(c->out);
    if (c->answer_body != NULL)
        evbuffer_free(c->answer_body);
    free(c->in);
    free(c->arena);
    free(c->headers);
    free(c->owned_body);
    free(c->answer_head);
    free(c);
}

/* Ends the connection: counted once, freed at once or when the callback it is in returns. */
static void conn_close(serve_conn *c, serve_close_why why)
{
    if (!c->dead) {
        c->dead = true;
        c->close_why = why;
        serve_metrics_closed(&c->worker->server->metrics, why);
        if (c->waiting) {
            /* the answer will have nowhere to go: the gateway drops it when it comes */
            if (c->forward != NULL)
                serve_gateway_cancel(c->forward);
            c->forward = NULL;
            c->waiting = false;
            c->worker->in_flight--;
        }
        event_del(c->read_event);
        event_del(c->write_event);
        event_del(c->timer);
        if (c->ssl != NULL && c->handshaken && why == SERVE_CLOSE_DONE)
            SSL_shutdown(c->ssl); /* close_notify, best effort */
    }
    if (c->busy == 0)
        conn_free(c);
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *address, int length,
                      void *arg)
{
    serve_worker *worker = arg;
    serve_conn *c = calloc(1, sizeof *c);
    (void)listener;
    (void)length;
    worker->accept_failing = false;
    if (c == NULL) {
        close(fd);
        return;
    }
    c->worker = worker;
    c->fd = fd;
    c->request.conn = c;
    c->request.worker = worker;
    c->next = worker->conns;
    if (c->next != NULL)
        c->next->prev = c;
    worker->conns = c;
    c->accepted_ms = c->active_ms = serve_monotonic_ms();
    char text[INET6_ADDRSTRLEN] = "";
    if (address->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)address;
        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        snprintf(c->peer, sizeof c->peer, "[%s]:%u", text, (unsigned)ntohs(in6->sin6_port));
    } else if (address->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)address;
        inet_ntop(AF_INET, &in4->sin_addr, text, sizeof text);
        snprintf(c->peer, sizeof c->peer, "%s:%u", text, (unsigned)ntohs(in4->sin_port));
    }
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->read_event = event_new(worker->base, fd, EV_READ | EV_PERSIST, on_read, c);
    c->write_event = event_new(worker->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    c->timer = evtimer_new(worker->base, on_timer, c);
    c->out = evbuffer_new();
    c->answer_body = evbuffer_new();
    if (c->read_event == NULL || c->write_event == NULL || c->timer == NULL || c->out == NULL
        || c->answer_body == NULL)
        goto refused;
    if (worker->server->tls.enabled) {
        /* fail closed: no TLS session, no service (never plain HTTP on the TLS port) */
        c->ssl = serve_tls_session(&worker->server->tls);
        if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1)
            goto refused;
        SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        SSL_set_accept_state(c->ssl);
    }
    if (event_add(c->read_event, NULL) != 0)
        goto refused;
    c->reading = true;
    schedule(c);
    return;

refused:
    conn_close(c, worker->server->tls.enabled ? SERVE_CLOSE_TLS_HANDSHAKE : SERVE_CLOSE_DONE);
}

#define ACCEPT_PAUSE_MS 100

static void set_accepting(serve_worker *worker, bool on)
{
    for (size_t i = 0; i < worker->listener_count; i++) {
        if (worker->listeners[i] != NULL)
            (void)(on ? evconnlistener_enable(worker->listeners[i]) : evconnlistener_disable(worker->listeners[i]));
    }
}

static void resume_accepting(evutil_socket_t fd, short what, void *arg)
{
    serve_worker *worker = arg;
    (void)fd;
    (void)what;
    if (!worker->draining)
        set_accepting(worker, true);
}

/* An accept that failed for want of a descriptor or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM;
** libevent retries the passing errors itself) leaves the connection in the backlog and the
** listening socket readable: libevent would call again at once, forever, and the worker would
** spin. Its listeners rest ACCEPT_PAUSE_MS instead (as nginx does), and the clients it serves
** meanwhile can end and give descriptors back. */
static void on_accept_error(struct evconnlistener *listener, void *arg)
{
    serve_worker *worker = arg;
    int error = EVUTIL_SOCKET_ERROR();
    (void)listener;
    atomic_fetch_add(&worker->server->metrics.accept_errors, 1);
    if (!worker->accept_failing)
        fprintf(stderr, "warden serve: accept failed (%s); accepting pauses %d ms at a time until it works again\n",
                strerror(error), ACCEPT_PAUSE_MS);
    worker->accept_failing = true;
    set_accepting(worker, false);
    struct timeval pause = { 0, ACCEPT_PAUSE_MS * 1000 };
    if (worker->accept_resume != NULL)
        event_add(worker->accept_resume, &pause);
}

struct evconnlistener *serve_conn_listen(serve_worker *worker, int fd)
{
    if (worker->accept_resume == NULL) {
        worker->accept_resume = evtimer_new(worker->base, resume_accepting, worker);
        if (worker->accept_resume == NULL)
            return NULL;
    }
    struct evconnlistener *listener = evconnlistener_new(worker->base, on_accept, worker,
                                                         LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
    if (listener != NULL)
        evconnlistener_set_error_cb(listener, on_accept_error);
    return listener;
}

void serve_conn_drain(serve_worker *worker)
{
    serve_conn *c = worker->conns;
    while (c != NULL) {
        serve_conn *next = c->next;
        if (!c->waiting && c->phase == PHASE_IDLE && c->in_parsed == c->in_length && evbuffer_get_length(c->out) == 0
            && (c->ssl == NULL || c->handshaken))
            conn_close(c, SERVE_CLOSE_DONE);
        c = next;
    }
}

bool serve_conn_writing(const serve_worker *worker)
{
    for (const serve_conn *c = worker->conns; c != NULL; c = c->next) {
        if (evbuffer_get_length(c->out) > 0)
            return true;
    }
    return false;
}

void serve_conn_close_all(serve_worker *worker)
{
    while (worker->conns != NULL)
        conn_close(worker->conns, SERVE_CLOSE_SHUTDOWN);
    if (worker->accept_resume != NULL)
        event_free(worker->accept_resume);
    worker->accept_resume = NULL;
}

