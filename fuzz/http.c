/*
** http.c — fuzzes the parsing of `warden serve`'s requests (server/request.c over http-parser):
** the bytes a client sends on one connection, pipelined requests included, go into a
** serve_conn's read buffer the way conn.c puts them there, and serve_request_parse is called
** until it needs more bytes or fails, each complete request taken as conn.c takes it (a request
** that does not keep the connection alive is the last one parsed; serve_request_rewind after
** each read, serve_request_compact as make_room does when it needs room).
**
** The input: a control byte (bits 0-2: how many read lengths follow; bit 3: compact before
** every read; bit 4: a 64-byte body limit instead of 4096; bit 5: the read lengths repeat until
** the end, else one last read takes the rest), then one byte per read length (0 meaning 1),
** then the bytes sent. The stream is parsed twice: once in one read, once in those reads.
** Oracles, beyond the sanitizers:
**   - each request holds what the handlers rely on (a served method, a visible-ASCII target, a
**     path that starts with '/' and has no dot segment, header names that are tokens and values
**     without control characters, one framing header at most, a Content-Length body of exactly
**     that length, one Content-Type and SOAPAction at most, whose action reads (serve_http_action));
**   - framing does not depend on how the bytes arrived: both parses give the same requests
**     (method, version, keep-alive, target, path, query, headers, body, a 100 Continue or not),
**     then end the same way (the same answer code, or the same wait for more bytes). Where a
**     failure is detected, in bytes, may differ: a callback sees a piece when its read ends.
*/
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "conn_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* request.c's one outside need besides libevent: a request's start time (unused here). */
int64_t serve_monotonic_ms(void)
{
    return 0;
}

/* What one parse produced, as bytes to compare. */
typedef struct trace {
    unsigned char *bytes;
    size_t         length, capacity;
} trace;

static void trace_add(trace *t, const void *bytes, size_t length)
{
    if (serve_grow((char **)&t->bytes, &t->capacity, t->length + length) != 0)
        abort();
    if (length > 0)
        memcpy(t->bytes + t->length, bytes, length);
    t->length += length;
}

static void trace_number(trace *t, size_t n)
{
    trace_add(t, &n, sizeof n);
}

static void trace_text(trace *t, const char *text)
{
    if (text == NULL) {
        trace_add(t, "\xff", 1); /* not a string: NULL differs from "" */
        return;
    }
    trace_add(t, text, strlen(text) + 1);
}

static void fail(const char *what)
{
    fprintf(stderr, "fuzz finding: %s\n", what);
    abort();
}

/* RFC 9110 5.6.2. */
static int is_token(const char *text)
{
    if (*text == '\0')
        return 0;
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", *p) != NULL)
            return 0;
    }
    return 1;
}

static void check_request(const serve_conn *c, const serve_request *r)
{
    switch (r->method) {
    case HTTP_GET: case HTTP_POST: case HTTP_PUT: case HTTP_DELETE: case HTTP_HEAD: case HTTP_OPTIONS: case HTTP_PATCH:
        break;
    default:
        fail("a method that is not served reached a handler");
    }
    if (r->conn != c || r->target == NULL || r->path == NULL || r->body == NULL)
        fail("a request field is NULL");
    if (r->target[0] == '\0' || strlen(r->target) > SERVE_TARGET_LIMIT)
        fail("an empty or oversized target");
    for (const unsigned char *p = (const unsigned char *)r->target; *p != '\0'; p++) {
        if (*p <= 0x20 || *p >= 0x7f)
            fail("a blank, control or 8-bit byte in the target");
    }
    bool asterisk = strcmp(r->target, "*") == 0 && strcmp(r->path, "*") == 0 && r->method == HTTP_OPTIONS;
    if (r->path[0] != '/' && !asterisk)
        fail("a path that does not start with '/' (but OPTIONS *)");
    if (r->query != NULL && strchr(r->target, '?') == NULL)
        fail("a query without '?' in the target");

    for (const char *p = r->path; *p != '\0'; p++) {
        size_t dots = p[0] == '/' ? strspn(p + 1, ".") : 0;
        if ((dots == 1 || dots == 2) && (p[1 + dots] == '/' || p[1 + dots] == '\0'))
            fail("a dot segment in the path");
    }

    size_t count = serve_request_header_count(r), lengths = 0, encodings = 0, types = 0, actions = 0;
    const char *length_value = NULL;
    for (size_t i = 0; i < count; i++) {
        const char *name, *value;
        serve_request_header_at(r, i, &name, &value);
        if (!is_token(name))
            fail("a header name that is not a token");
        size_t n = strlen(value);
        for (size_t k = 0; k < n; k++) {
            unsigned char ch = (unsigned char)value[k];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                fail("a control character in a header value");
        }
        if (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
            fail("a header value ends with a blank");
        if (strcasecmp(name, "Content-Length") == 0) {
            lengths++;
            if (length_value == NULL)
                length_value = value;
        } else if (strcasecmp(name, "Transfer-Encoding") == 0)
            encodings++;
        else if (strcasecmp(name, "Content-Type") == 0)
            types++;
        else if (strcasecmp(name, "SOAPAction") == 0)
            actions++;
    }
    char action[SERVE_ACTION_LIMIT];
    if (types > 1 || actions > 1
        || !serve_http_action(serve_request_header(r, "SOAPAction"), serve_request_header(r, "Content-Type"), action))
        fail("a Content-Type or SOAPAction that reads two ways reached a handler");
    if (lengths > 1 || encodings > 1 || (lengths > 0 && encodings > 0))
        fail("ambiguous framing reached a handler");
    if (serve_request_header(r, "Content-Length") != length_value)
        fail("serve_request_header is not the first Content-Length");
    if (encodings == 1 && !c->chunked)
        fail("Transfer-Encoding without a chunked body");
    if (encodings == 0) {
        size_t expected = 0;
        if (length_value != NULL) {
            char *end;
            unsigned long long n = strtoull(length_value, &end, 10);
            if (*length_value < '0' || *length_value > '9' || *end != '\0')
                fail("a Content-Length that is not a number reached a handler");
            expected = (size_t)n;
        }
        if (r->body_length != expected)
            fail("a body of another length than its Content-Length");
    }
}

/* Takes the complete request as conn.c does: into the trace (what a handler sees). */
static void take_request(serve_conn *c, trace *t)
{
    const serve_request *r = &c->request;
    check_request(c, r);
    trace_add(t, "R", 1);
    trace_number(t, (size_t)r->method);
    trace_number(t, (size_t)(r->http_major * 1000 + r->http_minor));
    trace_number(t, r->keep_alive);
    trace_text(t, r->target);
    trace_text(t, r->path);
    trace_text(t, r->query);
    size_t count = serve_request_header_count(r);
    trace_number(t, count);
    for (size_t i = 0; i < count; i++) {
        const char *name, *value;
        serve_request_header_at(r, i, &name, &value);
        trace_text(t, name);
        trace_text(t, value);
    }
    trace_number(t, r->body_length);
    trace_add(t, r->body, r->body_length);
    /* a 100 Continue written by the parser for this request (the answer would drain it) */
    trace_number(t, evbuffer_get_length(c->out));
    evbuffer_drain(c->out, evbuffer_get_length(c->out));
}

typedef enum { GOES_ON, STOPPED } outcome;

/* conn_process: parses what was read, request by request. */
static outcome process(serve_conn *c, trace *t)
{
    while (c->in_parsed < c->in_length) {
        serve_parse_step step = serve_request_parse(c);
        if (step == SERVE_PARSE_FAILED) {
            if (c->fail_code == 0)
                fail("a failure without an answer code");
            trace_add(t, "F", 1);
            trace_number(t, (size_t)c->fail_code);
            trace_number(t, (size_t)c->fail_why);
            return STOPPED;
        }
        if (step == SERVE_PARSE_MORE)
            break;
        if (c->in_parsed > c->in_length)
            fail("parsed past what was read");
        take_request(c, t);
        if (!c->request.keep_alive) {
            trace_add(t, "C", 1); /* answered with Connection: close: nothing more is parsed */
            return STOPPED;
        }
    }
    serve_request_rewind(c);
    return GOES_ON;
}

/* One connection receiving the stream in reads of the given lengths: repeated when cycle is
** set, else followed by one read of the rest. */
static void parse(serve_worker *worker, const uint8_t *bytes, size_t size, const size_t *reads, size_t read_count,
                  int cycle, int compact, trace *t)
{
    serve_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        abort();
    c->worker = worker;
    c->fd = -1;
    c->request.conn = c;
    c->request.worker = worker;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->out = evbuffer_new();
    if (c->out == NULL)
        abort();
    size_t sent = 0;
    for (size_t i = 0; sent < size; i++) {
        size_t n = size - sent;
        if (i < read_count || (cycle && read_count > 0))
            n = reads[i % read_count];
        if (n > size - sent)
            n = size - sent;
        if (compact)
            serve_request_compact(c);
        /* a fresh buffer for every read, as realloc may give: nothing may point into the old one */
        char *in = malloc(c->in_length + n);
        if (in == NULL)
            abort();
        if (c->in_length > 0)
            memcpy(in, c->in, c->in_length);
        free(c->in);
        c->in = in;
        c->in_capacity = c->in_length + n;
        memcpy(c->in + c->in_length, bytes + sent, n);
        c->in_length += n;
        sent += n;
        if (process(c, t) == STOPPED)
            goto done;
    }
    trace_add(t, "M", 1); /* waits for more */
    trace_number(t, c->phase != PHASE_IDLE);

done:
    evbuffer_free(c->out);
    free(c->in);
    free(c->arena);
    free(c->headers);
    free(c->owned_body);
    free(c);
}

static void show(const char *label, const trace *t)
{
    fprintf(stderr, "%s (%zu bytes):\n", label, t->length);
    for (size_t i = 0; i < t->length; i++) {
        unsigned char ch = t->bytes[i];
        fputc(ch >= 0x20 && ch < 0x7f ? ch : '.', stderr);
    }
    fputc('\n', stderr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned control = data[0];
    size_t read_count = control & 7;
    if (size < 1 + read_count)
        return 0;
    size_t reads[7];
    for (size_t i = 0; i < read_count; i++)
        reads[i] = data[1 + i] == 0 ? 1 : data[1 + i];
    const uint8_t *bytes = data + 1 + read_count;
    size_t length = size - 1 - read_count;

    static serve_server server;
    static serve_worker worker;
    server.settings.body_limit = (control & 16) ? 64 : 4096;
    worker.server = &server;

    trace whole = {0}, split = {0};
    parse(&worker, bytes, length, NULL, 0, 0, 0, &whole);
    parse(&worker, bytes, length, reads, read_count, (control & 32) != 0, (control & 8) != 0, &split);
    if (whole.length != split.length || memcmp(whole.bytes, split.bytes, whole.length) != 0) {
        show("in one read", &whole);
        show("in pieces", &split);
        fail("the requests parsed depend on how the bytes were split");
    }
    free(whole.bytes);
    free(split.bytes);
    return 0;
}
