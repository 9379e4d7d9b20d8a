"""Times the `warden` command prints (warden_time_format): a delivered message can carry a time
outside the years 0001-9999 that the ISO-8601 form holds — a UsernameToken's Created may
have an offset, so 9999-12-31T23:59:59-14:00 is in the year 10000 — and printing it once
overflowed a 21-byte buffer. It now shows the nearest end of the range."""
import json
import os

from conftest import username_message


def _verify(warden, pki, tmp_path, created, nonce):
    message = tmp_path / "m.xml"
    message.write_bytes(username_message(nonce=nonce, created=created))
    result = warden("verify", "--json", "--users", os.path.join(pki, "users.txt"), "--now", created, str(message))
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_a_created_time_after_the_year_9999_prints_as_its_last_second(warden, pki, tmp_path):
    report = _verify(warden, pki, tmp_path, "9999-12-31T23:59:59-14:00", b"cli-time-latest-1")
    assert report["tokens"][0]["valid_from"] == "9999-12-31T23:59:59Z"


def test_a_created_time_before_the_year_1_prints_as_its_first_second(warden, pki, tmp_path):
    report = _verify(warden, pki, tmp_path, "0001-01-01T00:00:00+14:00", b"cli-time-earliest")
    assert report["tokens"][0]["valid_from"] == "0001-01-01T00:00:00Z"


def test_text_output_of_a_far_time_is_well_formed(warden, pki, tmp_path):
    message = tmp_path / "m.xml"
    created = "9999-12-31T23:59:59-14:00"
    message.write_bytes(username_message(nonce=b"cli-time-text-001", created=created))
    result = warden("verify", "--users", os.path.join(pki, "users.txt"), "--now", created, str(message))
    assert result.returncode == 0, result.stdout + result.stderr
    assert b"valid from  9999-12-31T23:59:59Z" in result.stdout


def test_years_with_fewer_than_four_digits_keep_four(warden, pki, tmp_path):
    report = _verify(warden, pki, tmp_path, "0999-06-01T12:00:00Z", b"cli-time-year-999")
    assert report["tokens"][0]["valid_from"] == "0999-06-01T12:00:00Z"
