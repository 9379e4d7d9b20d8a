/*
** xsw.c — fuzzes the XML signature wrapping family, structure-aware. A custom mutator
** (libxml2) starts from valid signed messages (seeds.h: made by the repository's test signer)
** and moves, duplicates, wraps, deletes and renames elements, moves, copies, renames and
** re-values Id attributes (wsu:Id, Id, ID, xml:id), re-points Reference URIs, edits text and
** sets SOAP actor / role / mustUnderstand attributes — what a man in the middle without the
** key can do. The oracle: when a mutated message is
** delivered, every part it reports as signed must be what the signer signed: the delivered
** Body canonicalizes (exclusive c14n, libxml2's, not Warden's) to exactly the original's
** bytes, the Timestamp and WS-Addressing values and the signing certificate are the
** original's, and no part name appears that the original did not sign. Otherwise it aborts:
** that would be a wrapping hole. Delivered messages also go through every property getter.
*/
#include <libxml/c14n.h>
#include <libxml/tree.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/message.h"
#include "core/namespaces.h"
#include "fixture.h"
#include "seeds.h"
#include "tests/support/test_messages.h"
#include "tests/support/test_signer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

/* --------------------------------------------------------------------- the originals --- */

enum { MAX_PARTS = 16, MAX_ELEMENTS = 2048 };

typedef struct original {
    char          *bytes;               /* the signed message as the signer wrote it */
    size_t         length;
    char          *signature_value;     /* base64 without whitespace */
    xmlChar       *body_c14n;           /* exc-c14n of its Body, with its PrefixList */
    int            body_c14n_length;
    const char    *inclusive_prefixes;
    const char    *parts[2 * MAX_PARTS]; /* part names it signed, short and "{ns}local" */
    char           part_storage[2 * MAX_PARTS][160];
    size_t         part_count;
    unsigned char *cert_der;
    int            cert_der_length;
} original;

static original originals[16];
static size_t original_count;
static warden_engine *engine;
static unsigned long received, delivered, delivered_signed;
static const int64_t seed_created = 1795608000, seed_expires = 1795608300; /* FZ_SEED_* */

static bool named(const xmlNode *node, const char *ns, const char *local)
{
    return node != NULL && node->type == XML_ELEMENT_NODE && strcmp((const char *)node->name, local) == 0
        && (ns == NULL ? node->ns == NULL : node->ns != NULL && strcmp((const char *)node->ns->href, ns) == 0);
}

static bool is_soap(const xmlNode *node, const char *local)
{
    return named(node, WD_NS_SOAP11, local) || named(node, WD_NS_SOAP12, local);
}

/* The SOAP Body: the root's child of that name, as the envelope reader finds it. */
static xmlNode *soap_body(xmlDoc *doc)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    for (xmlNode *c = root != NULL ? root->children : NULL; c != NULL; c = c->next)
        if (is_soap(c, "Body"))
            return c;
    return NULL;
}

static char *text_without_space(const xmlNode *node)
{
    xmlChar *text = xmlNodeGetContent(node);
    char *out = malloc(text != NULL ? strlen((const char *)text) + 1 : 1);
    size_t n = 0;
    if (out == NULL)
        fz_fail("xsw: out of memory");
    for (const xmlChar *p = text; p != NULL && *p != '\0'; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            out[n++] = (char)*p;
    out[n] = '\0';
    xmlFree(text);
    return out;
}

static xmlChar *canonical_in(xmlDoc *doc, xmlNode *element, const char *prefixes, int *length);

static int in_subtree(void *top, xmlNodePtr node, xmlNodePtr parent)
{
    const xmlNode *n = node != NULL && node->type != XML_NAMESPACE_DECL ? node : parent;
    for (; n != NULL; n = n->parent)
        if (n == top)
            return 1;
    return 0;
}

/* Exclusive c14n of element's subtree with libxml2 (independent of core/c14n.c), done on a
** copy of the element under shallow copies of its ancestors (the same namespaces in scope):
** libxml2 walks the whole document and gives up on a relative namespace URI anywhere in it,
** even in a header the Body has nothing to do with, which is no finding. */
static xmlChar *canonical(xmlNode *element, const char *prefixes, int *length)
{
    xmlNode *chain[256];
    size_t depth = 0;
    for (xmlNode *n = element->parent; n != NULL && n->type == XML_ELEMENT_NODE; n = n->parent)
        if (depth < sizeof chain / sizeof chain[0])
            chain[depth++] = n;
        else
            return NULL;
    xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNode *parent = NULL;
    for (size_t i = depth; doc != NULL && i-- > 0;) {
        xmlNode *copy = xmlDocCopyNode(chain[i], doc, 2); /* attributes and namespaces, no children */
        if (copy == NULL)
            break;
        if (parent == NULL)
            xmlDocSetRootElement(doc, copy);
        else
            xmlAddChild(parent, copy);
        parent = copy;
    }
    xmlNode *copy = doc != NULL && parent != NULL ? xmlDocCopyNode(element, doc, 1) : NULL;
    if (copy != NULL && xmlAddChild(parent, copy) == NULL) {
        xmlFreeNode(copy);
        copy = NULL;
    }
    xmlChar *out = copy != NULL ? canonical_in(doc, copy, prefixes, length) : NULL;
    xmlFreeDoc(doc);
    return out;
}

static xmlChar *canonical_in(xmlDoc *doc, xmlNode *element, const char *prefixes, int *length)
{
    char copy[128] = "";
    xmlChar *list[16] = { 0 };
    size_t count = 0;
    if (prefixes != NULL) {
        snprintf(copy, sizeof copy, "%s", prefixes);
        for (char *save = NULL, *p = strtok_r(copy, " ", &save); p != NULL && count < 15;
             p = strtok_r(NULL, " ", &save))
            list[count++] = BAD_CAST p;
    }
    xmlChar *out = NULL;
    xmlOutputBuffer *buffer = xmlAllocOutputBuffer(NULL);
    if (buffer == NULL
        || xmlC14NExecute(doc, in_subtree, element, XML_C14N_EXCLUSIVE_1_0, count > 0 ? list : NULL, 0, buffer) < 0) {
        xmlOutputBufferClose(buffer);
        return NULL;
    }
    *length = (int)xmlOutputBufferGetSize(buffer);
    out = xmlMalloc((size_t)*length + 1);
    if (out != NULL) {
        memcpy(out, xmlOutputBufferGetContent(buffer), (size_t)*length);
        out[*length] = '\0';
    }
    xmlOutputBufferClose(buffer);
    return out;
}

static void add_part(original *o, const char *name)
{
    if (o->part_count == 2 * MAX_PARTS)
        fz_fail("xsw: too many parts");
    snprintf(o->part_storage[o->part_count], sizeof o->part_storage[0], "%s", name);
    o->parts[o->part_count] = o->part_storage[o->part_count];
    o->part_count++;
}

/* The part names the verifier gives a signed element (core/wssec.c part_name), both its short
** name and "{ns}local", so a reported name the original never signed stands out. */
static void add_parts_of(original *o, xmlDoc *doc, xmlNode *element)
{
    char full[160];
    snprintf(full, sizeof full, "{%s}%s", element->ns != NULL ? (const char *)element->ns->href : "",
             (const char *)element->name);
    add_part(o, full);
    if (element == soap_body(doc))
        add_part(o, "Body");
    else if (named(element, WD_NS_WSU, "Timestamp"))
        add_part(o, "Timestamp");
    else if (named(element, WD_NS_WSSE, "BinarySecurityToken"))
        add_part(o, "BinarySecurityToken");
    else if (named(element, WD_NS_WSSE, "UsernameToken"))
        add_part(o, "UsernameToken");
    else if (element->ns != NULL && strcmp((const char *)element->ns->href, WD_NS_WSA) == 0)
        add_part(o, (const char *)element->name);
}

static void load_cert(original *o, const char *name)
{
    char *path = tm_pki_path(name);
    FILE *file = path != NULL ? fopen(path, "r") : NULL;
    X509 *cert = file != NULL ? PEM_read_X509(file, NULL, NULL, NULL) : NULL;
    if (cert == NULL || (o->cert_der_length = i2d_X509(cert, &o->cert_der)) <= 0)
        fz_fail("xsw: cannot read %s", path != NULL ? path : name);
    X509_free(cert);
    fclose(file);
    free(path);
}

static void make_originals(void)
{
    fz_seed *seeds = NULL;
    size_t count = 0;
    fz_seeds_make(&seeds, &count);
    for (size_t i = 0; i < count && original_count < sizeof originals / sizeof originals[0]; i++) {
        if (!seeds[i].deterministic)
            continue;  /* an ECDSA signature differs each time: the corpus could not match it */
        original *o = &originals[original_count++];
        o->bytes = seeds[i].bytes;
        o->length = seeds[i].length;
        seeds[i].bytes = NULL;
        o->inclusive_prefixes = seeds[i].inclusive_prefixes;
        xmlDoc *doc = ts_parse(o->bytes, o->length);
        xmlNode *value = doc != NULL ? ts_find(doc, WD_NS_DSIG, "SignatureValue") : NULL;
        xmlNode *body = doc != NULL ? soap_body(doc) : NULL;
        if (value == NULL || body == NULL)
            fz_fail("xsw: seed %s has no SignatureValue or Body", seeds[i].name);
        o->signature_value = text_without_space(value);
        o->body_c14n = canonical(body, o->inclusive_prefixes, &o->body_c14n_length);
        if (o->body_c14n == NULL)
            fz_fail("xsw: cannot canonicalize the Body of %s", seeds[i].name);
        for (size_t k = 0; k < seeds[i].id_count; k++) {
            xmlNode *element = ts_find_id(doc, seeds[i].ids[k]);
            if (element == NULL)
                fz_fail("xsw: seed %s has no element %s", seeds[i].name, seeds[i].ids[k]);
            add_parts_of(o, doc, element);
        }
        load_cert(o, seeds[i].cert_name);
        xmlFreeDoc(doc);
    }
    fz_seeds_free(seeds, count);
    if (original_count == 0)
        fz_fail("xsw: no originals");
}

static void free_all(void)
{
    fprintf(stderr,
            "xsw: %lu messages received, %lu delivered, %lu of them with signed parts (checked by the oracle)\n",
            received, delivered, delivered_signed);
    for (size_t i = 0; i < original_count; i++) {
        free(originals[i].bytes);
        free(originals[i].signature_value);
        xmlFree(originals[i].body_c14n);
        OPENSSL_free(originals[i].cert_der);
    }
    warden_engine_free(engine);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    make_originals();
    /* No replay cache: every mutation of one original carries its signature, and a replay
    ** rejection would hide the message from the oracle. */
    static const char *const settings[] = { "replay.backend", "none", NULL };
    engine = fz_engine_new(settings);
    atexit(free_all);
    return 0;
}

/* ----------------------------------------------------------------------- the oracle --- */

static bool has_part(const original *o, const char *name)
{
    for (size_t i = 0; i < o->part_count; i++)
        if (strcmp(o->parts[i], name) == 0)
            return true;
    return false;
}

static void expect_string(const warden_message *m, warden_message_property_id id, const char *expected,
                          const char *part)
{
    warden_string value = { 0 };
    if (warden_message_get_property(m, id, &value, sizeof value) != WARDEN_OK)
        fz_fail("xsw: %s is reported signed but its property is missing", part);
    if (strlen(expected) != value.length || memcmp(value.data, expected, value.length) != 0)
        fz_fail("xsw: %s is reported signed but reads \"%s\", the signer sent \"%s\"", part, value.data, expected);
}

/* Checks the delivered message m against original o; returns normally or aborts. */
static void check_against(const warden_message *m, const original *o, const warden_string_list *parts,
                          int protection)
{
    bool body_signed = false;
    for (size_t i = 0; i < parts->count; i++) {
        const char *name = parts->items[i].data;
        if (!has_part(o, name))
            fz_fail("xsw: the part \"%s\" is reported signed; the signer never signed it", name);
        if (strcmp(name, "Body") == 0)
            body_signed = true;
        else if (strcmp(name, "Timestamp") == 0) {
            int64_t created = 0, expires = 0;
            warden_message_get_property(m, WARDEN_MESSAGE_PROPERTY_TIMESTAMP_CREATED, &created, sizeof created);
            warden_message_get_property(m, WARDEN_MESSAGE_PROPERTY_TIMESTAMP_EXPIRES, &expires, sizeof expires);
            if (created != seed_created || expires != seed_expires)
                fz_fail("xsw: the signed Timestamp reads %lld..%lld, the signer sent %lld..%lld", (long long)created,
                        (long long)expires, (long long)seed_created, (long long)seed_expires);
        } else if (strcmp(name, "Action") == 0)
            expect_string(m, WARDEN_MESSAGE_PROPERTY_ACTION, TS_ACTION, name);
        else if (strcmp(name, "To") == 0)
            expect_string(m, WARDEN_MESSAGE_PROPERTY_TO, TS_TO, name);
        else if (strcmp(name, "MessageID") == 0)
            expect_string(m, WARDEN_MESSAGE_PROPERTY_MESSAGE_ID, TS_MESSAGE_ID, name);
    }
    if (!body_signed) {
        /* signed parts without the Body: only an unprotected message may say so (and this
        ** config requires the Body in a signed message) */
        if (protection != WARDEN_PROTECTION_NONE)
            fz_fail("xsw: a signed message was delivered without its Body among the signed parts");
        return;
    }
    int length = 0;
    xmlChar *body = canonical(m->body, o->inclusive_prefixes, &length);
    if (body == NULL)
        fz_fail("xsw: cannot canonicalize the delivered Body");
    if (length != o->body_c14n_length || memcmp(body, o->body_c14n, (size_t)length) != 0)
        fz_fail("xsw: the delivered Body is not the signed one:\n--- delivered\n%s\n--- signed\n%s", body,
                o->body_c14n);
    xmlFree(body);
    if (protection == WARDEN_PROTECTION_NONE)
        fz_fail("xsw: the Body is reported signed but the protection level is none");
    warden_bytes cert = { 0 };
    if (warden_message_get_property(m, WARDEN_MESSAGE_PROPERTY_ENCODED_CERT, &cert, sizeof cert) != WARDEN_OK
        || cert.length != (size_t)o->cert_der_length || memcmp(cert.data, o->cert_der, cert.length) != 0)
        fz_fail("xsw: the signing certificate is not the original signer's");
}

static const original *original_of(xmlNode *node)
{
    for (; node != NULL; node = node->next) {
        if (node->type != XML_ELEMENT_NODE)
            continue;
        if (named(node, WD_NS_DSIG, "SignatureValue")) {
            char *value = text_without_space(node);
            for (size_t i = 0; i < original_count; i++)
                if (strcmp(value, originals[i].signature_value) == 0) {
                    free(value);
                    return &originals[i];
                }
            free(value);
        }
        const original *found = original_of(node->children);
        if (found != NULL)
            return found;
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    warden_receive_options options = { .size = sizeof options, .now = fz_now() };
    warden_message *message = NULL;
    warden_error err = { 0 };

    received++;
    if (warden_engine_receive(engine, data, size, &options, &message, &err) != WARDEN_OK) {
        if (err.reason[0] == '\0' && err.code == WARDEN_E_SECURITY)
            fz_fail("xsw: a rejection without a reason code (%s)", err.text);
        return 0;
    }
    delivered++;
    fz_exercise_message(message);
    int protection = 0;
    warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_PROTECTION_LEVEL, &protection, sizeof protection);
    warden_string_list parts = { 0 };
    warden_message_get_property(message, WARDEN_MESSAGE_PROPERTY_SIGNED_PART_LIST, &parts, sizeof parts);
    if (protection != WARDEN_PROTECTION_NONE || parts.count > 0) {
        const original *o = original_of(xmlDocGetRootElement(message->document));
        if (o == NULL)
            fz_fail("xsw: a message with signed parts was delivered whose SignatureValue no original has");
        check_against(message, o, &parts, protection);
        delivered_signed++;
    }
    warden_message_free(message);
    return 0;
}

/* ---------------------------------------------------------------------- the mutator --- */

typedef struct rng { uint64_t state; } rng;

static unsigned next(rng *r, unsigned bound)
{
    r->state ^= r->state << 13;
    r->state ^= r->state >> 7;
    r->state ^= r->state << 17;
    return bound == 0 ? 0 : (unsigned)(r->state % bound);
}

typedef struct tree {
    xmlDoc  *doc;
    xmlNode *elements[MAX_ELEMENTS];
    size_t   count;
} tree;

static void collect(tree *t, xmlNode *node)
{
    for (; node != NULL && t->count < MAX_ELEMENTS; node = node->next)
        if (node->type == XML_ELEMENT_NODE) {
            t->elements[t->count++] = node;
            collect(t, node->children);
        }
}

static void recollect(tree *t)
{
    t->count = 0;
    collect(t, xmlDocGetRootElement(t->doc));
}

static bool is_ancestor_or_self(const xmlNode *ancestor, const xmlNode *node)
{
    for (; node != NULL; node = node->parent)
        if (node == ancestor)
            return true;
    return false;
}

/* A random element other than the root; NULL when there is none. */
static xmlNode *pick(tree *t, rng *r)
{
    return t->count > 1 ? t->elements[1 + next(r, (unsigned)t->count - 1)] : NULL;
}

static xmlNode *pick_named(tree *t, rng *r, const char *local)
{
    xmlNode *found[64];
    size_t n = 0;
    for (size_t i = 0; i < t->count && n < 64; i++)
        if (strcmp((const char *)t->elements[i]->name, local) == 0)
            found[n++] = t->elements[i];
    return n > 0 ? found[next(r, (unsigned)n)] : NULL;
}

/* After top moved or was inserted: every namespace its subtree uses must be in scope, with
** its prefix (exclusive c14n renders prefixes, so changing one would break every digest).
** A declaration that went out of scope is made again on top. */
static void fix_node(xmlDoc *doc, xmlNode *top, xmlNode *node)
{
    xmlNs **uses[1 + 64];
    size_t use_count = 0;
    uses[use_count++] = &node->ns;
    for (xmlAttr *a = node->properties; a != NULL && use_count < 65; a = a->next)
        uses[use_count++] = &a->ns;
    for (size_t i = 0; i < use_count; i++) {
        xmlNs *ns = *uses[i];
        if (ns == NULL || (ns->prefix != NULL && strcmp((const char *)ns->prefix, "xml") == 0))
            continue;
        if (xmlSearchNs(doc, node, ns->prefix) == ns)
            continue;
        xmlNs *declared = NULL;
        for (xmlNs *d = top->nsDef; d != NULL && declared == NULL; d = d->next)
            if (xmlStrEqual(d->prefix, ns->prefix) && xmlStrEqual(d->href, ns->href))
                declared = d;
        if (declared == NULL)
            declared = xmlNewNs(top, ns->href, ns->prefix);
        if (declared == NULL)
            declared = xmlSearchNsByHref(doc, node, ns->href);
        if (declared == NULL)
            declared = xmlNewNs(node, ns->href, BAD_CAST "fz");
        *uses[i] = declared;
    }
    for (xmlNode *c = node->children; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            fix_node(doc, top, c);
}

static void fix_namespaces(xmlDoc *doc, xmlNode *top)
{
    fix_node(doc, top, top);
}

/* Inserts node (unlinked) as a child of parent at a random position among its elements. */
static void insert_into(tree *t, rng *r, xmlNode *parent, xmlNode *node)
{
    xmlNode *children[64];
    size_t n = 0;
    for (xmlNode *c = parent->children; c != NULL && n < 64; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            children[n++] = c;
    unsigned at = next(r, (unsigned)n + 1);
    if (at == n)
        xmlAddChild(parent, node);
    else
        xmlAddPrevSibling(children[at], node);
    fix_namespaces(t->doc, node);
}

/* A random element that node could be put under (not inside node itself). */
static xmlNode *pick_parent(tree *t, rng *r, const xmlNode *node)
{
    for (int tries = 0; tries < 8; tries++) {
        xmlNode *parent = t->elements[next(r, (unsigned)t->count)];
        if (node == NULL || !is_ancestor_or_self(node, parent))
            return parent;
    }
    return NULL;
}

static const char *const names[] = {
    "Body", "Header", "Envelope", "Security", "Signature", "SignedInfo", "Reference", "Object",
    "Timestamp", "Action", "To", "MessageID", "Wrapper", "BinarySecurityToken", "UsernameToken",
    "CreateOrder", "amount", "SignatureValue", "KeyInfo", "SecurityTokenReference", "Transforms",
};
static const char *const namespaces[] = {
    WD_NS_SOAP11, WD_NS_SOAP12, WD_NS_WSSE, WD_NS_WSU, WD_NS_DSIG, WD_NS_WSA, "urn:example:orders", "urn:evil",
};
#define COUNT(a) (sizeof a / sizeof a[0])

static xmlNode *new_element(tree *t, rng *r)
{
    xmlNode *element = xmlNewDocNode(t->doc, NULL, BAD_CAST names[next(r, COUNT(names))], NULL);
    if (element != NULL && next(r, 4) != 0)
        xmlSetNs(element, xmlNewNs(element, BAD_CAST namespaces[next(r, COUNT(namespaces))], BAD_CAST "fx"));
    return element;
}

/* The four spellings of an identifier the verifier honours. */
typedef struct id_kind { const char *ns, *name, *prefix; } id_kind;
static const id_kind id_kinds[] = {
    { WD_NS_WSU, "Id", "wsu" }, { NULL, "Id", NULL }, { NULL, "ID", NULL }, { WD_NS_XML, "id", "xml" },
};

static xmlChar *get_id(xmlNode *element, const id_kind *kind)
{
    return kind->ns != NULL ? xmlGetNsProp(element, BAD_CAST kind->name, BAD_CAST kind->ns)
                            : xmlGetNoNsProp(element, BAD_CAST kind->name);
}

static void remove_id(xmlNode *element, const id_kind *kind)
{
    xmlAttr *attr = xmlHasNsProp(element, BAD_CAST kind->name, BAD_CAST kind->ns);
    if (attr != NULL)
        xmlRemoveProp(attr);
}

static void set_id(tree *t, xmlNode *element, const id_kind *kind, const xmlChar *value)
{
    xmlNs *ns = NULL;
    if (kind->ns != NULL) {
        ns = strcmp(kind->prefix, "xml") == 0 ? xmlSearchNs(t->doc, element, BAD_CAST "xml")
                                              : xmlSearchNsByHref(t->doc, element, BAD_CAST kind->ns);
        if (ns == NULL)
            ns = xmlNewNs(element, BAD_CAST kind->ns, BAD_CAST kind->prefix);
        if (ns == NULL)
            ns = xmlNewNs(element, BAD_CAST kind->ns, BAD_CAST "fzu");
        if (ns == NULL)
            return;
    }
    xmlSetNsProp(element, ns, BAD_CAST kind->name, value);
}

/* Some identifier of the document (owned by the caller), or NULL. */
static xmlChar *some_id(tree *t, rng *r, xmlNode **owner, const id_kind **owner_kind)
{
    for (int tries = 0; tries < 32; tries++) {
        xmlNode *element = t->elements[next(r, (unsigned)t->count)];
        const id_kind *kind = &id_kinds[next(r, COUNT(id_kinds))];
        xmlChar *value = get_id(element, kind);
        if (value != NULL) {
            if (owner != NULL)
                *owner = element, *owner_kind = kind;
            return value;
        }
    }
    return NULL;
}

static void op_move(tree *t, rng *r)
{
    xmlNode *node = pick(t, r), *parent = pick_parent(t, r, node);
    if (node == NULL || parent == NULL)
        return;
    xmlUnlinkNode(node);
    insert_into(t, r, parent, node);
}

static void op_duplicate(tree *t, rng *r)
{
    xmlNode *node = pick(t, r), *parent = pick_parent(t, r, NULL);
    xmlNode *copy = node != NULL && parent != NULL ? xmlDocCopyNode(node, t->doc, 1) : NULL;
    if (copy != NULL)
        insert_into(t, r, parent, copy);
}

static void op_wrap(tree *t, rng *r)
{
    xmlNode *node = pick(t, r), *wrapper = node != NULL ? new_element(t, r) : NULL;
    if (wrapper == NULL)
        return;
    xmlAddPrevSibling(node, wrapper);
    xmlUnlinkNode(node);
    xmlAddChild(wrapper, node);
    fix_namespaces(t->doc, node);
}

static void op_delete(tree *t, rng *r)
{
    xmlNode *node = pick(t, r);
    if (node == NULL)
        return;
    xmlUnlinkNode(node);
    xmlFreeNode(node);
}

static void op_rename(tree *t, rng *r)
{
    xmlNode *node = t->elements[next(r, (unsigned)t->count)];
    if (next(r, 2) == 0) {
        xmlNodeSetName(node, BAD_CAST names[next(r, COUNT(names))]);
        return;
    }
    const char *href = namespaces[next(r, COUNT(namespaces))];
    xmlNs *ns = xmlSearchNsByHref(t->doc, node, BAD_CAST href);
    if (ns == NULL)
        ns = xmlNewNs(node, BAD_CAST href, BAD_CAST "fn");
    if (ns != NULL || next(r, 4) == 0)
        xmlSetNs(node, ns);
}

static void op_id(tree *t, rng *r)
{
    xmlNode *owner = NULL;
    const id_kind *kind = NULL;
    xmlChar *value = some_id(t, r, &owner, &kind);
    if (value == NULL)
        return;
    const id_kind *other = &id_kinds[next(r, COUNT(id_kinds))];
    switch (next(r, 5)) {
    case 0: /* respell: wsu:Id -> Id -> ID -> xml:id */
        remove_id(owner, kind);
        set_id(t, owner, other, value);
        break;
    case 1: /* give the same identifier to another element too */
        set_id(t, t->elements[next(r, (unsigned)t->count)], other, value);
        break;
    case 2: /* take it away */
        remove_id(owner, kind);
        break;
    case 3: { /* take another element's identifier */
        xmlChar *theirs = some_id(t, r, NULL, NULL);
        if (theirs != NULL)
            set_id(t, owner, kind, theirs);
        xmlFree(theirs);
        break;
    }
    default: { /* a look-alike value */
        static const char *const forms[] = { "%s ", " %s", "#%s", "%s-2", "body-1", "Body-1", "TS-1", "" };
        char look[128];
        snprintf(look, sizeof look, forms[next(r, COUNT(forms))], (const char *)value);
        set_id(t, owner, kind, BAD_CAST look);
        break;
    }
    }
    xmlFree(value);
}

static void op_uri(tree *t, rng *r)
{
    xmlNode *reference = pick_named(t, r, "Reference");
    if (reference == NULL)
        return;
    xmlChar *id = some_id(t, r, NULL, NULL);
    char uri[160];
    switch (next(r, 6)) {
    case 0: snprintf(uri, sizeof uri, "#%s", id != NULL ? (const char *)id : "Body-1"); break;
    case 1: snprintf(uri, sizeof uri, "%s", ""); break;
    case 2: snprintf(uri, sizeof uri, "%s", "#xpointer(/)"); break;
    case 3: snprintf(uri, sizeof uri, "#xpointer(id('%s'))", id != NULL ? (const char *)id : "Body-1"); break;
    case 4: snprintf(uri, sizeof uri, "%s", "#"); break;
    default:
        xmlUnsetProp(reference, BAD_CAST "URI");
        xmlFree(id);
        return;
    }
    xmlSetProp(reference, BAD_CAST "URI", BAD_CAST uri);
    xmlFree(id);
}

static void op_text(tree *t, rng *r)
{
    static const char *const texts[] = { "999999", "-1", "0", "ACME-EVIL", "urn:example:orders/Cancel", "" };
    xmlNode *node = t->elements[next(r, (unsigned)t->count)];
    for (xmlNode *c = node->children; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return; /* only elements that hold text */
    xmlNodeSetContent(node, BAD_CAST texts[next(r, COUNT(texts))]);
}

static xmlNode *first_text(xmlNode *node)
{
    for (xmlNode *c = node->children; c != NULL; c = c->next) {
        if (c->type == XML_TEXT_NODE && c->content != NULL && c->content[0] > ' ')
            return c;
        xmlNode *found = c->type == XML_ELEMENT_NODE ? first_text(c) : NULL;
        if (found != NULL)
            return found;
    }
    return NULL;
}

/* Security headers for other SOAP nodes: an actor / role, mustUnderstand, on a random element
** (mostly a Security header, original or duplicated). */
static void op_actor(tree *t, rng *r)
{
    static const char *const roles[] = {
        "http://schemas.xmlsoap.org/soap/actor/next", "http://www.w3.org/2003/05/soap-envelope/role/next",
        "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver", "urn:someone-else", "",
    };
    xmlNode *node = next(r, 4) != 0 ? pick_named(t, r, "Security") : pick(t, r);
    xmlNode *root = xmlDocGetRootElement(t->doc);
    if (node == NULL || root == NULL || root->ns == NULL)
        return;
    xmlNs *soap = xmlSearchNsByHref(t->doc, node, root->ns->href);
    if (soap == NULL)
        return;
    const char *name = next(r, 3) == 0 ? "mustUnderstand" : next(r, 2) == 0 ? "actor" : "role";
    if (next(r, 4) == 0) {
        xmlAttr *attr = xmlHasNsProp(node, BAD_CAST name, soap->href);
        if (attr != NULL)
            xmlRemoveProp(attr);
        return;
    }
    const char *value = strcmp(name, "mustUnderstand") == 0 ? (next(r, 2) == 0 ? "1" : "true")
                                                           : roles[next(r, COUNT(roles))];
    xmlSetNsProp(node, soap, BAD_CAST name, BAD_CAST value);
}

/* The classic wrapping attack in one step: an evil copy of the Body takes its place (or sits
** beside it) and the signed original is stashed where the verifier might still find it by Id. */
static void op_classic(tree *t, rng *r)
{
    xmlNode *body = soap_body(t->doc);
    if (body == NULL)
        return;
    xmlNode *evil = xmlDocCopyNode(body, t->doc, 1);
    if (evil == NULL)
        return;
    xmlNode *text = first_text(evil);
    if (text != NULL)
        xmlNodeSetContent(text, BAD_CAST "999999");
    if (next(r, 3) == 0)
        for (size_t k = 0; k < COUNT(id_kinds); k++)
            remove_id(evil, &id_kinds[k]);
    static const char *const stashes[] = { "Header", "Security", "Signature", "Object", "Timestamp" };
    xmlNode *stash = pick_named(t, r, stashes[next(r, COUNT(stashes))]);
    if (stash == NULL || is_ancestor_or_self(body, stash))
        stash = xmlDocGetRootElement(t->doc);
    if (next(r, 2) == 0) {
        xmlNode *wrapper = new_element(t, r);
        if (wrapper != NULL) {
            xmlAddChild(stash, wrapper);
            stash = wrapper;
        }
    }
    if (next(r, 4) != 0) { /* the evil copy replaces the Body; the original is stashed */
        xmlAddPrevSibling(body, evil);
        xmlUnlinkNode(body);
        insert_into(t, r, stash, body);
        fix_namespaces(t->doc, evil);
    } else {               /* the evil copy is stashed beside a Body left alone */
        insert_into(t, r, stash, evil);
    }
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    rng r = { .state = 0x9e3779b97f4a7c15ull ^ seed };
    next(&r, 1);
    if (next(&r, 10) == 0)
        return LLVMFuzzerMutate(data, size, max_size);

    tree *t = calloc(1, sizeof *t);
    if (t == NULL)
        return LLVMFuzzerMutate(data, size, max_size);
    t->doc = ts_parse((const char *)data, size);
    if (t->doc == NULL || xmlDocGetRootElement(t->doc) == NULL || next(&r, 50) == 0) {
        /* back to a valid original: the structure is what this target is about */
        xmlFreeDoc(t->doc);
        const original *o = &originals[next(&r, (unsigned)original_count)];
        free(t);
        if (o->length > max_size)
            return LLVMFuzzerMutate(data, size, max_size);
        memcpy(data, o->bytes, o->length);
        return o->length;
    }
    static void (*const ops[])(tree *, rng *) = {
        op_move, op_duplicate, op_wrap, op_delete, op_rename, op_id, op_id, op_uri, op_text, op_classic, op_classic,
        op_actor,
    };
    unsigned steps = 1 + next(&r, 3);
    for (unsigned i = 0; i < steps; i++) {
        recollect(t);
        if (t->count == 0)
            break;
        ops[next(&r, COUNT(ops))](t, &r);
    }
    size_t length = 0;
    char *bytes = ts_serialize(t->doc, &length);
    xmlFreeDoc(t->doc);
    free(t);
    if (bytes == NULL || length > max_size) {
        free(bytes);
        return LLVMFuzzerMutate(data, size, max_size);
    }
    memcpy(data, bytes, length);
    free(bytes);
    return length;
}
