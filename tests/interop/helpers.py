"""Shared pieces of the interop tests: namespaces, clocks, and the tampering helpers.

Every tamper function takes the bytes of a generated message and returns new bytes; the XML
edits go through lxml, which keeps prefixes, namespace declarations and attribute order, so
that the only change a verifier can see is the one each function names (test_delivered's
round-trip test checks that an lxml parse + serialize alone changes nothing that matters).
"""
import base64
import datetime as dt

from lxml import etree

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
WSA = "http://www.w3.org/2005/08/addressing"
ORD = "urn:example:orders"
WRAP = "urn:example:wrap"

WSU_ID = "{%s}Id" % WSU

# The fixed clock of the zeep messages (their Created is 2026-11-25T12:00:00Z).
NOW = "2026-11-25T12:00:30Z"
HOUR_LATER = "2026-11-25T13:00:30Z"


def parse(data):
    return etree.fromstring(data)


def serialize(root):
    return etree.tostring(root)


def soap_ns(root):
    return etree.QName(root).namespace


def body(root):
    return root.find("{%s}Body" % soap_ns(root))


def header(root):
    return root.find("{%s}Header" % soap_ns(root))


def security(root):
    return header(root).find("{%s}Security" % WSSE)


def id_attr(el):
    """(attribute name, value) of the element's Id: wsu:Id (zeep) or plain Id (npm soap)."""
    for name in (WSU_ID, "Id"):
        if el.get(name) is not None:
            return name, el.get(name)
    return None, None


def created_of(data):
    """The Created time of the message's Timestamp, as a datetime (UTC)."""
    root = parse(data)
    for ts in root.iter("{%s}Timestamp" % WSU):
        text = ts.find("{%s}Created" % WSU).text.strip()
        return dt.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(
            tzinfo=dt.timezone.utc)
    raise AssertionError("message has no wsu:Timestamp")


def iso(t):
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- tampering -----------------------------------------------------------------------------

def edit_body(data):
    """Change the order amount inside the signed Body (250 -> 999999)."""
    root = parse(data)
    amount = body(root).find(".//{%s}amount" % ORD)
    assert amount is not None and amount.text == "250"
    amount.text = "999999"
    return serialize(root)


def flip_signature_value(data):
    """Flip one bit in ds:SignatureValue (still valid base64, same length)."""
    root = parse(data)
    sv = root.find(".//{%s}SignatureValue" % DS)
    raw = bytearray(base64.b64decode("".join(sv.text.split())))
    raw[len(raw) // 3] ^= 0x01
    sv.text = base64.b64encode(bytes(raw)).decode()
    return serialize(root)


def _evil_body(old):
    evil = etree.Element(old.tag, nsmap={old.prefix: etree.QName(old).namespace})
    order = etree.SubElement(evil, "{%s}CreateOrder" % ORD, nsmap={"ord": ORD})
    etree.SubElement(order, "{%s}amount" % ORD).text = "1000000"
    return evil


def wrap_body(data, where="header", evil_id=None):
    """XML signature wrapping: move the signed Body (with its Id) into a new
    <wrap:Wrapper> (a Header child, or a child of wsse:Security) and put an evil Body in its
    place. The evil Body has no Id, or the fresh id EVIL_ID (wsu:Id)."""
    root = parse(data)
    signed = body(root)
    assert id_attr(signed)[1], "the generated Body carries no Id"
    parent = header(root) if where == "header" else security(root)
    index = root.index(signed)
    wrapper = etree.SubElement(parent, "{%s}Wrapper" % WRAP, nsmap={"wrap": WRAP})
    root.remove(signed)
    wrapper.append(signed)
    evil = _evil_body(signed)
    if evil_id:
        evil.set(WSU_ID, evil_id)
    root.insert(index, evil)
    return serialize(root)


def duplicate_body_id(data, attr="same", on="header"):
    """Add another element carrying the Body's Id value.
    attr="same": with the same attribute (wsu:Id or Id) as the Body;
    attr="other": with the other one (plain Id vs wsu:Id), same value.
    on="header": an empty <wrap:Extra> in the Header, after the Security header;
    on="evil-body": wrap the Body (as wrap_body) and give the evil Body the same Id."""
    root = parse(data)
    name, value = id_attr(body(root))
    if attr == "other":
        name = "Id" if name == WSU_ID else WSU_ID
    if on == "header":
        extra = etree.SubElement(header(root), "{%s}Extra" % WRAP, nsmap={"wrap": WRAP})
        extra.set(name, value)
        return serialize(root)
    root = parse(wrap_body(data))
    body(root).set(name, value)
    return serialize(root)


def with_doctype(data, internal_subset=True):
    """Prepend a DOCTYPE (after any XML declaration)."""
    decl = b""
    if data.startswith(b"<?xml"):
        end = data.index(b"?>") + 2
        decl, data = data[:end] + b"\n", data[end:].lstrip()
    if internal_subset:
        doctype = b'<!DOCTYPE Envelope [\n  <!ENTITY amount "250">\n]>\n'
    else:
        doctype = b"<!DOCTYPE Envelope>\n"
    return decl + doctype + data


# The order n of the curves the test PKI uses (openssl ecparam -param_enc explicit -text).
CURVE_ORDERS = {
    "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
}


def flip_ecdsa_s(data, cert_pem_path):
    """The ECDSA twin: ds:SignatureValue r || s becomes r || (n - s), which verifies under the
    same key over the same SignedInfo. Anyone who saw the message can make it."""
    from cryptography import x509
    with open(cert_pem_path, "rb") as f:
        curve = x509.load_pem_x509_certificate(f.read()).public_key().curve
    n = CURVE_ORDERS[curve.name]
    size = (curve.key_size + 7) // 8
    root = parse(data)
    sv = root.find(".//{%s}SignatureValue" % DS)
    raw = base64.b64decode("".join(sv.text.split()))
    assert len(raw) == 2 * size, "SignatureValue is not r || s for %s" % curve.name
    s = int.from_bytes(raw[size:], "big")
    sv.text = base64.b64encode(raw[:size] + (n - s).to_bytes(size, "big")).decode()
    return serialize(root)


def add_username_token(data, token_source):
    """A man in the middle's move: copy the UsernameToken of message TOKEN_SOURCE (bytes) into
    the Security header of the signed message DATA, after the signature."""
    token = parse(token_source).find(".//{%s}UsernameToken" % WSSE)
    assert token is not None
    root = parse(data)
    security(root).append(token)
    return serialize(root)


BOMS = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}


def reencode(data, codec, declared, bom=True):
    """The same document (no XML declaration of its own) in CODEC, after its byte-order
    mark unless not BOM, with an XML declaration naming DECLARED (None: no declaration)."""
    assert not data.startswith(b"<?xml")
    text = data.decode("utf-8")
    if declared is not None:
        text = '<?xml version="1.0" encoding="%s"?>' % declared + text
    return (BOMS[codec] if bom else b"") + text.encode(codec)


def set_password(data, password):
    """Replace the UsernameToken's Password text (PasswordText messages)."""
    root = parse(data)
    pw = root.find(".//{%s}Password" % WSSE)
    pw.text = password
    return serialize(root)
