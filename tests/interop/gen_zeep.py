"""Message generator: WS-Security messages made by zeep (python3-zeep + python3-xmlsec).

zeep is driven without a WSDL: its wsse plugins take an lxml envelope and add the
Security header (``plugin.apply(envelope, headers)``), exactly as zeep's transport would
before sending. The only thing built here by hand is the wsu:Timestamp, so that its
Created time is fixed (zeep itself never adds a Timestamp).

Usable as a module (``generate(pki_dir, out_dir)`` -> {name: path}) and as a command:
    python3 gen_zeep.py PKI_DIR OUT_DIR   (the system python, which has the Debian packages)
"""
import base64
import datetime as dt
import os
import sys

from lxml import etree

import xmlsec
from zeep.wsse.signature import BinarySignature, Signature
from zeep.wsse.username import UsernameToken
from zeep.wsse.utils import WSSE, WSU, get_security_header, get_timestamp

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
WSA_NS = "http://www.w3.org/2005/08/addressing"

# The fixed clock of the zeep messages; tests verify with --now CREATED + 30 s.
CREATED = dt.datetime(2026, 11, 25, 12, 0, 0)
EXPIRES = CREATED + dt.timedelta(minutes=5)

ENVELOPE = """\
<soap:Envelope xmlns:soap="{soap_ns}" xmlns:wsa="{wsa_ns}">
  <soap:Header>
    <wsa:Action>urn:example:orders/Create</wsa:Action>
    <wsa:To>https://orders.example.com/soap</wsa:To>
    <wsa:MessageID>urn:uuid:{msgid}</wsa:MessageID>
  </soap:Header>
  <soap:Body>
    <ord:CreateOrder xmlns:ord="urn:example:orders"><ord:amount>250</ord:amount></ord:CreateOrder>
  </soap:Body>
</soap:Envelope>
"""


def zulu(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(soap_ns=SOAP11_NS, msgid="0f8fad5b-d9cb-469f-a165-70867728950e"):
    text = ENVELOPE.format(soap_ns=soap_ns, wsa_ns=WSA_NS, msgid=msgid)
    return etree.fromstring(text.encode())


def timestamp(created=CREATED, expires=EXPIRES):
    return WSU.Timestamp(WSU.Created(zulu(created)), WSU.Expires(zulu(expires)))


def signed(pki, name, plugin=BinarySignature, soap_ns=SOAP11_NS,
           signature_method=xmlsec.Transform.RSA_SHA256,
           digest_method=xmlsec.Transform.SHA256):
    """A message signed by zeep with NAME.key / NAME.pem, Body + Timestamp."""
    env = envelope(soap_ns)
    get_security_header(env).append(timestamp())
    kwargs = {}
    if signature_method is not None:
        kwargs["signature_method"] = signature_method
    if digest_method is not None:
        kwargs["digest_method"] = digest_method
    plugin(os.path.join(pki, name + ".key"), os.path.join(pki, name + ".pem"),
           **kwargs).apply(env, {})
    return env


class TextTokenWithNonce(UsernameToken):
    """zeep's PasswordText token with the Nonce and Created that zeep itself writes only for
    PasswordDigest (the UsernameToken profile allows both on either; Warden requires them by
    default, username.require_nonce). Built with zeep's own element makers."""

    def _create_password_text(self):
        nonce = os.urandom(16)  # as zeep makes the digest's nonce
        return super()._create_password_text() + [
            WSSE.Nonce(base64.b64encode(nonce).decode(),
                       EncodingType="%s#Base64Binary" % self.soap_message_secutity_ns),
            WSU.Created(get_timestamp(self.created, self.zulu_timestamp)),
        ]


def username(user, password, digest=True, zulu_ts=True, with_timestamp=True, bare=False):
    """A UsernameToken message; PasswordText carries Nonce and Created unless BARE (zeep's
    plain PasswordText token, which has neither)."""
    env = envelope()
    ts = timestamp() if with_timestamp else None
    token = UsernameToken if digest or bare else TextTokenWithNonce
    token(user, password, use_digest=digest, created=CREATED,
          zulu_timestamp=zulu_ts, timestamp_token=ts).apply(env, {})
    return env


def generate(pki, out):
    """Write every zeep message into OUT; return {name: path}."""
    E = xmlsec.Transform
    msgs = {
        # positives
        "zeep-binary-rsa": signed(pki, "alice"),
        "zeep-binary-ec": signed(pki, "ecuser", signature_method=E.ECDSA_SHA256),
        "zeep-x509data-rsa": signed(pki, "alice", plugin=Signature),
        "zeep-binary-soap12": signed(pki, "alice", soap_ns=SOAP12_NS),
        "zeep-ut-digest-zulu": username("alice", "secret", digest=True, zulu_ts=True),
        "zeep-ut-digest-offset": username("alice", "secret", digest=True, zulu_ts=False),
        "zeep-ut-text": username("alice", "secret", digest=False, with_timestamp=False),
        # zeep's defaults: rsa-sha1 / sha1
        "zeep-binary-sha1": signed(pki, "alice", signature_method=None, digest_method=None),
        # negatives made by the client itself
        "zeep-binary-mallory": signed(pki, "mallory"),
        "zeep-binary-expired-cert": signed(pki, "expired"),
        # certificates that chain to the trust anchor but may not sign, or are revoked
        "zeep-binary-root-ca": signed(pki, "ca"),
        "zeep-x509data-intermediate-ca": signed(pki, "intermediate", plugin=Signature),
        "zeep-binary-tls-server": signed(pki, "tls-server"),
        "zeep-binary-revoked": signed(pki, "revoked"),
        "zeep-ut-digest-wrong-password": username("alice", "not-the-secret", digest=True),
        "zeep-ut-text-wrong-password": username("alice", "not-the-secret", digest=False,
                                                with_timestamp=False),
        # zeep's own PasswordText token: no Nonce, no Created (replayable forever)
        "zeep-ut-text-bare": username("alice", "secret", digest=False, with_timestamp=False,
                                      bare=True),
        "zeep-ut-unknown-user": username("eve", "secret", digest=True),
    }
    os.makedirs(out, exist_ok=True)
    paths = {}
    for name, env in msgs.items():
        path = os.path.join(out, name + ".xml")
        with open(path, "wb") as f:
            f.write(etree.tostring(env))
        paths[name] = path
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: gen_zeep.py PKI_DIR OUT_DIR")
    for name, path in generate(sys.argv[1], sys.argv[2]).items():
        print(name, path)
