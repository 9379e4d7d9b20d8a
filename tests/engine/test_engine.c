/*
** test_engine.c — the public API end to end for messages that need no signature: making an
** engine from a config, receiving, the property getters (values, NOT_APPLICABLE,
** value_size), receive options, the password callback, replay across receives, and several
** threads sharing one engine.
*/
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <warden.h>

#include "test_messages.h"
#include "test_run.h"

static warden_engine *engine_with(const char *const *settings, size_t count)
{
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    char *users = tm_pki_path("users.txt");
    char *ca = tm_pki_path("ca.pem");
    ck_assert_int_eq(warden_config_set(config, "users", users, &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "trust", ca, &err), WARDEN_OK);
    for (size_t i = 0; i + 1 < count; i += 2)
        ck_assert_msg(warden_config_set(config, settings[i], settings[i + 1], &err) == WARDEN_OK, "%s", err.text);
    ck_assert_msg(warden_engine_new(config, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_config_free(config);
    free(users);
    free(ca);
    return engine;
}

static int receive_text(warden_engine *engine, const char *text, warden_message **message, warden_error *err)
{
    warden_receive_options options = { .size = sizeof options, .now = TM_NOW };
    return warden_engine_receive(engine, text, strlen(text), &options, message, err);
}

static void expect_rejection(warden_engine *engine, const char *text, const char *reason)
{
    warden_message *message = (warden_message *)1;
    warden_error err;
    ck_assert_int_eq(receive_text(engine, text, &message, &err), WARDEN_E_SECURITY);
    ck_assert_ptr_null(message);
    ck_assert_str_eq(err.reason, reason);
    ck_assert_int_eq(err.code, WARDEN_E_SECURITY);
}

static char *digest_message(const char *nonce)
{
    tm_username_options o = { .digest = 1, .nonce = nonce, .timestamp_created = "2026-11-25T12:00:00Z",
                              .timestamp_expires = "2026-11-25T12:05:00Z", .token_id = "UT-1" };
    return tm_username_message(&o);
}

START_TEST(version_and_strerror_describe_the_library)
{
    ck_assert_str_eq(warden_version(), WARDEN_VERSION_STRING);
    ck_assert_str_eq(warden_strerror(WARDEN_E_SECURITY), "message rejected by security processing");
    ck_assert_str_eq(warden_strerror(12345), "unknown status");
}
END_TEST

START_TEST(freeing_null_handles_is_a_no_op)
{
    warden_config_free(NULL);
    warden_engine_free(NULL);
    warden_message_free(NULL);
}
END_TEST

START_TEST(receive_rejects_null_arguments)
{
    warden_engine *engine = engine_with(NULL, 0);
    warden_error err;
    warden_message *message = NULL;
    ck_assert_int_eq(warden_engine_receive(NULL, "x", 1, NULL, &message, &err), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_engine_receive(engine, "x", 1, NULL, NULL, &err), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_engine_new(NULL, NULL, &err), WARDEN_E_INVALID_ARG);
    warden_engine_free(engine);
}
END_TEST

START_TEST(message_without_security_header_is_rejected_by_default)
{
    warden_engine *engine = engine_with(NULL, 0);
    char *text = tm_plain_message();
    expect_rejection(engine, text, "security-header-missing");
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(unauthenticated_message_is_delivered_when_no_token_is_required)
{
    const char *settings[] = { "require.token", "false" };
    warden_engine *engine = engine_with(settings, 2);
    char *text = tm_plain_message();
    warden_message *message = NULL;
    warden_error err;
    ck_assert_int_eq(receive_text(engine, text, &message, &err), WARDEN_OK);
    int protection = 0;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_PROTECTION_LEVEL, &protection, sizeof protection), WARDEN_OK);
    ck_assert_int_eq(protection, WARDEN_PROTECTION_NONE);
    warden_string s;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_ACTION, &s, sizeof s), WARDEN_OK);
    ck_assert_str_eq(s.data, "urn:example:orders/Create");
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_TO, &s, sizeof s), WARDEN_OK);
    ck_assert_str_eq(s.data, "https://orders.example.com/soap");
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_MESSAGE_ID, &s, sizeof s), WARDEN_OK);
    ck_assert_str_eq(s.data, "urn:uuid:0b7f8a52-1c2d-4e3f-8a9b-0c1d2e3f4a5b");
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_OPERATION, &s, sizeof s), WARDEN_OK);
    ck_assert_str_eq(s.data, "{urn:example:orders}CreateOrder");
    ck_assert_uint_eq(s.length, strlen("{urn:example:orders}CreateOrder"));
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_SOAP_VERSION, &s, sizeof s), WARDEN_OK);
    ck_assert_str_eq(s.data, "1.1");
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_SIGNED_PARTS, &s, sizeof s), WARDEN_OK);
    ck_assert_str_eq(s.data, "");
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_USERNAME, &s, sizeof s), WARDEN_E_NOT_APPLICABLE);
    warden_bytes b;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_ENCODED_CERT, &b, sizeof b), WARDEN_E_NOT_APPLICABLE);
    int64_t t;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_TIMESTAMP_CREATED, &t, sizeof t), WARDEN_E_NOT_APPLICABLE);
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_NOW, &t, sizeof t), WARDEN_OK);
    ck_assert_int_eq(t, TM_NOW);
    ck_assert_uint_eq(warden_message_token_count(message), 0);
    ck_assert_ptr_null(warden_message_token(message, 0));
    warden_message_free(message);
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(getters_refuse_a_wrong_value_size)
{
    const char *settings[] = { "require.token", "false" };
    warden_engine *engine = engine_with(settings, 2);
    char *text = tm_plain_message();
    warden_message *message = NULL;
    warden_error err;
    ck_assert_int_eq(receive_text(engine, text, &message, &err), WARDEN_OK);
    int64_t wide = 0;
    warden_string s;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_PROTECTION_LEVEL, &wide, sizeof wide), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_ACTION, &s, sizeof s - 1), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_message_get_property(message, (warden_message_property_id)999, &s, sizeof s), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_ACTION, NULL, sizeof s), WARDEN_E_INVALID_ARG);
    warden_message_free(message);
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(username_digest_message_is_delivered_with_its_token)
{
    warden_engine *engine = engine_with(NULL, 0);
    char *text = digest_message("n-1");
    warden_message *message = NULL;
    warden_error err;
    ck_assert_msg(receive_text(engine, text, &message, &err) == WARDEN_OK, "%s: %s", err.reason, err.text);
    warden_string s;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_USERNAME, &s, sizeof s), WARDEN_OK);
    ck_assert_str_eq(s.data, "alice");
    int64_t created = 0, expires = 0;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_TIMESTAMP_CREATED, &created, sizeof created), WARDEN_OK);
    ck_assert_int_eq(created, TM_NOW - 30);
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_TIMESTAMP_EXPIRES, &expires, sizeof expires), WARDEN_OK);
    ck_assert_int_eq(expires, TM_NOW + 270);
    ck_assert_uint_eq(warden_message_token_count(message), 1);
    const warden_token *token = warden_message_token(message, 0);
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_KIND, &s, sizeof s), WARDEN_OK);
    ck_assert_str_eq(s.data, "username");
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_ROLE, &s, sizeof s), WARDEN_OK);
    ck_assert_str_eq(s.data, "supporting");
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_USERNAME, &s, sizeof s), WARDEN_OK);
    ck_assert_str_eq(s.data, "alice");
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_PASSWORD_TYPE, &s, sizeof s), WARDEN_OK);
    ck_assert_str_eq(s.data, "digest");
    int key_type = 0;
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_KEY_TYPE, &key_type, sizeof key_type), WARDEN_OK);
    ck_assert_int_eq(key_type, WARDEN_KEY_TYPE_NONE);
    int64_t from = 0;
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_VALID_FROM_TIME, &from, sizeof from), WARDEN_OK);
    ck_assert_int_eq(from, TM_NOW - 30);
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_SERIALIZED_XML, &s, sizeof s), WARDEN_OK);
    ck_assert_ptr_nonnull(strstr(s.data, "<wsse:Username>alice</wsse:Username>"));
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_ATTACHED_REFERENCE_XML, &s, sizeof s), WARDEN_OK);
    ck_assert_ptr_nonnull(strstr(s.data, "URI=\"#UT-1\""));
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_UNATTACHED_REFERENCE_XML, &s, sizeof s), WARDEN_E_NOT_APPLICABLE);
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_CERT_SUBJECT, &s, sizeof s), WARDEN_E_NOT_APPLICABLE);
    warden_bytes b;
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_SYMMETRIC_KEY, &b, sizeof b), WARDEN_E_NOT_APPLICABLE);
    warden_message_free(message);
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(soap12_username_text_message_is_delivered)
{
    warden_engine *engine = engine_with(NULL, 0);
    tm_username_options o = { .digest = 0, .soap12 = 1, .username = "bob", .password = "hunter2" };
    char *text = tm_username_message(&o);
    warden_message *message = NULL;
    warden_error err;
    ck_assert_msg(receive_text(engine, text, &message, &err) == WARDEN_OK, "%s: %s", err.reason, err.text);
    warden_string s;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_SOAP_VERSION, &s, sizeof s), WARDEN_OK);
    ck_assert_str_eq(s.data, "1.2");
    ck_assert_int_eq(warden_token_get_property(warden_message_token(message, 0), WARDEN_TOKEN_PROPERTY_PASSWORD_TYPE, &s, sizeof s), WARDEN_OK);
    ck_assert_str_eq(s.data, "text");
    warden_message_free(message);
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(replayed_nonce_is_rejected_on_the_second_receive)
{
    warden_engine *engine = engine_with(NULL, 0);
    char *text = digest_message("replay-me");
    warden_message *message = NULL;
    warden_error err;
    ck_assert_int_eq(receive_text(engine, text, &message, &err), WARDEN_OK);
    warden_message_free(message);
    expect_rejection(engine, text, "replay");
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(full_replay_cache_refuses_new_messages)
{
    const char *settings[] = { "replay.entries", "2" };
    warden_engine *engine = engine_with(settings, 2);
    warden_message *message = NULL;
    warden_error err;
    for (int i = 0; i < 2; i++) {
        char nonce[16];
        snprintf(nonce, sizeof nonce, "fill-%d", i);
        char *text = digest_message(nonce);
        ck_assert_int_eq(receive_text(engine, text, &message, &err), WARDEN_OK);
        warden_message_free(message);
        free(text);
    }
    char *text = digest_message("one-too-many");
    expect_rejection(engine, text, "replay-cache-full");
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(replay_detection_can_be_turned_off)
{
    const char *settings[] = { "replay.backend", "none" };
    warden_engine *engine = engine_with(settings, 2);
    char *text = digest_message("again");
    for (int i = 0; i < 2; i++) {
        warden_message *message = NULL;
        warden_error err;
        ck_assert_int_eq(receive_text(engine, text, &message, &err), WARDEN_OK);
        warden_message_free(message);
    }
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(wrong_password_and_unknown_user_are_rejected)
{
    warden_engine *engine = engine_with(NULL, 0);
    tm_username_options wrong = { .digest = 1, .password = "not-it", .nonce = "w" };
    char *text = tm_username_message(&wrong);
    expect_rejection(engine, text, "password-invalid");
    free(text);
    tm_username_options unknown = { .digest = 1, .username = "mallory", .nonce = "u" };
    text = tm_username_message(&unknown);
    expect_rejection(engine, text, "user-unknown");
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(timestamp_is_required_when_configured_always)
{
    const char *settings[] = { "require.timestamp", "always" };
    warden_engine *engine = engine_with(settings, 2);
    tm_username_options o = { .digest = 1, .nonce = "no-ts" };
    char *text = tm_username_message(&o);
    expect_rejection(engine, text, "timestamp-missing");
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(expired_and_future_timestamps_are_rejected)
{
    warden_engine *engine = engine_with(NULL, 0);
    tm_username_options old = { .digest = 1, .nonce = "old", .timestamp_created = "2026-11-25T11:00:00Z",
                                .timestamp_expires = "2026-11-25T11:05:00Z" };
    char *text = tm_username_message(&old);
    expect_rejection(engine, text, "timestamp-expired");
    free(text);
    tm_username_options ahead = { .digest = 1, .nonce = "ahead", .timestamp_created = "2026-11-25T12:10:00Z" };
    text = tm_username_message(&ahead);
    expect_rejection(engine, text, "timestamp-future");
    free(text);
    warden_engine_free(engine);
}
END_TEST

static int lookup_password(void *context, const char *username, size_t length, char *password,
                           size_t capacity, size_t *password_length)
{
    int *calls = context;
    (*calls)++;
    if (length == 4 && memcmp(username, "dave", 4) == 0) {
        memcpy(password, "from-callback", 13);
        *password_length = 13;
        return WARDEN_OK;
    }
    if (length == 4 && memcmp(username, "fail", 4) == 0)
        return WARDEN_E_INTERNAL;
    return WARDEN_E_NOT_APPLICABLE;
}

START_TEST(password_callback_supplies_passwords_the_users_file_lacks)
{
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    int calls = 0;
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set_password_callback(config, lookup_password, &calls), WARDEN_OK);
    ck_assert_int_eq(warden_engine_new(config, &engine, &err), WARDEN_OK);
    warden_config_free(config);

    tm_username_options dave = { .digest = 1, .username = "dave", .password = "from-callback", .nonce = "d" };
    char *text = tm_username_message(&dave);
    warden_message *message = NULL;
    ck_assert_msg(receive_text(engine, text, &message, &err) == WARDEN_OK, "%s: %s", err.reason, err.text);
    warden_message_free(message);
    free(text);
    ck_assert_int_eq(calls, 1);

    tm_username_options nobody = { .digest = 1, .username = "erin", .nonce = "e" };
    text = tm_username_message(&nobody);
    expect_rejection(engine, text, "user-unknown");
    free(text);

    tm_username_options failing = { .digest = 1, .username = "fail", .nonce = "f" };
    text = tm_username_message(&failing);
    ck_assert_int_eq(receive_text(engine, text, &message, &err), WARDEN_E_INTERNAL);
    ck_assert_ptr_null(message);
    ck_assert_str_eq(err.reason, "internal-error");
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(attrs_and_clock_come_from_the_receive_options)
{
    const char *settings[] = { "require.token", "false" };
    warden_engine *engine = engine_with(settings, 2);
    char *text = tm_plain_message();
    warden_attr attrs[] = { { "client_ip", "192.0.2.7" }, { "tenant", "acme" } };
    warden_receive_options options = { .size = sizeof options, .now = 1000, .attrs = attrs, .attr_count = 2 };
    warden_message *message = NULL;
    warden_error err;
    ck_assert_int_eq(warden_engine_receive(engine, text, strlen(text), &options, &message, &err), WARDEN_OK);
    warden_attr_list list;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_ATTRS, &list, sizeof list), WARDEN_OK);
    ck_assert_uint_eq(list.count, 2);
    ck_assert_str_eq(list.items[1].name, "tenant");
    ck_assert_str_eq(list.items[1].value, "acme");
    ck_assert_ptr_ne(list.items[1].value, attrs[1].value); /* copied */
    int64_t now = 0;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_NOW, &now, sizeof now), WARDEN_OK);
    ck_assert_int_eq(now, 1000);
    warden_message_free(message);

    /* An older caller's smaller options struct: fields past its size are not read. */
    options.size = offsetof(warden_receive_options, now);
    ck_assert_int_eq(warden_engine_receive(engine, text, strlen(text), &options, &message, &err), WARDEN_OK);
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_NOW, &now, sizeof now), WARDEN_OK);
    ck_assert_int_ne(now, 1000);
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_ATTRS, &list, sizeof list), WARDEN_OK);
    ck_assert_uint_eq(list.count, 0);
    warden_message_free(message);
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(engine_refuses_missing_files_and_unavailable_backends)
{
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "users", "no-such-users-file.txt", &err), WARDEN_OK);
    ck_assert_int_eq(warden_engine_new(config, &engine, &err), WARDEN_E_IO);
    ck_assert_ptr_null(engine);
    warden_config_free(config);

    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "trust", "no-such-ca.pem", &err), WARDEN_OK);
    ck_assert_int_eq(warden_engine_new(config, &engine, &err), WARDEN_E_IO);
    warden_config_free(config);

    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "replay.backend", "redis", &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "replay.url", "redis://127.0.0.1:port/0", &err), WARDEN_OK);
    ck_assert_int_eq(warden_engine_new(config, &engine, &err), WARDEN_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.text, "replay.url"));
    warden_config_free(config);

    /* unix socket URLs that cannot be read, and TLS, which this build cannot speak */
    static const char *const refused[] = { "unix:relative/redis.sock", "unix:///run/redis.sock?database=1",
                                           "unix:///run/redis.sock?db=x", "unix://:secret/run/redis.sock",
                                           "rediss://127.0.0.1:6380/0" };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
        ck_assert_int_eq(warden_config_set(config, "replay.backend", "redis", &err), WARDEN_OK);
        ck_assert_int_eq(warden_config_set(config, "replay.url", refused[i], &err), WARDEN_OK);
        ck_assert_int_eq(warden_engine_new(config, &engine, &err), WARDEN_E_CONFIG);
        ck_assert_msg(strstr(err.text, "replay.url") != NULL, "%s: %s", refused[i], err.text);
        warden_config_free(config);
    }
    ck_assert_ptr_nonnull(strstr(err.text, "TLS"));
}
END_TEST

/* A unix socket that is not there is like a Redis that does not answer: fail closed. */
START_TEST(an_absent_redis_unix_socket_rejects_messages_as_replay_unavailable)
{
    static const char *const settings[] = { "replay.backend", "redis", "replay.url",
                                            "unix:///nonexistent/warden-test-redis.sock?db=2", "replay.timeout_ms",
                                            "200" };
    warden_engine *engine = engine_with(settings, 6);
    char *text = digest_message("redis-unix-1");
    expect_rejection(engine, text, "replay-unavailable");
    free(text);
    warden_engine_free(engine);
}
END_TEST

/* Redis is reached on the first message, not at start: an engine whose Redis is not there
** starts, and rejects every message replay-unavailable (fail closed) instead of accepting it
** unchecked. Port 1 on loopback refuses at once. */
START_TEST(an_unreachable_redis_rejects_messages_as_replay_unavailable)
{
    static const char *const settings[] = { "replay.backend", "redis", "replay.url", "redis://127.0.0.1:1/0",
                                            "replay.timeout_ms", "200" };
    warden_engine *engine = engine_with(settings, 6);
    char *text = digest_message("redis-1");
    expect_rejection(engine, text, "replay-unavailable");
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(garbage_is_malformed_and_never_crashes)
{
    warden_engine *engine = engine_with(NULL, 0);
    expect_rejection(engine, "this is not XML", "malformed");
    expect_rejection(engine, "<a><b></a>", "malformed");
    expect_rejection(engine, "<root/>", "not-soap");
    warden_message *message = NULL;
    warden_error err;
    warden_receive_options options = { .size = sizeof options, .now = TM_NOW };
    ck_assert_int_eq(warden_engine_receive(engine, "", 0, &options, &message, &err), WARDEN_E_SECURITY);
    ck_assert_str_eq(err.reason, "malformed");
    warden_engine_free(engine);
}
END_TEST

typedef struct worker {
    warden_engine *engine;
    int            index;
    int            delivered;
    int            replays;
} worker;

static void *receive_many(void *opaque)
{
    worker *w = opaque;
    for (int i = 0; i < 200; i++) {
        char nonce[48];
        /* even i: a nonce only this thread uses; odd i: one both threads send (one wins) */
        if (i % 2 == 0)
            snprintf(nonce, sizeof nonce, "thread-%d-%d", w->index, i);
        else
            snprintf(nonce, sizeof nonce, "shared-%d", i);
        char *text = digest_message(nonce);
        warden_message *message = NULL;
        warden_error err;
        int status = receive_text(w->engine, text, &message, &err);
        if (status == WARDEN_OK) {
            warden_string s;
            if (warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_USERNAME, &s, sizeof s) == WARDEN_OK
                && strcmp(s.data, "alice") == 0)
                w->delivered++;
        } else if (strcmp(err.reason, "replay") == 0) {
            w->replays++;
        }
        warden_message_free(message);
        free(text);
    }
    return NULL;
}

START_TEST(two_threads_share_one_engine)
{
    warden_engine *engine = engine_with(NULL, 0);
    worker workers[2] = { { engine, 0, 0, 0 }, { engine, 1, 0, 0 } };
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, receive_many, &workers[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    /* each thread's own 100 nonces are delivered; each of the 100 shared ones exactly once */
    ck_assert_int_eq(workers[0].delivered + workers[1].delivered, 300);
    ck_assert_int_eq(workers[0].replays + workers[1].replays, 100);
    warden_engine_free(engine);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("engine");
    TCase *tc = tcase_create("engine");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, version_and_strerror_describe_the_library);
    tcase_add_test(tc, freeing_null_handles_is_a_no_op);
    tcase_add_test(tc, receive_rejects_null_arguments);
    tcase_add_test(tc, message_without_security_header_is_rejected_by_default);
    tcase_add_test(tc, unauthenticated_message_is_delivered_when_no_token_is_required);
    tcase_add_test(tc, getters_refuse_a_wrong_value_size);
    tcase_add_test(tc, username_digest_message_is_delivered_with_its_token);
    tcase_add_test(tc, soap12_username_text_message_is_delivered);
    tcase_add_test(tc, replayed_nonce_is_rejected_on_the_second_receive);
    tcase_add_test(tc, full_replay_cache_refuses_new_messages);
    tcase_add_test(tc, replay_detection_can_be_turned_off);
    tcase_add_test(tc, wrong_password_and_unknown_user_are_rejected);
    tcase_add_test(tc, timestamp_is_required_when_configured_always);
    tcase_add_test(tc, expired_and_future_timestamps_are_rejected);
    tcase_add_test(tc, password_callback_supplies_passwords_the_users_file_lacks);
    tcase_add_test(tc, attrs_and_clock_come_from_the_receive_options);
    tcase_add_test(tc, engine_refuses_missing_files_and_unavailable_backends);
    tcase_add_test(tc, an_unreachable_redis_rejects_messages_as_replay_unavailable);
    tcase_add_test(tc, an_absent_redis_unix_socket_rejects_messages_as_replay_unavailable);
    tcase_add_test(tc, garbage_is_malformed_and_never_crashes);
    tcase_add_test(tc, two_threads_share_one_engine);
    suite_add_tcase(suite, tc);
    return tr_run_suite(suite);
}
