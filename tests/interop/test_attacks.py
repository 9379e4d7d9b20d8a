"""The attack table: classic attacks on WS-Security verifiers, each made at test time from a
message python3-zeep signed, each REJECTED by `warden verify --json` with its reason code.

Families: XML signature wrapping (McIntosh & Austel 2005; Somorovsky et al. 2011/2012), duplicate
IDs, transforms, Reference URIs, KeyInfo, algorithm confusion, timestamp edges. Where an attack
needs a valid signature over structure the client never made, the toolkit (attacks.py) re-signs
it with python3-xmlsec (or, for what nobody can digest, signs SignedInfo itself), so that the
rejection comes from the rule under test and not from a broken signature. The controls at the
end prove that the re-signing itself yields messages Warden delivers.

Each variant is one row: id, expected reason, the zeep message it starts from, and a builder
that edits the message in place. A row whose attack is DELIVERED is a hole: it is marked
xfail(strict=True) with what the verifier does (`hole=`), until it is fixed. For the rows in
XMLSEC1_VERIFIES the test also checks that xmlsec1 accepts the signature: a verifier that only
checks signatures would deliver those. Beyond the zeep generator's packages this needs
python3-cryptography (the attacker's own keys and certificates).
"""
import os

import pytest

import attacks as A
import helpers
from attacks import WRAP, WSA, WSSE, WSU, WSU_ID, ds

RSA = "zeep-binary-rsa"
SOAP12 = "zeep-binary-soap12"
EC = "zeep-binary-ec"
X509DATA = "zeep-x509data-rsa"

# Signed WS-Addressing headers are required only when the configuration says so.
REQUIRE_WSA = 'return { require = { signed = { "Body", "Timestamp", "Action", "To" } } }\n'


class Kit:
    """What a builder gets besides the message: the PKI's keys and a scratch folder."""

    def __init__(self, pki, tmp):
        self.pki, self.tmp = pki, tmp
        self.keys = A.Keys(pki)

    @property
    def alice(self):
        return self.keys["alice"]


class Attack:
    def __init__(self, id, reason, build, base=RSA, now=helpers.NOW, config=None, hole=None):
        self.id, self.reason, self.build, self.base = id, reason, build, base
        self.now, self.config, self.hole = now, config, hole


TABLE = []


def attack(id, reason, base=RSA, now=helpers.NOW, config=None, hole=None):
    def register(build):
        TABLE.append(Attack(id, reason, build, base, now, config, hole))
        return build
    return register


# === XML signature wrapping ===================================================================
# The signed element keeps its Id and digest wherever it goes; what counts is whether the
# element at the canonical place (the Envelope's Body, the Security header's Timestamp) is the
# one a Reference verified. The numbers group the shapes (they follow the usual XSW lists
# loosely, not one paper's numbering): 1 the signed Body in a header wrapper, 2 the signed Body
# as a header block, 3 in a wrapper inside Security, 4 inside the Signature (ds:Object), 5
# inside the evil Body, 6 a second Body or a Body out of place, 7 the evil Body takes or shares
# the Id, 8 the evil Body brings an Id of its own.

def _body_into_header_wrapper(m, k, **wrapper_attrs):
    signed = m.replace_body(m.evil_body())
    m.wrapper(**wrapper_attrs).append(signed)


for _base, _suffix in ((RSA, "soap11"), (SOAP12, "soap12")):
    attack("xsw1-body-in-header-wrapper-" + _suffix, "unsigned-part", base=_base)(
        _body_into_header_wrapper)


@attack("xsw1-body-in-ignorable-header-wrapper", "unsigned-part")
def _(m, k):
    # a wrapper the receiver is told it may ignore (another actor, mustUnderstand 0)
    _body_into_header_wrapper(m, k, **{"{%s}actor" % A.SOAP11: "urn:example:elsewhere",
                                      "{%s}mustUnderstand" % A.SOAP11: "0"})


@attack("xsw2-signed-body-as-header", "unsigned-part")
def _(m, k):
    # the signed Body itself becomes a header block (a soap:Body element inside the Header)
    m.header.append(m.replace_body(m.evil_body()))


for _base, _suffix in ((RSA, "soap11"), (SOAP12, "soap12")):
    @attack("xsw3-body-in-security-wrapper-" + _suffix, "token-unsupported", base=_base)
    def _(m, k):
        m.wrapper(parent=m.security).append(m.replace_body(m.evil_body()))


@attack("xsw4-body-in-signature-object", "reference-invalid")
def _(m, k):
    obj = A.etree.SubElement(m.signature, ds("Object"))
    obj.append(m.replace_body(m.evil_body()))


for _base, _suffix in ((RSA, "soap11"), (SOAP12, "soap12")):
    @attack("xsw5-body-inside-evil-body-" + _suffix, "unsigned-part", base=_base)
    def _(m, k):
        evil = m.evil_body()
        wrapper = A.etree.SubElement(evil, "{%s}Wrapper" % WRAP, nsmap={"wrap": WRAP})
        wrapper.append(m.replace_body(evil))


for _base, _suffix in ((RSA, "soap11"), (SOAP12, "soap12")):
    @attack("xsw6-second-body-" + _suffix, "not-soap", base=_base)
    def _(m, k):
        # evil Body first, the signed one after it: "the Body" is ambiguous
        m.root.insert(m.root.index(m.body), m.evil_body())


@attack("xsw6-signed-body-after-evil-body-in-wrapper", "not-soap")
def _(m, k):
    signed = m.replace_body(m.evil_body())
    m.wrapper(parent=m.root).append(signed)


@attack("xsw7-evil-body-steals-the-id", "digest-mismatch")
def _(m, k):
    # the evil Body takes the Id; the signed Body, moved into a wrapper, loses it
    signed = m.body
    body_id = signed.get(WSU_ID)
    m.replace_body(m.evil_body(body_id))
    del signed.attrib[WSU_ID]
    m.wrapper().append(signed)


@attack("xsw7-evil-body-shares-the-id", "duplicate-id")
def _(m, k):
    signed = m.body
    m.replace_body(m.evil_body(signed.get(WSU_ID)))
    m.wrapper().append(signed)


@attack("xsw8-evil-body-with-its-own-id-reference-unchanged", "unsigned-part")
def _(m, k):
    m.wrapper().append(m.replace_body(m.evil_body("id-evil")))


@attack("xsw-second-security-header", "security-header-duplicate")
def _(m, k):
    # a second Security header for us, holding the evil signer's material
    m.header.append(A.etree.fromstring(A.etree.tostring(m.security)))


@attack("xsw-timestamp-wrapped-fresh-evil-timestamp", "unsigned-part", now=helpers.HOUR_LATER)
def _(m, k):
    # replay an hour later: the signed (stale) Timestamp moves into a wrapper header and an
    # unsigned fresh one takes its place
    signed = m.timestamp
    index = m.security.index(signed)
    m.security.remove(signed)
    m.wrapper().append(signed)
    fresh = A.etree.Element("{%s}Timestamp" % WSU, nsmap={"wsu": WSU})
    A.etree.SubElement(fresh, "{%s}Created" % WSU).text = "2026-11-25T13:00:00Z"
    A.etree.SubElement(fresh, "{%s}Expires" % WSU).text = "2026-11-25T13:05:00Z"
    m.security.insert(index, fresh)


@attack("xsw-timestamp-wrapped-inside-security", "token-unsupported", now=helpers.HOUR_LATER)
def _(m, k):
    signed = m.timestamp
    m.security.remove(signed)
    m.wrapper(parent=m.security).append(signed)


def _sign_wsa(m, k):
    """Re-sign with Action and To covered as well (as WSS4J clients do)."""
    refs = [A.new_reference("#" + A.give_id(h, "id-" + A.etree.QName(h).localname))
            for h in (m.header.find("{%s}Action" % WSA), m.header.find("{%s}To" % WSA))]
    for r in refs:
        m.signed_info.append(r)
    A.resign(m, k.alice)


@attack("xsw-wsa-action-wrapped", "unsigned-part", config=REQUIRE_WSA)
def _(m, k):
    _sign_wsa(m, k)
    signed = m.header.find("{%s}Action" % WSA)
    evil = A.etree.Element("{%s}Action" % WSA)
    evil.text = "urn:example:orders/DeleteAll"
    m.header.replace(signed, evil)
    m.wrapper().append(signed)


@attack("xsw-wsa-to-wrapped-soap12", "unsigned-part", base=SOAP12, config=REQUIRE_WSA)
def _(m, k):
    _sign_wsa(m, k)
    signed = m.header.find("{%s}To" % WSA)
    evil = A.etree.Element("{%s}To" % WSA)
    evil.text = "https://evil.example.com/soap"
    m.header.replace(signed, evil)
    m.wrapper().append(signed)


@attack("xsw-wsa-to-second-unsigned-copy", "malformed", config=REQUIRE_WSA)
def _(m, k):
    _sign_wsa(m, k)
    evil = A.etree.Element("{%s}To" % WSA)
    evil.text = "https://evil.example.com/soap"
    m.header.insert(0, evil)


@attack("xsw-signature-moved-out-of-security", "security-header-missing")
def _(m, k):
    # a signature anywhere but in our Security header signs nothing for us
    sig = m.signature
    m.security.remove(sig)
    m.wrapper().append(sig)


@attack("xsw-signature-covers-only-the-timestamp", "unsigned-part")
def _(m, k):
    # a real signer's signature over the Timestamp alone, then any Body the attacker likes
    m.signed_info.remove(m.reference_to(m.body))
    A.resign(m, k.alice)
    m.replace_body(m.evil_body())


@attack("xsw-evil-body-in-the-other-soap-namespace", "not-soap")
def _(m, k):
    # a SOAP 1.2 Body in a SOAP 1.1 Envelope, ahead of the signed one
    evil = m.evil_body()
    evil.tag = "{%s}Body" % A.SOAP12
    m.root.insert(m.root.index(m.body), evil)


@attack("xsw-wsa-action-comment-injection", "malformed", config=REQUIRE_WSA)
def _(m, k):
    # exc-c14n drops comments, so the signature still holds over "urn:example:orders/Create";
    # a reader that stops at the first text node would see "urn:example:orders/"
    _sign_wsa(m, k)
    action = m.header.find("{%s}Action" % WSA)
    action.text = "urn:example:orders/"
    comment = A.etree.Comment("x")
    comment.tail = "Create"
    action.append(comment)


# === Duplicate IDs ============================================================================
# One ID namespace over wsu:Id, Id, ID and xml:id; a repeated value is refused before any
# Reference is resolved. Lookalikes that are no ID at all leave the evil element unsigned.

def _extra_header(m, attr, value):
    extra = A.etree.SubElement(m.header, "{%s}Extra" % WRAP, nsmap={"wrap": WRAP})
    extra.set(attr, value)
    return extra


@attack("dup-id-plain-id-on-evil-body", "duplicate-id")
def _(m, k):
    signed = m.body
    m.replace_body(m.evil_body(signed.get(WSU_ID), id_attr="Id"))
    m.wrapper().append(signed)


@attack("dup-id-xml-id-in-header", "duplicate-id")
def _(m, k):
    _extra_header(m, "{%s}id" % A.XML_NS, m.body.get(WSU_ID))


@attack("dup-id-upper-case-ID-in-header", "duplicate-id")
def _(m, k):
    _extra_header(m, "ID", m.body.get(WSU_ID))


@attack("dup-id-on-the-envelope", "duplicate-id")
def _(m, k):
    m.root.set(WSU_ID, m.body.get(WSU_ID))


@attack("dup-id-timestamp-id-in-body-soap12", "duplicate-id", base=SOAP12)
def _(m, k):
    m.body.set("Id", m.timestamp.get(WSU_ID))


@attack("dup-id-bst-id-on-a-second-token-outside-security", "duplicate-id")
def _(m, k):
    copy = A.etree.fromstring(A.etree.tostring(m.bst))
    m.wrapper().append(copy)


@attack("dup-id-wsu-id-and-id-on-one-element", "duplicate-id")
def _(m, k):
    m.body.set("Id", m.body.get(WSU_ID))


@attack("dup-id-foreign-namespace-id-on-evil-body", "unsigned-part")
def _(m, k):
    # {urn:evil}Id is no ID: the Reference still finds the wrapped original
    signed = m.body
    m.replace_body(m.evil_body(signed.get(WSU_ID), id_attr="{urn:example:evil}Id"))
    m.wrapper().append(signed)


@attack("dup-id-lookalike-wsu-1.1-namespace-on-evil-body", "unsigned-part")
def _(m, k):
    lookalike = WSU.replace("1.0.xsd", "1.1.xsd")
    signed = m.body
    m.replace_body(m.evil_body(signed.get(WSU_ID), id_attr="{%s}Id" % lookalike))
    m.wrapper().append(signed)


@attack("dup-id-lower-case-id-on-evil-body", "unsigned-part")
def _(m, k):
    signed = m.body
    m.replace_body(m.evil_body(signed.get(WSU_ID), id_attr="id"))
    m.wrapper().append(signed)


@attack("dup-id-whitespace-padded-on-evil-body", "unsigned-part")
def _(m, k):
    signed = m.body
    m.replace_body(m.evil_body(" %s " % signed.get(WSU_ID)))
    m.wrapper().append(signed)


@attack("dup-id-whitespace-padded-reference-uri", "reference-invalid")
def _(m, k):
    ref = m.reference_to(m.body)
    ref.set("URI", "# %s" % ref.get("URI")[1:])
    A.resign_manually(m, k.alice)


# === Transforms ===============================================================================
# Only exc-c14n (last) and enveloped-signature are accepted; everything else is refused before
# any digest is computed, even though xmlsec made a signature over it that verifies.

def _body_transforms(*transforms, manual=False):
    def build(m, k):
        ref = m.reference_to(m.body)
        m.signed_info.replace(ref, A.new_reference(ref.get("URI"), transforms))
        if manual:
            A.resign_manually(m, k.alice)
        else:
            A.resign(m, k.alice)
    return build


def _xpath(expression):
    x = A.etree.Element(ds("XPath"))
    x.text = expression
    return A.transform(A.XPATH, x)


def _xpath2(expression):
    x = A.etree.Element("{%s}XPath" % A.XPATH2, nsmap={"f": A.XPATH2}, Filter="intersect")
    x.text = expression
    return A.transform(A.XPATH2, x)


def _xslt():
    xsl = "http://www.w3.org/1999/XSL/Transform"
    sheet = A.etree.Element("{%s}stylesheet" % xsl, nsmap={"xsl": xsl}, version="1.0")
    template = A.etree.SubElement(sheet, "{%s}template" % xsl, match="/")
    A.etree.SubElement(template, "{%s}copy-of" % xsl, select=".")
    return A.transform(A.XSLT, sheet)


attack("transform-xpath", "reference-invalid")(
    _body_transforms(_xpath("not(ancestor-or-self::*[local-name()='Signature'])"), A.EXC_C14N))
attack("transform-xpath-filter-2.0", "reference-invalid")(
    _body_transforms(_xpath2("//*[local-name()='Body']"), A.EXC_C14N))
attack("transform-xslt", "reference-invalid")(
    _body_transforms(_xslt(), A.EXC_C14N, manual=True))
attack("transform-inclusive-c14n", "reference-invalid")(_body_transforms(A.C14N))
attack("transform-c14n-1.1", "reference-invalid")(_body_transforms(A.C14N11))
attack("transform-exc-c14n-with-comments", "reference-invalid")(
    _body_transforms(A.EXC_C14N_COMMENTS))
attack("transform-unknown-uri", "reference-invalid")(
    _body_transforms("urn:example:evil-transform", A.EXC_C14N, manual=True))
attack("transform-str-transform", "reference-invalid")(
    _body_transforms(A.STR_TRANSFORM, A.EXC_C14N, manual=True))
attack("transform-without-algorithm", "reference-invalid")(
    _body_transforms(A.etree.Element(ds("Transform")), A.EXC_C14N, manual=True))
attack("transform-exc-c14n-not-last", "reference-invalid")(
    _body_transforms(A.EXC_C14N, A.ENVELOPED, manual=True))
# Eight transforms is over both the built-in limit of 5 (reference-invalid) and the default of
# the limits.transforms key (4, limit-exceeded) that secure validation brings.
attack("transform-too-many", ("reference-invalid", "limit-exceeded"))(
    _body_transforms(*([A.ENVELOPED] * 7 + [A.EXC_C14N])))
attack("transform-enveloped-with-parameters", "reference-invalid")(
    _body_transforms(A.transform(A.ENVELOPED, A.etree.Element("{urn:example:evil}p")),
                     A.EXC_C14N, manual=True))


@attack("transform-base64-of-the-token", "reference-invalid")
def _(m, k):
    # digest the BinarySecurityToken's decoded bytes instead of its XML
    m.signed_info.append(A.new_reference("#" + m.bst.get(WSU_ID), (A.BASE64,)))
    A.resign(m, k.alice)


@attack("transform-enveloped-hides-an-injected-signature", "digest-mismatch")
def _(m, k):
    # signed with [enveloped, exc-c14n] on the Body, then a ds:Signature element is slipped into
    # the Body: only the Signature being verified may be cut out, never another one
    _body_transforms(A.ENVELOPED, A.EXC_C14N)(m, k)
    injected = A.etree.fromstring(A.etree.tostring(m.signature))
    m.body.find("{urn:example:orders}CreateOrder").append(injected)


@attack("transform-inclusive-c14n-for-signedinfo", "signature-invalid")
def _(m, k):
    m.signed_info.find(ds("CanonicalizationMethod")).set("Algorithm", A.C14N)
    A.resign(m, k.alice)


@attack("transform-c14n-with-comments-for-signedinfo", "signature-invalid")
def _(m, k):
    m.signed_info.find(ds("CanonicalizationMethod")).set("Algorithm", A.EXC_C14N_COMMENTS)
    A.resign(m, k.alice)


# === Reference URIs ===========================================================================

def _body_uri(uri, via_xmlsec=False):
    def build(m, k):
        ref = m.reference_to(m.body)
        ref.set("URI", uri)
        if via_xmlsec:
            A.resign(m, k.alice)
        else:
            A.resign_manually(m, k.alice)
    return build


attack("uri-external-http", "reference-invalid")(
    _body_uri("http://attacker.example/body.xml"))
@attack("uri-external-file", "reference-invalid")
def _(m, k):
    # xmlsec fetches and digests the file: a verifier that resolves file: URIs would accept it
    evil = k.tmp / "evil-body.xml"
    evil.write_bytes(A.etree.tostring(m.evil_body()))
    _body_uri(evil.as_uri(), via_xmlsec=True)(m, k)
attack("uri-relative-document", "reference-invalid")(_body_uri("body.xml#id-body"))
attack("uri-xpointer-root", "reference-invalid")(_body_uri("#xpointer(/)"))
attack("uri-unknown-id", "reference-invalid")(_body_uri("#id-nowhere"))
attack("uri-fragment-only", "reference-invalid")(_body_uri("#"))


@attack("uri-empty-whole-document", "reference-invalid")
def _(m, k):
    ref = m.reference_to(m.body)
    m.signed_info.replace(ref, A.new_reference("", (A.ENVELOPED, A.EXC_C14N)))
    A.resign(m, k.alice)


@attack("uri-xpointer-id", "reference-invalid")
def _(m, k):
    _body_uri("#xpointer(id('%s'))" % m.body.get(WSU_ID), via_xmlsec=True)(m, k)


@attack("uri-without-uri-attribute", "reference-invalid")
def _(m, k):
    del m.reference_to(m.body).attrib["URI"]
    A.resign_manually(m, k.alice)


@attack("uri-manifest-type", "reference-invalid")
def _(m, k):
    m.reference_to(m.body).set("Type", A.MANIFEST_TYPE)
    A.resign(m, k.alice)


@attack("uri-to-the-signature-itself", "reference-invalid")
def _(m, k):
    m.signed_info.append(A.new_reference("#" + A.give_id(m.signature, "id-sig")))
    A.resign_manually(m, k.alice)


@attack("uri-to-signedinfo", "reference-invalid")
def _(m, k):
    m.signed_info.append(A.new_reference("#" + A.give_id(m.signed_info, "id-si", "Id")))
    A.resign_manually(m, k.alice)


@attack("uri-to-the-keyinfo-token-reference", "reference-invalid")
def _(m, k):
    strf = m.key_info.find("{%s}SecurityTokenReference" % WSSE)
    m.signed_info.append(A.new_reference("#" + A.give_id(strf, "id-str")))
    A.resign_manually(m, k.alice)


@attack("uri-to-an-element-outside-header-and-body", "not-soap")
def _(m, k):
    outside = m.wrapper(parent=m.root)
    A.etree.SubElement(outside, "{urn:example:orders}note").text = "signed, but where?"
    m.signed_info.append(A.new_reference("#" + A.give_id(outside, "id-outside")))
    A.resign(m, k.alice)


@attack("uri-to-the-envelope-enveloped", "unsigned-part")
def _(m, k):
    # the whole Envelope is signed (enveloped), not the Body at its place: "signed" names
    # parts by node identity, so Body and Timestamp are not covered
    A.give_id(m.root, "id-envelope")
    A.set_references(m, [A.new_reference("#id-envelope", (A.ENVELOPED, A.EXC_C14N))])
    A.resign(m, k.alice)


# === KeyInfo ==================================================================================

def _str(*children):
    strf = A.etree.Element("{%s}SecurityTokenReference" % WSSE, nsmap={"wsse": WSSE})
    for c in children:
        strf.append(c)
    return strf


def _set_key_info(m, *children):
    ki = m.key_info
    for c in list(ki):
        ki.remove(c)
    for c in children:
        ki.append(c)


def _x509data(der):
    data = A.etree.Element(ds("X509Data"))
    A.etree.SubElement(data, ds("X509Certificate")).text = A.b64(der)
    return data


def _wsse_reference(uri, value_type=A.X509V3):
    return A.etree.Element("{%s}Reference" % WSSE, URI=uri, ValueType=value_type)


@attack("keyinfo-keyvalue-self-made-key", "token-unsupported")
def _(m, k):
    evil = k.keys.self_made("rsa")
    numbers = evil.private.public_key().public_numbers()
    kv = A.etree.Element(ds("KeyValue"))
    rsa_kv = A.etree.SubElement(kv, ds("RSAKeyValue"))
    A.etree.SubElement(rsa_kv, ds("Modulus")).text = A.b64(
        numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big"))
    A.etree.SubElement(rsa_kv, ds("Exponent")).text = A.b64(numbers.e.to_bytes(3, "big"))
    _set_key_info(m, kv)
    m.body.find(".//{urn:example:orders}amount").text = "1000000"
    A.resign(m, evil)


@attack("keyinfo-x509data-attacker-cert-without-str", "token-unsupported", base=X509DATA)
def _(m, k):
    mallory = k.keys["mallory"]
    _set_key_info(m, _x509data(mallory.cert_der))
    A.resign(m, mallory)


@attack("keyinfo-str-x509data-attacker-cert", "cert-untrusted", base=X509DATA)
def _(m, k):
    mallory = k.keys["mallory"]
    _set_key_info(m, _str(_x509data(mallory.cert_der)))
    m.body.find(".//{urn:example:orders}amount").text = "1000000"
    A.resign(m, mallory)


@attack("keyinfo-str-x509data-self-signed-alice-lookalike", "cert-untrusted", base=X509DATA)
def _(m, k):
    evil = k.keys.self_made("rsa")
    _set_key_info(m, _str(_x509data(evil.cert_der)))
    A.resign(m, evil)


@attack("keyinfo-bst-self-signed-ec-lookalike", "cert-untrusted")
def _(m, k):
    evil = k.keys.self_made("ec")
    m.set_bst_cert(evil.cert_der)
    A.resign(m, evil, method=A.ECDSA_SHA256)


@attack("keyinfo-str-keyidentifier-attacker-cert", "cert-untrusted")
def _(m, k):
    mallory = k.keys["mallory"]
    ident = A.etree.Element("{%s}KeyIdentifier" % WSSE, ValueType=A.X509V3,
                            EncodingType=A.BASE64_BINARY)
    ident.text = A.b64(mallory.cert_der)
    _set_key_info(m, _str(ident))
    A.resign(m, mallory)


@attack("keyinfo-str-issuer-serial-unknown", "cert-untrusted", base=X509DATA)
def _(m, k):
    serial = A.etree.Element(ds("X509IssuerSerial"))
    A.etree.SubElement(serial, ds("X509IssuerName")).text = "CN=Rogue CA,O=Rogue"
    A.etree.SubElement(serial, ds("X509SerialNumber")).text = "4242"
    data = A.etree.Element(ds("X509Data"))
    data.append(serial)
    _set_key_info(m, _str(data))


@attack("keyinfo-str-to-unknown-token", "reference-invalid")
def _(m, k):
    _set_key_info(m, _str(_wsse_reference("#id-no-such-token")))


@attack("keyinfo-str-to-bst-outside-security", "reference-invalid")
def _(m, k):
    bst = m.bst
    m.security.remove(bst)
    m.wrapper().append(bst)


@attack("keyinfo-str-to-the-timestamp", "reference-invalid")
def _(m, k):
    _set_key_info(m, _str(_wsse_reference("#" + m.timestamp.get(WSU_ID))))


@attack("keyinfo-str-valuetype-pkipath", "token-unsupported")
def _(m, k):
    m.key_info.find(".//{%s}Reference" % WSSE).set("ValueType", A.X509_PKIPATH)


@attack("keyinfo-str-two-references", "token-unsupported")
def _(m, k):
    strf = m.key_info.find("{%s}SecurityTokenReference" % WSSE)
    strf.append(_wsse_reference("#id-second"))


@attack("keyinfo-retrieval-method", "token-unsupported")
def _(m, k):
    _set_key_info(m, A.etree.Element(ds("RetrievalMethod"), URI="#" + m.bst.get(WSU_ID),
                                     Type="http://www.w3.org/2000/09/xmldsig#rawX509Certificate"))


@attack("keyinfo-key-name", "token-unsupported")
def _(m, k):
    name = A.etree.Element(ds("KeyName"))
    name.text = "alice"
    _set_key_info(m, name)


@attack("keyinfo-two-keyinfos", "signature-invalid")
def _(m, k):
    mallory = k.keys["mallory"]
    second = A.etree.SubElement(m.signature, ds("KeyInfo"))
    second.append(_x509data(mallory.cert_der))


@attack("keyinfo-missing", "token-unsupported")
def _(m, k):
    m.signature.remove(m.key_info)


@attack("keyinfo-bst-swapped-for-another-trusted-rsa-cert", "signature-invalid")
def _(m, k):
    # key substitution: bob chains to the root too, but did not make this signature
    m.set_bst_cert(k.keys["bob"].cert_der)


@attack("keyinfo-bst-swapped-for-a-trusted-ec-cert", "key-mismatch")
def _(m, k):
    m.set_bst_cert(k.keys["ecuser"].cert_der)


@attack("keyinfo-bst-cert-with-trailing-bytes", "token-unsupported")
def _(m, k):
    m.set_bst_cert(k.alice.cert_der + b"\x00" * 16)


@attack("keyinfo-bst-hex-encoding", "token-unsupported")
def _(m, k):
    m.bst.set("EncodingType", A.BASE64_BINARY.replace("Base64Binary", "HexBinary"))


@attack("keyinfo-unused-bst-of-another-trusted-cert", "unsigned-part",
        hole="bob's certificate (public; anyone can attach it), used by no signature and "
             "covered by none, is reported in m.tokens as a supporting x509 token")
def _(m, k):
    extra = A.etree.fromstring(A.etree.tostring(m.bst))
    extra.set(WSU_ID, "id-bob")
    extra.text = A.b64(k.keys["bob"].cert_der)
    m.security.append(extra)


# === Algorithm confusion ======================================================================

def _hmac_with(cert_bytes, method=A.HMAC_SHA256):
    def build(m, k):
        m.set_signature_method(method)
        m.body.find(".//{urn:example:orders}amount").text = "1000000"
        A.resign(m, A.xmlsec.Key.from_binary_data(A.xmlsec.KeyData.HMAC, cert_bytes(k)))
    return build


attack("alg-hmac-sha256-keyed-with-the-cert-der", "weak-algorithm")(
    _hmac_with(lambda k: k.alice.cert_der))
attack("alg-hmac-sha256-keyed-with-the-cert-pem", "weak-algorithm")(
    _hmac_with(lambda k: k.alice.cert_pem))
attack("alg-hmac-sha1-keyed-with-the-cert-der", "weak-algorithm")(
    _hmac_with(lambda k: k.alice.cert_der, A.HMAC_SHA1))


@attack("alg-hmac-output-length-truncated", "signature-invalid")
def _(m, k):
    m.set_signature_method(A.HMAC_SHA256)
    method = m.signed_info.find(ds("SignatureMethod"))
    A.etree.SubElement(method, ds("HMACOutputLength")).text = "8"
    # one byte of HMAC keyed with the certificate: 1 in 256 guesses wins
    A.sign_signed_info(m, k.alice.cert_der)
    sv = m.signature.find(ds("SignatureValue"))
    sv.text = A.b64(A.base64.b64decode(sv.text)[:1])


@attack("alg-hmac-output-length-on-rsa", "signature-invalid")
def _(m, k):
    method = m.signed_info.find(ds("SignatureMethod"))
    A.etree.SubElement(method, ds("HMACOutputLength")).text = "160"
    A.resign(m, k.alice)


def _digests(uri, via_xmlsec=True):
    def build(m, k):
        for ref in m.references():
            ref.find(ds("DigestMethod")).set("Algorithm", uri)
        A.resign(m, k.alice)
    return build


attack("alg-sha1-digests", "weak-algorithm")(_digests(A.SHA1))
attack("alg-md5-digests", "weak-algorithm")(_digests(A.MD5))


@attack("alg-rsa-md5-signature", "weak-algorithm")
def _(m, k):
    A.resign(m, k.alice, method=A.RSA_MD5)


@attack("alg-rsa-key-with-ecdsa-uri", "key-mismatch")
def _(m, k):
    m.set_signature_method(A.ECDSA_SHA256)
    A.sign_signed_info(m, k.alice, method=A.RSA_SHA256)


@attack("alg-ec-key-with-rsa-uri", "key-mismatch", base=EC)
def _(m, k):
    m.set_signature_method(A.RSA_SHA256)
    A.sign_signed_info(m, k.keys["ecuser"], method=A.ECDSA_SHA256)


@attack("alg-rsa-pss-uri-over-a-pkcs1-signature", "signature-invalid")
def _(m, k):
    m.set_signature_method(A.RSA_PSS_SHA256)
    A.sign_signed_info(m, k.alice, method=A.RSA_SHA256)


@attack("alg-ecdsa-der-instead-of-r-s", "signature-invalid", base=EC)
def _(m, k):
    data = A.exc_c14n(m.signed_info)
    der = k.keys["ecuser"].private.sign(data, A.ec.ECDSA(A.hashes.SHA256()))
    m.signature.find(ds("SignatureValue")).text = A.b64(der)


def _dsa(method):
    # the DSA certificate rides inline (STR/X509Data), so that no BinarySecurityToken is
    # chain-checked before the SignatureMethod is read
    def build(m, k):
        evil = k.keys.self_made("dsa")
        _set_key_info(m, _str(_x509data(evil.cert_der)))
        m.set_signature_method(method)
        if method == A.DSA_SHA1:
            A.resign(m, evil)
        else:
            A.resign(m, evil, method=A.DSA_SHA1)
            m.set_signature_method(method)
            A.sign_signed_info(m, evil)
    return build


attack("alg-dsa-sha1", "weak-algorithm", base=X509DATA)(_dsa(A.DSA_SHA1))
attack("alg-dsa-sha256", "weak-algorithm", base=X509DATA)(_dsa(A.DSA_SHA256))


@attack("alg-unknown-signature-method", "weak-algorithm")
def _(m, k):
    m.set_signature_method("urn:example:none")
    A.sign_signed_info(m, k.alice, method=A.RSA_SHA256)


@attack("alg-empty-signature-value", "signature-invalid")
def _(m, k):
    m.signature.find(ds("SignatureValue")).text = ""


@attack("alg-rsa-signature-plus-modulus", "signature-invalid")
def _(m, k):
    # the RSA analogue of a malleable signature: s + n is s modulo n, but not a valid value
    sv = m.signature.find(ds("SignatureValue"))
    s = int.from_bytes(A.base64.b64decode(sv.text), "big")
    n = k.alice.private.public_key().public_numbers().n
    twin = s + n
    sv.text = A.b64(twin.to_bytes((twin.bit_length() + 7) // 8, "big"))


@attack("alg-rsa-signature-with-a-leading-zero-byte", "signature-invalid")
def _(m, k):
    sv = m.signature.find(ds("SignatureValue"))
    sv.text = A.b64(b"\x00" + A.base64.b64decode(sv.text))


@attack("alg-ecdsa-psychic-zero-signature", "signature-invalid", base=EC)
def _(m, k):
    # r = s = 0 verifies everything in a verifier without the range check (CVE-2022-21449)
    m.signature.find(ds("SignatureValue")).text = A.b64(b"\x00" * 64)


@attack("alg-rsa-1024-key-from-the-trusted-ca", "weak-algorithm")
def _(m, k):
    small = k.keys["small"]
    m.set_bst_cert(small.cert_der)
    A.resign(m, small)


# === Timestamp edges ==========================================================================
# Each edited Timestamp is re-signed: only its own defect can reject it.

def _times(created=None, expires=None, drop=None):
    def build(m, k):
        m.set_times(created, expires)
        if drop:
            m.timestamp.remove(m.timestamp.find("{%s}%s" % (WSU, drop)))
        A.resign(m, k.alice)
    return build


_T = "2026-11-25T12:00:"
attack("ts-expired", "timestamp-expired")(
    _times("2026-11-25T11:50:00Z", "2026-11-25T11:55:00Z"))
attack("ts-future-beyond-skew", "timestamp-future", now="2026-11-25T11:58:30Z")(_times())
attack("ts-created-after-expires", "timestamp-invalid")(
    _times(_T + "10Z", _T + "05Z"))
attack("ts-created-equals-expires", "timestamp-invalid")(_times(_T + "00Z", _T + "00Z"))
attack("ts-missing-created", "timestamp-invalid")(_times(drop="Created"))
attack("ts-fraction-of-four-digits", "timestamp-invalid")(
    _times(_T + "00.1234Z"))
attack("ts-fraction-of-forty-digits", "timestamp-invalid")(
    _times(_T + "00." + "9" * 40 + "Z"))
attack("ts-offset-plus-zero", "timestamp-invalid")(_times(_T + "00+00:00"))
attack("ts-offset-minus-zero", "timestamp-invalid")(_times(_T + "00-00:00"))
attack("ts-offset-plus-one-hour", "timestamp-invalid")(
    _times("2026-11-25T13:00:00+01:00", "2026-11-25T13:05:00+01:00"))
attack("ts-no-zone", "timestamp-invalid")(_times(_T + "00"))
attack("ts-lower-case-z", "timestamp-invalid")(_times(_T + "00z"))
attack("ts-hour-24", "timestamp-invalid", now="2026-11-25T00:00:30Z")(
    _times("2026-11-24T24:00:00Z", "2026-11-25T00:05:00Z"))
attack("ts-leap-second", "timestamp-invalid", now="2026-11-25T00:00:30Z")(
    _times("2026-11-24T23:59:60Z", "2026-11-25T00:05:00Z"))
attack("ts-year-0000", "timestamp-invalid")(_times("0000-11-25T12:00:00Z"))
attack("ts-february-30", "timestamp-invalid")(_times("2026-02-30T12:00:00Z"))


@attack("ts-two-timestamps", "timestamp-invalid")
def _(m, k):
    second = A.etree.fromstring(A.etree.tostring(m.timestamp))
    del second.attrib[WSU_ID]
    m.security.append(second)


@attack("ts-outside-the-security-header", "timestamp-missing")
def _(m, k):
    ts = m.timestamp
    m.security.remove(ts)
    m.header.append(ts)


@attack("ts-unsigned-when-required", "unsigned-part")
def _(m, k):
    m.signed_info.remove(m.reference_to(m.timestamp))
    A.resign(m, k.alice)


@attack("ts-comment-injection-in-signed-created", "timestamp-invalid")
def _(m, k):
    # no re-signing: exc-c14n drops the comment, so the signature still covers
    # "2026-11-25T12:00:00Z"; a time must be one text node, not whatever a reader gathers
    created = m.timestamp.find("{%s}Created" % WSU)
    created.text = "2026-11-25T12:00:00"
    comment = A.etree.Comment("")
    comment.tail = "Z"
    created.append(comment)


@attack("ts-created-with-value-type", "timestamp-invalid")
def _(m, k):
    m.timestamp.find("{%s}Created" % WSU).set("ValueType", "urn:example:local-time")
    A.resign(m, k.alice)


@attack("ts-unknown-child", "timestamp-invalid")
def _(m, k):
    A.etree.SubElement(m.timestamp, "{%s}Received" % WSU).text = _T + "00Z"
    A.resign(m, k.alice)


# Attacks whose signature xmlsec1 verifies (given alice's certificate and the ID attributes
# of Body, Timestamp and the WS-Addressing headers): a verifier that only checks the signature
# would deliver them. The test asserts that xmlsec1 still says OK, so each of these is known
# to be rejected for its structure, not for its cryptography.
XMLSEC1_VERIFIES = {
    "xsw1-body-in-header-wrapper-soap11", "xsw1-body-in-header-wrapper-soap12",
    "xsw1-body-in-ignorable-header-wrapper", "xsw2-signed-body-as-header",
    "xsw3-body-in-security-wrapper-soap11", "xsw3-body-in-security-wrapper-soap12",
    "xsw4-body-in-signature-object", "xsw5-body-inside-evil-body-soap11",
    "xsw5-body-inside-evil-body-soap12", "xsw6-second-body-soap11", "xsw6-second-body-soap12",
    "xsw6-signed-body-after-evil-body-in-wrapper",
    "xsw8-evil-body-with-its-own-id-reference-unchanged",
    "xsw-timestamp-wrapped-fresh-evil-timestamp", "xsw-timestamp-wrapped-inside-security",
    "xsw-wsa-action-wrapped", "xsw-wsa-to-wrapped-soap12", "xsw-wsa-to-second-unsigned-copy",
    "xsw-signature-moved-out-of-security", "xsw-signature-covers-only-the-timestamp",
    "xsw-evil-body-in-the-other-soap-namespace", "xsw-wsa-action-comment-injection",
    "dup-id-on-the-envelope", "dup-id-upper-case-ID-in-header",
    "dup-id-bst-id-on-a-second-token-outside-security", "dup-id-lower-case-id-on-evil-body",
    "dup-id-whitespace-padded-on-evil-body",
    "transform-xpath", "transform-xpath-filter-2.0", "transform-inclusive-c14n",
    "transform-c14n-1.1", "transform-exc-c14n-with-comments",
    "transform-inclusive-c14n-for-signedinfo", "transform-c14n-with-comments-for-signedinfo",
    "uri-empty-whole-document", "uri-xpointer-id", "uri-external-file",
    "ts-expired", "ts-future-beyond-skew", "ts-created-after-expires",
    "ts-created-equals-expires", "ts-missing-created", "ts-fraction-of-four-digits",
    "ts-fraction-of-forty-digits", "ts-offset-plus-zero", "ts-offset-minus-zero",
    "ts-offset-plus-one-hour", "ts-no-zone", "ts-lower-case-z", "ts-hour-24", "ts-leap-second",
    "ts-year-0000", "ts-february-30", "ts-two-timestamps", "ts-outside-the-security-header",
    "ts-unsigned-when-required", "ts-comment-injection-in-signed-created",
    "ts-created-with-value-type", "ts-unknown-child",
}


# --- the test ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def kit(pki, tmp_path_factory):
    return Kit(pki, tmp_path_factory.mktemp("attacks"))


def _params():
    out = []
    for a in TABLE:
        marks = [pytest.mark.xfail(strict=True, reason="DELIVERED: " + a.hole)] if a.hole else []
        out.append(pytest.param(a, id=a.id, marks=marks))
    return out


def test_the_table_is_large_and_its_ids_unique():
    ids = [a.id for a in TABLE]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)
    assert XMLSEC1_VERIFIES <= set(ids), XMLSEC1_VERIFIES - set(ids)


def _config(tmp_path, text):
    path = tmp_path / "warden.lua"
    path.write_text(text)
    return ["-c", str(path)]


@pytest.mark.parametrize("case", _params())
def test_attack_is_rejected(case, warden, zeep_messages, kit, tmp_path, xmlsec1):
    m = A.Msg(zeep_messages[case.base].read())
    case.build(m, kit)
    path = tmp_path / (case.id + ".xml")
    path.write_bytes(m.bytes())
    extra = _config(tmp_path, case.config) if case.config else []
    rc, result, run = warden.verify_one(str(path), now=case.now, extra=extra)
    assert result.get("delivered") is False, "DELIVERED %s (%s)\n%r" % (case.id, path, run)
    reasons = case.reason if isinstance(case.reason, tuple) else (case.reason,)
    assert result.get("reason") in reasons, run
    assert result.get("detail"), run
    assert rc == 1, run
    if case.id in XMLSEC1_VERIFIES:
        ok, out = xmlsec1.verify(path, os.path.join(kit.pki, "alice.pem"))
        assert ok, "xmlsec1 no longer verifies the signature of %s:\n%s" % (case.id, out)


# --- controls: the toolkit's own messages are delivered --------------------------------------
# Without these, a rejection in the table could come from a broken re-signing rather than from
# the rule under test.

def _resigned_order(m, k):
    m.body.find(".//{urn:example:orders}amount").text = "1000000"
    A.resign(m, k.alice)


def _resigned_manually(m, k):
    m.body.find(".//{urn:example:orders}amount").text = "1000000"
    A.resign_manually(m, k.alice)


def _milliseconds(m, k):
    m.set_times("2026-11-25T12:00:00.123Z", "2026-11-25T12:05:00.999Z")
    A.resign(m, k.alice)


CONTROLS = [
    # id, base, build, config, signed parts that must be listed
    ("control-as-zeep-signed", RSA, None, None, ["Body", "Timestamp"]),
    ("control-resigned-by-xmlsec", RSA, _resigned_order, None, ["Body", "Timestamp"]),
    ("control-resigned-by-xmlsec-soap12", SOAP12, _resigned_order, None, ["Body", "Timestamp"]),
    ("control-resigned-manually", RSA, _resigned_manually, None, ["Body", "Timestamp"]),
    ("control-wsa-headers-signed", RSA, _sign_wsa, REQUIRE_WSA,
     ["Body", "Timestamp", "Action", "To"]),
    ("control-enveloped-transform-on-the-body", RSA,
     _body_transforms(A.ENVELOPED, A.EXC_C14N), None, ["Body", "Timestamp"]),
    ("control-timestamp-milliseconds", RSA, _milliseconds, None, ["Body", "Timestamp"]),
]


@pytest.mark.parametrize("name,base,build,config,signed", CONTROLS, ids=[c[0] for c in CONTROLS])
def test_control_is_delivered(name, base, build, config, signed, warden, zeep_messages, kit,
                              tmp_path, xmlsec1):
    m = A.Msg(zeep_messages[base].read())
    if build:
        build(m, kit)
    path = tmp_path / (name + ".xml")
    path.write_bytes(m.bytes())
    extra = _config(tmp_path, config) if config else []
    rc, result, run = warden.verify_one(str(path), extra=extra)
    assert result.get("delivered") is True, run
    assert set(signed) <= set(result.get("signed", [])), run
    assert rc == 0, run
    # and an independent implementation agrees that the signature is good
    ok, out = xmlsec1.verify(path, os.path.join(kit.pki, "alice.pem"))
    assert ok, out


def test_signedinfo_signer_matches_xmlsec(zeep_messages, kit):
    # RSA PKCS#1 v1.5 is deterministic: the toolkit's own SignatureValue over SignedInfo must
    # be byte for byte the one python3-xmlsec computed
    m = A.Msg(zeep_messages[RSA].read())
    _resigned_order(m, kit)
    by_xmlsec = "".join(m.signature.find(ds("SignatureValue")).text.split())
    A.sign_signed_info(m, kit.alice)
    assert m.signature.find(ds("SignatureValue")).text == by_xmlsec
