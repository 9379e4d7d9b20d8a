"""SAML 2.0 assertions from pysaml2 and Lasso (gen_saml.py) in messages zeep signs: each
confirmation method delivered with its facts, and every check of docs/security.md (SAML)
rejected with its reason code and a detail that names the check.

Needs the Debian packages python3-pysaml2 (and the xmlsec1 command it signs with),
python3-lasso, python3-xmlsec, python3-zeep; a missing one fails the tests that need it.
"""
import copy
import json
import os
import subprocess

import pytest
import xmlsec
from lxml import etree

import gen_saml as G
import helpers
from helpers import WSU_ID

PRODUCERS = ["pysaml2", "lasso"]
LATER_NOW = "2026-11-25T12:00:30Z"  # helpers.NOW: 30 s after IssueInstant


@pytest.fixture(scope="session")
def saml_flags(pki):
    for module in ("saml2", "lasso"):
        try:
            __import__(module)
        except ImportError as e:
            pytest.fail("%s is missing (Debian python3-pysaml2 / python3-lasso): %s" % (module, e),
                        pytrace=False)
    return ["--saml-issuer", os.path.join(pki, "idp.pem"), "--audience", G.AUDIENCE]


def make(pki, producer="pysaml2", signer="alice", cover=None, **spec):
    spec = G.Spec(**spec)
    assertion = G.PRODUCERS[producer](pki, spec)
    if cover is None:
        cover = spec.method == "sender-vouches"
    return G.message(pki, assertion, signer=signer, cover_assertion=cover)


def verify(warden, write, saml_flags, data, extra=(), name="m.xml"):
    rc, report, run = warden.verify_one(write(name, data), now=LATER_NOW, extra=list(saml_flags) + list(extra))
    return rc, report, run


def saml_token(report):
    tokens = [t for t in report["tokens"] if t["kind"] == "saml"]
    assert len(tokens) == 1, report
    return tokens[0]


def rejected(warden, write, saml_flags, data, reason, detail, extra=()):
    rc, report, run = verify(warden, write, saml_flags, data, extra)
    assert rc == 1 and report["delivered"] is False, run
    assert report["reason"] == reason, run
    assert detail in report.get("detail", ""), run
    return report


def edit(data, change):
    root = etree.fromstring(data)
    change(root)
    return etree.tostring(root)


def assertion_of(root):
    return helpers.security(root).find(G.saml("Assertion"))


# --- delivered -------------------------------------------------------------------------------

@pytest.mark.parametrize("producer", PRODUCERS)
def test_bearer_assertion_is_delivered_with_its_facts(pki, warden, write, saml_flags, producer):
    rc, report, run = verify(warden, write, saml_flags, make(pki, producer,
                                                             attributes={"role": ["clerk", "auditor"]}))
    assert rc == 0, run
    token = saml_token(report)
    assert token["role"] == "supporting" and token["key_type"] == "none"
    assert token["valid_from"] == "2026-11-25T11:59:00Z" and token["valid_till"] == "2026-11-25T12:30:00Z"
    facts = token["saml"]
    assert facts["version"] == "2.0" and facts["issuer"] == G.ISSUER
    assert facts["subject"] == "alice@example.com" and facts["name_id_format"] == G.EMAIL_FORMAT
    assert facts["confirmation"] == "bearer" and facts["audiences"] == [G.AUDIENCE]
    assert facts["attributes"] == {"role": ["clerk", "auditor"]}
    assert "Assertion" not in report["signed"]  # the message signature does not cover it


@pytest.mark.parametrize("producer", PRODUCERS)
def test_sender_vouches_assertion_covered_by_the_sender_is_delivered(pki, warden, write, saml_flags, producer):
    rc, report, run = verify(warden, write, saml_flags, make(pki, producer, method="sender-vouches"))
    assert rc == 0, run
    assert saml_token(report)["saml"]["confirmation"] == "sender-vouches"
    assert saml_token(report)["key_type"] == "none"
    assert report["signed"] == ["Body", "Timestamp", "Assertion"]


def test_holder_of_key_assertion_whose_key_signed_is_the_signing_token(pki, warden, write, saml_flags):
    rc, report, run = verify(warden, write, saml_flags, make(pki, method="holder-of-key", hok_cert="alice"))
    assert rc == 0, run
    token = saml_token(report)
    assert token["role"] == "signing" and token["key_type"] == "asymmetric"
    assert token["saml"]["confirmation"] == "holder-of-key"


def test_issuer_chaining_to_a_configured_idp_ca_is_trusted(pki, warden, write, saml_flags):
    data = G.message(pki, G.pysaml2_assertion(pki, G.Spec(signer="idp-issued")))
    flags = ["--saml-issuer", os.path.join(pki, "idp-ca.pem"), "--audience", G.AUDIENCE]
    rc, report, run = warden.verify_one(write("m.xml", data), now=LATER_NOW, extra=flags)
    assert rc == 0, run
    # ... and the self-signed IdP alone does not vouch for it
    rejected(warden, write, saml_flags, data, "cert-untrusted", "")


def test_bearer_assertion_authenticates_an_unsigned_message(pki, warden, write, saml_flags):
    rc, report, run = verify(warden, write, saml_flags, make(pki, "lasso", signer=None))
    assert rc == 0, run
    assert report["protection"] == "none" and saml_token(report)["saml"]["subject"] == "alice@example.com"


def test_audiences_unset_accept_any_audience(pki, warden, write, saml_flags):
    data = make(pki, audiences=("urn:other:service",))
    rc, report, run = warden.verify_one(write("m.xml", data), now=LATER_NOW,
                                        extra=["--saml-issuer", os.path.join(pki, "idp.pem")])
    assert rc == 0, run


# --- rejected --------------------------------------------------------------------------------

@pytest.mark.parametrize("producer", PRODUCERS)
def test_expired_assertion_is_rejected(pki, warden, write, saml_flags, producer):
    rejected(warden, write, saml_flags, make(pki, producer, not_before=-900, not_on_or_after=-310),
             "saml-invalid", "expired: Conditions NotOnOrAfter")


@pytest.mark.parametrize("producer", PRODUCERS)
def test_not_yet_valid_assertion_is_rejected(pki, warden, write, saml_flags, producer):
    rejected(warden, write, saml_flags, make(pki, producer, not_before=400),
             "saml-invalid", "not yet valid: Conditions NotBefore")


def test_assertion_issued_longer_ago_than_max_age_is_rejected(pki, warden, write, saml_flags):
    data = make(pki, issue_instant=-7200, not_before=-7300)
    rejected(warden, write, saml_flags, data, "saml-invalid", "older than saml.max_age")


@pytest.mark.parametrize("producer", PRODUCERS)
def test_wrong_audience_is_rejected(pki, warden, write, saml_flags, producer):
    rejected(warden, write, saml_flags, make(pki, producer, audiences=("urn:example:payroll",)),
             "saml-invalid", "wrong audience")


@pytest.mark.parametrize("producer", PRODUCERS)
def test_assertion_of_an_unknown_issuer_is_cert_untrusted(pki, warden, write, saml_flags, producer):
    data = G.message(pki, G.PRODUCERS[producer](pki, G.Spec(signer="mallory")))
    rejected(warden, write, saml_flags, data, "cert-untrusted", "")


@pytest.mark.parametrize("producer", PRODUCERS)
def test_tampered_attribute_is_rejected(pki, warden, write, saml_flags, producer):
    def promote(root):
        for value in root.iter(G.saml("AttributeValue")):
            if value.text == "clerk":
                value.text = "admin"
    data = G.message(pki, edit(G.PRODUCERS[producer](pki, G.Spec()), promote))
    rejected(warden, write, saml_flags, data, "saml-invalid", "assertion signature (digest-mismatch)")


@pytest.mark.parametrize("producer", PRODUCERS)
def test_comment_injected_into_the_name_id_is_rejected(pki, warden, write, saml_flags, producer):
    # The IdP vouches for "alice@example.com.evil.org" (an account the attacker owns there); a
    # comment after ".com" leaves the signature valid (exc-c14n drops comments) while a reader
    # that stops at the first text node would see alice.
    def inject(root):
        name_id = root.find("%s/%s" % (G.saml("Subject"), G.saml("NameID")))
        name_id.text = "alice@example.com"
        comment = etree.Comment("")
        comment.tail = ".evil.org"
        name_id.append(comment)
    data = G.message(pki, edit(G.PRODUCERS[producer](pki, G.Spec(subject="alice@example.com.evil.org")), inject))
    rejected(warden, write, saml_flags, data, "saml-invalid", "NameID mixes a comment")


def test_wrapped_assertion_whose_signature_names_the_moved_original_is_rejected(pki, warden, write, saml_flags):
    # The signed original is parked in another header; an edited copy with a fresh ID keeps the
    # original's Signature, whose Reference still names (and verifies over) the original.
    def wrap(root):
        original = assertion_of(root)
        evil = copy.deepcopy(original)
        evil.set("ID", "_evil")
        for value in evil.iter(G.saml("AttributeValue")):
            value.text = "admin"
        original.getparent().replace(original, evil)
        helpers.header(root).append(original)
    data = edit(make(pki), wrap)
    rejected(warden, write, saml_flags, data, "saml-invalid", "points at another element")


def _evil_copy(original, new_id="_evil"):
    evil = copy.deepcopy(original)
    evil.set("ID", new_id)
    for value in evil.iter(G.saml("AttributeValue")):
        value.text = "admin"
    return evil


def test_wrapped_assertion_hiding_the_original_in_an_attribute_value_is_rejected(pki, warden, write, saml_flags):
    def wrap(root):
        original = assertion_of(root)
        evil = _evil_copy(original)
        original.getparent().replace(original, evil)
        next(evil.iter(G.saml("AttributeValue"))).append(original)
    rejected(warden, write, saml_flags, edit(make(pki), wrap), "saml-invalid", "AttributeValue mixes")


def test_wrapped_copy_that_takes_the_original_id_is_duplicate_id(pki, warden, write, saml_flags):
    def wrap(root):
        original = assertion_of(root)
        original.getparent().replace(original, _evil_copy(original, original.get("ID")))
        helpers.header(root).append(original)
    rejected(warden, write, saml_flags, edit(make(pki), wrap), "duplicate-id", "")


def test_second_unsigned_assertion_is_rejected_not_ignored(pki, warden, write, saml_flags):
    unsigned = G.pysaml2_assertion(pki, G.Spec(signer=None, subject="admin@example.com"))

    def add(root):
        assertion_of(root).addnext(etree.fromstring(unsigned))
    rejected(warden, write, saml_flags, edit(make(pki), add), "saml-invalid", "more than one saml2:Assertion")


def test_holder_of_key_signed_with_another_key_is_rejected(pki, warden, write, saml_flags):
    data = make(pki, method="holder-of-key", hok_cert="alice", signer="bob")
    rejected(warden, write, saml_flags, data, "saml-invalid", "holder-of-key: no message signature")


def test_sender_vouches_not_covered_by_the_sender_is_rejected(pki, warden, write, saml_flags):
    data = make(pki, method="sender-vouches", cover=False)
    rejected(warden, write, saml_flags, data, "saml-invalid", "sender-vouches")


@pytest.mark.parametrize("producer", PRODUCERS)
def test_unsigned_bearer_assertion_is_rejected(pki, warden, write, saml_flags, producer):
    data = G.message(pki, G.PRODUCERS[producer](pki, G.Spec(signer=None)))
    rejected(warden, write, saml_flags, data, "saml-invalid", "not signed")


@pytest.mark.parametrize("producer", PRODUCERS)
def test_one_time_use_assertion_is_a_replay_the_second_time(pki, warden, write, saml_flags, producer):
    # unsigned messages, so that only the assertion can be remembered
    assertion = G.PRODUCERS[producer](pki, G.Spec(one_time_use=True))
    first = write("first.xml", G.message(pki, assertion, signer=None))
    second = write("second.xml", G.message(pki, assertion, signer=None))
    run = warden.verify(first, second, now=LATER_NOW, extra=saml_flags)
    lines = run.json_lines()
    assert [line["delivered"] for line in lines] == [True, False], run
    assert lines[1]["reason"] == "replay" and "assertion" in lines[1]["detail"], run
    # control: without OneTimeUse the same assertion serves both
    assertion = G.PRODUCERS[producer](pki, G.Spec())
    first = write("first.xml", G.message(pki, assertion, signer=None))
    second = write("second.xml", G.message(pki, assertion, signer=None))
    run = warden.verify(first, second, now=LATER_NOW, extra=saml_flags)
    assert [line["delivered"] for line in run.json_lines()] == [True, True], run


def test_assertion_signature_referencing_another_element_is_rejected(pki, warden, write, saml_flags):
    # A valid IdP signature whose one Reference names the message's Timestamp, not the assertion.
    unsigned = G.lasso_assertion(pki, G.Spec(signer=None))
    env = etree.fromstring(G.message(pki, unsigned, signer=None))
    assertion = assertion_of(env)
    timestamp = helpers.security(env).find("{%s}Timestamp" % helpers.WSU)
    timestamp.set(WSU_ID, "ts-1")
    signature = xmlsec.template.create(env, xmlsec.Transform.EXCL_C14N, xmlsec.Transform.RSA_SHA256, ns="ds")
    assertion.find(G.saml("Issuer")).addnext(signature)
    ref = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri="#ts-1")
    xmlsec.template.add_transform(ref, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(ref, xmlsec.Transform.EXCL_C14N)
    xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_file(os.path.join(pki, "idp.key"), xmlsec.KeyFormat.PEM)
    ctx.key.load_cert_from_file(os.path.join(pki, "idp.pem"), xmlsec.KeyFormat.PEM)
    ctx.register_id(timestamp, "Id", helpers.WSU)
    ctx.sign(signature)
    rejected(warden, write, saml_flags, etree.tostring(env), "saml-invalid", "points at another element")


def test_wrong_version_is_rejected(pki, warden, write, saml_flags):
    rejected(warden, write, saml_flags, make(pki, version="1.1"), "saml-invalid", "Version \"1.1\" is not 2.0")


@pytest.mark.parametrize("producer", PRODUCERS)
def test_missing_issuer_is_rejected(pki, warden, write, saml_flags, producer):
    rejected(warden, write, saml_flags, make(pki, producer, issuer=None), "saml-invalid", "Issuer is required")


def test_no_configured_issuer_trusts_no_assertion(pki, warden, write):
    rc, report, run = warden.verify_one(write("m.xml", make(pki)), now=LATER_NOW)
    assert rc == 1 and report["reason"] == "cert-untrusted" and "saml.issuers" in report["detail"], run


def test_xmlsec1_agrees_that_the_assertion_signature_verifies(pki, write, saml_flags):
    # the oracle: the assertions we accept are ones xmlsec1 verifies too
    for producer in PRODUCERS:
        path = write("a-%s.xml" % producer, G.PRODUCERS[producer](pki, G.Spec()))
        proc = subprocess.run(["xmlsec1", "--verify", "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
                               "--pubkey-cert-pem", os.path.join(pki, "idp.pem"), str(path)],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr


# --- the example policies over real assertions ----------------------------------------------

@pytest.mark.parametrize("producer", PRODUCERS)
def test_example_policy_allows_by_saml_role_and_audience(pki, warden, write, saml_flags, producer):
    # signed by bob (OU=Ops): no certificate rule of policies/ allows him; the assertion does
    source = os.environ.get("WARDEN_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
    policies = os.path.join(source, "policies")
    decisions = {}
    for role in ("clerk", "auditor"):
        data = make(pki, producer, signer="bob", attributes={"role": [role]})
        cmd = [warden.binary, "decide", "--json", "--trust", os.path.join(pki, "ca.pem"),
               "--certs", os.path.join(pki, "known.pem"), "--policies", policies, "--now", LATER_NOW]
        proc = subprocess.run(cmd + list(saml_flags) + [str(write(role + ".xml", data))], capture_output=True,
                              text=True, timeout=60)
        decisions[role] = (proc.returncode, proc.stdout, proc.stderr)
    rc, out, err = decisions["clerk"]
    assert rc == 0, (out, err)
    assert json.loads(out)["rules"] == ["SAML clerks create small orders"]
    rc, out, err = decisions["auditor"]
    assert rc == 1 and json.loads(out)["reason"] == "no-permit", (out, err)
