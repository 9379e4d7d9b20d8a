/*
** xml_text.h — reading identity-bearing text out of elements. The text of an element is the
** concatenation of all its text children; an element whose children include comments,
** processing instructions or elements is refused, which closes comment-injection tricks
** (`alice<!---->.evil`).
*/
#ifndef WD_XML_TEXT_H
#define WD_XML_TEXT_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

/* Returns a malloc'd NUL-terminated copy of the element's text (owned by the caller), with
** leading and trailing XML whitespace removed when trim is true. *length gets its length
** (may be NULL). Returns NULL when the element has non-text children or on allocation
** failure (*length is then set to SIZE_MAX for non-text children, 0 for allocation failure). */
char *wd_xml_text(const xmlNode *element, bool trim, size_t *length);

/* True when node is an element with this namespace URI (NULL = no namespace) and local name. */
bool wd_xml_is(const xmlNode *node, const char *ns_uri, const char *local_name);

/* The first element child of node, or NULL; and the next element sibling, or NULL. */
xmlNode *wd_xml_first_element(const xmlNode *node);
xmlNode *wd_xml_next_element(const xmlNode *node);

/* The value of an attribute by namespace (NULL = no namespace) and local name, without
** copying (points into the document), or NULL. */
const char *wd_xml_attr(const xmlNode *element, const char *ns_uri, const char *local_name);

#endif
