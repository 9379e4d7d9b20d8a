"""Bad input and bad peers: each is answered or closed without disturbing other clients, and
the server still drains and exits 0 afterwards."""
import socket

from conftest import decision, metric


def raw(server, data, read=True, timeout=60):
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        s.sendall(data)
        if not read:
            return b""
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_a_body_over_the_message_limit_is_413(make_server, signer):
    s = make_server("limits = { message_bytes = 16384 },")
    status, _, _ = s.post("/v1/decide", b"<x>" + b"a" * 40000 + b"</x>")
    assert status == 413
    status, _, _ = s.post("/v1/decide", b"<x>" + b"a" * 16378 + b"</x>")  # one byte over
    assert status == 413
    assert metric(s.metrics(), "warden_http_requests_total", code="413") >= 1
    assert s.post("/v1/decide", signer.signed("alice"))[0] == 200  # the next client is served


def test_malformed_http_is_400(make_server, signer):
    s = make_server()
    answer = raw(s, b"THIS IS NOT HTTP\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400") or answer == b""
    assert s.post("/v1/decide", signer.signed("alice"))[0] == 200


def test_a_slow_client_is_closed_and_others_are_served(make_server, signer):
    s = make_server("serve = { timeouts = { read_ms = 500 } },")
    with socket.create_connection(("127.0.0.1", s.port), timeout=60) as slow:
        slow.sendall(b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n<a>")
        assert s.post("/v1/decide", signer.signed("alice"))[0] == 200
        try:
            rest = slow.recv(65536)  # the server gives up on it: closed, never answered 200
        except ConnectionResetError:
            rest = b""
        assert not rest.startswith(b"HTTP/1.1 200")
    assert s.stop() == 0


def test_a_client_that_disconnects_mid_request_does_not_disturb_others(make_server, signer):
    s = make_server()
    for _ in range(5):
        raw(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n<soap:Envelope", read=False)
    assert s.post("/v1/decide", signer.signed("alice"))[0] == 200
    assert s.stop() == 0


def test_keep_alive_serves_several_requests_on_one_connection(make_server, signer):
    s = make_server()
    conn = s.connection()
    try:
        for _ in range(3):
            conn.request("POST", "/v1/decide", body=signer.signed("alice"),
                         headers={"Content-Type": "text/xml"})
            r = conn.getresponse()
            assert r.status == 200 and decision(r.read())["decision"] == "allow"
    finally:
        conn.close()
