/*
** verifier.c — the path of one message through the core: bytes → safe parse → envelope →
** ID table → WS-Security processing → a delivered warden_message. Nothing half-checked
** leaves this file: every failure frees what was built and reports a reason.
*/
#include "verifier.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "envelope.h"
#include "ids.h"
#include "message.h"
#include "wssec.h"
#include "xml_parse.h"
#include "xml_text.h"

struct wd_verifier {
    wd_settings     settings;
    char           *actor;                 /* owned copy behind settings.actor */
    char          **require_signed;        /* owned copies behind settings.require_signed */
    char          **require_encrypted;     /* owned copies behind settings.require_encrypted */
    wd_recipient   *recipient;             /* our key pair, or NULL */
    wd_crypto       crypto;
    wd_trust_store *trust;
    wd_users       *users;
    wd_credentials  credentials;
    wd_replay_cache *replay;               /* borrowed: outlives verifiers, so reloads keep it */
    wd_saml_context saml;                  /* issuers and audiences owned; now and skew set per message */
    char          **saml_audiences;        /* owned copies behind saml.audiences */
};

void wd_verifier_free(wd_verifier *verifier)
{
    if (verifier == NULL)
        return;
    for (size_t i = 0; i < verifier->settings.require_signed_count; i++)
        free(verifier->require_signed[i]);
    free(verifier->require_signed);
    for (size_t i = 0; i < verifier->settings.require_encrypted_count; i++)
        free(verifier->require_encrypted[i]);
    free(verifier->require_encrypted);
    wd_recipient_free(verifier->recipient);
    free(verifier->actor);
    wd_crypto_clear(&verifier->crypto);
    wd_trust_store_free(verifier->trust);
    wd_users_free(verifier->users);
    wd_trust_store_free(verifier->saml.issuers);
    for (size_t i = 0; i < verifier->saml.audience_count; i++)
        free(verifier->saml_audiences[i]);
    free(verifier->saml_audiences);
    free(verifier);
}

/* Copies a list of names into *copies; *copied counts those made, so that a failure half
** way frees exactly what exists. */
static int copy_names(const char *const *names, size_t count, char ***copies, size_t *copied)
{
    *copied = 0;
    *copies = calloc(count + 1, sizeof(char *));
    if (*copies == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        (*copies)[i] = strdup(names[i]);
        if ((*copies)[i] == NULL)
            return -1;
        *copied = i + 1;
    }
    return 0;
}

int wd_verifier_set_saml(wd_verifier *verifier, wd_trust_store *issuers, const char *const *audiences,
                         size_t audience_count, int64_t max_age, warden_saml_validate_fn validate,
                         void *validate_context)
{
    wd_trust_store_free(verifier->saml.issuers);
    verifier->saml.issuers = issuers;
    verifier->saml.max_age = max_age;
    verifier->saml.validate = validate;
    verifier->saml.validate_context = validate_context;
    verifier->saml_audiences = calloc(audience_count + 1, sizeof(char *));
    if (verifier->saml_audiences == NULL)
        return WARDEN_E_NOMEM;
    for (size_t i = 0; i < audience_count; i++) {
        verifier->saml_audiences[i] = strdup(audiences[i]);
        if (verifier->saml_audiences[i] == NULL)
            return WARDEN_E_NOMEM;
        verifier->saml.audience_count = i + 1;
    }
    verifier->saml.audiences = (const char *const *)verifier->saml_audiences;
    return WARDEN_OK;
}

static int copy_settings(wd_verifier *verifier, const wd_settings *settings)
{
    verifier->settings = *settings;
    verifier->settings.require_signed_count = 0;
    verifier->settings.require_encrypted_count = 0;
    if (settings->actor != NULL) {
        verifier->actor = strdup(settings->actor);
        if (verifier->actor == NULL)
            return -1;
    }
    verifier->settings.actor = verifier->actor;
    if (copy_names(settings->require_signed, settings->require_signed_count, &verifier->require_signed,
                   &verifier->settings.require_signed_count) != 0 ||
        copy_names(settings->require_encrypted, settings->require_encrypted_count, &verifier->require_encrypted,
                   &verifier->settings.require_encrypted_count) != 0)
        return -1;
    verifier->settings.require_signed = (const char *const *)verifier->require_signed;
    verifier->settings.require_encrypted = (const char *const *)verifier->require_encrypted;
    return 0;
}

void wd_verifier_set_recipient(wd_verifier *verifier, wd_recipient *recipient)
{
    wd_recipient_free(verifier->recipient);
    verifier->recipient = recipient;
}

int wd_verifier_new(const wd_settings *settings, wd_trust_store *trust, wd_users *users,
                    warden_password_fn password_callback, void *password_context,
                    wd_replay_cache *replay, wd_verifier **out, wd_failure *failure)
{
    wd_verifier *verifier = calloc(1, sizeof *verifier);
    if (verifier == NULL) {
        wd_trust_store_free(trust);
        wd_users_free(users);
        return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory"), WARDEN_E_NOMEM;
    }
    verifier->trust = trust;
    verifier->users = users;
    verifier->replay = replay;
    if (copy_settings(verifier, settings) != 0) {
        wd_verifier_free(verifier);
        return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory"), WARDEN_E_NOMEM;
    }
    if (wd_crypto_init(&verifier->crypto, failure) != 0) {
        wd_verifier_free(verifier);
        return WARDEN_E_INTERNAL;
    }
    verifier->credentials.users = users;
    verifier->credentials.callback = password_callback;
    verifier->credentials.callback_context = password_context;
    verifier->saml.max_age = 3600;
    *out = verifier;
    return WARDEN_OK;
}

/* Reads a field of the caller's options only when the caller's struct is large enough to
** hold it: older callers pass smaller structs. */
#define OPTION(options, field, fallback)                                                   \
    ((options) != NULL && (options)->size >= offsetof(warden_receive_options, field) +     \
                                             sizeof((options)->field)                      \
         ? (options)->field : (fallback))

static int copy_header_text(warden_string *target, const xmlNode *element, wd_failure *failure)
{
    if (element == NULL)
        return 0;
    size_t length = 0;
    char *text = wd_xml_text(element, true, &length);
    if (text == NULL) {
        if (length == SIZE_MAX)
            return wd_fail(failure, WD_REASON_MALFORMED, "the %s header holds more than text", element->name);
        return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");
    }
    target->data = text;
    target->length = length;
    return 0;
}

static int copy_operation(warden_message *message, const xmlNode *operation, wd_failure *failure)
{
    if (operation == NULL)
        return 0;
    const char *ns = operation->ns != NULL ? (const char *)operation->ns->href : "";
    size_t length = strlen(ns) + strlen((const char *)operation->name) + 2;
    char *text = malloc(length + 1);
    if (text == NULL)
        return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");
    snprintf(text, length + 1, "{%s}%s", ns, (const char *)operation->name);
    message->operation.data = text;
    message->operation.length = length;
    return 0;
}

/* The TLS peer certificate becomes a token of kind and role "transport". Its chain was
** verified by the embedder's TLS stack (`warden serve` checks it against tls.client_ca), so
** the core only parses it: a certificate it cannot read rejects the message (fail closed).
** Appending may move the token array, so the signing pointer is taken again after. */
static int add_transport_token(warden_message *message, warden_bytes der, wd_failure *failure)
{
    wd_cert *cert = NULL;
    size_t signing = message->signing != NULL ? (size_t)(message->signing - message->tokens) : SIZE_MAX;

    if (wd_cert_from_der(der.data, der.length, &cert, failure) != 0)
        return -1;
    warden_token *token = wd_message_add_token(message);
    if (token == NULL) {
        wd_cert_unref(cert);
        return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");
    }
    token->kind = WD_TOKEN_TRANSPORT;
    token->cert = cert;
    token->valid_from = cert->not_before;
    token->valid_till = cert->not_after;
    if (signing != SIZE_MAX)
        message->signing = &message->tokens[signing];
    return 0;
}

int wd_verifier_receive(wd_verifier *verifier, const void *bytes, size_t length,
                        const warden_receive_options *options, warden_message **out,
                        wd_failure *failure)
{
    xmlDoc *document = NULL;
    wd_id_table *ids = NULL;
    warden_message *message = NULL;
    wd_envelope envelope;
    int status = WARDEN_E_SECURITY;

    *out = NULL;
    int64_t now = OPTION(options, now, 0);
    if (now == 0)
        now = (int64_t)time(NULL);

    if (wd_xml_parse(bytes, length, &verifier->settings.limits, &document, failure) != 0)
        goto done;
    if (wd_envelope_read(document, verifier->settings.actor, &envelope, failure) != 0)
        goto done;
    if (wd_ids_build(document, &ids, failure) != 0)
        goto done;
    message = wd_message_new();
    if (message == NULL) {
        wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");
        goto done;
    }
    message->now = now;
    message->soap_version = envelope.soap_version;
    message->body = envelope.body;
    /* what the request said at the HTTP level, copied for the policies (m.http_*); an older
    ** caller's struct ends before http_method and http_path, which then stay absent */
    const char *http[3] = { OPTION(options, http_action, NULL), OPTION(options, http_method, NULL),
                            OPTION(options, http_path, NULL) };
    warden_string *http_fields[3] = { &message->http_action, &message->http_method, &message->http_path };
    for (size_t i = 0; i < 3; i++) {
        if (http[i] != NULL && wd_message_set_string(http_fields[i], http[i], strlen(http[i])) != 0) {
            wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");
            goto done;
        }
    }
    const warden_attr *attrs = OPTION(options, attrs, NULL);
    size_t attr_count = OPTION(options, attr_count, 0);
    if (attrs != NULL && wd_message_set_attrs(message, attrs, attr_count) != 0) {
        wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");
        goto done;
    }

    wd_saml_context saml = verifier->saml;
    saml.now = now;
    saml.skew = verifier->settings.skew;
    wd_wssec_context context = {
        .settings = &verifier->settings, .crypto = &verifier->crypto, .trust = verifier->trust,
        .credentials = &verifier->credentials, .replay = verifier->replay, .now = now,
        .message_bytes = length, .saml = &saml, .recipient = verifier->recipient,
    };
    if (wd_wssec_process(&context, &envelope, ids, message, failure) != 0)
        goto done;
    /* Decrypted headers and Body content are read as the envelope now is: the same envelope
    ** rules hold for them (a second Security header for us, a mustUnderstand header nobody
    ** understands, a misplaced Body), and the Envelope, Header, Body and our Security header
    ** must be the very elements everything above was decided on. */
    if (message->decrypted) {
        wd_envelope again;
        if (wd_envelope_read(document, verifier->settings.actor, &again, failure) != 0)
            goto done;
        if (again.envelope != envelope.envelope || again.header != envelope.header || again.body != envelope.body ||
            again.security != envelope.security) {
            wd_fail(failure, WD_REASON_NOT_SOAP, "the decrypted content changed the envelope's structure");
            goto done;
        }
        envelope = again;
    }
    if (copy_header_text(&message->action, envelope.action, failure) != 0 ||
        copy_header_text(&message->to, envelope.to, failure) != 0 ||
        copy_header_text(&message->message_id, envelope.message_id, failure) != 0 ||
        copy_operation(message, envelope.operation, failure) != 0)
        goto done;
    warden_bytes transport = OPTION(options, transport_cert, ((warden_bytes){ NULL, 0 }));
    if (transport.data != NULL && transport.length > 0 && add_transport_token(message, transport, failure) != 0)
        goto done;

    message->document = document; /* the message owns the verified document from here */
    document = NULL;
    *out = message;
    message = NULL;
    status = WARDEN_OK;

done:
    if (status != WARDEN_OK && failure != NULL && failure->code != 0)
        status = failure->code;
    wd_ids_free(ids);
    warden_message_free(message);
    if (document != NULL)
        xmlFreeDoc(document);
    return status;
}
