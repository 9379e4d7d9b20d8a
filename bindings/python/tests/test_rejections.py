"""Rejected messages raise warden.SecurityRejected with the stable reason code."""
import os

import pytest

import warden

NOW = "2026-11-25T12:00:30Z"


def rejection(engine, data, now=NOW):
    with pytest.raises(warden.SecurityRejected) as info:
        engine.receive(data, now=now)
    e = info.value
    assert isinstance(e, warden.WardenError)
    assert e.code == 5
    assert e.reason and e.reason in str(e)
    return e


def test_tampered_body_is_a_digest_mismatch(engine, zeep, pki):
    e = rejection(engine, zeep.tamper_amount(zeep.signed(pki)))
    assert e.reason == "digest-mismatch"
    assert e.detail  # the text for a person


def test_replayed_message_is_rejected_the_second_time(engine, zeep, pki):
    data = zeep.signed(pki)
    engine.receive(data, now=NOW).close()
    assert rejection(engine, data).reason == "replay"
    nonce = zeep.username(nonce="bm9uY2UtMDAwMQ==")
    engine.receive(nonce, now=NOW).close()
    assert rejection(engine, nonce).reason == "replay"


@pytest.mark.parametrize("make,now,reason", [
    (lambda z, pki: z.signed(pki), "2026-11-25T13:00:30Z", "timestamp-expired"),
    (lambda z, pki: z.signed(pki, "mallory"), NOW, "cert-untrusted"),
    (lambda z, pki: z.username("alice", "wrong"), NOW, "password-invalid"),
    (lambda z, pki: z.username("eve", "secret"), NOW, "user-unknown"),
    (lambda z, pki: z.plain(), NOW, "security-header-missing"),
    (lambda z, pki: b"this is not XML", NOW, "malformed"),
])
def test_rejection_reasons(engine, zeep, pki, make, now, reason):
    assert rejection(engine, make(zeep, pki), now).reason == reason


def test_every_error_code_has_its_exception_class():
    classes = {1: warden.InvalidArgument, 2: warden.OutOfMemory, 3: warden.WardenIOError,
               4: warden.ConfigError, 5: warden.SecurityRejected, 6: warden.NotApplicable,
               7: warden.PolicyError, 8: warden.InternalError}
    for code, cls in classes.items():
        assert issubclass(cls, warden.WardenError)
        assert cls.code == code
        e = cls("what happened", "a-reason")
        assert (e.code, e.reason, e.detail) == (code, "a-reason", "what happened")
        assert str(e) == "a-reason: what happened"
    assert issubclass(warden.WardenIOError, OSError)
    assert issubclass(warden.InvalidArgument, ValueError)
    assert issubclass(warden.OutOfMemory, MemoryError)
    assert str(warden.PolicyError()) == warden._strerror(7)


def test_no_security_header_is_fine_when_no_token_is_required(pki, zeep):
    with warden.Engine(require={"token": False}) as e, e.receive(zeep.plain(), now=NOW) as m:
        assert m.protection == "none" and m.tokens == ()
    with warden.Engine(require_token=False) as e, e.receive(zeep.plain(), now=NOW) as m:
        assert m.operation == "{urn:example:orders}CreateOrder"
    with warden.Engine(**{"require.token": False, "trust": os.path.join(pki, "ca.pem")}) as e:
        e.receive(zeep.plain(), now=NOW).close()
