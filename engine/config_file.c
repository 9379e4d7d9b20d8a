/*
** config_file.c — warden_config_load: a config file (docs/reference.md, Configuration) is a Lua
** chunk returning a table. It is evaluated in the policy sandbox made bare (lua/sandbox.c,
** wd_sandbox_new_bare: no globals, strings without methods) under fixed limits, and its table
** is turned into config values through the shared schema (config_schema.h). All of it lands in
** a draft copy that replaces the config only when the whole file was good.
*/
#include "config.h"
#include "error.h"
#include "config_schema.h"
#include "file_text.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lua.h>

#include "../lua/sandbox.h"

/* A config file is a few hundred bytes of data; these bounds only stop abuse (a path to
** /dev/zero, an endless loop, a table that eats the heap, two long strings compared in a loop)
** from hanging or sinking the host. They are fixed, not configurable (a config cannot raise its
** own limits), and listed in docs/operations.md. The file's text counts against the memory. */
#define CONFIG_MAX_BYTES ((size_t)1 << 20)
static const wd_sandbox_limits config_limits = {
    .instructions = 1000000,
    .memory = (size_t)8 << 20,
    .time_ms = 1000,
    .string_bytes = (size_t)64 << 10, /* paths and names; also bounds what one comparison costs */
};


/* ---------------------------------------------------------------------------------------
** Reading the file
*/

static int read_file(const char *path, char **out, size_t *length, warden_error *err)
{
    char reason[128];
    switch (wd_file_read(path, CONFIG_MAX_BYTES, WD_FILE_REGULAR, out, length)) {
    case WD_FILE_OK:
        return WARDEN_OK;
    case WD_FILE_NOT_REGULAR:
        return wd_error_set(err, WARDEN_E_IO, "config", "%s: not a regular file", path);
    case WD_FILE_TOO_LARGE:
        return wd_error_set(err, WARDEN_E_CONFIG, "config", "%s: larger than %zu bytes", path, CONFIG_MAX_BYTES);
    case WD_FILE_NOMEM:
        return wd_error_set(err, WARDEN_E_NOMEM, "config", "%s: out of memory", path);
    case WD_FILE_OPEN:
        if (strerror_r(errno, reason, sizeof reason) != 0)
            snprintf(reason, sizeof reason, "error %d", errno);
        return wd_error_set(err, WARDEN_E_IO, "config", "%s: cannot open: %s", path, reason);
    default:
        if (strerror_r(errno, reason, sizeof reason) != 0)
            snprintf(reason, sizeof reason, "error %d", errno);
        return wd_error_set(err, WARDEN_E_IO, "config", "%s: cannot read: %s", path, reason);
    }
}

/* ---------------------------------------------------------------------------------------
** Paths
*/

static char *current_folder(void)
{
    size_t size = 256;

    for (;;) {
        char *buffer = malloc(size);
        if (buffer == NULL)
            return NULL;
        if (getcwd(buffer, size) != NULL)
            return buffer;
        free(buffer);
        if (errno != ERANGE || size > ((size_t)1 << 20))
            return NULL;
        size *= 2;
    }
}

static char *join_path(const char *folder, size_t folder_length, const char *path, size_t path_length)
{
    bool slash = folder_length > 0 && folder[folder_length - 1] != '/';
    char *joined;

    if (path_length > SIZE_MAX - folder_length - 2)
        return NULL;
    joined = malloc(folder_length + slash + path_length + 1);
    if (joined == NULL)
        return NULL;
    memcpy(joined, folder, folder_length);
    if (slash)
        joined[folder_length] = '/';
    memcpy(joined + folder_length + slash, path, path_length);
    joined[folder_length + slash + path_length] = '\0';
    return joined;
}

/* The absolute folder of the config file. Symbolic links are kept as written, not resolved:
** a Kubernetes ConfigMap swaps its "..data" link on update, and paths must follow the swap. */
static int config_folder(const char *path, char **out, warden_error *err)
{
    int rc = WARDEN_E_NOMEM;
    const char *slash = strrchr(path, '/');
    size_t length = slash == NULL ? 0 : (size_t)(slash - path);
    char *cwd = NULL;

    while (length > 1 && path[length - 1] == '/')
        length--;
    if (path[0] == '/') {
        *out = length == 0 ? strdup("/") : strndup(path, length);
        rc = *out == NULL ? WARDEN_E_NOMEM : WARDEN_OK;
        goto done;
    }
    /* "./warden.lua" and "./conf/warden.lua" should not leave "/./" in every path. */
    while (length >= 2 && path[0] == '.' && path[1] == '/') {
        path += 2;
        length -= 2;
        while (length > 0 && path[0] == '/') {
            path++;
            length--;
        }
    }
    if (length == 1 && path[0] == '.')
        length = 0;
    cwd = current_folder();
    if (cwd == NULL) {
        rc = WARDEN_E_IO;
        wd_error_set(err, rc, "config", "%s: cannot find the current folder to resolve paths against", path);
        goto done;
    }
    *out = length == 0 ? strdup(cwd) : join_path(cwd, strlen(cwd), path, length);
    rc = *out == NULL ? WARDEN_E_NOMEM : WARDEN_OK;
done:
    if (rc == WARDEN_E_NOMEM)
        wd_error_set(err, rc, "config", "%s: out of memory", path);
    free(cwd);
    return rc;
}

/* ---------------------------------------------------------------------------------------
** From the returned table to config values. Only calls that cannot raise a Lua error are
** used here (raw access, type checks, strings that are already strings), since this runs
** outside a protected call, and no script code (metamethods) can run: a bare state offers no
** setmetatable, so no table the file can return has a metatable.
*/

typedef struct loader {
    lua_State     *L;
    warden_config *draft;
    const char    *path;
    const char    *folder;
    warden_error  *err;
} loader;

/* "got ..." for a Lua value: the value itself for numbers, the type name otherwise. */
static void describe(lua_State *L, int index, char *out, size_t size)
{
    if (lua_type(L, index) == LUA_TNUMBER) {
        if (lua_isinteger(L, index))
            snprintf(out, size, "%" PRId64, (int64_t)lua_tointeger(L, index));
        else if (lua_tonumber(L, index) != lua_tonumber(L, index))
            snprintf(out, size, "nan"); /* printf would say "-nan" for some NaNs */
        else
            snprintf(out, size, "%.14g", (double)lua_tonumber(L, index));
    } else {
        snprintf(out, size, "%s", lua_typename(L, lua_type(L, index)));
    }
}

static int wrong_type(loader *ld, const char *name, int index, const wd_config_key *key)
{
    char expected[96];
    char got[48];

    wd_config_expected(key, expected, sizeof expected);
    describe(ld->L, index, got, sizeof got);
    wd_error_set(ld->err, WARDEN_E_CONFIG, "config", "%s: expected %s, got %s", name, expected, got);
    return WARDEN_E_CONFIG;
}

/* A copy of the string at index; relative paths are taken from the config's folder. */
static int copy_string(loader *ld, const char *name, int index, bool is_path, char **out)
{
    size_t length = 0;
    const char *text = lua_tolstring(ld->L, index, &length);

    *out = NULL;
    if (memchr(text, '\0', length) != NULL) {
        wd_error_set(ld->err, WARDEN_E_CONFIG, "config", "%s: contains a NUL byte", name);
        return WARDEN_E_CONFIG;
    }
    /* Copies count against the state's memory cap like its own heap: one 64 KiB string listed
    ** a thousand times is a small Lua table but 64 MiB of copies. */
    if (!wd_sandbox_reserve(ld->L, length + 1 + (is_path ? strlen(ld->folder) + 1 : 0))) {
        wd_error_set(ld->err, WARDEN_E_CONFIG, "config",
                     "%s: %s: memory limit exceeded (%zu bytes) by the values copied from the config file", ld->path,
                     name, config_limits.memory);
        return WARDEN_E_CONFIG;
    }
    /* "-" is standard output (log.decisions), not a file next to the config */
    if (is_path && length > 0 && text[0] != '/' && !(length == 1 && text[0] == '-'))
        *out = join_path(ld->folder, strlen(ld->folder), text, length);
    else
        *out = strndup(text, length);
    if (*out == NULL) {
        wd_error_set(ld->err, WARDEN_E_NOMEM, "config", "%s: out of memory", name);
        return WARDEN_E_NOMEM;
    }
    return WARDEN_OK;
}

/* The length of a proper list (keys exactly 1..n), or false for any other table. With
** named_keys, string keys are skipped: they belong to the section of the same name. */
static bool list_length(lua_State *L, int index, bool named_keys, size_t *out)
{
    lua_Unsigned n = lua_rawlen(L, index);
    lua_Unsigned seen = 0;

    lua_pushnil(L);
    while (lua_next(L, index) != 0) {
        lua_pop(L, 1);
        if (named_keys && lua_type(L, -1) == LUA_TSTRING)
            continue;
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || (lua_Unsigned)lua_tointeger(L, -1) > n) {
            lua_pop(L, 1);
            return false;
        }
        seen++;
    }
    if (seen != n || n > SIZE_MAX / sizeof(char *))
        return false;
    *out = (size_t)n;
    return true;
}

static int read_list(loader *ld, const char *name, int index, const wd_config_key *key, wd_config_value *value)
{
    lua_State *L = ld->L;
    bool is_path = key->kind == WD_CONFIG_PATH_LIST;
    /* a list that is also a section: trust = { "ca.pem", eku = { "clientAuth" } } */
    bool named_keys = wd_config_is_section(key->name, strlen(key->name));
    size_t count = 0;
    char item_name[128];
    int rc;

    if (is_path && lua_type(L, index) == LUA_TSTRING) {
        value->list.items = calloc(1, sizeof *value->list.items);
        if (value->list.items == NULL)
            goto nomem;
        rc = copy_string(ld, name, index, true, &value->list.items[0]);
        if (rc == WARDEN_OK)
            value->list.count = 1;
        return rc;
    }
    if (lua_type(L, index) != LUA_TTABLE || !list_length(L, index, named_keys, &count))
        return wrong_type(ld, name, index, key);
    if (count > 0) {
        value->list.items = calloc(count, sizeof *value->list.items);
        if (value->list.items == NULL)
            goto nomem;
    }
    for (size_t i = 0; i < count; i++) {
        snprintf(item_name, sizeof item_name, "%s[%zu]", name, i + 1);
        lua_rawgeti(L, index, (lua_Integer)(i + 1));
        if (lua_type(L, -1) != LUA_TSTRING) {
            char got[48];
            describe(L, -1, got, sizeof got);
            lua_pop(L, 1);
            wd_error_set(ld->err, WARDEN_E_CONFIG, "config", "%s: expected a string, got %s", item_name, got);
            return WARDEN_E_CONFIG;
        }
        rc = copy_string(ld, item_name, lua_gettop(L), is_path, &value->list.items[i]);
        lua_pop(L, 1);
        if (rc != WARDEN_OK)
            return rc;
        value->list.count = i + 1;
    }
    return WARDEN_OK;
nomem:
    wd_error_set(ld->err, WARDEN_E_NOMEM, "config", "%s: out of memory", name);
    return WARDEN_E_NOMEM;
}

/* Converts the Lua value at index to the key's kind and stores it in the draft. */
static int apply_value(loader *ld, const wd_config_key *key, int index)
{
    lua_State *L = ld->L;
    wd_config_value value;
    int rc = WARDEN_OK;
    int isnum = 0;
    const char *name = key->name;

    memset(&value, 0, sizeof value);
    switch (key->kind) {
    case WD_CONFIG_BOOL:
        if (lua_type(L, index) != LUA_TBOOLEAN) {
            rc = wrong_type(ld, name, index, key);
            goto done;
        }
        value.boolean = lua_toboolean(L, index);
        break;
    case WD_CONFIG_INT:
    case WD_CONFIG_OPT_INT:
        /* Strings are refused even when they look like numbers; floats pass only when exact. */
        if (lua_type(L, index) != LUA_TNUMBER) {
            rc = wrong_type(ld, name, index, key);
            goto done;
        }
        value.integer = (int64_t)lua_tointegerx(L, index, &isnum);
        if (!isnum) {
            rc = wrong_type(ld, name, index, key);
            goto done;
        }
        break;
    case WD_CONFIG_STRING:
    case WD_CONFIG_PATH:
    case WD_CONFIG_CHOICE:
        if (lua_type(L, index) != LUA_TSTRING) {
            rc = wrong_type(ld, name, index, key);
            goto done;
        }
        rc = copy_string(ld, name, index, key->kind == WD_CONFIG_PATH, &value.text);
        if (rc != WARDEN_OK)
            goto done;
        break;
    case WD_CONFIG_PATH_LIST:
    case WD_CONFIG_NAME_LIST:
        rc = read_list(ld, name, index, key, &value);
        if (rc != WARDEN_OK)
            goto done;
        break;
    }
    rc = wd_config_store(ld->draft, key, &value, ld->err);
done:
    wd_config_value_clear(&value);
    return rc;
}

/* "clock.tll", "clock[1]", "[true]": how a key found in the file is named in messages. */
static void key_name(lua_State *L, const char *section, int index, char *out, size_t size)
{
    char text[80];
    const char *dot = section != NULL ? "." : "";

    if (section == NULL)
        section = "";
    if (lua_type(L, index) == LUA_TSTRING) {
        size_t length = 0;
        const char *key = lua_tolstring(L, index, &length);
        wd_config_quote(text, sizeof text, key, length, 64);
        snprintf(out, size, "%s%s%s", section, dot, text);
    } else {
        describe(L, index, text, sizeof text);
        snprintf(out, size, "%s[%s]", section, text);
    }
}

/* The string keys of table as keys of section; with list_items, other keys are left to the
** list of the same name (see read_list). */
static int apply_section(loader *ld, const char *section, int table, bool list_items)
{
    lua_State *L = ld->L;
    int rc = WARDEN_OK;
    char dotted[160];

    lua_pushnil(L);
    while (lua_next(L, table) != 0) {
        const wd_config_key *key = NULL;
        int value = lua_gettop(L);
        dotted[0] = '\0';

        if (list_items && lua_type(L, value - 1) != LUA_TSTRING) {
            lua_pop(L, 1);
            continue;
        }
        if (lua_type(L, value - 1) == LUA_TSTRING) {
            size_t length = 0;
            const char *name = lua_tolstring(L, value - 1, &length);
            if (memchr(name, '.', length) == NULL && memchr(name, '\0', length) == NULL && length < 64) {
                int n = snprintf(dotted, sizeof dotted, "%s.%.*s", section, (int)length, name);
                if (n > 0 && (size_t)n < sizeof dotted)
                    key = wd_config_key_find(dotted, (size_t)n);
            }
        }
        if (key != NULL) {
            rc = apply_value(ld, key, value);
        } else if (dotted[0] != '\0' && wd_config_is_section(dotted, strlen(dotted))
                   && lua_type(L, value) == LUA_TTABLE) {
            char nested[160];
            snprintf(nested, sizeof nested, "%s", dotted); /* a section in a section: serve.tls */
            rc = apply_section(ld, nested, value, false);
        } else {
            key_name(L, section, value - 1, dotted, sizeof dotted);
            wd_error_set(ld->err, WARDEN_E_CONFIG, "config", "%s: unknown key", dotted);
            rc = WARDEN_E_CONFIG;
        }
        lua_pop(L, 1);
        if (rc != WARDEN_OK) {
            lua_pop(L, 1);
            break;
        }
    }
    return rc;
}

static int apply_table(loader *ld, int table)
{
    lua_State *L = ld->L;
    int rc = WARDEN_OK;
    char name[128];

    lua_pushnil(L);
    while (lua_next(L, table) != 0) {
        int value = lua_gettop(L);
        size_t length = 0;
        const char *key = NULL;
        const wd_config_key *entry = NULL;

        if (lua_type(L, value - 1) == LUA_TSTRING) {
            key = lua_tolstring(L, value - 1, &length);
            /* A literal ["clock.ttl"] at the top is not the key clock.ttl. */
            if (memchr(key, '.', length) == NULL)
                entry = wd_config_key_find(key, length);
        }
        key_name(L, NULL, value - 1, name, sizeof name);
        if (entry != NULL) {
            if (wd_config_is_section(key, length) && lua_type(L, value) == LUA_TTABLE)
                rc = apply_section(ld, name, value, true);
            if (rc == WARDEN_OK)
                rc = apply_value(ld, entry, value);
        } else if (key != NULL && memchr(key, '.', length) == NULL && wd_config_is_section(key, length)) {
            if (lua_type(L, value) == LUA_TTABLE) {
                rc = apply_section(ld, name, value, false);
            } else {
                char got[48];
                describe(L, value, got, sizeof got);
                wd_error_set(ld->err, WARDEN_E_CONFIG, "config", "%s: expected a table, got %s", name, got);
                rc = WARDEN_E_CONFIG;
            }
        } else {
            wd_error_set(ld->err, WARDEN_E_CONFIG, "config", "%s: unknown key", name);
            rc = WARDEN_E_CONFIG;
        }
        lua_pop(L, 1);
        if (rc != WARDEN_OK) {
            lua_pop(L, 1);
            break;
        }
    }
    return rc;
}

/* ---------------------------------------------------------------------------------------
** warden_config_load
*/

/* Sets err to "path: text", or to text alone when it already starts with "path:" (Lua's
** "path:line: message"), so every failure of the file names it. */
static int file_error(warden_error *err, const char *path, const char *text)
{
    size_t length = strlen(path);
    if (strncmp(text, path, length) == 0 && text[length] == ':')
        return wd_error_set(err, WARDEN_E_CONFIG, "config", "%s", text);
    return wd_error_set(err, WARDEN_E_CONFIG, "config", "%s: %s", path, text);
}

/* Compiles and runs the file in a bare sandbox state; on success its table is on top of L's
** stack. Its environment is a plain empty table: assignments to globals land in it (so
** `return _ENV` still works), and there is nothing else to read. */
static int evaluate(lua_State *L, const char *text, size_t length, const char *path, warden_error *err)
{
    char error[512];
    int outcome;

    if (!wd_sandbox_reserve(L, length))
        return wd_error_set(err, WARDEN_E_CONFIG, "config", "%s: larger than the config memory limit (%zu bytes)",
                            path, config_limits.memory);
    lua_newtable(L);
    if (wd_sandbox_load(L, text, length, path, -1, error, sizeof error) != 0)
        return file_error(err, path, error); /* syntax, bytecode, or a literal over the limits */
    lua_remove(L, -2); /* the chunk holds its environment */
    outcome = wd_sandbox_call(L, 0, 1, error, sizeof error);
    if (outcome > 0) /* a limit: instructions, time, memory or string length */
        return wd_error_set(err, WARDEN_E_CONFIG, "config", "%s: %s while loading the config file", path, error);
    if (outcome != WD_SANDBOX_OK)
        return file_error(err, path, error);
    if (lua_type(L, -1) != LUA_TTABLE)
        return wd_error_set(err, WARDEN_E_CONFIG, "config", "%s: the file must return a table, got %s", path,
                            lua_typename(L, lua_type(L, -1)));
    return WARDEN_OK;
}

int warden_config_load(warden_config *config, const char *path, warden_error *err)
{
    int rc;
    char *text = NULL;
    size_t length = 0;
    char *folder = NULL;
    lua_State *L = NULL;
    warden_config *draft = NULL;
    loader ld;

    if (config == NULL || path == NULL) {
        wd_error_set(err, WARDEN_E_INVALID_ARG, "config", "warden_config_load: config and path are required");
        return WARDEN_E_INVALID_ARG;
    }
    rc = read_file(path, &text, &length, err);
    if (rc != WARDEN_OK)
        goto done;
    rc = config_folder(path, &folder, err);
    if (rc != WARDEN_OK)
        goto done;
    L = wd_sandbox_new_bare(&config_limits);
    if (L == NULL) {
        rc = WARDEN_E_NOMEM;
        wd_error_set(err, rc, "config", "%s: out of memory", path);
        goto done;
    }
    rc = evaluate(L, text, length, path, err);
    if (rc != WARDEN_OK)
        goto done;
    rc = wd_config_copy(config, &draft);
    if (rc != WARDEN_OK) {
        wd_error_set(err, rc, "config", "%s: out of memory", path);
        goto done;
    }
    if (!lua_checkstack(L, 16)) {
        rc = WARDEN_E_NOMEM;
        wd_error_set(err, rc, "config", "%s: out of memory", path);
        goto done;
    }
    ld = (loader){ L, draft, path, folder, err };
    rc = apply_table(&ld, lua_gettop(L));
    if (rc != WARDEN_OK)
        goto done;
    {
        /* Commit: the config takes the draft's contents, the draft the old ones to free. */
        warden_config old = *config;
        *config = *draft;
        *draft = old;
    }
done:
    warden_config_free(draft);
    wd_sandbox_close(L);
    free(folder);
    free(text);
    return rc;
}
