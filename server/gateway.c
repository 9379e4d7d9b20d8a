/*
** gateway.c — gateway mode: a permitted request goes to serve.upstream with the security
** results attached as x-warden-* headers; anything else is answered here with a SOAP Fault
** and never reaches the application.
**
** What Warden judged is what the application receives: the body judged, framed by its length,
** with the headers Warden read (request.c refused a request whose judged headers could be read
** two ways, or that has Connection name one of them). Headers a client
** sends named x-warden-* are dropped before ours are added, so a client cannot forge a result;
** hop-by-hop headers (RFC 9110 section 7.6.1, and those the Connection header names) are not
** forwarded either way, nor is Expect. Upstream failures are 502, an upstream that does not
** answer within timeouts.upstream_ms is 504; neither leaks the request.
**
** Upstream connections are kept alive: each worker keeps up to serve.upstream_keepalive idle
** ones and takes one for each forwarded request, which has it alone until its answer is in.
** It goes back only after a complete answer with nothing read past it (an upstream that sends
** more than one answer cannot have the extra one given to the next client) that keeps the
** connection alive (answer_keeps_alive); after a failure, or with the pool full, it is freed
** from the event loop (never inside libevent's own callback). An idle connection the
** upstream closes is noticed by libevent, which connects again when it is next used.
**
** The client's side is a serve_request (conn.c), answered from upstream_done. A client that
** leaves first unlinks itself (serve_gateway_cancel): its forward still takes the upstream's
** answer (so the connection can be kept) and drops it.
*/
#include "serve.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h> /* the answer's HTTP version (no accessor in 2.1) */
#include <event2/keyvalq_struct.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct serve_forward forward;
struct serve_forward {
    serve_worker             *worker;
    serve_request            *client;     /* the request we answer; NULL once its client has gone */
    struct evhttp_connection *upstream;
    bool                      timed_out;
    forward                  *prev, *next; /* the worker's forwards in flight */
};

/* Expect too: Warden answered it (100 Continue) and holds the whole body; the application
** must not answer it again (a 100 first, or 417). */
static const char *const hop_by_hop[] = {
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length", "expect", NULL,
};

/* Whether a header must not cross the gateway: hop-by-hop, or x-warden-* (serve_is_warden_header). */
static bool is_dropped(const char *name)
{
    if (serve_is_warden_header(name))
        return true;
    for (size_t i = 0; hop_by_hop[i] != NULL; i++) {
        if (strcasecmp(name, hop_by_hop[i]) == 0)
            return true;
    }
    return false;
}

/* Whether one of the request's Connection headers names name: hop-by-hop for this request.
** request.c refused a request naming a header Warden judged it by (Content-Type, SOAPAction,
** ...); the headers Warden adds are added after, so naming them removes only the client's own. */
static bool named_by_connection(const serve_request *request, const char *name)
{
    size_t count = serve_request_header_count(request);
    for (size_t i = 0; i < count; i++) {
        const char *header, *value;
        serve_request_header_at(request, i, &header, &value);
        if (strcasecmp(header, "Connection") == 0 && serve_list_names(value, name))
            return true;
    }
    return false;
}

/* X-Forwarded-For and X-Forwarded-Proto are made here (add_forwarded), not copied. */
static bool is_forwarded(const char *name)
{
    return strcasecmp(name, "x-forwarded-for") == 0 || strcasecmp(name, "x-forwarded-proto") == 0;
}

/* The client's request headers to the upstream request; -1 when one could not be added (out
** of memory): never forwarded without it. */
static int copy_request_headers(const serve_request *from, struct evkeyvalq *to)
{
    size_t count = serve_request_header_count(from);
    for (size_t i = 0; i < count; i++) {
        const char *name, *value;
        serve_request_header_at(from, i, &name, &value);
        if (!is_dropped(name) && !is_forwarded(name) && !named_by_connection(from, name)
            && evhttp_add_header(to, name, value) != 0)
            return -1;
    }
    return 0;
}

/* What a proxy tells the application of its client (as nginx's $proxy_add_x_forwarded_for and
** Envoy do): X-Forwarded-For is the client's own list, if it sent one, with the address of the
** client Warden saw appended (only that last entry is Warden's word); X-Forwarded-Proto is the
** scheme the client used with Warden, never the client's claim. */
static int add_forwarded(const serve_request *from, struct evkeyvalq *to)
{
    const char *peer = serve_request_peer(from);
    size_t address_length = strlen(peer);
    if (peer[0] == '[') {
        const char *end = strchr(peer, ']');
        address_length = end != NULL ? (size_t)(end - peer) - 1 : 0;
        peer++;
    } else if (strrchr(peer, ':') != NULL) {
        address_length = (size_t)(strrchr(peer, ':') - peer);
    }
    char list[4096];
    size_t used = 0;
    size_t count = serve_request_header_count(from);
    for (size_t i = 0; i < count; i++) {
        const char *name, *value;
        serve_request_header_at(from, i, &name, &value);
        if (strcasecmp(name, "x-forwarded-for") != 0 || value[0] == '\0')
            continue;
        int n = snprintf(list + used, sizeof list - used, "%s%s", used > 0 ? ", " : "", value);
        if (n < 0 || (size_t)n >= sizeof list - used - 64) {
            used = 0; /* a list too long to keep (64 bytes stay for ours): only Warden's entry goes */
            break;
        }
        used += (size_t)n;
    }
    snprintf(list + used, sizeof list - used, "%s%.*s", used > 0 ? ", " : "", (int)address_length, peer);
    if (evhttp_add_header(to, "X-Forwarded-For", list) != 0)
        return -1;
    return evhttp_add_header(to, "X-Forwarded-Proto", serve_request_tls(from) != NULL ? "https" : "http");
}

/* The upstream answer's headers to the client's answer. */
static void copy_answer_headers(struct evkeyvalq *from, serve_request *to)
{
    const char *connection = evhttp_find_header(from, "Connection");
    for (struct evkeyval *header = from->tqh_first; header != NULL; header = header->next.tqe_next) {
        if (!is_dropped(header->key) && (connection == NULL || !serve_list_names(connection, header->key)))
            serve_request_add_header(to, header->key, header->value);
    }
}

typedef struct upstream_headers {
    struct evkeyvalq *headers;
    bool              failed; /* a header could not be added: the request is not forwarded */
} upstream_headers;

static void add_to_upstream(void *target, const char *name, const char *value)
{
    upstream_headers *to = target;
    if (evhttp_add_header(to->headers, name, value) != 0)
        to->failed = true;
}

/* ---- the SOAP Fault of a denied request ---------------------------------------------- */

static void add_escaped(struct evbuffer *out, const char *text)
{
    for (; *text != '\0'; text++) {
        switch (*text) {
        case '<': evbuffer_add(out, "&lt;", 4); break;
        case '>': evbuffer_add(out, "&gt;", 4); break;
        case '&': evbuffer_add(out, "&amp;", 5); break;
        case '"': evbuffer_add(out, "&quot;", 6); break;
        default:
            if ((unsigned char)*text >= 0x20 || *text == '\t')
                evbuffer_add(out, text, 1);
        }
    }
}

/* WS-Security 1.0 section 12: failed authentication for credentials that did not check out,
** invalid security for everything else a security check rejected. */
static const char *wsse_fault_code(const char *reason)
{
    static const char *const authentication[] = { "password-invalid", "user-unknown", "cert-untrusted",
                                                  "cert-expired", "cert-revoked", "cert-usage", NULL };
    for (size_t i = 0; authentication[i] != NULL; i++) {
        if (strcmp(reason, authentication[i]) == 0)
            return "wsse:FailedAuthentication";
    }
    return "wsse:InvalidSecurity";
}

#define WSSE_NS "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"

void serve_gateway_deny(serve_request *request, const serve_verdict *verdict)
{
    struct evbuffer *body = serve_request_body_out(request);
    bool security = strcmp(verdict->stage, "security") == 0;
    char text[320];

    snprintf(text, sizeof text, "%s: %s", security ? "rejected" : "denied", verdict->reason);
    if (verdict->soap_version == 12) {
        evbuffer_add_printf(body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                  "<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\" "
                                  "xmlns:wsse=\"" WSSE_NS "\"><env:Body><env:Fault><env:Code>"
                                  "<env:Value>env:Sender</env:Value>");
        if (security)
            evbuffer_add_printf(body, "<env:Subcode><env:Value>%s</env:Value></env:Subcode>",
                                wsse_fault_code(verdict->reason));
        evbuffer_add_printf(body, "</env:Code><env:Reason><env:Text xml:lang=\"en\">");
        add_escaped(body, text);
        evbuffer_add_printf(body, "</env:Text></env:Reason><env:Detail><reason>");
        add_escaped(body, verdict->reason);
        evbuffer_add_printf(body, "</reason></env:Detail></env:Fault></env:Body></env:Envelope>\n");
        serve_request_add_header(request, "Content-Type", "application/soap+xml; charset=utf-8");
    } else {
        evbuffer_add_printf(body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                  "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                                  "xmlns:wsse=\"" WSSE_NS "\"><soap:Body><soap:Fault><faultcode>%s</faultcode>"
                                  "<faultstring>",
                            security ? wsse_fault_code(verdict->reason) : "soap:Client");
        add_escaped(body, text);
        evbuffer_add_printf(body, "</faultstring><detail><reason>");
        add_escaped(body, verdict->reason);
        evbuffer_add_printf(body, "</reason></detail></soap:Fault></soap:Body></soap:Envelope>\n");
        serve_request_add_header(request, "Content-Type", "text/xml; charset=utf-8");
    }
    serve_request_add_header(request, "x-warden-decision", "deny");
    serve_request_add_header(request, "x-warden-reason", verdict->reason);
    serve_reply(request, 403, "Forbidden", NULL);
}

/* ---- forwarding ----------------------------------------------------------------------- */

/* A finished forward's upstream connection, freed from the event loop; until then the forward
** waits on the worker's reaping list, which serve_gateway_stop empties (the loop may end first). */
static void free_connection(evutil_socket_t fd, short what, void *arg)
{
    forward *f = arg;
    serve_worker *worker = f->worker;
    (void)fd;
    (void)what;
    if (f->prev != NULL)
        f->prev->next = f->next;
    else
        worker->reaping = f->next;
    if (f->next != NULL)
        f->next->prev = f->prev;
    evhttp_connection_free(f->upstream);
    free(f);
}

/* An idle connection to the upstream, or a new one (connected when first used). */
static struct evhttp_connection *take_connection(serve_worker *worker)
{
    if (worker->upstream_idle_count > 0)
        return worker->upstream_idle[--worker->upstream_idle_count];
    const serve_upstream *upstream = &worker->server->settings.upstream;
    struct evhttp_connection *connection = evhttp_connection_base_new(worker->base, NULL, upstream->address,
                                                                      upstream->port);
    if (connection == NULL)
        return NULL;
    struct timeval timeout = { worker->server->settings.upstream_ms / 1000,
                               (worker->server->settings.upstream_ms % 1000) * 1000 };
    evhttp_connection_set_timeout_tv(connection, &timeout);
    evhttp_connection_set_retries(connection, 0);
    return connection;
}

/* The forward is over: its connection goes back to the pool when reusable, else is freed. */
static void finish(forward *f, bool reusable)
{
    serve_worker *worker = f->worker;
    if (f->prev != NULL)
        f->prev->next = f->next;
    else
        worker->forwards = f->next;
    if (f->next != NULL)
        f->next->prev = f->prev;
    struct bufferevent *bev = evhttp_connection_get_bufferevent(f->upstream);
    if (reusable && bev != NULL && evbuffer_get_length(bufferevent_get_input(bev)) == 0
        && worker->upstream_idle_count < (size_t)worker->server->settings.upstream_keepalive) {
        worker->upstream_idle[worker->upstream_idle_count++] = f->upstream;
    } else {
        /* libevent is still inside the upstream connection's callback: free it on the next turn */
        struct timeval now = { 0, 0 };
        f->prev = NULL;
        f->next = worker->reaping;
        if (f->next != NULL)
            f->next->prev = f;
        worker->reaping = f;
        if (event_base_once(worker->base, -1, EV_TIMEOUT, free_connection, f, &now) == 0)
            return;
        worker->reaping = f->next;
        if (f->next != NULL)
            f->next->prev = NULL;
        evhttp_connection_free_on_completion(f->upstream);
    }
    free(f);
}

void serve_gateway_cancel(struct serve_forward *f)
{
    f->client = NULL;
}

void serve_gateway_stop(serve_worker *worker)
{
    while (worker->forwards != NULL) {
        forward *f = worker->forwards;
        worker->forwards = f->next;
        evhttp_connection_free(f->upstream); /* frees its request without calling back */
        free(f);
    }
    while (worker->reaping != NULL) {
        forward *f = worker->reaping;
        worker->reaping = f->next;
        evhttp_connection_free(f->upstream); /* its free_connection never ran: the loop had ended */
        free(f);
    }
    while (worker->upstream_idle_count > 0)
        evhttp_connection_free(worker->upstream_idle[--worker->upstream_idle_count]);
}

/* Whether the upstream meant to keep the connection open after this answer. libevent 2.1
** looks only for "Connection: close", and would keep an HTTP/1.0 connection the upstream is
** closing: the next request sent on it would fail (502). */
static bool answer_keeps_alive(struct evhttp_request *answer)
{
    const char *connection = evhttp_find_header(evhttp_request_get_input_headers(answer), "Connection");
    bool http_1_1 = answer->major > 1 || (answer->major == 1 && answer->minor >= 1);
    if (connection != NULL && strcasecmp(connection, "close") == 0)
        return false;
    return http_1_1 || (connection != NULL && strcasecmp(connection, "keep-alive") == 0);
}

static void upstream_error(enum evhttp_request_error error, void *arg)
{
    forward *f = arg;
    if (error == EVREQ_HTTP_TIMEOUT)
        f->timed_out = true;
}

static void upstream_done(struct evhttp_request *answer, void *arg)
{
    forward *f = arg;
    serve_request *client = f->client;
    int code = answer != NULL ? evhttp_request_get_response_code(answer) : 0;

    if (code == 0) {
        bool timed_out = f->timed_out;
        if (client != NULL) {
            evbuffer_add_printf(serve_request_body_out(client), "%s\n",
                                f->timed_out ? "upstream timed out" : "upstream unavailable");
            serve_request_add_header(client, "Content-Type", "text/plain");
        }
        finish(f, false);
        if (client != NULL)
            serve_reply(client, timed_out ? 504 : 502, timed_out ? "Gateway Timeout" : "Bad Gateway", NULL);
        return;
    }
    bool keep = answer_keeps_alive(answer);
    if (client == NULL) {
        finish(f, keep); /* the client has gone: the answer is dropped */
        return;
    }
    copy_answer_headers(evhttp_request_get_input_headers(answer), client);
    evbuffer_add_buffer(serve_request_body_out(client), evhttp_request_get_input_buffer(answer));
    serve_reply(client, code, evhttp_request_get_response_code_line(answer), NULL);
    finish(f, keep);
}

/* The evhttp command of a method conn.c lets through (method_served). */
static enum evhttp_cmd_type command_of(int method)
{
    switch (method) {
    case HTTP_GET: return EVHTTP_REQ_GET;
    case HTTP_HEAD: return EVHTTP_REQ_HEAD;
    case HTTP_PUT: return EVHTTP_REQ_PUT;
    case HTTP_DELETE: return EVHTTP_REQ_DELETE;
    case HTTP_OPTIONS: return EVHTTP_REQ_OPTIONS;
    case HTTP_PATCH: return EVHTTP_REQ_PATCH;
    default: return EVHTTP_REQ_POST;
    }
}

void serve_gateway_forward(serve_request *request, serve_verdict *verdict, const unsigned char *body, size_t length)
{
    serve_worker *worker = request->worker;
    const serve_upstream *upstream = &worker->server->settings.upstream;
    char revision[96];
    char target[SERVE_TARGET_LIMIT + sizeof upstream->prefix + 2];
    struct evhttp_request *out = NULL;
    forward *f = calloc(1, sizeof *f);

    snprintf(revision, sizeof revision, "%s",
             verdict != NULL && verdict->decision != NULL ? warden_decision_revision(verdict->decision) : "");
    if (f == NULL)
        goto failed;
    /* origin form as the client sent it (absolute form's path and query; a fragment dropped) */
    int n = snprintf(target, sizeof target, "%s%s%s%s", upstream->prefix, request->path[0] == '/' ? request->path : "/",
                     request->query != NULL ? "?" : "", request->query != NULL ? request->query : "");
    if (n < 0 || (size_t)n >= sizeof target)
        goto failed; /* a target too long for the upstream request: never forwarded cut short */
    f->worker = worker;
    f->client = request;
    f->upstream = take_connection(worker);
    if (f->upstream == NULL)
        goto failed;

    out = evhttp_request_new(upstream_done, f);
    if (out == NULL)
        goto failed;
    evhttp_request_set_error_cb(out, upstream_error);
    upstream_headers to = { evhttp_request_get_output_headers(out), false };
    char host[300], size[32];
    snprintf(host, sizeof host, "%s:%u", upstream->host, (unsigned)upstream->port);
    if (copy_request_headers(request, to.headers) != 0 || add_forwarded(request, to.headers) != 0
        || evhttp_add_header(to.headers, "Host", host) != 0)
        goto failed;
    if (verdict != NULL) {
        serve_add_verdict_headers(add_to_upstream, &to, verdict, revision);
        /* the body judged, framed by its length whatever the method: libevent 2.1 adds a
        ** Content-Length only to a POST or PUT, and sends a DELETE's, OPTIONS' or PATCH's body
        ** after a head without one, where the application reads the next request (handlers.c
        ** judges only POSTs in gateway mode; this does not rest on it) */
        snprintf(size, sizeof size, "%zu", length);
        if (evhttp_add_header(to.headers, "Content-Length", size) != 0)
            to.failed = true;
    }
    if (to.failed || (length > 0 && evbuffer_add(evhttp_request_get_output_buffer(out), body, length) != 0))
        goto failed;

    struct evhttp_request *made = out;
    out = NULL; /* evhttp_make_request frees it when it fails */
    if (evhttp_make_request(f->upstream, made, command_of(request->method), target) != 0)
        goto failed;
    f->next = worker->forwards;
    if (f->next != NULL)
        f->next->prev = f;
    worker->forwards = f;
    serve_request_defer(request, f); /* answered in upstream_done */
    return;

failed:
    if (out != NULL)
        evhttp_request_free(out);
    if (f != NULL && f->upstream != NULL)
        evhttp_connection_free(f->upstream);
    free(f);
    evbuffer_add_printf(serve_request_body_out(request), "upstream unavailable\n");
    serve_request_add_header(request, "Content-Type", "text/plain");
    serve_reply(request, 502, "Bad Gateway", NULL);
}

void serve_gateway_pass(serve_request *request)
{
    serve_gateway_forward(request, NULL, NULL, 0);
}
