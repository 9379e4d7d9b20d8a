-- Anyone who authenticated with a UsernameToken may read an order's status.

permit "known users read order status" {
  action = "urn:example:orders/GetStatus",
  operation = "{urn:example:orders}GetStatus",
  when = function(m) return m.username ~= nil end,
}
