/*
** test_envelope.c — SOAP 1.1/1.2 envelope structure, the mustUnderstand rule, finding our
** wsse:Security header, WS-Addressing headers and the operation.
*/
#include <check.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/envelope.h"
#include "core/failure.h"
#include "core/namespaces.h"
#include "core/xml_parse.h"
#include "core/xml_text.h"
#include "warden.h"

#define S11 "xmlns:s=\"" WD_NS_SOAP11 "\""
#define S12 "xmlns:s=\"" WD_NS_SOAP12 "\""
#define WSSE "xmlns:wsse=\"" WD_NS_WSSE "\""
#define WSA "xmlns:wsa=\"" WD_NS_WSA "\""
#define WSA04 "xmlns:wsa=\"" WD_NS_WSA_2004 "\""
#define BODY "<s:Body><m:Create xmlns:m=\"urn:example:orders\"/></s:Body>"

/* A SOAP 1.1 / 1.2 envelope with these header blocks and the standard Body. */
#define ENV11(headers) "<s:Envelope " S11 "><s:Header>" headers "</s:Header>" BODY "</s:Envelope>"
#define ENV12(headers) "<s:Envelope " S12 "><s:Header>" headers "</s:Header>" BODY "</s:Envelope>"

/* One parsed message and what wd_envelope_read made of it. */
typedef struct reading {
    xmlDocPtr   doc;
    wd_envelope env;
    wd_failure  failure;
    int         rc;
} reading;

static reading read_message(const char *text, const char *actor)
{
    reading r;
    wd_failure parse_failure;

    memset(&r, 0, sizeof r);
    memset(&parse_failure, 0, sizeof parse_failure);
    ck_assert_msg(wd_xml_parse(text, strlen(text), NULL, &r.doc, &parse_failure) == 0,
                  "parse failed: %s", parse_failure.detail);
    r.rc = wd_envelope_read(r.doc, actor, &r.env, &r.failure);
    return r;
}

static void done(reading *r)
{
    xmlFreeDoc(r->doc);
}

static void expect_rejection(const char *text, const char *actor, const char *reason)
{
    reading r = read_message(text, actor);

    ck_assert_int_eq(r.rc, -1);
    ck_assert_int_eq(r.failure.code, WARDEN_E_SECURITY);
    ck_assert_str_eq(wd_reason_name(r.failure.reason), reason);
    ck_assert_ptr_null(r.env.body);
    done(&r);
}

static reading expect_accepted(const char *text, const char *actor)
{
    reading r = read_message(text, actor);

    ck_assert_msg(r.rc == 0, "rejected as %s: %s", wd_reason_name(r.failure.reason),
                  r.failure.detail);
    return r;
}

/* The trimmed text of a WS-Addressing header the envelope stored. */
static void ck_text(const xmlNode *element, const char *expected)
{
    char *text;

    ck_assert_ptr_nonnull(element);
    text = wd_xml_text(element, true, NULL);
    ck_assert_str_eq(text, expected);
    free(text);
}

/* --- structure ------------------------------------------------------------------------ */

START_TEST(soap11_envelope_is_read)
{
    reading r = expect_accepted("<s:Envelope " S11 ">" BODY "</s:Envelope>", NULL);

    ck_assert_int_eq(r.env.soap_version, 11);
    ck_assert_str_eq(r.env.soap_ns, WD_NS_SOAP11);
    ck_assert_ptr_eq(r.env.document, r.doc);
    ck_assert_ptr_eq(r.env.envelope, xmlDocGetRootElement(r.doc));
    ck_assert_ptr_null(r.env.header);
    ck_assert(wd_xml_is(r.env.body, WD_NS_SOAP11, "Body"));
    ck_assert_ptr_null(r.env.security);
    ck_assert_ptr_null(r.env.action);
    done(&r);
}
END_TEST

START_TEST(soap12_envelope_is_read)
{
    reading r = expect_accepted(ENV12(""), NULL);

    ck_assert_int_eq(r.env.soap_version, 12);
    ck_assert_str_eq(r.env.soap_ns, WD_NS_SOAP12);
    ck_assert(wd_xml_is(r.env.header, WD_NS_SOAP12, "Header"));
    ck_assert(wd_xml_is(r.env.body, WD_NS_SOAP12, "Body"));
    done(&r);
}
END_TEST

START_TEST(whitespace_and_comments_between_envelope_children_are_fine)
{
    reading r = expect_accepted("<s:Envelope " S11 ">\n  <!-- hi -->\n  <s:Header/>\n  " BODY
                                "\n</s:Envelope>",
                                NULL);
    done(&r);
}
END_TEST

START_TEST(root_that_is_not_envelope_is_not_soap)
{
    expect_rejection("<s:Body " S11 "/>", NULL, "not-soap");
}
END_TEST

START_TEST(envelope_in_wrong_namespace_is_not_soap)
{
    expect_rejection("<s:Envelope xmlns:s=\"urn:not-soap\"><s:Body/></s:Envelope>", NULL,
                     "not-soap");
    expect_rejection("<Envelope><Body/></Envelope>", NULL, "not-soap");
}
END_TEST

START_TEST(two_bodies_are_not_soap)
{
    expect_rejection("<s:Envelope " S11 ">" BODY BODY "</s:Envelope>", NULL, "not-soap");
}
END_TEST

START_TEST(no_body_is_not_soap)
{
    expect_rejection("<s:Envelope " S11 "><s:Header/></s:Envelope>", NULL, "not-soap");
    expect_rejection("<s:Envelope " S12 "/>", NULL, "not-soap");
}
END_TEST

START_TEST(two_headers_are_not_soap)
{
    expect_rejection("<s:Envelope " S11 "><s:Header/><s:Header/>" BODY "</s:Envelope>", NULL,
                     "not-soap");
}
END_TEST

START_TEST(header_after_body_is_not_soap)
{
    expect_rejection("<s:Envelope " S11 ">" BODY "<s:Header/></s:Envelope>", NULL, "not-soap");
}
END_TEST

START_TEST(extra_envelope_child_is_not_soap)
{
    expect_rejection("<s:Envelope " S11 ">" BODY "<s:Trailer/></s:Envelope>", NULL, "not-soap");
    expect_rejection("<s:Envelope " S11 "><x:Wrapper xmlns:x=\"urn:x\"/>" BODY "</s:Envelope>",
                     NULL, "not-soap");
}
END_TEST

START_TEST(body_of_the_other_soap_version_is_not_soap)
{
    expect_rejection("<s:Envelope " S11 "><b:Body xmlns:b=\"" WD_NS_SOAP12 "\"/></s:Envelope>",
                     NULL, "not-soap");
}
END_TEST

START_TEST(text_inside_envelope_or_header_is_not_soap)
{
    expect_rejection("<s:Envelope " S11 ">junk" BODY "</s:Envelope>", NULL, "not-soap");
    expect_rejection("<s:Envelope " S11 "><s:Header>junk</s:Header>" BODY "</s:Envelope>", NULL,
                     "not-soap");
}
END_TEST

START_TEST(operation_is_the_first_element_of_the_body)
{
    reading r = expect_accepted("<s:Envelope " S11 "><s:Body>\n <!-- c -->\n"
                                " <m:Pay xmlns:m=\"urn:pay\"/><m:Second xmlns:m=\"urn:pay\"/>"
                                "</s:Body></s:Envelope>",
                                NULL);

    ck_assert(wd_xml_is(r.env.operation, "urn:pay", "Pay"));
    done(&r);
}
END_TEST

START_TEST(empty_body_has_no_operation)
{
    reading r = expect_accepted("<s:Envelope " S12 "><s:Body> </s:Body></s:Envelope>", NULL);

    ck_assert_ptr_nonnull(r.env.body);
    ck_assert_ptr_null(r.env.operation);
    done(&r);
}
END_TEST

/* --- mustUnderstand ------------------------------------------------------------------- */

START_TEST(must_understand_on_unknown_header_is_rejected)
{
    expect_rejection(ENV11("<x:Tx xmlns:x=\"urn:tx\" s:mustUnderstand=\"1\"/>"), NULL,
                     "mustunderstand");
    expect_rejection(ENV12("<x:Tx xmlns:x=\"urn:tx\" s:mustUnderstand=\"true\"/>"), NULL,
                     "mustunderstand");
    expect_rejection(ENV12("<x:Tx xmlns:x=\"urn:tx\" s:mustUnderstand=\"1\"/>"), NULL,
                     "mustunderstand");
}
END_TEST

START_TEST(must_understand_false_is_fine)
{
    reading r = expect_accepted(ENV11("<x:Tx xmlns:x=\"urn:tx\" s:mustUnderstand=\"0\"/>"), NULL);
    done(&r);
    r = expect_accepted(ENV12("<x:Tx xmlns:x=\"urn:tx\" s:mustUnderstand=\"false\"/>"), NULL);
    done(&r);
    r = expect_accepted(ENV12("<x:Tx xmlns:x=\"urn:tx\"/>"), NULL);
    done(&r);
}
END_TEST

START_TEST(must_understand_that_is_not_a_boolean_is_malformed)
{
    expect_rejection(ENV11("<x:Tx xmlns:x=\"urn:tx\" s:mustUnderstand=\"yes\"/>"), NULL,
                     "malformed");
    expect_rejection(ENV12("<x:Tx xmlns:x=\"urn:tx\" s:mustUnderstand=\"\"/>"), NULL,
                     "malformed");
}
END_TEST

START_TEST(must_understand_in_a_foreign_namespace_is_not_the_soap_attribute)
{
    reading r = expect_accepted(
        ENV12("<x:Tx xmlns:x=\"urn:tx\" xmlns:o=\"" WD_NS_SOAP11 "\" o:mustUnderstand=\"1\"/>"),
        NULL);
    done(&r);
}
END_TEST

START_TEST(must_understand_for_another_actor_is_fine)
{
    reading r = expect_accepted(
        ENV11("<x:Tx xmlns:x=\"urn:tx\" s:actor=\"urn:other\" s:mustUnderstand=\"1\"/>"), NULL);
    done(&r);
    r = expect_accepted(
        ENV12("<x:Tx xmlns:x=\"urn:tx\" s:role=\"urn:other\" s:mustUnderstand=\"true\"/>"),
        "urn:us");
    done(&r);
}
END_TEST

START_TEST(must_understand_for_role_none_is_fine)
{
    reading r = expect_accepted(ENV12("<x:Tx xmlns:x=\"urn:tx\" s:role=\"" WD_SOAP12_ROLE_NONE
                                      "\" s:mustUnderstand=\"true\"/>"),
                                NULL);
    done(&r);
    r = expect_accepted(ENV12("<x:Tx xmlns:x=\"urn:tx\" s:role=\"" WD_SOAP12_ROLE_NONE
                              "\" s:mustUnderstand=\"true\"/>"),
                        WD_SOAP12_ROLE_NONE);
    done(&r);
}
END_TEST

START_TEST(must_understand_for_next_or_our_actor_is_enforced)
{
    expect_rejection(ENV11("<x:Tx xmlns:x=\"urn:tx\" s:actor=\"" WD_SOAP11_ACTOR_NEXT
                           "\" s:mustUnderstand=\"1\"/>"),
                     NULL, "mustunderstand");
    expect_rejection(ENV12("<x:Tx xmlns:x=\"urn:tx\" s:role=\"" WD_SOAP12_ROLE_NEXT
                           "\" s:mustUnderstand=\"true\"/>"),
                     NULL, "mustunderstand");
    expect_rejection(ENV12("<x:Tx xmlns:x=\"urn:tx\" s:role=\"" WD_SOAP12_ROLE_ULTIMATE
                           "\" s:mustUnderstand=\"true\"/>"),
                     NULL, "mustunderstand");
    expect_rejection(ENV11("<x:Tx xmlns:x=\"urn:tx\" s:actor=\"urn:us\" s:mustUnderstand=\"1\"/>"),
                     "urn:us", "mustunderstand");
}
END_TEST

START_TEST(security_and_addressing_headers_are_understood)
{
    reading r = expect_accepted(
        ENV11("<wsse:Security " WSSE " s:mustUnderstand=\"1\"/>"
              "<wsa:Action " WSA " s:mustUnderstand=\"1\">urn:a</wsa:Action>"
              "<wsa:ReplyTo " WSA " s:mustUnderstand=\"1\"><wsa:Address>urn:r</wsa:Address>"
              "</wsa:ReplyTo>"
              "<wsa:RelatesTo " WSA04 " s:mustUnderstand=\"1\">urn:id</wsa:RelatesTo>"),
        NULL);
    done(&r);
}
END_TEST

START_TEST(unknown_addressing_header_with_must_understand_is_rejected)
{
    expect_rejection(ENV11("<wsa:Bogus " WSA " s:mustUnderstand=\"1\"/>"), NULL, "mustunderstand");
}
END_TEST

/* --- our wsse:Security ---------------------------------------------------------------- */

START_TEST(security_header_without_actor_is_ours_by_default)
{
    reading r = expect_accepted(ENV11("<wsse:Security " WSSE "/>"), NULL);

    ck_assert(wd_xml_is(r.env.security, WD_NS_WSSE, "Security"));
    done(&r);
}
END_TEST

START_TEST(two_security_headers_are_a_duplicate)
{
    expect_rejection(ENV11("<wsse:Security " WSSE "/><wsse:Security " WSSE "/>"), NULL,
                     "security-header-duplicate");
    expect_rejection(ENV12("<wsse:Security " WSSE "/><wsse:Security " WSSE " s:role=\""
                           WD_SOAP12_ROLE_ULTIMATE "\"/>"),
                     NULL, "security-header-duplicate");
    expect_rejection(ENV11("<wsse:Security " WSSE " s:actor=\"urn:us\"/>"
                           "<wsse:Security " WSSE " s:actor=\"urn:us\"/>"),
                     "urn:us", "security-header-duplicate");
}
END_TEST

START_TEST(security_header_for_another_actor_is_not_ours)
{
    reading r = expect_accepted(ENV11("<wsse:Security " WSSE " s:actor=\"urn:other\" "
                                      "s:mustUnderstand=\"1\"/>"),
                                NULL);

    ck_assert_ptr_null(r.env.security);
    done(&r);
    r = expect_accepted(ENV11("<wsse:Security " WSSE "/>"), "urn:us");
    ck_assert_ptr_null(r.env.security);
    done(&r);
}
END_TEST

START_TEST(security_header_for_next_is_not_selected)
{
    reading r = expect_accepted(ENV11("<wsse:Security " WSSE " s:actor=\"" WD_SOAP11_ACTOR_NEXT
                                      "\"/>"),
                                NULL);

    ck_assert_ptr_null(r.env.security);
    done(&r);
}
END_TEST

#define NEXT11 "s:actor=\"" WD_SOAP11_ACTOR_NEXT "\""
#define NEXT12 "s:role=\"" WD_SOAP12_ROLE_NEXT "\""

START_TEST(security_header_for_next_with_must_understand_is_rejected)
{
    /* alone, or beside the Security header we do process: we would skip it either way */
    expect_rejection(ENV11("<wsse:Security " WSSE " " NEXT11 " s:mustUnderstand=\"1\"/>"), NULL,
                     "mustunderstand");
    expect_rejection(ENV11("<wsse:Security " WSSE "/>"
                           "<wsse:Security " WSSE " " NEXT11 " s:mustUnderstand=\"1\"/>"),
                     NULL, "mustunderstand");
    expect_rejection(ENV12("<wsse:Security " WSSE " " NEXT12 " s:mustUnderstand=\"true\"/>"
                           "<wsse:Security " WSSE "/>"),
                     NULL, "mustunderstand");
    expect_rejection(ENV12("<wsse:Security " WSSE " " NEXT12 " s:mustUnderstand=\"1\"/>"), NULL,
                     "mustunderstand");
    /* and when we serve another actor */
    expect_rejection(ENV11("<wsse:Security " WSSE " s:actor=\"urn:us\"/>"
                           "<wsse:Security " WSSE " " NEXT11 " s:mustUnderstand=\"1\"/>"),
                     "urn:us", "mustunderstand");
}
END_TEST

START_TEST(security_header_for_next_in_other_spellings_is_rejected)
{
    static const char *const spellings[] = {
        /* "true" in SOAP 1.1, which only knows "1"; whitespace around the value */
        ENV11("<wsse:Security " WSSE " " NEXT11 " s:mustUnderstand=\"true\"/>"),
        ENV11("<wsse:Security " WSSE " " NEXT11 " s:mustUnderstand=\" 1\t\"/>"),
        ENV12("<wsse:Security " WSSE " " NEXT12 " s:mustUnderstand=\"\ntrue \"/>"),
        /* whitespace around the role URI (an xs:anyURI, collapsed by schema-aware stacks) */
        ENV11("<wsse:Security " WSSE " s:actor=\" " WD_SOAP11_ACTOR_NEXT " \" s:mustUnderstand=\"1\"/>"),
        ENV12("<wsse:Security " WSSE " s:role=\"\n" WD_SOAP12_ROLE_NEXT "\" s:mustUnderstand=\"1\"/>"),
        /* the attribute without a namespace, in the other version's, in some other one */
        ENV11("<wsse:Security " WSSE " " NEXT11 " mustUnderstand=\"1\"/>"),
        ENV12("<wsse:Security " WSSE " " NEXT12 " mustUnderstand=\"true\"/>"),
        ENV12("<wsse:Security " WSSE " " NEXT12 " xmlns:o=\"" WD_NS_SOAP11 "\" o:mustUnderstand=\"1\"/>"),
        ENV11("<wsse:Security " WSSE " " NEXT11 " xmlns:o=\"" WD_NS_SOAP12 "\" o:mustUnderstand=\"true\"/>"),
        ENV11("<wsse:Security " WSSE " " NEXT11 " xmlns:o=\"urn:other\" o:mustUnderstand=\"1\"/>"),
        /* outside the SOAP namespace a value that is not a boolean is not "false" either */
        ENV11("<wsse:Security " WSSE " " NEXT11 " mustUnderstand=\"TRUE\"/>"),
    };
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        reading r = read_message(spellings[i], NULL);
        ck_assert_msg(r.rc == -1 && strcmp(wd_reason_name(r.failure.reason), "mustunderstand") == 0,
                      "spelling %zu: rc %d, %s: %s", i, r.rc, wd_reason_name(r.failure.reason), r.failure.detail);
        done(&r);
    }
    /* in the SOAP namespace, a value that is no boolean stays what it was: malformed */
    expect_rejection(ENV11("<wsse:Security " WSSE " " NEXT11 " s:mustUnderstand=\"TRUE\"/>"), NULL,
                     "malformed");
}
END_TEST

START_TEST(security_header_for_next_without_must_understand_is_skipped)
{
    static const char *const messages[] = {
        ENV11("<wsse:Security " WSSE "/><wsse:Security " WSSE " " NEXT11 "/>"),
        ENV11("<wsse:Security " WSSE "/><wsse:Security " WSSE " " NEXT11 " s:mustUnderstand=\"0\"/>"),
        ENV12("<wsse:Security " WSSE "/><wsse:Security " WSSE " " NEXT12 " s:mustUnderstand=\"false\"/>"),
        ENV11("<wsse:Security " WSSE "/><wsse:Security " WSSE " " NEXT11 " mustUnderstand=\" false \"/>"),
    };
    for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++) {
        reading r = expect_accepted(messages[i], NULL);
        ck_assert_ptr_null(wd_xml_attr(r.env.security, r.env.soap_ns, r.env.soap_version == 11 ? "actor" : "role"));
        done(&r);
    }
}
END_TEST

START_TEST(actor_naming_next_processes_the_next_security_header)
{
    static const char *const actors[] = { WD_SOAP11_ACTOR_NEXT, WD_SOAP12_ROLE_NEXT };
    for (size_t i = 0; i < 2; i++) {
        reading r = expect_accepted(ENV11("<wsse:Security " WSSE " " NEXT11 " s:mustUnderstand=\"1\" Id=\"next\"/>"),
                                    actors[i]);
        ck_assert_str_eq(wd_xml_attr(r.env.security, NULL, "Id"), "next");
        done(&r);
        r = expect_accepted(ENV12("<wsse:Security " WSSE " " NEXT12 " s:mustUnderstand=\"true\" Id=\"next\"/>"),
                            actors[i]);
        ck_assert_str_eq(wd_xml_attr(r.env.security, NULL, "Id"), "next");
        done(&r);
    }
}
END_TEST

START_TEST(security_header_for_role_none_is_never_processed)
{
    /* "none": no node processes it, mustUnderstand or not, whatever we are configured as */
    reading r = expect_accepted(ENV12("<wsse:Security " WSSE " s:role=\"" WD_SOAP12_ROLE_NONE
                                      "\" s:mustUnderstand=\"true\"/>"),
                                NULL);
    ck_assert_ptr_null(r.env.security);
    done(&r);
    r = expect_accepted(ENV12("<wsse:Security " WSSE " s:role=\"" WD_SOAP12_ROLE_NONE
                              "\" s:mustUnderstand=\"true\"/>"),
                        WD_SOAP12_ROLE_NEXT);
    ck_assert_ptr_null(r.env.security);
    done(&r);
    r = expect_accepted(ENV12("<wsse:Security " WSSE " s:role=\" " WD_SOAP12_ROLE_NONE " \"/>"),
                        WD_SOAP12_ROLE_NONE);
    ck_assert_ptr_null(r.env.security);
    done(&r);
}
END_TEST

START_TEST(security_header_for_our_actor_is_picked_among_others)
{
    reading r = expect_accepted(ENV11("<wsse:Security " WSSE " s:actor=\"urn:other\"/>"
                                      "<wsse:Security " WSSE " s:actor=\"urn:us\" Id=\"mine\"/>"
                                      "<wsse:Security " WSSE "/>"),
                                "urn:us");

    ck_assert_ptr_nonnull(r.env.security);
    ck_assert_str_eq(wd_xml_attr(r.env.security, NULL, "Id"), "mine");
    done(&r);
    r = expect_accepted(ENV11("<wsse:Security " WSSE " s:actor=\"urn:other\"/>"
                              "<wsse:Security " WSSE " Id=\"none\"/>"),
                        NULL);
    ck_assert_str_eq(wd_xml_attr(r.env.security, NULL, "Id"), "none");
    done(&r);
}
END_TEST

START_TEST(soap12_ultimate_receiver_role_counts_as_no_actor)
{
    reading r = expect_accepted(ENV12("<wsse:Security " WSSE " s:role=\"" WD_SOAP12_ROLE_ULTIMATE
                                      "\"/>"),
                                NULL);

    ck_assert_ptr_nonnull(r.env.security);
    done(&r);
    r = expect_accepted(ENV12("<wsse:Security " WSSE " s:role=\" " WD_SOAP12_ROLE_ULTIMATE " \"/>"), NULL);
    ck_assert_ptr_nonnull(r.env.security);
    done(&r);
}
END_TEST

START_TEST(security_in_another_namespace_is_not_security)
{
    reading r = expect_accepted(ENV11("<w:Security xmlns:w=\"" WD_NS_WSSE11 "\"/>"), NULL);

    ck_assert_ptr_null(r.env.security);
    done(&r);
}
END_TEST

/* --- WS-Addressing -------------------------------------------------------------------- */

START_TEST(addressing_headers_are_read_in_the_2005_namespace)
{
    reading r = expect_accepted(ENV11("<wsa:Action " WSA "> urn:example:orders/Create </wsa:Action>"
                                      "<wsa:To " WSA ">https://orders.example/</wsa:To>"
                                      "<wsa:MessageID " WSA ">urn:uuid:1</wsa:MessageID>"),
                                NULL);

    ck_text(r.env.action, "urn:example:orders/Create");
    ck_text(r.env.to, "https://orders.example/");
    ck_text(r.env.message_id, "urn:uuid:1");
    done(&r);
}
END_TEST

START_TEST(addressing_headers_are_read_in_the_2004_namespace)
{
    reading r = expect_accepted(ENV12("<wsa:Action " WSA04 ">urn:a</wsa:Action>"
                                      "<wsa:To " WSA04 ">urn:to</wsa:To>"
                                      "<wsa:MessageID " WSA04 ">urn:uuid:2</wsa:MessageID>"),
                                NULL);

    ck_text(r.env.action, "urn:a");
    ck_text(r.env.to, "urn:to");
    ck_text(r.env.message_id, "urn:uuid:2");
    done(&r);
}
END_TEST

START_TEST(addressing_headers_in_other_namespaces_are_ignored)
{
    reading r = expect_accepted(ENV11("<x:Action xmlns:x=\"urn:x\">urn:fake</x:Action>"), NULL);

    ck_assert_ptr_null(r.env.action);
    done(&r);
}
END_TEST

START_TEST(addressing_header_nested_deeper_is_not_read)
{
    reading r = expect_accepted(
        ENV11("<x:Wrap xmlns:x=\"urn:x\"><wsa:Action " WSA ">urn:hidden</wsa:Action></x:Wrap>"),
        NULL);

    ck_assert_ptr_null(r.env.action);
    done(&r);
}
END_TEST

START_TEST(second_addressing_header_of_a_name_is_malformed)
{
    expect_rejection(ENV11("<wsa:Action " WSA ">urn:a</wsa:Action><wsa:Action " WSA
                           ">urn:b</wsa:Action>"),
                     NULL, "malformed");
    expect_rejection(ENV11("<wsa:To " WSA ">urn:a</wsa:To><wsa:To " WSA04 ">urn:b</wsa:To>"),
                     NULL, "malformed");
    expect_rejection(ENV11("<wsa:MessageID " WSA ">1</wsa:MessageID><wsa:MessageID " WSA
                           ">2</wsa:MessageID>"),
                     NULL, "malformed");
}
END_TEST

START_TEST(addressing_header_with_markup_content_is_malformed)
{
    expect_rejection(ENV11("<wsa:Action " WSA ">urn:a<!---->.evil</wsa:Action>"), NULL,
                     "malformed");
    expect_rejection(ENV11("<wsa:To " WSA "><x xmlns=\"urn:x\"/></wsa:To>"), NULL, "malformed");
}
END_TEST

START_TEST(missing_document_is_an_internal_error)
{
    wd_envelope env;
    wd_failure f;

    memset(&f, 0, sizeof f);
    ck_assert_int_eq(wd_envelope_read(NULL, NULL, &env, &f), -1);
    ck_assert_str_eq(wd_reason_name(f.reason), "internal-error");
}
END_TEST

static Suite *envelope_suite(void)
{
    Suite *suite = suite_create("envelope");
    TCase *structure = tcase_create("structure");
    TCase *must_understand = tcase_create("mustUnderstand");
    TCase *security = tcase_create("security");
    TCase *addressing = tcase_create("addressing");

    tcase_add_test(structure, soap11_envelope_is_read);
    tcase_add_test(structure, soap12_envelope_is_read);
    tcase_add_test(structure, whitespace_and_comments_between_envelope_children_are_fine);
    tcase_add_test(structure, root_that_is_not_envelope_is_not_soap);
    tcase_add_test(structure, envelope_in_wrong_namespace_is_not_soap);
    tcase_add_test(structure, two_bodies_are_not_soap);
    tcase_add_test(structure, no_body_is_not_soap);
    tcase_add_test(structure, two_headers_are_not_soap);
    tcase_add_test(structure, header_after_body_is_not_soap);
    tcase_add_test(structure, extra_envelope_child_is_not_soap);
    tcase_add_test(structure, body_of_the_other_soap_version_is_not_soap);
    tcase_add_test(structure, text_inside_envelope_or_header_is_not_soap);
    tcase_add_test(structure, operation_is_the_first_element_of_the_body);
    tcase_add_test(structure, empty_body_has_no_operation);
    tcase_add_test(structure, missing_document_is_an_internal_error);

    tcase_add_test(must_understand, must_understand_on_unknown_header_is_rejected);
    tcase_add_test(must_understand, must_understand_false_is_fine);
    tcase_add_test(must_understand, must_understand_that_is_not_a_boolean_is_malformed);
    tcase_add_test(must_understand, must_understand_in_a_foreign_namespace_is_not_the_soap_attribute);
    tcase_add_test(must_understand, must_understand_for_another_actor_is_fine);
    tcase_add_test(must_understand, must_understand_for_role_none_is_fine);
    tcase_add_test(must_understand, must_understand_for_next_or_our_actor_is_enforced);
    tcase_add_test(must_understand, security_and_addressing_headers_are_understood);
    tcase_add_test(must_understand, unknown_addressing_header_with_must_understand_is_rejected);

    tcase_add_test(security, security_header_without_actor_is_ours_by_default);
    tcase_add_test(security, two_security_headers_are_a_duplicate);
    tcase_add_test(security, security_header_for_another_actor_is_not_ours);
    tcase_add_test(security, security_header_for_next_is_not_selected);
    tcase_add_test(security, security_header_for_next_with_must_understand_is_rejected);
    tcase_add_test(security, security_header_for_next_in_other_spellings_is_rejected);
    tcase_add_test(security, security_header_for_next_without_must_understand_is_skipped);
    tcase_add_test(security, actor_naming_next_processes_the_next_security_header);
    tcase_add_test(security, security_header_for_role_none_is_never_processed);
    tcase_add_test(security, security_header_for_our_actor_is_picked_among_others);
    tcase_add_test(security, soap12_ultimate_receiver_role_counts_as_no_actor);
    tcase_add_test(security, security_in_another_namespace_is_not_security);

    tcase_add_test(addressing, addressing_headers_are_read_in_the_2005_namespace);
    tcase_add_test(addressing, addressing_headers_are_read_in_the_2004_namespace);
    tcase_add_test(addressing, addressing_headers_in_other_namespaces_are_ignored);
    tcase_add_test(addressing, addressing_header_nested_deeper_is_not_read);
    tcase_add_test(addressing, second_addressing_header_of_a_name_is_malformed);
    tcase_add_test(addressing, addressing_header_with_markup_content_is_malformed);

    suite_add_tcase(suite, structure);
    suite_add_tcase(suite, must_understand);
    suite_add_tcase(suite, security);
    suite_add_tcase(suite, addressing);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(envelope_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
