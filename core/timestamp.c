/*
** timestamp.c — everything about wsu:Timestamp: its form as the Basic Security Profile
** requires it (R3203, R3221, R3222, R3224, R3225/R3226, R3217/R3223, R3220/R3229) and
** whether it is fresh.
*/
#include "timestamp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../include/warden.h"
#include "namespaces.h"
#include "time_text.h"
#include "xml_text.h"

static bool has_value_type(const xmlNode *element)
{
    /* Any namespace: a prefixed ValueType is as much an attempt to retype the time. */
    for (const xmlAttr *attribute = element->properties; attribute != NULL; attribute = attribute->next) {
        if (attribute->name != NULL && strcmp((const char *)attribute->name, "ValueType") == 0)
            return true;
    }
    return false;
}

static bool is_xml_whitespace_only(const xmlChar *text)
{
    for (; text != NULL && *text != '\0'; text++) {
        if (*text != ' ' && *text != '\t' && *text != '\r' && *text != '\n')
            return false;
    }
    return true;
}

/* Reads the UTC time of a wsu:Created or wsu:Expires child. */
static int read_time(const xmlNode *element, const char *name, int64_t *out, wd_failure *failure)
{
    size_t length = 0;
    int    result = -1;
    char  *text;

    if (has_value_type(element))
        return wd_fail(failure, WD_REASON_TIMESTAMP_INVALID, "Timestamp %s carries a ValueType", name);
    text = wd_xml_text(element, true, &length);
    if (text == NULL) {
        if (length == SIZE_MAX)
            return wd_fail(failure, WD_REASON_TIMESTAMP_INVALID, "Timestamp %s holds more than text", name);
        return wd_fail_internal(failure, WARDEN_E_NOMEM, "out of memory reading Timestamp %s", name);
    }
    /* BSP R3220/R3229: milliseconds at most. A longer fraction is a form no conforming sender
    ** emits; refusing it keeps us in step with verifiers that enforce the profile (WSS4J). */
    if (wd_time_parse(text, length, WD_TIME_REQUIRE_UTC | WD_TIME_MILLISECONDS, out) != 0) {
        wd_fail(failure, WD_REASON_TIMESTAMP_INVALID,
                "Timestamp %s \"%.40s\" is not a UTC xsd:dateTime ending in 'Z' with at most 3 fraction digits",
                name, text);
        goto done;
    }
    result = 0;

done:
    free(text);
    return result;
}

int wd_timestamp_read(xmlNode *element, wd_timestamp *out, wd_failure *failure)
{
    wd_timestamp timestamp = { .node = element };
    int          created_count = 0;
    int          expires_count = 0;

    if (out == NULL)
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "wd_timestamp_read without a result");
    memset(out, 0, sizeof *out);
    if (!wd_xml_is(element, WD_NS_WSU, "Timestamp"))
        return wd_fail(failure, WD_REASON_TIMESTAMP_INVALID, "not a wsu:Timestamp element");

    for (const xmlNode *child = element->children; child != NULL; child = child->next) {
        if (child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE) {
            if (!is_xml_whitespace_only(child->content))
                return wd_fail(failure, WD_REASON_TIMESTAMP_INVALID, "Timestamp holds text");
            continue;
        }
        if (child->type != XML_ELEMENT_NODE)
            continue; /* comments and PIs carry no meaning here */

        if (wd_xml_is(child, WD_NS_WSU, "Created")) {
            if (++created_count > 1)
                return wd_fail(failure, WD_REASON_TIMESTAMP_INVALID, "Timestamp has more than one Created");
            if (read_time(child, "Created", &timestamp.created, failure) != 0)
                return -1;
        } else if (wd_xml_is(child, WD_NS_WSU, "Expires")) {
            if (++expires_count > 1)
                return wd_fail(failure, WD_REASON_TIMESTAMP_INVALID, "Timestamp has more than one Expires");
            /* BSP R3221: Created precedes its sibling Expires. */
            if (created_count == 0)
                return wd_fail(failure, WD_REASON_TIMESTAMP_INVALID, "Timestamp Expires comes before Created");
            if (read_time(child, "Expires", &timestamp.expires, failure) != 0)
                return -1;
            timestamp.has_expires = true;
        } else {
            return wd_fail(failure, WD_REASON_TIMESTAMP_INVALID, "Timestamp holds an element other than Created and Expires: %.80s",
                           child->name != NULL ? (const char *)child->name : "?");
        }
    }
    if (created_count == 0)
        return wd_fail(failure, WD_REASON_TIMESTAMP_INVALID, "Timestamp has no Created");
    if (timestamp.has_expires && timestamp.expires <= timestamp.created) {
        char created[21], expires[21];
        wd_time_format(timestamp.created, created);
        wd_time_format(timestamp.expires, expires);
        return wd_fail(failure, WD_REASON_TIMESTAMP_INVALID, "Timestamp Expires %s is not after Created %s",
                       expires, created);
    }
    *out = timestamp;
    return 0;
}

/* a - b, saturated to the int64_t range: now comes from the embedder and may be anything. */
static int64_t difference(int64_t a, int64_t b)
{
    if (b < 0 && a > INT64_MAX + b)
        return INT64_MAX;
    if (b > 0 && a < INT64_MIN + b)
        return INT64_MIN;
    return a - b;
}

int wd_timestamp_check_created(const char *what, int64_t created, int64_t now,
                               const wd_settings *settings, wd_failure *failure)
{
    char created_text[21], clock[21];

    wd_time_format(created, created_text);
    wd_time_format(now, clock);
    if (difference(created, now) > settings->future_ttl)
        return wd_fail(failure, WD_REASON_TIMESTAMP_FUTURE, "%s Created %s is more than %lld s ahead of now %s",
                       what, created_text, (long long)settings->future_ttl, clock);
    if (difference(now, created) > settings->ttl)
        return wd_fail(failure, WD_REASON_TIMESTAMP_EXPIRED, "%s Created %s is more than %lld s before now %s",
                       what, created_text, (long long)settings->ttl, clock);
    return 0;
}

int wd_timestamp_check(const wd_timestamp *timestamp, int64_t now, const wd_settings *settings,
                       wd_failure *failure)
{
    char expires[21], clock[21];

    if (timestamp == NULL || settings == NULL)
        return wd_fail_internal(failure, WARDEN_E_INTERNAL, "wd_timestamp_check without a timestamp or settings");
    if (wd_timestamp_check_created("Timestamp", timestamp->created, now, settings, failure) != 0)
        return -1;
    if (timestamp->has_expires && difference(now, timestamp->expires) > settings->skew) {
        wd_time_format(timestamp->expires, expires);
        wd_time_format(now, clock);
        return wd_fail(failure, WD_REASON_TIMESTAMP_EXPIRED,
                       "Timestamp Expires %s passed more than %lld s before now %s", expires,
                       (long long)settings->skew, clock);
    }
    return 0;
}
