"""Delivered messages made by zeep, and their properties as Python values."""
import datetime as dt
import hashlib
import json
import os
import ssl
import subprocess

import pytest

import warden

UTC = dt.timezone.utc


def der_of(pem_path):
    with open(pem_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def test_signed_message_is_delivered_with_its_properties(engine, zeep, pki):
    data = zeep.signed(pki, "alice", amount="250")
    with engine.receive(data, now=zeep.NOW, attrs={"client": "10.0.0.7", "tenant": "acme"}) as m:
        assert m.soap == "1.1"
        assert m.action == "urn:example:orders/Create"
        assert m.to == "https://orders.example.com/soap"
        assert m.message_id == "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e"
        assert m.operation == "{urn:example:orders}CreateOrder"
        assert m.protection == "sign"
        assert m.username is None
        assert m.timestamp == warden.Timestamp(dt.datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
                                               dt.datetime(2026, 11, 25, 12, 5, tzinfo=UTC))
        assert m.now == dt.datetime(2026, 11, 25, 12, 0, 30, tzinfo=UTC)
        assert {"Body", "Timestamp"} <= m.signed
        assert isinstance(m.signed, frozenset)
        assert m.signed_parts[:1] and set(m.signed_parts) == m.signed
        assert m.attrs == {"client": "10.0.0.7", "tenant": "acme"}
        assert m.body("amount") == "250"
        assert m.body("CreateOrder/amount") == "250"
        assert m.body("{urn:example:orders}CreateOrder/{urn:example:orders}amount") == "250"
        assert m.body("{urn:other}amount") is None
        assert m.body("nothing") is None
        assert m.body("CreateOrder") is None  # holds an element, not text

        cert = m.cert
        assert cert is not None
        assert cert.subject == {"CN": "alice", "OU": "Payments", "O": "Example"}
        assert cert.subject_all["OU"] == ("Payments",)
        assert cert.subject_dn == "CN=alice,OU=Payments,O=Example"
        assert cert.issuer == {"CN": "Test Root CA", "O": "Example"}
        assert cert.issuer_dn == "CN=Test Root CA,O=Example"
        der = der_of(os.path.join(pki, "alice.pem"))
        assert cert.der == der
        assert m.encoded_cert == der
        assert cert.sha256 == hashlib.sha256(der).hexdigest()
        assert cert.serial and all(c in "0123456789abcdef" for c in cert.serial)
        assert cert.key_type == "rsa" and cert.key_bits == 2048
        assert cert.not_before == dt.datetime(2025, 1, 1, tzinfo=UTC)
        assert cert.not_after == dt.datetime(2035, 1, 1, tzinfo=UTC)
        assert cert.san.dns == ("alice.example.com", "payments.example.com")
        assert cert.san.email == ("alice@example.com",)
        assert cert.san.uri == ("urn:example:alice",)
        assert cert.san.ip == ("192.0.2.10",)

        (token,) = m.tokens
        assert (token.kind, token.role, token.key_type) == ("x509", "signing", "asymmetric")
        assert token.cert == cert
        assert token.username is None and token.password_type is None
        assert "BinarySecurityToken" in token.serialized_xml
        assert token.symmetric_key is None


def test_ec_signature_and_soap12(engine, zeep, pki):
    with engine.receive(zeep.signed(pki, "ecuser", soap=zeep.SOAP12), now=zeep.NOW) as m:
        assert m.soap == "1.2"
        assert m.cert.subject["CN"] == "ecuser"
        assert m.cert.key_type == "ec"
        assert m.cert.key_bits == 256


def test_username_token_message(engine, zeep):
    with engine.receive(zeep.username("alice", "secret", digest=True), now=zeep.NOW) as m:
        assert m.username == "alice"
        assert m.protection == "none"
        assert m.cert is None and m.encoded_cert is None
        assert m.signed == frozenset()
        assert m.timestamp.created == dt.datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
        (token,) = m.tokens
        assert (token.kind, token.role, token.key_type) == ("username", "supporting", "none")
        assert token.username == "alice" and token.password_type == "digest"
        assert token.cert is None
        assert token.valid_from == dt.datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    with engine.receive(zeep.username("bob", "hunter2", digest=False), now=zeep.NOW) as m:
        assert m.tokens[0].password_type == "text"


def test_now_may_be_a_datetime_unix_seconds_or_iso_text(engine_options, zeep, pki):
    data = zeep.signed(pki)
    forms = [zeep.NOW, zeep.NOW_UNIX, dt.datetime(2026, 11, 25, 12, 0, 30),
             dt.datetime(2026, 11, 25, 13, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
             "2026-11-25T13:00:30+01:00"]
    for now in forms:
        with warden.Engine(**engine_options) as e, e.receive(data, now=now) as m:
            assert m.now == dt.datetime(2026, 11, 25, 12, 0, 30, tzinfo=UTC), now
    with warden.Engine(**engine_options) as e:
        with pytest.raises(ValueError, match="ISO-8601"):
            e.receive(data, now="yesterday")
        with pytest.raises(TypeError):
            e.receive(data, now=[1])
        with pytest.raises(TypeError):
            e.receive(12345)


def test_str_and_bytearray_data_are_accepted(engine_options, zeep, pki):
    data = zeep.signed(pki)
    for form in (data.decode(), bytearray(data), memoryview(data)):
        with warden.Engine(**engine_options) as e, e.receive(form, now=zeep.NOW) as m:
            assert m.action == "urn:example:orders/Create"


def verify_json(binary, pki, path):
    proc = subprocess.run([binary, "verify", "--json", "--trust", os.path.join(pki, "ca.pem"),
                           "--users", os.path.join(pki, "users.txt"), "--now", "2026-11-25T12:00:30Z",
                           path], capture_output=True, text=True, timeout=60)
    return json.loads(proc.stdout)


@pytest.fixture
def warden_bin():
    path = os.environ.get("WARDEN_BIN")
    if not path or not os.path.isfile(path):
        pytest.skip("WARDEN_BIN (the warden command) is not set; ctest sets it")
    return path


@pytest.mark.parametrize("kind", ["signed", "username"])
def test_to_dict_is_the_verify_json_object(engine, zeep, pki, tmp_path, warden_bin, kind):
    data = zeep.signed(pki) if kind == "signed" else zeep.username()
    path = tmp_path / "m.xml"
    path.write_bytes(data)
    expected = verify_json(warden_bin, pki, str(path))
    with engine.receive(data, now=zeep.NOW) as m:
        got = m.to_dict()
    assert got == expected
    assert list(got) == list(expected)  # same field order
