/*
** test_xml_text.c — reading element text (comment injection refused, CDATA joined, XML
** whitespace trimmed) and the small element/attribute helpers.
*/
#include <check.h>
#include <libxml/tree.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/failure.h"
#include "core/xml_parse.h"
#include "core/xml_text.h"

static xmlDocPtr parse(const char *text)
{
    xmlDocPtr doc = NULL;
    wd_failure f;

    memset(&f, 0, sizeof f);
    ck_assert_msg(wd_xml_parse(text, strlen(text), NULL, &doc, &f) == 0, "parse failed: %s",
                  f.detail);
    return doc;
}

static xmlNode *root_of(xmlDocPtr doc)
{
    return xmlDocGetRootElement(doc);
}

START_TEST(plain_text_is_returned_with_its_length)
{
    xmlDocPtr doc = parse("<u>alice</u>");
    size_t length = 0;
    char *text = wd_xml_text(root_of(doc), false, &length);

    ck_assert_str_eq(text, "alice");
    ck_assert_uint_eq(length, 5);
    free(text);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(comment_injection_is_refused)
{
    xmlDocPtr doc = parse("<u>alice<!---->.evil</u>");
    size_t length = 0;

    ck_assert_ptr_null(wd_xml_text(root_of(doc), false, &length));
    ck_assert_uint_eq(length, SIZE_MAX);
    ck_assert_ptr_null(wd_xml_text(root_of(doc), true, &length));
    ck_assert_uint_eq(length, SIZE_MAX);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(element_child_is_refused)
{
    xmlDocPtr doc = parse("<u>alice<b>x</b></u>");
    size_t length = 0;

    ck_assert_ptr_null(wd_xml_text(root_of(doc), true, &length));
    ck_assert_uint_eq(length, SIZE_MAX);
    xmlFreeDoc(doc);
}
END_TEST

/* The parser refuses PIs and entity references, but a document built another way must not
** slip through the text reader either. */
START_TEST(processing_instruction_child_is_refused)
{
    xmlDocPtr doc = parse("<u>alice</u>");
    size_t length = 0;

    xmlAddChild(root_of(doc), xmlNewDocPI(doc, (const xmlChar *)"pi", (const xmlChar *)"x"));
    xmlAddChild(root_of(doc), xmlNewDocText(doc, (const xmlChar *)".evil"));
    ck_assert_ptr_null(wd_xml_text(root_of(doc), true, &length));
    ck_assert_uint_eq(length, SIZE_MAX);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(entity_reference_child_is_refused)
{
    xmlDocPtr doc = parse("<u>alice</u>");
    size_t length = 0;

    xmlAddChild(root_of(doc), xmlNewReference(doc, (const xmlChar *)"&ent;"));
    ck_assert_ptr_null(wd_xml_text(root_of(doc), false, &length));
    ck_assert_uint_eq(length, SIZE_MAX);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(cdata_sections_are_joined_with_text)
{
    xmlDocPtr doc = parse("<u>ali<![CDATA[ce<&>]]>.ok<![CDATA[!]]></u>");
    size_t length = 0;
    char *text = wd_xml_text(root_of(doc), false, &length);

    ck_assert_str_eq(text, "alice<&>.ok!");
    ck_assert_uint_eq(length, strlen("alice<&>.ok!"));
    free(text);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(trim_removes_only_xml_whitespace_at_both_ends)
{
    xmlDocPtr doc = parse("<u> \t\r\n al ice \n\t</u>");
    size_t length = 0;
    char *trimmed = wd_xml_text(root_of(doc), true, &length);
    char *untrimmed;

    ck_assert_str_eq(trimmed, "al ice");
    ck_assert_uint_eq(length, 6);
    /* The parser normalizes CR LF to LF, so the untrimmed text has no CR left. */
    untrimmed = wd_xml_text(root_of(doc), false, &length);
    ck_assert_str_eq(untrimmed, " \t\n al ice \n\t");
    ck_assert_uint_eq(length, strlen(" \t\n al ice \n\t"));
    free(trimmed);
    free(untrimmed);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(trim_keeps_non_xml_whitespace)
{
    /* U+00A0 (no-break space) and U+000B are not XML whitespace. */
    xmlDocPtr doc = parse("<u>\xc2\xa0" "alice\xc2\xa0</u>");
    char *text = wd_xml_text(root_of(doc), true, NULL);

    ck_assert_str_eq(text, "\xc2\xa0" "alice\xc2\xa0");
    free(text);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(trim_spans_text_and_cdata)
{
    xmlDocPtr doc = parse("<u>  <![CDATA[ alice ]]>  </u>");
    char *text = wd_xml_text(root_of(doc), true, NULL);

    ck_assert_str_eq(text, "alice");
    free(text);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(whitespace_only_text_trims_to_empty)
{
    xmlDocPtr doc = parse("<u> \n\t </u>");
    size_t length = 99;
    char *text = wd_xml_text(root_of(doc), true, &length);

    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, "");
    ck_assert_uint_eq(length, 0);
    free(text);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(empty_element_has_empty_text)
{
    xmlDocPtr doc = parse("<u/>");
    size_t length = 99;
    char *text = wd_xml_text(root_of(doc), false, &length);

    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, "");
    ck_assert_uint_eq(length, 0);
    free(text);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(non_element_is_refused)
{
    xmlDocPtr doc = parse("<u>alice</u>");
    size_t length = 0;

    ck_assert_ptr_null(wd_xml_text(NULL, true, &length));
    ck_assert_uint_eq(length, SIZE_MAX);
    ck_assert_ptr_null(wd_xml_text(root_of(doc)->children, true, &length));
    ck_assert_uint_eq(length, SIZE_MAX);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(element_identity_needs_namespace_and_local_name)
{
    xmlDocPtr doc = parse("<a:u xmlns:a=\"urn:a\"><v/>text<b:w xmlns:b=\"urn:b\"/></a:u>");
    xmlNode *root = root_of(doc);
    xmlNode *v = wd_xml_first_element(root);

    ck_assert(wd_xml_is(root, "urn:a", "u"));
    ck_assert(!wd_xml_is(root, "urn:b", "u"));
    ck_assert(!wd_xml_is(root, NULL, "u"));
    ck_assert(!wd_xml_is(root, "urn:a", "U"));
    ck_assert(wd_xml_is(v, NULL, "v"));
    ck_assert(!wd_xml_is(v, "urn:a", "v"));
    ck_assert(!wd_xml_is(v->next, NULL, "text"));
    ck_assert(!wd_xml_is(NULL, NULL, "v"));
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(element_navigation_skips_text_and_comments)
{
    xmlDocPtr doc = parse("<r> <!-- c --> <a/> text <!-- d --> <b/> </r>");
    xmlNode *a = wd_xml_first_element(root_of(doc));
    xmlNode *b = wd_xml_next_element(a);

    ck_assert_str_eq((const char *)a->name, "a");
    ck_assert_str_eq((const char *)b->name, "b");
    ck_assert_ptr_null(wd_xml_next_element(b));
    ck_assert_ptr_null(wd_xml_first_element(b));
    ck_assert_ptr_null(wd_xml_first_element(NULL));
    ck_assert_ptr_null(wd_xml_next_element(NULL));
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(attribute_lookup_tells_qualified_from_unqualified)
{
    xmlDocPtr doc = parse("<r xmlns:s=\"urn:s\" s:actor=\"qualified\" actor=\"plain\" empty=\"\"/>");
    xmlNode *root = root_of(doc);

    ck_assert_str_eq(wd_xml_attr(root, "urn:s", "actor"), "qualified");
    ck_assert_str_eq(wd_xml_attr(root, NULL, "actor"), "plain");
    ck_assert_str_eq(wd_xml_attr(root, NULL, "empty"), "");
    ck_assert_ptr_null(wd_xml_attr(root, "urn:other", "actor"));
    ck_assert_ptr_null(wd_xml_attr(root, NULL, "missing"));
    ck_assert_ptr_null(wd_xml_attr(NULL, NULL, "actor"));
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(attribute_value_points_into_the_document)
{
    xmlDocPtr doc = parse("<r a=\"x&amp;y\"/>");
    xmlNode *root = root_of(doc);

    ck_assert_str_eq(wd_xml_attr(root, NULL, "a"), "x&y");
    ck_assert_ptr_eq(wd_xml_attr(root, NULL, "a"), (const char *)root->properties->children->content);
    xmlFreeDoc(doc);
}
END_TEST

static Suite *xml_text_suite(void)
{
    Suite *suite = suite_create("xml_text");
    TCase *text = tcase_create("text");
    TCase *helpers = tcase_create("helpers");

    tcase_add_test(text, plain_text_is_returned_with_its_length);
    tcase_add_test(text, comment_injection_is_refused);
    tcase_add_test(text, element_child_is_refused);
    tcase_add_test(text, processing_instruction_child_is_refused);
    tcase_add_test(text, entity_reference_child_is_refused);
    tcase_add_test(text, cdata_sections_are_joined_with_text);
    tcase_add_test(text, trim_removes_only_xml_whitespace_at_both_ends);
    tcase_add_test(text, trim_keeps_non_xml_whitespace);
    tcase_add_test(text, trim_spans_text_and_cdata);
    tcase_add_test(text, whitespace_only_text_trims_to_empty);
    tcase_add_test(text, empty_element_has_empty_text);
    tcase_add_test(text, non_element_is_refused);

    tcase_add_test(helpers, element_identity_needs_namespace_and_local_name);
    tcase_add_test(helpers, element_navigation_skips_text_and_comments);
    tcase_add_test(helpers, attribute_lookup_tells_qualified_from_unqualified);
    tcase_add_test(helpers, attribute_value_points_into_the_document);

    suite_add_tcase(suite, text);
    suite_add_tcase(suite, helpers);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(xml_text_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
