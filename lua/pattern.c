/*
** pattern.c — the policy sandbox's string.find, string.match, string.gmatch and string.gsub:
** Lua 5.4's pattern language and results, run by a matcher of our own that keeps its
** backtracking points on an explicit, bounded stack and counts its steps.
**
** Why not the stock functions: Lua's matcher is C code, where the count hook never fires,
** so a pattern such as string.rep(".-", 3) .. "b" against 800 "a"s runs for minutes. Here
** every character comparison, every set member looked at, every attempt started and every
** backtracking step counts one step; bulk byte work (memchr, memcmp, copies) counts one step
** per BYTES_PER_STEP bytes, as the sandbox charges its scans. The count is charged to the
** evaluation through wd_sandbox_charge every CHARGE_EVERY steps and at the end of each call,
** so the instruction budget ends such a search from inside the matcher.
**
** Compatibility: the results, the order in which alternatives are tried, and the errors
** (including when they are raised: a malformed tail of a pattern that is never reached is
** not an error, as in Lua) are those of Lua 5.4. The nesting limit of Lua's recursive matcher
** (200 nested attempts, "pattern too complex") is reproduced by counting the same nesting on
** the explicit stack; the C stack used does not depend on the subject or the pattern.
*/
#include "pattern.h"

#include <ctype.h>
#include <lauxlib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sandbox.h"

enum {
    MAX_CAPTURES = 32,    /* as LUA_MAXCAPTURES */
    MAX_NESTING = 200,    /* attempts alive at once, as Lua's MAXCCALLS for the matcher */
    INLINE_FRAMES = 24,   /* backtracking frames kept on the C stack before using a userdata */
    CHARGE_EVERY = 1024,  /* steps gathered before they are charged to the budget */
    BYTES_PER_STEP = 64   /* bytes of memchr / memcmp / copying per step */
};

/* Capture lengths that are not lengths. */
#define CAP_UNFINISHED ((ptrdiff_t)-1)
#define CAP_POSITION   ((ptrdiff_t)-2)

/* Characters of a pattern that make it more than a plain substring. */
static const char specials[] = "^$*+?.([%-";

typedef struct capture {
    const char *start;
    ptrdiff_t   length; /* or CAP_UNFINISHED / CAP_POSITION */
} capture;

/*
** A backtracking point. Each frame stands for one pending attempt of Lua's recursive matcher:
** what to undo, or what to try next, when everything after it has failed.
*/
typedef enum frame_kind {
    FRAME_OPEN,     /* a capture was opened: close the level again */
    FRAME_CLOSE,    /* a capture was closed: mark it unfinished again */
    FRAME_OPTIONAL, /* x? took x: go on without it */
    FRAME_GREEDY,   /* x* or x+ took `count` more x: give one back */
    FRAME_LAZY      /* x- took what it has: take one more x */
} frame_kind;

typedef struct frame {
    const char *s;      /* subject position the item started at (LAZY: where it is now) */
    const char *item;   /* the single-character class of the item */
    const char *suffix; /* the item's quantifier; the rest of the pattern follows it */
    size_t      count;  /* GREEDY: repetitions still held; CLOSE: the capture index */
    frame_kind  kind;
} frame;

typedef struct matcher {
    lua_State  *L;
    const char *src_init;
    const char *src_end;  /* the subject's terminating NUL */
    const char *p_end;    /* the pattern's terminating NUL */
    frame      *stack;
    int         stack_size;
    int         depth;    /* frames in use */
    int         level;    /* captures opened (finished or not) */
    int64_t     steps;    /* not yet charged */
    capture     cap[MAX_CAPTURES];
} matcher;

/* ----- budget ---------------------------------------------------------------------------- */

static void charge(matcher *m)
{
    int64_t steps = m->steps;
    m->steps = 0;
    if (steps > 0)
        wd_sandbox_charge(m->L, steps); /* may raise the limit error */
}

static inline void tick(matcher *m, int64_t n)
{
    m->steps += n;
    if (m->steps >= CHARGE_EVERY)
        charge(m);
}

/* ----- single characters ----------------------------------------------------------------- */

/* Whether c is in the class named by the letter after '%' (any other byte stands for itself). */
static bool class_has(int c, int letter)
{
    int in;
    switch (tolower(letter)) {
    case 'a': in = isalpha(c); break;
    case 'c': in = iscntrl(c); break;
    case 'd': in = isdigit(c); break;
    case 'g': in = isgraph(c); break;
    case 'l': in = islower(c); break;
    case 'p': in = ispunct(c); break;
    case 's': in = isspace(c); break;
    case 'u': in = isupper(c); break;
    case 'w': in = isalnum(c); break;
    case 'x': in = isxdigit(c); break;
    case 'z': in = (c == 0); break; /* deprecated in Lua, still accepted */
    default: return letter == c;
    }
    return isupper(letter) ? !in : in != 0;
}

/* Whether c is in the set that opens at open ('[') and closes at close (its ']'). */
static bool set_has(matcher *m, int c, const char *open, const char *close)
{
    const char *q = open + 1;
    bool        negated = false;
    bool        found = false;
    if (*q == '^') {
        negated = true;
        q++;
    }
    /* A ']' first in the set is a member: class_end looked for the closing one after it. */
    while (q < close && !found) {
        unsigned char first = (unsigned char)*q;
        if (first == '%') {
            found = class_has(c, (unsigned char)q[1]);
            q += 2;
        } else if (q[1] == '-' && q + 2 < close) {
            found = first <= c && c <= (unsigned char)q[2];
            q += 3;
        } else {
            found = first == c;
            q += 1;
        }
    }
    tick(m, q - open);
    return found != negated;
}

/* The end of the single-character class at p: where its quantifier (if any) would be. */
static const char *class_end(matcher *m, const char *p)
{
    const char *q;
    if (*p == '%') {
        if (p + 1 == m->p_end)
            luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 2;
    }
    if (*p != '[')
        return p + 1;
    q = p + 1;
    if (*q == '^')
        q++;
    do { /* the first character is a member even when it is ']' */
        if (q == m->p_end)
            luaL_error(m->L, "malformed pattern (missing ']')");
        if (*q++ == '%' && q < m->p_end)
            q++;
    } while (*q != ']');
    tick(m, q - p);
    return q + 1;
}

/* Whether the subject character at s is matched by the class from item to suffix. */
static bool single_match(matcher *m, const char *s, const char *item, const char *suffix)
{
    int c;
    tick(m, 1);
    if (s >= m->src_end)
        return false;
    c = (unsigned char)*s;
    switch (*item) {
    case '.': return true;
    case '%': return class_has(c, (unsigned char)item[1]);
    case '[': return set_has(m, c, item, suffix - 1);
    default: return (unsigned char)*item == c;
    }
}

/* ----- the matcher ----------------------------------------------------------------------- */

static frame *push_frame(matcher *m, frame_kind kind)
{
    frame *f;
    /* The attempt about to start would be the 201st alive at once in Lua's matcher. */
    if (m->depth >= MAX_NESTING - 1 || m->depth >= m->stack_size)
        luaL_error(m->L, "pattern too complex");
    f = &m->stack[m->depth++];
    f->kind = kind;
    return f;
}

/* %bxy at s: the end of the balanced run, or NULL. */
static const char *balanced_end(matcher *m, const char *s, const char *xy)
{
    int nesting = 1;
    if (xy >= m->p_end - 1)
        luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    tick(m, 1);
    if (*s != xy[0])
        return NULL;
    while (++s < m->src_end) {
        tick(m, 1);
        if (*s == xy[1]) {
            if (--nesting == 0)
                return s + 1;
        } else if (*s == xy[0]) {
            nesting++;
        }
    }
    return NULL;
}

/* %1-%9 (digit is the character after '%'): the end of the repeated capture at s, or NULL. */
static const char *backref_end(matcher *m, const char *s, int digit)
{
    int       index = digit - '1';
    ptrdiff_t length;
    if (index < 0 || index >= m->level || m->cap[index].length == CAP_UNFINISHED)
        luaL_error(m->L, "invalid capture index %%%d", index + 1);
    length = m->cap[index].length;
    if (length == CAP_POSITION) /* a position never equals text */
        return NULL;
    tick(m, 1 + length / BYTES_PER_STEP);
    if (m->src_end - s >= length && memcmp(m->cap[index].start, s, (size_t)length) == 0)
        return s + length;
    return NULL;
}

/* The innermost capture still open, for a ')'. */
static int capture_to_close(matcher *m)
{
    for (int i = m->level - 1; i >= 0; i--) {
        if (m->cap[i].length == CAP_UNFINISHED)
            return i;
    }
    return luaL_error(m->L, "invalid pattern capture");
}

/*
** Undoes frames until one has another way to go on, and sets *s, *p to it. False when the
** stack is empty: the match at this start position has failed.
*/
static bool backtrack(matcher *m, const char **s, const char **p)
{
    while (m->depth > 0) {
        frame *f = &m->stack[m->depth - 1];
        tick(m, 1);
        switch (f->kind) {
        case FRAME_OPEN:
            m->level--;
            break;
        case FRAME_CLOSE:
            m->cap[f->count].length = CAP_UNFINISHED;
            break;
        case FRAME_OPTIONAL:
            m->depth--;
            *s = f->s;
            *p = f->suffix + 1;
            return true;
        case FRAME_GREEDY:
            if (f->count > 0) {
                f->count--;
                *s = f->s + f->count;
                *p = f->suffix + 1;
                return true;
            }
            break;
        case FRAME_LAZY:
            if (single_match(m, f->s, f->item, f->suffix)) {
                f->s++;
                *s = f->s;
                *p = f->suffix + 1;
                return true;
            }
            break;
        }
        m->depth--;
    }
    return false;
}

/* Matches the pattern from p against the subject from s; the end of the match, or NULL. */
static const char *match_here(matcher *m, const char *s, const char *p)
{
    m->level = 0;
    m->depth = 0;
    for (;;) {
        const char *suffix;
        frame      *f;
        tick(m, 1);
        if (p == m->p_end)
            return s;
        switch (*p) {
        case '(':
            if (m->level >= MAX_CAPTURES)
                luaL_error(m->L, "too many captures");
            m->cap[m->level].start = s;
            m->cap[m->level].length = (p[1] == ')') ? CAP_POSITION : CAP_UNFINISHED;
            m->level++;
            push_frame(m, FRAME_OPEN);
            p += (p[1] == ')') ? 2 : 1;
            continue;
        case ')': {
            int index = capture_to_close(m);
            m->cap[index].length = s - m->cap[index].start;
            push_frame(m, FRAME_CLOSE)->count = (size_t)index;
            p++;
            continue;
        }
        case '$':
            if (p + 1 != m->p_end)
                break; /* an ordinary character */
            if (s == m->src_end)
                return s;
            goto fail;
        case '%':
            if (p[1] == 'b') {
                s = balanced_end(m, s, p + 2);
                if (s == NULL)
                    goto fail;
                p += 4;
                continue;
            }
            if (p[1] == 'f') {
                const char *set = p + 2;
                int         before, here;
                if (*set != '[')
                    luaL_error(m->L, "missing '[' after '%%f' in pattern");
                suffix = class_end(m, set);
                before = (s == m->src_init) ? 0 : (unsigned char)s[-1];
                here = (unsigned char)*s; /* the NUL at the end of the subject */
                if (set_has(m, before, set, suffix - 1) || !set_has(m, here, set, suffix - 1))
                    goto fail;
                p = suffix;
                continue;
            }
            if (p[1] >= '0' && p[1] <= '9') {
                s = backref_end(m, s, p[1]);
                if (s == NULL)
                    goto fail;
                p += 2;
                continue;
            }
            break; /* a class such as %a or an escaped character */
        default:
            break;
        }

        /* A single-character class with an optional quantifier. */
        suffix = class_end(m, p);
        if (!single_match(m, s, p, suffix)) {
            if (*suffix == '*' || *suffix == '?' || *suffix == '-') {
                p = suffix + 1; /* zero repetitions are fine */
                continue;
            }
            goto fail;
        }
        switch (*suffix) {
        case '?':
            f = push_frame(m, FRAME_OPTIONAL);
            f->s = s;
            f->suffix = suffix;
            s++;
            p = suffix + 1;
            continue;
        case '+':
            s++; /* the one repetition required is there */
            /* fall through */
        case '*': {
            size_t n = 0;
            while (single_match(m, s + n, p, suffix))
                n++;
            f = push_frame(m, FRAME_GREEDY);
            f->s = s;
            f->item = p;
            f->suffix = suffix;
            f->count = n;
            s += n;
            p = suffix + 1;
            continue;
        }
        case '-':
            f = push_frame(m, FRAME_LAZY);
            f->s = s;
            f->item = p;
            f->suffix = suffix;
            p = suffix + 1;
            continue;
        default:
            s++;
            p = suffix;
            continue;
        }
    fail:
        if (!backtrack(m, &s, &p))
            return NULL;
    }
}

/* An upper bound on the frames a pattern can hold at once: each frame on the stack belongs to
** a different one of these characters, in pattern order. */
static int frames_needed(const char *p, size_t length)
{
    size_t n = 0;
    for (size_t i = 0; i < length && n < MAX_NESTING; i++) {
        switch (p[i]) {
        case '(': case ')': case '?': case '*': case '+': case '-': n++; break;
        default: break;
        }
    }
    return n < MAX_NESTING ? (int)n : MAX_NESTING - 1;
}

/*
** Prepares m for subject s and pattern p. Frames live in inline_frames when few are needed,
** else in a userdata pushed on the stack (it stays there until the C function returns).
*/
static void matcher_init(matcher *m, lua_State *L, const char *s, size_t ls, const char *p,
                         size_t lp, frame *inline_frames)
{
    int needed = frames_needed(p, lp);
    m->L = L;
    m->src_init = s;
    m->src_end = s + ls;
    m->p_end = p + lp;
    m->depth = 0;
    m->level = 0;
    m->steps = 1 + (int64_t)(lp / BYTES_PER_STEP); /* the scans of the pattern */
    if (needed <= INLINE_FRAMES) {
        m->stack = inline_frames;
        m->stack_size = INLINE_FRAMES;
    } else {
        m->stack = lua_newuserdatauv(L, (size_t)needed * sizeof(frame), 0);
        m->stack_size = needed;
    }
}

/* ----- captures -------------------------------------------------------------------------- */

/*
** Capture i of the match s..e: its text and length, or CAP_POSITION after pushing the
** position. Without captures, capture 0 is the whole match.
*/
static ptrdiff_t capture_get(matcher *m, int i, const char *s, const char *e, const char **text)
{
    ptrdiff_t length;
    if (i >= m->level) {
        if (i != 0)
            luaL_error(m->L, "invalid capture index %%%d", i + 1);
        *text = s;
        return e - s;
    }
    length = m->cap[i].length;
    *text = m->cap[i].start;
    if (length == CAP_UNFINISHED)
        luaL_error(m->L, "unfinished capture");
    if (length == CAP_POSITION)
        lua_pushinteger(m->L, (lua_Integer)(m->cap[i].start - m->src_init) + 1);
    return length;
}

static void push_capture(matcher *m, int i, const char *s, const char *e)
{
    const char *text;
    ptrdiff_t   length = capture_get(m, i, s, e, &text);
    if (length != CAP_POSITION)
        lua_pushlstring(m->L, text, (size_t)length);
}

/* Pushes the captures (the whole match s..e when there are none and s is not NULL). */
static int push_captures(matcher *m, const char *s, const char *e)
{
    int n = (m->level == 0 && s != NULL) ? 1 : m->level;
    luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i < n; i++)
        push_capture(m, i, s, e);
    return n;
}

/* ----- find and match -------------------------------------------------------------------- */

/* A 1-based start position (negative from the end) made 1-based and at least 1. */
static size_t start_position(lua_Integer pos, size_t length)
{
    if (pos > 0)
        return (size_t)pos;
    if (pos == 0 || pos < -(lua_Integer)length)
        return 1;
    return length + (size_t)pos + 1;
}

static bool has_specials(const char *p, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        if (p[i] != '\0' && strchr(specials, p[i]) != NULL)
            return true;
    }
    return false;
}

/* find with plain text: the first occurrence of p in s, or NULL. Each candidate that memchr
** finds costs a step (plus the bytes compared); the bytes memchr skips are bulk work. */
static const char *plain_find(lua_State *L, const char *s, size_t ls, const char *p, size_t lp)
{
    const char *found = NULL;
    int64_t     steps = 1 + (int64_t)(lp / BYTES_PER_STEP);
    if (lp == 0) {
        found = s;
    } else if (lp <= ls) {
        const char *at = s;
        const char *last = s + (ls - lp); /* the last place p can start */
        while (at <= last) {
            const char *candidate = memchr(at, p[0], (size_t)(last - at) + 1);
            if (candidate == NULL) {
                steps += (last - at) / BYTES_PER_STEP;
                break;
            }
            steps += 1 + ((candidate - at) + (int64_t)lp) / BYTES_PER_STEP;
            if (memcmp(candidate + 1, p + 1, lp - 1) == 0) {
                found = candidate;
                break;
            }
            at = candidate + 1;
            if (steps >= CHARGE_EVERY) {
                wd_sandbox_charge(L, steps);
                steps = 0;
            }
        }
    }
    wd_sandbox_charge(L, steps);
    return found;
}

static int find_or_match(lua_State *L, bool find)
{
    size_t      ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t      init = start_position(luaL_optinteger(L, 3, 1), ls) - 1;
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
        const char *at = plain_find(L, s + init, ls - init, p, lp);
        if (at == NULL) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (lua_Integer)(at - s) + 1);
        lua_pushinteger(L, (lua_Integer)(at - s) + (lua_Integer)lp);
        return 2;
    }
    {
        frame       inline_frames[INLINE_FRAMES];
        matcher     m;
        bool        anchored = lp > 0 && p[0] == '^';
        const char *start = s + init;
        if (anchored) {
            p++;
            lp--;
        }
        matcher_init(&m, L, s, ls, p, lp, inline_frames);
        for (;;) {
            const char *end = match_here(&m, start, p);
            if (end != NULL) {
                charge(&m);
                if (!find)
                    return push_captures(&m, start, end);
                lua_pushinteger(L, (lua_Integer)(start - s) + 1);
                lua_pushinteger(L, (lua_Integer)(end - s));
                return push_captures(&m, NULL, NULL) + 2;
            }
            if (anchored || start >= m.src_end)
                break;
            start++;
        }
        charge(&m);
    }
    luaL_pushfail(L);
    return 1;
}

static int pattern_find(lua_State *L)
{
    return find_or_match(L, true);
}

static int pattern_match(lua_State *L)
{
    return find_or_match(L, false);
}

/* ----- gmatch ---------------------------------------------------------------------------- */

/* The iterator's state; the subject and the pattern are its upvalues 1 and 2. */
typedef struct gmatch_state {
    size_t next;       /* where the next search starts */
    size_t last_end;   /* end of the last match (an empty match may not end there again) */
    bool   matched;    /* whether last_end is set */
    int    stack_size;
    frame  stack[];
} gmatch_state;

static int gmatch_next(lua_State *L)
{
    size_t        ls, lp;
    const char   *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    const char   *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
    gmatch_state *g = lua_touserdata(L, lua_upvalueindex(3));
    matcher       m;
    m.L = L;
    m.src_init = s;
    m.src_end = s + ls;
    m.p_end = p + lp;
    m.stack = g->stack;
    m.stack_size = g->stack_size;
    m.depth = 0;
    m.level = 0;
    m.steps = 0;
    for (size_t at = g->next; at <= ls; at++) {
        const char *end = match_here(&m, s + at, p);
        if (end != NULL && !(g->matched && (size_t)(end - s) == g->last_end)) {
            g->next = g->last_end = (size_t)(end - s);
            g->matched = true;
            charge(&m);
            return push_captures(&m, s + at, end);
        }
    }
    charge(&m);
    return 0;
}

static int pattern_gmatch(lua_State *L)
{
    size_t        ls, lp;
    const char   *p;
    size_t        init;
    gmatch_state *g;
    int           needed;
    luaL_checklstring(L, 1, &ls);
    p = luaL_checklstring(L, 2, &lp);
    init = start_position(luaL_optinteger(L, 3, 1), ls) - 1;
    lua_settop(L, 2); /* the subject and the pattern become upvalues */
    needed = frames_needed(p, lp);
    if (needed < 1)
        needed = 1;
    g = lua_newuserdatauv(L, sizeof(gmatch_state) + (size_t)needed * sizeof(frame), 0);
    g->next = (init > ls) ? ls + 1 : init;
    g->last_end = 0;
    g->matched = false;
    g->stack_size = needed;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

/* ----- gsub ------------------------------------------------------------------------------ */

/* Appends the replacement string (argument 3) for the match s..e, expanding %0-%9 and %%. */
static void add_replacement_text(matcher *m, luaL_Buffer *b, const char *s, const char *e)
{
    lua_State  *L = m->L;
    size_t      length;
    const char *r = lua_tolstring(L, 3, &length);
    const char *end = r + length;
    tick(m, 1 + (int64_t)(length / BYTES_PER_STEP));
    for (;;) {
        const char *escape = memchr(r, '%', (size_t)(end - r));
        int         c;
        if (escape == NULL)
            break;
        luaL_addlstring(b, r, (size_t)(escape - r));
        c = (unsigned char)escape[1]; /* the NUL after the string if '%' is last */
        tick(m, 1);
        if (c == '%') {
            luaL_addchar(b, '%');
        } else if (c == '0') {
            tick(m, (e - s) / BYTES_PER_STEP);
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (isdigit(c)) {
            const char *text;
            ptrdiff_t   n = capture_get(m, c - '1', s, e, &text);
            if (n == CAP_POSITION) {
                luaL_addvalue(b);
            } else {
                tick(m, n / BYTES_PER_STEP);
                luaL_addlstring(b, text, (size_t)n);
            }
        } else {
            luaL_error(L, "invalid use of '%%' in replacement string");
        }
        r = escape + 2;
    }
    luaL_addlstring(b, r, (size_t)(end - r));
}

/* Appends the replacement for the match s..e; whether the subject changed. */
static bool add_replacement(matcher *m, luaL_Buffer *b, const char *s, const char *e, int type)
{
    lua_State *L = m->L;
    if (type == LUA_TFUNCTION) {
        int n;
        charge(m); /* the function runs under the budget as it stands now */
        lua_pushvalue(L, 3);
        n = push_captures(m, s, e);
        lua_call(L, n, 1);
    } else if (type == LUA_TTABLE) {
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    } else {
        add_replacement_text(m, b, s, e);
        return true;
    }
    if (!lua_toboolean(L, -1)) { /* nil or false keeps the original text */
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return false;
    }
    if (!lua_isstring(L, -1))
        return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return true;
}

static int pattern_gsub(lua_State *L)
{
    size_t       ls, lp;
    const char  *src = luaL_checklstring(L, 1, &ls);
    const char  *p = luaL_checklstring(L, 2, &lp);
    int          type = lua_type(L, 3);
    lua_Integer  max_n = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    lua_Integer  n = 0;
    bool         changed = false;
    bool         anchored = lp > 0 && p[0] == '^';
    const char  *last_end = NULL;
    frame        inline_frames[INLINE_FRAMES];
    matcher      m;
    luaL_Buffer  b;
    luaL_argexpected(L, type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TFUNCTION
                            || type == LUA_TTABLE,
                     3, "string/function/table");
    if (anchored) {
        p++;
        lp--;
    }
    matcher_init(&m, L, src, ls, p, lp, inline_frames); /* before the buffer: may push */
    luaL_buffinit(L, &b);
    while (n < max_n) {
        const char *end = match_here(&m, src, p);
        if (end != NULL && end != last_end) {
            n++;
            changed = add_replacement(&m, &b, src, end, type) || changed;
            src = last_end = end;
        } else if (src < m.src_end) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchored)
            break;
    }
    charge(&m);
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, src, (size_t)(m.src_end - src));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

/* ----- registration ---------------------------------------------------------------------- */

void wd_pattern_register(lua_State *L, int table_index)
{
    static const luaL_Reg functions[] = {
        { "find", pattern_find },
        { "match", pattern_match },
        { "gmatch", pattern_gmatch },
        { "gsub", pattern_gsub },
        { NULL, NULL },
    };
    table_index = lua_absindex(L, table_index);
    for (const luaL_Reg *r = functions; r->name != NULL; r++) {
        lua_pushcfunction(L, r->func);
        lua_setfield(L, table_index, r->name);
    }
}
