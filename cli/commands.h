/*
** commands.h — the `warden` subcommands. Each takes argc/argv after the command word and
** returns the process's exit code.
*/
#ifndef WARDEN_CLI_COMMANDS_H
#define WARDEN_CLI_COMMANDS_H

int cli_verify(int argc, char **argv);
int cli_decide(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_test(int argc, char **argv);
int cli_serve(int argc, char **argv); /* server/serve_main.c */

#endif
