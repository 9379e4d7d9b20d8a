"""Interop tests: WS-Security messages made at test time by real SOAP clients (zeep, npm
soap), verified by `warden verify`, with xmlsec1 as an independent oracle.

Environment (set by ctest; set by hand to run pytest directly):
  WARDEN_BIN        the built `warden` command
  WARDEN_TEST_PKI   the test PKI folder (tests/support/make_pki.sh DIR)
  WARDEN_SOURCE_DIR, WARDEN_BUILD_DIR (informational)

A missing dependency makes the tests that need it FAIL with a message naming it (never skip):
python3-zeep / python3-xmlsec / python3-lxml for the zeep generator, python3-cryptography for
the ECDSA twin, node + the npm packages of tests/interop/node (`npm ci --prefix
tests/interop/node`) for the npm soap generator, the xmlsec1 command for the oracle,
WARDEN_BIN for everything that runs warden.
"""
import datetime as dt
import importlib
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(HERE, "node")
sys.path.insert(0, HERE)

import helpers  # noqa: E402

PKI_FILES = ("ca.pem", "known.pem", "users.txt", "alice.pem", "alice.key", "ecuser.pem",
             "ecuser.key", "expired.pem", "expired.key", "mallory.pem", "mallory.key",
             "ca.key", "intermediate.key", "tls-server.pem", "tls-server.key", "revoked.pem",
             "revoked.key", "crl-root.pem", "crl-intermediate.pem", "crl-root-expired.pem",
             "idp.pem", "idp.key", "idp-ca.pem", "idp-issued.pem", "idp-issued.key", "bob.key")


def _missing_python_modules():
    missing = []
    for module, package in (("lxml", "python3-lxml"), ("xmlsec", "python3-xmlsec"),
                            ("zeep", "python3-zeep"), ("cryptography", "python3-cryptography")):
        try:
            importlib.import_module(module)
        except ImportError as e:
            missing.append("%s (Debian package %s): %s" % (module, package, e))
    return missing


def pytest_configure(config):
    # zeep 4.2.1 imports the cgi module, deprecated in Python 3.11+: not our concern here
    config.addinivalue_line("filterwarnings", "ignore:'cgi' is deprecated:DeprecationWarning")
    # pysaml2 7.0.1 reads its bundled schemas through a deprecated pathlib idiom
    config.addinivalue_line("filterwarnings", "ignore:pathlib.Path.__enter__:DeprecationWarning")
    config.addinivalue_line("filterwarnings", "ignore:typing.io is deprecated:DeprecationWarning")


def pytest_report_header(config):
    lines = ["interop: python %s" % sys.executable]
    problems = _missing_python_modules()
    if not shutil.which("node"):
        problems.append("node is not on PATH")
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "soap")):
        problems.append("npm packages missing: run `npm ci --prefix tests/interop/node`")
    if not shutil.which("xmlsec1"):
        problems.append("xmlsec1 is not on PATH (Debian package xmlsec1)")
    for var in ("WARDEN_BIN", "WARDEN_TEST_PKI"):
        if not os.environ.get(var):
            problems.append("%s is not set" % var)
    lines += ["interop: MISSING " + p for p in problems]
    return lines


# --- environment -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def pki():
    d = os.environ.get("WARDEN_TEST_PKI")
    if not d:
        pytest.fail("WARDEN_TEST_PKI is not set (make one with tests/support/make_pki.sh DIR)",
                    pytrace=False)
    missing = [f for f in PKI_FILES if not os.path.isfile(os.path.join(d, f))]
    if missing:
        pytest.fail("WARDEN_TEST_PKI=%s lacks %s (run tests/support/make_pki.sh on it)"
                    % (d, ", ".join(missing)), pytrace=False)
    return d


class Run:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def json_lines(self):
        try:
            return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]
        except ValueError as e:
            raise AssertionError("warden printed a line that is not JSON (%s):\n%s\nstderr:\n%s"
                                 % (e, self.stdout, self.stderr))

    def __repr__(self):
        return "warden exit %s\nstdout:\n%s\nstderr:\n%s" % (self.rc, self.stdout, self.stderr)


class Warden:
    """Runs `warden verify` with the test PKI."""

    def __init__(self, binary, pki):
        self.binary = binary
        self.pki = pki

    def verify(self, *files, now=helpers.NOW, json_out=True, extra=()):
        cmd = [self.binary, "verify"]
        if json_out:
            cmd.append("--json")
        cmd += ["--trust", os.path.join(self.pki, "ca.pem"),
                "--certs", os.path.join(self.pki, "known.pem"),
                "--users", os.path.join(self.pki, "users.txt")]
        if now:
            cmd += ["--now", now]
        cmd += list(extra)
        cmd += [str(f) for f in files]
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=60)
        return Run(proc)

    def verify_one(self, path, now=helpers.NOW, extra=()):
        """Verify one file; return (exit code, its JSON object, Run)."""
        run = self.verify(path, now=now, extra=extra)
        lines = run.json_lines()
        assert len(lines) == 1, "expected one JSON line, got %d\n%r" % (len(lines), run)
        return run.rc, lines[0], run


@pytest.fixture(scope="session")
def warden(pki):
    binary = os.environ.get("WARDEN_BIN")
    if not binary:
        pytest.fail("WARDEN_BIN is not set (the path of the built `warden` command)",
                    pytrace=False)
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        pytest.fail("WARDEN_BIN=%s is not an executable file (build the warden target)"
                    % binary, pytrace=False)
    return Warden(binary, pki)


# --- generated messages ------------------------------------------------------------------------

class Message:
    """One generated message: its file, the client that made it, the signer's certificate
    name in the PKI (or None) and the clock to verify it with."""

    def __init__(self, name, path, client, now, signer=None):
        self.name, self.path, self.client, self.now, self.signer = name, path, client, now, signer

    def read(self):
        with open(self.path, "rb") as f:
            return f.read()

    def later(self, seconds=3600):
        """--now `seconds` after this message's own clock."""
        t = dt.datetime.strptime(self.now, "%Y-%m-%dT%H:%M:%SZ")
        return (t + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def __repr__(self):
        return "<%s %s>" % (self.name, self.path)


ZEEP_SIGNERS = {"zeep-binary-ec": "ecuser", "zeep-binary-mallory": "mallory",
                "zeep-binary-expired-cert": "expired", "zeep-binary-root-ca": "ca",
                "zeep-x509data-intermediate-ca": "intermediate",
                "zeep-binary-tls-server": "tls-server", "zeep-binary-revoked": "revoked"}


@pytest.fixture(scope="session")
def zeep_messages(pki, tmp_path_factory):
    missing = _missing_python_modules()
    if missing:
        pytest.fail("zeep generator cannot run under %s: missing %s"
                    % (sys.executable, "; ".join(missing)), pytrace=False)
    import gen_zeep
    out = tmp_path_factory.mktemp("zeep")
    paths = gen_zeep.generate(pki, str(out))
    msgs = {}
    for name, path in paths.items():
        signer = None
        if "-binary-" in name or "-x509data-" in name:
            signer = ZEEP_SIGNERS.get(name, "alice")
        msgs[name] = Message(name, path, "zeep", helpers.NOW, signer)
    return msgs


@pytest.fixture(scope="session")
def soap_messages(pki, tmp_path_factory):
    node = shutil.which("node")
    if not node:
        pytest.fail("npm soap generator: `node` is not on PATH (Node.js 20)", pytrace=False)
    if not os.path.isfile(os.path.join(NODE_DIR, "node_modules", "soap", "package.json")):
        pytest.fail("npm soap generator: the npm packages are not installed; run "
                    "`npm ci --prefix tests/interop/node`", pytrace=False)
    out = tmp_path_factory.mktemp("soap")
    proc = subprocess.run([node, "--no-deprecation", os.path.join(NODE_DIR, "gen_soap.js"),
                           pki, str(out)],
                          cwd=NODE_DIR, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        pytest.fail("npm soap generator failed (exit %d):\n%s%s"
                    % (proc.returncode, proc.stdout, proc.stderr), pytrace=False)
    paths = json.loads(proc.stdout)
    msgs = {}
    for name, path in paths.items():
        with open(path, "rb") as f:
            created = helpers.created_of(f.read())
        now = helpers.iso(created + dt.timedelta(seconds=30))
        signer = "alice" if name.startswith("soap-cert-") else None
        msgs[name] = Message(name, path, "soap", now, signer)
    return msgs


@pytest.fixture
def message(request):
    """Indirect-parametrize helper: `message` resolves a generated message by name."""
    name = request.param
    source = "soap_messages" if name.startswith("soap-") else "zeep_messages"
    msgs = request.getfixturevalue(source)
    assert name in msgs, "generator made no message named %s" % name
    return msgs[name]


@pytest.fixture
def write(tmp_path):
    """write(name, bytes) -> path of a new file in the test's own folder."""
    def _write(name, data):
        p = tmp_path / name
        p.write_bytes(data)
        return str(p)
    return _write


# --- the xmlsec1 oracle -----------------------------------------------------------------------

class Xmlsec1:
    ID_ATTRS = ("%s:Body" % helpers.SOAP11, "%s:Body" % helpers.SOAP12,
                "%s:Timestamp" % helpers.WSU, "%s:UsernameToken" % helpers.WSSE,
                "%s:Action" % helpers.WSA, "%s:To" % helpers.WSA, "%s:MessageID" % helpers.WSA)

    def __init__(self, binary):
        self.binary = binary

    def verify(self, path, cert):
        cmd = [self.binary, "--verify"]
        for a in self.ID_ATTRS:
            cmd += ["--id-attr:Id", a]
        cmd += ["--pubkey-cert-pem", cert, str(path)]
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=60)
        out = proc.stdout + proc.stderr
        ok = proc.returncode == 0 and "OK" in out.splitlines()
        return ok, out


@pytest.fixture(scope="session")
def xmlsec1():
    binary = shutil.which("xmlsec1")
    if not binary:
        pytest.fail("the xmlsec1 command is missing (Debian package xmlsec1)", pytrace=False)
    return Xmlsec1(binary)
