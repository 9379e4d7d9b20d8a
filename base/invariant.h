/*
** invariant.h — WD_ASSERT: the invariants a comment states (who owns what, which lock is held,
** how big something is), checked in debug builds and compiled out of release builds, as Lua's
** lua_assert, SQLite's assert and curl's DEBUGASSERT do. Every library layer may include it.
**
** Active unless NDEBUG is defined: CMake's Debug build (the one scripts/test runs, with the
** sanitizers) checks them; Release and RelWithDebInfo define NDEBUG and pay nothing. A failed
** invariant is a bug in Warden, never a property of the input: input is checked with ordinary
** code that rejects or denies. So an assertion aborts at once, naming the file, line and
** condition, rather than carrying on in a state no comment describes.
*/
#ifndef WD_INVARIANT_H
#define WD_INVARIANT_H

#ifndef NDEBUG

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define WD_ASSERT(condition) \
    ((condition) ? (void)0 : wd_assert_failed(__FILE__, __LINE__, #condition))

/* The mutex is held (by this thread, as the comment of the function using it says; a
** default mutex cannot tell whose it is, so this catches the common bug: nobody holds it). */
#define WD_ASSERT_LOCKED(mutex) \
    (pthread_mutex_trylock(mutex) == EBUSY ? (void)0 : wd_assert_failed(__FILE__, __LINE__, "locked: " #mutex))

static inline void wd_assert_failed(const char *file, int line, const char *condition)
{
    fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, condition);
    fflush(stderr);
    abort();
}

#else

/* sizeof keeps the condition compiled (names checked, variables used) but never evaluated. */
#define WD_ASSERT(condition)     ((void)sizeof(!(condition)))
#define WD_ASSERT_LOCKED(mutex)  ((void)sizeof(mutex))

#endif

#endif
