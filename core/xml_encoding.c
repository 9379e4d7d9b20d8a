/*
** xml_encoding.c — does the document's encoding, as its first bytes show it, agree with the
** encoding its XML declaration names? libxml2 settles a disagreement silently, and not
** always the same way: it follows a UTF-16 byte-order mark over a declared UTF-8, but a
** declared ISO-8859-1 over a UTF-8 mark. Another parser on the message's path may settle it
** the other way and read other text than the text we verified, so a disagreement is
** malformed, decided here on the raw bytes before libxml2 runs.
**
** The first bytes are read as the XML specification's appendix F reads them: a byte-order
** mark (UTF-8, UTF-16 either way, UTF-32 either way), else "<?" as 16-bit units without a
** mark, else 8-bit text (ASCII-compatible: UTF-8 or a single-byte encoding the declaration
** names). The declaration is read strictly and only as far as its encoding; one that cannot
** be read is malformed too, so that libxml2 never finds an encoding this reader missed.
*/
#include "xml_encoding.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Longest XML declaration followed, in characters; clients write about 40. */
#define MAX_DECLARATION 256
/* Longest encoding name kept (IANA names are at most 40 characters). */
#define MAX_ENCODING_NAME 64

/* The text after any mark, in code units of 1 or 2 bytes. */
typedef struct text_reader {
    const unsigned char *bytes;
    size_t               length;
    size_t               offset;  /* past the byte-order mark */
    size_t               unit;    /* 1 or 2 */
    bool                 little;  /* for 2-byte units */
} text_reader;

/* Names are compared without regard to case (XML 1.0 section 4.3.3). */
static const char *const utf8_names[] = { "UTF-8", "UTF8", NULL };
static const char *const utf16le_names[] = { "UTF-16", "UTF16", "UTF-16LE", "UTF16LE", NULL };
static const char *const utf16be_names[] = { "UTF-16", "UTF16", "UTF-16BE", "UTF16BE", NULL };
/* Encodings whose units are wider than a byte: no 8-bit document can be in one. */
static const char *const wide_prefixes[] = {
    "UTF-16", "UTF16", "UTF-32", "UTF32", "UCS-2", "UCS2", "UCS-4", "UCS4", "ISO-10646-UCS", "UNICODE", NULL,
};

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool has_prefix(const char *name, const char *prefix)
{
    for (; *prefix != '\0'; name++, prefix++) {
        if (lower((unsigned char)*name) != lower((unsigned char)*prefix))
            return false;
    }
    return true;
}

static bool is_one_of(const char *name, const char *const *list, bool prefixes)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (has_prefix(name, list[i]) && (prefixes || name[strlen(list[i])] == '\0'))
            return true;
    }
    return false;
}

/* The i-th character of the text when it is ASCII; -1 past the end, past MAX_DECLARATION,
** or for anything else (nothing in a declaration is outside ASCII). */
static int char_at(const text_reader *reader, size_t i)
{
    size_t at;
    unsigned c;

    if (i >= MAX_DECLARATION)
        return -1;
    at = reader->offset + i * reader->unit;
    if (at > reader->length || reader->length - at < reader->unit)
        return -1;
    if (reader->unit == 1) {
        c = reader->bytes[at];
    } else {
        unsigned low = reader->bytes[at + (reader->little ? 0 : 1)];
        unsigned high = reader->bytes[at + (reader->little ? 1 : 0)];
        if (high != 0)
            return -1;
        c = low;
    }
    return c < 0x80 ? (int)c : -1;
}

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_spaces(const text_reader *reader, size_t *i)
{
    while (is_space(char_at(reader, *i)))
        (*i)++;
}

static bool match_word(const text_reader *reader, size_t *i, const char *word)
{
    size_t k = 0;

    for (; word[k] != '\0'; k++) {
        if (char_at(reader, *i + k) != word[k])
            return false;
    }
    *i += k;
    return true;
}

/* Eq and a quoted value: S? '=' S? ('"' ... '"' | "'" ... "'"). The value goes to out
** (when given), which must hold it. */
static int read_value(const text_reader *reader, size_t *i, const char *what, char *out, size_t capacity,
                      wd_failure *failure)
{
    size_t used = 0;
    int quote;
    int c;

    skip_spaces(reader, i);
    if (char_at(reader, *i) != '=')
        return wd_fail(failure, WD_REASON_MALFORMED, "XML declaration: no '=' after %s", what);
    (*i)++;
    skip_spaces(reader, i);
    quote = char_at(reader, *i);
    if (quote != '"' && quote != '\'')
        return wd_fail(failure, WD_REASON_MALFORMED, "XML declaration: %s is not quoted", what);
    for ((*i)++; (c = char_at(reader, *i)) != quote; (*i)++) {
        if (c < 0)
            return wd_fail(failure, WD_REASON_MALFORMED,
                           "XML declaration: %s is cut short, too long or not ASCII", what);
        if (out != NULL) {
            if (used + 1 >= capacity)
                return wd_fail(failure, WD_REASON_MALFORMED, "XML declaration: %s is too long", what);
            out[used++] = (char)c;
        }
    }
    (*i)++;
    if (out != NULL)
        out[used] = '\0';
    return 0;
}

/* EncName ::= [A-Za-z] ([A-Za-z0-9._] | '-')* */
static bool is_encoding_name(const char *name)
{
    if (!((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')))
        return false;
    for (const char *c = name + 1; *c != '\0'; c++) {
        bool letter = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z');
        bool digit = *c >= '0' && *c <= '9';
        if (!letter && !digit && *c != '.' && *c != '_' && *c != '-')
            return false;
    }
    return true;
}

/* The declared encoding, into name ("" when the document has no declaration or the
** declaration names none): '<?xml' S 'version' Eq Literal (S? 'encoding' Eq Literal)?.
** The space before encoding is not insisted on: libxml2 reports its absence but still
** reads the encoding, so this reader must see it as well. */
static int read_declared_encoding(const text_reader *reader, char name[MAX_ENCODING_NAME + 1], wd_failure *failure)
{
    size_t i = 0;

    name[0] = '\0';
    if (!match_word(reader, &i, "<?xml"))
        return 0;
    if (!is_space(char_at(reader, i)))
        return 0; /* "<?xml-stylesheet": a processing instruction, which the parser refuses */
    skip_spaces(reader, &i);
    if (!match_word(reader, &i, "version"))
        return wd_fail(failure, WD_REASON_MALFORMED, "XML declaration does not begin with version");
    if (read_value(reader, &i, "version", NULL, 0, failure) != 0)
        return -1;
    skip_spaces(reader, &i);
    /* Something follows in a declaration we can read: at least its "?>". */
    if (char_at(reader, i) < 0)
        return wd_fail(failure, WD_REASON_MALFORMED, "XML declaration is cut short, too long or not ASCII");
    if (!match_word(reader, &i, "encoding"))
        return 0;
    if (read_value(reader, &i, "encoding", name, MAX_ENCODING_NAME + 1, failure) != 0)
        return -1;
    if (!is_encoding_name(name))
        return wd_fail(failure, WD_REASON_MALFORMED, "XML declaration: \"%s\" is not an encoding name", name);
    return 0;
}

int wd_xml_check_encoding(const unsigned char *bytes, size_t length, wd_failure *failure)
{
    text_reader reader = { bytes, length, 0, 1, false };
    const char *const *accepted = NULL; /* NULL: 8-bit text, any name but a wide one */
    const char *shown = "";             /* what the first bytes say, for the message */
    bool marked = false;
    char name[MAX_ENCODING_NAME + 1];

    if (length >= 4 && ((bytes[0] == 0x00 && bytes[1] == 0x00 && bytes[2] == 0xFE && bytes[3] == 0xFF) ||
                        (bytes[0] == 0xFF && bytes[1] == 0xFE && bytes[2] == 0x00 && bytes[3] == 0x00)))
        return wd_fail(failure, WD_REASON_MALFORMED, "a UTF-32 byte-order mark: only UTF-8, UTF-16 and 8-bit "
                                                     "encodings are read");
    if (length >= 4 && ((bytes[0] == 0x00 && bytes[1] == 0x00 && bytes[2] == 0x00 && bytes[3] == 0x3C) ||
                        (bytes[0] == 0x3C && bytes[1] == 0x00 && bytes[2] == 0x00 && bytes[3] == 0x00) ||
                        (bytes[0] == 0x00 && bytes[1] == 0x00 && bytes[2] == 0x3C && bytes[3] == 0x00) ||
                        (bytes[0] == 0x00 && bytes[1] == 0x3C && bytes[2] == 0x00 && bytes[3] == 0x00)))
        return wd_fail(failure, WD_REASON_MALFORMED, "UTF-32 (UCS-4) text: only UTF-8, UTF-16 and 8-bit "
                                                     "encodings are read");

    if (length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF) {
        reader.offset = 3;
        accepted = utf8_names;
        shown = "UTF-8";
        marked = true;
    } else if (length >= 2 && ((bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF))) {
        reader.offset = 2;
        reader.unit = 2;
        reader.little = bytes[0] == 0xFF;
        accepted = reader.little ? utf16le_names : utf16be_names;
        shown = reader.little ? "UTF-16LE" : "UTF-16BE";
        marked = true;
    } else if (length >= 4 && ((bytes[0] == 0x3C && bytes[1] == 0x00 && bytes[2] == 0x3F && bytes[3] == 0x00) ||
                               (bytes[0] == 0x00 && bytes[1] == 0x3C && bytes[2] == 0x00 && bytes[3] == 0x3F))) {
        reader.unit = 2;
        reader.little = bytes[0] == 0x3C;
        accepted = reader.little ? utf16le_names : utf16be_names;
        shown = reader.little ? "UTF-16LE" : "UTF-16BE";
    }

    if (read_declared_encoding(&reader, name, failure) != 0)
        return -1;

    if (accepted == NULL) {
        if (name[0] != '\0' && is_one_of(name, wide_prefixes, true))
            return wd_fail(failure, WD_REASON_MALFORMED,
                           "the XML declaration says encoding=\"%s\" but the text is 8-bit (no byte-order mark)",
                           name);
        return 0;
    }
    if (name[0] == '\0') {
        if (marked)
            return 0; /* the mark alone says it */
        return wd_fail(failure, WD_REASON_MALFORMED, "%s text without a byte-order mark or a declared encoding",
                       shown);
    }
    if (!is_one_of(name, accepted, false))
        return wd_fail(failure, WD_REASON_MALFORMED, "the %s says %s but the XML declaration says encoding=\"%s\"",
                       marked ? "byte-order mark" : "first bytes", shown, name);
    return 0;
}
