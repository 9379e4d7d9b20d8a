/*
** policy.c — fuzzes the policy loader on arbitrary text. The input is a policy file; after a
** first NUL byte comes a data document (data/d.json), after a second a policy test file
** (p_test.lua). It is written to a scratch policy folder and examined with
** warden_policy_check (compile + lint); when that finds nothing, an engine is made on the
** folder (compile, run its tests) and decides on a delivered UsernameToken request. Every
** outcome must be a status the API documents; a decision must be well formed.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "tests/support/test_messages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char folder[256], policy_path[300], data_path[300], test_path[300], users_path[300];
static char *request;

static void setup(void)
{
    snprintf(folder, sizeof folder, "%s/policies", fz_scratch_dir());
    snprintf(policy_path, sizeof policy_path, "%s/p.lua", folder);
    snprintf(test_path, sizeof test_path, "%s/p_test.lua", folder);
    snprintf(data_path, sizeof data_path, "%s/data/d.json", folder);
    char data_folder[300];
    snprintf(data_folder, sizeof data_folder, "%s/data", folder);
    if (mkdir(folder, 0700) != 0 || mkdir(data_folder, 0700) != 0)
        fz_fail("policy: cannot make %s", data_folder);
    char *users = tm_pki_path("users.txt");
    if (users == NULL || access(users, R_OK) != 0)
        fz_fail("policy: users.txt not readable; set WARDEN_TEST_PKI");
    snprintf(users_path, sizeof users_path, "%s", users);
    free(users);
    tm_username_options options = { .digest = 1 };
    request = tm_username_message(&options);
}

/* Writes part i (NUL-separated) of the input to path, or removes path when there is none. */
static void write_part(const char *path, const uint8_t *data, size_t size, int part)
{
    const uint8_t *start = data, *end = data + size;
    for (int i = 0; i < part; i++) {
        const uint8_t *nul = memchr(start, 0, (size_t)(end - start));
        if (nul == NULL) {
            unlink(path);
            return;
        }
        start = nul + 1;
    }
    const uint8_t *nul = memchr(start, 0, (size_t)(end - start));
    fz_write_file(path, start, (size_t)((nul != NULL ? nul : end) - start));
}

static void count_report(void *context, const char *file, int line, int ok, const char *text)
{
    (void)file, (void)line, (void)ok;
    if (text == NULL)
        fz_fail("policy: a report without a text");
    (*(size_t *)context)++;
}

static void quiet(void *context, int level, const char *message)
{
    (void)context, (void)level, (void)message;
}

static void decide(warden_config *config)
{
    warden_engine *engine = NULL;
    warden_message *message = NULL;
    warden_decision *decision = NULL;
    warden_error err = { 0 };

    int status = warden_engine_new(config, &engine, &err);
    if (status == WARDEN_E_POLICY || status == WARDEN_E_NOMEM)
        return;
    if (status != WARDEN_OK)
        fz_fail("policy: engine status %d (%s)", status, err.text);
    warden_receive_options options = { .size = sizeof options, .now = fz_now() };
    if (warden_engine_receive(engine, request, strlen(request), &options, &message, &err) != WARDEN_OK)
        fz_fail("policy: the request was not delivered: %s %s", err.reason, err.text);
    status = warden_engine_decide(engine, message, &decision, &err);
    if (status == WARDEN_OK) {
        const char *reason = warden_decision_reason(decision);
        if (reason == NULL || warden_decision_stage(decision) == NULL || warden_decision_revision(decision) == NULL)
            fz_fail("policy: a decision with a NULL field");
        if (warden_decision_allowed(decision) != (strcmp(reason, "permitted") == 0))
            fz_fail("policy: allowed=%d with reason %s", warden_decision_allowed(decision), reason);
        for (size_t i = 0; i < warden_decision_rule_count(decision); i++)
            if (warden_decision_rule(decision, i) == NULL)
                fz_fail("policy: rule %zu is NULL", i);
        for (size_t i = 0; i < warden_decision_error_count(decision); i++)
            if (warden_decision_error(decision, i) == NULL)
                fz_fail("policy: error %zu is NULL", i);
    } else if (status != WARDEN_E_NOMEM) {
        fz_fail("policy: decide status %d (%s)", status, err.text);
    }
    warden_decision_free(decision);
    warden_message_free(message);
    warden_engine_free(engine);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (folder[0] == '\0')
        setup();
    write_part(policy_path, data, size, 0);
    write_part(data_path, data, size, 1);
    write_part(test_path, data, size, 2);

    warden_config *config = NULL;
    warden_error err = { 0 };
    if (warden_config_new(&config) != WARDEN_OK
        || warden_config_set(config, "users", users_path, &err) != WARDEN_OK
        || warden_config_set(config, "replay.backend", "none", &err) != WARDEN_OK
        || warden_config_set(config, "reload.watch", "false", &err) != WARDEN_OK
        || warden_config_set(config, "policies", folder, &err) != WARDEN_OK
        || warden_config_set_logger(config, quiet, NULL) != WARDEN_OK)
        fz_fail("policy: config: %s", err.text);

    size_t problems = 0, reports = 0;
    int status = warden_policy_check(config, folder, count_report, &reports, &problems, &err);
    if (status != WARDEN_OK && status != WARDEN_E_NOMEM)
        fz_fail("policy: check status %d (%s)", status, err.text);
    if (status == WARDEN_OK && problems == 0)
        decide(config);
    warden_config_free(config);
    return 0;
}
