/*
** body_text.c — warden_message_body_text: the text of one element inside the verified Body,
** found by a local name (first match in document order) or by a '/'-separated path of
** "local" / "{ns}local" steps from the Body's children. It reads only below message->body,
** the Body element security processing verified, never anything else of the document.
*/
#include <libxml/tree.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../include/warden.h"
#include "invariant.h"
#include "message.h"
#include "xml_text.h"

#define MAX_STEPS 32
#define MAX_PATH_BYTES 1024

typedef struct path_step {
    const char *local;
    size_t      local_length;
    const char *ns;          /* the URI between the braces; NULL when the step names none */
    size_t      ns_length;   /* 0 with ns != NULL: "{}local", an element in no namespace */
} path_step;

/* Splits path into steps. A namespace URI may itself hold '/' ("{http://x/y}a"), so a
** slash only separates steps outside braces. Returns the number of steps, or 0 when the
** path is not well formed (empty step, unbalanced brace, more than MAX_STEPS steps). */
static size_t parse_path(const char *path, size_t length, path_step *steps)
{
    size_t count = 0;
    size_t at = 0;

    for (;;) {
        path_step step = { 0 };
        if (count == MAX_STEPS)
            return 0;
        if (at < length && path[at] == '{') {
            const char *close = memchr(path + at + 1, '}', length - at - 1);
            if (close == NULL)
                return 0;
            step.ns = path + at + 1;
            step.ns_length = (size_t)(close - step.ns);
            if (memchr(step.ns, '{', step.ns_length) != NULL)
                return 0;
            at = (size_t)(close - path) + 1;
        }
        step.local = path + at;
        while (at < length && path[at] != '/') {
            if (path[at] == '{' || path[at] == '}')
                return 0;
            at++;
        }
        step.local_length = (size_t)(path + at - step.local);
        if (step.local_length == 0)
            return 0;
        WD_ASSERT(count < MAX_STEPS);
        steps[count++] = step;
        if (at == length)
            return count;
        at++; /* the '/' */
        if (at == length)
            return 0; /* a trailing slash leaves an empty step */
    }
}

static bool step_matches(const xmlNode *node, const path_step *step)
{
    if (node->type != XML_ELEMENT_NODE || node->name == NULL)
        return false;
    const char *name = (const char *)node->name;
    if (strlen(name) != step->local_length || memcmp(name, step->local, step->local_length) != 0)
        return false;
    if (step->ns == NULL)
        return true;
    const char *href = node->ns != NULL && node->ns->href != NULL ? (const char *)node->ns->href : "";
    return strlen(href) == step->ns_length && memcmp(href, step->ns, step->ns_length) == 0;
}

/* The first element in document order strictly below root that matches step. */
static const xmlNode *find_descendant(const xmlNode *root, const path_step *step)
{
    const xmlNode *node = root->children;
    while (node != NULL) {
        if (step_matches(node, step))
            return node;
        if (node->type == XML_ELEMENT_NODE && node->children != NULL) {
            node = node->children;
            continue;
        }
        while (node != NULL && node->next == NULL) {
            node = node->parent;
            if (node == root)
                return NULL;
        }
        if (node != NULL)
            node = node->next;
    }
    return NULL;
}

/* The first element in document order reached from parent's children through every step
** (trying later siblings when an earlier match has no way on). Recursion depth is at most
** MAX_STEPS. */
static const xmlNode *find_path(const xmlNode *parent, const path_step *steps, size_t count)
{
    for (const xmlNode *child = parent->children; child != NULL; child = child->next) {
        if (!step_matches(child, &steps[0]))
            continue;
        if (count == 1)
            return child;
        const xmlNode *found = find_path(child, steps + 1, count - 1);
        if (found != NULL)
            return found;
    }
    return NULL;
}

int warden_message_body_text(const warden_message *message, const char *path, char *buffer,
                             size_t capacity, size_t *length)
{
    path_step steps[MAX_STEPS];
    const xmlNode *element;
    size_t path_length, count, text_length = 0;
    char *text;

    if (message == NULL || path == NULL || length == NULL || (buffer == NULL && capacity > 0))
        return WARDEN_E_INVALID_ARG;
    for (path_length = 0; path_length <= MAX_PATH_BYTES && path[path_length] != '\0'; path_length++)
        ;
    if (path_length == 0 || path_length > MAX_PATH_BYTES)
        return WARDEN_E_INVALID_ARG;
    count = parse_path(path, path_length, steps);
    if (count == 0)
        return WARDEN_E_INVALID_ARG;
    if (message->body == NULL)
        return WARDEN_E_NOT_APPLICABLE;

    element = count == 1 ? find_descendant(message->body, &steps[0])
                         : find_path(message->body, steps, count);
    if (element == NULL)
        return WARDEN_E_NOT_APPLICABLE;
    text = wd_xml_text(element, false, &text_length);
    if (text == NULL)
        return text_length == 0 ? WARDEN_E_NOMEM : WARDEN_E_NOT_APPLICABLE;

    if (capacity > 0) {
        size_t copied = text_length < capacity ? text_length : capacity - 1;
        memcpy(buffer, text, copied);
        buffer[copied] = '\0';
    }
    *length = text_length;
    free(text);
    return WARDEN_OK;
}
