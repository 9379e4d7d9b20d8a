"""Tampered copies of the generated messages, and messages the clients made with the wrong
key, certificate or password, are rejected by `warden verify` with the exact reason code
(docs/reference.md, Reason codes) and exit code 1."""
import os

import pytest

import helpers


def rejected(warden, path, now, reasons, extra=()):
    """Verify one file; it must be rejected with one of REASONS (a str or a set)."""
    if isinstance(reasons, str):
        reasons = {reasons}
    rc, m, run = warden.verify_one(path, now=now, extra=extra)
    assert m.get("delivered") is False, run
    assert m.get("reason") in reasons, run
    assert "detail" in m, run
    assert rc == 1, run
    return m


SIGNED = ["zeep-binary-rsa", "zeep-binary-ec", "zeep-x509data-rsa", "soap-cert-rsa",
          "soap-cert-defaults"]


@pytest.mark.parametrize("message", SIGNED, indirect=True)
def test_edited_body_is_a_digest_mismatch(warden, write, message):
    path = write("edited.xml", helpers.edit_body(message.read()))
    rejected(warden, path, message.now, "digest-mismatch")


@pytest.mark.parametrize("message", SIGNED, indirect=True)
def test_flipped_signature_value_is_signature_invalid(warden, write, message):
    path = write("flipped.xml", helpers.flip_signature_value(message.read()))
    rejected(warden, path, message.now, "signature-invalid")


@pytest.mark.parametrize("message", ["zeep-binary-rsa", "soap-cert-rsa", "zeep-ut-digest-zulu",
                                     "soap-ut-digest"], indirect=True)
def test_message_an_hour_old_is_timestamp_expired(warden, message):
    rejected(warden, message.path, message.later(3600), "timestamp-expired")


@pytest.mark.parametrize("message", ["zeep-binary-rsa", "soap-cert-rsa"], indirect=True)
def test_signed_body_moved_into_a_wrapper_leaves_the_new_body_unsigned(warden, write, message):
    # the moved copy (a Header child's child) keeps the signed Body's Id, the evil Body has none
    path = write("wrapped.xml", helpers.wrap_body(message.read(), where="header"))
    rejected(warden, path, message.now, "unsigned-part")


@pytest.mark.parametrize("message", ["zeep-binary-rsa", "soap-cert-rsa"], indirect=True)
def test_signed_body_moved_into_a_wrapper_inside_the_security_header_is_rejected(
        warden, write, message):
    # an unknown child of wsse:Security may be refused as such before the signature is looked at
    path = write("wrapped.xml", helpers.wrap_body(message.read(), where="security"))
    rejected(warden, path, message.now, {"unsigned-part", "token-unsupported"})


@pytest.mark.parametrize("message", ["zeep-binary-rsa", "soap-cert-rsa"], indirect=True)
def test_wrapped_body_with_an_unreferenced_id_on_the_new_body_is_rejected(
        warden, write, message):
    path = write("wrapped.xml", helpers.wrap_body(message.read(), evil_id="id-evil"))
    rejected(warden, path, message.now, {"unsigned-part", "reference-invalid"})


@pytest.mark.parametrize("attr,on", [("same", "header"), ("other", "header"),
                                     ("same", "evil-body")])
@pytest.mark.parametrize("message", ["zeep-binary-rsa", "soap-cert-rsa"], indirect=True)
def test_second_element_with_the_body_id_is_duplicate_id(warden, write, message, attr, on):
    path = write("dup.xml", helpers.duplicate_body_id(message.read(), attr=attr, on=on))
    rejected(warden, path, message.now, "duplicate-id")


def test_signer_from_an_untrusted_ca_is_cert_untrusted(warden, zeep_messages):
    rejected(warden, zeep_messages["zeep-binary-mallory"].path, helpers.NOW, "cert-untrusted")


def test_signer_with_an_expired_certificate_is_cert_expired(warden, zeep_messages):
    rejected(warden, zeep_messages["zeep-binary-expired-cert"].path, helpers.NOW,
             "cert-expired")


@pytest.mark.parametrize("name,rule", [("zeep-binary-root-ca", "CA:TRUE"),
                                       ("zeep-x509data-intermediate-ca", "CA:TRUE"),
                                       ("zeep-binary-tls-server", "digitalSignature")])
def test_signer_that_may_not_sign_is_cert_usage(warden, zeep_messages, name, rule):
    # each chains to the trust anchor: only the signer rules stop them
    m = rejected(warden, zeep_messages[name].path, helpers.NOW, "cert-usage")
    assert rule in m["detail"]


def test_signer_without_a_required_eku_is_cert_usage(warden, zeep_messages, pki, write):
    config = write("eku.lua", b'return { trust = { eku = { "clientAuth" } } }')
    m = rejected(warden, zeep_messages["zeep-binary-rsa"].path, helpers.NOW, "cert-usage",
                 extra=("-c", config))
    assert "clientAuth" in m["detail"]


def crl_flags(pki, *names):
    flags = []
    for name in names:
        flags += ["--crl", pki + "/" + name]
    return tuple(flags)


def test_revoked_signer_is_cert_revoked(warden, zeep_messages, pki):
    crls = crl_flags(pki, "crl-root.pem", "crl-intermediate.pem")
    m = rejected(warden, zeep_messages["zeep-binary-revoked"].path, helpers.NOW, "cert-revoked",
                 extra=crls)
    assert "CN=revoked" in m["detail"]
    # the same CRLs let the others through
    rc, m, run = warden.verify_one(zeep_messages["zeep-binary-rsa"].path, extra=crls)
    assert rc == 0 and m["delivered"] is True, run


def test_expired_crl_fails_closed(warden, zeep_messages, pki):
    m = rejected(warden, zeep_messages["zeep-binary-rsa"].path, helpers.NOW, "cert-untrusted",
                 extra=crl_flags(pki, "crl-root-expired.pem"))
    assert "revocation status unknown" in m["detail"]


@pytest.mark.parametrize("internal_subset", [True, False], ids=["with-entity", "bare"])
@pytest.mark.parametrize("message", ["zeep-binary-rsa", "zeep-ut-text", "soap-cert-rsa"],
                         indirect=True)
def test_doctype_is_dtd_forbidden(warden, write, message, internal_subset):
    path = write("doctype.xml", helpers.with_doctype(message.read(), internal_subset))
    rejected(warden, path, message.now, "dtd-forbidden")


@pytest.mark.parametrize("name", ["zeep-ut-digest-wrong-password",
                                  "zeep-ut-text-wrong-password"])
def test_wrong_password_is_password_invalid(warden, zeep_messages, name):
    rejected(warden, zeep_messages[name].path, helpers.NOW, "password-invalid")


@pytest.mark.parametrize("message", ["soap-ut-digest", "soap-ut-text"], indirect=True)
def test_changed_password_element_is_password_invalid(warden, write, message):
    path = write("pw.xml", helpers.set_password(message.read(), "hunter2"))
    rejected(warden, path, message.now, "password-invalid")


def test_unknown_user_is_user_unknown(warden, zeep_messages):
    rejected(warden, zeep_messages["zeep-ut-unknown-user"].path, helpers.NOW, "user-unknown")


@pytest.mark.parametrize("message", ["zeep-ut-digest-zulu", "soap-ut-digest",
                                     "zeep-binary-rsa", "soap-cert-rsa"], indirect=True)
def test_same_message_twice_in_one_run_is_a_replay(warden, message):
    run = warden.verify(message.path, message.path, now=message.now)
    lines = run.json_lines()
    assert len(lines) == 2, run
    assert lines[0].get("delivered") is True, run
    assert lines[1].get("delivered") is False and lines[1].get("reason") == "replay", run
    assert run.rc == 1, run


def test_ecdsa_twin_of_a_delivered_message_is_a_replay(warden, write, xmlsec1, pki, zeep_messages):
    original = zeep_messages["zeep-binary-ec"]
    cert = os.path.join(pki, "ecuser.pem")
    twin = write("twin.xml", helpers.flip_ecdsa_s(original.read(), cert))
    # The twin is a valid signature (xmlsec1 says so, and so does warden on its own) ...
    ok, out = xmlsec1.verify(twin, cert)
    assert ok, out
    rc, m, run = warden.verify_one(twin, now=original.now)
    assert rc == 0 and m.get("delivered") is True, run
    # ... of the same message: after the original, in one run, it is a replay.
    run = warden.verify(original.path, twin, now=original.now)
    lines = run.json_lines()
    assert len(lines) == 2, run
    assert lines[0].get("delivered") is True, run
    assert lines[1].get("delivered") is False and lines[1].get("reason") == "replay", run
    assert run.rc == 1, run


@pytest.mark.parametrize("message", ["zeep-binary-rsa", "soap-cert-rsa"], indirect=True)
def test_username_token_added_to_a_signed_message_is_an_unsigned_part(warden, write, message,
                                                                      request):
    # a token of the same client, so that its Created is as fresh as the signed message
    source = request.getfixturevalue(message.client + "_messages")[message.client + "-ut-text"]
    path = write("with-token.xml", helpers.add_username_token(message.read(), source.read()))
    rejected(warden, path, message.now, "unsigned-part")


# Each client's PasswordText token without Nonce (and, for zeep, without Created): the same
# bytes every time, so a copy would be good until the password changes.
BARE_TOKENS = [("zeep-ut-text-bare", "timestamp-missing"), ("soap-ut-text-no-nonce", "token-unsupported")]


@pytest.mark.parametrize("message,reason", BARE_TOKENS, indirect=["message"])
def test_username_token_without_nonce_or_created_is_rejected(warden, message, reason):
    rejected(warden, message.path, message.now, reason)


@pytest.mark.parametrize("message,reason", BARE_TOKENS, indirect=["message"])
def test_username_token_without_nonce_is_delivered_again_and_again_when_allowed(
        warden, write, message, reason):
    config = write("config.lua", b"return { username = { require_nonce = false } }\n")
    run = warden.verify(message.path, message.path, now=message.now, extra=("-c", config))
    lines = run.json_lines()
    assert [m.get("delivered") for m in lines] == [True, True], run
    assert lines[0].get("username") == "alice", run
    assert run.rc == 0, run


@pytest.mark.parametrize("message", ["soap-ut-next-actor"], indirect=True)
def test_security_header_for_the_next_actor_must_be_understood(warden, write, message):
    rejected(warden, message.path, message.now, "mustunderstand")
    # unless we are configured to be that actor: then it is our Security header
    config = write("config.lua",
                   b'return { actor = "http://schemas.xmlsoap.org/soap/actor/next" }\n')
    rc, m, run = warden.verify_one(message.path, now=message.now, extra=("-c", config))
    assert rc == 0 and m.get("delivered") is True and m.get("username") == "alice", run


@pytest.mark.parametrize("codec,declared,bom", [
    ("utf-8", "ISO-8859-1", True), ("utf-8", "UTF-16", True), ("utf-16-le", "UTF-8", True),
    ("utf-16-be", "utf-8", True), ("utf-16-le", "UTF-16BE", True), ("utf-16-le", "UTF-8", False)])
def test_byte_order_mark_disagreeing_with_the_declared_encoding_is_malformed(
        warden, write, zeep_messages, codec, declared, bom):
    original = zeep_messages["zeep-binary-rsa"]
    path = write("encoded.xml", helpers.reencode(original.read(), codec, declared, bom))
    m = rejected(warden, path, original.now, "malformed")
    assert declared in m["detail"], m


@pytest.mark.parametrize("codec,declared", [("utf-8", "utf-8"), ("utf-16-le", "UTF-16"),
                                            ("utf-16-be", "UTF-16"), ("utf-16-le", None)])
def test_signed_message_in_an_agreeing_encoding_is_still_delivered(warden, write, zeep_messages,
                                                                   codec, declared):
    # the signature covers the parsed (canonical) text, not the bytes on the wire
    original = zeep_messages["zeep-binary-rsa"]
    path = write("encoded.xml", helpers.reencode(original.read(), codec, declared))
    rc, m, run = warden.verify_one(path, now=original.now)
    assert rc == 0 and m.get("delivered") is True, run


def test_sha1_signature_is_weak_algorithm(warden, zeep_messages):
    rejected(warden, zeep_messages["zeep-binary-sha1"].path, helpers.NOW, "weak-algorithm")


def test_non_xml_file_is_malformed_with_its_json_line(warden, write, zeep_messages):
    junk = write("junk.xml", b"this is not XML at all \x00\xff{}\n")
    run = warden.verify(zeep_messages["zeep-binary-rsa"].path, junk)
    lines = run.json_lines()
    assert len(lines) == 2, run
    assert lines[0].get("delivered") is True, run
    assert lines[1].get("delivered") is False and lines[1].get("reason") == "malformed", run
    assert run.rc == 1, run


def test_missing_file_is_a_usage_error(warden, tmp_path):
    run = warden.verify(str(tmp_path / "no-such-message.xml"))
    assert run.rc == 2, run
