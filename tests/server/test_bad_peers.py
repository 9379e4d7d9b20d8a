"""Bad input and bad peers: each is answered or closed without disturbing other clients, counted
in warden_http_requests_total{code} (answers written before any handler included) and
warden_http_connections_closed_total{why}, and the server still drains and exits 0 afterwards.

A connection is counted when the server has finished closing it, which may be just after the
client saw the close: counters are polled until they move (bounded), never timed."""
import socket
import threading
import time

from conftest import decision, metric

DEADLINE = 60  # seconds a counter may take to move on a loaded machine


def read_until_closed(s):
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


def raw(server, data, read=True, timeout=60):
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        s.sendall(data)
        return read_until_closed(s) if read else b""


def closed(samples, why):
    return metric(samples, "warden_http_connections_closed_total", why=why)


def eventually(server, check):
    """The metrics once check(samples) holds; fails with the last sample after DEADLINE."""
    deadline = time.monotonic() + DEADLINE
    while True:
        samples = server.metrics()
        if check(samples):
            return samples
        assert time.monotonic() < deadline, "metrics never satisfied the check: %r" % {
            k: v for k, v in samples.items() if k[0].startswith("warden_http")}
        time.sleep(0.05)


def test_a_body_over_the_message_limit_is_413_and_counted(make_server, signer):
    s = make_server("limits = { message_bytes = 16384 },")
    status, _, _ = s.post("/v1/decide", b"<x>" + b"a" * 40000 + b"</x>")
    assert status == 413
    status, _, _ = s.post("/v1/decide", b"<x>" + b"a" * 16378 + b"</x>")  # one byte over
    assert status == 413
    eventually(s, lambda m: metric(m, "warden_http_requests_total", code="413") == 2
               and closed(m, "too_large") == 2)
    assert s.post("/v1/decide", signer.signed("alice"))[0] == 200  # the next client is served


def test_a_chunked_body_over_the_message_limit_is_413(make_server, signer):
    s = make_server("limits = { message_bytes = 16384 },")
    chunk = b"a" * 8192
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(3)) + b"0\r\n\r\n"
    answer = raw(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                    b"Content-Type: text/xml\r\n\r\n" + body)
    assert answer.startswith(b"HTTP/1.1 413") or answer == b""  # the client may see the reset first
    eventually(s, lambda m: closed(m, "too_large") == 1)
    assert s.post("/v1/decide", signer.signed("alice"))[0] == 200


def test_malformed_http_is_400_and_counted(make_server, signer):
    s = make_server()
    answer = raw(s, b"THIS IS NOT HTTP\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400") or answer == b""
    eventually(s, lambda m: metric(m, "warden_http_requests_total", code="400") == 1
               and closed(m, "malformed") == 1)
    assert s.post("/v1/decide", signer.signed("alice"))[0] == 200


def test_an_unserved_method_is_501_and_counted(make_server):
    s = make_server()
    answer = raw(s, b"TRACE /v1/decide HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 501") or answer == b""
    eventually(s, lambda m: metric(m, "warden_http_requests_total", code="501") == 1
               and closed(m, "method") == 1)


def test_a_slow_client_is_closed_counted_and_others_are_served(make_server, signer):
    s = make_server("serve = { timeouts = { read_ms = 500 } },")
    with socket.create_connection(("127.0.0.1", s.port), timeout=60) as slow:
        slow.sendall(b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n<a>")
        assert s.post("/v1/decide", signer.signed("alice"))[0] == 200
        try:
            rest = slow.recv(65536)  # the server gives up on it: closed, never answered 200
        except ConnectionResetError:
            rest = b""
        assert not rest.startswith(b"HTTP/1.1 200")
        eventually(s, lambda m: closed(m, "read_timeout") == 1 and closed(m, "client_closed") == 0)
    assert s.stop() == 0


def trickle_until_closed(server, seconds=DEADLINE):
    """A request whose body comes a byte every 300 ms (well within read_ms) until the server
    closes the connection; returns what the server sent, or fails after seconds."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as slow:
        slow.sendall(b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        slow.settimeout(0.3)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                slow.sendall(b"<")
                answer = slow.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return b""
            return answer  # b"" at the close
        raise AssertionError("the trickling client was never closed")


def test_a_trickling_client_is_closed_at_the_request_deadline_and_others_are_served(make_server, signer):
    s = make_server("serve = { timeouts = { read_ms = 1000, request_ms = 1500 } },")
    result = {}
    thread = threading.Thread(target=lambda: result.update(answer=trickle_until_closed(s)))
    thread.start()
    assert s.post("/v1/decide", signer.signed("alice"))[0] == 200  # a normal request meanwhile
    thread.join(DEADLINE + 10)
    assert "answer" in result
    assert not result["answer"].startswith(b"HTTP/1.1 200")
    eventually(s, lambda m: closed(m, "request_timeout") == 1 and closed(m, "read_timeout") == 0)
    assert s.post("/v1/decide", signer.signed("alice"))[0] == 200
    assert s.stop() == 0


def test_a_client_that_disconnects_mid_request_is_counted_and_disturbs_nobody(make_server, signer):
    s = make_server()
    for _ in range(5):
        raw(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n<soap:Envelope", read=False)
    raw(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Le", read=False)  # inside the headers
    assert s.post("/v1/decide", signer.signed("alice"))[0] == 200
    eventually(s, lambda m: closed(m, "client_closed") == 6 and closed(m, "read_timeout") == 0)
    assert s.stop() == 0


def test_connections_that_end_between_requests_are_counted_as_done(make_server, signer):
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
    # the three decisions' connection, and every metrics scrape before the last, end as "done"
    m = eventually(s, lambda m: closed(m, "done") >= 1)
    for why in ("read_timeout", "client_closed", "too_large", "malformed", "method", "tls_handshake"):
        assert closed(m, why) == 0, why
    assert metric(m, "warden_http_requests_total", code="200") >= 3


def test_running_out_of_descriptors_pauses_accepting_and_recovers(make_server, signer):
    # accept fails with EMFILE while the connections wait in the backlog: the worker must not
    # spin on a listening socket that stays readable; it rests, says so once, counts it, and
    # serves again once descriptors are free
    import os
    import resource
    s = make_server("serve = { threads = 1 },")  # one worker: said once
    pid = s.proc.pid
    _, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    in_use = len(os.listdir("/proc/%d/fd" % pid))
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (in_use + 2, hard))
    clients = [socket.create_connection(("127.0.0.1", s.port), timeout=60) for _ in range(8)]
    try:
        deadline = time.monotonic() + DEADLINE
        while "accept failed" not in s.output() and time.monotonic() < deadline:
            time.sleep(0.05)
        said = [l for l in s.output().splitlines() if "accept failed" in l]
        assert len(said) == 1 and "Too many open files" in said[0], s.output()
    finally:
        for c in clients:
            c.close()
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (hard, hard))
    eventually(s, lambda m: metric(m, "warden_http_accept_errors_total") >= 1)
    status, _, body = s.post("/v1/decide", signer.signed("alice"))
    assert status == 200, body
