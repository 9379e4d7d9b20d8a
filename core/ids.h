/*
** ids.h — one ID table for the whole message. Every wsu:Id, unqualified Id, unqualified ID
** and xml:id attribute on every element is registered; any value seen twice, whatever
** attribute carried it, is "duplicate-id" (never "keep the first"). Signature references are
** resolved only through this table.
*/
#ifndef WD_IDS_H
#define WD_IDS_H

#include <libxml/tree.h>
#include <stddef.h>

#include "failure.h"

typedef struct wd_id_table wd_id_table;

/* Builds the table over document's elements. *out is owned by the caller (wd_ids_free).
** Rejections: duplicate-id; limit: more than 4096 IDs is limit-exceeded. */
int wd_ids_build(xmlDoc *document, wd_id_table **out, wd_failure *failure);

/* The element carrying this ID value (length bytes, not NUL-terminated), or NULL. */
xmlNode *wd_ids_find(const wd_id_table *table, const char *id, size_t length);

/* The ID value of element (the first recognised ID attribute), or NULL. Points into the
** document. */
const char *wd_ids_of(const xmlNode *element);

/* Decryption changes the document (decrypt.c): the elements of a subtree leaving it are
** forgotten, and the IDs of a subtree entering it registered, with the same rules as
** wd_ids_build (duplicate-id, more than 4096 IDs in all: limit-exceeded, malformed). On
** failure the table holds some of the new subtree's IDs; the message is rejected anyway. */
void wd_ids_forget(wd_id_table *table, xmlNode *subtree);
int wd_ids_add(wd_id_table *table, xmlNode *subtree, wd_failure *failure);

void wd_ids_free(wd_id_table *table);

#endif
