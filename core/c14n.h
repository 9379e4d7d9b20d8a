/*
** c14n.h — exclusive XML canonicalization 1.0 (without comments) of one element's subtree,
** done by libxml2's canonicalizer and streamed to a sink, so that a Reference's digest never
** needs the canonical bytes in memory.
*/
#ifndef WD_C14N_H
#define WD_C14N_H

#include <libxml/tree.h>
#include <stddef.h>

#include "failure.h"

/* Receives the canonical bytes in pieces, in order. Returns 0, or -1 after recording in its
** own context why it failed (canonicalization then stops and reports that failure). */
typedef int (*wd_c14n_sink)(void *context, const unsigned char *data, size_t length);

/* At most this many prefixes in one InclusiveNamespaces PrefixList. */
#define WD_C14N_MAX_PREFIXES 64

/* Canonicalizes the subtree of apex (an element of a document), leaving out the subtree of
** excluded (NULL: nothing left out; the enveloped-signature transform passes the Signature).
** prefix_list is InclusiveNamespaces/@PrefixList as written (prefixes separated by XML
** whitespace, "#default" naming the default namespace), or NULL.
** Returns 0; -1 with failure filled: `refusal` (the caller's reason) when the document cannot
** be canonicalized (a relative namespace URI, a PrefixList of more than WD_C14N_MAX_PREFIXES
** prefixes) and internal-error on allocation failure. When the sink fails, its own failure
** stands and failure is left untouched. Thread-safe. */
int wd_c14n_subtree(xmlNode *apex, const xmlNode *excluded, const char *prefix_list,
                    wd_c14n_sink sink, void *sink_context, wd_reason refusal, wd_failure *failure);

#endif
