/*
** test_ids.c — the message's one ID namespace: each recognised ID attribute is found, any
** value seen twice (whatever attributes carried it) is duplicate-id, and the table is bounded.
*/
#include <check.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/failure.h"
#include "core/ids.h"
#include "core/namespaces.h"
#include "core/xml_parse.h"
#include "warden.h"

#define WSU "xmlns:wsu=\"" WD_NS_WSU "\""

static xmlDocPtr parse(const char *text)
{
    xmlDocPtr doc = NULL;
    wd_failure f;

    memset(&f, 0, sizeof f);
    ck_assert_msg(wd_xml_parse(text, strlen(text), NULL, &doc, &f) == 0, "parse failed: %s",
                  f.detail);
    return doc;
}

static wd_id_table *build(xmlDocPtr doc)
{
    wd_id_table *table = NULL;
    wd_failure f;

    memset(&f, 0, sizeof f);
    ck_assert_msg(wd_ids_build(doc, &table, &f) == 0, "build failed: %s", f.detail);
    ck_assert_ptr_nonnull(table);
    return table;
}

static void expect_build_rejection(const char *text, const char *reason, const char *in_detail)
{
    xmlDocPtr doc = parse(text);
    wd_id_table *table = NULL;
    wd_failure f;

    memset(&f, 0, sizeof f);
    ck_assert_int_eq(wd_ids_build(doc, &table, &f), -1);
    ck_assert_ptr_null(table);
    ck_assert_int_eq(f.code, WARDEN_E_SECURITY);
    ck_assert_str_eq(wd_reason_name(f.reason), reason);
    if (in_detail != NULL)
        ck_assert_msg(strstr(f.detail, in_detail) != NULL, "detail \"%s\" lacks \"%s\"", f.detail,
                      in_detail);
    xmlFreeDoc(doc);
}

static xmlNode *find(const wd_id_table *table, const char *id)
{
    return wd_ids_find(table, id, strlen(id));
}

/* <r><e wsu:Id="id0"/>...</r> with `count` IDs. */
static char *document_with_ids(int count)
{
    size_t size = (size_t)count * 48 + 128;
    char *text = malloc(size);
    size_t used;

    ck_assert_ptr_nonnull(text);
    used = (size_t)snprintf(text, size, "<r " WSU ">");
    for (int i = 0; i < count; i++)
        used += (size_t)snprintf(text + used, size - used, "<e wsu:Id=\"id%d\"/>", i);
    snprintf(text + used, size - used, "</r>");
    return text;
}

START_TEST(each_id_attribute_kind_is_found)
{
    xmlDocPtr doc = parse("<r " WSU "><a wsu:Id=\"a1\"/><b Id=\"b1\"/><c ID=\"c1\"/>"
                          "<d xml:id=\"d1\"/></r>");
    wd_id_table *table = build(doc);

    ck_assert_str_eq((const char *)find(table, "a1")->name, "a");
    ck_assert_str_eq((const char *)find(table, "b1")->name, "b");
    ck_assert_str_eq((const char *)find(table, "c1")->name, "c");
    ck_assert_str_eq((const char *)find(table, "d1")->name, "d");
    ck_assert_ptr_null(find(table, "e1"));
    wd_ids_free(table);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(root_element_id_is_registered)
{
    xmlDocPtr doc = parse("<r Id=\"root\"><a/></r>");
    wd_id_table *table = build(doc);

    ck_assert_ptr_eq(find(table, "root"), xmlDocGetRootElement(doc));
    wd_ids_free(table);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(deeply_nested_ids_are_found)
{
    xmlDocPtr doc = parse("<r><a><b><c><d Id=\"deep\"/></c></b><e Id=\"side\"/></a></r>");
    wd_id_table *table = build(doc);

    ck_assert_str_eq((const char *)find(table, "deep")->name, "d");
    ck_assert_str_eq((const char *)find(table, "side")->name, "e");
    wd_ids_free(table);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(lookup_uses_the_given_length)
{
    xmlDocPtr doc = parse("<r><a Id=\"abc\"/></r>");
    wd_id_table *table = build(doc);

    ck_assert_ptr_nonnull(wd_ids_find(table, "abcdef", 3));
    ck_assert_ptr_null(wd_ids_find(table, "abcdef", 4));
    ck_assert_ptr_null(wd_ids_find(table, "ab", 2));
    ck_assert_ptr_null(wd_ids_find(table, NULL, 3));
    ck_assert_ptr_null(wd_ids_find(NULL, "abc", 3));
    wd_ids_free(table);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(other_attributes_are_not_ids)
{
    xmlDocPtr doc = parse("<r xmlns:o=\"urn:other\"><a o:Id=\"q\"/><b id=\"lower\"/>"
                          "<c wsuId=\"x\"/><d o:ID=\"q\"/></r>");
    wd_id_table *table = build(doc);

    ck_assert_ptr_null(find(table, "q"));
    ck_assert_ptr_null(find(table, "lower"));
    ck_assert_ptr_null(find(table, "x"));
    wd_ids_free(table);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(same_kind_twice_is_duplicate_id)
{
    expect_build_rejection("<r " WSU "><a wsu:Id=\"x\"/><b wsu:Id=\"x\"/></r>", "duplicate-id",
                           "\"x\"");
}
END_TEST

START_TEST(wsu_id_and_plain_id_share_one_namespace)
{
    expect_build_rejection("<r " WSU "><a wsu:Id=\"Body\"/><b Id=\"Body\"/></r>", "duplicate-id",
                           "Body");
}
END_TEST

START_TEST(plain_id_and_xml_id_share_one_namespace)
{
    expect_build_rejection("<r><a Id=\"t\"/><b xml:id=\"t\"/></r>", "duplicate-id", "\"t\"");
}
END_TEST

START_TEST(upper_id_and_plain_id_share_one_namespace)
{
    expect_build_rejection("<r><a ID=\"_1\"/><b Id=\"_1\"/></r>", "duplicate-id", "_1");
}
END_TEST

START_TEST(two_id_attributes_with_one_value_on_one_element_are_duplicate)
{
    expect_build_rejection("<r " WSU "><a wsu:Id=\"s\" Id=\"s\"/></r>", "duplicate-id", "\"s\"");
}
END_TEST

START_TEST(empty_ids_are_registered_but_never_found)
{
    xmlDocPtr doc = parse("<r><a Id=\"\"/></r>");
    wd_id_table *table = build(doc);

    ck_assert_ptr_null(wd_ids_find(table, "", 0));
    wd_ids_free(table);
    xmlFreeDoc(doc);
    expect_build_rejection("<r><a Id=\"\"/><b ID=\"\"/></r>", "duplicate-id", NULL);
}
END_TEST

START_TEST(ids_of_prefers_wsu_id_then_id_then_ID_then_xml_id)
{
    xmlDocPtr doc = parse("<r " WSU ">"
                          "<a xml:id=\"x4\" ID=\"x3\" Id=\"x2\" wsu:Id=\"x1\"/>"
                          "<b xml:id=\"y4\" ID=\"y3\" Id=\"y2\"/>"
                          "<c xml:id=\"z4\" ID=\"z3\"/>"
                          "<d xml:id=\"w4\"/>"
                          "<e other=\"v\"/></r>");
    xmlNode *a = xmlDocGetRootElement(doc)->children;

    ck_assert_str_eq(wd_ids_of(a), "x1");
    ck_assert_str_eq(wd_ids_of(a->next), "y2");
    ck_assert_str_eq(wd_ids_of(a->next->next), "z3");
    ck_assert_str_eq(wd_ids_of(a->next->next->next), "w4");
    ck_assert_ptr_null(wd_ids_of(a->next->next->next->next));
    ck_assert_ptr_null(wd_ids_of(NULL));
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(many_ids_are_all_found)
{
    char *text = document_with_ids(1000);
    xmlDocPtr doc = parse(text);
    wd_id_table *table = build(doc);
    char id[16];

    for (int i = 0; i < 1000; i++) {
        xmlNode *element;
        snprintf(id, sizeof id, "id%d", i);
        element = find(table, id);
        ck_assert_ptr_nonnull(element);
        ck_assert_str_eq(wd_ids_of(element), id);
    }
    ck_assert_ptr_null(find(table, "id1000"));
    wd_ids_free(table);
    xmlFreeDoc(doc);
    free(text);
}
END_TEST

START_TEST(exactly_4096_ids_are_accepted)
{
    char *text = document_with_ids(4096);
    xmlDocPtr doc = parse(text);
    wd_id_table *table = build(doc);

    ck_assert_ptr_nonnull(find(table, "id4095"));
    wd_ids_free(table);
    xmlFreeDoc(doc);
    free(text);
}
END_TEST

START_TEST(more_than_4096_ids_is_limit_exceeded)
{
    char *text = document_with_ids(4097);

    expect_build_rejection(text, "limit-exceeded", "4096");
    free(text);
}
END_TEST

START_TEST(document_without_ids_gives_an_empty_table)
{
    xmlDocPtr doc = parse("<r><a/></r>");
    wd_id_table *table = build(doc);

    ck_assert_ptr_null(find(table, "a"));
    wd_ids_free(table);
    wd_ids_free(NULL);
    xmlFreeDoc(doc);
}
END_TEST

/* Our parser never leaves an entity reference in a value, but a document built another way
** could; such a value has no single string to register and must not be skipped. */
START_TEST(id_split_by_an_entity_reference_is_malformed)
{
    xmlDocPtr doc = parse("<r><a Id=\"x\"/></r>");
    xmlAttr *id = xmlDocGetRootElement(doc)->children->properties;
    wd_id_table *table = NULL;
    wd_failure f;

    xmlAddChild((xmlNode *)id, xmlNewReference(doc, (const xmlChar *)"&e;"));
    memset(&f, 0, sizeof f);
    ck_assert_int_eq(wd_ids_build(doc, &table, &f), -1);
    ck_assert_ptr_null(table);
    ck_assert_str_eq(wd_reason_name(f.reason), "malformed");
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(missing_document_is_an_internal_error)
{
    wd_id_table *table = NULL;
    wd_failure f;

    memset(&f, 0, sizeof f);
    ck_assert_int_eq(wd_ids_build(NULL, &table, &f), -1);
    ck_assert_ptr_null(table);
    ck_assert_str_eq(wd_reason_name(f.reason), "internal-error");
}
END_TEST

/* ---- decryption's changes: forgetting a subtree, adding one ---- */

START_TEST(forgotten_subtree_is_no_longer_found_and_others_still_are)
{
    /* many IDs so that probe chains cross the forgotten slots */
    char *text = document_with_ids(300);
    xmlDocPtr doc = parse(text);
    wd_id_table *table = build(doc);
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *victims[100];
    int n = 0;

    for (xmlNode *e = root->children; e != NULL && n < 100; e = e->next)
        if (e->type == XML_ELEMENT_NODE && (n++ % 2) == 0)
            victims[n / 2] = e;
    for (int i = 0; i < 50; i++)
        wd_ids_forget(table, victims[i]);
    for (int i = 0; i < 300; i++) {
        char id[16];
        snprintf(id, sizeof id, "id%d", i);
        xmlNode *found = find(table, id);
        if (i < 100 && i % 2 == 0)
            ck_assert_msg(found == NULL, "%s still found", id);
        else
            ck_assert_msg(found != NULL && strcmp(wd_ids_of(found), id) == 0, "%s lost", id);
    }
    wd_ids_free(table);
    xmlFreeDoc(doc);
    free(text);
}
END_TEST

START_TEST(added_subtree_is_found_and_a_repeated_value_is_duplicate_id)
{
    xmlDocPtr doc = parse("<r " WSU "><a wsu:Id=\"old\"/></r>");
    xmlDocPtr other = parse("<n " WSU " wsu:Id=\"new\"><m Id=\"deeper\"/></n>");
    xmlDocPtr clash = parse("<n " WSU " wsu:Id=\"old\"/>");
    wd_id_table *table = build(doc);
    wd_failure f;

    memset(&f, 0, sizeof f);
    xmlNode *added = xmlDocCopyNode(xmlDocGetRootElement(other), doc, 1);
    xmlAddChild(xmlDocGetRootElement(doc), added);
    ck_assert_int_eq(wd_ids_add(table, added, &f), 0);
    ck_assert_ptr_eq(find(table, "new"), added);
    ck_assert_ptr_nonnull(find(table, "deeper"));
    ck_assert_ptr_nonnull(find(table, "old"));

    xmlNode *again = xmlDocCopyNode(xmlDocGetRootElement(clash), doc, 1);
    xmlAddChild(xmlDocGetRootElement(doc), again);
    ck_assert_int_eq(wd_ids_add(table, again, &f), -1);
    ck_assert_str_eq(wd_reason_name(f.reason), "duplicate-id");
    wd_ids_free(table);
    xmlFreeDoc(doc);
    xmlFreeDoc(other);
    xmlFreeDoc(clash);
}
END_TEST

START_TEST(added_ids_grow_the_table_up_to_the_limit)
{
    xmlDocPtr doc = parse("<r " WSU "/>");
    char *text = document_with_ids(4097);
    xmlDocPtr many = parse(text);
    wd_id_table *table = build(doc);
    wd_failure f;

    memset(&f, 0, sizeof f);
    xmlNode *added = xmlDocCopyNode(xmlDocGetRootElement(many), doc, 1);
    xmlAddChild(xmlDocGetRootElement(doc), added);
    ck_assert_int_eq(wd_ids_add(table, added, &f), -1);
    ck_assert_str_eq(wd_reason_name(f.reason), "limit-exceeded");
    ck_assert_ptr_nonnull(find(table, "id4095"));
    wd_ids_free(table);
    xmlFreeDoc(doc);
    xmlFreeDoc(many);
    free(text);
}
END_TEST

static Suite *ids_suite(void)
{
    Suite *suite = suite_create("ids");
    TCase *lookup = tcase_create("lookup");
    TCase *duplicates = tcase_create("duplicates");
    TCase *changes = tcase_create("changes");
    TCase *limits = tcase_create("limits");

    tcase_add_test(lookup, each_id_attribute_kind_is_found);
    tcase_add_test(lookup, root_element_id_is_registered);
    tcase_add_test(lookup, deeply_nested_ids_are_found);
    tcase_add_test(lookup, lookup_uses_the_given_length);
    tcase_add_test(lookup, other_attributes_are_not_ids);
    tcase_add_test(lookup, ids_of_prefers_wsu_id_then_id_then_ID_then_xml_id);
    tcase_add_test(lookup, empty_ids_are_registered_but_never_found);
    tcase_add_test(lookup, document_without_ids_gives_an_empty_table);
    tcase_add_test(lookup, missing_document_is_an_internal_error);

    tcase_add_test(lookup, id_split_by_an_entity_reference_is_malformed);

    tcase_add_test(duplicates, same_kind_twice_is_duplicate_id);
    tcase_add_test(duplicates, wsu_id_and_plain_id_share_one_namespace);
    tcase_add_test(duplicates, plain_id_and_xml_id_share_one_namespace);
    tcase_add_test(duplicates, upper_id_and_plain_id_share_one_namespace);
    tcase_add_test(duplicates, two_id_attributes_with_one_value_on_one_element_are_duplicate);

    tcase_add_test(limits, many_ids_are_all_found);
    tcase_add_test(limits, exactly_4096_ids_are_accepted);
    tcase_add_test(limits, more_than_4096_ids_is_limit_exceeded);

    tcase_add_test(changes, forgotten_subtree_is_no_longer_found_and_others_still_are);
    tcase_add_test(changes, added_subtree_is_found_and_a_repeated_value_is_duplicate_id);
    tcase_add_test(changes, added_ids_grow_the_table_up_to_the_limit);

    suite_add_tcase(suite, lookup);
    suite_add_tcase(suite, duplicates);
    suite_add_tcase(suite, limits);
    suite_add_tcase(suite, changes);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(ids_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
