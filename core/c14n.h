/*
** c14n.h — exclusive XML canonicalization 1.0 (without comments) of one element's subtree,
** streamed to a sink, so that a Reference's digest never needs the canonical bytes in memory
** and its cost is the size of the subtree, not of the document. The output is byte for byte
** that of libxml2's xmlC14NExecute(XML_C14N_EXCLUSIVE_1_0) over the same node set (tests hold
** the two side by side).
*/
#ifndef WD_C14N_H
#define WD_C14N_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "failure.h"

/* Receives the canonical bytes in pieces, in order. Returns 0, or -1 after recording in its
** own context why it failed (canonicalization then stops and reports that failure). */
typedef int (*wd_c14n_sink)(void *context, const unsigned char *data, size_t length);

/* At most this many prefixes in one InclusiveNamespaces PrefixList. */
#define WD_C14N_MAX_PREFIXES 64

/* What work without output costs against a budget, so that it is bounded too: a comment or a
** left-out subtree; parsing a namespace URI not seen before in the call (to refuse relative
** ones). A namespace declaration walked also costs its size as written. */
#define WD_C14N_SILENT_NODE_COST 16
#define WD_C14N_URI_PARSE_COST   64

/* The canonicalization budget of one message: every signature's SignedInfo and References
** together may cost at most this many units (see wd_c14n_subtree) for a message of
** message_bytes. Eight times the message lets every part be signed by each of several
** signatures, and a text of '>' (four times longer canonical) be signed twice; nested
** References over most of the document stop at it instead of multiplying the cost. */
#define WD_C14N_BUDGET_FACTOR 8
#define WD_C14N_BUDGET_SLACK  65536
#define WD_C14N_BUDGET(message_bytes) \
    ((message_bytes) > (SIZE_MAX - WD_C14N_BUDGET_SLACK) / WD_C14N_BUDGET_FACTOR \
         ? SIZE_MAX : (message_bytes) * WD_C14N_BUDGET_FACTOR + WD_C14N_BUDGET_SLACK)

/* Namespace URIs that earlier calls over the same document found good (libxml2 refuses
** relative or unparsable ones, so each URI walked is parsed once): a message's
** canonicalizations share one, so each URI is parsed once per message instead of once per
** call. Zero-initialised means empty. It points into the document: one document only. */
#define WD_C14N_MEMO_SLOTS 61
typedef struct wd_c14n_memo {
    const char *good_uris[WD_C14N_MEMO_SLOTS]; /* hashed by URI; NULL: empty slot */
} wd_c14n_memo;

/* Canonicalizes the subtree of apex (an element of a document), leaving out the subtree of
** excluded (NULL: nothing left out; the enveloped-signature transform passes the Signature).
** prefix_list is InclusiveNamespaces/@PrefixList as written (prefixes separated by XML
** whitespace, "#default" naming the default namespace), or NULL.
** budget (NULL: unbounded) is the work still allowed: every canonical byte costs 1, every
** namespace declaration walked its length as written (prefix + URI + 10) and
** WD_C14N_URI_PARSE_COST more when its URI is new to the call (to memo, when one is given), every node that produces
** nothing (comment, left-out subtree) WD_C14N_SILENT_NODE_COST; the call subtracts what it spent, and stops with
** limit-exceeded when the budget would go below zero.
** Returns 0; -1 with failure filled: `refusal` (the caller's reason) when the document cannot
** be canonicalized (a relative namespace URI, an entity reference, a PrefixList of more than
** WD_C14N_MAX_PREFIXES prefixes), limit-exceeded (budget), internal-error on allocation
** failure. When the sink fails, its own failure stands and failure is left untouched.
** Iterative (no recursion whatever the depth); one allocation per call, none per node unless
** the document needs more than the built-in stacks. Thread-safe; reads the tree only. */
int wd_c14n_subtree(xmlNode *apex, const xmlNode *excluded, const char *prefix_list,
                    wd_c14n_sink sink, void *sink_context, size_t *budget, wd_reason refusal,
                    wd_failure *failure);

/* wd_c14n_subtree sharing memo (NULL: a memo of this call only) with the other calls over the
** same document. */
int wd_c14n_subtree_memo(xmlNode *apex, const xmlNode *excluded, const char *prefix_list,
                         wd_c14n_sink sink, void *sink_context, size_t *budget, wd_c14n_memo *memo,
                         wd_reason refusal, wd_failure *failure);

/* Whether this build checks every call of wd_c14n_subtree against libxml2's canonicalizer
** and aborts on a difference (CMake WARDEN_C14N_DIFFERENTIAL, on in Debug builds). */
bool wd_c14n_differential(void);

#endif
