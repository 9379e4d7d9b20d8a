"""Server tests: `warden serve` started on loopback with free ports, called by real HTTP(S)
clients with messages signed by zeep at test time, stopped by PID.

Environment (set by ctest): WARDEN_BIN, WARDEN_TEST_PKI, WARDEN_SOURCE_DIR.
Every wait is bounded; no test asserts how long anything took.
"""
import datetime as dt
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
INTEROP = os.path.join(os.path.dirname(HERE), "interop")
sys.path.insert(0, INTEROP)

START_TIMEOUT = 60  # seconds a server may take to come up under a loaded sanitizer build


def pytest_configure(config):
    config.addinivalue_line("filterwarnings", "ignore:'cgi' is deprecated:DeprecationWarning")
    config.addinivalue_line("filterwarnings", "ignore:pathlib.Path.__enter__:DeprecationWarning")
    config.addinivalue_line("filterwarnings", "ignore:typing.io is deprecated:DeprecationWarning")


@pytest.fixture(scope="session")
def pki():
    d = os.environ.get("WARDEN_TEST_PKI")
    if not d or not os.path.isfile(os.path.join(d, "alice.pem")):
        pytest.fail("WARDEN_TEST_PKI is not set or lacks the test PKI", pytrace=False)
    return d


@pytest.fixture(scope="session")
def warden_bin():
    b = os.environ.get("WARDEN_BIN")
    if not b or not os.access(b, os.X_OK):
        pytest.fail("WARDEN_BIN is not set to the built warden command", pytrace=False)
    return b


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- messages signed now, by zeep -----------------------------------------------------------

class Signer:
    """Makes fresh messages (unique MessageID, Timestamp of now) signed by zeep."""

    def __init__(self, pki):
        self.pki = pki

    def signed(self, name="alice", action="urn:example:orders/Create", soap12=False, body=None):
        from lxml import etree
        import gen_zeep
        from zeep.wsse.signature import BinarySignature
        from zeep.wsse.utils import get_security_header
        soap_ns = gen_zeep.SOAP12_NS if soap12 else gen_zeep.SOAP11_NS
        env = gen_zeep.envelope(soap_ns, msgid=str(uuid.uuid4()))
        env.find(".//{%s}Action" % gen_zeep.WSA_NS).text = action
        if body is not None:
            env.find(".//{urn:example:orders}amount").text = body
        now = dt.datetime.utcnow().replace(microsecond=0)
        get_security_header(env).append(gen_zeep.timestamp(now, now + dt.timedelta(minutes=5)))
        import xmlsec
        BinarySignature(os.path.join(self.pki, name + ".key"), os.path.join(self.pki, name + ".pem"),
                        signature_method=xmlsec.Transform.RSA_SHA256,
                        digest_method=xmlsec.Transform.SHA256).apply(env, {})
        return etree.tostring(env)

    def unsigned(self):
        from lxml import etree
        import gen_zeep
        return etree.tostring(gen_zeep.envelope(msgid=str(uuid.uuid4())))


@pytest.fixture(scope="session")
def signer(pki):
    return Signer(pki)


# --- a running server -----------------------------------------------------------------------

POLICY = """
permit "alice may create orders" {
  action = "urn:example:orders/Create",
  when = function(m) return m.cert ~= nil and m.cert.subject.CN == "alice" end,
}
forbid "nobody deletes" {
  action = "urn:example:orders/Delete",
}
"""


class Server:
    def __init__(self, binary, config_path, port, tls=None, log_path=None):
        self.binary, self.config_path, self.port, self.tls = binary, config_path, port, tls
        self.log_path = log_path or config_path + ".log"
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "serve", "-c", self.config_path,
                                      "--listen", "127.0.0.1:%d" % self.port],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("warden serve exited %s:\n%s" % (self.proc.returncode, self.output()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("warden serve did not listen within %ds:\n%s" % (START_TIMEOUT, self.output()))

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def connection(self, timeout=30, context=None):
        if self.tls is not None or context is not None:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=context or self.tls)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, context=None):
        conn = self.connection(context=context)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def post(self, path, body, headers=None, context=None):
        h = {"Content-Type": "text/xml; charset=utf-8"}
        h.update(headers or {})
        return self.request("POST", path, body, h, context=context)

    def metrics(self):
        status, _, body = self.request("GET", "/metrics")
        assert status == 200
        return parse_metrics(body.decode())

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=60):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("warden serve did not stop on SIGTERM:\n" + self.output())
        finally:
            self.log.close()


def parse_metrics(text):
    """Prometheus text format to {(name, frozenset(labels)): value}; checks each line's shape."""
    import re
    samples = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)$')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            assert line == "" or line.startswith("# HELP ") or line.startswith("# TYPE "), line
            continue
        m = line_re.match(line)
        assert m, "not a metrics line: %r" % line
        labels = {}
        if m.group(3):
            for part in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3)):
                labels[part[0]] = part[1]
        samples[(m.group(1), frozenset(labels.items()))] = float(m.group(4))
    return samples


def metric(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def write_config(directory, pki, extra="", policy=POLICY, reload="{ watch = false }"):
    policies = os.path.join(directory, "policies")
    os.makedirs(policies, exist_ok=True)
    with open(os.path.join(policies, "orders.lua"), "w") as f:
        f.write(policy)
    path = os.path.join(directory, "warden.lua")
    with open(path, "w") as f:
        f.write("""return {
  trust = { %r },
  users = %r,
  policies = "policies",
  reload = %s,
  %s
}
""" % (os.path.join(pki, "ca.pem"), os.path.join(pki, "users.txt"), reload, extra))
    return path


@pytest.fixture
def make_server(warden_bin, pki, tmp_path):
    servers = []

    def make(extra="", policy=POLICY, tls=None, name="a", reload="{ watch = false }"):
        d = tmp_path / name
        d.mkdir(exist_ok=True)
        path = write_config(str(d), pki, extra, policy, reload)
        s = Server(warden_bin, path, free_port(), tls=tls)
        servers.append(s)
        return s.start()

    yield make
    for s in servers:
        s.stop()


def decision(body):
    return json.loads(body.decode())
