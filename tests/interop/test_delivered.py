"""Messages made by zeep and npm soap, as their clients emit them, are delivered by
`warden verify` with the properties of docs/reference.md (JSON output)."""
import hashlib
import os
import ssl

import pytest

import helpers

ALICE = {"subject": "CN=alice,OU=Payments,O=Example", "subject_cn": "alice",
         "issuer": "CN=Test Root CA,O=Example", "serial": 0x1E5,
         "key": {"type": "rsa", "bits": 2048}}
ECUSER = {"subject": "CN=ecuser,OU=Payments,O=Example", "subject_cn": "ecuser",
          "issuer": "CN=Test Root CA,O=Example", "serial": 0x30,
          "key": {"type": "ec", "bits": 256}}
CERTS = {"alice": ALICE, "ecuser": ECUSER}

BODY_TS = ["Body", "Timestamp"]
WSA_HEADERS = ["Action", "To", "MessageID"]

# name -> what warden must report. "signed": parts that must be listed (at least);
# "ut": password_type of the UsernameToken; "ts": the Timestamp is the fixed zeep one.
SIGNED = {
    "zeep-binary-rsa": {"signed": BODY_TS, "ts": True},
    "zeep-binary-ec": {"signed": BODY_TS, "ts": True},
    "zeep-x509data-rsa": {"signed": BODY_TS, "ts": True},
    "zeep-binary-soap12": {"signed": BODY_TS, "ts": True, "soap": "1.2"},
    "soap-cert-rsa": {"signed": BODY_TS},
    "soap-cert-defaults": {"signed": BODY_TS},
    "soap-cert-wsa": {"signed": BODY_TS + WSA_HEADERS},
}
USERNAME = {
    "zeep-ut-digest-zulu": {"ut": "digest", "ts": True},
    "zeep-ut-digest-offset": {"ut": "digest", "ts": True},
    "zeep-ut-text": {"ut": "text"},
    "soap-ut-digest": {"ut": "digest"},
    "soap-ut-text": {"ut": "text"},
}


def cert_sha256(pem_path):
    with open(pem_path) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return hashlib.sha256(der).hexdigest()


def check_common(m, soap="1.1"):
    assert m.get("delivered") is True, m
    assert m.get("soap") == soap, m
    assert m.get("action") == "urn:example:orders/Create", m
    assert m.get("operation") == "{urn:example:orders}CreateOrder", m
    if "to" in m:
        assert m["to"] == "https://orders.example.com/soap", m
    if "message_id" in m:
        assert m["message_id"].startswith("urn:uuid:"), m
    for key, value in m.items():
        assert value is not None, "field %s is null (absent fields must be left out)" % key


def check_x509_token(m, signer, pki):
    x509_tokens = [t for t in m.get("tokens", []) if t.get("kind") == "x509"]
    assert len(x509_tokens) == 1, m
    tok = x509_tokens[0]
    assert tok.get("role") == "signing", tok
    assert tok.get("key_type") == "asymmetric", tok
    assert tok.get("valid_from") == "2025-01-01T00:00:00Z", tok
    assert tok.get("valid_till") == "2035-01-01T00:00:00Z", tok
    x = tok.get("x509", {})
    want = CERTS[signer]
    assert x.get("subject") == want["subject"], tok
    assert x.get("subject_cn") == want["subject_cn"], tok
    assert x.get("issuer") == want["issuer"], tok
    serial = x.get("serial", "")
    assert all(c in "0123456789abcdef" for c in serial) and serial, tok
    assert int(serial, 16) == want["serial"], tok
    assert x.get("key") == want["key"], tok
    assert x.get("sha256") == cert_sha256(os.path.join(pki, signer + ".pem")), tok


@pytest.mark.parametrize("message", sorted(SIGNED), indirect=True)
def test_signed_message_is_delivered_with_its_signer_and_signed_parts(warden, pki, message):
    want = SIGNED[message.name]
    rc, m, run = warden.verify_one(message.path, now=message.now)
    assert rc == 0, run
    check_common(m, soap=want.get("soap", "1.1"))
    assert m.get("protection") == "sign", m
    signed = m.get("signed", [])
    for part in want["signed"]:
        assert part in signed, m
    check_x509_token(m, message.signer, pki)
    if want.get("ts"):
        assert m.get("timestamp") == {"created": "2026-11-25T12:00:00Z",
                                      "expires": "2026-11-25T12:05:00Z"}, m
    else:
        created = helpers.iso(helpers.created_of(message.read()))
        assert m.get("timestamp", {}).get("created") == created, m


@pytest.mark.parametrize("message", sorted(USERNAME), indirect=True)
def test_username_token_message_is_delivered_as_its_user(warden, message):
    want = USERNAME[message.name]
    rc, m, run = warden.verify_one(message.path, now=message.now)
    assert rc == 0, run
    check_common(m)
    assert m.get("protection") == "none", m
    assert m.get("username") == "alice", m
    assert not m.get("signed"), m
    uts = [t for t in m.get("tokens", []) if t.get("kind") == "username"]
    assert len(uts) == 1, m
    assert uts[0].get("key_type") == "none", m
    assert uts[0].get("username") == {"name": "alice", "password_type": want["ut"]}, m
    assert not [t for t in m.get("tokens", []) if t.get("kind") == "x509"], m
    if want.get("ts"):
        assert m.get("timestamp") == {"created": "2026-11-25T12:00:00Z",
                                      "expires": "2026-11-25T12:05:00Z"}, m


@pytest.mark.parametrize("message", ["soap-cert-rsa", "soap-ut-digest"], indirect=True)
def test_fresh_npm_soap_message_is_delivered_on_the_system_clock(warden, message):
    # npm soap stamps its messages with the real clock: no --now needed
    rc, m, run = warden.verify_one(message.path, now=None)
    assert rc == 0 and m.get("delivered") is True, run


def test_sha1_signature_is_delivered_with_allow_sha1(warden, pki, zeep_messages):
    msg = zeep_messages["zeep-binary-sha1"]
    rc, m, run = warden.verify_one(msg.path, extra=["--allow-sha1"])
    assert rc == 0, run
    check_common(m)
    assert m.get("protection") == "sign", m
    for part in BODY_TS:
        assert part in m.get("signed", []), m
    check_x509_token(m, "alice", pki)


@pytest.mark.parametrize("message", ["zeep-binary-rsa", "soap-cert-rsa", "zeep-ut-digest-zulu"],
                         indirect=True)
def test_lxml_round_trip_of_a_generated_message_is_still_delivered(warden, write, message):
    # the tampering tests edit messages through lxml: parse + serialize alone must not matter
    data = helpers.serialize(helpers.parse(message.read()))
    rc, m, run = warden.verify_one(write("roundtrip.xml", data), now=message.now)
    assert rc == 0 and m.get("delivered") is True, run


def test_several_messages_give_one_json_line_each_in_order(warden, zeep_messages):
    names = ["zeep-binary-rsa", "zeep-ut-text", "zeep-binary-ec"]
    run = warden.verify(*[zeep_messages[n].path for n in names])
    assert run.rc == 0, run
    lines = run.json_lines()
    assert [m.get("delivered") for m in lines] == [True, True, True], run
    assert [m.get("protection") for m in lines] == ["sign", "none", "sign"], run


def test_text_output_names_the_signer(warden, zeep_messages):
    run = warden.verify(zeep_messages["zeep-binary-rsa"].path, json_out=False)
    assert run.rc == 0, run
    assert "alice" in run.stdout, run
