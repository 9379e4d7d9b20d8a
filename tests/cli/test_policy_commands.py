"""`warden check`, `warden test` and `warden decide`: findings with file:line, the closing
line, exit codes, and the decide JSON shape."""
import json
import os

SOURCE = os.environ.get("WARDEN_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
CONFIG = os.path.join(SOURCE, "examples", "orders.lua")
POLICIES = os.path.join(SOURCE, "policies")
FIXTURES = os.path.join(POLICIES, "fixtures")
NOW = "2026-11-25T12:00:30Z"


def test_check_passes_the_example_policies(warden):
    result = warden("check", POLICIES)
    assert result.returncode == 0, result.stdout
    assert b"no problems found" in result.stdout


def test_check_reports_each_problem_with_file_and_line(warden, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "broken.json").write_text('{ "a": ')
    (tmp_path / "io.lua").write_text('permit "reads files" {\n  when = function(m) return io.open("/etc/passwd") end }\n')
    (tmp_path / "print.lua").write_text('\n\nprint("hello")\n')
    (tmp_path / "keys.lua").write_text('permit "colour" { colour = "red" }\n')
    (tmp_path / "syntax.lua").write_text('permit "x" {\n')
    (tmp_path / "one.lua").write_text('permit "same" { }\n')
    (tmp_path / "two.lua").write_text('\npermit "same" { }\n')
    result = warden("check", str(tmp_path))
    assert result.returncode == 1
    out = result.stdout.decode()
    assert "io.lua:2: unknown global 'io'" in out
    assert "print.lua:3: unknown global 'print'" in out
    assert "keys.lua:1:" in out and "unknown key 'colour'" in out
    assert "syntax.lua:" in out
    assert "two.lua:2:" in out and "duplicate" in out
    assert "data/broken.json" in out
    assert "problems found" in out


def test_check_reports_state_kept_between_decisions_with_file_and_line(warden, tmp_path):
    (tmp_path / "counter.lua").write_text(
        'local count = 0\n'
        'permit "counter" { when = function(m)\n'
        '  count = count + 1\n'
        '  return count < 3 end }\n')
    (tmp_path / "env.lua").write_text('local e = {}\n_ENV = e\n')
    (tmp_path / "param.lua").write_text('permit "p" {\n  when = function(_ENV) return true end }\n')
    (tmp_path / "factory.lua").write_text(
        'local function make()\n  local n = 0\n  return function(m)\n    n = n + 1\n    return true end end\n'
        'permit "made" { when = make() }\n')
    (tmp_path / "free.lua").write_text(
        'permit "free" { when = function(m)\n  local found = false\n'
        '  local function each(t, f) for _, v in ipairs(t) do f(v) end end\n'
        '  each({ 1 }, function(t) found = found or t == 1 end)\n  return found end }\n')
    result = warden("check", str(tmp_path))
    assert result.returncode == 1
    out = result.stdout.decode()
    assert "counter.lua:3: 'count' is declared at file level" in out
    assert "env.lua:2: _ENV cannot be assigned" in out
    assert "param.lua:2: _ENV cannot be redeclared" in out
    assert "factory.lua:4: 'n' belongs to a function that ran while the file loaded" in out
    assert "free.lua" not in out


def test_test_runs_the_example_tests_and_ends_with_the_count(warden):
    result = warden("test", "-c", CONFIG, POLICIES)
    assert result.returncode == 0, result.stdout
    assert result.stdout.decode().splitlines()[-1] == "22 passed, 0 failed"


def test_test_reports_a_failing_test_with_expected_and_actual(warden, tmp_path):
    (tmp_path / "a.lua").write_text('permit "everything" { }\n')
    (tmp_path / "a_test.lua").write_text(
        'test "nothing is allowed" { message = { action = "urn:x" }, expect = "deny" }\n'
        'test "everything is allowed" { message = { action = "urn:x" }, expect = "allow" }\n')
    result = warden("test", str(tmp_path))
    assert result.returncode == 1
    lines = result.stdout.decode().splitlines()
    assert lines[-1] == "1 passed, 1 failed"
    assert any("a_test.lua:1" in line and "expected deny, got allow" in line for line in lines)


def test_decide_json_follows_the_contract(warden):
    result = warden("decide", "--json", "-c", CONFIG, "--now", NOW, os.path.join(FIXTURES, "create-small.xml"),
                    os.path.join(FIXTURES, "create-large.xml"), os.path.join(FIXTURES, "create-tampered.xml"))
    assert result.returncode == 1
    small, large, tampered = [json.loads(line) for line in result.stdout.splitlines()]
    assert small == {"decision": "allow", "stage": "policy", "reason": "permitted",
                     "rules": ["payments clerks create small orders"], "errors": [],
                     "revision": small["revision"]}
    assert small["revision"].startswith("sha256:") and len(small["revision"]) == 71
    assert large["decision"] == "deny" and large["reason"] == "no-permit" and large["rules"] == []
    assert tampered["stage"] == "security" and tampered["reason"] == "digest-mismatch"


def test_decide_without_policies_is_a_usage_error(warden):
    result = warden("decide", "--now", NOW, os.path.join(FIXTURES, "create-small.xml"))
    assert result.returncode == 2
