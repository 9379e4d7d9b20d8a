/*
** conn.h — the serving side of `warden serve`'s HTTP/1.1: one serve_conn per accepted client
** connection (conn.c) and the serve_request its handlers answer (parsed by request.c). Requests are parsed by
** http-parser; answers are written into the connection's output and sent at the end of the
** loop turn that made them (serve_conn_flush_answers).
**
** A request lives in its connection: one at a time is handed to serve_handle. A handler
** either answers before it returns (serve_reply) or takes the request over (serve_request_defer,
** the gateway): the connection then parses nothing further until that answer is written, and
** tells the gateway (serve_gateway_cancel) if the client leaves first.
*/
#ifndef WARDEN_SERVE_CONN_H
#define WARDEN_SERVE_CONN_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

struct evbuffer;
struct evconnlistener;
typedef struct serve_worker serve_worker;
typedef struct serve_conn serve_conn;
struct serve_forward;

#define SERVE_HEAD_LIMIT   65536 /* request line and headers; more is 431 */
#define SERVE_TARGET_LIMIT 8192  /* the request target alone; more is 400 */

typedef struct serve_request {
    serve_conn          *conn;
    serve_worker        *worker;
    int                  method;        /* enum http_method (http_parser.h) */
    int                  http_major, http_minor;
    const char          *target;        /* as sent: path and query (or absolute form) */
    const char          *path;          /* target up to '?' (of an absolute form: its path), never NULL */
    const char          *query;         /* after '?', NULL when there is none */
    const unsigned char *body;          /* contiguous; valid only until the handler returns */
    size_t               body_length;
    bool                 keep_alive;    /* what the client asked (http_should_keep_alive) */
} serve_request;

/* The value of the request's first header named name (any letter case), or NULL. */
const char *serve_request_header(const serve_request *request, const char *name);

/* The request's headers in the order received, duplicates kept: the count, and each name and
** value (NUL-terminated, valid while the request is). */
size_t serve_request_header_count(const serve_request *request);
void   serve_request_header_at(const serve_request *request, size_t index, const char **name, const char **value);

/* The client's address, "a.b.c.d:port" or "[v6]:port". */
const char *serve_request_peer(const serve_request *request);

/* The connection's TLS session, or NULL on plain HTTP. */
SSL *serve_request_tls(const serve_request *request);

/* Adds a header to the answer (before serve_reply). CR and LF in value become spaces. */
void serve_request_add_header(serve_request *request, const char *name, const char *value);

/* The answer's body buffer, empty at first and owned by the connection (serve_reply with a
** NULL body sends it). */
struct evbuffer *serve_request_body_out(serve_request *request);

/* The handler answers later (after it returns): body is no longer valid then, and forward is
** what serve_gateway_cancel is told of if the client leaves before the answer. */
void serve_request_defer(serve_request *request, struct serve_forward *forward);

/* Answers the request and counts the code (warden_http_requests_total): the status line,
** Date, the added headers, Content-Length and body (drained from body, or the request's own
** when body is NULL); sent at the end of this loop turn (a gateway answer, which arrives on
** its own, at once) when the client can take it. */
void serve_reply(serve_request *request, int code, const char *reason, struct evbuffer *body);

/* serve_reply without counting (an answer counted before it was made: /metrics). */
void serve_send(serve_request *request, int code, const char *reason, struct evbuffer *body);

/* ---- the worker's side ---- */

/* Accepts on fd (a listening socket the listener then owns): NULL on failure. */
struct evconnlistener *serve_conn_listen(serve_worker *worker, int fd);

/* At the drain's start: connections between requests are closed (counted "done"); the others
** are closed after their answer. */
void serve_conn_drain(serve_worker *worker);

/* Writes the answers made during the loop turn that just ended (each connection's output in one
** write); the worker calls it after every turn, before it waits for events again. */
void serve_conn_flush_answers(serve_worker *worker);

/* Whether some connection still has an answer to write. */
bool serve_conn_writing(const serve_worker *worker);

/* Closes every connection left (counted "shutdown"), after the worker's loop has ended. */
void serve_conn_close_all(serve_worker *worker);

#endif
