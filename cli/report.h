/*
** report.h — the facts of a delivered message or a rejection, as the JSON objects of
** docs/reference.md (JSON output), and the same facts as text for a person.
*/
#ifndef WARDEN_CLI_REPORT_H
#define WARDEN_CLI_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include <warden.h>

/* The "verify --json" object of a delivered message (new reference; NULL on allocation failure). */
json_t *cli_report_delivered(const warden_message *message);

/* The object of a rejection: {"delivered": false, "reason": ..., "detail": ...}. */
json_t *cli_report_rejected(const char *reason, const char *detail);

/* Prints report (one of the objects above) as one JSON line. */
void cli_report_print_json(FILE *out, const json_t *report);

/* Writes text for a person: control characters (C0 but tab, DEL, C1) as \xNN, so that
** no message or policy text can end a line or drive a terminal. */
void cli_print_safe(FILE *out, const char *text);

/* Prints report for a person, headed by the message's name. */
void cli_report_print_text(FILE *out, const char *name, const json_t *report);

#endif
