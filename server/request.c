/*
** request.c — the request a connection parses (http-parser's callbacks) into its serve_conn:
** the target, the headers (in an arena, in order, duplicates kept), the body (a Content-Length
** body left in place in the read buffer, a chunked one assembled), and the framing checks that
** turn hostile framing into 400 (request smuggling): Content-Length with Transfer-Encoding, two
** Content-Lengths, a Transfer-Encoding other than chunked, a header name that is not a token, a
** control character in a header value or the target, a folded header line, a dot segment in the
** target's path (has_dot_segment), and what http-parser rejects (its lenient flags are never
** set); and the headers a request is judged by that an application behind the gateway could
** read otherwise (judged_headers_hold). Debian builds the library with HTTP_PARSER_STRICT=0,
** which accepts any byte where the CRLF ending the head, a chunk's size line or a chunk's data
** belongs; those are checked here: the parser is paused where each ends and the two bytes
** before are looked at (the last two of an earlier execute are kept for that); so is a bare LF
** ending a line of the head or of a trailer. Also the request's accessors.
*/
#include "conn_state.h"

#include <assert.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int on_message_begin(http_parser *parser);
static int on_url(http_parser *parser, const char *at, size_t length);
static int on_header_field(http_parser *parser, const char *at, size_t length);
static int on_header_value(http_parser *parser, const char *at, size_t length);
static int on_headers_complete(http_parser *parser);
static int on_body(http_parser *parser, const char *at, size_t length);
static int on_message_complete(http_parser *parser);
static int on_chunk_header(http_parser *parser);
static int on_chunk_complete(http_parser *parser);

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
    .on_chunk_header = on_chunk_header,
    .on_chunk_complete = on_chunk_complete,
};


/* ---- small buffers -------------------------------------------------------------------- */

int serve_grow(char **data, size_t *capacity, size_t needed)
{
    if (needed <= *capacity)
        return 0;
    size_t size = *capacity > 0 ? *capacity : 256;
    while (size < needed)
        size *= 2;
    char *grown = realloc(*data, size);
    if (grown == NULL)
        return -1;
    *data = grown;
    *capacity = size;
    return 0;
}

static int arena_add(serve_conn *c, const char *bytes, size_t length)
{
    if (serve_grow(&c->arena, &c->arena_capacity, c->arena_length + length + 1) != 0)
        return -1;
    memcpy(c->arena + c->arena_length, bytes, length);
    c->arena_length += length;
    return 0;
}

/* Ends the piece being added: trailing blanks of a value go, a NUL follows. */
static void arena_end_piece(serve_conn *c)
{
    if (c->last_piece == 2) {
        size_t start = c->headers[c->header_count - 1].value;
        while (c->arena_length > start
               && (c->arena[c->arena_length - 1] == ' ' || c->arena[c->arena_length - 1] == '\t'))
            c->arena_length--;
    }
    c->arena[c->arena_length++] = '\0'; /* arena_add kept room for it */
}

/* ---- parsing -------------------------------------------------------------------------- */

static int fail_in_parser(serve_conn *c, int code, serve_close_why why)
{
    if (c->fail_code == 0) {
        c->fail_code = code;
        c->fail_why = why;
    }
    return -1;
}

static int on_message_begin(http_parser *parser)
{
    serve_conn *c = parser->data;
    c->phase = PHASE_HEAD;
    c->complete = false;
    c->arena_length = 0;
    c->header_count = 0;
    c->last_piece = 0;
    c->chunked = false;
    c->body_start = c->body_length = 0;
    c->owned_length = 0;
    c->request_ms = serve_monotonic_ms();
    /* at least one byte was there before it: a first arena piece always exists */
    return arena_add(c, "", 0) == 0 ? 0 : fail_in_parser(c, 500, SERVE_CLOSE_MALFORMED);
}

static int on_url(http_parser *parser, const char *at, size_t length)
{
    serve_conn *c = parser->data;
    if (c->arena_length + length > SERVE_TARGET_LIMIT)
        return fail_in_parser(c, 400, SERVE_CLOSE_MALFORMED);
    return arena_add(c, at, length) == 0 ? 0 : fail_in_parser(c, 500, SERVE_CLOSE_MALFORMED);
}

static int on_header_field(http_parser *parser, const char *at, size_t length)
{
    serve_conn *c = parser->data;
    if (c->phase == PHASE_BODY)
        return 0; /* a chunked body's trailer: not kept */
    if (c->last_piece != 1) {
        arena_end_piece(c);
        if (c->header_count == c->header_capacity) {
            size_t capacity = c->header_capacity > 0 ? c->header_capacity * 2 : 16;
            header_at *grown = realloc(c->headers, capacity * sizeof *grown);
            if (grown == NULL)
                return fail_in_parser(c, 500, SERVE_CLOSE_MALFORMED);
            c->headers = grown;
            c->header_capacity = capacity;
        }
        c->headers[c->header_count].name = c->arena_length;
        c->headers[c->header_count].value = c->arena_length;
        c->header_count++;
        c->last_piece = 1;
    }
    return arena_add(c, at, length) == 0 ? 0 : fail_in_parser(c, 500, SERVE_CLOSE_MALFORMED);
}

static int on_header_value(http_parser *parser, const char *at, size_t length)
{
    serve_conn *c = parser->data;
    if (c->phase == PHASE_BODY)
        return 0;
    assert(c->header_count > 0);
    if (c->last_piece != 2) {
        arena_end_piece(c);
        c->headers[c->header_count - 1].value = c->arena_length;
        c->last_piece = 2;
    }
    /* no control character but HTAB (a folded line, a NUL or a bare CR included) */
    for (size_t i = 0; i < length; i++) {
        unsigned char ch = (unsigned char)at[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return fail_in_parser(c, 400, SERVE_CLOSE_MALFORMED);
    }
    return arena_add(c, at, length) == 0 ? 0 : fail_in_parser(c, 500, SERVE_CLOSE_MALFORMED);
}

/* A token (RFC 9110 5.6.2): what a header name and a method are made of. */
static bool is_token(const char *text)
{
    if (*text == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", *p) != NULL)
            return false;
    }
    return true;
}

/* A request target: visible ASCII only (no blank, control or 8-bit byte). */
static bool is_target(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p <= 0x20 || *p >= 0x7f)
            return false;
    }
    return *text != '\0';
}

/* The target's form (RFC 9112 3.2): origin ('/' first), absolute (a URL with a scheme and a
** host, as http-parser's URL parser reads it) or asterisk ("*", OPTIONS only). http-parser's
** request line lets more through ("*" followed by anything, with any method; an absolute form
** whose host its URL parser refuses), which would give the handlers a path without its '/'. */
static bool target_form_known(const char *target, int method)
{
    if (target[0] == '/')
        return true;
    if (strcmp(target, "*") == 0)
        return method == HTTP_OPTIONS;
    struct http_parser_url url;
    http_parser_url_init(&url);
    return http_parser_parse_url(target, strlen(target), 0, &url) == 0 && (url.field_set & (1 << UF_SCHEMA))
           && (url.field_set & (1 << UF_HOST));
}

/* Headers the gateway must forward as Warden read them (they say what the body is, or what
** it asks for), which a Connection header must not name: the gateway would drop them, and the
** application would read the body it receives without them (RFC 9110 7.6.1: a sender must not
** name a header meant for every recipient). */
static const char *const judged_headers[] = {
    "content-type", "content-length", "content-encoding", "soapaction", NULL,
};

/* 0 when the headers Warden judges a request by can be read only one way; else the answer's
** code. Each may be given once (two Content-Types or SOAPActions: Warden reads the first, an
** application perhaps the last); none may be named by Connection; the action must read one way
** (serve_http_action); a body with a Content-Encoding is refused (415): Warden never decodes
** one, and would judge the encoded bytes while the application decodes them into another. */
static int judged_headers_hold(const serve_conn *c)
{
    const char *soap_action = NULL, *content_type = NULL;
    size_t soap_actions = 0, content_types = 0, content_encodings = 0;
    for (size_t i = 0; i < c->header_count; i++) {
        const char *name = c->arena + c->headers[i].name, *value = c->arena + c->headers[i].value;
        if (strcasecmp(name, "Content-Type") == 0) {
            content_type = value;
            content_types++;
        } else if (strcasecmp(name, "SOAPAction") == 0) {
            soap_action = value;
            soap_actions++;
        } else if (strcasecmp(name, "Content-Encoding") == 0) {
            if (strcasecmp(value, "identity") != 0)
                return 415;
            content_encodings++;
        } else if (strcasecmp(name, "Connection") == 0) {
            for (size_t k = 0; judged_headers[k] != NULL; k++) {
                if (serve_list_names(value, judged_headers[k]))
                    return 400;
            }
        }
    }
    /* (two Content-Lengths are the framing's to refuse) */
    if (content_types > 1 || soap_actions > 1 || content_encodings > 1)
        return 400;
    return serve_http_action(soap_action, content_type, NULL) ? 0 : 400;
}

/* Whether the target's path holds a dot segment ("." or "..") as some server would read it:
** '\\' for '/', %2e for '.', %2f and %5c for '/', a segment's ";parameters" dropped (Tomcat reads
** "/..;x/" as "/../"). The gateway forwards the path as sent, after serve.upstream's prefix: an
** application resolving "/prefix/../admin" would receive a request outside the prefix. */
static bool has_dot_segment(const char *target)
{
    size_t end = strcspn(target, "?#");
    size_t dots = 0;     /* the current segment: its dots so far ... */
    bool other = false;  /* ... and whether anything else came */
    bool skipping = false; /* inside a ";parameters" part */
    for (size_t i = 0; i <= end; i++) {
        char ch = i < end ? target[i] : '/';
        if (ch == '%' && i + 2 < end) {
            if (strncasecmp(target + i + 1, "2e", 2) == 0)
                ch = '.';
            else if (strncasecmp(target + i + 1, "2f", 2) == 0 || strncasecmp(target + i + 1, "5c", 2) == 0)
                ch = '/';
            if (ch != '%')
                i += 2;
        }
        if (ch == '/' || ch == '\\') {
            if (!other && (dots == 1 || dots == 2))
                return true;
            dots = 0;
            other = skipping = false;
        } else if (ch == ';') {
            skipping = true;
        } else if (!skipping) {
            if (ch == '.')
                dots++;
            else
                other = true;
        }
    }
    return false;
}

static bool method_served(int method)
{
    switch (method) {
    case HTTP_GET: case HTTP_POST: case HTTP_PUT: case HTTP_DELETE: case HTTP_HEAD: case HTTP_OPTIONS: case HTTP_PATCH:
        return true;
    default:
        return false;
    }
}

static int on_headers_complete(http_parser *parser)
{
    serve_conn *c = parser->data;
    size_t limit = c->worker->server->settings.body_limit;
    arena_end_piece(c);
    if (!is_target(c->arena) || !target_form_known(c->arena, (int)parser->method) || has_dot_segment(c->arena))
        return fail_in_parser(c, 400, SERVE_CLOSE_MALFORMED);
    for (size_t i = 0; i < c->header_count; i++) {
        if (!is_token(c->arena + c->headers[i].name))
            return fail_in_parser(c, 400, SERVE_CLOSE_MALFORMED);
    }
    if (!method_served(parser->method))
        return fail_in_parser(c, 501, SERVE_CLOSE_METHOD);
    /* framing: one Content-Length, or Transfer-Encoding: chunked alone; anything else could be
    ** read otherwise by a proxy in front or an application behind (request smuggling) */
    size_t lengths = 0, encodings = 0, hosts = 0;
    const char *expect = NULL;
    for (size_t i = 0; i < c->header_count; i++) {
        const char *name = c->arena + c->headers[i].name, *value = c->arena + c->headers[i].value;
        if (strcasecmp(name, "Content-Length") == 0)
            lengths++;
        else if (strcasecmp(name, "Host") == 0)
            hosts++;
        else if (strcasecmp(name, "Transfer-Encoding") == 0) {
            encodings++;
            if (strcasecmp(value, "chunked") != 0)
                return fail_in_parser(c, 400, SERVE_CLOSE_MALFORMED);
        } else if (strcasecmp(name, "Expect") == 0)
            expect = value;
    }
    int judged = judged_headers_hold(c);
    if (judged != 0)
        return fail_in_parser(c, judged, SERVE_CLOSE_MALFORMED);
    /* RFC 9112 section 3.2: an HTTP/1.1 request has exactly one Host; two could name two
    ** services to a proxy in front and the application behind */
    bool http11 = parser->http_major > 1 || (parser->http_major == 1 && parser->http_minor >= 1);
    if (hosts > 1 || (hosts == 0 && http11))
        return fail_in_parser(c, 400, SERVE_CLOSE_MALFORMED);
    c->chunked = (parser->flags & F_CHUNKED) != 0;
    if (lengths > 1 || encodings > 1 || (lengths > 0 && encodings > 0) || (encodings > 0) != c->chunked)
        return fail_in_parser(c, 400, SERVE_CLOSE_MALFORMED);
    bool has_length = (parser->flags & F_CONTENTLENGTH) != 0;
    if (has_length && parser->content_length > limit)
        return fail_in_parser(c, 413, SERVE_CLOSE_TOO_LARGE); /* at once: the body is never read */
    if (expect != NULL) {
        if (strcasecmp(expect, "100-continue") != 0)
            return fail_in_parser(c, 417, SERVE_CLOSE_MALFORMED);
        bool body = c->chunked || (has_length && parser->content_length > 0);
        if (body && http11)
            evbuffer_add(c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25); /* conn_process sends it */
    }
    c->phase = PHASE_BODY;
    c->check = CHECK_LF_AT;
    http_parser_pause(parser, 1);
    return 0;
}

static int on_body(http_parser *parser, const char *at, size_t length)
{
    serve_conn *c = parser->data;
    if (c->chunked) {
        if (c->owned_length + length > c->worker->server->settings.body_limit)
            return fail_in_parser(c, 413, SERVE_CLOSE_TOO_LARGE);
        if (serve_grow((char **)&c->owned_body, &c->owned_capacity, c->owned_length + length) != 0)
            return fail_in_parser(c, 500, SERVE_CLOSE_MALFORMED);
        memcpy(c->owned_body + c->owned_length, at, length);
        c->owned_length += length;
        return 0;
    }
    /* a Content-Length body is read into place: contiguous in `in` (compaction keeps it) */
    if (c->body_length == 0)
        c->body_start = (size_t)(at - c->in);
    assert(at == c->in + c->body_start + c->body_length);
    c->body_length += length;
    return 0;
}

static int on_message_complete(http_parser *parser)
{
    serve_conn *c = parser->data;
    c->complete = true;
    /* a chunked body ends with its trailer's CRLF, a request without a body with the head's */
    c->check = c->chunked || c->body_length == 0 ? CHECK_CRLF_BEFORE : CHECK_NONE;
    http_parser_pause(parser, 1); /* one request at a time: the rest waits in `in` */
    return 0;
}

static int on_chunk_header(http_parser *parser)
{
    serve_conn *c = parser->data;
    c->check = CHECK_CRLF_BEFORE; /* the size line's */
    http_parser_pause(parser, 1);
    return 0;
}

static int on_chunk_complete(http_parser *parser)
{
    serve_conn *c = parser->data;
    if (parser->flags & F_TRAILING)
        return 0; /* the end of the trailer: on_message_complete checks it */
    c->check = CHECK_CRLF_BEFORE; /* the one after the chunk's data */
    http_parser_pause(parser, 1);
    return 0;
}

/* The k-th byte (1 or 2) before offset in `in`, where this execute began at start: the bytes
** before start may be gone (compacted, or the buffer emptied), the last two are in tail. */
static char byte_before(const serve_conn *c, size_t offset, size_t k, size_t start)
{
    assert(k >= 1 && k <= 2 && offset >= start);
    if (offset - start >= k)
        return c->in[offset - k];
    size_t back = k - (offset - start); /* 1 or 2 bytes before start */
    return c->tail[2 - back];
}

/* Whether what the parser was paused for holds: it stopped at offset; this execute began at
** start. */
static bool check_holds(const serve_conn *c, size_t offset, size_t start)
{
    switch (c->check) {
    case CHECK_CRLF_BEFORE:
        return byte_before(c, offset, 2, start) == '\r' && byte_before(c, offset, 1, start) == '\n';
    case CHECK_LF_AT:
        return offset < c->in_length && c->in[offset] == '\n' && byte_before(c, offset, 1, start) == '\r';
    default:
        return true;
    }
}

/* Whether every LF among the n bytes parsed from start follows a CR. RFC 9112 2.2 lets a reader
** take a bare LF for a line end, and lets it not: a head or a trailer with one ("X: a\n\r\n" then
** a request) can be framed otherwise by a proxy in front, so in those it is refused. So is a
** line that begins with a blank (obs-fold, RFC 9112 5.2): http-parser joins it to the value
** before, which an application behind (or a proxy in front) may read as a header of its own,
** keep with its line end, or refuse. The byte after the last LF of one execute is the first of
** the next. */
static bool lines_end_in_crlf(const serve_conn *c, size_t start, size_t n)
{
    if (n > 0 && (c->in[start] == ' ' || c->in[start] == '\t') && byte_before(c, start, 1, start) == '\n')
        return false;
    const char *lf = memchr(c->in + start, '\n', n);
    while (lf != NULL) {
        size_t at = (size_t)(lf - c->in);
        if (byte_before(c, at, 1, start) != '\r')
            return false;
        if (at + 1 < start + n && (lf[1] == ' ' || lf[1] == '\t'))
            return false;
        lf = memchr(lf + 1, '\n', start + n - at - 1);
    }
    return true;
}

/* The request's target split into path and query, in the arena (after the target). */
static void split_target(serve_conn *c)
{
    serve_request *r = &c->request;
    const char *target = c->arena;
    r->target = target;
    r->path = "/";
    r->query = NULL;
    size_t length = strlen(target);
    struct http_parser_url url;
    http_parser_url_init(&url);
    if (target[0] == '/' || http_parser_parse_url(target, length, 0, &url) != 0) {
        /* origin form (or "*", on_headers_complete let nothing else through): path up to '?' or
        ** '#', query up to '#' */
        assert(target[0] == '/' || strcmp(target, "*") == 0);
        size_t path_length = strcspn(target, "?#");
        const char *query = target[path_length] == '?' ? target + path_length + 1 : NULL;
        size_t query_length = query != NULL ? strcspn(query, "#") : 0;
        if (serve_grow(&c->arena, &c->arena_capacity, c->arena_length + path_length + query_length + 2) != 0)
            return;
        target = c->arena; /* it may have moved */
        r->target = target;
        char *path = c->arena + c->arena_length;
        memcpy(path, target, path_length);
        path[path_length] = '\0';
        r->path = path;
        c->arena_length += path_length + 1;
        if (query != NULL) {
            query = target + path_length + 1;
            char *copy = c->arena + c->arena_length;
            memcpy(copy, query, query_length);
            copy[query_length] = '\0';
            r->query = copy;
            c->arena_length += query_length + 1;
        }
        return;
    }
    /* absolute form: its path and query */
    size_t path_length = (url.field_set & (1 << UF_PATH)) ? url.field_data[UF_PATH].len : 0;
    size_t query_length = (url.field_set & (1 << UF_QUERY)) ? url.field_data[UF_QUERY].len : 0;
    if (serve_grow(&c->arena, &c->arena_capacity, c->arena_length + path_length + query_length + 3) != 0)
        return;
    target = c->arena;
    r->target = target;
    char *path = c->arena + c->arena_length;
    if (path_length > 0)
        memcpy(path, target + url.field_data[UF_PATH].off, path_length);
    else
        path[path_length++] = '/';
    path[path_length] = '\0';
    r->path = path;
    c->arena_length += path_length + 1;
    if (url.field_set & (1 << UF_QUERY)) {
        char *query = c->arena + c->arena_length;
        memcpy(query, target + url.field_data[UF_QUERY].off, query_length);
        query[query_length] = '\0';
        r->query = query;
        c->arena_length += query_length + 1;
    }
}


/* ---- one request's bytes --------------------------------------------------------------- */

/* The complete request's fields for the handlers. */
static void ready(serve_conn *c)
{
    serve_request *r = &c->request;
    assert(c->complete);
    c->complete = false;
    c->phase = PHASE_IDLE;
    c->request_ms = 0;
    split_target(c);
    r->method = (int)c->parser.method;
    r->http_major = c->parser.http_major;
    r->http_minor = c->parser.http_minor;
    /* an Upgrade the parser stopped at is not served: the connection ends after the answer */
    r->keep_alive = http_should_keep_alive(&c->parser) != 0 && !c->parser.upgrade;
    if (c->chunked) {
        r->body = c->owned_length > 0 ? c->owned_body : (const unsigned char *)"";
        r->body_length = c->owned_length;
    } else {
        r->body = c->body_length > 0 ? (const unsigned char *)c->in + c->body_start : (const unsigned char *)"";
        r->body_length = c->body_length;
    }
}

static serve_parse_step failed(serve_conn *c, int code, serve_close_why why)
{
    (void)fail_in_parser(c, code, why);
    return SERVE_PARSE_FAILED;
}

serve_parse_step serve_request_parse(serve_conn *c)
{
    while (c->in_parsed < c->in_length) {
        size_t start = c->in_parsed;
        c->check = CHECK_NONE;
        /* a head or a trailer (a body's bytes are anything): every execute stops where one
        ** ends, paused by on_headers_complete or on_message_complete */
        bool lines = c->phase != PHASE_BODY || (c->parser.flags & F_TRAILING) != 0;
        size_t n = http_parser_execute(&c->parser, &parser_settings, c->in + start, c->in_length - start);
        c->in_parsed += n;
        enum http_errno error = HTTP_PARSER_ERRNO(&c->parser);
        if (lines && !lines_end_in_crlf(c, start, n)) {
            /* before what a callback refused, if one did (an Expect, a method): in pieces, the
            ** bare LF would be found first, and the answer must not depend on the pieces */
            c->fail_code = 400;
            c->fail_why = SERVE_CLOSE_MALFORMED;
            return SERVE_PARSE_FAILED;
        }
        if (c->fail_code != 0)
            return SERVE_PARSE_FAILED;
        bool holds = error != HPE_PAUSED || check_holds(c, c->in_parsed, start);
        /* the last two bytes parsed, for the next execute's checks */
        if (n >= 2) {
            c->tail[0] = c->in[c->in_parsed - 2];
            c->tail[1] = c->in[c->in_parsed - 1];
        } else if (n == 1) {
            c->tail[0] = c->tail[1];
            c->tail[1] = c->in[c->in_parsed - 1];
        }
        if (!holds)
            return failed(c, 400, SERVE_CLOSE_MALFORMED);
        if (error == HPE_HEADER_OVERFLOW)
            return failed(c, 431, SERVE_CLOSE_TOO_LARGE);
        if (error != HPE_OK && error != HPE_PAUSED)
            return failed(c, 400, SERVE_CLOSE_MALFORMED);
        if (error == HPE_PAUSED)
            http_parser_pause(&c->parser, 0); /* a pause may come before any byte was taken */
        else if (n == 0)
            break;
        if (c->complete) {
            ready(c);
            return SERVE_PARSE_REQUEST;
        }
    }
    return SERVE_PARSE_MORE;
}

void serve_request_rewind(serve_conn *c)
{
    if (c->in_parsed == c->in_length && (c->phase != PHASE_BODY || c->chunked || c->body_length == 0))
        c->in_parsed = c->in_length = c->body_start = 0;
}

void serve_request_compact(serve_conn *c)
{
    size_t keep = c->in_parsed;
    if (c->phase == PHASE_BODY && !c->chunked && c->body_length > 0)
        keep = c->body_start;
    if (keep == 0)
        return;
    memmove(c->in, c->in + keep, c->in_length - keep);
    c->in_length -= keep;
    c->in_parsed -= keep;
    if (c->body_length > 0 && !c->chunked)
        c->body_start -= keep;
}

/* ---- the request's accessors ---------------------------------------------------------- */

const char *serve_request_header(const serve_request *request, const char *name)
{
    const serve_conn *c = request->conn;
    for (size_t i = 0; i < c->header_count; i++) {
        if (strcasecmp(c->arena + c->headers[i].name, name) == 0)
            return c->arena + c->headers[i].value;
    }
    return NULL;
}

size_t serve_request_header_count(const serve_request *request)
{
    return request->conn->header_count;
}

void serve_request_header_at(const serve_request *request, size_t index, const char **name, const char **value)
{
    const serve_conn *c = request->conn;
    assert(index < c->header_count);
    *name = c->arena + c->headers[index].name;
    *value = c->arena + c->headers[index].value;
}

const char *serve_request_peer(const serve_request *request)
{
    return request->conn->peer;
}

SSL *serve_request_tls(const serve_request *request)
{
    return request->conn->ssl;
}
