/*
** verify.c — `warden verify`: security processing only. Each MESSAGE goes through one
** engine, in order, so replay detection applies across them; each prints its delivered
** properties or its rejection.
*/
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "input.h"
#include "options.h"
#include "report.h"

static const char verify_help[] =
    "Usage: warden verify [OPTIONS] MESSAGE...\n"
    "\n"
    "Runs WS-Security processing on each SOAP MESSAGE (a file, or - for standard input)\n"
    "and prints the delivered message's properties, or why it was rejected.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   read a configuration file (a Lua table)\n"
    "      --trust PEM     add a CA bundle to the trust anchors (repeatable)\n"
    "      --certs PEM     add known sender certificates (repeatable)\n"
    "      --crl CRL       add a CRL file (PEM or DER; repeatable): then every CA in a\n"
    "                      chain needs a current CRL, and revoked signers are rejected\n"
    "      --users FILE    name:password lines for UsernameToken\n"
    "      --decrypt-key PEM   our private key (RSA) for encrypted messages (decrypt.key)\n"
    "      --decrypt-cert PEM  our certificate, which EncryptedKeys must name (decrypt.cert)\n"
    "      --saml-issuer PEM  trust a SAML issuer certificate or CA bundle (repeatable)\n"
    "      --audience URIS    the audiences a SAML assertion must name (comma-separated)\n"
    "      --policies DIR  policy directory (used by decide, check, test)\n"
    "      --now TIME      evaluate as if the clock read TIME (e.g. 2026-11-25T12:00:30Z)\n"
    "      --allow-sha1    accept SHA-1 digests and signatures\n"
    "      --json          print one JSON object per message, one per line\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 all delivered, 1 any rejected, 2 usage or input error.\n";

int cli_verify(int argc, char **argv)
{
    cli_options options;
    warden_engine *engine = NULL;
    warden_error err;
    int exit_code = cli_start_message_command(argc, argv, "verify", verify_help, &options, &engine);
    if (exit_code != CLI_READY)
        return exit_code;

    exit_code = 0;
    for (size_t i = 0; i < options.argument_count; i++) {
        const char *name = options.arguments[i];
        char problem[512];
        size_t length = 0;
        unsigned char *bytes = cli_read_input(name, &length, problem, sizeof problem);
        json_t *report;
        if (bytes == NULL) {
            fprintf(stderr, "warden verify: %s\n", problem);
            report = cli_report_rejected("unreadable", problem);
            exit_code = 2;
        } else {
            warden_receive_options receive = { .size = sizeof receive, .now = options.now };
            warden_message *message = NULL;
            if (warden_engine_receive(engine, bytes, length, &receive, &message, &err) == WARDEN_OK) {
                report = cli_report_delivered(message);
            } else {
                report = cli_report_rejected(err.reason[0] ? err.reason : "internal-error", err.text);
                if (exit_code == 0)
                    exit_code = 1;
            }
            warden_message_free(message);
            free(bytes);
        }
        if (report == NULL) {
            fprintf(stderr, "warden verify: out of memory\n");
            exit_code = 2;
            break;
        }
        if (options.json)
            cli_report_print_json(stdout, report);
        else
            cli_report_print_text(stdout, name, report);
        json_decref(report);
    }

    warden_engine_free(engine);
    cli_options_clear(&options);
    return exit_code;
}
