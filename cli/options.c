/*
** options.c — parsing the shared options of the `warden` commands. The config file is read
** first; the flags then override it wherever they appear on the line, and repeatable flags
** (--trust, --certs, --crl) add to the file's lists.
*/
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct flag_setting {
    const char *key;
    const char *value;
} flag_setting;

static int usage_error(const char *command, const char *format, const char *detail)
{
    fprintf(stderr, "warden %s: ", command);
    fprintf(stderr, format, detail);
    fprintf(stderr, "\nTry 'warden %s --help'.\n", command);
    return 2;
}

int cli_options_parse(int argc, char **argv, int first, const char *command, cli_options *options)
{
    const char *config_path = NULL;
    /* One setting per flag at most, so argc entries always suffice: no flag, however often
    ** repeated, can write past the end (a fixed array once could). */
    flag_setting *settings = NULL;
    size_t setting_count = 0;
    warden_error err;
    int status = 2;

    memset(options, 0, sizeof *options);
    options->arguments = calloc((size_t)argc + 1, sizeof(char *));
    settings = calloc((size_t)argc + 1, sizeof *settings);
    if (options->arguments == NULL || settings == NULL) {
        free(settings);
        cli_options_clear(options);
        return usage_error(command, "%s", "out of memory");
    }

    bool only_arguments = false;
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (only_arguments || arg[0] != '-' || strcmp(arg, "-") == 0) {
            options->arguments[options->argument_count++] = argv[i];
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_arguments = true;
        } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            options->help = true;
        } else if (strcmp(arg, "--json") == 0) {
            options->json = true;
        } else if (strcmp(arg, "--explain") == 0 && strcmp(command, "decide") == 0) {
            options->explain = true;
        } else if ((strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) && strcmp(command, "test") == 0) {
            options->verbose = true;
        } else if (strcmp(arg, "--coverage") == 0 && strcmp(command, "test") == 0) {
            options->coverage = true;
        } else if ((strcmp(arg, "--run") == 0 || strcmp(arg, "--format") == 0) && strcmp(command, "test") == 0) {
            if (next == NULL) {
                usage_error(command, "option %s needs a value", arg);
                goto failed;
            }
            i++;
            if (strcmp(arg, "--run") == 0) {
                options->run = next;
            } else if (strcmp(next, "text") == 0 || strcmp(next, "json") == 0 || strcmp(next, "junit") == 0) {
                options->format = next;
            } else {
                usage_error(command, "--format: '%s' is not one of text, json, junit", next);
                goto failed;
            }
        } else if (strcmp(arg, "--allow-sha1") == 0) {
            settings[setting_count++] = (flag_setting){ "algorithms.allow_sha1", "true" };
        } else if (strcmp(arg, "-c") == 0 || strcmp(arg, "--config") == 0 || strcmp(arg, "--trust") == 0
                   || strcmp(arg, "--certs") == 0 || strcmp(arg, "--crl") == 0 || strcmp(arg, "--users") == 0
                   || strcmp(arg, "--policies") == 0 || strcmp(arg, "--now") == 0
                   || strcmp(arg, "--saml-issuer") == 0 || strcmp(arg, "--audience") == 0
                   || strcmp(arg, "--decrypt-key") == 0 || strcmp(arg, "--decrypt-cert") == 0) {
            if (next == NULL) {
                usage_error(command, "option %s needs a value", arg);
                goto failed;
            }
            i++;
            if (strcmp(arg, "-c") == 0 || strcmp(arg, "--config") == 0) {
                config_path = next;
                options->config_given = true;
            } else if (strcmp(arg, "--now") == 0) {
                if (warden_time_parse(next, strlen(next), &options->now) != WARDEN_OK) {
                    usage_error(command, "--now: '%s' is not an ISO-8601 time such as 2026-11-25T12:00:30Z",
                                next);
                    goto failed;
                }
            } else {
                /* "--trust" -> "trust"; flags named unlike their keys: "--crl" -> "crls",
                ** "--saml-issuer" -> "saml.issuers" (appends), "--audience" -> "saml.audiences"
                ** (a comma-separated list that replaces the file's), "--decrypt-key" ->
                ** "decrypt.key", "--decrypt-cert" -> "decrypt.cert" */
                const char *key = strcmp(arg, "--crl") == 0            ? "crls"
                                  : strcmp(arg, "--saml-issuer") == 0  ? "saml.issuers"
                                  : strcmp(arg, "--audience") == 0     ? "saml.audiences"
                                  : strcmp(arg, "--decrypt-key") == 0  ? "decrypt.key"
                                  : strcmp(arg, "--decrypt-cert") == 0 ? "decrypt.cert"
                                                                       : arg + 2;
                if (strcmp(arg, "--policies") == 0)
                    options->policies = next;
                settings[setting_count++] = (flag_setting){ key, next };
            }
        } else {
            usage_error(command, "unknown option '%s'", arg);
            goto failed;
        }
    }
    if (options->help) {
        free(settings);
        return 0;
    }

    if (warden_config_new(&options->config) != WARDEN_OK) {
        fprintf(stderr, "warden %s: out of memory\n", command);
        goto failed;
    }
    /* `warden test DIR` without -c: the folder's own test settings, when it has them */
    char own_config[4096];
    if (config_path == NULL && strcmp(command, "test") == 0) {
        const char *directory = options->argument_count > 0 ? options->arguments[0] : options->policies;
        if (directory != NULL) {
            snprintf(own_config, sizeof own_config, "%s/fixtures/test-config.lua", directory);
            if (access(own_config, F_OK) == 0) {
                config_path = own_config;
                options->config_given = true;
            }
        }
    }
    if (config_path != NULL && warden_config_load(options->config, config_path, &err) != WARDEN_OK) {
        /* errors of the file's code name it already ("path:line: ..."), errors of keys do not */
        size_t named = strlen(config_path);
        if (strncmp(err.text, config_path, named) == 0 && err.text[named] == ':')
            fprintf(stderr, "warden %s: %s\n", command, err.text);
        else
            fprintf(stderr, "warden %s: %s: %s\n", command, config_path, err.text);
        goto failed;
    }
    for (size_t i = 0; i < setting_count; i++) {
        if (warden_config_set(options->config, settings[i].key, settings[i].value, &err) != WARDEN_OK) {
            fprintf(stderr, "warden %s: %s\n", command, err.text);
            goto failed;
        }
    }
    free(settings);
    return 0;

failed:
    free(settings);
    cli_options_clear(options);
    return status;
}

void cli_options_clear(cli_options *options)
{
    warden_config_free(options->config);
    options->config = NULL;
    free(options->arguments);
    options->arguments = NULL;
    options->argument_count = 0;
}

int cli_start_message_command(int argc, char **argv, const char *command, const char *help,
                              cli_options *options, warden_engine **engine)
{
    warden_error err;

    *engine = NULL;
    if (cli_options_parse(argc, argv, 0, command, options) != 0)
        return 2;
    if (options->help) {
        fputs(help, stdout);
        cli_options_clear(options);
        return 0;
    }
    if (options->argument_count == 0) {
        fprintf(stderr, "warden %s: no MESSAGE given\nTry 'warden %s --help'.\n", command, command);
        cli_options_clear(options);
        return 2;
    }
    /* verify and decide never run the policy tests: a set whose tests fail can still be
    ** investigated (`warden test` runs them) */
    if (warden_config_set(options->config, "reload.tests", "off", &err) != WARDEN_OK
        || warden_engine_new(options->config, engine, &err) != WARDEN_OK) {
        fprintf(stderr, "warden %s: %s\n", command, err.text);
        cli_options_clear(options);
        return 2;
    }
    return CLI_READY;
}
