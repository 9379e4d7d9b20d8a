/*
** test_lint_fields.c — wd_lint_fields (lua/lint.c), warden check's reading of the message view
** and of data in bytecode: unknown fields of m, m.cert, its names, tokens and m.signed read
** with constant keys from a parameter named `m`; data documents that do not exist; m:body(...)
** and data strings compared with numbers; and the cases that must stay silent (tonumber,
** known-but-absent names, `m` reassigned, a register whose contents depend on a branch).
*/
#include <check.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/lint.h"
#include "test_run.h"

#define MAX_FINDINGS 32

typedef struct capture {
    int  lines[MAX_FINDINGS];
    char messages[MAX_FINDINGS][256];
    int  count;
} capture;

static void collect(void *context, int line, const char *message)
{
    capture *out = context;
    ck_assert_int_lt(out->count, MAX_FINDINGS);
    out->lines[out->count] = line;
    snprintf(out->messages[out->count], sizeof out->messages[0], "%s", message);
    out->count++;
}

/* data.limits.max is a number, data.strs.max a string */
static int data_type(void *context, const char *path)
{
    (void)context;
    if (strcmp(path, "strs.max") == 0)
        return LUA_TSTRING;
    if (strcmp(path, "limits.max") == 0)
        return LUA_TNUMBER;
    if (strcmp(path, "limits") == 0 || strcmp(path, "strs") == 0)
        return LUA_TTABLE;
    return -1;
}

static const char *const data_names[] = { "limits", "strs", NULL };

static int lint(const char *source, capture *out)
{
    memset(out, 0, sizeof *out);
    lua_State *L = luaL_newstate();
    ck_assert_ptr_nonnull(L);
    int status = luaL_loadbufferx(L, source, strlen(source), "=policy", "t");
    ck_assert_msg(status == LUA_OK, "does not compile: %s", lua_tostring(L, -1));
    int top = lua_gettop(L);
    wd_lint_fields_options options = { data_names, data_type, NULL };
    int found = wd_lint_fields(L, &options, collect, out);
    ck_assert_int_eq(lua_gettop(L), top);
    ck_assert_int_eq(found, out->count);
    lua_close(L);
    return found;
}

static void assert_finding(const capture *out, int index, int line, const char *message)
{
    ck_assert_int_lt(index, out->count);
    ck_assert_str_eq(out->messages[index], message);
    ck_assert_int_eq(out->lines[index], line);
}

START_TEST(misspelled_fields_of_m_are_found_with_the_nearest_name)
{
    capture out;
    ck_assert_int_eq(lint("permit 'x' { when = function(m)\n"
                          "  return m.usename == 'a'\n"
                          "    and m.cert.subject.ou == 'P'\n"
                          "    and m.cert.subjct ~= nil\n"
                          "    and m.tokens[1].knd == 'x509'\n"
                          "    and m.signed.body\n"
                          "    and m:bdy('amount')\n"
                          "end }", &out), 6);
    assert_finding(&out, 0, 2, "no field `usename` on m; did you mean `username`?");
    assert_finding(&out, 1, 3, "no attribute `ou` in m.cert.subject; did you mean `OU`?");
    assert_finding(&out, 2, 4, "no field `subjct` on m.cert; did you mean `subject`?");
    assert_finding(&out, 3, 5, "no field `knd` on a token; did you mean `kind`?");
    assert_finding(&out, 4, 6, "no field `body` on m.signed; did you mean `Body`?");
    assert_finding(&out, 5, 7, "no field `bdy` on m; did you mean `body`?");
}
END_TEST

START_TEST(helpers_with_a_parameter_named_m_are_followed)
{
    capture out;
    ck_assert_int_eq(lint("local function clerk(m)\n  local c = m.cert\n"
                          "  return c and c.subject.Ou == 'P'\nend", &out), 1);
    assert_finding(&out, 0, 3, "no attribute `Ou` in m.cert.subject; did you mean `OU`?");
}
END_TEST

START_TEST(known_fields_and_other_tables_are_silent)
{
    capture out;
    ck_assert_int_eq(lint("return function(m)\n"
                          "  local t = { usename = 1 }\n"
                          "  return t.usename, m.username, m.cert.subject.UID, m.cert.subject['2.5.4.97'],\n"
                          "    m.attrs.anything, m.signed['{urn:x}H'], m.timestamp.created, m.cert.san.dns,\n"
                          "    m.tokens[1].x509.subject.CN, m.saml, m:body('amount')\n"
                          "end", &out), 0);
    /* a parameter with another name is not the view */
    ck_assert_int_eq(lint("return function(msg) return msg.usename end", &out), 0);
}
END_TEST

START_TEST(m_reassigned_or_mixed_by_branches_is_not_guessed)
{
    capture out;
    ck_assert_int_eq(lint("return function(m) m = { usename = 1 } return m.usename end", &out), 0);
    /* after the branches join, x may be m.cert or a plain table: not followed */
    ck_assert_int_eq(lint("return function(m, t)\n"
                          "  local x = m.cert\n"
                          "  if t then x = t end\n"
                          "  return x.foo\n"
                          "end", &out), 0);
}
END_TEST

START_TEST(data_documents_are_resolved)
{
    capture out;
    ck_assert_int_eq(lint("return function(m) return data.limitz.max, data.limits.max, data.strs end", &out), 1);
    assert_finding(&out, 0, 1, "no data document `limitz` (data/limitz.json); did you mean `limits`?");
}
END_TEST

START_TEST(text_compared_with_a_number_is_a_warning)
{
    capture out;
    ck_assert_int_eq(lint("return function(m)\n"
                          "  return m:body('amount') > 1000\n"
                          "    or m:body('amount') <= 10.5\n"
                          "    or data.strs.max < 5\n"
                          "    or 7 == m:body('n')\n"
                          "end", &out), 4);
    assert_finding(&out, 0, 2, "warning: m:body(...) gives text (or nil), compared here with a number: "
                               "convert it with tonumber(...)");
    assert_finding(&out, 1, 3, "warning: m:body(...) gives text (or nil), compared here with a number: "
                               "convert it with tonumber(...)");
    assert_finding(&out, 2, 4, "warning: data.strs.max is a string in the data document, compared here with "
                               "a number: convert it with tonumber(...)");
    assert_finding(&out, 3, 5, "warning: m:body(...) gives text (or nil), compared here with a number: "
                               "convert it with tonumber(...)");
    /* text ordered against text compares characters: "-5000" <= "1000" */
    ck_assert_int_eq(lint("return function(m)\n"
                          "  return m:body('amount') <= data.strs.max\n"
                          "    or m:body('amount') < '1000'\n"
                          "end", &out), 2);
    assert_finding(&out, 0, 2, "warning: m:body(...) is text ordered against text: strings compare character by "
                               "character (\"-5000\" < \"1000\", \"900\" > \"1000\"); convert both with "
                               "tonumber(...)");
    ck_assert_int_eq(out.lines[1], 3);
    /* converted, a number in the data, or text compared with text for equality: silent */
    ck_assert_int_eq(lint("return function(m)\n"
                          "  return tonumber(m:body('amount')) > 1000 or data.limits.max < 5\n"
                          "    or m:body('currency') == 'EUR' or tonumber(data.strs.max) > 1\n"
                          "end", &out), 0);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("lint_fields");
    TCase *tc = tcase_create("lint_fields");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, misspelled_fields_of_m_are_found_with_the_nearest_name);
    tcase_add_test(tc, helpers_with_a_parameter_named_m_are_followed);
    tcase_add_test(tc, known_fields_and_other_tables_are_silent);
    tcase_add_test(tc, m_reassigned_or_mixed_by_branches_is_not_guessed);
    tcase_add_test(tc, data_documents_are_resolved);
    tcase_add_test(tc, text_compared_with_a_number_is_a_warning);
    suite_add_tcase(suite, tc);
    return tr_run_suite(suite);
}
