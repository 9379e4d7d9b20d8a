/*
** conn_state.h — the serve_conn structure, shared by the two halves of a client connection:
** conn.c (its socket, TLS, events, answers and deadlines) and request.c (the request parsed
** into it by http-parser, and the request's accessors). Nothing else includes it.
*/
#ifndef WARDEN_SERVE_CONN_STATE_H
#define WARDEN_SERVE_CONN_STATE_H

#include <http_parser.h>
#include <stdint.h>

#include "serve.h"

typedef struct header_at {
    size_t name, value; /* offsets in the connection's arena */
} header_at;

typedef enum phase { PHASE_IDLE, PHASE_HEAD, PHASE_BODY } phase;

/* What the parser was paused for (conn_process checks it). */
typedef enum pause_check {
    CHECK_NONE,
    CHECK_CRLF_BEFORE, /* the two bytes before where it stopped are CR LF */
    CHECK_LF_AT        /* it stopped at the head's final LF, after a CR */
} pause_check;

struct serve_conn {
    serve_worker          *worker;
    serve_conn            *prev, *next;  /* the worker's connections */
    int                    fd;
    SSL                   *ssl;          /* NULL: plain HTTP */
    bool                   handshaken;
    struct event          *read_event, *write_event, *timer;
    bool                   reading, write_armed, write_wants_read, read_wants_write;
    char                   peer[80];

    char                  *in;           /* bytes read: [0, in_parsed) parsed, [in_parsed, in_length) not yet */
    size_t                 in_length, in_capacity, in_parsed;
    http_parser            parser;
    phase                  phase;
    bool                   complete;     /* a whole request is parsed, not yet handed over */
    pause_check            check;
    char                   tail[2];      /* the last two bytes parsed before the current execute */
    int                    fail_code;    /* set by a parser callback: answer this and close */
    serve_close_why        fail_why;

    char                  *arena;        /* target, header names and values, NUL-terminated */
    size_t                 arena_length, arena_capacity;
    header_at             *headers;
    size_t                 header_count, header_capacity;
    int                    last_piece;   /* 0 target, 1 a header name, 2 a header value */
    bool                   chunked;
    size_t                 body_start, body_length; /* a Content-Length body, in place in `in` */
    unsigned char         *owned_body;   /* a chunked body, assembled */
    size_t                 owned_length, owned_capacity;
    serve_request          request;

    bool                   waiting;      /* a request handed over and not yet answered */
    struct serve_forward  *forward;      /* its forward, when the gateway has it */
    struct evbuffer       *out;
    struct evbuffer       *answer_body;  /* serve_request_body_out */
    char                  *answer_head;  /* headers added for the answer */
    size_t                 answer_head_length, answer_head_capacity;
    bool                   answered;     /* at least one answer on this connection */
    bool                   close_after;  /* close once the output is written */
    serve_close_why        close_why;

    int64_t                accepted_ms, active_ms, request_ms, write_ms;
    int64_t                timer_at_ms;  /* when the timer fires; 0 when not armed */
    int                    busy;         /* inside one of our callbacks: freeing waits */
    bool                   dead;
    bool                   flush_queued; /* on the worker's list of answers written at the turn's end */
    serve_conn            *flush_prev, *flush_next;
};

/* Where parsing what `in` holds stopped (serve_request_parse). */
typedef enum serve_parse_step {
    SERVE_PARSE_MORE,    /* everything was taken: the request (if any) needs more bytes */
    SERVE_PARSE_REQUEST, /* a complete request, ready in c->request (the rest waits in `in`) */
    SERVE_PARSE_FAILED   /* answer c->fail_code and close (c->fail_why) */
} serve_parse_step;

/* Parses from in_parsed on, up to the end of one request. */
serve_parse_step serve_request_parse(serve_conn *c);

/* Between reads, once what could be parsed is: when every byte read is parsed and no
** Content-Length body in progress lies in `in`, the next read starts at the front. */
void serve_request_rewind(serve_conn *c);

/* Moves what must be kept (the bytes not parsed yet, or a Content-Length body in progress from
** its start) to the front of `in`, for room at its end. */
void serve_request_compact(serve_conn *c);

/* Room for needed bytes in a growing buffer; -1 when out of memory. */
int serve_grow(char **data, size_t *capacity, size_t needed);

#endif
