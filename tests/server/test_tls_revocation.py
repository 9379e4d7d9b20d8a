"""Mutual TLS with serve.tls.crls: every certificate of the client's chain must have a current
CRL of its issuer that does not list it (fail closed, as the engine checks message signers);
a CRL file that does not load stops the server from starting."""
import os
import ssl
import subprocess

import pytest

from conftest import decision, free_port, metric, write_config
from test_bad_peers import eventually

# The rule that permits names the client certificate's CN, so a decision shows which one the
# policy saw as m.transport.cert.
POLICY = """
for _, cn in ipairs({ "client", "revoked", "bob" }) do
  permit("transport " .. cn) {
    action = "urn:example:orders/Create",
    when = function(m)
      return m.transport ~= nil and m.transport.cert.subject.CN == cn and m.cert.subject.CN == "alice"
    end,
  }
end
"""

REFUSED = (ssl.SSLError, ConnectionError, OSError)


def tls_config(pki, crls=None, client_ca="ca.pem"):
    crl_list = "" if crls is None else ", crls = { %s }" % ", ".join(
        repr(c if os.path.isabs(c) else os.path.join(pki, c)) for c in crls)
    return "serve = { tls = { cert = %r, key = %r, client_ca = %r%s } }," % (
        os.path.join(pki, "tls-server.pem"), os.path.join(pki, "tls-server.key"),
        os.path.join(pki, client_ca), crl_list)


def client_context(pki, cert="client", chain_file=None):
    ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.pem"))
    ctx.check_hostname = False  # the test server's certificate names orders.example.com
    ctx.load_cert_chain(chain_file or os.path.join(pki, cert + ".pem"), os.path.join(pki, cert + ".key"))
    return ctx


def transport_rule(server, signer, context):
    status, _, body = server.post("/v1/decide", signer.signed("alice"), context=context)
    assert status == 200, body
    d = decision(body)
    assert d["decision"] == "allow", d
    return d["rules"]


def refused(server, signer, context):
    with pytest.raises(REFUSED):
        server.post("/v1/decide", signer.signed("alice"), context=context)


@pytest.mark.parametrize("crl", ["crl-root.pem", "crl-root.der"])
def test_a_revoked_client_certificate_is_refused_at_the_handshake_and_counted(make_server, pki, signer, crl):
    s = make_server(tls_config(pki, [crl]), policy=POLICY, tls=client_context(pki))
    refused(s, signer, client_context(pki, "revoked"))
    assert transport_rule(s, signer, client_context(pki)) == ["transport client"]
    samples = eventually(s, lambda m: metric(m, "warden_http_connections_closed_total", why="tls_handshake") == 1)
    assert metric(samples, "warden_tls_handshake_failures_total") >= 1


def test_without_tls_crls_the_revoked_certificate_is_accepted(make_server, pki, signer):
    s = make_server(tls_config(pki), policy=POLICY, tls=client_context(pki))
    assert transport_rule(s, signer, client_context(pki, "revoked")) == ["transport revoked"]


def test_a_crl_set_without_the_issuing_cas_crl_refuses(make_server, pki, signer):
    # client.pem is issued by the root: the intermediate's CRL says nothing about it
    s = make_server(tls_config(pki, ["crl-intermediate.pem"]), policy=POLICY, tls=client_context(pki))
    refused(s, signer, client_context(pki))


def test_an_expired_crl_refuses(make_server, pki, signer):
    # crl-root-expired.pem's nextUpdate is 2026-01-01
    s = make_server(tls_config(pki, ["crl-root-expired.pem"]), policy=POLICY, tls=client_context(pki))
    refused(s, signer, client_context(pki))


def bob_chain(tmp_path, pki):
    path = tmp_path / "bob-chain.pem"
    with open(path, "w") as out:
        for name in ("bob.pem", "intermediate.pem"):
            with open(os.path.join(pki, name)) as f:
                out.write(f.read())
    return str(path)


def test_every_certificate_of_the_chain_is_checked(make_server, pki, signer, tmp_path):
    bob = client_context(pki, "bob", chain_file=bob_chain(tmp_path, pki))
    good = make_server(tls_config(pki, ["crl-root.pem", "crl-intermediate.pem"]), policy=POLICY,
                       tls=client_context(pki), name="good")
    assert transport_rule(good, signer, bob) == ["transport bob"]
    # bob is listed nowhere, but his issuing CA is revoked by the root
    revoked_ca = make_server(tls_config(pki, ["crl-root-revokes-intermediate.pem", "crl-intermediate.pem"]),
                             policy=POLICY, tls=client_context(pki), name="revoked-ca")
    refused(revoked_ca, signer, bob)
    assert transport_rule(revoked_ca, signer, client_context(pki)) == ["transport client"]
    # the intermediate's own CRL is needed too, though bob is not revoked
    no_intermediate_crl = make_server(tls_config(pki, ["crl-root.pem"]), policy=POLICY,
                                      tls=client_context(pki), name="no-intermediate-crl")
    refused(no_intermediate_crl, signer, bob)


def start_fails(warden_bin, pki, tmp_path, extra):
    path = write_config(str(tmp_path), pki, extra)
    run = subprocess.run([warden_bin, "serve", "-c", path, "--listen", "127.0.0.1:%d" % free_port()],
                         stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    assert run.returncode == 2, run.stderr
    return run.stderr.decode(errors="replace")


def test_a_crl_file_that_does_not_load_stops_the_server_from_starting(warden_bin, pki, tmp_path):
    stderr = start_fails(warden_bin, pki, tmp_path, tls_config(pki, ["ca.pem"]))
    assert "serve.tls.crls" in stderr and "no CRL in it" in stderr, stderr
    stderr = start_fails(warden_bin, pki, tmp_path, tls_config(pki, [str(tmp_path / "missing.crl")]))
    assert "serve.tls.crls: cannot read" in stderr, stderr
    damaged = tmp_path / "damaged.pem"
    with open(os.path.join(pki, "crl-root.pem")) as f:
        text = f.read()
    damaged.write_text(text.replace(text.splitlines()[3], "AAAA" * 16))
    stderr = start_fails(warden_bin, pki, tmp_path, tls_config(pki, [str(damaged)]))
    assert "serve.tls.crls: %s: not a valid PEM CRL" % damaged in stderr, stderr


def test_a_forged_crl_of_a_client_ca_stops_the_server_from_starting(warden_bin, pki, tmp_path):
    stderr = start_fails(warden_bin, pki, tmp_path, tls_config(pki, ["crl-root-forged.pem"]))
    assert "does not verify" in stderr, stderr


def test_tls_crls_without_client_ca_stops_the_server_from_starting(warden_bin, pki, tmp_path):
    extra = "serve = { tls = { cert = %r, key = %r, crls = { %r } } }," % (
        os.path.join(pki, "tls-server.pem"), os.path.join(pki, "tls-server.key"), os.path.join(pki, "crl-root.pem"))
    stderr = start_fails(warden_bin, pki, tmp_path, extra)
    assert "serve.tls.crls needs serve.tls.client_ca" in stderr, stderr



def test_a_crl_path_too_long_to_read_stops_the_server_instead_of_being_left_out(warden_bin, pki, tmp_path):
    long_path = "/" + "d" * 5000 + "/clients.crl"
    stderr = start_fails(warden_bin, pki, tmp_path, tls_config(pki, [long_path]))
    assert "serve.tls.crls: cannot read entry 1" in stderr, stderr
