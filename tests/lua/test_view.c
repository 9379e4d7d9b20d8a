/*
** test_view.c — the message view `m` policies read (lua/view.c): every field of real
** messages received through the public API (unsigned, UsernameToken, signed by the test
** signer), m:body paths, read-only tables at every depth, caching, pairs, views kept past
** their decision, and the synthetic view of policy tests. Lua runs in a sandboxed state.
*/
#include <check.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <warden.h>

#include "lua/sandbox.h"
#include "lua/view.h"
#include "test_messages.h"
#include "test_signer.h"
#include "test_run.h"

static const char order_body[] =
    "<ord:CreateOrder xmlns:ord=\"urn:example:orders\"><ord:customer>ACME-1042</ord:customer>"
    "<ord:amount>250</ord:amount></ord:CreateOrder>";

/* ---- engines and messages ------------------------------------------------------------ */

static warden_engine *engine_with(const char *require_token)
{
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    char *users = tm_pki_path("users.txt");
    char *ca = tm_pki_path("ca.pem");
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_msg(warden_config_set(config, "users", users, &err) == WARDEN_OK, "%s", err.text);
    ck_assert_msg(warden_config_set(config, "trust", ca, &err) == WARDEN_OK, "%s", err.text);
    ck_assert_msg(warden_config_set(config, "require.token", require_token, &err) == WARDEN_OK, "%s", err.text);
    ck_assert_msg(warden_engine_new(config, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_config_free(config);
    free(users);
    free(ca);
    return engine;
}

static warden_message *receive_with(warden_engine *engine, const char *bytes, size_t length,
                                    const warden_attr *attrs, size_t attr_count)
{
    warden_receive_options options = { .size = sizeof options, .now = TM_NOW, .attrs = attrs,
                                       .attr_count = attr_count };
    warden_message *message = NULL;
    warden_error err;
    ck_assert_msg(warden_engine_receive(engine, bytes, length, &options, &message, &err) == WARDEN_OK,
                  "%s: %s", err.reason, err.text);
    return message;
}

static warden_message *plain_message(warden_engine *engine)
{
    char *text = tm_plain_message();
    ck_assert_ptr_nonnull(text);
    warden_message *message = receive_with(engine, text, strlen(text), NULL, 0);
    free(text);
    return message;
}

static warden_message *username_message(warden_engine *engine)
{
    tm_username_options o = { .digest = 1, .nonce = "view-nonce", .timestamp_created = "2026-11-25T12:00:00Z",
                              .timestamp_expires = "2026-11-25T12:05:00Z", .token_id = "UT-1" };
    char *text = tm_username_message(&o);
    ck_assert_ptr_nonnull(text);
    warden_message *message = receive_with(engine, text, strlen(text), NULL, 0);
    free(text);
    return message;
}

/* A message signed by alice (BinarySecurityToken; Body and Timestamp signed). */
static warden_message *signed_message(warden_engine *engine)
{
    char key_path[1024], cert_path[1024];
    xmlDoc *doc = ts_envelope_new(11, order_body, "2026-11-25T12:00:00Z", "2026-11-25T12:05:00Z");
    ck_assert_ptr_nonnull(doc);
    ts_options options = {
        .key_pem_path = ts_pki_path("alice.key", key_path, sizeof key_path),
        .cert_pem_path = ts_pki_path("alice.pem", cert_path, sizeof cert_path),
        .key_reference = TS_KEY_BST,
    };
    ck_assert_ptr_nonnull(options.key_pem_path);
    ck_assert_int_eq(ts_sign(doc, ts_security(doc), &options), 0);
    size_t length = 0;
    char *bytes = ts_serialize(doc, &length);
    ck_assert_ptr_nonnull(bytes);
    warden_message *message = receive_with(engine, bytes, length, NULL, 0);
    free(bytes);
    xmlFreeDoc(doc);
    return message;
}

/* ---- running Lua against a view ------------------------------------------------------ */

typedef struct lua_fixture {
    lua_State *L;
    int        env;  /* stack index of the sandbox environment */
} lua_fixture;

static lua_fixture fixture_new(void)
{
    wd_sandbox_limits limits = { .instructions = 1000000, .memory = 64u << 20, .time_ms = 5000 };
    lua_fixture f;
    f.L = wd_sandbox_new(&limits, NULL, NULL);
    ck_assert_ptr_nonnull(f.L);
    wd_sandbox_push_env(f.L, 0);
    f.env = lua_gettop(f.L);
    return f;
}

static void fixture_free(lua_fixture *f)
{
    wd_sandbox_close(f->L);
    f->L = NULL;
}

/* Runs source ("local m = ..." is prepended) with the view at view_index as its argument.
** Returns the sandbox outcome; on failure error holds the message. The result (one value)
** is left on the stack when the call succeeded. */
static int run(lua_fixture *f, int view_index, const char *source, char *error, size_t capacity)
{
    lua_State *L = f->L;
    size_t length = strlen(source) + 32;
    char *chunk = malloc(length);
    ck_assert_ptr_nonnull(chunk);
    snprintf(chunk, length, "local m = ...\n%s", source);
    view_index = lua_absindex(L, view_index);
    int status = wd_sandbox_load(L, chunk, strlen(chunk), "=test", f->env, error, capacity);
    free(chunk);
    ck_assert_msg(status == 0, "syntax: %s", error);
    lua_pushvalue(L, view_index);
    return wd_sandbox_call(L, 1, 1, error, capacity);
}

/* Runs source and leaves its one result on the stack; returns its index. */
static int run_ok(lua_fixture *f, int view_index, const char *source)
{
    char error[512] = "";
    int status = run(f, view_index, source, error, sizeof error);
    ck_assert_msg(status == WD_SANDBOX_OK, "`%s` raised: %s", source, error);
    return lua_gettop(f->L);
}

/* Asserts that the Lua expression is true for the view at view_index. */
#define CHECK(f, view_index, expression) check_true((f), (view_index), (expression), __LINE__)

static void check_true(lua_fixture *f, int view_index, const char *expression, int line)
{
    char error[512] = "";
    size_t length = strlen(expression) + 16;
    char *source = malloc(length);
    ck_assert_ptr_nonnull(source);
    snprintf(source, length, "return %s", expression);
    int status = run(f, view_index, source, error, sizeof error);
    free(source);
    ck_assert_msg(status == WD_SANDBOX_OK, "line %d: `%s` raised: %s", line, expression, error);
    int truth = lua_toboolean(f->L, -1);
    lua_pop(f->L, 1);
    ck_assert_msg(truth, "line %d: `%s` is not true", line, expression);
}

/* Asserts that the Lua statements raise an error containing text. */
#define CHECK_ERROR(f, view_index, statements, text) check_error((f), (view_index), (statements), (text), __LINE__)

static void check_error(lua_fixture *f, int view_index, const char *statements, const char *text, int line)
{
    char error[512] = "";
    int status = run(f, view_index, statements, error, sizeof error);
    if (status == WD_SANDBOX_OK)
        lua_pop(f->L, 1);
    ck_assert_msg(status == -1, "line %d: `%s` did not raise (status %d)", line, statements, status);
    ck_assert_msg(strstr(error, text) != NULL, "line %d: `%s` raised `%s`, expected `%s`", line, statements,
                  error, text);
}

/* ---- real messages ------------------------------------------------------------------- */

START_TEST(unsigned_message_fields)
{
    warden_engine *engine = engine_with("false");
    warden_message *message = plain_message(engine);
    lua_fixture f = fixture_new();
    wd_view_push_message(f.L, message);
    int m = lua_gettop(f.L);

    CHECK(&f, m, "m.action == 'urn:example:orders/Create'");
    CHECK(&f, m, "m.to == 'https://orders.example.com/soap'");
    CHECK(&f, m, "m.message_id == 'urn:uuid:0b7f8a52-1c2d-4e3f-8a9b-0c1d2e3f4a5b'");
    CHECK(&f, m, "m.soap == '1.1'");
    CHECK(&f, m, "m.operation == '{urn:example:orders}CreateOrder'");
    CHECK(&f, m, "m.protection == 'none'");
    CHECK(&f, m, "m.username == nil");
    CHECK(&f, m, "m.timestamp == nil");
    CHECK(&f, m, "m.cert == nil");
    CHECK(&f, m, "m.now == 1795608030 and math.type(m.now) == 'integer'");
    CHECK(&f, m, "type(m.signed) == 'table' and m.signed.Body == nil");
    CHECK(&f, m, "type(m.encrypted) == 'table' and m.encrypted.Body == nil and m.encrypted['{urn:x}H'] == nil");
    CHECK_ERROR(&f, m, "return m.encrypted.Bdy", "no field `Bdy` on m.encrypted");
    CHECK(&f, m, "type(m.tokens) == 'table' and #m.tokens == 0 and m.tokens[1] == nil");
    CHECK(&f, m, "type(m.attrs) == 'table' and next(m.attrs) == nil");
    CHECK(&f, m, "m[1] == nil and m[true] == nil"); /* only names are checked */
    CHECK_ERROR(&f, m, "return m.nope", "no field `nope` on m; did you mean `now`?");
    CHECK(&f, m, "type(m) == 'table'");
    lua_settop(f.L, m - 1);
    fixture_free(&f);
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(body_paths)
{
    warden_engine *engine = engine_with("false");
    warden_message *message = plain_message(engine);
    lua_fixture f = fixture_new();
    wd_view_push_message(f.L, message);
    int m = lua_gettop(f.L);

    CHECK(&f, m, "m:body('amount') == '250'");
    CHECK(&f, m, "m:body('customer') == 'ACME-1042'");
    CHECK(&f, m, "m:body('CreateOrder/amount') == '250'");
    CHECK(&f, m, "m:body('{urn:example:orders}amount') == '250'");
    CHECK(&f, m, "m:body('{urn:example:orders}CreateOrder/{urn:example:orders}amount') == '250'");
    CHECK(&f, m, "m:body('{urn:other}amount') == nil");
    CHECK(&f, m, "m:body('nope') == nil");
    CHECK(&f, m, "select('#', m:body('nope')) == 1 and select('#', m:body('amount')) == 1");
    CHECK(&f, m, "select('#', m:body('amount\\0x')) == 1 and select('#', m:body('')) == 1");
    CHECK(&f, m, "tonumber(m:body('nope') or 'x') == nil");
    CHECK(&f, m, "m:body('CreateOrder') == nil");        /* holds elements */
    CHECK(&f, m, "m:body('Action') == nil");             /* a header, not in the Body */
    CHECK(&f, m, "m:body('') == nil");
    CHECK(&f, m, "m:body(('a/'):rep(40) .. 'a') == nil"); /* more than 32 steps */
    CHECK(&f, m, "m:body('amount\\0x') == nil");
    CHECK(&f, m, "tonumber(m:body('amount')) < 1000");
    CHECK(&f, m, "m.body == m.body and type(m.body) == 'function'");
    CHECK_ERROR(&f, m, "return m:body(42)", "m:body expects a path string");
    CHECK_ERROR(&f, m, "return m:body()", "m:body expects a path string");
    CHECK_ERROR(&f, m, "return m:body({})", "m:body expects a path string");
    CHECK_ERROR(&f, m, "return m.body('amount')", "m:body");
    CHECK_ERROR(&f, m, "return m.body({}, 'amount')", "m:body");
    lua_settop(f.L, m - 1);
    fixture_free(&f);
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(long_body_text_is_read_whole)
{
    warden_engine *engine = engine_with("false");
    size_t count = 3000;
    const char *head =
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>"
        "<n:Note xmlns:n=\"urn:n\">";
    const char *tail = "</n:Note></soap:Body></soap:Envelope>";
    char *text = malloc(strlen(head) + count + strlen(tail) + 1);
    ck_assert_ptr_nonnull(text);
    strcpy(text, head);
    memset(text + strlen(head), 'x', count);
    strcpy(text + strlen(head) + count, tail);
    warden_message *message = receive_with(engine, text, strlen(text), NULL, 0);
    free(text);

    lua_fixture f = fixture_new();
    wd_view_push_message(f.L, message);
    int m = lua_gettop(f.L);
    CHECK(&f, m, "#m:body('Note') == 3000 and m:body('Note') == ('x'):rep(3000)");
    CHECK(&f, m, "m.operation == '{urn:n}Note' and m.action == nil and m.to == nil");
    lua_settop(f.L, m - 1);
    fixture_free(&f);
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(attrs_from_the_receive_options)
{
    warden_engine *engine = engine_with("false");
    char *text = tm_plain_message();
    warden_attr attrs[] = { { "tenant", "acme" }, { "channel", "b2b" } };
    warden_message *message = receive_with(engine, text, strlen(text), attrs, 2);
    free(text);
    lua_fixture f = fixture_new();
    wd_view_push_message(f.L, message);
    int m = lua_gettop(f.L);
    CHECK(&f, m, "m.attrs.tenant == 'acme' and m.attrs.channel == 'b2b' and m.attrs.other == nil");
    CHECK(&f, m, "(function() local n = 0 for k, v in pairs(m.attrs) do n = n + 1 end return n end)() == 2");
    CHECK_ERROR(&f, m, "m.attrs.tenant = 'evil'", "the message view is read-only");
    CHECK_ERROR(&f, m, "m.attrs.new = 'evil'", "the message view is read-only");
    CHECK(&f, m, "m.attrs.tenant == 'acme' and m.attrs.new == nil");
    lua_settop(f.L, m - 1);
    fixture_free(&f);
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(http_method_and_path_from_the_receive_options)
{
    warden_engine *engine = engine_with("false");
    char *text = tm_plain_message();
    warden_receive_options options = { .size = sizeof options, .now = TM_NOW, .http_method = "POST",
                                       .http_path = "/orders" };
    warden_message *message = NULL;
    warden_error err;
    ck_assert_int_eq(warden_engine_receive(engine, text, strlen(text), &options, &message, &err), WARDEN_OK);
    lua_fixture f = fixture_new();
    wd_view_push_message(f.L, message);
    int m = lua_gettop(f.L);
    CHECK(&f, m, "m.http_method == 'POST' and m.http_path == '/orders' and m.http_action == nil");
    CHECK_ERROR(&f, m, "m.http_path = '/admin'", "the message view is read-only");
    CHECK(&f, m, "m.http_path == '/orders'");
    CHECK_ERROR(&f, m, "return m.http_paht", "no field `http_paht` on m; did you mean `http_path`?");
    lua_settop(f.L, m - 1);
    warden_message_free(message);

    /* not over HTTP: nil, not an unknown field */
    message = receive_with(engine, text, strlen(text), NULL, 0);
    wd_view_push_message(f.L, message);
    m = lua_gettop(f.L);
    CHECK(&f, m, "m.http_method == nil and m.http_path == nil");
    lua_settop(f.L, m - 1);
    warden_message_free(message);

    /* a policy test's message table may set them */
    lua_pushnil(f.L);
    int table = run_ok(&f, -1, "return { http_method = 'POST', http_path = '/admin' }");
    lua_replace(f.L, -2);
    table--;
    wd_view_push_synthetic(f.L, table, TM_NOW);
    m = lua_gettop(f.L);
    CHECK(&f, m, "m.http_method == 'POST' and m.http_path == '/admin' and m.http_action == nil");
    lua_settop(f.L, table - 1);
    fixture_free(&f);
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(username_token_message_fields)
{
    warden_engine *engine = engine_with("true");
    warden_message *message = username_message(engine);
    lua_fixture f = fixture_new();
    wd_view_push_message(f.L, message);
    int m = lua_gettop(f.L);

    CHECK(&f, m, "m.username == 'alice'");
    CHECK(&f, m, "m.protection == 'none' and m.cert == nil");
    CHECK(&f, m, "m.timestamp.created == 1795608000 and m.timestamp.expires == 1795608300");
    CHECK(&f, m, "math.type(m.timestamp.created) == 'integer'");
    CHECK(&f, m, "#m.tokens == 1");
    CHECK(&f, m, "m.tokens[1].kind == 'username' and m.tokens[1].role == 'supporting'");
    CHECK(&f, m, "m.tokens[1].key_type == 'none'");
    CHECK(&f, m, "m.tokens[1].valid_from == 1795608000 and m.tokens[1].valid_till == nil");
    CHECK(&f, m, "m.tokens[1].username.name == 'alice' and m.tokens[1].username.password_type == 'digest'");
    CHECK(&f, m, "m.tokens[1].x509 == nil");
    CHECK(&f, m, "m.signed.UsernameToken == nil");
    CHECK_ERROR(&f, m, "m.username = 'root'", "the message view is read-only");
    CHECK_ERROR(&f, m, "m.tokens[1].username.name = 'root'", "the message view is read-only");
    CHECK_ERROR(&f, m, "m.timestamp.created = 0", "the message view is read-only");
    CHECK(&f, m, "m.username == 'alice' and m.tokens[1].username.name == 'alice'");
    lua_settop(f.L, m - 1);
    fixture_free(&f);
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(signed_message_certificate_fields)
{
    warden_engine *engine = engine_with("true");
    warden_message *message = signed_message(engine);
    lua_fixture f = fixture_new();
    wd_view_push_message(f.L, message);
    int m = lua_gettop(f.L);

    CHECK(&f, m, "m.protection == 'sign'");
    CHECK(&f, m, "m.action == 'urn:example:orders/Create'");
    CHECK(&f, m, "m.to == 'https://orders.example.com/service'");
    CHECK(&f, m, "m.message_id == 'urn:uuid:6b29fc40-ca47-1067-b31d-00dd010662da'");
    CHECK(&f, m, "m.signed.Body == true and m.signed.Timestamp == true and m.signed['{urn:x}Nope'] == nil");
    CHECK(&f, m, "type(m.timestamp.created) == 'number' and m.timestamp.created == 1795608000");
    CHECK(&f, m, "m.username == nil");

    CHECK(&f, m, "m.cert.subject.CN == 'alice'");
    CHECK(&f, m, "m.cert.subject.OU == 'Payments'");
    CHECK(&f, m, "m.cert.subject.O == 'Example'");
    CHECK(&f, m, "m.cert.subject.C == nil");
    CHECK(&f, m, "m.cert.issuer.CN == 'Test Root CA' and m.cert.issuer.O == 'Example'");
    CHECK(&f, m, "m.cert.subject_all.CN[1] == 'alice' and #m.cert.subject_all.CN == 1");
    CHECK(&f, m, "m.cert.issuer_all.O[1] == 'Example'");
    CHECK(&f, m, "m.cert.subject_dn == 'CN=alice,OU=Payments,O=Example'");
    CHECK(&f, m, "m.cert.issuer_dn == 'CN=Test Root CA,O=Example'");
    CHECK(&f, m, "m.cert.serial == '01e5'");
    CHECK(&f, m, "#m.cert.sha256 == 64 and m.cert.sha256:match('^[0-9a-f]+$') ~= nil");
    CHECK(&f, m, "m.cert.not_before == 1735689600 and m.cert.not_after == 2051222400");
    CHECK(&f, m, "m.cert.san.dns[1] == 'alice.example.com' and m.cert.san.dns[2] == 'payments.example.com'");
    CHECK(&f, m, "#m.cert.san.dns == 2");
    CHECK(&f, m, "m.cert.san.email[1] == 'alice@example.com'");
    CHECK(&f, m, "m.cert.san.uri[1] == 'urn:example:alice'");
    CHECK(&f, m, "m.cert.san.ip[1] == '192.0.2.10'");
    CHECK(&f, m, "m.cert.key.type == 'rsa' and m.cert.key.bits == 2048");
    CHECK_ERROR(&f, m, "return m.cert.nope", "no field `nope` on m.cert");

    CHECK(&f, m, "#m.tokens == 1");
    CHECK(&f, m, "m.tokens[1].kind == 'x509' and m.tokens[1].role == 'signing'");
    CHECK(&f, m, "m.tokens[1].key_type == 'asymmetric'");
    CHECK(&f, m, "m.tokens[1].valid_from == 1735689600 and m.tokens[1].valid_till == 2051222400");
    CHECK(&f, m, "m.tokens[1].x509.subject.CN == 'alice' and m.tokens[1].x509.serial == '01e5'");
    CHECK(&f, m, "m.tokens[1].x509.sha256 == m.cert.sha256");
    CHECK(&f, m, "m.tokens[1].username == nil");

    /* the example policy of docs/reference.md, Rules */
    CHECK(&f, m, "m.cert and m.cert.subject.OU == 'Payments' and tonumber(m:body('amount')) < 1000");
    lua_settop(f.L, m - 1);
    fixture_free(&f);
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(every_table_is_read_only)
{
    warden_engine *engine = engine_with("true");
    warden_message *message = signed_message(engine);
    lua_fixture f = fixture_new();
    wd_view_push_message(f.L, message);
    int m = lua_gettop(f.L);
    static const char *const writes[] = {
        "m.action = 'x'",
        "m.nope = 1",
        "m[1] = 1",
        "m.cert = nil",
        "m.cert.subject.CN = 'x'",
        "m.cert.subject.C = 'x'",
        "m.cert.subject_all.CN[1] = 'x'",
        "m.cert.subject_all.CN[2] = 'x'",
        "m.cert.serial = 'x'",
        "m.cert.san.dns[1] = 'x'",
        "m.cert.san.dns[3] = 'x'",
        "m.cert.key.bits = 4096",
        "m.signed.Body = false",
        "m.signed.Nope = true",
        "m.tokens[1] = 1",
        "m.tokens[2] = 1",
        "m.tokens[1].kind = 'x'",
        "m.tokens[1].x509.subject.CN = 'x'",
        "m.timestamp.created = 0",
        "m.body = nil",
        "table.insert(m.tokens, 1)",
        "table.insert(m.cert.san.dns, 'x')",
        "table.remove(m.cert.san.dns)",
        "table.sort(m.cert.san.dns, function(a, b) return a > b end)",
    };
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++)
        CHECK_ERROR(&f, m, writes[i], "the message view is read-only");
    CHECK_ERROR(&f, m, "m.action = 'x'", "test:2:"); /* the error points at the policy's line */

    /* and nothing changed */
    CHECK(&f, m, "m.action == 'urn:example:orders/Create' and m.cert.subject.CN == 'alice'");
    CHECK(&f, m, "m.signed.Body == true and m.signed['{urn:x}Nope'] == nil and #m.tokens == 1");
    CHECK(&f, m, "m.cert.san.dns[1] == 'alice.example.com' and #m.cert.san.dns == 2");
    CHECK(&f, m, "m.cert.key.bits == 2048 and m.tokens[1].kind == 'x509'");
    CHECK(&f, m, "type(m.body) == 'function'");

    /* the sandbox offers nothing that could go around the proxies */
    CHECK(&f, m, "rawset == nil and setmetatable == nil and getmetatable == nil and debug == nil");
    CHECK(&f, m, "next(m) == nil and next(m.cert.subject) == nil and rawlen(m.tokens) == 0");
    lua_settop(f.L, m - 1);
    fixture_free(&f);
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(fields_are_cached_and_iterable)
{
    warden_engine *engine = engine_with("true");
    warden_message *message = signed_message(engine);
    lua_fixture f = fixture_new();
    wd_view_push_message(f.L, message);
    int m = lua_gettop(f.L);

    CHECK(&f, m, "m.cert == m.cert and m.cert.subject == m.cert.subject and m.cert.san.dns == m.cert.san.dns");
    CHECK(&f, m, "m.tokens == m.tokens and m.tokens[1] == m.tokens[1] and m.signed == m.signed");
    CHECK(&f, m, "m.attrs == m.attrs and m.timestamp == m.timestamp");
    /* a second chunk sees the same cached tables */
    int first_cert = run_ok(&f, m, "return m.cert");
    int second_cert = run_ok(&f, m, "return m.cert");
    ck_assert(lua_rawequal(f.L, second_cert, first_cert));
    ck_assert(lua_istable(f.L, first_cert));
    lua_settop(f.L, m);

    CHECK(&f, m, "(function() local n = 0 for _, t in ipairs(m.tokens) do n = n + 1 end return n end)() == 1");
    CHECK(&f, m, "(function() local s = {} for k, v in pairs(m.cert.subject) do s[#s + 1] = k .. '=' .. v end "
                 "table.sort(s) return table.concat(s, ',') end)() == 'CN=alice,O=Example,OU=Payments'");
    CHECK(&f, m, "(function() local s = {} for k in pairs(m.signed) do s[#s + 1] = k end "
                 "table.sort(s) return table.concat(s, ',') end)() == 'Body,Timestamp'");
    CHECK(&f, m, "(function() local s = {} for k in pairs(m) do s[#s + 1] = k end table.sort(s) "
                 "return table.concat(s, ',') end)() == "
                 "'action,attrs,cert,encrypted,message_id,now,operation,protection,signed,soap,timestamp,to,tokens'");
    CHECK(&f, m, "(function() local s = {} for k in pairs(m.tokens[1]) do s[#s + 1] = k end table.sort(s) "
                 "return table.concat(s, ',') end)() == 'key_type,kind,role,valid_from,valid_till,x509'");
    CHECK(&f, m, "(function() for k, v in pairs(m.cert.san) do if type(v) ~= 'table' then return false end "
                 "end return true end)()");
    CHECK(&f, m, "(function() for k, v in pairs(m.cert.san) do if v ~= m.cert.san[k] then return false end "
                 "end return true end)()");
    CHECK(&f, m, "table.concat(m.cert.san.dns, ' ') == 'alice.example.com payments.example.com'");
    lua_settop(f.L, m - 1);
    fixture_free(&f);
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

/* The view keeps what it computed in its field cache (lua/view.c: the __index table of its
** private metatable): a field that was never read was never made; an absent one is not
** cached (so that a cache hit always reads as the value itself). */
static int raw_field(lua_State *L, int table, const char *name)
{
    table = lua_absindex(L, table);
    lua_pushstring(L, name);
    return lua_rawget(L, table);
}

START_TEST(fields_are_computed_on_first_read)
{
    warden_engine *engine = engine_with("false");
    warden_message *message = plain_message(engine);
    lua_fixture f = fixture_new();
    wd_view_push_message(f.L, message);
    int m = lua_gettop(f.L);
    CHECK(&f, m, "m.action ~= nil and m.username == nil and m:body('amount') == '250'");
    ck_assert(lua_getmetatable(f.L, m));
    ck_assert_int_eq(lua_getfield(f.L, -1, "__index"), LUA_TTABLE);
    int cache = lua_gettop(f.L);
    ck_assert_int_eq(raw_field(f.L, cache, "action"), LUA_TSTRING);
    ck_assert_int_eq(raw_field(f.L, cache, "username"), LUA_TNIL);
    static const char *const unread[] = { "to", "cert", "tokens", "signed", "attrs", "timestamp" };
    for (size_t i = 0; i < sizeof unread / sizeof unread[0]; i++) {
        ck_assert_msg(raw_field(f.L, cache, unread[i]) == LUA_TNIL, "%s was made before it was read", unread[i]);
        lua_pop(f.L, 1);
    }
    lua_settop(f.L, m);
    CHECK(&f, m, "#m.tokens == 0");
    ck_assert(lua_getmetatable(f.L, m));
    ck_assert_int_eq(lua_getfield(f.L, -1, "__index"), LUA_TTABLE);
    int cache_after = lua_gettop(f.L);
    ck_assert_int_eq(raw_field(f.L, cache_after, "tokens"), LUA_TTABLE);
    ck_assert_int_eq(raw_field(f.L, cache_after, "cert"), LUA_TNIL);
    lua_settop(f.L, m - 1);
    fixture_free(&f);
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

START_TEST(a_view_kept_past_its_decision_reads_the_current_message)
{
    warden_engine *engine = engine_with("false");
    warden_message *first = plain_message(engine);
    lua_fixture f = fixture_new();
    wd_view_push_message(f.L, first);
    int old_view = lua_gettop(f.L);
    CHECK(&f, old_view, "m.action ~= nil");
    /* a policy could keep the token view too */
    int old_tokens = run_ok(&f, old_view, "return m.tokens");

    /* the next decision: the first message is gone, a new view is pushed */
    warden_message_free(first);
    warden_message *second = plain_message(engine);
    wd_view_push_message(f.L, second);
    int m = lua_gettop(f.L);
    CHECK(&f, m, "m.action == 'urn:example:orders/Create'");
    /* the state's one view object now points at the second message: a kept view reads it,
    ** never the freed first one (ASan would see that) */
    ck_assert(lua_rawequal(f.L, old_view, m));
    CHECK(&f, old_view, "m.to ~= nil and m:body('amount') == '250'");
    CHECK(&f, old_view, "(function() for k in pairs(m) do end return true end)()");
    CHECK(&f, old_tokens, "#m == 0"); /* the list itself holds no pointer: still readable */
    lua_settop(f.L, old_view - 1);
    fixture_free(&f);
    warden_message_free(second);
    warden_engine_free(engine);
}
END_TEST

START_TEST(retired_token_views_do_not_read_freed_tokens_and_certificates_are_copies)
{
    warden_engine *engine = engine_with("true");
    warden_message *first = signed_message(engine);
    lua_fixture f = fixture_new();
    wd_view_push_message(f.L, first);
    int old_view = lua_gettop(f.L);
    int old_token = run_ok(&f, old_view, "return m.tokens[1]");
    int old_cert = run_ok(&f, old_view, "return m.cert");
    CHECK(&f, old_cert, "m.subject.CN == 'alice'");
    warden_message_free(first);

    /* the next decision, on another message (another engine: the same signature would be a replay) */
    warden_engine *other = engine_with("true");
    warden_message *third = signed_message(other);
    wd_view_push_message(f.L, third);
    CHECK_ERROR(&f, old_token, "return m.kind", "no longer valid");
    /* a certificate's facts are copied when first read and shared by the state's decisions:
    ** they stay readable, and never touch the freed message */
    CHECK(&f, old_cert, "m.serial == '01e5' and m.subject.CN == 'alice'");
    lua_settop(f.L, old_view - 1);
    fixture_free(&f);
    warden_message_free(third);
    warden_engine_free(other);
    warden_engine_free(engine);
}
END_TEST

/* ---- the synthetic view -------------------------------------------------------------- */

/* Makes the synthetic message table by running source in the sandbox; pushes it. */
static int push_table(lua_fixture *f, const char *source)
{
    lua_pushnil(f->L);
    int table = run_ok(f, -1, source);
    lua_replace(f->L, -2);
    return table - 1;
}

START_TEST(synthetic_view_reads_the_test_table)
{
    lua_fixture f = fixture_new();
    int table = push_table(&f,
        "return { action = 'urn:example:orders/Create', username = 'alice',"
        "  cert = { subject = { CN = 'alice', OU = 'Payments' }, san = { dns = { 'a.example' } } },"
        "  signed = { Body = true }, encrypted = { Body = true }, tokens = { { kind = 'x509', role = 'signing' } },"
        "  body = { amount = '250', ['CreateOrder/amount'] = '250', count = 7, flag = true } }");
    wd_view_push_synthetic(f.L, table, TM_NOW);
    int m = lua_gettop(f.L);

    CHECK(&f, m, "m.action == 'urn:example:orders/Create' and m.username == 'alice'");
    CHECK(&f, m, "m.cert.subject.CN == 'alice' and m.cert.subject.OU == 'Payments' and m.cert.issuer == nil");
    CHECK(&f, m, "m.cert.san.dns[1] == 'a.example' and #m.cert.san.dns == 1");
    CHECK(&f, m, "m.signed.Body == true and m.signed.Action == nil and m.signed['{urn:x}H'] == nil");
    CHECK_ERROR(&f, m, "return m.signed.Nope", "no field `Nope` on m.signed");
    CHECK(&f, m, "m.encrypted.Body == true and m.encrypted.Timestamp == nil");
    CHECK_ERROR(&f, m, "return m.encrypted.Nope", "no field `Nope` on m.encrypted");
    CHECK(&f, m, "#m.tokens == 1 and m.tokens[1].kind == 'x509'");
    CHECK(&f, m, "type(m.attrs) == 'table' and next(m.attrs) == nil and m.attrs.x == nil");
    CHECK(&f, m, "m.now == 1795608030");
    CHECK(&f, m, "m.timestamp == nil and m.protection == nil");
    CHECK(&f, m, "m:body('amount') == '250' and m:body('CreateOrder/amount') == '250'");
    CHECK(&f, m, "m:body('count') == '7' and m:body('flag') == nil and m:body('nope') == nil");
    CHECK(&f, m, "select('#', m:body('nope')) == 1 and select('#', m:body('flag')) == 1");
    CHECK(&f, m, "m:body('{urn:example:orders}amount') == nil"); /* exact keys only */
    CHECK(&f, m, "type(m.body) == 'function'");
    CHECK(&f, m, "m.cert == m.cert and m.signed == m.signed and m.attrs == m.attrs");
    CHECK_ERROR(&f, m, "return m:body(1)", "m:body expects a path string");
    CHECK(&f, m, "m.cert and m.cert.subject.OU == 'Payments' and tonumber(m:body('amount')) < 1000");
    lua_settop(f.L, table - 1);
    fixture_free(&f);
}
END_TEST

START_TEST(synthetic_view_is_read_only)
{
    lua_fixture f = fixture_new();
    int table = push_table(&f,
        "return { action = 'a', cert = { subject = { CN = 'alice' } }, signed = { Body = true },"
        "  body = { amount = '250' } }");
    wd_view_push_synthetic(f.L, table, TM_NOW);
    int m = lua_gettop(f.L);
    static const char *const writes[] = {
        "m.action = 'x'", "m.new = 1", "m.cert.subject.CN = 'x'", "m.signed.Body = false",
        "m.attrs.x = 1", "m.tokens[1] = {}", "m.body = nil", "table.insert(m.tokens, 1)",
    };
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++)
        CHECK_ERROR(&f, m, writes[i], "the message view is read-only");
    CHECK(&f, m, "m.action == 'a' and m.cert.subject.CN == 'alice' and m.signed.Body == true");
    CHECK(&f, m, "next(m.attrs) == nil and #m.tokens == 0");
    CHECK(&f, m, "(function() local s = {} for k in pairs(m) do s[#s + 1] = k end table.sort(s) "
                 "return table.concat(s, ',') end)() == 'action,cert,signed'");
    /* the test's own table is untouched */
    CHECK(&f, table, "m.action == 'a' and m.cert.subject.CN == 'alice' and m.attrs == nil");
    lua_settop(f.L, table - 1);
    fixture_free(&f);
}
END_TEST

START_TEST(synthetic_view_defaults)
{
    lua_fixture f = fixture_new();
    int table = push_table(&f, "return { now = 42 }");
    wd_view_push_synthetic(f.L, table, TM_NOW);
    int m = lua_gettop(f.L);
    CHECK(&f, m, "m.now == 42");
    CHECK(&f, m, "m:body('amount') == nil and m.cert == nil and m.action == nil");
    CHECK(&f, m, "type(m.signed) == 'table' and type(m.tokens) == 'table' and type(m.attrs) == 'table'");
    CHECK(&f, m, "type(m.encrypted) == 'table' and next(m.encrypted) == nil");
    lua_settop(f.L, table - 1);

    /* a view of something that is not a table reads as an empty message */
    lua_pushnil(f.L);
    wd_view_push_synthetic(f.L, -1, 7);
    m = lua_gettop(f.L);
    CHECK(&f, m, "m.now == 7 and m.action == nil and next(m.signed) == nil and m:body('x') == nil");
    lua_settop(f.L, m - 2);
    fixture_free(&f);
}
END_TEST

START_TEST(synthetic_views_do_not_expire)
{
    warden_engine *engine = engine_with("false");
    lua_fixture f = fixture_new();
    int table = push_table(&f, "return { action = 'a' }");
    wd_view_push_synthetic(f.L, table, TM_NOW);
    int synthetic = lua_gettop(f.L);
    warden_message *message = plain_message(engine);
    wd_view_push_message(f.L, message);
    CHECK(&f, synthetic, "m.action == 'a'");
    lua_settop(f.L, table - 1);
    fixture_free(&f);
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

/* ---- strict views ---------------------------------------------------------------------- */

START_TEST(unknown_fields_raise_with_the_nearest_name)
{
    warden_engine *engine = engine_with("true");
    warden_message *message = signed_message(engine);
    lua_fixture f = fixture_new();
    wd_view_push_message(f.L, message);
    int m = lua_gettop(f.L);

    CHECK_ERROR(&f, m, "return m.usename", "test:2: no field `usename` on m; did you mean `username`?");
    CHECK_ERROR(&f, m, "return m.Action", "no field `Action` on m; did you mean `action`?");
    CHECK_ERROR(&f, m, "return m.certs", "no field `certs` on m; did you mean `cert`?");
    CHECK_ERROR(&f, m, "return m.cert.subjet", "no field `subjet` on m.cert; did you mean `subject`?");
    CHECK_ERROR(&f, m, "return m.cert.subject.ou", "no attribute `ou` in m.cert.subject; did you mean `OU`?");
    CHECK_ERROR(&f, m, "return m.cert.issuer.cn", "no attribute `cn` in m.cert.issuer; did you mean `CN`?");
    CHECK_ERROR(&f, m, "return m.cert.subject_all.Ou", "did you mean `OU`?");
    CHECK_ERROR(&f, m, "return m.cert.san.dsn", "no field `dsn` on m.cert.san; did you mean `dns`?");
    CHECK_ERROR(&f, m, "return m.cert.key.size", "no field `size` on m.cert.key");
    CHECK_ERROR(&f, m, "return m.timestamp.create", "no field `create` on m.timestamp; did you mean `created`?");
    CHECK_ERROR(&f, m, "return m.signed.body", "no field `body` on m.signed; did you mean `Body`?");
    CHECK_ERROR(&f, m, "return m.tokens[1].knd", "no field `knd` on a token; did you mean `kind`?");
    CHECK_ERROR(&f, m, "return m.tokens[1].x509.serail", "no field `serail` on m.cert; did you mean `serial`?");
    /* known names the message lacks are nil, and reading them again is still nil */
    CHECK(&f, m, "m.cert.subject.UID == nil and m.cert.subject.emailAddress == nil and m.cert.subject.DC == nil");
    CHECK(&f, m, "m.cert.subject['2.5.4.97'] == nil and m.cert.subject.serialNumber == nil");
    CHECK(&f, m, "m.cert.subject_all.UID == nil and m.cert.subject.UID == nil");
    CHECK(&f, m, "m.saml == nil and m.transport == nil and m.tokens[1].saml == nil");
    CHECK(&f, m, "m.signed.Action == nil or m.signed.Action == true");
    CHECK(&f, m, "m.cert.subject.CN == 'alice' and m.cert.subject.OU == 'Payments'");
    /* pcall sees the error as a value: a policy can still probe on purpose */
    CHECK(&f, m, "not pcall(function() return m.cert.subject.ou end)");
    lua_settop(f.L, m - 1);
    fixture_free(&f);
    warden_message_free(message);
    warden_engine_free(engine);
}
END_TEST

/* m.saml (and a token's saml) knows the contract's fields; its attributes know any name. */
START_TEST(saml_view_is_strict_and_its_attributes_are_open)
{
    lua_fixture f = fixture_new();
    int table = push_table(&f,
        "return { saml = { issuer = 'https://idp', subject = 'dana', audiences = { 'urn:a' },"
        "  attributes = { role = { 'clerk', 'auditor' } } },"
        "  tokens = { { kind = 'saml', saml = { subject = 'dana' } } } }");
    wd_view_push_synthetic(f.L, table, TM_NOW);
    int m = lua_gettop(f.L);
    CHECK(&f, m, "m.saml.issuer == 'https://idp' and m.saml.subject == 'dana' and m.saml.audiences[1] == 'urn:a'");
    CHECK(&f, m, "#m.saml.attributes.role == 2 and m.saml.attributes.role[2] == 'auditor'");
    CHECK(&f, m, "m.saml.attributes.department == nil and m.saml.name_id_format == nil");
    CHECK(&f, m, "m.tokens[1].saml.subject == 'dana'");
    CHECK_ERROR(&f, m, "return m.saml.subjet", "no field `subjet` on m.saml; did you mean `subject`?");
    CHECK_ERROR(&f, m, "return m.saml.audience", "did you mean `audiences`?");
    CHECK_ERROR(&f, m, "return m.tokens[1].saml.isuer", "did you mean `issuer`?");
    CHECK_ERROR(&f, m, "m.saml.attributes.role[1] = 'admin'", "the message view is read-only");
    lua_settop(f.L, table - 1);
    fixture_free(&f);
}
END_TEST

START_TEST(synthetic_views_are_as_strict)
{
    lua_fixture f = fixture_new();
    int table = push_table(&f,
        "return { action = 'a', cert = { subject = { CN = 'alice' } }, signed = { Body = true },"
        "  tokens = { { kind = 'x509', x509 = { subject = { CN = 'alice' } } } }, attrs = { tenant = 't' },"
        "  timestamp = { created = 1 } }");
    wd_view_push_synthetic(f.L, table, TM_NOW);
    int m = lua_gettop(f.L);
    CHECK_ERROR(&f, m, "return m.usename", "no field `usename` on m; did you mean `username`?");
    CHECK_ERROR(&f, m, "return m.cert.subject.ou", "no attribute `ou` in m.cert.subject; did you mean `OU`?");
    CHECK_ERROR(&f, m, "return m.cert.subjct", "did you mean `subject`?");
    CHECK_ERROR(&f, m, "return m.tokens[1].rol", "no field `rol` on a token; did you mean `role`?");
    CHECK_ERROR(&f, m, "return m.tokens[1].x509.subject.o", "did you mean `O`?");
    CHECK_ERROR(&f, m, "return m.timestamp.expire", "did you mean `expires`?");
    CHECK_ERROR(&f, m, "return m.signed.Tmestamp", "did you mean `Timestamp`?");
    CHECK(&f, m, "m.username == nil and m.cert.subject.OU == nil and m.cert.issuer == nil");
    CHECK(&f, m, "m.tokens[1].role == nil and m.timestamp.expires == nil and m.signed.Timestamp == nil");
    CHECK(&f, m, "m.attrs.anything == nil and m.attrs.tenant == 't'"); /* the embedder's names */
    lua_settop(f.L, table - 1);

    /* names a real message never has raise even when the test's table sets them */
    table = push_table(&f, "return { usename = 'alice', cert = { subject = { ou = 'P' } } }");
    wd_view_push_synthetic(f.L, table, TM_NOW);
    m = lua_gettop(f.L);
    CHECK_ERROR(&f, m, "return m.usename", "no field `usename` on m; did you mean `username`?");
    CHECK_ERROR(&f, m, "return m.cert.subject.ou", "did you mean `OU`?");
    CHECK(&f, m, "m.cert.subject.OU == nil");
    lua_settop(f.L, table - 1);

    /* a missing signed table is as strict as a given one */
    table = push_table(&f, "return {}");
    wd_view_push_synthetic(f.L, table, TM_NOW);
    m = lua_gettop(f.L);
    CHECK_ERROR(&f, m, "return m.signed.Bdy", "did you mean `Body`?");
    lua_settop(f.L, table - 1);
    fixture_free(&f);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("view");
    TCase *tc = tcase_create("view");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, unsigned_message_fields);
    tcase_add_test(tc, body_paths);
    tcase_add_test(tc, long_body_text_is_read_whole);
    tcase_add_test(tc, attrs_from_the_receive_options);
    tcase_add_test(tc, http_method_and_path_from_the_receive_options);
    tcase_add_test(tc, username_token_message_fields);
    tcase_add_test(tc, signed_message_certificate_fields);
    tcase_add_test(tc, every_table_is_read_only);
    tcase_add_test(tc, fields_are_cached_and_iterable);
    tcase_add_test(tc, fields_are_computed_on_first_read);
    tcase_add_test(tc, a_view_kept_past_its_decision_reads_the_current_message);
    tcase_add_test(tc, retired_token_views_do_not_read_freed_tokens_and_certificates_are_copies);
    tcase_add_test(tc, synthetic_view_reads_the_test_table);
    tcase_add_test(tc, synthetic_view_is_read_only);
    tcase_add_test(tc, synthetic_view_defaults);
    tcase_add_test(tc, synthetic_views_do_not_expire);
    tcase_add_test(tc, unknown_fields_raise_with_the_nearest_name);
    tcase_add_test(tc, synthetic_views_are_as_strict);
    tcase_add_test(tc, saml_view_is_strict_and_its_attributes_are_open);
    suite_add_tcase(suite, tc);
    return tr_run_suite(suite);
}
