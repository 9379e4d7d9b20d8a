/*
** watch.h — noticing changes to the policy directory and the trust files while the engine
** serves: one thread per watch, inotify on every directory of the watched trees and on the
** parent directories of single files and of symbolic links on the way (so editors'
** rename-over, in-place writes, new subdirectories, directory symlink swaps and Kubernetes
** ConfigMap `..data` swaps are all seen), bursts coalesced into one callback, and a
** content-hash polling fallback when inotify is unavailable, out of watches, or forced.
** The watcher only says "something changed"; reading and validating is the caller's job.
*/
#ifndef WD_ENGINE_WATCH_H
#define WD_ENGINE_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One watch: its thread, its inotify descriptor (or polling state), its counters. Opaque;
** all memory is owned by the handle and released by wd_watch_stop. */
typedef struct wd_watch wd_watch;

/* Called on the watcher's own thread after a burst of changes has been quiet for
** debounce_ms (coalesced: one call per burst), and after a polling pass found different
** content. Must not call wd_watch_stop on its own watch.
** A burst that never goes quiet is still reported after max(2000, 4 * debounce_ms) ms.
** While the callback runs, new events queue up and lead to a later call, so a change that
** happens during the callback is never lost. */
typedef void (*wd_watch_fn)(void *context);

typedef struct wd_watch_options {
    const char *const *directories;  /* watched recursively (the policy directory); symlinks followed; dot-names ARE watched (..data swaps matter) */
    size_t             directory_count;
    const char *const *files;        /* single files (CA bundles, known certs, users file): their parent directories are watched, events filtered by name */
    size_t             file_count;
    int                debounce_ms;  /* quiet time before the callback, default 100 */
    int                poll_ms;      /* polling period used when inotify is unavailable or overflowed (default 1000); 0 = never poll */
    bool               force_polling;/* tests: behave as if inotify were unavailable */
} wd_watch_options;
/* Option values: debounce_ms <= 0 means the default 100; poll_ms < 0 means the default
** 1000. With inotify, poll_ms is also the period at which directories that could not be
** watched at all (no existing parent) are tried again. Relative paths are taken from the
** working directory at start. A directory or file that does not exist (yet) is not an
** error: its parent is watched and it is picked up when it appears. A queue overflow is
** answered with a rescan and one callback (the caller re-reads everything, which is all a
** polling pass could tell); inotify stays in use. Polling replaces inotify only when it
** cannot be had: inotify_init1 fails, the watch limit is reached (ENOSPC), or forced. */

/* Copies the options, installs the watches (or takes the first polling snapshot) on the
** calling thread, so every change made after this returns is reported, then starts the
** thread. Returns 0 and *out, or -1 with a message in error (capacity bytes, may be NULL)
** for NULL arguments, a NULL path, out of memory, or a thread or descriptor that could
** not be made. */
int  wd_watch_start(const wd_watch_options *options, wd_watch_fn fn, void *context, wd_watch **out, char *error, size_t capacity);

/* Stops the thread promptly (a callback in progress is waited for), joins it and frees
** everything. NULL is a no-op; never called from the callback. */
void wd_watch_stop(wd_watch *watch);  /* joins the thread; NULL is a no-op; never called from the callback */

/* Counters for status and tests. */
/* events: inotify events that concerned a watched name (filtered-out names not counted);
** callbacks: calls of fn; polls: polling passes; overflows: IN_Q_OVERFLOW seen; rescans:
** times all watches were dropped and re-added (overflow, a watched directory deleted or
** moved, a symbolic link to a directory created, replaced or removed, a missing directory
** appearing); polling: the watch runs on polling instead of inotify. Safe from any thread. */
typedef struct wd_watch_stats { uint64_t events, callbacks, polls, overflows, rescans; bool polling; } wd_watch_stats;
void wd_watch_get_stats(wd_watch *watch, wd_watch_stats *out);

#endif
