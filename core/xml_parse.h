/*
** xml_parse.h — turning untrusted bytes into a libxml2 document safely: no DTD (a DOCTYPE is
** "dtd-forbidden"), no entity expansion, no network, and the limits of wd_limits enforced
** while parsing so that a hostile message never costs more than the limits allow.
*/
#ifndef WD_XML_PARSE_H
#define WD_XML_PARSE_H

#include <libxml/tree.h>
#include <stddef.h>

#include "failure.h"
#include "settings.h"

/* Initialises libxml2 once per process (its tables must exist before threads parse); safe
** to call from any thread, any number of times. Engines call it when they are made. */
void wd_xml_initialise(void);

/* Parses bytes into *out (owned by the caller: xmlFreeDoc). Rejections: malformed (not
** well-formed XML, entity references, empty input, an encoding declaration that disagrees
** with the byte-order mark or first bytes, UTF-32: see xml_encoding.h), dtd-forbidden,
** limit-exceeded. Thread-safe. */
int wd_xml_parse(const void *bytes, size_t length, const wd_limits *limits, xmlDocPtr *out,
                 wd_failure *failure);

#endif
