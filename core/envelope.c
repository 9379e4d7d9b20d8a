/*
** envelope.c — the SOAP 1.1/1.2 envelope: structure (one optional Header before exactly one
** Body), which headers are targeted at us, the mustUnderstand rule, the WS-Addressing headers
** we read, the operation, and the one wsse:Security header addressed to our actor.
*/
#include "envelope.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../include/warden.h"
#include "namespaces.h"
#include "xml_text.h"

static const char *const addressing_namespaces[] = { WD_NS_WSA, WD_NS_WSA_2004 };

/* The WS-Addressing headers we understand; only the first three are read. */
static const char *const addressing_headers[] = {
    "Action", "To", "MessageID", "ReplyTo", "FaultTo", "From", "RelatesTo",
};

static bool is_xml_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_blank(const xmlChar *text)
{
    if (text == NULL)
        return true;
    for (; *text != '\0'; text++) {
        if (!is_xml_space(*text))
            return false;
    }
    return true;
}

/* Envelope and Header hold elements only; stray text there means this is not SOAP. */
static bool has_stray_text(const xmlNode *parent)
{
    for (const xmlNode *child = parent->children; child != NULL; child = child->next) {
        if ((child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE) &&
            !is_blank(child->content))
            return true;
    }
    return false;
}

static const char *namespace_of(const xmlNode *element)
{
    return element->ns != NULL && element->ns->href != NULL ? (const char *)element->ns->href : "";
}

static bool is_addressing_namespace(const xmlNode *element)
{
    const char *ns = namespace_of(element);
    for (size_t i = 0; i < sizeof addressing_namespaces / sizeof addressing_namespaces[0]; i++) {
        if (strcmp(ns, addressing_namespaces[i]) == 0)
            return true;
    }
    return false;
}

static bool is_understood(const xmlNode *header)
{
    if (wd_xml_is(header, WD_NS_WSSE, "Security"))
        return true;
    if (!is_addressing_namespace(header))
        return false;
    for (size_t i = 0; i < sizeof addressing_headers / sizeof addressing_headers[0]; i++) {
        if (strcmp((const char *)header->name, addressing_headers[i]) == 0)
            return true;
    }
    return false;
}

/* The actor (1.1) or role (1.2) attribute of a header block, or NULL when it has none. */
static const char *target_of(const xmlNode *header, const wd_envelope *env)
{
    return wd_xml_attr(header, env->soap_ns, env->soap_version == 11 ? "actor" : "role");
}

/* Whether value, with the XML whitespace around it removed, is text: what a schema-aware
** stack compares for xs:anyURI and xs:boolean values. */
static bool trimmed_equals(const char *value, const char *text)
{
    size_t start = 0;
    size_t end = strlen(value);

    while (start < end && is_xml_space((unsigned char)value[start]))
        start++;
    while (end > start && is_xml_space((unsigned char)value[end - 1]))
        end--;
    return strlen(text) == end - start && memcmp(value + start, text, end - start) == 0;
}

/* Whether an actor/role value names uri. The attribute is an xs:anyURI, whose whitespace a
** schema-aware stack collapses: " next " is the next role to it, so it is to us too. */
static bool names(const char *value, const char *uri)
{
    return trimmed_equals(value, uri);
}

/* The URI of the "next" role in the message's SOAP version. */
static const char *next_role(const wd_envelope *env)
{
    return env->soap_version == 11 ? WD_SOAP11_ACTOR_NEXT : WD_SOAP12_ROLE_NEXT;
}

/* An actor configured as either version's "next" URI asks for the headers of that role. */
static bool actor_is_next(const char *actor)
{
    return actor != NULL &&
           (strcmp(actor, WD_SOAP11_ACTOR_NEXT) == 0 || strcmp(actor, WD_SOAP12_ROLE_NEXT) == 0);
}

/* SOAP 1.2's "none" role is never processed by anyone, even if actor names it. */
static bool is_role_none(const char *target, const wd_envelope *env)
{
    return env->soap_version == 12 && names(target, WD_SOAP12_ROLE_NONE);
}

/* SOAP 1.2's ultimateReceiver role is the same as no role attribute (the 1.1 form: no actor). */
static bool is_targeted_at_us(const xmlNode *header, const wd_envelope *env, const char *actor)
{
    const char *target = target_of(header, env);

    if (target == NULL)
        return true;
    if (is_role_none(target, env))
        return false;
    if (names(target, next_role(env)) || (actor != NULL && names(target, actor)))
        return true;
    return env->soap_version == 12 && names(target, WD_SOAP12_ROLE_ULTIMATE);
}

/* Only the Security header for exactly our actor is ours; "next" reaches every node but
** names no particular one, so it selects a Security header only when actor names it. */
static bool is_our_security(const xmlNode *header, const wd_envelope *env, const char *actor)
{
    const char *target;

    if (!wd_xml_is(header, WD_NS_WSSE, "Security"))
        return false;
    target = target_of(header, env);
    if (target != NULL && is_role_none(target, env))
        return false;
    if (actor != NULL)
        return target != NULL && (names(target, actor) || (actor_is_next(actor) && names(target, next_role(env))));
    if (target == NULL)
        return true;
    return env->soap_version == 12 && names(target, WD_SOAP12_ROLE_ULTIMATE);
}

/* xs:boolean, whitespace collapsed: 1 = true, 0 = false, -1 = not a boolean. */
static int parse_must_understand(const char *value)
{
    static const struct { const char *text; int meaning; } lexicon[] = {
        { "1", 1 }, { "true", 1 }, { "0", 0 }, { "false", 0 },
    };
    for (size_t i = 0; i < sizeof lexicon / sizeof lexicon[0]; i++) {
        if (trimmed_equals(value, lexicon[i].text))
            return lexicon[i].meaning;
    }
    return -1;
}

/* A Security header addressed to the "next" node that says it must be understood, and that
** is not the one we process: we are that next node, and would be skipping it while the
** message goes on (to a service that may well read it). Any mustUnderstand attribute counts
** here, in whichever namespace or none, with any value but false: other stacks read the
** attribute more loosely than SOAP does, and for this one header that is the safe side. */
static bool is_skipped_next_security(const xmlNode *header, const wd_envelope *env)
{
    const char *target = target_of(header, env);

    if (!wd_xml_is(header, WD_NS_WSSE, "Security") || target == NULL || !names(target, next_role(env)))
        return false;
    for (const xmlAttr *attribute = header->properties; attribute != NULL; attribute = attribute->next) {
        if (attribute->name == NULL || strcmp((const char *)attribute->name, "mustUnderstand") != 0)
            continue;
        const char *value = attribute->children != NULL && attribute->children->type == XML_TEXT_NODE
                                ? (const char *)attribute->children->content : "";
        if (parse_must_understand(value != NULL ? value : "") != 0)
            return true;
    }
    return false;
}

static int read_structure(wd_envelope *env, wd_failure *failure)
{
    bool body_seen = false;

    if (has_stray_text(env->envelope))
        return wd_fail(failure, WD_REASON_NOT_SOAP, "text content directly inside the Envelope");
    for (xmlNode *child = wd_xml_first_element(env->envelope); child != NULL;
         child = wd_xml_next_element(child)) {
        if (wd_xml_is(child, env->soap_ns, "Header")) {
            if (body_seen)
                return wd_fail(failure, WD_REASON_NOT_SOAP, "Header after Body");
            if (env->header != NULL)
                return wd_fail(failure, WD_REASON_NOT_SOAP, "more than one Header");
            env->header = child;
        } else if (wd_xml_is(child, env->soap_ns, "Body")) {
            if (body_seen)
                return wd_fail(failure, WD_REASON_NOT_SOAP, "more than one Body");
            env->body = child;
            body_seen = true;
        } else {
            return wd_fail(failure, WD_REASON_NOT_SOAP, "unexpected Envelope child {%s}%s",
                           namespace_of(child), (const char *)child->name);
        }
    }
    if (env->body == NULL)
        return wd_fail(failure, WD_REASON_NOT_SOAP, "no Body");
    if (env->header != NULL && has_stray_text(env->header))
        return wd_fail(failure, WD_REASON_NOT_SOAP, "text content directly inside the Header");
    return 0;
}

/* Action, To and MessageID: one each (across both WS-A namespaces), plain text only. */
static int read_addressing(xmlNode *header, wd_envelope *env, wd_failure *failure)
{
    xmlNode **slot;
    char *text;
    size_t length;

    if (!is_addressing_namespace(header))
        return 0;
    if (strcmp((const char *)header->name, "Action") == 0)
        slot = &env->action;
    else if (strcmp((const char *)header->name, "To") == 0)
        slot = &env->to;
    else if (strcmp((const char *)header->name, "MessageID") == 0)
        slot = &env->message_id;
    else
        return 0;

    if (*slot != NULL)
        return wd_fail(failure, WD_REASON_MALFORMED, "more than one WS-Addressing %s header",
                       (const char *)header->name);
    text = wd_xml_text(header, true, &length);
    if (text == NULL) {
        if (length == SIZE_MAX)
            return wd_fail(failure, WD_REASON_MALFORMED,
                           "WS-Addressing %s header has non-text content",
                           (const char *)header->name);
        return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory reading %s",
                                (const char *)header->name);
    }
    free(text);
    *slot = header;
    return 0;
}

static int read_headers(wd_envelope *env, const char *actor, wd_failure *failure)
{
    for (xmlNode *header = wd_xml_first_element(env->header); header != NULL;
         header = wd_xml_next_element(header)) {
        if (is_targeted_at_us(header, env, actor)) {
            const char *value = wd_xml_attr(header, env->soap_ns, "mustUnderstand");
            int must_understand = value != NULL ? parse_must_understand(value) : 0;

            if (must_understand < 0)
                return wd_fail(failure, WD_REASON_MALFORMED,
                               "mustUnderstand=\"%.32s\" on {%s}%s is not a boolean", value,
                               namespace_of(header), (const char *)header->name);
            if (must_understand == 1 && !is_understood(header))
                return wd_fail(failure, WD_REASON_MUSTUNDERSTAND,
                               "header {%s}%s must be understood",
                               namespace_of(header), (const char *)header->name);
        }
        if (is_our_security(header, env, actor)) {
            if (env->security != NULL)
                return wd_fail(failure, WD_REASON_SECURITY_HEADER_DUPLICATE,
                               "more than one wsse:Security header for actor %s",
                               actor != NULL ? actor : "(none)");
            env->security = header;
        } else if (is_skipped_next_security(header, env)) {
            return wd_fail(failure, WD_REASON_MUSTUNDERSTAND,
                           "a wsse:Security header for the SOAP \"next\" role must be understood "
                           "(set actor to %s to process it instead)", next_role(env));
        }
        if (read_addressing(header, env, failure) != 0)
            return -1;
    }
    return 0;
}

int wd_envelope_read(xmlDoc *document, const char *actor, wd_envelope *out, wd_failure *failure)
{
    wd_envelope env;
    xmlNode *root;

    if (out == NULL || document == NULL)
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "wd_envelope_read: missing argument");
    memset(out, 0, sizeof *out);
    memset(&env, 0, sizeof env);
    env.document = document;

    root = xmlDocGetRootElement(document);
    if (wd_xml_is(root, WD_NS_SOAP11, "Envelope")) {
        env.soap_version = 11;
        env.soap_ns = WD_NS_SOAP11;
    } else if (wd_xml_is(root, WD_NS_SOAP12, "Envelope")) {
        env.soap_version = 12;
        env.soap_ns = WD_NS_SOAP12;
    } else if (root == NULL) {
        return wd_fail(failure, WD_REASON_NOT_SOAP, "no root element");
    } else {
        return wd_fail(failure, WD_REASON_NOT_SOAP, "root element {%s}%s is not a SOAP Envelope",
                       namespace_of(root), (const char *)root->name);
    }
    env.envelope = root;

    if (read_structure(&env, failure) != 0)
        return -1;
    if (env.header != NULL && read_headers(&env, actor, failure) != 0)
        return -1;
    env.operation = wd_xml_first_element(env.body);

    *out = env;
    return 0;
}
