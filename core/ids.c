/*
** ids.c — the message's single ID namespace: every wsu:Id, Id, ID and xml:id value mapped to
** its element, with any repeated value rejected, so that a signature reference can only ever
** name one element. The table borrows the value strings from the document it was built over.
*/
#include "ids.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../include/warden.h"
#include "namespaces.h"

/* More IDs than any real message carries; beyond it the table is a cost an attacker chooses. */
#define WD_IDS_MAX 4096

typedef struct id_slot {
    const char *value;   /* NULL: free slot */
    size_t      length;
    uint64_t    hash;
    xmlNode    *element;
} id_slot;

struct wd_id_table {
    id_slot *slots;
    size_t   capacity;   /* a power of two, at least twice the entry count */
    size_t   count;
};

/* The attribute kinds that carry an ID, in the order wd_ids_of prefers them. */
typedef struct id_attribute_kind {
    const char *ns_uri;  /* NULL: unqualified */
    const char *local_name;
} id_attribute_kind;

static const id_attribute_kind id_kinds[] = {
    { WD_NS_WSU, "Id" },
    { NULL, "Id" },
    { NULL, "ID" },
    { WD_NS_XML, "id" },
};

static bool attribute_is_kind(const xmlAttr *attr, const id_attribute_kind *kind)
{
    if (attr->name == NULL || strcmp((const char *)attr->name, kind->local_name) != 0)
        return false;
    if (kind->ns_uri == NULL)
        return attr->ns == NULL;
    return attr->ns != NULL && attr->ns->href != NULL &&
           strcmp((const char *)attr->ns->href, kind->ns_uri) == 0;
}

static bool is_id_attribute(const xmlAttr *attr)
{
    for (size_t i = 0; i < sizeof id_kinds / sizeof id_kinds[0]; i++) {
        if (attribute_is_kind(attr, &id_kinds[i]))
            return true;
    }
    return false;
}

/* The attribute's value as one string inside the document; NULL when it is split over
** several nodes, which our parser never produces (entity references are refused). */
static const char *attribute_value(const xmlAttr *attr)
{
    if (attr->children == NULL)
        return "";
    if (attr->children->type != XML_TEXT_NODE || attr->children->next != NULL)
        return NULL;
    return attr->children->content != NULL ? (const char *)attr->children->content : "";
}

/* Document order without recursion: a hostile depth costs no stack. */
static xmlNode *next_element(xmlNode *node, const xmlNode *root)
{
    if (node->children != NULL) {
        for (xmlNode *child = node->children; child != NULL; child = child->next) {
            if (child->type == XML_ELEMENT_NODE)
                return child;
        }
    }
    while (node != NULL && node != root) {
        for (xmlNode *sibling = node->next; sibling != NULL; sibling = sibling->next) {
            if (sibling->type == XML_ELEMENT_NODE)
                return sibling;
        }
        node = node->parent;
    }
    return NULL;
}

static uint64_t hash_bytes(const char *bytes, size_t length)
{
    uint64_t hash = 14695981039346656037ULL; /* FNV-1a */
    for (size_t i = 0; i < length; i++) {
        hash ^= (unsigned char)bytes[i];
        hash *= 1099511628211ULL;
    }
    return hash;
}

static id_slot *lookup(const wd_id_table *table, const char *id, size_t length, uint64_t hash)
{
    size_t mask = table->capacity - 1;
    size_t i = (size_t)hash & mask;

    for (;;) {
        id_slot *slot = &table->slots[i];
        if (slot->value == NULL)
            return slot;
        if (slot->hash == hash && slot->length == length && memcmp(slot->value, id, length) == 0)
            return slot;
        i = (i + 1) & mask;
    }
}

/* Counted before the table is sized, so the table is allocated once and never grows. */
static bool count_ids(xmlNode *root, size_t *count, wd_failure *failure)
{
    *count = 0;
    for (xmlNode *element = root; element != NULL; element = next_element(element, root)) {
        for (const xmlAttr *attr = element->properties; attr != NULL; attr = attr->next) {
            if (!is_id_attribute(attr))
                continue;
            if (attribute_value(attr) == NULL) {
                wd_fail(failure, WD_REASON_MALFORMED, "ID attribute %s with entity content",
                        (const char *)attr->name);
                return false;
            }
            if (++*count > WD_IDS_MAX) {
                wd_fail(failure, WD_REASON_LIMIT_EXCEEDED, "more than %d ID attributes",
                        WD_IDS_MAX);
                return false;
            }
        }
    }
    return true;
}

int wd_ids_build(xmlDoc *document, wd_id_table **out, wd_failure *failure)
{
    wd_id_table *table = NULL;
    xmlNode *root;
    size_t count = 0;
    int rc = -1;

    if (out == NULL)
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "wd_ids_build: no output pointer");
    *out = NULL;
    if (document == NULL)
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "wd_ids_build: no document");
    root = xmlDocGetRootElement(document);

    if (root != NULL && !count_ids(root, &count, failure))
        return -1;

    table = calloc(1, sizeof *table);
    if (table == NULL) {
        wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory for the ID table");
        goto done;
    }
    table->capacity = 8;
    while (table->capacity < 2 * count)
        table->capacity *= 2;
    table->slots = calloc(table->capacity, sizeof *table->slots);
    if (table->slots == NULL) {
        wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory for the ID table");
        goto done;
    }

    for (xmlNode *element = root; element != NULL; element = next_element(element, root)) {
        for (const xmlAttr *attr = element->properties; attr != NULL; attr = attr->next) {
            const char *value;
            size_t length;
            uint64_t hash;
            id_slot *slot;

            if (!is_id_attribute(attr))
                continue;
            value = attribute_value(attr);
            length = strlen(value);
            hash = hash_bytes(value, length);
            slot = lookup(table, value, length, hash);
            if (slot->value != NULL) {
                wd_fail(failure, WD_REASON_DUPLICATE_ID, "duplicate ID \"%.128s\" (on %s and %s)",
                        value, (const char *)slot->element->name, (const char *)element->name);
                goto done;
            }
            slot->value = value;
            slot->length = length;
            slot->hash = hash;
            slot->element = element;
            table->count++;
        }
    }

    *out = table;
    table = NULL;
    rc = 0;

done:
    wd_ids_free(table);
    return rc;
}

/* An empty value is registered (two of them collide) but no reference can name it: "#" is
** not a same-document reference to anything. */
xmlNode *wd_ids_find(const wd_id_table *table, const char *id, size_t length)
{
    if (table == NULL || id == NULL || length == 0 || table->count == 0)
        return NULL;
    return lookup(table, id, length, hash_bytes(id, length))->element;
}

const char *wd_ids_of(const xmlNode *element)
{
    if (element == NULL || element->type != XML_ELEMENT_NODE)
        return NULL;
    for (size_t i = 0; i < sizeof id_kinds / sizeof id_kinds[0]; i++) {
        for (const xmlAttr *attr = element->properties; attr != NULL; attr = attr->next) {
            if (attribute_is_kind(attr, &id_kinds[i]))
                return attribute_value(attr);
        }
    }
    return NULL;
}

/* Removes the slot of element's value, if it is element's, and closes the gap the way linear
** probing needs (backward shift), so that later look-ups still find what follows it. */
static void remove_value(wd_id_table *table, const char *value, const xmlNode *element)
{
    size_t length = strlen(value);
    uint64_t hash = hash_bytes(value, length);
    size_t mask = table->capacity - 1;
    id_slot *slot = lookup(table, value, length, hash);

    if (slot->value == NULL || slot->element != element)
        return;
    size_t hole = (size_t)(slot - table->slots);
    size_t next = (hole + 1) & mask;
    while (table->slots[next].value != NULL) {
        size_t home = (size_t)table->slots[next].hash & mask;
        /* the entry at next may move into the hole when its home is not in (hole, next] */
        bool movable = hole <= next ? (home <= hole || home > next) : (home <= hole && home > next);
        if (movable) {
            table->slots[hole] = table->slots[next];
            hole = next;
        }
        next = (next + 1) & mask;
    }
    memset(&table->slots[hole], 0, sizeof table->slots[hole]);
    table->count--;
}

void wd_ids_forget(wd_id_table *table, xmlNode *subtree)
{
    if (table == NULL || subtree == NULL || subtree->type != XML_ELEMENT_NODE)
        return;
    for (xmlNode *element = subtree; element != NULL; element = next_element(element, subtree)) {
        for (const xmlAttr *attr = element->properties; attr != NULL; attr = attr->next) {
            const char *value = is_id_attribute(attr) ? attribute_value(attr) : NULL;
            if (value != NULL)
                remove_value(table, value, element);
        }
    }
}

/* Doubles the table (rehashing every entry) so that it stays at most half full. */
static int grow(wd_id_table *table, wd_failure *failure)
{
    size_t capacity = table->capacity * 2;
    id_slot *slots = calloc(capacity, sizeof *slots);
    if (slots == NULL)
        return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory for the ID table");
    id_slot *old = table->slots;
    size_t old_capacity = table->capacity;
    table->slots = slots;
    table->capacity = capacity;
    for (size_t i = 0; i < old_capacity; i++) {
        if (old[i].value != NULL)
            *lookup(table, old[i].value, old[i].length, old[i].hash) = old[i];
    }
    free(old);
    return 0;
}

int wd_ids_add(wd_id_table *table, xmlNode *subtree, wd_failure *failure)
{
    if (table == NULL || subtree == NULL || subtree->type != XML_ELEMENT_NODE)
        return 0;
    for (xmlNode *element = subtree; element != NULL; element = next_element(element, subtree)) {
        for (const xmlAttr *attr = element->properties; attr != NULL; attr = attr->next) {
            if (!is_id_attribute(attr))
                continue;
            const char *value = attribute_value(attr);
            if (value == NULL)
                return wd_fail(failure, WD_REASON_MALFORMED, "ID attribute %s with entity content",
                               (const char *)attr->name);
            if (table->count + 1 > WD_IDS_MAX)
                return wd_fail(failure, WD_REASON_LIMIT_EXCEEDED, "more than %d ID attributes", WD_IDS_MAX);
            if (2 * (table->count + 1) > table->capacity && grow(table, failure) != 0)
                return -1;
            size_t length = strlen(value);
            uint64_t hash = hash_bytes(value, length);
            id_slot *slot = lookup(table, value, length, hash);
            if (slot->value != NULL)
                return wd_fail(failure, WD_REASON_DUPLICATE_ID, "duplicate ID \"%.128s\" (on %s and %s)", value,
                               (const char *)slot->element->name, (const char *)element->name);
            slot->value = value;
            slot->length = length;
            slot->hash = hash;
            slot->element = element;
            table->count++;
        }
    }
    return 0;
}

void wd_ids_free(wd_id_table *table)
{
    if (table == NULL)
        return;
    free(table->slots);
    free(table);
}
