"""Gateway mode: permitted requests reach a real HTTP application with the x-warden-*
headers (forged ones removed); everything else is a SOAP Fault and never reaches it;
upstream failures are 502 / 504."""
import http.server
import socket
import threading
import time

import pytest

from conftest import free_port
from test_bad_peers import read_until_closed

ANSWER = (b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
          b'<CreateOrderResponse xmlns="urn:example:orders"><id>42</id></CreateOrderResponse>'
          b'</soap:Body></soap:Envelope>')
WSDL = b'<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" name="Orders"/>'


class Application(http.server.ThreadingHTTPServer):
    """The SOAP application behind the gateway: records what it receives."""

    def __init__(self, hang=False, keep_alive=False, idle_timeout=None, extra=b""):
        self.received = []
        self.methods = []  # the method of each request received, in the same order
        self.hang = hang
        self.release = threading.Event()
        self.connections = 0  # accepted
        self.closed = 0       # ended (by either side)
        self.lock = threading.Lock()
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"
            timeout = idle_timeout  # an idle kept-alive connection is closed after this

            def setup(self):
                with app.lock:
                    app.connections += 1
                super().setup()

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                app.methods.append(self.command)
                app.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if app.hang:
                    app.release.wait(60)
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("X-Application", "orders")
                self.send_header("Content-Length", str(len(ANSWER)))
                self.end_headers()
                self.wfile.write(ANSWER + extra)  # extra: bytes past the answer (a broken upstream)

            do_PUT = do_DELETE = do_OPTIONS = do_PATCH = do_POST  # a body read by its Content-Length

            def do_GET(self):
                app.methods.append(self.command)
                app.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, b""))
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(WSDL)))
                self.end_headers()
                self.wfile.write(WSDL)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", free_port()), Handler)
        self.daemon_threads = True
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def shutdown_request(self, request):
        super().shutdown_request(request)  # the connection is closed now (FIN sent)
        with self.lock:
            self.closed += 1

    def url(self):
        return "http://127.0.0.1:%d" % self.server_address[1]

    def wait_received(self):
        """Waits (bounded) until a request has reached the application."""
        deadline = time.monotonic() + 60
        while not self.received:
            assert time.monotonic() < deadline, "the request never reached the application"
            time.sleep(0.02)

    def close(self):
        self.release.set()
        self.shutdown()
        self.server_close()


@pytest.fixture
def app():
    a = Application()
    yield a
    a.close()


def gateway(make_server, upstream, extra="", serve=""):
    return make_server('serve = { upstream = %r, timeouts = { upstream_ms = 1000 }, %s }, %s' % (upstream, serve, extra))


def test_a_permitted_request_reaches_the_application_with_the_results(make_server, app, signer):
    s = gateway(make_server, app.url())
    message = signer.signed("alice")
    status, headers, body = s.post("/orders/soap?wsdl=no", message,
                                   headers={"SOAPAction": '"urn:example:orders/Create"',
                                            "X-Warden-Subject": "CN=admin", "x-warden-decision": "allow",
                                            "Connection": "keep-alive, X-Secret", "X-Secret": "hop"})
    assert status == 200, body
    assert body == ANSWER
    assert headers["x-application"] == "orders"
    assert len(app.received) == 1
    path, got, forwarded = app.received[0]
    assert path == "/orders/soap?wsdl=no"
    assert forwarded == message
    assert got["x-warden-decision"] == "allow"
    assert got["x-warden-reason"] == "permitted"
    assert got["x-warden-rules"] == "alice may create orders"
    assert got["x-warden-subject"] == "CN=alice,OU=Payments,O=Example"  # not the forged CN=admin
    assert got["x-warden-revision"].startswith("sha256:")
    assert got["soapaction"] == '"urn:example:orders/Create"'
    assert "x-secret" not in got  # named by Connection: hop-by-hop
    assert (got["x-forwarded-for"], got["x-forwarded-proto"]) == ("127.0.0.1", "http")


def test_the_application_is_told_the_client_address_after_the_clients_own_list(make_server, app, signer):
    # X-Forwarded-For: the client's list with the address Warden saw appended (only that last
    # entry is Warden's word); X-Forwarded-Proto: what the client used, never what it claims
    s = gateway(make_server, app.url())
    status, _, body = s.post("/orders", signer.signed("alice"),
                             headers={"X-Forwarded-For": "10.0.0.7, 10.0.0.8", "X-Forwarded-Proto": "https"})
    assert status == 200, body
    _, got, _ = app.received[0]
    assert got["x-forwarded-for"] == "10.0.0.7, 10.0.0.8, 127.0.0.1"
    assert got["x-forwarded-proto"] == "http"


def test_an_absolute_form_target_is_forwarded_as_its_path_and_query(make_server, app, signer):
    s = gateway(make_server, app.url())
    body = signer.signed("alice")
    with socket.create_connection(("127.0.0.1", s.port), timeout=60) as c:
        c.sendall(b"POST http://orders.example/orders/soap?x=1#frag HTTP/1.1\r\nHost: orders.example\r\n"
                  b"Content-Type: text/xml\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        answer = read_until_closed(c)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert app.received[0][0] == "/orders/soap?x=1"


def test_forged_results_in_another_spelling_never_reach_the_application(make_server, app, signer):
    # CGI and WSGI servers read X_Warden_Username and x-warden-username alike (HTTP_X_WARDEN_USERNAME):
    # a client sending the underscore spelling of a result Warden does not set this time (no
    # UsernameToken here) must not have it arrive as if Warden had set it
    s = gateway(make_server, app.url())
    status, _, body = s.post("/orders", signer.signed("alice"),
                             headers={"X_Warden_Username": "admin", "x_warden_saml_subject": "admin",
                                      "X-WARDEN_subject": "CN=admin", "x-wardenx": "kept"})
    assert status == 200, body
    _, got, _ = app.received[0]
    ours = {k: v for k, v in got.items() if k.replace("_", "-").startswith("x-warden-")}
    assert sorted(ours) == ["x-warden-decision", "x-warden-reason", "x-warden-revision", "x-warden-rules",
                            "x-warden-subject"]
    assert ours["x-warden-subject"] == "CN=alice,OU=Payments,O=Example"
    assert got["x-wardenx"] == "kept"  # not one of ours


def test_a_forbidden_request_is_a_soap_fault_and_never_reaches_the_application(make_server, app, signer):
    s = gateway(make_server, app.url())
    status, headers, body = s.post("/orders/soap", signer.signed("alice", action="urn:example:orders/Delete"))
    assert status == 403
    assert headers["content-type"].startswith("text/xml")
    assert b"<faultcode>soap:Client</faultcode>" in body and b"forbidden" in body
    assert app.received == []


def test_a_security_rejection_is_an_invalid_security_fault(make_server, app, signer):
    s = gateway(make_server, app.url())
    status, _, body = s.post("/orders/soap", b"<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'>"
                                             b"<soap:Body/></soap:Envelope>")
    assert status == 403
    assert b"<faultcode>wsse:InvalidSecurity</faultcode>" in body
    assert b"security-header-missing" in body
    status, _, body = s.post("/orders/soap", signer.signed("mallory"))
    assert status == 403 and b"wsse:FailedAuthentication" in body
    assert app.received == []


def test_a_soap12_request_is_answered_with_a_soap12_fault(make_server, app, signer):
    s = gateway(make_server, app.url())
    status, headers, body = s.post("/orders/soap", signer.signed("mallory", soap12=True),
                                   headers={"Content-Type": "application/soap+xml; charset=utf-8"})
    assert status == 403
    assert headers["content-type"].startswith("application/soap+xml")
    assert b"http://www.w3.org/2003/05/soap-envelope" in body
    assert b"<env:Value>env:Sender</env:Value>" in body and b"wsse:FailedAuthentication" in body


def test_an_application_that_is_down_is_502(make_server, signer):
    s = gateway(make_server, "http://127.0.0.1:%d" % free_port())
    status, _, _ = s.post("/orders/soap", signer.signed("alice"))
    assert status == 502
    assert s.post("/v1/decide", signer.signed("alice"))[0] == 200


def test_an_application_that_hangs_is_504(make_server, signer):
    app = Application(hang=True)
    try:
        s = gateway(make_server, app.url())
        status, _, _ = s.post("/orders/soap", signer.signed("alice"))
        assert status == 504
        assert s.stop() == 0
    finally:
        app.close()


def test_a_request_waiting_upstream_longer_than_request_ms_is_answered(make_server, signer):
    from test_bad_peers import closed, eventually, trickle_until_closed
    app = Application(hang=True)
    try:
        s = make_server('serve = { upstream = %r, timeouts = { upstream_ms = 60000, read_ms = 1000, '
                        'request_ms = 1500 } },' % app.url())
        result = {}
        client = threading.Thread(target=lambda: result.update(answer=s.post("/orders/soap", signer.signed("alice"))))
        client.start()
        app.wait_received()
        # a request begun after this one reached the application is closed at its deadline:
        # the forwarded one has been waiting longer than request_ms by then
        trickle_until_closed(s)
        eventually(s, lambda m: closed(m, "request_timeout") == 1)
        app.release.set()
        client.join(60)
        assert result["answer"][0] == 200 and result["answer"][2] == ANSWER
        assert closed(s.metrics(), "request_timeout") == 1
        assert s.stop() == 0
    finally:
        app.close()


def test_sigterm_lets_a_request_in_flight_finish(make_server, signer):
    import signal
    app = Application(hang=True)
    try:
        s = make_server('serve = { upstream = %r, timeouts = { upstream_ms = 60000, drain_ms = 60000 } },' % app.url())
        result = {}

        def call():
            try:
                result["answer"] = s.post("/orders/soap", signer.signed("alice"))
            except Exception as e:  # reported below, with the server's output
                result["error"] = e

        client = threading.Thread(target=call)
        client.start()
        app.wait_received()
        s.signal(signal.SIGTERM)
        # draining: the listening sockets close while the request is still in flight
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", s.port), timeout=1).close()
                time.sleep(0.02)
            except OSError:
                break
        app.release.set()
        client.join(60)
        assert "answer" in result, "%r\n%s" % (result.get("error"), s.output())
        status, _, body = result["answer"]
        assert (status, body) == (200, ANSWER)
        assert s.proc.wait(60) == 0
    finally:
        app.close()


def test_a_request_still_upstream_when_the_drain_ends_is_closed_and_said(make_server, signer):
    # drain_ms bounds the drain: a forward still waiting then is closed (why="shutdown", which
    # no scrape can see any more, so the server says it when it stops) and the exit is still 0
    import signal
    app = Application(hang=True)
    try:
        s = make_server('serve = { upstream = %r, timeouts = { upstream_ms = 60000, drain_ms = 300 } },' % app.url())
        with socket.create_connection(("127.0.0.1", s.port), timeout=60) as c:
            body = signer.signed("alice")
            c.sendall(b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n"
                      % len(body) + body)
            app.wait_received()
            s.signal(signal.SIGTERM)
            assert s.proc.wait(60) == 0
            assert c.recv(65536) == b""  # closed without an answer
        said = [l for l in s.output().splitlines() if "stopped" in l]
        assert said == ["warden serve: stopped; the drain's end closed 1 busy connection"], said
    finally:
        app.release.set()
        app.close()


def test_an_application_that_closes_mid_request_is_502(make_server, signer):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def close_after_reading():
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.close()

    t = threading.Thread(target=close_after_reading, daemon=True)
    t.start()
    try:
        s = gateway(make_server, "http://127.0.0.1:%d" % listener.getsockname()[1])
        status, _, body = s.post("/orders/soap", signer.signed("alice"))
        assert (status, body) == (502, b"upstream unavailable\n")
    finally:
        t.join(60)
        listener.close()


def wait_for(check, what):
    deadline = time.monotonic() + 60
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_upstream_connections_are_kept_alive_and_reused(make_server, signer):
    app = Application(keep_alive=True)
    try:
        s = gateway(make_server, app.url(), "")
        for _ in range(8):
            status, _, body = s.post("/orders/soap", signer.signed("alice"))
            assert (status, body) == (200, ANSWER)
        assert len(app.received) == 8
        assert 1 <= app.connections <= 2  # one per worker thread at most (serve.threads is one per core)
    finally:
        app.close()


def test_without_keepalive_each_request_has_its_own_upstream_connection(make_server, signer):
    app = Application(keep_alive=True)
    try:
        s = make_server('serve = { upstream = %r, upstream_keepalive = 0 },' % app.url())
        for _ in range(3):
            assert s.post("/orders/soap", signer.signed("alice"))[0] == 200
        assert app.connections == 3
    finally:
        app.close()


def test_an_upstream_that_closes_idle_connections_does_not_fail_requests(make_server, signer):
    app = Application(keep_alive=True, idle_timeout=0.2)
    try:
        s = make_server('serve = { upstream = %r, threads = 1 },' % app.url())
        assert s.post("/orders/soap", signer.signed("alice"))[0] == 200
        wait_for(lambda: app.closed == 1, "the application never closed its idle connection")
        status, _, body = s.post("/orders/soap", signer.signed("alice"))
        assert (status, body) == (200, ANSWER)
        assert app.connections == 2
    finally:
        app.close()


def test_an_upstream_that_answers_http_1_0_and_closes_is_connected_again(make_server, signer):
    app = Application(keep_alive=False)
    try:
        s = make_server('serve = { upstream = %r, threads = 1 },' % app.url())
        for _ in range(3):
            assert s.post("/orders/soap", signer.signed("alice")) [0] == 200
        assert app.connections == 3
    finally:
        app.close()


def test_bytes_past_an_upstream_answer_never_reach_the_next_client(make_server, signer):
    smuggled = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/xml\r\n\r\nevil!"
    app = Application(keep_alive=True, extra=smuggled)
    try:
        s = make_server('serve = { upstream = %r, threads = 1 },' % app.url())
        for _ in range(3):
            status, _, body = s.post("/orders/soap", signer.signed("alice"))
            assert (status, body) == (200, ANSWER)
        assert len(app.received) == 3
        assert app.connections == 3  # a connection with bytes left over is never reused
    finally:
        app.close()


def test_a_get_is_refused_by_default_and_never_reaches_the_application(make_server, app):
    s = gateway(make_server, app.url())
    for path in ("/orders/soap?wsdl", "/orders/soap"):
        status, headers, _ = s.request("GET", path)
        assert (status, headers.get("allow")) == (405, "POST"), path
    assert s.request("HEAD", "/orders/soap?wsdl")[0] == 405
    assert app.received == []


def test_pass_get_wsdl_forwards_metadata_requests_unverified_and_nothing_else(make_server, app):
    s = gateway(make_server, app.url(), serve='pass_get = "wsdl",')
    for query in ("wsdl", "WSDL", "wsdl=orders.wsdl", "xsd=1", "singleWsdl"):
        status, headers, body = s.request("GET", "/orders/soap?" + query,
                                          headers={"x-warden-decision": "allow", "X-Warden-Subject": "CN=admin"})
        assert (status, body) == (200, WSDL), query
        assert "x-warden-decision" not in headers
    assert len(app.received) == 5
    for path, got, _ in app.received:
        assert not [k for k in got if k.startswith("x-warden-")], path  # forged ones removed, none added
    assert s.request("GET", "/orders/soap")[0] == 405
    assert s.request("GET", "/orders/soap?op=CreateOrder")[0] == 405
    assert s.request("GET", "/orders/soap?wsdl", body=b"<Envelope/>")[0] == 405  # a body is never passed
    # a document name and nothing more: no arguments an application might read on a GET
    for query in ("wsdl=x&op=DeleteOrder", "xsd=1;id=7", "wsdl&id=7", "wsdl=a=b", "xsd=1%26id=7&x", "wsdl=a+b"):
        assert s.request("GET", "/orders/soap?" + query)[0] == 405, query
    assert s.request("GET", "/orders/soap?wsdl=sub/Orders_v2-1.wsdl")[0] == 200
    assert len(app.received) == 6


def test_pass_get_all_forwards_any_get(make_server, app):
    s = gateway(make_server, app.url(), serve='pass_get = "all",')
    assert s.request("GET", "/orders/status")[0] == 200
    assert [p for p, _, _ in app.received] == ["/orders/status"]


def test_check_mode_does_not_allow_a_get(make_server):
    s = make_server('serve = { pass_get = "all" },')
    status, headers, _ = s.request("GET", "/orders/soap?wsdl")
    assert (status, headers["x-warden-decision"]) == (403, "deny")


def test_an_http_1_0_answer_ends_its_upstream_connection_even_if_the_close_comes_late(make_server, signer):
    """libevent would keep a connection whose answer was HTTP/1.0 (no Connection header): the
    application closing it a moment later would fail the next request sent on it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    done = threading.Event()

    def answer_once_then_close_late(conn):
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = int([line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")][0])
        while len(body) < length:
            body += conn.recv(65536)
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n%s" % (len(ANSWER), ANSWER))
        done.wait(60)  # never reads another request; closes only when the test ends
        conn.close()

    def serve():
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)
            threading.Thread(target=answer_once_then_close_late, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        s = make_server('serve = { upstream = "http://127.0.0.1:%d", threads = 1, timeouts = { upstream_ms = 5000 } },'
                        % listener.getsockname()[1])
        for _ in range(2):
            status, _, body = s.post("/orders/soap", signer.signed("alice"))
            assert (status, body) == (200, ANSWER)
        assert len(accepted) == 2
    finally:
        done.set()
        listener.close()
