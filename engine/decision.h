/*
** decision.h — struct warden_decision, shared by engine/decision.c (policy decisions and
** the decision object's getters) and engine/decision_log.c (the log line). A decision is
** either a policy decision (it holds a reference to the revision that made it) or a
** security rejection (stage "security", made when warden_engine_receive refuses a
** message). The facts the decision log needs (who, which message, how long) are copied in
** only when the engine keeps a decision log, so the decision outlives its message.
*/
#ifndef WD_ENGINE_DECISION_H
#define WD_ENGINE_DECISION_H

#include <stdbool.h>
#include <stdint.h>

#include "../include/warden.h"
#include "../lua/decide.h"
#include "../lua/policy_set.h"

/* What a decision log line says besides the outcome. Strings are malloc'd, or NULL when
** the message did not carry the fact. */
typedef struct wd_decision_facts {
    bool    kept;              /* false: the engine logs no decisions, nothing was copied */
    int64_t time_ms;           /* wall clock when the message arrived, Unix milliseconds */
    char    id[37];            /* a random UUID (version 4) naming this decision */
    int64_t latency_us;        /* receive (or decide) start to decision, microseconds */
    char   *message_id, *action, *operation;
    char   *cert_subject, *cert_serial, *username, *saml_subject;
} wd_decision_facts;

struct warden_decision {
    wd_decision_outcome outcome;   /* rule names point into set */
    wd_policy_set      *set;       /* one reference, keeps the names alive; NULL without a policy set */
    const char         *stage;     /* "policy" or "security" */
    char                security_reason[48]; /* stage "security": the rejection code (outcome.reason points here) */
    char               *detail;    /* stage "security": what the verifier said; else NULL */
    char               *explanation; /* JSON array (warden_engine_explain), else NULL */
    wd_decision_facts   facts;
};

/* The facts of a delivered message (strings copied), with the decision's time and id. */
int wd_decision_facts_from_message(wd_decision_facts *facts, const warden_message *message);

/* Fills the time and a new id (no message facts). */
void wd_decision_facts_start(wd_decision_facts *facts);

void wd_decision_facts_clear(wd_decision_facts *facts);

/* A security-stage decision for a message warden_engine_receive rejected: reason and text
** from err, the revision serving now (set may be NULL; a reference is taken). *out is owned
** by the caller (warden_decision_free). Returns WARDEN_OK or WARDEN_E_NOMEM. */
int wd_decision_new_rejection(const warden_error *err, wd_policy_set *set, warden_decision **out);

/* The decision log line of a decision (log.decisions): one JSON object without a newline,
** written with jansson, fields as docs/operations.md lists them ("remote" only when remote
** is not NULL; facts only when the decision kept them). malloc'd, owned by the caller (free);
** NULL when memory runs out. Thread-safe: reads the decision only. The one place that line
** is built: the engine's own log file and a server's log queue both use it. */
char *wd_decision_log_line(const warden_decision *decision, const char *remote);

#endif
