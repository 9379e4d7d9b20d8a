/*
** c14n_oracle.h — libxml2's own exclusive canonicalization of a subtree (xmlC14NExecute over
** the whole document with a visibility callback), kept for tests as the oracle that the
** verifier's subtree canonicalizer (core/c14n.c) must match byte for byte.
*/
#ifndef TS_C14N_ORACLE_H
#define TS_C14N_ORACLE_H

#include <libxml/tree.h>
#include <stddef.h>

/* Canonicalizes apex's subtree minus excluded's (NULL: none) with the PrefixList as written
** (NULL: none). Returns 0 with *out (malloc'd, NUL-terminated; free()) and *length, or -1
** when libxml2 refuses the document. */
int ts_c14n_oracle(xmlNode *apex, const xmlNode *excluded, const char *prefix_list, char **out,
                   size_t *length);

#endif
