/*
** policy_commands.c — `warden check POLICY_DIR` (compile and lint; prints file:line:
** message per finding) and `warden test POLICY_DIR` (runs the *_test.lua tests; one line per
** failure, then "N passed, N failed").
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "options.h"
#include "report.h"

static const char check_help[] =
    "Usage: warden check [OPTIONS] POLICY_DIR\n"
    "\n"
    "Compiles and lints a policy directory, reporting every problem in one run: syntax,\n"
    "globals the sandbox does not offer (io, print, ...), unknown rule keys, wrong types,\n"
    "duplicate rule names, data documents that do not parse; reads of fields the message view\n"
    "does not have (m.usename, m.cert.subject.ou) and of data documents that do not exist;\n"
    "operation targets not spelled {namespace}Name; test rules and reasons that do not exist.\n"
    "Warnings (not problems): m:body(...) or data strings compared with numbers or ordered\n"
    "against text; action targets when require.signed does not list Action. Prints\n"
    "FILE:LINE: message per finding, FILE as given on the command line. Runs no policy tests.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   the configuration (require.signed decides the action warning)\n"
    "  --json              one JSON object per finding: file, line, severity, message\n"
    "\n"
    "Exit status: 0 clean, 1 problems found, 2 usage or input error.\n";

static const char test_help[] =
    "Usage: warden test [OPTIONS] POLICY_DIR\n"
    "\n"
    "Runs the policy tests (*_test.lua) of a directory. Envelope tests are verified with the\n"
    "options' trust, certificates, users and clock settings (see 'warden verify --help').\n"
    "Prints one line per failed test, then 'N passed, N failed'. With --json, one object per test.\n"
    "\n"
    "Exit status: 0 all passed, 1 any failed, 2 usage or input error.\n";

typedef struct check_printer {
    const char *directory; /* as given on the command line */
    int         json;
    size_t      warnings;
} check_printer;

/* One finding: "FILE:LINE: message" with FILE as the command line names it (the directory
** given, then the file's path inside it), or one JSON object per line with --json. */
static void print_finding(void *context, const char *file, int line, int ok, const char *text)
{
    check_printer *printer = context;
    const char *directory = printer->directory;
    size_t length = strlen(directory);
    const char *separator = length > 0 && directory[length - 1] == '/' ? "" : "/";
    int warning = strncmp(text, "warning: ", 9) == 0;
    char *path = NULL;
    (void)ok;
    if (warning)
        printer->warnings++;
    if (file != NULL) {
        size_t size = length + strlen(separator) + strlen(file) + 1;
        path = malloc(size);
        if (path != NULL)
            snprintf(path, size, "%s%s%s", directory, separator, file);
    }
    const char *shown = path != NULL ? path : file != NULL ? file : directory;
    if (printer->json) {
        json_t *object = json_object();
        json_object_set_new(object, "file", json_string(shown));
        json_object_set_new(object, "line", json_integer(line));
        json_object_set_new(object, "severity", json_string(warning ? "warning" : "error"));
        json_object_set_new(object, "message", json_string(warning ? text + 9 : text));
        cli_report_print_json(stdout, object);
        json_decref(object);
    } else if (line > 0) {
        printf("%s:%d: %s\n", shown, line, text);
    } else {
        printf("%s: %s\n", shown, text);
    }
    free(path);
}

typedef struct test_printer {
    int json;
} test_printer;

static void print_test(void *context, const char *file, int line, int ok, const char *text)
{
    test_printer *printer = context;
    if (printer->json) {
        json_t *line_object = json_object();
        json_object_set_new(line_object, "file", json_string(file));
        json_object_set_new(line_object, "line", json_integer(line));
        json_object_set_new(line_object, "passed", json_boolean(ok));
        json_object_set_new(line_object, "text", json_string(text));
        cli_report_print_json(stdout, line_object);
        json_decref(line_object);
    } else if (!ok) {
        printf("FAIL %s:%d: %s\n", file, line, text);
    }
}

static int directory_command(int argc, char **argv, const char *command, const char *help, int testing)
{
    cli_options options;
    warden_error err;
    int exit_code = 2;

    if (cli_options_parse(argc, argv, 0, command, &options) != 0)
        return 2;
    if (options.help) {
        fputs(help, stdout);
        cli_options_clear(&options);
        return 0;
    }
    if (options.argument_count != 1) {
        fprintf(stderr, "warden %s: give exactly one POLICY_DIR\nTry 'warden %s --help'.\n", command, command);
        goto done;
    }
    const char *directory = options.arguments[0];
    if (testing) {
        size_t passed = 0, failed = 0;
        test_printer printer = { options.json };
        if (warden_policy_test(options.config, directory, print_test, &printer, &passed, &failed, &err) != WARDEN_OK) {
            fprintf(stderr, "warden test: %s\n", err.text);
            printf("0 passed, 1 failed\n");
            exit_code = err.code == WARDEN_E_POLICY ? 1 : 2;
            goto done;
        }
        printf("%zu passed, %zu failed\n", passed, failed);
        exit_code = failed > 0 ? 1 : 0;
    } else {
        size_t problems = 0;
        check_printer printer = { directory, options.json, 0 };
        if (warden_policy_check(options.config, directory, print_finding, &printer, &problems, &err) != WARDEN_OK) {
            fprintf(stderr, "warden check: %s\n", err.text);
            goto done;
        }
        if (options.json)
            ; /* every line is one finding */
        else if (problems == 0 && printer.warnings == 0)
            printf("%s: no problems found\n", directory);
        else if (problems == 0)
            printf("%s: no problems found, %zu warning%s\n", directory, printer.warnings,
                   printer.warnings == 1 ? "" : "s");
        else if (printer.warnings == 0)
            printf("%zu problem%s found\n", problems, problems == 1 ? "" : "s");
        else
            printf("%zu problem%s found, %zu warning%s\n", problems, problems == 1 ? "" : "s", printer.warnings,
                   printer.warnings == 1 ? "" : "s");
        exit_code = problems > 0 ? 1 : 0;
    }
done:
    cli_options_clear(&options);
    return exit_code;
}

int cli_check(int argc, char **argv)
{
    return directory_command(argc, argv, "check", check_help, 0);
}

int cli_test(int argc, char **argv)
{
    return directory_command(argc, argv, "test", test_help, 1);
}
