"""Check mode: POST /v1/decide, the Envoy ext_authz HTTP-service contract on other paths,
health, status and metrics."""
import signal

from conftest import decision, metric


def test_decide_allows_a_message_signed_by_alice(make_server, signer):
    s = make_server()
    status, headers, body = s.post("/v1/decide", signer.signed("alice"))
    d = decision(body)
    assert status == 200, body
    assert (d["decision"], d["stage"], d["reason"]) == ("allow", "policy", "permitted")
    assert d["rules"] == ["alice may create orders"]
    assert d["revision"].startswith("sha256:")
    assert headers["content-type"] == "application/json"


def test_decide_denies_by_policy(make_server, signer):
    s = make_server()
    status, _, body = s.post("/v1/decide", signer.signed("alice", action="urn:example:orders/Delete"))
    d = decision(body)
    assert status == 403
    assert (d["decision"], d["stage"], d["reason"]) == ("deny", "policy", "forbidden")
    assert d["rules"] == ["nobody deletes"]


def test_decide_rejects_an_untrusted_signer_at_the_security_stage(make_server, signer):
    s = make_server()
    status, _, body = s.post("/v1/decide", signer.signed("mallory"))
    d = decision(body)
    assert status == 403
    assert (d["decision"], d["stage"], d["reason"]) == ("deny", "security", "cert-untrusted")


def test_decide_rejects_a_replayed_message(make_server, signer):
    s = make_server()
    message = signer.signed("alice")
    assert s.post("/v1/decide", message)[0] == 200
    status, _, body = s.post("/v1/decide", message)
    assert status == 403
    assert decision(body)["reason"] == "replay"


def test_decide_rejects_what_is_not_xml_as_malformed(make_server):
    s = make_server()
    status, _, body = s.post("/v1/decide", b"this is not a SOAP message")
    assert status == 403
    assert decision(body)["reason"] == "malformed"


def test_decide_takes_only_post(make_server):
    s = make_server()
    status, headers, _ = s.request("GET", "/v1/decide")
    assert status == 405
    assert headers["allow"] == "POST"


def test_ext_authz_allow_carries_the_results_as_headers(make_server, signer):
    s = make_server()
    status, headers, _ = s.post("/orders/soap", signer.signed("alice"))
    assert status == 200
    assert headers["x-warden-decision"] == "allow"
    assert headers["x-warden-reason"] == "permitted"
    assert headers["x-warden-rules"] == "alice may create orders"
    assert headers["x-warden-revision"].startswith("sha256:")
    assert headers["x-warden-subject"] == "CN=alice,OU=Payments,O=Example"
    assert "x-warden-username" not in headers
    # what this answer leaves out, Envoy must remove from the request it forwards
    assert headers["x-envoy-auth-headers-to-remove"] == "x-warden-username, x-warden-saml-subject"


def test_ext_authz_allow_has_envoy_remove_forged_results_in_every_spelling(make_server, signer):
    # Envoy forwards the client's own headers; those the answer carries replace the client's of
    # the same name (allowed_upstream_headers), the rest must be removed, in the client's spelling
    s = make_server()
    status, headers, _ = s.post("/orders/soap", signer.signed("alice"),
                                headers={"X-Warden-Username": "admin", "X_Warden_Subject": "CN=admin",
                                         "x-warden_saml_subject": "admin", "X-Warden-Decision": "allow",
                                         "X-Warden-Role": "root", "X-Wardenx": "not ours"})
    assert status == 200
    removed = headers["x-envoy-auth-headers-to-remove"].split(", ")
    assert removed == ["x-warden-username", "x-warden-saml-subject", "X_Warden_Subject", "x-warden_saml_subject",
                       "X-Warden-Role"]
    assert headers["x-warden-subject"] == "CN=alice,OU=Payments,O=Example"  # replaces X-Warden-Subject


def test_ext_authz_allow_names_the_saml_subject(make_server, pki):
    # an unsigned request authenticated by a fresh bearer assertion pysaml2 made and signed
    import datetime as dt
    import os
    import uuid

    import gen_saml
    import gen_zeep
    from lxml import etree
    now = dt.datetime.utcnow().replace(microsecond=0)
    assertion = gen_saml.pysaml2_assertion(pki, gen_saml.Spec(issued=now, subject="dana@example.com"))
    env = gen_zeep.envelope(msgid=str(uuid.uuid4()))
    security = gen_zeep.get_security_header(env)
    security.append(etree.fromstring(assertion))
    security.append(gen_zeep.timestamp(now, now + dt.timedelta(minutes=5)))
    policy = """permit "our IdP's users" {
  when = function(m) return m.saml ~= nil and m.saml.attributes.role[1] == "clerk" end,
}
"""
    s = make_server(extra="saml = { issuers = { %r }, audiences = { %r } }," % (
        os.path.join(pki, "idp.pem"), gen_saml.AUDIENCE), policy=policy)
    status, headers, _ = s.post("/orders/soap", etree.tostring(env))
    assert status == 200, headers
    assert headers["x-warden-saml-subject"] == "dana@example.com"
    assert "x-warden-subject" not in headers


def test_ext_authz_deny_is_403_with_the_reason(make_server, signer):
    s = make_server()
    status, headers, _ = s.post("/any/path?x=1", signer.signed("mallory"))
    assert status == 403
    assert headers["x-warden-decision"] == "deny"
    assert headers["x-warden-reason"] == "cert-untrusted"
    assert "x-warden-subject" not in headers
    assert "x-envoy-auth-headers-to-remove" not in headers  # a deny forwards nothing


def test_health_and_status(make_server, signer):
    s = make_server()
    status, _, body = s.request("GET", "/health")
    assert (status, body) == (200, b"ok\n")
    s.post("/v1/decide", signer.signed("alice"))
    status, _, body = s.request("GET", "/v1/status")
    st = decision(body)
    assert status == 200
    assert st["revision"].startswith("sha256:")
    assert st["reloads"] == 0 and st["reload_failures"] == 0 and st["last_error"] == ""
    assert st["replay"]["backend"] == "memory"
    assert st["replay"]["entries"] >= 1
    assert st["uptime_s"] >= 0


def test_metrics_count_decisions_answers_and_durations(make_server, signer):
    s = make_server()
    s.post("/v1/decide", signer.signed("alice"))
    s.post("/v1/decide", signer.signed("alice", action="urn:example:orders/Delete"))
    s.post("/v1/decide", signer.signed("mallory"))
    m = s.metrics()
    assert metric(m, "warden_decisions_total", decision="allow", stage="policy", reason="permitted") == 1
    assert metric(m, "warden_decisions_total", decision="deny", stage="policy", reason="forbidden") == 1
    assert metric(m, "warden_decisions_total", decision="deny", stage="security", reason="cert-untrusted") == 1
    assert metric(m, "warden_http_requests_total", code="200") >= 1
    assert metric(m, "warden_http_requests_total", code="403") == 2
    # a correct histogram: cumulative buckets, +Inf equals _count, three observations
    buckets = sorted((float(dict(k[1])["le"]), v) for k, v in m.items()
                     if k[0] == "warden_decision_duration_seconds_bucket")
    values = [v for _, v in buckets]
    assert values == sorted(values)
    assert buckets[-1][0] == float("inf")
    assert buckets[-1][1] == metric(m, "warden_decision_duration_seconds_count") == 3
    assert metric(m, "warden_decision_duration_seconds_sum") > 0
    assert metric(m, "warden_reloads_total", result="success") == 0
    assert metric(m, "warden_replay_entries") >= 2
    assert metric(m, "warden_tls_handshake_failures_total") == 0
    assert metric(m, "warden_decision_log_dropped_total") == 0


def test_sigterm_exits_zero(make_server):
    s = make_server()
    assert s.stop() == 0
    assert "stopped" in s.output()


def test_sighup_reloads_the_policies(make_server, signer, tmp_path):
    s = make_server()
    import os
    policy = os.path.join(os.path.dirname(s.config_path), "policies", "orders.lua")
    with open(policy, "w") as f:
        f.write('forbid "closed for the day" { action = "urn:example:orders/*" }\n')
    s.signal(signal.SIGHUP)
    import time
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if metric(s.metrics(), "warden_reloads_total", result="success") >= 1:
            break
        time.sleep(0.05)
    status, _, body = s.post("/v1/decide", signer.signed("alice"))
    assert status == 403
    assert decision(body)["rules"] == ["closed for the day"]


HTTP_ACTION_POLICY = """
permit "the HTTP action agrees with the message" {
  action = "urn:example:orders/Create",
  when = function(m) return m.http_action == m.action end,
}
"""


def test_soapaction_is_m_http_action_and_never_replaces_m_action(make_server, signer):
    s = make_server(policy=HTTP_ACTION_POLICY)
    status, _, body = s.post("/v1/decide", signer.signed("alice"), headers={"SOAPAction": '"urn:example:orders/Create"'})
    assert status == 200, body
    # a different SOAPAction does not make the message a Delete: m.action is still Create
    status, _, body = s.post("/v1/decide", signer.signed("alice"), headers={"SOAPAction": "urn:example:orders/Delete"})
    assert (status, decision(body)["reason"]) == (403, "no-permit")
    status, _, body = s.post("/v1/decide", signer.signed("alice"))
    assert (status, decision(body)["reason"]) == (403, "no-permit")


def test_the_soap12_content_type_action_parameter_is_m_http_action(make_server, signer):
    s = make_server(policy=HTTP_ACTION_POLICY)
    ct = 'application/soap+xml; charset=utf-8; action="urn:example:orders/Create"'
    status, _, body = s.post("/v1/decide", signer.signed("alice", soap12=True), headers={"Content-Type": ct})
    assert status == 200, body


def wait_for(predicate, what, limit=60):
    """Polls until predicate() is true; the limit only bounds a failing run."""
    import time
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("%s within %ds" % (what, limit))


def test_health_is_503_while_the_policy_set_is_stale(make_server, signer):
    import os
    s = make_server(reload="{ watch = false, max_stale_s = 1 }")
    policy = os.path.join(os.path.dirname(s.config_path), "policies", "orders.lua")
    with open(policy) as f:
        good = f.read()
    assert s.request("GET", "/health")[0] == 200
    with open(policy, "w") as f:
        f.write('permit "broken" { when = function(m) return end\n')  # does not compile
    s.signal(signal.SIGHUP)
    wait_for(lambda: s.request("GET", "/health")[0] == 503, "/health did not turn 503")
    status, _, body = s.request("GET", "/health")
    assert status == 503 and body.startswith(b"policy-stale: reloads failing since ")
    assert b"orders.lua" in body  # the reload's error, for the operator
    st = decision(s.request("GET", "/v1/status")[2])
    assert st["stale"] is True and st["failing_since"] > 0 and st["reload_failures"] >= 1
    assert metric(s.metrics(), "warden_policy_stale") == 1
    status, _, body = s.post("/v1/decide", signer.signed("alice"))
    assert status == 403 and decision(body)["reason"] == "policy-stale"
    # a reload that succeeds puts the replica back
    with open(policy, "w") as f:
        f.write(good)
    s.signal(signal.SIGHUP)
    wait_for(lambda: s.request("GET", "/health")[0] == 200, "/health did not recover")
    st = decision(s.request("GET", "/v1/status")[2])
    assert st["stale"] is False and st["failing_since"] == 0
    assert metric(s.metrics(), "warden_policy_stale") == 0
    status, _, body = s.post("/v1/decide", signer.signed("alice"))
    assert status == 200 and decision(body)["reason"] == "permitted"


def test_health_stays_200_while_failing_reloads_are_within_max_stale_s(make_server, signer):
    import os
    s = make_server(reload="{ watch = false, max_stale_s = 86400 }")
    policy = os.path.join(os.path.dirname(s.config_path), "policies", "orders.lua")
    with open(policy, "w") as f:
        f.write('permit "broken" {\n')
    s.signal(signal.SIGHUP)
    wait_for(lambda: decision(s.request("GET", "/v1/status")[2])["reload_failures"] >= 1,
             "the reload did not fail")
    st = decision(s.request("GET", "/v1/status")[2])
    assert st["stale"] is False and st["failing_since"] > 0
    assert s.request("GET", "/health")[:3:2] == (200, b"ok\n")
    status, _, body = s.post("/v1/decide", signer.signed("alice"))
    assert status == 200 and decision(body)["reason"] == "permitted"


def test_the_decision_json_is_compact_with_its_keys_in_order(make_server, signer):
    # the answer is written directly, not through jansson: it must stay the same compact text
    import json
    s = make_server()
    answers = [s.post("/v1/decide", signer.signed("alice"))[2],
               s.post("/v1/decide", signer.signed("alice", action="urn:example:orders/Delete"))[2],
               s.post("/v1/decide", signer.signed("mallory"))[2],
               s.post("/ext/authz", b"<not xml")[2]]
    for body in answers:
        d = json.loads(body)
        assert body == (json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        keys = ["decision", "stage", "reason"] + (["detail"] if "detail" in d else []) + ["rules", "errors", "revision"]
        assert list(d) == keys
    assert "detail" in json.loads(answers[2]) and "detail" in json.loads(answers[3])
