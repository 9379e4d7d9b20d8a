#!/usr/bin/python3
"""Writes the example policy set's test envelopes (policies/fixtures/) with real clients:
python3-zeep signs (RSA-SHA256 over Body and Timestamp, the demo's client key) and zeep's
UsernameToken (PasswordDigest). Times are fixed at 2026-11-25T12:00:00Z so the tests can pin
their clock; the demo certificate is valid until 2035.

usage: examples/make_fixtures.py   (from the repository's top folder)
"""
import datetime
import hashlib
import os
import subprocess
import sys

from lxml import etree
from zeep.wsse.username import UsernameToken
from zeep.wsse.utils import WSU, get_security_header

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "policies", "fixtures")
CREATED = "2026-11-25T12:00:00Z"


def request(action, operation, fields):
    body = "".join(f"<ord:{k}>{v}</ord:{k}>" for k, v in fields)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://www.w3.org/2005/08/addressing">
  <soap:Header>
    <wsa:Action>urn:example:orders/{action}</wsa:Action>
    <wsa:To>https://orders.example.com/soap</wsa:To>
    <wsa:MessageID>urn:uuid:00000000-0000-4000-8000-{int(hashlib.sha256(repr((action, fields)).encode()).hexdigest(), 16) % 10**12:012d}</wsa:MessageID>
  </soap:Header>
  <soap:Body><ord:{operation} xmlns:ord="urn:example:orders">{body}</ord:{operation}></soap:Body>
</soap:Envelope>
"""


def signed(name, action, operation, fields):
    unsigned = os.path.join(OUT, name + ".unsigned")
    with open(unsigned, "w") as f:
        f.write(request(action, operation, fields))
    demo = os.path.join(HERE, "demo")
    subprocess.run([sys.executable, os.path.join(demo, "sign.py"), unsigned, os.path.join(demo, "client.key"),
                    os.path.join(demo, "client.pem"), os.path.join(OUT, name + ".xml"), CREATED], check=True)
    os.unlink(unsigned)


def username(name, action, operation, fields, user, password):
    envelope = etree.fromstring(request(action, operation, fields).encode())
    created = datetime.datetime.strptime(CREATED, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    UsernameToken(user, password, use_digest=True, created=created, zulu_timestamp=True).apply(envelope, {})
    security = get_security_header(envelope)
    expires = created + datetime.timedelta(minutes=5)
    security.append(WSU.Timestamp(WSU.Created(CREATED), WSU.Expires(expires.strftime("%Y-%m-%dT%H:%M:%SZ"))))
    with open(os.path.join(OUT, name + ".xml"), "wb") as f:
        f.write(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def main():
    os.makedirs(OUT, exist_ok=True)
    signed("create-small", "Create", "CreateOrder", [("customer", "ACME-1042"), ("amount", "250")])
    signed("create-large", "Create", "CreateOrder", [("customer", "ACME-1042"), ("amount", "25000")])
    signed("cancel", "Cancel", "CancelOrder", [("order", "A-77")])
    username("status-alice", "GetStatus", "GetStatus", [("order", "A-77")], "alice", "secret")
    username("create-by-password", "Create", "CreateOrder", [("customer", "ACME-1042"), ("amount", "10")],
             "alice", "secret")
    # a signed request whose amount was changed after signing
    with open(os.path.join(OUT, "create-small.xml"), "rb") as f:
        tampered = f.read().replace(b">250<", b">9999<")
    with open(os.path.join(OUT, "create-tampered.xml"), "wb") as f:
        f.write(tampered)


if __name__ == "__main__":
    main()
