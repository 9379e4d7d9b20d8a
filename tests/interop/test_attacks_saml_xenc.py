"""Attacks on the meeting of SAML assertions and XML Encryption (docs/security.md: processing
order, SAML assertions, encryption and the padding oracle): what decryption puts into the
Security header and the Header goes through the same checks as clear content; an attacker who
encrypts to our public certificate (anyone can) gains no signature, no authenticity and no
second Security header; IDs stay one namespace across plaintexts and assertions; the limits
hold. Every row asserts its reason code.

The attacker's encryptor is python3-cryptography (AES-GCM, RSA-OAEP to server-enc.pem), the
signed parts come from zeep (gen_zeep) and the assertions from pysaml2 (gen_saml).
"""
import base64
import copy
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from lxml import etree

import gen_saml as G
import gen_zeep
import helpers
from helpers import DS, WSSE, WSU, WSU_ID

XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
GCM128 = XENC11 + "aes128-gcm"
CBC128 = XENC + "aes128-cbc"
OAEP = XENC + "rsa-oaep-mgf1p"
ELEMENT, CONTENT = XENC + "Element", XENC + "Content"
NOW = helpers.NOW


def xenc(local):
    return "{%s}%s" % (XENC, local)


# --- the attacker's encryptor ------------------------------------------------------------------

class Encryptor:
    """Encrypts to a certificate, as anyone holding our public certificate can."""

    def __init__(self, pki, recipient="server-enc.pem"):
        with open(os.path.join(pki, recipient), "rb") as f:
            self.cert = x509.load_pem_x509_certificate(f.read())
        self.cert_b64 = base64.b64encode(self.cert.public_bytes(
            __import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.DER)).decode()

    def wrap(self, key, label=None, digest=hashes.SHA1()):
        return self.cert.public_key().encrypt(key, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=digest,
                                                                label=label))

    @staticmethod
    def gcm(key, plaintext):
        iv = os.urandom(12)
        return iv + AESGCM(key).encrypt(iv, plaintext, None)

    @staticmethod
    def cbc(key, plaintext):
        iv = os.urandom(16)
        padder = sym_padding.PKCS7(128).padder()
        data = padder.update(plaintext) + padder.finalize()
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        return iv + encryptor.update(data) + encryptor.finalize()

    def encrypted_key(self, key, reference_ids=(), label=None, method_children=""):
        """An xenc:EncryptedKey (element) wrapping key for our certificate, with a ReferenceList
        naming reference_ids when there are any."""
        params = ""
        if label is not None:
            params = "<xenc:OAEPparams>%s</xenc:OAEPparams>" % base64.b64encode(label).decode()
        refs = ""
        if reference_ids:
            refs = "<xenc:ReferenceList>%s</xenc:ReferenceList>" % "".join(
                '<xenc:DataReference URI="#%s"/>' % i for i in reference_ids)
        text = ('<xenc:EncryptedKey xmlns:xenc="%s" xmlns:ds="%s"><xenc:EncryptionMethod Algorithm="%s">%s%s'
                '</xenc:EncryptionMethod><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate>'
                '</ds:X509Data></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>%s</xenc:CipherValue>'
                '</xenc:CipherData>%s</xenc:EncryptedKey>'
                % (XENC, DS, OAEP, method_children, params, self.cert_b64,
                   base64.b64encode(self.wrap(key, label)).decode(), refs))
        return etree.fromstring(text.encode())

    def encrypted_data(self, plaintext, id_, type_=ELEMENT, key=None, embed_key=True, algorithm=GCM128):
        """An xenc:EncryptedData (element) of plaintext (bytes); the session key wrapped in an
        EncryptedKey inside its KeyInfo unless embed_key is false (then the caller's EncryptedKey
        names it)."""
        key = key if key is not None else os.urandom(16)
        cipher = self.gcm(key, plaintext) if algorithm == GCM128 else self.cbc(key, plaintext)
        ed = etree.fromstring(('<xenc:EncryptedData xmlns:xenc="%s" Id="%s" Type="%s"><xenc:EncryptionMethod '
                               'Algorithm="%s"/><xenc:CipherData><xenc:CipherValue>%s</xenc:CipherValue>'
                               '</xenc:CipherData></xenc:EncryptedData>'
                               % (XENC, id_, type_, algorithm, base64.b64encode(cipher).decode())).encode())
        if embed_key:
            key_info = etree.Element("{%s}KeyInfo" % DS, nsmap={"ds": DS})
            key_info.append(self.encrypted_key(key))
            ed.insert(1, key_info)
        return ed


@pytest.fixture(scope="session")
def enc(pki):
    return Encryptor(pki)


def reference_list(*ids):
    rl = etree.Element(xenc("ReferenceList"), nsmap={"xenc": XENC})
    for i in ids:
        etree.SubElement(rl, xenc("DataReference"), URI="#" + i)
    return rl


def text_of(element):
    return etree.tostring(element)


# --- messages ----------------------------------------------------------------------------------

def unsigned_envelope():
    env = gen_zeep.envelope()
    gen_zeep.get_security_header(env)
    return env


def security(env):
    return helpers.security(env)


def username_token(password="secret"):
    env = gen_zeep.username("alice", password, digest=True, with_timestamp=False)
    return copy.deepcopy(security(env).find("{%s}UsernameToken" % WSSE))


def signed_assertion(pki, **spec):
    return etree.fromstring(G.pysaml2_assertion(pki, G.Spec(**spec)))


def encrypt_into_security(enc, env, element, id_="ED-1", before=None):
    """Replaces nothing: puts the EncryptedData of element into the Security header (at the end,
    or before `before`) and a ReferenceList naming it below everything."""
    sec = security(env)
    ed = enc.encrypted_data(text_of(element), id_)
    if before is not None:
        before.addprevious(ed)
    else:
        sec.append(ed)
    sec.append(reference_list(id_))
    return env


def encrypt_into_header(enc, env, element, id_="ED-H"):
    """An EncryptedData (Type Element) of element as a block of the SOAP Header, named by a
    ReferenceList in the Security header."""
    helpers.header(env).append(enc.encrypted_data(text_of(element), id_))
    security(env).append(reference_list(id_))
    return env


def encrypt_body(enc, env, id_="ED-B"):
    body = helpers.body(env)
    content = (body.text or "").encode() + b"".join(etree.tostring(c) for c in body)
    for c in list(body):
        body.remove(c)
    body.text = None
    body.append(enc.encrypted_data(content, id_, type_=CONTENT))
    return env


# --- running warden ----------------------------------------------------------------------------

@pytest.fixture
def run(warden, pki, write):
    def _run(env, config=None, saml=False, key=True, now=NOW):
        data = env if isinstance(env, bytes) else etree.tostring(env)
        extra = []
        if key:
            extra += ["--decrypt-key", os.path.join(pki, "server-enc.key"),
                      "--decrypt-cert", os.path.join(pki, "server-enc.pem")]
        if saml:
            extra += ["--saml-issuer", os.path.join(pki, "idp.pem"), "--audience", G.AUDIENCE]
        if config:
            extra += ["-c", write("config.lua", ("return " + config).encode())]
        rc, out, proc = warden.verify_one(write("m.xml", data), now=now, extra=extra)
        return out, proc
    return _run


def delivered(result):
    out, proc = result
    assert out["delivered"] is True, "rejected: %r\n%r" % (out, proc)
    return out


def rejected(result, reason, detail=None):
    out, proc = result
    assert out["delivered"] is False, "delivered, expected %s: %r" % (reason, out)
    assert out["reason"] == reason, "%s, expected %s: %r\n%r" % (out["reason"], reason, out, proc)
    if detail is not None:
        assert detail in out.get("detail", ""), out
    return out


NO_TOKEN = "{ require = { token = false } }"


# --- decrypted content in the Security header is checked like clear content --------------------

def test_decrypted_expired_timestamp_is_timestamp_expired(enc, run):
    ts = gen_zeep.timestamp()  # Expires 12:05
    env = encrypt_into_security(enc, unsigned_envelope(), ts)
    rejected(run(env, NO_TOKEN, now="2026-11-25T13:00:00Z"), "timestamp-expired")


def test_decrypted_second_timestamp_is_timestamp_invalid(enc, run):
    env = unsigned_envelope()
    security(env).append(gen_zeep.timestamp())
    encrypt_into_security(enc, env, gen_zeep.timestamp())
    rejected(run(env, NO_TOKEN), "timestamp-invalid", "more than one")


def test_decrypted_username_token_with_a_wrong_password_is_password_invalid(enc, run):
    env = encrypt_into_security(enc, unsigned_envelope(), username_token("wrong"))
    rejected(run(env), "password-invalid")


def test_decrypted_username_token_authenticates_and_is_named_encrypted(enc, run):
    env = encrypt_into_security(enc, unsigned_envelope(), username_token())
    out = delivered(run(env, '{ require = { encrypted = { "UsernameToken" } } }'))
    assert out["username"] == "alice"
    assert out["encrypted"] == ["UsernameToken"]
    assert out["protection"] == "none"


def test_decrypted_second_username_token_is_refused(enc, run):
    env = unsigned_envelope()
    security(env).append(username_token())
    encrypt_into_security(enc, env, username_token())
    rejected(run(env), "token-unsupported", "more than one UsernameToken")


def test_decrypted_unsigned_assertion_is_saml_invalid(enc, run, pki):
    assertion = signed_assertion(pki)
    assertion.remove(assertion.find("{%s}Signature" % DS))
    env = encrypt_into_security(enc, unsigned_envelope(), assertion)
    rejected(run(env, saml=True), "saml-invalid", "not signed")


def test_decrypted_tampered_assertion_is_saml_invalid(enc, run, pki):
    assertion = signed_assertion(pki)
    assertion.find(".//" + G.saml("NameID")).text = "admin@example.com"
    env = encrypt_into_security(enc, unsigned_envelope(), assertion)
    rejected(run(env, saml=True), "saml-invalid", "digest-mismatch")


def test_decrypted_assertion_beside_a_clear_one_is_saml_invalid(enc, run, pki):
    env = unsigned_envelope()
    security(env).append(signed_assertion(pki))
    encrypt_into_security(enc, env, signed_assertion(pki, subject="admin@example.com"))
    rejected(run(env, saml=True), "saml-invalid", "more than one")


def test_decrypted_signed_bearer_assertion_is_checked_and_delivered(enc, run, pki):
    env = unsigned_envelope()
    security(env).append(gen_zeep.timestamp())
    encrypt_into_security(enc, env, signed_assertion(pki))
    out = delivered(run(env, saml=True))
    tokens = [t for t in out["tokens"] if t["kind"] == "saml"]
    assert len(tokens) == 1 and tokens[0]["saml"]["subject"] == "alice@example.com", out
    assert out["encrypted"] == ["Assertion"]
    assert out["protection"] == "none"


def test_decrypted_expired_assertion_is_saml_invalid(enc, run, pki):
    env = encrypt_into_security(enc, unsigned_envelope(), signed_assertion(pki))
    rejected(run(env, saml=True, now="2026-11-26T12:00:00Z"), "saml-invalid")


def test_decrypted_binary_security_token_nothing_uses_is_unsigned_part(enc, run, pki):
    signed = gen_zeep.signed(pki, "alice")
    bst = copy.deepcopy(security(signed).find("{%s}BinarySecurityToken" % WSSE))
    del bst.attrib[WSU_ID]
    env = unsigned_envelope()
    security(env).append(username_token())
    encrypt_into_security(enc, env, bst)
    rejected(run(env), "unsigned-part", "BinarySecurityToken")


def test_decrypted_binary_security_token_is_also_trust_checked(enc, run, pki):
    signed = gen_zeep.signed(pki, "mallory")
    bst = copy.deepcopy(security(signed).find("{%s}BinarySecurityToken" % WSSE))
    env = unsigned_envelope()
    security(env).append(username_token())
    encrypt_into_security(enc, env, bst)
    rejected(run(env), "cert-untrusted")


# --- decrypted Header blocks: the envelope rules hold for them --------------------------------

def test_encrypted_header_that_decrypts_to_a_second_security_header_is_rejected(enc, run):
    env = unsigned_envelope()
    security(env).append(username_token())
    second = etree.Element("{%s}Security" % WSSE, nsmap={"wsse": WSSE})
    second.append(gen_zeep.timestamp())
    encrypt_into_header(enc, env, second)
    rejected(run(env), "security-header-duplicate")


def test_encrypted_header_that_decrypts_to_a_must_understand_block_is_mustunderstand(enc, run):
    env = unsigned_envelope()
    security(env).append(username_token())
    block = etree.fromstring(('<x:Unknown xmlns:x="urn:evil" xmlns:soap="%s" soap:mustUnderstand="1">1</x:Unknown>'
                              % helpers.SOAP11).encode())
    encrypt_into_header(enc, env, block)
    rejected(run(env), "mustunderstand")


def test_encrypted_header_that_decrypts_to_a_second_action_is_rejected(enc, run):
    env = unsigned_envelope()
    security(env).append(username_token())
    action = copy.deepcopy(helpers.header(env).find("{%s}Action" % helpers.WSA))
    action.text = "urn:evil:DeleteEverything"
    encrypt_into_header(enc, env, action)
    out, proc = run(env)
    assert out["delivered"] is False and out["reason"] in ("not-soap", "malformed"), out


# --- IDs: one namespace across plaintexts, assertions and the Body ----------------------------

def test_plaintext_that_reuses_the_assertion_id_is_duplicate_id(enc, run, pki):
    env = unsigned_envelope()
    assertion = signed_assertion(pki)
    security(env).append(assertion)
    ts = gen_zeep.timestamp()
    ts.set(WSU_ID, assertion.get("ID"))
    encrypt_into_security(enc, env, ts)
    rejected(run(env, saml=True), "duplicate-id")


def test_ciphertext_inside_the_assertion_is_refused_by_the_assertion_reader(enc, run, pki):
    env = unsigned_envelope()
    assertion = signed_assertion(pki)
    value = assertion.find(".//" + G.saml("AttributeValue"))
    value.text = None
    value.append(enc.encrypted_data(b"admin", "ED-A", type_=CONTENT))
    security(env).append(assertion)
    security(env).append(reference_list("ED-A"))
    rejected(run(env, saml=True), "saml-invalid", "AttributeValue mixes")


def test_data_reference_into_a_header_block_is_reference_invalid(enc, run):
    env = unsigned_envelope()
    security(env).append(username_token())
    block = etree.SubElement(helpers.header(env), "{urn:x}Block")
    block.append(enc.encrypted_data(b"<x:a xmlns:x='urn:x'/>", "ED-1"))
    security(env).append(reference_list("ED-1"))
    rejected(run(env), "reference-invalid", "outside the Body")


def test_assertion_whose_id_is_the_body_id_is_duplicate_id(run, pki):
    env = unsigned_envelope()
    helpers.body(env).set(WSU_ID, "body-1")
    security(env).append(signed_assertion(pki))
    assertion = security(env).find(G.saml("Assertion"))
    helpers.body(env).set(WSU_ID, assertion.get("ID"))
    rejected(run(env, saml=True), "duplicate-id")


def test_assertion_outside_the_security_header_is_not_seen_by_policies(run, pki):
    env = unsigned_envelope()
    security(env).append(username_token())
    helpers.header(env).append(signed_assertion(pki, subject="admin@example.com"))
    out = delivered(run(env, saml=True))
    assert [t["kind"] for t in out["tokens"]] == ["username"], out


# --- an attacker's encryption adds no authenticity --------------------------------------------

def test_unsigned_encrypted_body_is_protection_none_and_needs_a_token(enc, run):
    env = encrypt_body(enc, unsigned_envelope())
    security(env).append(reference_list("ED-B"))
    rejected(run(env), "security-header-missing")
    out = delivered(run(env, NO_TOKEN))
    assert out["protection"] == "none" and out["encrypted"] == ["Body"] and out["signed"] == [], out


def test_ciphertext_added_to_a_signed_body_is_digest_mismatch(enc, run, pki):
    env = gen_zeep.signed(pki, "alice")
    evil = etree.fromstring(b'<ord:Refund xmlns:ord="urn:example:orders"><ord:amount>999999</ord:amount></ord:Refund>')
    helpers.body(env).append(enc.encrypted_data(text_of(evil), "ED-X"))
    security(env).append(reference_list("ED-X"))
    rejected(run(env), "digest-mismatch")


def test_ciphertext_added_to_a_signed_body_decrypted_first_is_digest_mismatch(enc, run, pki):
    env = gen_zeep.signed(pki, "alice")
    evil = etree.fromstring(b'<ord:Refund xmlns:ord="urn:example:orders"><ord:amount>999999</ord:amount></ord:Refund>')
    helpers.body(env).append(enc.encrypted_data(text_of(evil), "ED-X"))
    security(env).insert(0, reference_list("ED-X"))
    rejected(run(env), "digest-mismatch")


def test_sign_then_encrypt_body_replaced_by_the_attackers_ciphertext_is_digest_mismatch(enc, run, pki):
    env = gen_zeep.signed(pki, "alice")
    encrypt_body(enc, env)
    security(env).insert(0, reference_list("ED-B"))
    assert delivered(run(env))["encrypted"] == ["Body"]  # the honest sign-then-encrypt
    body = helpers.body(env)
    body.remove(body[0])
    evil = b'<ord:CreateOrder xmlns:ord="urn:example:orders"><ord:amount>999999</ord:amount></ord:CreateOrder>'
    body.append(enc.encrypted_data(evil, "ED-B", type_=CONTENT))
    rejected(run(env), "digest-mismatch")


def encrypt_then_sign(enc, pki, key, algorithm=GCM128):
    """The Body's content encrypted (no key inside), then zeep signs Body + Timestamp over the
    ciphertext; the EncryptedKey with its ReferenceList goes last in the header, where the
    signature (made over the ciphertext) is read before it."""
    env = gen_zeep.envelope()
    body = helpers.body(env)
    content = (body.text or "").encode() + b"".join(etree.tostring(c) for c in body)
    for c in list(body):
        body.remove(c)
    body.text = None
    body.append(enc.encrypted_data(content, "ED-B", type_=CONTENT, key=key, embed_key=False, algorithm=algorithm))
    sec = gen_zeep.get_security_header(env)
    sec.append(gen_zeep.timestamp())
    gen_zeep.BinarySignature(os.path.join(pki, "alice.key"), os.path.join(pki, "alice.pem"),
                             signature_method=gen_zeep.xmlsec.Transform.RSA_SHA256,
                             digest_method=gen_zeep.xmlsec.Transform.SHA256).apply(env, {})
    security(env).append(enc.encrypted_key(key, ["ED-B"]))
    return env


@pytest.mark.parametrize("algorithm,config", [(GCM128, None), (CBC128, "{ decrypt = { allow_cbc = true } }")])
def test_encrypt_then_sign_with_the_unsigned_encrypted_key_swapped_is_decrypt_failed(enc, run, pki, algorithm,
                                                                                      config):
    key = os.urandom(16)
    env = encrypt_then_sign(enc, pki, key, algorithm)
    out = delivered(run(env, config))
    assert out["protection"] == "sign_and_encrypt" and out["encrypted"] == ["Body"], out
    assert out["operation"] == "{urn:example:orders}CreateOrder"
    # the attacker keeps the signed ciphertext and wraps a key of his own for us
    sec = security(env)
    sec.remove(sec.find(xenc("EncryptedKey")))
    sec.append(enc.encrypted_key(os.urandom(16), ["ED-B"]))
    rejected(run(env, config), "decrypt-failed")


# --- algorithms and limits ---------------------------------------------------------------------

def test_oaep_digest_off_the_allow_list_is_weak_algorithm(enc, run):
    env = unsigned_envelope()
    security(env).append(username_token())
    ed = enc.encrypted_data(b"<x:a xmlns:x='urn:x'/>", "ED-1")
    method = ed.find(".//" + xenc("EncryptionMethod")[:-len("EncryptionMethod")] + "EncryptedKey/"
                     + xenc("EncryptionMethod"))
    etree.SubElement(method, "{%s}DigestMethod" % DS, Algorithm="http://www.w3.org/2001/04/xmldsig-more#md5")
    helpers.body(env).append(ed)
    security(env).append(reference_list("ED-1"))
    rejected(run(env), "weak-algorithm", "OAEP digest")


def test_a_large_oaep_label_the_sender_chose_is_harmless(enc, run):
    env = unsigned_envelope()
    security(env).append(username_token())
    key = os.urandom(16)
    label = os.urandom(64 * 1024)
    ed = enc.encrypted_data(b"<x:a xmlns:x='urn:x'/>", "ED-1", key=key, embed_key=False)
    helpers.body(env).append(ed)
    security(env).append(enc.encrypted_key(key, ["ED-1"], label=label))
    assert delivered(run(env))["encrypted"] == []  # decrypted, beside the Body's clear content


def test_nine_encrypted_keys_are_limit_exceeded(enc, run):
    env = unsigned_envelope()
    security(env).append(username_token())
    for i in range(9):
        key = os.urandom(16)
        helpers.body(env).append(enc.encrypted_data(b"<x:a xmlns:x='urn:x'/>", "ED-%d" % i, key=key,
                                                    embed_key=False))
        security(env).append(enc.encrypted_key(key, ["ED-%d" % i]))
    rejected(run(env), "limit-exceeded", "EncryptedKeys")


def test_embedded_keys_count_toward_the_same_limit(enc, run):
    env = unsigned_envelope()
    security(env).append(username_token())
    for i in range(9):
        helpers.body(env).append(enc.encrypted_data(b"<x:a xmlns:x='urn:x'/>", "ED-%d" % i))
    security(env).append(reference_list(*["ED-%d" % i for i in range(9)]))
    rejected(run(env), "limit-exceeded", "EncryptedKeys")


def test_sixty_five_data_references_are_limit_exceeded(enc, run):
    env = unsigned_envelope()
    security(env).append(username_token())
    key = os.urandom(16)
    ids = ["ED-%d" % i for i in range(65)]
    for i in ids:
        helpers.body(env).append(enc.encrypted_data(b"<x:a xmlns:x='urn:x'/>", i, key=key, embed_key=False))
    security(env).append(enc.encrypted_key(key, ids))
    rejected(run(env), "limit-exceeded", "DataReferences")


def test_nested_encryption_needs_a_reference_per_level_and_then_is_delivered(enc, run):
    env = unsigned_envelope()
    security(env).append(username_token())
    inner = enc.encrypted_data(b'<ord:CreateOrder xmlns:ord="urn:example:orders"/>', "ED-IN")
    outer = enc.encrypted_data(text_of(inner), "ED-OUT")
    body = helpers.body(env)
    for c in list(body):
        body.remove(c)
    body.append(outer)
    security(env).append(reference_list("ED-OUT"))
    rejected(run(env), "decrypt-failed")  # the inner ciphertext is left in the Body
    security(env).append(reference_list("ED-IN"))
    out = delivered(run(env))
    assert out["operation"] == "{urn:example:orders}CreateOrder" and out["encrypted"] == ["Body"], out


# --- SAML identity text -------------------------------------------------------------------------

def test_name_id_split_by_cdata_is_read_whole(run, pki):
    xml = G.pysaml2_assertion(pki, G.Spec(subject="SUBJECT-MARK"))
    root = etree.fromstring(xml)
    root.remove(root.find("{%s}Signature" % DS))
    text = etree.tostring(root).replace(b">SUBJECT-MARK<", b">ad<![CDATA[min]]>@example.com<")
    assertion = sign_keeping_cdata(pki, text)
    assert b"CDATA" in etree.tostring(assertion)
    env = unsigned_envelope()
    security(env).append(assertion)
    out = delivered(run(etree.tostring(env), saml=True))
    token = [t for t in out["tokens"] if t["kind"] == "saml"][0]
    assert token["saml"]["subject"] == "admin@example.com", token


def sign_keeping_cdata(pki, xml):
    """gen_saml.sign_enveloped, on a tree parsed with its CDATA sections kept."""
    import xmlsec
    root = etree.fromstring(xml, etree.XMLParser(strip_cdata=False))
    signature = xmlsec.template.create(root, xmlsec.Transform.EXCL_C14N, xmlsec.Transform.RSA_SHA256, ns="ds")
    root.find(G.saml("Issuer")).addnext(signature)
    ref = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri="#" + root.get("ID"))
    xmlsec.template.add_transform(ref, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(ref, xmlsec.Transform.EXCL_C14N)
    xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_file(os.path.join(pki, "idp.key"), xmlsec.KeyFormat.PEM)
    ctx.key.load_cert_from_file(os.path.join(pki, "idp.pem"), xmlsec.KeyFormat.PEM)
    ctx.register_id(root, "ID")
    ctx.sign(signature)
    return root


def test_unknown_condition_is_saml_invalid(run, pki):
    assertion = signed_assertion(pki)
    conditions = assertion.find(G.saml("Conditions"))
    etree.SubElement(conditions, "{urn:evil}Whatever")
    env = unsigned_envelope()
    security(env).append(assertion)
    rejected(run(env, saml=True), "saml-invalid", "not understood")


def test_too_many_attribute_values_are_saml_invalid(run, pki):
    assertion = signed_assertion(pki, attributes={"role": ["r%d" % i for i in range(300)]})
    env = unsigned_envelope()
    security(env).append(assertion)
    rejected(run(env, saml=True), "saml-invalid", "attribute values")


def test_a_plaintext_of_many_body_elements_is_not_a_quadratic_cost(enc, run):
    """760,000 elements decrypted into the Body: asking of each Body child whether a decryption
    put it there was a linear search of every inserted element (minutes of CPU per message
    for any user, or for anyone with require.token = false); now a binary search. The guard is
    the verify call's 60 s timeout, far above the few seconds the message takes."""
    env = unsigned_envelope()
    security(env).append(username_token())
    body = helpers.body(env)
    for c in list(body):
        body.remove(c)
    body.text = None
    ids = ["ED-%d" % i for i in range(4)]  # each CipherValue under limits.text_bytes (1 MiB)
    for i in ids:
        body.append(enc.encrypted_data(b"<a/>" * 190000, i, type_=CONTENT))
    security(env).append(reference_list(*ids))
    out = delivered(run(env, '{ require = { encrypted = { "Body" } } }'))
    assert out["encrypted"] == ["Body"] and out["operation"] == "{}a", out


def test_one_time_use_assertion_replayed_inside_ciphertext_is_a_replay(enc, warden, pki, write):
    assertion = signed_assertion(pki, one_time_use=True)
    first = unsigned_envelope()
    security(first).append(copy.deepcopy(assertion))
    second = encrypt_into_security(enc, unsigned_envelope(), copy.deepcopy(assertion))
    extra = ["--saml-issuer", os.path.join(pki, "idp.pem"), "--audience", G.AUDIENCE,
             "--decrypt-key", os.path.join(pki, "server-enc.key"), "--decrypt-cert", os.path.join(pki, "server-enc.pem")]
    proc = warden.verify(write("first.xml", etree.tostring(first)), write("second.xml", etree.tostring(second)),
                         now=NOW, extra=extra)
    lines = proc.json_lines()
    assert [line["delivered"] for line in lines] == [True, False], proc
    assert lines[1]["reason"] == "replay" and "assertion" in lines[1]["detail"], proc


def test_attackers_encrypted_username_token_in_a_signed_message_is_unsigned_part(enc, run, pki):
    env = gen_zeep.signed(pki, "alice")
    encrypt_into_security(enc, env, username_token())
    rejected(run(env), "unsigned-part", "UsernameToken")


def test_attackers_encrypted_timestamp_in_a_signed_message_without_one_is_unsigned_part(enc, run, pki):
    env = gen_zeep.envelope()
    gen_zeep.BinarySignature(os.path.join(pki, "alice.key"), os.path.join(pki, "alice.pem"),
                             signature_method=gen_zeep.xmlsec.Transform.RSA_SHA256,
                             digest_method=gen_zeep.xmlsec.Transform.SHA256).apply(env, {})
    encrypt_into_security(enc, env, gen_zeep.timestamp())
    rejected(run(env, '{ require = { signed = { "Body", "Timestamp" } } }'), "unsigned-part", "Timestamp")


def test_holder_of_key_with_two_certificates_is_saml_invalid(run, pki):
    assertion = signed_assertion(pki, method="holder-of-key")
    x509_data = assertion.find(".//{%s}SubjectConfirmationData//{%s}X509Data" % (G.SAML, DS))
    x509_data.append(copy.deepcopy(x509_data[0]))
    env = unsigned_envelope()
    security(env).append(assertion)
    rejected(run(env, saml=True), "saml-invalid", "exactly one ds:X509Certificate")


@pytest.mark.parametrize("where", ["clear", "encrypted"])
def test_a_nul_character_reference_in_the_issuer_is_malformed_or_decrypt_failed(enc, run, pki, where):
    text = etree.tostring(signed_assertion(pki)).replace(G.ISSUER.encode(), G.ISSUER.encode() + b"&#0;evil", 1)
    assert b"&#0;" in text
    env = unsigned_envelope()
    security(env).append(etree.Element("{urn:marker}here", nsmap={"mk": "urn:marker"}))
    data = etree.tostring(env)
    marker = b'<mk:here xmlns:mk="urn:marker"/>'
    assert data.count(marker) == 1, data
    if where == "clear":
        rejected(run(data.replace(marker, text), saml=True), "malformed")
    else:
        ed = etree.tostring(enc.encrypted_data(text, "ED-1")) + etree.tostring(reference_list("ED-1"))
        rejected(run(data.replace(marker, ed), saml=True), "decrypt-failed")


def test_sender_vouches_covering_the_assertion_through_an_str_transform_is_reference_invalid(run, pki):
    import attacks as A
    assertion = G.PRODUCERS["pysaml2"](pki, G.Spec(method="sender-vouches"))
    msg = A.Msg(G.message(pki, assertion, signer="alice"))
    str_transform = A.transform(A.STR_TRANSFORM, etree.fromstring(
        ('<wsse:TransformationParameters xmlns:wsse="%s"><ds:CanonicalizationMethod xmlns:ds="%s" Algorithm="%s"/>'
         '</wsse:TransformationParameters>' % (WSSE, DS, A.EXC_C14N)).encode()))
    ref = A.new_reference("#" + etree.fromstring(assertion).get("ID"), transforms=(str_transform,))
    ref.find(A.ds("DigestValue")).text = base64.b64encode(b"\0" * 32).decode()
    A.set_references(msg, list(msg.references()) + [ref])
    A.sign_signed_info(msg, A.Keys(pki)["alice"])
    rejected(run(msg.bytes(), saml=True), "reference-invalid", "ransform")


def nested_namespaces(enc, levels, per, parts):
    """An anonymous request: the Body holds `levels` nested elements declaring `per` namespaces
    each, and the innermost `parts` EncryptedData under one EncryptedKey."""
    env = unsigned_envelope()
    parent = helpers.body(env)
    for c in list(parent):
        parent.remove(c)
    for level in range(levels):
        nsmap = {"p%d_%d" % (level, i): "urn:%d:%d" % (level, i) for i in range(per)}
        parent = etree.SubElement(parent, "{urn:x}e", nsmap=nsmap)
    key = os.urandom(16)
    ids = ["ED-%d" % i for i in range(parts)]
    for i in ids:
        parent.append(enc.encrypted_data(b"<x:a xmlns:x='urn:x'/>", i, key=key, embed_key=False))
    security(env).append(enc.encrypted_key(key, ids))
    return env


def test_encrypted_data_under_too_many_namespace_declarations_is_limit_exceeded(enc, run):
    """Each plaintext is parsed in a wrapper that repeats every namespace in scope, at a cost
    quadratic in their number: 50 levels of 250 declarations and 64 parts cost about half a
    minute of CPU per message before the cap, sent by anyone (decryption comes before the
    token check, as it must). Now more than 512 in scope is limit-exceeded before any key."""
    rejected(run(nested_namespaces(enc, 50, 250, 64), NO_TOKEN), "limit-exceeded", "namespace declarations")
    out = delivered(run(nested_namespaces(enc, 2, 200, 64), NO_TOKEN))
    assert out["operation"] == "{urn:x}e", out


def test_decrypted_reference_list_naming_its_own_ciphertext_is_reference_invalid(enc, run):
    env = unsigned_envelope()
    sec = security(env)
    sec.append(enc.encrypted_data(etree.tostring(reference_list("ED-1")), "ED-1"))
    sec.append(reference_list("ED-1"))
    rejected(run(env, NO_TOKEN), "reference-invalid", "unknown id")


def test_decrypted_encrypted_key_below_the_cursor_is_read_in_order(enc, run):
    """An EncryptedData whose plaintext is an EncryptedKey (with its ReferenceList for the Body):
    the second walk reaches it where the ciphertext was, and it decrypts the Body."""
    env = unsigned_envelope()
    body = helpers.body(env)
    for c in list(body):
        body.remove(c)
    key = os.urandom(16)
    body.append(enc.encrypted_data(b'<ord:CreateOrder xmlns:ord="urn:example:orders"/>', "ED-B", key=key,
                                   embed_key=False))
    sec = security(env)
    sec.append(reference_list("ED-K"))
    sec.append(enc.encrypted_data(etree.tostring(enc.encrypted_key(key, ["ED-B"])), "ED-K"))
    out = delivered(run(env, NO_TOKEN))
    assert out["operation"] == "{urn:example:orders}CreateOrder" and out["encrypted"][0] == "Body", out


def test_clear_text_beside_an_encrypted_body_part_is_not_an_encrypted_body(enc, run):
    # The Body's own text travels in clear beside the EncryptedData: "Body" must not be
    # reported encrypted, and require.encrypted refuses it.
    env = encrypt_body(enc, unsigned_envelope())
    helpers.body(env).text = "transfer everything to mallory"
    security(env).append(reference_list("ED-B"))
    out = delivered(run(env, NO_TOKEN))
    assert out["encrypted"] == [], out
    rejected(run(env, '{ require = { token = false, encrypted = { "Body" } } }'), "unencrypted-part")
    # the same message without the clear text is an encrypted Body
    helpers.body(env).text = None
    out = delivered(run(env, NO_TOKEN))
    assert out["encrypted"] == ["Body"], out
