/*
** view.h — the read-only message view `m` a policy sees (docs/reference.md, Message view),
** built lazily: a field is read from the message through the public property API (warden.h)
** only when a policy touches it, then cached for the rest of the decision. The same view shape
** over a synthetic message table serves the policy tests.
*/
#ifndef WD_LUA_VIEW_H
#define WD_LUA_VIEW_H

#include <lua.h>

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
** attrs, and the method m:body(path). Times are numbers (Unix seconds). Absent fields are
** nil; `signed` and `attrs` and `tokens` are always tables. [-0, +1, m] */
void wd_view_push_message(lua_State *L, const warden_message *message);

/* Pushes the view of a synthetic message (policy tests): the table at index, shaped like the
** view (cert = { subject = { CN = ... } }, signed = { Body = true }, body = { amount = "250" },
** ...), made read-only; m:body(path) looks path up in its `body` table. Missing tables
** (signed, attrs, tokens) read as empty tables; `now` defaults to the evaluation time given.
** [-0, +1, m] */
void wd_view_push_synthetic(lua_State *L, int index, int64_t now);

#endif
