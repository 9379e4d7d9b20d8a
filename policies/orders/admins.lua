-- Order administrators (data/admins.json) may call any orders operation, whether they sign
-- with their certificate or send a UsernameToken.

local function is_admin(name)
  for _, admin in ipairs(data.admins.names) do
    if admin == name then return true end
  end
  return false
end

permit "order admins may do anything" {
  action = "urn:example:orders/*",
  when = function(m)
    return (m.cert ~= nil and is_admin(m.cert.subject.CN)) or (m.username ~= nil and is_admin(m.username))
  end,
}
