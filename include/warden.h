/*
** warden.h — the one public header of Warden, an authorization engine for SOAP services.
**
** A warden_engine receives SOAP messages, runs WS-Security processing on them (timestamps,
** username tokens, X.509 tokens, XML signatures, replay detection) and delivers only the
** messages that pass every check. The results of that processing are attached to the
** delivered warden_message as typed properties, the way the Windows Web Services API
** (WsGetMessageProperty / WsGetSecurityTokenProperty) attaches "security processing results".
**
** Conventions (they hold for every function below unless its comment says otherwise):
**  - Functions that can fail return int: WARDEN_OK (0) or a positive WARDEN_E_* code.
**  - Where a person must read why, an optional warden_error * is passed last; it may be NULL.
**    On failure it is filled with the code, a stable reason string (for rejections, one of the
**    reason codes of docs/reference.md) and a human-readable text.
**  - Handles are opaque. Every *_new / *_open has a *_free; freeing NULL is a no-op.
**  - Values returned by getters are owned by the object they came from (message, token,
**    decision) and stay valid until that object is freed. Callers never free them.
**  - Thread-safety: a warden_engine may be shared by any number of threads. A warden_config,
**    warden_message and warden_decision may be read from several threads at once but must not
**    be freed (or, for a config, changed) while another thread uses it.
*/
#ifndef WARDEN_H
#define WARDEN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define WARDEN_API __attribute__((visibility("default")))
#else
#define WARDEN_API
#endif

#define WARDEN_VERSION_STRING "0.2.0"
#define WARDEN_VERSION_NUMBER 200 /* major * 10000 + minor * 100 + patch */

/* ---------------------------------------------------------------------------------------
** Status codes
*/
#define WARDEN_OK               0
#define WARDEN_E_INVALID_ARG    1 /* a NULL where a value is required, a wrong value_size, ... */
#define WARDEN_E_NOMEM          2
#define WARDEN_E_IO             3 /* a file could not be read */
#define WARDEN_E_CONFIG         4 /* a configuration value or file is wrong */
#define WARDEN_E_SECURITY       5 /* a message was rejected; warden_error.reason says why */
#define WARDEN_E_NOT_APPLICABLE 6 /* the property does not apply to this message or token */
#define WARDEN_E_POLICY         7 /* a policy set does not load */
#define WARDEN_E_INTERNAL       8

typedef struct warden_config   warden_config;   /* settings before an engine exists */
typedef struct warden_engine   warden_engine;   /* one per service; thread-safe */
typedef struct warden_message  warden_message;  /* one delivered message; owns its properties */
typedef struct warden_token    warden_token;    /* owned by its message */
typedef struct warden_decision warden_decision;

typedef struct warden_error {
    int  code;        /* a WARDEN_E_* code, or WARDEN_OK */
    char reason[48];  /* SECURITY: the rejection code ("timestamp-expired"); config errors: "config";
                      ** "" otherwise */
    char text[256];   /* what happened, for a person */
} warden_error;

typedef struct warden_string { const char *data; size_t length; } warden_string;         /* like WS_STRING; data is also NUL-terminated */
typedef struct warden_bytes  { const unsigned char *data; size_t length; } warden_bytes; /* like WS_BYTES */
typedef struct warden_attr   { const char *name; const char *value; } warden_attr;
typedef struct warden_string_list { const warden_string *items; size_t count; } warden_string_list;
typedef struct warden_attr_list   { const warden_attr *items; size_t count; } warden_attr_list;

/* Zero it, set size = sizeof(warden_receive_options), then the fields you use.
** New versions only append fields. */
typedef struct warden_receive_options {
    size_t             size;
    int64_t            now;            /* evaluation time, Unix seconds; 0 = the system clock */
    warden_bytes       transport_cert; /* DER of the TLS peer certificate, if any, which the caller's
                                       ** TLS stack verified: a token of kind and role "transport"
                                       ** (m.transport.cert); one that cannot be parsed rejects the
                                       ** message (token-unsupported) */
    const warden_attr *attrs;          /* copied; seen by policies as m.attrs */
    size_t             attr_count;
    const char        *http_action;    /* the HTTP SOAPAction (or the SOAP 1.2 Content-Type's action
                                       ** parameter), NUL-terminated, copied; seen by policies as
                                       ** m.http_action; it never replaces the message's own Action */
    const char        *http_method;    /* the HTTP request's method ("POST"), NUL-terminated, copied;
                                       ** m.http_method; NULL when the message did not come over HTTP */
    const char        *http_path;      /* the path of the HTTP request's target as received (no query
                                       ** string, no decoding: "/orders"), NUL-terminated, copied;
                                       ** m.http_path; NULL when the message did not come over HTTP */
} warden_receive_options;

/* ---------------------------------------------------------------------------------------
** Library
*/

/* The library's version, e.g. "0.2.0". Static string. */
WARDEN_API const char *warden_version(void);

/* A static English description of a WARDEN_E_* code ("unknown status" for others). */
WARDEN_API const char *warden_strerror(int code);

/* ---------------------------------------------------------------------------------------
** Configuration (docs/reference.md, Configuration)
**
** A warden_config holds settings until an engine is made from it; the engine copies what it
** needs, so the config may be freed right after warden_engine_new. Not thread-safe while it is
** being changed.
*/

/* A new config with every default of section 3. *out is owned by the caller
** (warden_config_free). Errors: INVALID_ARG (out is NULL), NOMEM. */
WARDEN_API int warden_config_new(warden_config **out);

/* Reads a config file: a Lua file returning a table, evaluated in an empty sandbox under fixed
** limits (1 MiB file, 1,000,000 instructions, 8 MiB, 1 s, 64 KiB strings; docs/operations.md).
** Relative paths in it are taken from the file's folder. Keys it sets
** replace the config's values, except the lists "trust", "certs", "crls" and "saml.issuers",
** which are appended to. "trust" is a list of files that may also hold the key "eku":
** trust = { "ca.pem", eku = { "clientAuth" } }.
** Errors: IO (unreadable), CONFIG (syntax, unknown key, wrong type: err->text names the key;
** a limit hit: err->text names the file and the limit). On error the config is left unchanged. */
WARDEN_API int warden_config_load(warden_config *config, const char *path, warden_error *err);

/* Sets one key of section 3 by its dotted name ("users", "clock.ttl",
** "algorithms.allow_sha1", "require.signed", ...) from text: numbers in decimal, booleans as
** "true"/"false", lists ("trust", "certs", "crls", "saml.issuers") append one item,
** "require.signed", "require.encrypted", "trust.eku" and "saml.audiences" take a comma-separated
** list (replacing the one before), the empty string sets an
** optional string key back to nil.
** Relative paths are kept as given (relative to the process's working folder).
** Errors: CONFIG (unknown key, or a value of the wrong type; err->text names the key). */
WARDEN_API int warden_config_set(warden_config *config, const char *key, const char *value,
                                 warden_error *err);

/* Reads the value of a dotted key of section 3 (and of the `serve` section, which the library
** only stores for `warden serve`) as text into out: booleans "true"/"false", integers in
** decimal, paths as resolved when the config file was read, choices by name. A list key
** yields item index (0-based); other keys only index 0. Errors: INVALID_ARG (unknown key, or
** out_size too small for the value: out is then ""), NOT_APPLICABLE (an unset value, or index
** past the end of a list). Not thread-safe against a concurrent warden_config_set. */
WARDEN_API int warden_config_get(const warden_config *config, const char *key, size_t index, char *out,
                                 size_t out_size);

/* An embedder's password source for UsernameToken, besides (and consulted after) the users
** file, like WWSAPI's WS_VALIDATE_PASSWORD_CALLBACK. A PasswordDigest can only be checked by
** someone who knows the password, so the callback looks the password up rather than saying
** yes or no:
**   - return WARDEN_OK after writing the password (not NUL-terminated) to password[0..capacity)
**     and its length to *length;
**   - return WARDEN_E_NOT_APPLICABLE when the user is unknown (rejection "user-unknown");
**   - return anything else on failure (the message is rejected; never delivered).
** The callback may be called from any thread that receives, concurrently. context is passed
** through untouched. A password longer than capacity (1024) is an error. */
typedef int (*warden_password_fn)(void *context, const char *username, size_t username_length,
                                  char *password, size_t capacity, size_t *length);
WARDEN_API int warden_config_set_password_callback(warden_config *config, warden_password_fn fn,
                                                   void *context);

/* An embedder's own judgement of SAML assertions, like WWSAPI's WS_VALIDATE_SAML_CALLBACK.
** It runs once per message that carries an assertion, after every check of the library has
** passed (issuer signature, conditions, audiences, subject confirmation) and before the
** OneTimeUse replay check. assertion is the verified saml2:Assertion serialized (length
** bytes, NUL-terminated), the same text as WARDEN_MESSAGE_PROPERTY_SAML_ASSERTION; it is
** owned by the library and valid during the call only.
**   - return WARDEN_OK to accept;
**   - return anything else to reject: the message is rejected "saml-invalid" with the text the
**     callback wrote to reason (NUL-terminated, at most capacity bytes; "" gives a generic
**     detail).
** The callback may be called from any thread that receives, concurrently; context is passed
** through untouched and must outlive the engine. Passing fn = NULL removes it. Errors:
** INVALID_ARG (config is NULL). */
typedef int (*warden_saml_validate_fn)(void *context, const char *assertion, size_t length, char *reason,
                                       size_t capacity);
WARDEN_API int warden_config_set_saml_validator(warden_config *config, warden_saml_validate_fn fn,
                                                void *context);

/* Frees the config. NULL is a no-op. */
WARDEN_API void warden_config_free(warden_config *config);

/* ---------------------------------------------------------------------------------------
** Engine
*/

/* Makes an engine from a config: loads the trust store (CA bundles, known certificates, CRLs,
** trust.eku), the SAML issuers' own trust store (saml.issuers), the users file, our key
** pair for decryption (decrypt.key and decrypt.cert), and the policy set when "policies" is
** set (compiled, and its policy tests run: an engine never starts on a set that fails
** either), opens log.decisions, and starts watching the policy directory and trust files (reload.watch). The config is
** copied; it may be freed afterwards. *out is owned by the caller (warden_engine_free).
** Errors: INVALID_ARG, NOMEM, IO (a file cannot be read), CONFIG (a file is not valid,
** including a CRL whose signature does not verify with its issuer, an unknown trust.eku
** purpose, a decrypt.key that is not RSA or not decrypt.cert's key, one of the two without
** the other, a replay.url that is not redis://, unix:// or unix:/), POLICY (the policy
** set does not compile or a policy test fails). */
WARDEN_API int warden_engine_new(const warden_config *config, warden_engine **out, warden_error *err);

/* warden_config_new + warden_config_load + warden_engine_new in one call. */
WARDEN_API int warden_engine_open(const char *config_path, warden_engine **out, warden_error *err);

/* Frees the engine. All messages received from it must have been freed before. NULL is a
** no-op. */
WARDEN_API void warden_engine_free(warden_engine *engine);

/* Runs security processing on one SOAP message (bytes, len; not kept). On success *out is a
** delivered message owned by the caller (warden_message_free). On rejection returns
** WARDEN_E_SECURITY, *out is NULL, and err->reason holds the stable reason code, one of:
**   malformed not-soap dtd-forbidden limit-exceeded mustunderstand security-header-missing
**   security-header-duplicate timestamp-missing timestamp-invalid timestamp-expired
**   timestamp-future reference-invalid duplicate-id digest-mismatch signature-invalid
**   unsigned-part weak-algorithm key-mismatch cert-untrusted cert-expired cert-revoked
**   cert-usage token-unsupported password-invalid user-unknown replay replay-cache-full
**   replay-unavailable saml-invalid decrypt-failed unencrypted-part
** (what triggers each: docs/reference.md, Reason codes; "cert-usage" when the certificate
** whose key signed is a CA, lacks the digitalSignature/nonRepudiation key usage or the
** trust.eku purpose; "cert-revoked" when a configured CRL revokes it or a CA above it;
** "decrypt-failed" for every failure of a decryption — the key transport, the cipher, the
** padding, the plaintext — with one fixed detail, the cause going only to the engine's log
** (no padding oracle); "unencrypted-part" when a part require.encrypted names arrived in
** plaintext), and err->text the detail. When the verifier itself fails (NOMEM, INTERNAL) the message is
** rejected too and err->reason is "internal-error". With log.decisions set, a rejection is
** logged there as a deny decision at stage "security". opt may be NULL. Thread-safe: any
** number of threads may receive on one engine. */
WARDEN_API int warden_engine_receive(warden_engine *engine, const void *bytes, size_t len,
                                     const warden_receive_options *opt, warden_message **out,
                                     warden_error *err);

/* ---------------------------------------------------------------------------------------
** Message properties — the security processing results of a delivered message.
**
** Ids mirror WWSAPI's WS_MESSAGE_PROPERTY_ID where WWSAPI has the property and extend it from
** 1000. value must point to a variable of the property's type and value_size must equal its
** size (else INVALID_ARG). A property that does not apply returns NOT_APPLICABLE and writes
** nothing. Returned strings, bytes and lists are owned by the message.
*/
typedef enum warden_message_property_id {
    WARDEN_MESSAGE_PROPERTY_USERNAME          = 14,   /* warden_string: the UsernameToken's user */
    WARDEN_MESSAGE_PROPERTY_ENCODED_CERT      = 15,   /* warden_bytes: DER of the signing certificate */
    WARDEN_MESSAGE_PROPERTY_SAML_ASSERTION    = 19,   /* warden_string: the verified saml2:Assertion, serialized */
    WARDEN_MESSAGE_PROPERTY_PROTECTION_LEVEL  = 21,   /* int: WARDEN_PROTECTION_* */
    WARDEN_MESSAGE_PROPERTY_ACTION            = 1000, /* warden_string: WS-Addressing Action */
    WARDEN_MESSAGE_PROPERTY_OPERATION         = 1001, /* warden_string: "{ns}Name" of the Body's first child */
    WARDEN_MESSAGE_PROPERTY_TO                = 1002, /* warden_string: WS-Addressing To */
    WARDEN_MESSAGE_PROPERTY_MESSAGE_ID        = 1003, /* warden_string: WS-Addressing MessageID */
    WARDEN_MESSAGE_PROPERTY_TIMESTAMP_CREATED = 1004, /* int64_t: Unix seconds */
    WARDEN_MESSAGE_PROPERTY_TIMESTAMP_EXPIRES = 1005, /* int64_t: Unix seconds */
    WARDEN_MESSAGE_PROPERTY_SIGNED_PARTS      = 1006, /* warden_string: comma-separated part names; "" when nothing is signed */
    WARDEN_MESSAGE_PROPERTY_SIGNED_PART_LIST  = 1007, /* warden_string_list: the same names, one item each */
    WARDEN_MESSAGE_PROPERTY_SOAP_VERSION      = 1008, /* warden_string: "1.1" or "1.2" */
    WARDEN_MESSAGE_PROPERTY_ATTRS             = 1009, /* warden_attr_list: the receive options' attrs (count may be 0) */
    WARDEN_MESSAGE_PROPERTY_NOW               = 1010, /* int64_t: the evaluation time the message was verified at */
    WARDEN_MESSAGE_PROPERTY_HTTP_ACTION       = 1011, /* warden_string: the receive options' http_action */
    WARDEN_MESSAGE_PROPERTY_ENCRYPTED_PARTS   = 1012, /* warden_string: comma-separated names of the parts that
                                                      ** arrived encrypted (named as signed parts); "" when none */
    WARDEN_MESSAGE_PROPERTY_ENCRYPTED_PART_LIST = 1013, /* warden_string_list: the same names, one item each */
    WARDEN_MESSAGE_PROPERTY_HTTP_METHOD       = 1014, /* warden_string: the receive options' http_method */
    WARDEN_MESSAGE_PROPERTY_HTTP_PATH         = 1015  /* warden_string: the receive options' http_path */
} warden_message_property_id;

/* SIGN: a verified signature covers the Body. SIGN_AND_ENCRYPT: that, and the message
** carried encrypted parts that were decrypted (the Body a policy reads is the plaintext). */
#define WARDEN_PROTECTION_NONE             1
#define WARDEN_PROTECTION_SIGN             2
#define WARDEN_PROTECTION_SIGN_AND_ENCRYPT 3

/* Reads one message property (see above). Errors: INVALID_ARG, NOT_APPLICABLE. */
WARDEN_API int warden_message_get_property(const warden_message *message,
                                           warden_message_property_id id, void *value,
                                           size_t value_size);

/* The number of security tokens the message carried and that were verified. */
WARDEN_API size_t warden_message_token_count(const warden_message *message);

/* Token i (0-based), owned by the message; NULL when i is out of range. Tokens are listed in
** the order they appear in the Security header. */
WARDEN_API const warden_token *warden_message_token(const warden_message *message, size_t i);

/* Frees the message and everything read from it. NULL is a no-op. */
WARDEN_API void warden_message_free(warden_message *message);

/* The text of an element inside the verified Body (the policy view's m:body): all its text
** children concatenated. path is a local name ("amount": the first such element in document
** order inside the Body), or a '/'-separated path of local names starting from the Body's
** children ("CreateOrder/amount"); any step may be "{ns}local" to require a namespace.
** Writes at most capacity-1 bytes and a NUL into buffer (like snprintf) and the full length
** to *length: when *length >= capacity, call again with a larger buffer. Returns
** WARDEN_OK, NOT_APPLICABLE (no such element, or it holds elements rather than text),
** INVALID_ARG. Reads only inside the Body that security processing verified. Thread-safe. */
WARDEN_API int warden_message_body_text(const warden_message *message, const char *path,
                                        char *buffer, size_t capacity, size_t *length);

/* ---------------------------------------------------------------------------------------
** Token properties (WS_SECURITY_TOKEN_PROPERTY_ID, extended from 1000)
*/
typedef enum warden_token_property_id {
    WARDEN_TOKEN_PROPERTY_KEY_TYPE                 = 1,    /* int: WARDEN_KEY_TYPE_* */
    WARDEN_TOKEN_PROPERTY_VALID_FROM_TIME          = 2,    /* int64_t Unix seconds; 0 when the token sets none */
    WARDEN_TOKEN_PROPERTY_VALID_TILL_TIME          = 3,    /* int64_t Unix seconds; 0 when the token sets none */
    WARDEN_TOKEN_PROPERTY_SERIALIZED_XML           = 4,    /* warden_string: the token element as received */
    WARDEN_TOKEN_PROPERTY_ATTACHED_REFERENCE_XML   = 5,    /* warden_string: a wsse:SecurityTokenReference to it inside this message */
    WARDEN_TOKEN_PROPERTY_UNATTACHED_REFERENCE_XML = 6,    /* warden_string: a reference usable from outside (X.509: thumbprint) */
    WARDEN_TOKEN_PROPERTY_SYMMETRIC_KEY            = 7,    /* warden_bytes; symmetric tokens only */
    WARDEN_TOKEN_PROPERTY_KIND                     = 1000, /* warden_string: "x509", "username", "saml", "transport" */
    WARDEN_TOKEN_PROPERTY_ROLE                     = 1001, /* warden_string: "signing", "supporting" */
    WARDEN_TOKEN_PROPERTY_USERNAME                 = 1002, /* warden_string */
    WARDEN_TOKEN_PROPERTY_CERT_DER                 = 1003, /* warden_bytes */
    WARDEN_TOKEN_PROPERTY_CERT_SUBJECT             = 1004, /* warden_string: RFC 4514 DN, most specific first */
    WARDEN_TOKEN_PROPERTY_CERT_ISSUER              = 1005, /* warden_string: RFC 4514 DN */
    WARDEN_TOKEN_PROPERTY_CERT_SERIAL              = 1006, /* warden_string: lowercase hex of its bytes ("01e5") */
    WARDEN_TOKEN_PROPERTY_CERT_SHA256              = 1007, /* warden_string: lowercase hex of the DER's SHA-256 */
    WARDEN_TOKEN_PROPERTY_CERT_KEY_TYPE            = 1008, /* warden_string: "rsa", "ec", "ed25519", ... */
    WARDEN_TOKEN_PROPERTY_CERT_KEY_BITS            = 1009, /* int */
    WARDEN_TOKEN_PROPERTY_CERT_SUBJECT_ATTRS       = 1010, /* warden_attr_list: (short name, value), DN order */
    WARDEN_TOKEN_PROPERTY_CERT_ISSUER_ATTRS        = 1011, /* warden_attr_list */
    WARDEN_TOKEN_PROPERTY_CERT_SAN_DNS             = 1012, /* warden_string_list */
    WARDEN_TOKEN_PROPERTY_CERT_SAN_EMAIL           = 1013, /* warden_string_list */
    WARDEN_TOKEN_PROPERTY_CERT_SAN_URI             = 1014, /* warden_string_list */
    WARDEN_TOKEN_PROPERTY_CERT_SAN_IP              = 1015, /* warden_string_list: textual addresses */
    WARDEN_TOKEN_PROPERTY_PASSWORD_TYPE            = 1016, /* warden_string: "text" or "digest" */
    /* kind "saml": the assertion's facts (docs/reference.md, SAML). Identity text is all the
    ** text children of its element, never trimmed. */
    WARDEN_TOKEN_PROPERTY_SAML_VERSION             = 1017, /* warden_string: "2.0" */
    WARDEN_TOKEN_PROPERTY_SAML_ID                  = 1018, /* warden_string: the assertion's ID */
    WARDEN_TOKEN_PROPERTY_SAML_ISSUER              = 1019, /* warden_string: Issuer */
    WARDEN_TOKEN_PROPERTY_SAML_SUBJECT             = 1020, /* warden_string: Subject/NameID */
    WARDEN_TOKEN_PROPERTY_SAML_NAME_ID_FORMAT      = 1021, /* warden_string: NameID's Format (NOT_APPLICABLE: none) */
    WARDEN_TOKEN_PROPERTY_SAML_CONFIRMATION        = 1022, /* warden_string: "bearer", "holder-of-key" or
                                                           ** "sender-vouches" */
    WARDEN_TOKEN_PROPERTY_SAML_AUDIENCES           = 1023, /* warden_string_list: every Audience, in order */
    WARDEN_TOKEN_PROPERTY_SAML_NOT_BEFORE          = 1024, /* int64_t: Conditions NotBefore (NOT_APPLICABLE: none) */
    WARDEN_TOKEN_PROPERTY_SAML_NOT_ON_OR_AFTER     = 1025, /* int64_t: Conditions NotOnOrAfter (NOT_APPLICABLE: none) */
    WARDEN_TOKEN_PROPERTY_SAML_AUTHN_CONTEXT       = 1026, /* warden_string: AuthnContextClassRef, or NOT_APPLICABLE */
    WARDEN_TOKEN_PROPERTY_SAML_ATTRIBUTES          = 1027, /* warden_attr_list: (Name, value) per AttributeValue in
                                                           ** document order; value NULL for an Attribute without
                                                           ** values */
    WARDEN_TOKEN_PROPERTY_SAML_ISSUE_INSTANT       = 1028  /* int64_t: IssueInstant */
} warden_token_property_id;

#define WARDEN_KEY_TYPE_NONE       1
#define WARDEN_KEY_TYPE_SYMMETRIC  2
#define WARDEN_KEY_TYPE_ASYMMETRIC 3

/* Reads one token property. Same rules as warden_message_get_property. */
WARDEN_API int warden_token_get_property(const warden_token *token, warden_token_property_id id,
                                         void *value, size_t value_size);


/* ---------------------------------------------------------------------------------------
** Decisions (docs/reference.md, Decisions)
**
** An engine whose config names a policy directory loads its policy set at warden_engine_new
** (the engine does not start on a set that fails to compile, nor, with reload.tests = "gate",
** the default, on one whose tests fail; "report" logs failing tests and starts, "off" runs
** none). Each
** decision runs the set's rules in a sandboxed Lua 5.4 state of the calling thread's own.
** Only delivered messages are decided: a rejected message has no warden_decision (the
** `warden decide` command reports it as stage "security" with the rejection's reason).
*/

/* Decides allow or deny for a delivered message. *out is owned by the caller
** (warden_decision_free). A policy error or limit is a deny decision (WARDEN_OK with
** reason "policy-error" / "policy-limit"), and so is a set whose reloads have failed for
** longer than reload.max_stale_s ("policy-stale"); never an error return. Errors:
** INVALID_ARG; POLICY (the engine has no policy set, or this thread's state cannot load it);
** NOMEM. Thread-safe: each thread decides in its own
** Lua state; no lock is taken. */
WARDEN_API int warden_engine_decide(warden_engine *engine, const warden_message *message,
                                    warden_decision **out, warden_error *err);

/* Decides like warden_engine_decide and also records why (the decision's explanation, see
** warden_decision_explanation): every rule of the set with its file and line, whether its
** targets matched, what its `when` returned or raised, the instructions it used and its
** log(...) lines (which also reach the engine's log as usual). Slower than
** warden_engine_decide (a hook runs on every instruction): for authors and investigations,
** not for the serving path, which pays nothing for this. Same errors and thread-safety. */
WARDEN_API int warden_engine_explain(warden_engine *engine, const warden_message *message,
                                     warden_decision **out, warden_error *err);

/* The explanation of a decision made by warden_engine_explain, as a JSON array text owned by
** the decision (NULL for a decision made by warden_engine_decide). One object per rule of
** the set, forbids first, then permits, each in declaration order:
**   {"rule": NAME, "effect": "permit"|"forbid", "file": PATH (relative to the policy
**    directory), "line": N, "targets": true|false, "applied": true|false,
** and when the targets matched:
**    "when": "returned"|"raised"|"absent" (the rule has no when)|"not run" (a limit ended
**    the decision first), "value": what it returned, as text ("true", "nil", "42",
**    "\"text\"", "table"), "error": what it raised or the limit it hit,
**    "instructions": N (steps its when charged against limits.instructions),
**    "log": [its log(...) lines]}.
** docs/policies.md shows an example. */
WARDEN_API const char *warden_decision_explanation(const warden_decision *decision);

/* The decision's fields; strings are owned by the decision. */
WARDEN_API int         warden_decision_allowed(const warden_decision *decision);  /* 1 allow, 0 deny (NULL: 0) */
WARDEN_API const char *warden_decision_stage(const warden_decision *decision);    /* "policy", its only stage */
WARDEN_API const char *warden_decision_reason(const warden_decision *decision);   /* "permitted", "forbidden", "no-permit", "policy-error", "policy-limit", "policy-stale" */
WARDEN_API const char *warden_decision_revision(const warden_decision *decision); /* "sha256:..." */
WARDEN_API size_t      warden_decision_rule_count(const warden_decision *decision);
WARDEN_API const char *warden_decision_rule(const warden_decision *decision, size_t i);   /* NULL out of range */
WARDEN_API size_t      warden_decision_error_count(const warden_decision *decision);
WARDEN_API const char *warden_decision_error(const warden_decision *decision, size_t i);  /* "RULE NAME: message" */
WARDEN_API void        warden_decision_free(warden_decision *decision);                  /* NULL is a no-op */

/* For programs that write the decision log themselves (`warden serve` queues the lines for a
** writer thread, off the request path), with log.decisions unset in the engine's config:
**  - warden_engine_keep_decision_facts(engine, 1) makes every decision keep what its log line
**    needs (time, id, message facts, latency); call it before deciding. Errors: INVALID_ARG.
**  - warden_engine_rejection(engine, err, latency_us, &decision) makes the deny decision at
**    stage "security" of a message warden_engine_receive rejected (err as it returned), with
**    the revision serving now; *out is owned by the caller (warden_decision_free). Errors:
**    INVALID_ARG, NOMEM.
**  - warden_decision_log_line(decision, remote) is the decision's log.decisions line: one JSON
**    object without a newline (docs/operations.md lists the fields), with "remote" when remote
**    is not NULL. malloc'd: the caller frees it with free(); NULL when memory runs out.
** Thread-safe like warden_engine_decide. */
WARDEN_API int   warden_engine_keep_decision_facts(warden_engine *engine, int keep);
WARDEN_API int   warden_engine_rejection(warden_engine *engine, const warden_error *err, int64_t latency_us,
                                         warden_decision **out);
WARDEN_API char *warden_decision_log_line(const warden_decision *decision, const char *remote);

/* Set size = sizeof(warden_status) before calling warden_engine_status (as with
** warden_receive_options): new versions only append fields, and the library fills only the
** fields that fit in size, so a program built against an older header keeps working. */
typedef struct warden_status {
    size_t   size;                /* set by the caller: sizeof(warden_status) */
    char     revision[80];        /* current policy revision id; "" without a policy set */
    int64_t  loaded_at;           /* when it started serving, Unix seconds */
    uint64_t reloads, reload_failures;
    char     last_error[256];     /* empty when the last reload succeeded */
    int64_t  last_error_at;
    char     replay_backend[16];  /* "memory", "redis" or "none" */
    uint64_t replay_entries;      /* entries the replay cache holds (memory backend; else 0) */
    int64_t  failing_since;       /* when reloads started failing, Unix seconds; 0 while the last
                                  ** reload (or the start) succeeded */
    int32_t  stale;               /* 1 when reloads have failed for longer than reload.max_stale_s
                                  ** (every decision then denies "policy-stale"); else 0. `warden
                                  ** serve` answers /health with 503 then */
} warden_status;

/* Fills *out with the engine's policy and replay status: the fields that fit in out->size
** bytes (set by the caller; the fields past it are left alone); out->size is kept. Thread-safe.
** Errors: INVALID_ARG (engine or out NULL, out->size smaller than the size field itself). */
WARDEN_API int warden_engine_status(warden_engine *engine, warden_status *out);

/* Reloads the policy set (and the trust material: CA bundles, known certificates, CRLs, SAML
** issuers, users file, decrypt.key and decrypt.cert)
** now, for embedders who manage files themselves; watching the files is automatic otherwise
** (reload.watch). The new revision serves only if everything compiles and every policy test
** passes (with reload.tests = "report", failing tests are logged and it serves anyway; the log
** names the failing tests either way); otherwise the current one keeps serving, and the
** failure is returned (POLICY, IO, CONFIG with err filled) and recorded in the status.
** Decisions in flight are not disturbed.
** Thread-safe. */
WARDEN_API int warden_engine_reload(warden_engine *engine, warden_error *err);

/* Policy tooling used by `warden check` and `warden test`: one call per finding or test.
** file is relative to policy_dir (NULL for findings about the directory itself), line 0 when
** unknown; ok is 1 for a passing test, 0 for a finding or a failure. */
typedef void (*warden_report_fn)(void *ctx, const char *file, int line, int ok, const char *text);

/* Compiles and lints a policy directory, every file, and reports every finding: syntax,
** references to globals the sandbox does not offer, unknown rule keys, wrong types, duplicate
** rule names, data documents that do not parse; reads of fields the message view does not
** have and of data documents that do not exist (where the bytecode shows a constant key);
** operation targets not spelled "{ns}Name", action targets spelled like operations; test
** `rules` and `reason` values that name nothing, test message fields the view does not have.
** Findings whose text starts with "warning: " (m:body(...) or a data string compared with a
** number; action targets while require.signed lacks "Action") are reported but not counted.
** Runs no policy test. *problems gets the number of findings that are not warnings. Returns
** WARDEN_OK when the directory could be examined (even with findings), IO when it cannot be
** read, NOMEM. */
WARDEN_API int warden_policy_check(const warden_config *config, const char *policy_dir,
                                   warden_report_fn report, void *ctx, size_t *problems,
                                   warden_error *err);

/* Runs the policy tests (*_test.lua) of a directory: synthetic messages and real envelopes
** (verified with the config's verification settings — trust, known certificates, CRLs,
** users, clock, limits — each test with a fresh replay cache). Reports each test once.
** Returns WARDEN_OK when the tests ran (see *failed), IO, POLICY (the set does not compile),
** CONFIG, NOMEM. */
WARDEN_API int warden_policy_test(const warden_config *config, const char *policy_dir,
                                  warden_report_fn report, void *ctx, size_t *passed,
                                  size_t *failed, warden_error *err);

/* One test's result, for warden_policy_run_tests. Everything is owned by the library and
** valid during the callback only. */
typedef struct warden_test_result {
    const char *name;
    const char *file;          /* the test file, relative to policy_dir */
    int         line;
    int         passed;        /* 1 or 0 */
    const char *text;          /* passed: what it decided ("allow (permitted: RULE)"); failed: why
                               ** ("expected allow, got deny (policy-error): rule 'R' (f.lua:3) raised: ...") */
    const char *erring_rule;   /* the rule whose when raised or hit a limit, or NULL */
    const char *const *log;    /* the log(...) lines its decision wrote */
    size_t      log_count;
} warden_test_result;
typedef void (*warden_test_fn)(void *ctx, const warden_test_result *result);

/* Zero it, set size = sizeof(warden_test_options), then the fields you use. */
typedef struct warden_test_options {
    size_t      size;
    const char *run;           /* a Lua pattern: only the tests whose name it finds run; NULL = all */
    int         coverage;      /* 1: call coverage_fn once at the end */
    /* Coverage as a JSON object text (valid during the call): {"rules": [{"rule", "effect",
    ** "file", "line", "applied": N (tests where it applied), "not_applied": N (tests where its
    ** targets matched but it did not apply), "reached": bool}], "files": [{"file", "lines_run":
    ** N, "lines": [line numbers of the policy file that ran during the tests]}]}. */
    void      (*coverage_fn)(void *ctx, const char *json);
} warden_test_options;

/* warden_policy_test with a result per test (name, erring rule, log lines), a name filter
** and coverage. Every test's decision is traced as warden_engine_explain traces (slower than
** serving). Returns what warden_policy_test returns, and INVALID_ARG for a --run pattern that
** is not a valid Lua pattern. */
WARDEN_API int warden_policy_run_tests(const warden_config *config, const char *policy_dir,
                                       const warden_test_options *options, warden_test_fn report, void *ctx,
                                       size_t *passed, size_t *failed, warden_error *err);

/* Date-time text without the C library's time zone state (timegm, gmtime and localtime read
** the process's TZ; these do not), for embedders and the policy runtime's `time` library.
** Pure functions, thread-safe. Years 0001..9999; the calendar is the proleptic Gregorian.
** warden_time_parse: "YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm)" (length bytes; a zone
** is required, the fraction is dropped, offsets up to 14:00) -> Unix seconds.
** warden_time_format: Unix seconds -> "YYYY-MM-DDThh:mm:ssZ" and a NUL (21 bytes).
** warden_time_split: Unix seconds -> UTC calendar fields.
** Each returns WARDEN_OK, or WARDEN_E_INVALID_ARG for text that is not such a time, a time
** outside the years above, or a NULL pointer. */
typedef struct warden_time_parts {
    int year, month, day;   /* month 1-12, day 1-31 */
    int hour, minute, second;
    int weekday;            /* ISO 8601: 1 = Monday .. 7 = Sunday */
    int yearday;            /* 1 = January 1st .. 366 */
} warden_time_parts;
WARDEN_API int warden_time_parse(const char *text, size_t length, int64_t *seconds);
WARDEN_API int warden_time_format(int64_t seconds, char buffer[21]);
WARDEN_API int warden_time_split(int64_t seconds, warden_time_parts *out);

/* Where the engine's log lines go (policy log(...), decision problems, reload results):
** level is WARDEN_LOG_*; message is one line without a newline: control characters, C1
** controls and bytes that are not UTF-8 arrive escaped (\n, \r, \xNN, \u00NN; a backslash
** as \\), so no policy text can forge a line or drive a terminal. The default writes to
** standard error. The callback may be called from any thread, concurrently. */
#define WARDEN_LOG_ERROR 1
#define WARDEN_LOG_WARNING 2
#define WARDEN_LOG_INFO 3
typedef void (*warden_log_fn)(void *context, int level, const char *message);
WARDEN_API int warden_config_set_logger(warden_config *config, warden_log_fn fn, void *context);

#ifdef __cplusplus
}
#endif

#endif /* WARDEN_H */
