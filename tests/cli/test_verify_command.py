"""`warden` and `warden verify`: version, help, exit codes, option handling, stdin, config."""
import json
import os

import pytest

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
    for flag in (b"--config", b"--trust", b"--certs", b"--crl", b"--users", b"--now", b"--allow-sha1",
                 b"--json"):
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


HOSTILE_CONFIGS = {
    # two 64 KiB strings of NULs compared in a loop: each comparison is one instruction
    "nul-comparison": ("local a, b = '\\0', '\\0'\nfor i = 1, 16 do a = a .. a; b = b .. b end\n"
                       "while true do local _ = a < b end", b"time limit exceeded"),
    "nul-comparison-2mb": ("local a, b = '\\0', '\\0'\nfor i = 1, 21 do a = a .. a; b = b .. b end\n"
                           "while true do local _ = a < b end", b"string limit exceeded"),
    "infinite-loop": ("while true do end", b"instruction limit exceeded"),
    "memory-bomb": ("local s = 'x' for i = 1, 15 do s = s .. s end\n"
                    "local t = {} for i = 1, 1e6 do t[i] = s .. i end", b"memory limit exceeded"),
    "rep-bomb": ("return { users = ('x'):rep(1e9) }", b"attempt to index a string value"),
    "deep-recursion": ("local function f(n) return 1 + f(n + 1) end return { clock = { ttl = f(1) } }",
                       b"stack overflow"),
    "huge-literal": ("return { users = '%s' }" % ("u" * 100000), b"string limit exceeded"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_CONFIGS))
def test_config_file_over_a_limit_is_a_usage_error_naming_the_file(warden, tmp_path, name):
    source, kind = HOSTILE_CONFIGS[name]
    config = tmp_path / "warden.lua"
    config.write_text(source)
    result = warden("verify", "-c", str(config), "x.xml")
    assert result.returncode == 2
    assert kind in result.stderr
    assert result.stderr.count(str(config).encode()) == 1, result.stderr


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


# --- --crl --------------------------------------------------------------------------------------

def with_token(message, pki, cert):
    """The UsernameToken message with an extra BinarySecurityToken holding PKI certificate CERT:
    no signature uses it. A token in the header is checked for trust, revocation included, as
    it is read; only a token that passes reaches the rule that an unused token proves nothing
    (unsigned-part), so the reason tells which check stopped the message."""
    with open(os.path.join(pki, cert)) as f:
        b64 = "".join(line.strip() for line in f if not line.startswith("-----"))
    token = ('<wsse:BinarySecurityToken ValueType="http://docs.oasis-open.org/wss/2004/01/'
             'oasis-200401-wss-x509-token-profile-1.0#X509v3">%s</wsse:BinarySecurityToken>' % b64)
    return message.replace(b"</wsse:UsernameToken>", b"</wsse:UsernameToken>" + token.encode())


def verify_with(warden, pki, path, *flags):
    result = warden("verify", "--json", "--trust", os.path.join(pki, "ca.pem"), "--certs",
                    os.path.join(pki, "known.pem"), "--users", os.path.join(pki, "users.txt"),
                    "--now", NOW, *flags, str(path))
    return result, json.loads(result.stdout) if result.stdout.strip() else None


def test_crl_flag_is_repeatable_and_revokes(warden, pki, tmp_path):
    message = tmp_path / "m.xml"
    message.write_bytes(with_token(username_message(nonce=b"cli-nonce-crl-01"), pki, "revoked.pem"))
    result, report = verify_with(warden, pki, message)
    assert result.returncode == 1 and report["reason"] == "unsigned-part", result.stdout
    result, report = verify_with(warden, pki, message, "--crl", os.path.join(pki, "crl-root.pem"),
                                 "--crl", os.path.join(pki, "crl-intermediate.pem"))
    assert result.returncode == 1
    assert report["reason"] == "cert-revoked"
    assert "CN=revoked" in report["detail"]


def test_crl_flag_adds_to_the_config_files_crls(warden, pki, tmp_path):
    # bob's chain needs the issuing CA's CRL (from the file) and the root's (from the flag)
    config = tmp_path / "warden.lua"
    config.write_text('return { crls = { "%s" } }' % os.path.join(pki, "crl-intermediate.pem"))
    message = tmp_path / "m.xml"
    message.write_bytes(with_token(username_message(nonce=b"cli-nonce-crl-02"), pki, "bob.pem"))
    root_crl = os.path.join(pki, "crl-root.pem")
    result, report = verify_with(warden, pki, message, "--crl", root_crl)
    assert result.returncode == 1 and report["reason"] == "cert-untrusted", result.stdout
    assert "revocation status unknown" in report["detail"]
    result, report = verify_with(warden, pki, message, "-c", str(config), "--crl", root_crl)
    assert result.returncode == 1 and report["reason"] == "unsigned-part", result.stdout


def test_bad_crl_files_are_input_errors(warden, pki, tmp_path):
    message = tmp_path / "m.xml"
    message.write_bytes(username_message(nonce=b"cli-nonce-crl-03"))
    assert warden("verify", message.as_posix(), "--crl").returncode == 2
    result, _ = verify_with(warden, pki, message, "--crl", str(tmp_path / "missing.pem"))
    assert result.returncode == 2 and b"missing.pem" in result.stderr
    result, _ = verify_with(warden, pki, message, "--crl", os.path.join(pki, "ca.pem"))
    assert result.returncode == 2 and b"no CRL" in result.stderr
    result, _ = verify_with(warden, pki, message, "--crl", os.path.join(pki, "crl-root-forged.pem"))
    assert result.returncode == 2 and b"does not verify" in result.stderr


def test_unknown_eku_purpose_is_a_usage_error_naming_it(warden, tmp_path):
    config = tmp_path / "warden.lua"
    config.write_text('return { trust = { eku = { "clientAuth", "clientAuthentication" } } }')
    message = tmp_path / "m.xml"
    message.write_bytes(username_message(nonce=b"cli-nonce-eku-01"))
    result = warden("verify", "-c", str(config), str(message))
    assert result.returncode == 2
    assert b"trust.eku[2]" in result.stderr and b"clientAuthentication" in result.stderr
