/*
** bench/decide.c — policy decisions per second and p50/p99 latency on an already verified
** message: the example policy set (policies/) on one thread and on two, then a generated set
** of 10,000 rules whose targets spread over 1,000 actions. Beside them, the bare floor
** measured in the same run: a minimal Lua function called with lua_pcall on a prebuilt
** table. Medians over rounds; interleaved so machine noise hits all alike.
**
** usage: bench_decide CONFIG_LUA ENVELOPE NOW [SECONDS_PER_ROUND] [ROUNDS]
*/
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <warden.h>

#include "bench_clock.h"

typedef struct result {
    double rate, p50_us, p99_us;
} result;

typedef int (*operation)(void *context);

typedef struct run {
    operation fn;
    void     *context;
    double    seconds;
    result    out;
    int       failed;
} run;

static void *measure(void *opaque)
{
    run *r = opaque;
    size_t capacity = 1 << 22, count = 0;
    double *latencies = malloc(capacity * sizeof *latencies);
    double start = bench_now_seconds(), end = start + r->seconds, t = start;
    while (t < end && count < capacity) {
        double before = t;
        if (r->fn(r->context) != 0) {
            r->failed = 1;
            break;
        }
        t = bench_now_seconds();
        latencies[count++] = (t - before) * 1e6;
    }
    qsort(latencies, count, sizeof *latencies, bench_compare_doubles);
    r->out.rate = (double)count / (t - start);
    r->out.p50_us = count ? latencies[count / 2] : 0;
    r->out.p99_us = count ? latencies[(size_t)((double)count * 0.99)] : 0;
    free(latencies);
    return NULL;
}

typedef struct decide_context {
    warden_engine  *engine;
    warden_message *message;
    int             expect_allowed;
    int             explain;        /* warden_engine_explain instead of _decide */
} decide_context;

static int decide_once(void *opaque)
{
    decide_context *c = opaque;
    warden_decision *decision = NULL;
    warden_error err;
    int status = c->explain ? warden_engine_explain(c->engine, c->message, &decision, &err)
                            : warden_engine_decide(c->engine, c->message, &decision, &err);
    if (status != WARDEN_OK) {
        fprintf(stderr, "decide: %s\n", err.text);
        return -1;
    }
    int ok = warden_decision_allowed(decision) == c->expect_allowed;
    if (!ok)
        fprintf(stderr, "unexpected decision: %s\n", warden_decision_reason(decision));
    warden_decision_free(decision);
    return ok ? 0 : -1;
}

typedef struct floor_context {
    lua_State *L;
    int        function, table;
} floor_context;

static int floor_once(void *opaque)
{
    floor_context *c = opaque;
    lua_rawgeti(c->L, LUA_REGISTRYINDEX, c->function);
    lua_rawgeti(c->L, LUA_REGISTRYINDEX, c->table);
    if (lua_pcall(c->L, 1, 1, 0) != LUA_OK)
        return -1;
    int ok = lua_toboolean(c->L, -1);
    lua_pop(c->L, 1);
    return ok ? 0 : -1;
}

static double median(double *values, int n)
{
    qsort(values, (size_t)n, sizeof *values, bench_compare_doubles);
    return values[n / 2];
}

static warden_engine *open_engine(const char *config_path, const char *policies, const char *decision_log)
{
    warden_config *config = NULL;
    warden_engine *engine = NULL;
    warden_error err;
    warden_config_new(&config);
    if (warden_config_load(config, config_path, &err) != WARDEN_OK ||
        (policies != NULL && warden_config_set(config, "policies", policies, &err) != WARDEN_OK) ||
        (decision_log != NULL && warden_config_set(config, "log.decisions", decision_log, &err) != WARDEN_OK) ||
        warden_config_set(config, "replay.backend", "none", &err) != WARDEN_OK ||
        warden_engine_new(config, &engine, &err) != WARDEN_OK) {
        fprintf(stderr, "engine: %s\n", err.text);
        exit(2);
    }
    warden_config_free(config);
    return engine;
}

static warden_message *receive(warden_engine *engine, const char *path, int64_t now)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    static char bytes[1 << 20];
    size_t length = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    warden_message *message = NULL;
    warden_error err;
    warden_receive_options options = { .size = sizeof options, .now = now };
    if (warden_engine_receive(engine, bytes, length, &options, &message, &err) != WARDEN_OK) {
        fprintf(stderr, "receive: %s: %s\n", err.reason, err.text);
        exit(2);
    }
    return message;
}

/* 10,000 rules in 10 files, targets spread over 1,000 actions, the message's action among
** them: each action has 10 rules, one of them a permit whose `when` reads the certificate. */
static void generate_rules(const char *directory)
{
    mkdir(directory, 0755);
    for (int file = 0; file < 10; file++) {
        char path[512];
        snprintf(path, sizeof path, "%s/generated_%02d.lua", directory, file);
        FILE *f = fopen(path, "w");
        for (int i = 0; i < 1000; i++) {
            int rule = file * 1000 + i, action = rule % 1000;
            const char *target = action == 0 ? "urn:example:orders/Create" : NULL;
            char name[64];
            snprintf(name, sizeof name, "urn:example:bench/Operation%04d", action);
            if (rule % 10 == 0)
                fprintf(f, "permit \"rule %d\" { action = \"%s\", when = function(m) return m.cert ~= nil and m.cert.subject.OU == \"Payments\" end }\n",
                        rule, target ? target : name);
            else
                fprintf(f, "forbid \"rule %d\" { action = \"%s\", when = function(m) return m.cert == nil end }\n",
                        rule, target ? target : name);
        }
        fclose(f);
    }
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s CONFIG_LUA ENVELOPE NOW_UNIX [SECONDS_PER_ROUND] [ROUNDS]\n", argv[0]);
        return 2;
    }
    int64_t now = atoll(argv[3]);
    double seconds = argc > 4 ? atof(argv[4]) : 1.0;
    int rounds = argc > 5 ? atoi(argv[5]) : 5;
    if (rounds < 1 || rounds > 32)
        rounds = 5;

    warden_engine *example = open_engine(argv[1], NULL, NULL);
    warden_message *message = receive(example, argv[2], now);

    char generated[256];
    snprintf(generated, sizeof generated, "%s/warden-bench-rules-%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    generate_rules(generated);
    warden_engine *large = open_engine(argv[1], generated, NULL);
    warden_message *large_message = receive(large, argv[2], now);

    lua_State *L = luaL_newstate();
    luaL_loadstring(L, "return function(m) return m.action == 'urn:example:orders/Create' end");
    lua_call(L, 0, 1);
    floor_context floor_ctx = { L, luaL_ref(L, LUA_REGISTRYINDEX), 0 };
    lua_createtable(L, 0, 8);
    lua_pushstring(L, "urn:example:orders/Create");
    lua_setfield(L, -2, "action");
    floor_ctx.table = luaL_ref(L, LUA_REGISTRYINDEX);

    /* the same decision with its log line written (to /dev/null), and explained */
    warden_engine *logging = open_engine(argv[1], NULL, "/dev/null");
    warden_message *logging_message = receive(logging, argv[2], now);
    decide_context example_ctx = { example, message, 1, 0 };
    decide_context large_ctx = { large, large_message, 1, 0 };
    decide_context logging_ctx = { logging, logging_message, 1, 0 };
    decide_context explain_ctx = { example, message, 1, 1 };
    const char *names[] = { "lua_pcall floor (baseline)", "example set, 1 thread", "example set, 2 threads (each)",
                            "10,000 rules, 1 thread", "example set, decision log on", "example set, explained" };
    double rate[6][32], p50[6][32], p99[6][32];

    run warm = { decide_once, &example_ctx, 0.2, { 0, 0, 0 }, 0 };
    measure(&warm);
    run warm_large = { decide_once, &large_ctx, 0.2, { 0, 0, 0 }, 0 };
    measure(&warm_large);
    if (warm.failed || warm_large.failed)
        return 1;

    for (int r = 0; r < rounds; r++) {
        run floor_run = { floor_once, &floor_ctx, seconds, { 0, 0, 0 }, 0 };
        measure(&floor_run);
        run single = { decide_once, &example_ctx, seconds, { 0, 0, 0 }, 0 };
        measure(&single);
        run pair[2] = { { decide_once, &example_ctx, seconds, { 0, 0, 0 }, 0 },
                        { decide_once, &example_ctx, seconds, { 0, 0, 0 }, 0 } };
        pthread_t threads[2];
        for (int t = 0; t < 2; t++)
            pthread_create(&threads[t], NULL, measure, &pair[t]);
        for (int t = 0; t < 2; t++)
            pthread_join(threads[t], NULL);
        run large_run = { decide_once, &large_ctx, seconds, { 0, 0, 0 }, 0 };
        measure(&large_run);
        run logging_run = { decide_once, &logging_ctx, seconds, { 0, 0, 0 }, 0 };
        measure(&logging_run);
        run explain_run = { decide_once, &explain_ctx, seconds, { 0, 0, 0 }, 0 };
        measure(&explain_run);
        if (floor_run.failed || single.failed || pair[0].failed || pair[1].failed || large_run.failed
            || logging_run.failed || explain_run.failed)
            return 1;
        result results[6] = { floor_run.out, single.out,
                              { (pair[0].out.rate + pair[1].out.rate) / 2, (pair[0].out.p50_us + pair[1].out.p50_us) / 2,
                                (pair[0].out.p99_us > pair[1].out.p99_us ? pair[0].out.p99_us : pair[1].out.p99_us) },
                              large_run.out, logging_run.out, explain_run.out };
        for (int k = 0; k < 6; k++) {
            rate[k][r] = results[k].rate;
            p50[k][r] = results[k].p50_us;
            p99[k][r] = results[k].p99_us;
        }
    }
    printf("decisions on a verified message; %d rounds of %.1f s, medians over rounds\n", rounds, seconds);
    printf("%-32s %14s %10s %10s\n", "", "decisions/s", "p50 us", "p99 us");
    for (int k = 0; k < 6; k++)
        printf("%-32s %14.0f %10.2f %10.2f\n", names[k], median(rate[k], rounds), median(p50[k], rounds),
               median(p99[k], rounds));

    warden_message_free(message);
    warden_message_free(large_message);
    warden_engine_free(example);
    warden_engine_free(large);
    warden_message_free(logging_message);
    warden_engine_free(logging);
    lua_close(L);
    char command[400];
    snprintf(command, sizeof command, "rm -rf '%s'", generated);
    if (system(command) != 0)
        fprintf(stderr, "could not remove %s\n", generated);
    return 0;
}
