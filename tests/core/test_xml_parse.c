/*
** test_xml_parse.c — the safe parser: well-formed SOAP goes through, DOCTYPEs, entities,
** processing instructions and every wd_limits limit are refused with their reason codes.
*/
#include <check.h>
#include <libxml/globals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/failure.h"
#include "core/settings.h"
#include "core/xml_parse.h"
#include "warden.h"

static const char soap11_message[] =
    "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">\n"
    "  <soap:Header><wsse:Security xmlns:wsse=\"http://docs.oasis-open.org/wss/2004/01/"
    "oasis-200401-wss-wssecurity-secext-1.0.xsd\"/></soap:Header>\n"
    "  <soap:Body><m:Ping xmlns:m=\"urn:example\">hello</m:Ping></soap:Body>\n"
    "</soap:Envelope>\n";

static const char soap12_message[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\">"
    "<env:Body><m:Ping xmlns:m=\"urn:example\"/></env:Body></env:Envelope>";

static wd_limits default_limits(void)
{
    wd_settings settings;
    wd_settings_defaults(&settings);
    return settings.limits;
}

static int parse_text(const char *text, const wd_limits *limits, xmlDocPtr *doc, wd_failure *f)
{
    memset(f, 0, sizeof *f);
    return wd_xml_parse(text, strlen(text), limits, doc, f);
}

#define ck_assert_rejected(rc, doc, failure, reason_name)                 \
    do {                                                                  \
        ck_assert_int_eq((rc), -1);                                       \
        ck_assert_ptr_null(doc);                                          \
        ck_assert_int_eq((failure).code, WARDEN_E_SECURITY);              \
        ck_assert_str_eq(wd_reason_name((failure).reason), (reason_name)); \
    } while (0)

/* A document of `depth` nested elements inside an Envelope-like root. */
static char *nested_document(int depth)
{
    size_t size = (size_t)depth * 8 + 64;
    char *text = malloc(size);
    size_t used = 0;

    ck_assert_ptr_nonnull(text);
    for (int i = 0; i < depth; i++)
        used += (size_t)snprintf(text + used, size - used, "<e>");
    for (int i = 0; i < depth; i++)
        used += (size_t)snprintf(text + used, size - used, "</e>");
    return text;
}

/* <e a0="v" a1="v" ...> with `attributes` attributes. */
static char *element_with_attributes(int attributes)
{
    size_t size = (size_t)attributes * 16 + 64;
    char *text = malloc(size);
    size_t used = 0;

    ck_assert_ptr_nonnull(text);
    used += (size_t)snprintf(text + used, size - used, "<e");
    for (int i = 0; i < attributes; i++)
        used += (size_t)snprintf(text + used, size - used, " a%d=\"v\"", i);
    snprintf(text + used, size - used, "/>");
    return text;
}

/* <e>prefix + `text_bytes` x's + suffix</e>. */
static char *element_with_text(size_t text_bytes, const char *prefix, const char *suffix)
{
    size_t size = text_bytes + strlen(prefix) + strlen(suffix) + 16;
    char *text = malloc(size);
    size_t used;

    ck_assert_ptr_nonnull(text);
    used = (size_t)snprintf(text, size, "<e>%s", prefix);
    memset(text + used, 'x', text_bytes);
    used += text_bytes;
    snprintf(text + used, size - used, "%s</e>", suffix);
    return text;
}

START_TEST(soap11_envelope_parses)
{
    xmlDocPtr doc = NULL;
    wd_failure f;
    wd_limits limits = default_limits();

    ck_assert_int_eq(parse_text(soap11_message, &limits, &doc, &f), 0);
    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq((const char *)xmlDocGetRootElement(doc)->name, "Envelope");
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(soap12_envelope_with_xml_declaration_parses)
{
    xmlDocPtr doc = NULL;
    wd_failure f;
    wd_limits limits = default_limits();

    ck_assert_int_eq(parse_text(soap12_message, &limits, &doc, &f), 0);
    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq((const char *)xmlDocGetRootElement(doc)->ns->href,
                     "http://www.w3.org/2003/05/soap-envelope");
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(null_limits_mean_the_defaults)
{
    xmlDocPtr doc = NULL;
    wd_failure f;

    ck_assert_int_eq(parse_text(soap11_message, NULL, &doc, &f), 0);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(whitespace_and_comments_are_kept_for_canonicalization)
{
    xmlDocPtr doc = NULL;
    wd_failure f;
    xmlNode *root;

    ck_assert_int_eq(parse_text("<r>\n  <!-- note -->\n  <a/>\n</r>", NULL, &doc, &f), 0);
    root = xmlDocGetRootElement(doc);
    ck_assert_int_eq(root->children->type, XML_TEXT_NODE);
    ck_assert_str_eq((const char *)root->children->content, "\n  ");
    ck_assert_int_eq(root->children->next->type, XML_COMMENT_NODE);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(billion_laughs_internal_subset_is_dtd_forbidden_without_expansion)
{
    static const char bomb[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE lolz [\n"
        " <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
        " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
        " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
        " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
        " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
        "]>\n"
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
        "<soap:Body><m:Ping xmlns:m=\"urn:example\">&lol9;</m:Ping></soap:Body></soap:Envelope>";
    xmlDocPtr doc = NULL;
    wd_failure f;
    /* Limits far above what the expansion would need, so only the DTD rule can stop it. */
    wd_limits limits = { .message_bytes = 1 << 20, .depth = 64, .attributes = 256,
                         .text_bytes = (size_t)1 << 40 };

    ck_assert_rejected(parse_text(bomb, &limits, &doc, &f), doc, f, "dtd-forbidden");
    ck_assert_ptr_nonnull(strstr(f.detail, "DOCTYPE"));
}
END_TEST

START_TEST(external_system_dtd_is_dtd_forbidden)
{
    static const char message[] =
        "<!DOCTYPE Envelope SYSTEM \"http://attacker.example/evil.dtd\">"
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
        "<soap:Body/></soap:Envelope>";
    xmlDocPtr doc = NULL;
    wd_failure f;

    ck_assert_rejected(parse_text(message, NULL, &doc, &f), doc, f, "dtd-forbidden");
}
END_TEST

START_TEST(external_entity_declaration_is_dtd_forbidden)
{
    static const char message[] =
        "<!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><r>&xxe;</r>";
    xmlDocPtr doc = NULL;
    wd_failure f;

    ck_assert_rejected(parse_text(message, NULL, &doc, &f), doc, f, "dtd-forbidden");
}
END_TEST

START_TEST(bare_doctype_is_dtd_forbidden)
{
    xmlDocPtr doc = NULL;
    wd_failure f;

    ck_assert_rejected(parse_text("<!DOCTYPE r><r/>", NULL, &doc, &f), doc, f, "dtd-forbidden");
}
END_TEST

START_TEST(message_over_message_bytes_is_limit_exceeded)
{
    xmlDocPtr doc = NULL;
    wd_failure f;
    wd_limits limits = default_limits();

    limits.message_bytes = strlen(soap11_message) - 1;
    ck_assert_rejected(parse_text(soap11_message, &limits, &doc, &f), doc, f, "limit-exceeded");
    ck_assert_ptr_nonnull(strstr(f.detail, "message_bytes"));
}
END_TEST

START_TEST(message_of_exactly_message_bytes_parses)
{
    xmlDocPtr doc = NULL;
    wd_failure f;
    wd_limits limits = default_limits();

    limits.message_bytes = strlen(soap11_message);
    ck_assert_int_eq(parse_text(soap11_message, &limits, &doc, &f), 0);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(nesting_deeper_than_depth_is_limit_exceeded)
{
    xmlDocPtr doc = NULL;
    wd_failure f;
    wd_limits limits = default_limits();
    char *text = nested_document(11);

    limits.depth = 10;
    ck_assert_rejected(parse_text(text, &limits, &doc, &f), doc, f, "limit-exceeded");
    ck_assert_ptr_nonnull(strstr(f.detail, "depth"));
    free(text);
}
END_TEST

START_TEST(nesting_of_exactly_depth_parses)
{
    xmlDocPtr doc = NULL;
    wd_failure f;
    wd_limits limits = default_limits();
    char *text = nested_document(10);

    limits.depth = 10;
    ck_assert_int_eq(parse_text(text, &limits, &doc, &f), 0);
    xmlFreeDoc(doc);
    free(text);
}
END_TEST

START_TEST(default_depth_limit_stops_deep_documents)
{
    xmlDocPtr doc = NULL;
    wd_failure f;
    char *text = nested_document(65);

    ck_assert_rejected(parse_text(text, NULL, &doc, &f), doc, f, "limit-exceeded");
    free(text);
}
END_TEST

START_TEST(too_many_attributes_is_limit_exceeded)
{
    xmlDocPtr doc = NULL;
    wd_failure f;
    wd_limits limits = default_limits();
    char *text = element_with_attributes(9);

    limits.attributes = 8;
    ck_assert_rejected(parse_text(text, &limits, &doc, &f), doc, f, "limit-exceeded");
    ck_assert_ptr_nonnull(strstr(f.detail, "attributes"));
    free(text);
}
END_TEST

START_TEST(exactly_the_attribute_limit_parses)
{
    xmlDocPtr doc = NULL;
    wd_failure f;
    wd_limits limits = default_limits();
    char *text = element_with_attributes(8);

    limits.attributes = 8;
    ck_assert_int_eq(parse_text(text, &limits, &doc, &f), 0);
    xmlFreeDoc(doc);
    free(text);
}
END_TEST

START_TEST(namespace_declarations_count_as_attributes)
{
    xmlDocPtr doc = NULL;
    wd_failure f;
    wd_limits limits = default_limits();

    limits.attributes = 2;
    ck_assert_rejected(parse_text("<e xmlns=\"urn:a\" xmlns:b=\"urn:b\" c=\"1\"/>", &limits, &doc,
                                  &f),
                       doc, f, "limit-exceeded");
}
END_TEST

START_TEST(text_longer_than_text_bytes_is_limit_exceeded)
{
    xmlDocPtr doc = NULL;
    wd_failure f;
    wd_limits limits = default_limits();
    char *text = element_with_text(5001, "", "");

    limits.text_bytes = 5000;
    ck_assert_rejected(parse_text(text, &limits, &doc, &f), doc, f, "limit-exceeded");
    ck_assert_ptr_nonnull(strstr(f.detail, "text_bytes"));
    free(text);
}
END_TEST

START_TEST(text_of_exactly_text_bytes_parses)
{
    xmlDocPtr doc = NULL;
    wd_failure f;
    wd_limits limits = default_limits();
    char *text = element_with_text(5000, "", "");

    limits.text_bytes = 5000;
    ck_assert_int_eq(parse_text(text, &limits, &doc, &f), 0);
    xmlFreeDoc(doc);
    free(text);
}
END_TEST

START_TEST(cdata_longer_than_text_bytes_is_limit_exceeded)
{
    xmlDocPtr doc = NULL;
    wd_failure f;
    wd_limits limits = default_limits();
    char *text = element_with_text(5001, "<![CDATA[", "]]>");

    limits.text_bytes = 5000;
    ck_assert_rejected(parse_text(text, &limits, &doc, &f), doc, f, "limit-exceeded");
    free(text);
}
END_TEST

START_TEST(text_and_adjacent_cdata_count_together)
{
    xmlDocPtr doc = NULL;
    wd_failure f;
    wd_limits limits = default_limits();

    limits.text_bytes = 8;
    ck_assert_rejected(parse_text("<e>xxxxx<![CDATA[yyyyy]]></e>", &limits, &doc, &f), doc, f,
                       "limit-exceeded");
}
END_TEST

START_TEST(text_runs_in_different_elements_are_counted_separately)
{
    xmlDocPtr doc = NULL;
    wd_failure f;
    wd_limits limits = default_limits();

    limits.text_bytes = 8;
    ck_assert_int_eq(parse_text("<r><a>xxxxxxxx</a><b>yyyyyyyy</b></r>", &limits, &doc, &f), 0);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(garbage_is_malformed)
{
    static const unsigned char garbage[] = { 0x00, 0xff, 0x13, 'h', 'i', 0x80, 0x7f, '<', '<' };
    xmlDocPtr doc = NULL;
    wd_failure f;

    memset(&f, 0, sizeof f);
    ck_assert_rejected(wd_xml_parse(garbage, sizeof garbage, NULL, &doc, &f), doc, f,
                       "malformed");
}
END_TEST

START_TEST(plain_text_is_malformed)
{
    xmlDocPtr doc = NULL;
    wd_failure f;

    ck_assert_rejected(parse_text("this is not XML at all", NULL, &doc, &f), doc, f, "malformed");
}
END_TEST

START_TEST(truncated_xml_is_malformed_with_the_parser_message)
{
    char truncated[64];
    xmlDocPtr doc = NULL;
    wd_failure f;

    memcpy(truncated, soap11_message, 60);
    truncated[60] = '\0';
    ck_assert_rejected(parse_text(truncated, NULL, &doc, &f), doc, f, "malformed");
    ck_assert_ptr_nonnull(strstr(f.detail, "not well-formed XML: "));
    ck_assert_uint_gt(strlen(f.detail), strlen("not well-formed XML: "));
    ck_assert_ptr_null(strchr(f.detail, '\n'));
}
END_TEST

START_TEST(mismatched_tags_are_malformed)
{
    xmlDocPtr doc = NULL;
    wd_failure f;

    ck_assert_rejected(parse_text("<a><b></a></b>", NULL, &doc, &f), doc, f, "malformed");
}
END_TEST

START_TEST(empty_input_is_malformed)
{
    xmlDocPtr doc = NULL;
    wd_failure f;

    memset(&f, 0, sizeof f);
    ck_assert_rejected(wd_xml_parse("", 0, NULL, &doc, &f), doc, f, "malformed");
}
END_TEST

START_TEST(whitespace_only_input_is_malformed)
{
    xmlDocPtr doc = NULL;
    wd_failure f;

    ck_assert_rejected(parse_text("  \n ", NULL, &doc, &f), doc, f, "malformed");
}
END_TEST

START_TEST(processing_instruction_in_body_is_malformed)
{
    static const char message[] =
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
        "<soap:Body><?evil data?></soap:Body></soap:Envelope>";
    xmlDocPtr doc = NULL;
    wd_failure f;

    ck_assert_rejected(parse_text(message, NULL, &doc, &f), doc, f, "malformed");
    ck_assert_ptr_nonnull(strstr(f.detail, "processing instruction"));
}
END_TEST

START_TEST(processing_instruction_before_root_is_malformed)
{
    xmlDocPtr doc = NULL;
    wd_failure f;

    ck_assert_rejected(parse_text("<?xml-stylesheet href=\"a.xsl\"?><r/>", NULL, &doc, &f), doc,
                       f, "malformed");
}
END_TEST

START_TEST(undeclared_entity_reference_is_malformed)
{
    xmlDocPtr doc = NULL;
    wd_failure f;

    ck_assert_rejected(parse_text("<r>&xxe;</r>", NULL, &doc, &f), doc, f, "malformed");
}
END_TEST

START_TEST(predefined_entities_and_character_references_become_text)
{
    xmlDocPtr doc = NULL;
    wd_failure f;
    xmlNode *root;
    xmlChar *content;
    xmlChar *attr;

    ck_assert_int_eq(parse_text("<r a=\"x&amp;y&#65;\">a&lt;b&#x41;&amp;</r>", NULL, &doc, &f), 0);
    root = xmlDocGetRootElement(doc);
    for (xmlNode *child = root->children; child != NULL; child = child->next)
        ck_assert_int_eq(child->type, XML_TEXT_NODE);
    content = xmlNodeGetContent(root);
    attr = xmlGetProp(root, (const xmlChar *)"a");
    ck_assert_str_eq((const char *)content, "a<bA&");
    ck_assert_str_eq((const char *)attr, "x&yA");
    xmlFree(content);
    xmlFree(attr);
    xmlFreeDoc(doc);
}
END_TEST

START_TEST(undeclared_namespace_prefix_is_malformed)
{
    xmlDocPtr doc = NULL;
    wd_failure f;

    ck_assert_rejected(parse_text("<soap:Envelope><soap:Body/></soap:Envelope>", NULL, &doc, &f),
                       doc, f, "malformed");
}
END_TEST

START_TEST(parser_errors_never_reach_stderr)
{
    static const char *const bad[] = {
        "<a><b></a>", "<soap:Envelope/>", "<r>&nope;</r>", "<!DOCTYPE r><r/>",
        "<r xml:id=\"1 2\" xmlns:x=\"rel\"/>", "<r><a xml:id=\"i\"/><b xml:id=\"i\"/></r>",
        "\xff\xfe<", "<?pi?><r/>",
        "<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><r>\x81\xff\xfc\xfc</r>",
        "<?xml version=\"1.0\" encoding=\"EBCDIC-US\"?><r/>", "<r>\xc3\x28</r>",
    };
    FILE *capture = tmpfile();
    int saved;

    ck_assert_ptr_nonnull(capture);
    fflush(stderr);
    saved = dup(STDERR_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_int_ge(dup2(fileno(capture), STDERR_FILENO), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xmlDocPtr doc = NULL;
        wd_failure f;
        parse_text(bad[i], NULL, &doc, &f);
        xmlFreeDoc(doc);
    }
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    ck_assert_int_eq(fseek(capture, 0, SEEK_END), 0);
    ck_assert_int_eq(ftell(capture), 0);
    fclose(capture);
}
END_TEST

/* libxml2 2.9 reports conversion errors through the thread's handlers, not the parser context. */
START_TEST(bytes_invalid_in_the_declared_encoding_are_malformed)
{
    xmlDocPtr doc = NULL;
    wd_failure f;

    ck_assert_rejected(parse_text("<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>"
                                  "<r>\x81\xff\xfc\xfc</r>", NULL, &doc, &f),
                       doc, f, "malformed");
    ck_assert_ptr_nonnull(strstr(f.detail, "conversion failed"));
    ck_assert_rejected(parse_text("<r>\xc3\x28</r>", NULL, &doc, &f), doc, f, "malformed");
    ck_assert_ptr_null(strchr(f.detail, '\n'));
}
END_TEST

/* ---- encoding: the byte-order mark and the declaration must agree ------------------------ */

typedef enum text_form { UTF8, LATIN1, UTF16LE, UTF16BE, UTF32LE, UTF32BE } text_form;

#define BOM_UTF8 "\xEF\xBB\xBF"
#define BOM_UTF16LE "\xFF\xFE"
#define BOM_UTF16BE "\xFE\xFF"
#define BOM_UTF32LE "\xFF\xFE\x00\x00"
#define BOM_UTF32BE "\x00\x00\xFE\xFF"

/* `<?xml version="1.0" encoding="DECLARED"?><r>café</r>` (no declaration when declared is
** NULL) in form, after the mark's mark_length bytes. Returns the length written to out. */
static size_t encoded_document(const char *mark, size_t mark_length, text_form form, const char *declared,
                               unsigned char *out, size_t capacity)
{
    char text[256];
    size_t length = mark_length;

    if (declared != NULL)
        snprintf(text, sizeof text, "<?xml version=\"1.0\" encoding=\"%s\"?><r>caf\xC3\xA9</r>", declared);
    else
        snprintf(text, sizeof text, "<r>caf\xC3\xA9</r>");
    ck_assert_uint_le(mark_length, capacity);
    memcpy(out, mark, mark_length);
    for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++) {
        unsigned code = *c;
        if (code >= 0xC0) { /* the one two-byte sequence used here */
            code = ((code & 0x1Fu) << 6) | (c[1] & 0x3Fu);
            c++;
        }
        unsigned char unit[4] = { 0 };
        size_t size = 0;
        switch (form) {
        case UTF8:
            if (code < 0x80) {
                unit[size++] = (unsigned char)code;
            } else {
                unit[size++] = (unsigned char)(0xC0 | (code >> 6));
                unit[size++] = (unsigned char)(0x80 | (code & 0x3F));
            }
            break;
        case LATIN1:
            unit[size++] = (unsigned char)code;
            break;
        case UTF16LE:
        case UTF16BE:
            unit[form == UTF16LE ? 0 : 1] = (unsigned char)code;
            size = 2;
            break;
        case UTF32LE:
        case UTF32BE:
            unit[form == UTF32LE ? 0 : 3] = (unsigned char)code;
            size = 4;
            break;
        }
        ck_assert_uint_le(length + size, capacity);
        memcpy(out + length, unit, size);
        length += size;
    }
    return length;
}

typedef struct encoding_case {
    const char *mark;
    size_t      mark_length;
    text_form   form;
    const char *declared;
} encoding_case;

#define MARK(m) m, sizeof m - 1
#define NO_MARK "", 0

START_TEST(byte_order_mark_disagreeing_with_the_declared_encoding_is_malformed)
{
    static const encoding_case cases[] = {
        /* libxml2 would follow the declaration here: "cafÃ©" */
        { MARK(BOM_UTF8), UTF8, "ISO-8859-1" },
        { MARK(BOM_UTF8), UTF8, "UTF-16" },
        { MARK(BOM_UTF8), UTF8, "us-ascii" },
        /* and the mark here, over a declared UTF-8 */
        { MARK(BOM_UTF16LE), UTF16LE, "UTF-8" },
        { MARK(BOM_UTF16LE), UTF16LE, "utf-8" },
        { MARK(BOM_UTF16LE), UTF16LE, "ISO-8859-1" },
        { MARK(BOM_UTF16LE), UTF16LE, "UTF-16BE" },
        { MARK(BOM_UTF16BE), UTF16BE, "UTF-8" },
        { MARK(BOM_UTF16BE), UTF16BE, "utf-16le" },
        /* 16-bit text without a mark ("<?" as 16-bit units) declaring something else */
        { NO_MARK, UTF16LE, "UTF-8" },
        { NO_MARK, UTF16BE, "ISO-8859-1" },
        /* 8-bit text declaring a wide encoding */
        { NO_MARK, UTF8, "UTF-16" },
        { NO_MARK, LATIN1, "Utf-16LE" },
        { NO_MARK, UTF8, "UCS-2" },
        /* UTF-32 in any form */
        { MARK(BOM_UTF32LE), UTF32LE, "UTF-32" },
        { MARK(BOM_UTF32BE), UTF32BE, "UTF-8" },
        { MARK(BOM_UTF32LE), UTF32LE, NULL },
        { NO_MARK, UTF32LE, "UTF-32LE" },
        { NO_MARK, UTF32BE, "UTF-32BE" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char bytes[512];
        size_t length = encoded_document(cases[i].mark, cases[i].mark_length, cases[i].form, cases[i].declared,
                                         bytes, sizeof bytes);
        xmlDocPtr doc = NULL;
        wd_failure f;
        memset(&f, 0, sizeof f);
        int rc = wd_xml_parse(bytes, length, NULL, &doc, &f);
        ck_assert_msg(rc == -1 && doc == NULL && strcmp(wd_reason_name(f.reason), "malformed") == 0,
                      "case %zu (%s): rc %d, %s: %s", i, cases[i].declared ? cases[i].declared : "no declaration", rc,
                      wd_reason_name(f.reason), f.detail);
        xmlFreeDoc(doc);
    }
}
END_TEST

START_TEST(byte_order_mark_agreeing_with_the_declared_encoding_parses)
{
    static const encoding_case cases[] = {
        { MARK(BOM_UTF8), UTF8, NULL },
        { MARK(BOM_UTF8), UTF8, "UTF-8" },
        { MARK(BOM_UTF8), UTF8, "utf-8" },
        { MARK(BOM_UTF16LE), UTF16LE, NULL },
        { MARK(BOM_UTF16LE), UTF16LE, "UTF-16" },
        { MARK(BOM_UTF16LE), UTF16LE, "utf-16le" },
        { MARK(BOM_UTF16BE), UTF16BE, "Utf-16" },
        { MARK(BOM_UTF16BE), UTF16BE, "UTF-16BE" },
        { NO_MARK, UTF16LE, "UTF-16LE" },
        { NO_MARK, UTF16BE, "UTF-16" },
        { NO_MARK, LATIN1, "ISO-8859-1" },
        { NO_MARK, LATIN1, "iso-8859-1" },
        { NO_MARK, UTF8, "UTF-8" },
        { NO_MARK, UTF8, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char bytes[512];
        size_t length = encoded_document(cases[i].mark, cases[i].mark_length, cases[i].form, cases[i].declared,
                                         bytes, sizeof bytes);
        xmlDocPtr doc = NULL;
        wd_failure f;
        memset(&f, 0, sizeof f);
        ck_assert_msg(wd_xml_parse(bytes, length, NULL, &doc, &f) == 0, "case %zu (%s): %s: %s", i,
                      cases[i].declared ? cases[i].declared : "no declaration", wd_reason_name(f.reason), f.detail);
        /* both sides of the agreement read the same text */
        xmlChar *text = xmlNodeGetContent(xmlDocGetRootElement(doc));
        ck_assert_str_eq((const char *)text, "caf\xC3\xA9");
        xmlFree(text);
        xmlFreeDoc(doc);
    }
}
END_TEST

START_TEST(disagreement_is_named_in_the_detail)
{
    unsigned char bytes[512];
    size_t length = encoded_document(MARK(BOM_UTF16LE), UTF16LE, "UTF-8", bytes, sizeof bytes);
    xmlDocPtr doc = NULL;
    wd_failure f;
    memset(&f, 0, sizeof f);
    ck_assert_int_eq(wd_xml_parse(bytes, length, NULL, &doc, &f), -1);
    ck_assert_str_eq(f.detail, "the byte-order mark says UTF-16LE but the XML declaration says encoding=\"UTF-8\"");
}
END_TEST

START_TEST(declarations_this_reader_cannot_follow_are_malformed)
{
    static const char *const declarations[] = {
        BOM_UTF8 "<?xml encoding=\"ISO-8859-1\" version=\"1.0\"?><r/>",  /* encoding first */
        BOM_UTF8 "<?xml version=\"1.0\" encoding=ISO-8859-1?><r/>",      /* unquoted */
        BOM_UTF8 "<?xml version=\"1.0\" encoding=\"ISO-8859-1'?><r/>",   /* mismatched quotes */
        BOM_UTF8 "<?xml version=\"1.0\" encoding=\"8859\"?><r/>",        /* not an EncName */
        "<?xml version=\"1.0\" encoding=\"UTF-\xC3\xA9\"?><r/>",          /* not ASCII */
    };
    for (size_t i = 0; i < sizeof declarations / sizeof declarations[0]; i++) {
        xmlDocPtr doc = NULL;
        wd_failure f;
        ck_assert_rejected(parse_text(declarations[i], NULL, &doc, &f), doc, f, "malformed");
    }
    /* spaces around '=' and single quotes are fine; so is no space before encoding, which
    ** libxml2 reports but still reads (and so must we) */
    xmlDocPtr doc = NULL;
    wd_failure f;
    ck_assert_int_eq(parse_text(BOM_UTF8 "<?xml version = '1.0'\n encoding\t=\t'utf-8' ?><r/>", NULL, &doc, &f), 0);
    xmlFreeDoc(doc);
    doc = NULL;
    ck_assert_rejected(parse_text(BOM_UTF8 "<?xml version=\"1.0\"encoding=\"ISO-8859-1\"?><r/>", NULL, &doc, &f),
                       doc, f, "malformed");
    ck_assert_ptr_nonnull(strstr(f.detail, "ISO-8859-1"));
    /* a long run of spaces inside the declaration is past what is followed */
    char long_declaration[600];
    snprintf(long_declaration, sizeof long_declaration, BOM_UTF8 "<?xml version=\"1.0\"%300s encoding=\"UTF-8\"?><r/>", "");
    ck_assert_rejected(parse_text(long_declaration, NULL, &doc, &f), doc, f, "malformed");
}
END_TEST

static void callers_structured_handler(void *data, xmlErrorPtr error)
{
    (void)data;
    (void)error;
}

static void callers_generic_handler(void *data, const char *format, ...)
{
    (void)data;
    (void)format;
}

START_TEST(callers_error_handlers_are_restored)
{
    int marker = 0;
    xmlDocPtr doc = NULL;
    wd_failure f;

    xmlSetStructuredErrorFunc(&marker, callers_structured_handler);
    xmlSetGenericErrorFunc(&marker, callers_generic_handler);
    parse_text("<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><r>\x81\xff</r>", NULL, &doc,
               &f);
    ck_assert_ptr_eq((void *)xmlStructuredError, (void *)callers_structured_handler);
    ck_assert_ptr_eq(xmlStructuredErrorContext, &marker);
    ck_assert_ptr_eq((void *)xmlGenericError, (void *)callers_generic_handler);
    ck_assert_ptr_eq(xmlGenericErrorContext, &marker);
    xmlSetStructuredErrorFunc(NULL, NULL);
    xmlSetGenericErrorFunc(NULL, NULL);
}
END_TEST

START_TEST(missing_input_bytes_is_an_internal_error)
{
    xmlDocPtr doc = NULL;
    wd_failure f;

    memset(&f, 0, sizeof f);
    ck_assert_int_eq(wd_xml_parse(NULL, 10, NULL, &doc, &f), -1);
    ck_assert_ptr_null(doc);
    ck_assert_str_eq(wd_reason_name(f.reason), "internal-error");
}
END_TEST

/* Many threads parse good and bad messages with different limits at once; each must get its
** own verdict, so nothing is shared between parses. */
typedef struct parse_job {
    int failures;
} parse_job;

static void *parse_many(void *arg)
{
    parse_job *job = arg;
    char *deep = nested_document(12);

    for (int round = 0; round < 200; round++) {
        xmlDocPtr doc = NULL;
        wd_failure f;
        wd_limits tight = default_limits();

        tight.depth = 11;
        if (parse_text(soap11_message, NULL, &doc, &f) != 0)
            job->failures++;
        xmlFreeDoc(doc);
        doc = NULL;
        if (parse_text(deep, &tight, &doc, &f) == 0 || f.reason != WD_REASON_LIMIT_EXCEEDED)
            job->failures++;
        if (parse_text("<a><b></a>", NULL, &doc, &f) == 0 || f.reason != WD_REASON_MALFORMED)
            job->failures++;
        if (parse_text("<!DOCTYPE r><r/>", NULL, &doc, &f) == 0 ||
            f.reason != WD_REASON_DTD_FORBIDDEN)
            job->failures++;
    }
    free(deep);
    return NULL;
}

START_TEST(concurrent_parses_are_independent)
{
    enum { THREADS = 4 };
    pthread_t threads[THREADS];
    parse_job jobs[THREADS];

    for (int i = 0; i < THREADS; i++) {
        jobs[i].failures = 0;
        ck_assert_int_eq(pthread_create(&threads[i], NULL, parse_many, &jobs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
        ck_assert_int_eq(jobs[i].failures, 0);
    }
}
END_TEST

static Suite *xml_parse_suite(void)
{
    Suite *suite = suite_create("xml_parse");
    TCase *wellformed = tcase_create("well-formed");
    TCase *dtd = tcase_create("dtd");
    TCase *limits = tcase_create("limits");
    TCase *malformed = tcase_create("malformed");
    TCase *safety = tcase_create("safety");

    tcase_add_test(wellformed, soap11_envelope_parses);
    tcase_add_test(wellformed, soap12_envelope_with_xml_declaration_parses);
    tcase_add_test(wellformed, null_limits_mean_the_defaults);
    tcase_add_test(wellformed, whitespace_and_comments_are_kept_for_canonicalization);
    tcase_add_test(wellformed, predefined_entities_and_character_references_become_text);

    tcase_add_test(dtd, billion_laughs_internal_subset_is_dtd_forbidden_without_expansion);
    tcase_add_test(dtd, external_system_dtd_is_dtd_forbidden);
    tcase_add_test(dtd, external_entity_declaration_is_dtd_forbidden);
    tcase_add_test(dtd, bare_doctype_is_dtd_forbidden);

    tcase_add_test(limits, message_over_message_bytes_is_limit_exceeded);
    tcase_add_test(limits, message_of_exactly_message_bytes_parses);
    tcase_add_test(limits, nesting_deeper_than_depth_is_limit_exceeded);
    tcase_add_test(limits, nesting_of_exactly_depth_parses);
    tcase_add_test(limits, default_depth_limit_stops_deep_documents);
    tcase_add_test(limits, too_many_attributes_is_limit_exceeded);
    tcase_add_test(limits, exactly_the_attribute_limit_parses);
    tcase_add_test(limits, namespace_declarations_count_as_attributes);
    tcase_add_test(limits, text_longer_than_text_bytes_is_limit_exceeded);
    tcase_add_test(limits, text_of_exactly_text_bytes_parses);
    tcase_add_test(limits, cdata_longer_than_text_bytes_is_limit_exceeded);
    tcase_add_test(limits, text_and_adjacent_cdata_count_together);
    tcase_add_test(limits, text_runs_in_different_elements_are_counted_separately);

    tcase_add_test(malformed, garbage_is_malformed);
    tcase_add_test(malformed, plain_text_is_malformed);
    tcase_add_test(malformed, truncated_xml_is_malformed_with_the_parser_message);
    tcase_add_test(malformed, mismatched_tags_are_malformed);
    tcase_add_test(malformed, empty_input_is_malformed);
    tcase_add_test(malformed, whitespace_only_input_is_malformed);
    tcase_add_test(malformed, processing_instruction_in_body_is_malformed);
    tcase_add_test(malformed, processing_instruction_before_root_is_malformed);
    tcase_add_test(malformed, undeclared_entity_reference_is_malformed);
    tcase_add_test(malformed, undeclared_namespace_prefix_is_malformed);
    tcase_add_test(malformed, bytes_invalid_in_the_declared_encoding_are_malformed);
    tcase_add_test(malformed, byte_order_mark_disagreeing_with_the_declared_encoding_is_malformed);
    tcase_add_test(malformed, byte_order_mark_agreeing_with_the_declared_encoding_parses);
    tcase_add_test(malformed, disagreement_is_named_in_the_detail);
    tcase_add_test(malformed, declarations_this_reader_cannot_follow_are_malformed);

    tcase_add_test(safety, parser_errors_never_reach_stderr);
    tcase_add_test(safety, callers_error_handlers_are_restored);
    tcase_add_test(safety, missing_input_bytes_is_an_internal_error);
    tcase_add_test(safety, concurrent_parses_are_independent);

    suite_add_tcase(suite, wellformed);
    suite_add_tcase(suite, dtd);
    suite_add_tcase(suite, limits);
    suite_add_tcase(suite, malformed);
    suite_add_tcase(suite, safety);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(xml_parse_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
