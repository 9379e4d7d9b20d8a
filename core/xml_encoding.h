/*
** xml_encoding.h — the encoding a document's first bytes show (a byte-order mark, or the
** XML specification's autodetection patterns) checked against the encoding its XML
** declaration names, before libxml2 sees the bytes.
*/
#ifndef WD_XML_ENCODING_H
#define WD_XML_ENCODING_H

#include <stddef.h>

#include "failure.h"

/* Returns 0 when the first bytes and the declaration agree (or there is nothing to agree
** on); -1 with malformed otherwise: a mark or 16-bit pattern and a declared encoding of
** another family or byte order (names compared case-insensitively), a 16-bit document
** without a declaration or mark, UTF-32 / UCS-4 in any form, an 8-bit document declaring a
** 16- or 32-bit encoding, an XML declaration this reader cannot follow. Pure; thread-safe. */
int wd_xml_check_encoding(const unsigned char *bytes, size_t length, wd_failure *failure);

#endif
