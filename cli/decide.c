/*
** decide.c — `warden decide`: security processing and the policy decision for each
** MESSAGE, in order, with one engine. A rejected message is a deny at stage "security".
*/
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "input.h"
#include "options.h"
#include "report.h"

static const char decide_help[] =
    "Usage: warden decide [OPTIONS] MESSAGE...\n"
    "\n"
    "Runs WS-Security processing and then the policy set on each SOAP MESSAGE (a file, or -\n"
    "for standard input) and prints allow or deny, the reason, and the deciding rules.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   read a configuration file (a Lua table)\n"
    "      --trust PEM     add a CA bundle to the trust anchors (repeatable)\n"
    "      --certs PEM     add known sender certificates (repeatable)\n"
    "      --crl CRL       add a CRL file (PEM or DER; repeatable)\n"
    "      --users FILE    name:password lines for UsernameToken\n"
    "      --decrypt-key PEM   our private key (RSA) for encrypted messages (decrypt.key)\n"
    "      --decrypt-cert PEM  our certificate, which EncryptedKeys must name (decrypt.cert)\n"
    "      --saml-issuer PEM  trust a SAML issuer certificate or CA bundle (repeatable)\n"
    "      --audience URIS    the audiences a SAML assertion must name (comma-separated)\n"
    "      --policies DIR  the policy directory (or the config key policies); required\n"
    "      --now TIME      evaluate as if the clock read TIME (e.g. 2026-11-25T12:00:30Z)\n"
    "      --allow-sha1    accept SHA-1 digests and signatures\n"
    "      --explain       for every rule: file:line, whether its targets matched, what its\n"
    "                      when returned or raised, instructions used, its log() lines\n"
    "      --json          print one JSON object per message, one per line (with --explain,\n"
    "                      the explanation under \"explain\")\n"
    "  -h, --help          show this help\n"
    "\n"
    "The policy tests are not run: a policy set whose tests fail can still be investigated\n"
    "here ('warden test' runs them).\n"
    "\n"
    "Exit status: 0 all allowed, 1 any denied, 2 usage or input error (including a policy\n"
    "set that does not load).\n";

static json_t *string_list(size_t count, const char *(*item)(const warden_decision *, size_t),
                           const warden_decision *decision)
{
    json_t *array = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(array, json_string(item(decision, i)));
    return array;
}

static json_t *policy_report(const warden_decision *decision, bool explain)
{
    json_t *report = json_object();
    json_object_set_new(report, "decision", json_string(warden_decision_allowed(decision) ? "allow" : "deny"));
    json_object_set_new(report, "stage", json_string(warden_decision_stage(decision)));
    json_object_set_new(report, "reason", json_string(warden_decision_reason(decision)));
    json_object_set_new(report, "rules", string_list(warden_decision_rule_count(decision), warden_decision_rule, decision));
    json_object_set_new(report, "errors", string_list(warden_decision_error_count(decision), warden_decision_error, decision));
    json_object_set_new(report, "revision", json_string(warden_decision_revision(decision)));
    if (explain) {
        const char *text = warden_decision_explanation(decision);
        json_t *explanation = text != NULL ? json_loads(text, 0, NULL) : NULL;
        json_object_set_new(report, "explain", explanation != NULL ? explanation : json_array());
    }
    return report;
}

static json_t *security_report(const char *reason, const char *detail, const char *revision, bool explain)
{
    json_t *report = json_object();
    json_object_set_new(report, "decision", json_string("deny"));
    json_object_set_new(report, "stage", json_string("security"));
    json_object_set_new(report, "reason", json_string(reason));
    if (detail != NULL && detail[0] != '\0')
        json_object_set_new(report, "detail", json_string(detail));
    json_object_set_new(report, "rules", json_array());
    json_object_set_new(report, "errors", json_array());
    json_object_set_new(report, "revision", json_string(revision));
    if (explain)
        json_object_set_new(report, "explain", json_array()); /* no rule ran */
    return report;
}

static const char *field(const json_t *object, const char *key)
{
    const char *text = json_string_value(json_object_get(object, key));
    return text != NULL ? text : "";
}

/* One paragraph per rule: what it is and where, then what happened to it. */
static void print_explanation(const json_t *report)
{
    const json_t *explanation = json_object_get(report, "explain");
    if (explanation == NULL)
        return;
    if (strcmp(field(report, "stage"), "security") == 0) {
        printf("  explain   no rule ran: the message was rejected before the policies\n");
        return;
    }
    printf("  explain\n");
    for (size_t i = 0; i < json_array_size(explanation); i++) {
        const json_t *rule = json_array_get(explanation, i);
        printf("    %s \"%s\" (%s:%lld)\n", field(rule, "effect"), field(rule, "rule"), field(rule, "file"),
               (long long)json_integer_value(json_object_get(rule, "line")));
        if (!json_is_true(json_object_get(rule, "targets"))) {
            printf("      targets   do not match\n");
            continue;
        }
        const char *when = field(rule, "when");
        printf("      targets   match\n");
        if (strcmp(when, "returned") == 0)
            printf("      when      returned %s (%lld instructions)\n", field(rule, "value"),
                   (long long)json_integer_value(json_object_get(rule, "instructions")));
        else if (strcmp(when, "raised") == 0)
            printf("      when      raised: %s (%lld instructions)\n", field(rule, "error"),
                   (long long)json_integer_value(json_object_get(rule, "instructions")));
        else if (strcmp(when, "absent") == 0)
            printf("      when      none (the targets decide)\n");
        else
            printf("      when      not run (a limit ended the decision first)\n");
        const json_t *log = json_object_get(rule, "log");
        for (size_t k = 0; k < json_array_size(log); k++)
            printf("      log       %s\n", json_string_value(json_array_get(log, k)));
        printf("      applied   %s\n", json_is_true(json_object_get(rule, "applied")) ? "yes" : "no");
    }
}

/* A label and a text that may quote the message or a policy (escaped: report.h). */
static void print_line(const char *label, const char *text)
{
    fputs(label, stdout);
    cli_print_safe(stdout, text != NULL ? text : "");
    fputc('\n', stdout);
}

static void print_text(const char *name, const json_t *report)
{
    const char *decision = json_string_value(json_object_get(report, "decision"));
    printf("%s: %s (%s: %s)\n", name, decision, json_string_value(json_object_get(report, "stage")),
           json_string_value(json_object_get(report, "reason")));
    const json_t *detail = json_object_get(report, "detail");
    if (detail != NULL)
        print_line("  detail    ", json_string_value(detail));
    const json_t *rules = json_object_get(report, "rules");
    for (size_t i = 0; i < json_array_size(rules); i++)
        print_line("  rule      ", json_string_value(json_array_get(rules, i)));
    const json_t *errors = json_object_get(report, "errors");
    for (size_t i = 0; i < json_array_size(errors); i++)
        print_line("  error     ", json_string_value(json_array_get(errors, i)));
    printf("  revision  %s\n", json_string_value(json_object_get(report, "revision")));
    print_explanation(report);
}

int cli_decide(int argc, char **argv)
{
    cli_options options;
    warden_engine *engine = NULL;
    warden_error err;
    warden_status status = { .size = sizeof(warden_status) };
    int exit_code = cli_start_message_command(argc, argv, "decide", decide_help, &options, &engine);
    if (exit_code != CLI_READY)
        return exit_code;
    exit_code = 2;
    warden_engine_status(engine, &status);
    if (status.revision[0] == '\0') {
        fprintf(stderr, "warden decide: no policy directory (give --policies DIR or the config key policies)\n");
        goto done;
    }

    exit_code = 0;
    for (size_t i = 0; i < options.argument_count; i++) {
        const char *name = options.arguments[i];
        char problem[512];
        size_t length = 0;
        json_t *report = NULL;
        unsigned char *bytes = cli_read_input(name, &length, problem, sizeof problem);
        if (bytes == NULL) {
            fprintf(stderr, "warden decide: %s\n", problem);
            exit_code = 2;
            continue;
        }
        warden_receive_options receive = { .size = sizeof receive, .now = options.now };
        warden_message *message = NULL;
        warden_decision *decision = NULL;
        if (warden_engine_receive(engine, bytes, length, &receive, &message, &err) != WARDEN_OK) {
            report = security_report(err.reason[0] ? err.reason : "internal-error", err.text, status.revision,
                                     options.explain);
        } else if ((options.explain ? warden_engine_explain(engine, message, &decision, &err)
                                    : warden_engine_decide(engine, message, &decision, &err)) == WARDEN_OK) {
            report = policy_report(decision, options.explain);
        } else {
            fprintf(stderr, "warden decide: %s\n", err.text);
            exit_code = 2;
            goto next;
        }
        /* A report that could not be built (out of memory) is an error, never a silent pass. */
        const char *verdict = report != NULL ? json_string_value(json_object_get(report, "decision")) : NULL;
        if (verdict == NULL) {
            fprintf(stderr, "warden decide: %s: out of memory building the report\n", name);
            exit_code = 2;
            goto next;
        }
        if (strcmp(verdict, "allow") != 0 && exit_code == 0)
            exit_code = 1;
        if (options.json)
            cli_report_print_json(stdout, report);
        else
            print_text(name, report);
    next:
        json_decref(report);
        warden_decision_free(decision);
        warden_message_free(message);
        free(bytes);
    }

done:
    warden_engine_free(engine);
    cli_options_clear(&options);
    return exit_code;
}
