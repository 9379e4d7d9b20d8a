/*
** test_timestamp.c — wsu:Timestamp form (BSP) and freshness (core/timestamp.c).
*/
#include <check.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/namespaces.h"
#include "core/timestamp.h"
#include "include/warden.h"
#include "test_run.h"

#define CREATED 1795608000 /* 2026-11-25T12:00:00Z */
#define EXPIRES 1795608300 /* 2026-11-25T12:05:00Z */
#define PINNED_NOW 1795608030 /* 2026-11-25T12:00:30Z */

static xmlDocPtr parse_document(const char *xml)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "timestamp.xml", NULL, XML_PARSE_NONET);
    ck_assert_msg(doc != NULL, "test XML does not parse: %s", xml);
    return doc;
}

/* Reads <wsu:Timestamp>inner</wsu:Timestamp>; the document is freed before returning, so
** only the times in *out may be used afterwards. */
static int read_timestamp(const char *inner, wd_timestamp *out, wd_failure *failure)
{
    char xml[2048];
    snprintf(xml, sizeof xml,
             "<wsu:Timestamp xmlns:wsu=\"" WD_NS_WSU "\" xmlns:wsse=\"" WD_NS_WSSE "\" wsu:Id=\"TS-1\">%s</wsu:Timestamp>",
             inner);
    xmlDocPtr doc = parse_document(xml);
    memset(failure, 0, sizeof *failure);
    int result = wd_timestamp_read(xmlDocGetRootElement(doc), out, failure);
    xmlFreeDoc(doc);
    return result;
}

static void assert_invalid(const char *inner)
{
    wd_timestamp timestamp;
    wd_failure   failure;
    memset(&timestamp, 0x5A, sizeof timestamp);
    ck_assert_int_eq(read_timestamp(inner, &timestamp, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "timestamp-invalid");
    ck_assert_int_eq(failure.code, WARDEN_E_SECURITY);
    ck_assert_ptr_null(timestamp.node);
    ck_assert(!timestamp.has_expires);
}

static wd_timestamp make_timestamp(int64_t created, int64_t expires, bool has_expires)
{
    wd_timestamp timestamp = { .node = NULL, .created = created, .expires = expires, .has_expires = has_expires };
    return timestamp;
}

static int check_at(const wd_timestamp *timestamp, int64_t now, wd_failure *failure)
{
    wd_settings settings;
    wd_settings_defaults(&settings);
    memset(failure, 0, sizeof *failure);
    return wd_timestamp_check(timestamp, now, &settings, failure);
}

START_TEST(created_and_expires_are_read)
{
    wd_timestamp timestamp;
    wd_failure   failure;
    ck_assert_int_eq(read_timestamp("<wsu:Created>2026-11-25T12:00:00Z</wsu:Created>"
                                    "<wsu:Expires>2026-11-25T12:05:00Z</wsu:Expires>",
                                    &timestamp, &failure),
                     0);
    ck_assert_int_eq(timestamp.created, CREATED);
    ck_assert_int_eq(timestamp.expires, EXPIRES);
    ck_assert(timestamp.has_expires);
}
END_TEST

START_TEST(created_alone_is_enough)
{
    wd_timestamp timestamp;
    wd_failure   failure;
    ck_assert_int_eq(read_timestamp("\n  <wsu:Created>2026-11-25T12:00:00.988Z</wsu:Created>\n  <!-- note -->\n",
                                    &timestamp, &failure),
                     0);
    ck_assert_int_eq(timestamp.created, CREATED);
    ck_assert(!timestamp.has_expires);
}
END_TEST

START_TEST(surrounding_whitespace_in_times_is_ignored)
{
    wd_timestamp timestamp;
    wd_failure   failure;
    ck_assert_int_eq(read_timestamp("<wsu:Created>\n 2026-11-25T12:00:00Z\n</wsu:Created>", &timestamp, &failure), 0);
    ck_assert_int_eq(timestamp.created, CREATED);
}
END_TEST

START_TEST(the_node_is_kept)
{
    const char *xml = "<wsu:Timestamp xmlns:wsu=\"" WD_NS_WSU "\"><wsu:Created>2026-11-25T12:00:00Z</wsu:Created>"
                      "</wsu:Timestamp>";
    xmlDocPtr    doc = parse_document(xml);
    wd_timestamp timestamp;
    wd_failure   failure;
    ck_assert_int_eq(wd_timestamp_read(xmlDocGetRootElement(doc), &timestamp, &failure), 0);
    ck_assert_ptr_eq(timestamp.node, xmlDocGetRootElement(doc));
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(missing_created_is_invalid)
{
    assert_invalid("");
    assert_invalid("<wsu:Expires>2026-11-25T12:05:00Z</wsu:Expires>");
}
END_TEST

START_TEST(two_created_are_invalid)
{
    assert_invalid("<wsu:Created>2026-11-25T12:00:00Z</wsu:Created><wsu:Created>2026-11-25T12:00:00Z</wsu:Created>");
}
END_TEST

START_TEST(two_expires_are_invalid)
{
    assert_invalid("<wsu:Created>2026-11-25T12:00:00Z</wsu:Created><wsu:Expires>2026-11-25T12:05:00Z</wsu:Expires>"
                   "<wsu:Expires>2026-11-25T12:05:00Z</wsu:Expires>");
}
END_TEST

START_TEST(expires_before_created_in_document_order_is_invalid)
{
    assert_invalid("<wsu:Expires>2026-11-25T12:05:00Z</wsu:Expires><wsu:Created>2026-11-25T12:00:00Z</wsu:Created>");
}
END_TEST

START_TEST(times_with_an_offset_are_invalid)
{
    assert_invalid("<wsu:Created>2026-11-25T12:00:00+00:00</wsu:Created>");
    assert_invalid("<wsu:Created>2026-11-25T12:00:00Z</wsu:Created><wsu:Expires>2026-11-25T12:05:00+00:00</wsu:Expires>");
}
END_TEST

START_TEST(times_that_are_not_datetimes_are_invalid)
{
    assert_invalid("<wsu:Created>yesterday</wsu:Created>");
    assert_invalid("<wsu:Created>2026-11-25T12:00:00</wsu:Created>");
    assert_invalid("<wsu:Created>2026-02-30T12:00:00Z</wsu:Created>");
    assert_invalid("<wsu:Created></wsu:Created>");
    assert_invalid("<wsu:Created>2026-11-25T12:00:00Z</wsu:Created><wsu:Expires>soon</wsu:Expires>");
}
END_TEST

/* BSP R3220/R3229: a regression test for times with more than millisecond precision, which
** were accepted with the extra digits dropped. */
START_TEST(times_with_more_than_three_fraction_digits_are_invalid)
{
    wd_timestamp timestamp;
    wd_failure   failure;
    ck_assert_int_eq(read_timestamp("<wsu:Created>2026-11-25T12:00:00.123Z</wsu:Created>"
                                    "<wsu:Expires>2026-11-25T12:05:00.5Z</wsu:Expires>",
                                    &timestamp, &failure),
                     0);
    ck_assert_int_eq(timestamp.created, CREATED);
    ck_assert_int_eq(timestamp.expires, EXPIRES);
    assert_invalid("<wsu:Created>2026-11-25T12:00:00.1234Z</wsu:Created>");
    assert_invalid("<wsu:Created>2026-11-25T12:00:00Z</wsu:Created>"
                   "<wsu:Expires>2026-11-25T12:05:00.0000Z</wsu:Expires>");
    assert_invalid("<wsu:Created>2026-11-25T12:00:00.9999999999999999999999999999999999999999Z</wsu:Created>");
}
END_TEST

START_TEST(times_holding_more_than_text_are_invalid)
{
    assert_invalid("<wsu:Created>2026-11-25T12:00:00Z<!---->1</wsu:Created>");
    assert_invalid("<wsu:Created><x>2026-11-25T12:00:00Z</x></wsu:Created>");
}
END_TEST

START_TEST(value_type_on_created_or_expires_is_invalid)
{
    assert_invalid("<wsu:Created ValueType=\"urn:other-time\">2026-11-25T12:00:00Z</wsu:Created>");
    assert_invalid("<wsu:Created>2026-11-25T12:00:00Z</wsu:Created>"
                   "<wsu:Expires ValueType=\"urn:other-time\">2026-11-25T12:05:00Z</wsu:Expires>");
    assert_invalid("<wsu:Created wsu:ValueType=\"urn:other-time\">2026-11-25T12:00:00Z</wsu:Created>");
}
END_TEST

START_TEST(other_child_elements_are_invalid)
{
    assert_invalid("<wsu:Created>2026-11-25T12:00:00Z</wsu:Created><wsu:Received>2026-11-25T12:00:00Z</wsu:Received>");
    assert_invalid("<wsse:Created>2026-11-25T12:00:00Z</wsse:Created>");
    assert_invalid("<Created>2026-11-25T12:00:00Z</Created>");
}
END_TEST

START_TEST(text_between_children_is_invalid)
{
    assert_invalid("<wsu:Created>2026-11-25T12:00:00Z</wsu:Created>later");
}
END_TEST

START_TEST(expires_not_after_created_is_invalid)
{
    assert_invalid("<wsu:Created>2026-11-25T12:00:00Z</wsu:Created><wsu:Expires>2026-11-25T12:00:00Z</wsu:Expires>");
    assert_invalid("<wsu:Created>2026-11-25T12:00:00Z</wsu:Created><wsu:Expires>2026-11-25T11:59:59Z</wsu:Expires>");
}
END_TEST

START_TEST(an_element_that_is_not_a_timestamp_is_invalid)
{
    xmlDocPtr doc = parse_document("<wsse:Timestamp xmlns:wsse=\"" WD_NS_WSSE "\" xmlns:wsu=\"" WD_NS_WSU "\">"
                                   "<wsu:Created>2026-11-25T12:00:00Z</wsu:Created></wsse:Timestamp>");
    wd_timestamp timestamp;
    wd_failure   failure;
    ck_assert_int_eq(wd_timestamp_read(xmlDocGetRootElement(doc), &timestamp, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "timestamp-invalid");
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(fresh_timestamp_passes)
{
    wd_timestamp timestamp = make_timestamp(CREATED, EXPIRES, true);
    wd_failure   failure;
    ck_assert_int_eq(check_at(&timestamp, PINNED_NOW, &failure), 0);
    ck_assert_int_eq(failure.reason, WD_REASON_NONE);
}
END_TEST

START_TEST(exactly_ttl_old_passes)
{
    wd_timestamp timestamp = make_timestamp(CREATED, 0, false);
    wd_failure   failure;
    ck_assert_int_eq(check_at(&timestamp, CREATED + 300, &failure), 0);
}
END_TEST

START_TEST(ttl_plus_one_old_is_expired)
{
    wd_timestamp timestamp = make_timestamp(CREATED, 0, false);
    wd_failure   failure;
    ck_assert_int_eq(check_at(&timestamp, CREATED + 301, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "timestamp-expired");
    ck_assert_int_eq(failure.code, WARDEN_E_SECURITY);
    ck_assert_ptr_nonnull(strstr(failure.detail, "2026-11-25T12:00:00Z"));
    ck_assert_ptr_nonnull(strstr(failure.detail, "2026-11-25T12:05:01Z"));
}
END_TEST

START_TEST(exactly_future_ttl_ahead_passes)
{
    wd_timestamp timestamp = make_timestamp(CREATED, 0, false);
    wd_failure   failure;
    ck_assert_int_eq(check_at(&timestamp, CREATED - 60, &failure), 0);
}
END_TEST

START_TEST(more_than_future_ttl_ahead_is_future)
{
    wd_timestamp timestamp = make_timestamp(CREATED, EXPIRES, true);
    wd_failure   failure;
    ck_assert_int_eq(check_at(&timestamp, CREATED - 61, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "timestamp-future");
    ck_assert_ptr_nonnull(strstr(failure.detail, "2026-11-25T12:00:00Z"));
    ck_assert_ptr_nonnull(strstr(failure.detail, "2026-11-25T11:58:59Z"));
}
END_TEST

START_TEST(expires_plus_skew_is_the_last_second)
{
    /* Expires one minute after Created; a long ttl so that only Expires can decide. */
    wd_timestamp timestamp = make_timestamp(CREATED, CREATED + 60, true);
    wd_settings  settings;
    wd_failure   failure;
    wd_settings_defaults(&settings);
    settings.ttl = 3600;
    ck_assert_int_eq(wd_timestamp_check(&timestamp, CREATED + 60 + 300, &settings, &failure), 0);
    ck_assert_int_eq(wd_timestamp_check(&timestamp, CREATED + 60 + 301, &settings, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "timestamp-expired");
    ck_assert_ptr_nonnull(strstr(failure.detail, "2026-11-25T12:01:00Z"));
}
END_TEST

START_TEST(extreme_clock_values_do_not_overflow)
{
    wd_timestamp timestamp = make_timestamp(CREATED, EXPIRES, true);
    wd_failure   failure;
    ck_assert_int_eq(check_at(&timestamp, INT64_MAX, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "timestamp-expired");
    ck_assert_int_eq(check_at(&timestamp, INT64_MIN, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "timestamp-future");
}
END_TEST

START_TEST(misuse_is_an_internal_error)
{
    wd_timestamp timestamp = make_timestamp(CREATED, EXPIRES, true);
    wd_failure   failure;
    memset(&failure, 0, sizeof failure);
    ck_assert_int_eq(wd_timestamp_check(&timestamp, PINNED_NOW, NULL, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "internal-error");
    ck_assert_int_eq(failure.code, WARDEN_E_INTERNAL);
    memset(&failure, 0, sizeof failure);
    ck_assert_int_eq(wd_timestamp_read(NULL, NULL, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "internal-error");
}
END_TEST

static Suite *timestamp_suite(void)
{
    Suite *suite = suite_create("timestamp");
    TCase *form = tcase_create("form");
    tcase_add_test(form, created_and_expires_are_read);
    tcase_add_test(form, created_alone_is_enough);
    tcase_add_test(form, surrounding_whitespace_in_times_is_ignored);
    tcase_add_test(form, the_node_is_kept);
    tcase_add_test(form, missing_created_is_invalid);
    tcase_add_test(form, two_created_are_invalid);
    tcase_add_test(form, two_expires_are_invalid);
    tcase_add_test(form, expires_before_created_in_document_order_is_invalid);
    tcase_add_test(form, times_with_an_offset_are_invalid);
    tcase_add_test(form, times_that_are_not_datetimes_are_invalid);
    tcase_add_test(form, times_with_more_than_three_fraction_digits_are_invalid);
    tcase_add_test(form, times_holding_more_than_text_are_invalid);
    tcase_add_test(form, value_type_on_created_or_expires_is_invalid);
    tcase_add_test(form, other_child_elements_are_invalid);
    tcase_add_test(form, text_between_children_is_invalid);
    tcase_add_test(form, expires_not_after_created_is_invalid);
    tcase_add_test(form, an_element_that_is_not_a_timestamp_is_invalid);
    suite_add_tcase(suite, form);

    TCase *freshness = tcase_create("freshness");
    tcase_add_test(freshness, fresh_timestamp_passes);
    tcase_add_test(freshness, exactly_ttl_old_passes);
    tcase_add_test(freshness, ttl_plus_one_old_is_expired);
    tcase_add_test(freshness, exactly_future_ttl_ahead_passes);
    tcase_add_test(freshness, more_than_future_ttl_ahead_is_future);
    tcase_add_test(freshness, expires_plus_skew_is_the_last_second);
    tcase_add_test(freshness, extreme_clock_values_do_not_overflow);
    tcase_add_test(freshness, misuse_is_an_internal_error);
    suite_add_tcase(suite, freshness);
    return suite;
}

int main(void)
{
    return tr_run_suite(timestamp_suite());
}
