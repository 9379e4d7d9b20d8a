/*
** decision_log.c — the decision log line (log.decisions): one JSON object per decision,
** security rejections included, built from a warden_decision alone by
** wd_decision_log_line. Also the facts a decision keeps for it (time, id, message and
** principal), copied from the message when the decision is made, so that a line can be built
** after the message is gone (a server's log queue does that).
**
** Fields: time (ISO-8601 UTC, milliseconds), id, message_id, action, operation, principal
** { cert_subject, cert_serial, username, saml_subject }, decision, stage, reason, detail
** (security rejections), rules, errors, revision, latency_us (integer), remote (when
** served). A fact the message did not carry is left out, never null.
*/
#include <jansson.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decision.h"

static char *copy_property(const warden_message *message, warden_message_property_id id)
{
    warden_string value;
    if (warden_message_get_property(message, id, &value, sizeof value) != WARDEN_OK)
        return NULL;
    return strndup(value.data, value.length);
}

static char *copy_token_property(const warden_token *token, warden_token_property_id id)
{
    warden_string value;
    if (warden_token_get_property(token, id, &value, sizeof value) != WARDEN_OK)
        return NULL;
    return strndup(value.data, value.length);
}

void wd_decision_facts_start(wd_decision_facts *facts)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    facts->time_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        /* no randomness: the clock and the decision's address still tell decisions apart */
        uintptr_t self = (uintptr_t)facts;
        int64_t stamp = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
        memset(bytes, 0, sizeof bytes);
        memcpy(bytes, &stamp, sizeof stamp);
        _Static_assert(sizeof self <= 8, "an address fits the id's second half");
        memcpy(bytes + 8, &self, sizeof self);
    }
    bytes[6] = (unsigned char)((bytes[6] & 0x0f) | 0x40); /* version 4 */
    bytes[8] = (unsigned char)((bytes[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    char *p = facts->id;
    for (size_t i = 0; i < sizeof bytes; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[bytes[i] >> 4];
        *p++ = hex[bytes[i] & 15];
    }
    *p = '\0';
    facts->kept = true;
}

int wd_decision_facts_from_message(wd_decision_facts *facts, const warden_message *message)
{
    wd_decision_facts_start(facts);
    facts->message_id = copy_property(message, WARDEN_MESSAGE_PROPERTY_MESSAGE_ID);
    facts->action = copy_property(message, WARDEN_MESSAGE_PROPERTY_ACTION);
    facts->operation = copy_property(message, WARDEN_MESSAGE_PROPERTY_OPERATION);
    facts->username = copy_property(message, WARDEN_MESSAGE_PROPERTY_USERNAME);
    /* the principal of a signature: the certificate whose key signed the Body */
    for (size_t i = 0; i < warden_message_token_count(message); i++) {
        const warden_token *token = warden_message_token(message, i);
        warden_string role, kind;
        if (warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_ROLE, &role, sizeof role) != WARDEN_OK
            || warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_KIND, &kind, sizeof kind) != WARDEN_OK)
            continue;
        if (strcmp(role.data, "signing") == 0 && strcmp(kind.data, "x509") == 0 && facts->cert_subject == NULL) {
            facts->cert_subject = copy_token_property(token, WARDEN_TOKEN_PROPERTY_CERT_SUBJECT);
            facts->cert_serial = copy_token_property(token, WARDEN_TOKEN_PROPERTY_CERT_SERIAL);
        }
        if (strcmp(kind.data, "saml") == 0 && facts->saml_subject == NULL)
            facts->saml_subject = copy_token_property(token, WARDEN_TOKEN_PROPERTY_SAML_SUBJECT);
    }
    return WARDEN_OK;
}

void wd_decision_facts_clear(wd_decision_facts *facts)
{
    free(facts->message_id);
    free(facts->action);
    free(facts->operation);
    free(facts->cert_subject);
    free(facts->cert_serial);
    free(facts->username);
    free(facts->saml_subject);
    memset(facts, 0, sizeof *facts);
}

int wd_decision_new_rejection(const warden_error *err, wd_policy_set *set, warden_decision **out)
{
    warden_decision *decision = calloc(1, sizeof *decision);
    *out = NULL;
    if (decision == NULL)
        return WARDEN_E_NOMEM;
    wd_decision_outcome_clear(&decision->outcome);
    decision->stage = "security";
    snprintf(decision->security_reason, sizeof decision->security_reason, "%s",
             err != NULL && err->reason[0] != '\0' ? err->reason : "internal-error");
    decision->outcome.reason = decision->security_reason;
    decision->outcome.allowed = false;
    if (err != NULL && err->text[0] != '\0' && (decision->detail = strdup(err->text)) == NULL) {
        free(decision);
        return WARDEN_E_NOMEM;
    }
    decision->set = set != NULL ? wd_policy_set_ref(set) : NULL;
    *out = decision;
    return WARDEN_OK;
}

static void set_text(json_t *object, const char *key, const char *value)
{
    if (value != NULL)
        json_object_set_new(object, key, json_string(value));
}

/* jansson refuses strings that are not UTF-8 (json_string returns NULL, and the key is then
** left out): a certificate subject or a message id is not trusted to be UTF-8, so those go
** through this, which replaces bad bytes rather than dropping the field. */
static json_t *safe_string(const char *value)
{
    json_t *text = json_string(value);
    if (text == NULL) {
        size_t length = strlen(value);
        char *clean = malloc(length + 1);
        if (clean == NULL)
            return NULL;
        for (size_t i = 0; i <= length; i++)
            clean[i] = (unsigned char)value[i] < 0x80 ? value[i] : '?';
        text = json_string(clean);
        free(clean);
    }
    return text;
}

static void set_bytes(json_t *object, const char *key, const char *value)
{
    if (value != NULL)
        json_object_set_new(object, key, safe_string(value));
}

static void format_time(int64_t ms, char buffer[32])
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm broken;
    gmtime_r(&seconds, &broken);
    size_t n = strftime(buffer, 32, "%Y-%m-%dT%H:%M:%S", &broken);
    snprintf(buffer + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

char *wd_decision_log_line(const warden_decision *decision, const char *remote)
{
    if (decision == NULL)
        return NULL;
    const wd_decision_facts *facts = &decision->facts;
    json_t *line = json_object();
    if (line == NULL)
        return NULL;
    if (facts->kept) {
        char when[32];
        format_time(facts->time_ms, when);
        set_text(line, "time", when);
        set_text(line, "id", facts->id);
    }
    set_bytes(line, "message_id", facts->message_id);
    set_bytes(line, "action", facts->action);
    set_bytes(line, "operation", facts->operation);
    json_t *principal = json_object();
    set_bytes(principal, "cert_subject", facts->cert_subject);
    set_bytes(principal, "cert_serial", facts->cert_serial);
    set_bytes(principal, "username", facts->username);
    set_bytes(principal, "saml_subject", facts->saml_subject);
    json_object_set_new(line, "principal", principal);
    set_text(line, "decision", decision->outcome.allowed ? "allow" : "deny");
    set_text(line, "stage", decision->stage);
    set_text(line, "reason", decision->outcome.reason);
    set_bytes(line, "detail", decision->detail);
    json_t *rules = json_array(), *errors = json_array();
    for (size_t i = 0; i < decision->outcome.rule_count; i++)
        json_array_append_new(rules, safe_string(decision->outcome.rules[i]));
    for (size_t i = 0; i < decision->outcome.error_count; i++)
        json_array_append_new(errors, safe_string(decision->outcome.errors[i]));
    json_object_set_new(line, "rules", rules);
    json_object_set_new(line, "errors", errors);
    set_text(line, "revision", decision->set != NULL ? decision->set->source.files.revision : "");
    if (facts->kept)
        json_object_set_new(line, "latency_us", json_integer((json_int_t)facts->latency_us));
    set_bytes(line, "remote", remote);
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    return text;
}
