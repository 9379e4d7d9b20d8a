/*
** sandbox.c — owns the sandboxed Lua state: its counting allocator and per-state context, the
** allowlisted base environment (built from an empty table; docs/reference.md, Sandbox), the
** locked string metatable, read-only proxies (and tables frozen in place), per-file
** environments, text-only loading, and the limits of one evaluation (instructions, wall clock,
** memory) with their sticky abort. No value shows an address: tostring and string.format's %s
** give a table or function as its type name, and %p is refused.
**
** A bare state (wd_sandbox_new_bare, for config files) is the same state without the
** libraries: no base table entries, no string metatable; everything below applies to it alike.
**
** Cost model. The count hook charges one step per VM instruction and reads the clock each time
** it fires. Work done inside C functions is charged too, as it happens, so that no single call
** can run long between two reads of the clock: pattern matching (pattern.c, through
** wd_sandbox_charge), the C library functions whose cost grows with their input (wrapped
** below: string.byte, string.rep, table.insert/remove/move/concat/unpack, utf8.len/codepoint/
** offset, tonumber), table.sort (our own, charging every comparison by the bytes of the strings
** it compares), and every allocation made during an evaluation (one step per
** WD_SANDBOX_BYTES_PER_STEP bytes), which covers string building (rep, upper, lower, reverse,
** sub, format, gsub, .., table.concat) and table growth. A charge reads the clock whenever
** WD_SANDBOX_CLOCK_EVERY steps have gathered.
**
** One instruction, bounded. A few VM instructions do work proportional to the strings they
** touch without calling anything we can charge: `<` on strings calls strcoll once per
** NUL-separated piece (about 6 ns a piece here: 6 ms for two 1 MiB strings of NULs), `==`
** compares whole long strings. So the length of a string is capped (limits.string_bytes,
** refused where Lua allocates the string: the allocator is told LUA_TSTRING), and the hook fires
** more often when long strings exist: every WD_SANDBOX_HOOK_BYTES / (longest string) instructions,
** between 1 and WD_SANDBOX_HOOK_COUNT. The longest string counts those made so far in this
** evaluation and those resident since loading (wd_sandbox_settle), so small policies keep the
** cheap interval and the work between two reads of the clock stays near a millisecond. Deep
** recursion is the other such case (a stack of a million slots makes one reallocation, one
** collection step or one unwinding take tens of milliseconds): past WD_SANDBOX_MAX_DEPTH nested
** calls a policy gets a stack overflow error, checked when a block of 1 MiB or more grows.
**
** Memory errors are recognised by how they happen: the allocator refused a growth and nothing
** retried it successfully. Lua retries a refused allocation once after an emergency collection
** (the same request again); the auxiliary library's buffers do not (they raise a runtime error
** reading "not enough memory"). A refusal stays pending until the same request succeeds; any
** other growth, the end of a protected call, or a failed retry makes it the sticky memory
** abort. Neither the text of an error nor its status matters: Lua 5.4's lua_error raises
** LUA_ERRMEM for the string "not enough memory", so error("not enough memory", 0) from a policy
** has the status of a memory error; it stays an ordinary error.
**
** Sticky abort. Once a limit trips, the abort kind stays set until wd_sandbox_call returns:
** the hook is re-armed with a count of 1 so every following instruction raises again, the
** pcall/xpcall wrappers re-raise instead of returning, and allocations are refused. The limit
** messages are created when the state is made and kept in the registry, so raising them again
** allocates nothing.
*/
#include "sandbox.h"

#include <assert.h>
#include <lauxlib.h>
#include <lualib.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pattern.h"
#include "time_lib.h"

_Static_assert(LUA_EXTRASPACE >= sizeof(void *), "the context pointer lives in the extra space");

enum {
    WD_SANDBOX_HOOK_COUNT = 1000,     /* most instructions between two count hooks */
    WD_SANDBOX_HOOK_BYTES = 256 << 10, /* hook interval x longest string stays under this */
    WD_SANDBOX_STRING_HEADER = 64,    /* room for Lua's string header in a string's block */
    WD_SANDBOX_CLOCK_EVERY = 1000,    /* charged steps between two reads of the clock */
    WD_SANDBOX_BYTES_PER_STEP = 64,   /* bytes allocated or scanned per charged step */
    WD_SANDBOX_COLLATE_BYTES_PER_STEP = 8, /* bytes of a string comparison per step (strcoll) */
    WD_SANDBOX_MAX_DEPTH = 10000,     /* nested calls a policy may make */
    WD_SANDBOX_BIG_BLOCK = 1 << 20,   /* a grown block this large makes the hook check the depth */
    WD_SANDBOX_BLOCK_OVERHEAD = 16,   /* malloc's own bytes per block, counted with the block */
    WD_SANDBOX_CPU_SAMPLE_MS = 10     /* the thread CPU clock is sampled at most this often */
};

/* The per-state context. Owned by the state (freed by wd_sandbox_close after lua_close, whose
** frees still go through the allocator that reads it). */
typedef struct wd_sandbox_context {
    lua_State        *L;             /* main thread: the allocator re-arms its hook */
    wd_sandbox_limits limits;
    size_t            used;          /* bytes the state holds */
    size_t            cap;           /* limits.memory, or SIZE_MAX when 0 */
    size_t            string_cap;    /* limits.string_bytes + header, or SIZE_MAX when 0 */
    bool              memory_hit;    /* the cap refused a growth since the evaluation began */
    bool              refusal_pending; /* a growth was refused and not yet retried */
    const void       *refused_block;   /* ... that request: block and new size */
    size_t            refused_size;
    size_t            longest_string;  /* largest string block made (see the top) */
    size_t            resident_string; /* ... of those that outlive an evaluation */
    bool              settled;         /* wd_sandbox_settle was called */
    int               hook_count;      /* the current count hook interval */
    bool              check_depth;     /* a large block grew: the Lua stack may be deep */
    wd_sandbox_abort  last_refusal;    /* why the allocator last refused (MEMORY or STRING) */
    int64_t           budget;        /* steps left in the running evaluation */
    int64_t           until_clock;   /* steps left before the clock is read again */
    int64_t           deadline_ns;   /* CLOCK_MONOTONIC; INT64_MAX = none */
    int64_t           cpu_sample_ns;  /* the thread's CPU clock, read at most every 10 ms ... */
    int64_t           cpu_sampled_at; /* ... at this wall time (0: never) ... */
    pthread_t         cpu_thread;     /* ... on this thread */
    int               depth;         /* wd_sandbox_call nesting; 0 = no evaluation running */
    wd_sandbox_abort  abort;         /* sticky until the outermost wd_sandbox_call returns */
    wd_sandbox_log_fn log;
    void             *log_context;
    bool              precise;       /* count hook on every instruction (explanations) */
    wd_sandbox_line_fn line;         /* line hook (coverage), or NULL */
    void             *line_context;
    char              messages[5][64]; /* indexed by wd_sandbox_abort; [0] unused */
} wd_sandbox_context;

/* Registry keys: the addresses of these bytes. */
static const char wd_sandbox_keys[7] = { 0 };
#define WD_KEY_BASE    ((const void *)&wd_sandbox_keys[0]) /* the frozen base table */
#define WD_KEY_CACHE   ((const void *)&wd_sandbox_keys[1]) /* real table -> proxy, weak keys */
#define WD_KEY_MESSAGE(kind) ((const void *)&wd_sandbox_keys[2 + (kind)]) /* limit messages */
/* Marks a proxy's metatable (its slot 2), telling our proxies apart from other tables. */
static const char wd_sandbox_proxy_tag = 0;

static void *wd_sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

static wd_sandbox_context *wd_sandbox_context_of(lua_State *L)
{
    return *(wd_sandbox_context **)lua_getextraspace(L);
}

/* The context when L was made by wd_sandbox_new, else NULL (plain states use our C functions
** too, e.g. in the pattern tests). */
static wd_sandbox_context *wd_sandbox_context_checked(lua_State *L)
{
    void *ud = NULL;
    if (lua_getallocf(L, &ud) != wd_sandbox_alloc)
        return NULL;
    return ud;
}

/* The coarse monotonic clock: read at the start of every decision, it must be cheap, and
** its resolution (a few ms, the kernel tick) is fine against deadlines of tens of ms. */
static int64_t wd_sandbox_now_ns(void)
{
    struct timespec now;
#ifdef CLOCK_MONOTONIC_COARSE
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
#else
    clock_gettime(CLOCK_MONOTONIC, &now);
#endif
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* ---------------------------------------------------------------- limits and the abort --- */

static void wd_sandbox_hook(lua_State *L, lua_Debug *ar);

/* Sets the sticky abort and re-arms the hook so the next instruction raises. Calls no
** function that can raise: the allocator uses it. */
static wd_sandbox_abort wd_sandbox_trip(wd_sandbox_context *ctx, wd_sandbox_abort kind)
{
    ctx->abort = kind;
    ctx->hook_count = 1;
    lua_sethook(ctx->L, wd_sandbox_hook, LUA_MASKCOUNT, 1);
    return kind;
}

/* The hook interval for strings up to this many bytes (see the top). */
static int wd_sandbox_interval(size_t longest)
{
    size_t count = longest > 0 ? WD_SANDBOX_HOOK_BYTES / longest : WD_SANDBOX_HOOK_COUNT;
    if (count < 1)
        count = 1;
    return count < WD_SANDBOX_HOOK_COUNT ? (int)count : WD_SANDBOX_HOOK_COUNT;
}

/* Shortens the hook interval when a longer string than any so far appears in an evaluation. */
static void wd_sandbox_note_string(wd_sandbox_context *ctx, size_t block)
{
    if (block <= ctx->longest_string)
        return;
    ctx->longest_string = block;
    if (!ctx->settled || ctx->depth == 0)
        ctx->resident_string = block;
    int count = wd_sandbox_interval(block);
    if (ctx->depth > 0 && ctx->abort == WD_SANDBOX_OK && count < ctx->hook_count) {
        ctx->hook_count = count;
        lua_sethook(ctx->L, wd_sandbox_hook, LUA_MASKCOUNT | (ctx->line != NULL ? LUA_MASKLINE : 0), count);
    }
}

/* The calling thread's CPU time, or INT64_MAX when it cannot be read. A system call (about a
** microsecond): read only as described at wd_sandbox_read_clock. */
static int64_t wd_sandbox_cpu_ns(void)
{
    struct timespec now;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) != 0)
        return INT64_MAX;
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* At the start of an evaluation: keeps a sample of the thread's CPU clock at most
** WD_SANDBOX_CPU_SAMPLE_MS old (a read per 10 ms of wall time, not one per decision). */
static void wd_sandbox_sample_cpu(wd_sandbox_context *ctx, int64_t now)
{
    pthread_t self = pthread_self();
    if (ctx->cpu_sampled_at == 0 || now - ctx->cpu_sampled_at >= WD_SANDBOX_CPU_SAMPLE_MS * 1000000 ||
        !pthread_equal(self, ctx->cpu_thread)) {
        ctx->cpu_sample_ns = wd_sandbox_cpu_ns();
        ctx->cpu_sampled_at = now;
        ctx->cpu_thread = self;
    }
}

/* The deadline is wall clock; a deadline passed is confirmed with the thread's CPU clock, so a
** thread the system did not run (preempted on a busy machine) is not blamed for it. The
** evaluation used at most (CPU now - the sample), and the sample is at most 10 ms older than
** its start: when that is below time_ms the thread was not running, and the evaluation goes on
** (the check repeats at the next read). Fails closed: an unreadable clock, another thread, or
** CPU work just before the start count against the evaluation. */
static wd_sandbox_abort wd_sandbox_read_clock(wd_sandbox_context *ctx)
{
    ctx->until_clock = WD_SANDBOX_CLOCK_EVERY;
    if (wd_sandbox_now_ns() < ctx->deadline_ns)
        return WD_SANDBOX_OK;
    int64_t cpu = wd_sandbox_cpu_ns();
    if (cpu != INT64_MAX && ctx->cpu_sample_ns != INT64_MAX && cpu >= ctx->cpu_sample_ns &&
        pthread_equal(pthread_self(), ctx->cpu_thread) && cpu - ctx->cpu_sample_ns < ctx->limits.time_ms * 1000000)
        return WD_SANDBOX_OK;
    return wd_sandbox_trip(ctx, WD_SANDBOX_TIME);
}

/* Spends steps from the budget and reads the clock when enough have gathered (always when
** clock is set). Returns the abort kind it tripped, or WD_SANDBOX_OK. Never raises. */
static wd_sandbox_abort wd_sandbox_account(wd_sandbox_context *ctx, int64_t steps, bool clock)
{
    ctx->budget -= steps;
    if (ctx->budget <= 0)
        return wd_sandbox_trip(ctx, WD_SANDBOX_INSTRUCTIONS);
    ctx->until_clock -= steps;
    if (clock || ctx->until_clock <= 0)
        return wd_sandbox_read_clock(ctx);
    return WD_SANDBOX_OK;
}

/* A refused growth nobody retried is final: it becomes the sticky memory abort. */
static void wd_sandbox_settle_refusal(wd_sandbox_context *ctx)
{
    if (ctx->refusal_pending) {
        ctx->refusal_pending = false;
        if (ctx->depth > 0 && ctx->abort == WD_SANDBOX_OK)
            wd_sandbox_trip(ctx, WD_SANDBOX_MEMORY);
    }
}

/* Raises the sticky limit error. Allocates nothing: the message string was made with the
** state, and a full stack is cleared first (we are leaving this frame anyway). */
static int wd_sandbox_raise(lua_State *L, const wd_sandbox_context *ctx)
{
    if (!lua_checkstack(L, 1))
        lua_settop(L, 0);
    lua_rawgetp(L, LUA_REGISTRYINDEX, WD_KEY_MESSAGE(ctx->abort));
    return lua_error(L);
}

static void wd_sandbox_spend(lua_State *L, wd_sandbox_context *ctx, int64_t steps, bool clock)
{
    if (ctx->abort != WD_SANDBOX_OK || wd_sandbox_account(ctx, steps, clock) != WD_SANDBOX_OK)
        wd_sandbox_raise(L, ctx);
}

static void wd_sandbox_hook(lua_State *L, lua_Debug *ar)
{
    wd_sandbox_context *ctx = wd_sandbox_context_of(L);
    if (ar->event == LUA_HOOKLINE) {
        if (ctx->line != NULL && ctx->abort == WD_SANDBOX_OK && lua_getinfo(L, "S", ar))
            ctx->line(ctx->line_context, ar->source, ar->currentline);
        return;
    }
    wd_sandbox_spend(L, ctx, ctx->hook_count, true);
    /* Deep recursion: Lua's own bound is a million stack slots, and at that depth a single
    ** stack reallocation, collection step or unwinding takes tens of milliseconds that no hook
    ** sees. Only a stack that grew past WD_SANDBOX_BIG_BLOCK is walked (lua_getstack is linear
    ** in the level asked for). */
    if (ctx->check_depth) {
        ctx->check_depth = false;
        if (lua_getstack(L, WD_SANDBOX_MAX_DEPTH, ar))
            luaL_error(L, "stack overflow (more than %d nested calls)", WD_SANDBOX_MAX_DEPTH);
    }
}

void wd_sandbox_charge(lua_State *L, int64_t steps)
{
    wd_sandbox_context *ctx = wd_sandbox_context_checked(L);
    if (ctx == NULL || ctx->depth == 0)
        return;
    wd_sandbox_spend(L, ctx, steps > 0 ? steps : 0, false);
}

/* Charges a comparison (table.sort) of the values at a and b: one step, plus the bytes of two
** strings as strcoll walks them. Reads the clock when the comparison is a long one. */
static void wd_sandbox_charge_comparison(lua_State *L, wd_sandbox_context *ctx, int a, int b)
{
    int64_t steps = 1;
    if (lua_type(L, a) == LUA_TSTRING && lua_type(L, b) == LUA_TSTRING) {
        size_t shorter = lua_rawlen(L, a) < lua_rawlen(L, b) ? lua_rawlen(L, a) : lua_rawlen(L, b);
        steps += (int64_t)(shorter / WD_SANDBOX_COLLATE_BYTES_PER_STEP);
    }
    if (ctx != NULL && ctx->depth > 0)
        wd_sandbox_spend(L, ctx, steps, false);
}

bool wd_sandbox_reserve(lua_State *L, size_t bytes)
{
    wd_sandbox_context *ctx = wd_sandbox_context_checked(L);
    if (ctx == NULL)
        return true;
    if (bytes > ctx->cap - ctx->used) {
        ctx->memory_hit = true;
        ctx->last_refusal = WD_SANDBOX_MEMORY;
        if (ctx->depth > 0 && ctx->abort == WD_SANDBOX_OK)
            wd_sandbox_trip(ctx, WD_SANDBOX_MEMORY);
        return false;
    }
    ctx->used += bytes;
    return true;
}

void wd_sandbox_release(lua_State *L, size_t bytes)
{
    wd_sandbox_context *ctx = wd_sandbox_context_checked(L);
    if (ctx != NULL)
        ctx->used -= bytes < ctx->used ? bytes : ctx->used;
}

const char *wd_sandbox_refusal(lua_State *L)
{
    wd_sandbox_context *ctx = wd_sandbox_context_checked(L);
    if (ctx == NULL || ctx->last_refusal == WD_SANDBOX_OK)
        return "not enough memory";
    return ctx->messages[ctx->last_refusal];
}

void wd_sandbox_settle(lua_State *L)
{
    wd_sandbox_context *ctx = wd_sandbox_context_checked(L);
    if (ctx == NULL)
        return;
    if (ctx->longest_string > ctx->resident_string)
        ctx->resident_string = ctx->longest_string;
    ctx->settled = true;
}

/* Refuses a growth: pending until retried (see the top), final when this is the retry. */
static void *wd_sandbox_refuse(wd_sandbox_context *ctx, const void *ptr, size_t nsize)
{
    ctx->memory_hit = true;
    ctx->last_refusal = WD_SANDBOX_MEMORY;
    if (ctx->depth == 0)
        return NULL;
    if (ctx->refusal_pending && ctx->refused_block == ptr && ctx->refused_size == nsize) {
        wd_sandbox_settle_refusal(ctx); /* the retry after an emergency collection failed too */
        return NULL;
    }
    wd_sandbox_settle_refusal(ctx); /* an earlier refusal was not retried */
    if (ctx->abort == WD_SANDBOX_OK) {
        ctx->refusal_pending = true;
        ctx->refused_block = ptr;
        ctx->refused_size = nsize;
    }
    return NULL;
}

/* Lua's allocator contract: nsize 0 frees; ptr NULL means a new block (osize is then a type
** tag, not a size); a shrink must never fail. A block counts its size plus
** WD_SANDBOX_BLOCK_OVERHEAD, so a heap of small objects cannot take far more than the cap. Growth is refused past the cap, a string past
** string_cap; during an evaluation growth is charged to the budget and refused once the
** evaluation is aborted. */
static void *wd_sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    wd_sandbox_context *ctx = ud;
    /* bytes counted for a block: its size plus what malloc keeps beside it */
    size_t old = ptr != NULL ? osize + WD_SANDBOX_BLOCK_OVERHEAD : 0;
    size_t charged = nsize + WD_SANDBOX_BLOCK_OVERHEAD;
    void *block;

    if (nsize == 0) {
        free(ptr);
        ctx->used -= old;
        return NULL;
    }
    if (charged > old) {
        size_t growth = charged - old;
        if (ctx->refusal_pending && (ctx->refused_block != ptr || ctx->refused_size != nsize))
            wd_sandbox_settle_refusal(ctx);
        if (ptr == NULL && osize == LUA_TSTRING) {
            if (nsize > ctx->string_cap) {
                ctx->last_refusal = WD_SANDBOX_STRING;
                if (ctx->depth > 0 && ctx->abort == WD_SANDBOX_OK)
                    wd_sandbox_trip(ctx, WD_SANDBOX_STRING);
                return NULL;
            }
            wd_sandbox_note_string(ctx, nsize);
        }
        if (growth > ctx->cap - ctx->used)
            return wd_sandbox_refuse(ctx, ptr, nsize);
        if (ctx->depth > 0) {
            if (ctx->abort != WD_SANDBOX_OK)
                return NULL;
            if (growth >= WD_SANDBOX_BYTES_PER_STEP &&
                wd_sandbox_account(ctx, (int64_t)(growth / WD_SANDBOX_BYTES_PER_STEP), false) != WD_SANDBOX_OK)
                return NULL;
        }
    }
    block = realloc(ptr, nsize);
    if (block == NULL) {
        if (charged > old)
            return wd_sandbox_refuse(ctx, ptr, nsize);
        block = ptr; /* a failed shrink keeps the larger block; Lua must not see it fail */
    } else if (charged > old && ctx->refusal_pending) {
        ctx->refusal_pending = false; /* the retry after an emergency collection worked */
    }
    if (nsize >= WD_SANDBOX_BIG_BLOCK && charged > old) /* 5.4.4 moves a growing stack to a new block */
        ctx->check_depth = true;
    ctx->used = ctx->used - old + charged;
    return block;
}

static int wd_sandbox_panic(lua_State *L)
{
    const char *message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(not a string)";
    fprintf(stderr, "warden: unprotected Lua error (a bug in the host code): %s\n", message);
    fflush(stderr);
    abort();
    return 0;
}

/* ------------------------------------------------------------------------ read-only proxies --- */

/* Pushes the table a proxy stands for, or raises when the value at index is not one of our
** proxies (proxy_next is reachable from scripts through pairs and may be called on anything). */
static void wd_sandbox_proxy_target(lua_State *L, int index)
{
    if (lua_type(L, index) == LUA_TTABLE && lua_getmetatable(L, index)) {
        if (lua_rawgeti(L, -1, 2) == LUA_TLIGHTUSERDATA && lua_touserdata(L, -1) == &wd_sandbox_proxy_tag) {
            lua_pop(L, 1);
            lua_rawgeti(L, -1, 1);
            lua_remove(L, -2);
            return;
        }
        lua_pop(L, 2);
    }
    luaL_error(L, "not a read-only table");
}

static bool wd_sandbox_is_proxy(lua_State *L, int index)
{
    bool proxy = false;
    if (lua_getmetatable(L, index)) {
        proxy = lua_rawgeti(L, -1, 2) == LUA_TLIGHTUSERDATA && lua_touserdata(L, -1) == &wd_sandbox_proxy_tag;
        lua_pop(L, 2);
    }
    return proxy;
}

static void wd_sandbox_wrap(lua_State *L, int index);

/* __index of a deep proxy: the real value, nested tables wrapped in their own proxies. */
static int wd_sandbox_proxy_index(lua_State *L)
{
    lua_settop(L, 2);
    wd_sandbox_proxy_target(L, 1);
    lua_pushvalue(L, 2);
    if (lua_gettable(L, 3) == LUA_TTABLE)
        wd_sandbox_wrap(L, -1);
    return 1;
}

static int wd_sandbox_proxy_newindex(lua_State *L)
{
    return luaL_error(L, "attempt to modify a read-only table");
}

static int wd_sandbox_proxy_len(lua_State *L)
{
    wd_sandbox_proxy_target(L, 1);
    lua_len(L, -1);
    return 1;
}

static int wd_sandbox_proxy_next(lua_State *L)
{
    lua_settop(L, 2);
    wd_sandbox_proxy_target(L, 1);
    lua_pushvalue(L, 2);
    if (!lua_next(L, 3)) {
        lua_pushnil(L);
        return 1;
    }
    if (lua_type(L, -1) == LUA_TTABLE) {
        wd_sandbox_wrap(L, -1);
        lua_replace(L, -2);
    }
    return 2;
}

static int wd_sandbox_proxy_pairs(lua_State *L)
{
    lua_pushcfunction(L, wd_sandbox_proxy_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* Pushes the metatable of a proxy of the table at index (see wd_sandbox_new_proxy). */
static void wd_sandbox_push_proxy_metatable(lua_State *L, int index, bool flat)
{
    index = lua_absindex(L, index);
    luaL_checkstack(L, 4, "read-only proxy");
    lua_createtable(L, 2, 5);
    lua_pushvalue(L, index);
    lua_rawseti(L, -2, 1);
    lua_pushlightuserdata(L, (void *)&wd_sandbox_proxy_tag);
    lua_rawseti(L, -2, 2);
    if (flat)
        lua_pushvalue(L, index);
    else
        lua_pushcfunction(L, wd_sandbox_proxy_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, wd_sandbox_proxy_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, wd_sandbox_proxy_len);
    lua_setfield(L, -2, "__len");
    lua_pushcfunction(L, wd_sandbox_proxy_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
}

/* Pushes a new proxy of the table at index. A flat proxy indexes the real table directly (the
** VM's fast path): only for tables that hold no tables (the library tables). */
static void wd_sandbox_new_proxy(lua_State *L, int index, bool flat)
{
    index = lua_absindex(L, index);
    lua_createtable(L, 0, 0);
    wd_sandbox_push_proxy_metatable(L, index, flat);
    lua_setmetatable(L, -2);
}

/* Pushes the (cached) deep proxy of the value at index; non-tables and proxies push as they
** are. The cache has weak keys, so a proxy lives as long as its real table. */
static void wd_sandbox_wrap(lua_State *L, int index)
{
    index = lua_absindex(L, index);
    luaL_checkstack(L, 4, "read-only proxy");
    if (lua_type(L, index) != LUA_TTABLE || wd_sandbox_is_proxy(L, index)) {
        lua_pushvalue(L, index);
        return;
    }
    lua_rawgetp(L, LUA_REGISTRYINDEX, WD_KEY_CACHE);
    lua_pushvalue(L, index);
    if (lua_rawget(L, -2) == LUA_TTABLE) {
        lua_remove(L, -2);
        return;
    }
    lua_pop(L, 1);
    wd_sandbox_new_proxy(L, index, false);
    lua_pushvalue(L, index);
    lua_pushvalue(L, -2);
    lua_rawset(L, -4);
    lua_remove(L, -2);
}

/* Replaces, in place, every nested table of the table at index by its flat read-only proxy
** (deepest first), then pushes a flat proxy of the table itself: each read is then a plain
** table lookup in the VM, with no C call. Past 64 levels (or a cycle) the rest keeps the
** deep proxy, which wraps nested tables as they are read. */
static void wd_sandbox_freeze_tree(lua_State *L, int index, int depth)
{
    index = lua_absindex(L, index);
    luaL_checkstack(L, 6, "read-only proxy");
    if (depth >= 64) {
        wd_sandbox_wrap(L, index);
        return;
    }
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        if (lua_type(L, -1) == LUA_TTABLE && !wd_sandbox_is_proxy(L, -1)) {
            wd_sandbox_freeze_tree(L, -1, depth + 1);
            lua_pushvalue(L, -3);  /* key */
            lua_insert(L, -2);
            lua_rawset(L, index); /* assigning an existing field during traversal is allowed */
        }
        lua_pop(L, 1);
    }
    wd_sandbox_new_proxy(L, index, true);
    /* remembered like deep proxies, so the same table always gives the same proxy */
    lua_rawgetp(L, LUA_REGISTRYINDEX, WD_KEY_CACHE);
    lua_pushvalue(L, index);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

void wd_sandbox_push_readonly(lua_State *L, int index)
{
    index = lua_absindex(L, index);
    if (lua_type(L, index) != LUA_TTABLE || wd_sandbox_is_proxy(L, index)) {
        lua_pushvalue(L, index);
        return;
    }
    lua_rawgetp(L, LUA_REGISTRYINDEX, WD_KEY_CACHE);
    lua_pushvalue(L, index);
    if (lua_rawget(L, -2) == LUA_TTABLE) {
        lua_remove(L, -2);
        return;
    }
    lua_pop(L, 2);
    wd_sandbox_freeze_tree(L, index, 0);
}

/* A table frozen in place keeps its identity (every upvalue, field and key that holds it still
** does): its contents move to a new backing table, and it becomes a flat proxy of that. */
void wd_sandbox_freeze_table(lua_State *L, int index)
{
    index = lua_absindex(L, index);
    if (lua_type(L, index) != LUA_TTABLE)
        return;
    if (lua_getmetatable(L, index)) { /* a proxy already, or a table of ours */
        lua_pop(L, 1);
        return;
    }
    luaL_checkstack(L, 6, "read-only table");
    lua_createtable(L, 0, 0);
    int backing = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, backing);
    }
    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, index); /* clearing existing fields during a traversal is allowed */
    }
    wd_sandbox_push_proxy_metatable(L, backing, true);
    lua_setmetatable(L, index);
    lua_settop(L, backing - 1);
}

/* ------------------------------------------------------------- charged library functions --- */

/* Runs the library C function kept as upvalue 1 on this frame's arguments. */
static int wd_sandbox_original(lua_State *L)
{
    lua_CFunction original = lua_tocfunction(L, lua_upvalueindex(1));
    return original(L);
}

static int64_t wd_sandbox_table_length(lua_State *L, int index)
{
    return lua_type(L, index) == LUA_TTABLE ? (int64_t)lua_rawlen(L, index) : 0;
}

/* Elements from first to last inclusive, as table.move/concat/unpack count them. */
static int64_t wd_sandbox_count(lua_Integer first, lua_Integer last)
{
    if (last < first)
        return 0;
    lua_Unsigned n = (lua_Unsigned)last - (lua_Unsigned)first;
    return n >= (lua_Unsigned)INT64_MAX ? INT64_MAX : (int64_t)n + 1;
}

/* Positions i..j of a string of the given length, normalised as string.byte does (arguments
** at first_arg and first_arg + 1; j defaults to i). */
static int64_t wd_sandbox_string_span(lua_State *L, size_t length, int first_arg)
{
    lua_Integer len = (lua_Integer)length;
    lua_Integer i = luaL_optinteger(L, first_arg, 1);
    lua_Integer j = luaL_optinteger(L, first_arg + 1, i);
    if (i == 0 || i < -len)
        i = 1;
    else if (i < 0)
        i = len + i + 1;
    if (j > len)
        j = len;
    else if (j < -len)
        j = 0;
    else if (j < 0)
        j = len + j + 1;
    return wd_sandbox_count(i, j);
}

static int wd_sandbox_string_byte(lua_State *L)
{
    size_t length = 0;
    luaL_checklstring(L, 1, &length);
    wd_sandbox_charge(L, wd_sandbox_string_span(L, length, 2));
    return wd_sandbox_original(L);
}

/* string.rep written here: the stock one loops n times even when the result is empty
** (string.rep("", 1e18) never ends), and we want the memory cap checked before the work. */
static int wd_sandbox_string_rep(lua_State *L)
{
    size_t length = 0, separator_length = 0;
    const char *text = luaL_checklstring(L, 1, &length);
    lua_Integer n = luaL_checkinteger(L, 2);
    const char *separator = luaL_optlstring(L, 3, "", &separator_length);
    wd_sandbox_context *ctx = wd_sandbox_context_checked(L);

    if (n <= 0 || (length == 0 && (separator_length == 0 || n == 1))) {
        lua_pushliteral(L, "");
        return 1;
    }
    size_t piece = length + separator_length;
    size_t limit = ctx != NULL ? ctx->cap - ctx->used : (size_t)LUA_MAXINTEGER;
    bool too_long = piece < length || (lua_Unsigned)n > (lua_Unsigned)(SIZE_MAX / piece);
    size_t result_length = too_long ? SIZE_MAX : (size_t)n * piece - separator_length;
    if (ctx != NULL && ctx->limits.string_bytes > 0 && result_length > ctx->limits.string_bytes) {
        if (ctx->depth > 0) {
            if (ctx->abort == WD_SANDBOX_OK)
                wd_sandbox_trip(ctx, WD_SANDBOX_STRING);
            return wd_sandbox_raise(L, ctx);
        }
        return luaL_error(L, "resulting string too large");
    }
    if (too_long || result_length > limit) {
        if (ctx != NULL && ctx->depth > 0) {
            if (ctx->abort == WD_SANDBOX_OK)
                wd_sandbox_trip(ctx, WD_SANDBOX_MEMORY);
            return wd_sandbox_raise(L, ctx);
        }
        return luaL_error(L, "resulting string too large");
    }
    size_t total = (size_t)n * piece - separator_length;
    luaL_Buffer buffer;
    char *out = luaL_buffinitsize(L, &buffer, total);
    /* one piece, then doubling copies: a handful of memcpy calls whatever n is */
    memcpy(out, text, length);
    if (separator_length > 0 && total > length)
        memcpy(out + length, separator, separator_length);
    size_t done = total < piece ? total : piece;
    while (done < total) {
        size_t chunk = done <= total - done ? done : total - done;
        memcpy(out + done, out, chunk);
        done += chunk;
    }
    luaL_pushresultsize(&buffer, total);
    return 1;
}

static int wd_sandbox_table_insert(lua_State *L)
{
    if (lua_gettop(L) >= 3) /* insertion at a position shifts the elements after it */
        wd_sandbox_charge(L, wd_sandbox_table_length(L, 1));
    return wd_sandbox_original(L);
}

static int wd_sandbox_table_remove(lua_State *L)
{
    if (lua_gettop(L) >= 2)
        wd_sandbox_charge(L, wd_sandbox_table_length(L, 1));
    return wd_sandbox_original(L);
}

static int wd_sandbox_table_move(lua_State *L)
{
    /* the stock loop runs e - f + 1 times even over absent elements */
    lua_Integer first = luaL_checkinteger(L, 2);
    lua_Integer last = luaL_checkinteger(L, 3);
    wd_sandbox_charge(L, wd_sandbox_count(first, last));
    return wd_sandbox_original(L);
}

/* table.sort: Lua 5.4's algorithm (ltablib.c: quicksort, median of three, the smaller part
** first) with every comparison charged as it happens (wd_sandbox_charge_comparison), so a
** sort of long strings or with a costly comparator stops at the deadline like any loop. The
** pivot of an unbalanced large part is varied by a hash of its bounds instead of the clock:
** decisions stay reproducible, and a worst case costs comparisons, which are charged. */
typedef unsigned int wd_sort_index;

static bool wd_sort_less(lua_State *L, wd_sandbox_context *ctx, int a, int b)
{
    wd_sandbox_charge_comparison(L, ctx, a, b);
    if (lua_isnil(L, 2))
        return lua_compare(L, a, b, LUA_OPLT);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, a - 1);
    lua_pushvalue(L, b - 2);
    lua_call(L, 2, 1);
    bool less = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return less;
}

static void wd_sort_set2(lua_State *L, wd_sort_index i, wd_sort_index j)
{
    lua_seti(L, 1, i);
    lua_seti(L, 1, j);
}

static wd_sort_index wd_sort_partition(lua_State *L, wd_sandbox_context *ctx, wd_sort_index lo, wd_sort_index up)
{
    wd_sort_index i = lo, j = up - 1;
    for (;;) {
        while (lua_geti(L, 1, ++i), wd_sort_less(L, ctx, -1, -2)) {
            if (i == up - 1)
                luaL_error(L, "invalid order function for sorting");
            lua_pop(L, 1);
        }
        while (lua_geti(L, 1, --j), wd_sort_less(L, ctx, -3, -1)) {
            if (j < i)
                luaL_error(L, "invalid order function for sorting");
            lua_pop(L, 1);
        }
        if (j < i) {
            lua_pop(L, 1);
            wd_sort_set2(L, up - 1, i);
            return i;
        }
        wd_sort_set2(L, i, j);
    }
}

static void wd_sort_range(lua_State *L, wd_sandbox_context *ctx, wd_sort_index lo, wd_sort_index up, unsigned rnd)
{
    while (lo < up) {
        wd_sort_index p, n;
        lua_geti(L, 1, lo);
        lua_geti(L, 1, up);
        if (wd_sort_less(L, ctx, -1, -2))
            wd_sort_set2(L, lo, up);
        else
            lua_pop(L, 2);
        if (up - lo == 1)
            break;
        if (up - lo < 100 || rnd == 0)
            p = (lo + up) / 2;
        else {
            wd_sort_index r4 = (up - lo) / 4;
            p = rnd % (r4 * 2) + (lo + r4);
        }
        lua_geti(L, 1, p);
        lua_geti(L, 1, lo);
        if (wd_sort_less(L, ctx, -2, -1))
            wd_sort_set2(L, p, lo);
        else {
            lua_pop(L, 1);
            lua_geti(L, 1, up);
            if (wd_sort_less(L, ctx, -1, -2))
                wd_sort_set2(L, p, up);
            else
                lua_pop(L, 2);
        }
        if (up - lo == 2)
            break;
        lua_geti(L, 1, p);
        lua_pushvalue(L, -1);
        lua_geti(L, 1, up - 1);
        wd_sort_set2(L, p, up - 1);
        p = wd_sort_partition(L, ctx, lo, up);
        if (p - lo < up - p) {
            wd_sort_range(L, ctx, lo, p - 1, rnd);
            n = p - lo;
            lo = p + 1;
        } else {
            wd_sort_range(L, ctx, p + 1, up, rnd);
            n = up - p;
            up = p - 1;
        }
        if ((up - lo) / 128 > n)
            rnd = ((unsigned)lo * 2654435761u) ^ (unsigned)up ^ 0x9e3779b9u;
    }
}

static int wd_sandbox_table_sort(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1);
    if (n > 1) {
        luaL_argcheck(L, n < INT_MAX, 1, "array too big");
        if (!lua_isnoneornil(L, 2))
            luaL_checktype(L, 2, LUA_TFUNCTION);
        lua_settop(L, 2);
        wd_sort_range(L, wd_sandbox_context_checked(L), 1, (wd_sort_index)n, 0);
    }
    return 0;
}

/* The range of table.concat(list, sep, i, j) and table.unpack(list, i, j); j defaults to #list
** as the library computes it (a proxy's __len included). */
static int64_t wd_sandbox_list_range(lua_State *L, int first_arg)
{
    lua_Integer first = luaL_optinteger(L, first_arg, 1);
    lua_Integer last = 0;
    if (!lua_isnoneornil(L, first_arg + 1))
        last = luaL_checkinteger(L, first_arg + 1);
    else if (lua_type(L, 1) == LUA_TTABLE)
        last = luaL_len(L, 1);
    return wd_sandbox_count(first, last);
}

static int wd_sandbox_table_concat(lua_State *L)
{
    wd_sandbox_charge(L, wd_sandbox_list_range(L, 3));
    return wd_sandbox_original(L);
}

static int wd_sandbox_table_unpack(lua_State *L)
{
    wd_sandbox_charge(L, wd_sandbox_list_range(L, 2));
    return wd_sandbox_original(L);
}

/* Charges the byte length of a string argument (scans in C: utf8.len, utf8.offset, tonumber). */
static int wd_sandbox_scan_string(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING)
        wd_sandbox_charge(L, (int64_t)(lua_rawlen(L, 1) / WD_SANDBOX_BYTES_PER_STEP));
    return wd_sandbox_original(L);
}

static int wd_sandbox_utf8_codepoint(lua_State *L)
{
    size_t length = 0;
    luaL_checklstring(L, 1, &length);
    wd_sandbox_charge(L, wd_sandbox_string_span(L, length, 2));
    return wd_sandbox_original(L);
}

/* ------------------------------------------------------------ values without addresses --- */

/* True for the types whose text carries no address (and that never run a metamethod here). */
static bool wd_sandbox_plain_type(int type)
{
    return type == LUA_TNIL || type == LUA_TBOOLEAN || type == LUA_TNUMBER || type == LUA_TSTRING;
}

/* tostring: strings, numbers, booleans and nil as the library writes them; any other value is
** its type name alone ("table", "function"), never "table: 0x55d0c3a2e4f0": an address tells a
** policy about the host's memory layout, and differs between replicas. */
static int wd_sandbox_tostring(lua_State *L)
{
    luaL_checkany(L, 1);
    if (!wd_sandbox_plain_type(lua_type(L, 1))) {
        lua_pushstring(L, luaL_typename(L, 1));
        return 1;
    }
    lua_settop(L, 1);
    return wd_sandbox_original(L);
}

/* string.format: %p (an address) is refused, and %s shows a table, function, userdata or
** thread as its type name, as tostring does. The rest of the format is Lua's to check. */
static int wd_sandbox_string_format(lua_State *L)
{
    static const char modifiers[] = "-+ #0123456789.";
    size_t length = 0;
    const char *format = luaL_checklstring(L, 1, &length);
    int arg = 1;

    for (size_t i = 0; i < length; i++) {
        if (format[i] != '%')
            continue;
        if (++i < length && format[i] == '%')
            continue;
        while (i < length && memchr(modifiers, format[i], sizeof modifiers - 1) != NULL)
            i++;
        if (i >= length)
            break;
        arg++;
        if (format[i] == 'p')
            return luaL_error(L, "bad argument #%d to 'format' (%%p is not available: it shows an address)", arg);
        if (format[i] == 's' && arg <= lua_gettop(L) && !wd_sandbox_plain_type(lua_type(L, arg))) {
            lua_pushstring(L, luaL_typename(L, arg));
            lua_replace(L, arg);
        }
    }
    return wd_sandbox_original(L);
}

/* next: our read-only tables (data, frozen file-level tables) are empty proxies; next walks
** the table behind one, as pairs does, so both work on them. */
static int wd_sandbox_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    if (wd_sandbox_is_proxy(L, 1))
        return wd_sandbox_proxy_next(L);
    return wd_sandbox_original(L);
}

/* --------------------------------------------------------------- pcall, xpcall and log --- */

/* After a protected call made by a script: a limit is never returned as a value. */
static int wd_sandbox_finish_pcall(lua_State *L, int status, int extra)
{
    wd_sandbox_context *ctx = wd_sandbox_context_of(L);
    if (ctx->depth > 0) {
        wd_sandbox_settle_refusal(ctx);
        if (ctx->abort != WD_SANDBOX_OK)
            return wd_sandbox_raise(L, ctx);
    }
    if (status != LUA_OK) {
        lua_pushboolean(L, 0);
        lua_pushvalue(L, -2);
        return 2;
    }
    return lua_gettop(L) - extra;
}

static int wd_sandbox_pcall(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_pushboolean(L, 1); /* the first result when there is no error */
    lua_insert(L, 1);
    int status = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
    return wd_sandbox_finish_pcall(L, status, 0);
}

static int wd_sandbox_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushboolean(L, 1);
    lua_pushvalue(L, 1);
    lua_rotate(L, 3, 2); /* true and the function go below the arguments */
    int status = lua_pcall(L, n - 2, LUA_MULTRET, 2);
    return wd_sandbox_finish_pcall(L, status, 2);
}

/* log(...): the arguments rendered like tostring for strings, numbers, booleans and nil, as
** "<type>" for anything else (no __tostring ever runs), joined with tabs. */
static int wd_sandbox_log(lua_State *L)
{
    wd_sandbox_context *ctx = wd_sandbox_context_of(L);
    int n = lua_gettop(L);
    luaL_Buffer buffer;
    size_t length = 0;

    luaL_buffinit(L, &buffer);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&buffer, '\t');
        switch (lua_type(L, i)) {
        case LUA_TSTRING:
            lua_pushvalue(L, i);
            luaL_addvalue(&buffer);
            break;
        case LUA_TNUMBER:
            lua_pushvalue(L, i);
            lua_tolstring(L, -1, NULL); /* converts the copy */
            luaL_addvalue(&buffer);
            break;
        case LUA_TBOOLEAN:
            luaL_addstring(&buffer, lua_toboolean(L, i) ? "true" : "false");
            break;
        case LUA_TNIL:
            luaL_addstring(&buffer, "nil");
            break;
        default:
            luaL_addchar(&buffer, '<');
            luaL_addstring(&buffer, luaL_typename(L, i));
            luaL_addchar(&buffer, '>');
            break;
        }
    }
    luaL_pushresult(&buffer);
    const char *line = lua_tolstring(L, -1, &length);
    if (ctx->log != NULL)
        ctx->log(ctx->log_context, line, length);
    return 0;
}

/* ------------------------------------------------------------- explanations, coverage --- */

void wd_sandbox_set_log(lua_State *L, wd_sandbox_log_fn log, void *log_context)
{
    wd_sandbox_context *ctx = wd_sandbox_context_checked(L);
    if (ctx != NULL) {
        ctx->log = log;
        ctx->log_context = log_context;
    }
}

void wd_sandbox_get_log(lua_State *L, wd_sandbox_log_fn *log, void **log_context)
{
    wd_sandbox_context *ctx = wd_sandbox_context_checked(L);
    *log = ctx != NULL ? ctx->log : NULL;
    *log_context = ctx != NULL ? ctx->log_context : NULL;
}

void wd_sandbox_set_precise(lua_State *L, bool precise)
{
    wd_sandbox_context *ctx = wd_sandbox_context_checked(L);
    if (ctx != NULL)
        ctx->precise = precise;
}

int64_t wd_sandbox_spent(lua_State *L)
{
    wd_sandbox_context *ctx = wd_sandbox_context_checked(L);
    if (ctx == NULL || ctx->depth == 0)
        return 0;
    int64_t limit = ctx->limits.instructions > 0 ? ctx->limits.instructions : INT64_MAX;
    return limit - ctx->budget;
}

void wd_sandbox_set_line_hook(lua_State *L, wd_sandbox_line_fn line, void *context)
{
    wd_sandbox_context *ctx = wd_sandbox_context_checked(L);
    if (ctx != NULL) {
        ctx->line = line;
        ctx->line_context = context;
    }
}

/* --------------------------------------------------------------------------------- setup --- */

typedef struct wd_sandbox_entry {
    const char   *name;
    lua_CFunction wrapper; /* NULL: the library function as it is; else a closure over it */
} wd_sandbox_entry;

/* Every global name a policy environment offers (sandbox.h); wd_sandbox_setup below builds
** exactly these. */
const char *const wd_sandbox_globals[] = {
    "assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawlen", "select", "tonumber",
    "tostring", "type", "xpcall", "string", "table", "math", "utf8", "time", "log", NULL,
};

/* Base functions taken from the standard base library as they are. pcall, xpcall, log,
** tonumber, tostring and next are set separately. */
static const char *const wd_sandbox_base_names[] = {
    "assert", "error", "ipairs", "pairs", "rawequal", "rawlen", "select", "type", NULL
};

/* string.find/match/gmatch/gsub come from pattern.c, string.rep from this file; string.dump
** is deliberately absent. */
static const wd_sandbox_entry wd_sandbox_string_entries[] = {
    { "byte", wd_sandbox_string_byte }, { "char", NULL }, { "format", wd_sandbox_string_format }, { "len", NULL },
    { "lower", NULL }, { "reverse", NULL }, { "sub", NULL }, { "upper", NULL }, { NULL, NULL }
};

static const wd_sandbox_entry wd_sandbox_table_entries[] = {
    { "concat", wd_sandbox_table_concat }, { "insert", wd_sandbox_table_insert },
    { "move", wd_sandbox_table_move },     { "pack", NULL },
    { "remove", wd_sandbox_table_remove },
    { "unpack", wd_sandbox_table_unpack }, { NULL, NULL }
};

static const wd_sandbox_entry wd_sandbox_utf8_entries[] = {
    { "char", NULL }, { "charpattern", NULL }, { "codepoint", wd_sandbox_utf8_codepoint },
    { "codes", NULL }, { "len", wd_sandbox_scan_string }, { "offset", wd_sandbox_scan_string },
    { NULL, NULL }
};

/* Sets to[name] = from[name] (or a charging closure over it); raises when the library lacks it. */
static void wd_sandbox_copy(lua_State *L, int from, int to, const char *name, lua_CFunction wrapper)
{
    if (lua_getfield(L, from, name) == LUA_TNIL)
        luaL_error(L, "sandbox setup: the library has no '%s'", name);
    if (wrapper != NULL) {
        if (lua_tocfunction(L, -1) == NULL)
            luaL_error(L, "sandbox setup: '%s' is not a C function", name);
        lua_pushcclosure(L, wrapper, 1);
    }
    lua_setfield(L, to, name);
}

static void wd_sandbox_copy_entries(lua_State *L, int from, int to, const wd_sandbox_entry *entries)
{
    for (const wd_sandbox_entry *e = entries; e->name != NULL; e++)
        wd_sandbox_copy(L, from, to, e->name, e->wrapper);
}

/* Opens a standard library privately (it lands in the registry's loaded table, which no
** script can reach) and pushes it. */
static int wd_sandbox_open_private(lua_State *L, const char *name, lua_CFunction open)
{
    luaL_requiref(L, name, open, 0);
    return lua_gettop(L);
}

/* Sets base[name] to a flat read-only proxy of the library table at index table. */
static void wd_sandbox_publish(lua_State *L, int base, const char *name, int table)
{
    wd_sandbox_new_proxy(L, table, true);
    lua_setfield(L, base, name);
}

/* Runs protected when a state is made: argument 1 is the context, argument 2 whether the
** libraries are offered (a policy state) or not (a bare state, see wd_sandbox_new_bare). */
static int wd_sandbox_setup(lua_State *L)
{
    wd_sandbox_context *ctx = lua_touserdata(L, 1);
    bool libraries = lua_toboolean(L, 2);
    lua_settop(L, 0);
    /* Incremental only: 5.4.4's generational mode has known bugs. A policy state's heap is
    ** small and every decision leaves a little garbage: with a pause of 400 % a cycle starts
    ** only when the heap has quadrupled, and a step multiplier of 400 % finishes it in few
    ** steps, which keeps collection out of most decisions (measured: p99 from 10 to 4.5 us
    ** in bench/decide). The memory cap still holds: a refused allocation runs a full
    ** emergency collection before it fails. */
    lua_gc(L, LUA_GCINC, 400, 400, 0);

    for (int kind = WD_SANDBOX_INSTRUCTIONS; kind <= WD_SANDBOX_STRING; kind++) {
        lua_pushstring(L, ctx->messages[kind]);
        lua_rawsetp(L, LUA_REGISTRYINDEX, WD_KEY_MESSAGE(kind));
    }

    lua_createtable(L, 0, 0); /* the proxy cache */
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, WD_KEY_CACHE);

    lua_createtable(L, 0, libraries ? 24 : 0);
    int base = lua_gettop(L);
    if (!libraries) { /* no library is opened: strings have no metatable, the base stays empty */
        lua_rawsetp(L, LUA_REGISTRYINDEX, WD_KEY_BASE);
        return 0;
    }

    /* The base library writes into the state's global table; take what is allowed, then
    ** empty that table so a chunk loaded without our environment finds nothing in it. */
    int g = wd_sandbox_open_private(L, "_G", luaopen_base);
    for (const char *const *name = wd_sandbox_base_names; *name != NULL; name++)
        wd_sandbox_copy(L, g, base, *name, NULL);
    wd_sandbox_copy(L, g, base, "tonumber", wd_sandbox_scan_string);
    wd_sandbox_copy(L, g, base, "tostring", wd_sandbox_tostring);
    wd_sandbox_copy(L, g, base, "next", wd_sandbox_next);
    lua_pushnil(L);
    while (lua_next(L, g)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, g); /* clearing existing fields during a traversal is allowed */
    }
    lua_settop(L, base);
    lua_pushcfunction(L, wd_sandbox_pcall);
    lua_setfield(L, base, "pcall");
    lua_pushcfunction(L, wd_sandbox_xpcall);
    lua_setfield(L, base, "xpcall");
    lua_pushcfunction(L, wd_sandbox_log);
    lua_setfield(L, base, "log");

    /* string: a fresh table, the locked string metatable reads through its proxy */
    int full_string = wd_sandbox_open_private(L, "string", luaopen_string);
    lua_createtable(L, 0, 13);
    int string = lua_gettop(L);
    wd_sandbox_copy_entries(L, full_string, string, wd_sandbox_string_entries);
    lua_pushcfunction(L, wd_sandbox_string_rep);
    lua_setfield(L, string, "rep");
    wd_pattern_register(L, string);
    wd_sandbox_new_proxy(L, string, true);
    int string_proxy = lua_gettop(L);
    lua_pushvalue(L, string_proxy);
    lua_setfield(L, base, "string");
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, string_proxy);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pushliteral(L, "");
    lua_insert(L, -2);
    lua_setmetatable(L, -2); /* replaces the one luaopen_string set (whose __index has dump) */
    lua_settop(L, base);

    int full_table = wd_sandbox_open_private(L, "table", luaopen_table);
    lua_createtable(L, 0, 7);
    int table = lua_gettop(L);
    wd_sandbox_copy_entries(L, full_table, table, wd_sandbox_table_entries);
    lua_pushcfunction(L, wd_sandbox_table_sort);
    lua_setfield(L, table, "sort");
    wd_sandbox_publish(L, base, "table", table);
    lua_settop(L, base);

    /* math: everything but the random generator (not reproducible between replicas) */
    int full_math = wd_sandbox_open_private(L, "math", luaopen_math);
    lua_createtable(L, 0, 32);
    int math = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, full_math)) {
        const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
        if (strcmp(name, "random") == 0 || strcmp(name, "randomseed") == 0) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, math);
    }
    wd_sandbox_publish(L, base, "math", math);
    lua_settop(L, base);

    int full_utf8 = wd_sandbox_open_private(L, "utf8", luaopen_utf8);
    lua_createtable(L, 0, 6);
    int utf8 = lua_gettop(L);
    wd_sandbox_copy_entries(L, full_utf8, utf8, wd_sandbox_utf8_entries);
    wd_sandbox_publish(L, base, "utf8", utf8);
    lua_settop(L, base);

    lua_createtable(L, 0, 3);
    int time = lua_gettop(L);
    wd_time_lib_register(L, time);
    wd_sandbox_publish(L, base, "time", time);
    lua_settop(L, base);

    lua_rawsetp(L, LUA_REGISTRYINDEX, WD_KEY_BASE);
    return 0;
}

static void wd_sandbox_format_messages(wd_sandbox_context *ctx)
{
    snprintf(ctx->messages[WD_SANDBOX_INSTRUCTIONS], sizeof ctx->messages[0], "instruction limit exceeded (%lld)",
             (long long)ctx->limits.instructions);
    snprintf(ctx->messages[WD_SANDBOX_TIME], sizeof ctx->messages[0], "time limit exceeded (%lld ms)",
             (long long)ctx->limits.time_ms);
    snprintf(ctx->messages[WD_SANDBOX_MEMORY], sizeof ctx->messages[0], "memory limit exceeded (%zu bytes)",
             ctx->limits.memory);
    snprintf(ctx->messages[WD_SANDBOX_STRING], sizeof ctx->messages[0], "string limit exceeded (%zu bytes)",
             ctx->limits.string_bytes);
}

static lua_State *wd_sandbox_open(const wd_sandbox_limits *limits, wd_sandbox_log_fn log, void *log_context,
                                  bool libraries)
{
    static const wd_sandbox_limits defaults = WD_SANDBOX_DEFAULT_LIMITS;
    wd_sandbox_context *ctx = calloc(1, sizeof *ctx);
    lua_State *L = NULL;

    if (ctx == NULL)
        goto done;
    ctx->limits = limits != NULL ? *limits : defaults;
    ctx->cap = ctx->limits.memory > 0 ? ctx->limits.memory : SIZE_MAX;
    ctx->string_cap = ctx->limits.string_bytes > 0 && ctx->limits.string_bytes < SIZE_MAX - WD_SANDBOX_STRING_HEADER
                          ? ctx->limits.string_bytes + WD_SANDBOX_STRING_HEADER
                          : SIZE_MAX;
    ctx->hook_count = WD_SANDBOX_HOOK_COUNT;
    ctx->log = log;
    ctx->log_context = log_context;
    wd_sandbox_format_messages(ctx);

    L = lua_newstate(wd_sandbox_alloc, ctx);
    if (L == NULL)
        goto done;
    ctx->L = L;
    *(wd_sandbox_context **)lua_getextraspace(L) = ctx;
    lua_atpanic(L, wd_sandbox_panic);
    lua_pushcfunction(L, wd_sandbox_setup);
    lua_pushlightuserdata(L, ctx);
    lua_pushboolean(L, libraries);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
        lua_close(L); /* still needs ctx: its frees go through the allocator */
        L = NULL;
    }
done:
    if (L == NULL)
        free(ctx);
    return L;
}

lua_State *wd_sandbox_new(const wd_sandbox_limits *limits, wd_sandbox_log_fn log, void *log_context)
{
    return wd_sandbox_open(limits, log, log_context, true);
}

lua_State *wd_sandbox_new_bare(const wd_sandbox_limits *limits)
{
    assert(limits != NULL);
    return wd_sandbox_open(limits, NULL, NULL, false);
}

void wd_sandbox_close(lua_State *L)
{
    if (L == NULL)
        return;
    wd_sandbox_context *ctx = wd_sandbox_context_checked(L);
    lua_close(L);
    free(ctx);
}

size_t wd_sandbox_memory(lua_State *L)
{
    wd_sandbox_context *ctx = wd_sandbox_context_checked(L);
    return ctx != NULL ? ctx->used : 0;
}

/* -------------------------------------------------------------------------- environments --- */

/* __newindex of an environment: the environment itself stays empty, so every assignment
** lands here; globals go into its store (its __index) until the environment is frozen. */
static int wd_sandbox_env_newindex(lua_State *L)
{
    lua_settop(L, 3);
    lua_getmetatable(L, 1);
    if (lua_rawgeti(L, 4, 1) != LUA_TBOOLEAN || lua_toboolean(L, 5))
        return luaL_error(L, "globals are read-only");
    lua_rawgeti(L, 4, 2); /* the store */
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 3);
    lua_rawset(L, 6);
    return 0;
}

/* Pushes { } with metatable { __index = index_value (popped), __metatable = false }. */
static void wd_sandbox_push_chained(lua_State *L, int narr, int nrec)
{
    lua_createtable(L, narr, nrec);
    lua_createtable(L, 0, 2);
    lua_rotate(L, -3, -1); /* index_value on top */
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
}

/* Copies the fields of the table at from into the table at to (raw). */
static void wd_sandbox_copy_all(lua_State *L, int from, int to)
{
    lua_pushnil(L);
    while (lua_next(L, from)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, to);
    }
}

/* The environment is three tables: env (always empty; what _ENV is) -> store (the globals the
** file sets while it loads) -> view (this file's copy of base, then extras over it). Keeping
** env empty makes every assignment reach __newindex, also for a global that already exists.
** The extras are copied when the environment is made. */
void wd_sandbox_push_env(lua_State *L, int extras_index)
{
    extras_index = extras_index != 0 ? lua_absindex(L, extras_index) : 0;
    luaL_checkstack(L, 8, "environment");
    int top = lua_gettop(L);

    lua_createtable(L, 0, 32); /* the view */
    lua_rawgetp(L, LUA_REGISTRYINDEX, WD_KEY_BASE);
    wd_sandbox_copy_all(L, top + 2, top + 1);
    lua_pop(L, 1);
    if (extras_index != 0 && lua_type(L, extras_index) == LUA_TTABLE)
        wd_sandbox_copy_all(L, extras_index, top + 1);

    wd_sandbox_push_chained(L, 0, 0); /* the store, reading through to the view (popped) */
    int store = lua_gettop(L);

    lua_createtable(L, 0, 0); /* the environment */
    lua_createtable(L, 2, 3);
    lua_pushboolean(L, 0); /* [1]: frozen; its slot exists now so freezing cannot allocate */
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, store); /* [2]: the store, for __newindex */
    lua_rawseti(L, -2, 2);
    lua_pushvalue(L, store);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, wd_sandbox_env_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_remove(L, store);
}

void wd_sandbox_push_globals(lua_State *L, int env_index)
{
    if (!lua_getmetatable(L, env_index)) {
        lua_pushnil(L);
        return;
    }
    lua_rawgeti(L, -1, 2);
    lua_remove(L, -2);
}

void wd_sandbox_freeze_env(lua_State *L, int env_index)
{
    if (!lua_getmetatable(L, env_index))
        return;
    if (lua_rawgeti(L, -1, 1) == LUA_TBOOLEAN) {
        lua_pushboolean(L, 1);
        lua_rawseti(L, -3, 1); /* the slot exists: no allocation */
    }
    lua_pop(L, 2);
}

/* ------------------------------------------------------------------ loading and calling --- */

/* The text of an error value, never running a metamethod and never allocating. */
static void wd_sandbox_describe(lua_State *L, int index, char *error, size_t capacity)
{
    if (error == NULL || capacity == 0)
        return;
    switch (lua_type(L, index)) {
    case LUA_TSTRING: {
        size_t length = 0;
        const char *text = lua_tolstring(L, index, &length);
        size_t n = length < capacity - 1 ? length : capacity - 1;
        memcpy(error, text, n);
        error[n] = '\0';
        break;
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, index))
            snprintf(error, capacity, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, index));
        else
            snprintf(error, capacity, LUA_NUMBER_FMT, (LUAI_UACNUMBER)lua_tonumber(L, index));
        break;
    default:
        snprintf(error, capacity, "(error object is a %s value)", luaL_typename(L, index));
        break;
    }
}

static void wd_sandbox_set_error(char *error, size_t capacity, const char *text)
{
    if (error != NULL && capacity > 0)
        snprintf(error, capacity, "%s", text);
}

int wd_sandbox_load(lua_State *L, const char *source, size_t length, const char *chunkname, int env_index,
                    char *error, size_t capacity)
{
    char name[256];
    const char *shown = chunkname != NULL ? chunkname : "?";
    int result = -1;

    env_index = lua_absindex(L, env_index);
    if (source == NULL && length > 0) {
        wd_sandbox_set_error(error, capacity, "no source");
        goto done;
    }
    /* Lua takes any chunk starting with ESC as bytecode; none is ever accepted */
    if (length > 0 && source[0] == LUA_SIGNATURE[0]) {
        if (error != NULL && capacity > 0)
            snprintf(error, capacity, "%s: binary chunks are not accepted", shown);
        goto done;
    }
    if (!lua_checkstack(L, 2)) {
        wd_sandbox_set_error(error, capacity, "Lua stack overflow");
        goto done;
    }
    /* "@name" makes Lua print the name as it is ("name:line:"); Lua keeps the tail of long
    ** names, and so do we */
    size_t shown_length = strlen(shown);
    if (shown_length > sizeof name - 2)
        shown += shown_length - (sizeof name - 2);
    snprintf(name, sizeof name, "@%s", shown);
    int status = luaL_loadbufferx(L, source != NULL ? source : "", length, name, "t");
    if (status == LUA_ERRMEM) {
        if (error != NULL && capacity > 0)
            snprintf(error, capacity, "%s: %s", shown, wd_sandbox_refusal(L));
        lua_pop(L, 1);
        goto done;
    }
    if (status != LUA_OK) {
        wd_sandbox_describe(L, -1, error, capacity);
        lua_pop(L, 1);
        goto done;
    }
    lua_pushvalue(L, env_index);
    if (lua_setupvalue(L, -2, 1) == NULL) /* a main chunk always has _ENV as upvalue 1 */
        lua_pop(L, 1);
    result = 0;
done:
    return result;
}

/* The message handler of wd_sandbox_call: the error value as it is (no traceback). */

int wd_sandbox_call(lua_State *L, int nargs, int nresults, char *error, size_t capacity)
{
    wd_sandbox_context *ctx = wd_sandbox_context_checked(L);
    int function = lua_gettop(L) - nargs;
    bool outer = ctx != NULL && ctx->depth == 0;
    int result = -1;

    if (function < 1 || !lua_checkstack(L, 1)) {
        wd_sandbox_set_error(error, capacity, function < 1 ? "no function to call" : "Lua stack overflow");
        lua_settop(L, function > 0 ? function - 1 : 0);
        goto done;
    }
    if (outer) {
        ctx->budget = ctx->limits.instructions > 0 ? ctx->limits.instructions : INT64_MAX;
        ctx->until_clock = WD_SANDBOX_CLOCK_EVERY;
        ctx->deadline_ns = INT64_MAX;
        if (ctx->limits.time_ms > 0 && ctx->limits.time_ms < INT64_MAX / 2000000) {
            int64_t now = wd_sandbox_now_ns();
            if (now < INT64_MAX / 2)
                ctx->deadline_ns = now + ctx->limits.time_ms * 1000000;
            wd_sandbox_sample_cpu(ctx, now);
        }
        ctx->abort = WD_SANDBOX_OK;
        ctx->memory_hit = false;
        ctx->refusal_pending = false;
        ctx->longest_string = ctx->resident_string;
        ctx->hook_count = ctx->precise ? 1 : wd_sandbox_interval(ctx->longest_string);
        lua_sethook(L, wd_sandbox_hook, LUA_MASKCOUNT | (ctx->line != NULL ? LUA_MASKLINE : 0), ctx->hook_count);
    }
    if (ctx != NULL)
        ctx->depth++;
    /* No message handler: the error value is reported as it is (no traceback), and pushing
    ** one per call costs more than a short `when` does. */
    int status = lua_pcall(L, nargs, nresults, 0);

    /* Classify: the sticky kind first (a limit may surface as any error, or even as a normal
    ** return when it tripped on the last allocation), then running out of memory. */
    wd_sandbox_abort kind = WD_SANDBOX_OK;
    if (ctx != NULL) {
        /* How it ended, not what it said: a refusal nobody retried and — even after a normal
        ** return — a budget spent or a deadline passed while C code ran are limits. The status
        ** is not evidence: lua_error turns the string "not enough memory" into LUA_ERRMEM. */
        wd_sandbox_settle_refusal(ctx);
        if (ctx->abort == WD_SANDBOX_OK && ctx->budget <= 0)
            wd_sandbox_trip(ctx, WD_SANDBOX_INSTRUCTIONS);
        if (ctx->abort == WD_SANDBOX_OK)
            wd_sandbox_read_clock(ctx);
        ctx->depth--;
        kind = ctx->abort;
        if (outer) {
            lua_sethook(L, NULL, 0, 0);
            ctx->abort = WD_SANDBOX_OK;
        }
    } else if (status == LUA_ERRMEM) {
        kind = WD_SANDBOX_MEMORY;
    }

    if (kind != WD_SANDBOX_OK) {
        wd_sandbox_set_error(error, capacity, ctx != NULL ? ctx->messages[kind] : "not enough memory");
        result = (int)kind;
        lua_settop(L, function - 1);
        if (outer && kind == WD_SANDBOX_MEMORY)
            lua_gc(L, LUA_GCCOLLECT); /* give the garbage of the failed evaluation back now */
    } else if (status != LUA_OK) {
        wd_sandbox_describe(L, -1, error, capacity);
        lua_settop(L, function - 1);
    } else {
        if (error != NULL && capacity > 0)
            error[0] = '\0';
        result = WD_SANDBOX_OK;
    }
done:
    return result;
}
