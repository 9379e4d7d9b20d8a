/*
** watch.c — the file watcher behind hot reload (watch.h): the watch table (one inotify
** watch per directory, keyed by watch descriptor), the scan that fills it (watched trees,
** parent directories of single files, of watched directories and of every symbolic link on
** the way), the event filter and debounce on the watcher thread, rescans, and the polling
** fallback that hashes file contents with SHA-256.
**
** Why the mask is what it is (see the research note on inotify, section 6):
**   IN_CLOSE_WRITE   an in-place `>` write is complete (its MODIFY events come earlier);
**   IN_MOVED_TO      rename-over by editors and deploy tools, and the `..data` swap;
**   IN_MOVED_FROM    a file or directory renamed away;
**   IN_CREATE        new files, new subdirectories (watched at once), new symbolic links;
**   IN_DELETE        removed files;
**   IN_ATTRIB        chmod/chown/touch: a policy that became unreadable is a change too;
**                    reading files does not raise it, so a reload never triggers itself;
**   IN_MODIFY        only keeps a burst open (extends the debounce), never starts one, so
**                    reading on the first truncating MODIFY cannot happen;
**   IN_DELETE_SELF, IN_MOVE_SELF (and IN_IGNORED, IN_UNMOUNT, IN_Q_OVERFLOW, always sent)
**                    a watched directory went away or events were lost: rescan;
**   IN_ONLYDIR       only directories are watched: a file watch dies with the first
**                    rename-over, a directory watch does not.
** Open, access and close-without-write are left out: the reload reads every file.
*/
#include "watch.h"

#include "digest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>


#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB | \
                    IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
/* Events that change which names exist in a directory. */
#define WATCH_STRUCTURE (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)
/* Events about the watched directory itself: it is gone, moved or unwatched. */
#define WATCH_SELF (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)

#define WATCH_DEFAULT_DEBOUNCE_MS 100
#define WATCH_DEFAULT_POLL_MS     1000
#define WATCH_MIN_MAX_DELAY_MS    2000
/* Deeper than the policy reader goes (WD_POLICY_MAX_DEPTH), so nothing it reads is missed. */
#define WATCH_MAX_DEPTH 64
/* Symbolic links followed in one chain, as the kernel's limit. */
#define WATCH_MAX_LINKS 40
/* The name Kubernetes swaps atomically in ConfigMap and Secret volumes. */
#define WATCH_DATA_NAME "..data"

/* ---------------------------------------------------------------------------------------
** The watch table
*/

/* One inotify watch. A tree entry belongs to a watched directory tree: every name in it
** counts. names are the names that count in a parent entry (the single file, the watched
** directory's name, a link on a symlink chain, "..data"); in both kinds, a create, move or
** delete of one of them means links may now resolve elsewhere, so it asks for a rescan. */
typedef struct watch_entry {
    int    wd;
    bool   tree;
    int    depth;   /* tree entries: depth below the watched directory */
    char  *path;    /* tree entries: the path the directory was reached by */
    dev_t  dev;     /* tree entries: identity, the guard against link loops */
    ino_t  ino;
    char **names;
    size_t name_count;
    size_t name_capacity;
} watch_entry;

typedef struct watch_table {
    watch_entry **entries;   /* each allocated alone, so pointers stay valid while it grows */
    size_t        count;
    size_t        capacity;
} watch_table;

struct wd_watch {
    char      **directories;   /* absolute, without "." components or trailing slashes */
    size_t      directory_count;
    char      **files;
    size_t      file_count;
    int         debounce_ms;
    int         poll_ms;
    int         max_delay_ms;
    wd_watch_fn fn;
    void       *context;

    int         inotify_fd;    /* -1 while polling (or never watching) */
    int         wake_fd;       /* eventfd written by wd_watch_stop */
    pthread_t   thread;
    bool        thread_started;
    atomic_bool stopping;

    /* Owned by the watcher thread once it runs (by the starter before). */
    watch_table table;
    size_t      blind;          /* paths that could not be watched and nothing notices */
    bool        want_polling;   /* a scan ran out of watches (ENOSPC) */
    bool        polling;
    bool        pending;        /* a burst is open: the callback is due */
    bool        rescan_needed;  /* rescan before the callback */
    int64_t     first_event_ms;
    int64_t     last_event_ms;
    int64_t     next_poll_ms;
    int64_t     next_retry_ms;
    unsigned char digest[32];   /* polling: the last pass */
    bool        have_digest;

    bool            lock_ready;
    pthread_mutex_t lock;       /* guards stats */
    wd_watch_stats  stats;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void stats_add(wd_watch *watch, uint64_t *field, uint64_t amount)
{
    if (amount > 0) {
        pthread_mutex_lock(&watch->lock);
        *field += amount;
        pthread_mutex_unlock(&watch->lock);
    }
}

static watch_entry *table_find(const watch_table *table, int wd)
{
    watch_entry *found = NULL;

    for (size_t i = 0; i < table->count && found == NULL; i++)
        if (table->entries[i]->wd == wd)
            found = table->entries[i];
    return found;
}

static bool table_has_tree(const watch_table *table, dev_t dev, ino_t ino)
{
    bool found = false;

    for (size_t i = 0; i < table->count && !found; i++)
        found = table->entries[i]->tree && table->entries[i]->dev == dev && table->entries[i]->ino == ino;
    return found;
}

/* The entry for wd, made (empty) if it is new; NULL when out of memory. */
static watch_entry *table_get(watch_table *table, int wd)
{
    watch_entry *entry = table_find(table, wd);

    if (entry == NULL && table->count == table->capacity) {
        size_t capacity = table->capacity == 0 ? 16 : table->capacity * 2;
        watch_entry **grown = realloc(table->entries, capacity * sizeof *grown);
        if (grown != NULL) {
            table->entries = grown;
            table->capacity = capacity;
        }
    }
    if (entry == NULL && table->count < table->capacity) {
        entry = calloc(1, sizeof *entry);
        if (entry != NULL) {
            entry->wd = wd;
            table->entries[table->count++] = entry;
        }
    }
    return entry;
}

static void entry_free(watch_entry *entry)
{
    for (size_t i = 0; i < entry->name_count; i++)
        free(entry->names[i]);
    free(entry->names);
    free(entry->path);
    free(entry);
}

static void table_clear(watch_table *table)
{
    for (size_t i = 0; i < table->count; i++)
        entry_free(table->entries[i]);
    free(table->entries);
    table->entries = NULL;
    table->count = 0;
    table->capacity = 0;
}

static bool entry_has_name(const watch_entry *entry, const char *name)
{
    bool found = false;

    for (size_t i = 0; i < entry->name_count && !found; i++)
        found = strcmp(entry->names[i], name) == 0;
    return found;
}

/* Adds name (once). False when out of memory. */
static bool entry_add_name(watch_entry *entry, const char *name)
{
    bool ok = true;

    if (!entry_has_name(entry, name)) {
        char *copy = NULL;
        if (entry->name_count == entry->name_capacity) {
            size_t capacity = entry->name_capacity == 0 ? 4 : entry->name_capacity * 2;
            char **grown = realloc(entry->names, capacity * sizeof *grown);
            if (grown != NULL) {
                entry->names = grown;
                entry->name_capacity = capacity;
            }
        }
        if (entry->name_count < entry->name_capacity)
            copy = strdup(name);
        if (copy != NULL)
            entry->names[entry->name_count++] = copy;
        ok = copy != NULL;
    }
    return ok;
}

/* ---------------------------------------------------------------------------------------
** Paths
*/

/* dir + "/" + name, owned by the caller; NULL when out of memory. */
static char *path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    bool slash = a > 0 && dir[a - 1] == '/';
    char *path = malloc(a + b + 2);

    if (path != NULL) {
        memcpy(path, dir, a);
        if (!slash)
            path[a++] = '/';
        memcpy(path + a, name, b + 1);
    }
    return path;
}

/* path made absolute (from the working directory), with empty and "." components and
** trailing slashes removed; ".." is kept, since only the kernel knows where it leads
** through links. Owned by the caller; NULL on failure. */
static char *path_normalize(const char *path)
{
    char *joined = NULL;
    char *out = NULL;

    if (path[0] == '/') {
        joined = strdup(path);
    } else {
        char *cwd = getcwd(NULL, 0);
        if (cwd != NULL)
            joined = path_join(cwd, path);
        free(cwd);
    }
    if (joined != NULL)
        out = malloc(strlen(joined) + 2);
    if (out != NULL) {
        const char *p = joined;
        size_t o = 0;
        while (*p != '\0') {
            const char *start;
            size_t length;
            while (*p == '/')
                p++;
            start = p;
            while (*p != '\0' && *p != '/')
                p++;
            length = (size_t)(p - start);
            if (length == 0 || (length == 1 && start[0] == '.'))
                continue;
            out[o++] = '/';
            memcpy(out + o, start, length);
            o += length;
        }
        if (o == 0)
            out[o++] = '/';
        out[o] = '\0';
    }
    free(joined);
    return out;
}

/* The last component of a normalized path ("" for "/"). */
static const char *path_base(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash != NULL ? slash + 1 : path;
}

/* The parent of a normalized path, owned by the caller; NULL for "/" or out of memory. */
static char *path_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *parent = NULL;

    if (slash != NULL && slash[1] != '\0') {
        size_t length = slash == path ? 1 : (size_t)(slash - path);
        parent = malloc(length + 1);
        if (parent != NULL) {
            memcpy(parent, path, length);
            parent[length] = '\0';
        }
    }
    return parent;
}

/* Where the symbolic link at path (normalized, parent its parent) points, normalized;
** NULL when it cannot be read. */
static char *link_target(const char *path, const char *parent)
{
    char target[PATH_MAX];
    ssize_t length = readlink(path, target, sizeof target);
    char *resolved = NULL;

    if (length > 0 && (size_t)length < sizeof target) {
        char *joined;
        target[length] = '\0';
        joined = target[0] == '/' ? strdup(target) : path_join(parent, target);
        if (joined != NULL)
            resolved = path_normalize(joined);
        free(joined);
    }
    return resolved;
}

/* ---------------------------------------------------------------------------------------
** Scanning: filling the table
*/

static void scan_failed(wd_watch *watch, int error)
{
    if (error == ENOSPC)
        watch->want_polling = true;
    else
        watch->blind++;
}

/* Watches dir (links followed) as a parent in which name, and "..data", count. */
static void watch_parent(wd_watch *watch, const char *dir, const char *name)
{
    int wd = inotify_add_watch(watch->inotify_fd, dir, WATCH_MASK);

    if (wd < 0) {
        scan_failed(watch, errno);
    } else {
        watch_entry *entry = table_get(&watch->table, wd);
        if (entry == NULL || !entry_add_name(entry, name) || !entry_add_name(entry, WATCH_DATA_NAME))
            watch->blind++;
    }
}

/* Watches the parent of path for its name and, while path is a symbolic link, the parent
** of each link on the chain for that link's name: retargeting any link of the chain (a
** directory symlink swap, a ConfigMap "..data" swap, an editor replacing a link) is seen. */
static void watch_chain(wd_watch *watch, const char *path)
{
    char *current = path_normalize(path);
    int hops = 0;

    if (current == NULL)
        watch->blind++;
    while (current != NULL) {
        char *parent = path_parent(current);
        char *next = NULL;
        struct stat st;

        if (parent != NULL) {
            watch_parent(watch, parent, path_base(current));
            if (hops < WATCH_MAX_LINKS && lstat(current, &st) == 0 && S_ISLNK(st.st_mode))
                next = link_target(current, parent);
        }
        free(parent);
        free(current);
        current = next;
        hops++;
    }
}

/* Symbolic links among the ancestors of a watched directory or file are followed the same
** way: retargeting "current" in .../current/policies is seen too. */
static void watch_ancestors(wd_watch *watch, const char *path)
{
    char *prefix = strdup(path);
    char *slash = prefix != NULL ? strchr(prefix + 1, '/') : NULL;

    if (prefix == NULL)
        watch->blind++;
    while (slash != NULL) {
        struct stat st;
        *slash = '\0';
        if (lstat(prefix, &st) == 0 && S_ISLNK(st.st_mode))
            watch_chain(watch, prefix);
        *slash = '/';
        slash = strchr(slash + 1, '/');
    }
    free(prefix);
}

static void watch_tree(wd_watch *watch, const char *path, int depth);

/* Watches the subdirectories of a tree entry's directory, and follows its links: plain
** directories first, so a directory reached both ways keeps its own path. */
static void watch_children(wd_watch *watch, const char *path, int depth)
{
    DIR *dir = opendir(path);

    if (dir == NULL && errno != ENOENT && errno != ENOTDIR)
        watch->blind++;
    for (int pass = 0; dir != NULL && pass < 2; pass++) {
        struct dirent *item;
        rewinddir(dir);
        while ((item = readdir(dir)) != NULL) {
            unsigned char type = item->d_type;
            char *child;
            if (strcmp(item->d_name, ".") == 0 || strcmp(item->d_name, "..") == 0)
                continue;
            child = path_join(path, item->d_name);
            if (child == NULL) {
                watch->blind++;
                continue;
            }
            if (type == DT_UNKNOWN) {
                struct stat st;
                type = lstat(child, &st) != 0 ? DT_UNKNOWN
                       : S_ISDIR(st.st_mode) ? DT_DIR
                       : S_ISLNK(st.st_mode) ? DT_LNK
                       : DT_REG;
            }
            if (pass == 0 && type == DT_DIR) {
                watch_tree(watch, child, depth + 1);
            } else if (pass == 1 && type == DT_LNK) {
                watch_chain(watch, child);
                watch_tree(watch, child, depth + 1);
            }
            free(child);
        }
    }
    if (dir != NULL)
        closedir(dir);
}

/* Watches the directory at path (links followed) and everything below it, once per
** directory identity. Not a directory, or gone: nothing (its parent's watch notices). */
static void watch_tree(wd_watch *watch, const char *path, int depth)
{
    struct stat st;

    if (depth > WATCH_MAX_DEPTH) {
        /* deeper than anything is read */
    } else if (stat(path, &st) != 0) {
        if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
            watch->blind++;
    } else if (S_ISDIR(st.st_mode) && !table_has_tree(&watch->table, st.st_dev, st.st_ino)) {
        int wd = inotify_add_watch(watch->inotify_fd, path, WATCH_MASK);
        watch_entry *entry = NULL;
        if (wd < 0) {
            if (errno != ENOENT && errno != ENOTDIR)
                scan_failed(watch, errno);
        } else if ((entry = table_get(&watch->table, wd)) == NULL) {
            watch->blind++;
        } else if (!entry->tree) {
            entry->path = strdup(path);
            if (entry->path == NULL) {
                watch->blind++;
            } else {
                entry->tree = true;
                entry->depth = depth;
                entry->dev = st.st_dev;
                entry->ino = st.st_ino;
                watch_children(watch, entry->path, depth);
            }
        }
    }
}

static void scan_all(wd_watch *watch)
{
    watch->blind = 0;
    for (size_t i = 0; i < watch->directory_count; i++) {
        watch_ancestors(watch, watch->directories[i]);
        watch_chain(watch, watch->directories[i]);
        watch_tree(watch, watch->directories[i], 0);
    }
    for (size_t i = 0; i < watch->file_count; i++) {
        watch_ancestors(watch, watch->files[i]);
        watch_chain(watch, watch->files[i]);
    }
}

/* ---------------------------------------------------------------------------------------
** Polling: a SHA-256 over every file's path and contents
*/

typedef struct hash_seen {
    dev_t dev;
    ino_t ino;
} hash_seen;

typedef struct hash_pass {
    wd_watch   *watch;
    wd_sha256  *md;
    bool        ok;
    hash_seen  *seen;   /* directories of the current root already hashed: loops, aliases */
    size_t      seen_count;
    size_t      seen_capacity;
} hash_pass;

static void hash_feed(hash_pass *pass, const void *data, size_t length)
{
    if (pass->ok && atomic_load(&pass->watch->stopping))
        pass->ok = false;
    if (pass->ok && !wd_sha256_update(pass->md, data, length))
        pass->ok = false;
}

/* A tag byte, then the relative path with its NUL. */
static void hash_tag(hash_pass *pass, char tag, const char *relative)
{
    hash_feed(pass, &tag, 1);
    hash_feed(pass, relative, strlen(relative) + 1);
}

static void hash_file(hash_pass *pass, const char *path, const char *relative)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;

    if (fd < 0) {
        hash_tag(pass, 'u', relative);
    } else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        hash_tag(pass, 'o', relative);
    } else {
        unsigned char size[8];
        unsigned char buffer[16384];
        ssize_t got = 0;
        for (int i = 0; i < 8; i++)
            size[i] = (unsigned char)((uint64_t)st.st_size >> (56 - 8 * i));
        hash_tag(pass, 'f', relative);
        hash_feed(pass, size, sizeof size);
        while (pass->ok && (got = read(fd, buffer, sizeof buffer)) != 0) {
            if (got > 0)
                hash_feed(pass, buffer, (size_t)got);
            else if (errno != EINTR)
                break;
        }
        if (got < 0)
            hash_tag(pass, 'e', relative);
    }
    if (fd >= 0)
        close(fd);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted bytewise; NULL (count 0) when it cannot be read. */
static char **read_names(const char *path, size_t *count, bool *ok)
{
    DIR *dir = opendir(path);
    char **names = NULL;
    size_t capacity = 0;
    struct dirent *item;

    *count = 0;
    while (dir != NULL && *ok && (item = readdir(dir)) != NULL) {
        if (strcmp(item->d_name, ".") == 0 || strcmp(item->d_name, "..") == 0)
            continue;
        if (*count == capacity) {
            size_t grown_capacity = capacity == 0 ? 32 : capacity * 2;
            char **grown = realloc(names, grown_capacity * sizeof *grown);
            if (grown == NULL) {
                *ok = false;
                continue;
            }
            names = grown;
            capacity = grown_capacity;
        }
        names[*count] = strdup(item->d_name);
        if (names[*count] == NULL)
            *ok = false;
        else
            (*count)++;
    }
    if (dir != NULL)
        closedir(dir);
    if (*count > 1)
        qsort(names, *count, sizeof *names, compare_names);
    return names;
}

static void hash_node(hash_pass *pass, const char *path, const char *relative, int depth);

static void hash_directory(hash_pass *pass, const char *path, const char *relative, int depth,
                           const struct stat *st)
{
    bool seen = false;

    for (size_t i = 0; i < pass->seen_count && !seen; i++)
        seen = pass->seen[i].dev == st->st_dev && pass->seen[i].ino == st->st_ino;
    if (seen || depth > WATCH_MAX_DEPTH) {
        hash_tag(pass, 'l', relative);
    } else {
        size_t count = 0;
        char **names;
        if (pass->seen_count == pass->seen_capacity) {
            size_t capacity = pass->seen_capacity == 0 ? 32 : pass->seen_capacity * 2;
            hash_seen *grown = realloc(pass->seen, capacity * sizeof *grown);
            if (grown == NULL) {
                pass->ok = false;
            } else {
                pass->seen = grown;
                pass->seen_capacity = capacity;
            }
        }
        if (pass->ok) {
            pass->seen[pass->seen_count].dev = st->st_dev;
            pass->seen[pass->seen_count].ino = st->st_ino;
            pass->seen_count++;
        }
        hash_tag(pass, 'd', relative);
        names = read_names(path, &count, &pass->ok);
        for (size_t i = 0; i < count; i++) {
            char *child = path_join(path, names[i]);
            char *child_relative = relative[0] == '\0' ? strdup(names[i]) : path_join(relative, names[i]);
            if (child == NULL || child_relative == NULL)
                pass->ok = false;
            if (pass->ok)
                hash_node(pass, child, child_relative, depth + 1);
            free(child);
            free(child_relative);
        }
        for (size_t i = 0; i < count; i++)
            free(names[i]);
        free(names);
    }
}

/* Hashes what path is, links followed: a file's contents, a directory's tree, or a marker
** for missing and special files (which are never opened). */
static void hash_node(hash_pass *pass, const char *path, const char *relative, int depth)
{
    struct stat st;

    if (!pass->ok) {
        /* given up: stopping or out of memory */
    } else if (stat(path, &st) != 0) {
        hash_tag(pass, 'm', relative);
    } else if (S_ISDIR(st.st_mode)) {
        hash_directory(pass, path, relative, depth, &st);
    } else if (S_ISREG(st.st_mode)) {
        hash_file(pass, path, relative);
    } else {
        hash_tag(pass, 'o', relative);
    }
}

/* One pass over every watched directory and file. False when it could not finish
** (stopping, out of memory, a hashing failure): no verdict. */
static bool hash_all(wd_watch *watch, unsigned char digest[32])
{
    hash_pass pass = { watch, wd_sha256_new(), false, NULL, 0, 0 };

    pass.ok = pass.md != NULL;
    for (size_t i = 0; i < watch->directory_count && pass.ok; i++) {
        pass.seen_count = 0;
        hash_tag(&pass, 'D', watch->directories[i]);
        hash_node(&pass, watch->directories[i], "", 0);
    }
    for (size_t i = 0; i < watch->file_count && pass.ok; i++) {
        hash_tag(&pass, 'F', watch->files[i]);
        hash_node(&pass, watch->files[i], "", 0);
    }
    if (pass.ok)
        pass.ok = wd_sha256_final(pass.md, digest);
    wd_sha256_free(pass.md);
    free(pass.seen);
    return pass.ok;
}

/* ---------------------------------------------------------------------------------------
** The watcher: bursts, rescans, polling
*/

/* A change: opens a burst, or extends the one that is open. */
static void burst_open(wd_watch *watch, int64_t now)
{
    if (!watch->pending) {
        watch->pending = true;
        watch->first_event_ms = now;
    }
    watch->last_event_ms = now;
}

/* IN_MODIFY: a write in progress keeps an open burst open, but starts none. */
static void burst_extend(wd_watch *watch, int64_t now)
{
    if (watch->pending)
        watch->last_event_ms = now;
}

static int64_t burst_deadline(const wd_watch *watch)
{
    int64_t quiet = watch->last_event_ms + watch->debounce_ms;
    int64_t longest = watch->first_event_ms + watch->max_delay_ms;

    return quiet < longest ? quiet : longest;
}

/* Gives up inotify for good: from now on, a content hash every poll_ms. The baseline is
** taken now; when this happens while running (a watch could not be added), events may
** have been lost, so a callback is due as well. */
static void switch_to_polling(wd_watch *watch, bool running)
{
    int64_t now = now_ms();

    if (watch->inotify_fd >= 0)
        close(watch->inotify_fd);
    watch->inotify_fd = -1;
    table_clear(&watch->table);
    watch->want_polling = false;
    watch->rescan_needed = false;
    watch->blind = 0;
    watch->polling = true;
    watch->have_digest = hash_all(watch, watch->digest);
    watch->next_poll_ms = now + watch->poll_ms;
    pthread_mutex_lock(&watch->lock);
    watch->stats.polling = true;
    pthread_mutex_unlock(&watch->lock);
    if (running)
        burst_open(watch, now);
}

/* Drops every watch and adds them again from the paths: links are resolved anew, watches
** of directories no longer reachable are removed (their IN_IGNORED then finds no entry). */
static void rescan(wd_watch *watch)
{
    watch_table old = watch->table;

    memset(&watch->table, 0, sizeof watch->table);
    scan_all(watch);
    for (size_t i = 0; i < old.count; i++)
        if (table_find(&watch->table, old.entries[i]->wd) == NULL)
            inotify_rm_watch(watch->inotify_fd, old.entries[i]->wd);
    table_clear(&old);
    if (watch->want_polling)
        switch_to_polling(watch, true);
}

/* A name was created, moved or deleted in a watched directory. */
static void handle_structure(wd_watch *watch, const watch_entry *entry, const char *name, uint32_t mask)
{
    if (entry_has_name(entry, name)) {
        watch->rescan_needed = true;   /* a link on a chain, a watched name: resolve again */
    } else if (entry->tree && (mask & (IN_CREATE | IN_MOVED_TO)) != 0) {
        char *path = path_join(entry->path, name);
        struct stat st;
        if (path == NULL)
            watch->rescan_needed = true;
        else if ((mask & IN_ISDIR) != 0)
            watch_tree(watch, path, entry->depth + 1);   /* at once: its files come next */
        else if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
            watch->rescan_needed = true;   /* a new link: follow its chain */
        free(path);
    }
    /* A directory deleted or moved away reports DELETE_SELF or MOVE_SELF itself. */
}

/* Returns whether the event concerned something watched. */
static bool handle_event(wd_watch *watch, const struct inotify_event *event, int64_t now, uint64_t *overflows)
{
    watch_entry *entry = table_find(&watch->table, event->wd);
    const char *name = event->len > 0 ? event->name : NULL;
    bool counted = false;

    if ((event->mask & IN_Q_OVERFLOW) != 0) {
        (*overflows)++;
        watch->rescan_needed = true;
        burst_open(watch, now);
        counted = true;
    } else if (entry == NULL) {
        /* a watch a rescan removed: its last words */
    } else if (name == NULL) {
        if ((event->mask & WATCH_SELF) != 0) {
            watch->rescan_needed = true;
            burst_open(watch, now);
            counted = true;
        } else if (entry->tree && (event->mask & IN_ATTRIB) != 0) {
            burst_open(watch, now);   /* the directory's own permissions */
            counted = true;
        }
    } else if (entry->tree || entry_has_name(entry, name)) {
        counted = true;
        if ((event->mask & IN_MODIFY) != 0) {
            burst_extend(watch, now);
        } else {
            burst_open(watch, now);
            if ((event->mask & WATCH_STRUCTURE) != 0)
                handle_structure(watch, entry, name, event->mask);
        }
    }
    return counted;
}

static void read_events(wd_watch *watch)
{
    _Alignas(struct inotify_event) char buffer[16384];
    uint64_t counted = 0, overflows = 0;
    ssize_t got = 1;

    while (got > 0) {
        got = read(watch->inotify_fd, buffer, sizeof buffer);
        if (got > 0) {
            int64_t now = now_ms();
            const char *p = buffer;
            while (p < buffer + got) {
                const struct inotify_event *event = (const struct inotify_event *)(const void *)p;
                if (handle_event(watch, event, now, &overflows))
                    counted++;
                p += sizeof *event + event->len;
            }
        }
    }
    stats_add(watch, &watch->stats.events, counted);
    stats_add(watch, &watch->stats.overflows, overflows);
    if (watch->want_polling)
        switch_to_polling(watch, true);
}

/* The burst is over: re-add the watches if asked, then call back. */
static void fire(wd_watch *watch)
{
    if (watch->rescan_needed && watch->inotify_fd >= 0) {
        watch->rescan_needed = false;
        rescan(watch);
        stats_add(watch, &watch->stats.rescans, 1);
    }
    watch->rescan_needed = false;
    watch->pending = false;
    stats_add(watch, &watch->stats.callbacks, 1);
    watch->fn(watch->context);
}

static void poll_pass(wd_watch *watch)
{
    unsigned char digest[32];
    bool changed = false;

    if (hash_all(watch, digest)) {
        changed = watch->have_digest && memcmp(digest, watch->digest, sizeof digest) != 0;
        memcpy(watch->digest, digest, sizeof digest);
        watch->have_digest = true;
    }
    stats_add(watch, &watch->stats.polls, 1);
    if (changed)
        fire(watch);
}

/* Something could not be watched and no parent watch would notice it coming back: try
** again; when more could be watched, that is a change. */
static void retry_blind(wd_watch *watch, int64_t now)
{
    size_t before = watch->blind;

    rescan(watch);
    if (watch->inotify_fd >= 0 && watch->blind < before) {
        stats_add(watch, &watch->stats.rescans, 1);
        burst_open(watch, now);
    }
}

static int64_t earliest(int64_t a, int64_t b)
{
    return a < 0 || (b >= 0 && b < a) ? b : a;
}

static void *watch_thread(void *argument)
{
    wd_watch *watch = argument;
    bool running = true;

    while (running) {
        int64_t now = now_ms();
        int64_t deadline = -1;
        struct pollfd fds[2];
        nfds_t count = 1;
        int timeout = -1;

        if (watch->pending)
            deadline = earliest(deadline, burst_deadline(watch));
        if (watch->polling && watch->poll_ms > 0)
            deadline = earliest(deadline, watch->next_poll_ms);
        if (!watch->polling && watch->blind > 0 && watch->poll_ms > 0 && watch->inotify_fd >= 0)
            deadline = earliest(deadline, watch->next_retry_ms);
        if (deadline >= 0)
            timeout = deadline <= now ? 0 : deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);

        fds[0].fd = watch->wake_fd;
        fds[0].events = POLLIN;
        fds[0].revents = 0;
        if (watch->inotify_fd >= 0) {
            fds[1].fd = watch->inotify_fd;
            fds[1].events = POLLIN;
            fds[1].revents = 0;
            count = 2;
        }
        if (poll(fds, count, timeout) < 0 && errno != EINTR) {
            struct timespec pause = { 0, 10 * 1000000 };
            nanosleep(&pause, NULL);   /* not expected; never spin */
        }
        if (fds[0].revents != 0 || atomic_load(&watch->stopping)) {
            running = false;
            continue;
        }
        if (count == 2 && fds[1].revents != 0)
            read_events(watch);

        now = now_ms();
        if (watch->polling && watch->poll_ms > 0 && now >= watch->next_poll_ms) {
            poll_pass(watch);
            watch->next_poll_ms = now_ms() + watch->poll_ms;
        }
        if (!watch->polling && watch->blind > 0 && watch->poll_ms > 0 && watch->inotify_fd >= 0
            && now >= watch->next_retry_ms) {
            retry_blind(watch, now);
            watch->next_retry_ms = now_ms() + watch->poll_ms;
        }
        if (watch->pending && now_ms() >= burst_deadline(watch))
            fire(watch);
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------------
** The handle
*/

static void watch_free(wd_watch *watch)
{
    if (watch != NULL) {
        for (size_t i = 0; i < watch->directory_count; i++)
            free(watch->directories[i]);
        free(watch->directories);
        for (size_t i = 0; i < watch->file_count; i++)
            free(watch->files[i]);
        free(watch->files);
        table_clear(&watch->table);
        if (watch->inotify_fd >= 0)
            close(watch->inotify_fd);
        if (watch->wake_fd >= 0)
            close(watch->wake_fd);
        if (watch->lock_ready)
            pthread_mutex_destroy(&watch->lock);
        free(watch);
    }
}

/* Copies count paths, normalized; false when out of memory or the working directory is
** unknown (the copies made so far are counted in *copied, for freeing). */
static bool copy_paths(const char *const *paths, size_t count, char ***out, size_t *copied)
{
    bool ok = true;

    *copied = 0;
    *out = count > 0 ? calloc(count, sizeof **out) : NULL;
    if (count > 0 && *out == NULL)
        ok = false;
    for (size_t i = 0; ok && i < count; i++) {
        (*out)[i] = path_normalize(paths[i]);
        ok = (*out)[i] != NULL;
        if (ok)
            (*copied)++;
    }
    return ok;
}

static bool paths_valid(const char *const *paths, size_t count)
{
    bool ok = count == 0 || paths != NULL;

    for (size_t i = 0; ok && i < count; i++)
        ok = paths[i] != NULL && paths[i][0] != '\0';
    return ok;
}

int wd_watch_start(const wd_watch_options *options, wd_watch_fn fn, void *context, wd_watch **out,
                   char *error, size_t capacity)
{
    wd_watch *watch = NULL;
    char problem[256] = "";
    int rc = -1;

    if (out != NULL)
        *out = NULL;
    if (options == NULL || fn == NULL || out == NULL) {
        snprintf(problem, sizeof problem, "options, callback and result are required");
    } else if (!paths_valid(options->directories, options->directory_count)
               || !paths_valid(options->files, options->file_count)) {
        snprintf(problem, sizeof problem, "a watched path is missing or empty");
    } else if ((watch = calloc(1, sizeof *watch)) == NULL) {
        snprintf(problem, sizeof problem, "out of memory");
    } else {
        watch->inotify_fd = -1;
        watch->wake_fd = -1;
        watch->fn = fn;
        watch->context = context;
        watch->debounce_ms = options->debounce_ms > 0 ? options->debounce_ms : WATCH_DEFAULT_DEBOUNCE_MS;
        watch->poll_ms = options->poll_ms < 0 ? WATCH_DEFAULT_POLL_MS : options->poll_ms;
        watch->max_delay_ms = watch->debounce_ms > WATCH_MIN_MAX_DELAY_MS / 4 ? 4 * watch->debounce_ms
                                                                               : WATCH_MIN_MAX_DELAY_MS;
        if (watch->debounce_ms > INT_MAX / 4)
            watch->max_delay_ms = INT_MAX;
        atomic_init(&watch->stopping, false);
        if (!copy_paths(options->directories, options->directory_count, &watch->directories,
                        &watch->directory_count)
            || !copy_paths(options->files, options->file_count, &watch->files, &watch->file_count)) {
            snprintf(problem, sizeof problem, "cannot copy the paths: %s", strerror(errno));
        } else if (pthread_mutex_init(&watch->lock, NULL) != 0) {
            snprintf(problem, sizeof problem, "cannot make a mutex");
        } else if ((watch->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
            watch->lock_ready = true;
            snprintf(problem, sizeof problem, "eventfd: %s", strerror(errno));
        } else {
            watch->lock_ready = true;
            if (!options->force_polling)
                watch->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
            if (watch->inotify_fd >= 0)
                scan_all(watch);
            if (watch->inotify_fd < 0 || watch->want_polling)
                switch_to_polling(watch, false);
            watch->next_retry_ms = now_ms() + watch->poll_ms;
            if (pthread_create(&watch->thread, NULL, watch_thread, watch) != 0) {
                snprintf(problem, sizeof problem, "cannot start the watcher thread");
            } else {
                watch->thread_started = true;
                *out = watch;
                rc = 0;
            }
        }
    }
    if (rc != 0) {
        if (error != NULL && capacity > 0)
            snprintf(error, capacity, "watch: %s", problem);
        watch_free(watch);
    }
    return rc;
}

void wd_watch_stop(wd_watch *watch)
{
    if (watch != NULL && !pthread_equal(pthread_self(), watch->thread)) {
        uint64_t one = 1;
        ssize_t written;
        atomic_store(&watch->stopping, true);
        written = write(watch->wake_fd, &one, sizeof one);
        (void)written;   /* cannot fail short of 2^64 - 1 pending wake-ups */
        pthread_join(watch->thread, NULL);
        watch_free(watch);
    }
    /* Called from its own callback: a misuse that would deadlock; ignored. */
}

void wd_watch_get_stats(wd_watch *watch, wd_watch_stats *out)
{
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (watch != NULL && out != NULL) {
        pthread_mutex_lock(&watch->lock);
        *out = watch->stats;
        pthread_mutex_unlock(&watch->lock);
    }
}
