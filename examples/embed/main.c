/*
** warden-embed — a small service loop embedding Warden through its public API only, built
** against an installed libwarden as any outside project would be (see README.md here and
** docs/c-api.md).
**
**   warden-embed [OPTIONS] [MESSAGE...]
**
** Opens one engine, then receives each MESSAGE (a file, or - for all of standard input) in
** order; without MESSAGE it reads standard input as a stream of messages separated by NUL
** bytes, handling each as soon as it has arrived, the way a service drains a queue. Every
** message goes through security processing; when the engine has a policy set, the delivered
** ones are then decided. One block of lines is printed per message.
**
** Exit status: 0 every message allowed (or, without policies, delivered), 1 any denied or
** rejected, 2 a usage or input error.
*/
#define _POSIX_C_SOURCE 200809L /* getdelim */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <warden.h>

#define MAX_ITEMS 64

typedef struct options {
    const char *config_path;
    const char *settings[MAX_ITEMS][2]; /* config key, value */
    size_t      setting_count;
    warden_attr attrs[MAX_ITEMS];       /* seen by policies as m.attrs */
    size_t      attr_count;
    const char *body_paths[MAX_ITEMS];  /* Body elements to print */
    size_t      body_count;
    int64_t     now;                    /* 0: the system clock */
    char      **messages;
    size_t      message_count;
} options;

static const char usage[] =
    "Usage: warden-embed [OPTIONS] [MESSAGE...]\n"
    "\n"
    "Receives each SOAP MESSAGE (a file, or - for standard input; without MESSAGE, standard\n"
    "input as a stream of messages separated by NUL bytes) with one Warden engine, decides\n"
    "the delivered ones when the engine has a policy set, and prints the results.\n"
    "\n"
    "  -c, --config FILE    a Warden config file (Lua); alone, opened with warden_engine_open\n"
    "      --trust PEM      add a CA bundle            (config key trust)\n"
    "      --certs PEM      add known certificates     (config key certs)\n"
    "      --users FILE     name:password lines        (config key users)\n"
    "      --policies DIR   the policy directory       (config key policies)\n"
    "      --set KEY=VALUE  any config key, e.g. --set clock.ttl=600\n"
    "      --now TIME       evaluate as if the clock read TIME (2026-11-25T12:00:30Z)\n"
    "      --attr NAME=VAL  an attribute passed with every message (m.attrs in policies)\n"
    "      --body PATH      print the text of this Body element (e.g. amount)\n"
    "\n"
    "Exit status: 0 all allowed (or delivered, without policies), 1 any denied or rejected,\n"
    "2 usage or input error.\n";

/* ---- small helpers ---------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DDTHH:MM:SSZ" to Unix seconds; -1 when it is not that. */
static int parse_utc(const char *text, int64_t *out)
{
    int y, mo, d, h, mi, s, n = 0;
    if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 || n != 20
        || text[n] != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59)
        return -1;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return 0;
}

static unsigned char *read_file(const char *path, size_t *length)
{
    FILE *file = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    unsigned char *data = NULL;
    size_t size = 0, capacity = 0;
    if (file == NULL)
        return NULL;
    for (;;) {
        if (size == capacity) {
            capacity = capacity ? capacity * 2 : 65536;
            unsigned char *bigger = realloc(data, capacity);
            if (bigger == NULL) {
                free(data);
                data = NULL;
                break;
            }
            data = bigger;
        }
        size_t got = fread(data + size, 1, capacity - size, file);
        size += got;
        if (got == 0) {
            if (ferror(file)) {
                free(data);
                data = NULL;
            }
            break;
        }
    }
    if (file != stdin)
        fclose(file);
    *length = size;
    return data;
}

/* The engine's log lines (policy log(...), decision problems, reloads) go through here. */
static void log_line(void *context, int level, const char *message)
{
    static const char *const names[] = { "?", "error", "warning", "info" };
    fprintf(stderr, "%s: [%s] %s\n", (const char *)context,
            names[level >= WARDEN_LOG_ERROR && level <= WARDEN_LOG_INFO ? level : 0], message);
}

/* ---- the engine ----------------------------------------------------------------------------- */

static int open_engine(const options *opt, warden_engine **engine)
{
    warden_config *config = NULL;
    warden_error err;
    int status;

    /* A config file alone: the one-call way. */
    if (opt->config_path != NULL && opt->setting_count == 0) {
        status = warden_engine_open(opt->config_path, engine, &err);
        if (status != WARDEN_OK)
            fprintf(stderr, "warden-embed: %s: %s (%s)\n", opt->config_path, err.text, warden_strerror(status));
        return status;
    }

    /* Otherwise: a config, filled from the file and then from the flags, then the engine. */
    if ((status = warden_config_new(&config)) != WARDEN_OK) {
        fprintf(stderr, "warden-embed: %s\n", warden_strerror(status));
        return status;
    }
    if (opt->config_path != NULL && (status = warden_config_load(config, opt->config_path, &err)) != WARDEN_OK) {
        fprintf(stderr, "warden-embed: %s: %s\n", opt->config_path, err.text);
        goto done;
    }
    for (size_t i = 0; i < opt->setting_count; i++) {
        if ((status = warden_config_set(config, opt->settings[i][0], opt->settings[i][1], &err)) != WARDEN_OK) {
            fprintf(stderr, "warden-embed: %s\n", err.text);
            goto done;
        }
    }
    warden_config_set_logger(config, log_line, "warden-embed");
    if ((status = warden_engine_new(config, engine, &err)) != WARDEN_OK)
        fprintf(stderr, "warden-embed: %s (%s)\n", err.text, warden_strerror(status));
done:
    warden_config_free(config); /* the engine keeps what it needs */
    return status;
}

/* ---- one message ------------------------------------------------------------------------- */

/* The certificate subject of the token whose signature covers the Body, if any. */
static const char *signer_subject(const warden_message *message)
{
    for (size_t i = 0; i < warden_message_token_count(message); i++) {
        const warden_token *token = warden_message_token(message, i);
        warden_string role, subject;
        if (warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_ROLE, &role, sizeof role) == WARDEN_OK
            && strcmp(role.data, "signing") == 0
            && warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_CERT_SUBJECT, &subject, sizeof subject) == WARDEN_OK)
            return subject.data;
    }
    return NULL;
}

static void print_properties(const options *opt, const warden_message *message)
{
    warden_string s;
    const char *signer = signer_subject(message);
    if (signer != NULL)
        printf("  signer    %s\n", signer);
    if (warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_USERNAME, &s, sizeof s) == WARDEN_OK)
        printf("  user      %s\n", s.data);
    if (warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_OPERATION, &s, sizeof s) == WARDEN_OK)
        printf("  operation %s\n", s.data);
    if (warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_SIGNED_PARTS, &s, sizeof s) == WARDEN_OK)
        printf("  signed    %s\n", s.length ? s.data : "(nothing)");
    for (size_t i = 0; i < opt->body_count; i++) {
        char small[64];
        size_t length = 0;
        if (warden_message_body_text(message, opt->body_paths[i], small, sizeof small, &length) != WARDEN_OK) {
            printf("  body      %s: (none)\n", opt->body_paths[i]);
        } else if (length < sizeof small) {
            printf("  body      %s = %s\n", opt->body_paths[i], small);
        } else { /* it did not fit: ask again with room for all of it */
            char *text = malloc(length + 1);
            if (text != NULL && warden_message_body_text(message, opt->body_paths[i], text, length + 1, &length) == WARDEN_OK)
                printf("  body      %s = %s\n", opt->body_paths[i], text);
            free(text);
        }
    }
}

/* Receives one message and decides it when the engine has policies. Returns 0 allowed or
** delivered, 1 denied or rejected, 2 an error. */
static int handle(warden_engine *engine, int decide, const options *opt, const char *name,
                  const unsigned char *bytes, size_t length)
{
    warden_receive_options receive;
    warden_message *message = NULL;
    warden_decision *decision = NULL;
    warden_error err;
    int status, result;

    memset(&receive, 0, sizeof receive);
    receive.size = sizeof receive;
    receive.now = opt->now;
    receive.attrs = opt->attrs;
    receive.attr_count = opt->attr_count;

    status = warden_engine_receive(engine, bytes, length, &receive, &message, &err);
    if (status == WARDEN_E_SECURITY) {
        /* Not delivered: err.reason is the stable reason code. */
        printf(decide ? "%s: deny (security: %s)\n" : "%s: rejected (%s)\n", name, err.reason);
        printf("  detail    %s\n", err.text);
        return 1;
    }
    if (status != WARDEN_OK) {
        fprintf(stderr, "warden-embed: %s: %s\n", name, err.text);
        return 2;
    }

    if (!decide) {
        printf("%s: delivered\n", name);
        print_properties(opt, message);
        result = 0;
    } else if ((status = warden_engine_decide(engine, message, &decision, &err)) == WARDEN_OK) {
        int allowed = warden_decision_allowed(decision);
        printf("%s: %s (%s: %s)\n", name, allowed ? "allow" : "deny", warden_decision_stage(decision),
               warden_decision_reason(decision));
        print_properties(opt, message);
        for (size_t i = 0; i < warden_decision_rule_count(decision); i++)
            printf("  rule      %s\n", warden_decision_rule(decision, i));
        for (size_t i = 0; i < warden_decision_error_count(decision); i++)
            printf("  error     %s\n", warden_decision_error(decision, i));
        printf("  revision  %s\n", warden_decision_revision(decision));
        result = allowed ? 0 : 1;
    } else {
        fprintf(stderr, "warden-embed: %s: %s\n", name, err.text);
        result = 2;
    }
    fflush(stdout);
    /* Everything read from the message or the decision dies with them. */
    warden_decision_free(decision);
    warden_message_free(message);
    return result;
}

/* ---- main -------------------------------------------------------------------------------- */

static int parse_options(int argc, char **argv, options *opt)
{
    memset(opt, 0, sizeof *opt);
    size_t count = 0; /* the MESSAGE arguments are gathered at the front of argv */
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(usage, stdout);
            exit(0);
        }
        if (arg[0] != '-' || strcmp(arg, "-") == 0) {
            argv[count++] = argv[i];
            continue;
        }
        if (value == NULL) {
            fprintf(stderr, "warden-embed: unknown option or missing value: %s\n", arg);
            return -1;
        }
        i++;
        if (strcmp(arg, "-c") == 0 || strcmp(arg, "--config") == 0) {
            opt->config_path = value;
        } else if (strcmp(arg, "--now") == 0) {
            if (parse_utc(value, &opt->now) != 0) {
                fprintf(stderr, "warden-embed: --now: not a time such as 2026-11-25T12:00:30Z: %s\n", value);
                return -1;
            }
        } else if (strcmp(arg, "--body") == 0) {
            if (opt->body_count == MAX_ITEMS)
                return -1;
            opt->body_paths[opt->body_count++] = value;
        } else if (strcmp(arg, "--attr") == 0 || strcmp(arg, "--set") == 0) {
            char *name = argv[i]; /* NAME=VALUE, split in place */
            char *equals = strchr(name, '=');
            int is_attr = strcmp(arg, "--attr") == 0;
            if (equals == NULL || equals == name || (is_attr ? opt->attr_count : opt->setting_count) == MAX_ITEMS) {
                fprintf(stderr, "warden-embed: %s: expected NAME=VALUE: %s\n", arg, name);
                return -1;
            }
            *equals = '\0';
            if (is_attr) {
                opt->attrs[opt->attr_count++] = (warden_attr){ name, equals + 1 };
            } else {
                opt->settings[opt->setting_count][0] = name;
                opt->settings[opt->setting_count][1] = equals + 1;
                opt->setting_count++;
            }
        } else if (strcmp(arg, "--trust") == 0 || strcmp(arg, "--certs") == 0 || strcmp(arg, "--users") == 0
                   || strcmp(arg, "--policies") == 0) {
            if (opt->setting_count == MAX_ITEMS)
                return -1;
            opt->settings[opt->setting_count][0] = arg + 2; /* "--trust" -> config key "trust" */
            opt->settings[opt->setting_count][1] = value;
            opt->setting_count++;
        } else {
            fprintf(stderr, "warden-embed: unknown option: %s\n", arg);
            return -1;
        }
    }
    opt->messages = argv;
    opt->message_count = count;
    return 0;
}

int main(int argc, char **argv)
{
    options opt;
    warden_engine *engine = NULL;
    warden_status status = { .size = sizeof(warden_status) };
    int exit_code = 0;

    if (parse_options(argc, argv, &opt) != 0) {
        fputs("Try 'warden-embed --help'.\n", stderr);
        return 2;
    }
    if (open_engine(&opt, &engine) != WARDEN_OK)
        return 2;
    /* Decide only when the engine serves a policy set (its revision is then non-empty). */
    int decide = warden_engine_status(engine, &status) == WARDEN_OK && status.revision[0] != '\0';

    if (opt.message_count > 0) {
        for (size_t i = 0; i < opt.message_count; i++) {
            const char *name = opt.messages[i];
            size_t length = 0;
            unsigned char *bytes = read_file(name, &length);
            int result;
            if (bytes == NULL) {
                fprintf(stderr, "warden-embed: cannot read %s\n", name);
                result = 2;
            } else {
                result = handle(engine, decide, &opt, strcmp(name, "-") == 0 ? "stdin" : name, bytes, length);
            }
            free(bytes);
            if (result > exit_code)
                exit_code = result;
        }
    } else {
        /* The service loop: one message per NUL-terminated record of standard input. */
        char *record = NULL;
        size_t capacity = 0, number = 0;
        ssize_t got;
        while ((got = getdelim(&record, &capacity, '\0', stdin)) > 0) {
            size_t length = (size_t)got;
            if (record[length - 1] == '\0')
                length--;
            if (strspn(record, " \t\r\n") >= length)
                continue; /* blank between separators */
            char name[32];
            snprintf(name, sizeof name, "stdin#%zu", ++number);
            int result = handle(engine, decide, &opt, name, (const unsigned char *)record, length);
            if (result > exit_code)
                exit_code = result;
        }
        free(record);
    }

    warden_engine_free(engine); /* after every message from it was freed */
    return exit_code;
}
