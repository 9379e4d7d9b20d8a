/*
** test_messages.h — SOAP messages for tests, written as text the way clients send them:
** unsigned requests, UsernameToken requests (with a real PasswordDigest), and helpers to
** read the PKI folder and pin the clock.
*/
#ifndef WARDEN_TEST_MESSAGES_H
#define WARDEN_TEST_MESSAGES_H

#include <stddef.h>
#include <stdint.h>

/* 2026-11-25T12:00:30Z, the clock the tests pin. */
#define TM_NOW ((int64_t)1795608030)

/* A path inside the test PKI folder (WARDEN_TEST_PKI): a malloc'd string the caller frees. */
char *tm_pki_path(const char *name);

typedef struct tm_username_options {
    const char *username;        /* default "alice" */
    const char *password;        /* default "secret" */
    int         digest;          /* 1 = PasswordDigest, 0 = PasswordText */
    const char *nonce;           /* 16 raw bytes label (hashed into a nonce); default "nonce-1" */
    const char *created;         /* UT Created; default "2026-11-25T12:00:00Z"; "" = none */
    const char *timestamp_created; /* wsu:Timestamp Created; NULL = no Timestamp */
    const char *timestamp_expires;
    const char *token_id;        /* wsu:Id of the UsernameToken, or NULL */
    int         soap12;          /* 1 = SOAP 1.2 envelope */
    const char *extra_header;    /* raw XML inserted into the Header, or NULL */
} tm_username_options;

/* A request carrying a UsernameToken (and optionally a Timestamp), with WS-Addressing
** Action urn:example:orders/Create, To, MessageID and a CreateOrder body (amount 250).
** Returns a malloc'd NUL-terminated string. */
char *tm_username_message(const tm_username_options *options);

/* The same request with no Security header at all. */
char *tm_plain_message(void);

#endif
