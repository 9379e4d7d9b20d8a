"""SAML assertions through the binding: the saml token's facts, the serialized assertion, the
saml_* keyword options, and to_dict() == `warden verify --json`. The assertions are made by
pysaml2 with tests/interop/gen_saml.py, in messages zeep signs."""
import datetime as dt
import json
import os
import subprocess
import sys

import pytest

import warden

UTC = dt.timezone.utc
INTEROP = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                       "tests", "interop")


@pytest.fixture(scope="module")
def gen_saml():
    sys.path.insert(0, INTEROP)
    try:
        import gen_saml as module
    except ImportError as e:
        pytest.fail("cannot make SAML assertions (python3-pysaml2, python3-zeep): %s" % e, pytrace=False)
    return module


@pytest.fixture
def saml_engine(pki):
    with warden.Engine(trust=[os.path.join(pki, "ca.pem")], saml_issuers=[os.path.join(pki, "idp.pem")],
                       saml_audiences=["urn:example:orders"], saml_max_age=600) as e:
        yield e


def test_saml_token_facts_and_the_serialized_assertion(saml_engine, pki, gen_saml):
    spec = gen_saml.Spec(attributes={"role": ["clerk", "auditor"]})
    data = gen_saml.message(pki, gen_saml.pysaml2_assertion(pki, spec))
    with saml_engine.receive(data, now="2026-11-25T12:00:30Z") as m:
        tokens = [t for t in m.tokens if t.kind == "saml"]
        assert len(tokens) == 1
        facts = tokens[0].saml
        assert facts["subject"] == "alice@example.com" and facts["id"] == spec.id
        assert facts["confirmation"] == "bearer" and facts["audiences"] == ["urn:example:orders"]
        assert facts["attributes"] == {"role": ["clerk", "auditor"]}
        assert facts["not_on_or_after"] == dt.datetime(2026, 11, 25, 12, 30, tzinfo=UTC)
        assert tokens[0].role == "supporting" and tokens[0].key_type == "none"
        assert spec.id in m.saml_assertion and m.saml_assertion.startswith("<")
        assert [t.saml for t in m.tokens if t.kind == "x509"] == [None]


def test_max_age_from_the_keyword_options_is_applied(saml_engine, pki, gen_saml):
    data = gen_saml.message(pki, gen_saml.pysaml2_assertion(pki, gen_saml.Spec(issue_instant=-1200,
                                                                                not_before=-1300)))
    with pytest.raises(warden.SecurityRejected) as e:
        saml_engine.receive(data, now="2026-11-25T12:00:30Z")
    assert e.value.reason == "saml-invalid" and "saml.max_age" in str(e.value)


def test_to_dict_is_the_verify_json_object(saml_engine, pki, gen_saml, tmp_path):
    binary = os.environ.get("WARDEN_BIN")
    if not binary or not os.path.isfile(binary):
        pytest.skip("WARDEN_BIN (the warden command) is not set; ctest sets it")
    data = gen_saml.message(pki, gen_saml.pysaml2_assertion(pki, gen_saml.Spec(method="holder-of-key")))
    path = tmp_path / "m.xml"
    path.write_bytes(data)
    proc = subprocess.run([binary, "verify", "--json", "--trust", os.path.join(pki, "ca.pem"),
                           "--saml-issuer", os.path.join(pki, "idp.pem"), "--audience", "urn:example:orders",
                           "--now", "2026-11-25T12:00:30Z", str(path)], capture_output=True, text=True, timeout=60)
    expected = json.loads(proc.stdout)
    with saml_engine.receive(data, now="2026-11-25T12:00:30Z") as m:
        got = m.to_dict()
    assert got == expected
    assert [t["role"] for t in got["tokens"]] == ["signing", "signing"]


def test_saml_validator_sees_the_assertion_and_refuses_with_its_reason(pki, gen_saml):
    seen = []

    def validate(xml):
        seen.append(xml)
        return "auditors are read-only here" if ">auditor<" in xml else None

    with warden.Engine(trust=[os.path.join(pki, "ca.pem")], saml_issuers=[os.path.join(pki, "idp.pem")],
                       saml_validator=validate) as engine:
        clerk = gen_saml.message(pki, gen_saml.pysaml2_assertion(pki, gen_saml.Spec()))
        with engine.receive(clerk, now="2026-11-25T12:00:30Z") as m:
            assert m.saml_assertion == seen[0]
        auditor = gen_saml.message(pki, gen_saml.pysaml2_assertion(
            pki, gen_saml.Spec(attributes={"role": ["auditor"]})))
        with pytest.raises(warden.SecurityRejected) as e:
            engine.receive(auditor, now="2026-11-25T12:00:30Z")
        assert e.value.reason == "saml-invalid" and "auditors are read-only here" in str(e.value)
        assert len(seen) == 2

    def broken(xml):
        raise RuntimeError("the directory is down")

    with warden.Engine(trust=[os.path.join(pki, "ca.pem")], saml_issuers=[os.path.join(pki, "idp.pem")],
                       saml_validator=broken) as engine:
        with pytest.raises(warden.SecurityRejected) as e:
            engine.receive(gen_saml.message(pki, gen_saml.pysaml2_assertion(pki, gen_saml.Spec())),
                           now="2026-11-25T12:00:30Z")
        assert e.value.reason == "saml-invalid"
