/*
** handlers.c — what `warden serve` answers: GET /health, /v1/status, /metrics; POST
** /v1/decide (the decision JSON of `warden decide --json`); and on every other path either
** the Envoy ext_authz HTTP-service contract (check mode: 200 allow, 403 deny, x-warden-*
** headers) or the gateway (gateway.c). Requests are judged on the worker's thread: verifying
** and deciding are CPU work on the shared, thread-safe engine.
*/
#include "serve.h"

#include <assert.h>
#include <ctype.h>
#include <event2/buffer.h>
#include <http_parser.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "json_text.h"

int64_t serve_monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static double monotonic_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void reply_text(serve_request *request, int code, const char *reason, const char *content_type,
                       const char *text)
{
    evbuffer_add(serve_request_body_out(request), text, strlen(text));
    serve_request_add_header(request, "Content-Type", content_type);
    serve_reply(request, code, reason, NULL);
}

static void reply_json(serve_request *request, int code, const char *reason, json_t *object)
{
    char *text = json_dumps(object, JSON_COMPACT);
    struct evbuffer *body = serve_request_body_out(request);
    if (text != NULL) {
        evbuffer_add(body, text, strlen(text));
        evbuffer_add(body, "\n", 1);
    }
    free(text);
    serve_request_add_header(request, "Content-Type", "application/json");
    serve_reply(request, code, reason, NULL);
}

/* ---- judging a request ---------------------------------------------------------------- */

/* The request's SOAP version before (or without) parsing: SOAP 1.2 is application/soap+xml. */
static int content_type_soap_version(const serve_request *request)
{
    return serve_content_type_is_soap12(serve_request_header(request, "Content-Type")) ? 12 : 11;
}

/* The decision's log line (the library's builder, the same line `warden decide` writes),
** queued for the writer thread. */
static void log_verdict(serve_worker *worker, const serve_request *request, const serve_verdict *verdict)
{
    if (!serve_log_active(&worker->server->log) || verdict->decision == NULL)
        return;
    const char *remote = serve_request_peer(request);
    char *line = warden_decision_log_line(verdict->decision, remote[0] != '\0' ? remote : NULL);
    if (line != NULL)
        serve_log_push(&worker->server->log, line, strlen(line));
    free(line);
}

/* The HTTP-level action (soap_headers.c): request.c refused a request whose headers read it
** more than one way, so it reads. Written to out ("" when there is none). */
static void http_action(const serve_request *request, char out[SERVE_ACTION_LIMIT])
{
    out[0] = '\0';
    bool read = serve_http_action(serve_request_header(request, "SOAPAction"),
                                  serve_request_header(request, "Content-Type"), out);
    assert(read);
    (void)read;
}

/* Verifies and decides the request's body. The verdict owns the message and decision.
** application: the request is one for the application (the gateway's, or Envoy's ext_authz
** check of one), whose method and path policies see as m.http_method and m.http_path; a
** /v1/decide request asks Warden about a message, and its own path says nothing of the
** application's, so they stay nil there. */
static void judge(serve_worker *worker, const serve_request *request, bool application, const unsigned char *body,
                  size_t length, serve_verdict *verdict)
{
    warden_engine *engine = worker->server->engine;
    warden_error err;
    unsigned char *peer = NULL;
    size_t peer_length = 0;
    double started = monotonic_seconds();

    memset(verdict, 0, sizeof *verdict);
    verdict->soap_version = content_type_soap_version(request);
    serve_tls_peer_cert(serve_request_tls(request), &peer, &peer_length);

    warden_receive_options options;
    memset(&options, 0, sizeof options);
    options.size = sizeof options;
    options.transport_cert.data = peer;
    options.transport_cert.length = peer_length;
    char action[SERVE_ACTION_LIMIT];
    http_action(request, action);
    if (action[0] != '\0')
        options.http_action = action;
    if (application) {
        /* the path as received, which request.c refused with a dot segment in any spelling; the
        ** gateway forwards this very path (after serve.upstream's prefix) */
        options.http_method = http_method_str((enum http_method)request->method);
        options.http_path = request->path;
    }

    int status = warden_engine_receive(engine, body, length, &options, &verdict->message, &err);
    free(peer);
    if (status != WARDEN_OK) {
        verdict->stage = "security";
        snprintf(verdict->reason, sizeof verdict->reason, "%s", err.reason[0] != '\0' ? err.reason : "internal-error");
        snprintf(verdict->detail, sizeof verdict->detail, "%s", err.text);
        /* a rejection is a deny decision too: its log line comes from the library's builder */
        if (serve_log_active(&worker->server->log))
            warden_engine_rejection(engine, &err, (int64_t)((monotonic_seconds() - started) * 1e6), &verdict->decision);
        goto done;
    }
    warden_string soap = { NULL, 0 };
    if (warden_message_get_property(verdict->message, WARDEN_MESSAGE_PROPERTY_SOAP_VERSION, &soap, sizeof soap)
            == WARDEN_OK && soap.length == 3 && memcmp(soap.data, "1.2", 3) == 0)
        verdict->soap_version = 12;
    else if (soap.data != NULL)
        verdict->soap_version = 11;
    status = warden_engine_decide(engine, verdict->message, &verdict->decision, &err);
    if (status != WARDEN_OK) {
        verdict->stage = "policy";
        snprintf(verdict->reason, sizeof verdict->reason, "%s", "policy-error");
        snprintf(verdict->detail, sizeof verdict->detail, "%s", err.text);
        goto done;
    }
    verdict->allowed = warden_decision_allowed(verdict->decision) == 1;
    verdict->stage = warden_decision_stage(verdict->decision);
    snprintf(verdict->reason, sizeof verdict->reason, "%s", warden_decision_reason(verdict->decision));
done:;
    double seconds = monotonic_seconds() - started;
    serve_metrics_decision(&worker->server->metrics, verdict->allowed ? "allow" : "deny", verdict->stage,
                           verdict->reason, seconds);
    log_verdict(worker, request, verdict);
}

static void verdict_clear(serve_verdict *verdict)
{
    warden_decision_free(verdict->decision);
    warden_message_free(verdict->message);
    verdict->decision = NULL;
    verdict->message = NULL;
}

/* ---- the decision JSON, written directly: it is the answer to every /v1/decide and
** ext_authz request, so it avoids a JSON library's objects (jansson's compact output, keys in
** the same order; a test compares the two) */

static void evbuffer_put(void *out, const char *bytes, size_t length)
{
    evbuffer_add(out, bytes, length);
}

/* A JSON string, escaped as the decision log escapes it (json_text.h). */
static void put_json_string(struct evbuffer *out, const char *value)
{
    wd_json_put_string(evbuffer_put, out, value);
}

static void put_json_list(struct evbuffer *out, const char *key, const warden_decision *decision,
                          size_t (*count)(const warden_decision *),
                          const char *(*item)(const warden_decision *, size_t))
{
    evbuffer_add_printf(out, ",\"%s\":[", key);
    size_t n = decision != NULL ? count(decision) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *text = item(decision, i);
        if (i > 0)
            evbuffer_add(out, ",", 1);
        put_json_string(out, text != NULL ? text : "");
    }
    evbuffer_add(out, "]", 1);
}

/* The decision JSON of `warden decide --json` and its newline, appended to out. */
static void put_verdict_json(struct evbuffer *out, const serve_verdict *verdict, const char *revision)
{
    evbuffer_add_printf(out, "{\"decision\":\"%s\",\"stage\":", verdict->allowed ? "allow" : "deny");
    put_json_string(out, verdict->stage != NULL ? verdict->stage : "");
    evbuffer_add(out, ",\"reason\":", 10);
    put_json_string(out, verdict->reason);
    if (verdict->detail[0] != '\0') {
        evbuffer_add(out, ",\"detail\":", 10);
        put_json_string(out, verdict->detail);
    }
    put_json_list(out, "rules", verdict->decision, warden_decision_rule_count, warden_decision_rule);
    put_json_list(out, "errors", verdict->decision, warden_decision_error_count, warden_decision_error);
    evbuffer_add(out, ",\"revision\":", 12);
    put_json_string(out, revision);
    evbuffer_add(out, "}\n", 2);
}

static void current_revision(serve_worker *worker, const serve_verdict *verdict, char *out, size_t size)
{
    if (verdict->decision != NULL) {
        snprintf(out, size, "%s", warden_decision_revision(verdict->decision));
        return;
    }
    warden_status status = { .size = sizeof(warden_status) };
    if (warden_engine_status(worker->server->engine, &status) == WARDEN_OK)
        snprintf(out, size, "%s", status.revision);
    else
        out[0] = '\0';
}

typedef void (*add_fn)(void *target, const char *name, const char *value);

/* A header value: control characters (which could end the header) become '?'. */
static void add_header_value(add_fn add, void *target, const char *name, const char *value, size_t length)
{
    char text[1024];
    size_t n = length < sizeof text - 1 ? length : sizeof text - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)value[i];
        text[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    text[n] = '\0';
    add(target, name, text);
}

bool serve_is_warden_header(const char *name)
{
    static const char prefix[] = "x-warden-";
    for (size_t i = 0; i < sizeof prefix - 1; i++) {
        char c = name[i] == '_' ? '-' : (char)tolower((unsigned char)name[i]);
        if (c != prefix[i])
            return false;
    }
    return true;
}

void serve_add_verdict_headers(add_fn add, void *target, const serve_verdict *verdict, const char *revision)
{
    char rules[1024] = "";
    size_t used = 0;
    size_t count = verdict->decision != NULL ? warden_decision_rule_count(verdict->decision) : 0;
    for (size_t i = 0; i < count && used < sizeof rules; i++) {
        int n = snprintf(rules + used, sizeof rules - used, "%s%s", i > 0 ? ", " : "",
                         warden_decision_rule(verdict->decision, i));
        if (n < 0)
            break;
        used += (size_t)n;
    }
    add(target, "x-warden-decision", verdict->allowed ? "allow" : "deny");
    add_header_value(add, target, "x-warden-reason", verdict->reason, strlen(verdict->reason));
    add_header_value(add, target, "x-warden-rules", rules, strlen(rules));
    add_header_value(add, target, "x-warden-revision", revision, strlen(revision));
    if (!verdict->allowed || verdict->message == NULL)
        return;
    size_t tokens = warden_message_token_count(verdict->message);
    for (size_t i = 0; i < tokens; i++) {
        const warden_token *token = warden_message_token(verdict->message, i);
        warden_string role = { NULL, 0 }, kind = { NULL, 0 }, subject = { NULL, 0 };
        if (warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_ROLE, &role, sizeof role) == WARDEN_OK
            && warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_KIND, &kind, sizeof kind) == WARDEN_OK
            && role.length == 7 && memcmp(role.data, "signing", 7) == 0 && kind.length == 4
            && memcmp(kind.data, "x509", 4) == 0
            && warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_CERT_SUBJECT, &subject, sizeof subject)
                   == WARDEN_OK) {
            add_header_value(add, target, "x-warden-subject", subject.data, subject.length);
            break;
        }
    }
    warden_string username = { NULL, 0 };
    if (warden_message_get_property(verdict->message, WARDEN_MESSAGE_PROPERTY_USERNAME, &username, sizeof username)
        == WARDEN_OK && username.data != NULL)
        add_header_value(add, target, "x-warden-username", username.data, username.length);
    for (size_t i = 0; i < tokens; i++) {
        warden_string saml_subject = { NULL, 0 };
        if (warden_token_get_property(warden_message_token(verdict->message, i), WARDEN_TOKEN_PROPERTY_SAML_SUBJECT,
                                      &saml_subject, sizeof saml_subject) == WARDEN_OK) {
            add_header_value(add, target, "x-warden-saml-subject", saml_subject.data, saml_subject.length);
            break;
        }
    }
}

/* ---- routes --------------------------------------------------------------------------- */

/* The results an allowed ext_authz answer may leave out. Envoy puts the x-warden-* headers an
** answer carries on the request it forwards (allowed_upstream_headers, replacing the client's
** own of the same name), but one the answer leaves out would arrive as the client sent it:
** those, and every other spelling of ours the client sent, are named in
** x-envoy-auth-headers-to-remove, which Envoy's HTTP service removes from the request. */
static const char *const optional_results[] = { "x-warden-subject", "x-warden-username", "x-warden-saml-subject" };
#define OPTIONAL_RESULTS (sizeof optional_results / sizeof optional_results[0])

typedef struct answer_headers {
    serve_request *request;
    bool           sent[OPTIONAL_RESULTS];
} answer_headers;

static void add_to_answer(void *target, const char *name, const char *value)
{
    answer_headers *answer = target;
    for (size_t i = 0; i < OPTIONAL_RESULTS; i++) {
        if (strcmp(name, optional_results[i]) == 0)
            answer->sent[i] = true;
    }
    serve_request_add_header(answer->request, name, value);
}

static void add_name(char *list, size_t *used, const char *name)
{
    size_t length = strlen(name);
    if (*used > 0) {
        memcpy(list + *used, ", ", 2);
        *used += 2;
    }
    memcpy(list + *used, name, length + 1);
    *used += length;
}

/* Whether name is, in any letter case, a result an answer sends or leaves out by name. */
static bool is_result_name(const char *name)
{
    static const char *const always[] = { "x-warden-decision", "x-warden-reason", "x-warden-rules",
                                          "x-warden-revision" };
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++) {
        if (strcasecmp(name, always[i]) == 0)
            return true;
    }
    for (size_t i = 0; i < OPTIONAL_RESULTS; i++) {
        if (strcasecmp(name, optional_results[i]) == 0)
            return true;
    }
    return false;
}

/* -1 when memory runs out: the caller must not allow then. */
static int add_headers_to_remove(answer_headers *answer)
{
    size_t count = serve_request_header_count(answer->request), size = 1;
    for (size_t i = 0; i < OPTIONAL_RESULTS; i++)
        size += strlen(optional_results[i]) + 2;
    for (size_t i = 0; i < count; i++) {
        const char *name, *value;
        serve_request_header_at(answer->request, i, &name, &value);
        size += strlen(name) + 2;
    }
    char *list = malloc(size); /* every name fits: a client cannot push one out of the list */
    if (list == NULL)
        return -1;
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < OPTIONAL_RESULTS; i++) {
        if (!answer->sent[i])
            add_name(list, &used, optional_results[i]);
    }
    for (size_t i = 0; i < count; i++) {
        const char *name, *value;
        serve_request_header_at(answer->request, i, &name, &value);
        if (serve_is_warden_header(name) && !is_result_name(name))
            add_name(list, &used, name); /* another spelling of ours the client sent */
    }
    assert(used < size);
    if (used > 0)
        serve_request_add_header(answer->request, "x-envoy-auth-headers-to-remove", list);
    free(list);
    return 0;
}

static void handle_decide(serve_request *request, bool ext_authz)
{
    serve_worker *worker = request->worker;
    size_t length = request->body_length;
    const unsigned char *body = request->body;
    serve_verdict verdict;
    char revision[96];

    /* conn.c answers a larger body itself (413 before reading it); this is the backstop */
    if (length > worker->server->settings.body_limit) {
        reply_text(request, 413, "Payload Too Large", "text/plain", "message over limits.message_bytes\n");
        return;
    }
    /* the application behind (the gateway's, or Envoy's) reads the body by its Content-Type: a
    ** multipart body would be read part by part, and a part hidden in a CDATA section of the
    ** signed document could be the one it takes for the message */
    const char *content_type = serve_request_header(request, "Content-Type");
    if (ext_authz && !serve_content_type_is_xml(content_type)) {
        reply_text(request, 415, "Unsupported Media Type", "text/plain",
                   "a SOAP request is text/xml or application/soap+xml\n");
        return;
    }
    /* and decodes it by the charset parameter, where Warden reads the document's own encoding */
    if (ext_authz && !serve_charset_agrees(content_type, body, length)) {
        reply_text(request, 415, "Unsupported Media Type", "text/plain",
                   "the Content-Type's charset is not the encoding the document is in\n");
        return;
    }
    judge(worker, request, ext_authz, body, length, &verdict);
    current_revision(worker, &verdict, revision, sizeof revision);
    if (worker->server->settings.gateway && ext_authz) {
        if (verdict.allowed) {
            serve_gateway_forward(request, &verdict, body, length);
        } else {
            serve_gateway_deny(request, &verdict);
        }
        verdict_clear(&verdict);
        return;
    }
    if (ext_authz) {
        answer_headers answer = { .request = request };
        serve_add_verdict_headers(add_to_answer, &answer, &verdict, revision);
        if (verdict.allowed && add_headers_to_remove(&answer) != 0) {
            reply_text(request, 403, "Forbidden", "text/plain", "internal-error: out of memory\n");
            verdict_clear(&verdict);
            return;
        }
    }
    put_verdict_json(serve_request_body_out(request), &verdict, revision);
    serve_request_add_header(request, "Content-Type", "application/json");
    serve_reply(request, verdict.allowed ? 200 : 403, verdict.allowed ? "OK" : "Forbidden", NULL);
    verdict_clear(&verdict);
}

static void handle_health(serve_request *request)
{
    warden_status status = { .size = sizeof(warden_status) };
    if (warden_engine_status(request->worker->server->engine, &status) != WARDEN_OK || status.revision[0] == '\0') {
        reply_text(request, 503, "Service Unavailable", "text/plain", "no policy revision serves\n");
        return;
    }
    if (status.stale) {
        /* every decision denies "policy-stale" now: a load balancer should take this replica out */
        char text[400];
        snprintf(text, sizeof text, "policy-stale: reloads failing since %lld: %s\n", (long long)status.failing_since,
                 status.last_error[0] != '\0' ? status.last_error : "unknown error");
        reply_text(request, 503, "Service Unavailable", "text/plain", text);
        return;
    }
    reply_text(request, 200, "OK", "text/plain", "ok\n");
}

static void handle_status(serve_request *request)
{
    serve_server *server = request->worker->server;
    warden_status status = { .size = sizeof(warden_status) };
    if (warden_engine_status(server->engine, &status) != WARDEN_OK) {
        reply_text(request, 500, "Internal Server Error", "text/plain", "no status\n");
        return;
    }
    json_t *report = json_object();
    json_object_set_new(report, "revision", json_string(status.revision));
    json_object_set_new(report, "loaded_at", json_integer(status.loaded_at));
    json_object_set_new(report, "reloads", json_integer((json_int_t)status.reloads));
    json_object_set_new(report, "reload_failures", json_integer((json_int_t)status.reload_failures));
    json_object_set_new(report, "last_error", json_string(status.last_error));
    json_object_set_new(report, "failing_since", json_integer(status.failing_since));
    json_object_set_new(report, "stale", json_boolean(status.stale));
    json_object_set_new(report, "uptime_s", json_integer((json_int_t)(time(NULL) - server->started_at)));
    json_t *replay = json_object();
    json_object_set_new(replay, "backend", json_string(status.replay_backend));
    json_object_set_new(replay, "entries", json_integer((json_int_t)status.replay_entries));
    json_object_set_new(report, "replay", replay);
    json_object_set_new(report, "mode", json_string(server->settings.gateway ? "gateway" : "check"));
    reply_json(request, 200, "OK", report);
    json_decref(report);
}

static void handle_metrics(serve_request *request)
{
    serve_server *server = request->worker->server;
    warden_status status = { .size = sizeof(warden_status) };
    if (warden_engine_status(server->engine, &status) != WARDEN_OK) {
        reply_text(request, 500, "Internal Server Error", "text/plain", "no metrics\n");
        return;
    }
    /* count this answer before rendering, so a scrape sees itself */
    serve_metrics_http(&server->metrics, 200);
    serve_metrics_render(&server->metrics, &status, serve_request_body_out(request));
    serve_request_add_header(request, "Content-Type", "text/plain; version=0.0.4");
    serve_send(request, 200, "OK", NULL);
}

/* Whether NAME of wsdl=NAME or xsd=NAME names a document and nothing more: no second parameter
** ('&', ';') that an application serving operations on GET might read as its arguments, not
** even percent-encoded (an application that decodes the query before splitting it reads
** "%26id%3D7" as "&id=7"): an escape is two hex digits and none of '#', '%', '&', ';', '=', '?'. */
static bool is_document_name(const char *name)
{
    for (; *name != '\0'; name++) {
        unsigned char c = (unsigned char)*name;
        if (c == '%') {
            if (!isxdigit((unsigned char)name[1]) || !isxdigit((unsigned char)name[2]))
                return false;
            static const char *const delimiters[] = { "23", "25", "26", "3b", "3d", "3f" };
            for (size_t i = 0; i < sizeof delimiters / sizeof delimiters[0]; i++) {
                if (strncasecmp(name + 1, delimiters[i], 2) == 0)
                    return false;
            }
            name += 2;
        } else if (!isalnum(c) && c != '.' && c != '-' && c != '_' && c != '/') {
            return false;
        }
    }
    return true;
}

/* Whether a query asks for the service's metadata: wsdl, wsdl=NAME, xsd=NAME, singleWsdl
** (the forms of JAX-WS, Axis2, CXF and WCF), in any letter case. */
static bool is_metadata_query(const char *query)
{
    if (query == NULL)
        return false;
    if (strcasecmp(query, "wsdl") == 0 || strcasecmp(query, "singlewsdl") == 0)
        return true;
    if (strncasecmp(query, "wsdl=", 5) == 0)
        return is_document_name(query + 5);
    return strncasecmp(query, "xsd=", 4) == 0 && is_document_name(query + 4);
}

/* Whether a path reads one way to every application: segments of letters, digits and "-._~"
** only, none of them "." or "..", none empty. A '%' could be decoded into a '?' (then the
** application reads a query of its own choosing), a ';' carries path parameters (matrix
** parameters an application may read as arguments), dot segments and "//" are resolved by
** some servers and not others. */
static bool is_plain_path(const char *path)
{
    if (path[0] != '/')
        return false;
    for (const char *segment = path + 1;; ) {
        size_t length = strcspn(segment, "/");
        if ((length == 0 && segment[length] == '/') || (length == 1 && segment[0] == '.')
            || (length == 2 && segment[0] == '.' && segment[1] == '.'))
            return false;
        for (size_t i = 0; i < length; i++) {
            unsigned char c = (unsigned char)segment[i];
            if (!isalnum(c) && c != '-' && c != '.' && c != '_' && c != '~')
                return false;
        }
        if (segment[length] == '\0')
            return true;
        segment += length + 1;
    }
}

/* A GET or HEAD in gateway mode carries no SOAP message to verify: it is forwarded unverified
** only when serve.pass_get allows it (and it has no body a lenient application might read);
** otherwise it is HTTP misuse for a SOAP endpoint, 405. pass_get = "wsdl" asks the path to be
** plain too (is_plain_path): the application must read the query Warden read. */
static void handle_get(serve_request *request)
{
    serve_pass_get pass = request->worker->server->settings.pass_get;
    bool empty = request->body_length == 0;
    bool metadata = is_metadata_query(request->query) && is_plain_path(request->path);
    if (empty && (pass == SERVE_PASS_GET_ALL || (pass == SERVE_PASS_GET_WSDL && metadata))) {
        serve_gateway_pass(request);
        return;
    }
    serve_request_add_header(request, "Allow", "POST");
    reply_text(request, 405, "Method Not Allowed", "text/plain",
               "this gateway forwards verified SOAP requests (POST); GET is not forwarded (serve.pass_get)\n");
}

void serve_handle(serve_request *request)
{
    const serve_settings *settings = &request->worker->server->settings;
    const char *path = request->path;
    int method = request->method;

    if (!settings->gateway || strncmp(path, "/v1/", 4) == 0 || strcmp(path, "/health") == 0
        || strcmp(path, "/metrics") == 0) {
        if (strcmp(path, "/health") == 0 && method == HTTP_GET) {
            handle_health(request);
            return;
        }
        if (strcmp(path, "/v1/status") == 0 && method == HTTP_GET) {
            handle_status(request);
            return;
        }
        if (strcmp(path, "/metrics") == 0 && method == HTTP_GET) {
            handle_metrics(request);
            return;
        }
        if (strcmp(path, "/v1/decide") == 0) {
            if (method != HTTP_POST) {
                serve_request_add_header(request, "Allow", "POST");
                reply_text(request, 405, "Method Not Allowed", "text/plain", "POST a SOAP envelope\n");
                return;
            }
            handle_decide(request, false);
            return;
        }
    }
    /* every other path: ext_authz in check mode, the gateway with an upstream */
    if (settings->gateway && (method == HTTP_GET || method == HTTP_HEAD)) {
        handle_get(request);
        return;
    }
    if (settings->gateway && method != HTTP_POST) {
        /* SOAP's HTTP binding is POST; a policy written without m.http_method in mind would let
        ** an application that routes by the method run a DELETE on the strength of a permitted
        ** message, so the gateway judges POST only (m.http_method is always "POST" here) */
        serve_request_add_header(request, "Allow", "POST");
        reply_text(request, 405, "Method Not Allowed", "text/plain",
                   "this gateway forwards verified SOAP requests (POST) only\n");
        return;
    }
    handle_decide(request, true);
}
