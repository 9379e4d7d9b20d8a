/*
** soap_headers.c — the request headers Warden reads to judge a SOAP request, read one way:
** the HTTP-level action (SOAPAction, else the action parameter of the Content-Type) and the
** tokens of a comma-separated list (Connection). In gateway mode the application reads these
** headers again, with its own parser: every form two parsers could read differently (quotes
** inside a SOAPAction, a ';' inside a quoted parameter, a backslash escape, an action given twice
** or two different ways) is refused here, so the action Warden judged is the one the application
** dispatches by; and whether the Content-Type says the body is the one XML document Warden
** judges (a multipart/related body is read part by part by an application, and its parts can
** hide in a comment of the document Warden verified).
*/
#include "serve.h"

#include <assert.h>
#include <string.h>
#include <strings.h>

/* A token character (RFC 9110 5.6.2). */
static bool is_tchar(unsigned char c)
{
    return c > 0x20 && c < 0x7f && strchr("\"(),/:;<=>?@[\\]{}", c) == NULL;
}

static const char *skip_blanks(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* A SOAPAction value (SOAP 1.1 section 6.1.1: a quoted URI, or "" or nothing), read as most
** SOAP stacks read it: the quotes of a quoted value removed. A URI holds no blank, quote or
** backslash; an unquoted comma could be read as a list by one parser and not another. */
static bool read_soap_action(const char *value, const char **action, size_t *length)
{
    size_t n = strlen(value);
    bool quoted = n > 0 && value[0] == '"';
    if (quoted) {
        if (n < 2 || value[n - 1] != '"')
            return false;
        value++;
        n -= 2;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c == ' ' || c == '\t' || c == '"' || c == '\\' || (c == ',' && !quoted))
            return false;
    }
    *action = value;
    *length = n;
    return true;
}

/* The parameter wanted of a Content-Type (RFC 9110 8.3.1: type/subtype *( OWS ";" OWS [ name
** "=" value ] ), value a token or a quoted string), or NULL when there is none. A quoted string
** may hold ';' and '=' (which a naive split would cut at) but no backslash escape, which parsers
** undo or keep; an unquoted value holds no quote; the parameter must not be given twice. */
static bool read_parameter(const char *type, const char *wanted, const char **found, size_t *length)
{
    const char *p = type;
    size_t wanted_length = strlen(wanted);
    *found = NULL;
    *length = 0;
    if (*p == '\0')
        return true; /* an empty Content-Type: no type, no parameter, for any reader */
    /* type/subtype, one of each: a list ("text/xml, application/soap+xml") is read by some
    ** parsers as its first member, by others as its last */
    for (int part = 0; part < 2; part++) {
        const char *start = p;
        while (is_tchar((unsigned char)*p))
            p++;
        if (p == start || (part == 0 && *p++ != '/'))
            return false;
    }
    p = skip_blanks(p);
    if (*p != ';' && *p != '\0')
        return false;
    while (*p == ';') {
        p = skip_blanks(p + 1);
        if (*p == ';' || *p == '\0')
            continue; /* an empty parameter */
        const char *name = p;
        while (is_tchar((unsigned char)*p))
            p++;
        size_t name_length = (size_t)(p - name);
        if (name_length == 0 || *p != '=')
            return false;
        p++;
        const char *value = p;
        size_t value_length;
        if (*p == '"') {
            value = ++p;
            while (*p != '"' && *p != '\0') {
                if (*p == '\\')
                    return false;
                p++;
            }
            if (*p != '"')
                return false;
            value_length = (size_t)(p - value);
            p++;
        } else {
            while (*p != '\0' && *p != ';' && *p != ' ' && *p != '\t') {
                if (*p == '"' || *p == '\\')
                    return false;
                p++;
            }
            value_length = (size_t)(p - value);
        }
        p = skip_blanks(p);
        if (*p != ';' && *p != '\0')
            return false;
        if (name_length == wanted_length && strncasecmp(name, wanted, wanted_length) == 0) {
            if (*found != NULL)
                return false;
            *found = value;
            *length = value_length;
        }
    }
    assert(*p == '\0');
    return true;
}

bool serve_http_action(const char *soap_action, const char *content_type, char out[SERVE_ACTION_LIMIT])
{
    const char *header = NULL, *parameter = NULL;
    size_t header_length = 0, parameter_length = 0;
    if (soap_action != NULL && !read_soap_action(soap_action, &header, &header_length))
        return false;
    const char *charset;
    size_t charset_length;
    if (content_type != NULL && (!read_parameter(content_type, "action", &parameter, &parameter_length)
                                 || !read_parameter(content_type, "charset", &charset, &charset_length)))
        return false; /* (a charset given twice is read two ways too) */
    /* the parameter is a URI too: no blank even inside its quotes */
    for (size_t i = 0; i < parameter_length; i++) {
        if (parameter[i] == ' ' || parameter[i] == '\t')
            return false;
    }
    /* a SOAP 1.1 application dispatches by SOAPAction, a SOAP 1.2 one by the parameter: two
    ** different actions would be judged as one and dispatched as the other */
    if (header != NULL && parameter != NULL
        && (header_length != parameter_length || memcmp(header, parameter, header_length) != 0))
        return false;
    const char *action = header != NULL ? header : parameter;
    size_t length = header != NULL ? header_length : parameter_length;
    if (length >= SERVE_ACTION_LIMIT)
        return false; /* never judged cut short */
    if (out != NULL) {
        memcpy(out, action != NULL ? action : "", length);
        out[length] = '\0';
    }
    return true;
}

bool serve_list_names(const char *list, const char *name)
{
    size_t length = strlen(name);
    for (const char *p = list; *p != '\0';) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *start = p;
        while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        if ((size_t)(p - start) == length && length > 0 && strncasecmp(start, name, length) == 0)
            return true;
    }
    return false;
}

/* Whether a Content-Type's media type (what comes before its parameters) is type, letter case
** aside. */
static bool media_type_is(const char *content_type, const char *type)
{
    size_t length = strcspn(content_type, "; \t");
    return length == strlen(type) && strncasecmp(content_type, type, length) == 0;
}

bool serve_content_type_is_xml(const char *content_type)
{
    static const char *const types[] = { "text/xml", "application/soap+xml", "application/xml", NULL };
    if (content_type == NULL || content_type[0] == '\0')
        return true;
    for (size_t i = 0; types[i] != NULL; i++) {
        if (media_type_is(content_type, types[i]))
            return true;
    }
    return false;
}

bool serve_content_type_is_soap12(const char *content_type)
{
    return content_type != NULL && media_type_is(content_type, "application/soap+xml");
}

/* Whether two encoding names name the same encoding, as far as told here: letter case aside,
** with or without the '-' of "UTF-8" and "UTF-16". */
static bool same_encoding(const char *a, size_t a_length, const char *b)
{
    static const char *const aliases[][2] = { { "utf8", "utf-8" }, { "utf16", "utf-16" } };
    size_t b_length = strlen(b);
    if (a_length == b_length && strncasecmp(a, b, a_length) == 0)
        return true;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        for (int k = 0; k < 2; k++) {
            if (a_length == strlen(aliases[i][k]) && strncasecmp(a, aliases[i][k], a_length) == 0
                && strcasecmp(b, aliases[i][1 - k]) == 0)
                return true;
        }
    }
    return false;
}

bool serve_charset_agrees(const char *content_type, const unsigned char *body, size_t length)
{
    const char *charset;
    size_t charset_length;
    if (content_type == NULL || !read_parameter(content_type, "charset", &charset, &charset_length))
        return content_type == NULL;
    if (charset == NULL)
        return true;
    /* the document's own encoding, as the core reads it (a byte-order mark, else the XML
    ** declaration's, else UTF-8); the core refuses a mark and a declaration that disagree */
    if (length >= 2 && ((body[0] == 0xff && body[1] == 0xfe) || (body[0] == 0xfe && body[1] == 0xff))) {
        bool little = body[0] == 0xff;
        return same_encoding(charset, charset_length, "utf-16")
               || same_encoding(charset, charset_length, little ? "utf-16le" : "utf-16be");
    }
    size_t at = length >= 3 && body[0] == 0xef && body[1] == 0xbb && body[2] == 0xbf ? 3 : 0;
    const char *declared = "utf-8";
    char name[64];
    if (length - at >= 5 && memcmp(body + at, "<?xml", 5) == 0) {
        const unsigned char *end = memchr(body + at, '>', length - at);
        size_t span = end != NULL ? (size_t)(end - (body + at)) : length - at;
        for (size_t i = at + 5; i + 9 < at + span; i++) {
            if (memcmp(body + i, "encoding", 8) != 0)
                continue;
            size_t k = i + 8;
            while (k < at + span && (body[k] == ' ' || body[k] == '\t' || body[k] == '\r' || body[k] == '\n'))
                k++;
            if (k >= at + span || body[k] != '=')
                break;
            k++;
            while (k < at + span && (body[k] == ' ' || body[k] == '\t' || body[k] == '\r' || body[k] == '\n'))
                k++;
            if (k >= at + span || (body[k] != '"' && body[k] != '\''))
                break;
            unsigned char quote = body[k++];
            size_t n = 0;
            while (k < at + span && body[k] != quote && n + 1 < sizeof name)
                name[n++] = (char)body[k++];
            name[n] = '\0';
            declared = name;
            break;
        }
    }
    return same_encoding(charset, charset_length, declared);
}
