-- Guards that no permit can override.

forbid "no unsigned bodies for changes" {
  action = { "urn:example:orders/Create", "urn:example:orders/Cancel" },
  description = "requests that change orders must have a signed Body",
  when = function(m) return not m.signed.Body end,
}

forbid "stale timestamps" {
  action = "urn:example:orders/*",
  description = "stricter than the verifier's 300 s: at most 120 s between Created and now",
  when = function(m)
    return m.timestamp == nil or m.now - m.timestamp.created > 120
  end,
}
