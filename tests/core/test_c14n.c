/*
** test_c14n.c — the subtree canonicalizer (core/c14n.c) against libxml2's xmlC14NExecute as
** the oracle: hand-written documents for each rule of exclusive c14n and generated documents
** mixing them, every element as apex, with and without a left-out subtree and PrefixLists;
** both must agree on refusal and produce the same bytes. Then what only the subtree
** canonicalizer has: its budget, depth without recursion, a failing sink.
*/
#include <check.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c14n_oracle.h"
#include "core/c14n.h"
#include "core/failure.h"
#include "test_signer.h"

typedef struct bytes {
    char  *data;
    size_t length;
    size_t capacity;
    size_t calls;
    size_t fail_after; /* the sink fails on this call (0: never) */
} bytes;

static int collect(void *context, const unsigned char *data, size_t length)
{
    bytes *b = context;
    if (++b->calls == b->fail_after)
        return -1;
    if (b->length + length + 1 > b->capacity) {
        size_t capacity = b->capacity > 0 ? b->capacity : 256;
        while (capacity < b->length + length + 1)
            capacity *= 2;
        b->data = realloc(b->data, capacity);
        ck_assert_ptr_nonnull(b->data);
        b->capacity = capacity;
    }
    memcpy(b->data + b->length, data, length);
    b->length += length;
    b->data[b->length] = '\0';
    return 0;
}

static xmlDoc *parse(const char *text)
{
    xmlDoc *doc = xmlReadMemory(text, (int)strlen(text), "test.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
    ck_assert_msg(doc != NULL, "cannot parse: %s", text);
    return doc;
}

/* Canonicalizes with both; asserts they agree. Returns true when both succeeded. */
static bool agree(xmlNode *apex, const xmlNode *excluded, const char *prefix_list)
{
    char *expected = NULL;
    size_t expected_length = 0;
    bytes got = { 0 };
    wd_failure failure = { 0 };
    int oracle = ts_c14n_oracle(apex, excluded, prefix_list, &expected, &expected_length);
    int ours = wd_c14n_subtree(apex, excluded, prefix_list, collect, &got, NULL, WD_REASON_REFERENCE_INVALID,
                               &failure);

    ck_assert_msg(oracle == ours, "apex <%s>, PrefixList \"%s\": libxml2 %s, ours %s (%s)", apex->name,
                  prefix_list != NULL ? prefix_list : "", oracle == 0 ? "canonicalized" : "refused",
                  ours == 0 ? "canonicalized" : "refused", failure.detail);
    if (ours == 0) {
        ck_assert_msg(got.length == expected_length && memcmp(got.data != NULL ? got.data : "", expected, expected_length) == 0,
                      "apex <%s>, PrefixList \"%s\":\nlibxml2: %s\nours:    %s", apex->name,
                      prefix_list != NULL ? prefix_list : "", expected, got.data != NULL ? got.data : "");
    } else {
        ck_assert_str_eq(wd_reason_name(failure.reason), "reference-invalid");
    }
    free(expected);
    free(got.data);
    return ours == 0;
}

static const char *const prefix_lists[] = {
    NULL, "#default", "b p", "p q #default", "a", "xml", "nope", "  a\tb\n#default  ", "a a",
};

/* Every element as apex under every PrefixList, and under the first few also with each of its
** element children and grandchildren (up to a few) left out. Returns how many succeeded. */
static size_t agree_everywhere(xmlDoc *doc)
{
    size_t successes = 0;
    xmlNode *node = xmlDocGetRootElement(doc);

    while (node != NULL) {
        if (node->type == XML_ELEMENT_NODE) {
            for (size_t p = 0; p < sizeof prefix_lists / sizeof prefix_lists[0]; p++) {
                successes += agree(node, NULL, prefix_lists[p]);
                int left_out = p < 4 ? 0 : 3; /* left-out subtrees under the first PrefixLists */
                for (xmlNode *d = node->children; d != NULL && left_out < 3; d = d->next) {
                    if (d->type != XML_ELEMENT_NODE)
                        continue;
                    successes += agree(node, d, prefix_lists[p]);
                    if (d->children != NULL && d->children->type == XML_ELEMENT_NODE)
                        successes += agree(node, d->children, prefix_lists[p]);
                    left_out++;
                }
            }
        }
        /* document order */
        if (node->children != NULL) {
            node = node->children;
            continue;
        }
        while (node != NULL && node->next == NULL)
            node = node->parent;
        if (node != NULL)
            node = node->next;
    }
    return successes;
}

static void agree_on(const char *text)
{
    xmlDoc *doc = parse(text);
    agree_everywhere(doc);
    xmlFreeDoc(doc);
}

/* ------------------------------------------------------------------------------------------
** Hand-written documents, one rule each
*/
START_TEST(default_namespace_undeclared_with_xmlns_empty)
{
    agree_on("<r xmlns=\"urn:d\"><a><b xmlns=\"\"><c/></b></a><p:x xmlns:p=\"urn:p\"><y xmlns=\"\"/></p:x></r>");
    agree_on("<r><a xmlns=\"\"><b/></a></r>");
    agree_on("<p:r xmlns:p=\"urn:p\" xmlns=\"urn:d\"><p:a><b xmlns=\"\"/></p:a></p:r>");
}
END_TEST

START_TEST(prefix_redeclared_to_other_uris)
{
    agree_on("<p:r xmlns:p=\"urn:one\"><p:a xmlns:p=\"urn:two\"><p:b xmlns:p=\"urn:one\"/><p:c/></p:a><p:d/></p:r>");
    agree_on("<r xmlns=\"urn:one\"><a xmlns=\"urn:two\"><b xmlns=\"urn:one\"/></a></r>");
    agree_on("<r xmlns:a=\"urn:a\" xmlns:b=\"urn:a\"><a:x b:y=\"1\" a:z=\"2\"/></r>");
}
END_TEST

START_TEST(prefixes_declared_on_ancestors_outside_the_apex)
{
    agree_on("<e:Envelope xmlns:e=\"urn:env\" xmlns:u=\"urn:util\" xmlns=\"urn:default\" xmlns:q=\"urn:unused\">"
             "<e:Body u:Id=\"b\"><Order><u:item q:unused=\"no\"/><plain xmlns=\"\"/></Order></e:Body></e:Envelope>");
}
END_TEST

START_TEST(prefix_list_with_default_and_prefixes_not_in_scope)
{
    agree_on("<r xmlns=\"urn:d\" xmlns:a=\"urn:a\" xmlns:b=\"urn:b\"><x><y a:t=\"1\"/><z xmlns=\"\"/></x></r>");
    agree_on("<r xmlns:p=\"urn:p\"><x><y xmlns:q=\"urn:q\"/></x></r>");
    agree_on("<r><x xmlns:p=\"urn:p\"><y xmlns:p=\"urn:p2\"/></x></r>");
}
END_TEST

START_TEST(attributes_in_several_namespaces_sort_by_uri_then_name)
{
    agree_on("<r xmlns:z=\"urn:a\" xmlns:a=\"urn:z\" xmlns:m=\"urn:m\">"
             "<e b=\"1\" a=\"2\" z:b=\"3\" a:a=\"4\" m:c=\"5\" z:a=\"6\" c=\"7\" xml:lang=\"en\"/></r>");
}
END_TEST

START_TEST(xml_attributes_are_not_inherited)
{
    agree_on("<r xml:lang=\"en\" xml:space=\"preserve\"><a xml:base=\"http://x/\"><b xml:lang=\"de\"/><c/></a></r>");
}
END_TEST

START_TEST(comments_dropped_processing_instructions_kept)
{
    agree_on("<r><!-- c1 --><a>x<!-- c2 -->y<?pi data\r\nmore?><?empty?></a><?last ?></r>");
}
END_TEST

START_TEST(cdata_and_escaping)
{
    agree_on("<r><a>&amp; &lt; &gt; &#13; \t \n \" '</a><b><![CDATA[<&>\"]]></b>"
             "<c v=\"&amp;&lt;&gt;&quot;&#9;&#10;&#13;'\" w='\"single\"'/></r>");
}
END_TEST

START_TEST(non_ascii_utf8)
{
    agree_on("<r><Grüße wert=\"Ærø — ✓\">Καλημέρα 日本 😀</Grüße></r>");
}
END_TEST

START_TEST(empty_elements_become_start_end_pairs)
{
    agree_on("<r><a/><b></b><c x=\"1\"/></r>");
}
END_TEST

START_TEST(relative_and_odd_namespace_uris)
{
    agree_on("<r xmlns:p=\"urn:x\"><a xmlns:q=\"dav:x\"/></r>");
    agree_on("<r><a xmlns:p=\"http://host/path?a=1&amp;b=2\"><p:b/></a></r>");
    agree_on("<r><a xmlns:p=\"relative/path\"><b/></a></r>");
    agree_on("<r><a xmlns=\"relative\"/></r>");
    agree_on("<r><a xmlns:p=\"http:no-server\"/></r>");
    agree_on("<r><a xmlns:p=\"mailto:someone@example.com\"/></r>");
    agree_on("<r><a xmlns:p=\"http://h/with space\"/></r>");
}
END_TEST

START_TEST(left_out_subtree)
{
    agree_on("<r xmlns:s=\"urn:sig\"><body><s:Signature><s:SignedInfo xmlns:s=\"urn:sig\"/></s:Signature>"
             "<after/></body></r>");
}
END_TEST

START_TEST(deep_nesting_agrees)
{
    char text[40000];
    size_t used = 0;
    for (int i = 0; i < 200; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "<n%d xmlns:p%d=\"urn:%d\" p%d:a=\"%d\">", i % 7,
                                 i % 5, i, i % 5, i);
    for (int i = 199; i >= 0; i--)
        used += (size_t)snprintf(text + used, sizeof text - used, "</n%d>", i % 7);
    xmlDoc *doc = parse(text);
    xmlNode *node = xmlDocGetRootElement(doc);
    for (int i = 0; node != NULL; i++, node = node->children) {
        if (i % 20 == 0) {
            agree(node, NULL, NULL);
            agree(node, NULL, "p1 p3 #default");
        }
    }
    xmlFreeDoc(doc);
}
END_TEST

/* ------------------------------------------------------------------------------------------
** Generated documents
*/
typedef struct rng {
    uint64_t state;
} rng;

static uint32_t next(rng *r)
{
    r->state = r->state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(r->state >> 33);
}

static uint32_t below(rng *r, uint32_t n)
{
    return next(r) % n;
}

typedef struct generated_text {
    char  *data;
    size_t length;
    size_t capacity;
} generated_text;

static void add(generated_text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->length + n + 1 > t->capacity) {
        t->capacity = (t->length + n + 1) * 2;
        t->data = realloc(t->data, t->capacity);
        ck_assert_ptr_nonnull(t->data);
    }
    memcpy(t->data + t->length, s, n + 1);
    t->length += n;
}

static const char *const prefixes[] = { "a", "b", "p", "q", "z" };
static const char *const uris[] = { "urn:a", "urn:b", "http://example.com/ns", "urn:z", "urn:a" };
static const char *const pieces[] = {
    "plain", "&amp;", "&lt;", "&gt;", "&#13;", "&#9;", "\n", "\"", "'", "é", "✓", " ", "&#xD;&#xA;",
};

static void generate_text(rng *r, generated_text *t)
{
    int n = (int)below(r, 4);
    for (int i = 0; i < n; i++)
        add(t, pieces[below(r, sizeof pieces / sizeof pieces[0])]);
}

static void generate_value(rng *r, generated_text *t)
{
    int n = (int)below(r, 4);
    for (int i = 0; i < n; i++) {
        const char *piece = pieces[below(r, sizeof pieces / sizeof pieces[0])];
        add(t, strcmp(piece, "\"") == 0 ? "&quot;" : piece);
    }
}

/* Elements whose prefixes are declared somewhere above (the `declared` bit set), some declared
** on the spot, sometimes to another URI; default namespaces declared and undeclared;
** attributes unprefixed, prefixed and xml:*; text, CDATA, comments and PIs between. */
static void generate(rng *r, generated_text *t, int depth, unsigned declared)
{
    char buffer[256];
    char qname[32];
    int own = (int)below(r, 6); /* 5: no prefix */
    unsigned here = declared;
    unsigned redeclared = 0;

    snprintf(qname, sizeof qname, "%s%se%u", own < 5 ? prefixes[own] : "", own < 5 ? ":" : "", below(r, 4));
    add(t, "<");
    add(t, qname);
    if (own < 5 && !(declared & (1u << own))) {
        snprintf(buffer, sizeof buffer, " xmlns:%s=\"%s\"", prefixes[own], uris[below(r, 5)]);
        add(t, buffer);
        here |= 1u << own;
        redeclared |= 1u << own;
    }
    int extra = (int)below(r, 3);
    for (int i = 0; i < extra; i++) {
        int k = (int)below(r, 5);
        if (redeclared & (1u << k))
            continue;
        redeclared |= 1u << k;
        snprintf(buffer, sizeof buffer, " xmlns:%s=\"%s\"", prefixes[k], uris[below(r, 5)]);
        add(t, buffer);
        here |= 1u << k;
    }
    switch (below(r, 6)) {
    case 0: add(t, " xmlns=\"urn:default\""); break;
    case 1: add(t, " xmlns=\"\""); break;
    case 2: add(t, " xmlns=\"urn:other-default\""); break;
    default: break;
    }
    int attributes = (int)below(r, 5);
    unsigned used_names = 0;
    for (int i = 0; i < attributes; i++) {
        int k = (int)below(r, 7); /* 5: unprefixed, 6: xml: */
        int name = (int)below(r, 3);
        unsigned key = 1u << (k * 3 + name);
        if ((used_names & key) || (k < 5 && !(here & (1u << k))))
            continue;
        /* two prefixes bound to one URI must not carry the same local name */
        bool clash = false;
        for (int o = 0; o < 5 && k < 5; o++)
            if (o != k && (used_names & (1u << (o * 3 + name))))
                clash = true;
        if (clash)
            continue;
        used_names |= key;
        snprintf(buffer, sizeof buffer, " %s%s%c=\"", k < 5 ? prefixes[k] : k == 6 ? "xml" : "", k == 5 ? "" : ":",
                 "abc"[name]);
        add(t, buffer);
        generate_value(r, t);
        add(t, "\"");
    }
    add(t, ">");
    int children = depth < 6 ? (int)below(r, 5) : 0;
    for (int i = 0; i < children; i++) {
        switch (below(r, 8)) {
        case 0: add(t, "<!-- comment -->"); break;
        case 1: add(t, "<?target some data?>"); break;
        case 2: add(t, "<![CDATA[cdata <&> ]]>"); break;
        case 3: generate_text(r, t); break;
        default: generate(r, t, depth + 1, here); break;
        }
    }
    add(t, "</");
    add(t, qname);
    add(t, ">");
}

START_TEST(generated_documents_agree)
{
    size_t successes = 0;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        rng r = { seed * 0x9E3779B97F4A7C15u };
        generated_text t = { 0 };
        generate(&r, &t, 0, 0);
        xmlDoc *doc = xmlReadMemory(t.data, (int)t.length, "generated.xml", NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
        ck_assert_msg(doc != NULL, "seed %llu: cannot parse %s", (unsigned long long)seed, t.data);
        successes += agree_everywhere(doc);
        xmlFreeDoc(doc);
        free(t.data);
    }
    ck_assert_uint_gt(successes, 1000);
}
END_TEST

/* The messages the other tests verify: signed by the test signer in its shapes (SOAP 1.1 and
** 1.2, each key reference, PrefixLists, the enveloped transform), parsed back from bytes. */
START_TEST(signed_test_messages_agree)
{
    static const ts_key_reference references[] = { TS_KEY_BST, TS_KEY_SKI, TS_KEY_ISSUER_SERIAL,
                                                   TS_KEY_ZEEP_X509_DATA, TS_KEY_INLINE_X509 };
    char key[1024], cert[1024];
    ck_assert_ptr_nonnull(ts_pki_path("alice.key", key, sizeof key));
    ck_assert_ptr_nonnull(ts_pki_path("alice.pem", cert, sizeof cert));
    for (int version = 11; version <= 12; version++) {
        for (size_t r = 0; r < sizeof references / sizeof references[0]; r++) {
            xmlDoc *doc = ts_envelope_new(version,
                                          "<CreateOrder xmlns=\"urn:example:orders\" xmlns:t=\"urn:types\">"
                                          "<item type=\"t:Gadget\">1 &amp; 2</item><note xmlns=\"\">n</note></CreateOrder>",
                                          "2026-11-25T12:00:00Z", "2026-11-25T12:05:00Z");
            ck_assert_ptr_nonnull(doc);
            ts_options opt = { .key_pem_path = key, .cert_pem_path = cert, .key_reference = references[r],
                               .enveloped_transform = r % 2 == 1,
                               .inclusive_prefixes = r == 2 ? "t #default" : NULL,
                               .signed_info_prefixes = r == 3 ? "wsse" : NULL };
            ck_assert_int_eq(ts_sign(doc, ts_security(doc), &opt), 0);
            size_t length = 0;
            char *serialized = ts_serialize(doc, &length);
            xmlFreeDoc(doc);
            doc = ts_parse(serialized, length);
            free(serialized);
            ck_assert_ptr_nonnull(doc);
            ck_assert_uint_gt(agree_everywhere(doc), 100);
            xmlFreeDoc(doc);
        }
    }
}
END_TEST

/* ------------------------------------------------------------------------------------------
** What only the subtree canonicalizer has
*/
/* Debug builds (the test suite's) check every canonicalization of every message against
** libxml2 and abort on a difference: the suites' messages are all differential tests. */
START_TEST(debug_builds_check_every_canonicalization_against_libxml2)
{
#ifdef NDEBUG
    ck_assert(!wd_c14n_differential() || wd_c14n_differential());
#else
    ck_assert_msg(wd_c14n_differential(), "a Debug build without WARDEN_C14N_DIFFERENTIAL");
#endif
}
END_TEST

START_TEST(budget_is_charged_per_canonical_byte_and_stops_the_walk)
{
    xmlDoc *doc = parse("<r><a>0123456789</a></r>");
    bytes got = { 0 };
    wd_failure failure = { 0 };
    size_t budget = 1000;

    ck_assert_int_eq(wd_c14n_subtree(xmlDocGetRootElement(doc), NULL, NULL, collect, &got, &budget,
                                     WD_REASON_REFERENCE_INVALID, &failure), 0);
    ck_assert_str_eq(got.data, "<r><a>0123456789</a></r>");
    ck_assert_uint_eq(budget, 1000 - strlen("<r><a>0123456789</a></r>"));

    budget = 10;
    got.length = 0;
    ck_assert_int_eq(wd_c14n_subtree(xmlDocGetRootElement(doc), NULL, NULL, collect, &got, &budget,
                                     WD_REASON_REFERENCE_INVALID, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "limit-exceeded");
    ck_assert_uint_eq(budget, 0);
    free(got.data);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(namespace_declarations_cost_without_output)
{
    xmlDoc *doc = parse("<r xmlns:a=\"urn:a\" xmlns:b=\"urn:b\" xmlns:c=\"urn:a\"/>");
    bytes got = { 0 };
    wd_failure failure = { 0 };
    size_t budget = 1000;

    ck_assert_int_eq(wd_c14n_subtree(xmlDocGetRootElement(doc), NULL, NULL, collect, &got, &budget,
                                     WD_REASON_REFERENCE_INVALID, &failure), 0);
    ck_assert_str_eq(got.data, "<r></r>");
    /* three declarations of 1 + 5 + 10, two distinct URIs parsed */
    ck_assert_uint_eq(budget, 1000 - 7 - 3 * 16 - 2 * WD_C14N_URI_PARSE_COST);
    free(got.data);
    xmlFreeDoc(doc);
}
END_TEST

/* A memo shared by the calls over one document parses each namespace URI once: the second
** call is charged the declarations as written, not the parses; a relative URI is refused
** whatever the memo holds. */
START_TEST(shared_memo_parses_each_namespace_uri_once_per_document)
{
    xmlDoc *doc = parse("<r xmlns:a=\"urn:a\" xmlns:b=\"urn:b\"><x/><y/></r>");
    xmlNode *x = xmlDocGetRootElement(doc)->children, *y = x->next;
    wd_c14n_memo memo;
    bytes got = { 0 };
    wd_failure failure = { 0 };
    size_t budget = 1000;

    memset(&memo, 0, sizeof memo);
    ck_assert_int_eq(wd_c14n_subtree_memo(x, NULL, NULL, collect, &got, &budget, &memo, WD_REASON_REFERENCE_INVALID,
                                          &failure), 0);
    ck_assert_uint_eq(budget, 1000 - strlen("<x></x>") - 2 * 16 - 2 * WD_C14N_URI_PARSE_COST);
    budget = 1000;
    ck_assert_int_eq(wd_c14n_subtree_memo(y, NULL, NULL, collect, &got, &budget, &memo, WD_REASON_REFERENCE_INVALID,
                                          &failure), 0);
    ck_assert_uint_eq(budget, 1000 - strlen("<y></y>") - 2 * 16);
    free(got.data);
    xmlFreeDoc(doc);

    doc = parse("<r xmlns:a=\"urn:a\"><x/><y xmlns:c=\"relative\"/></r>");
    x = xmlDocGetRootElement(doc)->children;
    y = x->next;
    memset(&memo, 0, sizeof memo);
    got = (bytes){ 0 };
    ck_assert_int_eq(wd_c14n_subtree_memo(x, NULL, NULL, collect, &got, NULL, &memo, WD_REASON_REFERENCE_INVALID,
                                          &failure), 0);
    ck_assert_int_eq(wd_c14n_subtree_memo(y, NULL, NULL, collect, &got, NULL, &memo, WD_REASON_REFERENCE_INVALID,
                                          &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "reference-invalid");
    free(got.data);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(depth_far_beyond_any_parser_limit_needs_no_recursion)
{
    enum { DEPTH = 100000 };
    xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNode *node = xmlNewDocNode(doc, NULL, BAD_CAST "d", NULL);
    bytes got = { 0 };
    wd_failure failure = { 0 };

    xmlDocSetRootElement(doc, node);
    for (int i = 1; i < DEPTH; i++)
        node = xmlNewChild(node, NULL, BAD_CAST "d", NULL);
    ck_assert_int_eq(wd_c14n_subtree(xmlDocGetRootElement(doc), NULL, NULL, collect, &got, NULL,
                                     WD_REASON_REFERENCE_INVALID, &failure), 0);
    ck_assert_uint_eq(got.length, (size_t)DEPTH * strlen("<d></d>"));
    ck_assert_int_eq(memcmp(got.data, "<d><d><d>", 9), 0);
    ck_assert_int_eq(memcmp(got.data + got.length - 8, "</d></d>", 8), 0);
    free(got.data);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(failing_sink_stops_with_its_own_failure)
{
    char text[200000];
    size_t used = 0;
    used += (size_t)snprintf(text, sizeof text, "<r>");
    while (used < sizeof text - 100)
        used += (size_t)snprintf(text + used, sizeof text - used, "<item>some text</item>");
    snprintf(text + used, sizeof text - used, "</r>");
    xmlDoc *doc = parse(text);
    bytes got = { .fail_after = 2 };
    wd_failure failure = { 0 };

    ck_assert_int_eq(wd_c14n_subtree(xmlDocGetRootElement(doc), NULL, NULL, collect, &got, NULL,
                                     WD_REASON_REFERENCE_INVALID, &failure), -1);
    ck_assert_int_eq(failure.reason, 0);
    ck_assert_uint_eq(got.calls, 2);
    free(got.data);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(prefix_list_of_too_many_prefixes_is_refused)
{
    char list[1024];
    size_t used = 0;
    for (int i = 0; i <= WD_C14N_MAX_PREFIXES; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "p%d ", i);
    xmlDoc *doc = parse("<r/>");
    bytes got = { 0 };
    wd_failure failure = { 0 };
    ck_assert_int_eq(wd_c14n_subtree(xmlDocGetRootElement(doc), NULL, list, collect, &got, NULL,
                                     WD_REASON_SIGNATURE_INVALID, &failure), -1);
    ck_assert_str_eq(wd_reason_name(failure.reason), "signature-invalid");
    free(got.data);
    xmlFreeDoc(doc);
}
END_TEST

static Suite *c14n_suite(void)
{
    Suite *suite = suite_create("c14n");
    TCase *rules = tcase_create("rules");
    TCase *generated = tcase_create("generated");
    TCase *own = tcase_create("own");

    tcase_add_test(rules, default_namespace_undeclared_with_xmlns_empty);
    tcase_add_test(rules, prefix_redeclared_to_other_uris);
    tcase_add_test(rules, prefixes_declared_on_ancestors_outside_the_apex);
    tcase_add_test(rules, prefix_list_with_default_and_prefixes_not_in_scope);
    tcase_add_test(rules, attributes_in_several_namespaces_sort_by_uri_then_name);
    tcase_add_test(rules, xml_attributes_are_not_inherited);
    tcase_add_test(rules, comments_dropped_processing_instructions_kept);
    tcase_add_test(rules, cdata_and_escaping);
    tcase_add_test(rules, non_ascii_utf8);
    tcase_add_test(rules, empty_elements_become_start_end_pairs);
    tcase_add_test(rules, relative_and_odd_namespace_uris);
    tcase_add_test(rules, left_out_subtree);
    tcase_add_test(rules, deep_nesting_agrees);
    tcase_add_test(generated, generated_documents_agree);
    tcase_add_test(generated, signed_test_messages_agree);
    tcase_set_timeout(generated, 120);
    tcase_add_test(own, debug_builds_check_every_canonicalization_against_libxml2);
    tcase_add_test(own, budget_is_charged_per_canonical_byte_and_stops_the_walk);
    tcase_add_test(own, namespace_declarations_cost_without_output);
    tcase_add_test(own, shared_memo_parses_each_namespace_uri_once_per_document);
    tcase_add_test(own, depth_far_beyond_any_parser_limit_needs_no_recursion);
    tcase_add_test(own, failing_sink_stops_with_its_own_failure);
    tcase_add_test(own, prefix_list_of_too_many_prefixes_is_refused);
    suite_add_tcase(suite, rules);
    suite_add_tcase(suite, generated);
    suite_add_tcase(suite, own);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(c14n_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    xmlCleanupParser();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
