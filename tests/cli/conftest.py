"""Tests of the `warden` command's contract (docs/reference.md, Command line): flags, exit codes,
output shapes. Environment (set by ctest): WARDEN_BIN, WARDEN_TEST_PKI."""
import base64
import hashlib
import os
import subprocess

import pytest

NOW = "2026-11-25T12:00:30Z"


@pytest.fixture(scope="session")
def warden():
    path = os.environ.get("WARDEN_BIN")
    if not path or not os.path.exists(path):
        pytest.fail("WARDEN_BIN is not set to the built warden command", pytrace=False)

    def run(*args, stdin=None):
        return subprocess.run([path, *args], input=stdin, capture_output=True, timeout=60)
    return run


@pytest.fixture(scope="session")
def pki():
    d = os.environ.get("WARDEN_TEST_PKI")
    if not d or not os.path.isfile(os.path.join(d, "users.txt")):
        pytest.fail("WARDEN_TEST_PKI is not set to a folder made by tests/support/make_pki.sh", pytrace=False)
    return d


def username_message(nonce=b"cli-nonce-000001", user="alice", password="secret",
                     created="2026-11-25T12:00:00Z"):
    """A UsernameToken (PasswordDigest) request, as WS-Security's profile defines the digest."""
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()
    wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
    wsu = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
    profile = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    return f"""<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:wsse="{wsse}" xmlns:wsu="{wsu}">
<soap:Header><wsa:Action>urn:example:orders/Create</wsa:Action>
<wsse:Security><wsse:UsernameToken><wsse:Username>{user}</wsse:Username>
<wsse:Password Type="{profile}#PasswordDigest">{digest}</wsse:Password>
<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce><wsu:Created>{created}</wsu:Created>
</wsse:UsernameToken></wsse:Security></soap:Header>
<soap:Body><ord:CreateOrder xmlns:ord="urn:example:orders"><ord:amount>250</ord:amount></ord:CreateOrder></soap:Body>
</soap:Envelope>""".encode()
