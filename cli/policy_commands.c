/*
** policy_commands.c — `warden check POLICY_DIR` (compile and lint; prints file:line:
** message per finding) and `warden test POLICY_DIR` (runs the *_test.lua tests: text, one
** JSON object per line, or one JUnit XML document; optionally every test, a name filter and
** coverage). Built on the public API only.
*/
#include <stdbool.h>
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
    "      --json          one JSON object per finding: file, line, severity, message\n"
    "      --policies DIR  the policy directory, when POLICY_DIR is not given\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 clean, 1 problems found, 2 usage or input error.\n";

static const char test_help[] =
    "Usage: warden test [OPTIONS] POLICY_DIR\n"
    "\n"
    "Runs the policy tests (*_test.lua) of a directory. Envelope tests are verified with the\n"
    "options' trust, certificates, users and clock settings. Without -c, the folder's own\n"
    "POLICY_DIR/fixtures/test-config.lua (a config file; paths relative to it) is read when\n"
    "it exists. Prints one line per failed test (with the log() lines of its decision), then\n"
    "'N passed, N failed'.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   read a configuration file (a Lua table)\n"
    "      --trust PEM     add a CA bundle to the trust anchors (repeatable)\n"
    "      --certs PEM     add known sender certificates (repeatable)\n"
    "      --crl CRL       add a CRL file (PEM or DER; repeatable)\n"
    "      --users FILE    name:password lines for UsernameToken\n"
    "      --saml-issuer PEM  trust a SAML issuer certificate or CA bundle (repeatable)\n"
    "      --audience URIS    the audiences a SAML assertion must name (comma-separated)\n"
    "      --policies DIR  the policy directory, when POLICY_DIR is not given\n"
    "      --allow-sha1    accept SHA-1 digests and signatures\n"
    "  -v, --verbose       print every test, not only the failures\n"
    "      --run PATTERN   run only the tests whose name matches PATTERN (a Lua pattern)\n"
    "      --format FMT    text (default), json (one object per test, then\n"
    "                      {\"passed\": N, \"failed\": N}), or junit (one JUnit XML document)\n"
    "      --json          the same as --format json\n"
    "      --coverage      per rule: tests where it applied, did not apply, never reached;\n"
    "                      per policy file: the lines that ran\n"
    "  -h, --help          show this help\n"
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

typedef enum format { FORMAT_TEXT, FORMAT_JSON, FORMAT_JUNIT } format;

typedef struct test_printer {
    format  format;
    bool    verbose;
    json_t *results;   /* junit: the results, printed at the end */
    json_t *coverage;  /* --coverage: the library's report */
} test_printer;

static json_t *string_array(const char *const *items, size_t count)
{
    json_t *array = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(array, json_string(items[i]));
    return array;
}

static void print_test(void *context, const warden_test_result *result)
{
    test_printer *printer = context;
    if (printer->format == FORMAT_TEXT) {
        if (result->passed && printer->verbose)
            printf("PASS %s:%d: test '%s': %s\n", result->file, result->line, result->name, result->text);
        if (!result->passed) {
            printf("FAIL %s:%d: test '%s': %s\n", result->file, result->line, result->name, result->text);
            for (size_t i = 0; i < result->log_count; i++)
                printf("  log  %s\n", result->log[i]);
        }
        return;
    }
    json_t *object = json_object();
    json_object_set_new(object, "name", json_string(result->name));
    json_object_set_new(object, "file", json_string(result->file));
    json_object_set_new(object, "line", json_integer(result->line));
    json_object_set_new(object, "passed", json_boolean(result->passed));
    json_object_set_new(object, "text", json_string(result->text));
    if (result->erring_rule != NULL)
        json_object_set_new(object, "rule", json_string(result->erring_rule));
    json_object_set_new(object, "log", string_array(result->log, result->log_count));
    if (printer->format == FORMAT_JSON) {
        cli_report_print_json(stdout, object);
        json_decref(object);
    } else {
        json_array_append_new(printer->results, object);
    }
}

static void keep_coverage(void *context, const char *json)
{
    test_printer *printer = context;
    printer->coverage = json_loads(json, 0, NULL);
}

static void print_coverage_text(FILE *out, const json_t *coverage)
{
    fprintf(out, "coverage\n");
    const json_t *rules = json_object_get(coverage, "rules");
    for (size_t i = 0; i < json_array_size(rules); i++) {
        const json_t *rule = json_array_get(rules, i);
        fprintf(out, "  %s \"%s\" (%s:%lld): ", json_string_value(json_object_get(rule, "effect")),
                json_string_value(json_object_get(rule, "rule")), json_string_value(json_object_get(rule, "file")),
                (long long)json_integer_value(json_object_get(rule, "line")));
        if (json_is_true(json_object_get(rule, "reached")))
            fprintf(out, "applied %lld, not applied %lld\n",
                    (long long)json_integer_value(json_object_get(rule, "applied")),
                    (long long)json_integer_value(json_object_get(rule, "not_applied")));
        else
            fprintf(out, "never reached\n");
    }
    const json_t *files = json_object_get(coverage, "files");
    for (size_t i = 0; i < json_array_size(files); i++) {
        const json_t *file = json_array_get(files, i);
        fprintf(out, "  file %s: %lld lines run\n", json_string_value(json_object_get(file, "file")),
                (long long)json_integer_value(json_object_get(file, "lines_run")));
    }
}

/* XML text: the five markup characters escaped; control characters other than tab and
** newline (not allowed in XML 1.0) become '?'. */
static void print_xml(FILE *out, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        switch (*p) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        default:
            fputc(*p < 0x20 && *p != '\t' && *p != '\n' ? '?' : *p, out);
        }
    }
}

static void print_junit(const json_t *results, size_t passed, size_t failed, const char *error)
{
    /* A set that does not load is counted as one failed run (failed = 1) and shown as one
    ** <error> test case, not as a <failure>: JUnit readers add errors and failures up. */
    size_t errors = error != NULL ? 1 : 0;
    size_t failures = failed >= errors ? failed - errors : 0;
    printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    printf("<testsuites tests=\"%zu\" failures=\"%zu\" errors=\"%zu\">\n", passed + failed, failures, errors);
    printf("  <testsuite name=\"warden policy tests\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\">\n",
           passed + failed, failures, errors);
    if (error != NULL) {
        printf("    <testcase name=\"policy set\" classname=\"warden\">\n      <error message=\"");
        print_xml(stdout, error);
        printf("\"/>\n    </testcase>\n");
    }
    for (size_t i = 0; i < json_array_size(results); i++) {
        const json_t *result = json_array_get(results, i);
        const char *file = json_string_value(json_object_get(result, "file"));
        printf("    <testcase name=\"");
        print_xml(stdout, json_string_value(json_object_get(result, "name")));
        printf("\" classname=\"");
        print_xml(stdout, file);
        printf("\" file=\"");
        print_xml(stdout, file);
        printf("\" line=\"%lld\"", (long long)json_integer_value(json_object_get(result, "line")));
        const json_t *log = json_object_get(result, "log");
        if (json_is_true(json_object_get(result, "passed")) && json_array_size(log) == 0) {
            printf("/>\n");
            continue;
        }
        printf(">\n");
        if (!json_is_true(json_object_get(result, "passed"))) {
            printf("      <failure message=\"");
            print_xml(stdout, json_string_value(json_object_get(result, "text")));
            printf("\"/>\n");
        }
        if (json_array_size(log) > 0) {
            printf("      <system-out>");
            for (size_t k = 0; k < json_array_size(log); k++) {
                print_xml(stdout, json_string_value(json_array_get(log, k)));
                printf("\n");
            }
            printf("</system-out>\n");
        }
        printf("    </testcase>\n");
    }
    printf("  </testsuite>\n</testsuites>\n");
}

static void print_summary(const test_printer *printer, size_t passed, size_t failed, const char *error)
{
    if (printer->coverage != NULL) {
        if (printer->format == FORMAT_JSON) {
            json_t *line = json_object();
            json_object_set(line, "coverage", printer->coverage);
            cli_report_print_json(stdout, line);
            json_decref(line);
        } else {
            print_coverage_text(printer->format == FORMAT_TEXT ? stdout : stderr, printer->coverage);
        }
    }
    if (printer->format == FORMAT_JSON) {
        json_t *line = json_object();
        json_object_set_new(line, "passed", json_integer((json_int_t)passed));
        json_object_set_new(line, "failed", json_integer((json_int_t)failed));
        if (error != NULL)
            json_object_set_new(line, "error", json_string(error));
        cli_report_print_json(stdout, line);
        json_decref(line);
    } else if (printer->format == FORMAT_JUNIT) {
        print_junit(printer->results, passed, failed, error);
    } else {
        printf("%zu passed, %zu failed\n", passed, failed);
    }
}

static int run_tests(cli_options *options, const char *directory)
{
    test_printer printer = { .format = FORMAT_TEXT, .verbose = options->verbose };
    if (options->json || (options->format != NULL && strcmp(options->format, "json") == 0))
        printer.format = FORMAT_JSON;
    else if (options->format != NULL && strcmp(options->format, "junit") == 0)
        printer.format = FORMAT_JUNIT;
    printer.results = json_array();
    warden_test_options test_options = { .size = sizeof test_options, .run = options->run,
                                         .coverage = options->coverage, .coverage_fn = keep_coverage };
    size_t passed = 0, failed = 0;
    warden_error err;
    int exit_code;
    int status = warden_policy_run_tests(options->config, directory, &test_options, print_test, &printer, &passed,
                                         &failed, &err);
    if (status == WARDEN_OK) {
        print_summary(&printer, passed, failed, NULL);
        exit_code = failed > 0 ? 1 : 0;
    } else if (status == WARDEN_E_POLICY) {
        /* the set does not compile: a failure of the run, reported in the run's format */
        fprintf(stderr, "warden test: %s\n", err.text);
        print_summary(&printer, 0, 1, err.text);
        exit_code = 1;
    } else {
        fprintf(stderr, "warden test: %s\n", err.text);
        exit_code = 2;
    }
    json_decref(printer.results);
    json_decref(printer.coverage);
    return exit_code;
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
    if (options.argument_count > 1 || (options.argument_count == 0 && options.policies == NULL)) {
        fprintf(stderr, "warden %s: give exactly one POLICY_DIR (or --policies DIR)\nTry 'warden %s --help'.\n",
                command, command);
        goto done;
    }
    const char *directory = options.argument_count == 1 ? options.arguments[0] : options.policies;
    if (testing) {
        exit_code = run_tests(&options, directory);
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
