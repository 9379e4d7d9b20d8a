/*
** wssec.c — the wsse:Security header processor. It walks the header in document order,
** hands each child to its module (timestamp.c, username_token.c, x509_token.c,
** signature.c, decrypt.c) at its place, then applies the configuration's requirements and
** the replay cache, and records the results on the message.
**
** "What was signed" is decided by node identity: a part counts as signed only when a
** verified Reference points at that very element at its canonical place (the Envelope's
** Body, our Security header's Timestamp, ...). A Body moved elsewhere keeps its digest but
** is no longer the Body, which is what defeats signature wrapping.
**
** Order is the sender's for what changes the document (the cheap checks of the other
** children come first, so that they still reject before any key is used): WS-Security
** prepends each step to the header, so the header read top down undoes the steps
** last-first. A signature below an EncryptedKey was made before the encryption
** (sign-then-encrypt) and is verified over the plaintext; one above it was made over the
** ciphertext (encrypt-then-sign) and vouches for the element that ciphertext turns into,
** which takes its place among the signature's covered elements. Nothing a verified
** signature covered can change afterwards except by decrypting what it covered.
*/
#include "wssec.h"
#include "invariant.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c14n.h"
#include "decrypt.h"
#include "namespaces.h"
#include "saml.h"
#include "signature.h"
#include "timestamp.h"
#include "username_token.h"
#include "x509_token.h"
#include "xml_text.h"

#define MAX_BINARY_TOKENS 16
#define MAX_PART_NAMES 128 /* distinct names of signed parts reported */

typedef struct header_state {
    const wd_wssec_context *context;
    const wd_envelope      *envelope;
    wd_timestamp            timestamp;
    bool                    has_timestamp;
    wd_username_token       username_token;
    bool                    has_username_token;
    wd_read_token           binary_tokens[MAX_BINARY_TOKENS]; /* each cert: one reference owned until
                                                               ** moved into the message */
    size_t                  binary_token_count;
    xmlNode                *signatures[WD_WSSEC_MAX_CHILDREN];
    size_t                  signature_count;
    wd_signature_result     results[WD_WSSEC_MAX_CHILDREN];
    size_t                  result_count;
    const wd_signature_result *body_signature; /* the first verified signature covering the Body */
    wd_signature_context    signature_context;
    size_t                  c14n_budget;
    wd_c14n_memo            c14n_memo;
    wd_decryption           decryption;
    size_t                  decryptions_handled; /* of decryption.done, those after_decryption saw */
    xmlNode                *cursor;              /* the header child being read */
    bool                    body_had_clear_text; /* text beside the Body's elements before decryption */
    wd_saml_assertion       saml;          /* the one saml2:Assertion, owned until recorded */
    bool                    has_saml;
    xmlNode                *saml_element;  /* the assertion's element, also once the token took it */
    bool                    saml_signing;  /* its holder-of-key made the signature over the Body */
} header_state;

static bool is_within(const xmlNode *node, const xmlNode *ancestor)
{
    for (; node != NULL; node = node->parent)
        if (node == ancestor)
            return true;
    return false;
}

static bool is_wsa_namespace(const xmlNode *node)
{
    if (node->ns == NULL || node->ns->href == NULL)
        return false;
    const char *href = (const char *)node->ns->href;
    return strcmp(href, WD_NS_WSA) == 0 || strcmp(href, WD_NS_WSA_2004) == 0;
}

/* ---- reading the header ------------------------------------------------------------- */

static int read_child(header_state *state, xmlNode *child, wd_failure *failure);

static int verify_signature(header_state *state, xmlNode *signature, wd_failure *failure)
{
    wd_signature_result *result = &state->results[state->result_count];

    WD_ASSERT(state->result_count < WD_WSSEC_MAX_CHILDREN);
    state->signature_context.tokens = state->binary_tokens;
    state->signature_context.token_count = state->binary_token_count;
    if (wd_signature_verify(signature, &state->signature_context, result, failure) != 0) {
        wd_signature_result_clear(result);
        return -1;
    }
    state->result_count++;
    for (size_t k = 0; k < result->covered_count && state->body_signature == NULL; k++)
        if (result->covered[k] == state->envelope->body)
            state->body_signature = result;
    return 0;
}

/* Signatures, EncryptedKeys and ReferenceLists change what the others see, so they run in
** header order (the second walk); every other child is read first, in the first walk: the
** cheap checks (a Timestamp's freshness, a token's trust) reject a message before any
** public- or private-key operation, as when nothing was encrypted. */
static bool runs_in_order(const xmlNode *child)
{
    return wd_xml_is(child, WD_NS_DSIG, "Signature") || wd_xml_is(child, WD_NS_XENC, "EncryptedKey") ||
           wd_xml_is(child, WD_NS_XENC, "ReferenceList");
}

static bool precedes(const xmlNode *node, const xmlNode *cursor)
{
    for (const xmlNode *n = cursor != NULL ? cursor->prev : NULL; n != NULL; n = n->prev)
        if (n == node)
            return true;
    return false;
}

/* What each new decryption means for the header: a verified signature that covered the
** ciphertext element now covers the element it held, and an element of the Security header
** decrypted is read now, unless it runs in order and lies ahead of the cursor (the second
** walk gets there). */
static int after_decryption(header_state *state, wd_failure *failure)
{
    while (state->decryptions_handled < state->decryption.done_count) {
        const wd_decrypted *done = &state->decryption.done[state->decryptions_handled++];
        if (done->element == NULL)
            continue;
        for (size_t r = 0; r < state->result_count; r++)
            for (size_t k = 0; k < state->results[r].covered_count; k++)
                if (state->results[r].covered[k] == done->replaced)
                    state->results[r].covered[k] = done->element;
        if (done->parent != state->envelope->security)
            continue;
        if ((!runs_in_order(done->element) || precedes(done->element, state->cursor)) &&
            read_child(state, done->element, failure) != 0)
            return -1;
    }
    return 0;
}

static int read_child(header_state *state, xmlNode *child, wd_failure *failure)
{
    const wd_wssec_context *context = state->context;

    if (wd_xml_is(child, WD_NS_WSU, "Timestamp")) {
        if (state->has_timestamp)
            return wd_fail(failure, WD_REASON_TIMESTAMP_INVALID, "more than one wsu:Timestamp in the Security header");
        if (wd_timestamp_read(child, &state->timestamp, failure) != 0)
            return -1;
        state->has_timestamp = true;
        return wd_timestamp_check(&state->timestamp, context->now, context->settings, failure);
    }
    if (wd_xml_is(child, WD_NS_WSSE, "UsernameToken")) {
        if (state->has_username_token)
            return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "more than one UsernameToken in the Security header");
        if (wd_username_token_read(child, &state->username_token, failure) != 0)
            return -1;
        state->has_username_token = true;
        return wd_username_token_verify(&state->username_token, context->credentials, context->now,
                                        context->settings, failure);
    }
    if (wd_xml_is(child, WD_NS_WSSE, "BinarySecurityToken")) {
        if (state->binary_token_count == MAX_BINARY_TOKENS)
            return wd_fail(failure, WD_REASON_LIMIT_EXCEEDED, "more than %d BinarySecurityTokens", MAX_BINARY_TOKENS);
        wd_read_token *token = &state->binary_tokens[state->binary_token_count];
        if (wd_x509_token_read(child, context->trust, &token->cert, failure) != 0)
            return -1;
        /* Our own certificate, which an EncryptedKey names: it proves nothing about the sender
        ** and is no token of the message. */
        if (wd_recipient_owns(context->recipient, token->cert)) {
            wd_cert_unref(token->cert);
            token->cert = NULL;
            return 0;
        }
        token->element = child;
        state->binary_token_count++;
        /* A token we report must be one we trust, used by a signature or not. */
        return wd_trust_store_validate(context->trust, token->cert, context->now, failure);
    }
    if (wd_xml_is(child, WD_NS_DSIG, "Signature")) {
        if (state->signature_count >= (size_t)context->settings->limits.signatures ||
            state->signature_count == WD_WSSEC_MAX_CHILDREN)
            return wd_fail(failure, WD_REASON_LIMIT_EXCEEDED, "more than %d signatures (limits.signatures)",
                           context->settings->limits.signatures);
        WD_ASSERT(state->signature_count < WD_WSSEC_MAX_CHILDREN);
        state->signatures[state->signature_count++] = child;
        return verify_signature(state, child, failure);
    }
    if (wd_xml_is(child, WD_NS_XENC, "EncryptedKey")) {
        if (wd_decrypt_encrypted_key(&state->decryption, child, failure) != 0)
            return -1;
        return after_decryption(state, failure);
    }
    if (wd_xml_is(child, WD_NS_XENC, "ReferenceList")) {
        if (wd_decrypt_reference_list(&state->decryption, child, failure) != 0)
            return -1;
        return after_decryption(state, failure);
    }
    /* Encrypted header content waits for the key further down (one never decrypted is
    ** refused after the header). */
    if (wd_xml_is(child, WD_NS_XENC, "EncryptedData"))
        return 0;
    const char *ns = child->ns != NULL ? (const char *)child->ns->href : "";
    if (strcmp(ns, WD_NS_XENC) == 0)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "encrypted content (xenc:%s) is not supported", child->name);
    if (wd_xml_is(child, WD_NS_SAML2, "Assertion")) {
        /* One assertion: a second one, signed or not, is refused rather than ignored, so that
        ** no reader can be steered to the one that was not checked. */
        if (state->has_saml)
            return wd_fail(failure, WD_REASON_SAML_INVALID, "more than one saml2:Assertion in the Security header");
        state->has_saml = true;
        state->saml_element = child;
        return wd_saml_read(child, context->trust, &state->saml, failure);
    }
    if (strcmp(ns, WD_NS_SAML2) == 0 || strcmp(ns, WD_NS_SAML1) == 0)
        return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED,
                       "SAML element %s is not supported (SAML 2.0 Assertion only)", child->name);
    return wd_fail(failure, WD_REASON_TOKEN_UNSUPPORTED, "unsupported element {%s}%s in the Security header",
                   ns, child->name);
}

/* ---- naming the parts ------------------------------------------------------------- */

/* The contract's name of a covered element: the standard names for elements at their
** canonical places, "{ns}local" for anything else. Writes into buffer. */
static const char *part_name(const header_state *state, const xmlNode *node, char *buffer, size_t capacity)
{
    const wd_envelope *envelope = state->envelope;
    if (node == envelope->body)
        return "Body";
    if (state->has_timestamp && node == state->timestamp.node)
        return "Timestamp";
    if (state->has_username_token && node == state->username_token.node)
        return "UsernameToken";
    if (state->saml_element != NULL && node == state->saml_element)
        return "Assertion";
    for (size_t i = 0; i < state->binary_token_count; i++)
        if (node == state->binary_tokens[i].element)
            return "BinarySecurityToken";
    if (envelope->header != NULL && node->parent == envelope->header && is_wsa_namespace(node))
        return (const char *)node->name;
    snprintf(buffer, capacity, "{%s}%s", node->ns != NULL ? (const char *)node->ns->href : "",
             (const char *)node->name);
    return buffer;
}

static bool is_covered(const header_state *state, const xmlNode *node)
{
    for (size_t r = 0; r < state->result_count; r++)
        for (size_t i = 0; i < state->results[r].covered_count; i++)
            if (state->results[r].covered[i] == node)
                return true;
    return false;
}

/* Whether the Body holds text of its own (not blank) beside its elements. Checked before any
** decryption: a decrypted Content's text merges into its clear neighbours and cannot be told
** apart afterwards. */
static bool has_clear_text(const xmlNode *body)
{
    for (const xmlNode *child = body != NULL ? body->children : NULL; child != NULL; child = child->next)
        if ((child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE) && !xmlIsBlankNode(child))
            return true;
    return false;
}

/* The Body arrived encrypted when a decryption put plaintext into it and every element it
** holds now came out of a decryption: an element sent in clear beside the EncryptedData is
** not protected by it. */
static bool body_encrypted(const header_state *state)
{
    const xmlNode *body = state->envelope->body;
    bool decrypted_into = false;
    if (state->body_had_clear_text)
        return false;
    for (size_t i = 0; i < state->decryption.done_count; i++)
        decrypted_into = decrypted_into || state->decryption.done[i].parent == body;
    if (!decrypted_into)
        return false;
    for (xmlNode *child = wd_xml_first_element(body); child != NULL; child = wd_xml_next_element(child))
        if (!wd_decryption_inserted(&state->decryption, child))
            return false;
    return true;
}

static bool is_encrypted(const header_state *state, const xmlNode *node)
{
    if (node == state->envelope->body)
        return body_encrypted(state);
    return wd_decryption_inserted(&state->decryption, node);
}

/* One kind of protection a part may be required to have. */
typedef struct protection_rule {
    bool      (*has)(const header_state *state, const xmlNode *node);
    wd_reason   reason;
    const char *missing;   /* "is not covered by the signature" */
} protection_rule;

static const protection_rule signed_rule = { is_covered, WD_REASON_UNSIGNED_PART, "is not covered by the signature" };
static const protection_rule encrypted_rule = { is_encrypted, WD_REASON_UNENCRYPTED_PART, "did not arrive encrypted" };

/* Checks one required part: every element the message carries under that name must have
** the protection. A part the message does not carry is not checked here (require.timestamp
** asks for a Timestamp; a policy can ask for the rest). */
static int check_required_part(const header_state *state, const char *name, const protection_rule *rule,
                               wd_failure *failure)
{
    const wd_envelope *envelope = state->envelope;
    char buffer[512];

    if (strcmp(name, "Body") == 0) {
        if (!rule->has(state, envelope->body))
            return wd_fail(failure, rule->reason, "the Body %s", rule->missing);
        return 0;
    }
    if (strcmp(name, "Timestamp") == 0) {
        if (state->has_timestamp && !rule->has(state, state->timestamp.node))
            return wd_fail(failure, rule->reason, "the Timestamp %s", rule->missing);
        return 0;
    }
    if (strcmp(name, "UsernameToken") == 0) {
        if (state->has_username_token && !rule->has(state, state->username_token.node))
            return wd_fail(failure, rule->reason, "the UsernameToken %s", rule->missing);
        return 0;
    }
    if (strcmp(name, "BinarySecurityToken") == 0) {
        for (size_t i = 0; i < state->binary_token_count; i++)
            if (!rule->has(state, state->binary_tokens[i].element))
                return wd_fail(failure, rule->reason, "a BinarySecurityToken %s", rule->missing);
        return 0;
    }
    /* WS-Addressing names and "{ns}local" names: direct children of the Header */
    if (envelope->header == NULL)
        return 0;
    for (xmlNode *child = wd_xml_first_element(envelope->header); child != NULL; child = wd_xml_next_element(child)) {
        const char *child_name = part_name(state, child, buffer, sizeof buffer);
        if (strcmp(child_name, name) == 0 && !rule->has(state, child))
            return wd_fail(failure, rule->reason, "the %s header %s", name, rule->missing);
    }
    return 0;
}

/* A BinarySecurityToken proves something only through a signature: its key made one, or one
** covers it (the signer vouches for it). Anyone can attach a trusted partner's certificate,
** which is public, and policies reading m.tokens would take it for a second sender. */
static bool is_signing_key(const header_state *state, const xmlNode *element)
{
    for (size_t r = 0; r < state->result_count; r++)
        if (state->results[r].token == element)
            return true;
    return false;
}

static int check_binary_tokens_used(const header_state *state, wd_failure *failure)
{
    for (size_t i = 0; i < state->binary_token_count; i++) {
        const xmlNode *element = state->binary_tokens[i].element;
        if (!is_signing_key(state, element) && !is_covered(state, element))
            return wd_fail(failure, WD_REASON_UNSIGNED_PART,
                           "a BinarySecurityToken that no signature uses or covers proves nothing");
    }
    return 0;
}

/* ---- the SAML assertion ------------------------------------------------------------ */

/* After the message's signatures: the assertion's own signature, its clock and audiences,
** its subject confirmation against those signatures, then the embedder's validator. Only the
** assertion whose signature verified (this element, by node identity) reaches policies. */
static int check_assertion(header_state *state, const wd_signature_context *signature_context,
                           const wd_signature_result *body_signature, wd_failure *failure)
{
    const wd_saml_context *saml = state->context->saml;
    wd_saml_context none = { .now = state->context->now, .skew = state->context->settings->skew };
    const wd_signature_result *proof = NULL;

    if (saml == NULL)
        saml = &none;
    if (wd_saml_check_signature(&state->saml, saml, signature_context, failure) != 0 ||
        wd_saml_check_conditions(&state->saml, saml, failure) != 0 ||
        wd_saml_check_confirmation(&state->saml, state->results, state->result_count, state->envelope->body,
                                   state->has_timestamp ? state->timestamp.node : NULL, &proof, failure) != 0)
        return -1;
    /* the text costs a copy of the element: made here only for a validator, else on demand */
    if (saml->validate != NULL && wd_saml_serialize(&state->saml) != 0)
        return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory serializing the assertion");
    if (wd_saml_check_validator(&state->saml, saml, failure) != 0)
        return -1;
    state->saml_signing = state->saml.confirmation == WD_SAML_HOLDER_OF_KEY && proof != NULL && proof == body_signature;
    return 0;
}

static int add_saml_token(header_state *state, warden_message *message)
{
    warden_token *token = wd_message_add_token(message);
    if (token == NULL)
        return -1;
    token->saml = malloc(sizeof *token->saml);
    if (token->saml == NULL)
        return -1;
    *token->saml = state->saml; /* moved: the token owns the assertion's strings from here */
    memset(&state->saml, 0, sizeof state->saml);
    state->has_saml = false;
    token->kind = WD_TOKEN_SAML;
    token->element = token->saml->element;
    token->signing = state->saml_signing;
    token->valid_from = token->saml->has_not_before ? token->saml->not_before : 0;
    token->valid_till = token->saml->has_not_on_or_after ? token->saml->not_on_or_after : 0;
    return 0;
}

/* ---- results ---------------------------------------------------------------------- */

static int add_x509_token(warden_message *message, wd_cert **cert, xmlNode *element, bool signing)
{
    warden_token *token = wd_message_add_token(message);
    if (token == NULL)
        return -1;
    WD_ASSERT(*cert != NULL); /* the caller owns a parsed certificate and gives it up here */
    token->kind = WD_TOKEN_X509;
    token->element = element;
    token->cert = *cert;
    *cert = NULL; /* moved */
    token->signing = signing;
    token->valid_from = token->cert->not_before;
    token->valid_till = token->cert->not_after;
    return 0;
}

static int record_results(header_state *state, warden_message *message, const wd_signature_result *body_signature,
                          wd_failure *failure)
{
    /* Tokens in header order: walk the header again and pick ours up as they come. */
    for (xmlNode *child = wd_xml_first_element(state->envelope->security); child != NULL;
         child = wd_xml_next_element(child)) {
        for (size_t i = 0; i < state->binary_token_count; i++) {
            wd_read_token *bt = &state->binary_tokens[i];
            if (bt->element != child)
                continue;
            bool signing = body_signature != NULL && body_signature->token == child;
            if (add_x509_token(message, &bt->cert, child, signing) != 0)
                return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");
        }
        if (state->has_saml && child == state->saml.element && add_saml_token(state, message) != 0)
            return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");
        if (state->has_username_token && child == state->username_token.node) {
            warden_token *token = wd_message_add_token(message);
            if (token == NULL)
                return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");
            token->kind = WD_TOKEN_USERNAME;
            token->element = child;
            token->password_type = state->username_token.password_type == WD_PASSWORD_DIGEST ? "digest" : "text";
            if (state->username_token.has_created)
                token->valid_from = state->username_token.created;
            if (wd_message_set_string(&token->username, state->username_token.username,
                                      state->username_token.username_length) != 0)
                return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");
        }
    }
    /* A signing certificate found by key identifier has no element in the message. */
    if (body_signature != NULL && body_signature->token == NULL) {
        wd_cert *cert = wd_cert_ref(body_signature->cert);
        if (add_x509_token(message, &cert, NULL, true) != 0) {
            wd_cert_unref(cert);
            return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");
        }
    }
    for (size_t i = 0; i < message->token_count; i++) {
        warden_token *token = &message->tokens[i];
        if (token->kind == WD_TOKEN_USERNAME)
            message->username = token->username;
        if (token->kind == WD_TOKEN_X509 && token->signing && message->signing == NULL)
            message->signing = token;
    }

    /* Signed parts, named once each, in the order the references listed them. */
    const char *names[MAX_PART_NAMES];
    char storage[MAX_PART_NAMES][256];
    size_t count = 0;
    for (size_t r = 0; r < state->result_count; r++) {
        for (size_t i = 0; i < state->results[r].covered_count && count < MAX_PART_NAMES; i++) {
            const char *name = part_name(state, state->results[r].covered[i], storage[count], sizeof storage[count]);
            bool seen = false;
            for (size_t k = 0; k < count && !seen; k++)
                seen = strcmp(names[k], name) == 0;
            if (!seen)
                names[count++] = name;
        }
    }
    if (wd_message_set_signed_parts(message, names, count) != 0)
        return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");

    /* Encrypted parts, named like signed ones: the Body as a whole, and each element a
    ** decryption put in place outside it and that is still in the document (an EncryptedData
    ** that came out of another is itself replaced by its plaintext, which is named instead). */
    count = 0;
    if (body_encrypted(state))
        names[count++] = "Body";
    for (size_t i = 0; i < state->decryption.done_count && count < MAX_PART_NAMES; i++) {
        const xmlNode *element = state->decryption.done[i].element;
        if (element == NULL || !is_within(element, state->envelope->envelope) ||
            is_within(element, state->envelope->body))
            continue;
        const char *name = part_name(state, element, storage[count], sizeof storage[count]);
        bool seen = false;
        for (size_t k = 0; k < count && !seen; k++)
            seen = strcmp(names[k], name) == 0;
        if (!seen)
            names[count++] = name;
    }
    if (wd_message_set_encrypted_parts(message, names, count) != 0)
        return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");
    message->decrypted = state->decryption.done_count > 0;

    message->protection = body_signature == NULL      ? WARDEN_PROTECTION_NONE
                          : message->decrypted        ? WARDEN_PROTECTION_SIGN_AND_ENCRYPT
                                                      : WARDEN_PROTECTION_SIGN;
    if (state->has_timestamp) {
        message->has_timestamp = true;
        message->created = state->timestamp.created;
        message->has_expires = state->timestamp.has_expires;
        message->expires = state->timestamp.expires;
    }
    return 0;
}

static int remember(const wd_wssec_context *context, const char *kind, const void *value, size_t length,
                    int64_t until, wd_failure *failure)
{
    char why[160];
    if (until <= context->now)
        until = context->now + 1;
    switch (wd_replay_cache_remember(context->replay, kind, value, length, until, context->now, why, sizeof why)) {
    case WD_REPLAY_FRESH:
        return 0;
    case WD_REPLAY_SEEN:
        return wd_fail(failure, WD_REASON_REPLAY, "this %s was already received", kind);
    case WD_REPLAY_FULL:
        return wd_fail(failure, WD_REASON_REPLAY_CACHE_FULL, "the replay cache is full; refusing new messages");
    case WD_REPLAY_UNAVAILABLE:
        return wd_fail(failure, WD_REASON_REPLAY_UNAVAILABLE,
                       "the shared replay store %s; refusing the message (fail closed)",
                       why[0] != '\0' ? why : "did not answer");
    case WD_REPLAY_ERROR:
        break;
    }
    return wd_fail_internal(failure, WARDEN_E_INTERNAL, "the replay cache failed");
}

/* How long a replay of this message could still be accepted: until its Created leaves the
** ttl window and its Expires (plus skew) has passed. */
static int64_t replay_horizon(const header_state *state, const wd_settings *settings, int64_t now)
{
    int64_t until = now + settings->ttl;
    if (state->has_timestamp) {
        until = state->timestamp.created + settings->ttl;
        if (state->timestamp.has_expires && state->timestamp.expires + settings->skew > until)
            until = state->timestamp.expires + settings->skew;
    }
    return until;
}

static int apply_replay_cache(const header_state *state, wd_failure *failure)
{
    const wd_wssec_context *context = state->context;
    const wd_settings *settings = context->settings;
    if (state->has_username_token && state->username_token.nonce != NULL) {
        int64_t until = (state->username_token.has_created ? state->username_token.created : context->now)
                        + settings->ttl;
        if (remember(context, "nonce", state->username_token.nonce, state->username_token.nonce_length,
                     until, failure) != 0)
            return -1;
    }
    /* OneTimeUse (SAML core 2.5.1.5): an assertion is remembered by issuer and ID until it
    ** expires; without NotOnOrAfter, for as long as saml.max_age lets it be accepted. */
    if (state->has_saml && state->saml.one_time_use) {
        const wd_saml_assertion *a = &state->saml;
        int64_t max_age = context->saml != NULL ? context->saml->max_age : 0;
        int64_t until = a->has_not_on_or_after ? a->not_on_or_after + settings->skew
                                               : a->issue_instant + max_age + settings->skew;
        size_t issuer_length = strlen(a->issuer), id_length = strlen(a->id);
        char *key = malloc(issuer_length + 1 + id_length);
        if (key == NULL)
            return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");
        memcpy(key, a->issuer, issuer_length);
        key[issuer_length] = '\0'; /* the issuer cannot hold a NUL (saml_read.c), so the join is unambiguous */
        memcpy(key + issuer_length + 1, a->id, id_length);
        int status = remember(context, "assertion", key, issuer_length + 1 + id_length, until, failure);
        free(key);
        if (status != 0)
            return -1;
    }
    /* A signature is remembered by what it vouches for and who vouched: the digest of the
    ** canonical SignedInfo and the signer's certificate. Its bytes would not do: an ECDSA
    ** (r, s) verifies as (r, n-s) too, and an attacker can make that twin of a captured
    ** message. The same content signed again by the same signer is the same message, even
    ** with a randomized scheme (RSA-PSS): clients make each message unique through its
    ** Timestamp (or a signed MessageID), not through the signature. */
    for (size_t r = 0; r < state->result_count; r++) {
        const wd_signature_result *result = &state->results[r];
        unsigned char key[sizeof result->signed_info_sha256 + sizeof result->cert->sha256];
        memcpy(key, result->signed_info_sha256, sizeof result->signed_info_sha256);
        memcpy(key + sizeof result->signed_info_sha256, result->cert->sha256, sizeof result->cert->sha256);
        if (remember(context, "signature", key, sizeof key, replay_horizon(state, settings, context->now),
                     failure) != 0)
            return -1;
    }
    return 0;
}

/* ---- the processor ---------------------------------------------------------------- */

int wd_wssec_process(const wd_wssec_context *context, const wd_envelope *envelope,
                     wd_id_table *ids, warden_message *message, wd_failure *failure)
{
    const wd_settings *settings = context->settings;
    header_state state;
    int status = -1;

    memset(&state, 0, sizeof state);
    state.context = context;
    state.envelope = envelope;
    wd_decryption_init(&state.decryption, context->recipient, settings, ids, envelope);
    /* only a service with a decryption key can receive an encrypted Body */
    state.body_had_clear_text = context->recipient != NULL && has_clear_text(envelope->body);

    if (envelope->security == NULL) {
        if (settings->require_token)
            return wd_fail(failure, WD_REASON_SECURITY_HEADER_MISSING, "no wsse:Security header addressed to us");
        if (settings->require_timestamp == WD_TIMESTAMP_ALWAYS)
            return wd_fail(failure, WD_REASON_TIMESTAMP_MISSING, "no wsu:Timestamp (require.timestamp = \"always\")");
        if (wd_decrypt_check_leftovers(&state.decryption, failure) != 0)
            return -1;
        for (size_t i = 0; i < settings->require_encrypted_count; i++)
            if (check_required_part(&state, settings->require_encrypted[i], &encrypted_rule, failure) != 0)
                return -1;
        return wd_message_set_signed_parts(message, NULL, 0) == 0 && wd_message_set_encrypted_parts(message, NULL, 0) == 0
                   ? 0 : wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory");
    }

    /* Count first, so that a header too large to process costs nothing beyond the count. */
    size_t children = 0;
    for (xmlNode *child = wd_xml_first_element(envelope->security); child != NULL; child = wd_xml_next_element(child)) {
        if (++children > WD_WSSEC_MAX_CHILDREN) {
            wd_fail(failure, WD_REASON_LIMIT_EXCEEDED, "more than %d elements in the Security header", WD_WSSEC_MAX_CHILDREN);
            goto done;
        }
    }
    /* One canonicalization budget for every signature of the message, so that nested or
    ** repeated References cannot multiply the cost of a large message. */
    state.c14n_budget = WD_C14N_BUDGET(context->message_bytes);
    state.signature_context = (wd_signature_context){
        .crypto = context->crypto, .trust = context->trust, .ids = ids,
        .security = envelope->security, .settings = settings, .now = context->now,
        .c14n_budget = &state.c14n_budget, .c14n_memo = &state.c14n_memo,
    };
    for (xmlNode *child = wd_xml_first_element(envelope->security); child != NULL; child = wd_xml_next_element(child)) {
        if (!runs_in_order(child) && read_child(&state, child, failure) != 0)
            goto done;
    }
    for (xmlNode *child = wd_xml_first_element(envelope->security); child != NULL; child = wd_xml_next_element(child)) {
        state.cursor = child;
        if (runs_in_order(child) && read_child(&state, child, failure) != 0)
            goto done;
    }
    if (wd_decrypt_check_leftovers(&state.decryption, failure) != 0)
        goto done;
    const wd_signature_result *body_signature = state.body_signature;

    bool signed_message = state.result_count > 0;
    if (!state.has_timestamp && (settings->require_timestamp == WD_TIMESTAMP_ALWAYS ||
                                 (signed_message && settings->require_timestamp == WD_TIMESTAMP_WHEN_SIGNED))) {
        wd_fail(failure, WD_REASON_TIMESTAMP_MISSING, "no wsu:Timestamp in the Security header");
        goto done;
    }
    if (settings->require_token && !signed_message && !state.has_username_token && !state.has_saml) {
        wd_fail(failure, WD_REASON_SECURITY_HEADER_MISSING,
                "the Security header carries no authenticating token (signature, UsernameToken or SAML assertion)");
        goto done;
    }
    for (size_t i = 0; i < settings->require_encrypted_count; i++)
        if (check_required_part(&state, settings->require_encrypted[i], &encrypted_rule, failure) != 0)
            goto done;
    state.signature_context.tokens = state.binary_tokens;
    state.signature_context.token_count = state.binary_token_count;
    if (state.has_saml && check_assertion(&state, &state.signature_context, body_signature, failure) != 0)
        goto done;
    if (signed_message) {
        for (size_t i = 0; i < settings->require_signed_count; i++)
            if (check_required_part(&state, settings->require_signed[i], &signed_rule, failure) != 0)
                goto done;
        /* Whatever require.signed says: a UsernameToken no signature covers could have been
        ** added (or swapped) by anyone on the path, and policies would see his username beside
        ** the real signer's certificate. */
        if (state.has_username_token && !is_covered(&state, state.username_token.node)) {
            wd_fail(failure, WD_REASON_UNSIGNED_PART,
                    "the UsernameToken of a signed message is not covered by the signature");
            goto done;
        }
    }
    if (check_binary_tokens_used(&state, failure) != 0)
        goto done;
    if (apply_replay_cache(&state, failure) != 0)
        goto done;
    if (record_results(&state, message, body_signature, failure) != 0)
        goto done;
    status = 0;

done:
    for (size_t i = 0; i < state.binary_token_count; i++)
        wd_cert_unref(state.binary_tokens[i].cert);
    for (size_t i = 0; i < state.result_count; i++)
        wd_signature_result_clear(&state.results[i]);
    if (state.has_username_token)
        wd_username_token_clear(&state.username_token);
    wd_decryption_clear(&state.decryption);
    wd_saml_clear(&state.saml);
    return status;
}
