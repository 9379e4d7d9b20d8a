-- SAML: people our identity provider vouches for. An assertion counts only when it was issued
-- by our IdP for this service (its AudienceRestriction names us); the IdP's "role" attribute
-- then says what its subject may do. The verifier has already checked the IdP's signature,
-- the assertion's times and its subject confirmation; saml.audiences in the configuration
-- enforces the audience for every message, and the check here keeps the policy honest when a
-- configuration leaves it empty.

local IDP = "https://idp.example.com/saml"
local SERVICE = "urn:example:orders"

local function has(list, wanted)
  for _, item in ipairs(list or {}) do
    if item == wanted then return true end
  end
  return false
end

-- The message's assertion when it is ours and names this service, else nil.
local function our_assertion(m)
  local saml = m.saml
  if saml == nil or saml.issuer ~= IDP or not has(saml.audiences, SERVICE) then return nil end
  return saml
end

permit "SAML clerks create small orders" {
  operation = "{urn:example:orders}CreateOrder",
  description = "an assertion of our IdP with role clerk, an amount within the clerk limit",
  when = function(m)
    local saml = our_assertion(m)
    local amount = tonumber(m:body("amount"))
    return saml ~= nil and has(saml.attributes.role, "clerk")
       and amount ~= nil and amount <= data.limits.clerk_max_amount
  end,
}

permit "SAML approvers approve orders" {
  operation = "{urn:example:orders}ApproveOrder",
  description = "an assertion of our IdP with role approver, from a password login or better",
  when = function(m)
    local saml = our_assertion(m)
    return saml ~= nil and has(saml.attributes.role, "approver") and saml.authn_context ~= nil
  end,
}
