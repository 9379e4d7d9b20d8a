return {
  trust = { "ca.pem", "more.pem" }, certs = { "known.pem" }, users = "users.txt",
  policies = "policies", actor = "urn:example:me",
  require = { token = true, signed = { "Body", "Timestamp", "Action" }, timestamp = "always" },
  algorithms = { allow_sha1 = false, min_rsa_bits = 3072 },
  clock = { ttl = 300, future_ttl = 60, skew = 120 },
  replay = { backend = "memory", entries = 1000 },
  limits = { message_bytes = 1048576, depth = 32, attributes = 64, text_bytes = 65536,
             instructions = 500000, memory = 33554432, time_ms = 20 },
  reload = { watch = false, debounce_ms = 50, max_stale_s = 600 },
  log = { decisions = "decisions.log" },
}
