"""SIGHUP reloads the TLS material: the certificate, key, client CA and CRLs are read again from
the same paths (rotation writes new files in place); connections accepted afterwards get the
new context, connections already open keep theirs, and a reload that fails keeps the old one."""
import os
import shutil
import signal
import socket
import ssl

import pytest

from conftest import metric
from test_bad_peers import eventually
from test_tls_revocation import POLICY, client_context, refused, transport_rule


def der(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def served_certificate(server, context):
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as raw:
        with context.wrap_socket(raw) as s:
            return s.getpeercert(binary_form=True)


def replace_in_place(path, source=None, text=None):
    """Rewrites path's contents (same inode), as cert-manager or a SPIFFE helper does."""
    if text is None:
        with open(source, "rb") as f:
            text = f.read()
    with open(path, "wb") as f:
        f.write(text)


@pytest.fixture
def material(pki, tmp_path):
    """The server's certificate, key and a CRL file, copied where a test may rewrite them."""
    d = tmp_path / "tls"
    d.mkdir()
    files = {"cert": str(d / "server.pem"), "key": str(d / "server.key"), "crl": str(d / "clients.crl")}
    shutil.copy(os.path.join(pki, "tls-server.pem"), files["cert"])
    shutil.copy(os.path.join(pki, "tls-server.key"), files["key"])
    shutil.copy(os.path.join(pki, "crl-root-empty.pem"), files["crl"])
    return files


def reloading_server(make_server, pki, material):
    # read_ms is generous so that the kept-alive connection outlives a slow reload on a busy machine
    extra = """serve = { tls = { cert = %r, key = %r, client_ca = %r, crls = { %r } },
                          timeouts = { read_ms = 600000 } },""" % (
        material["cert"], material["key"], os.path.join(pki, "ca.pem"), material["crl"])
    return make_server(extra, policy=POLICY, tls=client_context(pki))


def reloads(samples, result):
    return metric(samples, "warden_tls_reloads_total", result=result)


def test_sighup_serves_a_rotated_certificate_to_new_connections_and_open_ones_keep_working(
        make_server, pki, signer, material):
    s = reloading_server(make_server, pki, material)
    old, new = der(os.path.join(pki, "tls-server.pem")), der(os.path.join(pki, "tls-server-next.pem"))
    assert old != new
    kept = s.connection()
    kept.request("GET", "/health")
    assert kept.getresponse().read() is not None
    assert kept.sock.getpeercert(binary_form=True) == old

    replace_in_place(material["cert"], os.path.join(pki, "tls-server-next.pem"))
    replace_in_place(material["key"], os.path.join(pki, "tls-server-next.key"))
    s.signal(signal.SIGHUP)
    eventually(s, lambda m: reloads(m, "success") == 1)

    assert served_certificate(s, client_context(pki)) == new
    assert transport_rule(s, signer, client_context(pki)) == ["transport client"]
    # the connection opened before the reload still answers, on its own context
    kept.request("POST", "/v1/decide", body=signer.signed("alice"), headers={"Content-Type": "text/xml"})
    answer = kept.getresponse()
    assert answer.status == 200, answer.read()
    answer.read()
    assert kept.sock.getpeercert(binary_form=True) == old
    kept.close()
    assert "warden serve: TLS reloaded" in s.output()


def test_a_reload_with_a_broken_certificate_keeps_the_previous_one(make_server, pki, signer, material):
    s = reloading_server(make_server, pki, material)
    old = der(os.path.join(pki, "tls-server.pem"))
    replace_in_place(material["cert"], text=b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    s.signal(signal.SIGHUP)
    samples = eventually(s, lambda m: reloads(m, "failure") == 1)
    assert reloads(samples, "success") == 0

    assert served_certificate(s, client_context(pki)) == old
    assert transport_rule(s, signer, client_context(pki)) == ["transport client"]
    output = s.output()
    assert "warden serve: TLS reload failed: serve.tls.cert" in output, output
    assert "the previous certificate keeps serving" in output, output
    # a key that does not match the certificate fails the same way
    replace_in_place(material["cert"], os.path.join(pki, "tls-server.pem"))
    replace_in_place(material["key"], os.path.join(pki, "tls-server-next.key"))
    s.signal(signal.SIGHUP)
    eventually(s, lambda m: reloads(m, "failure") == 2)
    assert served_certificate(s, client_context(pki)) == old
    assert "TLS reload failed: serve.tls.key" in s.output()


def test_a_reloaded_crl_that_revokes_a_client_refuses_its_new_handshakes(make_server, pki, signer, material):
    s = reloading_server(make_server, pki, material)
    assert transport_rule(s, signer, client_context(pki, "revoked")) == ["transport revoked"]
    replace_in_place(material["crl"], os.path.join(pki, "crl-root.pem"))
    s.signal(signal.SIGHUP)
    eventually(s, lambda m: reloads(m, "success") == 1)

    refused(s, signer, client_context(pki, "revoked"))
    assert transport_rule(s, signer, client_context(pki)) == ["transport client"]
    eventually(s, lambda m: metric(m, "warden_http_connections_closed_total", why="tls_handshake") == 1)


def test_a_reload_with_a_crl_file_that_no_longer_loads_keeps_the_previous_crls(make_server, pki, signer, material):
    s = reloading_server(make_server, pki, material)
    replace_in_place(material["crl"], os.path.join(pki, "crl-root.pem"))
    s.signal(signal.SIGHUP)
    eventually(s, lambda m: reloads(m, "success") == 1)
    replace_in_place(material["crl"], text=b"")
    s.signal(signal.SIGHUP)
    eventually(s, lambda m: reloads(m, "failure") == 1)

    # still the reloaded CRL: the revoked client stays out
    refused(s, signer, client_context(pki, "revoked"))
    assert transport_rule(s, signer, client_context(pki)) == ["transport client"]
    assert "TLS reload failed: serve.tls.crls" in s.output()


def health_over(server, context, session=None):
    """GET /health on a connection of its own: the answer, the TLS session, whether it was resumed."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as raw:
        with context.wrap_socket(raw, session=session) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
            return answer, s.session, s.session_reused


def test_a_client_revoked_by_a_reload_cannot_resume_an_earlier_session(make_server, pki, material):
    s = reloading_server(make_server, pki, material)
    revoked = client_context(pki, "revoked")
    answer, session, _ = health_over(s, revoked)
    assert answer.startswith(b"HTTP/1.1 200"), answer
    # resumption works, or this test would prove nothing
    answer, session, reused = health_over(s, revoked, session)
    assert answer.startswith(b"HTTP/1.1 200") and reused, answer

    replace_in_place(material["crl"], os.path.join(pki, "crl-root.pem"))
    s.signal(signal.SIGHUP)
    eventually(s, lambda m: reloads(m, "success") == 1)
    # the new context has its own session cache and ticket keys: a full handshake, which fails
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        health_over(s, revoked, session)


def test_reloads_while_clients_connect_serve_every_connection_with_one_whole_context(
        make_server, pki, signer, material):
    import threading
    s = reloading_server(make_server, pki, material)
    pairs = [("tls-server-next.pem", "tls-server-next.key"), ("tls-server.pem", "tls-server.key")]
    served = {der(os.path.join(pki, cert)) for cert, _ in pairs}
    stop, failures, seen = threading.Event(), [], []

    def client():
        context = client_context(pki)
        while not stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", s.port), timeout=60) as raw:
                    with context.wrap_socket(raw) as c:
                        seen.append(c.getpeercert(binary_form=True))
                        c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        answer = c.recv(65536)
                        if not answer.startswith(b"HTTP/1.1 200"):
                            failures.append(answer)
            except OSError as e:  # ssl.SSLError included
                failures.append(e)

    clients = [threading.Thread(target=client) for _ in range(3)]
    for t in clients:
        t.start()
    try:
        for i in range(8):
            cert, key = pairs[i % 2]
            replace_in_place(material["cert"], os.path.join(pki, cert))
            replace_in_place(material["key"], os.path.join(pki, key))
            s.signal(signal.SIGHUP)
            eventually(s, lambda m, n=i + 1: reloads(m, "success") == n)
    finally:
        stop.set()
        for t in clients:
            t.join(120)
    assert failures == []
    assert seen and set(seen) <= served
    assert s.proc.poll() is None
    assert s.stop() == 0
