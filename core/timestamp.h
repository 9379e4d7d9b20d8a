/*
** timestamp.h — everything about wsu:Timestamp: its form (BSP), and whether it is fresh.
*/
#ifndef WD_TIMESTAMP_H
#define WD_TIMESTAMP_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stdint.h>

#include "failure.h"
#include "settings.h"

typedef struct wd_timestamp {
    xmlNode *node;
    int64_t  created;
    int64_t  expires;     /* meaningful when has_expires */
    bool     has_expires;
} wd_timestamp;

/* Reads a wsu:Timestamp element. Rejections (timestamp-invalid): no Created or more than
** one, more than one Expires, Created/Expires not a UTC 'Z' xsd:dateTime, a ValueType
** attribute, other element children, Expires not after Created. */
int wd_timestamp_read(xmlNode *element, wd_timestamp *out, wd_failure *failure);

/* The freshness rule for any Created time (a Timestamp's or a UsernameToken's; what names
** it in the detail, e.g. "UsernameToken"): timestamp-future when created > now + future_ttl,
** timestamp-expired when now - created > ttl. */
int wd_timestamp_check_created(const char *what, int64_t created, int64_t now,
                               const wd_settings *settings, wd_failure *failure);

/* Checks freshness at time now: timestamp-future when created > now + future_ttl;
** timestamp-expired when now - created > ttl, or when it has Expires and now > expires + skew. */
int wd_timestamp_check(const wd_timestamp *timestamp, int64_t now, const wd_settings *settings,
                       wd_failure *failure);

#endif
