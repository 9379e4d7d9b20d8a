-- Configuration for the example orders service (docs/reference.md, Configuration): the demo CA, the
-- example users, and the example policy set. Paths are relative to this file's folder.
return {
  trust    = { "demo/ca.pem" },
  users    = "users.txt",
  policies = "../policies",
  clock    = { ttl = 300, future_ttl = 60, skew = 300 },
}
