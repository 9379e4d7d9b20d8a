"""xmlsec1 (Debian's command, an independent XML-DSig implementation) as an oracle: it and
warden agree on every signed message the clients made, and on a tampered Body.

xmlsec1 checks only the signature (it ignores the SecurityTokenReference, so it is given the
signer's certificate); the generator checks here do not need warden."""
import os

import pytest

import helpers

SIGNED = ["zeep-binary-rsa", "zeep-binary-ec", "zeep-x509data-rsa", "zeep-binary-soap12",
          "zeep-binary-sha1", "soap-cert-rsa", "soap-cert-defaults", "soap-cert-wsa"]


def cert(pki, message):
    return os.path.join(pki, message.signer + ".pem")


@pytest.mark.parametrize("message", SIGNED, indirect=True)
def test_xmlsec1_verifies_what_the_client_signed(xmlsec1, pki, message):
    ok, out = xmlsec1.verify(message.path, cert(pki, message))
    assert ok, out


@pytest.mark.parametrize("message", SIGNED, indirect=True)
def test_xmlsec1_rejects_the_edited_body(xmlsec1, pki, write, message):
    path = write("edited.xml", helpers.edit_body(message.read()))
    ok, out = xmlsec1.verify(path, cert(pki, message))
    assert not ok, out


@pytest.mark.parametrize("message", [m for m in SIGNED if m != "zeep-binary-sha1"],
                         indirect=True)
def test_warden_agrees_with_xmlsec1(warden, xmlsec1, pki, write, message):
    ok, out = xmlsec1.verify(message.path, cert(pki, message))
    rc, m, run = warden.verify_one(message.path, now=message.now)
    assert ok, out
    assert rc == 0 and m.get("delivered") is True, run

    path = write("edited.xml", helpers.edit_body(message.read()))
    ok, out = xmlsec1.verify(path, cert(pki, message))
    rc, m, run = warden.verify_one(path, now=message.now)
    assert not ok, out
    assert rc == 1 and m.get("delivered") is False, run
