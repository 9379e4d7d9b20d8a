/*
** c14n.c — exclusive canonicalization (W3C Exclusive XML Canonicalization 1.0, without
** comments, with an InclusiveNamespaces PrefixList) of one element's subtree, walking only
** that subtree of the libxml2 tree and streaming into a sink.
**
** The rules are those of libxml2's xmlExcC14NProcessNamespacesAxis and its printers, which
** the verifier used before and which xmlsec1 and lxml use: its bytes are what signers produce,
** so they are reproduced exactly, down to its quirks (namespace URIs written as they are,
** relative namespace URIs refused, xmlns="" only where an output ancestor rendered a
** non-empty default). One difference is deliberate: libxml2 refuses a relative namespace URI
** anywhere in the document, this walk only in the apex's subtree and on its ancestors, the
** only declarations that can reach the canonical bytes. In short, for each element E of the subtree:
**   - candidates: each PrefixList prefix in scope at E, E's own namespace (the default one
**     when E has no prefix), the namespace of each prefixed attribute; the xml namespace never;
**   - a candidate is rendered unless the nearest rendered declaration of its prefix by an
**     output ancestor (or by E itself, earlier) has the same URI; a default namespace that is
**     empty counts as rendered when nothing was rendered for it;
**   - every candidate, rendered or not, becomes "rendered" for E's descendants;
**   - namespaces are sorted by prefix (default first), attributes by (namespace URI, local
**     name) with unqualified attributes first.
**
** Two namespace stacks carry the state: `scope` (the declarations in scope: the apex's
** ancestors' and those of the open elements) and `rendered` (what output ancestors rendered).
** Both answer "the topmost entry for this prefix" in O(1) through a small hash table whose
** slots remember, per prefix, the index of its topmost entry; each entry remembers the entry
** of the same prefix it shadows, so popping an element's entries restores the table. The walk
** is iterative; buffers start on the C stack and move to the heap only when a document needs
** more, so a typical Reference costs no allocation at all.
*/
#include "c14n.h"

#include <assert.h>
#include <libxml/uri.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../include/warden.h"

#define OUTPUT_BUFFER 8192
#define INLINE_ENTRIES 128
#define INLINE_SLOTS 256    /* a power of two, at least twice INLINE_ENTRIES' distinct prefixes */
#define INLINE_FRAMES 64
#define INLINE_SCRATCH 64

static const char xml_namespace[] = "http://www.w3.org/XML/1998/namespace";

/* A growable array that starts in storage the caller provides. */
typedef struct vector {
    void  *items;
    size_t count;
    size_t capacity;
    size_t item_size;
    void  *inline_items; /* items == inline_items until the first growth */
} vector;

typedef struct ns_entry {
    const xmlNs *ns;
    uint32_t     hash;
    int32_t      shadowed; /* index of the entry of the same prefix below this one, or -1 */
} ns_entry;

typedef struct ns_slot {
    const xmlChar *prefix; /* NULL: free slot; "" for the default namespace */
    uint32_t       hash;
    int32_t        top;    /* index of the topmost entry for this prefix, or -1 */
} ns_slot;

typedef struct ns_stack {
    vector   entries;      /* of ns_entry */
    ns_slot *slots;
    size_t   slot_count;   /* a power of two */
    size_t   slots_used;
    ns_slot *inline_slots;
    const xmlChar *memo_prefix; /* the prefix string last looked up by ns_lookup_of, and its */
    ns_slot       *memo_slot;   /* slot: elements mostly repeat their parent's xmlNs */
} ns_stack;

typedef struct frame {
    const xmlNode *element;
    size_t         scope_mark;
    size_t         rendered_mark;
} frame;

typedef struct prefix_ref {
    const xmlChar *text;   /* NULL for #default */
    size_t         length;
} prefix_ref;

typedef struct c14n {
    wd_c14n_sink   sink;
    void          *sink_context;
    bool           sink_failed;
    size_t         limit;      /* SIZE_MAX: unbounded */
    size_t         spent;
    unsigned char  out[OUTPUT_BUFFER];
    size_t         out_length;
    ns_stack       scope;
    ns_stack       rendered;
    vector         frames;     /* of frame */
    vector         namespaces; /* of const xmlNs *: one element's namespaces to render */
    vector         attributes; /* of const xmlAttr *: one element's attributes */
    prefix_ref     prefixes[WD_C14N_MAX_PREFIXES];
    wd_c14n_memo  *memo;       /* the caller's, or own_memo */
    wd_c14n_memo   own_memo;
    size_t         prefix_count;
    wd_reason      refusal;
    wd_failure    *failure;
} c14n;

/* ---- small helpers ----------------------------------------------------------------- */

static void vector_init(vector *v, void *storage, size_t capacity, size_t item_size)
{
    v->items = storage;
    v->inline_items = storage;
    v->count = 0;
    v->capacity = capacity;
    v->item_size = item_size;
}

static void vector_free(vector *v)
{
    if (v->items != v->inline_items)
        free(v->items);
}

/* Room for one more item; false on allocation failure. */
static bool vector_reserve(vector *v)
{
    if (v->count < v->capacity)
        return true;
    if (v->capacity > SIZE_MAX / 2 / v->item_size)
        return false;
    size_t capacity = v->capacity * 2;
    void *grown;
    if (v->items == v->inline_items) {
        grown = malloc(capacity * v->item_size);
        if (grown != NULL)
            memcpy(grown, v->items, v->count * v->item_size);
    } else {
        grown = realloc(v->items, capacity * v->item_size);
    }
    if (grown == NULL)
        return false;
    v->items = grown;
    v->capacity = capacity;
    return true;
}

static const xmlChar *prefix_of(const xmlNs *ns)
{
    return ns->prefix != NULL ? ns->prefix : (const xmlChar *)"";
}

static const xmlChar *href_of(const xmlNs *ns)
{
    return ns->href != NULL ? ns->href : (const xmlChar *)"";
}

static bool is_xml_ns(const xmlNs *ns)
{
    return ns != NULL && ns->prefix != NULL && strcmp((const char *)ns->prefix, "xml") == 0 &&
           ns->href != NULL && strcmp((const char *)ns->href, xml_namespace) == 0;
}

static uint32_t hash_prefix(const xmlChar *prefix, size_t length)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < length; i++)
        h = (h ^ prefix[i]) * 16777619u;
    return h;
}

static int fail_nomem(c14n *c)
{
    return wd_fail_internal(c->failure, WARDEN_E_NOMEM, "out of memory during canonicalization");
}

/* ---- namespace stacks -------------------------------------------------------------- */

static void ns_stack_init(ns_stack *s, ns_entry *entries, ns_slot *slots)
{
    vector_init(&s->entries, entries, INLINE_ENTRIES, sizeof *entries);
    memset(slots, 0, INLINE_SLOTS * sizeof *slots);
    s->slots = slots;
    s->inline_slots = slots;
    s->slot_count = INLINE_SLOTS;
    s->slots_used = 0;
    s->memo_prefix = NULL;
    s->memo_slot = NULL;
}

static void ns_stack_free(ns_stack *s)
{
    vector_free(&s->entries);
    if (s->slots != s->inline_slots)
        free(s->slots);
}

static ns_slot *ns_slot_find(const ns_stack *s, const xmlChar *prefix, size_t length, uint32_t hash)
{
    size_t mask = s->slot_count - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        ns_slot *slot = &s->slots[i];
        if (slot->prefix == NULL)
            return slot;
        if (slot->hash == hash && strncmp((const char *)slot->prefix, (const char *)prefix, length) == 0 &&
            slot->prefix[length] == '\0')
            return slot;
    }
}

/* Doubles the table when it is half full (so that probing always finds a free slot). */
static bool ns_slots_grow(ns_stack *s)
{
    size_t count = s->slot_count * 2;
    ns_slot *old = s->slots;
    size_t old_count = s->slot_count;
    ns_slot *slots;

    if (count > SIZE_MAX / sizeof *slots)
        return false;
    slots = calloc(count, sizeof *slots);
    if (slots == NULL)
        return false;
    s->slots = slots;
    s->slot_count = count;
    s->memo_prefix = NULL; /* its slot moved */
    s->memo_slot = NULL;
    for (size_t i = 0; i < old_count; i++) {
        if (old[i].prefix != NULL) {
            size_t length = strlen((const char *)old[i].prefix);
            *ns_slot_find(s, old[i].prefix, length, old[i].hash) = old[i];
        }
    }
    if (old != s->inline_slots)
        free(old);
    return true;
}

/* The topmost entry for prefix (length bytes, "" for the default namespace), or NULL. */
static const xmlNs *ns_lookup(const ns_stack *s, const xmlChar *prefix, size_t length)
{
    const ns_slot *slot = ns_slot_find(s, prefix, length, hash_prefix(prefix, length));
    if (slot->prefix == NULL || slot->top < 0)
        return NULL;
    return ((const ns_entry *)s->entries.items)[slot->top].ns;
}

/* ns_lookup for the prefix of a namespace node; a prefix string seen last time (the same
** pointer, so the same text) skips hashing and probing. */
static const xmlNs *ns_lookup_of(ns_stack *s, const xmlNs *ns)
{
    const xmlChar *prefix = prefix_of(ns);
    ns_slot *slot;

    if (prefix == s->memo_prefix) {
        slot = s->memo_slot;
    } else {
        size_t length = strlen((const char *)prefix);
        slot = ns_slot_find(s, prefix, length, hash_prefix(prefix, length));
        if (slot->prefix == NULL)
            return NULL;
        s->memo_prefix = prefix;
        s->memo_slot = slot;
    }
    assert(strcmp((const char *)slot->prefix, (const char *)prefix) == 0);
    return slot->top >= 0 ? ((const ns_entry *)s->entries.items)[slot->top].ns : NULL;
}

static bool ns_push(ns_stack *s, const xmlNs *ns)
{
    const xmlChar *prefix = prefix_of(ns);
    size_t length = strlen((const char *)prefix);
    uint32_t hash = hash_prefix(prefix, length);
    ns_slot *slot;
    ns_entry *entry;

    if (s->entries.count >= INT32_MAX || !vector_reserve(&s->entries))
        return false;
    slot = ns_slot_find(s, prefix, length, hash);
    if (slot->prefix == NULL) {
        if ((s->slots_used + 1) * 2 > s->slot_count) {
            if (!ns_slots_grow(s))
                return false;
            slot = ns_slot_find(s, prefix, length, hash);
        }
        slot->prefix = prefix;
        slot->hash = hash;
        slot->top = -1;
        s->slots_used++;
    }
    entry = &((ns_entry *)s->entries.items)[s->entries.count];
    entry->ns = ns;
    entry->hash = hash;
    entry->shadowed = slot->top;
    slot->top = (int32_t)s->entries.count;
    s->entries.count++;
    return true;
}

static void ns_pop_to(ns_stack *s, size_t mark)
{
    ns_entry *entries = s->entries.items;
    while (s->entries.count > mark) {
        const ns_entry *entry = &entries[--s->entries.count];
        const xmlChar *prefix = prefix_of(entry->ns);
        ns_slot *slot = ns_slot_find(s, prefix, strlen((const char *)prefix), entry->hash);
        assert(slot->prefix != NULL && slot->top == (int32_t)s->entries.count);
        slot->top = entry->shadowed;
    }
}

/* libxml2's "already rendered" test: the nearest rendered declaration of ns's prefix has
** ns's URI; with none, only the empty default namespace counts as rendered. */
static bool is_rendered(c14n *c, const xmlNs *ns)
{
    const xmlNs *top = ns_lookup_of(&c->rendered, ns);
    if (top != NULL)
        return top == ns || strcmp((const char *)href_of(top), (const char *)href_of(ns)) == 0;
    return prefix_of(ns)[0] == '\0' && href_of(ns)[0] == '\0';
}

/* ---- output ------------------------------------------------------------------------ */

static int flush(c14n *c)
{
    if (c->out_length == 0)
        return 0;
    if (c->sink(c->sink_context, c->out, c->out_length) != 0) {
        c->sink_failed = true;
        return -1;
    }
    c->out_length = 0;
    return 0;
}

/* Charges cost against the budget; the one place that can say limit-exceeded. */
static int charge(c14n *c, size_t cost)
{
    if (cost > c->limit - c->spent) {
        c->spent = c->limit;
        return wd_fail(c->failure, WD_REASON_LIMIT_EXCEEDED,
                       "canonicalization would exceed this message's budget (%zu bytes of canonical work)", c->limit);
    }
    c->spent += cost;
    return 0;
}

/* put's way when the bytes do not fit the buffer or the budget is short. */
static int put_slow(c14n *c, const void *data, size_t length)
{
    if (charge(c, length) != 0)
        return -1;
    if (length > OUTPUT_BUFFER - c->out_length) {
        if (flush(c) != 0)
            return -1;
        if (length > OUTPUT_BUFFER) {
            if (c->sink(c->sink_context, data, length) != 0) {
                c->sink_failed = true;
                return -1;
            }
            return 0;
        }
    }
    memcpy(c->out + c->out_length, data, length);
    c->out_length += length;
    return 0;
}

/* Every canonical byte goes through here; most pieces are a few bytes, so the common case
** (room in the buffer and in the budget) is kept small enough to inline. */
static inline int put(c14n *c, const void *data, size_t length)
{
    if (length <= OUTPUT_BUFFER - c->out_length && length <= c->limit - c->spent) {
        c->spent += length;
        memcpy(c->out + c->out_length, data, length);
        c->out_length += length;
        return 0;
    }
    return put_slow(c, data, length);
}

static int put_string(c14n *c, const xmlChar *text)
{
    return put(c, text, strlen((const char *)text));
}

enum { ESCAPE_TEXT = 1, ESCAPE_ATTRIBUTE = 2, ESCAPE_PI = 4 };

/* Which bytes each kind of content replaces by a reference (a table: this is asked of every
** byte of text). */
static const unsigned char escape_classes[256] = {
    ['&'] = ESCAPE_TEXT | ESCAPE_ATTRIBUTE,
    ['<'] = ESCAPE_TEXT | ESCAPE_ATTRIBUTE,
    ['>'] = ESCAPE_TEXT,
    ['"'] = ESCAPE_ATTRIBUTE,
    ['\t'] = ESCAPE_ATTRIBUTE,
    ['\n'] = ESCAPE_ATTRIBUTE,
    ['\r'] = ESCAPE_TEXT | ESCAPE_ATTRIBUTE | ESCAPE_PI,
};

static const char *escape_of(unsigned char byte)
{
    switch (byte) {
    case '&':  return "&amp;";
    case '<':  return "&lt;";
    case '>':  return "&gt;";
    case '"':  return "&quot;";
    case '\t': return "&#x9;";
    case '\n': return "&#xA;";
    default:   return "&#xD;";
    }
}

static int put_escaped(c14n *c, const xmlChar *text, unsigned char mode)
{
    const xmlChar *run = text;
    const xmlChar *p = text;

    for (;; p++) {
        unsigned char byte = *p;
        if (byte == '\0')
            break;
        if ((escape_classes[byte] & mode) == 0)
            continue;
        if (p > run && put(c, run, (size_t)(p - run)) != 0)
            return -1;
        const char *reference = escape_of(byte);
        if (put(c, reference, strlen(reference)) != 0)
            return -1;
        run = p + 1;
    }
    return p > run ? put(c, run, (size_t)(p - run)) : 0;
}

static int put_qname(c14n *c, const xmlNs *ns, const xmlChar *name)
{
    if (ns != NULL && ns->prefix != NULL && ns->prefix[0] != '\0') {
        if (put_string(c, ns->prefix) != 0 || put(c, ":", 1) != 0)
            return -1;
    }
    return put_string(c, name);
}

/* ---- the namespace axis ------------------------------------------------------------ */

/* libxml2 refuses documents with relative namespace URIs: a URI must parse and have a
** scheme. Parsing costs an allocation, so URIs already found good in this call are
** remembered (serializers repeat the same few declarations on element after element). */
static int check_namespace_uri(c14n *c, const xmlNs *ns)
{
    const char *href = (const char *)href_of(ns);
    size_t length = strlen(href);
    uint32_t slot = hash_prefix((const xmlChar *)href, length) % WD_C14N_MEMO_SLOTS;
    const char **good_uris = c->memo->good_uris;
    bool ok;

    if (href[0] == '\0' || (good_uris[slot] != NULL && strcmp(good_uris[slot], href) == 0))
        return 0;
    if (charge(c, WD_C14N_URI_PARSE_COST) != 0)
        return -1;
    xmlURIPtr uri = xmlParseURI(href);
    if (uri == NULL)
        return wd_fail(c->failure, c->refusal, "namespace URI \"%.100s\" cannot be canonicalized (exclusive c14n)", href);
    ok = uri->scheme != NULL && uri->scheme[0] != '\0';
    xmlFreeURI(uri);
    if (!ok)
        return wd_fail(c->failure, c->refusal, "relative namespace URI \"%.100s\" cannot be canonicalized (exclusive c14n)",
                       href);
    good_uris[slot] = href;
    return 0;
}

/* A namespace declaration walked: charged about its size in the source, its URI checked. */
static int walk_declaration(c14n *c, const xmlNs *ns)
{
    size_t cost = strlen((const char *)prefix_of(ns)) + strlen((const char *)href_of(ns)) + 10;
    if (charge(c, cost) != 0)
        return -1;
    return check_namespace_uri(c, ns);
}

/* One candidate namespace of the element being opened: rendered unless already rendered,
** and in every case remembered as rendered for the element's descendants. One already
** rendered is not pushed again: the entry that made it so answers every later question
** (same prefix, same URI; or, for the empty default, nothing) exactly as the copy would. */
static int consider(c14n *c, const xmlNs *ns)
{
    if (is_rendered(c, ns))
        return 0;
    if (!ns_push(&c->rendered, ns) || !vector_reserve(&c->namespaces))
        return fail_nomem(c);
    ((const xmlNs **)c->namespaces.items)[c->namespaces.count++] = ns;
    return 0;
}

static int compare_namespaces(const void *a, const void *b)
{
    const xmlNs *x = *(const xmlNs *const *)a;
    const xmlNs *y = *(const xmlNs *const *)b;
    return strcmp((const char *)prefix_of(x), (const char *)prefix_of(y));
}

/* libxml2's xmlC14NAttrsCompare: unqualified attributes first, then by namespace URI, then by
** local name. */
static int compare_attributes(const void *a, const void *b)
{
    const xmlAttr *x = *(const xmlAttr *const *)a;
    const xmlAttr *y = *(const xmlAttr *const *)b;
    int order;

    if (x->ns == y->ns)
        return strcmp((const char *)x->name, (const char *)y->name);
    if (x->ns == NULL)
        return -1;
    if (y->ns == NULL)
        return 1;
    if (x->ns->prefix == NULL)
        return -1;
    if (y->ns->prefix == NULL)
        return 1;
    order = strcmp((const char *)href_of(x->ns), (const char *)href_of(y->ns));
    return order != 0 ? order : strcmp((const char *)x->name, (const char *)y->name);
}

/* Small lists (the usual case) by insertion, large ones by qsort; no two keys are equal. */
static void sort_pointers(void *items, size_t count, int (*compare)(const void *, const void *))
{
    const void **p = items;
    if (count > 16) {
        qsort(items, count, sizeof *p, compare);
        return;
    }
    for (size_t i = 1; i < count; i++) {
        const void *item = p[i];
        size_t j = i;
        while (j > 0 && compare(&p[j - 1], &item) > 0) {
            p[j] = p[j - 1];
            j--;
        }
        p[j] = item;
    }
}

static int put_namespace_axis(c14n *c, const xmlNode *element)
{
    bool has_default = false;          /* a default-namespace candidate was considered */
    bool uses_empty_default = false;   /* the element has no namespace */
    bool default_in_list = false;      /* #default is in the PrefixList */
    const xmlNs **namespaces;

    c->namespaces.count = 0;
    for (size_t i = 0; i < c->prefix_count; i++) {
        const prefix_ref *prefix = &c->prefixes[i];
        const xmlNs *ns;
        if (prefix->text == NULL) {
            default_in_list = true;
            ns = ns_lookup(&c->scope, (const xmlChar *)"", 0);
        } else if (prefix->length == 3 && memcmp(prefix->text, "xml", 3) == 0) {
            continue; /* the xml namespace is never rendered */
        } else {
            ns = ns_lookup(&c->scope, prefix->text, prefix->length);
        }
        if (ns == NULL || is_xml_ns(ns))
            continue;
        if (consider(c, ns) != 0)
            return -1;
        if (prefix_of(ns)[0] == '\0')
            has_default = true;
    }

    const xmlNs *own = element->ns;
    if (own == NULL) {
        own = ns_lookup(&c->scope, (const xmlChar *)"", 0);
        uses_empty_default = true;
    }
    if (own != NULL && !is_xml_ns(own)) {
        if (consider(c, own) != 0)
            return -1;
        if (prefix_of(own)[0] == '\0')
            has_default = true;
    }

    for (const xmlAttr *attr = element->properties; attr != NULL; attr = attr->next) {
        if (attr->ns == NULL || is_xml_ns(attr->ns))
            continue;
        if (consider(c, attr->ns) != 0)
            return -1;
        if (prefix_of(attr->ns)[0] == '\0')
            has_default = true;
    }

    /* xmlns="" when the element is in no namespace (or #default asks for it) while the
    ** nearest rendered default namespace is not empty. */
    if (!has_default && (uses_empty_default || default_in_list)) {
        const xmlNs *top = ns_lookup(&c->rendered, (const xmlChar *)"", 0);
        if (top != NULL && href_of(top)[0] != '\0' && put(c, " xmlns=\"\"", 9) != 0)
            return -1;
    }

    namespaces = c->namespaces.items;
    sort_pointers(namespaces, c->namespaces.count, compare_namespaces);
    for (size_t i = 0; i < c->namespaces.count; i++) {
        const xmlNs *ns = namespaces[i];
        if (ns->prefix != NULL && ns->prefix[0] != '\0') {
            if (put(c, " xmlns:", 7) != 0 || put_string(c, ns->prefix) != 0 || put(c, "=\"", 2) != 0)
                return -1;
        } else if (put(c, " xmlns=\"", 8) != 0) {
            return -1;
        }
        /* Written as is, like libxml2 does: a URI that parsed holds no '"', '<' or whitespace. */
        if (put_string(c, href_of(ns)) != 0 || put(c, "\"", 1) != 0)
            return -1;
    }
    return 0;
}

/* ---- elements ----------------------------------------------------------------------- */

static int put_attribute_value(c14n *c, const xmlAttr *attr)
{
    for (const xmlNode *child = attr->children; child != NULL; child = child->next) {
        if (child->type != XML_TEXT_NODE)
            return wd_fail(c->failure, c->refusal, "attribute %.60s holds an entity reference (exclusive c14n)",
                           (const char *)attr->name);
        if (child->content != NULL && put_escaped(c, child->content, ESCAPE_ATTRIBUTE) != 0)
            return -1;
    }
    return 0;
}

static int put_attribute_axis(c14n *c, const xmlNode *element)
{
    const xmlAttr **attributes;

    c->attributes.count = 0;
    for (const xmlAttr *attr = element->properties; attr != NULL; attr = attr->next) {
        if (!vector_reserve(&c->attributes))
            return fail_nomem(c);
        ((const xmlAttr **)c->attributes.items)[c->attributes.count++] = attr;
    }
    attributes = c->attributes.items;
    sort_pointers(attributes, c->attributes.count, compare_attributes);
    for (size_t i = 0; i < c->attributes.count; i++) {
        const xmlAttr *attr = attributes[i];
        if (put(c, " ", 1) != 0 || put_qname(c, attr->ns, attr->name) != 0 || put(c, "=\"", 2) != 0 ||
            put_attribute_value(c, attr) != 0 || put(c, "\"", 1) != 0)
            return -1;
    }
    return 0;
}

static int open_element(c14n *c, const xmlNode *element)
{
    frame *f;

    if (!vector_reserve(&c->frames))
        return fail_nomem(c);
    f = &((frame *)c->frames.items)[c->frames.count++];
    f->element = element;
    f->scope_mark = c->scope.entries.count;
    f->rendered_mark = c->rendered.entries.count;

    for (const xmlNs *ns = element->nsDef; ns != NULL; ns = ns->next) {
        if (walk_declaration(c, ns) != 0)
            return -1;
        if (!ns_push(&c->scope, ns))
            return fail_nomem(c);
    }
    if (put(c, "<", 1) != 0 || put_qname(c, element->ns, element->name) != 0)
        return -1;
    if (put_namespace_axis(c, element) != 0 || put_attribute_axis(c, element) != 0)
        return -1;
    return put(c, ">", 1);
}

static int close_element(c14n *c, const xmlNode *element)
{
    const frame *f;

    assert(c->frames.count > 0);
    f = &((const frame *)c->frames.items)[--c->frames.count];
    assert(f->element == element);
    ns_pop_to(&c->scope, f->scope_mark);
    ns_pop_to(&c->rendered, f->rendered_mark);
    if (put(c, "</", 2) != 0 || put_qname(c, element->ns, element->name) != 0)
        return -1;
    return put(c, ">", 1);
}

/* Everything that is not an element: text (CDATA as text), processing instructions; comments
** and DTD leftovers produce nothing; entity references cannot be canonicalized. */
static int put_leaf(c14n *c, const xmlNode *node)
{
    switch (node->type) {
    case XML_TEXT_NODE:
    case XML_CDATA_SECTION_NODE:
        return node->content != NULL ? put_escaped(c, node->content, ESCAPE_TEXT) : 0;
    case XML_PI_NODE:
        if (put(c, "<?", 2) != 0 || put_string(c, node->name) != 0)
            return -1;
        if (node->content != NULL && node->content[0] != '\0') {
            if (put(c, " ", 1) != 0 || put_escaped(c, node->content, ESCAPE_PI) != 0)
                return -1;
        }
        return put(c, "?>", 2);
    case XML_COMMENT_NODE:
    case XML_DOCUMENT_TYPE_NODE:
    case XML_NOTATION_NODE:
    case XML_DTD_NODE:
    case XML_ELEMENT_DECL:
    case XML_ATTRIBUTE_DECL:
    case XML_ENTITY_DECL:
    case XML_XINCLUDE_START:
    case XML_XINCLUDE_END:
        return charge(c, WD_C14N_SILENT_NODE_COST);
    default:
        return wd_fail(c->failure, c->refusal, "the element holds a node of type %d that cannot be canonicalized",
                       (int)node->type);
    }
}

/* ---- setup ------------------------------------------------------------------------- */

static bool is_xml_space(char byte)
{
    return byte == ' ' || byte == '\t' || byte == '\r' || byte == '\n';
}

static int read_prefix_list(c14n *c, const char *list)
{
    c->prefix_count = 0;
    if (list == NULL)
        return 0;
    for (const char *p = list;;) {
        while (is_xml_space(*p))
            p++;
        if (*p == '\0')
            return 0;
        const char *start = p;
        while (*p != '\0' && !is_xml_space(*p))
            p++;
        if (c->prefix_count == WD_C14N_MAX_PREFIXES)
            return wd_fail(c->failure, c->refusal, "InclusiveNamespaces PrefixList names more than %d prefixes",
                           WD_C14N_MAX_PREFIXES);
        prefix_ref *prefix = &c->prefixes[c->prefix_count++];
        size_t length = (size_t)(p - start);
        bool is_default = length == 8 && memcmp(start, "#default", 8) == 0;
        prefix->text = is_default ? NULL : (const xmlChar *)start;
        prefix->length = is_default ? 0 : length;
    }
}

/* The declarations in scope at the apex from its ancestors: nearest first, so a prefix
** already bound is shadowed and skipped. */
static int seed_scope(c14n *c, const xmlNode *apex)
{
    for (const xmlNode *a = apex->parent; a != NULL && a->type == XML_ELEMENT_NODE; a = a->parent) {
        for (const xmlNs *ns = a->nsDef; ns != NULL; ns = ns->next) {
            const xmlChar *prefix = prefix_of(ns);
            if (ns_lookup(&c->scope, prefix, strlen((const char *)prefix)) != NULL)
                continue;
            if (walk_declaration(c, ns) != 0)
                return -1;
            if (!ns_push(&c->scope, ns))
                return fail_nomem(c);
        }
    }
    return 0;
}

/* The left-out subtree produces nothing, but libxml2 walks it and refuses a relative
** namespace URI there too. */
static int check_left_out(c14n *c, const xmlNode *excluded)
{
    const xmlNode *node = excluded;

    for (;;) {
        if (node->type == XML_ELEMENT_NODE) {
            for (const xmlNs *ns = node->nsDef; ns != NULL; ns = ns->next) {
                if (walk_declaration(c, ns) != 0)
                    return -1;
            }
            if (node->children != NULL) {
                node = node->children;
                continue;
            }
        }
        while (node != excluded && node->next == NULL)
            node = node->parent;
        if (node == excluded)
            return 0;
        node = node->next;
    }
}

/* Document order over apex's subtree, skipping excluded's, without recursion. */
static int walk(c14n *c, const xmlNode *apex, const xmlNode *excluded)
{
    const xmlNode *node = apex;

    for (;;) {
        if (node->type == XML_ELEMENT_NODE) {
            if (node == excluded) {
                if (charge(c, WD_C14N_SILENT_NODE_COST) != 0 || check_left_out(c, node) != 0)
                    return -1;
            } else {
                if (open_element(c, node) != 0)
                    return -1;
                if (node->children != NULL) {
                    node = node->children;
                    continue;
                }
                if (close_element(c, node) != 0)
                    return -1;
            }
        } else if (put_leaf(c, node) != 0) {
            return -1;
        }
        while (node != apex && node->next == NULL) {
            node = node->parent;
            if (close_element(c, node) != 0)
                return -1;
        }
        if (node == apex)
            break;
        node = node->next;
    }
    assert(c->frames.count == 0);
    return 0;
}

static int c14n_subtree(xmlNode *apex, const xmlNode *excluded, const char *prefix_list,
                        wd_c14n_sink sink, void *sink_context, size_t *budget, wd_c14n_memo *memo,
                        wd_reason refusal, wd_failure *failure)
{
    ns_entry scope_entries[INLINE_ENTRIES], rendered_entries[INLINE_ENTRIES];
    ns_slot scope_slots[INLINE_SLOTS], rendered_slots[INLINE_SLOTS];
    frame frames[INLINE_FRAMES];
    const void *namespaces[INLINE_SCRATCH], *attributes[INLINE_SCRATCH];
    c14n *c;
    int result = -1;

    if (apex == NULL || apex->type != XML_ELEMENT_NODE || sink == NULL)
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "canonicalization called without an element");

    /* The output buffer makes the context too large for some threads' stacks. */
    c = malloc(sizeof *c);
    if (c == NULL)
        return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory starting canonicalization");
    c->sink = sink;
    c->sink_context = sink_context;
    c->sink_failed = false;
    c->limit = budget != NULL ? *budget : SIZE_MAX;
    c->spent = 0;
    c->out_length = 0;
    c->refusal = refusal;
    c->failure = failure;
    memset(&c->own_memo, 0, sizeof c->own_memo);
    c->memo = memo != NULL ? memo : &c->own_memo;
    ns_stack_init(&c->scope, scope_entries, scope_slots);
    ns_stack_init(&c->rendered, rendered_entries, rendered_slots);
    vector_init(&c->frames, frames, INLINE_FRAMES, sizeof *frames);
    vector_init(&c->namespaces, namespaces, INLINE_SCRATCH, sizeof *namespaces);
    vector_init(&c->attributes, attributes, INLINE_SCRATCH, sizeof *attributes);

    if (read_prefix_list(c, prefix_list) != 0 || seed_scope(c, apex) != 0)
        goto done;
    if (apex != excluded && walk(c, apex, excluded) != 0)
        goto done;
    if (flush(c) != 0)
        goto done;
    result = 0;

done:
    if (budget != NULL)
        *budget -= c->spent;
    ns_stack_free(&c->scope);
    ns_stack_free(&c->rendered);
    vector_free(&c->frames);
    vector_free(&c->namespaces);
    vector_free(&c->attributes);
    free(c);
    return result;
}

#ifndef WD_C14N_DIFFERENTIAL

bool wd_c14n_differential(void)
{
    return false;
}

int wd_c14n_subtree_memo(xmlNode *apex, const xmlNode *excluded, const char *prefix_list,
                         wd_c14n_sink sink, void *sink_context, size_t *budget, wd_c14n_memo *memo,
                         wd_reason refusal, wd_failure *failure)
{
    return c14n_subtree(apex, excluded, prefix_list, sink, sink_context, budget, memo, refusal, failure);
}

#else

/* ---- the differential check (Debug builds) --------------------------------------------
** Every canonicalization is also made by libxml2's xmlC14NExecute over the whole document
** (tests/support/c14n_oracle.c, the verifier's canonicalizer before this one), and a
** difference aborts with both outputs on stderr. So every message that any test suite sends
** through a Debug build, from the unit tests' signer to the interop clients and the attack
** table, is a differential test of this file. Release builds compile none of it. */
#include <stdio.h>

#include "c14n_oracle.h"

typedef struct tee {
    wd_c14n_sink   sink;
    void          *sink_context;
    unsigned char *data;
    size_t         length;
    size_t         capacity;
    bool           nomem;     /* the copy is incomplete: nothing to compare */
} tee;

static int tee_sink(void *context, const unsigned char *data, size_t length)
{
    tee *t = context;

    if (!t->nomem && length > t->capacity - t->length) {
        size_t capacity = t->capacity > 0 ? t->capacity : 4096;
        while (capacity - t->length < length && capacity <= SIZE_MAX / 2)
            capacity *= 2;
        unsigned char *grown = capacity - t->length >= length ? realloc(t->data, capacity) : NULL;
        if (grown == NULL) {
            t->nomem = true;
        } else {
            t->data = grown;
            t->capacity = capacity;
        }
    }
    if (!t->nomem) {
        memcpy(t->data + t->length, data, length);
        t->length += length;
    }
    return t->sink(t->sink_context, data, length);
}

/* Where the two first differ, for the report. */
static size_t first_difference(const unsigned char *a, size_t a_length, const char *b, size_t b_length)
{
    size_t i = 0;
    while (i < a_length && i < b_length && a[i] == (unsigned char)b[i])
        i++;
    return i;
}

/* libxml2's canonicalizer recurses once per level over the whole document; deeper than the
** parser ever builds (limits.depth), only tests reach, and there it would overflow the stack. */
#define ORACLE_MAX_DEPTH 1000

static bool document_is_shallow(const xmlNode *apex)
{
    const xmlNode *root = xmlDocGetRootElement(apex->doc);
    const xmlNode *node = root;
    int depth = 0;

    while (node != NULL) {
        if (node->type == XML_ELEMENT_NODE && node->children != NULL) {
            if (++depth > ORACLE_MAX_DEPTH)
                return false;
            node = node->children;
            continue;
        }
        while (node != root && node->next == NULL) {
            node = node->parent;
            depth--;
        }
        if (node == root)
            break;
        node = node->next;
    }
    return true;
}

static void compare_with_oracle(xmlNode *apex, const xmlNode *excluded, const char *prefix_list, const tee *t)
{
    char *expected = NULL;
    size_t expected_length = 0;

    if (apex->doc == NULL || !document_is_shallow(apex))
        return;
    /* libxml2 refuses what this file deliberately accepts (a relative namespace URI outside
    ** the subtree and its ancestors) and more than 255 prefixes: nothing to compare then. */
    if (ts_c14n_oracle(apex, excluded, prefix_list, &expected, &expected_length) != 0)
        return;
    if (expected_length != t->length || memcmp(expected, t->data, t->length) != 0) {
        size_t at = first_difference(t->data, t->length, expected, expected_length);
        size_t from = at > 80 ? at - 80 : 0;
        fprintf(stderr,
                "warden: c14n differential check failed (apex <%s>, PrefixList \"%s\"): the subtree canonicalizer "
                "gave %zu bytes, libxml2 %zu; first difference at byte %zu\n  ours:    %.*s\n  libxml2: %.*s\n",
                (const char *)apex->name, prefix_list != NULL ? prefix_list : "", t->length, expected_length, at,
                (int)(t->length - from < 200 ? t->length - from : 200), (const char *)t->data + from,
                (int)(expected_length - from < 200 ? expected_length - from : 200), expected + from);
        abort();
    }
    free(expected);
}

bool wd_c14n_differential(void)
{
    return true;
}

int wd_c14n_subtree_memo(xmlNode *apex, const xmlNode *excluded, const char *prefix_list,
                         wd_c14n_sink sink, void *sink_context, size_t *budget, wd_c14n_memo *memo,
                         wd_reason refusal, wd_failure *failure)
{
    tee t = { sink, sink_context, NULL, 0, 0, false };
    int result;

    if (apex == NULL || apex->type != XML_ELEMENT_NODE || sink == NULL)
        return c14n_subtree(apex, excluded, prefix_list, sink, sink_context, budget, memo, refusal, failure);
    result = c14n_subtree(apex, excluded, prefix_list, tee_sink, &t, budget, memo, refusal, failure);
    if (result == 0 && !t.nomem)
        compare_with_oracle(apex, excluded, prefix_list, &t);
    free(t.data);
    return result;
}

#endif

int wd_c14n_subtree(xmlNode *apex, const xmlNode *excluded, const char *prefix_list,
                    wd_c14n_sink sink, void *sink_context, size_t *budget, wd_reason refusal,
                    wd_failure *failure)
{
    return wd_c14n_subtree_memo(apex, excluded, prefix_list, sink, sink_context, budget, NULL, refusal, failure);
}
