"""How often an option may be given: every flag of the shared option parser (cli/options.c),
repeated far more often than any fixed table would hold, must still be parsed (the last value
wins for single-valued flags, lists grow) and never write past an array. A build with
AddressSanitizer fails these tests if one does."""
import json
import os

from conftest import NOW, username_message

MANY = 600  # more than the 256 settings the parser once kept on its stack


def _message(tmp_path, nonce):
    path = tmp_path / "m.xml"
    path.write_bytes(username_message(nonce=nonce))
    return str(path)


def test_allow_sha1_given_many_times_is_one_setting(warden, pki, tmp_path):
    message = _message(tmp_path, b"cli-count-sha1-01")
    result = warden("verify", "--json", *(["--allow-sha1"] * MANY), "--users", os.path.join(pki, "users.txt"),
                    "--now", NOW, message)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["delivered"] is True


def test_users_given_many_times_keeps_the_last(warden, pki, tmp_path):
    message = _message(tmp_path, b"cli-count-users-1")
    flags = ["--users", str(tmp_path / "missing.txt")] * MANY + ["--users", os.path.join(pki, "users.txt")]
    result = warden("verify", "--json", *flags, "--now", NOW, message)
    assert result.returncode == 0, result.stderr


def test_trust_given_many_times_adds_each_bundle(warden, pki, tmp_path):
    message = _message(tmp_path, b"cli-count-trust-1")
    flags = ["--trust", os.path.join(pki, "ca.pem")] * MANY
    result = warden("verify", "--json", *flags, "--users", os.path.join(pki, "users.txt"), "--now", NOW, message)
    assert result.returncode == 0, result.stderr


def test_every_list_flag_given_many_times_reaches_the_engine(warden, pki, tmp_path):
    # a missing file given last among many good ones is still read (and is an input error)
    for flag, good in (("--certs", "known.pem"), ("--crl", "crl-root.pem"), ("--trust", "ca.pem")):
        flags = [flag, os.path.join(pki, good)] * MANY + [flag, str(tmp_path / "missing.pem")]
        result = warden("verify", *flags, "x.xml")
        assert result.returncode == 2, flag
        assert b"missing.pem" in result.stderr, flag


def test_now_config_and_json_given_many_times(warden, pki, tmp_path):
    config = tmp_path / "warden.lua"
    config.write_text('return { users = "%s" }' % os.path.join(pki, "users.txt"))
    message = _message(tmp_path, b"cli-count-now-001")
    flags = ["--now", "2030-01-01T00:00:00Z"] * MANY + ["--now", NOW] + ["-c", str(config)] * MANY \
        + ["--json"] * MANY + ["--policies", str(tmp_path)] * MANY
    result = warden("verify", *flags, message)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["delivered"] is True


def test_many_messages_are_all_processed_in_order(warden, pki, tmp_path):
    message = _message(tmp_path, b"cli-count-many-01")
    result = warden("verify", "--json", "--users", os.path.join(pki, "users.txt"), "--now", NOW,
                    *([message] * MANY))
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == MANY
    assert lines[0]["delivered"] is True
    assert {line.get("reason") for line in lines[1:]} == {"replay"}


def test_policy_commands_parse_many_flags(warden, tmp_path):
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "p.lua").write_text('permit "all" { action = "urn:a" }\n')
    check = warden("check", *(["--allow-sha1"] * MANY), *(["--json"] * MANY), str(policies))
    assert check.returncode == 0, check.stdout + check.stderr
    test = warden("test", *(["--allow-sha1"] * MANY), str(policies))
    assert test.returncode == 0, test.stdout + test.stderr
    assert test.stdout.decode().splitlines()[-1] == "0 passed, 0 failed"


def test_unknown_option_after_many_flags_is_still_a_usage_error(warden):
    result = warden("verify", *(["--allow-sha1"] * MANY), "--frobnicate", "x.xml")
    assert result.returncode == 2
    assert b"unknown option" in result.stderr
