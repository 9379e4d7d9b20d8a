/*
** metrics.h — the counters `warden serve` exposes at GET /metrics (Prometheus text format):
** decisions by (decision, stage, reason), the decision duration histogram, HTTP answers by
** code, TLS handshake failures and reloads, dropped decision-log lines. Thread-safe: atomics, and one
** lock for the decision label table.
*/
#ifndef WARDEN_SERVE_METRICS_H
#define WARDEN_SERVE_METRICS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <warden.h>

struct evbuffer;

#define SERVE_DURATION_BUCKETS 14   /* upper bounds in seconds, the last one +Inf */
#define SERVE_DECISION_KINDS   128  /* distinct (decision, stage, reason) label sets kept */

typedef struct serve_decision_count {
    char     decision[8], stage[16], reason[48];
    uint64_t count;
} serve_decision_count;

/* Why a client connection ended (warden_http_connections_closed_total{why}). */
typedef enum serve_close_why {
    SERVE_CLOSE_DONE,           /* between requests: keep-alive ended, by either side */
    SERVE_CLOSE_READ_TIMEOUT,   /* a request (or the first one) not complete within read_ms */
    SERVE_CLOSE_REQUEST_TIMEOUT, /* a request not complete within request_ms of its first byte */
    SERVE_CLOSE_WRITE_TIMEOUT,  /* an answer the client did not take within request_ms */
    SERVE_CLOSE_CLIENT_CLOSED,  /* the client left mid-request or before its answer */
    SERVE_CLOSE_TOO_LARGE,      /* 413: body over limits.message_bytes; 431: headers over 64 KiB */
    SERVE_CLOSE_MALFORMED,      /* 400 (or another 4xx) from the HTTP parser */
    SERVE_CLOSE_METHOD,         /* 501: a method the server does not serve */
    SERVE_CLOSE_TLS_HANDSHAKE,  /* the TLS handshake failed */
    SERVE_CLOSE_SHUTDOWN,       /* still open when the server stopped */
    SERVE_CLOSE_KINDS
} serve_close_why;

/* The result of a reload of the TLS material (warden_tls_reloads_total{result}). */
typedef enum serve_reload_result {
    SERVE_RELOAD_SUCCESS,
    SERVE_RELOAD_FAILURE,
    SERVE_RELOAD_RESULTS
} serve_reload_result;

typedef struct serve_metrics {
    pthread_mutex_t      lock;     /* guards decisions[] and decision_kinds */
    serve_decision_count decisions[SERVE_DECISION_KINDS];
    size_t               decision_kinds;
    _Atomic uint64_t     duration_buckets[SERVE_DURATION_BUCKETS]; /* per bucket, not cumulative */
    _Atomic uint64_t     duration_count;
    _Atomic uint64_t     duration_sum_ns;
    _Atomic uint64_t     http[600];                 /* by status code */
    _Atomic uint64_t     tls_handshake_failures;
    _Atomic uint64_t     tls_reloads[SERVE_RELOAD_RESULTS]; /* SIGHUP's new TLS context, by result */
    _Atomic uint64_t     decision_log_dropped;
    _Atomic uint64_t     accept_errors;      /* accepts that failed for want of descriptors or memory */
    _Atomic uint64_t     closed[SERVE_CLOSE_KINDS];  /* client connections, by why they ended */
} serve_metrics;

void serve_metrics_init(serve_metrics *metrics);
void serve_metrics_destroy(serve_metrics *metrics);

/* One decision ("allow"/"deny", stage, reason) that took seconds. A label set past the first
** SERVE_DECISION_KINDS is counted under reason "other". */
void serve_metrics_decision(serve_metrics *metrics, const char *decision, const char *stage, const char *reason,
                            double seconds);

/* One HTTP answer with this status code. */
void serve_metrics_http(serve_metrics *metrics, int code);

/* One client connection ended. */
void serve_metrics_closed(serve_metrics *metrics, serve_close_why why);

/* Appends the text format to out; status and replay_entries come from the engine. */
void serve_metrics_render(serve_metrics *metrics, const warden_status *status, struct evbuffer *out);

#endif
