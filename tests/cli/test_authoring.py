"""Policy authoring through the real command: `decide --explain`, `test -v/--run/--format/
--coverage`, a folder's own fixtures/test-config.lua, failure lines that name the rule that
erred, log() lines of failing tests, decide running while a test fails, the decision log."""
import json
import os
import shutil
import xml.etree.ElementTree as ET

SOURCE = os.environ.get("WARDEN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
CONFIG = os.path.join(SOURCE, "examples", "orders.lua")
POLICIES = os.path.join(SOURCE, "policies")
FIXTURES = os.path.join(POLICIES, "fixtures")
NOW = "2026-11-25T12:00:30Z"

RULES = """\
permit "small orders" { action = "urn:example:orders/Create",
  when = function(m) log("amount is", m:body("amount")); return tonumber(m:body("amount")) < 100 end }
forbid "no cancels" { action = "urn:example:orders/Cancel" }
permit "broken" { action = "urn:example:orders/Create",
  when = function(m) return m.attrs.nothing.here end }
"""

TESTS = """\
test "small orders" {
  message = { action = "urn:example:orders/Create", body = { amount = "5" } },
  expect = "deny", reason = "policy-error",
}
test "a small order is allowed" {
  message = { action = "urn:example:orders/Create", body = { amount = "5" } },
  expect = "allow",
}
test "cancels are forbidden" {
  message = { action = "urn:example:orders/Cancel" }, expect = "deny", reason = "forbidden",
}
"""


def lines_json(result):
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def make_set(tmp_path, rules=RULES, tests=TESTS):
    d = tmp_path / "set"
    d.mkdir()
    (d / "rules.lua").write_text(rules)
    (d / "rules_test.lua").write_text(tests)
    return d


# ---- decide --explain ------------------------------------------------------------------------

def test_decide_explain_prints_every_rule_with_file_line_when_and_log(warden):
    result = warden("decide", "--explain", "-c", CONFIG, "--now", NOW, os.path.join(FIXTURES, "create-large.xml"))
    assert result.returncode == 1
    out = result.stdout.decode()
    assert out.startswith(os.path.join(FIXTURES, "create-large.xml") + ": deny (policy: no-permit)\n")
    assert '    permit "payments clerks create small orders" (orders/clerks.lua:8)\n' \
           "      targets   match\n      when      returned false (" in out
    assert '    permit "known users read order status" (orders/status.lua:3)\n      targets   do not match\n' in out
    # forbids are listed before permits
    assert out.index('forbid "stale timestamps"') < out.index('permit "order admins may do anything"')


def test_decide_explain_json_puts_the_explanation_under_explain(warden, tmp_path):
    d = make_set(tmp_path, tests="")
    result = warden("decide", "--json", "--explain", "--policies", str(d), "--trust",
                    os.path.join(SOURCE, "examples", "demo", "ca.pem"), "--now", NOW,
                    os.path.join(FIXTURES, "create-small.xml"), os.path.join(FIXTURES, "create-tampered.xml"))
    assert result.returncode == 1
    decided, rejected = lines_json(result)
    assert (decided["decision"], decided["stage"], decided["reason"]) == ("deny", "policy", "policy-error")
    explain = {r["rule"]: r for r in decided["explain"]}
    assert [r["rule"] for r in decided["explain"]] == ["no cancels", "small orders", "broken"]
    assert explain["no cancels"] == {"rule": "no cancels", "effect": "forbid", "file": "rules.lua", "line": 3,
                                     "targets": False, "applied": False}
    small = explain["small orders"]
    assert (small["line"], small["targets"], small["when"], small["value"], small["applied"], small["log"]) == \
        (1, True, "returned", "false", False, ["amount is\t250"])
    assert isinstance(small["instructions"], int) and small["instructions"] > 0
    assert explain["broken"]["when"] == "raised" and "nothing" in explain["broken"]["error"]
    assert rejected["stage"] == "security" and rejected["explain"] == []


def test_decide_runs_while_a_policy_test_fails(warden, tmp_path):
    d = make_set(tmp_path, tests='test "wrong" { message = { action = "urn:example:orders/Cancel" }, expect = "allow" }\n')
    result = warden("decide", "--json", "--policies", str(d), "--trust",
                    os.path.join(SOURCE, "examples", "demo", "ca.pem"), "--now", NOW,
                    os.path.join(FIXTURES, "create-small.xml"))
    assert result.returncode == 1, result.stderr
    assert lines_json(result)[0]["reason"] == "policy-error"


# ---- warden test ----------------------------------------------------------------------------

def test_failing_test_names_the_rule_that_erred_and_shows_its_log(warden, tmp_path):
    d = make_set(tmp_path)
    result = warden("test", str(d))
    assert result.returncode == 1
    out = result.stdout.decode().splitlines()
    assert out == [
        "FAIL rules_test.lua:5: test 'a small order is allowed': expected allow, got deny (policy-error): "
        "rule 'broken' (rules.lua:4) raised: rules.lua:5: attempt to index a nil value (field 'nothing')",
        "  log  amount is\t5",
        "2 passed, 1 failed",
    ]


def test_verbose_lists_every_test_and_run_filters_by_lua_pattern(warden, tmp_path):
    d = make_set(tmp_path)
    result = warden("test", "-v", "--run", "^small", str(d))
    assert result.returncode == 0
    assert result.stdout.decode().splitlines() == [
        "PASS rules_test.lua:1: test 'small orders': deny (policy-error): "
        "rule 'broken' (rules.lua:4) raised: rules.lua:5: attempt to index a nil value (field 'nothing')",
        "1 passed, 0 failed",
    ]
    result = warden("test", "--run", "[unclosed", str(d))
    assert result.returncode == 2 and b"--run" in result.stderr


def test_a_test_may_be_named_like_a_rule(warden, tmp_path):
    d = make_set(tmp_path)  # the test "small orders" shares the rule's name
    result = warden("check", str(d))
    assert b"duplicate" not in result.stdout
    assert warden("test", str(d)).stdout.decode().splitlines()[-1] == "2 passed, 1 failed"


def test_json_format_is_json_on_every_line_with_a_final_count(warden, tmp_path):
    d = make_set(tmp_path)
    result = warden("test", "--format", "json", str(d))
    assert result.returncode == 1
    objects = lines_json(result)
    assert objects[-1] == {"passed": 2, "failed": 1}
    assert [o["name"] for o in objects[:-1]] == ["small orders", "a small order is allowed", "cancels are forbidden"]
    failing = objects[1]
    assert (failing["passed"], failing["rule"], failing["log"], failing["file"], failing["line"]) == \
        (False, "broken", ["amount is\t5"], "rules_test.lua", 5)
    assert objects[2] == {"name": "cancels are forbidden", "file": "rules_test.lua", "line": 9, "passed": True,
                          "text": "deny (forbidden: no cancels)", "log": []}
    assert lines_json(warden("test", "--json", str(d))) == objects


def test_envelope_test_lines_carry_their_own_text(warden):
    """A passing envelope test rejected by security processing once printed the previous
    test's text."""
    result = warden("test", "--json", POLICIES)
    assert result.returncode == 0, result.stdout
    objects = lines_json(result)
    tampered = [o for o in objects if o.get("name") == "a tampered envelope never reaches the policies"][0]
    assert tampered["text"].startswith("deny (security: digest-mismatch: ")
    texts = [o["text"] for o in objects[:-1]]
    assert all(texts[i] != texts[i - 1] or "security" not in texts[i] for i in range(1, len(texts)))


def test_junit_is_one_xml_document(warden, tmp_path):
    d = make_set(tmp_path)
    result = warden("test", "--format", "junit", str(d))
    assert result.returncode == 1
    root = ET.fromstring(result.stdout)
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("3", "1")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["small orders", "a small order is allowed", "cancels are forbidden"]
    failure = cases[1].find("failure")
    assert "rule 'broken' (rules.lua:4) raised" in failure.get("message")
    assert cases[1].find("system-out").text == "amount is\t5\n"
    assert cases[2].find("failure") is None and cases[2].get("classname") == "rules_test.lua"


def test_junit_and_json_report_a_set_that_does_not_compile(warden, tmp_path):
    d = make_set(tmp_path, rules='permit "x" {\n')
    result = warden("test", "--format", "junit", str(d))
    assert result.returncode == 1
    root = ET.fromstring(result.stdout)
    assert root.find("testsuite/testcase/error") is not None
    # the one <error> case is counted once, at both levels, and never as a failure
    for element in (root, root.find("testsuite")):
        assert (element.get("tests"), element.get("failures"), element.get("errors")) == ("1", "0", "1")
    assert len(root.findall("testsuite/testcase")) == 1
    objects = lines_json(warden("test", "--format", "json", str(d)))
    assert len(objects) == 1 and objects[0]["passed"] == 0 and objects[0]["failed"] == 1 and "error" in objects[0]


def test_coverage_counts_rules_and_lines(warden, tmp_path):
    rules = RULES + 'permit "never used" { action = "urn:example:orders/Nothing" }\n'
    d = make_set(tmp_path, rules=rules)
    result = warden("test", "--coverage", str(d))
    out = result.stdout.decode().splitlines()
    assert out[-1] == "2 passed, 1 failed"
    start = out.index("coverage")
    assert out[start + 1:-1] == [
        '  permit "small orders" (rules.lua:1): applied 2, not applied 0',
        '  forbid "no cancels" (rules.lua:3): applied 1, not applied 0',
        '  permit "broken" (rules.lua:4): applied 0, not applied 2',
        '  permit "never used" (rules.lua:6): never reached',
        "  file rules.lua: 2 lines run",
    ]
    objects = lines_json(warden("test", "--coverage", "--json", str(d)))
    coverage = objects[-2]["coverage"]
    assert objects[-1] == {"passed": 2, "failed": 1}
    assert coverage["files"] == [{"file": "rules.lua", "lines_run": 2, "lines": [2, 5]}]
    never = [r for r in coverage["rules"] if r["rule"] == "never used"][0]
    assert (never["applied"], never["not_applied"], never["reached"]) == (0, 0, False)


def test_a_folder_with_its_own_test_config_needs_no_c(warden, tmp_path):
    # the example set carries fixtures/test-config.lua: its envelope tests verify without -c
    result = warden("test", POLICIES)
    assert result.returncode == 0, result.stdout
    assert result.stdout.decode().splitlines()[-1].endswith(" passed, 0 failed")
    # --policies names the folder when no POLICY_DIR is given
    assert warden("test", "--policies", POLICIES).returncode == 0
    assert warden("check", "--policies", POLICIES).returncode == 0
    # a copy without the file fails its envelope tests (no trust): the file was what made it work
    copy = tmp_path / "copy"
    shutil.copytree(POLICIES, copy)
    os.remove(copy / "fixtures" / "test-config.lua")
    assert warden("test", str(copy)).returncode == 1
    # -c wins over the folder's own file
    assert warden("test", "-c", CONFIG, str(copy)).returncode == 0


def test_every_command_help_lists_its_options(warden):
    for command, options in {
        "verify": ["--config", "--trust", "--certs", "--crl", "--users", "--decrypt-key", "--decrypt-cert", "--now",
                   "--allow-sha1", "--json"],
        "decide": ["--config", "--trust", "--decrypt-key", "--decrypt-cert", "--policies", "--now", "--explain",
                   "--json"],
        "check": ["--config", "--policies"],
        "test": ["--config", "--trust", "--users", "--policies", "-v", "--run", "--format", "--json", "--coverage"],
    }.items():
        result = warden(command, "--help")
        assert result.returncode == 0
        for option in options:
            assert option.encode() in result.stdout, (command, option)
    assert warden("verify", "--explain", "x.xml").returncode == 2
    assert warden("test", "--format", "yaml", POLICIES).returncode == 2


# ---- decision log -------------------------------------------------------------------------------

def test_decision_log_to_stdout_includes_security_rejections(warden, tmp_path):
    config = tmp_path / "warden.lua"
    config.write_text('return { trust = { %r }, policies = %r, log = { decisions = "-" } }\n'
                      % (os.path.join(SOURCE, "examples", "demo", "ca.pem"), POLICIES))
    result = warden("decide", "--json", "-c", str(config), "--now", NOW,
                    os.path.join(FIXTURES, "create-small.xml"), os.path.join(FIXTURES, "create-tampered.xml"))
    objects = lines_json(result)
    logged = [o for o in objects if "latency_us" in o]
    assert [(o["decision"], o["stage"], o["reason"]) for o in logged] == [
        ("allow", "policy", "permitted"), ("deny", "security", "digest-mismatch")]
    allowed = logged[0]
    assert allowed["principal"] == {"cert_subject": "CN=alice,OU=Payments,O=Example", "cert_serial": allowed["principal"]["cert_serial"]}
    assert allowed["action"] == "urn:example:orders/Create"
    assert isinstance(allowed["latency_us"], int)
    assert not (tmp_path / "-").exists()


def test_log_lines_and_errors_cannot_drive_the_terminal(warden, tmp_path):
    """Log lines and error texts may quote the message: they are escaped like engine log lines
    in explanations and test output, never written raw."""
    rules = ('permit "noisy" { action = "urn:example:orders/Create",\n'
             '  when = function(m) log("x" .. string.char(27) .. "[2J\\nFAIL forged") '
             'error("bad" .. string.char(7) .. "\\r") end }\n')
    tests = 'test "noisy" { message = { action = "urn:example:orders/Create" }, expect = "allow" }\n'
    d = make_set(tmp_path, rules=rules, tests=tests)
    result = warden("test", str(d))
    out = result.stdout
    assert b"\x1b" not in out and b"\x07" not in out and b"\r" not in out
    lines = out.decode().splitlines()
    assert lines[1] == "  log  x\\x1b[2J\\nFAIL forged"
    assert "\\x07\\r" in lines[0]
    result = warden("decide", "--explain", "--policies", str(d), "--trust",
                    os.path.join(SOURCE, "examples", "demo", "ca.pem"), "--now", NOW,
                    os.path.join(FIXTURES, "create-small.xml"))
    assert b"\x1b" not in result.stdout and b"\x07" not in result.stdout
    assert "      log       x\\x1b[2J\\nFAIL forged\n" in result.stdout.decode()
