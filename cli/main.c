/*
** main.c — the `warden` command: dispatch to a subcommand, --version and --help.
** Built on the public API (warden.h) only.
*/
#include <stdio.h>
#include <string.h>

#include <warden.h>

#include "commands.h"

static const char main_help[] =
    "Usage: warden COMMAND [OPTIONS] ...\n"
    "\n"
    "Warden runs WS-Security processing on SOAP messages and delivers only those that pass.\n"
    "\n"
    "Commands:\n"
    "  verify MESSAGE...   security processing only; print each delivered message's properties\n"
    "  decide MESSAGE...   security processing + policy decision\n"
    "  check POLICY_DIR    compile and lint a policy directory\n"
    "  test POLICY_DIR     run the policy tests in a policy directory\n"
    "  serve -c FILE       HTTP(S) decision service, Envoy ext_authz service or gateway\n"
    "\n"
    "Options:\n"
    "  --version           print the version\n"
    "  --help              show this help; 'warden COMMAND --help' for a command's options\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_help, stderr);
        return 2;
    }
    const char *command = argv[1];
    if (strcmp(command, "--version") == 0 || strcmp(command, "-V") == 0) {
        printf("warden %s\n", warden_version());
        return 0;
    }
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0 || strcmp(command, "help") == 0) {
        fputs(main_help, stdout);
        return 0;
    }
    if (strcmp(command, "verify") == 0)
        return cli_verify(argc - 2, argv + 2);
    if (strcmp(command, "decide") == 0)
        return cli_decide(argc - 2, argv + 2);
    if (strcmp(command, "check") == 0)
        return cli_check(argc - 2, argv + 2);
    if (strcmp(command, "test") == 0)
        return cli_test(argc - 2, argv + 2);
    if (strcmp(command, "serve") == 0)
        return cli_serve(argc - 2, argv + 2);
    fprintf(stderr, "warden: unknown command '%s'\nTry 'warden --help'.\n", command);
    return 2;
}
