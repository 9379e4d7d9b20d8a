/*
** options.h — the options every `warden` command shares (docs/reference.md, Command
** line): a config file, the flags that override it, and the message arguments.
*/
#ifndef WARDEN_CLI_OPTIONS_H
#define WARDEN_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <warden.h>

typedef struct cli_options {
    warden_config *config;     /* config file + flags, ready for warden_engine_new */
    int64_t        now;        /* --now, Unix seconds; 0 = the system clock */
    bool           json;
    bool           help;
    /* command-specific flags; parse accepts them only for their command */
    bool           explain;    /* decide --explain */
    bool           verbose;    /* test -v */
    bool           coverage;   /* test --coverage */
    const char    *run;        /* test --run PATTERN (borrowed from argv), or NULL */
    const char    *format;     /* test --format text|json|junit (borrowed), or NULL */
    bool           config_given; /* -c/--config was on the line, or a policy folder's own test config was read */
    const char    *policies;   /* --policies DIR (borrowed), or NULL */
    char         **arguments;  /* positional arguments (borrowed from argv) */
    size_t         argument_count;
} cli_options;

/* Parses argv[first..argc) for a command. Returns 0, or 2 (usage or input error) after
** printing why to stderr. On success options->config is owned by the caller
** (cli_options_clear). */
int cli_options_parse(int argc, char **argv, int first, const char *command, cli_options *options);

void cli_options_clear(cli_options *options);

#define CLI_READY (-1)

/* The start every MESSAGE... command shares (verify, decide): parse, --help, at least one
** MESSAGE, an engine from the options. Returns CLI_READY with *options and *engine owned by
** the caller, or the exit status to end with (0 after --help, 2 on a usage or input error),
** having printed why and released everything. */
int cli_start_message_command(int argc, char **argv, const char *command, const char *help,
                              cli_options *options, warden_engine **engine);

#endif
