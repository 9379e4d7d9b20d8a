"""`warden check`'s findings through the real command: every problem of a policy folder in
one run as FILE:LINE: message with the folder as given on the command line, warnings that do
not fail the run, --json (one object per finding), and `warden test` with strict views and
the time library."""
import json
import os
import subprocess

SOURCE = os.environ.get("WARDEN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
POLICIES = os.path.join(SOURCE, "policies")

RULES = '''permit "clerks" {
  operation = "CreateOrder",
  when = function(m)
    return m.usename == "alice" and m.cert.subject.ou == "Payments"
       and data.limitz.max > 1
  end,
}
permit "amounts" {
  operation = "{urn:example:orders}CreateOrder",
  when = function(m) return m:body("amount") > 100 and data.limits.max_text < 5 end,
}
permit "by action" { action = "{urn:example:orders}Cancel" }
'''

TESTS = '''test "clerk" {
  message = { operation = "{urn:example:orders}CreateOrder", usename = "alice" },
  expect = "deny", reason = "no-permt", rules = { "clerk" },
}
'''


def write_set(folder):
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "limits.json").write_text('{"max": 5, "max_text": "1000"}')
    (folder / "orders.lua").write_text(RULES)
    (folder / "orders_test.lua").write_text(TESTS)
    (folder / "broken.lua").write_text('forbid "x" { whn = function(m) return true end }\nlocal f = io.open\n')
    return folder


EXPECTED = [
    "{d}/broken.lua:2: unknown global 'io' (the sandbox does not offer it)",
    "{d}/broken.lua:1: forbid 'x': unknown key 'whn'",
    "{d}/orders.lua:4: no field `usename` on m; did you mean `username`?",
    "{d}/orders.lua:4: no attribute `ou` in m.cert.subject; did you mean `OU`?",
    "{d}/orders.lua:5: no data document `limitz` (data/limitz.json); did you mean `limits`?",
    "{d}/orders.lua:10: warning: m:body(...) gives text (or nil), compared here with a number: "
    "convert it with tonumber(...)",
    "{d}/orders.lua:10: warning: data.limits.max_text is a string in the data document, compared here with "
    "a number: convert it with tonumber(...)",
    "{d}/orders.lua:1: permit 'clerks': operation target `CreateOrder` is not spelled {{namespace}}Name "
    "(m.operation is the Body element's namespace in braces, then its local name)",
    "{d}/orders.lua:12: permit 'by action': action target `{{urn:example:orders}}Cancel` is spelled like an "
    "operation: use operation = \"{{urn:example:orders}}Cancel\", or the wsa:Action URI",
    "{d}/orders.lua:12: warning: permit 'by action' matches on action, but require.signed does not list "
    "\"Action\": anyone can relabel an unsigned wsa:Action; prefer an operation target, require the Action "
    "signed, or check m.signed.Action",
    "{d}/orders_test.lua:1: test 'clerk': reason `no-permt` is not a reason code; did you mean `no-permit`?",
    "{d}/orders_test.lua:1: test 'clerk': no rule is named `clerk`; did you mean `clerks`?",
    "{d}/orders_test.lua:1: test 'clerk': the message sets m.usename, which the view never reads "
    "(no field `usename` on m; did you mean `username`?)",
    "10 problems found, 3 warnings",
]


def test_check_reports_every_problem_in_one_run_with_paths_as_given(warden, tmp_path):
    write_set(tmp_path / "set")
    for given in (str(tmp_path / "set"), str(tmp_path / "set") + "/"):
        result = warden("check", given)
        assert result.returncode == 1, result.stdout
        d = given.rstrip("/")
        assert result.stdout.decode().splitlines() == [line.format(d=d) for line in EXPECTED]
    # a relative folder stays relative
    result = subprocess.run([os.environ["WARDEN_BIN"], "check", "set"], cwd=str(tmp_path), capture_output=True,
                            timeout=60)
    assert result.stdout.decode().splitlines()[0] == "set/broken.lua:2: unknown global 'io' (the sandbox does not offer it)"


def test_check_json_is_one_object_per_finding(warden, tmp_path):
    folder = write_set(tmp_path / "set")
    result = warden("check", "--json", str(folder))
    assert result.returncode == 1
    objects = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(objects) == len(EXPECTED) - 1
    assert all(set(o) == {"file", "line", "severity", "message"} for o in objects)
    assert [o["severity"] for o in objects].count("warning") == 3
    first = objects[2]
    assert first == {"file": str(folder / "orders.lua"), "line": 4, "severity": "error",
                     "message": "no field `usename` on m; did you mean `username`?"}
    warning = objects[5]
    assert warning["severity"] == "warning" and warning["message"].startswith("m:body(...) gives text")


def test_warnings_alone_do_not_fail_the_check(warden, tmp_path):
    (tmp_path / "a.lua").write_text('permit "by action" { action = "urn:example:orders/Cancel" }\n')
    result = warden("check", str(tmp_path))
    assert result.returncode == 0, result.stdout
    lines = result.stdout.decode().splitlines()
    assert lines[-1] == f"{tmp_path}: no problems found, 1 warning"
    # a config that requires the Action signed: no warning
    (tmp_path / "config.lua").write_text('return { require = { signed = { "Body", "Timestamp", "Action" } } }\n')
    result = warden("check", "-c", str(tmp_path / "config.lua"), str(tmp_path))
    assert result.returncode == 0
    assert result.stdout.decode().splitlines() == [f"{tmp_path}: no problems found"]


def test_check_of_the_example_set_has_only_warnings(warden):
    result = warden("check", POLICIES)
    assert result.returncode == 0, result.stdout
    lines = result.stdout.decode().splitlines()
    assert lines[-1].startswith(POLICIES + ": no problems found")
    assert all(": warning: " in line for line in lines[:-1])


def test_a_typo_fails_its_test_with_a_pointer_and_time_reads_plainly(warden, tmp_path):
    (tmp_path / "hours.lua").write_text(
        'permit "business hours" {\n'
        '  operation = "{urn:x}Get",\n'
        '  when = function(m)\n'
        '    local p = time.parts(m.now, 2 * 3600)\n'
        '    return p.wday <= 5 and p.hour >= 8 and p.hour < 18\n'
        '  end,\n'
        '}\n'
        'permit "typo" { operation = "{urn:x}Typo", when = function(m) return m.usename == "a" end }\n')
    (tmp_path / "hours_test.lua").write_text(
        'test "monday afternoon in Berlin" { message = { operation = "{urn:x}Get" },\n'
        '  now = "2026-06-01T16:00:00+02:00", expect = "allow", rules = { "business hours" } }\n'
        'test "saturday" { message = { operation = "{urn:x}Get" },\n'
        '  now = time.format(time.parse("2026-06-06T10:00:00Z")), expect = "deny", reason = "no-permit" }\n'
        'test "the typo is a policy error" { message = { operation = "{urn:x}Typo", username = "a" },\n'
        '  expect = "deny", reason = "no-permit" }\n')
    result = warden("test", str(tmp_path))
    out = result.stdout.decode()
    assert result.returncode == 1, out
    assert out.splitlines()[-1] == "2 passed, 1 failed"
    assert "no field `usename` on m; did you mean `username`?" in out


def test_transport_and_http_action_are_known_to_the_check(warden, tmp_path):
    # the facts `warden serve` attaches: the TLS peer's certificate and the HTTP SOAPAction,
    # method and path
    (tmp_path / "r.lua").write_text(
        'permit "mtls" {\n'
        '  operation = "{urn:example:orders}*",\n'
        '  when = function(m)\n'
        '    return m.transport ~= nil and m.transport.cert.subject.CN == "gw" and m.http_action ~= "x"\n'
        '       and m.http_method == "POST" and m.http_path == "/orders"\n'
        '  end,\n'
        '}\n'
        'permit "typo" { operation = "{urn:example:orders}*", when = function(m) return m.transport.crt end }\n'
        'permit "path" { operation = "{urn:example:orders}*", when = function(m) return m.http_pth == "/" end }\n')
    result = warden("check", str(tmp_path))
    assert result.stdout.decode().splitlines() == [
        "%s/r.lua:8: no field `crt` on m.transport; did you mean `cert`?" % tmp_path,
        "%s/r.lua:9: no field `http_pth` on m; did you mean `http_path`?" % tmp_path,
        "2 problems found",
    ]
    assert result.returncode == 1
