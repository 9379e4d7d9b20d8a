"""Tests of the Python binding (package `warden`, ctypes over libwarden.so).

Environment (set by ctest, see cmake/python.cmake; set by hand to run pytest directly):
  WARDEN_LIBRARY     the built libwarden.so (else the package searches the build tree)
  WARDEN_TEST_PKI    the test PKI folder (tests/support/make_pki.sh DIR)
  WARDEN_SOURCE_DIR  the source checkout (examples/, policies/); default: found from here
  WARDEN_BIN         the built `warden` command (for the to_dict == `verify --json` checks)

The `warden` package is imported from the environment when it is installed there (a venv),
else from bindings/python. Messages are made at test time by python3-zeep (+ python3-xmlsec,
python3-lxml); a missing one fails the tests that need it with a message naming it.
"""
import importlib
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BINDING = os.path.dirname(HERE)
sys.path.insert(0, HERE)

try:
    import warden  # noqa: F401  (installed, or on PYTHONPATH)
except ImportError as e:
    if "libwarden" in str(e) or "WARDEN_LIBRARY" in str(e):
        raise
    sys.path.insert(0, BINDING)
    import warden  # noqa: F401

PKI_FILES = ("ca.pem", "users.txt", "alice.pem", "alice.key", "ecuser.pem", "ecuser.key",
             "mallory.pem", "mallory.key")


def pytest_configure(config):
    # zeep 4.2.1 imports the cgi module, deprecated in Python 3.11+: not our concern here
    config.addinivalue_line("filterwarnings", "ignore:'cgi' is deprecated:DeprecationWarning")


def pytest_report_header(config):
    return ["warden binding: %s, libwarden %s from %s"
            % (warden.__file__, warden.library_version, warden.library_path)]


@pytest.fixture(scope="session")
def pki():
    d = os.environ.get("WARDEN_TEST_PKI")
    if not d:
        pytest.fail("WARDEN_TEST_PKI is not set (make one with tests/support/make_pki.sh DIR)",
                    pytrace=False)
    missing = [f for f in PKI_FILES if not os.path.isfile(os.path.join(d, f))]
    if missing:
        pytest.fail("WARDEN_TEST_PKI=%s lacks %s" % (d, ", ".join(missing)), pytrace=False)
    return d


@pytest.fixture(scope="session")
def source_dir():
    d = os.environ.get("WARDEN_SOURCE_DIR") or os.path.dirname(os.path.dirname(BINDING))
    if not os.path.isfile(os.path.join(d, "examples", "orders.lua")):
        pytest.fail("WARDEN_SOURCE_DIR=%s is not the Warden source checkout" % d, pytrace=False)
    return d


@pytest.fixture(scope="session")
def zeep():
    """The message maker (tests/messages.py), once python3-zeep & co. are importable."""
    missing = []
    for module, package in (("lxml", "python3-lxml"), ("xmlsec", "python3-xmlsec"),
                            ("zeep", "python3-zeep")):
        try:
            importlib.import_module(module)
        except ImportError as e:
            missing.append("%s (Debian package %s): %s" % (module, package, e))
    if missing:
        pytest.fail("cannot make messages with zeep under %s: missing %s"
                    % (sys.executable, "; ".join(missing)), pytrace=False)
    import messages
    return messages


# A small policy set for the tests: Payments certificates may create orders up to 1000 with
# a signed Body; UsernameToken users may read status; a client the embedder marks as blocked
# (attrs) is refused; `log` lines go to the engine's logger.
POLICY = """\
permit "payments create small orders" {
  action = "urn:example:orders/Create",
  when = function(m)
    return m.cert ~= nil and m.cert.subject.OU == "Payments" and m.signed.Body
       and tonumber(m:body("amount")) <= 1000
  end,
}

permit "users read status" {
  action = "urn:example:orders/GetStatus",
  when = function(m) return m.username ~= nil end,
}

forbid "blocked clients" {
  when = function(m)
    if m.attrs.client == "blocked" then log("blocked " .. (m.message_id or "?")) return true end
    return false
  end,
}
"""


def write_tree(root, files):
    for name, text in files.items():
        path = os.path.join(str(root), name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return str(root)


@pytest.fixture
def policy_dir(tmp_path):
    return write_tree(tmp_path / "policies", {"orders.lua": POLICY})


@pytest.fixture
def engine_options(pki, policy_dir):
    """Keyword options of an engine trusting the test PKI, with the test policy set."""
    return {"trust": [os.path.join(pki, "ca.pem")], "users": os.path.join(pki, "users.txt"),
            "policies": policy_dir, "reload": {"watch": False}}


@pytest.fixture
def engine(engine_options):
    import warden
    with warden.Engine(**engine_options) as e:
        yield e
