/*
** c14n.c — fuzzes the subtree canonicalizer (core/c14n.c) against libxml2's
** xmlC14NExecute (tests/support/c14n_oracle.c) on fuzzed documents: comments, PIs, CDATA,
** namespace redeclarations and undeclarations, default namespaces, xml:* attributes,
** attribute ordering, character references, InclusiveNamespaces PrefixLists, a left-out
** subtree (the enveloped-signature transform). Both must produce the same bytes; they may
** disagree only where core/c14n.c says they do on purpose (a relative namespace URI outside
** the canonicalized subtree and its ancestors, which only libxml2 refuses; more than
** WD_C14N_MAX_PREFIXES prefixes, which only Warden refuses). Anything else aborts.
**
** Input: three control bytes, then the document.
**   byte 0  which elements are apexes: every element whose document-order index is
**           congruent to byte 0 modulo 7 (at most 8 apexes per input)
**   byte 1  the left-out subtree: 0 none, else the (byte 1)-th element inside the apex
**   byte 2  the PrefixList: one bit per entry of `prefix_pool` (0: no PrefixList)
**
** Built and run with the other targets: scripts/fuzz c14n [SECONDS]. It needs no PKI, so it
** also builds alone, from the repository's root:
**   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Iinclude \
**     fuzz/c14n.c core/c14n.c core/failure.c tests/support/c14n_oracle.c \
**     $(pkg-config --cflags --libs libxml-2.0) -o fuzz_c14n
**   ./fuzz_c14n -max_len=16384 -dict=fuzz/c14n.dict fuzz/seeds/c14n
*/
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/c14n.h"
#include "core/failure.h"
#include "tests/support/c14n_oracle.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { CONTROL_BYTES = 3, MAX_APEXES = 8, MAX_ELEMENTS = 4096 };

static const char *const prefix_pool[] = { "#default", "a", "b", "p", "soap", "wsse", "xml", "ds" };

typedef struct bytes {
    unsigned char *data;
    size_t         length;
    size_t         capacity;
} bytes;

static int collect(void *context, const unsigned char *data, size_t length)
{
    bytes *b = context;
    if (length > b->capacity - b->length) {
        size_t capacity = b->capacity > 0 ? b->capacity : 1024;
        while (capacity - b->length < length)
            capacity *= 2;
        unsigned char *grown = realloc(b->data, capacity);
        if (grown == NULL)
            abort();
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->length, data, length);
    b->length += length;
    return 0;
}

static void quiet(void *context, const char *message, ...)
{
    (void)context;
    (void)message;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    xmlInitParser();
    xmlSetGenericErrorFunc(NULL, quiet);
    return 0;
}

/* Elements of the document in document order, without recursion. */
static size_t collect_elements(xmlNode *root, xmlNode **out, size_t capacity)
{
    size_t count = 0;
    xmlNode *node = root;

    while (node != NULL && count < capacity) {
        if (node->type == XML_ELEMENT_NODE) {
            out[count++] = node;
            if (node->children != NULL) {
                node = node->children;
                continue;
            }
        }
        while (node != root && node->next == NULL)
            node = node->parent;
        if (node == root)
            break;
        node = node->next;
    }
    return count;
}

/* Whether a namespace URI declared anywhere in the document is one libxml2 refuses (no
** scheme, or not parsable): the one case where only the oracle may refuse. */
static bool has_relative_namespace(xmlNode *const *elements, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        for (const xmlNs *ns = elements[i]->nsDef; ns != NULL; ns = ns->next) {
            if (ns->href == NULL || ns->href[0] == '\0')
                continue;
            xmlURI *uri = xmlParseURI((const char *)ns->href);
            bool relative = uri == NULL || uri->scheme == NULL || uri->scheme[0] == '\0';
            xmlFreeURI(uri);
            if (relative)
                return true;
        }
    }
    return false;
}

static void check(xmlNode *apex, const xmlNode *excluded, const char *prefix_list, bool relative_somewhere,
                  size_t prefix_count)
{
    bytes ours = { 0 };
    wd_failure failure = { 0 };
    char *expected = NULL;
    size_t expected_length = 0;
    int mine = wd_c14n_subtree(apex, excluded, prefix_list, collect, &ours, NULL, WD_REASON_REFERENCE_INVALID,
                               &failure);
    int oracle = ts_c14n_oracle(apex, excluded, prefix_list, &expected, &expected_length);

    if (mine == 0 && oracle == 0) {
        if (ours.length != expected_length || memcmp(ours.data != NULL ? ours.data : (unsigned char *)"", expected,
                                                     expected_length) != 0) {
            fprintf(stderr, "c14n differential: <%s> PrefixList \"%s\"\nlibxml2 (%zu): %.*s\nwarden  (%zu): %.*s\n",
                    (const char *)apex->name, prefix_list != NULL ? prefix_list : "", expected_length,
                    (int)(expected_length < 2000 ? expected_length : 2000), expected, ours.length,
                    (int)(ours.length < 2000 ? ours.length : 2000), ours.data != NULL ? (char *)ours.data : "");
            abort();
        }
    } else if (mine == 0 && oracle != 0) {
        if (!relative_somewhere) {
            fprintf(stderr, "c14n differential: <%s>: libxml2 refused, warden canonicalized %zu bytes\n",
                    (const char *)apex->name, ours.length);
            abort();
        }
    } else if (mine != 0 && oracle == 0) {
        if (prefix_count <= WD_C14N_MAX_PREFIXES) {
            fprintf(stderr, "c14n differential: <%s>: warden refused (%s: %s), libxml2 canonicalized %zu bytes\n",
                    (const char *)apex->name, wd_reason_name(failure.reason), failure.detail, expected_length);
            abort();
        }
    }
    free(ours.data);
    free(expected);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static xmlNode *elements[MAX_ELEMENTS];
    char prefix_list[128] = "";
    size_t prefix_count = 0;

    if (size < CONTROL_BYTES || size - CONTROL_BYTES > INT32_MAX)
        return 0;
    xmlDoc *doc = xmlReadMemory((const char *)data + CONTROL_BYTES, (int)(size - CONTROL_BYTES), "fuzz.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
    if (doc == NULL)
        return 0;
    /* Like the verifier's parser: no DTD, so no entity reference reaches a canonicalizer
    ** (libxml2 writes one inside an attribute value as text, Warden refuses it). */
    if (doc->intSubset != NULL || doc->extSubset != NULL) {
        xmlFreeDoc(doc);
        return 0;
    }
    for (size_t i = 0; i < sizeof prefix_pool / sizeof prefix_pool[0]; i++) {
        if (data[2] & (1u << i)) {
            strcat(prefix_list, prefix_count > 0 ? " " : "");
            strcat(prefix_list, prefix_pool[i]);
            prefix_count++;
        }
    }

    size_t count = collect_elements(xmlDocGetRootElement(doc), elements, MAX_ELEMENTS);
    bool relative = has_relative_namespace(elements, count);
    size_t apexes = 0;
    for (size_t i = data[0] % 7; i < count && apexes < MAX_APEXES; i += 7, apexes++) {
        xmlNode *apex = elements[i];
        const xmlNode *excluded = NULL;
        if (data[1] != 0) {
            /* the data[1]-th element after the apex in document order, if still inside it */
            size_t k = i + data[1];
            for (const xmlNode *up = k < count ? elements[k] : NULL; up != NULL; up = up->parent) {
                if (up == apex) {
                    excluded = elements[k];
                    break;
                }
            }
        }
        check(apex, excluded, prefix_count > 0 ? prefix_list : NULL, relative, prefix_count);
    }
    xmlFreeDoc(doc);
    return 0;
}
