"""Times outside the years 0001-9999 in a delivered message: a UsernameToken's Created may carry
an offset, so 9999-12-31T23:59:59-14:00 is in the year 10000, which a datetime cannot hold.
The binding shows such a time as the last second of 9999 (as `warden verify` does) instead of
raising from a property read, and writes four-digit years."""
import base64
import hashlib
import os

import warden

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"


def username_message(created, nonce):
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + b"secret").digest()).decode()
    return f"""<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}"><soap:Header><wsse:Security><wsse:UsernameToken>
<wsse:Username>alice</wsse:Username><wsse:Password Type="{PROFILE}#PasswordDigest">{digest}</wsse:Password>
<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce><wsu:Created>{created}</wsu:Created>
</wsse:UsernameToken></wsse:Security></soap:Header>
<soap:Body><ord:CreateOrder xmlns:ord="urn:example:orders"><ord:amount>1</ord:amount></ord:CreateOrder></soap:Body>
</soap:Envelope>""".encode()


def _token(pki, created, nonce):
    with warden.Engine(users=os.path.join(pki, "users.txt")) as engine:
        with engine.receive(username_message(created, nonce), now=created) as message:
            token = message.tokens[0]
            return token.valid_from, token.to_dict()


def test_a_created_time_in_the_year_10000_reads_as_the_last_second_of_9999(pki):
    valid_from, facts = _token(pki, "9999-12-31T23:59:59-14:00", b"py-far-latest-001")
    assert (valid_from.year, valid_from.month, valid_from.day) == (9999, 12, 31)
    assert facts["valid_from"] == "9999-12-31T23:59:59Z"


def test_years_below_1000_keep_four_digits():
    # `now` must be after 1970 in this API, so no message can carry such a time here; the
    # writer is checked on its own
    import datetime
    t = datetime.datetime(999, 6, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
    assert warden._iso(t) == "0999-06-01T12:00:00Z"
