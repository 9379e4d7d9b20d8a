"""End to end, real peers only: a zeep client (python3-zeep, WSDL-driven, WS-Addressing, a
Timestamp and a BinarySignature by the test PKI) calls a spyne SOAP application
(python3-spyne under wsgiref) through `warden serve` in gateway mode over mutual TLS.

    zeep + requests (client.pem) --HTTPS, mutual TLS--> warden serve --HTTP--> spyne app

The application records every request it receives (orders_app.py); the tests assert that
permitted calls arrive with the x-warden-* headers and that rejected ones never arrive,
while the client gets the application's answer or a SOAP Fault (zeep.exceptions.Fault).
Every process is started on a free loopback port and stopped by PID; every wait is bounded.
"""
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from conftest import START_TIMEOUT, free_port

HERE = os.path.dirname(os.path.abspath(__file__))
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
REQUEST_TIMEOUT = 60  # seconds a call may take on a loaded sanitizer build

POLICY = """
permit "the orders client creates orders as alice" {
  action = "CreateOrder",
  when = function(m)
    return m.transport ~= nil and m.transport.cert.subject.CN == "client"
       and m.cert ~= nil and m.cert.subject.CN == "alice"
  end,
}
forbid "nobody deletes orders" {
  action = "DeleteOrder",
}
"""


def wait_listening(port, proc, what, output):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("%s exited %s:\n%s" % (what, proc.returncode, output()))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("%s did not listen within %ds:\n%s" % (what, START_TIMEOUT, output()))


def stop(proc, what):
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)
        raise AssertionError("%s did not stop on SIGTERM" % what)


class OrdersApp:
    """The spyne application, in its own process; `received()` is what reached it."""

    def __init__(self, directory, soap12=False):
        self.port = free_port()
        self.record = os.path.join(directory, "received.jsonl")
        self.log_path = os.path.join(directory, "app.log")
        open(self.record, "w").close()
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "orders_app.py"),
                                      str(self.port), self.record] + (["soap12"] if soap12 else []),
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        wait_listening(self.port, self.proc, "the spyne application", self.output)

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def received(self):
        """The POSTs that reached the application (the GET of the WSDL is left out)."""
        with open(self.record) as f:
            return [r for r in map(json.loads, f) if r["method"] == "POST"]

    def close(self):
        try:
            stop(self.proc, "the spyne application")
        finally:
            self.log.close()


@pytest.fixture
def orders_app(tmp_path):
    app = OrdersApp(str(tmp_path))
    yield app
    app.close()


def tls_gateway(make_server, pki, orders_app):
    extra = """serve = { upstream = %r, timeouts = { upstream_ms = 30000 },
                tls = { cert = %r, key = %r, client_ca = %r, require_client_cert = true } },""" % (
        orders_app.url(), os.path.join(pki, "tls-server.pem"), os.path.join(pki, "tls-server.key"),
        os.path.join(pki, "ca.pem"))
    return make_server(extra, policy=POLICY, name="gateway")


@pytest.fixture
def gateway(make_server, pki, orders_app):
    return tls_gateway(make_server, pki, orders_app)


class SignedWithTimestamp:
    """zeep's wsse plugin for these tests: a wsu:Timestamp of now (zeep adds none itself),
    then zeep's BinarySignature over Body and Timestamp. TAMPER, if set, edits the signed
    envelope afterwards, as an attacker on the path would. Responses are not verified: the
    application does not sign them and Warden relays them as they are."""

    def __init__(self, pki, name="alice", tamper=None):
        import xmlsec
        from zeep.wsse.signature import BinarySignature
        self.signature = BinarySignature(os.path.join(pki, name + ".key"), os.path.join(pki, name + ".pem"),
                                         signature_method=xmlsec.Transform.RSA_SHA256,
                                         digest_method=xmlsec.Transform.SHA256)
        self.tamper = tamper

    def apply(self, envelope, headers):
        import gen_zeep
        from zeep.wsse.utils import get_security_header
        now = dt.datetime.utcnow().replace(microsecond=0)
        get_security_header(envelope).append(gen_zeep.timestamp(now, now + dt.timedelta(minutes=5)))
        envelope, headers = self.signature.apply(envelope, headers)
        if self.tamper is not None:
            self.tamper(envelope)
        return envelope, headers

    def verify(self, envelope):
        return envelope


def client(pki, front, orders_app, cert="client", wsse=None, headers=None):
    """A zeep client from the application's WSDL (fetched from the application itself),
    whose calls go to FRONT (the gateway, or the TLS proxy in front of it) over HTTPS with
    CERT as the TLS client certificate (None: no certificate) and HEADERS added to each
    call's HTTP headers."""
    import requests
    import zeep
    from zeep.wsa import WsAddressingPlugin

    class NoHostname(requests.adapters.HTTPAdapter):
        # The test server certificate names orders.example.com; the chain is still verified.
        def init_poolmanager(self, *args, **kwargs):
            kwargs["assert_hostname"] = False
            return super().init_poolmanager(*args, **kwargs)

    session = requests.Session()
    session.trust_env = False  # neither REQUESTS_CA_BUNDLE nor a proxy of the environment
    session.mount("https://", NoHostname())
    session.verify = os.path.join(pki, "ca.pem")
    if cert is not None:
        session.cert = (os.path.join(pki, cert + ".pem"), os.path.join(pki, cert + ".key"))
    transport = zeep.Transport(session=session, timeout=REQUEST_TIMEOUT, operation_timeout=REQUEST_TIMEOUT)
    c = zeep.Client(orders_app.url() + "/?wsdl", transport=transport, wsse=wsse,
                    plugins=[WsAddressingPlugin()],
                    settings=zeep.Settings(extra_http_headers=headers or {}))
    binding = next(iter(c.wsdl.bindings))
    return c.create_service(binding, "https://127.0.0.1:%d/" % front.port)


def reason(fault):
    """The reason code in a Warden fault's detail."""
    return fault.detail.findtext("reason")


def test_a_permitted_call_reaches_the_application_and_its_answer_the_client(pki, gateway, orders_app):
    # x-warden-* headers a client forges are removed before the application sees any
    service = client(pki, gateway, orders_app, wsse=SignedWithTimestamp(pki),
                     headers={"X-Warden-Subject": "CN=admin", "X-Warden-Decision": "allow"})
    assert service.CreateOrder(amount=250) == "order of 250 created"
    assert service.CreateOrder(amount=7) == "order of 7 created"
    received = orders_app.received()
    assert len(received) == 2
    for r in received:
        assert r["soapaction"] == '"CreateOrder"'
        assert r["warden"]["x-warden-decision"] == "allow"
        assert r["warden"]["x-warden-reason"] == "permitted"
        assert r["warden"]["x-warden-rules"] == "the orders client creates orders as alice"
        assert r["warden"]["x-warden-subject"] == "CN=alice,OU=Payments,O=Example"
        assert r["warden"]["x-warden-revision"].startswith("sha256:")
        assert r["forwarded"] == ["127.0.0.1", "https"]  # the client reached Warden over mutual TLS
        assert WSSE_NS in r["body"] and "<wsa:Action>CreateOrder</wsa:Action>" in r["body"]
    assert "<ns0:amount>250</ns0:amount>" in received[0]["body"]


def test_a_policy_deny_is_a_fault_and_never_reaches_the_application(pki, gateway, orders_app):
    import zeep.exceptions
    service = client(pki, gateway, orders_app, wsse=SignedWithTimestamp(pki))
    with pytest.raises(zeep.exceptions.Fault) as fault:
        service.DeleteOrder(order=1)
    assert (fault.value.code, fault.value.message) == ("soap:Client", "denied: forbidden")
    assert orders_app.received() == []


def test_a_tampered_call_is_a_fault_and_never_reaches_the_application(pki, gateway, orders_app):
    import zeep.exceptions

    def raise_amount(envelope):
        envelope.find(".//{urn:example:orders}amount").text = "999999"

    service = client(pki, gateway, orders_app, wsse=SignedWithTimestamp(pki, tamper=raise_amount))
    with pytest.raises(zeep.exceptions.Fault) as fault:
        service.CreateOrder(amount=250)
    assert (fault.value.code, fault.value.message) == ("wsse:InvalidSecurity", "rejected: digest-mismatch")
    assert reason(fault.value) == "digest-mismatch"
    assert orders_app.received() == []


def test_an_unsigned_call_is_a_fault_and_never_reaches_the_application(pki, gateway, orders_app):
    import zeep.exceptions
    service = client(pki, gateway, orders_app, wsse=None)
    with pytest.raises(zeep.exceptions.Fault) as fault:
        service.CreateOrder(amount=250)
    assert (fault.value.code, fault.value.message) == ("wsse:InvalidSecurity", "rejected: security-header-missing")
    assert reason(fault.value) == "security-header-missing"
    assert orders_app.received() == []


def test_a_call_signed_by_an_unknown_signer_is_a_fault(pki, gateway, orders_app):
    import zeep.exceptions
    service = client(pki, gateway, orders_app, wsse=SignedWithTimestamp(pki, name="mallory"))
    with pytest.raises(zeep.exceptions.Fault) as fault:
        service.CreateOrder(amount=250)
    assert (fault.value.code, fault.value.message) == ("wsse:FailedAuthentication", "rejected: cert-untrusted")
    assert reason(fault.value) == "cert-untrusted"
    assert orders_app.received() == []


class Replaying(SignedWithTimestamp):
    """Signs the first call; every later call sends that first signed envelope again, as an
    attacker who captured it on the way would."""

    def __init__(self, pki):
        super().__init__(pki)
        self.captured = None

    def apply(self, envelope, headers):
        from copy import deepcopy
        if self.captured is None:
            envelope, headers = super().apply(envelope, headers)
            self.captured = deepcopy(envelope)
            return envelope, headers
        return deepcopy(self.captured), headers


def test_a_replayed_call_is_a_fault_and_reaches_the_application_once(pki, gateway, orders_app):
    import zeep.exceptions
    service = client(pki, gateway, orders_app, wsse=Replaying(pki))
    assert service.CreateOrder(amount=250) == "order of 250 created"
    with pytest.raises(zeep.exceptions.Fault) as fault:
        service.CreateOrder(amount=1)  # the captured amount=250 message goes out instead
    assert (fault.value.code, reason(fault.value)) == ("wsse:InvalidSecurity", "replay")
    assert len(orders_app.received()) == 1


def test_a_client_without_a_tls_certificate_never_reaches_the_application(pki, gateway, orders_app):
    import requests
    service = client(pki, gateway, orders_app, cert=None, wsse=SignedWithTimestamp(pki))
    with pytest.raises((requests.exceptions.SSLError, requests.exceptions.ConnectionError)):
        service.CreateOrder(amount=250)
    assert orders_app.received() == []
    # the gateway still serves the client that has one
    good = client(pki, gateway, orders_app, wsse=SignedWithTimestamp(pki))
    assert good.CreateOrder(amount=1) == "order of 1 created"
    assert len(orders_app.received()) == 1


def test_a_soap12_application_gets_its_calls_and_the_client_soap12_faults(make_server, pki, tmp_path):
    import zeep.exceptions
    app = OrdersApp(str(tmp_path), soap12=True)
    try:
        gw = tls_gateway(make_server, pki, app)
        service = client(pki, gw, app, wsse=SignedWithTimestamp(pki))
        assert service.CreateOrder(amount=12) == "order of 12 created"
        with pytest.raises(zeep.exceptions.Fault) as fault:
            client(pki, gw, app, wsse=SignedWithTimestamp(pki, name="mallory")).CreateOrder(amount=1)
        assert (fault.value.code, fault.value.message) == ("env:Sender", "rejected: cert-untrusted")
        assert [q.localname for q in fault.value.subcodes] == ["FailedAuthentication"]
        assert fault.value.subcodes[0].namespace == WSSE_NS
        assert reason(fault.value) == "cert-untrusted"
        received = app.received()
        assert len(received) == 1
        assert received[0]["warden"]["x-warden-subject"] == "CN=alice,OU=Payments,O=Example"
        assert "http://www.w3.org/2003/05/soap-envelope" in received[0]["body"]
    finally:
        app.close()


# --- second topology: nginx terminates TLS in front of the gateway ---------------------------
#
#   zeep + requests (client.pem) --HTTPS, mutual TLS--> nginx --HTTP--> warden serve --HTTP--> spyne
#
# nginx verifies the client certificate; Warden, on loopback behind it, has no transport token
# (it never trusts a certificate passed in a header), so its policy rests on the signature.

PROXIED_POLICY = """
permit "alice creates orders" {
  action = "CreateOrder",
  when = function(m) return m.cert ~= nil and m.cert.subject.CN == "alice" end,
}
forbid "nobody deletes orders" {
  action = "DeleteOrder",
}
"""

NGINX = "/usr/sbin/nginx"

NGINX_CONF = """
daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
{user}
events {{ worker_connections 64; }}
http {{
  access_log {dir}/access.log;
  client_body_temp_path {dir}/client_body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {pki}/tls-server.pem;
    ssl_certificate_key {pki}/tls-server.key;
    ssl_client_certificate {pki}/ca.pem;
    ssl_verify_client on;
    client_max_body_size 1m;
    location / {{
      proxy_pass http://127.0.0.1:{upstream};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 60s;
    }}
  }}
}}
"""


class Nginx:
    """nginx on a free loopback port with a generated config, stopped by PID."""

    def __init__(self, directory, pki, upstream_port):
        self.port = free_port()
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        conf = os.path.join(directory, "nginx.conf")
        # As root, workers would drop to nobody, who cannot enter the test's private directory.
        user = "user root;" if os.geteuid() == 0 else ""
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=directory, user=user, port=self.port, pki=pki,
                                      upstream=upstream_port))
        self.log = open(os.path.join(directory, "stderr.log"), "wb")
        self.proc = subprocess.Popen([NGINX, "-p", directory, "-e", os.path.join(directory, "error.log"),
                                      "-c", conf],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        wait_listening(self.port, self.proc, "nginx", self.output)

    def output(self):
        text = ""
        for name in ("stderr.log", "error.log"):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    text += f.read().decode(errors="replace")
        return text

    def posts(self, count):
        """The POSTs nginx logged, as (path, status), once there are COUNT of them: nginx
        writes a request's line after it has answered, so the client may be first."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            with open(os.path.join(self.dir, "access.log")) as f:
                posts = [(line.split('"')[1].split()[1], int(line.split('"')[2].split()[0]))
                         for line in f if '"POST ' in line]
            if len(posts) >= count or time.monotonic() > deadline:
                return posts
            time.sleep(0.05)

    def close(self):
        try:
            stop(self.proc, "nginx")  # SIGTERM: nginx's fast shutdown, workers included
        finally:
            self.log.close()


@pytest.fixture
def proxied(make_server, orders_app, pki, tmp_path):
    if not os.access(NGINX, os.X_OK):
        pytest.fail("nginx is not installed (scripts/setup installs nginx-light)", pytrace=False)
    warden = make_server("serve = { upstream = %r, timeouts = { upstream_ms = 30000 } }," % orders_app.url(),
                         policy=PROXIED_POLICY, name="proxied")
    proxy = Nginx(str(tmp_path / "nginx"), pki, warden.port)
    yield proxy
    proxy.close()


def test_behind_nginx_a_permitted_call_reaches_the_application(pki, proxied, orders_app):
    service = client(pki, proxied, orders_app, wsse=SignedWithTimestamp(pki),
                     headers={"X-Warden-Subject": "CN=admin"})
    assert service.CreateOrder(amount=250) == "order of 250 created"
    received = orders_app.received()
    assert len(received) == 1
    got = received[0]["warden"]
    assert (got["x-warden-decision"], got["x-warden-reason"]) == ("allow", "permitted")
    assert got["x-warden-rules"] == "alice creates orders"
    assert proxied.posts(1) == [("/", 200)]  # it went through nginx
    assert got["x-warden-subject"] == "CN=alice,OU=Payments,O=Example"


def test_behind_nginx_rejected_calls_are_faults_and_never_reach_the_application(pki, proxied, orders_app):
    import zeep.exceptions

    def raise_amount(envelope):
        envelope.find(".//{urn:example:orders}amount").text = "999999"

    with pytest.raises(zeep.exceptions.Fault) as fault:
        client(pki, proxied, orders_app, wsse=SignedWithTimestamp(pki)).DeleteOrder(order=1)
    assert (fault.value.code, fault.value.message) == ("soap:Client", "denied: forbidden")
    with pytest.raises(zeep.exceptions.Fault) as fault:
        client(pki, proxied, orders_app, wsse=SignedWithTimestamp(pki, tamper=raise_amount)).CreateOrder(amount=1)
    assert reason(fault.value) == "digest-mismatch"
    with pytest.raises(zeep.exceptions.Fault) as fault:
        client(pki, proxied, orders_app).CreateOrder(amount=1)
    assert reason(fault.value) == "security-header-missing"
    assert orders_app.received() == []
    assert proxied.posts(3) == [("/", 403)] * 3  # nginx relayed Warden's faults


def test_behind_nginx_a_client_without_a_tls_certificate_never_reaches_warden(pki, proxied, orders_app):
    import zeep.exceptions
    service = client(pki, proxied, orders_app, cert=None, wsse=SignedWithTimestamp(pki))
    # nginx answers 400 itself (ssl_verify_client on), an HTML page zeep cannot parse
    with pytest.raises(zeep.exceptions.TransportError) as error:
        service.CreateOrder(amount=250)
    assert error.value.status_code == 400
    assert orders_app.received() == []
