/*
** metrics.c — counting and the Prometheus text format (version 0.0.4). The histogram keeps
** one counter per bucket and renders them cumulatively, as the format requires, with _sum
** and _count from the same observations.
*/
#include "metrics.h"

#include <assert.h>
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const double bucket_bounds[SERVE_DURATION_BUCKETS - 1] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
};

void serve_metrics_init(serve_metrics *metrics)
{
    memset(metrics, 0, sizeof *metrics);
    pthread_mutex_init(&metrics->lock, NULL);
}

void serve_metrics_destroy(serve_metrics *metrics)
{
    pthread_mutex_destroy(&metrics->lock);
}

static void copy_label(char *out, size_t size, const char *text)
{
    snprintf(out, size, "%s", text != NULL ? text : "");
}

void serve_metrics_decision(serve_metrics *metrics, const char *decision, const char *stage, const char *reason,
                            double seconds)
{
    size_t bucket = 0;
    while (bucket < SERVE_DURATION_BUCKETS - 1 && seconds > bucket_bounds[bucket])
        bucket++;
    atomic_fetch_add(&metrics->duration_buckets[bucket], 1);
    atomic_fetch_add(&metrics->duration_count, 1);
    atomic_fetch_add(&metrics->duration_sum_ns, (uint64_t)(seconds > 0 ? seconds * 1e9 : 0));

    pthread_mutex_lock(&metrics->lock);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < metrics->decision_kinds; i++) {
            serve_decision_count *c = &metrics->decisions[i];
            if (strcmp(c->decision, decision) == 0 && strcmp(c->stage, stage) == 0 && strcmp(c->reason, reason) == 0) {
                c->count++;
                goto done;
            }
        }
        /* the last slot is kept for "other", so the table never silently drops a decision */
        if (metrics->decision_kinds < SERVE_DECISION_KINDS - 1 || strcmp(reason, "other") == 0) {
            serve_decision_count *c = &metrics->decisions[metrics->decision_kinds++];
            copy_label(c->decision, sizeof c->decision, decision);
            copy_label(c->stage, sizeof c->stage, stage);
            copy_label(c->reason, sizeof c->reason, reason);
            c->count = 1;
            goto done;
        }
        reason = "other";
    }
done:
    pthread_mutex_unlock(&metrics->lock);
}

void serve_metrics_http(serve_metrics *metrics, int code)
{
    if (code >= 100 && code < 600)
        atomic_fetch_add(&metrics->http[code], 1);
}

void serve_metrics_closed(serve_metrics *metrics, serve_close_why why)
{
    assert(why >= 0 && why < SERVE_CLOSE_KINDS);
    atomic_fetch_add(&metrics->closed[why], 1);
}

/* Label values are reason codes and fixed words, but escape them as the format says anyway. */
static void add_label_value(struct evbuffer *out, const char *text)
{
    for (; *text != '\0'; text++) {
        if (*text == '\\' || *text == '"')
            evbuffer_add_printf(out, "\\%c", *text);
        else if (*text == '\n')
            evbuffer_add(out, "\\n", 2);
        else
            evbuffer_add(out, text, 1);
    }
}

void serve_metrics_render(serve_metrics *metrics, const warden_status *status, struct evbuffer *out)
{
    evbuffer_add_printf(out, "# HELP warden_decisions_total Decisions made, by outcome.\n"
                             "# TYPE warden_decisions_total counter\n");
    pthread_mutex_lock(&metrics->lock);
    for (size_t i = 0; i < metrics->decision_kinds; i++) {
        const serve_decision_count *c = &metrics->decisions[i];
        evbuffer_add_printf(out, "warden_decisions_total{decision=\"");
        add_label_value(out, c->decision);
        evbuffer_add_printf(out, "\",stage=\"");
        add_label_value(out, c->stage);
        evbuffer_add_printf(out, "\",reason=\"");
        add_label_value(out, c->reason);
        evbuffer_add_printf(out, "\"} %" PRIu64 "\n", c->count);
    }
    pthread_mutex_unlock(&metrics->lock);

    /* Read the count first: buckets observed after it only make +Inf >= count, never less. */
    uint64_t count = atomic_load(&metrics->duration_count);
    uint64_t sum_ns = atomic_load(&metrics->duration_sum_ns);
    uint64_t cumulative = 0;
    evbuffer_add_printf(out, "# HELP warden_decision_duration_seconds Time to verify and decide one request.\n"
                             "# TYPE warden_decision_duration_seconds histogram\n");
    for (size_t i = 0; i < SERVE_DURATION_BUCKETS; i++) {
        cumulative += atomic_load(&metrics->duration_buckets[i]);
        if (i + 1 < SERVE_DURATION_BUCKETS) {
            evbuffer_add_printf(out, "warden_decision_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                                bucket_bounds[i], cumulative);
        } else {
            if (cumulative > count)
                count = cumulative; /* observations that landed between the two reads */
            evbuffer_add_printf(out, "warden_decision_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", count);
        }
    }
    evbuffer_add_printf(out, "warden_decision_duration_seconds_sum %.9f\n", (double)sum_ns / 1e9);
    evbuffer_add_printf(out, "warden_decision_duration_seconds_count %" PRIu64 "\n", count);

    evbuffer_add_printf(out, "# HELP warden_reloads_total Policy reloads, by result.\n"
                             "# TYPE warden_reloads_total counter\n"
                             "warden_reloads_total{result=\"success\"} %" PRIu64 "\n"
                             "warden_reloads_total{result=\"failure\"} %" PRIu64 "\n",
                        status->reloads, status->reload_failures);
    evbuffer_add_printf(out, "# HELP warden_replay_entries Entries held by the replay cache (memory backend).\n"
                             "# TYPE warden_replay_entries gauge\n"
                             "warden_replay_entries %" PRIu64 "\n", status->replay_entries);
    evbuffer_add_printf(out, "# HELP warden_policy_stale 1 while reloads have failed for longer than "
                             "reload.max_stale_s.\n"
                             "# TYPE warden_policy_stale gauge\n"
                             "warden_policy_stale %d\n", status->stale ? 1 : 0);

    evbuffer_add_printf(out, "# HELP warden_http_requests_total HTTP answers, by status code.\n"
                             "# TYPE warden_http_requests_total counter\n");
    for (int code = 100; code < 600; code++) {
        uint64_t n = atomic_load(&metrics->http[code]);
        if (n > 0)
            evbuffer_add_printf(out, "warden_http_requests_total{code=\"%d\"} %" PRIu64 "\n", code, n);
    }
    static const char *const why[SERVE_CLOSE_KINDS] = {
        "done",      "read_timeout", "request_timeout", "write_timeout", "client_closed",
        "too_large", "malformed",    "method",          "tls_handshake", "shutdown",
    };
    evbuffer_add_printf(out, "# HELP warden_http_connections_closed_total Client connections that ended, by why.\n"
                             "# TYPE warden_http_connections_closed_total counter\n");
    for (int i = 0; i < SERVE_CLOSE_KINDS; i++)
        evbuffer_add_printf(out, "warden_http_connections_closed_total{why=\"%s\"} %" PRIu64 "\n", why[i],
                            atomic_load(&metrics->closed[i]));
    evbuffer_add_printf(out, "# HELP warden_tls_handshake_failures_total TLS handshakes that failed.\n"
                             "# TYPE warden_tls_handshake_failures_total counter\n"
                             "warden_tls_handshake_failures_total %" PRIu64 "\n",
                        atomic_load(&metrics->tls_handshake_failures));
    evbuffer_add_printf(out, "# HELP warden_tls_reloads_total Reloads of the TLS certificate, key, client CA and CRLs "
                             "(SIGHUP), by result.\n"
                             "# TYPE warden_tls_reloads_total counter\n"
                             "warden_tls_reloads_total{result=\"success\"} %" PRIu64 "\n"
                             "warden_tls_reloads_total{result=\"failure\"} %" PRIu64 "\n",
                        atomic_load(&metrics->tls_reloads[SERVE_RELOAD_SUCCESS]),
                        atomic_load(&metrics->tls_reloads[SERVE_RELOAD_FAILURE]));
    evbuffer_add_printf(out, "# HELP warden_decision_log_dropped_total Decision log lines dropped (queue full).\n"
                             "# TYPE warden_decision_log_dropped_total counter\n"
                             "warden_decision_log_dropped_total %" PRIu64 "\n",
                        atomic_load(&metrics->decision_log_dropped));
    evbuffer_add_printf(out, "# HELP warden_http_accept_errors_total Connections a worker could not accept (no "
                             "descriptor or memory left); accepting then pauses 100 ms.\n"
                             "# TYPE warden_http_accept_errors_total counter\n"
                             "warden_http_accept_errors_total %" PRIu64 "\n",
                        atomic_load(&metrics->accept_errors));
}
