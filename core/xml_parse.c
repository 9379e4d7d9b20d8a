/*
** xml_parse.c — the only place untrusted bytes meet libxml2. Owns the parser options, the
** SAX hooks that refuse a DOCTYPE, entity references and processing instructions and that
** enforce wd_limits while the document is being built, and the per-call error capture that
** keeps libxml2 quiet on stderr.
**
** Everything that changes libxml2's behaviour lives on the parser context made for one call
** (its SAX handler is a private copy), so concurrent calls share nothing. The one exception:
** libxml2 2.9 reports encoding and I/O errors without a parser context, through the calling
** thread's error handlers, so those are swapped for the duration of the call and restored.
** They are thread-local in libxml2, so this too stays within the call.
*/
#include "xml_parse.h"

#include <pthread.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/globals.h>
#include <libxml/xmlerror.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../include/warden.h"
#include "xml_encoding.h"

/* Why a SAX hook stopped the parser; the first cause recorded is the one reported. */
typedef enum stop_cause {
    STOP_NONE = 0,
    STOP_DTD,
    STOP_LIMIT,
    STOP_ENTITY,
    STOP_PI
} stop_cause;

/* One call's view of the parse, reached from the SAX hooks through ctxt->_private. */
typedef struct parse_state {
    wd_limits  limits;
    int        depth;
    size_t     text_run;        /* character data since the last markup that ends a text node */
    stop_cause cause;
    char       stop_detail[128];
    char       first_error[160];
} parse_state;

static parse_state *state_of(void *ctx)
{
    xmlParserCtxtPtr ctxt = ctx;
    return ctxt->_private;
}

static void stop(xmlParserCtxtPtr ctxt, stop_cause cause, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void stop(xmlParserCtxtPtr ctxt, stop_cause cause, const char *format, ...)
{
    parse_state *state = ctxt->_private;
    va_list args;

    if (state->cause == STOP_NONE) {
        state->cause = cause;
        va_start(args, format);
        vsnprintf(state->stop_detail, sizeof state->stop_detail, format, args);
        va_end(args);
    }
    xmlStopParser(ctxt);
}

static void remember_message(parse_state *state, const char *message)
{
    size_t n;

    if (state->first_error[0] != '\0' || message == NULL)
        return;
    snprintf(state->first_error, sizeof state->first_error, "%s", message);
    n = strlen(state->first_error);
    while (n > 0 && (state->first_error[n - 1] == '\n' || state->first_error[n - 1] == ' '))
        state->first_error[--n] = '\0';
    /* Details end up on one log or JSON line. */
    for (char *c = state->first_error; *c != '\0'; c++) {
        if (*c == '\n' || *c == '\r' || *c == '\t')
            *c = ' ';
    }
}

/* Validity and DTD-domain reports (an xml:id that is not an NCName, say) do not make a
** document malformed; only keep messages that explain a well-formedness failure. */
static void on_structured_error(void *ctx, xmlErrorPtr error)
{
    if (error == NULL || error->level < XML_ERR_ERROR)
        return;
    if (error->domain == XML_FROM_VALID || error->domain == XML_FROM_DTD)
        return;
    remember_message(state_of(ctx), error->message);
}

/* The thread's channels while we parse: libxml2 reports conversion errors here (data is our
** parse_state, not the parser context). */
static void on_stray_structured_error(void *data, xmlErrorPtr error)
{
    if (error == NULL || error->level < XML_ERR_ERROR)
        return;
    remember_message(data, error->message);
}

static void on_stray_generic_error(void *data, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static void on_stray_generic_error(void *data, const char *format, ...)
{
    char message[160];
    va_list args;

    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    remember_message(data, message);
}

/* Fallback channels: with serror installed libxml2 should not use these, but if some path
** does, it must neither print nor lose the message. */
static void on_error(void *ctx, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void on_error(void *ctx, const char *format, ...)
{
    char message[160];
    va_list args;

    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    remember_message(state_of(ctx), message);
}

static void on_warning(void *ctx, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void on_warning(void *ctx, const char *format, ...)
{
    (void)ctx;
    (void)format;
}

static void on_internal_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
                               const xmlChar *system_id)
{
    stop(ctx, STOP_DTD, "DOCTYPE declaration (%s) is not allowed in a SOAP message",
         name != NULL ? (const char *)name : "?");
}

static void on_external_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
                               const xmlChar *system_id)
{
    stop(ctx, STOP_DTD, "external DTD subset is not allowed in a SOAP message");
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
                           const xmlChar *system_id, xmlChar *content)
{
    stop(ctx, STOP_DTD, "entity declaration is not allowed in a SOAP message");
}

static void on_reference(void *ctx, const xmlChar *name)
{
    stop(ctx, STOP_ENTITY, "entity reference &%s; is not allowed",
         name != NULL ? (const char *)name : "?");
}

static void on_processing_instruction(void *ctx, const xmlChar *target, const xmlChar *data)
{
    stop(ctx, STOP_PI, "processing instruction <?%s?> is not allowed in a SOAP message",
         target != NULL ? (const char *)target : "");
}

static void on_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                             const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                             int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    xmlParserCtxtPtr ctxt = ctx;
    parse_state *state = ctxt->_private;

    state->text_run = 0;
    if (state->depth >= state->limits.depth) {
        stop(ctxt, STOP_LIMIT, "limits.depth (%d) exceeded at element %s", state->limits.depth,
             (const char *)localname);
        return;
    }
    if ((long)nb_attributes + nb_namespaces > state->limits.attributes) {
        stop(ctxt, STOP_LIMIT,
             "limits.attributes (%d) exceeded on element %s (%d attributes, %d namespaces)",
             state->limits.attributes, (const char *)localname, nb_attributes, nb_namespaces);
        return;
    }
    state->depth++;
    xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
                          nb_defaulted, attributes);
}

static void on_end_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                           const xmlChar *uri)
{
    parse_state *state = state_of(ctx);

    state->text_run = 0;
    state->depth--;
    xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

/* Text and CDATA that sit next to each other are one run: wd_xml_text joins them, so the
** limit bounds what a reader of one element can be made to hold. */
static bool text_fits(xmlParserCtxtPtr ctxt, int len)
{
    parse_state *state = ctxt->_private;

    if (len < 0 || (size_t)len > state->limits.text_bytes - state->text_run) {
        stop(ctxt, STOP_LIMIT, "limits.text_bytes (%zu) exceeded", state->limits.text_bytes);
        return false;
    }
    state->text_run += (size_t)len;
    return true;
}

static void on_characters(void *ctx, const xmlChar *ch, int len)
{
    if (text_fits(ctx, len))
        xmlSAX2Characters(ctx, ch, len);
}

static void on_cdata(void *ctx, const xmlChar *value, int len)
{
    if (text_fits(ctx, len))
        xmlSAX2CDataBlock(ctx, value, len);
}

static void on_comment(void *ctx, const xmlChar *value)
{
    state_of(ctx)->text_run = 0;
    xmlSAX2Comment(ctx, value);
}

static void install_hooks(xmlSAXHandler *sax)
{
    sax->internalSubset = on_internal_subset;
    sax->externalSubset = on_external_subset;
    sax->entityDecl = on_entity_decl;
    sax->reference = on_reference;
    sax->processingInstruction = on_processing_instruction;
    sax->startElementNs = on_start_element;
    sax->endElementNs = on_end_element;
    sax->characters = on_characters;
    sax->ignorableWhitespace = on_characters;
    sax->cdataBlock = on_cdata;
    sax->comment = on_comment;
    sax->serror = on_structured_error;
    sax->error = on_error;
    sax->fatalError = on_error;
    sax->warning = on_warning;
}

/* The SAX hooks stop anything forbidden as it appears; this walk is the second lock on the
** door, over the finished tree (including attribute values), without recursion. */
static wd_reason find_forbidden_node(const xmlDoc *doc, const char **what)
{
    const xmlNode *node = doc->children;

    *what = "DTD";
    if (doc->intSubset != NULL || doc->extSubset != NULL)
        return WD_REASON_DTD_FORBIDDEN;
    while (node != NULL) {
        switch (node->type) {
        case XML_ENTITY_REF_NODE:
        case XML_ENTITY_NODE:
        case XML_ENTITY_DECL:
            *what = "entity";
            return WD_REASON_MALFORMED;
        case XML_DTD_NODE:
        case XML_DOCUMENT_TYPE_NODE:
        case XML_NOTATION_NODE:
        case XML_ELEMENT_DECL:
        case XML_ATTRIBUTE_DECL:
            *what = "DTD";
            return WD_REASON_DTD_FORBIDDEN;
        case XML_PI_NODE:
            *what = "processing instruction";
            return WD_REASON_MALFORMED;
        case XML_XINCLUDE_START:
        case XML_XINCLUDE_END:
            *what = "XInclude";
            return WD_REASON_MALFORMED;
        default:
            break;
        }
        if (node->type == XML_ELEMENT_NODE) {
            for (const xmlAttr *attr = node->properties; attr != NULL; attr = attr->next) {
                for (const xmlNode *part = attr->children; part != NULL; part = part->next) {
                    if (part->type != XML_TEXT_NODE) {
                        *what = "entity";
                        return WD_REASON_MALFORMED;
                    }
                }
            }
            if (node->children != NULL) {
                node = node->children;
                continue;
            }
        }
        while (node != NULL && node->next == NULL)
            node = node->parent != NULL && node->parent->type != XML_DOCUMENT_NODE ? node->parent
                                                                                    : NULL;
        if (node != NULL)
            node = node->next;
    }
    return WD_REASON_NONE;
}

int wd_xml_parse(const void *bytes, size_t length, const wd_limits *limits, xmlDocPtr *out,
                 wd_failure *failure)
{
    parse_state state;
    xmlStructuredErrorFunc saved_structured;
    void *saved_structured_context;
    xmlGenericErrorFunc saved_generic;
    void *saved_generic_context;
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    const char *forbidden_what;
    wd_reason forbidden;
    int rc = -1;

    if (out == NULL)
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "wd_xml_parse: no output pointer");
    *out = NULL;
    memset(&state, 0, sizeof state);
    if (limits != NULL) {
        state.limits = *limits;
    } else {
        wd_settings defaults;
        wd_settings_defaults(&defaults);
        state.limits = defaults.limits;
    }

    if (length == 0)
        return wd_fail(failure, WD_REASON_MALFORMED, "empty message");
    if (bytes == NULL)
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "wd_xml_parse: no input bytes");
    if (length > state.limits.message_bytes || length > INT_MAX)
        return wd_fail(failure, WD_REASON_LIMIT_EXCEEDED,
                       "limits.message_bytes (%zu) exceeded: message has %zu bytes",
                       state.limits.message_bytes, length);
    /* libxml2 would settle a byte-order mark that disagrees with the declared encoding
    ** silently, one way or the other; the bytes are checked before it sees them. */
    if (wd_xml_check_encoding(bytes, length, failure) != 0)
        return -1;

    xmlInitParser();
    saved_structured = xmlStructuredError;
    saved_structured_context = xmlStructuredErrorContext;
    saved_generic = xmlGenericError;
    saved_generic_context = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(&state, on_stray_structured_error);
    xmlSetGenericErrorFunc(&state, on_stray_generic_error);

    ctxt = xmlCreateMemoryParserCtxt(bytes, (int)length);
    if (ctxt == NULL || ctxt->sax == NULL) {
        wd_fail_internal(failure, WARDEN_E_NOMEM, "cannot create an XML parser context");
        goto done;
    }
    /* Options first: xmlCtxtUseOptions rewrites some SAX slots, the hooks must win. */
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET);
    install_hooks(ctxt->sax);
    ctxt->_private = &state;

    xmlParseDocument(ctxt);
    doc = ctxt->myDoc;
    ctxt->myDoc = NULL;

    switch (state.cause) {
    case STOP_DTD:
        wd_fail(failure, WD_REASON_DTD_FORBIDDEN, "%s", state.stop_detail);
        goto done;
    case STOP_LIMIT:
        wd_fail(failure, WD_REASON_LIMIT_EXCEEDED, "%s", state.stop_detail);
        goto done;
    case STOP_ENTITY:
    case STOP_PI:
        wd_fail(failure, WD_REASON_MALFORMED, "%s", state.stop_detail);
        goto done;
    case STOP_NONE:
        break;
    }
    if (ctxt->errNo == XML_ERR_NO_MEMORY) {
        wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory while parsing XML");
        goto done;
    }
    if (!ctxt->wellFormed || !ctxt->nsWellFormed || doc == NULL) {
        wd_fail(failure, WD_REASON_MALFORMED, "not well-formed XML: %s",
                state.first_error[0] != '\0' ? state.first_error : "parse failed");
        goto done;
    }
    forbidden = find_forbidden_node(doc, &forbidden_what);
    if (forbidden != WD_REASON_NONE) {
        wd_fail(failure, forbidden, "%s node is not allowed in a SOAP message", forbidden_what);
        goto done;
    }

    *out = doc;
    doc = NULL;
    rc = 0;

done:
    if (doc != NULL)
        xmlFreeDoc(doc);
    if (ctxt != NULL) {
        ctxt->_private = NULL;
        xmlFreeParserCtxt(ctxt);
    }
    xmlSetStructuredErrorFunc(saved_structured_context, saved_structured);
    xmlSetGenericErrorFunc(saved_generic_context, saved_generic);
    return rc;
}

/* libxml2 2.9 must build its tables once, before threads parse; pthread_once makes that
** safe whichever thread makes the first engine. */
static pthread_once_t xml_initialised = PTHREAD_ONCE_INIT;

static void initialise_xml(void)
{
    xmlInitParser();
}

void wd_xml_initialise(void)
{
    pthread_once(&xml_initialised, initialise_xml);
}
