/*
** message.h — the delivered message (struct warden_message) and its tokens: the security
** processing results of one message, as WWSAPI attaches them to a received WS_MESSAGE.
** Everything a getter returns is owned here and freed by warden_message_free.
*/
#ifndef WD_MESSAGE_H
#define WD_MESSAGE_H

#include <libxml/tree.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../include/warden.h"
#include "cert.h"
#include "saml.h"

/* TRANSPORT: the TLS peer certificate an embedder passed in warden_receive_options (verified
** by its TLS stack, not by the core); role "transport", never the signing token. */
typedef enum wd_token_kind {
    WD_TOKEN_X509 = 1, WD_TOKEN_USERNAME = 2, WD_TOKEN_TRANSPORT = 3, WD_TOKEN_SAML = 4
} wd_token_kind;

/* A lazily made string: computed on first read and published with a compare-and-swap, so
** concurrent readers of one message never race (the loser frees its copy). */
typedef struct wd_lazy_string {
    _Atomic(char *) text;
} wd_lazy_string;

/* Part names as a comma-separated text and as a list (both owned). */
typedef struct wd_part_list {
    char          *text;
    warden_string *items;     /* items point into storage */
    size_t         count;
    char          *storage;
} wd_part_list;

struct warden_token {
    const warden_message *message;   /* the owner */
    wd_token_kind  kind;
    bool           signing;           /* its key made the signature that covers the Body */
    xmlNode       *element;           /* the token element in the document, or NULL (cert found by key identifier) */
    wd_cert       *cert;              /* x509, transport: one reference owned */
    warden_string  username;          /* username: owned copy */
    const char    *password_type;     /* username: static "text" / "digest" */
    wd_saml_assertion *saml;          /* saml: owned (cert is NULL; the holder-of-key certificate is
                                      ** saml->confirmation_cert) */
    int64_t        valid_from, valid_till;
    wd_lazy_string serialized_xml;
    wd_lazy_string attached_reference;
    wd_lazy_string unattached_reference;
    wd_lazy_string saml_xml;          /* saml: the assertion serialized, unless saml->xml has it */
};

struct warden_message {
    xmlDoc        *document;          /* owned: the verified document (the Body is read from it) */
    xmlNode       *body;
    int            soap_version;      /* 11 or 12 */
    int            protection;        /* WARDEN_PROTECTION_* */
    warden_string  action, to, message_id, operation;    /* owned copies; data NULL when absent */
    warden_string  http_action, http_method, http_path; /* owned copies of the receive options; data NULL
                                                         ** when absent */
    warden_string  username;          /* borrowed from the username token; data NULL when none */
    bool           has_timestamp, has_expires;
    int64_t        created, expires;
    int64_t        now;
    char          *signed_parts;      /* owned: comma-separated */
    warden_string *signed_part_items; /* owned array; items point into signed_part_storage */
    size_t         signed_part_count;
    char          *signed_part_storage;
    wd_part_list   encrypted;         /* the parts that arrived encrypted */
    bool           decrypted;         /* a decryption changed the document */
    warden_token  *tokens;            /* owned array */
    size_t         token_count;
    warden_attr   *attrs;             /* owned copies */
    size_t         attr_count;
    const warden_token *signing;      /* the signing x509 token, or NULL */
};

/* An empty message (protection NONE) owned by the caller (warden_message_free); NULL on
** allocation failure. */
warden_message *wd_message_new(void);

/* Appends a zeroed token and returns it (NULL on allocation failure). Pointers returned
** earlier may move: take them again after the last append. */
warden_token *wd_message_add_token(warden_message *message);

/* Sets an owned copy of text (length bytes) into *target. Returns 0, -1 on allocation
** failure. */
int wd_message_set_string(warden_string *target, const char *text, size_t length);

/* Records the names of the signed parts (copied). Returns 0 or -1. */
int wd_message_set_signed_parts(warden_message *message, const char *const *names, size_t count);

/* Records the names of the parts that arrived encrypted (copied). Returns 0 or -1. */
int wd_message_set_encrypted_parts(warden_message *message, const char *const *names, size_t count);

/* Copies the embedder's attributes. Returns 0 or -1. */
int wd_message_set_attrs(warden_message *message, const warden_attr *attrs, size_t count);

#endif
