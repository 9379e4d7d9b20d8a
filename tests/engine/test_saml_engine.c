/*
** test_saml_engine.c — SAML assertions through the public API: the saml section of a config
** file, WARDEN_MESSAGE_PROPERTY_SAML_ASSERTION and the saml token's properties, m.saml in a
** policy, saml_subject in the decision log, and the embedder's validator
** (warden_config_set_saml_validator): called after the issuer's signature, able to reject.
** Assertions are signed here with tests/support/test_signer (the IdP key of the test PKI);
** interop with real SAML libraries is tests/interop/test_saml.py.
*/
#include <check.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <warden.h>

#include "core/namespaces.h"
#include "test_engine.h"
#include "test_messages.h"
#include "test_run.h"
#include "test_signer.h"

#define AUDIENCE "urn:example:orders"

static const char assertion_text[] =
    "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" Version=\"2.0\" ID=\"_a1\""
    " IssueInstant=\"2026-11-25T12:00:00Z\"><saml:Issuer>https://idp.example.com</saml:Issuer>"
    "<saml:Subject><saml:NameID>carol@example.com</saml:NameID>"
    "<saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\"/></saml:Subject>"
    "<saml:Conditions NotBefore=\"2026-11-25T11:59:00Z\" NotOnOrAfter=\"2026-11-25T12:30:00Z\">"
    "<saml:AudienceRestriction><saml:Audience>" AUDIENCE "</saml:Audience></saml:AudienceRestriction>"
    "</saml:Conditions><saml:AttributeStatement><saml:Attribute Name=\"role\">"
    "<saml:AttributeValue>%s</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>"
    "</saml:Assertion>";

/* An unsigned SOAP request (with a Timestamp) whose Security header carries the assertion
** above with role, signed by signer (a PKI name) as IdPs sign: enveloped, after Issuer, the
** certificate in KeyInfo/X509Data. malloc'd. */
static char *saml_message(const char *role, const char *signer)
{
    char text[4096], key[512], cert[512];
    snprintf(text, sizeof text, assertion_text, role);
    xmlDoc *doc = ts_envelope_new(11, "<o:CreateOrder xmlns:o=\"urn:example:orders\"><o:amount>5</o:amount>"
                                      "</o:CreateOrder>", "2026-11-25T12:00:00Z", "2026-11-25T12:05:00Z");
    xmlDoc *fragment = xmlReadMemory(text, (int)strlen(text), "a.xml", NULL, XML_PARSE_NONET);
    ck_assert_ptr_nonnull(doc);
    ck_assert_ptr_nonnull(fragment);
    xmlNode *assertion = xmlDocCopyNode(xmlDocGetRootElement(fragment), doc, 1);
    xmlFreeDoc(fragment);
    xmlNode *security = ts_security(doc);
    xmlAddPrevSibling(xmlFirstElementChild(security), assertion);

    snprintf(key, sizeof key, "%s.key", signer);
    snprintf(cert, sizeof cert, "%s.pem", signer);
    char key_path[1024], cert_path[1024];
    ck_assert_int_eq(ts_sign_assertion(doc, assertion, ts_pki_path(key, key_path, sizeof key_path),
                                       ts_pki_path(cert, cert_path, sizeof cert_path)), 0);

    size_t length = 0;
    char *bytes = ts_serialize(doc, &length);
    xmlFreeDoc(doc);
    ck_assert_ptr_nonnull(bytes);
    return bytes;
}

static warden_config *saml_config(void)
{
    warden_config *config = NULL;
    warden_error err;
    char *idp = tm_pki_path("idp.pem");
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "saml.issuers", idp, &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "saml.audiences", AUDIENCE, &err), WARDEN_OK);
    free(idp);
    return config;
}

static warden_engine *engine_of(warden_config *config)
{
    warden_engine *engine = NULL;
    warden_error err;
    ck_assert_msg(warden_engine_new(config, &engine, &err) == WARDEN_OK, "%s", err.text);
    warden_config_free(config);
    return engine;
}

static int receive(warden_engine *engine, const char *text, warden_message **message, warden_error *err)
{
    warden_receive_options options = { .size = sizeof options, .now = TM_NOW };
    return warden_engine_receive(engine, text, strlen(text), &options, message, err);
}

START_TEST(assertion_and_its_facts_are_message_and_token_properties)
{
    warden_engine *engine = engine_of(saml_config());
    char *text = saml_message("clerk", "idp");
    warden_message *message = te_receive(engine, text);

    warden_string xml;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_SAML_ASSERTION, &xml, sizeof xml),
                     WARDEN_OK);
    ck_assert_ptr_nonnull(strstr(xml.data, "<saml:Assertion"));
    ck_assert_ptr_nonnull(strstr(xml.data, "carol@example.com"));
    ck_assert_ptr_nonnull(strstr(xml.data, "SignatureValue"));
    ck_assert_uint_eq(strlen(xml.data), xml.length);

    const warden_token *token = NULL;
    for (size_t i = 0; i < warden_message_token_count(message); i++) {
        warden_string kind;
        const warden_token *t = warden_message_token(message, i);
        if (warden_token_get_property(t, WARDEN_TOKEN_PROPERTY_KIND, &kind, sizeof kind) == WARDEN_OK &&
            strcmp(kind.data, "saml") == 0)
            token = t;
    }
    ck_assert_ptr_nonnull(token);
    warden_string s;
    int key_type = 0;
    int64_t t = 0;
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_ROLE, &s, sizeof s), WARDEN_OK);
    ck_assert_str_eq(s.data, "supporting");
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_KEY_TYPE, &key_type, sizeof key_type),
                     WARDEN_OK);
    ck_assert_int_eq(key_type, WARDEN_KEY_TYPE_NONE);
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_SAML_SUBJECT, &s, sizeof s), WARDEN_OK);
    ck_assert_str_eq(s.data, "carol@example.com");
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_SAML_CONFIRMATION, &s, sizeof s),
                     WARDEN_OK);
    ck_assert_str_eq(s.data, "bearer");
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_SAML_NAME_ID_FORMAT, &s, sizeof s),
                     WARDEN_E_NOT_APPLICABLE);
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_VALID_TILL_TIME, &t, sizeof t), WARDEN_OK);
    ck_assert_int_eq(t, TM_NOW - 30 + 1800);
    warden_attr_list attributes;
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_SAML_ATTRIBUTES, &attributes,
                                               sizeof attributes), WARDEN_OK);
    ck_assert_uint_eq(attributes.count, 1);
    ck_assert_str_eq(attributes.items[0].name, "role");
    ck_assert_str_eq(attributes.items[0].value, "clerk");
    /* a certificate property does not apply to a saml token */
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_CERT_SUBJECT, &s, sizeof s),
                     WARDEN_E_NOT_APPLICABLE);
    ck_assert_int_eq(warden_token_get_property(token, WARDEN_TOKEN_PROPERTY_ATTACHED_REFERENCE_XML, &s, sizeof s),
                     WARDEN_OK);
    ck_assert_ptr_nonnull(strstr(s.data, "#SAMLID\">_a1</wsse:KeyIdentifier>"));

    warden_message_free(message);
    free(text);
    warden_engine_free(engine);
}
END_TEST

START_TEST(message_without_assertion_has_no_saml_property)
{
    warden_config *config = saml_config();
    warden_error err;
    ck_assert_int_eq(warden_config_set(config, "require.token", "false", &err), WARDEN_OK);
    warden_engine *engine = engine_of(config);
    char *text = tm_plain_message();
    warden_message *message = te_receive(engine, text);
    warden_string xml;
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_SAML_ASSERTION, &xml, sizeof xml),
                     WARDEN_E_NOT_APPLICABLE);
    ck_assert_int_eq(warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_SAML_ASSERTION, &xml, 3),
                     WARDEN_E_INVALID_ARG);
    warden_message_free(message);
    free(text);
    warden_engine_free(engine);
}
END_TEST

typedef struct validator_state {
    int  calls;
    char last_subject_seen[8];
} validator_state;

static int refuse_admins(void *context, const char *assertion, size_t length, char *reason, size_t capacity)
{
    validator_state *state = context;
    state->calls++;
    ck_assert_uint_eq(strlen(assertion), length);
    snprintf(state->last_subject_seen, sizeof state->last_subject_seen, "%s",
             strstr(assertion, "carol") != NULL ? "carol" : "?");
    if (strstr(assertion, ">admin<") == NULL)
        return WARDEN_OK;
    snprintf(reason, capacity, "admins sign in at the console");
    return WARDEN_E_SECURITY;
}

START_TEST(validator_rejects_after_the_issuer_signature_check)
{
    validator_state state = { 0 };
    warden_config *config = saml_config();
    ck_assert_int_eq(warden_config_set_saml_validator(config, refuse_admins, &state), WARDEN_OK);
    warden_engine *engine = engine_of(config);
    warden_message *message = NULL;
    warden_error err;

    char *clerk = saml_message("clerk", "idp");
    ck_assert_int_eq(receive(engine, clerk, &message, &err), WARDEN_OK);
    warden_message_free(message);
    ck_assert_int_eq(state.calls, 1);
    ck_assert_str_eq(state.last_subject_seen, "carol");

    char *admin = saml_message("admin", "idp");
    ck_assert_int_eq(receive(engine, admin, &message, &err), WARDEN_E_SECURITY);
    ck_assert_str_eq(err.reason, "saml-invalid");
    ck_assert_ptr_nonnull(strstr(err.text, "admins sign in at the console"));
    ck_assert_int_eq(state.calls, 2);

    /* an assertion whose issuer is not trusted never reaches the validator */
    char *forged = saml_message("admin", "mallory");
    ck_assert_int_eq(receive(engine, forged, &message, &err), WARDEN_E_SECURITY);
    ck_assert_str_eq(err.reason, "cert-untrusted");
    ck_assert_int_eq(state.calls, 2);

    free(clerk);
    free(admin);
    free(forged);
    warden_engine_free(engine);
    ck_assert_int_eq(warden_config_set_saml_validator(NULL, refuse_admins, NULL), WARDEN_E_INVALID_ARG);
}
END_TEST

START_TEST(saml_section_of_a_config_file_is_read_and_checked)
{
    te_policy_dir dir = te_make_dir("saml-config");
    char *idp = tm_pki_path("idp.pem");
    char text[2048], path[512], value[512];
    warden_config *config = NULL;
    warden_error err;
    snprintf(text, sizeof text,
             "return { saml = { issuers = { \"%s\" }, audiences = { \"urn:a\", \"urn:b\" }, max_age = 20 } }", idp);
    te_write_file(&dir, "warden.lua", text);
    snprintf(path, sizeof path, "%s/warden.lua", dir.path);
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_msg(warden_config_load(config, path, &err) == WARDEN_OK, "%s", err.text);
    ck_assert_int_eq(warden_config_get(config, "saml.max_age", 0, value, sizeof value), WARDEN_OK);
    ck_assert_str_eq(value, "20");
    ck_assert_int_eq(warden_config_get(config, "saml.audiences", 1, value, sizeof value), WARDEN_OK);
    ck_assert_str_eq(value, "urn:b");
    ck_assert_int_eq(warden_config_get(config, "saml.issuers", 0, value, sizeof value), WARDEN_OK);
    ck_assert_str_eq(value, idp);

    /* max_age 20 s, skew 0: an assertion issued 30 s ago is too old; audiences urn:a/urn:b do
    ** not include the assertion's */
    char *message_text = saml_message("clerk", "idp");
    warden_message *message = NULL;
    ck_assert_int_eq(warden_config_set(config, "clock.skew", "0", &err), WARDEN_OK);
    warden_engine *engine = engine_of(config);
    ck_assert_int_eq(receive(engine, message_text, &message, &err), WARDEN_E_SECURITY);
    ck_assert_str_eq(err.reason, "saml-invalid");
    ck_assert_ptr_nonnull(strstr(err.text, "saml.max_age"));
    warden_engine_free(engine);
    free(message_text);

    te_write_file(&dir, "bad.lua", "return { saml = { max_age = \"an hour\" } }");
    snprintf(path, sizeof path, "%s/bad.lua", dir.path);
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_load(config, path, &err), WARDEN_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.text, "saml.max_age"));
    warden_config_free(config);
    te_write_file(&dir, "typo.lua", "return { saml = { issuer = { \"x.pem\" } } }");
    snprintf(path, sizeof path, "%s/typo.lua", dir.path);
    ck_assert_int_eq(warden_config_new(&config), WARDEN_OK);
    ck_assert_int_eq(warden_config_load(config, path, &err), WARDEN_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.text, "saml.issuer"));
    warden_config_free(config);
    free(idp);
    te_remove_dir(&dir);
}
END_TEST

START_TEST(policies_read_m_saml_and_the_decision_log_names_the_saml_subject)
{
    te_policy_dir dir = te_make_dir("saml-policy");
    te_write_file(&dir, "policies/saml.lua",
                  "permit \"SAML clerks\" {\n"
                  "  operation = \"{urn:example:orders}CreateOrder\",\n"
                  "  when = function(m)\n"
                  "    local roles = m.saml and m.saml.attributes.role or {}\n"
                  "    return m.saml.issuer == \"https://idp.example.com\" and roles[1] == \"clerk\"\n"
                  "       and m.saml.audiences[1] == \"" AUDIENCE "\" and m.saml.not_on_or_after == m.now + 1770\n"
                  "       and m.tokens[1].saml.subject == \"carol@example.com\"\n"
                  "  end,\n"
                  "}\n");
    char policies[512], log_path[512];
    warden_error err;
    snprintf(policies, sizeof policies, "%s/policies", dir.path);
    snprintf(log_path, sizeof log_path, "%s/decisions.jsonl", dir.path);
    warden_config *config = saml_config();
    ck_assert_int_eq(warden_config_set(config, "policies", policies, &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "log.decisions", log_path, &err), WARDEN_OK);
    ck_assert_int_eq(warden_config_set(config, "reload.watch", "false", &err), WARDEN_OK);
    warden_engine *engine = engine_of(config);

    char *clerk = saml_message("clerk", "idp");
    warden_decision *decision = te_decide(engine, clerk);
    ck_assert_msg(warden_decision_allowed(decision), "%s %s", warden_decision_reason(decision),
                  warden_decision_error_count(decision) ? warden_decision_error(decision, 0) : "");
    warden_decision_free(decision);
    char *auditor = saml_message("auditor", "idp");
    decision = te_decide(engine, auditor);
    ck_assert(!warden_decision_allowed(decision));
    warden_decision_free(decision);
    warden_engine_free(engine);

    FILE *log = fopen(log_path, "r");
    ck_assert_ptr_nonnull(log);
    char line[4096] = "";
    ck_assert_ptr_nonnull(fgets(line, sizeof line, log));
    fclose(log);
    ck_assert_msg(strstr(line, "\"saml_subject\":\"carol@example.com\"") != NULL, "%s", line);
    free(clerk);
    free(auditor);
    te_remove_dir(&dir);
}
END_TEST

static Suite *saml_engine_suite(void)
{
    Suite *suite = suite_create("saml_engine");
    TCase *tc = tcase_create("saml");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, assertion_and_its_facts_are_message_and_token_properties);
    tcase_add_test(tc, message_without_assertion_has_no_saml_property);
    tcase_add_test(tc, validator_rejects_after_the_issuer_signature_check);
    tcase_add_test(tc, saml_section_of_a_config_file_is_read_and_checked);
    tcase_add_test(tc, policies_read_m_saml_and_the_decision_log_names_the_saml_subject);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    return tr_run_suite(saml_engine_suite());
}
