"""The HTTP method and path a request came with reach policies as m.http_method and
m.http_path: in gateway mode a message permitted at one service's path is denied (a SOAP
Fault, never forwarded) at another's; in check mode the path is the one Envoy sends; on
/v1/decide, which asks Warden rather than the application, both are nil."""
import socket

from conftest import decision
from test_bad_peers import read_until_closed
from test_gateway import ANSWER, Application

POLICY = """
permit "orders are created at /orders" {
  action = "urn:example:orders/Create",
  when = function(m) return m.http_method == "POST" and m.http_path == "/orders" end,
}

permit "asked on /v1/decide" {
  action = "urn:example:orders/Create",
  when = function(m) return m.http_method == nil and m.http_path == nil end,
}
"""


def raw(server, method, target, body):
    """Sends one request as given (the target's exact bytes); the answer's bytes."""
    data = (b"%s %s HTTP/1.1\r\nHost: orders\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % (method, target, len(body))) + body
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as c:
        c.sendall(data)
        return read_until_closed(c)


def test_gateway_a_message_permitted_at_orders_is_denied_at_admin(make_server, signer):
    app = Application()
    try:
        s = make_server('serve = { upstream = %r },' % app.url(), policy=POLICY)
        status, headers, body = s.post("/orders", signer.signed("alice"))
        assert status == 200, body
        assert body == ANSWER
        assert app.received[-1][0] == "/orders"
        assert app.received[-1][1]["x-warden-rules"] == "orders are created at /orders"

        # the same message, sent to another service's path: a SOAP Fault, never forwarded
        status, headers, body = s.post("/admin", signer.signed("alice"))
        assert status == 403
        assert headers["content-type"].startswith("text/xml")
        assert b"<faultcode>soap:Client</faultcode>" in body and b"no-permit" in body
        assert len(app.received) == 1
    finally:
        app.close()


def test_gateway_the_path_is_compared_as_received_without_the_query(make_server, signer):
    app = Application()
    try:
        s = make_server('serve = { upstream = "%s/base" },' % app.url(), policy=POLICY)
        # the query is not part of m.http_path; the upstream's prefix is not either (the
        # application receives /base/orders)
        answer = raw(s, b"POST", b"/orders?tenant=7", signer.signed("alice"))
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
        assert app.received[-1][0] == "/base/orders?tenant=7"
        # an absolute-form target is judged by its path
        answer = raw(s, b"POST", b"http://orders.example/orders", signer.signed("alice"))
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
        assert app.received[-1][0] == "/base/orders"
        # other spellings of the path are other paths: an application may read some of them as
        # /orders, but a rule that permits /orders does not apply to them
        for target in [b"/Orders", b"/%6Frders", b"/orders/", b"//orders", b"/orders;v=1", b"/admin?/orders"]:
            answer = raw(s, b"POST", target, signer.signed("alice"))
            assert answer.startswith(b"HTTP/1.1 403 ") and b"no-permit" in answer, (target, answer[:300])
        # a dot segment is refused before it is judged
        answer = raw(s, b"POST", b"/admin/../orders", signer.signed("alice"))
        assert answer.startswith(b"HTTP/1.1 400 "), answer[:300]
        assert len(app.received) == 2
    finally:
        app.close()


def test_check_mode_sees_the_path_and_method_envoy_sends(make_server, signer):
    s = make_server(policy=POLICY)
    status, headers, body = s.post("/orders", signer.signed("alice"))
    assert status == 200, body
    assert headers["x-warden-rules"] == "orders are created at /orders"
    # Envoy's path_prefix comes first: the policy sees /authz/orders, not /orders
    status, headers, body = s.post("/authz/orders", signer.signed("alice"))
    assert (status, headers["x-warden-reason"]) == (403, "no-permit")
    status, headers, body = s.post("/admin", signer.signed("alice"))
    assert (status, headers["x-warden-reason"]) == (403, "no-permit")
    # Envoy asks with the original request's method
    status, headers, body = s.request("PUT", "/orders", signer.signed("alice"), {"Content-Type": "text/xml"})
    assert (status, headers["x-warden-reason"]) == (403, "no-permit")


def test_v1_decide_leaves_the_method_and_path_nil(make_server, signer):
    for mode in ["", 'serve = { upstream = "http://127.0.0.1:9" },']:
        s = make_server(mode, policy=POLICY, name="gateway" if mode else "check")
        status, _, body = s.post("/v1/decide", signer.signed("alice"))
        assert status == 200, body
        assert decision(body)["rules"] == ["asked on /v1/decide"]
