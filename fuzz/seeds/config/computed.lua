local ttl = 60 * 5
local list = {}
for i = 1, 3 do list[#list + 1] = "ca" .. i .. ".pem" end
return { trust = list, clock = { ttl = ttl, skew = ttl // 2 }, require = { timestamp = "never" } }
