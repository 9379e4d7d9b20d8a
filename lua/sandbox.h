/*
** sandbox.h — sandboxed Lua 5.4 states for policies: an allowlisted environment built from
** an empty table (docs/reference.md, Sandbox), read-only globals and library tables, a locked
** string metatable, text-only loading, and the limits of one evaluation (instructions, wall
** clock, memory) that no policy can escape — not with pcall, not inside a C function.
**
** Config files run in the same kind of state, made bare (wd_sandbox_new_bare): no library,
** the same allocator, hook and limits. Warden makes no other Lua state.
**
** One state is used by one thread at a time. Nothing here is shared between states.
*/
#ifndef WD_LUA_SANDBOX_H
#define WD_LUA_SANDBOX_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wd_sandbox_limits {
    int64_t instructions; /* per evaluation (limits.instructions, default 1,000,000) */
    size_t  memory;       /* per state, bytes (limits.memory, default 64 MiB) */
    int64_t time_ms;      /* per evaluation wall clock, a passed deadline confirmed with the
                          ** thread CPU clock (limits.time_ms, default 50) */
    size_t  string_bytes; /* longest string the state may make (limits.string_bytes, default
                          ** 1 MiB); 0 = no limit. Bounds what one comparison or
                          ** concatenation, a single VM instruction, can cost. */
} wd_sandbox_limits;

/* The defaults above, in one place: wd_sandbox_new(NULL, ...) and a new warden_config both
** start from them. */
#define WD_SANDBOX_DEFAULT_LIMITS { 1000000, (size_t)64 << 20, 50, (size_t)1 << 20 }

/* Where log(...) goes: one line of text (already joined with tabs, like print would). */
typedef void (*wd_sandbox_log_fn)(void *context, const char *line, size_t length);

typedef enum wd_sandbox_abort {
    WD_SANDBOX_OK = 0,
    WD_SANDBOX_INSTRUCTIONS, /* the instruction budget ran out (pattern matching counts too) */
    WD_SANDBOX_TIME,         /* the wall-clock deadline passed */
    WD_SANDBOX_MEMORY,       /* the state's memory cap refused an allocation for good */
    WD_SANDBOX_STRING        /* a string longer than limits.string_bytes was to be made */
} wd_sandbox_abort;

/* A new state with a counting allocator capped at limits->memory (never failing a shrink),
** a panic handler, the locked string metatable (its __index is the safe string table, its
** __metatable is false), and in the registry the frozen base that every environment reads
** through. NULL on allocation failure. */
lua_State *wd_sandbox_new(const wd_sandbox_limits *limits, wd_sandbox_log_fn log, void *log_context);

/* A bare state for data written in Lua (config files): the same allocator, limits, hook and
** sticky abort as wd_sandbox_new, but no library is opened, so an environment pushed by
** wd_sandbox_push_env offers no globals at all (only the extras given to it) and strings have
** no methods. limits must not be NULL (a config's limits are its own, not a policy's). NULL on
** allocation failure. */
lua_State *wd_sandbox_new_bare(const wd_sandbox_limits *limits);

/* Closes the state. NULL is a no-op. */
void wd_sandbox_close(lua_State *L);

/* Pushes a new environment table for one policy file: reads fall through to the allowlist
** of docs/reference.md, Sandbox (assert error ipairs next pairs pcall rawequal rawlen select
** tonumber tostring type xpcall, string (bounded patterns), table, math without random,
** utf8, log) plus the fields of the table at extras_index (e.g. permit, forbid, test, data;
** 0 = none). Assignments to globals go into the environment while the file loads and raise
** "globals are read-only" once wd_sandbox_freeze_env has been called on it. [-0, +1, m]
** In a bare state (wd_sandbox_new_bare) the reads find the extras alone. */
void wd_sandbox_push_env(lua_State *L, int extras_index);

/* The names of that allowlist, NULL-terminated: the one list that `warden check` and the
** policy runtime's own extras (policy_state.h) build on. */
extern const char *const wd_sandbox_globals[];

/* Pushes the table of the globals the file of the environment at env_index assigned while it
** loaded (nil if env_index is not an environment). [-0, +1, -] */
void wd_sandbox_push_globals(lua_State *L, int env_index);

/* Makes the environment at env_index read-only from now on. [-0, +0, -] */
void wd_sandbox_freeze_env(lua_State *L, int env_index);

/* Compiles source as text (mode "t", never bytecode) with the environment at env_index as
** its _ENV, and pushes the chunk. On a syntax error pushes nothing, returns -1 and writes
** "chunkname:line: message" into error. [-0, +(0|1), m] */
int wd_sandbox_load(lua_State *L, const char *source, size_t length, const char *chunkname,
                    int env_index, char *error, size_t capacity);

/* Calls the function below nargs arguments on the stack in protected mode under a fresh
** evaluation budget (instructions, deadline; memory is the state's cap). Returns
** WD_SANDBOX_OK with nresults pushed when it returned normally; otherwise pushes nothing,
** fills error with the message ("RULE-independent": the error value if a string or number,
** else "(error object is a TYPE value)"; never calling a __tostring) and returns:
** -1 for an ordinary error, or the wd_sandbox_abort kind when a limit was hit. After a limit
** the state stays usable for the next call (the caller may still prefer to recycle it). */
int wd_sandbox_call(lua_State *L, int nargs, int nresults, char *error, size_t capacity);

/* Charges work done inside a C function (pattern matching steps) to the running
** evaluation's instruction budget; raises the sticky limit error when it runs out. Called
** from C functions running under wd_sandbox_call; in a state not made by wd_sandbox_new (no
** budget attached) it does nothing, so the same C functions work in a plain state. */
void wd_sandbox_charge(lua_State *L, int64_t steps);

/* Counts bytes the host allocates on the state's behalf (rule names, targets, indexes, data
** documents being parsed) against its memory cap, as if Lua had allocated them. Returns false,
** counting nothing, when they do not fit; during an evaluation that also ends it with the
** sticky memory abort (the caller then raises any error). wd_sandbox_release gives bytes back.
** In a state not made by wd_sandbox_new both do nothing (reserve returns true). */
bool wd_sandbox_reserve(lua_State *L, size_t bytes);
void wd_sandbox_release(lua_State *L, size_t bytes);

/* The message of the allocator's last refusal ("memory limit exceeded (N bytes)" or "string
** limit exceeded (N bytes)"), for errors that happen outside wd_sandbox_call (compiling,
** loading data); "not enough memory" when it never refused. Static or owned by the state. */
const char *wd_sandbox_refusal(lua_State *L);

/* Marks the strings the state holds now as resident (call when loading is done): the strings
** an evaluation makes are forgotten when the next one starts, these are not. The longest
** string an evaluation can reach sets how often its clock is read (see sandbox.c). */
void wd_sandbox_settle(lua_State *L);

/* Pushes a read-only proxy of the table at index: reads (including nested tables, which get
** their own proxies), # and pairs/ipairs work; writes raise an error. The nested tables are
** replaced in place by their proxies (so reads need no C call): the caller must not keep
** using the table itself as a writable one. [-0, +1, m] */
void wd_sandbox_push_readonly(lua_State *L, int index);

/* Freezes the table at index in place: it keeps its identity (upvalues, fields and keys that
** hold it still do), its contents move behind it, and from then on reads, #, pairs, ipairs
** and next work while writes raise "attempt to modify a read-only table". Nested tables are
** not touched (freeze them too). A table that has a metatable (a proxy already, an
** environment) is left as it is. [-0, +0, m] */
void wd_sandbox_freeze_table(lua_State *L, int index);

/* For explanations and coverage, off the decision path (each costs a hook call per
** instruction or line while on):
** - wd_sandbox_set_log / _get_log: where log(...) lines go from now on (an explanation
**   collects them per rule, then puts the engine's function back);
** - wd_sandbox_set_precise: the count hook fires on every instruction, so that
**   wd_sandbox_spent (steps charged so far in the running evaluation: VM instructions plus
**   the work charged for C functions; 0 outside one) is exact instead of rounded to the hook
**   interval;
** - wd_sandbox_set_line_hook: line is called with the chunk name and line of every line a
**   policy runs (NULL turns it off). Takes effect at the next outermost wd_sandbox_call. */
typedef void (*wd_sandbox_line_fn)(void *context, const char *chunkname, int line);
void wd_sandbox_set_log(lua_State *L, wd_sandbox_log_fn log, void *log_context);
void wd_sandbox_get_log(lua_State *L, wd_sandbox_log_fn *log, void **log_context);
void wd_sandbox_set_precise(lua_State *L, bool precise);
int64_t wd_sandbox_spent(lua_State *L);
void wd_sandbox_set_line_hook(lua_State *L, wd_sandbox_line_fn line, void *context);

/* Bytes the state currently holds. */
size_t wd_sandbox_memory(lua_State *L);

#endif
