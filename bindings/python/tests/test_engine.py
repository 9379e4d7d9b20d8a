"""Engine construction (keyword options, config files), errors, handle life cycle, callbacks,
status and reload, and the policy tooling (check, test)."""
import datetime as dt
import logging
import os

import pytest

import warden
from warden import _native
from conftest import POLICY, write_tree

NOW = "2026-11-25T12:00:30Z"


# --- options and config files -----------------------------------------------------------------

def test_keyword_options_map_to_dotted_config_keys():
    s = warden._settings
    assert s({"clock_ttl": 300, "clock_future_ttl": 60}) == [("clock.ttl", "300"),
                                                             ("clock.future_ttl", "60")]
    assert s({"clock": {"ttl": 300, "skew": 10}}) == [("clock.ttl", "300"), ("clock.skew", "10")]
    assert s({"algorithms_allow_sha1": True, "reload": {"watch": False}}) == [
        ("algorithms.allow_sha1", "true"), ("reload.watch", "false")]
    assert s({"trust": ["a.pem", "b.pem"], "certs": "c.pem"}) == [
        ("trust", "a.pem"), ("trust", "b.pem"), ("certs", "c.pem")]
    assert s({"require": {"signed": ["Body", "Timestamp"], "token": False}}) == [
        ("require.signed", "Body,Timestamp"), ("require.token", "false")]
    assert s({"require_signed": ("Body",)}) == [("require.signed", "Body")]
    assert s({"limits.memory": 1 << 20, "actor": None, "users": "u.txt"}) == [
        ("limits.memory", "1048576"), ("actor", ""), ("users", "u.txt")]
    assert s({"log_decisions": "d.jsonl", "replay_backend": "none"}) == [
        ("log.decisions", "d.jsonl"), ("replay.backend", "none")]
    assert s({"username_require_nonce": False}) == [("username.require_nonce", "false")]
    with pytest.raises(TypeError, match="clock.ttl"):
        s({"clock_ttl": object()})


def test_config_errors_name_the_key():
    with pytest.raises(warden.ConfigError) as info:
        warden.Engine(clock_ttl="soon")
    assert info.value.key == "clock.ttl" and "clock.ttl" in str(info.value)
    assert info.value.code == 4
    with pytest.raises(warden.ConfigError) as info:
        warden.Engine(colour="red")
    assert "colour" in str(info.value)
    with pytest.raises(warden.ConfigError) as info:
        warden.Engine(clock={"tll": 3})
    assert "clock.tll" in str(info.value)
    with pytest.raises(warden.ConfigError) as info:
        warden.Engine(replay={"backend": "floppy"})
    assert "replay.backend" in str(info.value)


def test_unreadable_files_raise_warden_io_error(tmp_path):
    with pytest.raises(warden.WardenIOError) as info:
        warden.Engine(users=str(tmp_path / "missing.txt"))
    assert isinstance(info.value, OSError) and info.value.code == 3
    with pytest.raises(warden.WardenIOError):
        warden.Engine(config=str(tmp_path / "missing.lua"))


def test_config_file_errors_raise_config_error(tmp_path):
    path = tmp_path / "bad.lua"
    path.write_text("return { clock = { ttl = 'soon' } }\n")
    with pytest.raises(warden.ConfigError, match="clock.ttl"):
        warden.Engine(config=str(path))


def test_policy_set_that_does_not_load_raises_policy_error(tmp_path):
    bad = write_tree(tmp_path / "bad", {"a.lua": 'permit "a" { colour = "red" }\n'})
    with pytest.raises(warden.PolicyError, match="colour"):
        warden.Engine(policies=bad, require_token=False)


def test_engine_from_a_config_file(tmp_path, pki, zeep):
    write_tree(tmp_path, {"policies/orders.lua": POLICY})
    for name in ("ca.pem", "users.txt"):
        with open(os.path.join(pki, name)) as src:
            (tmp_path / name).write_text(src.read())
    config = tmp_path / "warden.lua"
    config.write_text('return { trust = { "ca.pem" }, users = "users.txt", policies = "policies",\n'
                      '         clock = { ttl = 300 }, reload = { watch = false } }\n')
    with warden.Engine(config=str(config)) as e:
        with e.receive(zeep.signed(pki), now=NOW) as m:
            assert e.decide(m).allowed
        with e.receive(zeep.username("bob", "hunter2"), now=NOW) as m:
            assert m.username == "bob"
    # keywords override the file: a 10 s ttl makes the 30 s old message expire
    with warden.Engine(config=config, clock_ttl=10) as e:
        with pytest.raises(warden.SecurityRejected) as info:
            e.receive(zeep.signed(pki), now=NOW)
        assert info.value.reason == "timestamp-expired"


# --- handles --------------------------------------------------------------------------------------

def test_context_managers_and_close_free_handles(engine_options, zeep, pki):
    with warden.Engine(**engine_options) as e:
        with e.receive(zeep.signed(pki), now=NOW) as m:
            token = m.tokens[0]
            with e.decide(m) as d:
                assert d.allowed
            assert d.closed
            with pytest.raises(ValueError):
                d.reason
        assert m.closed
        for read in (lambda: m.action, lambda: m.body("amount"), lambda: m.tokens,
                     lambda: token.kind, lambda: e.decide(m)):
            with pytest.raises(ValueError, match="closed"):
                read()
        m.close()  # twice is fine
    assert e.closed
    with pytest.raises(ValueError, match="closed"):
        e.receive(zeep.signed(pki), now=NOW)
    with pytest.raises(ValueError, match="closed"):
        e.status()


def test_messages_keep_a_closed_engine_alive(engine_options, zeep, pki):
    e = warden.Engine(**engine_options)
    m = e.receive(zeep.signed(pki), now=NOW)
    e.close()
    # the C engine lives on while the message does; the message stays readable
    assert m.cert.subject["CN"] == "alice"
    with pytest.raises(ValueError):
        e.decide(m)
    del e
    assert m.body("amount") == "250"
    m.close()


def test_objects_are_made_only_by_the_engine():
    with pytest.raises(TypeError):
        warden.Message()
    with pytest.raises(TypeError):
        warden.Decision()


# --- callbacks ------------------------------------------------------------------------------------

def test_logger_receives_policy_log_lines(engine_options, zeep, pki):
    lines = []
    with warden.Engine(logger=lambda level, text: lines.append((level, text)),
                       **engine_options) as e:
        with e.receive(zeep.signed(pki), now=NOW, attrs={"client": "blocked"}) as m:
            assert not e.decide(m).allowed
    assert (logging.INFO, "policy: blocked urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e") in lines


def test_logging_logger_is_accepted(engine_options, zeep, pki, caplog):
    with caplog.at_level(logging.INFO, logger="warden-test"):
        with warden.Engine(logger=logging.getLogger("warden-test"), **engine_options) as e:
            with e.receive(zeep.signed(pki), now=NOW, attrs={"client": "blocked"}) as m:
                e.decide(m).close()
    assert any("policy: blocked" in r.getMessage() for r in caplog.records)


def test_password_lookup_from_python(pki, zeep):
    with warden.Engine(passwords={"dave": "pa55"}) as e:
        with e.receive(zeep.username("dave", "pa55"), now=NOW) as m:
            assert m.username == "dave"
        with pytest.raises(warden.SecurityRejected) as info:
            e.receive(zeep.username("dave", "wrong"), now=NOW)
        assert info.value.reason == "password-invalid"
        with pytest.raises(warden.SecurityRejected) as info:
            e.receive(zeep.username("erin", "x"), now=NOW)
        assert info.value.reason == "user-unknown"

    def lookup(user):
        if user == "boom":
            raise RuntimeError("the directory is down")
        return "s3" if user == "frank" else None
    with warden.Engine(users=os.path.join(pki, "users.txt"), passwords=lookup) as e:
        e.receive(zeep.username("frank", "s3", digest=False), now=NOW).close()
        e.receive(zeep.username("alice", "secret"), now=NOW).close()  # the users file first
        # a lookup that raises is a failed lookup: the message is never delivered
        with pytest.raises(warden.WardenError) as info:
            e.receive(zeep.username("boom", "x"), now=NOW)
        assert "boom" in str(info.value)


def test_username_tokens_need_nonce_and_created_unless_configured(pki, zeep):
    bare = zeep.username("alice", "secret", digest=False, bare=True)
    with warden.Engine(users=os.path.join(pki, "users.txt")) as e:
        with pytest.raises(warden.SecurityRejected) as info:
            e.receive(bare, now=NOW)
        assert info.value.reason == "timestamp-missing"
    with warden.Engine(users=os.path.join(pki, "users.txt"), username_require_nonce=False) as e:
        with e.receive(bare, now=NOW) as m:
            assert m.username == "alice"


# --- status and reload ----------------------------------------------------------------------------

def test_status(engine):
    st = engine.status()
    assert isinstance(st, warden.Status)
    assert st.revision.startswith("sha256:")
    assert isinstance(st.loaded_at, dt.datetime) and st.loaded_at.tzinfo is not None
    assert (st.reloads, st.reload_failures, st.last_error, st.last_error_at) == (0, 0, None, None)
    with warden.Engine() as bare:
        assert bare.status().revision is None


def test_reload(engine_options, policy_dir, zeep, pki):
    if _native.warden_engine_reload is None:
        pytest.skip("this libwarden has no warden_engine_reload yet")
    with warden.Engine(**engine_options) as e:
        first = e.status().revision
        with open(os.path.join(policy_dir, "orders.lua"), "a") as f:
            f.write('\npermit "anything goes" { action = "urn:example:orders/Cancel" }\n')
        e.reload()
        st = e.status()
        assert st.revision != first and st.reloads >= 1
        with e.receive(zeep.signed(pki, action="Cancel"), now=NOW) as m:
            assert e.decide(m).rules == ("anything goes",)
        with open(os.path.join(policy_dir, "orders.lua"), "a") as f:
            f.write('\npermit "broken" {\n')
        with pytest.raises(warden.PolicyError):
            e.reload()
        st2 = e.status()
        assert st2.revision == st.revision and st2.reload_failures >= 1 and st2.last_error


# --- policy tooling -------------------------------------------------------------------------------

def test_check_reports_findings(tmp_path):
    clean = write_tree(tmp_path / "clean", {"a.lua": POLICY})
    report = warden.check(clean)
    assert report.ok and report.problems == 0
    # its action targets are not required signed by the default config: warnings, not problems
    assert all(f.text.startswith("warning: ") for f in report.findings)
    bad = write_tree(tmp_path / "bad", {
        "a.lua": 'permit "a" { when = function(m) print("x") return true end }\n',
        "b.lua": 'permit "b" { colour = "red" }\n'})
    report = warden.check(bad)
    assert not report.ok and report.problems == len(report.findings) >= 2
    files = {f.file for f in report.findings}
    assert {"a.lua", "b.lua"} <= files
    assert any("print" in f.text for f in report.findings)
    assert any("colour" in f.text for f in report.findings)
    assert all(not f.ok for f in report.findings)
    assert str(report.findings[0]).startswith(report.findings[0].file)
    with pytest.raises(warden.WardenIOError):
        warden.check(str(tmp_path / "missing"))


def test_test_runs_policy_tests(tmp_path, source_dir):
    d = write_tree(tmp_path / "p", {
        "a.lua": 'permit "create" { action = "urn:example:orders/Create" }\n',
        "a_test.lua": ('test "create is allowed" { message = { action = "urn:example:orders/Create" }, expect = "allow" }\n'
                       'test "cancel is allowed" { message = { action = "urn:example:orders/Cancel" }, expect = "allow" }\n')})
    report = warden.test(d)
    assert (report.passed, report.failed, report.ok) == (1, 1, False)
    assert len(report.results) == 2
    (failure,) = report.failures
    assert failure.file == "a_test.lua" and failure.line == 2 and "cancel is allowed" in failure.text
    # the example set with its config (trust, users, clock for the envelope tests)
    report = warden.test(os.path.join(source_dir, "policies"),
                         config=os.path.join(source_dir, "examples", "orders.lua"))
    assert report.ok and report.passed >= 10, [str(f) for f in report.failures]
    with pytest.raises(warden.PolicyError):
        warden.test(write_tree(tmp_path / "broken", {"a.lua": 'permit "a" {\n'}))


# --- the library ----------------------------------------------------------------------------------

def test_library_is_the_one_asked_for():
    assert warden.library_version == "0.2.0"
    explicit = os.environ.get("WARDEN_LIBRARY")
    if explicit:
        assert warden.library_path == explicit
    assert warden.__version__ == "0.2.0"
