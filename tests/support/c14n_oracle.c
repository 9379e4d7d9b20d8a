/*
** c14n_oracle.c — libxml2's xmlC14NExecute(XML_C14N_EXCLUSIVE_1_0) over the node set "apex's
** subtree minus an excluded subtree", as the verifier did before it got its own subtree
** canonicalizer: the reference the differential tests compare core/c14n.c against.
*/
#include "c14n_oracle.h"

#include <libxml/c14n.h>
#include <libxml/globals.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlIO.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct node_set {
    const xmlNode *apex;
    const xmlNode *excluded;
} node_set;

typedef struct collected {
    char  *data;
    size_t length;
    size_t capacity;
    bool   failed;
} collected;

/* Attributes and namespace nodes belong to the element they sit on (libxml2 passes it as
** parent; for a namespace node, `node` is really an xmlNs whose type lines up). */
static int is_visible(void *user_data, xmlNodePtr node, xmlNodePtr parent)
{
    const node_set *set = user_data;
    const xmlNode *walk = node;

    if (node == NULL)
        return 0;
    if (node->type == XML_NAMESPACE_DECL)
        walk = parent;
    else if (node->type == XML_ATTRIBUTE_NODE)
        walk = parent != NULL ? parent : node->parent;
    for (; walk != NULL; walk = walk->parent) {
        if (walk == set->excluded)
            return 0;
        if (walk == set->apex)
            return 1;
    }
    return 0;
}

static int collect(void *context, const char *buffer, int length)
{
    collected *out = context;

    if (length <= 0)
        return 0;
    if (out->length + (size_t)length + 1 > out->capacity) {
        size_t capacity = out->capacity > 0 ? out->capacity : 4096;
        while (capacity < out->length + (size_t)length + 1)
            capacity *= 2;
        char *grown = realloc(out->data, capacity);
        if (grown == NULL) {
            out->failed = true;
            return -1;
        }
        out->data = grown;
        out->capacity = capacity;
    }
    memcpy(out->data + out->length, buffer, (size_t)length);
    out->length += (size_t)length;
    out->data[out->length] = '\0';
    return length;
}

static void quiet(void *context, xmlErrorPtr error)
{
    (void)context;
    (void)error;
}

static bool is_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int ts_c14n_oracle(xmlNode *apex, const xmlNode *excluded, const char *prefix_list, char **out,
                   size_t *length)
{
    xmlChar *prefixes[256];
    int count = 0;
    char *copy = NULL;
    node_set set = { apex, excluded };
    collected bytes = { NULL, 0, 0, false };
    int result = -1;

    if (prefix_list != NULL) {
        copy = strdup(prefix_list);
        if (copy == NULL)
            return -1;
        for (char *cursor = copy;;) {
            while (is_xml_space(*cursor))
                cursor++;
            if (*cursor == '\0' || count == 255)
                break;
            prefixes[count++] = (xmlChar *)cursor;
            while (*cursor != '\0' && !is_xml_space(*cursor))
                cursor++;
            if (*cursor != '\0')
                *cursor++ = '\0';
        }
    }
    prefixes[count] = NULL;

    xmlOutputBufferPtr buffer = xmlOutputBufferCreateIO(collect, NULL, &bytes, NULL);
    if (buffer == NULL)
        goto done;
    /* The thread's handler is put back afterwards: in Debug builds this runs inside the
    ** library (core/c14n.c), under an application that may have its own. */
    xmlStructuredErrorFunc saved = xmlStructuredError;
    void *saved_context = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(NULL, quiet);
    int executed = xmlC14NExecute(apex->doc, is_visible, &set, XML_C14N_EXCLUSIVE_1_0,
                                  count > 0 ? prefixes : NULL, 0, buffer);
    int closed = xmlOutputBufferClose(buffer);
    xmlSetStructuredErrorFunc(saved_context, saved);
    if (executed < 0 || closed < 0 || bytes.failed)
        goto done;
    if (bytes.data == NULL && collect(&bytes, "", 0) == 0 && (bytes.data = calloc(1, 1)) == NULL)
        goto done;
    *out = bytes.data;
    *length = bytes.length;
    bytes.data = NULL;
    result = 0;
done:
    free(bytes.data);
    free(copy);
    return result;
}
