/*
** serve_main.c — `warden serve -c FILE [--listen HOST:PORT]...`: reads the config (the
** `serve` section through warden_config_get), makes the one engine, binds the listening
** sockets, starts the worker threads, and runs the signals on the main thread: SIGHUP
** reloads the policies and trust material (warden_engine_reload) and the TLS material (tls.c),
** SIGTERM or SIGINT stop accepting, let requests in flight finish within
** timeouts.drain_ms, and exit 0.
**
** Every worker accepts on every listening socket (each through its own dup, which its
** listener closes), so the kernel spreads connections over the workers' event bases.
*/
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <http_parser.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char serve_help[] =
    "usage: warden serve -c FILE [--listen HOST:PORT]...\n"
    "\n"
    "Runs the HTTP(S) decision service: POST /v1/decide, the Envoy ext_authz contract on every\n"
    "other path (or, with serve.upstream, the gateway), GET /health, /v1/status, /metrics.\n"
    "Settings come from the config file's serve section; --listen replaces serve.listen.\n"
    "SIGHUP reloads the policies and the TLS certificate, key, client CA and CRLs;\n"
    "SIGTERM drains and exits 0.\n";

/* ---- settings ------------------------------------------------------------------------- */

static int get_text(const warden_config *config, const char *key, char *out, size_t size)
{
    int status = warden_config_get(config, key, 0, out, size);
    if (status == WARDEN_E_NOT_APPLICABLE) {
        out[0] = '\0';
        return 0;
    }
    if (status != WARDEN_OK) {
        fprintf(stderr, "warden serve: %s: cannot read the value\n", key);
        return -1;
    }
    return 0;
}

static int get_int(const warden_config *config, const char *key, long long *out)
{
    char text[32];
    if (get_text(config, key, text, sizeof text) != 0)
        return -1;
    *out = strtoll(text, NULL, 10);
    return 0;
}

/* "http://host:port[/prefix]" (plain HTTP: TLS to the upstream is left to a sidecar). */
static int parse_upstream(const char *text, serve_upstream *out)
{
    const char *rest = text;
    if (strncmp(rest, "http://", 7) != 0)
        return -1;
    rest += 7;
    const char *slash = strchr(rest, '/');
    size_t authority = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
    const char *colon = memchr(rest, ':', authority);
    size_t host_length = colon != NULL ? (size_t)(colon - rest) : authority;
    if (host_length == 0 || host_length >= sizeof out->host)
        return -1;
    memcpy(out->host, rest, host_length);
    out->host[host_length] = '\0';
    long port = 80;
    if (colon != NULL) {
        char *end = NULL;
        port = strtol(colon + 1, &end, 10);
        if (end != rest + authority || port < 1 || port > 65535)
            return -1;
    }
    out->port = (uint16_t)port;
    snprintf(out->prefix, sizeof out->prefix, "%s", slash != NULL && strcmp(slash, "/") != 0 ? slash : "");
    size_t n = strlen(out->prefix);
    if (n > 0 && out->prefix[n - 1] == '/')
        out->prefix[n - 1] = '\0';
    return 0;
}

/* The upstream's address, looked up once: a lookup per request would block a worker's loop. */
static int resolve_upstream(serve_upstream *upstream)
{
    struct addrinfo hints, *found = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(upstream->host, NULL, &hints, &found);
    if (rc != 0 || found == NULL) {
        fprintf(stderr, "warden serve: serve.upstream: cannot resolve %s: %s\n", upstream->host, gai_strerror(rc));
        return -1;
    }
    const void *address = found->ai_family == AF_INET6
                              ? (const void *)&((struct sockaddr_in6 *)found->ai_addr)->sin6_addr
                              : (const void *)&((struct sockaddr_in *)found->ai_addr)->sin_addr;
    const char *ok = inet_ntop(found->ai_family, address, upstream->address, sizeof upstream->address);
    freeaddrinfo(found);
    return ok != NULL ? 0 : -1;
}

/* Appends a copy of entry to a list of owned strings. */
static int add_entry(char ***list, size_t *count, const char *entry)
{
    char **grown = realloc(*list, (*count + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    *list = grown;
    grown[*count] = strdup(entry);
    if (grown[*count] == NULL)
        return -1;
    (*count)++;
    return 0;
}

static int add_listen(serve_settings *settings, const char *entry)
{
    return add_entry(&settings->listen, &settings->listen_count, entry);
}

static int read_settings(const warden_config *config, char **listen_flags, size_t listen_flag_count,
                         serve_settings *settings)
{
    char text[4096];
    long long value;

    memset(settings, 0, sizeof *settings);
    if (listen_flag_count > 0) {
        for (size_t i = 0; i < listen_flag_count; i++) {
            if (add_listen(settings, listen_flags[i]) != 0)
                return -1;
        }
    } else {
        /* every entry or none: an entry left out would leave its clients without a server, and a
        ** first one left out would fall back to the default address below */
        for (size_t i = 0;; i++) {
            int status = warden_config_get(config, "serve.listen", i, text, sizeof text);
            if (status == WARDEN_E_NOT_APPLICABLE)
                break;
            if (status != WARDEN_OK) {
                fprintf(stderr, "warden serve: serve.listen: cannot read entry %zu (over %zu bytes?)\n", i + 1,
                        sizeof text - 1);
                return -1;
            }
            if (add_listen(settings, text) != 0)
                return -1;
        }
        if (settings->listen_count == 0 && add_listen(settings, "127.0.0.1:8181") != 0)
            return -1;
    }
    if (get_text(config, "serve.tls.cert", settings->tls_cert, sizeof settings->tls_cert) != 0
        || get_text(config, "serve.tls.key", settings->tls_key, sizeof settings->tls_key) != 0
        || get_text(config, "serve.tls.client_ca", settings->tls_client_ca, sizeof settings->tls_client_ca) != 0
        || get_text(config, "serve.tls.require_client_cert", text, sizeof text) != 0)
        return -1;
    settings->require_client_cert = strcmp(text, "true") == 0;
    if ((settings->tls_cert[0] != '\0') != (settings->tls_key[0] != '\0')) {
        fprintf(stderr, "warden serve: serve.tls needs both cert and key\n");
        return -1;
    }
    if (settings->tls_client_ca[0] != '\0' && settings->tls_cert[0] == '\0') {
        fprintf(stderr, "warden serve: serve.tls.client_ca needs serve.tls.cert and serve.tls.key\n");
        return -1;
    }
    /* every entry or none: a CRL left out would be a revocation not checked */
    for (size_t i = 0;; i++) {
        int status = warden_config_get(config, "serve.tls.crls", i, text, sizeof text);
        if (status == WARDEN_E_NOT_APPLICABLE)
            break;
        if (status != WARDEN_OK) {
            fprintf(stderr, "warden serve: serve.tls.crls: cannot read entry %zu (a path over %zu bytes?)\n", i + 1,
                    sizeof text - 1);
            return -1;
        }
        if (add_entry(&settings->tls_crls, &settings->tls_crl_count, text) != 0)
            return -1;
    }
    /* CRLs without client certificates to check would be a revocation list that revokes nothing */
    if (settings->tls_crl_count > 0 && settings->tls_client_ca[0] == '\0') {
        fprintf(stderr, "warden serve: serve.tls.crls needs serve.tls.client_ca\n");
        return -1;
    }
    if (get_text(config, "serve.upstream", text, sizeof text) != 0)
        return -1;
    if (text[0] != '\0') {
        if (parse_upstream(text, &settings->upstream) != 0) {
            fprintf(stderr, "warden serve: serve.upstream: expected http://HOST:PORT[/PATH], got %s\n", text);
            return -1;
        }
        if (resolve_upstream(&settings->upstream) != 0)
            return -1;
        settings->gateway = true;
    }
    if (get_int(config, "serve.threads", &value) != 0)
        return -1;
    settings->threads = (int)value;
    if (settings->threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        settings->threads = cores > 0 ? (int)(cores < 64 ? cores : 64) : 1;
    }
    if (get_int(config, "serve.timeouts.read_ms", &value) != 0)
        return -1;
    settings->read_ms = (int)value;
    if (get_int(config, "serve.timeouts.request_ms", &value) != 0)
        return -1;
    settings->request_ms = (int)value;
    if (get_int(config, "serve.timeouts.upstream_ms", &value) != 0)
        return -1;
    settings->upstream_ms = (int)value;
    if (get_int(config, "serve.timeouts.drain_ms", &value) != 0)
        return -1;
    settings->drain_ms = (int)value;
    if (get_int(config, "serve.upstream_keepalive", &value) != 0)
        return -1;
    settings->upstream_keepalive = (int)value;
    if (get_text(config, "serve.pass_get", text, sizeof text) != 0)
        return -1;
    settings->pass_get = strcmp(text, "all") == 0    ? SERVE_PASS_GET_ALL
                         : strcmp(text, "wsdl") == 0 ? SERVE_PASS_GET_WSDL
                                                     : SERVE_PASS_GET_NONE;
    if (get_int(config, "limits.message_bytes", &value) != 0)
        return -1;
    settings->body_limit = (size_t)value;
    return get_text(config, "replay.backend", settings->replay_backend, sizeof settings->replay_backend);
}

static void settings_clear(serve_settings *settings)
{
    for (size_t i = 0; i < settings->listen_count; i++)
        free(settings->listen[i]);
    free(settings->listen);
    for (size_t i = 0; i < settings->tls_crl_count; i++)
        free(settings->tls_crls[i]);
    free(settings->tls_crls);
}

/* ---- listening sockets ---------------------------------------------------------------- */

/* "host:port", "[v6]:port" or ":port" (all addresses). Returns the socket or -1. */
static int listen_on(const char *entry)
{
    char host[256];
    const char *port;
    const char *colon = strrchr(entry, ':');
    if (colon == NULL || colon[1] == '\0') {
        fprintf(stderr, "warden serve: listen: expected HOST:PORT, got %s\n", entry);
        return -1;
    }
    size_t host_length = (size_t)(colon - entry);
    const char *host_start = entry;
    if (host_length >= 2 && entry[0] == '[' && entry[host_length - 1] == ']') {
        host_start++;
        host_length -= 2;
    }
    if (host_length >= sizeof host) {
        fprintf(stderr, "warden serve: listen: host too long in %s\n", entry);
        return -1;
    }
    memcpy(host, host_start, host_length);
    host[host_length] = '\0';
    port = colon + 1;

    struct addrinfo hints, *found = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(host_length > 0 ? host : NULL, port, &hints, &found);
    if (rc != 0) {
        fprintf(stderr, "warden serve: listen %s: %s\n", entry, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = found; a != NULL && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        /* accepted sockets inherit it: a TLS answer leaves as several records, and Nagle's
        ** algorithm would hold the last one for the client's delayed ACK (40 ms) */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
            fprintf(stderr, "warden serve: listen %s: %s\n", entry, strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(found);
    return fd;
}

/* ---- workers -------------------------------------------------------------------------- */

static void drain_tick(evutil_socket_t fd, short what, void *arg)
{
    serve_worker *worker = arg;
    (void)fd;
    (void)what;
    if ((worker->in_flight <= 0 && !serve_conn_writing(worker)) || serve_monotonic_ms() >= worker->drain_deadline_ms)
        event_base_loopbreak(worker->base);
}

/* On the worker's thread: stop accepting, close the connections between requests, then wait
** for requests in flight. */
static void stop_worker(evutil_socket_t fd, short what, void *arg)
{
    serve_worker *worker = arg;
    (void)fd;
    (void)what;
    for (size_t i = 0; i < worker->listener_count; i++) {
        if (worker->listeners[i] != NULL) {
            evconnlistener_free(worker->listeners[i]);
            worker->listeners[i] = NULL;
        }
    }
    worker->draining = true;
    serve_conn_drain(worker);
    worker->drain_deadline_ms = serve_monotonic_ms() + worker->server->settings.drain_ms;
    struct timeval tick = { 0, 20000 };
    event_add(worker->drain_timer, &tick);
}

static void *run_worker(void *arg)
{
    serve_worker *worker = arg;
    /* one turn of the loop at a time: the answers its callbacks made are written together at
    ** its end (conn.c says why) */
    for (;;) {
        int status = event_base_loop(worker->base, EVLOOP_ONCE);
        serve_conn_flush_answers(worker);
        if (status != 0 || event_base_got_break(worker->base) || event_base_got_exit(worker->base))
            break;
    }
    return NULL;
}

static int make_worker(serve_server *server, serve_worker *worker)
{
    worker->server = server;
    /* epoll changes made while one request is handled (stop reading, start writing) reach the
    ** kernel as one epoll_ctl instead of one each; every worker has its own dups of the
    ** listening sockets, so no descriptor is shared within one epoll set */
    struct event_config *options = event_config_new();
    if (options == NULL)
        return -1;
    event_config_set_flag(options, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    worker->base = event_base_new_with_config(options);
    event_config_free(options);
    if (worker->base == NULL)
        return -1;
    worker->listeners = calloc(server->listener_count, sizeof *worker->listeners);
    worker->listener_count = server->listener_count;
    worker->stop_event = event_new(worker->base, -1, 0, stop_worker, worker);
    worker->drain_timer = event_new(worker->base, -1, EV_PERSIST, drain_tick, worker);
    if (server->settings.upstream_keepalive > 0)
        worker->upstream_idle = calloc((size_t)server->settings.upstream_keepalive, sizeof *worker->upstream_idle);
    bool pool_missing = server->settings.upstream_keepalive > 0 && worker->upstream_idle == NULL;
    if (pool_missing || worker->listeners == NULL || worker->stop_event == NULL || worker->drain_timer == NULL)
        return -1;
    for (size_t i = 0; i < server->listener_count; i++) {
        int fd = dup(server->listeners[i]);
        if (fd < 0)
            return -1;
        worker->listeners[i] = serve_conn_listen(worker, fd);
        if (worker->listeners[i] == NULL) {
            close(fd);
            return -1;
        }
    }
    return 0;
}

static void free_worker(serve_worker *worker)
{
    for (size_t i = 0; worker->listeners != NULL && i < worker->listener_count; i++) {
        if (worker->listeners[i] != NULL)
            evconnlistener_free(worker->listeners[i]);
    }
    serve_conn_close_all(worker); /* before the gateway's forwards: it tells them their client has gone */
    serve_gateway_stop(worker);
    free(worker->upstream_idle);
    if (worker->stop_event != NULL)
        event_free(worker->stop_event);
    if (worker->drain_timer != NULL)
        event_free(worker->drain_timer);
    free(worker->listeners);
    if (worker->base != NULL)
        event_base_free(worker->base);
}

/* ---- the command ---------------------------------------------------------------------- */

static void log_line(void *context, int level, const char *line)
{
    static const char *const levels[] = { "", "error", "warning", "info" };
    (void)context;
    fprintf(stderr, "warden serve: %s: %s\n", level >= 1 && level <= 3 ? levels[level] : "log", line);
}

int cli_serve(int argc, char **argv)
{
    const char *config_path = NULL;
    char **listen_flags = calloc((size_t)argc + 1, sizeof *listen_flags);
    size_t listen_flag_count = 0;
    warden_config *config = NULL;
    serve_server server;
    warden_error err;
    sigset_t signals;
    char message[512];
    int exit_code = 2;
    uint64_t unfinished = 0; /* connections closed at the drain's end (why="shutdown") */

    memset(&server, 0, sizeof server);
    serve_metrics_init(&server.metrics);
    serve_tls_init(&server.tls);
    if (listen_flags == NULL)
        goto done;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(serve_help, stdout);
            exit_code = 0;
            goto done;
        } else if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
            listen_flags[listen_flag_count++] = argv[++i];
        } else {
            fprintf(stderr, "warden serve: unknown or incomplete option '%s'\n%s", argv[i], serve_help);
            goto done;
        }
    }
    if (config_path == NULL) {
        fprintf(stderr, "warden serve: a config file is required (-c FILE)\n%s", serve_help);
        goto done;
    }
    if (warden_config_new(&config) != WARDEN_OK || warden_config_set_logger(config, log_line, NULL) != WARDEN_OK)
        goto done;
    if (warden_config_load(config, config_path, &err) != WARDEN_OK) {
        fprintf(stderr, "warden serve: %s\n", err.text);
        goto done;
    }
    if (read_settings(config, listen_flags, listen_flag_count, &server.settings) != 0)
        goto done;
    /* The server writes the decision log itself, off the request path: the engine must not. */
    char log_path[4096], queue[32], when_full[16], flush_ms[32];
    if (get_text(config, "log.decisions", log_path, sizeof log_path) != 0
        || get_text(config, "log.queue", queue, sizeof queue) != 0
        || get_text(config, "log.flush_ms", flush_ms, sizeof flush_ms) != 0
        || get_text(config, "log.when_full", when_full, sizeof when_full) != 0
        || warden_config_set(config, "log.decisions", "", &err) != WARDEN_OK)
        goto done;

    /* the signals are the main thread's: every thread made from here on blocks them */
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (warden_engine_new(config, &server.engine, &err) != WARDEN_OK) {
        fprintf(stderr, "warden serve: %s\n", err.text);
        goto done;
    }
    if (log_path[0] != '\0')
        warden_engine_keep_decision_facts(server.engine, 1); /* the lines are built from the decisions */
    if (server.settings.tls_cert[0] != '\0'
        && serve_tls_start(&server.tls, &server.settings, &server.metrics, message, sizeof message) != 0) {
        fprintf(stderr, "warden serve: %s\n", message);
        goto done;
    }
    if (log_path[0] != '\0'
        && serve_log_start(&server.log, log_path, (size_t)strtoull(queue, NULL, 10), atoi(flush_ms),
                           strcmp(when_full, "block") == 0,
                           &server.metrics.decision_log_dropped, message, sizeof message) != 0) {
        fprintf(stderr, "warden serve: %s\n", message);
        goto done;
    }
    server.listeners = calloc(server.settings.listen_count, sizeof *server.listeners);
    if (server.listeners == NULL)
        goto done;
    for (size_t i = 0; i < server.settings.listen_count; i++) {
        server.listeners[i] = listen_on(server.settings.listen[i]);
        if (server.listeners[i] < 0)
            goto done;
        server.listener_count++;
    }
    if (evthread_use_pthreads() != 0)
        goto done;
    /* the request line and headers together (http-parser's limit is one for the process) */
    http_parser_set_max_header_size(SERVE_HEAD_LIMIT);
    server.worker_count = (size_t)server.settings.threads;
    server.workers = calloc(server.worker_count, sizeof *server.workers);
    if (server.workers == NULL)
        goto done;
    server.started_at = (int64_t)time(NULL);
    for (size_t i = 0; i < server.worker_count; i++) {
        if (make_worker(&server, &server.workers[i]) != 0) {
            fprintf(stderr, "warden serve: cannot start worker %zu\n", i);
            goto stop;
        }
    }
    for (size_t i = 0; i < server.worker_count; i++) {
        if (pthread_create(&server.workers[i].thread, NULL, run_worker, &server.workers[i]) != 0)
            goto stop;
        server.workers[i].started = true;
    }
    fprintf(stderr, "warden serve: listening on");
    for (size_t i = 0; i < server.settings.listen_count; i++)
        fprintf(stderr, " %s", server.settings.listen[i]);
    fprintf(stderr, " (%s%s, %zu threads)\n", server.tls.enabled ? "https" : "http",
            server.settings.gateway ? ", gateway" : ", check mode", server.worker_count);

    for (;;) {
        int received = 0;
        if (sigwait(&signals, &received) != 0)
            continue;
        if (received == SIGHUP) {
            if (warden_engine_reload(server.engine, &err) != WARDEN_OK)
                fprintf(stderr, "warden serve: reload failed: %s\n", err.text);
            else
                fprintf(stderr, "warden serve: reloaded\n");
            /* certificate rotation (cert-manager, SPIFFE) writes new files in place: read them again */
            if (server.tls.enabled) {
                if (serve_tls_reload(&server.tls, &server.settings, &server.metrics, message, sizeof message) != 0)
                    fprintf(stderr, "warden serve: TLS reload failed: %s; the previous certificate keeps serving\n",
                            message);
                else
                    fprintf(stderr, "warden serve: TLS reloaded\n");
            }
            continue;
        }
        fprintf(stderr, "warden serve: draining\n");
        exit_code = 0;
        break;
    }

stop:
    for (size_t i = 0; i < server.worker_count; i++) {
        if (server.workers[i].started)
            event_active(server.workers[i].stop_event, 0, 0);
    }
    /* with the workers' copies gone too, the sockets close: new connections are refused
    ** during the drain instead of waiting in the backlog for a server that is leaving */
    for (size_t i = 0; i < server.listener_count; i++) {
        close(server.listeners[i]);
        server.listeners[i] = -1;
    }
    for (size_t i = 0; i < server.worker_count; i++) {
        if (server.workers[i].started)
            pthread_join(server.workers[i].thread, NULL);
    }
    for (size_t i = 0; i < server.worker_count; i++)
        free_worker(&server.workers[i]);
    /* the metrics are gone with the process: say what the drain could not finish */
    unfinished = atomic_load(&server.metrics.closed[SERVE_CLOSE_SHUTDOWN]);
done:
    free(server.workers);
    for (size_t i = 0; i < server.listener_count; i++) {
        if (server.listeners[i] >= 0)
            close(server.listeners[i]);
    }
    free(server.listeners);
    serve_log_stop(&server.log);
    serve_tls_destroy(&server.tls);
    warden_engine_free(server.engine);
    warden_config_free(config);
    settings_clear(&server.settings);
    serve_metrics_destroy(&server.metrics);
    free(listen_flags);
    if (exit_code == 0 && unfinished > 0)
        fprintf(stderr, "warden serve: stopped; the drain's end closed %llu busy connection%s\n",
                (unsigned long long)unfinished, unfinished == 1 ? "" : "s");
    else if (exit_code == 0)
        fprintf(stderr, "warden serve: stopped\n");
    return exit_code;
}
