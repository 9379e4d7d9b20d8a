"""HTTP/1.1 framing as `warden serve` reads it (server/conn.c over http-parser): pipelining,
Expect: 100-continue, HTTP/1.0, chunked bodies, and hostile framing (request smuggling), which
fails closed with 400 and a closed connection; the write deadline; a client that leaves while
its request waits upstream. Exact bytes go through raw sockets; outcomes are asserted (codes,
counters, what the application received), never timings."""
import socket
import threading

from conftest import decision, metric
from test_bad_peers import closed, eventually, read_until_closed
from test_gateway import ANSWER, Application


def connect(server, timeout=60):
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


class Answers:
    """Reads HTTP answers (Content-Length framed) from a raw socket."""

    def __init__(self, sock):
        self.sock, self.buffer = sock, b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("closed")
        self.buffer += chunk

    def next(self):
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, headers, body

    def closed(self):
        """Whether the server closed the connection with nothing more to read."""
        try:
            while True:
                self._fill()
        except (EOFError, ConnectionResetError):
            return True


def post_bytes(body, extra=b""):
    return (b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n%s\r\n"
            % (len(body), extra)) + body


def test_pipelined_requests_are_answered_in_order_on_one_connection(make_server, signer):
    s = make_server()
    with connect(s) as c:
        c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                  + post_bytes(signer.signed("alice"))
                  + post_bytes(signer.signed("alice", action="urn:example:orders/Delete"))
                  + b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
        answers = Answers(c)
        status, _, body = answers.next()
        assert (status, body) == (200, b"ok\n")
        status, _, body = answers.next()
        assert status == 200 and decision(body)["decision"] == "allow"
        status, _, body = answers.next()
        assert status == 403 and decision(body)["decision"] == "deny"
        status, headers, body = answers.next()
        assert status == 200 and headers["content-type"] == "application/json" and b'"revision"' in body


def test_a_chunked_body_is_assembled_and_judged(make_server, signer):
    s = make_server()
    message = signer.signed("alice")
    half = len(message) // 2
    chunks = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (half, message[:half], len(message) - half, message[half:])
    with connect(s) as c:
        c.sendall(b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n" + chunks)
        status, _, body = Answers(c).next()
    assert status == 200 and decision(body)["decision"] == "allow"


def test_expect_100_continue_is_answered_before_the_body(make_server, signer):
    s = make_server()
    message = signer.signed("alice")
    with connect(s) as c:
        c.sendall(b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n"
                  b"Expect: 100-continue\r\n\r\n" % len(message))
        answers = Answers(c)
        status, _, _ = answers.next()
        assert status == 100  # before any byte of the body was sent
        c.sendall(message)
        status, _, body = answers.next()
        assert status == 200 and decision(body)["decision"] == "allow"


def test_expect_100_continue_over_the_limit_is_413_at_once(make_server):
    s = make_server("limits = { message_bytes = 16384 },")
    with connect(s) as c:
        c.sendall(b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 16385\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        answer = read_until_closed(c)  # the body is never sent: the server answers and closes
    assert answer.startswith(b"HTTP/1.1 413")
    eventually(s, lambda m: closed(m, "too_large") == 1 and metric(m, "warden_http_requests_total", code="413") == 1)


def test_http_1_0_closes_after_the_answer_unless_keep_alive_is_asked(make_server):
    s = make_server()
    with connect(s) as c:
        c.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        answer = read_until_closed(c)
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"ok\n")
    with connect(s) as c:
        answers = Answers(c)
        for _ in range(2):
            c.sendall(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, headers, body = answers.next()
            assert (status, body) == (200, b"ok\n") and headers["connection"].lower() == "keep-alive"


def test_connection_close_ends_the_connection_after_the_answer(make_server):
    s = make_server()
    with connect(s) as c:
        c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /health HTTP/1.1\r\n\r\n")
        answer = read_until_closed(c)
    assert answer.count(b"HTTP/1.1 200") == 1


SMUGGLED = b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"


def refused(server, request, code=400, why="malformed"):
    """Sends request on a fresh connection: it is answered code and closed, nothing else."""
    before = server.metrics()
    with connect(server) as c:
        c.sendall(request)
        answer = read_until_closed(c)
    assert answer.startswith(b"HTTP/1.1 %d" % code) or answer == b"", answer[:200]
    assert answer.count(b"HTTP/1.1 ") <= 1, answer  # what followed was never read as a request
    eventually(server, lambda m: closed(m, why) == closed(before, why) + 1
               and metric(m, "warden_http_requests_total", code=str(code))
               == metric(before, "warden_http_requests_total", code=str(code)) + 1)
    after = server.metrics()
    # nothing was judged: the /metrics scrapes are the only 200s
    assert metric(after, "warden_http_requests_total", code="200") - metric(before, "warden_http_requests_total",
                                                                            code="200") <= 2


def test_content_length_with_transfer_encoding_is_400_and_closed(make_server):
    s = make_server()
    body = b"0\r\n\r\n" + SMUGGLED
    refused(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n"
            % len(body) + body)
    refused(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
            b"0\r\n\r\n" + SMUGGLED)


def test_two_content_lengths_are_400(make_server):
    s = make_server()
    refused(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 44\r\n\r\n<a/>\n"
            + SMUGGLED)
    refused(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n<a/>\n")


def test_a_bad_content_length_is_400(make_server):
    s = make_server()
    refused(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
    refused(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n")
    refused(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n")


def test_a_bad_chunk_is_400(make_server):
    s = make_server()
    refused(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")
    refused(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n0\r\n\r\n")


def test_a_transfer_encoding_other_than_chunked_is_400(make_server):
    s = make_server()
    refused(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n" + SMUGGLED)
    refused(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
    refused(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"
               b"\r\n0\r\n\r\n")


def test_nul_or_a_bare_cr_in_the_headers_is_400(make_server):
    s = make_server()
    refused(s, b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n")
    refused(s, b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n")
    refused(s, b"GET /health HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n")


def test_a_header_name_that_is_not_a_token_is_400(make_server):
    s = make_server()
    # read otherwise by a proxy that trims the blank: a chunked body there, a 5-byte one here
    refused(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n"
            b"0\r\n\r\n" + SMUGGLED)
    refused(s, b"GET /health HTTP/1.1\r\nHost: x\r\nX(A): b\r\n\r\n")


def test_a_line_end_other_than_crlf_is_400(make_server):
    s = make_server()
    refused(s, b"GET /health HTTP/1.1\r\nHost: x\r\n\rX" + SMUGGLED)  # the head's end
    refused(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\rXabc\r\n0\r\n\r\n")
    refused(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n")
    refused(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\rX")


def test_a_bare_lf_ending_a_line_of_the_head_or_a_trailer_is_400(make_server):
    # a proxy that does not take a bare LF for a line end reads the request after it as more
    # header (or trailer) lines of this one
    s = make_server()
    refused(s, b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\n\r\n" + SMUGGLED)
    refused(s, b"GET /health HTTP/1.1\nHost: x\r\n\r\n")
    refused(s, b"GET /health HTTP/1.1\r\nHost: x\nX-A: a\r\n\r\n")
    # 400 before what the head's end would refuse (417 here), as when the LF arrives alone
    refused(s, b"GET /health HTTP/1.1\nHost: x\r\nExpect: x\r\n\r\n")
    refused(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-A: a\n\r\n"
            + SMUGGLED)


def test_a_target_with_a_blank_control_or_8_bit_byte_is_400(make_server):
    s = make_server()
    refused(s, b"GET /hea\tlth HTTP/1.1\r\nHost: x\r\n\r\n")
    refused(s, b"GET /h\xc3\xa9alth HTTP/1.1\r\nHost: x\r\n\r\n")


def test_a_target_of_no_known_form_is_400(make_server):
    # http-parser's request line takes "*" followed by anything with any method, and an absolute
    # form whose host its URL parser refuses: the path handed on would not start with '/'
    s = make_server()
    refused(s, b"GET *]x HTTP/1.1\r\nHost: x\r\n\r\n")
    refused(s, b"POST */v1/decide HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    refused(s, b"GET * HTTP/1.1\r\nHost: x\r\n\r\n")
    refused(s, b"GET http://a@b@c/health HTTP/1.1\r\nHost: x\r\n\r\n")
    refused(s, b"GET http://[::1/health HTTP/1.1\r\nHost: x\r\n\r\n")


def test_a_request_sent_a_byte_at_a_time_is_served(make_server):
    s = make_server()
    request = (b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"2\r\n<a\r\n2\r\n/>\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    with connect(s) as c:
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(request)):
            c.sendall(request[i:i + 1])
        answers = Answers(c)
        status, _, body = answers.next()
        assert status == 403 and decision(body)["decision"] == "deny"
        status, _, body = answers.next()
        assert (status, body) == (200, b"ok\n")


def test_an_oversized_request_line_is_400(make_server):
    s = make_server()
    refused(s, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")


def test_headers_over_64_kib_are_431_and_counted(make_server, signer):
    s = make_server()
    headers = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"v" * 1000) for i in range(70))
    refused(s, b"GET /health HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n", code=431, why="too_large")
    assert s.post("/v1/decide", signer.signed("alice"))[0] == 200


def test_a_client_that_does_not_read_is_closed_at_the_write_deadline(make_server, signer):
    s = make_server("serve = { timeouts = { read_ms = 60000, request_ms = 1500 } },")
    with socket.socket() as c:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.settimeout(60)
        c.connect(("127.0.0.1", s.port))
        # far more answer bytes than the socket buffers hold; the client never reads them
        c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 3000)
        assert s.post("/v1/decide", signer.signed("alice"))[0] == 200  # others are served meanwhile
        eventually(s, lambda m: closed(m, "write_timeout") == 1)
    assert s.post("/v1/decide", signer.signed("alice"))[0] == 200
    assert s.stop() == 0


def test_a_client_that_leaves_while_its_request_waits_upstream_is_forgotten(make_server, signer):
    app = Application(hang=True)
    try:
        s = make_server('serve = { upstream = %r, timeouts = { upstream_ms = 60000 } },' % app.url())
        with connect(s) as c:
            c.sendall(post_bytes(signer.signed("alice")).replace(b"/v1/decide", b"/orders/soap"))
            app.wait_received()
        eventually(s, lambda m: closed(m, "client_closed") == 1)
        app.release.set()  # the answer comes now, for a client that has gone
        status, _, body = s.post("/orders/soap", signer.signed("alice"))
        assert (status, body) == (200, ANSWER)
        assert s.stop() == 0  # a sanitizer build exits otherwise on a use after free
    finally:
        app.close()


def test_a_forwarded_request_holds_back_the_pipelined_one(make_server, signer):
    app = Application(hang=True)
    try:
        s = make_server('serve = { upstream = %r, timeouts = { upstream_ms = 60000 } },' % app.url())
        with connect(s) as c:
            c.sendall(post_bytes(signer.signed("alice")).replace(b"/v1/decide", b"/orders/soap")
                      + b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            app.wait_received()
            threading.Timer(0.5, app.release.set).start()
            answers = Answers(c)
            status, headers, body = answers.next()
            assert (status, body) == (200, ANSWER) and headers["x-application"] == "orders"
            status, _, body = answers.next()
            assert (status, body) == (200, b"ok\n")
    finally:
        app.close()


# --- over TLS (OpenSSL driven on the socket) -------------------------------------------------

def tls_server(make_server, pki, serve=""):
    from test_tls import TRANSPORT_POLICY, client_context, tls_config
    config = tls_config(pki)
    assert config.startswith("serve = { ")
    return make_server("serve = { " + serve + config[len("serve = { "):], policy=TRANSPORT_POLICY,
                       tls=client_context(pki))


def tls_connect(server, pki):
    from test_tls import client_context
    return client_context(pki).wrap_socket(connect(server), server_hostname="orders.example.com")


def test_over_tls_pipelined_requests_and_a_body_of_many_records_are_served(make_server, pki, signer):
    s = tls_server(make_server, pki)
    big = b"<x>" + b"a" * 100000 + b"</x>"  # seven records: read ahead, decrypted in turn
    with tls_connect(s, pki) as c:
        c.sendall(post_bytes(signer.signed("alice")) + b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" + post_bytes(big))
        answers = Answers(c)
        status, _, body = answers.next()
        assert status == 200 and decision(body)["rules"] == ["the orders client over mutual TLS"]
        status, _, body = answers.next()
        assert (status, body) == (200, b"ok\n")
        status, _, body = answers.next()
        assert status == 403 and decision(body)["stage"] == "security"
        c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, body = answers.next()
        assert status == 200 and b"warden_http_requests_total" in body


def test_a_tls_handshake_that_stalls_is_closed_at_the_request_deadline(make_server, pki, signer):
    s = tls_server(make_server, pki, "timeouts = { read_ms = 60000, request_ms = 1500 }, ")
    with connect(s) as c:
        c.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # the start of a ClientHello, no more
        assert read_until_closed(c) == b""
        eventually(s, lambda m: closed(m, "tls_handshake") == 1)
    assert s.post("/v1/decide", signer.signed("alice"))[0] == 200


def test_a_client_that_ends_its_side_after_the_request_still_gets_the_answer(make_server, signer):
    # answers are written at the end of the worker's loop turn; a client that has shut down its
    # sending side is written to before the connection closes, not dropped with it
    s = make_server()
    with connect(s) as c:
        c.sendall(post_bytes(signer.signed("alice"), b"Connection: close\r\n"))
        c.shutdown(socket.SHUT_WR)
        data = read_until_closed(c)
    assert data.startswith(b"HTTP/1.1 200 "), data[:80]
    assert b'"decision":"allow"' in data


def test_answers_made_in_one_loop_turn_each_reach_their_own_client(make_server, signer):
    # many clients' requests are read in one turn and their answers written together at its end:
    # each client gets the answer to its own request (alice allowed, mallory rejected, in turn)
    s = make_server()
    names = ["alice" if i % 2 == 0 else "mallory" for i in range(12)]
    requests = [post_bytes(signer.signed(name)) for name in names]
    sockets = [connect(s) for _ in names]
    try:
        for sock, request in zip(sockets, requests):
            sock.sendall(request)
        got = [Answers(sock).next() for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
    assert [(status, decision(body)["decision"]) for status, _, body in got] == [
        (200, "allow") if name == "alice" else (403, "deny") for name in names]
    assert [decision(body).get("reason") for _, _, body in got] == [
        "permitted" if name == "alice" else "cert-untrusted" for name in names]


def test_an_http_1_1_request_needs_exactly_one_host(make_server, signer):
    # two Hosts could name two services to a proxy in front and the application behind
    s = make_server()
    refused(s, b"GET /health HTTP/1.1\r\n\r\n")
    refused(s, b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    refused(s, post_bytes(signer.signed("alice")).replace(b"Host: x\r\n", b"Host: x\r\nhost: y\r\n"))
    with connect(s) as c:  # HTTP/1.0 has no Host to require
        c.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        assert read_until_closed(c).startswith(b"HTTP/1.1 200 ")


def test_an_expectation_other_than_100_continue_is_417(make_server):
    s = make_server()
    refused(s, b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 5\r\n\r\nhello",
            code=417, why="malformed")
