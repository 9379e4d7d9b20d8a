/*
** settings.c — the defaults of docs/reference.md, Configuration, for the verification core.
*/
#include "settings.h"

#include <string.h>

static const char *const default_signed_parts[] = { "Body", "Timestamp" };

void wd_settings_defaults(wd_settings *s)
{
    memset(s, 0, sizeof *s);
    s->require_token = true;
    s->require_signed = default_signed_parts;
    s->require_signed_count = 2;
    s->require_timestamp = WD_TIMESTAMP_WHEN_SIGNED;
    s->allow_sha1 = false;
    s->min_rsa_bits = 2048;
    s->ttl = 300;
    s->future_ttl = 60;
    s->skew = 300;
    s->actor = NULL;
    s->require_nonce = true;
    s->limits.message_bytes = 4194304;
    s->limits.depth = 64;
    s->limits.attributes = 256;
    s->limits.text_bytes = 1048576;
    s->limits.signatures = 4;
    s->limits.references = 32;
    s->limits.transforms = 4;
}
