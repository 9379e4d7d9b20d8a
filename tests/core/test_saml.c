/*
** test_saml.c — the strict reading of saml2:Assertion (core/saml_read.c): its structure, its
** identity text (the comment-injection family), its times; and the checks of core/saml_check.c
** that need no key: clock, audiences, subject confirmation against signature results, and the
** embedder's validator. Signed assertions from real SAML libraries are in tests/interop.
*/
#include <check.h>
#include <libxml/parser.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/namespaces.h"
#include "core/saml.h"
#include "core/xml_text.h"
#include "include/warden.h"
#include "test_run.h"

#define ISSUED 1795608000 /* 2026-11-25T12:00:00Z */
#define NOW (ISSUED + 30)

static xmlDocPtr current_document;
static wd_saml_assertion current;

static void cleanup(void)
{
    wd_saml_clear(&current);
    xmlFreeDoc(current_document);
    current_document = NULL;
}

#define SAML_NS "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\""
#define ISSUER "<saml:Issuer>https://idp.example.com</saml:Issuer>"
#define SUBJECT(method)                                                                              \
    "<saml:Subject><saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">"  \
    "alice@example.com</saml:NameID><saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:" \
    method "\"/></saml:Subject>"
#define CONDITIONS                                                                                   \
    "<saml:Conditions NotBefore=\"2026-11-25T11:59:00Z\" NotOnOrAfter=\"2026-11-25T12:30:00Z\">"     \
    "<saml:AudienceRestriction><saml:Audience>urn:example:orders</saml:Audience>"                    \
    "<saml:Audience>urn:example:other</saml:Audience></saml:AudienceRestriction></saml:Conditions>"
#define ATTRIBUTES                                                                                   \
    "<saml:AttributeStatement><saml:Attribute Name=\"role\"><saml:AttributeValue>clerk</saml:AttributeValue>" \
    "<saml:AttributeValue>auditor</saml:AttributeValue></saml:Attribute>"                            \
    "<saml:Attribute Name=\"empty\"/></saml:AttributeStatement>"
#define OPEN(attrs) "<saml:Assertion " SAML_NS " " attrs ">"
#define STANDARD_ATTRS "Version=\"2.0\" ID=\"_a1\" IssueInstant=\"2026-11-25T12:00:00Z\""
#define CLOSE "</saml:Assertion>"

/* Parses text into current_document and reads its root into current. */
static int read_text(const char *text, wd_failure *failure)
{
    current_document = xmlReadMemory(text, (int)strlen(text), "assertion.xml", NULL, XML_PARSE_NONET);
    ck_assert_ptr_nonnull(current_document);
    memset(failure, 0, sizeof *failure);
    return wd_saml_read(xmlDocGetRootElement(current_document), NULL, &current, failure);
}

static void expect_invalid(const char *text, const char *detail)
{
    wd_failure failure;
    ck_assert_int_eq(read_text(text, &failure), -1);
    ck_assert_msg(failure.reason == WD_REASON_SAML_INVALID, "expected saml-invalid, got %s: %s",
                  wd_reason_name(failure.reason), failure.detail);
    ck_assert_msg(strstr(failure.detail, detail) != NULL, "detail \"%s\" lacks \"%s\"", failure.detail, detail);
}

static const char *attribute_value(const char *name, size_t nth)
{
    size_t seen = 0;
    for (size_t i = 0; i < current.attribute_pair_count; i++)
        if (strcmp(current.attribute_pairs[i].name, name) == 0 && seen++ == nth)
            return current.attribute_pairs[i].value;
    return NULL;
}

START_TEST(full_assertion_is_read_into_its_facts)
{
    wd_failure failure;
    ck_assert_int_eq(read_text(OPEN(STANDARD_ATTRS) ISSUER SUBJECT("bearer") CONDITIONS
                               "<saml:AuthnStatement AuthnInstant=\"2026-11-25T12:00:00Z\"><saml:AuthnContext>"
                               "<saml:AuthnContextClassRef> urn:oasis:names:tc:SAML:2.0:ac:classes:Password "
                               "</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
                               ATTRIBUTES CLOSE, &failure), 0);
    ck_assert_str_eq(current.version, "2.0");
    ck_assert_str_eq(current.id, "_a1");
    ck_assert_str_eq(current.issuer, "https://idp.example.com");
    ck_assert_str_eq(current.subject, "alice@example.com");
    ck_assert_str_eq(current.name_id_format, "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress");
    ck_assert_str_eq(current.authn_context, "urn:oasis:names:tc:SAML:2.0:ac:classes:Password");
    ck_assert_int_eq(current.confirmation, WD_SAML_BEARER);
    ck_assert_int_eq(current.issue_instant, ISSUED);
    ck_assert(current.has_not_before && current.not_before == ISSUED - 60);
    ck_assert(current.has_not_on_or_after && current.not_on_or_after == ISSUED + 1800);
    ck_assert_uint_eq(current.audience_count, 2);
    ck_assert_str_eq(current.audience_items[1].data, "urn:example:other");
    ck_assert_str_eq(attribute_value("role", 0), "clerk");
    ck_assert_str_eq(attribute_value("role", 1), "auditor");
    ck_assert_ptr_null(attribute_value("empty", 0));
    ck_assert_ptr_null(current.signature);
    ck_assert(!current.one_time_use);
}
END_TEST

START_TEST(name_id_keeps_its_whitespace_and_joins_its_text_children)
{
    wd_failure failure;
    ck_assert_int_eq(read_text(OPEN(STANDARD_ATTRS) ISSUER
                               "<saml:Subject><saml:NameID> alice<![CDATA[@example]]>.com</saml:NameID>"
                               "<saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\"/>"
                               "</saml:Subject>" CLOSE, &failure), 0);
    ck_assert_str_eq(current.subject, " alice@example.com");
}
END_TEST

/* The comment-injection family: a signer sees "alice@example.com.evil.org" (exc-c14n drops the
** comment), a reader stopping at the first text node would see "alice@example.com". */
START_TEST(comment_in_name_id_is_rejected)
{
    expect_invalid(OPEN(STANDARD_ATTRS) ISSUER
                   "<saml:Subject><saml:NameID>alice@example.com<!---->.evil.org</saml:NameID>"
                   "<saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\"/></saml:Subject>" CLOSE,
                   "NameID mixes a comment");
}
END_TEST

START_TEST(processing_instruction_in_an_attribute_value_is_rejected)
{
    expect_invalid(OPEN(STANDARD_ATTRS) ISSUER SUBJECT("bearer")
                   "<saml:AttributeStatement><saml:Attribute Name=\"role\"><saml:AttributeValue>ad<?x y?>min"
                   "</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>" CLOSE,
                   "AttributeValue mixes");
}
END_TEST

START_TEST(element_inside_the_issuer_is_rejected)
{
    expect_invalid(OPEN(STANDARD_ATTRS) "<saml:Issuer>https://idp<b/>.example.com</saml:Issuer>" SUBJECT("bearer")
                   CLOSE, "Issuer mixes");
}
END_TEST

START_TEST(comment_in_the_issuer_is_rejected)
{
    expect_invalid(OPEN(STANDARD_ATTRS) "<saml:Issuer>https://idp.example.com<!-- x --></saml:Issuer>"
                   SUBJECT("bearer") CLOSE, "Issuer mixes a comment");
}
END_TEST

START_TEST(structure_checks_name_what_failed)
{
    static const struct { const char *text, *detail; } cases[] = {
        { OPEN("Version=\"1.1\" ID=\"_a\" IssueInstant=\"2026-11-25T12:00:00Z\"") ISSUER SUBJECT("bearer") CLOSE,
          "Version \"1.1\" is not 2.0" },
        { OPEN("ID=\"_a\" IssueInstant=\"2026-11-25T12:00:00Z\"") ISSUER SUBJECT("bearer") CLOSE, "without Version" },
        { OPEN("Version=\"2.0\" IssueInstant=\"2026-11-25T12:00:00Z\"") ISSUER SUBJECT("bearer") CLOSE, "without ID" },
        { OPEN("Version=\"2.0\" ID=\"_a\"") ISSUER SUBJECT("bearer") CLOSE, "without IssueInstant" },
        { OPEN("Version=\"2.0\" ID=\"_a\" IssueInstant=\"2026-11-25T12:00:00+01:00\"") ISSUER SUBJECT("bearer") CLOSE,
          "not a UTC dateTime" },
        { OPEN(STANDARD_ATTRS) SUBJECT("bearer") CLOSE, "Issuer is required" },
        { OPEN(STANDARD_ATTRS) "<saml:Issuer></saml:Issuer>" SUBJECT("bearer") CLOSE, "Issuer is empty" },
        { OPEN(STANDARD_ATTRS) ISSUER CLOSE, "no Subject" },
        { OPEN(STANDARD_ATTRS) ISSUER CONDITIONS SUBJECT("bearer") CLOSE, "out of place" },
        { OPEN(STANDARD_ATTRS) ISSUER SUBJECT("bearer") "<saml:Advice/>" CLOSE, "Advice" },
        { OPEN(STANDARD_ATTRS) ISSUER SUBJECT("bearer") "<saml:Conditions><saml:Condition/></saml:Conditions>" CLOSE,
          "not understood" },
        { OPEN(STANDARD_ATTRS) ISSUER SUBJECT("bearer")
          "<saml:Conditions><saml:AudienceRestriction/></saml:Conditions>" CLOSE, "without Audience" },
        { OPEN(STANDARD_ATTRS) ISSUER SUBJECT("artifact") CLOSE, "is not supported" },
        { OPEN(STANDARD_ATTRS) ISSUER SUBJECT("holder-of-key") CLOSE, "without SubjectConfirmationData" },
        { OPEN(STANDARD_ATTRS) ISSUER
          "<saml:Subject><saml:NameID>a</saml:NameID>"
          "<saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\"/>"
          "<saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:holder-of-key\"/></saml:Subject>" CLOSE,
          "exactly one is supported" },
        { OPEN(STANDARD_ATTRS) ISSUER
          "<saml:Subject><saml:EncryptedID/></saml:Subject>" CLOSE, "not NameID" },
        { OPEN(STANDARD_ATTRS) ISSUER SUBJECT("bearer")
          "<saml:AttributeStatement><saml:Attribute><saml:AttributeValue>x</saml:AttributeValue></saml:Attribute>"
          "</saml:AttributeStatement>" CLOSE, "without Name" },
        { OPEN(STANDARD_ATTRS) ISSUER SUBJECT("bearer")
          "<saml:AttributeStatement><saml:EncryptedAttribute/></saml:AttributeStatement>" CLOSE,
          "EncryptedAttribute" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        expect_invalid(cases[i].text, cases[i].detail);
        cleanup();
    }
}
END_TEST

START_TEST(serialized_assertion_stands_alone)
{
    wd_failure failure;
    ck_assert_int_eq(read_text(OPEN(STANDARD_ATTRS) ISSUER SUBJECT("bearer") CLOSE, &failure), 0);
    ck_assert_int_eq(wd_saml_serialize(&current), 0);
    ck_assert_ptr_nonnull(strstr(current.xml, "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\""));
    ck_assert_ptr_nonnull(strstr(current.xml, "alice@example.com"));
    ck_assert_uint_eq(strlen(current.xml), current.xml_length);
}
END_TEST

/* A QName inside a value (xsi:type="xs:string") names a prefix no element or attribute uses:
** the text must still declare it, or a reader of property 19 cannot resolve the type. */
START_TEST(serialized_assertion_keeps_every_namespace_in_scope)
{
    static const char text[] =
        "<w:Security xmlns:w=\"urn:example:wrapper\" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "
        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
        OPEN(STANDARD_ATTRS) ISSUER SUBJECT("bearer")
        "<saml:AttributeStatement><saml:Attribute Name=\"role\">"
        "<saml:AttributeValue xsi:type=\"xs:string\">clerk</saml:AttributeValue></saml:Attribute>"
        "</saml:AttributeStatement>" CLOSE "</w:Security>";
    size_t length = 0;

    current_document = xmlReadMemory(text, (int)strlen(text), "wrapped.xml", NULL, XML_PARSE_NONET);
    ck_assert_ptr_nonnull(current_document);
    xmlNode *assertion = wd_xml_first_element(xmlDocGetRootElement(current_document));
    char *xml = wd_saml_serialize_element(assertion, &length);
    ck_assert_ptr_nonnull(xml);
    ck_assert_msg(strstr(xml, "xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"") != NULL, "xs undeclared: %s", xml);
    ck_assert_msg(strncmp(xml, "<saml:Assertion", 15) == 0, "not the assertion: %s", xml);
    /* and it parses on its own with the same type */
    xmlDoc *alone = xmlReadMemory(xml, (int)length, "alone.xml", NULL, XML_PARSE_NONET);
    ck_assert_ptr_nonnull(alone);
    xmlFreeDoc(alone);
    free(xml);
}
END_TEST

/* ---- checks ------------------------------------------------------------------------------ */

static wd_saml_context context_at(int64_t now)
{
    wd_saml_context context = { .max_age = 3600, .skew = 300, .now = now };
    return context;
}

static void expect_check(int status, const wd_failure *failure, const char *detail)
{
    ck_assert_int_eq(status, -1);
    ck_assert_msg(failure->reason == WD_REASON_SAML_INVALID && strstr(failure->detail, detail) != NULL,
                  "expected saml-invalid \"%s\", got %s: %s", detail, wd_reason_name(failure->reason), failure->detail);
}

START_TEST(clock_checks_allow_skew_and_name_what_failed)
{
    wd_failure failure;
    ck_assert_int_eq(read_text(OPEN(STANDARD_ATTRS) ISSUER SUBJECT("bearer") CONDITIONS CLOSE, &failure), 0);
    wd_saml_context context = context_at(NOW);
    ck_assert_int_eq(wd_saml_check_conditions(&current, &context, &failure), 0);

    context = context_at(ISSUED + 1800 + 299); /* NotOnOrAfter passed, within skew */
    ck_assert_int_eq(wd_saml_check_conditions(&current, &context, &failure), 0);
    context = context_at(ISSUED + 1800 + 300);
    expect_check(wd_saml_check_conditions(&current, &context, &failure), &failure, "expired");

    context = context_at(ISSUED - 60 - 301);
    expect_check(wd_saml_check_conditions(&current, &context, &failure), &failure, "IssueInstant");
    context = context_at(ISSUED - 60 - 300); /* IssueInstant ahead by 360 s: more than skew */
    expect_check(wd_saml_check_conditions(&current, &context, &failure), &failure, "ahead of the clock");

    context = context_at(NOW);
    context.max_age = 10; /* 30 s old: within 10 + skew */
    ck_assert_int_eq(wd_saml_check_conditions(&current, &context, &failure), 0);
    context.skew = 0;
    expect_check(wd_saml_check_conditions(&current, &context, &failure), &failure, "older than saml.max_age");
}
END_TEST

START_TEST(not_before_in_the_future_is_not_yet_valid)
{
    wd_failure failure;
    ck_assert_int_eq(read_text(OPEN(STANDARD_ATTRS) ISSUER SUBJECT("bearer")
                               "<saml:Conditions NotBefore=\"2026-11-25T12:10:00Z\"/>" CLOSE, &failure), 0);
    wd_saml_context context = context_at(NOW);
    expect_check(wd_saml_check_conditions(&current, &context, &failure), &failure, "not yet valid");
}
END_TEST

START_TEST(every_audience_restriction_must_name_one_of_ours)
{
    wd_failure failure;
    const char *ours[] = { "urn:example:orders" };
    const char *others[] = { "urn:example:payroll", "urn:example:hr" };
    ck_assert_int_eq(read_text(OPEN(STANDARD_ATTRS) ISSUER SUBJECT("bearer") CONDITIONS CLOSE, &failure), 0);
    wd_saml_context context = context_at(NOW);
    ck_assert_int_eq(wd_saml_check_conditions(&current, &context, &failure), 0); /* none configured: any */
    context.audiences = ours;
    context.audience_count = 1;
    ck_assert_int_eq(wd_saml_check_conditions(&current, &context, &failure), 0);
    context.audiences = others;
    context.audience_count = 2;
    expect_check(wd_saml_check_conditions(&current, &context, &failure), &failure, "wrong audience");
    cleanup();

    /* two restrictions: both must hold */
    ck_assert_int_eq(read_text(OPEN(STANDARD_ATTRS) ISSUER SUBJECT("bearer")
                               "<saml:Conditions><saml:AudienceRestriction><saml:Audience>urn:example:orders"
                               "</saml:Audience></saml:AudienceRestriction><saml:AudienceRestriction>"
                               "<saml:Audience>urn:example:hr</saml:Audience></saml:AudienceRestriction>"
                               "</saml:Conditions>" CLOSE, &failure), 0);
    context.audiences = ours;
    context.audience_count = 1;
    expect_check(wd_saml_check_conditions(&current, &context, &failure), &failure, "urn:example:hr");
    cleanup();

    /* audiences configured, none in the assertion */
    ck_assert_int_eq(read_text(OPEN(STANDARD_ATTRS) ISSUER SUBJECT("bearer") CLOSE, &failure), 0);
    expect_check(wd_saml_check_conditions(&current, &context, &failure), &failure, "no AudienceRestriction");
}
END_TEST

START_TEST(sender_vouches_needs_a_signature_over_the_assertion_and_the_body)
{
    wd_failure failure;
    const wd_signature_result *proof = NULL;
    ck_assert_int_eq(read_text(OPEN(STANDARD_ATTRS) ISSUER SUBJECT("sender-vouches") CLOSE, &failure), 0);
    xmlNode body = { 0 };
    xmlNode *only_body[] = { &body };
    xmlNode *both[] = { &body, current.element };
    wd_signature_result results[2] = { { .covered = only_body, .covered_count = 1 } };
    expect_check(wd_saml_check_confirmation(&current, results, 1, &body, NULL, &proof, &failure), &failure,
                 "sender-vouches");
    results[1].covered = both;
    results[1].covered_count = 2;
    ck_assert_int_eq(wd_saml_check_confirmation(&current, results, 2, &body, NULL, &proof, &failure), 0);
    ck_assert_ptr_eq(proof, &results[1]);
}
END_TEST

START_TEST(bearer_needs_no_message_signature)
{
    wd_failure failure;
    const wd_signature_result *proof = &(wd_signature_result){ 0 };
    ck_assert_int_eq(read_text(OPEN(STANDARD_ATTRS) ISSUER SUBJECT("bearer") CLOSE, &failure), 0);
    ck_assert_int_eq(wd_saml_check_confirmation(&current, NULL, 0, NULL, NULL, &proof, &failure), 0);
    ck_assert_ptr_null(proof);
}
END_TEST

static int refuse_admins(void *context, const char *assertion, size_t length, char *reason, size_t capacity)
{
    (*(int *)context)++;
    ck_assert_uint_eq(strlen(assertion), length);
    if (strstr(assertion, "admin") == NULL)
        return WARDEN_OK;
    snprintf(reason, capacity, "admins must use the other door");
    return WARDEN_E_SECURITY;
}

START_TEST(validator_sees_the_assertion_and_can_reject_it)
{
    wd_failure failure;
    int calls = 0;
    wd_saml_context context = context_at(NOW);
    context.validate = refuse_admins;
    context.validate_context = &calls;
    ck_assert_int_eq(read_text(OPEN(STANDARD_ATTRS) ISSUER SUBJECT("bearer") CLOSE, &failure), 0);
    ck_assert_int_eq(wd_saml_serialize(&current), 0);
    ck_assert_int_eq(wd_saml_check_validator(&current, &context, &failure), 0);
    cleanup();
    ck_assert_int_eq(read_text(OPEN(STANDARD_ATTRS) ISSUER SUBJECT("bearer")
                               "<saml:AttributeStatement><saml:Attribute Name=\"role\"><saml:AttributeValue>admin"
                               "</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>" CLOSE, &failure), 0);
    ck_assert_int_eq(wd_saml_serialize(&current), 0);
    expect_check(wd_saml_check_validator(&current, &context, &failure), &failure, "admins must use the other door");
    ck_assert_int_eq(calls, 2);
}
END_TEST

static Suite *saml_suite(void)
{
    Suite *suite = suite_create("saml");
    TCase *read = tcase_create("read");
    tcase_add_checked_fixture(read, NULL, cleanup);
    tcase_add_test(read, full_assertion_is_read_into_its_facts);
    tcase_add_test(read, name_id_keeps_its_whitespace_and_joins_its_text_children);
    tcase_add_test(read, comment_in_name_id_is_rejected);
    tcase_add_test(read, processing_instruction_in_an_attribute_value_is_rejected);
    tcase_add_test(read, element_inside_the_issuer_is_rejected);
    tcase_add_test(read, comment_in_the_issuer_is_rejected);
    tcase_add_test(read, structure_checks_name_what_failed);
    tcase_add_test(read, serialized_assertion_stands_alone);
    tcase_add_test(read, serialized_assertion_keeps_every_namespace_in_scope);
    suite_add_tcase(suite, read);
    TCase *check = tcase_create("check");
    tcase_add_checked_fixture(check, NULL, cleanup);
    tcase_add_test(check, clock_checks_allow_skew_and_name_what_failed);
    tcase_add_test(check, not_before_in_the_future_is_not_yet_valid);
    tcase_add_test(check, every_audience_restriction_must_name_one_of_ours);
    tcase_add_test(check, sender_vouches_needs_a_signature_over_the_assertion_and_the_body);
    tcase_add_test(check, bearer_needs_no_message_signature);
    tcase_add_test(check, validator_sees_the_assertion_and_can_reject_it);
    suite_add_tcase(suite, check);
    return suite;
}

int main(void)
{
    return tr_run_suite(saml_suite());
}
