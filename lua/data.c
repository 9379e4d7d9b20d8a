/*
** data.c — owns data documents (data/NAME.json): parsing them with jansson (duplicate keys
** refused, at most WD_DATA_MAX_DEPTH levels of nesting) and turning them into read-only Lua
** values. Objects become tables keyed by string, arrays 1-based tables, JSON integers Lua
** integers and other numbers floats, null nil. An array holding null gets a __len that keeps
** its JSON length, since # of a table with holes is any border.
*/
#include "data.h"

#include <jansson.h>
#include <lauxlib.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "sandbox.h"

enum {
    WD_DATA_MAX_DEPTH = 64,
    WD_DATA_NODE_BYTES = 96 /* a generous size of one parsed value in jansson's tree, with malloc's overhead */
};

/* One character of a scan over JSON text: tracks whether it is inside a string (and after a
** backslash there). True when c belongs to a string, its quotes included, so the caller looks
** at c as structure only when this returns false. */
static bool wd_data_string_step(char c, bool *in_string, bool *escaped)
{
    if (*in_string) {
        if (*escaped)
            *escaped = false;
        else if (c == '\\')
            *escaped = true;
        else if (c == '"')
            *in_string = false;
        return true;
    }
    if (c == '"') {
        *in_string = true;
        return true;
    }
    return false;
}

/* An upper estimate of the memory jansson's tree of this document takes while it is converted:
** the text, plus WD_DATA_NODE_BYTES per value or member (at most one per separator or opening
** bracket, plus one). It counts against the state's memory cap for as long as the tree lives. */
static size_t wd_data_tree_bytes(const char *json, size_t length)
{
    size_t values = 1;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < length; i++) {
        char c = json[i];
        if (wd_data_string_step(c, &in_string, &escaped))
            continue;
        if (c == ',' || c == ':' || c == '[' || c == '{')
            values++;
    }
    return length + values * WD_DATA_NODE_BYTES;
}

/* Finds the first array or object opened deeper than WD_DATA_MAX_DEPTH, before jansson
** parses, so the error can name where it is and no deep tree is ever built. Line and column
** count as jansson does: lines from 1, columns in UTF-8 characters from 1. */
static bool wd_data_too_deep(const char *json, size_t length, int *line, int *column)
{
    int depth = 0, at_line = 1, at_column = 0;
    bool in_string = false, escaped = false;

    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)json[i];
        if (c == '\n') {
            at_line++;
            at_column = 0;
        } else if ((c & 0xC0) != 0x80) {
            at_column++;
        }
        if (wd_data_string_step((char)c, &in_string, &escaped))
            continue;
        if (c == '[' || c == '{') {
            if (++depth > WD_DATA_MAX_DEPTH) {
                *line = at_line;
                *column = at_column;
                return true;
            }
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return false;
}

/* Parses json; NULL with error ("line N, column M: message") when it does not parse. */
static json_t *wd_data_parse(const char *json, size_t length, char *error, size_t capacity)
{
    json_error_t problem;
    int line = 0, column = 0;
    json_t *root = NULL;

    if (json == NULL) {
        snprintf(error, capacity, "line 1, column 0: no document");
        return NULL;
    }
    if (wd_data_too_deep(json, length, &line, &column)) {
        snprintf(error, capacity, "line %d, column %d: nested deeper than %d levels", line, column,
                 WD_DATA_MAX_DEPTH);
        return NULL;
    }
    root = json_loadb(json, length, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &problem);
    if (root == NULL)
        snprintf(error, capacity, "line %d, column %d: %s", problem.line, problem.column, problem.text);
    return root;
}

int wd_data_validate(const char *json, size_t length, char *error, size_t capacity)
{
    json_t *root = wd_data_parse(json, length, error, capacity);
    if (root == NULL)
        return -1;
    json_decref(root);
    return 0;
}

/* __len of an array that holds null: its JSON length (upvalue 1). */
static int wd_data_length(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    return 1;
}

static void wd_data_push_value(lua_State *L, json_t *value, int depth)
{
    if (depth > WD_DATA_MAX_DEPTH)
        luaL_error(L, "data document nested deeper than %d levels", WD_DATA_MAX_DEPTH);
    luaL_checkstack(L, 4, "data document");
    switch (json_typeof(value)) {
    case JSON_OBJECT: {
        size_t size = json_object_size(value);
        const char *key;
        json_t *member;
        lua_createtable(L, 0, size > INT_MAX ? INT_MAX : (int)size);
        json_object_foreach(value, key, member) {
            if (json_is_null(member))
                continue;
            lua_pushstring(L, key);
            wd_data_push_value(L, member, depth + 1);
            lua_rawset(L, -3);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t size = json_array_size(value);
        bool holes = false;
        lua_createtable(L, size > INT_MAX ? INT_MAX : (int)size, 0);
        for (size_t i = 0; i < size; i++) {
            json_t *element = json_array_get(value, i);
            if (json_is_null(element)) {
                holes = true;
                continue;
            }
            wd_data_push_value(L, element, depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        if (holes) {
            lua_createtable(L, 0, 2);
            lua_pushinteger(L, (lua_Integer)size);
            lua_pushcclosure(L, wd_data_length, 1);
            lua_setfield(L, -2, "__len");
            lua_pushboolean(L, 0);
            lua_setfield(L, -2, "__metatable");
            lua_setmetatable(L, -2);
        }
        break;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(value), json_string_length(value));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(value));
        break;
    case JSON_REAL:
        lua_pushnumber(L, (lua_Number)json_real_value(value));
        break;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        break;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        break;
    case JSON_NULL:
    default:
        lua_pushnil(L);
        break;
    }
}

/* Runs protected: converting can raise on memory. */
static int wd_data_convert(lua_State *L)
{
    json_t *root = lua_touserdata(L, 1);
    wd_data_push_value(L, root, 0);
    wd_sandbox_push_readonly(L, -1);
    return 1;
}

int wd_data_push(lua_State *L, const char *json, size_t length, char *error, size_t capacity)
{
    int status = -1;
    json_t *root = NULL;
    size_t tree = json != NULL ? wd_data_tree_bytes(json, length) : 0;

    if (!wd_sandbox_reserve(L, tree)) {
        snprintf(error, capacity, "%s (parsing it takes about %zu bytes)", wd_sandbox_refusal(L), tree);
        tree = 0;
        goto done;
    }
    root = wd_data_parse(json, length, error, capacity);
    if (root == NULL)
        goto done;
    if (!lua_checkstack(L, 2)) {
        snprintf(error, capacity, "Lua stack overflow");
        goto done;
    }
    lua_pushcfunction(L, wd_data_convert);
    lua_pushlightuserdata(L, root);
    int outcome = lua_pcall(L, 1, 1, 0);
    if (outcome != LUA_OK) {
        snprintf(error, capacity, "%s",
                 outcome == LUA_ERRMEM ? wd_sandbox_refusal(L)
                 : lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "cannot convert the document");
        lua_pop(L, 1);
        goto done;
    }
    status = 0;
done:
    json_decref(root);
    wd_sandbox_release(L, tree);
    return status;
}
