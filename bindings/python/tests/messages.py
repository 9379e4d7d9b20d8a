"""SOAP messages for the binding's tests, made at test time by zeep (python3-zeep +
python3-xmlsec), the way tests/interop/gen_zeep.py makes them: zeep's wsse plugins sign an
lxml envelope (``plugin.apply(envelope, headers)``) exactly as zeep's transport would before
sending; only the wsu:Timestamp is added by hand so that its Created time is fixed.
"""
import base64
import datetime as dt
import os

from lxml import etree

import xmlsec
from zeep.wsse.signature import BinarySignature
from zeep.wsse.username import UsernameToken
from zeep.wsse.utils import WSSE, WSU, get_security_header, get_timestamp

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
ORD = "urn:example:orders"

CREATED = dt.datetime(2026, 11, 25, 12, 0, 0)
EXPIRES = CREATED + dt.timedelta(minutes=5)
NOW = "2026-11-25T12:00:30Z"          # Created + 30 s
NOW_UNIX = 1795608030
HOUR_LATER = "2026-11-25T13:00:30Z"

ENVELOPE = """\
<soap:Envelope xmlns:soap="{soap}" xmlns:wsa="{wsa}">
  <soap:Header>
    <wsa:Action>urn:example:orders/{action}</wsa:Action>
    <wsa:To>https://orders.example.com/soap</wsa:To>
    <wsa:MessageID>urn:uuid:{msgid}</wsa:MessageID>
  </soap:Header>
  <soap:Body>
    <ord:{operation} xmlns:ord="urn:example:orders"><ord:amount>{amount}</ord:amount></ord:{operation}>
  </soap:Body>
</soap:Envelope>
"""

OPERATIONS = {"Create": "CreateOrder", "Cancel": "CancelOrder", "GetStatus": "GetStatus"}


def _zulu(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(action="Create", amount="250", soap=SOAP11,
             msgid="0f8fad5b-d9cb-469f-a165-70867728950e"):
    text = ENVELOPE.format(soap=soap, wsa=WSA, action=action, operation=OPERATIONS[action],
                           amount=amount, msgid=msgid)
    return etree.fromstring(text.encode())


def _timestamp():
    return WSU.Timestamp(WSU.Created(_zulu(CREATED)), WSU.Expires(_zulu(EXPIRES)))


def signed(pki, signer="alice", action="Create", amount="250", soap=SOAP11,
           msgid="0f8fad5b-d9cb-469f-a165-70867728950e"):
    """Bytes of a message signed by zeep (BinarySecurityToken, RSA-SHA256 or ECDSA-SHA256,
    SHA-256 digests) over Body and Timestamp with PKI/SIGNER.key."""
    env = envelope(action, amount, soap, msgid)
    get_security_header(env).append(_timestamp())
    method = xmlsec.Transform.ECDSA_SHA256 if signer == "ecuser" else xmlsec.Transform.RSA_SHA256
    BinarySignature(os.path.join(pki, signer + ".key"), os.path.join(pki, signer + ".pem"),
                    signature_method=method,
                    digest_method=xmlsec.Transform.SHA256).apply(env, {})
    return etree.tostring(env)


class _TextTokenWithNonce(UsernameToken):
    """zeep's PasswordText token plus the Nonce and Created zeep writes only for digests
    (Warden requires both by default: username.require_nonce)."""

    def _create_password_text(self):
        nonce = self.nonce.encode() if self.nonce else os.urandom(16)
        return super()._create_password_text() + [
            WSSE.Nonce(base64.b64encode(nonce).decode(),
                       EncodingType="%s#Base64Binary" % self.soap_message_secutity_ns),
            WSU.Created(get_timestamp(self.created, self.zulu_timestamp)),
        ]


def username(user="alice", password="secret", digest=True, action="Create", amount="250",
             nonce=None, bare=False):
    """Bytes of a message with a zeep UsernameToken (PasswordDigest or PasswordText, both with
    Nonce and Created, unless BARE: zeep's PasswordText token as is) and a Timestamp; zeep
    draws a random nonce unless NONCE (a str) is given."""
    env = envelope(action, amount)
    token = UsernameToken if digest or bare else _TextTokenWithNonce
    token(user, password, use_digest=digest, nonce=nonce, created=CREATED,
          zulu_timestamp=True, timestamp_token=_timestamp()).apply(env, {})
    return etree.tostring(env)


def plain(action="Create", amount="250"):
    """A message without any Security header."""
    return etree.tostring(envelope(action, amount))


def tamper_amount(data, amount="999999"):
    """Change the amount inside the signed Body."""
    root = etree.fromstring(data)
    node = root.find(".//{%s}amount" % ORD)
    node.text = amount
    return etree.tostring(root)
