/*
** test_data.c — data documents (lua/data.c): JSON to read-only Lua values, and the documents
** that are refused (duplicate keys, bad syntax with its line and column, nesting past 64).
*/
#include <check.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/data.h"
#include "lua/sandbox.h"
#include "test_run.h"

static const wd_sandbox_limits limits = { 1000000, 16u << 20, 1000, 0 };

/* Pushes the document and runs source with it as the chunk's argument (`local d = ...`);
** returns the wd_sandbox_call outcome, the result left on the stack when it is OK. */
static int run_with(lua_State *L, const char *json, const char *source, char *error, size_t capacity)
{
    wd_sandbox_push_env(L, 0);
    int env = lua_gettop(L);
    wd_sandbox_freeze_env(L, env);
    ck_assert_int_eq(wd_sandbox_load(L, source, strlen(source), "data_test.lua", env, error, capacity), 0);
    ck_assert_msg(wd_data_push(L, json, strlen(json), error, capacity) == 0, "%s", error);
    int outcome = wd_sandbox_call(L, 1, 1, error, capacity);
    lua_remove(L, env);
    return outcome;
}

/* Runs source over json and checks the string it returns. */
static void assert_result(const char *json, const char *source, const char *expected)
{
    char error[256];
    lua_State *L = wd_sandbox_new(&limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    int outcome = run_with(L, json, source, error, sizeof error);
    ck_assert_msg(outcome == WD_SANDBOX_OK, "%s", error);
    ck_assert_str_eq(lua_tostring(L, -1), expected);
    wd_sandbox_close(L);
}

/* The document is refused by wd_data_validate and wd_data_push alike, with this message prefix. */
static void assert_refused(const char *json, const char *prefix)
{
    char error[256] = "";
    ck_assert_int_eq(wd_data_validate(json, strlen(json), error, sizeof error), -1);
    ck_assert_msg(strncmp(error, prefix, strlen(prefix)) == 0, "'%s' does not start with '%s'", error, prefix);

    lua_State *L = wd_sandbox_new(&limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    char again[256] = "";
    ck_assert_int_eq(wd_data_push(L, json, strlen(json), again, sizeof again), -1);
    ck_assert_str_eq(again, error);
    ck_assert_int_eq(lua_gettop(L), 0);
    wd_sandbox_close(L);
}

/* "[[[...1...]]]" with depth levels. */
static char *nested_arrays(int depth)
{
    char *json = malloc((size_t)depth * 2 + 2);
    ck_assert_ptr_nonnull(json);
    memset(json, '[', (size_t)depth);
    json[depth] = '1';
    memset(json + depth + 1, ']', (size_t)depth);
    json[depth * 2 + 1] = '\0';
    return json;
}

START_TEST(objects_become_tables_keyed_by_string)
{
    assert_result("{\"name\": \"orders\", \"limit\": 1000, \"on\": true, \"off\": false, \"\\u00e4\": \"x\"}",
                  "local d = ... local n = 0 for k in pairs(d) do n = n + 1 end "
                  "return table.concat({ d.name, d.limit, tostring(d.on), tostring(d.off), d['\\u{e4}'], n }, ' ')",
                  "orders 1000 true false x 5");
}
END_TEST

START_TEST(arrays_are_one_based)
{
    assert_result("[\"a\", \"b\", \"c\"]",
                  "local d = ... local s = '' for i, v in ipairs(d) do s = s .. i .. v end "
                  "return s .. ' ' .. #d .. ' ' .. tostring(d[0]) .. ' ' .. tostring(d[4]) .. ' ' .. table.concat(d, ',')",
                  "1a2b3c 3 nil nil a,b,c");
    assert_result("[]", "local d = ... return tostring(#d) .. tostring(next(d))", "0nil");
}
END_TEST

START_TEST(nested_values_are_readable)
{
    assert_result("{\"roles\": {\"alice\": [\"clerk\", {\"level\": 2, \"tags\": [\"x\"]}]}}",
                  "local d = ... local a = d.roles.alice "
                  "return a[1] .. ' ' .. a[2].level .. ' ' .. a[2].tags[1] .. ' ' .. #a .. ' ' .. "
                  "tostring(d.roles == d.roles) .. ' ' .. type(a[2])",
                  "clerk 2 x 2 true table");
}
END_TEST

START_TEST(integers_stay_integers_and_reals_are_floats)
{
    assert_result("{\"i\": 42, \"n\": -7, \"big\": 9007199254740993, \"f\": 1.5, \"e\": 1e2, \"z\": 1.0}",
                  "local d = ... return table.concat({ math.type(d.i), math.type(d.n), math.type(d.big), "
                  "tostring(d.big), math.type(d.f), math.type(d.e), math.type(d.z), tostring(d.z) }, ' ')",
                  "integer integer integer 9007199254740993 float float float 1.0");
}
END_TEST

START_TEST(null_reads_as_nil_and_arrays_keep_their_length)
{
    assert_result("{\"n\": null, \"list\": [1, null, 3, null], \"keep\": 1}",
                  "local d = ... local keys = 0 for k in pairs(d) do keys = keys + 1 end "
                  "return table.concat({ tostring(d.n), #d.list, tostring(d.list[2]), d.list[3], "
                  "tostring(d.list[4]), keys }, ' ')",
                  "nil 4 nil 3 nil 2");
    assert_result("null", "local d = ... return tostring(d)", "nil");
    assert_result("\"text\"", "local d = ... return d", "text");
    assert_result("12", "local d = ... return math.type(d) .. d", "integer12");
}
END_TEST

START_TEST(duplicate_keys_are_refused)
{
    assert_refused("{\"a\": 1, \"a\": 2}", "line 1, column ");
    char error[256];
    ck_assert_int_eq(wd_data_validate("{\"a\": {\"b\": 1, \"b\": 1}}", 24, error, sizeof error), -1);
    ck_assert_msg(strstr(error, "duplicate") != NULL, "%s", error);
}
END_TEST

START_TEST(bad_json_reports_line_and_column)
{
    char error[256];
    const char *json = "{\n  \"a\": 1,\n  \"b\": }\n";
    ck_assert_int_eq(wd_data_validate(json, strlen(json), error, sizeof error), -1);
    ck_assert_msg(strncmp(error, "line 3, column 8: ", 18) == 0, "%s", error);
    assert_refused(json, "line 3, column 8: ");
    assert_refused("", "line 1, column 0: ");
    assert_refused("{\"a\": 1} x", "line 1, column ");
    assert_refused("[1, 2,]", "line 1, column ");
    assert_refused("{\"a\": 99999999999999999999}", "line 1, column ");
}
END_TEST

START_TEST(nesting_deeper_than_64_is_refused)
{
    char error[256];
    char *ok = nested_arrays(64);
    ck_assert_msg(wd_data_validate(ok, strlen(ok), error, sizeof error) == 0, "%s", error);
    lua_State *L = wd_sandbox_new(&limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    const char *dig = "local d = ... local depth = 0 while type(d) == 'table' do d = d[1] depth = depth + 1 end "
                      "return depth .. ':' .. d";
    ck_assert_int_eq(run_with(L, ok, dig, error, sizeof error), WD_SANDBOX_OK);
    ck_assert_str_eq(lua_tostring(L, -1), "64:1");
    wd_sandbox_close(L);
    free(ok);

    char *deep = nested_arrays(65);
    assert_refused(deep, "line 1, column 65: nested deeper than 64 levels");
    free(deep);
    char *very_deep = nested_arrays(100000);
    assert_refused(very_deep, "line 1, column 65: nested deeper than 64 levels");
    free(very_deep);
    /* brackets inside strings (and an escaped quote) do not count */
    char text[160];
    char brackets[101];
    memset(brackets, '[', 100);
    brackets[100] = '\0';
    snprintf(text, sizeof text, "{\"s\": \"\\\"%s\"}", brackets);
    assert_result(text, "local d = ... return #d.s .. d.s:sub(1, 2)", "101\"[");
}
END_TEST

START_TEST(writes_to_data_raise_errors)
{
    static const char *const writes[] = {
        "local d = ... d.limit = 1",
        "local d = ... d.new = 1",
        "local d = ... d.roles.alice = 'admin'",
        "local d = ... d.list[1] = 0",
        "local d = ... table.insert(d.list, 4)",
        "local d = ... table.sort(d.list, function(a, b) return a > b end)",
        "local d = ... rawset(d, 'limit', 1)",
        "local d = ... setmetatable(d, nil)",
    };
    const char *json = "{\"limit\": 5, \"roles\": {\"alice\": \"clerk\"}, \"list\": [1, 2, 3]}";
    lua_State *L = wd_sandbox_new(&limits, NULL, NULL);
    ck_assert_ptr_nonnull(L);
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        char error[256];
        ck_assert_int_eq(run_with(L, json, writes[i], error, sizeof error), -1);
        ck_assert_msg(error[0] != '\0', "%s: no error", writes[i]);
    }
    char error[256];
    ck_assert_int_eq(run_with(L, json, "local d = ... d.limit = 1", error, sizeof error), -1);
    ck_assert_msg(strstr(error, "read-only") != NULL, "%s", error);
    ck_assert_int_eq(run_with(L, json, "local d = ... return d.limit + d.list[3] + #d.list", error, sizeof error),
                     WD_SANDBOX_OK);
    ck_assert_int_eq(lua_tointeger(L, -1), 11);
    wd_sandbox_close(L);
}
END_TEST

static Suite *data_suite(void)
{
    Suite *suite = suite_create("data");
    TCase *tc = tcase_create("data");
    tcase_add_test(tc, objects_become_tables_keyed_by_string);
    tcase_add_test(tc, arrays_are_one_based);
    tcase_add_test(tc, nested_values_are_readable);
    tcase_add_test(tc, integers_stay_integers_and_reals_are_floats);
    tcase_add_test(tc, null_reads_as_nil_and_arrays_keep_their_length);
    tcase_add_test(tc, duplicate_keys_are_refused);
    tcase_add_test(tc, bad_json_reports_line_and_column);
    tcase_add_test(tc, nesting_deeper_than_64_is_refused);
    tcase_add_test(tc, writes_to_data_raise_errors);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return tr_run_suite(data_suite());
}
