"""Mutual TLS: the verified client certificate is the message's transport token
(m.transport.cert); handshakes that fail are counted and disturb nobody."""
import os
import socket
import ssl

import pytest

from conftest import decision, metric
from test_bad_peers import eventually

TRANSPORT_POLICY = """
permit "the orders client over mutual TLS" {
  action = "urn:example:orders/Create",
  when = function(m)
    return m.transport ~= nil and m.transport.cert.subject.CN == "client" and m.cert.subject.CN == "alice"
  end,
}
"""


def tls_config(pki, require=True):
    return """serve = { tls = { cert = %r, key = %r, client_ca = %r, require_client_cert = %s } },""" % (
        os.path.join(pki, "tls-server.pem"), os.path.join(pki, "tls-server.key"),
        os.path.join(pki, "ca.pem"), "true" if require else "false")


def client_context(pki, cert="client"):
    ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.pem"))
    ctx.check_hostname = False  # the test server's certificate names orders.example.com
    if cert is not None:
        ctx.load_cert_chain(os.path.join(pki, cert + ".pem"), os.path.join(pki, cert + ".key"))
    return ctx


@pytest.fixture
def tls_server(make_server, pki):
    return make_server(tls_config(pki), policy=TRANSPORT_POLICY, tls=client_context(pki))


def test_the_client_certificate_reaches_the_policy_as_m_transport(tls_server, signer):
    status, _, body = tls_server.post("/v1/decide", signer.signed("alice"))
    d = decision(body)
    assert status == 200, body
    assert (d["decision"], d["rules"]) == ("allow", ["the orders client over mutual TLS"])


def test_a_client_without_a_certificate_fails_the_handshake_and_is_counted(tls_server, pki, signer):
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        tls_server.post("/v1/decide", signer.signed("alice"), context=client_context(pki, cert=None))
    assert tls_server.post("/v1/decide", signer.signed("alice"))[0] == 200
    assert metric(tls_server.metrics(), "warden_tls_handshake_failures_total") >= 1
    eventually(tls_server, lambda m: metric(m, "warden_http_connections_closed_total", why="tls_handshake") == 1)


def test_a_client_certificate_from_another_ca_fails_the_handshake(tls_server, pki, signer):
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        tls_server.post("/v1/decide", signer.signed("alice"), context=client_context(pki, cert="rogue-ca"))
    assert tls_server.post("/v1/decide", signer.signed("alice"))[0] == 200


def test_plain_http_to_the_tls_port_is_closed(tls_server, signer):
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=60) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            answer = s.recv(65536)
        except ConnectionResetError:
            answer = b""
        assert not answer.startswith(b"HTTP/1.1 200")
    assert tls_server.post("/v1/decide", signer.signed("alice"))[0] == 200
    eventually(tls_server, lambda m: metric(m, "warden_http_connections_closed_total", why="tls_handshake") == 1
               and metric(m, "warden_http_requests_total", code="400") == 0)
    assert tls_server.stop() == 0


def test_without_a_client_certificate_there_is_no_transport_token(make_server, pki, signer):
    s = make_server(tls_config(pki, require=False), policy=TRANSPORT_POLICY, tls=client_context(pki, cert=None))
    status, _, body = s.post("/v1/decide", signer.signed("alice"))
    assert status == 403
    assert decision(body)["reason"] == "no-permit"
