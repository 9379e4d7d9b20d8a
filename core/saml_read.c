/*
** saml_read.c — the strict reading of one saml2:Assertion: its structure in schema order, its
** identity text, its times, its subject confirmation and its statements. Nothing here trusts
** the assertion (saml_check.c does the signature and the clock); what this file guarantees is
** that the facts handed on are exactly what the element says, with nothing a signature would
** see differently: identity text that mixes in a comment, a processing instruction or an
** element is refused outright, not "cleaned", because the canonical form the issuer signed
** drops comments while a careless reader would stop at them (the comment-injection family of
** SAML vulnerabilities, CVE-2017-11427 and friends).
*/
#include "saml.h"
#include "invariant.h"

#include <libxml/xmlsave.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "namespaces.h"
#include "time_text.h"
#include "xml_text.h"

#define SAML_INVALID(failure, ...) wd_fail((failure), WD_REASON_SAML_INVALID, __VA_ARGS__)

static const char *name_of(const xmlNode *node)
{
    return node != NULL && node->name != NULL ? (const char *)node->name : "nothing";
}

static bool is_saml(const xmlNode *node, const char *local_name)
{
    return wd_xml_is(node, WD_NS_SAML2, local_name);
}

/* The identity text of element (all text children), malloc'd into *out. trim drops XML
** whitespace around it (for URIs, which the schema collapses); names and values keep theirs,
** so that " admin" is not "admin". */
static int identity_text(const xmlNode *element, bool trim, const char *what, char **out, wd_failure *failure)
{
    size_t length = 0;
    char *text = wd_xml_text(element, trim, &length);
    if (text == NULL) {
        if (length == 0)
            return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory reading the assertion");
        return SAML_INVALID(failure, "assertion %s mixes a comment, processing instruction or element into its text",
                            what);
    }
    if (strlen(text) != length) {
        free(text);
        return SAML_INVALID(failure, "assertion %s holds a NUL character", what);
    }
    *out = text;
    return 0;
}

static int copy_attribute(const xmlNode *element, const char *name, char **out, wd_failure *failure)
{
    const char *value = wd_xml_attr(element, NULL, name);
    if (value == NULL)
        return 0;
    *out = strdup(value);
    if (*out == NULL)
        return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory reading the assertion");
    return 0;
}

static int read_time(const xmlNode *element, const char *attribute, const char *what, bool *present,
                     int64_t *out, wd_failure *failure)
{
    const char *text = wd_xml_attr(element, NULL, attribute);
    if (text == NULL) {
        if (present != NULL)
            *present = false;
        return 0;
    }
    if (wd_time_parse(text, strlen(text), WD_TIME_REQUIRE_UTC, out) != 0)
        return SAML_INVALID(failure, "assertion %s \"%.40s\" is not a UTC dateTime", what, text);
    if (present != NULL)
        *present = true;
    return 0;
}

/* ---- lists ------------------------------------------------------------------------------ */

static int add_audience(wd_saml_assertion *a, char *text, wd_failure *failure)
{
    if (a->audience_count == WD_SAML_MAX_VALUES) {
        free(text);
        return SAML_INVALID(failure, "assertion has more than %d audiences", WD_SAML_MAX_VALUES);
    }
    warden_string *grown = realloc(a->audience_items, (a->audience_count + 1) * sizeof *grown);
    if (grown == NULL) {
        free(text);
        return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory reading the assertion");
    }
    a->audience_items = grown;
    a->audience_items[a->audience_count].data = text;
    a->audience_items[a->audience_count].length = strlen(text);
    a->audience_count++;
    return 0;
}

/* name is copied; value (may be NULL) is taken over. */
static int add_attribute_pair(wd_saml_assertion *a, const char *name, char *value, wd_failure *failure)
{
    char *name_copy = NULL;
    if (a->attribute_pair_count == WD_SAML_MAX_VALUES) {
        free(value);
        return SAML_INVALID(failure, "assertion has more than %d attribute values", WD_SAML_MAX_VALUES);
    }
    warden_attr *grown = realloc(a->attribute_pairs, (a->attribute_pair_count + 1) * sizeof *grown);
    if (grown != NULL)
        a->attribute_pairs = grown;
    name_copy = strdup(name);
    if (grown == NULL || name_copy == NULL) {
        free(name_copy);
        free(value);
        return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory reading the assertion");
    }
    a->attribute_pairs[a->attribute_pair_count].name = name_copy;
    a->attribute_pairs[a->attribute_pair_count].value = value;
    a->attribute_pair_count++;
    return 0;
}

/* ---- Subject ---------------------------------------------------------------------------- */

/* SubjectConfirmationData of holder-of-key: ds:KeyInfo / ds:X509Data / ds:X509Certificate,
** one of each. A bare key (KeyValue) would bind the assertion to a key no one vouches for. */
static int read_confirmation_key(const xmlNode *data, wd_trust_store *trust, wd_saml_assertion *a,
                                 wd_failure *failure)
{
    const xmlNode *key_info = NULL;
    for (xmlNode *child = wd_xml_first_element(data); child != NULL; child = wd_xml_next_element(child)) {
        if (!wd_xml_is(child, WD_NS_DSIG, "KeyInfo") || key_info != NULL)
            return SAML_INVALID(failure, "holder-of-key SubjectConfirmationData holds %s (one ds:KeyInfo expected)",
                                name_of(child));
        key_info = child;
    }
    if (key_info == NULL)
        return SAML_INVALID(failure, "holder-of-key SubjectConfirmationData has no ds:KeyInfo");
    const xmlNode *x509_data = wd_xml_first_element(key_info);
    if (!wd_xml_is(x509_data, WD_NS_DSIG, "X509Data") || wd_xml_next_element(x509_data) != NULL)
        return SAML_INVALID(failure, "holder-of-key KeyInfo must hold exactly one ds:X509Data");
    const xmlNode *certificate = wd_xml_first_element(x509_data);
    if (!wd_xml_is(certificate, WD_NS_DSIG, "X509Certificate") || wd_xml_next_element(certificate) != NULL)
        return SAML_INVALID(failure, "holder-of-key X509Data must hold exactly one ds:X509Certificate");

    size_t text_length = 0, der_length = 0;
    char *text = wd_xml_text(certificate, true, &text_length);
    if (text == NULL)
        return SAML_INVALID(failure, "holder-of-key X509Certificate holds more than text");
    unsigned char *der = wd_base64_decode(text, text_length, &der_length);
    free(text);
    if (der == NULL || der_length == 0) {
        free(der);
        return SAML_INVALID(failure, "holder-of-key X509Certificate is not base64");
    }
    wd_failure parse_failure = { 0 };
    int status = trust != NULL ? wd_trust_store_parse(trust, der, der_length, &a->confirmation_cert, &parse_failure)
                               : wd_cert_from_der(der, der_length, &a->confirmation_cert, &parse_failure);
    free(der);
    if (status != 0)
        return SAML_INVALID(failure, "holder-of-key X509Certificate does not parse: %.120s", parse_failure.detail);
    return 0;
}

static int read_subject_confirmation(const xmlNode *confirmation, wd_trust_store *trust, wd_saml_assertion *a,
                                     wd_failure *failure)
{
    const char *method = wd_xml_attr(confirmation, NULL, "Method");
    if (method == NULL)
        return SAML_INVALID(failure, "SubjectConfirmation without Method");
    if (strcmp(method, WD_SAML_CM_BEARER) == 0)
        a->confirmation = WD_SAML_BEARER;
    else if (strcmp(method, WD_SAML_CM_HOLDER_OF_KEY) == 0)
        a->confirmation = WD_SAML_HOLDER_OF_KEY;
    else if (strcmp(method, WD_SAML_CM_SENDER_VOUCHES) == 0)
        a->confirmation = WD_SAML_SENDER_VOUCHES;
    else
        return SAML_INVALID(failure, "SubjectConfirmation Method %.120s is not supported", method);

    const xmlNode *data = NULL;
    for (xmlNode *child = wd_xml_first_element(confirmation); child != NULL; child = wd_xml_next_element(child)) {
        if (is_saml(child, "SubjectConfirmationData") && data == NULL)
            data = child;
        else
            return SAML_INVALID(failure, "SubjectConfirmation holds %s (only one SubjectConfirmationData is supported)",
                                name_of(child));
    }
    if (data != NULL) {
        if (read_time(data, "NotBefore", "SubjectConfirmationData NotBefore", &a->has_confirmation_not_before,
                      &a->confirmation_not_before, failure) != 0 ||
            read_time(data, "NotOnOrAfter", "SubjectConfirmationData NotOnOrAfter",
                      &a->has_confirmation_not_on_or_after, &a->confirmation_not_on_or_after, failure) != 0)
            return -1;
    }
    if (a->confirmation == WD_SAML_HOLDER_OF_KEY) {
        if (data == NULL)
            return SAML_INVALID(failure, "holder-of-key SubjectConfirmation without SubjectConfirmationData");
        return read_confirmation_key(data, trust, a, failure);
    }
    if (data != NULL && wd_xml_first_element(data) != NULL)
        return SAML_INVALID(failure, "%s SubjectConfirmationData holds %s", wd_saml_confirmation_name(a->confirmation),
                            name_of(wd_xml_first_element(data)));
    return 0;
}

/* Subject = NameID, then exactly one SubjectConfirmation. Several confirmations would let an
** assertion be bearer for one reader and holder-of-key for another. */
static int read_subject(const xmlNode *subject, wd_trust_store *trust, wd_saml_assertion *a, wd_failure *failure)
{
    const xmlNode *name_id = wd_xml_first_element(subject);
    if (!is_saml(name_id, "NameID"))
        return SAML_INVALID(failure, "Subject begins with %s, not NameID (BaseID and EncryptedID are not supported)",
                            name_of(name_id));
    if (identity_text(name_id, false, "NameID", &a->subject, failure) != 0)
        return -1;
    if (a->subject[0] == '\0')
        return SAML_INVALID(failure, "assertion NameID is empty");
    if (copy_attribute(name_id, "Format", &a->name_id_format, failure) != 0)
        return -1;
    const xmlNode *confirmation = wd_xml_next_element(name_id);
    if (!is_saml(confirmation, "SubjectConfirmation"))
        return SAML_INVALID(failure, "Subject has no SubjectConfirmation after NameID");
    if (wd_xml_next_element(confirmation) != NULL)
        return SAML_INVALID(failure, "Subject holds %s after its SubjectConfirmation (exactly one is supported)",
                            name_of(wd_xml_next_element(confirmation)));
    return read_subject_confirmation(confirmation, trust, a, failure);
}

/* ---- Conditions and statements ------------------------------------------------------- */

static int read_conditions(const xmlNode *conditions, wd_saml_assertion *a, wd_failure *failure)
{
    if (read_time(conditions, "NotBefore", "Conditions NotBefore", &a->has_not_before, &a->not_before, failure) != 0 ||
        read_time(conditions, "NotOnOrAfter", "Conditions NotOnOrAfter", &a->has_not_on_or_after,
                  &a->not_on_or_after, failure) != 0)
        return -1;
    for (xmlNode *child = wd_xml_first_element(conditions); child != NULL; child = wd_xml_next_element(child)) {
        if (is_saml(child, "AudienceRestriction")) {
            size_t before = a->audience_count;
            for (xmlNode *audience = wd_xml_first_element(child); audience != NULL;
                 audience = wd_xml_next_element(audience)) {
                char *text = NULL;
                if (!is_saml(audience, "Audience"))
                    return SAML_INVALID(failure, "AudienceRestriction holds %s", name_of(audience));
                if (identity_text(audience, true, "Audience", &text, failure) != 0)
                    return -1;
                if (add_audience(a, text, failure) != 0)
                    return -1;
            }
            if (a->audience_count == before)
                return SAML_INVALID(failure, "an AudienceRestriction without Audience");
            size_t *ends = realloc(a->restriction_ends, (a->restriction_count + 1) * sizeof *ends);
            if (ends == NULL)
                return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory reading the assertion");
            a->restriction_ends = ends;
            a->restriction_ends[a->restriction_count++] = a->audience_count;
            a->has_audience_restriction = true;
        } else if (is_saml(child, "OneTimeUse")) {
            if (a->one_time_use)
                return SAML_INVALID(failure, "Conditions hold OneTimeUse twice");
            a->one_time_use = true;
        } else if (is_saml(child, "ProxyRestriction")) {
            continue; /* we never re-issue assertions: nothing to restrict */
        } else {
            /* SAML core 2.5.1: an unknown condition makes the assertion Indeterminate. */
            return SAML_INVALID(failure, "Conditions hold %s, which is not understood", name_of(child));
        }
    }
    return 0;
}

static int read_attribute(const xmlNode *attribute, wd_saml_assertion *a, wd_failure *failure)
{
    const char *name = wd_xml_attr(attribute, NULL, "Name");
    bool any = false;
    if (name == NULL || name[0] == '\0')
        return SAML_INVALID(failure, "an Attribute without Name");
    for (xmlNode *value = wd_xml_first_element(attribute); value != NULL; value = wd_xml_next_element(value)) {
        char *text = NULL;
        if (!is_saml(value, "AttributeValue"))
            return SAML_INVALID(failure, "Attribute \"%.60s\" holds %s", name, name_of(value));
        if (identity_text(value, false, "AttributeValue", &text, failure) != 0)
            return -1;
        if (add_attribute_pair(a, name, text, failure) != 0)
            return -1;
        any = true;
    }
    return any ? 0 : add_attribute_pair(a, name, NULL, failure);
}

static int read_authn_statement(const xmlNode *statement, wd_saml_assertion *a, wd_failure *failure)
{
    for (xmlNode *child = wd_xml_first_element(statement); child != NULL; child = wd_xml_next_element(child)) {
        if (is_saml(child, "SubjectLocality"))
            continue;
        if (!is_saml(child, "AuthnContext"))
            return SAML_INVALID(failure, "AuthnStatement holds %s", name_of(child));
        for (xmlNode *part = wd_xml_first_element(child); part != NULL; part = wd_xml_next_element(part)) {
            if (is_saml(part, "AuthnContextClassRef")) {
                if (a->authn_context != NULL)
                    return SAML_INVALID(failure, "more than one AuthnContextClassRef");
                if (identity_text(part, true, "AuthnContextClassRef", &a->authn_context, failure) != 0)
                    return -1;
            } else if (!is_saml(part, "AuthnContextDeclRef") && !is_saml(part, "AuthenticatingAuthority")) {
                return SAML_INVALID(failure, "AuthnContext holds %s", name_of(part));
            }
        }
    }
    return 0;
}

/* ---- the assertion ------------------------------------------------------------------------- */

/* The schema's order: Issuer, Signature?, Subject?, Conditions?, Advice?, statements*. */
enum { AFTER_ISSUER = 1, AFTER_SIGNATURE, AFTER_SUBJECT, AFTER_CONDITIONS, IN_STATEMENTS };

static int read_children(xmlNode *assertion, wd_trust_store *trust, wd_saml_assertion *a, wd_failure *failure)
{
    xmlNode *child = wd_xml_first_element(assertion);
    int position;
    bool has_subject = false;

    if (!is_saml(child, "Issuer"))
        return SAML_INVALID(failure, "assertion begins with %s, not Issuer (Issuer is required)", name_of(child));
    if (identity_text(child, true, "Issuer", &a->issuer, failure) != 0)
        return -1;
    if (a->issuer[0] == '\0')
        return SAML_INVALID(failure, "assertion Issuer is empty");
    position = AFTER_ISSUER;

    for (child = wd_xml_next_element(child); child != NULL; child = wd_xml_next_element(child)) {
        if (wd_xml_is(child, WD_NS_DSIG, "Signature") && position < AFTER_SIGNATURE) {
            a->signature = child;
            position = AFTER_SIGNATURE;
        } else if (is_saml(child, "Subject") && position < AFTER_SUBJECT) {
            if (read_subject(child, trust, a, failure) != 0)
                return -1;
            has_subject = true;
            position = AFTER_SUBJECT;
        } else if (is_saml(child, "Conditions") && position < AFTER_CONDITIONS) {
            if (read_conditions(child, a, failure) != 0)
                return -1;
            position = AFTER_CONDITIONS;
        } else if (is_saml(child, "AuthnStatement")) {
            if (read_authn_statement(child, a, failure) != 0)
                return -1;
            position = IN_STATEMENTS;
        } else if (is_saml(child, "AttributeStatement")) {
            for (xmlNode *attribute = wd_xml_first_element(child); attribute != NULL;
                 attribute = wd_xml_next_element(attribute)) {
                if (!is_saml(attribute, "Attribute"))
                    return SAML_INVALID(failure, "AttributeStatement holds %s (EncryptedAttribute is not supported)",
                                        name_of(attribute));
                if (read_attribute(attribute, a, failure) != 0)
                    return -1;
            }
            position = IN_STATEMENTS;
        } else if (is_saml(child, "Advice")) {
            /* Advice carries other assertions: a place to park a second, unchecked one. */
            return SAML_INVALID(failure, "assertion Advice is not supported");
        } else {
            return SAML_INVALID(failure, "assertion holds %s out of place or not understood", name_of(child));
        }
    }
    if (!has_subject)
        return SAML_INVALID(failure, "assertion has no Subject");
    return 0;
}

int wd_saml_read(xmlNode *assertion, wd_trust_store *trust, wd_saml_assertion *out, wd_failure *failure)
{
    memset(out, 0, sizeof *out);
    out->element = assertion;
    if (!is_saml(assertion, "Assertion"))
        return SAML_INVALID(failure, "not a saml2:Assertion");

    const char *version = wd_xml_attr(assertion, NULL, "Version");
    if (version == NULL)
        return SAML_INVALID(failure, "assertion without Version");
    if (strcmp(version, "2.0") != 0)
        return SAML_INVALID(failure, "assertion Version \"%.20s\" is not 2.0", version);
    if (copy_attribute(assertion, "Version", &out->version, failure) != 0)
        return -1;
    const char *id = wd_xml_attr(assertion, NULL, "ID");
    if (id == NULL || id[0] == '\0')
        return SAML_INVALID(failure, "assertion without ID");
    if (copy_attribute(assertion, "ID", &out->id, failure) != 0)
        return -1;
    bool has_instant = false;
    if (read_time(assertion, "IssueInstant", "IssueInstant", &has_instant, &out->issue_instant, failure) != 0)
        return -1;
    if (!has_instant)
        return SAML_INVALID(failure, "assertion without IssueInstant");
    return read_children(assertion, trust, out, failure);
}

/* Declares on copy every namespace in scope at element that copy does not declare itself.
** Copying declares only the prefixes elements and attributes use; a QName inside a value
** (xsi:type="xs:string") uses one too, and a reader of the text needs it (as inclusive
** canonicalization keeps them all). Returns 0, or -1 when memory runs out. */
static int declare_namespaces_in_scope(const xmlNode *element, xmlNode *copy)
{
    xmlNs **in_scope = xmlGetNsList(element->doc, element);
    int status = 0;
    for (size_t i = 0; in_scope != NULL && in_scope[i] != NULL && status == 0; i++) {
        const xmlNs *ns = in_scope[i];
        if (ns->prefix != NULL && xmlStrEqual(ns->prefix, BAD_CAST "xml"))
            continue;
        bool declared = false;
        for (const xmlNs *own = copy->nsDef; own != NULL && !declared; own = own->next)
            declared = xmlStrEqual(own->prefix, ns->prefix);
        if (!declared && xmlNewNs(copy, ns->href, ns->prefix) == NULL)
            status = -1;
    }
    xmlFree(in_scope);
    return status;
}

char *wd_saml_serialize_element(const xmlNode *element, size_t *length)
{
    char *text = NULL;
    xmlBuffer *buffer = xmlBufferCreate();
    if (buffer == NULL)
        return NULL;
    xmlSaveCtxt *save = xmlSaveToBuffer(buffer, "UTF-8", XML_SAVE_NO_DECL);
    int status = -1;
    if (save != NULL) {
        /* a copy in its own document, so that the namespaces it uses from its ancestors are
        ** declared on it and the text stands alone */
        xmlDoc *document = xmlNewDoc(BAD_CAST "1.0");
        xmlNode *copy = document != NULL ? xmlDocCopyNode((xmlNode *)element, document, 1) : NULL;
        if (copy != NULL) {
            xmlDocSetRootElement(document, copy);
            status = declare_namespaces_in_scope(element, copy);
        }
        if (copy != NULL && status == 0) {
            xmlReconciliateNs(document, copy);
            status = xmlSaveTree(save, copy) < 0 ? -1 : 0;
        }
        if (xmlSaveClose(save) < 0)
            status = -1;
        xmlFreeDoc(document);
    }
    if (status == 0) {
        *length = (size_t)xmlBufferLength(buffer);
        text = malloc(*length + 1);
        if (text != NULL) {
            memcpy(text, xmlBufferContent(buffer), *length);
            text[*length] = '\0';
        }
    }
    xmlBufferFree(buffer);
    return text;
}

int wd_saml_serialize(wd_saml_assertion *a)
{
    if (a->xml == NULL)
        a->xml = wd_saml_serialize_element(a->element, &a->xml_length);
    return a->xml != NULL ? 0 : -1;
}

void wd_saml_clear(wd_saml_assertion *a)
{
    if (a == NULL)
        return;
    free(a->version);
    free(a->id);
    free(a->issuer);
    free(a->subject);
    free(a->name_id_format);
    free(a->authn_context);
    wd_cert_unref(a->confirmation_cert);
    for (size_t i = 0; i < a->audience_count; i++)
        free((char *)a->audience_items[i].data);
    free(a->audience_items);
    free(a->restriction_ends);
    for (size_t i = 0; i < a->attribute_pair_count; i++) {
        free((char *)a->attribute_pairs[i].name);
        free((char *)a->attribute_pairs[i].value);
    }
    free(a->attribute_pairs);
    free(a->xml);
    memset(a, 0, sizeof *a);
}

const char *wd_saml_confirmation_name(wd_saml_confirmation confirmation)
{
    switch (confirmation) {
    case WD_SAML_BEARER:
        return "bearer";
    case WD_SAML_HOLDER_OF_KEY:
        return "holder-of-key";
    case WD_SAML_SENDER_VOUCHES:
        return "sender-vouches";
    }
    return "unknown";
}
