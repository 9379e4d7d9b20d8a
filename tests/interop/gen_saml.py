"""SAML 2.0 assertions made at test time by two SAML libraries nobody here wrote, put into SOAP
messages that zeep signs:

  * pysaml2 (Debian python3-pysaml2): its saml2.saml classes build the assertion and its
    SecurityContext signs it (through the xmlsec1 command), as an IdP built on pysaml2 does;
  * Lasso (Debian python3-lasso, the C library of Entr'ouvert): its Saml2Assertion node builds
    and serializes the assertion; python3-xmlsec signs it from a signature template, the way
    Lasso's own IdP code signs with libxmlsec.

Assertions are made with a fixed clock (helpers.NOW is 30 s after their IssueInstant) so that
tests can pin warden's clock. Everything returns bytes; tampering works on the bytes as the
helpers of helpers.py do.
"""
import datetime as dt
import os
import uuid

import xmlsec
from lxml import etree

import gen_zeep
from helpers import DS, WSU, WSU_ID

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
HOLDER_OF_KEY = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"
SENDER_VOUCHES = "urn:oasis:names:tc:SAML:2.0:cm:sender-vouches"
METHODS = {"bearer": BEARER, "holder-of-key": HOLDER_OF_KEY, "sender-vouches": SENDER_VOUCHES}
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
AUDIENCE = "urn:example:orders"
ISSUER = "https://idp.example.com/saml"
PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"

ISSUED = gen_zeep.CREATED  # 2026-11-25T12:00:00Z, like the zeep messages' Timestamp


def zulu(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def saml(local):
    return "{%s}%s" % (SAML, local)


def _cert_base64(pki, name):
    with open(os.path.join(pki, name + ".pem")) as f:
        lines = [line.strip() for line in f if line.strip() and not line.startswith("-----")]
    return "".join(lines)


class Spec:
    """What an assertion says. Times are offsets in seconds from ISSUED."""

    def __init__(self, **kw):
        self.subject = kw.pop("subject", "alice@example.com")
        self.method = kw.pop("method", "bearer")
        self.issuer = kw.pop("issuer", ISSUER)
        self.audiences = kw.pop("audiences", (AUDIENCE,))
        self.attributes = kw.pop("attributes", {"role": ["clerk"], "department": ["payments"]})
        self.issue_instant = kw.pop("issue_instant", 0)
        self.not_before = kw.pop("not_before", -60)
        self.not_on_or_after = kw.pop("not_on_or_after", 1800)
        self.one_time_use = kw.pop("one_time_use", False)
        self.hok_cert = kw.pop("hok_cert", "alice")   # the key holder of holder-of-key
        self.signer = kw.pop("signer", "idp")          # None: unsigned
        self.version = kw.pop("version", "2.0")
        self.id = kw.pop("id", "_" + uuid.uuid4().hex)
        self.issued = kw.pop("issued", ISSUED)       # the time the offsets count from
        if kw:
            raise TypeError("unknown Spec fields %s" % sorted(kw))

    def at(self, offset):
        return zulu(self.issued + dt.timedelta(seconds=offset))


# --- producer 1: pysaml2 ---------------------------------------------------------------------

def pysaml2_assertion(pki, spec):
    from saml2 import saml as s
    from saml2 import xmldsig as ds
    from saml2.sigver import CryptoBackendXmlSec1, SecurityContext, pre_signature_part

    if spec.method == "holder-of-key":
        key_info = ds.KeyInfo(x509_data=[ds.X509Data(
            x509_certificate=ds.X509Certificate(text=_cert_base64(pki, spec.hok_cert)))])
        class KeyInfoData(s.KeyInfoConfirmationDataType_):
            c_tag = "SubjectConfirmationData"  # the element, with the KeyInfo type's content
        data = KeyInfoData(key_info=[key_info])
    else:
        data = s.SubjectConfirmationData(not_on_or_after=spec.at(spec.not_on_or_after))
    conditions = s.Conditions(
        not_before=spec.at(spec.not_before), not_on_or_after=spec.at(spec.not_on_or_after),
        audience_restriction=[s.AudienceRestriction(audience=[s.Audience(text=a) for a in spec.audiences])]
        if spec.audiences else None,
        one_time_use=[s.OneTimeUse()] if spec.one_time_use else None)
    attributes = [s.Attribute(name=name, name_format=s.NAME_FORMAT_BASIC,
                              attribute_value=[s.AttributeValue(text=v) for v in values])
                  for name, values in spec.attributes.items()]
    assertion = s.Assertion(
        id=spec.id, version=spec.version, issue_instant=spec.at(spec.issue_instant),
        issuer=s.Issuer(text=spec.issuer) if spec.issuer is not None else None,
        subject=s.Subject(name_id=s.NameID(format=EMAIL_FORMAT, text=spec.subject),
                          subject_confirmation=[s.SubjectConfirmation(method=METHODS[spec.method],
                                                                      subject_confirmation_data=data)]),
        conditions=conditions,
        authn_statement=[s.AuthnStatement(authn_instant=spec.at(spec.issue_instant),
                                          authn_context=s.AuthnContext(
                                              authn_context_class_ref=s.AuthnContextClassRef(
                                                  text=PASSWORD_PROTECTED)))],
        attribute_statement=[s.AttributeStatement(attribute=attributes)] if attributes else None)
    if spec.signer is None:
        return str(assertion).encode()
    cert = _cert_base64(pki, spec.signer)
    assertion.signature = pre_signature_part(spec.id, cert, digest_alg=ds.DIGEST_SHA256,
                                             sign_alg=ds.SIG_RSA_SHA256)
    context = SecurityContext(CryptoBackendXmlSec1("/usr/bin/xmlsec1"),
                              key_file=os.path.join(pki, spec.signer + ".key"),
                              cert_file=os.path.join(pki, spec.signer + ".pem"))
    signed = context.sign_statement(str(assertion), node_name="%s:Assertion" % SAML, node_id=spec.id)
    return signed.encode() if isinstance(signed, str) else signed


# --- producer 2: Lasso -----------------------------------------------------------------------

def lasso_assertion(pki, spec):
    import lasso

    if spec.method == "holder-of-key":
        raise ValueError("the Lasso producer makes bearer and sender-vouches assertions")
    a = lasso.Saml2Assertion()
    a.id = spec.id
    a.version = spec.version
    a.issueInstant = spec.at(spec.issue_instant)
    if spec.issuer is not None:
        issuer = lasso.Saml2NameID()
        issuer.content = spec.issuer
        a.issuer = issuer
    subject = lasso.Saml2Subject()
    name_id = lasso.Saml2NameID()
    name_id.content = spec.subject
    name_id.format = EMAIL_FORMAT
    subject.nameID = name_id
    confirmation = lasso.Saml2SubjectConfirmation()
    confirmation.method = METHODS[spec.method]
    subject.subjectConfirmation = confirmation
    a.subject = subject
    conditions = lasso.Saml2Conditions()
    conditions.notBefore = spec.at(spec.not_before)
    conditions.notOnOrAfter = spec.at(spec.not_on_or_after)
    if spec.audiences:
        restriction = lasso.Saml2AudienceRestriction()
        restriction.audience = spec.audiences[0]
        conditions.audienceRestriction = (restriction,)
    if spec.one_time_use:
        conditions.oneTimeUse = (lasso.Saml2OneTimeUse(),)
    a.conditions = conditions
    if spec.attributes:
        statement = lasso.Saml2AttributeStatement()
        attributes = []
        for name, values in spec.attributes.items():
            attribute = lasso.Saml2Attribute()
            attribute.name = name
            attribute.nameFormat = lasso.SAML2_ATTRIBUTE_NAME_FORMAT_BASIC
            items = []
            for v in values:
                value = lasso.Saml2AttributeValue()
                text = lasso.MiscTextNode()
                text.content = v
                text.textChild = True
                value.any = (text,)
                items.append(value)
            attribute.attributeValue = tuple(items)
            attributes.append(attribute)
        statement.attribute = tuple(attributes)
        a.attributeStatement = (statement,)
    xml = a.exportToXml().encode()
    if spec.signer is None:
        return xml
    return sign_enveloped(pki, xml, spec.signer)


def sign_enveloped(pki, xml, signer):
    """An enveloped RSA-SHA256 signature over the assertion in xml, placed after Issuer, with
    the signer's certificate in KeyInfo/X509Data, made by python3-xmlsec from a template."""
    root = etree.fromstring(xml)
    signature = xmlsec.template.create(root, xmlsec.Transform.EXCL_C14N, xmlsec.Transform.RSA_SHA256, ns="ds")
    issuer = root.find(saml("Issuer"))
    if issuer is not None:
        issuer.addnext(signature)
    else:
        root.insert(0, signature)
    ref = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri="#" + root.get("ID"))
    xmlsec.template.add_transform(ref, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(ref, xmlsec.Transform.EXCL_C14N)
    key_info = xmlsec.template.ensure_key_info(signature)
    xmlsec.template.add_x509_data(key_info)
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_file(os.path.join(pki, signer + ".key"), xmlsec.KeyFormat.PEM)
    ctx.key.load_cert_from_file(os.path.join(pki, signer + ".pem"), xmlsec.KeyFormat.PEM)
    ctx.register_id(root, "ID")
    ctx.sign(signature)
    return etree.tostring(root)


PRODUCERS = {"pysaml2": pysaml2_assertion, "lasso": lasso_assertion}


# --- the SOAP message ------------------------------------------------------------------------

def message(pki, assertion, signer="alice", cover_assertion=False):
    """A SOAP 1.1 request whose Security header carries assertion (bytes) first, then a
    Timestamp, signed by zeep's BinarySignature with signer's key (None: unsigned). With
    cover_assertion the message signature also covers the assertion (sender-vouches)."""
    env = gen_zeep.envelope()
    security = gen_zeep.get_security_header(env)
    element = etree.fromstring(assertion)
    security.append(element)
    security.append(gen_zeep.timestamp())
    if signer is not None:
        gen_zeep.BinarySignature(os.path.join(pki, signer + ".key"), os.path.join(pki, signer + ".pem"),
                                 signature_method=xmlsec.Transform.RSA_SHA256,
                                 digest_method=xmlsec.Transform.SHA256).apply(env, {})
        if cover_assertion:
            _add_reference(pki, env, element, signer)
    return etree.tostring(env)


def _add_reference(pki, env, assertion, signer):
    """Adds a Reference to the assertion (by its ID) to zeep's signature and signs again."""
    security = gen_zeep.get_security_header(env)
    # by iteration: elements python3-xmlsec made are not always found by ElementPath
    signature = next(c for c in security if c.tag == "{%s}Signature" % DS)
    key_info = next(c for c in signature if c.tag == "{%s}KeyInfo" % DS)
    signature.remove(key_info)  # xmlsec must not read the STR; it is put back after signing
    ref = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri="#" + assertion.get("ID"))
    xmlsec.template.add_transform(ref, xmlsec.Transform.EXCL_C14N)
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_file(os.path.join(pki, signer + ".key"), xmlsec.KeyFormat.PEM)
    ctx.register_id(assertion, "ID")
    for element in env.iter():
        if element.get(WSU_ID) is not None:
            ctx.register_id(element, "Id", WSU)
    ctx.sign(signature)
    signature.append(key_info)
