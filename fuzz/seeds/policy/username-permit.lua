permit "alice by password" {
  action = "urn:example:orders/Create",
  when = function(m) return m.username == "alice" and tonumber(m:body("amount")) < 1000 end,
}
forbid "no huge orders" {
  when = function(m) local a = m:body("CreateOrder/amount"); return a ~= nil and #a > 6 end,
}
