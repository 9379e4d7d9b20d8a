/*
** lint.c — owns wd_lint_globals: finding the globals a policy file reads but the sandbox does
** not offer and the file never assigns; and wd_lint_purity, the scope-aware check for
** assignments that would outlive a decision. The compiled chunk is written out with lua_dump (debug
** information kept) into a buffer, and this file parses that buffer following Lua 5.4.4's
** ldump.c. No other file reads binary chunks, and no chunk read here ever comes from disk.
**
** What counts as a global is what Lua's own compiler decided: an access through the chunk's
** _ENV upvalue with a constant string key. Two instruction shapes carry it:
**   - GETTABUP / SETTABUP on an _ENV upvalue with K[C] / K[B] (constant index <= 255, short
**     string key): the usual case;
**   - GETUPVAL r _ENV; LOADK(X) r+1 K[x]; then GETTABLE _ r r+1 (a read) or, later,
**     SETTABLE r r+1 _ (an assignment): what Lua 5.4.4 emits when the key's constant index
**     does not fit in 8 bits (more than 256 constants in a function) or the name is a long
**     string (more than 40 bytes).
** An upvalue is the chunk's _ENV when it is upvalue 0 of the main function (checked to be
** named "_ENV") or captures such an upvalue of the enclosing function (instack = 0); a nested
** function's "_ENV" that captures a local of its parent is a user-made environment and its
** accesses are not globals of the sandbox.
**
** Limits (reads not seen): accesses through a copy of _ENV in a local or another table
** (`local e = _ENV; e.io`, `local _ENV = _ENV`), and keys that are not constants
** (`_ENV[name]`). A GETUPVAL/LOADK pair of that second shape that is not read at once is taken
** as an assignment only when a SETTABLE on the same two registers follows; that can at worst
** hide a finding, never invent one.
**
** Purity. Which variable an assignment reaches is also Lua's own decision: SETUPVAL names an
** upvalue, and an upvalue's description says whether it captures a local of the enclosing
** function (instack = 1) or one of that function's upvalues (instack = 0). Following that
** chain outwards tells where the variable was declared: an upvalue of a function nested
** directly in the main function with instack = 1 is a file-level local, and so is any upvalue
** further in that captures it. A local of any other function, captured by a closure it made,
** is a different variable each time the function runs. Locals named _ENV are in the debug
** information (parameters and loop variables too). `local _ENV <const> = "x"` is a
** compile-time constant that leaves no local behind (globals become reads of the string's
** methods): the source text is scanned for it.
**
** Memory comes from the state's allocator (lua_getallocf), so the sandbox's cap applies.
*/
#include "lint.h"

#include "view.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Lua 5.4.4 constants (lopcodes.h, lobject.h, lundump.h); checked against real dumps ---- */

#define LINT_OP_LOADK       3
#define LINT_OP_LOADKX      4
#define LINT_OP_GETUPVAL    9
#define LINT_OP_SETUPVAL    10
#define LINT_OP_GETTABUP    11
#define LINT_OP_GETTABLE    12
#define LINT_OP_SETTABUP    15
#define LINT_OP_SETTABLE    16
#define LINT_OP_CLOSURE     79
#define LINT_OP_EXTRAARG    82
#define LINT_NUM_OPCODES    83

#define LINT_K_NIL          0x00
#define LINT_K_FALSE        0x01
#define LINT_K_TRUE         0x11
#define LINT_K_INT          0x03
#define LINT_K_FLOAT        0x13
#define LINT_K_SHORT_STRING 0x04
#define LINT_K_LONG_STRING  0x14

#define LINT_VERSION        0x54
#define LINT_FORMAT         0
#define LINT_DATA           "\x19\x93\r\n\x1a\n"
#define LINT_TEST_INT       0x5678
#define LINT_TEST_NUMBER    370.5
#define LINT_ABSLINEINFO    (-0x80) /* lineinfo byte: the line is in abslineinfo */
#define LINT_MAX_REGISTER   255

/* Nesting of functions; the parser refuses far less (its C-level limit is 200). */
#define LINT_MAX_DEPTH      256
/* Longest name shown in a message (longer ones are cut and end with "..."). */
#define LINT_NAME_SHOWN     80

#define LINT_MESSAGE_BROKEN "cannot examine the chunk"
#define LINT_MESSAGE_NOMEM  "cannot examine the chunk (out of memory)"

typedef enum lint_status { LINT_OK = 0, LINT_BROKEN, LINT_NOMEM } lint_status;

/* A string inside the dump buffer (not NUL-terminated). */
typedef struct lint_text {
    const char *bytes;
    size_t      length;
} lint_text;

/* What a finding is about: an unknown global, or one of the purity findings. */
typedef enum lint_kind {
    LINT_UNKNOWN_GLOBAL = 0,
    LINT_ENV_ASSIGNED,   /* _ENV = ... */
    LINT_ENV_DECLARED,   /* local _ENV, a parameter or loop variable named _ENV */
    LINT_FILE_LEVEL,     /* a function assigns a variable declared at file level */
    LINT_KEPT            /* a kept function assigns one of its own upvalues */
} lint_kind;

typedef struct lint_finding {
    lint_text name;
    int       line;
    int       kind;  /* lint_kind */
    size_t    order; /* position in source order before sorting by line */
} lint_finding;

typedef struct lint_list {
    lint_finding *items;
    size_t        count;
    size_t        capacity;
} lint_list;

/* A finding of wd_lint_fields, its message made when found. */
typedef struct lint_note {
    int    line;
    size_t order;
    char   message[WD_VIEW_MESSAGE_MAX];
} lint_note;

typedef struct lint_reader {
    lua_Alloc            alloc;
    void                *alloc_ud;
    lint_status          status;
    unsigned char       *dump; /* lua_dump's output */
    size_t               dump_size;
    size_t               dump_capacity;
    const unsigned char *data; /* == dump once complete */
    size_t               pos;
    lint_text           *assigned; /* every name assigned through _ENV, anywhere */
    size_t               assigned_count;
    size_t               assigned_capacity;
    unsigned             main_upvalues; /* the count the header announces */
    int                  scope;         /* 0: globals only; else a wd_lint_scope */
    lint_list            purity;        /* the purity findings (scope != 0) */
    const wd_lint_fields_options *fields; /* wd_lint_fields: what reads are checked against */
    lint_note           *notes;         /* its findings */
    size_t               note_count;
    size_t               note_capacity;
} lint_reader;

typedef struct lint_constant {
    int       tag;
    lint_text text; /* strings only */
} lint_constant;

/* One function prototype, as far as the analysis needs it. */
typedef struct lint_function {
    const unsigned char *code; /* code_count instructions, 4 bytes each, unaligned */
    int                  code_count;
    lint_constant       *constants;
    int                  constant_count;
    unsigned char       *env; /* env[i] != 0: upvalue i is the chunk's _ENV */
    unsigned char       *outer; /* outer[i] != 0: upvalue i outlives a decision (see purity) */
    lint_text           *upvalue_names; /* from the debug information */
    int                  upvalue_count;
    int                  param_count;
    int                  linedefined;
    int                  depth;  /* 0: the main function (or the kept function) */
    lint_list           *children; /* findings of each nested function, in its own order */
    int                  child_count;
    int                 *lines; /* source line of each instruction */
    int                  m_register; /* the parameter named `m` (the message view), or -1 */
} lint_function;

/* ---- memory ---------------------------------------------------------------------------- */

static int fail(lint_reader *r, lint_status status)
{
    if (r->status == LINT_OK)
        r->status = status;
    return -1;
}

static int broken(lint_reader *r)
{
    return fail(r, LINT_BROKEN);
}

/* count * size bytes from the state's allocator; NULL (status set) on failure or count 0. */
static void *allocate_array(lint_reader *r, size_t count, size_t size)
{
    if (count == 0)
        return NULL;
    if (count > SIZE_MAX / size) {
        fail(r, LINT_NOMEM);
        return NULL;
    }
    void *block = r->alloc(r->alloc_ud, NULL, 0, count * size);
    if (block == NULL)
        fail(r, LINT_NOMEM);
    return block;
}

static void release_array(lint_reader *r, void *block, size_t count, size_t size)
{
    if (block != NULL)
        r->alloc(r->alloc_ud, block, count * size, 0);
}

/* Makes room for one more item in an array of *capacity items of size bytes. */
static int grow(lint_reader *r, void **items, size_t *capacity, size_t count, size_t size)
{
    if (count < *capacity)
        return 0;
    size_t wanted = *capacity == 0 ? 16 : *capacity;
    if (wanted > SIZE_MAX / 2 / size)
        return fail(r, LINT_NOMEM);
    wanted *= 2;
    void *block = r->alloc(r->alloc_ud, *items, *items == NULL ? 0 : *capacity * size, wanted * size);
    if (block == NULL)
        return fail(r, LINT_NOMEM);
    *items = block;
    *capacity = wanted;
    return 0;
}

static void list_release(lint_reader *r, lint_list *list)
{
    release_array(r, list->items, list->capacity, sizeof *list->items);
    list->items = NULL;
    list->count = 0;
    list->capacity = 0;
}

static int list_add_kind(lint_reader *r, lint_list *list, lint_text name, int line, int kind)
{
    void *items = list->items;
    if (grow(r, &items, &list->capacity, list->count, sizeof *list->items) != 0)
        return -1;
    list->items = items;
    list->items[list->count].name = name;
    list->items[list->count].line = line;
    list->items[list->count].kind = kind;
    list->items[list->count].order = 0;
    list->count++;
    return 0;
}

static int list_add(lint_reader *r, lint_list *list, lint_text name, int line)
{
    return list_add_kind(r, list, name, line, LINT_UNKNOWN_GLOBAL);
}

/* Appends every finding of from to to, and empties from. */
static int list_move(lint_reader *r, lint_list *to, lint_list *from)
{
    for (size_t i = 0; i < from->count; i++)
        if (list_add(r, to, from->items[i].name, from->items[i].line) != 0)
            return -1;
    list_release(r, from);
    return 0;
}

static int add_assigned(lint_reader *r, lint_text name)
{
    void *items = r->assigned;
    if (grow(r, &items, &r->assigned_capacity, r->assigned_count, sizeof *r->assigned) != 0)
        return -1;
    r->assigned = items;
    r->assigned[r->assigned_count++] = name;
    return 0;
}

/* ---- the dump -------------------------------------------------------------------------- */

static int dump_writer(lua_State *L, const void *bytes, size_t size, void *ud)
{
    (void)L;
    lint_reader *r = ud;
    if (size == 0)
        return 0;
    if (size > SIZE_MAX / 2 - r->dump_size)
        return fail(r, LINT_NOMEM) != 0;
    if (r->dump_size + size > r->dump_capacity) {
        size_t wanted = r->dump_capacity == 0 ? 4096 : r->dump_capacity;
        while (wanted < r->dump_size + size)
            wanted *= 2;
        void *block = r->alloc(r->alloc_ud, r->dump, r->dump == NULL ? 0 : r->dump_capacity, wanted);
        if (block == NULL)
            return fail(r, LINT_NOMEM) != 0;
        r->dump = block;
        r->dump_capacity = wanted;
    }
    memcpy(r->dump + r->dump_size, bytes, size);
    r->dump_size += size;
    return 0;
}

/* ---- reading (every read is bounds-checked; any failure marks the chunk broken) ----------- */

static size_t remaining(const lint_reader *r)
{
    return r->dump_size - r->pos;
}

static int read_bytes(lint_reader *r, size_t count, const unsigned char **out)
{
    if (count > remaining(r))
        return broken(r);
    *out = r->data + r->pos;
    r->pos += count;
    return 0;
}

static int read_byte(lint_reader *r, unsigned *out)
{
    const unsigned char *byte;
    if (read_bytes(r, 1, &byte) != 0)
        return -1;
    *out = *byte;
    return 0;
}

/* loadUnsigned: 7-bit groups, most significant first; the high bit marks the LAST byte. */
static int read_unsigned(lint_reader *r, size_t limit, size_t *out)
{
    size_t   value = 0;
    unsigned byte;
    limit >>= 7;
    do {
        if (read_byte(r, &byte) != 0)
            return -1;
        if (value >= limit)
            return broken(r);
        value = (value << 7) | (byte & 0x7f);
    } while ((byte & 0x80) == 0);
    *out = value;
    return 0;
}

static int read_int(lint_reader *r, int *out)
{
    size_t value;
    if (read_unsigned(r, INT_MAX, &value) != 0)
        return -1;
    *out = (int)value;
    return 0;
}

/* A count of items that each take at least item_bytes in the dump. */
static int read_count(lint_reader *r, size_t item_bytes, int *out)
{
    if (read_int(r, out) != 0)
        return -1;
    if ((size_t)*out > remaining(r) / item_bytes)
        return broken(r);
    return 0;
}

/* A string: size + 1 (0 for NULL), then the bytes without a terminator. */
static int read_string(lint_reader *r, lint_text *out, int *present)
{
    size_t               size;
    const unsigned char *bytes;
    if (read_unsigned(r, SIZE_MAX, &size) != 0)
        return -1;
    *present = size != 0;
    out->bytes = NULL;
    out->length = 0;
    if (size == 0)
        return 0;
    if (read_bytes(r, size - 1, &bytes) != 0)
        return -1;
    out->bytes = (const char *)bytes;
    out->length = size - 1;
    return 0;
}

static int skip_string(lint_reader *r)
{
    lint_text text;
    int       present;
    return read_string(r, &text, &present);
}

static int read_header(lint_reader *r)
{
    static const char    signature[] = LUA_SIGNATURE;
    static const char    data[] = LINT_DATA;
    const unsigned char *bytes;
    unsigned             version, format, instruction_size, integer_size, number_size;
    lua_Integer          test_int;
    lua_Number           test_number;

    if (read_bytes(r, sizeof signature - 1, &bytes) != 0 || memcmp(bytes, signature, sizeof signature - 1) != 0)
        return broken(r);
    if (read_byte(r, &version) != 0 || read_byte(r, &format) != 0)
        return -1;
    if (version != LINT_VERSION || format != LINT_FORMAT)
        return broken(r);
    if (read_bytes(r, sizeof data - 1, &bytes) != 0 || memcmp(bytes, data, sizeof data - 1) != 0)
        return broken(r);
    if (read_byte(r, &instruction_size) != 0 || read_byte(r, &integer_size) != 0
        || read_byte(r, &number_size) != 0)
        return -1;
    if (instruction_size != 4 || integer_size != sizeof(lua_Integer) || number_size != sizeof(lua_Number))
        return broken(r);
    if (read_bytes(r, sizeof test_int, &bytes) != 0)
        return -1;
    memcpy(&test_int, bytes, sizeof test_int);
    if (read_bytes(r, sizeof test_number, &bytes) != 0)
        return -1;
    memcpy(&test_number, bytes, sizeof test_number);
    if (test_int != LINT_TEST_INT || test_number < LINT_TEST_NUMBER || test_number > LINT_TEST_NUMBER)
        return broken(r);
    return 0;
}

/* ---- one function ---------------------------------------------------------------------- */

static uint32_t instruction_at(const lint_function *f, int pc)
{
    uint32_t instruction;
    memcpy(&instruction, f->code + (size_t)pc * 4, sizeof instruction);
    return instruction;
}

static unsigned opcode_of(uint32_t i)
{
    return i & 0x7fu;
}

static unsigned arg_a(uint32_t i)
{
    return (i >> 7) & 0xffu;
}

static unsigned arg_b(uint32_t i)
{
    return (i >> 16) & 0xffu;
}

static unsigned arg_c(uint32_t i)
{
    return (i >> 24) & 0xffu;
}

static unsigned arg_bx(uint32_t i)
{
    return i >> 15;
}

static unsigned arg_ax(uint32_t i)
{
    return i >> 7;
}

static int is_env(const lint_function *f, unsigned upvalue)
{
    return upvalue < (unsigned)f->upvalue_count && f->env[upvalue] != 0;
}

/* The string constant at index, or -1 (broken) when out of range or not a string. */
static int string_constant(lint_reader *r, const lint_function *f, unsigned index, lint_text *out)
{
    if (index >= (unsigned)f->constant_count)
        return broken(r);
    const lint_constant *k = &f->constants[index];
    if (k->tag != LINT_K_SHORT_STRING && k->tag != LINT_K_LONG_STRING)
        return broken(r);
    *out = k->text;
    return 0;
}

static int read_constants(lint_reader *r, lint_function *f)
{
    if (read_count(r, 1, &f->constant_count) != 0)
        return -1;
    f->constants = allocate_array(r, (size_t)f->constant_count, sizeof *f->constants);
    if (f->constant_count > 0 && f->constants == NULL)
        return -1;
    for (int i = 0; i < f->constant_count; i++) {
        lint_constant       *k = &f->constants[i];
        const unsigned char *bytes;
        unsigned             tag;
        int                  present;
        if (read_byte(r, &tag) != 0)
            return -1;
        k->tag = (int)tag;
        k->text.bytes = NULL;
        k->text.length = 0;
        switch (tag) {
        case LINT_K_NIL:
        case LINT_K_FALSE:
        case LINT_K_TRUE:
            break;
        case LINT_K_INT:
            if (read_bytes(r, sizeof(lua_Integer), &bytes) != 0)
                return -1;
            break;
        case LINT_K_FLOAT:
            if (read_bytes(r, sizeof(lua_Number), &bytes) != 0)
                return -1;
            break;
        case LINT_K_SHORT_STRING:
        case LINT_K_LONG_STRING:
            if (read_string(r, &k->text, &present) != 0)
                return -1;
            if (!present)
                return broken(r);
            break;
        default:
            return broken(r);
        }
    }
    return 0;
}

/* Upvalue descriptions: which of them are the chunk's _ENV (names are checked later). */
static int read_upvalues(lint_reader *r, lint_function *f, const lint_function *parent)
{
    if (read_count(r, 3, &f->upvalue_count) != 0)
        return -1;
    if (parent == NULL && (unsigned)f->upvalue_count != r->main_upvalues)
        return broken(r);
    f->env = allocate_array(r, (size_t)f->upvalue_count, sizeof *f->env);
    if (f->upvalue_count > 0 && f->env == NULL)
        return -1;
    f->outer = allocate_array(r, (size_t)f->upvalue_count, sizeof *f->outer);
    if (f->upvalue_count > 0 && f->outer == NULL)
        return -1;
    for (int i = 0; i < f->upvalue_count; i++) {
        unsigned instack, index, kind;
        if (read_byte(r, &instack) != 0 || read_byte(r, &index) != 0 || read_byte(r, &kind) != 0)
            return -1;
        if (parent == NULL) {
            /* the main function's only upvalue is _ENV; a kept function is no main function,
            ** its upvalues are found by name, and every one of them outlives a decision */
            f->env[i] = r->scope != WD_LINT_KEPT && i == 0;
            f->outer[i] = r->scope == WD_LINT_KEPT;
        } else {
            f->env[i] = instack == 0 && is_env(parent, index);
            if (instack == 0 && index >= (unsigned)parent->upvalue_count)
                return broken(r);
            /* a file-level variable is a local of the main function (captured from its
            ** stack by a function nested in it), or an upvalue that captures one */
            if (r->scope != WD_LINT_KEPT && parent->depth == 0)
                f->outer[i] = instack != 0;
            else
                f->outer[i] = instack == 0 && parent->outer[index] != 0;
        }
    }
    return 0;
}

/* lineinfo and abslineinfo into one line per instruction, as luaG_getfuncline reads them:
** an absolute anchor wherever abslineinfo names the pc, else the previous line plus the
** signed delta. */
static int read_lines(lint_reader *r, lint_function *f, int linedefined)
{
    const unsigned char *deltas;
    int                  delta_count, anchor_count, anchor_pc = -1, anchor_line = 0;
    long long            line = linedefined;

    if (read_count(r, 1, &delta_count) != 0)
        return -1;
    if (delta_count != f->code_count || read_bytes(r, (size_t)delta_count, &deltas) != 0)
        return broken(r);
    if (read_count(r, 2, &anchor_count) != 0)
        return -1;
    f->lines = allocate_array(r, (size_t)f->code_count, sizeof *f->lines);
    if (f->lines == NULL)
        return -1;
    if (anchor_count > 0 && (read_int(r, &anchor_pc) != 0 || read_int(r, &anchor_line) != 0))
        return -1;
    for (int pc = 0; pc < f->code_count; pc++) {
        if (anchor_count > 0 && pc == anchor_pc) {
            line = anchor_line;
            if (--anchor_count > 0) {
                int previous = anchor_pc;
                if (read_int(r, &anchor_pc) != 0 || read_int(r, &anchor_line) != 0)
                    return -1;
                if (anchor_pc <= previous)
                    return broken(r);
            }
        } else {
            int delta = deltas[pc] < 0x80 ? deltas[pc] : deltas[pc] - 0x100; /* a signed byte */
            if (delta == LINT_ABSLINEINFO)
                return broken(r);
            line += delta;
        }
        if (line < 0 || line > INT_MAX)
            return broken(r);
        f->lines[pc] = (int)line;
    }
    if (anchor_count != 0)
        return broken(r); /* an anchor past the code, or out of order */
    return 0;
}

static int is_env_name(lint_text name)
{
    return name.length == 4 && memcmp(name.bytes, "_ENV", 4) == 0;
}

/* The line where a local variable starts: a parameter's is the function's first line; any
** other local starts after the instruction that gave it its first value. */
static int local_line(const lint_function *f, int index, int startpc)
{
    if (index < f->param_count || startpc <= 0)
        return index < f->param_count || f->code_count == 0 ? f->linedefined : f->lines[0];
    if (startpc > f->code_count)
        startpc = f->code_count;
    return f->lines[startpc - 1];
}

static int read_debug(lint_reader *r, lint_function *f, int linedefined)
{
    int count;
    if (read_lines(r, f, linedefined) != 0)
        return -1;
    if (read_count(r, 3, &count) != 0) /* local variables: name, startpc, endpc */
        return -1;
    for (int i = 0; i < count; i++) {
        lint_text name;
        int       present, startpc, endpc;
        if (read_string(r, &name, &present) != 0 || read_int(r, &startpc) != 0 || read_int(r, &endpc) != 0)
            return -1;
        /* a local, parameter or loop variable named _ENV replaces the environment */
        if (present && i < f->param_count && name.length == 1 && name.bytes[0] == 'm')
            f->m_register = i; /* a parameter's register is its index */
        if (r->scope == WD_LINT_FILE && present && is_env_name(name)
            && list_add_kind(r, &r->purity, name, local_line(f, i, startpc), LINT_ENV_DECLARED) != 0)
            return -1;
    }
    if (read_count(r, 1, &count) != 0) /* upvalue names */
        return -1;
    if (count != f->upvalue_count)
        return broken(r);
    f->upvalue_names = allocate_array(r, (size_t)count, sizeof *f->upvalue_names);
    if (count > 0 && f->upvalue_names == NULL)
        return -1;
    for (int i = 0; i < count; i++) {
        lint_text name;
        int       present;
        if (read_string(r, &name, &present) != 0)
            return -1;
        if (f->env[i] && (!present || !is_env_name(name)))
            return broken(r);
        f->upvalue_names[i] = name;
    }
    return 0;
}

/* If the instruction at pc loads a string constant into register, the constant and the pc of
** the last instruction of the load (LOADKX is followed by EXTRAARG). */
static int string_load_at(lint_reader *r, const lint_function *f, int pc, unsigned reg, lint_text *key, int *last)
{
    if (pc >= f->code_count)
        return 0;
    uint32_t i = instruction_at(f, pc);
    unsigned index;
    if (arg_a(i) != reg)
        return 0;
    if (opcode_of(i) == LINT_OP_LOADK) {
        index = arg_bx(i);
        *last = pc;
    } else if (opcode_of(i) == LINT_OP_LOADKX) {
        if (pc + 1 >= f->code_count || opcode_of(instruction_at(f, pc + 1)) != LINT_OP_EXTRAARG)
            return broken(r);
        index = arg_ax(instruction_at(f, pc + 1));
        *last = pc + 1;
    } else {
        return 0;
    }
    if (index >= (unsigned)f->constant_count)
        return broken(r);
    int tag = f->constants[index].tag;
    if (tag != LINT_K_SHORT_STRING && tag != LINT_K_LONG_STRING)
        return 0; /* _ENV[1.5] and the like: not a name */
    *key = f->constants[index].text;
    return 1;
}

/* Walks the code: reads through _ENV go to out (nested functions' findings are spliced in
** where their CLOSURE is), assignments go to the reader's assigned list. */
static int analyse(lint_reader *r, lint_function *f, lint_list *out)
{
    lint_text pending[LINT_MAX_REGISTER + 1]; /* register -> key of a GETUPVAL/LOADK pair */
    lint_text key;
    for (int i = 0; i <= LINT_MAX_REGISTER; i++)
        pending[i].bytes = NULL;

    for (int pc = 0; pc < f->code_count; pc++) {
        uint32_t i = instruction_at(f, pc);
        unsigned op = opcode_of(i);
        int      last = pc;
        if (op >= LINT_NUM_OPCODES)
            return broken(r);
        switch (op) {
        case LINT_OP_GETTABUP:
            if (arg_b(i) >= (unsigned)f->upvalue_count)
                return broken(r);
            if (is_env(f, arg_b(i))) {
                if (string_constant(r, f, arg_c(i), &key) != 0 || list_add(r, out, key, f->lines[pc]) != 0)
                    return -1;
            }
            break;
        case LINT_OP_SETTABUP:
            if (arg_a(i) >= (unsigned)f->upvalue_count)
                return broken(r);
            if (is_env(f, arg_a(i))) {
                if (string_constant(r, f, arg_b(i), &key) != 0 || add_assigned(r, key) != 0)
                    return -1;
            }
            break;
        case LINT_OP_GETUPVAL: {
            unsigned reg = arg_a(i);
            if (arg_b(i) >= (unsigned)f->upvalue_count)
                return broken(r);
            if (!is_env(f, arg_b(i)) || reg >= LINT_MAX_REGISTER)
                break;
            int loaded = string_load_at(r, f, pc + 1, reg + 1, &key, &last);
            if (loaded < 0)
                return -1;
            if (loaded == 0)
                break;
            if (last + 1 < f->code_count) {
                uint32_t next = instruction_at(f, last + 1);
                if (opcode_of(next) == LINT_OP_GETTABLE && arg_b(next) == reg && arg_c(next) == reg + 1) {
                    if (list_add(r, out, key, f->lines[last + 1]) != 0)
                        return -1;
                    break;
                }
            }
            pending[reg] = key; /* the target of an assignment, if a SETTABLE follows */
            break;
        }
        case LINT_OP_SETUPVAL: {
            unsigned up = arg_b(i);
            if (up >= (unsigned)f->upvalue_count)
                return broken(r);
            if (r->scope == 0)
                break;
            int kind = 0;
            if (is_env(f, up) || (r->scope == WD_LINT_FILE && is_env_name(f->upvalue_names[up])))
                kind = LINT_ENV_ASSIGNED;
            else if (f->outer[up])
                kind = r->scope == WD_LINT_FILE ? LINT_FILE_LEVEL : LINT_KEPT;
            if (kind != 0 && list_add_kind(r, &r->purity, f->upvalue_names[up], f->lines[pc], kind) != 0)
                return -1;
            break;
        }
        case LINT_OP_SETTABLE:
            if (arg_a(i) < LINT_MAX_REGISTER && arg_b(i) == arg_a(i) + 1 && pending[arg_a(i)].bytes != NULL) {
                if (add_assigned(r, pending[arg_a(i)]) != 0)
                    return -1;
                pending[arg_a(i)].bytes = NULL;
            }
            break;
        case LINT_OP_CLOSURE:
            if (arg_bx(i) >= (unsigned)f->child_count)
                return broken(r);
            if (list_move(r, out, &f->children[arg_bx(i)]) != 0)
                return -1;
            break;
        default:
            break;
        }
    }
    for (int c = 0; c < f->child_count; c++) /* not reached by a CLOSURE (never seen) */
        if (list_move(r, out, &f->children[c]) != 0)
            return -1;
    return 0;
}

/* ---- reads of the message view and of data (wd_lint_fields) ----------------------------- */

#define LINT_OP_MOVE      0
#define LINT_OP_LOADI     1
#define LINT_OP_LOADF     2
#define LINT_OP_GETI      13
#define LINT_OP_GETFIELD  14
#define LINT_OP_SETI      17
#define LINT_OP_SETFIELD  18
#define LINT_OP_SELF      20
#define LINT_OP_MMBIN     46
#define LINT_OP_MMBINK    48
#define LINT_OP_CLOSE     54
#define LINT_OP_TBC       55
#define LINT_OP_JMP       56
#define LINT_OP_EQ        57
#define LINT_OP_LT        58
#define LINT_OP_LE        59
#define LINT_OP_EQK       60
#define LINT_OP_EQI       61
#define LINT_OP_GEI       65
#define LINT_OP_TEST      66
#define LINT_OP_CALL      68
#define LINT_OP_RETURN    70
#define LINT_OP_RETURN1   72
#define LINT_OP_FORLOOP   73
#define LINT_OP_FORPREP   74
#define LINT_OP_TFORPREP  75
#define LINT_OP_TFORLOOP  77
#define LINT_OP_SETLIST   78
#define LINT_OP_VARARGPREP 81
#define LINT_OFFSET_SJ    ((1 << 24) - 1)
#define LINT_DATA_PATH    96

/* What the analysis knows a register holds, within one basic block. */
typedef enum lint_value {
    VALUE_UNKNOWN = 0,
    VALUE_VIEW,      /* a table of the message view; schema says which */
    VALUE_BODY,      /* the method m.body */
    VALUE_BODY_TEXT, /* what m:body(...) returned: a string or nil */
    VALUE_DATA,      /* the data table */
    VALUE_DATA_PATH, /* data.NAME... read with constant keys; path holds "NAME.key" */
    VALUE_NUMBER,    /* a number constant */
    VALUE_STRING     /* a string constant */
} lint_value;

typedef struct lint_register {
    lint_value            value;
    const wd_view_schema *schema;
    char                  path[LINT_DATA_PATH];
} lint_register;

static int add_note(lint_reader *r, int line, const char *message)
{
    for (size_t i = r->note_count; i > 0 && r->notes[i - 1].line == line; i--)
        if (strcmp(r->notes[i - 1].message, message) == 0)
            return 0; /* the same finding twice on a line */
    if (grow(r, (void **)&r->notes, &r->note_capacity, r->note_count, sizeof *r->notes) != 0)
        return -1;
    lint_note *note = &r->notes[r->note_count++];
    note->line = line;
    note->order = r->note_count;
    snprintf(note->message, sizeof note->message, "%s", message);
    return 0;
}

/* Whether the instruction writes registers from its A upwards (most do; stores, tests,
** jumps and returns do not). */
static int writes_a(unsigned op)
{
    switch (op) {
    case LINT_OP_SETUPVAL: case LINT_OP_SETTABUP: case LINT_OP_SETTABLE: case LINT_OP_SETI: case LINT_OP_SETFIELD:
    case LINT_OP_CLOSE: case LINT_OP_TBC: case LINT_OP_JMP: case LINT_OP_TEST: case LINT_OP_SETLIST:
    case LINT_OP_VARARGPREP: case LINT_OP_EXTRAARG:
        return 0;
    default:
        if (op >= LINT_OP_MMBIN && op <= LINT_OP_MMBINK)
            return 0;
        if (op >= LINT_OP_EQ && op <= LINT_OP_GEI)
            return 0;
        if (op >= LINT_OP_RETURN && op <= LINT_OP_RETURN1)
            return 0;
        return 1;
    }
}

/* Marks where paths join: the targets of jumps and loops. Elsewhere an instruction is
** reached only from the one before it, or by a test skipping the JMP after it (Lua 5.4
** always puts a JMP after EQ/LT/LE/TEST/TESTSET and their K/I forms), which changes no
** register: the registers' contents carry over exactly. LFALSESKIP skips a LOADTRUE of the
** same register, which both make unknown. */
static void mark_blocks(const lint_function *f, unsigned char *start)
{
    for (int pc = 0; pc < f->code_count; pc++) {
        uint32_t i = instruction_at(f, pc);
        unsigned op = opcode_of(i);
        long     target = -1;
        if (op == LINT_OP_JMP)
            target = pc + 1 + (long)arg_ax(i) - LINT_OFFSET_SJ;
        else if (op == LINT_OP_FORPREP)
            target = pc + (long)arg_bx(i) + 2;
        else if (op == LINT_OP_TFORPREP)
            target = pc + (long)arg_bx(i) + 1;
        else if (op == LINT_OP_FORLOOP || op == LINT_OP_TFORLOOP)
            target = pc + 1 - (long)arg_bx(i);
        if (target >= 0 && target < f->code_count)
            start[target] = 1;
        if ((op == LINT_OP_FORPREP || op == LINT_OP_TFORPREP || op == LINT_OP_FORLOOP || op == LINT_OP_TFORLOOP)
            && pc + 1 < f->code_count)
            start[pc + 1] = 1; /* a loop body or exit */
    }
}

/* Whether the register holds text: what m:body returned, or a string of a data document. */
static int is_text(lint_reader *r, const lint_register *reg)
{
    if (reg->value == VALUE_BODY_TEXT)
        return 1;
    return reg->value == VALUE_DATA_PATH && r->fields->data_type != NULL
        && r->fields->data_type(r->fields->context, reg->path) == LUA_TSTRING;
}

/* The warning for text (the register) compared with a number. */
static int compare_note(lint_reader *r, const lint_register *reg, int line)
{
    char message[WD_VIEW_MESSAGE_MAX];
    if (reg->value == VALUE_BODY_TEXT)
        snprintf(message, sizeof message, "warning: m:body(...) gives text (or nil), compared here with a "
                                          "number: convert it with tonumber(...)");
    else
        snprintf(message, sizeof message, "warning: data.%s is a string in the data document, compared here "
                                          "with a number: convert it with tonumber(...)", reg->path);
    return add_note(r, line, message);
}

/* The warning for text (the register) ordered against text with < or <=. */
static int order_note(lint_reader *r, const lint_register *reg, int line)
{
    char what[LINT_DATA_PATH + 16];
    char message[WD_VIEW_MESSAGE_MAX + LINT_DATA_PATH + 16]; /* add_note keeps what fits */
    if (reg->value == VALUE_BODY_TEXT)
        snprintf(what, sizeof what, "m:body(...)");
    else
        snprintf(what, sizeof what, "data.%s", reg->path);
    snprintf(message, sizeof message, "warning: %s is text ordered against text: strings compare character by "
             "character (\"-5000\" < \"1000\", \"900\" > \"1000\"); convert both with tonumber(...)", what);
    return add_note(r, line, message);
}

static int is_number_constant(const lint_function *f, unsigned index)
{
    return index < (unsigned)f->constant_count
        && (f->constants[index].tag == LINT_K_INT || f->constants[index].tag == LINT_K_FLOAT);
}

/* Copies a string constant into name (NUL-terminated, cut to capacity); 0 when it is not one
** or holds a NUL. */
static int constant_name(const lint_function *f, unsigned index, char *name, size_t capacity)
{
    if (index >= (unsigned)f->constant_count)
        return 0;
    const lint_constant *k = &f->constants[index];
    if ((k->tag != LINT_K_SHORT_STRING && k->tag != LINT_K_LONG_STRING) || k->text.length >= capacity
        || memchr(k->text.bytes, '\0', k->text.length) != NULL)
        return 0;
    memcpy(name, k->text.bytes, k->text.length);
    name[k->text.length] = '\0';
    return 1;
}

/* R[a] := R[b][name] for a register known to hold a view table or data: checks the name. */
static int read_field(lint_reader *r, lint_register *regs, unsigned a, unsigned b, const char *name, int line)
{
    lint_register from = regs[b];
    lint_register *to = &regs[a];
    char message[WD_VIEW_MESSAGE_MAX];
    bool known = true;

    to->value = VALUE_UNKNOWN;
    if (from.value == VALUE_VIEW) {
        const wd_view_schema *child = wd_view_schema_field(from.schema, name, &known);
        if (!known) {
            wd_view_schema_unknown(from.schema, name, message, sizeof message);
            return add_note(r, line, message);
        }
        if (from.schema == wd_view_schema_root() && strcmp(name, "body") == 0) {
            to->value = VALUE_BODY;
        } else if (child != NULL) {
            to->value = VALUE_VIEW;
            to->schema = child;
        }
    } else if (from.value == VALUE_DATA) {
        const char *const *names = r->fields->data_names;
        if (names != NULL) {
            size_t i = 0;
            while (names[i] != NULL && strcmp(names[i], name) != 0)
                i++;
            if (names[i] == NULL) {
                const char *nearest = wd_view_nearest(name, names);
                snprintf(message, sizeof message, "no data document `%s` (data/%s.json)%s%s%s", name, name,
                         nearest != NULL ? "; did you mean `" : "", nearest != NULL ? nearest : "",
                         nearest != NULL ? "`?" : "");
                return add_note(r, line, message);
            }
        }
        if (strlen(name) < sizeof to->path) {
            to->value = VALUE_DATA_PATH;
            memcpy(to->path, name, strlen(name) + 1);
        }
    } else if (from.value == VALUE_DATA_PATH && strlen(from.path) + 1 + strlen(name) < sizeof to->path) {
        size_t length = strlen(from.path);
        to->value = VALUE_DATA_PATH;
        memcpy(to->path, from.path, length);
        to->path[length] = '.';
        memcpy(to->path + length + 1, name, strlen(name) + 1);
    }
    return 0;
}

/* Follows, block by block, what registers hold: the parameter `m` and the tables read from it
** with constant keys (GETFIELD chains, m.tokens[i], m:body), and data.NAME. Reports reads of
** names the view does not know, data documents that do not exist, and text compared with a
** number. Within a basic block the registers' contents are exact; at a block's start only
** `m` is known again (when the function never assigns it), so nothing is guessed. */
static int analyse_fields(lint_reader *r, const lint_function *f)
{
    lint_register  regs[LINT_MAX_REGISTER + 2];
    unsigned char *start = allocate_array(r, (size_t)f->code_count, 1);
    int            m = f->m_register, result = -1;
    char           name[WD_VIEW_MESSAGE_MAX / 2];

    if (start == NULL)
        return -1;
    memset(start, 0, (size_t)f->code_count);
    mark_blocks(f, start);
    for (int pc = 0; pc < f->code_count && m >= 0; pc++) {
        uint32_t i = instruction_at(f, pc);
        if (writes_a(opcode_of(i)) && arg_a(i) <= (unsigned)m)
            m = -1; /* `m` is assigned: not followed */
    }
    for (int pc = 0; pc < f->code_count; pc++) {
        uint32_t i = instruction_at(f, pc);
        unsigned op = opcode_of(i), a = arg_a(i), b = arg_b(i), c = arg_c(i);
        int      line = f->lines[pc];
        if (pc == 0 || start[pc]) {
            memset(regs, 0, sizeof regs);
            if (m >= 0) {
                regs[m].value = VALUE_VIEW;
                regs[m].schema = wd_view_schema_root();
            }
        }
        switch (op) {
        case LINT_OP_GETFIELD:
        case LINT_OP_SELF: {
            /* GETFIELD's key is always the constant C; SELF's only when its k bit is set */
            int named = (op == LINT_OP_GETFIELD || (i >> 15 & 1u)) && constant_name(f, c, name, sizeof name);
            lint_register from = regs[b];
            for (unsigned k = a; k <= LINT_MAX_REGISTER; k++)
                regs[k].value = VALUE_UNKNOWN;
            if (named) {
                regs[b] = from;
                if (read_field(r, regs, a, b, name, line) != 0)
                    goto done;
            }
            break;
        }
        case LINT_OP_GETI: {
            lint_register from = regs[b];
            for (unsigned k = a; k <= LINT_MAX_REGISTER; k++)
                regs[k].value = VALUE_UNKNOWN;
            if (from.value == VALUE_VIEW && wd_view_schema_item(from.schema) != NULL) {
                regs[a].value = VALUE_VIEW;
                regs[a].schema = wd_view_schema_item(from.schema);
            }
            break;
        }
        case LINT_OP_GETTABUP: {
            int data = is_env(f, b) && constant_name(f, c, name, sizeof name) && strcmp(name, "data") == 0;
            for (unsigned k = a; k <= LINT_MAX_REGISTER; k++)
                regs[k].value = VALUE_UNKNOWN;
            if (data)
                regs[a].value = VALUE_DATA;
            break;
        }
        case LINT_OP_MOVE: {
            lint_register from = regs[b];
            for (unsigned k = a; k <= LINT_MAX_REGISTER; k++)
                regs[k].value = VALUE_UNKNOWN;
            regs[a] = from;
            break;
        }
        case LINT_OP_LOADI:
        case LINT_OP_LOADF:
        case LINT_OP_LOADK:
            for (unsigned k = a; k <= LINT_MAX_REGISTER; k++)
                regs[k].value = VALUE_UNKNOWN;
            if (op != LINT_OP_LOADK || is_number_constant(f, arg_bx(i)))
                regs[a].value = VALUE_NUMBER;
            else if (arg_bx(i) < (unsigned)f->constant_count
                     && (f->constants[arg_bx(i)].tag == LINT_K_SHORT_STRING
                         || f->constants[arg_bx(i)].tag == LINT_K_LONG_STRING))
                regs[a].value = VALUE_STRING;
            break;
        case LINT_OP_CALL: {
            int body = regs[a].value == VALUE_BODY;
            for (unsigned k = a; k <= LINT_MAX_REGISTER; k++)
                regs[k].value = VALUE_UNKNOWN;
            if (body && c != 1)
                regs[a].value = VALUE_BODY_TEXT;
            break;
        }
        case LINT_OP_EQ:
        case LINT_OP_LT:
        case LINT_OP_LE:
            if (is_text(r, &regs[a]) && regs[b].value == VALUE_NUMBER) {
                if (compare_note(r, &regs[a], line) != 0)
                    goto done;
            } else if (is_text(r, &regs[b]) && regs[a].value == VALUE_NUMBER) {
                if (compare_note(r, &regs[b], line) != 0)
                    goto done;
            } else if (op != LINT_OP_EQ) {
                /* text ordered against text: "-5000" < "1000" */
                int left = is_text(r, &regs[a]), right = is_text(r, &regs[b]);
                if ((left && (right || regs[b].value == VALUE_STRING)) || (right && regs[a].value == VALUE_STRING))
                    if (order_note(r, left ? &regs[a] : &regs[b], line) != 0)
                        goto done;
            }
            break;
        case LINT_OP_EQK:
            if (is_text(r, &regs[a]) && is_number_constant(f, b) && compare_note(r, &regs[a], line) != 0)
                goto done;
            break;
        default:
            if (op > LINT_OP_EQK && op <= LINT_OP_GEI) { /* EQI LTI LEI GTI GEI: an immediate number */
                if (is_text(r, &regs[a]) && compare_note(r, &regs[a], line) != 0)
                    goto done;
            } else if (writes_a(op)) {
                for (unsigned k = a; k <= LINT_MAX_REGISTER; k++)
                    regs[k].value = VALUE_UNKNOWN;
            }
            break;
        }
    }
    result = 0;
done:
    release_array(r, start, (size_t)f->code_count, 1);
    return result;
}

/* dumpFunction: source, linedefined, lastlinedefined, numparams, is_vararg, maxstacksize,
** code, constants, upvalues, protos, debug. parent is NULL for the main function. */
static int read_function(lint_reader *r, const lint_function *parent, int depth, lint_list *out)
{
    lint_function        f;
    const unsigned char *bytes;
    int                  linedefined, lastlinedefined, result = -1;

    memset(&f, 0, sizeof f);
    if (depth > LINT_MAX_DEPTH) {
        broken(r);
        return -1;
    }
    if (skip_string(r) != 0 || read_int(r, &linedefined) != 0 || read_int(r, &lastlinedefined) != 0)
        goto done;
    if (read_bytes(r, 3, &bytes) != 0) /* numparams, is_vararg, maxstacksize */
        goto done;
    f.param_count = bytes[0];
    f.m_register = -1;
    f.linedefined = linedefined;
    f.depth = depth;
    if (read_count(r, 4, &f.code_count) != 0)
        goto done;
    if (f.code_count == 0 || read_bytes(r, (size_t)f.code_count * 4, &f.code) != 0) {
        broken(r);
        goto done;
    }
    if (read_constants(r, &f) != 0 || read_upvalues(r, &f, parent) != 0)
        goto done;
    if (read_count(r, 1, &f.child_count) != 0)
        goto done;
    f.children = allocate_array(r, (size_t)f.child_count, sizeof *f.children);
    if (f.child_count > 0 && f.children == NULL)
        goto done;
    if (f.children != NULL)
        memset(f.children, 0, (size_t)f.child_count * sizeof *f.children);
    for (int c = 0; c < f.child_count; c++)
        if (read_function(r, &f, depth + 1, &f.children[c]) != 0)
            goto done;
    if (read_debug(r, &f, linedefined) != 0)
        goto done;
    result = analyse(r, &f, out);
    if (result == 0 && r->fields != NULL)
        result = analyse_fields(r, &f);

done:
    for (int c = 0; c < f.child_count && f.children != NULL; c++)
        list_release(r, &f.children[c]);
    release_array(r, f.children, (size_t)f.child_count, sizeof *f.children);
    release_array(r, f.constants, (size_t)f.constant_count, sizeof *f.constants);
    release_array(r, f.env, (size_t)f.upvalue_count, sizeof *f.env);
    release_array(r, f.outer, (size_t)f.upvalue_count, sizeof *f.outer);
    release_array(r, f.upvalue_names, (size_t)f.upvalue_count, sizeof *f.upvalue_names);
    release_array(r, f.lines, (size_t)f.code_count, sizeof *f.lines);
    return result;
}

/* ---- findings -------------------------------------------------------------------------- */

static int compare_text(const void *a, const void *b)
{
    const lint_text *x = a, *y = b;
    size_t           shorter = x->length < y->length ? x->length : y->length;
    int              c = shorter == 0 ? 0 : memcmp(x->bytes, y->bytes, shorter);
    if (c != 0)
        return c;
    return (x->length > y->length) - (x->length < y->length);
}

static int compare_findings(const void *a, const void *b)
{
    const lint_finding *x = a, *y = b;
    if (x->line != y->line)
        return (x->line > y->line) - (x->line < y->line);
    return (x->order > y->order) - (x->order < y->order);
}

static int compare_notes(const void *a, const void *b)
{
    const lint_note *x = a, *y = b;
    if (x->line != y->line)
        return (x->line > y->line) - (x->line < y->line);
    return (x->order > y->order) - (x->order < y->order);
}

static int text_equals(lint_text text, const char *name)
{
    size_t length = strlen(name);
    return text.length == length && (length == 0 || memcmp(text.bytes, name, length) == 0);
}

static int is_allowed(lint_text name, const char *const *allowed)
{
    for (size_t i = 0; allowed != NULL && allowed[i] != NULL; i++)
        if (text_equals(name, allowed[i]))
            return 1;
    return 0;
}

/* Control bytes become '?' (names come from the policy and end up on a terminal). shown
** holds LINT_NAME_SHOWN + 4 bytes. */
static void show_name(lint_text name, char *shown)
{
    size_t length = name.length > LINT_NAME_SHOWN ? LINT_NAME_SHOWN : name.length;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)name.bytes[i];
        shown[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (length < name.length) {
        memcpy(shown + length, "...", 3);
        length += 3;
    }
    shown[length] = '\0';
}

static void report_finding(wd_lint_report_fn report, void *context, const lint_finding *finding)
{
    char   shown[LINT_NAME_SHOWN + 4];
    char   message[LINT_NAME_SHOWN + 64];
    show_name(finding->name, shown);
    snprintf(message, sizeof message, "unknown global '%s' (the sandbox does not offer it)", shown);
    if (report != NULL)
        report(context, finding->line, message);
}

/* Reports the findings not allowed and not assigned, once per name and line, by line.
** Returns the number reported. */
static int report_findings(lint_reader *r, lint_list *found, const char *const *allowed, wd_lint_report_fn report,
                           void *context)
{
    int reported = 0;
    if (r->assigned_count > 1)
        qsort(r->assigned, r->assigned_count, sizeof *r->assigned, compare_text);
    for (size_t i = 0; i < found->count; i++)
        found->items[i].order = i;
    if (found->count > 1)
        qsort(found->items, found->count, sizeof *found->items, compare_findings);
    for (size_t i = 0; i < found->count; i++) {
        const lint_finding *finding = &found->items[i];
        int                 repeated = 0;
        if (is_allowed(finding->name, allowed))
            continue;
        if (r->assigned_count > 0
            && bsearch(&finding->name, r->assigned, r->assigned_count, sizeof *r->assigned, compare_text) != NULL)
            continue;
        for (size_t j = i; j > 0 && found->items[j - 1].line == finding->line && !repeated; j--)
            repeated = compare_text(&found->items[j - 1].name, &finding->name) == 0;
        if (repeated)
            continue;
        report_finding(report, context, finding);
        if (reported < INT_MAX)
            reported++;
    }
    return reported;
}

/* ---- the entry point ------------------------------------------------------------------- */

/* Dumps the Lua function on top of the stack and reads it all; 0 or -1 (status set). */
static int read_chunk(lua_State *L, lint_reader *r, lint_list *found)
{
    r->alloc = lua_getallocf(L, &r->alloc_ud);
    if (lua_gettop(L) < 1 || lua_type(L, -1) != LUA_TFUNCTION || lua_iscfunction(L, -1))
        return broken(r);
    if (lua_dump(L, dump_writer, r, 0) != 0 || r->status != LINT_OK)
        return broken(r);
    r->data = r->dump;
    r->pos = 0;
    if (read_header(r) != 0 || read_byte(r, &r->main_upvalues) != 0)
        return -1;
    if (read_function(r, NULL, 0, found) != 0)
        return -1;
    if (r->pos != r->dump_size)
        return broken(r);
    return 0;
}

static void release_reader(lint_reader *r)
{
    release_array(r, r->notes, r->note_capacity, sizeof *r->notes);
    list_release(r, &r->purity);
    release_array(r, r->assigned, r->assigned_capacity, sizeof *r->assigned);
    release_array(r, r->dump, r->dump_capacity, 1);
}

/* The end of every lint entry point: a run that failed (result < 0) reports once, at line 0,
** whether memory ran out or the chunk could not be read; then the reader is released. */
static int finish_run(lint_reader *r, lint_list *found, int result, wd_lint_report_fn report, void *context)
{
    if (result < 0 && report != NULL)
        report(context, 0, r->status == LINT_NOMEM ? LINT_MESSAGE_NOMEM : LINT_MESSAGE_BROKEN);
    list_release(r, found);
    release_reader(r);
    return result;
}

int wd_lint_globals(lua_State *L, const char *const *allowed, wd_lint_report_fn report, void *context)
{
    lint_reader r;
    lint_list   found = { NULL, 0, 0 };
    int         result = -1;

    memset(&r, 0, sizeof r);
    if (read_chunk(L, &r, &found) == 0)
        result = report_findings(&r, &found, allowed, report, context);
    return finish_run(&r, &found, result, report, context);
}

static void purity_message(const lint_finding *finding, char *message, size_t capacity)
{
    char   shown[LINT_NAME_SHOWN + 4];
    show_name(finding->name, shown);
    switch (finding->kind) {
    case LINT_ENV_ASSIGNED:
        snprintf(message, capacity, "_ENV cannot be assigned (policy code keeps the environment it was loaded with)");
        break;
    case LINT_ENV_DECLARED:
        snprintf(message, capacity, "_ENV cannot be redeclared (no local, parameter or loop variable may be named _ENV)");
        break;
    case LINT_FILE_LEVEL:
        snprintf(message, capacity,
                 "'%s' is declared at file level (outside every function) and cannot be assigned inside a "
                 "function: it would carry state from one decision to the next",
                 shown);
        break;
    default:
        snprintf(message, capacity,
                 "'%s' belongs to a function that ran while the file loaded and cannot be assigned by a function "
                 "kept for decisions: it would carry state from one decision to the next",
                 shown);
        break;
    }
}

/* ---- the source scan for `_ENV <attrib>` -------------------------------------------------- */

/* Skips a newline sequence (\n, \r, \r\n or \n\r, as Lua's lexer counts one line) at *pos. */
static void skip_newline(const char *source, size_t length, size_t *pos, int *line)
{
    char first = source[(*pos)++];
    if (*pos < length && (source[*pos] == '\n' || source[*pos] == '\r') && source[*pos] != first)
        (*pos)++;
    (*line)++;
}

/* At a '[': the level of a long bracket [==[ (number of '='), or -1 when it is not one. */
static int long_bracket(const char *source, size_t length, size_t pos)
{
    size_t i = pos + 1;
    while (i < length && source[i] == '=')
        i++;
    return i < length && source[i] == '[' ? (int)(i - pos - 1) : -1;
}

/* Skips a long string or comment opened at *pos with the given level. */
static void skip_long(const char *source, size_t length, size_t *pos, int *line, int level)
{
    *pos += (size_t)level + 2;
    while (*pos < length) {
        if (source[*pos] == '\n' || source[*pos] == '\r') {
            skip_newline(source, length, pos, line);
            continue;
        }
        if (source[*pos] == ']') {
            size_t i = *pos + 1;
            while (i < length && source[i] == '=')
                i++;
            if (i < length && source[i] == ']' && (int)(i - *pos - 1) == level) {
                *pos = i + 1;
                return;
            }
        }
        (*pos)++;
    }
}

/* Skips white space and comments. */
static void skip_blank(const char *source, size_t length, size_t *pos, int *line)
{
    while (*pos < length) {
        char c = source[*pos];
        if (c == '\n' || c == '\r') {
            skip_newline(source, length, pos, line);
        } else if (c == ' ' || c == '\t' || c == '\f' || c == '\v') {
            (*pos)++;
        } else if (c == '-' && *pos + 1 < length && source[*pos + 1] == '-') {
            *pos += 2;
            int level = *pos < length && source[*pos] == '[' ? long_bracket(source, length, *pos) : -1;
            if (level >= 0) {
                skip_long(source, length, pos, line, level);
            } else {
                while (*pos < length && source[*pos] != '\n' && source[*pos] != '\r')
                    (*pos)++;
            }
        } else {
            return;
        }
    }
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* `local _ENV <const> = "x"` makes _ENV a compile-time constant, which leaves no local in the
** bytecode: found in the source instead, as the name _ENV followed by '<' (an attribute; the
** only other reading, comparing _ENV, is refused too). The source compiled, so the scan only
** needs to tell names from strings and comments. */
static int scan_env_attributes(lint_reader *r, const char *source, size_t length)
{
    static const lint_text env = { "_ENV", 4 };
    size_t pos = 0;
    int    line = 1;
    while (pos < length) {
        skip_blank(source, length, &pos, &line);
        if (pos >= length)
            break;
        char c = source[pos];
        if (c == '"' || c == '\'') {
            for (pos++; pos < length && source[pos] != c; ) {
                if (source[pos] == '\\' && pos + 1 < length)
                    pos++;
                if (source[pos] == '\n' || source[pos] == '\r')
                    skip_newline(source, length, &pos, &line);
                else
                    pos++;
            }
            pos++;
        } else if (c == '[' && long_bracket(source, length, pos) >= 0) {
            skip_long(source, length, &pos, &line, long_bracket(source, length, pos));
        } else if (is_name_char(c)) {
            size_t start = pos;
            while (pos < length && is_name_char(source[pos]))
                pos++;
            if (pos - start == 4 && memcmp(source + start, "_ENV", 4) == 0) {
                int    at = line;
                size_t next = pos;
                skip_blank(source, length, &next, &line);
                if (next < length && source[next] == '<'
                    && list_add_kind(r, &r->purity, env, at, LINT_ENV_DECLARED) != 0)
                    return -1;
                line = at;
            }
        } else {
            pos++;
        }
    }
    return 0;
}

int wd_lint_purity(lua_State *L, wd_lint_scope scope, const char *source, size_t length, wd_lint_report_fn report,
                   void *context)
{
    lint_reader r;
    lint_list   found = { NULL, 0, 0 };
    int         result = -1;

    memset(&r, 0, sizeof r);
    r.scope = scope == WD_LINT_KEPT ? WD_LINT_KEPT : WD_LINT_FILE;
    if (read_chunk(L, &r, &found) == 0
        && (source == NULL || r.scope != WD_LINT_FILE || scan_env_attributes(&r, source, length) == 0)) {
        result = 0;
        for (size_t i = 0; i < r.purity.count; i++)
            r.purity.items[i].order = i;
        if (r.purity.count > 1)
            qsort(r.purity.items, r.purity.count, sizeof *r.purity.items, compare_findings);
        for (size_t i = 0; i < r.purity.count; i++) {
            const lint_finding *finding = &r.purity.items[i];
            if (i > 0 && finding->line == r.purity.items[i - 1].line && finding->kind == r.purity.items[i - 1].kind
                && compare_text(&finding->name, &r.purity.items[i - 1].name) == 0)
                continue; /* `x = x + 1` twice on a line, or `local _ENV, _ENV` */
            char message[LINT_NAME_SHOWN + 200];
            purity_message(finding, message, sizeof message);
            if (report != NULL)
                report(context, finding->line, message);
            if (result < INT_MAX)
                result++;
        }
    }
    return finish_run(&r, &found, result, report, context);
}

int wd_lint_fields(lua_State *L, const wd_lint_fields_options *options, wd_lint_report_fn report, void *context)
{
    lint_reader r;
    lint_list   found = { NULL, 0, 0 };
    int         result = -1;

    memset(&r, 0, sizeof r);
    r.fields = options;
    if (read_chunk(L, &r, &found) == 0) {
        result = 0;
        if (r.note_count > 1)
            qsort(r.notes, r.note_count, sizeof *r.notes, compare_notes);
        for (size_t i = 0; i < r.note_count; i++) {
            if (report != NULL)
                report(context, r.notes[i].line, r.notes[i].message);
            if (result < INT_MAX)
                result++;
        }
    }
    return finish_run(&r, &found, result, report, context);
}
