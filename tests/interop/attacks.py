"""The attacker's toolkit of test_attacks.py: a signed message as an lxml tree with handles on
its parts, and the ways to sign attacker-chosen structure.

An attack that only moves signed content keeps the client's signature. An attack that needs a
valid signature over structure the client never made (another transform, a Reference to
something else, an edited Timestamp) is re-signed, so that the verifier's answer can only come
from the rule under test, never from a broken signature:
  * resign()            python3-xmlsec computes every DigestValue and the SignatureValue, as
                        a careless verifier would recompute them (XPath, XSLT, base64, file:
                        URIs and all);
  * resign_manually()   for what no implementation can digest (an unknown transform, http:):
                        each DigestValue is the exc-c14n digest of the #id target, and the
                        SignatureValue is made here (sign_signed_info) over the final
                        SignedInfo, so the signature itself still verifies;
  * sign_signed_info()  a valid SignatureValue over the SignedInfo as it is, with any key (RSA,
                        EC, DSA, or an HMAC keyed with public certificate bytes).
test_attacks' controls check that each of these produces messages Warden delivers.
"""
import base64
import copy
import datetime as dt
import hashlib
import hmac

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa, utils
from cryptography.x509.oid import NameOID
from lxml import etree

from helpers import DS, SOAP11, SOAP12, WRAP, WSA, WSSE, WSU, WSU_ID  # noqa: F401

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_COMMENTS = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N11 = "http://www.w3.org/2006/12/xml-c14n11"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116"
XPATH2 = "http://www.w3.org/2002/06/xmldsig-filter2"
XSLT = "http://www.w3.org/TR/1999/REC-xslt-19991116"
BASE64 = "http://www.w3.org/2000/09/xmldsig#base64"
STR_TRANSFORM = ("http://docs.oasis-open.org/wss/2004/01/"
                 "oasis-200401-wss-soap-message-security-1.0#STR-Transform")

SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
MD5 = "http://www.w3.org/2001/04/xmldsig-more#md5"

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_MD5 = "http://www.w3.org/2001/04/xmldsig-more#rsa-md5"
RSA_PSS_SHA256 = "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
DSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#dsa-sha1"
DSA_SHA256 = "http://www.w3.org/2009/xmldsig11#dsa-sha256"
HMAC_SHA1 = "http://www.w3.org/2000/09/xmldsig#hmac-sha1"
HMAC_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"

X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
X509_PKIPATH = ("http://docs.oasis-open.org/wss/2004/01/"
                "oasis-200401-wss-x509-token-profile-1.0#X509PKIPathv1")
X509_SKI = ("http://docs.oasis-open.org/wss/2004/01/"
            "oasis-200401-wss-x509-token-profile-1.0#X509SubjectKeyIdentifier")
BASE64_BINARY = ("http://docs.oasis-open.org/wss/2004/01/"
                 "oasis-200401-wss-soap-message-security-1.0#Base64Binary")
MANIFEST_TYPE = "http://www.w3.org/2000/09/xmldsig#Manifest"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# xmlsec's name for each SignatureMethod / DigestMethod URI it can produce
XMLSEC_TRANSFORMS = {
    RSA_SHA256: xmlsec.Transform.RSA_SHA256, ECDSA_SHA256: xmlsec.Transform.ECDSA_SHA256,
    DSA_SHA1: xmlsec.Transform.DSA_SHA1, HMAC_SHA256: xmlsec.Transform.HMAC_SHA256,
    HMAC_SHA1: xmlsec.Transform.HMAC_SHA1, RSA_MD5: xmlsec.Transform.RSA_MD5,
}


def ds(local):
    return "{%s}%s" % (DS, local)


def b64(data):
    return base64.b64encode(data).decode()


def exc_c14n(element, prefixes=None):
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False,
                          inclusive_ns_prefixes=prefixes)


def zulu(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- keys ------------------------------------------------------------------------------------

class Key:
    """A signing key: PEM bytes of the private key and of its certificate (None for a bare
    key), and the cryptography objects."""

    def __init__(self, key_pem, cert_pem=None):
        self.key_pem, self.cert_pem = key_pem, cert_pem
        self.private = serialization.load_pem_private_key(key_pem, password=None)
        self.cert = x509.load_pem_x509_certificate(cert_pem) if cert_pem else None

    @property
    def cert_der(self):
        return self.cert.public_bytes(serialization.Encoding.DER)

    def xmlsec_key(self):
        return xmlsec.Key.from_memory(self.key_pem, xmlsec.KeyFormat.PEM)


class Keys:
    """The test PKI's keys by name, plus keys the attacker makes for himself."""

    def __init__(self, pki):
        self.pki = pki
        self._cache = {}

    def __getitem__(self, name):
        if name not in self._cache:
            with open("%s/%s.key" % (self.pki, name), "rb") as f:
                key_pem = f.read()
            with open("%s/%s.pem" % (self.pki, name), "rb") as f:
                cert_pem = f.read()
            self._cache[name] = Key(key_pem, cert_pem)
        return self._cache[name]

    def self_made(self, kind="rsa"):
        """A fresh key with a self-signed certificate whose subject and serial copy alice's."""
        cache_key = ("self", kind)
        if cache_key not in self._cache:
            if kind == "rsa":
                private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            elif kind == "dsa":
                private = dsa.generate_private_key(key_size=2048)
            else:
                private = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example"),
                              x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Payments"),
                              x509.NameAttribute(NameOID.COMMON_NAME, "alice")])
            cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                    .public_key(private.public_key()).serial_number(0x1E5)
                    .not_valid_before(dt.datetime(2025, 1, 1))
                    .not_valid_after(dt.datetime(2035, 1, 1))
                    .sign(private, hashes.SHA256()))
            key_pem = private.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption())
            self._cache[cache_key] = Key(key_pem, cert.public_bytes(serialization.Encoding.PEM))
        return self._cache[cache_key]


# --- the message under attack ----------------------------------------------------------------

class Msg:
    """One message as an lxml tree, with handles on the parts attacks touch."""

    def __init__(self, data):
        self.root = etree.fromstring(data)

    def bytes(self):
        return etree.tostring(self.root)

    @property
    def soap(self):
        return etree.QName(self.root).namespace

    @property
    def header(self):
        return self.root.find("{%s}Header" % self.soap)

    @property
    def body(self):
        return self.root.find("{%s}Body" % self.soap)

    @property
    def security(self):
        return self.header.find("{%s}Security" % WSSE)

    @property
    def signature(self):
        return self.security.find(ds("Signature"))

    @property
    def signed_info(self):
        return self.signature.find(ds("SignedInfo"))

    @property
    def key_info(self):
        return self.signature.find(ds("KeyInfo"))

    @property
    def timestamp(self):
        return self.security.find("{%s}Timestamp" % WSU)

    @property
    def bst(self):
        return self.security.find("{%s}BinarySecurityToken" % WSSE)

    def references(self):
        return self.signed_info.findall(ds("Reference"))

    def reference_to(self, element):
        uri = "#" + element.get(WSU_ID)
        for ref in self.references():
            if ref.get("URI") == uri:
                return ref
        raise AssertionError("no Reference to %s" % uri)

    def elements_with_id(self, value):
        return [e for e in self.root.iter() if isinstance(e.tag, str) and
                value in (e.get(WSU_ID), e.get("Id"), e.get("ID"), e.get("{%s}id" % XML_NS))]

    def wrapper(self, parent=None, index=None, **attrs):
        """A new empty <wrap:Wrapper> appended to PARENT (default: the Header)."""
        parent = self.header if parent is None else parent
        w = etree.Element("{%s}Wrapper" % WRAP, nsmap={"wrap": WRAP})
        for k, v in attrs.items():
            w.set(k, v)
        if index is None:
            parent.append(w)
        else:
            parent.insert(index, w)
        return w

    def evil_body(self, element_id=None, id_attr=WSU_ID):
        """A Body with the attacker's order (amount 1000000), optionally with an id."""
        evil = etree.Element("{%s}Body" % self.soap)
        order = etree.SubElement(evil, "{urn:example:orders}CreateOrder",
                                 nsmap={"ord": "urn:example:orders"})
        etree.SubElement(order, "{urn:example:orders}amount").text = "1000000"
        if element_id is not None:
            if id_attr == WSU_ID:
                evil.attrib[WSU_ID] = element_id
            else:
                evil.set(id_attr, element_id)
        return evil

    def replace_body(self, evil):
        """Take the signed Body out of the Envelope, put EVIL in its place; return the Body."""
        signed = self.body
        self.root.replace(signed, evil)
        return signed

    def set_times(self, created=None, expires=None, timestamp=None):
        ts = self.timestamp if timestamp is None else timestamp
        if created is not None:
            ts.find("{%s}Created" % WSU).text = created
        if expires is not None:
            ts.find("{%s}Expires" % WSU).text = expires

    def set_signature_method(self, uri):
        self.signed_info.find(ds("SignatureMethod")).set("Algorithm", uri)

    def set_bst_cert(self, der):
        self.bst.text = b64(der)


def new_reference(uri, transforms=(EXC_C14N,), digest=SHA256):
    """A ds:Reference with the given Transform Algorithms (or ready-made Transform elements),
    an empty DigestValue; uri=None leaves the URI attribute out."""
    ref = etree.Element(ds("Reference"))
    if uri is not None:
        ref.set("URI", uri)
    ts = etree.SubElement(ref, ds("Transforms"))
    for t in transforms:
        if isinstance(t, str):
            etree.SubElement(ts, ds("Transform"), Algorithm=t)
        else:
            ts.append(copy.deepcopy(t))  # the table's element stays reusable
    etree.SubElement(ref, ds("DigestMethod"), Algorithm=digest)
    etree.SubElement(ref, ds("DigestValue"))
    return ref


def transform(algorithm, *children):
    t = etree.Element(ds("Transform"), Algorithm=algorithm)
    for c in children:
        t.append(c)
    return t


def set_references(msg, refs):
    """Replace the SignedInfo's References by REFS (in order)."""
    si = msg.signed_info
    for ref in msg.references():
        si.remove(ref)
    for ref in refs:
        si.append(ref)


def give_id(element, value, attr=WSU_ID):
    element.set(attr, value)
    return value


# --- signing ---------------------------------------------------------------------------------

def _register_ids(ctx, msg):
    """Tell xmlsec which attribute is the ID of each element a Reference names ("#v" or
    "#xpointer(id('v'))"); the first element carrying the value is the one meant."""
    for ref in msg.references():
        uri = ref.get("URI") or ""
        value = None
        if uri.startswith("#xpointer(id('") and uri.endswith("'))"):
            value = uri[len("#xpointer(id('"):-3]
        elif uri.startswith("#") and not uri.startswith("#xpointer("):
            value = uri[1:]
        if not value:
            continue
        found = msg.elements_with_id(value)
        if not found:
            continue
        element = found[0]
        if element.get(WSU_ID) == value:
            ctx.register_id(element, "Id", WSU)
        elif element.get("Id") == value:
            ctx.register_id(element, "Id")
        elif element.get("ID") == value:
            ctx.register_id(element, "ID")


def resign(msg, key, method=None):
    """Recompute every DigestValue and the SignatureValue with python3-xmlsec. KeyInfo is
    left exactly as it is (xmlsec does not see it)."""
    sig = msg.signature
    if method is not None:
        msg.set_signature_method(method)
    key_info = sig.find(ds("KeyInfo"))
    if key_info is not None:
        sig.remove(key_info)
    ctx = xmlsec.SignatureContext()
    ctx.key = key if isinstance(key, xmlsec.Key) else key.xmlsec_key()
    _register_ids(ctx, msg)
    try:
        ctx.sign(sig)
    finally:
        if key_info is not None:
            sig.append(key_info)


def sign_signed_info(msg, key, method=None):
    """Put a valid SignatureValue over the canonical SignedInfo (exc-c14n, as
    CanonicalizationMethod says) made with KEY: a Key (its private key), or bytes (an HMAC
    key). METHOD defaults to the SignatureMethod in the message."""
    method = method or msg.signed_info.find(ds("SignatureMethod")).get("Algorithm")
    data = exc_c14n(msg.signed_info)
    if isinstance(key, bytes):
        digest = hashlib.sha1 if method == HMAC_SHA1 else hashlib.sha256
        value = hmac.new(key, data, digest).digest()
    else:
        private = key.private
        h = hashes.SHA1() if method in (DSA_SHA1,) else hashes.SHA256()
        if isinstance(private, rsa.RSAPrivateKey):
            pad = (padding.PSS(mgf=padding.MGF1(h), salt_length=32)
                   if method == RSA_PSS_SHA256 else padding.PKCS1v15())
            value = private.sign(data, pad, h)
        elif isinstance(private, ec.EllipticCurvePrivateKey):
            r, s = utils.decode_dss_signature(private.sign(data, ec.ECDSA(h)))
            size = (private.curve.key_size + 7) // 8
            value = r.to_bytes(size, "big") + s.to_bytes(size, "big")
        else:  # DSA: r || s of 32 bytes each (RFC 6931 for dsa-sha256 with a 2048-bit key)
            r, s = utils.decode_dss_signature(private.sign(data, h))
            value = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    msg.signature.find(ds("SignatureValue")).text = b64(value)


def resign_manually(msg, key):
    """Each #id Reference gets the SHA-256 of its target's exc-c14n (whatever its transforms
    say), then a valid SignatureValue over that SignedInfo."""
    for ref in msg.references():
        uri = ref.get("URI") or ""
        value = b64(b"\0" * 32)
        if uri.startswith("#") and len(uri) > 1 and not uri.startswith("#xpointer("):
            found = msg.elements_with_id(uri[1:])
            if found:
                value = b64(hashlib.sha256(exc_c14n(found[0])).digest())
        ref.find(ds("DigestValue")).text = value
    sign_signed_info(msg, key)
