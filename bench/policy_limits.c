/*
** bench/policy_limits.c — the worst policies we can build against the sandbox limits: for each,
** the wall time from the start of a decision to its deny (median and worst of ROUNDS decisions)
** beside the bound the sandbox promises (2 x limits.time_ms + 10 ms), and the peak memory of a
** process that only loads and runs that policy beside the same figure for a trivial policy
** measured in the same run. Each policy runs in a child process of its own (so peak RSS is its
** own), twice: under the default limits, and with an instruction budget too large to matter
** (the clock alone must stop it).
**
** usage: bench_policy_limits [ROUNDS] [NAME-SUBSTRING]
*/
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* mkdtemp, wait4 */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <warden.h>

#include "bench_clock.h"

#define TIME_MS 50

/* Lua put before every policy: a 1 MiB string of NULs (less room for the string header). */
#define NULS "local nuls = string.rep('\\0', 1048500) local same = nuls .. '' "

static const struct policy {
    const char *name;
    const char *top;  /* file-level code, or "" */
    const char *when; /* the body of `when` */
} policies[] = {
    { "baseline: return true", "", "return true" },
    { "infinite loop", "", "while true do end" },
    { "loop under pcall", "", "while true do pcall(function() while true do end end) end" },
    { "sort NUL strings", "", NULS "local t = {} for i = 1, 3000 do t[i] = i % 2 == 0 and nuls or same end table.sort(t) return true" },
    { "sort, Lua comparator on NUL strings", "", NULS "local t = {} for i = 1, 3000 do t[i] = i end "
      "table.sort(t, function(a, b) return nuls < same or a < b end) return true" },
    { "sort 200k, C comparator", "", "local t = {} for i = 1, 200000 do t[i] = 200000 - i end table.sort(t, math.ult) return true" },
    { "NUL compare loop", "", NULS "while true do local _ = nuls < same end" },
    { "NUL compare loop, file-level strings", NULS, "while true do local _ = nuls < same end" },
    { "NUL compares then true", "", NULS "for i = 1, 1000 do local _ = nuls < same end return true" },
    { "== on long strings", "", "local a = string.rep('e', 1048500) local b = string.rep('e', 1048500) while true do local _ = a == b end" },
    { "concat doubling", "", "local s = 'x' while true do s = s .. s end" },
    { "concat of big strings in a loop", "", "local s = string.rep('c', 500000) while true do local t = s .. s end" },
    { "string.rep churn", "", "while true do local s = string.rep('r', 1048576) end" },
    { "table.concat builder", "", "local s = string.rep('k', 32768) local t = {} for i = 1, 32 do t[i] = s end "
      "while true do local r = table.concat(t) end" },
    { "gsub builder", "", "local s = string.rep('g', 500000) while true do local r = string.gsub(s, 'g', 'gg') end" },
    { "format %q builder", "", "local s = string.rep('\\0\\1', 250000) while true do local r = string.format('%q', s) end" },
    { "upper/lower/reverse churn", "", "local s = string.rep('u', 1000000) while true do s = s:upper():lower():reverse() end" },
    { "tostring churn", "", "local s = string.rep('t', 1000000) while true do s = tostring(s) .. '' end" },
    { "byte/char churn", "", "local s = string.rep('b', 100000) while true do local t = { s:byte(1, -1) } end" },
    { "deep recursion", "", "local function f(n) return f(n + 1) + 1 end return f(1)" },
    { "recursion under pcall", "", "local function f(n) pcall(f, n + 1) return true end while true do f(1) end" },
    { "coroutines", "", "local co = coroutine.wrap(function() while true do end end) co() return true" },
    { "pattern worst case", "", "return string.find(string.rep('a', 5000), string.rep('.-', 8) .. 'b') ~= nil" },
    { "gmatch worst case", "", "for x in string.gmatch(string.rep('a', 20000), '(.-)(.-)(.-)b') do end return true" },
    { "huge table of tables", "", "local t = {} for i = 1, 1e9 do t[i] = { i } end" },
    { "huge table of strings", "", "local t = {} for i = 1, 1e9 do t[i] = 'key' .. i end" },
    { "huge hash table", "", "local t = {} for i = 1, 1e9 do t['k' .. i] = i end" },
    { "error objects in a loop", "", "while true do pcall(error, { string.rep('e', 1000) }) end" },
    { "error('not enough memory')", "", "while true do pcall(error, 'not enough memory', 0) end" },
    { "string.pack", "", "return string.pack('i4', 1) ~= nil" },
    { "utf8.len over a long string", "", "local s = string.rep('\\u{10FFFF}', 250000) while true do local n = utf8.len(s) end" },
    { "utf8.codepoint over a long string", "", "local s = string.rep('\\u{7FF}', 500000) while true do local t = { utf8.codepoint(s, 1, -1) } end" },
    { "table.unpack wide", "", "local t = {} for i = 1, 100000 do t[i] = i end while true do local n = select('#', table.unpack(t)) end" },
    { "table.insert at the front", "", "local t = {} while true do table.insert(t, 1, #t) end" },
};

static const char message_text[] =
    "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" "
    "xmlns:wsa=\"http://www.w3.org/2005/08/addressing\"><soap:Header>"
    "<wsa:Action>urn:example:orders/Create</wsa:Action>"
    "<wsa:To>https://orders.example.com/soap</wsa:To>"
    "<wsa:MessageID>urn:uuid:0b7f8a52-1c2d-4e3f-8a9b-0c1d2e3f4a5b</wsa:MessageID>"
    "</soap:Header><soap:Body><ord:CreateOrder xmlns:ord=\"urn:example:orders\">"
    "<ord:customer>ACME-1042</ord:customer><ord:amount>250</ord:amount>"
    "</ord:CreateOrder></soap:Body></soap:Envelope>";

typedef struct outcome {
    double median_ms, worst_ms;
    char   reason[32];
    char   error[120];
} outcome;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void quiet(void *context, int level, const char *line)
{
    (void)context;
    (void)level;
    (void)line;
}

/* In the child: load the policy, decide rounds times, write an outcome to fd. */
static int run_policy(const struct policy *p, const char *instructions, int rounds, int fd)
{
    outcome out = { 0 };
    char dir[] = "/tmp/warden-bench-limits-XXXXXX";
    char path[128], text[4096];
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_message *message = NULL;
    warden_error err;
    double *times = calloc((size_t)rounds, sizeof *times);

    if (times == NULL || mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof path, "%s/p.lua", dir);
    snprintf(text, sizeof text, "%s\npermit \"p\" { when = function(m) %s end }\n", p->top, p->when);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return 1;
    fputs(text, f);
    fclose(f);
    char time_ms[16];
    snprintf(time_ms, sizeof time_ms, "%d", TIME_MS);
    warden_config_new(&config);
    warden_config_set_logger(config, quiet, NULL);
    if (warden_config_set(config, "require.token", "false", &err) != WARDEN_OK ||
        warden_config_set(config, "reload.watch", "false", &err) != WARDEN_OK ||
        warden_config_set(config, "policies", dir, &err) != WARDEN_OK ||
        warden_config_set(config, "limits.time_ms", time_ms, &err) != WARDEN_OK ||
        warden_config_set(config, "limits.instructions", instructions, &err) != WARDEN_OK ||
        warden_engine_new(config, &engine, &err) != WARDEN_OK) {
        snprintf(out.reason, sizeof out.reason, "load-error");
        snprintf(out.error, sizeof out.error, "%.100s", err.text);
        goto done;
    }
    warden_receive_options options = { .size = sizeof options, .now = (int64_t)time(NULL) };
    if (warden_engine_receive(engine, message_text, strlen(message_text), &options, &message, &err) != WARDEN_OK) {
        snprintf(out.reason, sizeof out.reason, "receive-error");
        goto done;
    }
    for (int i = 0; i < rounds; i++) {
        warden_decision *decision = NULL;
        double started = now_ms();
        int status = warden_engine_decide(engine, message, &decision, &err);
        times[i] = now_ms() - started;
        if (status != WARDEN_OK) {
            snprintf(out.reason, sizeof out.reason, "decide-error");
            break;
        }
        snprintf(out.reason, sizeof out.reason, "%s", warden_decision_reason(decision));
        snprintf(out.error, sizeof out.error, "%s",
                 warden_decision_error_count(decision) ? warden_decision_error(decision, 0) : "");
        warden_decision_free(decision);
    }
    qsort(times, (size_t)rounds, sizeof *times, bench_compare_doubles);
    out.median_ms = times[rounds / 2];
    out.worst_ms = times[rounds - 1];
done:
    if (write(fd, &out, sizeof out) != (ssize_t)sizeof out)
        return 1;
    warden_message_free(message);
    warden_engine_free(engine);
    warden_config_free(config);
    remove(path);
    rmdir(dir);
    free(times);
    return 0;
}

/* Runs one policy in a child; returns its outcome and peak RSS in MiB. */
static outcome measure(const struct policy *p, const char *instructions, int rounds, double *peak_mib)
{
    outcome out = { 0 };
    int pipe_fds[2];
    snprintf(out.reason, sizeof out.reason, "crashed");
    if (pipe(pipe_fds) != 0)
        return out;
    pid_t child = fork();
    if (child == 0) {
        close(pipe_fds[0]);
        _exit(run_policy(p, instructions, rounds, pipe_fds[1]));
    }
    close(pipe_fds[1]);
    if (read(pipe_fds[0], &out, sizeof out) != (ssize_t)sizeof out)
        snprintf(out.reason, sizeof out.reason, "crashed");
    close(pipe_fds[0]);
    int status = 0;
    struct rusage usage;
    wait4(child, &status, 0, &usage);
    *peak_mib = (double)usage.ru_maxrss / 1024.0;
    return out;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    const char *only = argc > 2 ? argv[2] : NULL;
    const char *budgets[2] = { "1000000", "1000000000000" };
    const double bound = 2.0 * TIME_MS + 10.0;
    double worst_ms = 0, worst_peak = 0, baseline_peak[2] = { 0, 0 };
    const char *worst_name = "", *worst_peak_name = "";

    if (rounds < 1)
        rounds = 1;
    printf("limits: time_ms %d (bound %.0f ms), memory 64 MiB, string_bytes 1 MiB; %d decisions each\n", TIME_MS,
           bound, rounds);
    printf("%-40s %-13s %-13s %9s %9s %9s  %s\n", "policy", "instructions", "reason", "median", "worst", "peak", "error");
    for (int b = 0; b < 2; b++) {
        for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++) {
            const struct policy *p = &policies[i];
            if (i > 0 && only != NULL && strstr(p->name, only) == NULL)
                continue;
            double peak = 0;
            outcome out = measure(p, budgets[b], rounds, &peak);
            if (i == 0)
                baseline_peak[b] = peak;
            printf("%-40s %-13s %-13s %6.1f ms %6.1f ms %5.1f MiB  %.60s\n", p->name, b == 0 ? "1e6" : "1e12 (clock)",
                   out.reason, out.median_ms, out.worst_ms, peak, out.error);
            fflush(stdout);
            if (i > 0 && out.median_ms > worst_ms) {
                worst_ms = out.median_ms;
                worst_name = p->name;
            }
            if (i > 0 && peak - baseline_peak[b] > worst_peak) {
                worst_peak = peak - baseline_peak[b];
                worst_peak_name = p->name;
            }
        }
    }
    printf("worst median time to deny: %.1f ms (%s); bound %.0f ms (%.2f of it)\n", worst_ms, worst_name, bound,
           worst_ms / bound);
    printf("worst peak memory: %.1f MiB above the baseline policy's %.1f MiB (%s); limits.memory 64 MiB per state\n",
           worst_peak, baseline_peak[0], worst_peak_name);
    return 0;
}
