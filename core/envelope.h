/*
** envelope.h — the SOAP envelope: its version, Header and Body, the mustUnderstand rule,
** WS-Addressing headers, the operation, and finding the one wsse:Security header addressed
** to us.
*/
#ifndef WD_ENVELOPE_H
#define WD_ENVELOPE_H

#include <libxml/tree.h>

#include "failure.h"

typedef struct wd_envelope {
    xmlDoc     *document;
    xmlNode    *envelope;
    xmlNode    *header;     /* NULL when absent */
    xmlNode    *body;       /* never NULL once read */
    xmlNode    *security;   /* the wsse:Security header for our actor, or NULL */
    int         soap_version; /* 11 or 12 */
    const char *soap_ns;    /* WD_NS_SOAP11 or WD_NS_SOAP12 (static) */
    xmlNode    *action;     /* WS-Addressing headers (direct children of Header), or NULL */
    xmlNode    *to;
    xmlNode    *message_id;
    xmlNode    *operation;  /* the Body's first element child, or NULL for an empty Body */
} wd_envelope;

/* Reads the envelope structure of a parsed document into *out (which borrows from document).
** actor: the wsse:Security actor (SOAP 1.1) / role (SOAP 1.2) addressed to us; NULL means
** the header without actor/role (SOAP 1.2's ultimateReceiver role counts as none).
** Rejections: not-soap (root is not a SOAP 1.1/1.2 Envelope, no Body or more than one, more
** than one Header, Header after Body, other Envelope children), mustunderstand (a header
** targeted at us carries mustUnderstand="1"/"true" and is neither our wsse:Security nor a
** WS-Addressing header; a wsse:Security for the "next" role with mustUnderstand, in any
** namespace, when actor does not name that role), security-header-duplicate (two
** wsse:Security for our actor), malformed (a WS-Addressing header with element/comment
** content, appearing twice). actor may name the "next" role by either version's URI; role
** and actor values are compared with surrounding whitespace ignored (xs:anyURI). */
int wd_envelope_read(xmlDoc *document, const char *actor, wd_envelope *out, wd_failure *failure);

#endif
