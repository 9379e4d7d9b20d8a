/*
** view.h — the read-only message view `m` a policy sees (docs/reference.md, Message view),
** built lazily: a field is read from the message through the public property API (warden.h)
** only when a policy touches it, then cached for the rest of the decision. The same view shape
** over a synthetic message table serves the policy tests.
*/
#ifndef WD_LUA_VIEW_H
#define WD_LUA_VIEW_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

#include "../include/warden.h"

/* Pushes the view of a delivered message. message must outlive every use of the view (the
** decision). The state keeps one view object (and one m.timestamp table) and points it at
** each new message, so a view a policy kept from an earlier decision reads the current
** message; token views kept from an earlier decision raise "no longer valid" instead of
** reading a freed message. Assigning to the view or any table in it raises "the message view is
** read-only". Fields: action, to, message_id, soap, operation, protection, username,
** timestamp.created|expires, now, signed.NAME, cert (subject, issuer, subject_all,
** issuer_all, subject_dn, issuer_dn, serial, sha256, not_before, not_after,
** san.dns|email|uri|ip, key.type|bits), tokens (list of token views: kind, role, key_type,
** valid_from, valid_till, x509 = {...same as cert}, username = {name, password_type}),
** attrs, and the method m:body(path) (exactly one result: the text or nil). Times are
** numbers (Unix seconds). Known fields the message lacks are nil; reading a name a table of
** the view does not know raises "no field `usename` on m; did you mean `username`?" (strict
** views; m.attrs stays open). `signed` and `attrs` and `tokens` are always tables. [-0, +1, m] */
void wd_view_push_message(lua_State *L, const warden_message *message);

/* Pushes the view of a synthetic message (policy tests): the table at index, shaped like the
** view (cert = { subject = { CN = ... } }, signed = { Body = true }, body = { amount = "250" },
** ...), made read-only; m:body(path) looks path up in its `body` table. Missing tables
** (signed, attrs, tokens) read as empty tables; `now` defaults to the evaluation time given.
** As strict as a real message's view: unknown names raise, the test's table is left as it
** is. [-0, +1, m] */
void wd_view_push_synthetic(lua_State *L, int index, int64_t now);

/* The names each table of the view knows (strict views): reading any other name raises "no
** field `usename` on m; did you mean `username`?". warden check uses the same schemas to find
** such reads in bytecode. Schemas are static; these calls are pure. */
typedef struct wd_view_schema wd_view_schema;

/* Longest message wd_view_schema_unknown writes (longer names are cut). */
#define WD_VIEW_MESSAGE_MAX 256

/* The schema of `m` itself. */
const wd_view_schema *wd_view_schema_root(void);

/* Whether s knows name (*known), and the schema of the table under it (NULL: not a table of
** the view, or any name reads there, as in m.attrs). s may be NULL (anything is known). */
const wd_view_schema *wd_view_schema_field(const wd_view_schema *s, const char *name, bool *known);

/* The schema of each element of a list such as m.tokens, or NULL. */
const wd_view_schema *wd_view_schema_item(const wd_view_schema *s);

/* Writes the message a read of an unknown name raises (without "FILE:LINE: "). */
void wd_view_schema_unknown(const wd_view_schema *s, const char *name, char *message, size_t capacity);

/* The name of names (NULL-terminated) nearest to name by edit distance (case counts least),
** or NULL when names is empty. */
const char *wd_view_nearest(const char *name, const char *const *names);

#endif
