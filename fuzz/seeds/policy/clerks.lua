-- Payments clerks: a certificate from the Payments unit may create orders up to the limit
-- in data/limits.json, and cancel orders.

local function payments_clerk(m)
  return m.cert ~= nil and m.cert.subject.OU == "Payments"
end

permit "payments clerks create small orders" {
  action = "urn:example:orders/Create",
  description = "a Payments certificate, a signed body, an amount within the clerk limit",
  when = function(m)
    local amount = tonumber(m:body("amount"))
    return payments_clerk(m) and amount ~= nil and amount <= data.limits.clerk_max_amount
  end,
}

permit "payments clerks cancel orders" {
  action = "urn:example:orders/Cancel",
  when = payments_clerk,
}
