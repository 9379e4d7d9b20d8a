/*
** test_config.c — the configuration (engine/config.c, engine/config_file.c): defaults, every
** key through a file and through warden_config_set, error messages naming the dotted key,
** the config file's sandbox and limits, and the mapping to the core's wd_settings.
*/
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/config.h"
#include "engine/config_schema.h"
#include "include/warden.h"

/* The per-test scratch folder (checked fixtures run in the forked test process). */
static char scratch[PATH_MAX];

static void remove_tree(const char *path)
{
    DIR *dir = opendir(path);
    struct dirent *entry;

    if (dir == NULL) {
        unlink(path);
        return;
    }
    while ((entry = readdir(dir)) != NULL) {
        char child[PATH_MAX];
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
        remove_tree(child);
    }
    closedir(dir);
    rmdir(path);
}

static void make_scratch(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(scratch, sizeof scratch, "%s/warden-config-XXXXXX", base != NULL && base[0] != '\0' ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(scratch));
}

static void drop_scratch(void)
{
    remove_tree(scratch);
}

/* folder + "/" + name, owned by the caller. */
static char *join(const char *folder, const char *name)
{
    size_t a = strlen(folder), b = strlen(name);
    char *path = malloc(a + b + 2);

    ck_assert_ptr_nonnull(path);
    memcpy(path, folder, a);
    path[a] = '/';
    memcpy(path + a + 1, name, b + 1);
    return path;
}

/* Writes content to scratch/name (making one level of subfolder if name has one); returns
** the full path, owned by the caller. */
static char *write_file(const char *name, const char *content, size_t length)
{
    char *path = join(scratch, name);
    char *slash = strchr(path + strlen(scratch) + 1, '/');
    FILE *file;

    if (slash != NULL) {
        *slash = '\0';
        ck_assert(mkdir(path, 0700) == 0 || errno == EEXIST);
        *slash = '/';
    }
    file = fopen(path, "wb");
    ck_assert_ptr_nonnull(file);
    ck_assert_uint_eq(fwrite(content, 1, length, file), length);
    ck_assert_int_eq(fclose(file), 0);
    return path;
}

static char *write_text(const char *name, const char *content)
{
    return write_file(name, content, strlen(content));
}

static char *write_config(const char *content)
{
    return write_text("warden.lua", content);
}

static warden_config *new_config(void)
{
    warden_config *config = NULL;
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_ptr_nonnull(config);
    return config;
}

/* Loads content as a config file into a fresh config and expects code; err is returned. */
static warden_error load_expecting(const char *content, int code)
{
    warden_config *config = new_config();
    char *path = write_config(content);
    warden_error err;

    memset(&err, 0, sizeof err);
    ck_assert_int_eq(warden_config_load(config, path, &err), code);
    if (code != WARDEN_OK)
        ck_assert_int_eq(err.code, code);
    free(path);
    warden_config_free(config);
    return err;
}

static void assert_load_fails_with(const char *content, const char *text)
{
    warden_error err = load_expecting(content, WARDEN_E_CONFIG);
    ck_assert_str_eq(err.text, text);
}

static void assert_load_fails_mentioning(const char *content, const char *part)
{
    warden_error err = load_expecting(content, WARDEN_E_CONFIG);
    ck_assert_msg(strstr(err.text, part) != NULL, "\"%s\" should mention \"%s\"", err.text, part);
}

static void assert_set_fails_with(const char *key, const char *value, const char *text)
{
    warden_config *config = new_config();
    warden_error err;

    memset(&err, 0, sizeof err);
    ck_assert_int_eq(warden_config_set(config, key, value, &err), WARDEN_E_CONFIG);
    ck_assert_int_eq(err.code, WARDEN_E_CONFIG);
    ck_assert_str_eq(err.text, text);
    warden_config_free(config);
}

static void set_ok(warden_config *config, const char *key, const char *value)
{
    warden_error err;
    memset(&err, 0, sizeof err);
    ck_assert_msg(warden_config_set(config, key, value, &err) == WARDEN_OK, "%s=%s: %s", key, value, err.text);
}

static char *in_scratch(const char *name)
{
    return join(scratch, name);
}

static void assert_names(const wd_string_array *list, size_t count, const char *const *names)
{
    ck_assert_uint_eq(list->count, count);
    for (size_t i = 0; i < count; i++)
        ck_assert_str_eq(list->items[i], names[i]);
}

/* ---------------------------------------------------------------------------------------
** Defaults
*/

START_TEST(new_config_has_the_defaults_of_section_3)
{
    warden_config *config = new_config();
    static const char *const signed_parts[] = { "Body", "Timestamp" };

    ck_assert_uint_eq(config->trust.count, 0);
    ck_assert_uint_eq(config->certs.count, 0);
    ck_assert_ptr_null(config->users);
    ck_assert_ptr_null(config->policies);
    ck_assert_ptr_null(config->actor);
    ck_assert(config->require_token);
    assert_names(&config->require_signed, 2, signed_parts);
    ck_assert_str_eq(config->require_signed_view[0], "Body");
    ck_assert_str_eq(config->require_signed_view[1], "Timestamp");
    ck_assert_ptr_null(config->require_signed_view[2]);
    ck_assert_int_eq(config->require_timestamp, WD_TIMESTAMP_WHEN_SIGNED);
    ck_assert(!config->allow_sha1);
    ck_assert_int_eq(config->min_rsa_bits, 2048);
    ck_assert_int_eq(config->ttl, 300);
    ck_assert_int_eq(config->future_ttl, 60);
    ck_assert_int_eq(config->skew, 300);
    ck_assert(config->username_require_nonce);
    ck_assert_int_eq(config->replay_backend, WD_REPLAY_MEMORY);
    ck_assert_int_eq(config->replay_entries, 100000);
    ck_assert_ptr_null(config->replay_url);
    ck_assert_int_eq(config->limit_message_bytes, 4194304);
    ck_assert_int_eq(config->limit_depth, 64);
    ck_assert_int_eq(config->limit_attributes, 256);
    ck_assert_int_eq(config->limit_text_bytes, 1048576);
    ck_assert_int_eq(config->limit_instructions, 1000000);
    ck_assert_int_eq(config->limit_memory, 67108864);
    ck_assert_int_eq(config->limit_time_ms, 50);
    ck_assert_int_eq(config->limit_signatures, 4);
    ck_assert_int_eq(config->limit_references, 32);
    ck_assert_int_eq(config->limit_transforms, 4);
    ck_assert(config->reload_watch);
    ck_assert_int_eq(config->reload_debounce_ms, 100);
    ck_assert_int_eq(config->reload_max_stale_s, 0);
    ck_assert_ptr_null(config->log_decisions);
    ck_assert_ptr_null((void *)config->password_callback);
    warden_config_free(config);
}
END_TEST

START_TEST(null_arguments_are_refused_and_free_null_is_a_no_op)
{
    warden_config *config = new_config();
    warden_error err;

    ck_assert_int_eq(warden_config_new(NULL), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_config_load(NULL, "x.lua", &err), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_config_load(config, NULL, &err), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_config_set(NULL, "users", "u", &err), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_config_set(config, NULL, "u", &err), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_config_set(config, "users", NULL, NULL), WARDEN_E_INVALID_ARG);
    ck_assert_int_eq(warden_config_set_password_callback(NULL, NULL, NULL), WARDEN_E_INVALID_ARG);
    warden_config_free(NULL);
    warden_config_free(config);
}
END_TEST

/* ---------------------------------------------------------------------------------------
** Every key
*/

/* The values both the file and the warden_config_set tests give every key. */
static void assert_every_key_changed(const warden_config *config, const char *trust0, const char *trust1,
                                     const char *certs0, const char *users, const char *policies,
                                     const char *decisions)
{
    static const char *const signed_parts[] = { "Body", "Action" };

    ck_assert_uint_eq(config->trust.count, 2);
    ck_assert_str_eq(config->trust.items[0], trust0);
    ck_assert_str_eq(config->trust.items[1], trust1);
    ck_assert_uint_eq(config->certs.count, 1);
    ck_assert_str_eq(config->certs.items[0], certs0);
    ck_assert_str_eq(config->users, users);
    ck_assert_str_eq(config->policies, policies);
    ck_assert_str_eq(config->actor, "urn:example:gateway");
    ck_assert(!config->require_token);
    assert_names(&config->require_signed, 2, signed_parts);
    ck_assert_str_eq(config->require_signed_view[1], "Action");
    ck_assert_ptr_null(config->require_signed_view[2]);
    ck_assert_int_eq(config->require_timestamp, WD_TIMESTAMP_ALWAYS);
    ck_assert(config->allow_sha1);
    ck_assert_int_eq(config->min_rsa_bits, 3072);
    ck_assert_int_eq(config->ttl, 600);
    ck_assert_int_eq(config->future_ttl, 30);
    ck_assert_int_eq(config->skew, 120);
    ck_assert(!config->username_require_nonce);
    ck_assert_int_eq(config->replay_backend, WD_REPLAY_REDIS);
    ck_assert_int_eq(config->replay_entries, 5000);
    ck_assert_str_eq(config->replay_url, "redis://127.0.0.1:6379/0");
    ck_assert_int_eq(config->limit_message_bytes, 1000);
    ck_assert_int_eq(config->limit_depth, 10);
    ck_assert_int_eq(config->limit_attributes, 20);
    ck_assert_int_eq(config->limit_text_bytes, 500);
    ck_assert_int_eq(config->limit_instructions, 2000);
    ck_assert_int_eq(config->limit_memory, 3000000);
    ck_assert_int_eq(config->limit_time_ms, 7);
    ck_assert(!config->reload_watch);
    ck_assert_int_eq(config->reload_debounce_ms, 250);
    ck_assert_int_eq(config->reload_max_stale_s, 3600);
    ck_assert_str_eq(config->log_decisions, decisions);
}

START_TEST(file_sets_every_key)
{
    warden_config *config = new_config();
    char *path = write_config(
        "return {\n"
        "  trust = { 'certs/ca.pem', '/etc/warden/ca2.pem' },\n"
        "  certs = 'partners.pem',\n"
        "  users = 'users.txt',\n"
        "  policies = 'policies/',\n"
        "  actor = 'urn:example:gateway',\n"
        "  require = { token = false, signed = { 'Body', 'Action' }, timestamp = 'always' },\n"
        "  algorithms = { allow_sha1 = true, min_rsa_bits = 3072 },\n"
        "  clock = { ttl = 600, future_ttl = 30, skew = 120 },\n"
        "  username = { require_nonce = false },\n"
        "  replay = { backend = 'redis', entries = 5000, url = 'redis://127.0.0.1:6379/0' },\n"
        "  limits = { message_bytes = 1000, depth = 10, attributes = 20, text_bytes = 500,\n"
        "             instructions = 2000, memory = 3000000, time_ms = 7 },\n"
        "  reload = { watch = false, debounce_ms = 250, max_stale_s = 3600 },\n"
        "  log = { decisions = 'decisions.jsonl' },\n"
        "}\n");
    char *ca = in_scratch("certs/ca.pem");
    char *partners = in_scratch("partners.pem");
    char *users = in_scratch("users.txt");
    char *policies = in_scratch("policies/");
    char *decisions = in_scratch("decisions.jsonl");
    warden_error err;

    ck_assert_msg(warden_config_load(config, path, &err) == WARDEN_OK, "%s", err.text);
    assert_every_key_changed(config, ca, "/etc/warden/ca2.pem", partners, users, policies, decisions);
    free(ca);
    free(partners);
    free(users);
    free(policies);
    free(decisions);
    free(path);
    warden_config_free(config);
}
END_TEST

START_TEST(set_sets_every_key_and_keeps_relative_paths)
{
    warden_config *config = new_config();

    set_ok(config, "trust", "certs/ca.pem");
    set_ok(config, "trust", "/etc/warden/ca2.pem");
    set_ok(config, "certs", "partners.pem");
    set_ok(config, "users", "users.txt");
    set_ok(config, "policies", "policies/");
    set_ok(config, "actor", "urn:example:gateway");
    set_ok(config, "require.token", "false");
    set_ok(config, "require.signed", " Body ,Action");
    set_ok(config, "require.timestamp", "always");
    set_ok(config, "algorithms.allow_sha1", "true");
    set_ok(config, "algorithms.min_rsa_bits", "3072");
    set_ok(config, "clock.ttl", "600");
    set_ok(config, "clock.future_ttl", "30");
    set_ok(config, "clock.skew", "120");
    set_ok(config, "username.require_nonce", "false");
    set_ok(config, "replay.backend", "redis");
    set_ok(config, "replay.entries", "5000");
    set_ok(config, "replay.url", "redis://127.0.0.1:6379/0");
    set_ok(config, "limits.message_bytes", "1000");
    set_ok(config, "limits.depth", "10");
    set_ok(config, "limits.attributes", "20");
    set_ok(config, "limits.text_bytes", "500");
    set_ok(config, "limits.instructions", "2000");
    set_ok(config, "limits.memory", "3000000");
    set_ok(config, "limits.time_ms", "7");
    set_ok(config, "limits.signatures", "2");
    set_ok(config, "limits.references", "8");
    set_ok(config, "limits.transforms", "2");
    set_ok(config, "reload.watch", "false");
    set_ok(config, "reload.debounce_ms", "250");
    set_ok(config, "reload.max_stale_s", "3600");
    set_ok(config, "log.decisions", "decisions.jsonl");
    assert_every_key_changed(config, "certs/ca.pem", "/etc/warden/ca2.pem", "partners.pem", "users.txt",
                             "policies/", "decisions.jsonl");
    ck_assert_int_eq(config->limit_signatures, 2);
    ck_assert_int_eq(config->limit_references, 8);
    ck_assert_int_eq(config->limit_transforms, 2);
    warden_config_free(config);
}
END_TEST

START_TEST(set_accepts_every_choice)
{
    warden_config *config = new_config();

    set_ok(config, "require.timestamp", "never");
    ck_assert_int_eq(config->require_timestamp, WD_TIMESTAMP_NEVER);
    set_ok(config, "require.timestamp", "when-signed");
    ck_assert_int_eq(config->require_timestamp, WD_TIMESTAMP_WHEN_SIGNED);
    set_ok(config, "replay.backend", "none");
    ck_assert_int_eq(config->replay_backend, WD_REPLAY_NONE);
    set_ok(config, "replay.backend", "memory");
    ck_assert_int_eq(config->replay_backend, WD_REPLAY_MEMORY);
    warden_config_free(config);
}
END_TEST

START_TEST(set_empty_string_clears_optional_keys)
{
    static const char *const optional[] = { "actor", "users", "policies", "replay.url", "log.decisions" };
    warden_config *config = new_config();

    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++) {
        set_ok(config, optional[i], "something");
        set_ok(config, optional[i], "");
    }
    ck_assert_ptr_null(config->actor);
    ck_assert_ptr_null(config->users);
    ck_assert_ptr_null(config->policies);
    ck_assert_ptr_null(config->replay_url);
    ck_assert_ptr_null(config->log_decisions);
    set_ok(config, "reload.max_stale_s", "60");
    ck_assert_int_eq(config->reload_max_stale_s, 60);
    set_ok(config, "reload.max_stale_s", "");
    ck_assert_int_eq(config->reload_max_stale_s, 0);
    warden_config_free(config);
}
END_TEST

START_TEST(set_require_signed_takes_a_comma_separated_list)
{
    static const char *const parts[] = { "Body", "Timestamp", "{urn:x}Header" };
    warden_config *config = new_config();

    set_ok(config, "require.signed", "Body,  Timestamp ,\t{urn:x}Header");
    assert_names(&config->require_signed, 3, parts);
    ck_assert_str_eq(config->require_signed_view[2], "{urn:x}Header");
    set_ok(config, "require.signed", "");
    ck_assert_uint_eq(config->require_signed.count, 0);
    ck_assert_ptr_null(config->require_signed_view[0]);
    warden_config_free(config);
    assert_set_fails_with("require.signed", "Body,,Timestamp", "require.signed[2]: expected a non-empty string");
    assert_set_fails_with("require.signed", "Body,", "require.signed[2]: expected a non-empty string");
}
END_TEST

START_TEST(set_integers_accept_bounds_and_refuse_junk_and_overflow)
{
    warden_config *config = new_config();

    set_ok(config, "clock.ttl", "0");
    ck_assert_int_eq(config->ttl, 0);
    set_ok(config, "algorithms.min_rsa_bits", "1024");
    ck_assert_int_eq(config->min_rsa_bits, 1024);
    set_ok(config, "limits.instructions", "9223372036854775807");
    ck_assert_int_eq(config->limit_instructions, INT64_MAX);
    warden_config_free(config);

    assert_set_fails_with("clock.ttl", "600s", "clock.ttl: expected a non-negative integer, got \"600s\"");
    assert_set_fails_with("clock.ttl", " 600", "clock.ttl: expected a non-negative integer, got \" 600\"");
    assert_set_fails_with("clock.ttl", "", "clock.ttl: expected a non-negative integer, got \"\"");
    assert_set_fails_with("clock.ttl", "1.5", "clock.ttl: expected a non-negative integer, got \"1.5\"");
    assert_set_fails_with("clock.ttl", "0x10", "clock.ttl: expected a non-negative integer, got \"0x10\"");
    assert_set_fails_with("clock.ttl", "-1", "clock.ttl: expected a non-negative integer, got -1");
    assert_set_fails_with("limits.instructions", "9223372036854775808",
                          "limits.instructions: expected a positive integer, got \"9223372036854775808\"");
    assert_set_fails_with("limits.depth", "0", "limits.depth: expected a positive integer, got 0");
    assert_set_fails_with("limits.signatures", "65", "limits.signatures: expected an integer from 1 to 64, got 65");
    assert_set_fails_with("limits.depth", "abc", "limits.depth: expected a positive integer, got \"abc\"");
    assert_set_fails_with("limits.depth", "4294967296",
                          "limits.depth: expected an integer from 1 to 2147483647, got 4294967296");
    assert_set_fails_with("algorithms.min_rsa_bits", "512",
                          "algorithms.min_rsa_bits: expected an integer >= 1024, got 512");
    assert_set_fails_with("replay.entries", "0", "replay.entries: expected a positive integer, got 0");
    assert_set_fails_with("reload.max_stale_s", "0", "reload.max_stale_s: expected a positive integer, got 0");
    assert_set_fails_with("reload.debounce_ms", "-5", "reload.debounce_ms: expected a non-negative integer, got -5");
}
END_TEST

START_TEST(set_refuses_wrong_booleans_choices_and_empty_paths)
{
    assert_set_fails_with("reload.watch", "yes", "reload.watch: expected a boolean, got \"yes\"");
    assert_set_fails_with("algorithms.allow_sha1", "TRUE", "algorithms.allow_sha1: expected a boolean, got \"TRUE\"");
    assert_set_fails_with("require.timestamp", "sometimes",
                          "require.timestamp: expected \"when-signed\", \"always\" or \"never\", got \"sometimes\"");
    assert_set_fails_with("replay.backend", "",
                          "replay.backend: expected \"memory\", \"redis\" or \"none\", got \"\"");
    assert_set_fails_with("trust", "", "trust[1]: expected a non-empty string");
}
END_TEST

START_TEST(set_unknown_keys_are_named)
{
    assert_set_fails_with("clock.tll", "600", "clock.tll: unknown key");
    assert_set_fails_with("colck", "600", "colck: unknown key");
    assert_set_fails_with("clock", "600", "clock: a section, not a key (set one of its keys, e.g. clock.<key>)");
    assert_set_fails_with("clock.ttl.x", "600", "clock.ttl.x: unknown key");
    assert_set_fails_with("", "600", ": unknown key");
    assert_set_fails_with("bad\nkey", "1", "bad?key: unknown key");
}
END_TEST

START_TEST(failed_set_leaves_the_value_unchanged)
{
    warden_config *config = new_config();
    warden_error err;

    set_ok(config, "users", "users.txt");
    ck_assert_int_eq(warden_config_set(config, "clock.ttl", "oops", &err), WARDEN_E_CONFIG);
    ck_assert_int_eq(warden_config_set(config, "require.signed", "Body,,", &err), WARDEN_E_CONFIG);
    ck_assert_int_eq(config->ttl, 300);
    ck_assert_uint_eq(config->require_signed.count, 2);
    ck_assert_str_eq(config->users, "users.txt");
    warden_config_free(config);
}
END_TEST

/* ---------------------------------------------------------------------------------------
** File: errors name the key
*/

START_TEST(file_unknown_keys_are_named_with_their_dotted_path)
{
    assert_load_fails_with("return { colck = {} }", "colck: unknown key");
    assert_load_fails_with("return { clock = { tll = 600 } }", "clock.tll: unknown key");
    assert_load_fails_with("return { ['clock.ttl'] = 600 }", "clock.ttl: unknown key");
    assert_load_fails_with("return { 'trust.pem' }", "[1]: unknown key");
    assert_load_fails_with("return { limits = { 5 } }", "limits[1]: unknown key");
    assert_load_fails_with("return { [true] = 1 }", "[boolean]: unknown key");
}
END_TEST

START_TEST(file_wrong_types_are_named_with_their_dotted_path)
{
    assert_load_fails_with("return { limits = { depth = 'deep' } }",
                           "limits.depth: expected a positive integer, got string");
    assert_load_fails_with("return { limits = { depth = '10' } }",
                           "limits.depth: expected a positive integer, got string");
    assert_load_fails_with("return { clock = { ttl = 1.5 } }", "clock.ttl: expected a non-negative integer, got 1.5");
    assert_load_fails_with("return { clock = { ttl = -1 } }", "clock.ttl: expected a non-negative integer, got -1");
    assert_load_fails_with("return { clock = { ttl = 1e300 } }",
                           "clock.ttl: expected a non-negative integer, got 1e+300");
    assert_load_fails_with("return { reload = { watch = 1 } }", "reload.watch: expected a boolean, got 1");
    assert_load_fails_with("return { require = { token = 'yes' } }", "require.token: expected a boolean, got string");
    assert_load_fails_with("return { users = 42 }", "users: expected a string, got 42");
    assert_load_fails_with("return { actor = {} }", "actor: expected a string, got table");
    assert_load_fails_with("return { trust = { 'a.pem', 7 } }", "trust[2]: expected a string, got 7");
    /* trust is a list and a section (trust.eku): its string keys are the section's keys */
    assert_load_fails_with("return { trust = { x = 'a.pem' } }", "trust.x: unknown key");
    assert_load_fails_with("return { trust = { 'a.pem', eku = 'clientAuth' } }",
                           "trust.eku: expected a list of strings, got string");
    assert_load_fails_with("return { trust = { 'a.pem', eku = { 'clientAuth', 3 } } }",
                           "trust.eku[2]: expected a string, got 3");
    assert_load_fails_with("return { crls = { 'a.pem', true } }", "crls[2]: expected a string, got boolean");
    assert_load_fails_with("return { certs = true }", "certs: expected a string or a list of strings, got boolean");
    assert_load_fails_with("return { require = { signed = 'Body' } }", "require.signed: expected a list of strings, got string");
    assert_load_fails_with("return { require = { signed = { 'Body', '' } } }", "require.signed[2]: expected a non-empty string");
    assert_load_fails_with("return { require = { timestamp = 'sometimes' } }",
                           "require.timestamp: expected \"when-signed\", \"always\" or \"never\", got \"sometimes\"");
    assert_load_fails_with("return { replay = { backend = 1 } }",
                           "replay.backend: expected \"memory\", \"redis\" or \"none\", got 1");
    assert_load_fails_with("return { algorithms = { min_rsa_bits = 512 } }",
                           "algorithms.min_rsa_bits: expected an integer >= 1024, got 512");
    assert_load_fails_with("return { reload = { max_stale_s = 0 } }", "reload.max_stale_s: expected a positive integer, got 0");
    assert_load_fails_with("return { clock = 5 }", "clock: expected a table, got 5");
    assert_load_fails_with("return { log = 'x.jsonl' }", "log: expected a table, got string");
    assert_load_fails_with("return { users = 'a\\0b' }", "users: contains a NUL byte");
}
END_TEST

START_TEST(file_integers_may_be_exact_floats)
{
    warden_config *config = new_config();
    char *path = write_config("local minute = 60\nreturn { clock = { ttl = 10 * minute, skew = 2.0 * minute } }");
    warden_error err;

    ck_assert_msg(warden_config_load(config, path, &err) == WARDEN_OK, "%s", err.text);
    ck_assert_int_eq(config->ttl, 600);
    ck_assert_int_eq(config->skew, 120);
    free(path);
    warden_config_free(config);
}
END_TEST

START_TEST(file_empty_table_changes_nothing)
{
    warden_config *config = new_config();
    char *path = write_config("return {}");
    warden_error err;

    ck_assert_int_eq(warden_config_load(config, path, &err), WARDEN_OK);
    ck_assert_int_eq(config->ttl, 300);
    ck_assert_uint_eq(config->require_signed.count, 2);
    free(path);
    warden_config_free(config);
}
END_TEST

/* ---------------------------------------------------------------------------------------
** File: paths and lists
*/

START_TEST(file_relative_paths_are_taken_from_the_config_folder)
{
    warden_config *config = new_config();
    char *path = write_text("conf/warden.lua",
                            "return { trust = 'ca.pem', users = 'sub/users.txt', policies = '/srv/policies',\n"
                            "         log = { decisions = 'log/decisions.jsonl' }, actor = 'relative-looking' }");
    char *ca = in_scratch("conf/ca.pem");
    char *users = in_scratch("conf/sub/users.txt");
    char *decisions = in_scratch("conf/log/decisions.jsonl");
    warden_error err;

    ck_assert_msg(warden_config_load(config, path, &err) == WARDEN_OK, "%s", err.text);
    ck_assert_uint_eq(config->trust.count, 1);
    ck_assert_str_eq(config->trust.items[0], ca);
    ck_assert_str_eq(config->users, users);
    ck_assert_str_eq(config->policies, "/srv/policies");
    ck_assert_str_eq(config->log_decisions, decisions);
    ck_assert_str_eq(config->actor, "relative-looking");
    free(ca);
    free(users);
    free(decisions);
    free(path);
    warden_config_free(config);
}
END_TEST

START_TEST(file_loaded_by_relative_path_still_gives_absolute_paths)
{
    warden_config *config = new_config();
    char *path = write_text("conf/warden.lua", "return { users = 'users.txt' }");
    char *old_cwd = getcwd(NULL, 0);
    char cwd[PATH_MAX];
    char *expected;
    warden_error err;

    ck_assert_ptr_nonnull(old_cwd);
    ck_assert_int_eq(chdir(scratch), 0);
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    expected = join(cwd, "conf/users.txt");
    ck_assert_msg(warden_config_load(config, "./conf/warden.lua", &err) == WARDEN_OK, "%s", err.text);
    ck_assert_str_eq(config->users, expected);
    ck_assert_int_eq(chdir("conf"), 0);
    ck_assert_msg(warden_config_load(config, "warden.lua", &err) == WARDEN_OK, "%s", err.text);
    ck_assert_str_eq(config->users, expected);
    ck_assert_int_eq(chdir(old_cwd), 0);
    free(old_cwd);
    free(expected);
    free(path);
    warden_config_free(config);
}
END_TEST

START_TEST(file_lists_are_appended_to_what_the_config_has)
{
    warden_config *config = new_config();
    char *path = write_config("return { trust = { '/a.pem', '/b.pem' }, certs = '/c.pem' }");
    static const char *const trust[] = { "cli.pem", "/a.pem", "/b.pem" };
    static const char *const certs[] = { "/c.pem", "more.pem" };
    warden_error err;

    set_ok(config, "trust", "cli.pem");
    ck_assert_msg(warden_config_load(config, path, &err) == WARDEN_OK, "%s", err.text);
    set_ok(config, "certs", "more.pem");
    assert_names(&config->trust, 3, trust);
    assert_names(&config->certs, 2, certs);
    free(path);
    warden_config_free(config);
}
END_TEST

START_TEST(file_require_signed_replaces_the_list)
{
    warden_config *config = new_config();
    char *path = write_config("return { require = { signed = { 'Body' } } }");
    warden_error err;

    ck_assert_msg(warden_config_load(config, path, &err) == WARDEN_OK, "%s", err.text);
    ck_assert_uint_eq(config->require_signed.count, 1);
    ck_assert_str_eq(config->require_signed_view[0], "Body");
    ck_assert_ptr_null(config->require_signed_view[1]);
    free(path);
    warden_config_free(config);
}
END_TEST

START_TEST(file_trust_holds_its_files_and_the_eku_section_and_crls_are_paths)
{
    warden_config *config = new_config();
    char *path = write_config("return { trust = { 'ca.pem', eku = { 'clientAuth', '1.3.6.1.5.5.7.3.4' }, '/ca2.pem' },\n"
                              "         crls = { 'crl.pem', '/etc/warden/crl.der' } }");
    char *ca = in_scratch("ca.pem");
    char *crl = in_scratch("crl.pem");
    const char *const trust[] = { ca, "/ca2.pem" };
    const char *const purposes[] = { "clientAuth", "1.3.6.1.5.5.7.3.4" };
    const char *const crls[] = { crl, "/etc/warden/crl.der" };
    warden_error err;

    ck_assert_msg(warden_config_load(config, path, &err) == WARDEN_OK, "%s", err.text);
    assert_names(&config->trust, 2, trust);
    assert_names(&config->trust_eku, 2, purposes);
    assert_names(&config->crls, 2, crls);
    free(ca);
    free(crl);
    free(path);
    warden_config_free(config);
}
END_TEST

START_TEST(set_trust_eku_replaces_the_list_and_crls_are_appended)
{
    warden_config *config = new_config();
    warden_config *copy = NULL;
    const char *const purposes[] = { "clientAuth", "serverAuth" };
    const char *const crls[] = { "a.pem", "b.der" };

    set_ok(config, "trust.eku", "codeSigning");
    set_ok(config, "trust.eku", " clientAuth, serverAuth");
    set_ok(config, "crls", "a.pem");
    set_ok(config, "crls", "b.der");
    set_ok(config, "trust", "ca.pem");
    assert_names(&config->trust_eku, 2, purposes);
    assert_names(&config->crls, 2, crls);
    ck_assert_uint_eq(config->trust.count, 1);
    /* require.signed keeps its own view: another name list does not touch it */
    ck_assert_str_eq(config->require_signed_view[0], "Body");
    ck_assert_int_eq(wd_config_copy(config, &copy), WARDEN_OK);
    assert_names(&copy->trust_eku, 2, purposes);
    assert_names(&copy->crls, 2, crls);
    assert_set_fails_with("crls", "", "crls[1]: expected a non-empty string");
    set_ok(config, "trust.eku", "");
    ck_assert_uint_eq(config->trust_eku.count, 0);
    warden_config_free(copy);
    warden_config_free(config);
}
END_TEST

START_TEST(failed_load_leaves_the_config_unchanged)
{
    warden_config *config = new_config();
    char *path = write_config("return { trust = { '/new.pem' }, users = '/new-users.txt',\n"
                              "         require = { signed = { 'Body' } }, clock = { ttl = 1, skew = 'bad' } }");
    warden_error err;

    set_ok(config, "trust", "old.pem");
    set_ok(config, "users", "old-users.txt");
    ck_assert_int_eq(warden_config_load(config, path, &err), WARDEN_E_CONFIG);
    ck_assert_str_eq(err.text, "clock.skew: expected a non-negative integer, got string");
    ck_assert_uint_eq(config->trust.count, 1);
    ck_assert_str_eq(config->trust.items[0], "old.pem");
    ck_assert_str_eq(config->users, "old-users.txt");
    ck_assert_uint_eq(config->require_signed.count, 2);
    ck_assert_str_eq(config->require_signed_view[1], "Timestamp");
    ck_assert_int_eq(config->ttl, 300);
    free(path);
    warden_config_free(config);
}
END_TEST

/* ---------------------------------------------------------------------------------------
** File: reading, syntax and the sandbox
*/

START_TEST(unreadable_file_is_an_io_error)
{
    warden_config *config = new_config();
    char *missing = in_scratch("missing.lua");
    warden_error err;

    ck_assert_int_eq(warden_config_load(config, missing, &err), WARDEN_E_IO);
    ck_assert_int_eq(err.code, WARDEN_E_IO);
    ck_assert_ptr_nonnull(strstr(err.text, "missing.lua"));
    ck_assert_int_eq(warden_config_load(config, scratch, &err), WARDEN_E_IO);
    free(missing);
    warden_config_free(config);
}
END_TEST

START_TEST(special_and_oversized_files_are_refused_without_waiting)
{
    warden_config *config = new_config();
    char *fifo = in_scratch("fifo.lua");
    size_t big_size = ((size_t)1 << 20) + 1;
    char *big_text = malloc(big_size);
    char *big;
    warden_error err;

    /* Opening a FIFO with no writer would block forever; /dev/zero never ends. */
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_eq(warden_config_load(config, fifo, &err), WARDEN_E_IO);
    ck_assert_ptr_nonnull(strstr(err.text, "not a regular file"));
    ck_assert_int_eq(warden_config_load(config, "/dev/zero", &err), WARDEN_E_IO);
    ck_assert_ptr_nonnull(big_text);
    memset(big_text, ' ', big_size);
    big = write_file("big.lua", big_text, big_size);
    ck_assert_int_eq(warden_config_load(config, big, &err), WARDEN_E_CONFIG);
    ck_assert_msg(strstr(err.text, "larger than") != NULL, "%s", err.text);
    free(big);
    free(big_text);
    free(fifo);
    warden_config_free(config);
}
END_TEST

START_TEST(syntax_error_names_file_and_line)
{
    warden_error err = load_expecting("return {\n  users = 'u.txt'\n  policies = 'p'\n}\n", WARDEN_E_CONFIG);
    ck_assert_msg(strstr(err.text, "warden.lua:3:") != NULL, "%s", err.text);
    ck_assert_str_eq(err.reason, "config");
}
END_TEST

START_TEST(binary_chunks_are_refused)
{
    static const char bytecode[] = "\x1bLua\x54\x00\x19\x93\r\n\x1a\n";
    warden_config *config = new_config();
    char *path = write_file("warden.lua", bytecode, sizeof bytecode - 1);
    warden_error err;

    ck_assert_int_eq(warden_config_load(config, path, &err), WARDEN_E_CONFIG);
    ck_assert_msg(strstr(err.text, "binary") != NULL, "%s", err.text);
    free(path);
    warden_config_free(config);
}
END_TEST

/* The file fails to load with an error naming it and the limit it hit (never a timing: the
** limits are the kind of stop, whatever the machine's speed). */
static void assert_stops_at(const char *content, const char *limit)
{
    warden_error err = load_expecting(content, WARDEN_E_CONFIG);
    ck_assert_str_eq(err.reason, "config");
    ck_assert_msg(strstr(err.text, "/warden.lua:") != NULL, "the file is not named: %s", err.text);
    ck_assert_msg(strstr(err.text, limit) != NULL, "expected '%s': %s", limit, err.text);
}

START_TEST(infinite_loop_stops_at_the_instruction_limit)
{
    assert_stops_at("while true do end", "instruction limit exceeded (1000000) while loading the config file");
    assert_stops_at("local function f() return f() end return f()", "instruction limit exceeded");
    /* pcall is not there to catch it, and a limit would not be caught anyway */
    assert_load_fails_mentioning("pcall(function() while true do end end) return {}", "global 'pcall'");
}
END_TEST

/* Issue 16: each comparison of two long strings is one VM instruction that walks them (one
** strcoll per NUL-separated piece), so an instruction count alone let such a loop run for an
** hour. Strings are bounded (64 KiB), and the loop stops at the time limit. */
START_TEST(comparing_long_strings_in_a_loop_stops_at_the_time_limit)
{
    assert_stops_at("local a, b = '\\0', '\\0'\n"
                    "for i = 1, 16 do a = a .. a; b = b .. b end\n" /* 64 KiB each, the longest allowed */
                    "while true do local _ = a < b end",
                    "time limit exceeded (1000 ms) while loading the config file");
    /* the strings of the report, 2 MiB of NULs, are not made at all */
    assert_stops_at("local a, b = '\\0', '\\0'\n"
                    "for i = 1, 21 do a = a .. a; b = b .. b end\n"
                    "while true do local _ = a < b end",
                    "string limit exceeded (65536 bytes) while loading the config file");
}
END_TEST

START_TEST(memory_bomb_stops_at_the_memory_limit)
{
    /* 32 KiB strings, each one new: the heap fills long before the instruction budget is spent */
    assert_stops_at("local s = 'x' for i = 1, 15 do s = s .. s end\n"
                    "local t = {} for i = 1, 1e6 do t[i] = s .. i end return {}",
                    "memory limit exceeded (8388608 bytes) while loading the config file");
    assert_stops_at("local t = {} for i = 1, 1e6 do t[i] = { i, i, i, i, i, i, i, i } end return {}",
                    "limit exceeded");
}
END_TEST

START_TEST(string_bombs_stop_at_the_string_limit)
{
    /* strings have no methods in a config file: string.rep is not in reach at all */
    assert_load_fails_mentioning("return { users = ('x'):rep(1e9) }", "warden.lua:1: attempt to index a string value");
    assert_load_fails_mentioning("local s = 'x' return { users = s.rep(s, 1e9) }", "attempt to index a string value");
    /* doubling by concatenation is what is left, and it stops at 64 KiB */
    assert_stops_at("local s = 'x' while true do s = s .. s end", "string limit exceeded (65536 bytes)");
    assert_stops_at("local p = 'x' for i = 1, 10 do p = p .. p end\n"
                    "local s = '' for i = 1, 100 do s = s .. p end return {}",
                    "string limit exceeded (65536 bytes)");
}
END_TEST

/* The values are copied out of the state after it ran: the copies count against the same cap,
** or a thousand references to one 64 KiB string would be 64 MiB of host memory. */
START_TEST(copies_of_one_long_string_stop_at_the_memory_limit)
{
    assert_stops_at("local s = '/' for i = 1, 16 do s = s .. s end\n"
                    "local t = {} for i = 1, 1000 do t[i] = s end return { trust = t }",
                    "memory limit exceeded (8388608 bytes) by the values copied from the config file");
    assert_load_fails_mentioning("local s = '/' for i = 1, 16 do s = s .. s end\n"
                                 "local t = {} for i = 1, 1000 do t[i] = s end return { trust = t }",
                                 "trust[");
}
END_TEST

START_TEST(deep_recursion_stops_with_a_stack_overflow)
{
    assert_stops_at("local function f(n) return 1 + f(n + 1) end return { clock = { ttl = f(1) } }", "stack overflow");
}
END_TEST

/* The limits hold while compiling too: a literal longer than the string limit is refused, one
** within it is an ordinary value. */
START_TEST(huge_string_literal_is_refused)
{
    size_t size = 100000;
    char *text = malloc(size + 64);
    ck_assert_ptr_nonnull(text);
    int n = snprintf(text, 64, "return { users = '");
    memset(text + n, 'u', size);
    snprintf(text + n + size, 64, "' }");
    assert_stops_at(text, "string limit exceeded (65536 bytes)");

    warden_config *config = new_config();
    char *path;
    warden_error err;
    n = snprintf(text, 64, "return { users = '/");
    memset(text + n, 'u', 60000);
    snprintf(text + n + 60000, 64, "' }");
    path = write_config(text);
    ck_assert_msg(warden_config_load(config, path, &err) == WARDEN_OK, "%s", err.text);
    ck_assert_uint_eq(strlen(config->users), 60001);
    free(path);
    warden_config_free(config);
    free(text);
}
END_TEST

/* The config file is read when a config is loaded (warden_config_load, warden_engine_open); a
** running engine does not read it again. What exists keeps the old configuration: a load that
** hits a limit changes nothing, and an engine is not made from such a file. */
START_TEST(file_that_hits_a_limit_changes_nothing)
{
    static const char *const hostile[] = {
        "while true do end",
        "local a, b = '\\0', '\\0' for i = 1, 16 do a = a .. a; b = b .. b end while true do local _ = a < b end",
        "local s = 'x' while true do s = s .. s end",
        "local function f(n) return 1 + f(n + 1) end return { clock = { ttl = f(1) } }",
    };
    warden_config *config = new_config();
    char *path = write_config("return { users = '/old-users.txt', clock = { ttl = 7 } }");
    warden_error err;

    ck_assert_msg(warden_config_load(config, path, &err) == WARDEN_OK, "%s", err.text);
    free(path);
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        char text[256];
        warden_engine *engine = NULL;
        snprintf(text, sizeof text, "users = '/new-users.txt'\n%s\nreturn { users = users, clock = { ttl = 1 } }",
                 hostile[i]);
        path = write_config(text);
        ck_assert_int_eq(warden_config_load(config, path, &err), WARDEN_E_CONFIG);
        ck_assert_str_eq(config->users, "/old-users.txt");
        ck_assert_int_eq(config->ttl, 7);
        ck_assert_int_eq(warden_engine_open(path, &engine, &err), WARDEN_E_CONFIG);
        ck_assert_ptr_null(engine);
        ck_assert_msg(strstr(err.text, path) != NULL, "%s", err.text);
        free(path);
    }
    warden_config_free(config);
}
END_TEST

START_TEST(standard_library_is_not_in_reach)
{
    assert_load_fails_mentioning("os.exit(1)", "'os'");
    assert_load_fails_mentioning("local f = io.open('/etc/passwd') return {}", "'io'");
    assert_load_fails_mentioning("require('os') return {}", "'require'");
    assert_load_fails_mentioning("print('hello') return {}", "'print'");
    assert_load_fails_mentioning("load('return {}')() return {}", "'load'");
    assert_load_fails_mentioning("return { users = ('x'):rep(10) }", "string value");
    assert_load_fails_mentioning("setmetatable({}, {}) return {}", "'setmetatable'");
}
END_TEST

START_TEST(environment_is_empty)
{
    warden_config *config = new_config();
    char *path = write_config("return { actor = (_G == nil and _ENV.string == nil and next == nil) and 'empty' or 'full' }");
    warden_error err;

    ck_assert_msg(warden_config_load(config, path, &err) == WARDEN_OK, "%s", err.text);
    ck_assert_str_eq(config->actor, "empty");
    free(path);
    warden_config_free(config);
}
END_TEST

START_TEST(file_must_return_a_table)
{
    assert_load_fails_mentioning("return 42", "must return a table, got number");
    assert_load_fails_mentioning("local x = 1", "must return a table, got nil");
    assert_load_fails_mentioning("local t\nreturn { clock = { ttl = t.ttl } }", "warden.lua:2: attempt to index a nil value");
    assert_load_fails_mentioning("error('boom')", "global 'error'");
}
END_TEST

/* ---------------------------------------------------------------------------------------
** Callback and settings
*/

static int fake_password(void *context, const char *username, size_t username_length, char *password,
                         size_t capacity, size_t *length)
{
    (void)context;
    (void)username;
    (void)username_length;
    (void)password;
    (void)capacity;
    *length = 0;
    return WARDEN_E_NOT_APPLICABLE;
}

START_TEST(password_callback_is_stored)
{
    warden_config *config = new_config();
    int context = 7;

    ck_assert_int_eq(warden_config_set_password_callback(config, fake_password, &context), WARDEN_OK);
    ck_assert_ptr_eq((void *)config->password_callback, (void *)fake_password);
    ck_assert_ptr_eq(config->password_context, &context);
    ck_assert_int_eq(warden_config_set_password_callback(config, NULL, NULL), WARDEN_OK);
    ck_assert_ptr_null((void *)config->password_callback);
    warden_config_free(config);
}
END_TEST

START_TEST(callback_survives_a_load)
{
    warden_config *config = new_config();
    char *path = write_config("return { clock = { ttl = 5 } }");
    int context = 7;
    warden_error err;

    warden_config_set_password_callback(config, fake_password, &context);
    ck_assert_int_eq(warden_config_load(config, path, &err), WARDEN_OK);
    ck_assert_ptr_eq((void *)config->password_callback, (void *)fake_password);
    ck_assert_ptr_eq(config->password_context, &context);
    free(path);
    warden_config_free(config);
}
END_TEST

START_TEST(settings_default_like_the_core)
{
    warden_config *config = new_config();
    wd_settings from_config, defaults;

    wd_config_to_settings(config, &from_config);
    wd_settings_defaults(&defaults);
    ck_assert(from_config.require_token == defaults.require_token);
    ck_assert_uint_eq(from_config.require_signed_count, defaults.require_signed_count);
    for (size_t i = 0; i < defaults.require_signed_count; i++)
        ck_assert_str_eq(from_config.require_signed[i], defaults.require_signed[i]);
    ck_assert_int_eq(from_config.require_timestamp, defaults.require_timestamp);
    ck_assert(from_config.allow_sha1 == defaults.allow_sha1);
    ck_assert_int_eq(from_config.min_rsa_bits, defaults.min_rsa_bits);
    ck_assert_int_eq(from_config.ttl, defaults.ttl);
    ck_assert_int_eq(from_config.future_ttl, defaults.future_ttl);
    ck_assert_int_eq(from_config.skew, defaults.skew);
    ck_assert(from_config.require_nonce == defaults.require_nonce);
    ck_assert(defaults.require_nonce);
    ck_assert_ptr_null(from_config.actor);
    ck_assert_uint_eq(from_config.limits.message_bytes, defaults.limits.message_bytes);
    ck_assert_int_eq(from_config.limits.depth, defaults.limits.depth);
    ck_assert_int_eq(from_config.limits.attributes, defaults.limits.attributes);
    ck_assert_uint_eq(from_config.limits.text_bytes, defaults.limits.text_bytes);
    ck_assert_int_eq(from_config.limits.signatures, defaults.limits.signatures);
    ck_assert_int_eq(from_config.limits.references, defaults.limits.references);
    ck_assert_int_eq(from_config.limits.transforms, defaults.limits.transforms);
    warden_config_free(config);
}
END_TEST

START_TEST(settings_map_every_field)
{
    warden_config *config = new_config();
    wd_settings settings;

    set_ok(config, "require.token", "false");
    set_ok(config, "require.signed", "Body,Action,To");
    set_ok(config, "require.timestamp", "never");
    set_ok(config, "algorithms.allow_sha1", "true");
    set_ok(config, "algorithms.min_rsa_bits", "4096");
    set_ok(config, "clock.ttl", "11");
    set_ok(config, "clock.future_ttl", "12");
    set_ok(config, "clock.skew", "13");
    set_ok(config, "username.require_nonce", "false");
    set_ok(config, "actor", "urn:me");
    set_ok(config, "limits.message_bytes", "1001");
    set_ok(config, "limits.depth", "9");
    set_ok(config, "limits.attributes", "8");
    set_ok(config, "limits.text_bytes", "777");
    wd_config_to_settings(config, &settings);
    ck_assert(!settings.require_token);
    ck_assert_uint_eq(settings.require_signed_count, 3);
    ck_assert_str_eq(settings.require_signed[0], "Body");
    ck_assert_str_eq(settings.require_signed[2], "To");
    ck_assert_ptr_eq(settings.require_signed, config->require_signed_view);
    ck_assert_int_eq(settings.require_timestamp, WD_TIMESTAMP_NEVER);
    ck_assert(settings.allow_sha1);
    ck_assert_int_eq(settings.min_rsa_bits, 4096);
    ck_assert_int_eq(settings.ttl, 11);
    ck_assert_int_eq(settings.future_ttl, 12);
    ck_assert_int_eq(settings.skew, 13);
    ck_assert(!settings.require_nonce);
    ck_assert_ptr_eq(settings.actor, config->actor);
    ck_assert_uint_eq(settings.limits.message_bytes, 1001);
    ck_assert_int_eq(settings.limits.depth, 9);
    ck_assert_int_eq(settings.limits.attributes, 8);
    ck_assert_uint_eq(settings.limits.text_bytes, 777);
    warden_config_free(config);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *suite = suite_create("config");
    TCase *values = tcase_create("values");
    TCase *file = tcase_create("file");
    TCase *sandbox = tcase_create("sandbox");

    tcase_add_checked_fixture(values, make_scratch, drop_scratch);
    tcase_add_test(values, new_config_has_the_defaults_of_section_3);
    tcase_add_test(values, null_arguments_are_refused_and_free_null_is_a_no_op);
    tcase_add_test(values, set_sets_every_key_and_keeps_relative_paths);
    tcase_add_test(values, set_accepts_every_choice);
    tcase_add_test(values, set_empty_string_clears_optional_keys);
    tcase_add_test(values, set_require_signed_takes_a_comma_separated_list);
    tcase_add_test(values, set_integers_accept_bounds_and_refuse_junk_and_overflow);
    tcase_add_test(values, set_refuses_wrong_booleans_choices_and_empty_paths);
    tcase_add_test(values, set_unknown_keys_are_named);
    tcase_add_test(values, failed_set_leaves_the_value_unchanged);
    tcase_add_test(values, password_callback_is_stored);
    tcase_add_test(values, settings_default_like_the_core);
    tcase_add_test(values, settings_map_every_field);
    suite_add_tcase(suite, values);

    tcase_add_checked_fixture(file, make_scratch, drop_scratch);
    tcase_add_test(file, file_sets_every_key);
    tcase_add_test(file, file_unknown_keys_are_named_with_their_dotted_path);
    tcase_add_test(file, file_wrong_types_are_named_with_their_dotted_path);
    tcase_add_test(file, file_integers_may_be_exact_floats);
    tcase_add_test(file, file_empty_table_changes_nothing);
    tcase_add_test(file, file_relative_paths_are_taken_from_the_config_folder);
    tcase_add_test(file, file_loaded_by_relative_path_still_gives_absolute_paths);
    tcase_add_test(file, file_lists_are_appended_to_what_the_config_has);
    tcase_add_test(file, file_require_signed_replaces_the_list);
    tcase_add_test(file, file_trust_holds_its_files_and_the_eku_section_and_crls_are_paths);
    tcase_add_test(file, failed_load_leaves_the_config_unchanged);
    tcase_add_test(file, set_trust_eku_replaces_the_list_and_crls_are_appended);
    tcase_add_test(file, callback_survives_a_load);
    suite_add_tcase(suite, file);

    tcase_add_checked_fixture(sandbox, make_scratch, drop_scratch);
    tcase_set_timeout(sandbox, 120); /* the time limit needs a second of CPU: generous on a loaded machine */
    tcase_add_test(sandbox, unreadable_file_is_an_io_error);
    tcase_add_test(sandbox, special_and_oversized_files_are_refused_without_waiting);
    tcase_add_test(sandbox, syntax_error_names_file_and_line);
    tcase_add_test(sandbox, binary_chunks_are_refused);
    tcase_add_test(sandbox, infinite_loop_stops_at_the_instruction_limit);
    tcase_add_test(sandbox, comparing_long_strings_in_a_loop_stops_at_the_time_limit);
    tcase_add_test(sandbox, memory_bomb_stops_at_the_memory_limit);
    tcase_add_test(sandbox, string_bombs_stop_at_the_string_limit);
    tcase_add_test(sandbox, copies_of_one_long_string_stop_at_the_memory_limit);
    tcase_add_test(sandbox, deep_recursion_stops_with_a_stack_overflow);
    tcase_add_test(sandbox, huge_string_literal_is_refused);
    tcase_add_test(sandbox, file_that_hits_a_limit_changes_nothing);
    tcase_add_test(sandbox, standard_library_is_not_in_reach);
    tcase_add_test(sandbox, environment_is_empty);
    tcase_add_test(sandbox, file_must_return_a_table);
    suite_add_tcase(suite, sandbox);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(config_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
