/*
** test_explain.c — warden_engine_explain and warden_decision_explanation: every rule of the
** set once, forbids first, with file and line, whether its targets matched, what its `when`
** returned or raised, the instructions it used and its log(...) lines; a plain
** warden_engine_decide carries no explanation.
*/
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <warden.h>

#include "test_messages.h"
#include "test_engine.h"
#include "test_run.h"

static te_policy_dir scratch;

static const char policy[] =
    "permit \"small orders\" { action = \"urn:example:orders/Create\",\n"             /* line 1 */
    "  when = function(m) log('amount', m:body('amount')); return tonumber(m:body('amount')) < 100 end }\n"
    "forbid \"cancels need a signature\" { action = \"urn:example:orders/Cancel\" }\n" /* line 3 */
    "permit \"anyone creates\" { action = \"urn:example:orders/Create\" }\n"           /* line 4 */
    "forbid \"broken guard\" { action = \"urn:example:orders/*\",\n"                   /* line 5 */
    "  when = function(m) return m.attrs.missing.field end }\n";

static warden_engine *engine_for_policy(void)
{
    scratch = te_make_dir("explain");
    te_write_file(&scratch, "orders.lua", policy);
    warden_config *config = NULL;
    warden_error err;
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "require.token", "false", &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "policies", scratch.path, &err), WARDEN_OK);
    warden_engine *engine = NULL;
    ck_assert_msg(warden_engine_new(config, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_config_free(config);
    return engine;
}

static const json_t *rule_named(const json_t *explanation, const char *name, size_t *position)
{
    for (size_t i = 0; i < json_array_size(explanation); i++) {
        const json_t *entry = json_array_get(explanation, i);
        if (strcmp(json_string_value(json_object_get(entry, "rule")), name) == 0) {
            *position = i;
            return entry;
        }
    }
    ck_abort_msg("rule %s is not in the explanation", name);
    return NULL;
}

START_TEST(explanation_lists_every_rule_with_its_outcome)
{
    warden_engine *engine = engine_for_policy();
    char *text = tm_plain_message(); /* Create, amount 250 */
    warden_message *message = NULL;
    warden_decision *decision = NULL;
    warden_error err;
    warden_receive_options options = { .size = sizeof options, .now = TM_NOW };
    ck_assert_int_eq(warden_engine_receive(engine, text, strlen(text), &options, &message, &err), WARDEN_OK);

    ck_assert_int_eq(warden_engine_decide(engine, message, &decision, &err), WARDEN_OK);
    ck_assert_ptr_null(warden_decision_explanation(decision));
    warden_decision_free(decision);

    ck_assert_int_eq(warden_engine_explain(engine, message, &decision, &err), WARDEN_OK);
    /* the decision itself is the same as without an explanation */
    ck_assert_int_eq(warden_decision_allowed(decision), 0);
    ck_assert_str_eq(warden_decision_reason(decision), "policy-error");
    const char *explanation_text = warden_decision_explanation(decision);
    ck_assert_ptr_nonnull(explanation_text);
    json_error_t error;
    json_t *explanation = json_loads(explanation_text, 0, &error);
    ck_assert_msg(json_is_array(explanation), "%s", explanation_text);
    ck_assert_uint_eq(json_array_size(explanation), 4);

    size_t at = 0;
    /* forbids come first */
    const json_t *cancel = rule_named(explanation, "cancels need a signature", &at);
    ck_assert_uint_lt(at, 2);
    ck_assert(json_is_false(json_object_get(cancel, "targets")));
    ck_assert(json_is_false(json_object_get(cancel, "applied")));
    ck_assert_ptr_null(json_object_get(cancel, "when"));
    ck_assert_int_eq(json_integer_value(json_object_get(cancel, "line")), 3);
    ck_assert_str_eq(json_string_value(json_object_get(cancel, "file")), "orders.lua");

    const json_t *broken = rule_named(explanation, "broken guard", &at);
    ck_assert_uint_lt(at, 2);
    ck_assert_str_eq(json_string_value(json_object_get(broken, "effect")), "forbid");
    ck_assert(json_is_true(json_object_get(broken, "targets")));
    ck_assert_str_eq(json_string_value(json_object_get(broken, "when")), "raised");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(broken, "error")), "missing"));
    ck_assert(json_is_false(json_object_get(broken, "applied")));

    const json_t *small = rule_named(explanation, "small orders", &at);
    ck_assert_uint_ge(at, 2);
    ck_assert_int_eq(json_integer_value(json_object_get(small, "line")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(small, "when")), "returned");
    ck_assert_str_eq(json_string_value(json_object_get(small, "value")), "false");
    ck_assert(json_is_false(json_object_get(small, "applied")));
    ck_assert_int_gt(json_integer_value(json_object_get(small, "instructions")), 5);
    const json_t *log = json_object_get(small, "log");
    ck_assert_uint_eq(json_array_size(log), 1);
    ck_assert_str_eq(json_string_value(json_array_get(log, 0)), "amount\t250");

    const json_t *anyone = rule_named(explanation, "anyone creates", &at);
    ck_assert_str_eq(json_string_value(json_object_get(anyone, "when")), "absent");
    ck_assert(json_is_true(json_object_get(anyone, "applied")));
    ck_assert_int_eq(json_integer_value(json_object_get(anyone, "instructions")), 0);

    json_decref(explanation);
    warden_decision_free(decision);
    warden_message_free(message);
    free(text);
    warden_engine_free(engine);
    te_remove_dir(&scratch);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("explain");
    TCase *tc = tcase_create("explain");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, explanation_lists_every_rule_with_its_outcome);
    suite_add_tcase(suite, tc);
    return tr_run_suite(suite);
}
