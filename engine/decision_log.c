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
#include <stdbool.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "decision.h"
#include "json_text.h"

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
    /* The kernel's generator first: 16 bytes cost one system call, a third of what OpenSSL's
    ** RAND_bytes takes (its DRBG, and a getpid of its own to notice a fork), on every decision
    ** a log keeps. OpenSSL's when the kernel's is not ready (GRND_NONBLOCK: never wait here). */
    unsigned char bytes[16];
    if (getrandom(bytes, sizeof bytes, GRND_NONBLOCK) != (ssize_t)sizeof bytes
        && RAND_bytes(bytes, sizeof bytes) != 1) {
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

/* ---- the line: written directly (it is built for every decision a log keeps, so it
** avoids a JSON library's objects); the output is compact JSON, keys in the documented order */

#define LINE_FIRST_CAPACITY 1024

typedef struct line_buffer {
    char  *data;
    size_t length, capacity;
    bool   failed; /* out of memory: the line is not made */
} line_buffer;

static void put(line_buffer *b, const char *text, size_t length)
{
    if (b->failed)
        return;
    if (b->length + length + 1 > b->capacity) {
        size_t capacity = b->capacity * 2 > b->length + length + 1 ? b->capacity * 2 : b->length + length + 64;
        char *grown = realloc(b->data, capacity);
        if (grown == NULL) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->length, text, length);
    b->length += length;
    b->data[b->length] = '\0';
}

static void put_text(line_buffer *b, const char *text)
{
    put(b, text, strlen(text));
}

static void line_put(void *context, const char *bytes, size_t length)
{
    put(context, bytes, length);
}

/* A JSON string. A certificate subject or a message id is not trusted to be UTF-8: when it is
** not, every byte past ASCII becomes '?' (the field is kept, never dropped); control characters
** are escaped, so a line never breaks (json_text.h). */
static void put_string(line_buffer *b, const char *value)
{
    wd_json_put_string(line_put, b, value);
}

/* ,"key":"value" (without the comma for an object's first field); nothing when value is NULL. */
static void put_field(line_buffer *b, bool *first, const char *key, const char *value)
{
    if (value == NULL)
        return;
    if (!*first)
        put(b, ",", 1);
    *first = false;
    put(b, "\"", 1);
    put_text(b, key);
    put(b, "\":", 2);
    put_string(b, value);
}

/* ,"key":[ ... the caller puts the items (put_item) and the closing ] */
static void put_list_start(line_buffer *b, const char *key)
{
    put(b, ",\"", 2);
    put_text(b, key);
    put(b, "\":[", 3);
}

static void put_item(line_buffer *b, size_t i, const char *item)
{
    if (i > 0)
        put(b, ",", 1);
    put_string(b, item != NULL ? item : "");
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
    /* most lines are 400-700 bytes: one allocation instead of a doubling from nothing */
    line_buffer b = { malloc(LINE_FIRST_CAPACITY), 0, LINE_FIRST_CAPACITY, false };
    if (b.data == NULL)
        return NULL;
    bool first = true;
    put(&b, "{", 1);
    if (facts->kept) {
        char when[32];
        format_time(facts->time_ms, when);
        put_field(&b, &first, "time", when);
        put_field(&b, &first, "id", facts->id);
    }
    put_field(&b, &first, "message_id", facts->message_id);
    put_field(&b, &first, "action", facts->action);
    put_field(&b, &first, "operation", facts->operation);
    put(&b, first ? "\"principal\":{" : ",\"principal\":{", first ? 13 : 14);
    bool principal_first = true;
    put_field(&b, &principal_first, "cert_subject", facts->cert_subject);
    put_field(&b, &principal_first, "cert_serial", facts->cert_serial);
    put_field(&b, &principal_first, "username", facts->username);
    put_field(&b, &principal_first, "saml_subject", facts->saml_subject);
    put(&b, "}", 1);
    first = false;
    put_field(&b, &first, "decision", decision->outcome.allowed ? "allow" : "deny");
    put_field(&b, &first, "stage", decision->stage);
    put_field(&b, &first, "reason", decision->outcome.reason);
    put_field(&b, &first, "detail", decision->detail);
    put_list_start(&b, "rules");
    for (size_t i = 0; i < decision->outcome.rule_count; i++)
        put_item(&b, i, decision->outcome.rules[i]);
    put(&b, "]", 1);
    put_list_start(&b, "errors");
    for (size_t i = 0; i < decision->outcome.error_count; i++)
        put_item(&b, i, decision->outcome.errors[i]);
    put(&b, "]", 1);
    put_field(&b, &first, "revision", decision->set != NULL ? decision->set->source.files.revision : "");
    if (facts->kept) {
        char number[32];
        snprintf(number, sizeof number, ",\"latency_us\":%lld", (long long)facts->latency_us);
        put_text(&b, number);
    }
    put_field(&b, &first, "remote", remote);
    put(&b, "}", 1);
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
}
