-- Tests of the orders policies: synthetic messages (shaped like the view `m`) and real
-- envelopes signed by python3-zeep (fixtures/, made by examples/make_fixtures.py).

local NOW = "2026-11-25T12:00:30Z"
local CREATED = 1795608000 -- 2026-11-25T12:00:00Z

local function order(action, fields)
  local m = { action = "urn:example:orders/" .. action, timestamp = { created = CREATED },
              signed = { Body = true, Timestamp = true }, body = {} }
  for k, v in pairs(fields) do m[k] = v end
  return m
end

test "clerk may create a small order" {
  message = order("Create", { cert = { subject = { CN = "alice", OU = "Payments" } }, body = { amount = "250" } }),
  now = NOW, expect = "allow", rules = { "payments clerks create small orders" },
}

test "clerk may not create an order above the limit" {
  message = order("Create", { cert = { subject = { CN = "alice", OU = "Payments" } }, body = { amount = "1001" } }),
  now = NOW, expect = "deny", reason = "no-permit",
}

test "operations staff may not create orders" {
  message = order("Create", { cert = { subject = { CN = "bob", OU = "Ops" } }, body = { amount = "10" } }),
  now = NOW, expect = "deny", reason = "no-permit",
}

test "an order without an amount is not a small order" {
  message = order("Create", { cert = { subject = { CN = "alice", OU = "Payments" } } }),
  now = NOW, expect = "deny", reason = "no-permit",
}

test "admin may cancel with a signed body" {
  message = order("Cancel", { cert = { subject = { CN = "carol", OU = "Ops" } } }),
  now = NOW, expect = "allow", rules = { "order admins may do anything" },
}

test "admin with a password still needs a signed body to change orders" {
  message = order("Cancel", { username = "carol", signed = {} }),
  now = NOW, expect = "deny", reason = "forbidden", rules = { "no unsigned bodies for changes" },
}

test "a two-minute-old request is stale" {
  message = order("Create", { cert = { subject = { CN = "alice", OU = "Payments" } }, body = { amount = "5" } }),
  now = "2026-11-25T12:02:01Z", expect = "deny", reason = "forbidden", rules = { "stale timestamps" },
}

test "users read order status" {
  message = order("GetStatus", { operation = "{urn:example:orders}GetStatus", username = "alice", signed = {} }),
  now = NOW, expect = "allow", rules = { "known users read order status" },
}

test "signed small order envelope is allowed" {
  envelope = "fixtures/create-small.xml", now = NOW, expect = "allow",
  rules = { "payments clerks create small orders" },
}

test "signed large order envelope is denied" {
  envelope = "fixtures/create-large.xml", now = NOW, expect = "deny", reason = "no-permit",
}

test "signed cancel envelope is allowed" {
  envelope = "fixtures/cancel.xml", now = NOW, expect = "allow", rules = { "payments clerks cancel orders" },
}

test "status by username token is allowed" {
  envelope = "fixtures/status-alice.xml", now = NOW, expect = "allow",
}

test "creating an order with only a password is forbidden" {
  envelope = "fixtures/create-by-password.xml", now = NOW, expect = "deny", reason = "forbidden",
}

test "a tampered envelope never reaches the policies" {
  envelope = "fixtures/create-tampered.xml", now = NOW, expect = "deny", reason = "digest-mismatch",
}

test "an envelope older than the policy allows is denied" {
  envelope = "fixtures/create-small.xml", now = "2026-11-25T12:03:00Z", expect = "deny", reason = "forbidden",
  rules = { "stale timestamps" },
}

-- SAML (saml.lua): assertions as the verifier delivers them in m.saml.
local function saml_order(action, saml, fields)
  local m = order(action, fields or {})
  m.operation = m.operation or "{urn:example:orders}" .. action .. "Order"
  m.saml = saml
  return m
end

local function assertion(roles, audiences, issuer)
  return { version = "2.0", id = "_a1", issuer = issuer or "https://idp.example.com/saml",
           subject = "dana@example.com", confirmation = "bearer", audiences = audiences or { "urn:example:orders" },
           authn_context = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
           attributes = { role = roles } }
end

test "SAML clerk may create a small order" {
  message = saml_order("Create", assertion({ "clerk" }), { body = { amount = "40" } }),
  now = NOW, expect = "allow", rules = { "SAML clerks create small orders" },
}

test "SAML clerk may not create an order above the limit" {
  message = saml_order("Create", assertion({ "clerk" }), { body = { amount = "5000" } }),
  now = NOW, expect = "deny", reason = "no-permit",
}

test "SAML assertion for another service does not count" {
  message = saml_order("Create", assertion({ "clerk" }, { "urn:example:payroll" }), { body = { amount = "40" } }),
  now = NOW, expect = "deny", reason = "no-permit",
}

test "SAML assertion of another issuer does not count" {
  message = saml_order("Create", assertion({ "clerk" }, nil, "https://idp.evil.example"), { body = { amount = "40" } }),
  now = NOW, expect = "deny", reason = "no-permit",
}

test "SAML approver approves orders" {
  message = saml_order("Approve", assertion({ "auditor", "approver" }),
                       { operation = "{urn:example:orders}ApproveOrder" }),
  now = NOW, expect = "allow", rules = { "SAML approvers approve orders" },
}

test "SAML clerk does not approve orders" {
  message = saml_order("Approve", assertion({ "clerk" }), { operation = "{urn:example:orders}ApproveOrder" }),
  now = NOW, expect = "deny", reason = "no-permit",
}

test "a message without an assertion is no SAML clerk" {
  message = order("Create", { body = { amount = "40" } }),
  now = NOW, expect = "deny", reason = "no-permit",
}
