/*
** policy_files.c — reading a policy directory into memory (policy_files.h): the recursive
** walk, the sorting of each file into policies, tests or data documents, the limits, and
** the revision hash.
**
** The walk works relative to open directory descriptors (openat, fstatat, fdopendir), so
** each entry costs one system call to classify at most and no path is resolved twice.
** Entries are classified by name before anything else: a regular file whose name can not
** be a policy, a test or a data document is skipped without a system call, because
** readdir's d_type already says it is a regular file. Symbolic links (and file systems
** that do not fill d_type) are resolved with fstatat following the link, so a link to a
** directory is walked and a link to a file is read under the link's own name: the
** ConfigMap layout `orders.lua -> ..data/orders.lua` yields one file, "orders.lua",
** because `..data` and the timestamped folder start with a dot and are never entered.
**
** Loops: the (st_dev, st_ino) of every directory on the current path is kept; a directory
** that is already on the path is a link loop. A link that merely points to a directory
** seen elsewhere in the tree (not an ancestor) is walked again under its own name; the
** depth and file-count limits bound that.
**
** Decisions the header leaves open:
** - the top-level fixtures/ is not entered at all; the top-level data/ contributes only
**   regular files data/NAME.json directly inside it; folders nested in data/ are ignored;
** - an entry that can not be resolved (a dangling symbolic link, a permission error) is
**   an error whatever its name: it may stand for a folder of policies, and silently
**   loading a policy set without them could allow what they forbid;
** - devices, FIFOs and sockets are ignored like any other non-policy file;
** - messages name the path as the directory given joined with the relative path.
*/
#include "policy_files.h"

#include "digest.h"
#include "file_text.h"
#include "say.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

enum kind { KIND_NONE = -1, KIND_POLICY = 0, KIND_TEST = 1, KIND_DATA = 2 };

/* Where in the tree a folder is: its rules for what counts differ. */
enum area { AREA_ROOT, AREA_NORMAL, AREA_DATA };

typedef struct file_list {
    wd_policy_file *items;
    size_t          count;
    size_t          allocated;
} file_list;

typedef struct walk {
    const char *directory;         /* as given, for messages */
    int         directory_length;  /* without trailing slashes, for messages */
    char       *path;              /* relative path of the current entry, NUL-terminated */
    size_t      path_length;
    size_t      path_allocated;
    dev_t       devices[WD_POLICY_MAX_DEPTH + 1]; /* the folders on the current path */
    ino_t       inodes[WD_POLICY_MAX_DEPTH + 1];
    file_list   lists[3];          /* indexed by enum kind */
    size_t      file_count;
    char       *error;
    size_t      capacity;
} walk;

/* "DIRECTORY/relative path: problem". */
static void set_path_error(walk *w, const char *problem)
{
    wd_say(w->error, w->capacity, "%.*s%s%s: %s", w->directory_length, w->directory, w->path_length ? "/" : "",
              w->path, problem);
}

static bool ends_with(const char *name, size_t length, const char *suffix)
{
    size_t suffix_length = strlen(suffix);
    return length >= suffix_length && memcmp(name + length - suffix_length, suffix, suffix_length) == 0;
}

static enum kind classify(const char *name, enum area area)
{
    size_t length = strlen(name);
    if (area == AREA_DATA)
        return ends_with(name, length, ".json") ? KIND_DATA : KIND_NONE;
    if (ends_with(name, length, "_test.lua"))
        return KIND_TEST;
    if (ends_with(name, length, ".lua"))
        return KIND_POLICY;
    return KIND_NONE;
}

static bool is_lua_identifier(const char *name, size_t length)
{
    if (length == 0)
        return false;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)name[i];
        bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        bool digit = c >= '0' && c <= '9';
        if (!letter && !(digit && i > 0))
            return false;
    }
    return true;
}

/* Appends "/name" (or "name" at the top) to the relative path; returns the length to
** restore afterwards, or SIZE_MAX when out of memory. */
static size_t push_name(walk *w, const char *name)
{
    size_t saved = w->path_length;
    size_t name_length = strlen(name);
    size_t needed = saved + 1 + name_length + 1;
    if (needed > w->path_allocated) {
        size_t grown = w->path_allocated ? w->path_allocated : 256;
        while (grown < needed)
            grown *= 2;
        char *bigger = realloc(w->path, grown);
        if (bigger == NULL)
            return SIZE_MAX;
        w->path = bigger;
        w->path_allocated = grown;
    }
    size_t at = saved;
    if (saved > 0)
        w->path[at++] = '/';
    memcpy(w->path + at, name, name_length + 1);
    w->path_length = at + name_length;
    return saved;
}

static void pop_name(walk *w, size_t saved)
{
    w->path_length = saved;
    w->path[saved] = '\0';
}

static void clear_list(file_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].path);
        free(list->items[i].text);
        free(list->items[i].name);
    }
    free(list->items);
    list->items = NULL;
    list->count = 0;
    list->allocated = 0;
}

/* Reads the whole file (open in fd) into a NUL-terminated buffer. Returns 0, 1 when the
** entry turned out not to be a regular file (ignored), or -1 with the error set. */
static int read_whole(walk *w, int fd, char **out_text, size_t *out_length)
{
    switch (wd_file_read_fd(fd, WD_POLICY_MAX_FILE_BYTES, WD_FILE_REGULAR, out_text, out_length)) {
    case WD_FILE_OK:
        return 0;
    case WD_FILE_NOT_REGULAR:
        return 1;
    case WD_FILE_TOO_LARGE:
        wd_say(w->error, w->capacity, "%.*s/%s: larger than %u bytes", w->directory_length, w->directory,
                  w->path, (unsigned)WD_POLICY_MAX_FILE_BYTES);
        return -1;
    case WD_FILE_NOMEM:
        set_path_error(w, "out of memory");
        return -1;
    default:
        set_path_error(w, strerror(errno));
        return -1;
    }
}

/* Reads the regular file `name` in the folder dir_fd (its relative path is w->path) into
** the list for its kind. Returns 0 or -1. */
static int read_file(walk *w, int dir_fd, const char *name, enum kind kind)
{
    int    result = -1;
    int    fd = -1;
    char  *text = NULL;
    size_t length = 0;
    char  *path = NULL;
    char  *data_name = NULL;

    if (kind == KIND_DATA) {
        size_t name_length = strlen(name) - strlen(".json");
        if (!is_lua_identifier(name, name_length)) {
            set_path_error(w, "a data document's name must be a Lua identifier ([A-Za-z_][A-Za-z0-9_]*)");
            goto done;
        }
        data_name = malloc(name_length + 1);
        if (data_name == NULL) {
            set_path_error(w, "out of memory");
            goto done;
        }
        memcpy(data_name, name, name_length);
        data_name[name_length] = '\0';
    }
    if (w->file_count >= WD_POLICY_MAX_FILES) {
        wd_say(w->error, w->capacity, "%.*s: too many files (more than %u)", w->directory_length, w->directory,
                  (unsigned)WD_POLICY_MAX_FILES);
        goto done;
    }
    /* O_NONBLOCK: a FIFO that replaced the file since readdir must not hang the open. */
    fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        set_path_error(w, errno == ELOOP ? "link loop" : strerror(errno));
        goto done;
    }
    int status = read_whole(w, fd, &text, &length);
    if (status < 0)
        goto done;
    if (status > 0) { /* not a regular file after all: ignored like any other */
        result = 0;
        goto done;
    }
    path = malloc(w->path_length + 1);
    if (path == NULL) {
        set_path_error(w, "out of memory");
        goto done;
    }
    memcpy(path, w->path, w->path_length + 1);

    file_list *list = &w->lists[kind];
    if (list->count == list->allocated) {
        size_t          grown = list->allocated ? list->allocated * 2 : 64;
        wd_policy_file *bigger = realloc(list->items, grown * sizeof *bigger);
        if (bigger == NULL) {
            set_path_error(w, "out of memory");
            goto done;
        }
        list->items = bigger;
        list->allocated = grown;
    }
    list->items[list->count++] = (wd_policy_file){ .path = path, .text = text, .length = length, .name = data_name };
    w->file_count++;
    path = NULL;
    text = NULL;
    data_name = NULL;
    result = 0;
done:
    if (fd >= 0)
        close(fd);
    free(path);
    free(text);
    free(data_name);
    return result;
}

static int walk_folder(walk *w, int fd, size_t depth, enum area area);

/* Handles one entry of a folder. Returns 0 or -1. */
static int walk_entry(walk *w, int dir_fd, const struct dirent *entry, size_t depth, enum area area)
{
    const char *name = entry->d_name;
    unsigned    type = entry->d_type;

    if (name[0] == '.')
        return 0; /* ".", "..", hidden files, ConfigMap "..data" and "..2026_..." */
    if (area == AREA_ROOT && strcmp(name, "fixtures") == 0)
        return 0; /* test fixtures are read by the tests that name them, not here */
    enum kind kind = classify(name, area);
    if (type == DT_REG && kind == KIND_NONE)
        return 0;
    if (type == DT_DIR && area == AREA_DATA)
        return 0;

    int    result = -1;
    size_t saved = push_name(w, name);
    if (saved == SIZE_MAX) {
        wd_say(w->error, w->capacity, "%.*s: out of memory", w->directory_length, w->directory);
        return -1;
    }
    if (type != DT_REG && type != DT_DIR) { /* a link, or a file system without d_type */
        struct stat status;
        if (fstatat(dir_fd, name, &status, 0) != 0) {
            if (errno == ELOOP)
                wd_say(w->error, w->capacity, "link loop at %.*s/%s", w->directory_length, w->directory, w->path);
            else
                set_path_error(w, strerror(errno));
            goto done;
        }
        type = S_ISDIR(status.st_mode) ? DT_DIR : S_ISREG(status.st_mode) ? DT_REG : DT_UNKNOWN;
    }
    if (type == DT_DIR) {
        if (area == AREA_DATA) { /* folders nested in data/ are ignored */
            result = 0;
            goto done;
        }
        int child = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (child < 0) {
            if (errno == ELOOP)
                wd_say(w->error, w->capacity, "link loop at %.*s/%s", w->directory_length, w->directory, w->path);
            else
                set_path_error(w, strerror(errno));
            goto done;
        }
        enum area child_area = area == AREA_ROOT && strcmp(name, "data") == 0 ? AREA_DATA : AREA_NORMAL;
        result = walk_folder(w, child, depth + 1, child_area);
        goto done;
    }
    if (type == DT_REG && kind != KIND_NONE) {
        result = read_file(w, dir_fd, name, kind);
        goto done;
    }
    result = 0; /* anything else is not ours */
done:
    pop_name(w, saved);
    return result;
}

/* Walks the folder open in fd (taking ownership of fd) at the given depth. Returns 0 or -1. */
static int walk_folder(walk *w, int fd, size_t depth, enum area area)
{
    int         result = -1;
    DIR        *folder = NULL;
    struct stat status;

    if (fstat(fd, &status) != 0) {
        set_path_error(w, strerror(errno));
        goto done;
    }
    for (size_t i = 0; i < depth; i++) {
        if (w->devices[i] == status.st_dev && w->inodes[i] == status.st_ino) {
            wd_say(w->error, w->capacity, "link loop at %.*s/%s", w->directory_length, w->directory, w->path);
            goto done;
        }
    }
    if (depth > WD_POLICY_MAX_DEPTH) {
        wd_say(w->error, w->capacity, "%.*s/%s: too deep (more than %u folders)", w->directory_length,
                  w->directory, w->path, (unsigned)WD_POLICY_MAX_DEPTH);
        goto done;
    }
    w->devices[depth] = status.st_dev;
    w->inodes[depth] = status.st_ino;

    folder = fdopendir(fd);
    if (folder == NULL) {
        set_path_error(w, strerror(errno));
        goto done;
    }
    fd = -1; /* owned by folder now */
    for (;;) {
        errno = 0;
        struct dirent *entry = readdir(folder);
        if (entry == NULL) {
            if (errno != 0) {
                set_path_error(w, strerror(errno));
                goto done;
            }
            break;
        }
        if (walk_entry(w, dirfd(folder), entry, depth, area) != 0)
            goto done;
    }
    result = 0;
done:
    if (folder != NULL)
        closedir(folder);
    if (fd >= 0)
        close(fd);
    return result;
}

static int compare_paths(const void *a, const void *b)
{
    /* strcmp compares as unsigned char: bytewise order. */
    return strcmp(((const wd_policy_file *)a)->path, ((const wd_policy_file *)b)->path);
}

static void hash_file(wd_sha256 *context, const wd_policy_file *file)
{
    unsigned char length[8];
    uint64_t      value = file->length;
    for (int i = 7; i >= 0; i--) {
        length[i] = (unsigned char)(value & 0xff);
        value >>= 8;
    }
    wd_sha256_update(context, file->path, strlen(file->path) + 1);
    wd_sha256_update(context, length, sizeof length);
    wd_sha256_update(context, file->text, file->length);
}

/* The revision: every file of the three sorted lists, in one merged path order. */
static int compute_revision(const file_list lists[3], char revision[72])
{
    static const char hex[] = "0123456789abcdef";
    int               result = -1;
    wd_sha256        *context = wd_sha256_new();
    size_t            next[3] = { 0, 0, 0 };
    unsigned char     digest[32];

    if (context == NULL)
        goto done;
    for (;;) {
        int best = -1;
        for (int k = 0; k < 3; k++) {
            if (next[k] == lists[k].count)
                continue;
            if (best < 0 || strcmp(lists[k].items[next[k]].path, lists[best].items[next[best]].path) < 0)
                best = k;
        }
        if (best < 0)
            break;
        hash_file(context, &lists[best].items[next[best]++]);
    }
    if (!wd_sha256_final(context, digest))
        goto done;
    memcpy(revision, "sha256:", 7);
    for (size_t i = 0; i < sizeof digest; i++) {
        revision[7 + 2 * i] = hex[digest[i] >> 4];
        revision[7 + 2 * i + 1] = hex[digest[i] & 0x0f];
    }
    revision[7 + 2 * sizeof digest] = '\0';
    result = 0;
done:
    wd_sha256_free(context);
    return result;
}

int wd_policy_files_read(const char *directory, wd_policy_files *out, char *error, size_t capacity)
{
    int  result = -1;
    int  fd = -1;
    walk w;

    memset(&w, 0, sizeof w);
    if (error != NULL && capacity > 0)
        error[0] = '\0';
    if (out == NULL) {
        wd_say(error, capacity, "no place for the policy files");
        goto done;
    }
    memset(out, 0, sizeof *out);
    if (directory == NULL) {
        wd_say(error, capacity, "no policy directory given");
        goto done;
    }
    w.directory = directory;
    size_t shown = strlen(directory);
    while (shown > 1 && directory[shown - 1] == '/')
        shown--;
    w.directory_length = shown > 4096 ? 4096 : (int)shown;
    w.error = error;
    w.capacity = capacity;
    if (push_name(&w, "") == SIZE_MAX) {
        wd_say(error, capacity, "%s: out of memory", directory);
        goto done;
    }

    fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        wd_say(error, capacity, "%s: %s", directory, errno == ENOTDIR ? "not a directory" : strerror(errno));
        goto done;
    }
    int root = fd;
    fd = -1; /* walk_folder owns it */
    if (walk_folder(&w, root, 0, AREA_ROOT) != 0)
        goto done;

    for (int k = 0; k < 3; k++)
        if (w.lists[k].count > 1)
            qsort(w.lists[k].items, w.lists[k].count, sizeof(wd_policy_file), compare_paths);
    if (compute_revision(w.lists, out->revision) != 0) {
        wd_say(error, capacity, "%s: cannot compute the revision (SHA-256 unavailable)", directory);
        goto done;
    }
    out->directory = strdup(directory);
    if (out->directory == NULL) {
        wd_say(error, capacity, "%s: out of memory", directory);
        goto done;
    }
    out->policies = w.lists[KIND_POLICY].items;
    out->policy_count = w.lists[KIND_POLICY].count;
    out->tests = w.lists[KIND_TEST].items;
    out->test_count = w.lists[KIND_TEST].count;
    out->data = w.lists[KIND_DATA].items;
    out->data_count = w.lists[KIND_DATA].count;
    memset(w.lists, 0, sizeof w.lists);
    result = 0;
done:
    if (fd >= 0)
        close(fd);
    for (int k = 0; k < 3; k++)
        clear_list(&w.lists[k]);
    free(w.path);
    if (result != 0 && out != NULL)
        memset(out, 0, sizeof *out);
    return result;
}

static void free_files(wd_policy_file *files, size_t count)
{
    file_list list = { .items = files, .count = count, .allocated = count };
    clear_list(&list);
}

void wd_policy_files_clear(wd_policy_files *files)
{
    if (files == NULL)
        return;
    free(files->directory);
    free_files(files->policies, files->policy_count);
    free_files(files->tests, files->test_count);
    free_files(files->data, files->data_count);
    memset(files, 0, sizeof *files);
}
