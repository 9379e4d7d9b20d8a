"""Decisions: the test policy set on zeep messages, and the example set (examples/orders.lua,
policies/) on its zeep-signed fixtures."""
import json
import os
import subprocess

import pytest

import warden
from conftest import write_tree

NOW = "2026-11-25T12:00:30Z"


def test_small_signed_order_is_allowed(engine, zeep, pki):
    with engine.receive(zeep.signed(pki, amount="250"), now=NOW) as m:
        with engine.decide(m) as d:
            assert d.allowed is True
            assert bool(d) is True
            assert d.stage == "policy"
            assert d.reason == "permitted"
            assert d.rules == ("payments create small orders",)
            assert d.errors == ()
            assert d.revision.startswith("sha256:") and len(d.revision) == 7 + 64
            assert d.revision == engine.status().revision
            assert d.to_dict() == {"decision": "allow", "stage": "policy", "reason": "permitted",
                                   "rules": ["payments create small orders"], "errors": [],
                                   "revision": d.revision}


def test_large_order_and_unknown_action_are_denied(engine, zeep, pki):
    with engine.receive(zeep.signed(pki, amount="5000"), now=NOW) as m:
        d = engine.decide(m)
        assert not d
        assert (d.allowed, d.reason, d.rules) == (False, "no-permit", ())
    with engine.receive(zeep.signed(pki, action="Cancel"), now=NOW) as m:
        assert engine.decide(m).reason == "no-permit"


def test_attrs_reach_the_policies(engine, zeep, pki):
    data = zeep.signed(pki, amount="10")
    with engine.receive(data, now=NOW, attrs={"client": "blocked"}) as m:
        d = engine.decide(m)
        assert (d.allowed, d.reason, d.rules) == (False, "forbidden", ("blocked clients",))


def test_username_token_user_reads_status(engine, zeep):
    with engine.receive(zeep.username(action="GetStatus"), now=NOW) as m:
        d = engine.decide(m)
        assert d.allowed and d.rules == ("users read status",)


def test_a_rule_error_denies_and_is_reported(engine_options, zeep, pki, tmp_path):
    options = dict(engine_options)
    options["policies"] = write_tree(tmp_path / "broken", {"a.lua": (
        'permit "fine" { }\n'
        'permit "broken" { when = function(m) return m.saml.issuer == "x" end }\n')})
    with warden.Engine(**options) as e, e.receive(zeep.signed(pki), now=NOW) as m:
        d = e.decide(m)
        assert (d.allowed, d.reason) == (False, "policy-error")
        assert len(d.errors) == 1 and d.errors[0].startswith("broken: ")


def test_decision_outlives_its_message(engine, zeep, pki):
    m = engine.receive(zeep.signed(pki), now=NOW)
    d = engine.decide(m)
    m.close()
    assert d.allowed and d.rules == ("payments create small orders",)
    d.close()
    assert d.closed
    with pytest.raises(ValueError):
        d.allowed
    d.close()  # twice is fine


def test_deciding_without_a_policy_set_raises_policy_error(pki, zeep):
    with warden.Engine(trust=[os.path.join(pki, "ca.pem")]) as e:
        with e.receive(zeep.signed(pki), now=NOW) as m:
            with pytest.raises(warden.PolicyError) as info:
                e.decide(m)
            assert info.value.code == 7
            assert "policies" in str(info.value)
            with pytest.raises(TypeError):
                e.decide("not a message")


# --- the example policy set -------------------------------------------------------------------

EXAMPLES = [
    ("create-small.xml", True, "permitted", ("payments clerks create small orders",)),
    ("create-large.xml", False, "no-permit", ()),
    ("cancel.xml", True, "permitted", ("payments clerks cancel orders",)),
    ("status-alice.xml", True, "permitted", ("known users read order status",)),
    ("create-by-password.xml", False, "forbidden", ("no unsigned bodies for changes",)),
]


@pytest.fixture
def example_engine(source_dir):
    with warden.Engine(config=os.path.join(source_dir, "examples", "orders.lua"),
                       reload_watch=False) as e:
        yield e


@pytest.mark.parametrize("fixture,allowed,reason,rules", EXAMPLES)
def test_example_set_decides_its_fixtures(example_engine, source_dir, fixture, allowed, reason,
                                          rules):
    with open(os.path.join(source_dir, "policies", "fixtures", fixture), "rb") as f:
        data = f.read()
    with example_engine.receive(data, now=NOW) as m, example_engine.decide(m) as d:
        assert (d.allowed, d.reason, d.rules) == (allowed, reason, rules)


def test_example_set_tampered_fixture_is_rejected(example_engine, source_dir):
    with open(os.path.join(source_dir, "policies", "fixtures", "create-tampered.xml"), "rb") as f:
        data = f.read()
    with pytest.raises(warden.SecurityRejected) as info:
        example_engine.receive(data, now=NOW)
    assert info.value.reason == "digest-mismatch"


def test_example_set_stale_request_is_denied(example_engine, source_dir):
    with open(os.path.join(source_dir, "policies", "fixtures", "create-small.xml"), "rb") as f:
        data = f.read()
    with example_engine.receive(data, now="2026-11-25T12:03:00Z") as m:
        d = example_engine.decide(m)
        assert (d.allowed, d.rules) == (False, ("stale timestamps",))


def test_decision_to_dict_is_the_decide_json_object(example_engine, source_dir):
    binary = os.environ.get("WARDEN_BIN")
    if not binary:
        pytest.skip("WARDEN_BIN (the warden command) is not set; ctest sets it")
    path = os.path.join(source_dir, "policies", "fixtures", "cancel.xml")
    proc = subprocess.run([binary, "decide", "--json", "-c",
                           os.path.join(source_dir, "examples", "orders.lua"), "--now", NOW, path],
                          capture_output=True, text=True, timeout=60)
    with open(path, "rb") as f:
        with example_engine.receive(f.read(), now=NOW) as m:
            assert example_engine.decide(m).to_dict() == json.loads(proc.stdout)


def test_explain_says_why_each_rule_did_or_did_not_apply(engine_options, zeep, pki, tmp_path):
    options = dict(engine_options)
    options["policies"] = write_tree(tmp_path / "explained", {"a.lua": (
        'permit "small orders" { action = "*/Create",\n'
        '  when = function(m) log("amount", m:body("amount")); return false end }\n'
        'forbid "cancels" { action = "*/Cancel" }\n'
        'permit "broken" { when = function(m) return m.attrs.nothing.here end }\n')})
    with warden.Engine(**options) as e, e.receive(zeep.signed(pki, amount="250"), now=NOW) as m:
        plain = e.decide(m)
        assert plain.explanation is None
        assert "explain" not in plain.to_dict()
        d = e.decide(m, explain=True)
        assert (d.allowed, d.reason) == (False, "policy-error")
        rules = {r["rule"]: r for r in d.explanation}
        assert [r["rule"] for r in d.explanation] == ["cancels", "small orders", "broken"]
        assert rules["cancels"] == {"rule": "cancels", "effect": "forbid", "file": "a.lua",
                                    "line": 3, "targets": False, "applied": False}
        small = rules["small orders"]
        assert (small["file"], small["line"], small["targets"], small["when"], small["value"],
                small["applied"], small["log"]) == ("a.lua", 1, True, "returned", "false", False,
                                                     ["amount\t250"])
        assert isinstance(small["instructions"], int) and small["instructions"] > 0
        assert rules["broken"]["when"] == "raised" and "nothing" in rules["broken"]["error"]
        assert d.to_dict()["explain"] == d.explanation
