/*
** explain.c — a traced decision (lua/decide.h) as the JSON array that
** warden_decision_explanation returns and `warden decide --explain` prints: one object per
** rule of the set, in evaluation order (forbids first, then permits, each in declaration
** order). The shape is documented in docs/policies.md ("Explaining a decision").
*/
#include <jansson.h>
#include <stdlib.h>

#include "explain.h"
#include "log_text.h"

/* Text a policy or a message put there (a log line, a returned string, an error quoting the
** message) is escaped as log lines are (log_text.h): printed by `warden decide --explain` it
** must not drive a terminal or forge a line, and it need not be UTF-8. */
static json_t *text_value(const char *text)
{
    size_t length = strlen(text);
    size_t capacity = length * 6 + 1 < 16384 ? length * 6 + 1 : 16384;
    char *clean = malloc(capacity);
    if (clean == NULL)
        return NULL;
    wd_log_escape(text, length, clean, capacity);
    json_t *value = json_string(clean);
    free(clean);
    return value;
}

static const char *when_outcome(const wd_rule_trace *rule)
{
    if (!rule->has_when)
        return "absent";
    if (!rule->ran)
        return "not run";
    return rule->error != NULL ? "raised" : "returned";
}

char *wd_explanation_json(const wd_trace *trace, const wd_policy_set *set)
{
    json_t *array = json_array();
    if (array == NULL)
        return NULL;
    for (size_t i = 0; i < trace->count; i++) {
        const wd_rule_trace *rule = &trace->rules[i];
        const wd_rule *meta = &set->rules.rules[rule->rule];
        json_t *object = json_object();
        json_object_set_new(object, "rule", text_value(meta->name));
        json_object_set_new(object, "effect", json_string(meta->effect == WD_RULE_FORBID ? "forbid" : "permit"));
        json_object_set_new(object, "file", text_value(meta->file));
        json_object_set_new(object, "line", json_integer(meta->line));
        json_object_set_new(object, "targets", json_boolean(rule->targets));
        if (rule->targets) {
            json_object_set_new(object, "when", json_string(when_outcome(rule)));
            if (rule->returned != NULL)
                json_object_set_new(object, "value", text_value(rule->returned));
            if (rule->error != NULL)
                json_object_set_new(object, "error", text_value(rule->error));
            json_object_set_new(object, "applied", json_boolean(rule->applied));
            json_object_set_new(object, "instructions", json_integer((json_int_t)rule->instructions));
            json_t *log = json_array();
            for (size_t k = 0; k < rule->log_count; k++)
                json_array_append_new(log, text_value(rule->log[k]));
            json_object_set_new(object, "log", log);
        } else {
            json_object_set_new(object, "applied", json_false());
        }
        json_array_append_new(array, object);
    }
    char *text = json_dumps(array, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(array);
    return text;
}
