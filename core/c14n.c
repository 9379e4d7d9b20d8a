/*
** c14n.c — exclusive canonicalization of a subtree through libxml2's xmlC14NExecute: the
** visibility callback that defines the node set (the apex's subtree minus an excluded
** subtree), the PrefixList split into libxml2's form, the output buffer that streams into a
** sink, and the capture that keeps libxml2's canonicalizer errors off stderr.
*/
#include "c14n.h"

#include <libxml/c14n.h>
#include <libxml/globals.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlerror.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../include/warden.h"

typedef struct node_set {
    const xmlNode *apex;
    const xmlNode *excluded;
} node_set;

typedef struct stream {
    wd_c14n_sink sink;
    void        *sink_context;
    bool         sink_failed;
} stream;

typedef struct error_capture {
    bool out_of_memory;
    char first_message[160];
} error_capture;

/* xmlC14NExecute calls this for every node of the document, so it must stay cheap: walk up
** from the node and stop at the first node that decides. Attributes and namespace nodes
** belong to the element they sit on (libxml2 passes it as parent; for a namespace node,
** `node` is really an xmlNs, whose type field lines up with xmlNode's). */
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

static int write_to_sink(void *context, const char *buffer, int length)
{
    stream *out = context;

    if (length <= 0)
        return 0;
    if (out->sink(out->sink_context, (const unsigned char *)buffer, (size_t)length) != 0) {
        out->sink_failed = true;
        return -1;
    }
    return length;
}

static void remember(error_capture *capture, const char *message)
{
    size_t n;

    if (capture->first_message[0] != '\0' || message == NULL)
        return;
    snprintf(capture->first_message, sizeof capture->first_message, "%s", message);
    n = strlen(capture->first_message);
    while (n > 0 && (capture->first_message[n - 1] == '\n' || capture->first_message[n - 1] == ' '))
        capture->first_message[--n] = '\0';
}

static void on_structured_error(void *context, xmlErrorPtr error)
{
    error_capture *capture = context;

    if (error == NULL)
        return;
    if (error->code == XML_ERR_NO_MEMORY)
        capture->out_of_memory = true;
    remember(capture, error->message);
}

static void on_generic_error(void *context, const char *format, ...)
{
    remember(context, format);
}

static bool is_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Splits a copy of the PrefixList in place into libxml2's NULL-terminated array. libxml2
** itself maps "#default" to the default namespace. Returns the number of prefixes, or -1 when
** there are too many. */
static int split_prefixes(char *copy, xmlChar *prefixes[WD_C14N_MAX_PREFIXES + 1])
{
    int count = 0;
    char *cursor = copy;

    for (;;) {
        while (is_xml_space(*cursor))
            cursor++;
        if (*cursor == '\0')
            break;
        if (count == WD_C14N_MAX_PREFIXES)
            return -1;
        prefixes[count++] = (xmlChar *)cursor;
        while (*cursor != '\0' && !is_xml_space(*cursor))
            cursor++;
        if (*cursor != '\0')
            *cursor++ = '\0';
    }
    prefixes[count] = NULL;
    return count;
}

int wd_c14n_subtree(xmlNode *apex, const xmlNode *excluded, const char *prefix_list,
                    wd_c14n_sink sink, void *sink_context, wd_reason refusal, wd_failure *failure)
{
    xmlChar *prefixes[WD_C14N_MAX_PREFIXES + 1];
    char *prefix_copy = NULL;
    int prefix_count = 0;
    node_set set = { apex, excluded };
    stream out = { sink, sink_context, false };
    error_capture capture = { false, "" };
    xmlOutputBufferPtr buffer = NULL;
    xmlStructuredErrorFunc saved_structured;
    void *saved_structured_context;
    xmlGenericErrorFunc saved_generic;
    void *saved_generic_context;
    int executed;
    int closed;
    int result = -1;

    if (apex == NULL || apex->type != XML_ELEMENT_NODE || apex->doc == NULL || sink == NULL)
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "canonicalization called without an element");

    if (prefix_list != NULL) {
        prefix_copy = strdup(prefix_list);
        if (prefix_copy == NULL) {
            wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory reading a PrefixList");
            goto done;
        }
        prefix_count = split_prefixes(prefix_copy, prefixes);
        if (prefix_count < 0) {
            wd_fail(failure, refusal, "InclusiveNamespaces PrefixList names more than %d prefixes",
                    WD_C14N_MAX_PREFIXES);
            goto done;
        }
    }

    buffer = xmlOutputBufferCreateIO(write_to_sink, NULL, &out, NULL);
    if (buffer == NULL) {
        wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory starting canonicalization");
        goto done;
    }

    /* libxml2's canonicalizer reports through the thread's error handlers, which print to
    ** stderr by default. Borrow them for this call only (they are per thread, so other threads
    ** are not affected) to keep hostile input quiet and to tell memory exhaustion apart. */
    saved_structured = xmlStructuredError;
    saved_structured_context = xmlStructuredErrorContext;
    saved_generic = xmlGenericError;
    saved_generic_context = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(&capture, on_structured_error);
    xmlSetGenericErrorFunc(&capture, on_generic_error);

    executed = xmlC14NExecute(apex->doc, is_visible, &set, XML_C14N_EXCLUSIVE_1_0,
                              prefix_count > 0 ? prefixes : NULL, 0, buffer);
    closed = xmlOutputBufferClose(buffer);
    buffer = NULL;

    xmlSetStructuredErrorFunc(saved_structured_context, saved_structured);
    xmlGenericError = saved_generic;
    xmlGenericErrorContext = saved_generic_context;

    if (out.sink_failed)
        goto done;
    if (capture.out_of_memory) {
        wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory during canonicalization");
        goto done;
    }
    if (executed < 0 || closed < 0) {
        wd_fail(failure, refusal, "the element cannot be canonicalized (exclusive c14n): %s",
                capture.first_message[0] != '\0' ? capture.first_message : "libxml2 refused it");
        goto done;
    }
    result = 0;

done:
    if (buffer != NULL)
        xmlOutputBufferClose(buffer);
    free(prefix_copy);
    return result;
}
