"""`warden` and `warden verify`: version, help, exit codes, option handling, stdin, config."""
import json
import os

from conftest import NOW, username_message


def test_version_prints_the_version(warden):
    result = warden("--version")
    assert result.returncode == 0
    assert result.stdout.decode().startswith("warden 0.")


def test_help_lists_the_commands(warden):
    result = warden("--help")
    assert result.returncode == 0
    assert b"verify" in result.stdout


def test_verify_help_lists_its_options(warden):
    result = warden("verify", "--help")
    assert result.returncode == 0
    for flag in (b"--config", b"--trust", b"--certs", b"--users", b"--now", b"--allow-sha1", b"--json"):
        assert flag in result.stdout


def test_unknown_command_is_a_usage_error(warden):
    assert warden("frobnicate").returncode == 2


def test_unknown_flag_is_a_usage_error(warden):
    result = warden("verify", "--frobnicate", "x.xml")
    assert result.returncode == 2
    assert b"unknown option" in result.stderr


def test_flag_without_value_is_a_usage_error(warden):
    assert warden("verify", "x.xml", "--trust").returncode == 2


def test_bad_now_is_a_usage_error(warden):
    result = warden("verify", "--now", "yesterday", "x.xml")
    assert result.returncode == 2
    assert b"--now" in result.stderr


def test_no_message_is_a_usage_error(warden):
    assert warden("verify").returncode == 2


def test_unreadable_trust_bundle_is_an_input_error(warden, tmp_path):
    message = tmp_path / "m.xml"
    message.write_bytes(username_message())
    assert warden("verify", "--trust", str(tmp_path / "missing.pem"), str(message)).returncode == 2


def test_message_from_standard_input_is_delivered(warden, pki):
    result = warden("verify", "--json", "--users", os.path.join(pki, "users.txt"), "--now", NOW, "-",
                    stdin=username_message())
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["delivered"] is True
    assert report["username"] == "alice"
    assert report["protection"] == "none"
    assert report["tokens"] == [{"kind": "username", "role": "supporting", "key_type": "none",
                                 "valid_from": "2026-11-25T12:00:00Z",
                                 "username": {"name": "alice", "password_type": "digest"}}]
    assert "signed" in report and report["signed"] == []
    assert all(value is not None for value in report.values())


def test_config_file_supplies_users_and_flags_override_it(warden, pki, tmp_path):
    config = tmp_path / "warden.lua"
    config.write_text('return { users = "%s", clock = { ttl = 10 } }' % os.path.join(pki, "users.txt"))
    message = tmp_path / "m.xml"
    message.write_bytes(username_message(nonce=b"cli-nonce-config"))
    # ttl 10 s: a message created 30 s ago is stale
    stale = warden("verify", "--json", "-c", str(config), "--now", NOW, str(message))
    assert stale.returncode == 1
    assert json.loads(stale.stdout)["reason"] == "timestamp-expired"
    fresh = warden("verify", "--json", "-c", str(config), "--now", "2026-11-25T12:00:05Z", str(message))
    assert fresh.returncode == 0, fresh.stdout


def test_bad_config_file_is_a_usage_error_naming_the_key(warden, tmp_path):
    config = tmp_path / "warden.lua"
    config.write_text("return { clock = { tll = 10 } }")
    result = warden("verify", "-c", str(config), "x.xml")
    assert result.returncode == 2
    assert b"clock.tll" in result.stderr


def test_replay_across_arguments_is_rejected(warden, pki, tmp_path):
    message = tmp_path / "m.xml"
    message.write_bytes(username_message(nonce=b"cli-nonce-replay"))
    result = warden("verify", "--json", "--users", os.path.join(pki, "users.txt"), "--now", NOW,
                    str(message), str(message))
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["delivered"] for line in lines] == [True, False]
    assert lines[1]["reason"] == "replay"


def test_text_output_names_the_message_and_the_reason(warden, pki, tmp_path):
    message = tmp_path / "wrong.xml"
    message.write_bytes(username_message(password="guess", nonce=b"cli-nonce-wrong1"))
    result = warden("verify", "--users", os.path.join(pki, "users.txt"), "--now", NOW, str(message))
    assert result.returncode == 1
    assert b"wrong.xml: rejected: password-invalid" in result.stdout
