/*
** test_reload.c — reloading while the engine serves: each way a reload can fail keeps the
** current revision serving and says why in the status; a good reload swaps atomically;
** trust material reloads too (a CRL that arrives by reload, or that the watcher sees, rejects
** its revoked signer at the next message); the staleness bound; and the stress test: threads deciding
** continuously while another rewrites the policy set 500 times, alternating good and broken
** versions — every decision succeeds and comes from one complete revision.
*/
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <warden.h>

#include "test_engine.h"
#include "test_messages.h"
#include "test_signer.h"
#include "test_run.h"

static warden_engine *engine_for(const te_policy_dir *dir, const char *max_stale)
{
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "require.token", "false", &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "reload.watch", "false", &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "policies", dir->path, &err), WARDEN_OK);
    if (max_stale != NULL)
        ck_assert_int_eq(warden_config_set(config, "reload.max_stale_s", max_stale, &err), WARDEN_OK);
    ck_assert_msg(warden_engine_new(config, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_config_free(config);
    return engine;
}

static warden_message *plain_message(warden_engine *engine)
{
    char *text = tm_plain_message();
    warden_message *message = te_receive(engine, text);
    free(text);
    return message;
}

/* The name of the rule that allowed the plain message, or the reason it was denied. */
static void decide_text(warden_engine *engine, char *out, size_t capacity)
{
    warden_message *message = plain_message(engine);
    warden_decision *decision = NULL;
    warden_error err;
    ck_assert_int_eq(warden_engine_decide(engine, message, &decision, &err), WARDEN_OK);
    if (warden_decision_allowed(decision))
        snprintf(out, capacity, "%s", warden_decision_rule(decision, 0));
    else
        snprintf(out, capacity, "deny:%s", warden_decision_reason(decision));
    warden_decision_free(decision);
    warden_message_free(message);
}

static void expect_serving(warden_engine *engine, const char *expected)
{
    char text[128];
    decide_text(engine, text, sizeof text);
    ck_assert_str_eq(text, expected);
}

static const char *const good_v1 = "permit \"v1\" { action = \"urn:example:orders/Create\" }\n";
static const char *const good_v2 = "permit \"v2\" { action = \"urn:example:orders/*\" }\n";

START_TEST(good_reload_serves_the_new_revision)
{
    te_policy_dir dir = te_make_dir("reload");
    te_replace_file(&dir, "orders.lua", good_v1);
    warden_engine *engine = engine_for(&dir, NULL);
    warden_status before = { .size = sizeof(warden_status) }, after = { .size = sizeof(warden_status) };
    warden_engine_status(engine, &before);
    expect_serving(engine, "v1");
    te_replace_file(&dir, "orders.lua", good_v2);
    warden_error err;
    ck_assert_int_eq(warden_engine_reload(engine, &err), WARDEN_OK);
    expect_serving(engine, "v2");
    warden_engine_status(engine, &after);
    ck_assert_str_ne(before.revision, after.revision);
    ck_assert_uint_eq(after.reloads, 1);
    ck_assert_uint_eq(after.reload_failures, 0);
    ck_assert_str_eq(after.last_error, "");
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

static const struct broken {
    const char *what;
    const char *file;
    const char *text;
    const char *message; /* expected in the status's last_error */
} broken_versions[] = {
    { "syntax error", "orders.lua", "permit \"v2\" { action = \n", "orders.lua:" },
    { "half-written file", "orders.lua", "permit \"v2\" { action = \"urn:example:orders/Cre", "orders.lua:" },
    { "failing policy test", "orders_test.lua",
      "test \"creating is denied\" { message = { action = \"urn:example:orders/Create\" }, expect = \"deny\" }\n",
      "policy tests failed" },
    { "bad JSON data", "data/limits.json", "{ \"max\": ", "data/limits.json" },
    { "unknown rule key", "more.lua", "permit \"v3\" { colour = \"red\" }\n", "unknown key" },
};

START_TEST(broken_reload_keeps_the_current_revision_and_says_why)
{
    const struct broken *b = &broken_versions[_i];
    te_policy_dir dir = te_make_dir("reload");
    te_replace_file(&dir, "orders.lua", good_v1);
    warden_engine *engine = engine_for(&dir, NULL);
    warden_status before = { .size = sizeof(warden_status) }, after = { .size = sizeof(warden_status) };
    warden_engine_status(engine, &before);

    te_replace_file(&dir, b->file, b->text);
    warden_error err;
    ck_assert_msg(warden_engine_reload(engine, &err) == WARDEN_E_POLICY, "%s: reload did not fail", b->what);
    ck_assert_msg(strstr(err.text, b->message) != NULL, "%s: %s", b->what, err.text);
    expect_serving(engine, "v1");
    warden_engine_status(engine, &after);
    ck_assert_str_eq(after.revision, before.revision);
    ck_assert_uint_eq(after.reload_failures, 1);
    ck_assert_uint_eq(after.reloads, 0);
    ck_assert_msg(strstr(after.last_error, b->message) != NULL, "%s: status says %s", b->what, after.last_error);
    ck_assert_int_gt(after.last_error_at, 0);
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(deleted_directory_keeps_the_current_revision)
{
    te_policy_dir dir = te_make_dir("reload");
    te_replace_file(&dir, "orders.lua", good_v1);
    warden_engine *engine = engine_for(&dir, NULL);
    te_remove_dir(&dir);
    warden_error err;
    ck_assert_int_ne(warden_engine_reload(engine, &err), WARDEN_OK);
    expect_serving(engine, "v1");
    warden_status status = { .size = sizeof(warden_status) };
    warden_engine_status(engine, &status);
    ck_assert_uint_eq(status.reload_failures, 1);
    ck_assert_str_ne(status.last_error, "");
    warden_engine_free(engine);
}
END_TEST

START_TEST(success_after_failure_clears_the_error)
{
    te_policy_dir dir = te_make_dir("reload");
    te_replace_file(&dir, "orders.lua", good_v1);
    warden_engine *engine = engine_for(&dir, NULL);
    te_replace_file(&dir, "orders.lua", "permit {\n");
    warden_error err;
    ck_assert_int_eq(warden_engine_reload(engine, &err), WARDEN_E_POLICY);
    te_replace_file(&dir, "orders.lua", good_v2);
    ck_assert_int_eq(warden_engine_reload(engine, &err), WARDEN_OK);
    expect_serving(engine, "v2");
    warden_status status = { .size = sizeof(warden_status) };
    warden_engine_status(engine, &status);
    ck_assert_str_eq(status.last_error, "");
    ck_assert_uint_eq(status.reloads, 1);
    ck_assert_uint_eq(status.reload_failures, 1);
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(trust_material_is_reloaded_and_kept_on_error)
{
    te_policy_dir dir = te_make_dir("reload");
    char *users_path = NULL;
    te_replace_file(&dir, "orders.lua", good_v1);
    te_replace_file(&dir, "../users-reload.txt", "alice:secret\n");
    char users[512];
    snprintf(users, sizeof users, "%s/../users-reload.txt", dir.path);
    users_path = users;
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "reload.watch", "false", &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "users", users_path, &err), WARDEN_OK);
    ck_assert_int_eq(warden_engine_new(config, &engine, &err), WARDEN_OK);
    warden_config_free(config);

    tm_username_options bob = { .digest = 1, .username = "bob", .password = "hunter2", .nonce = "bob-1" };
    char *text = tm_username_message(&bob);
    warden_receive_options options = { .size = sizeof options, .now = TM_NOW };
    warden_message *message = NULL;
    ck_assert_int_eq(warden_engine_receive(engine, text, strlen(text), &options, &message, &err), WARDEN_E_SECURITY);
    ck_assert_str_eq(err.reason, "user-unknown");
    free(text);

    /* bob is added: after the reload he is known */
    te_replace_file(&dir, "../users-reload.txt", "alice:secret\nbob:hunter2\n");
    ck_assert_int_eq(warden_engine_reload(engine, &err), WARDEN_OK);
    bob.nonce = "bob-2";
    text = tm_username_message(&bob);
    ck_assert_msg(warden_engine_receive(engine, text, strlen(text), &options, &message, &err) == WARDEN_OK, "%s", err.text);
    warden_message_free(message);
    free(text);

    /* a broken users file: the reload fails, bob is still known */
    te_replace_file(&dir, "../users-reload.txt", "no colon on this line\n");
    ck_assert_int_eq(warden_engine_reload(engine, &err), WARDEN_E_CONFIG);
    bob.nonce = "bob-3";
    text = tm_username_message(&bob);
    ck_assert_int_eq(warden_engine_receive(engine, text, strlen(text), &options, &message, &err), WARDEN_OK);
    warden_message_free(message);
    /* and the replay cache survived the reloads */
    ck_assert_int_eq(warden_engine_receive(engine, text, strlen(text), &options, &message, &err), WARDEN_E_SECURITY);
    ck_assert_str_eq(err.reason, "replay");
    free(text);
    warden_engine_free(engine);
    remove(users);
    te_remove_dir(&dir);
}
END_TEST

/* ---- CRLs ---------------------------------------------------------------------------- */

/* The concatenation of PKI files, written over path (whole, then renamed). */
static void write_pki_files(const char *path, const char *first, const char *second)
{
    char temporary[600];
    snprintf(temporary, sizeof temporary, "%s.tmp", path);
    FILE *out = fopen(temporary, "w");
    ck_assert_ptr_nonnull(out);
    const char *names[] = { first, second };
    for (size_t i = 0; i < 2 && names[i] != NULL; i++) {
        char *source = tm_pki_path(names[i]);
        FILE *in = fopen(source, "r");
        ck_assert_ptr_nonnull(in);
        char buffer[4096];
        size_t n;
        while ((n = fread(buffer, 1, sizeof buffer, in)) > 0)
            ck_assert_uint_eq(fwrite(buffer, 1, n, out), n);
        fclose(in);
        free(source);
    }
    fclose(out);
    ck_assert_int_eq(rename(temporary, path), 0);
}

/* A message signed by `who` (PKI who.key / who.pem, BinarySecurityToken); serial makes each
** one different, so that none is a replay of another. */
static void receive_signed(warden_engine *engine, const char *who, int serial, warden_error *err, int *status)
{
    char body[160], key[512], cert[512], name[64];
    snprintf(body, sizeof body,
             "<ord:CreateOrder xmlns:ord=\"urn:example:orders\"><ord:amount>%d</ord:amount></ord:CreateOrder>", serial);
    xmlDoc *doc = ts_envelope_new(11, body, "2026-11-25T12:00:00Z", "2026-11-25T12:05:00Z");
    ck_assert_ptr_nonnull(doc);
    snprintf(name, sizeof name, "%s.key", who);
    ck_assert_ptr_nonnull(ts_pki_path(name, key, sizeof key));
    snprintf(name, sizeof name, "%s.pem", who);
    ck_assert_ptr_nonnull(ts_pki_path(name, cert, sizeof cert));
    ts_options options = { .key_pem_path = key, .cert_pem_path = cert, .key_reference = TS_KEY_BST };
    ck_assert_int_eq(ts_sign(doc, ts_security(doc), &options), 0);
    size_t length = 0;
    char *bytes = ts_serialize(doc, &length);
    xmlFreeDoc(doc);
    ck_assert_ptr_nonnull(bytes);
    warden_receive_options receive = { .size = sizeof receive, .now = TM_NOW };
    warden_message *message = NULL;
    *status = warden_engine_receive(engine, bytes, length, &receive, &message, err);
    warden_message_free(message);
    free(bytes);
}

static void expect_signed(warden_engine *engine, const char *who, int serial, const char *reason)
{
    warden_error err;
    int status;
    receive_signed(engine, who, serial, &err, &status);
    if (reason == NULL) {
        ck_assert_msg(status == WARDEN_OK, "%s: %s: %s", who, err.reason, err.text);
    } else {
        ck_assert_msg(status == WARDEN_E_SECURITY, "%s: status %d", who, status);
        ck_assert_msg(strcmp(err.reason, reason) == 0, "%s: expected %s, got %s: %s", who, reason, err.reason, err.text);
    }
}

/* An engine on ca.pem + known.pem and the CRL file crl_path; watching policies when given. */
static warden_engine *crl_engine(const char *crl_path, const char *policies)
{
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    char *ca = tm_pki_path("ca.pem"), *known = tm_pki_path("known.pem");
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "trust", ca, &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "certs", known, &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "crls", crl_path, &err), WARDEN_OK);
    if (policies != NULL) {
        ck_assert_int_eq(warden_config_set(config, "policies", policies, &err), WARDEN_OK);
        ck_assert_int_eq(warden_config_set(config, "reload.debounce_ms", "50", &err), WARDEN_OK);
    } else {
        ck_assert_int_eq(warden_config_set(config, "reload.watch", "false", &err), WARDEN_OK);
    }
    ck_assert_msg(warden_engine_new(config, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_config_free(config);
    free(ca);
    free(known);
    return engine;
}

START_TEST(crl_brought_by_a_reload_rejects_the_revoked_signer_at_once)
{
    te_policy_dir dir = te_make_dir("reload");
    char crl[512];
    snprintf(crl, sizeof crl, "%s/crl.pem", dir.path);
    write_pki_files(crl, "crl-root-empty.pem", "crl-intermediate.pem");
    warden_engine *engine = crl_engine(crl, NULL);
    warden_error err;

    /* nothing revoked yet: delivered, and the verdict is now in the cache */
    expect_signed(engine, "revoked", 1, NULL);
    expect_signed(engine, "revoked", 2, NULL);

    /* the root's new CRL revokes the certificate: the next message is rejected */
    write_pki_files(crl, "crl-root.pem", "crl-intermediate.pem");
    ck_assert_msg(warden_engine_reload(engine, &err) == WARDEN_OK, "%s", err.text);
    expect_signed(engine, "revoked", 3, "cert-revoked");
    expect_signed(engine, "alice", 4, NULL);
    expect_signed(engine, "bob", 5, NULL);

    /* a forged CRL file is refused; the CRLs that serve stay in force */
    write_pki_files(crl, "crl-root-forged.pem", "crl-intermediate.pem");
    ck_assert_int_eq(warden_engine_reload(engine, &err), WARDEN_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.text, "does not verify"));
    expect_signed(engine, "revoked", 6, "cert-revoked");

    /* and a CRL that revokes the issuing CA takes bob with it */
    write_pki_files(crl, "crl-root-revokes-intermediate.pem", "crl-intermediate.pem");
    ck_assert_msg(warden_engine_reload(engine, &err) == WARDEN_OK, "%s", err.text);
    expect_signed(engine, "bob", 7, "cert-revoked");
    expect_signed(engine, "alice", 8, NULL);

    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(watched_crl_file_is_reloaded)
{
    te_policy_dir dir = te_make_dir("reload");
    char crl[512];
    snprintf(crl, sizeof crl, "%s/../%s-crl.pem", dir.path, strrchr(dir.path, '/') + 1);
    te_replace_file(&dir, "orders.lua", good_v1);
    write_pki_files(crl, "crl-root-empty.pem", "crl-intermediate.pem");
    warden_engine *engine = crl_engine(crl, dir.path);
    expect_signed(engine, "revoked", 1, NULL);

    write_pki_files(crl, "crl-root.pem", "crl-intermediate.pem");
    warden_error err;
    int status = WARDEN_OK;
    for (int i = 2; i < 500 && status == WARDEN_OK; i++) {
        usleep(20 * 1000);
        receive_signed(engine, "revoked", i, &err, &status);
    }
    ck_assert_int_eq(status, WARDEN_E_SECURITY);
    ck_assert_str_eq(err.reason, "cert-revoked");
    warden_engine_free(engine);
    remove(crl);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(failing_reloads_past_the_staleness_bound_deny)
{
    te_policy_dir dir = te_make_dir("reload");
    te_replace_file(&dir, "orders.lua", good_v1);
    warden_engine *engine = engine_for(&dir, "1");
    te_replace_file(&dir, "orders.lua", "permit {\n");
    warden_error err;
    int64_t before = (int64_t)time(NULL);
    ck_assert_int_eq(warden_engine_reload(engine, &err), WARDEN_E_POLICY);
    expect_serving(engine, "v1"); /* failing, but not yet for longer than 1 s */
    warden_status status = { .size = sizeof(warden_status) };
    ck_assert_int_eq(warden_engine_status(engine, &status), WARDEN_OK);
    ck_assert_int_ge(status.failing_since, before);
    sleep(2);
    expect_serving(engine, "deny:policy-stale");
    /* the status says so too (`warden serve` answers /health with 503 on it) */
    ck_assert_int_eq(warden_engine_status(engine, &status), WARDEN_OK);
    ck_assert_int_eq(status.stale, 1);
    te_replace_file(&dir, "orders.lua", good_v2);
    ck_assert_int_eq(warden_engine_reload(engine, &err), WARDEN_OK);
    expect_serving(engine, "v2");
    ck_assert_int_eq(warden_engine_status(engine, &status), WARDEN_OK);
    ck_assert_int_eq(status.stale, 0);
    ck_assert_int_eq(status.failing_since, 0);
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

/* ---- watching: each way operators change files ---------------------------------------- */

static warden_engine *watching_engine(const char *directory)
{
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "require.token", "false", &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "reload.debounce_ms", "50", &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "policies", directory, &err), WARDEN_OK);
    ck_assert_msg(warden_engine_new(config, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_config_free(config);
    return engine;
}

/* Waits (at most 10 s) until the engine serves expected; the watcher reloads by itself. */
static void expect_eventually(warden_engine *engine, const char *expected)
{
    char text[128] = "";
    for (int i = 0; i < 500; i++) {
        decide_text(engine, text, sizeof text);
        if (strcmp(text, expected) == 0)
            return;
        usleep(20 * 1000);
    }
    ck_abort_msg("expected the engine to serve %s, it serves %s", expected, text);
}

static void write_in_place(const te_policy_dir *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir->path, name);
    FILE *f = fopen(path, "w"); /* truncate and write: what `cat > file` does */
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static const char *const blocker = "forbid \"block\" { action = \"urn:example:orders/Create\" }\n";

START_TEST(watched_in_place_write_is_picked_up)
{
    te_policy_dir dir = te_make_dir("reload");
    te_replace_file(&dir, "orders.lua", good_v1);
    warden_engine *engine = watching_engine(dir.path);
    expect_serving(engine, "v1");
    write_in_place(&dir, "orders.lua", good_v2);
    expect_eventually(engine, "v2");
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(watched_rename_over_is_picked_up)
{
    te_policy_dir dir = te_make_dir("reload");
    te_replace_file(&dir, "orders.lua", good_v1);
    warden_engine *engine = watching_engine(dir.path);
    te_replace_file(&dir, "orders.lua", good_v2);
    expect_eventually(engine, "v2");
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(watched_delete_and_new_subdirectory_are_picked_up)
{
    te_policy_dir dir = te_make_dir("reload");
    te_replace_file(&dir, "orders.lua", good_v1);
    te_replace_file(&dir, "block.lua", blocker);
    warden_engine *engine = watching_engine(dir.path);
    expect_serving(engine, "deny:forbidden");
    char path[512];
    snprintf(path, sizeof path, "%s/block.lua", dir.path);
    ck_assert_int_eq(unlink(path), 0);
    expect_eventually(engine, "v1");
    te_replace_file(&dir, "guards/deeper/block.lua", blocker); /* a new subdirectory, two levels */
    expect_eventually(engine, "deny:forbidden");
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(watched_directory_symlink_swap_is_picked_up)
{
    te_policy_dir base = te_make_dir("reload");
    te_replace_file(&base, "one/orders.lua", good_v1);
    te_replace_file(&base, "two/orders.lua", good_v2);
    char link[512], temporary[512];
    snprintf(link, sizeof link, "%s/current", base.path);
    snprintf(temporary, sizeof temporary, "%s/current.tmp", base.path);
    ck_assert_int_eq(symlink("one", link), 0);
    warden_engine *engine = watching_engine(link);
    expect_serving(engine, "v1");
    ck_assert_int_eq(symlink("two", temporary), 0);
    ck_assert_int_eq(rename(temporary, link), 0);
    expect_eventually(engine, "v2");
    warden_engine_free(engine);
    te_remove_dir(&base);
}
END_TEST

START_TEST(watched_configmap_data_swap_is_picked_up)
{
    te_policy_dir dir = te_make_dir("reload");
    char path[512], target[512];
    te_replace_file(&dir, "..2026_11_25_12_00_00.1/orders.lua", good_v1);
    snprintf(path, sizeof path, "%s/..data", dir.path);
    ck_assert_int_eq(symlink("..2026_11_25_12_00_00.1", path), 0);
    snprintf(path, sizeof path, "%s/orders.lua", dir.path);
    ck_assert_int_eq(symlink("..data/orders.lua", path), 0);
    warden_engine *engine = watching_engine(dir.path);
    expect_serving(engine, "v1");
    /* what the kubelet does: a new folder, a new link, renamed over ..data, the old folder gone */
    te_replace_file(&dir, "..2026_11_25_12_05_00.2/orders.lua", good_v2);
    snprintf(path, sizeof path, "%s/..data_tmp", dir.path);
    ck_assert_int_eq(symlink("..2026_11_25_12_05_00.2", path), 0);
    snprintf(target, sizeof target, "%s/..data", dir.path);
    ck_assert_int_eq(rename(path, target), 0);
    snprintf(path, sizeof path, "%s/..2026_11_25_12_00_00.1/orders.lua", dir.path);
    unlink(path);
    snprintf(path, sizeof path, "%s/..2026_11_25_12_00_00.1", dir.path);
    rmdir(path);
    expect_eventually(engine, "v2");
    warden_status status = { .size = sizeof(warden_status) };
    warden_engine_status(engine, &status);
    ck_assert_str_eq(status.last_error, "");
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(watched_broken_change_keeps_serving_and_reports)
{
    te_policy_dir dir = te_make_dir("reload");
    te_replace_file(&dir, "orders.lua", good_v1);
    warden_engine *engine = watching_engine(dir.path);
    te_replace_file(&dir, "orders.lua", "permit \"v2\" {\n");
    warden_status status = { .size = sizeof(warden_status) };
    for (int i = 0; i < 500 && status.reload_failures == 0; i++) {
        usleep(20 * 1000);
        warden_engine_status(engine, &status);
    }
    ck_assert_uint_ge(status.reload_failures, 1);
    ck_assert_ptr_nonnull(strstr(status.last_error, "orders.lua:"));
    expect_serving(engine, "v1");
    te_replace_file(&dir, "orders.lua", good_v2);
    expect_eventually(engine, "v2");
    warden_engine_free(engine);
    te_remove_dir(&dir);
}
END_TEST

/* ---- stress -------------------------------------------------------------------------- */

#define VERSIONS 500

typedef struct stress {
    warden_engine *engine;
    atomic_bool    done;
    atomic_long    decisions;
    atomic_long    failures;       /* a decision that did not name a complete revision */
    atomic_int     last_good;      /* highest good version written and reloaded */
    pthread_mutex_t lock;
    double         longest_us;     /* under lock */
} stress;

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* Version n's rule is named "version n" and applies only when the data document says n too:
** a decision that mixed files from two versions would find no rule and deny. */
static void write_version(const te_policy_dir *dir, int n, int broken)
{
    char text[256];
    snprintf(text, sizeof text, "{ \"n\": %d }", n);
    te_replace_file(dir, "data/version.json", text);
    if (broken)
        snprintf(text, sizeof text, "permit \"version %d\" { when = function(m) return data.version.n == %d end\n", n, n);
    else
        snprintf(text, sizeof text, "permit \"version %d\" { when = function(m) return data.version.n == %d end }\n", n, n);
    te_replace_file(dir, "orders.lua", text);
}

static void *decide_continuously(void *opaque)
{
    stress *s = opaque;
    warden_message *message = plain_message(s->engine);
    double longest = 0;
    while (!atomic_load(&s->done)) {
        warden_decision *decision = NULL;
        warden_error err;
        double started = now_us();
        int status = warden_engine_decide(s->engine, message, &decision, &err);
        double took = now_us() - started;
        if (took > longest)
            longest = took;
        int version = -1;
        if (status != WARDEN_OK || !warden_decision_allowed(decision) ||
            sscanf(warden_decision_rule(decision, 0), "version %d", &version) != 1 || version % 2 != 0)
            atomic_fetch_add(&s->failures, 1);
        atomic_fetch_add(&s->decisions, 1);
        warden_decision_free(decision);
    }
    pthread_mutex_lock(&s->lock);
    if (longest > s->longest_us)
        s->longest_us = longest;
    pthread_mutex_unlock(&s->lock);
    warden_message_free(message);
    return NULL;
}

START_TEST(decisions_never_fail_while_the_set_is_rewritten_500_times)
{
    te_policy_dir dir = te_make_dir("reload");
    write_version(&dir, 0, 0);
    stress s = { .engine = engine_for(&dir, NULL) };
    pthread_mutex_init(&s.lock, NULL);
    atomic_init(&s.done, false);
    atomic_init(&s.decisions, 0);
    atomic_init(&s.failures, 0);
    atomic_init(&s.last_good, 0);
    pthread_t deciders[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&deciders[i], NULL, decide_continuously, &s), 0);

    size_t good_reloads = 0, failed_reloads = 0;
    for (int n = 1; n <= VERSIONS; n++) {
        int broken = n % 2 == 1; /* odd versions are broken, even ones good */
        write_version(&dir, n, broken);
        warden_error err;
        int status = warden_engine_reload(s.engine, &err);
        if (broken) {
            ck_assert_int_eq(status, WARDEN_E_POLICY);
            failed_reloads++;
        } else {
            ck_assert_msg(status == WARDEN_OK, "version %d: %s", n, err.text);
            good_reloads++;
            atomic_store(&s.last_good, n);
        }
    }
    atomic_store(&s.done, true);
    for (int i = 0; i < 2; i++)
        pthread_join(deciders[i], NULL);

    ck_assert_int_eq(atomic_load(&s.failures), 0);
    ck_assert_int_gt(atomic_load(&s.decisions), 0);
    expect_serving(s.engine, "version 500");
    warden_status status = { .size = sizeof(warden_status) };
    warden_engine_status(s.engine, &status);
    ck_assert_uint_eq(status.reloads, good_reloads);
    ck_assert_uint_eq(status.reload_failures, failed_reloads);
    printf("stress: %ld decisions during %d rewrites; longest decision %.0f us\n",
           (long)atomic_load(&s.decisions), VERSIONS, s.longest_us);
    warden_engine_free(s.engine);
    pthread_mutex_destroy(&s.lock);
    te_remove_dir(&dir);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("reload");
    TCase *tc = tcase_create("reload");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, good_reload_serves_the_new_revision);
    tcase_add_loop_test(tc, broken_reload_keeps_the_current_revision_and_says_why, 0,
                        (int)(sizeof broken_versions / sizeof broken_versions[0]));
    tcase_add_test(tc, deleted_directory_keeps_the_current_revision);
    tcase_add_test(tc, success_after_failure_clears_the_error);
    tcase_add_test(tc, trust_material_is_reloaded_and_kept_on_error);
    tcase_add_test(tc, crl_brought_by_a_reload_rejects_the_revoked_signer_at_once);
    tcase_add_test(tc, watched_crl_file_is_reloaded);
    tcase_add_test(tc, failing_reloads_past_the_staleness_bound_deny);
    tcase_add_test(tc, decisions_never_fail_while_the_set_is_rewritten_500_times);
    tcase_add_test(tc, watched_in_place_write_is_picked_up);
    tcase_add_test(tc, watched_rename_over_is_picked_up);
    tcase_add_test(tc, watched_delete_and_new_subdirectory_are_picked_up);
    tcase_add_test(tc, watched_directory_symlink_swap_is_picked_up);
    tcase_add_test(tc, watched_configmap_data_swap_is_picked_up);
    tcase_add_test(tc, watched_broken_change_keeps_serving_and_reports);
    suite_add_tcase(suite, tc);
    return tr_run_suite(suite);
}
