"""What an embedder that serves HTTP needs: the TLS peer certificate, the HTTP SOAPAction,
method and path passed to receive (policies' m.transport.cert, m.http_action, m.http_method,
m.http_path), the replay fields of the status, and the decision log lines of decisions and
rejections."""
import json
import os
import ssl

import pytest

import warden
from conftest import write_tree

NOW = "2026-11-25T12:00:30Z"
STATUS = "urn:example:orders/GetStatus"

# only the frontend whose TLS certificate is CN=alice, calling with the GetStatus SOAPAction
FRONTEND = """\
permit "frontend reads status" {
  when = function(m)
    return m.transport ~= nil and m.transport.cert.subject.CN == "alice"
       and m.http_action == "urn:example:orders/GetStatus"
  end,
}
"""


@pytest.fixture
def frontend(engine_options, tmp_path):
    options = dict(engine_options)
    options["policies"] = write_tree(tmp_path / "frontend", {"frontend.lua": FRONTEND})
    with warden.Engine(**options) as e:
        yield e


def pem(pki, name):
    with open(os.path.join(pki, name + ".pem")) as f:
        return f.read()


def test_transport_cert_and_http_action_reach_the_policy(frontend, zeep, pki):
    with frontend.receive(zeep.username(action="GetStatus"), now=NOW, http_action=STATUS,
                          transport_cert=pem(pki, "alice")) as m:
        assert m.http_action == STATUS
        t = m.transport
        assert (t.kind, t.role) == ("transport", "transport")
        assert m.transport_cert.subject["CN"] == "alice"
        assert m.transport_cert.subject["OU"] == "Payments"
        d = frontend.decide(m)
        assert (d.allowed, d.reason, d.rules) == (True, "permitted", ("frontend reads status",))


def test_transport_cert_as_der_bytes(frontend, zeep, pki):
    der = ssl.PEM_cert_to_DER_cert(pem(pki, "alice"))
    with frontend.receive(zeep.username(action="GetStatus"), now=NOW, http_action=STATUS,
                          transport_cert=der) as m:
        assert m.transport_cert.der == der
        assert frontend.decide(m).allowed


def test_another_peer_or_action_or_none_is_not_permitted(frontend, zeep, pki):
    cases = [dict(http_action=STATUS, transport_cert=pem(pki, "ecuser")),
             dict(http_action="urn:example:orders/Create", transport_cert=pem(pki, "alice")),
             dict(transport_cert=pem(pki, "alice")),
             dict(http_action=STATUS)]
    for case in cases:
        with frontend.receive(zeep.username(action="GetStatus"), now=NOW, **case) as m:
            d = frontend.decide(m)
            assert (d.allowed, d.reason) == (False, "no-permit"), case
    with frontend.receive(zeep.username(action="GetStatus"), now=NOW) as m:
        assert m.http_action is None and m.transport is None and m.transport_cert is None


def test_http_action_never_replaces_the_message_action(frontend, zeep, pki):
    with frontend.receive(zeep.username(action="Create"), now=NOW, http_action=STATUS,
                          transport_cert=pem(pki, "alice")) as m:
        assert m.action == "urn:example:orders/Create"
        assert m.http_action == STATUS


ENDPOINTS = """\
permit "status is read at /orders/status" {
  when = function(m) return m.http_method == "POST" and m.http_path == "/orders/status" end,
}
"""


def test_http_method_and_path_reach_the_policy(engine_options, zeep, tmp_path):
    options = dict(engine_options, policies=write_tree(tmp_path / "endpoints", {"endpoints.lua": ENDPOINTS}))
    with warden.Engine(**options) as e:
        with e.receive(zeep.username(action="GetStatus"), now=NOW, http_method="POST",
                       http_path="/orders/status") as m:
            assert (m.http_method, m.http_path, m.http_action) == ("POST", "/orders/status", None)
            d = e.decide(m)
            assert (d.allowed, d.rules) == (True, ("status is read at /orders/status",))
        for case in [dict(http_method="POST", http_path="/admin"), dict(http_method="GET", http_path="/orders/status"),
                     dict(http_path="/orders/status"), {}]:
            with e.receive(zeep.username(action="GetStatus"), now=NOW, **case) as m:
                assert (m.http_method, m.http_path) == (case.get("http_method"), case.get("http_path"))
                d = e.decide(m)
                assert (d.allowed, d.reason) == (False, "no-permit"), case
        with pytest.raises(TypeError):
            e.receive(zeep.username(action="GetStatus"), now=NOW, http_path=b"/orders/status")
        # C would read "/orders/status" up to the NUL: a path the application never received
        with pytest.raises(ValueError):
            e.receive(zeep.username(action="GetStatus"), now=NOW, http_path="/orders/status\0/admin")


def test_transport_cert_is_not_the_message_signature(frontend, zeep, pki):
    with frontend.receive(zeep.username(action="GetStatus"), now=NOW,
                          transport_cert=pem(pki, "alice")) as m:
        assert m.cert is None and m.encoded_cert is None
        assert m.protection == "none" and m.signed == frozenset()


def test_a_transport_cert_that_does_not_parse_rejects(frontend, zeep):
    with pytest.raises(warden.SecurityRejected) as e:
        frontend.receive(zeep.username(action="GetStatus"), now=NOW, transport_cert=b"\x30\x03junk")
    assert e.value.reason == "token-unsupported"
    with pytest.raises(ValueError):
        frontend.receive(zeep.username(action="GetStatus"), now=NOW,
                         transport_cert="-----BEGIN CERTIFICATE-----\nnot base64\n")
    with pytest.raises(TypeError):
        frontend.receive(zeep.username(action="GetStatus"), now=NOW, transport_cert=42)


def test_status_reports_the_replay_cache(engine_options, zeep, pki):
    with warden.Engine(**engine_options) as e:
        st = e.status()
        assert (st.replay_backend, st.replay_entries) == ("memory", 0)
        e.receive(zeep.signed(pki), now=NOW).close()
        assert e.status().replay_entries >= 1
    options = dict(engine_options, replay={"backend": "none"})
    with warden.Engine(**options) as e:
        e.receive(zeep.signed(pki), now=NOW).close()
        st = e.status()
        assert (st.replay_backend, st.replay_entries) == ("none", 0)


def test_decision_log_line_of_a_decision(frontend, zeep, pki):
    frontend.keep_decision_facts()
    with frontend.receive(zeep.username(action="GetStatus"), now=NOW, http_action=STATUS,
                          transport_cert=pem(pki, "alice")) as m, frontend.decide(m) as d:
        line = d.log_line(remote="192.0.2.7:40000")
        assert "\n" not in line
        entry = json.loads(line)
        assert entry["decision"] == "allow" and entry["stage"] == "policy"
        assert entry["reason"] == "permitted" and entry["rules"] == ["frontend reads status"]
        assert entry["action"] == "urn:example:orders/GetStatus"
        assert entry["revision"] == d.revision and entry["remote"] == "192.0.2.7:40000"
        assert "time" in entry and "id" in entry and "latency_us" in entry
        assert "remote" not in json.loads(d.log_line())


def test_rejection_decision_and_its_log_line(engine, zeep, pki):
    engine.keep_decision_facts()
    data = zeep.signed(pki)
    engine.receive(data, now=NOW).close()
    with pytest.raises(warden.SecurityRejected) as e:
        engine.receive(data, now=NOW)
    assert e.value.reason == "replay"
    with engine.rejection(e.value, latency_us=120) as d:
        assert (d.allowed, d.stage, d.reason) == (False, "security", "replay")
        assert d.revision == engine.status().revision
        entry = json.loads(d.log_line())
        assert (entry["decision"], entry["stage"], entry["reason"]) == ("deny", "security", "replay")
        assert entry["detail"] == e.value.detail and entry["latency_us"] == 120
    with pytest.raises(TypeError):
        engine.rejection(ValueError("not a rejection"))


def test_status_says_when_the_policy_set_is_stale(engine_options, zeep, pki, tmp_path):
    import time
    policies = write_tree(tmp_path / "stale", {"orders.lua": 'permit "all" { }\n'})
    options = dict(engine_options, policies=policies, reload={"watch": False, "max_stale_s": 1})
    with warden.Engine(**options) as e:
        st = e.status()
        assert (st.stale, st.failing_since) == (False, None)
        write_tree(tmp_path / "stale", {"orders.lua": 'permit "all" {\n'})
        with pytest.raises(warden.PolicyError):
            e.reload()
        assert e.status().failing_since is not None
        deadline = time.monotonic() + 60  # bounds a failing run only
        while not e.status().stale and time.monotonic() < deadline:
            time.sleep(0.1)
        assert e.status().stale
        with e.receive(zeep.username(action="GetStatus"), now=NOW) as m:
            assert e.decide(m).reason == "policy-stale"
        write_tree(tmp_path / "stale", {"orders.lua": 'permit "all" { }\n'})
        e.reload()
        st = e.status()
        assert (st.stale, st.failing_since) == (False, None)
