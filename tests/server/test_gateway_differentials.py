"""Gateway mode against HTTP-level parser differentials: what Warden judged is what the
application receives. Each request goes through a raw socket, so its exact bytes are what the
server reads; a request Warden could read one way and the application another is refused (400,
415 for a Content-Encoding) and closed before it is judged, and never reaches the application.
The policy here permits only when the HTTP-level action Warden read (m.http_action) is the
signed one, so a request that arrives shows which action Warden judged."""
import socket

import pytest

from test_bad_peers import read_until_closed
from test_gateway import ANSWER, WSDL, Application
from test_http_framing import Answers, refused

CREATE = b"urn:example:orders/Create"

POLICY = """
permit "alice may create orders, said so over HTTP too" {
  action = "urn:example:orders/Create",
  when = function(m)
    return m.cert ~= nil and m.cert.subject.CN == "alice" and m.http_action == "urn:example:orders/Create"
  end,
}
"""


def gateway_for(make_server, app, serve=""):
    return make_server('serve = { upstream = %r, timeouts = { upstream_ms = 30000 }, %s },' % (app.url(), serve),
                       policy=POLICY)


@pytest.fixture
def gateway(make_server):
    """A gateway in front of a fresh recording Application: (server, application)."""
    app = Application()
    try:
        yield gateway_for(make_server, app), app
    finally:
        app.close()


def request(body, headers, method=b"POST", target=b"/orders/soap"):
    """A request with body framed by Content-Length, headers as given (bytes, each ending CRLF)."""
    return (b"%s %s HTTP/1.1\r\nHost: orders\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n"
            % (method, target, headers, len(body))) + body


def exchange(server, data):
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as c:
        c.sendall(data)
        return read_until_closed(c)


def forwarded(server, app, body, headers, method=b"POST"):
    """Sends a request that must be permitted; the (method, path, headers, body) the application got."""
    before = len(app.received)
    answer = exchange(server, request(body, headers, method))
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(ANSWER), answer[:300]
    assert len(app.received) == before + 1
    return (app.methods[-1],) + app.received[-1]


def test_the_application_receives_the_content_type_and_soapaction_warden_judged(gateway, signer):
    s, app = gateway
    for content_type, action in [
            (b"text/xml; charset=utf-8", b'"urn:example:orders/Create"'),
            (b'application/soap+xml; charset="utf-8"; action="urn:example:orders/Create"', None),
            # a ';' inside a quoted parameter is the parameter's: Warden reads the action after it
            (b'application/soap+xml; note="; action=urn:example:orders/Delete"; action=urn:example:orders/Create',
             None),
            (b"application/soap+xml ;action=urn:example:orders/Create", b"urn:example:orders/Create")]:
        message = signer.signed("alice")  # each once: a replay is rejected
        headers = b"Content-Type: " + content_type + b"\r\n"
        if action is not None:
            headers += b"SOAPAction: " + action + b"\r\n"
        _, _, got, body = forwarded(s, app, message, headers)
        assert got["content-type"] == content_type.decode(), content_type
        assert got.get("soapaction") == (action.decode() if action is not None else None)
        assert body == message


def test_a_connection_header_cannot_remove_a_header_warden_judged(gateway, signer):
    # RFC 9110 7.6.1 has a proxy drop the headers Connection names: naming SOAPAction or
    # Content-Type would have Warden judge with them and the application receive the request
    # without them (CVE-2022-31813 is Apache's case of the same): refused before it is judged
    s, app = gateway
    message = signer.signed("alice")
    judged = b'Content-Type: text/xml\r\nSOAPAction: "urn:example:orders/Create"\r\n'
    for connection in (b"Connection: SOAPAction\r\n", b"Connection: keep-alive, content-type\r\n",
                       b"Connection: keep-alive\r\nConnection: Content-Length\r\n",
                       b"Connection: Content-Encoding,x\r\n"):
        refused(s, request(message, judged + connection).replace(b"Connection: close\r\n", b""))
    assert app.received == []


def test_naming_forwarded_or_warden_headers_in_connection_removes_only_the_clients_own(gateway, signer):
    s, app = gateway
    _, _, got, _ = forwarded(s, app, signer.signed("alice"),
                             b'Content-Type: text/xml\r\nSOAPAction: "urn:example:orders/Create"\r\n'
                             b"X-Forwarded-For: 10.0.0.9\r\nX-Warden-Decision: deny\r\nX-Other: hop\r\n"
                             b"Connection: X-Forwarded-For, X-Forwarded-Proto, x-warden-decision, "
                             b"X-Warden-Subject, X-Other\r\n")
    assert got["x-forwarded-for"].endswith("127.0.0.1") and got["x-forwarded-proto"] == "http"
    assert (got["x-warden-decision"], got["x-warden-subject"]) == ("allow", "CN=alice,OU=Payments,O=Example")
    assert "x-other" not in got


def test_two_content_types_soapactions_or_content_encodings_are_400(gateway, signer):
    # Warden reads the first; an application may read the last (the application here does)
    s, app = gateway
    message = signer.signed("alice")
    create = b'SOAPAction: "urn:example:orders/Create"\r\n'
    refused(s, request(message, b"Content-Type: text/xml\r\n" + create + b'SOAPAction: "urn:example:orders/Delete"\r\n'))
    refused(s, request(message, b"Content-Type: text/xml\r\n" + create
                       + b"content-type: application/soap+xml; action=urn:example:orders/Delete\r\n"))
    refused(s, request(message, b"Content-Type: text/xml\r\n" + create
                       + b"Content-Encoding: identity\r\nContent-Encoding: identity\r\n"))
    assert app.received == []


def test_a_soapaction_or_action_parameter_that_reads_two_ways_is_400(gateway, signer):
    s, app = gateway
    message = signer.signed("alice")
    for headers in [b'SOAPAction: "urn:example:orders/Create\r\n',        # quotes unbalanced
                    b'SOAPAction: urn:example:orders/Create"\r\n',
                    b'SOAPAction: "urn:example:orders/Create"x"\r\n',     # a quote inside
                    b'SOAPAction: "urn:example:orders/Create\\"x"\r\n',   # an escape
                    b"SOAPAction: urn:example:orders/Create, urn:x\r\n",  # a list, to some
                    b"SOAPAction: urn:example:orders/Create x\r\n",        # a blank
                    b'SOAPAction: "' + b"u" * 1024 + b'"\r\n',            # past what is judged
                    # two actions two ways: SOAP 1.1 stacks read one, SOAP 1.2 stacks the other
                    b'SOAPAction: "urn:example:orders/Create"\r\n'
                    b"Content-Type: application/soap+xml; action=urn:example:orders/Delete\r\n",
                    b"Content-Type: application/soap+xml; action=urn:a; action=urn:example:orders/Create\r\n",
                    b'Content-Type: application/soap+xml; action="urn:example:orders/Create\r\n',
                    b'Content-Type: application/soap+xml; action="urn:\\"x"\r\n',
                    b"Content-Type: application/soap+xml; action=urn:example:orders/Create x\r\n",
                    b'Content-Type: application/soap+xml; action="urn:example:orders/Create x"\r\n',
                    b'Content-Type: application/soap+xml; x"=y; action=urn:example:orders/Create\r\n',
                    b'Content-Type: application/"soap+xml"; action=urn:example:orders/Create\r\n',
                    b"Content-Type: application/soap+xml; action\r\n",
                    # a list: its first member to one parser, its last to another
                    b"Content-Type: text/xml, application/soap+xml; action=urn:example:orders/Create\r\n"]:
        refused(s, request(message, headers))
    assert app.received == []
    # the forms SOAP stacks send: quoted, unquoted, the empty "", none
    for action in (b'"urn:example:orders/Create"', b"urn:example:orders/Create"):
        forwarded(s, app, signer.signed("alice"), b"Content-Type: text/xml\r\nSOAPAction: " + action + b"\r\n")
    for headers in (b'SOAPAction: ""\r\n', b"SOAPAction:\r\n", b""):
        answer = exchange(s, request(signer.signed("alice"), b"Content-Type: text/xml\r\n" + headers))
        assert answer.startswith(b"HTTP/1.1 403 ") and b"<reason>no-permit<" in answer, answer  # no HTTP-level action


def test_a_folded_header_line_is_400(gateway, signer):
    # obs-fold: http-parser joins " b" to the line before; an application or a proxy may read it
    # as a header line of its own, keep it with its line end, or refuse it
    s, app = gateway
    message = signer.signed("alice")
    refused(s, request(message, b"Content-Type: text/xml\r\nSOAPAction: urn:x\r\n urn:example:orders/Create\r\n"))
    refused(s, request(message, b"Content-Type: text/xml\r\nX-A: a\r\n\tb\r\n"))
    # the same, a byte at a time: the fold's blank is the first byte of a read
    before_refusal = request(message, b"Content-Type: text/xml\r\nX-A: a\r\n b\r\n")
    with socket.create_connection(("127.0.0.1", s.port), timeout=60) as c:
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head = before_refusal[:before_refusal.index(b"\r\n\r\n") + 4]
        try:
            for i in range(len(head)):
                c.sendall(head[i:i + 1])
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the last bytes
        assert read_until_closed(c).startswith(b"HTTP/1.1 400 ")
    assert app.received == []


def test_a_body_with_a_content_encoding_is_415(make_server, signer):
    # Warden never decodes a body: it would judge the encoded bytes while the application decodes
    # them into another message
    import gzip
    import zlib
    app = Application()
    try:
        s = gateway_for(make_server, app)
        message = signer.signed("alice")
        create = b'Content-Type: text/xml\r\nSOAPAction: "urn:example:orders/Create"\r\n'
        refused(s, request(gzip.compress(message), create + b"Content-Encoding: gzip\r\n"), code=415)
        refused(s, request(zlib.compress(message), create + b"Content-Encoding: deflate\r\n"), code=415)
        refused(s, request(message, create + b"Content-Encoding: identity, gzip\r\n"), code=415)
        assert app.received == []
        _, _, got, body = forwarded(s, app, message, create + b"Content-Encoding: identity\r\n")
        assert body == message
    finally:
        app.close()


def test_only_a_post_is_judged_and_forwarded(make_server, signer):
    # a policy written for SOAP does not look at m.http_method: a permitted Create sent as DELETE
    # (or PUT, PATCH, OPTIONS) would reach an application that routes by method as a DELETE; and
    # libevent 2.1 sent the body of a DELETE, OPTIONS or PATCH after a head without
    # Content-Length, where the application read it as the start of another request
    app = Application(keep_alive=True)
    try:
        s = gateway_for(make_server, app)
        create = b'Content-Type: text/xml\r\nSOAPAction: "urn:example:orders/Create"\r\n'
        for method in (b"DELETE", b"OPTIONS", b"PATCH", b"PUT"):
            answer = exchange(s, request(signer.signed("alice"), create, method))
            assert answer.startswith(b"HTTP/1.1 405 ") and b"\r\nAllow: POST\r\n" in answer, answer[:200]
        assert app.received == []
        message = signer.signed("alice")
        got_method, _, got, body = forwarded(s, app, message, create)
        assert (got_method, got["content-length"], body) == ("POST", str(len(message)), message)
    finally:
        app.close()


def test_expect_te_trailer_upgrade_and_trailers_stay_with_warden(make_server, signer):
    app = Application(keep_alive=True)
    try:
        s = gateway_for(make_server, app)
        message = signer.signed("alice")
        create = b'Content-Type: text/xml\r\nSOAPAction: "urn:example:orders/Create"\r\n'
        # Expect: Warden answered 100 Continue itself and holds the whole body
        with socket.create_connection(("127.0.0.1", s.port), timeout=60) as c:
            c.sendall(b"POST /orders/soap HTTP/1.1\r\nHost: orders\r\n%sContent-Length: %d\r\n"
                      b"Expect: 100-continue\r\n\r\n" % (create, len(message)))
            answers = Answers(c)
            assert answers.next()[0] == 100
            c.sendall(message)
            status, _, body = answers.next()
            assert (status, body) == (200, ANSWER)
        _, got, received = app.received[-1]
        assert "expect" not in got and received == message
        # a chunked body with a trailer naming another action: the trailer is never read as a
        # header, the body goes on framed by its length, the hop-by-hop headers stay here
        message = signer.signed("alice")
        half = len(message) // 2
        chunked = (b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\nSOAPAction: urn:example:orders/Delete\r\nX-Late: 1\r\n\r\n"
                   % (half, message[:half], len(message) - half, message[half:]))
        answer = exchange(s, b"POST /orders/soap HTTP/1.1\r\nHost: orders\r\n" + create
                          + b"Transfer-Encoding: chunked\r\nTE: trailers\r\nTrailer: SOAPAction, X-Late\r\n"
                          b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n"
                          b"Connection: Upgrade, HTTP2-Settings, TE\r\n\r\n" + chunked)
        assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(ANSWER), answer[:300]
        _, got, received = app.received[-1]
        assert received == message and got["content-length"] == str(len(message))
        assert got["soapaction"] == '"urn:example:orders/Create"'
        for name in ("transfer-encoding", "te", "trailer", "upgrade", "http2-settings", "x-late", "connection"):
            assert name not in got or (name == "connection" and got[name].lower() == "keep-alive"), name
    finally:
        app.close()


def test_header_values_reach_the_application_as_warden_read_them(gateway, signer):
    # 8-bit bytes pass as they are; blanks around a value are not part of it for either reader
    s, app = gateway
    _, _, got, _ = forwarded(s, app, signer.signed("alice"),
                             b'Content-Type: text/xml\r\nSOAPAction:  "urn:example:orders/Create" \t\r\n'
                             b"X-Note: caf\xe9\tau \xff lait  \r\n")
    assert got["soapaction"] == '"urn:example:orders/Create"'
    assert got["x-note"].encode("latin-1") == b"caf\xe9\tau \xff lait"


def test_pass_get_wsdl_needs_a_path_and_name_every_application_reads_alike(make_server):
    # the path too: a '%' an application may decode into '?', path parameters after ';', '//'
    # resolved by some servers only; and no delimiter in the name, even encoded
    app = Application()
    try:
        s = gateway_for(make_server, app, 'pass_get = "wsdl",')
        for target in ("/orders/soap;op=DeleteOrder?wsdl", "/orders/soap%3Fop=DeleteOrder?wsdl",
                       "/orders/soap%2fop?wsdl", "//orders/soap?wsdl", "/orders//soap?wsdl", "/orders/soap?xsd=1%26id%3D7",
                       "/orders/soap?wsdl=a%3bid=7", "/orders/soap?wsdl=a%2526id", "/orders/soap?wsdl=a%2"):
            assert s.request("GET", target)[0] == 405, target
        assert app.received == []
        for target in ("/orders/soap?wsdl", "/Orders.svc?singleWsdl", "/ws/orders_v2/~x/?xsd=xsd0.xsd",
                       "/orders/soap?wsdl=sub%2FOrders.wsdl", "/?wsdl"):
            status, _, body = s.request("GET", target)
            assert (status, body) == (200, WSDL), target
        assert [path for path, _, _ in app.received] == ["/orders/soap?wsdl", "/Orders.svc?singleWsdl",
                                                         "/ws/orders_v2/~x/?xsd=xsd0.xsd",
                                                         "/orders/soap?wsdl=sub%2FOrders.wsdl", "/?wsdl"]
    finally:
        app.close()


def test_a_path_with_a_dot_segment_is_400(make_server, signer):
    # the path goes on after serve.upstream's prefix: "/app" + "/../admin" is "/admin" to an
    # application that resolves it, outside the prefix the gateway was given
    app = Application()
    try:
        s = make_server('serve = { upstream = "%s/app", pass_get = "all" },' % app.url(), policy=POLICY)
        create = b'Content-Type: text/xml\r\nSOAPAction: "urn:example:orders/Create"\r\n'
        for target in (b"/../admin", b"/orders/%2e%2E/admin", b"/orders/.%2e/admin", b"/orders/..;x=1/admin",
                       b"/orders/..%2fadmin", b"/orders\\..\\admin", b"/orders/%2e", b"/./orders",
                       b"http://orders/x/../admin"):
            refused(s, request(signer.signed("alice"), create, target=target))
            refused(s, b"GET %s HTTP/1.1\r\nHost: orders\r\n\r\n" % target)
        assert app.received == []
        for target in (b"/orders/...", b"/orders/..x/.well-known", b"/orders/a.b.c"):
            answer = exchange(s, request(signer.signed("alice"), create, target=target))
            assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
        assert [path for path, _, _ in app.received] == ["/app/orders/...", "/app/orders/..x/.well-known",
                                                         "/app/orders/a.b.c"]
    finally:
        app.close()


def with_hidden_part(message):
    """message with a MIME part in a CDATA section of an unsigned header: one XML document, whose
    signature still holds, to Warden; a Delete to an application that reads it as multipart."""
    import re
    header = re.search(rb"<([A-Za-z0-9_-]+:)?Header[^>]*>", message)
    part = (b'<n:Note xmlns:n="urn:note"><![CDATA[\r\n--part\r\nContent-Type: text/xml\r\n\r\n'
            b'<Envelope><Body><DeleteOrder/></Body></Envelope>\r\n--part--\r\n]]></n:Note>')
    return message[:header.end()] + part + message[header.end():]


def test_a_multipart_body_is_415_in_either_mode(gateway, make_server, signer):
    s, app = gateway
    check = make_server(policy=POLICY, name="check")
    create = b'SOAPAction: "urn:example:orders/Create"\r\n'
    for server in (s, check):
        answer = exchange(server, request(with_hidden_part(signer.signed("alice")),
                                          create + b'Content-Type: multipart/related; boundary=part; '
                                          b'type="text/xml"\r\n'))
        assert answer.startswith(b"HTTP/1.1 415 "), answer[:200]
    assert app.received == []
    # the same document as text/xml is one XML document to every reader: judged and forwarded
    message = with_hidden_part(signer.signed("alice"))
    _, _, _, body = forwarded(s, app, message, create + b"Content-Type: text/xml; charset=utf-8\r\n")
    assert body == message


def test_a_charset_other_than_the_documents_own_is_415(gateway, signer):
    # Warden reads the encoding the document gives itself (a byte-order mark, its declaration,
    # else UTF-8); an application that decodes by the charset parameter (RFC 7303) would read
    # other text: "+ADw-" is text to Warden and '<' in UTF-7
    s, app = gateway
    create = b'SOAPAction: "urn:example:orders/Create"\r\n'
    for charset in (b"utf-7", b"UTF-16", b"iso-8859-1", b'"ebcdic-cp-us"'):
        answer = exchange(s, request(signer.signed("alice"), create + b"Content-Type: text/xml; charset="
                                     + charset + b"\r\n"))
        assert answer.startswith(b"HTTP/1.1 415 "), (charset, answer[:200])
    declared = b'<?xml version="1.0" encoding="ISO-8859-1"?>\n'
    answer = exchange(s, request(declared + signer.signed("alice"), create + b"Content-Type: text/xml; "
                                 b"charset=utf-8\r\n"))
    assert answer.startswith(b"HTTP/1.1 415 "), answer[:200]
    refused(s, request(signer.signed("alice"), create + b"Content-Type: text/xml; charset=utf-8; "
                       b"charset=utf-7\r\n"))
    assert app.received == []
    for content_type, prefix in ((b'text/xml; charset="UTF8"', b""), (b"text/xml; charset=utf-8", b""),
                                 (b"text/xml; charset=iso-8859-1", declared),
                                 (b"application/soap+xml; charset=Utf-8; action=urn:example:orders/Create",
                                  b"\xef\xbb\xbf")):
        message = prefix + signer.signed("alice")
        _, _, got, body = forwarded(s, app, message, create + b"Content-Type: " + content_type + b"\r\n")
        assert (got["content-type"].encode(), body) == (content_type, message)
