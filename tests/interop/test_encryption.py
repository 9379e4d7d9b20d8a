"""Encrypted messages made at test time by implementations no one here wrote: Apache WSS4J
1.6 (tests/interop/java/Wss4jSecure.java: WSSecSignature and WSSecEncrypt in both orders, as
a WSS4J client secures a request), xmlsec1 --encrypt with templates and npm xml-encryption
(tests/interop/node/gen_xmlenc.js) (each an EncryptedData with its EncryptedKey inside,
which Python then places in a SOAP envelope without any cryptography of its own). Each is decrypted and verified by `warden verify` with the
service's key pair (make_pki.sh: server-enc.pem/.key), and each negative asserts its reason.

A missing javac, WSS4J jar or xmlsec1 FAILS the tests that need it (never skips)."""
import base64
import datetime
import json
import os
import shutil
import subprocess

import pytest
from lxml import etree

import helpers

XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
WSSE11 = "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"
GCM128, GCM192, GCM256 = XENC11 + "aes128-gcm", XENC11 + "aes192-gcm", XENC11 + "aes256-gcm"
CBC128, CBC256 = XENC + "aes128-cbc", XENC + "aes256-cbc"
RSA15 = XENC + "rsa-1_5"
SHA256 = XENC + "sha256"
FAILED_TEXT = "the message could not be decrypted"  # core/decrypt.h, the one detail

HERE = os.path.dirname(os.path.abspath(__file__))
JARS = ["/usr/share/java/%s.jar" % j for j in ("wss4j", "xmlsec", "commons-logging", "slf4j-api", "slf4j-nop")]
REQUEST = os.path.join(HERE, "..", "..", "examples", "demo", "request.xml")


# --- producers -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def wss4j_classpath(tmp_path_factory):
    javac = shutil.which("javac")
    if not javac:
        pytest.fail("javac is not on PATH (Debian package default-jdk-headless)", pytrace=False)
    missing = [j for j in JARS if not os.path.isfile(j)]
    if missing:
        pytest.fail("WSS4J jars missing: %s (Debian package libwss4j-java)" % missing, pytrace=False)
    out = tmp_path_factory.mktemp("wss4j-classes")
    classpath = ":".join(JARS)
    proc = subprocess.run([javac, "-d", str(out), "-cp", classpath,
                           os.path.join(HERE, "java", "Wss4jSecure.java")],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        pytest.fail("javac Wss4jSecure.java failed:\n%s%s" % (proc.stdout, proc.stderr), pytrace=False)
    return "%s:%s" % (out, classpath)


@pytest.fixture
def wss4j(wss4j_classpath, pki, tmp_path):
    """wss4j(name, KEY=VALUE...) -> bytes of a request WSS4J secured for the service."""
    def _secure(name="m", **options):
        out = tmp_path / ("%s.xml" % name)
        args = {"in": REQUEST, "out": str(out), "p12": os.path.join(pki, "alice.p12"), "password": "secret",
                "recipient": os.path.join(pki, "server-enc.pem")}
        args.update(options)
        proc = subprocess.run(["java", "-cp", wss4j_classpath, "Wss4jSecure"]
                              + ["%s=%s" % kv for kv in args.items()],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, "WSS4J failed:\n%s%s" % (proc.stdout, proc.stderr)
        return out.read_bytes()
    return _secure


XMLSEC_TEMPLATE = """<xenc:EncryptedData xmlns:xenc="%(xenc)s" Id="%(id)s" Type="%(xenc)s%(type)s">
<xenc:EncryptionMethod Algorithm="%(data)s"/>
<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
<xenc:EncryptedKey>
<xenc:EncryptionMethod Algorithm="%(xenc)srsa-oaep-mgf1p"/>
<ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>
<xenc:CipherData><xenc:CipherValue/></xenc:CipherData>
</xenc:EncryptedKey>
</ds:KeyInfo>
<xenc:CipherData><xenc:CipherValue/></xenc:CipherData>
</xenc:EncryptedData>"""

ENVELOPE = """<soap:Envelope xmlns:soap="%(soap)s" xmlns:wsse="%(wsse)s" xmlns:xenc="%(xenc)s"
 xmlns:wsu="%(wsu)s" xmlns:ord="urn:example:orders">
<soap:Header>%(headers)s<wsse:Security><xenc:ReferenceList><xenc:DataReference URI="#%(id)s"/>
</xenc:ReferenceList></wsse:Security></soap:Header>
<soap:Body wsu:Id="body-1">%(body)s</soap:Body></soap:Envelope>"""

ORDER = b'<ord:CreateOrder xmlns:ord="urn:example:orders"><ord:amount>250</ord:amount></ord:CreateOrder>'


@pytest.fixture
def xmlsec_encrypt(pki, tmp_path):
    """xmlsec_encrypt(plaintext, data=URI, type="Content", recipient=...) -> an EncryptedData
    element (bytes) that xmlsec1 made for the recipient's certificate."""
    binary = shutil.which("xmlsec1")
    if not binary:
        pytest.fail("xmlsec1 is not on PATH (Debian package xmlsec1)", pytrace=False)
    count = [0]

    def _encrypt(plaintext, data=GCM128, type_="Content", recipient="server-enc.pem", id_="ED-1"):
        count[0] += 1
        template = tmp_path / ("template-%d.xml" % count[0])
        template.write_text(XMLSEC_TEMPLATE % {"xenc": XENC, "id": id_, "type": type_, "data": data})
        plain = tmp_path / ("plain-%d.bin" % count[0])
        plain.write_bytes(plaintext)
        out = tmp_path / ("encrypted-%d.xml" % count[0])
        session = {GCM128: "aes-128", GCM192: "aes-192", GCM256: "aes-256", CBC128: "aes-128",
                   CBC256: "aes-256"}[data]
        proc = subprocess.run([binary, "--encrypt", "--pubkey-cert-pem", os.path.join(pki, recipient),
                               "--session-key", session, "--binary-data", str(plain), "--output", str(out),
                               str(template)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, "xmlsec1 --encrypt failed:\n%s%s" % (proc.stdout, proc.stderr)
        data_bytes = out.read_bytes()
        if data_bytes.startswith(b"<?xml"):
            data_bytes = data_bytes[data_bytes.index(b"?>") + 2:].lstrip()
        return data_bytes
    return _encrypt


def xmlsec_message(encrypted, headers=b"", body=None, id_="ED-1"):
    """A SOAP 1.1 envelope: the EncryptedData in the Body (or `body`), and a standalone
    ReferenceList naming it in the Security header."""
    text = ENVELOPE % {"soap": helpers.SOAP11, "wsse": helpers.WSSE, "xenc": XENC, "wsu": helpers.WSU,
                       "headers": headers.decode(), "id": id_,
                       "body": (body if body is not None else encrypted).decode()}
    return text.encode()


# --- running warden --------------------------------------------------------------------------

class Service:
    """`warden verify` as the service: its key pair, the test PKI, an optional config."""

    def __init__(self, warden, pki, write):
        self.warden, self.pki, self.write = warden, pki, write

    def verify(self, data, config=None, key="server-enc", now=None):
        extra = []
        if key:
            extra += ["--decrypt-key", os.path.join(self.pki, key + ".key"),
                      "--decrypt-cert", os.path.join(self.pki, key + ".pem")]
        if config:
            extra += ["-c", self.write("config.lua", ("return " + config).encode())]
        path = self.write("message.xml", data)
        rc, out, run = self.warden.verify_one(path, now=now, extra=extra)
        return out, run


@pytest.fixture
def service(warden, pki, write):
    return Service(warden, pki, write)


def delivered(out, run):
    assert out["delivered"] is True, "rejected: %r\n%r" % (out, run)
    return out


def rejected(out, run, reason):
    assert out["delivered"] is False, "delivered, expected %s: %r" % (reason, out)
    assert out["reason"] == reason, "%s, expected %s: %r\n%r" % (out["reason"], reason, out, run)
    return out


# --- tampering --------------------------------------------------------------------------------

def cipher_value(root, where):
    """The CipherValue of the Body's EncryptedData ("data") or of the header's EncryptedKey ("key")."""
    if where == "data":
        return helpers.body(root).find(".//{%s}EncryptedData/{%s}CipherData/{%s}CipherValue" % (XENC, XENC, XENC))
    return helpers.security(root).find("{%s}EncryptedKey/{%s}CipherData/{%s}CipherValue" % (XENC, XENC, XENC))


def flip(data, where="data", offset=None, xor=0x01):
    """XOR one byte of a CipherValue (by default in the middle)."""
    root = helpers.parse(data)
    value = cipher_value(root, where)
    raw = bytearray(base64.b64decode("".join(value.text.split())))
    i = len(raw) // 2 if offset is None else offset % len(raw)
    raw[i] ^= xor
    value.text = base64.b64encode(bytes(raw)).decode()
    return helpers.serialize(root)


# --- WSS4J: positives ------------------------------------------------------------------------

@pytest.mark.parametrize("order", ["sign-encrypt", "encrypt-sign"])
@pytest.mark.parametrize("data", [GCM128, GCM256])
def test_wss4j_signed_and_encrypted_body_is_delivered_as_plaintext(service, wss4j, order, data):
    out = delivered(*service.verify(wss4j(order=order, data=data), config='{ require = { encrypted = { "Body" } } }'))
    assert out["protection"] == "sign_and_encrypt"
    assert out["operation"] == "{urn:example:orders}CreateOrder"
    assert out["encrypted"] == ["Body"]
    assert set(out["signed"]) == {"Body", "Timestamp"}
    assert [t["x509"]["subject_cn"] for t in out["tokens"]] == ["alice"]


@pytest.mark.parametrize("keyid", ["issuer-serial", "ski", "thumbprint", "bst"])
def test_wss4j_encrypted_key_found_by_each_identifier_form(service, wss4j, keyid):
    out = delivered(*service.verify(wss4j(keyid=keyid)))
    assert out["encrypted"] == ["Body"]
    # our own certificate in a BinarySecurityToken is no token of the sender
    assert [t["role"] for t in out["tokens"]] == ["signing"]


def test_wss4j_oaep_with_sha256_digest(service, wss4j):
    delivered(*service.verify(wss4j(oaep_digest=SHA256, data=GCM192)))


@pytest.mark.parametrize("order", ["sign-encrypt", "encrypt-sign"])
def test_wss4j_cbc_is_delivered_when_allowed(service, wss4j, order):
    message = wss4j(order=order, data=CBC256)
    rejected(*service.verify(message), "weak-algorithm")
    out = delivered(*service.verify(message, config="{ decrypt = { allow_cbc = true } }"))
    assert out["protection"] == "sign_and_encrypt"


def test_wss4j_rsa15_is_refused_unless_allowed(service, wss4j):
    message = wss4j(transport=RSA15)
    rejected(*service.verify(message), "weak-algorithm")
    delivered(*service.verify(message, config="{ decrypt = { allow_rsa15 = true } }"))


def test_wss4j_encrypted_and_signed_timestamp_is_named_encrypted(service, wss4j):
    out = delivered(*service.verify(wss4j(encrypt="Body,Timestamp"),
                                    config='{ require = { encrypted = { "Body", "Timestamp" } } }'))
    assert out["encrypted"] == ["Body", "Timestamp"]
    assert "timestamp" in out


def test_wss4j_encrypted_only_message_is_encrypted_not_sign_and_encrypt(service, wss4j):
    # encryption alone proves no sender: WSS4J's message without a signature has no token
    out = delivered(*service.verify(wss4j(order="encrypt"), config="{ require = { token = false } }"))
    assert out["protection"] == "none"
    assert out["encrypted"] == ["Body"]


# --- WSS4J: negatives ------------------------------------------------------------------------

@pytest.mark.parametrize("order,where", [("sign-encrypt", "data"), ("sign-encrypt", "key"), ("encrypt-sign", "key")])
def test_flipped_ciphertext_bit_is_decrypt_failed(service, wss4j, order, where):
    out = rejected(*service.verify(flip(wss4j(order=order), where)), "decrypt-failed")
    assert out["detail"] == FAILED_TEXT


def test_flipped_ciphertext_bit_under_a_signature_is_caught_by_the_signature_first(service, wss4j):
    # encrypt-then-sign: the signature, above the EncryptedKey, covers the ciphertext
    rejected(*service.verify(flip(wss4j(order="encrypt-sign"), "data")), "digest-mismatch")


def test_key_for_another_recipient_is_decrypt_failed(service, wss4j, pki):
    out = rejected(*service.verify(wss4j(recipient=os.path.join(pki, "other-enc.pem"))), "decrypt-failed")
    assert out["detail"] == FAILED_TEXT


def test_encrypted_message_without_a_decrypt_key_is_decrypt_failed(service, wss4j):
    rejected(*service.verify(wss4j(), key=None), "decrypt-failed")


def test_every_cbc_failure_reads_alike_and_only_the_log_says_why(service, wss4j):
    """CBC padding errors (XOR 0x80 into the last byte of the next-to-last block makes the
    padding byte > 16), padding that stays valid over a wrong plaintext, a wrong key, a bit
    flip in GCM: one reason, one detail; the cause goes to the engine's log (stderr) only."""
    config = "{ decrypt = { allow_cbc = true } }"
    cbc = wss4j(data=CBC128)
    details, causes = set(), []
    for xor in (0x80, 0xff, 0x40, 0x01, 0x02, 0x03):
        out, run = service.verify(flip(cbc, "data", offset=-17, xor=xor), config=config)
        rejected(out, run, "decrypt-failed")
        details.add(out["detail"])
        causes.append(run.stderr)
    out, run = service.verify(flip(cbc, "data", offset=20), config=config)  # the first block: garbage text
    details.add(rejected(out, run, "decrypt-failed")["detail"])
    out, run = service.verify(flip(wss4j(data=GCM128), "data"))
    details.add(rejected(out, run, "decrypt-failed")["detail"])
    assert details == {FAILED_TEXT}
    assert "padding" in causes[0] and "padding" not in details.pop()


def test_data_reference_to_a_missing_target_is_rejected(service, wss4j):
    """Encrypt-then-sign: the signature covers the Body's ciphertext and still verifies when
    the EncryptedKey's DataReference names nothing; the Body is not plaintext."""
    root = helpers.parse(wss4j(order="encrypt-sign"))
    reference = helpers.security(root).find(".//{%s}DataReference" % XENC)
    reference.set("URI", "#nowhere")
    rejected(*service.verify(helpers.serialize(root)), "reference-invalid")


def test_encrypted_body_that_no_data_reference_names_is_decrypt_failed(service, wss4j):
    root = helpers.parse(wss4j(order="encrypt-sign"))
    key = helpers.security(root).find("{%s}EncryptedKey" % XENC)
    key.remove(key.find("{%s}ReferenceList" % XENC))
    rejected(*service.verify(helpers.serialize(root)), "decrypt-failed")


def test_required_body_left_unencrypted_is_unencrypted_part(service, wss4j):
    out = rejected(*service.verify(wss4j(order="sign"), config='{ require = { encrypted = { "Body" } } }'),
                   "unencrypted-part")
    assert "Body" in out["detail"]


def test_required_timestamp_left_unencrypted_is_unencrypted_part(service, wss4j):
    rejected(*service.verify(wss4j(), config='{ require = { encrypted = { "Body", "Timestamp" } } }'),
             "unencrypted-part")


def test_timestamp_encrypted_but_not_signed_is_unsigned_part(service, wss4j):
    rejected(*service.verify(wss4j(encrypt="Body,Timestamp", sign="Body")), "unsigned-part")


# --- xmlsec1 as the producer -----------------------------------------------------------------

@pytest.mark.parametrize("data", [GCM128, GCM256])
def test_xmlsec1_encrypted_body_is_delivered(service, xmlsec_encrypt, data):
    message = xmlsec_message(xmlsec_encrypt(ORDER, data=data))
    out = delivered(*service.verify(message, config="{ require = { token = false } }"))
    assert out["operation"] == "{urn:example:orders}CreateOrder"
    assert out["encrypted"] == ["Body"]
    assert out["protection"] == "none"


def test_xmlsec1_cbc_is_weak_unless_allowed(service, xmlsec_encrypt):
    message = xmlsec_message(xmlsec_encrypt(ORDER, data=CBC256))
    rejected(*service.verify(message, config="{ require = { token = false } }"), "weak-algorithm")
    delivered(*service.verify(message, config="{ require = { token = false }, decrypt = { allow_cbc = true } }"))


def test_xmlsec1_element_type_in_a_header(service, xmlsec_encrypt):
    header = b'<ord:Priority xmlns:ord="urn:example:orders">high</ord:Priority>'
    encrypted = xmlsec_encrypt(header, type_="Element", id_="EH-1")
    message = xmlsec_message(b"", headers=encrypted, body=ORDER, id_="EH-1")
    out = delivered(*service.verify(message, config="{ require = { token = false } }"))
    assert out["encrypted"] == ["{urn:example:orders}Priority"]


def test_plaintext_that_is_a_second_body_is_decrypt_failed(service, xmlsec_encrypt):
    evil = ('<soap:Body xmlns:soap="%s">' % helpers.SOAP11).encode() + ORDER + b"</soap:Body>"
    message = xmlsec_message(xmlsec_encrypt(evil))
    rejected(*service.verify(message, config="{ require = { token = false } }"), "decrypt-failed")


def test_plaintext_with_an_id_that_exists_elsewhere_is_duplicate_id(service, xmlsec_encrypt):
    evil = ('<ord:CreateOrder xmlns:ord="urn:example:orders" xmlns:wsu="%s" wsu:Id="body-1"/>'
            % helpers.WSU).encode()
    message = xmlsec_message(xmlsec_encrypt(evil))
    rejected(*service.verify(message, config="{ require = { token = false } }"), "duplicate-id")


def test_element_type_with_two_elements_is_decrypt_failed(service, xmlsec_encrypt):
    message = xmlsec_message(xmlsec_encrypt(ORDER + ORDER, type_="Element"))
    rejected(*service.verify(message, config="{ require = { token = false } }"), "decrypt-failed")


def test_plaintext_with_an_entity_reference_is_decrypt_failed(service, xmlsec_encrypt):
    message = xmlsec_message(xmlsec_encrypt(b"<ord:x xmlns:ord='urn:example:orders'>&ent;</ord:x>"))
    rejected(*service.verify(message, config="{ require = { token = false } }"), "decrypt-failed")


def test_data_reference_outside_the_body_and_headers_is_reference_invalid(service, xmlsec_encrypt):
    encrypted = xmlsec_encrypt(ORDER)
    headers = b'<x:Custom xmlns:x="urn:example:custom">' + encrypted + b"</x:Custom>"
    message = xmlsec_message(b"", headers=headers, body=ORDER)
    rejected(*service.verify(message, config="{ require = { token = false } }"), "reference-invalid")


def test_data_reference_to_an_element_that_is_not_encrypted_is_reference_invalid(service, xmlsec_encrypt):
    message = xmlsec_message(xmlsec_encrypt(ORDER), id_="body-1")
    rejected(*service.verify(message, config="{ require = { token = false } }"), "reference-invalid")


def test_xmlsec1_key_for_another_recipient_is_decrypt_failed(service, xmlsec_encrypt):
    message = xmlsec_message(xmlsec_encrypt(ORDER, recipient="other-enc.pem"))
    out = rejected(*service.verify(message, config="{ require = { token = false } }"), "decrypt-failed")
    assert out["detail"] == FAILED_TEXT


def test_ciphertext_in_the_body_without_any_reference_is_decrypt_failed(service, xmlsec_encrypt):
    text = xmlsec_message(xmlsec_encrypt(ORDER)).replace(b'URI="#ED-1"', b'URI="#body-1"')
    root = helpers.parse(text)
    sec = helpers.security(root)
    sec.remove(sec[0])
    rejected(*service.verify(helpers.serialize(root), config="{ require = { token = false } }"), "decrypt-failed")


# --- encrypted headers ------------------------------------------------------------------------

def wrap_in_encrypted_header(data, must_understand=False, keep_reference=True):
    """WSS4J 1.6 encrypts a header as a bare EncryptedData; WS-Security 1.1's form wraps it in a
    wsse11:EncryptedHeader, which the DataReference then names (no cryptography changes)."""
    root = helpers.parse(data)
    header = helpers.header(root)
    data_element = header.find("{%s}EncryptedData" % XENC)
    wrapper = etree.Element("{%s}EncryptedHeader" % WSSE11, nsmap={"wsse11": WSSE11})
    wrapper.set(helpers.WSU_ID, "EH-1")
    if must_understand:
        wrapper.set("{%s}mustUnderstand" % helpers.SOAP11, "1")
    data_element.addprevious(wrapper)
    wrapper.append(data_element)
    for reference in helpers.security(root).iter("{%s}DataReference" % XENC):
        if reference.get("URI") == "#" + data_element.get("Id"):
            if keep_reference:
                reference.set("URI", "#EH-1")
            else:
                reference.getparent().remove(reference)
    return helpers.serialize(root)


def test_wss4j_encrypted_action_header_is_decrypted_and_signed(service, wss4j):
    out = delivered(*service.verify(wss4j(encrypt="Body,Action", sign="Body,Timestamp,Action"),
                                    config='{ require = { encrypted = { "Body", "Action" }, '
                                           'signed = { "Body", "Timestamp", "Action" } } }'))
    assert out["encrypted"] == ["Body", "Action"]
    assert out["action"] == "urn:example:orders/Create"


def test_encrypted_header_wrapper_is_decrypted_in_place(service, wss4j):
    message = wrap_in_encrypted_header(wss4j(encrypt="Body,Action", sign="Body,Timestamp,Action"))
    out = delivered(*service.verify(message, config='{ require = { encrypted = { "Action" } } }'))
    assert out["action"] == "urn:example:orders/Create"
    assert "Action" in out["encrypted"] and "Action" in out["signed"]


def test_encrypted_header_with_must_understand_that_nothing_decrypts_is_mustunderstand(service, wss4j):
    message = wrap_in_encrypted_header(wss4j(encrypt="Body,Action", sign="Body,Timestamp"),
                                       must_understand=True, keep_reference=False)
    rejected(*service.verify(message), "mustunderstand")


# --- policies see the decrypted message ---------------------------------------------------------

def test_policy_reads_the_plaintext_body_and_the_encryption_facts(warden, pki, wss4j, tmp_path):
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "orders.lua").write_text(
        'permit "encrypted small orders" {\n'
        '  action = "urn:example:orders/Create",\n'
        '  when = function(m)\n'
        '    return m.protection == "sign_and_encrypt" and m.encrypted.Body and m.signed.Body\n'
        '       and tonumber(m:body("amount")) < 1000\n'
        '  end,\n'
        '}\n')
    message = tmp_path / "m.xml"
    message.write_bytes(wss4j(order="encrypt-sign"))
    proc = subprocess.run([warden.binary, "decide", "--json", "--trust", os.path.join(pki, "ca.pem"),
                           "--decrypt-key", os.path.join(pki, "server-enc.key"),
                           "--decrypt-cert", os.path.join(pki, "server-enc.pem"),
                           "--policies", str(policies), str(message)],
                          capture_output=True, text=True, timeout=60)
    out = json.loads(proc.stdout)
    assert out["decision"] == "allow", (out, proc.stderr)
    assert out["rules"] == ["encrypted small orders"]


def test_expired_message_is_rejected_for_its_timestamp_before_any_key_is_used(service, wss4j):
    """WSS4J puts the Timestamp last in the header; the cheap checks still come before the
    signature and the decryption: an hour later, a message with a broken signature and a
    broken ciphertext is timestamp-expired, not signature-invalid or decrypt-failed."""
    root = helpers.parse(flip(wss4j(), "data"))
    value = helpers.security(root).find(".//{%s}SignatureValue" % helpers.DS)
    raw = bytearray(base64.b64decode("".join(value.text.split())))
    raw[10] ^= 1
    value.text = base64.b64encode(bytes(raw)).decode()
    later = helpers.iso(helpers.created_of(helpers.serialize(root)) + datetime.timedelta(hours=1))
    rejected(*service.verify(helpers.serialize(root), now=later), "timestamp-expired")


# --- npm xml-encryption as the producer ------------------------------------------------------------

@pytest.fixture
def npm_encrypt(pki, tmp_path):
    """npm_encrypt(plaintext, data=URI) -> an EncryptedData (Type Element, its EncryptedKey with
    a bare X509Data inside) that npm xml-encryption made for server-enc.pem, given Id ED-1."""
    node = shutil.which("node")
    if not node:
        pytest.fail("node is not on PATH (Node.js 20)", pytrace=False)
    node_dir = os.path.join(HERE, "node")
    if not os.path.isdir(os.path.join(node_dir, "node_modules", "xml-encryption")):
        pytest.fail("npm xml-encryption is not installed; run `npm ci --prefix tests/interop/node`", pytrace=False)

    def _encrypt(plaintext, data=GCM128, digest="sha1"):
        plain = tmp_path / "npm-plain.xml"
        plain.write_bytes(plaintext)
        proc = subprocess.run([node, os.path.join(node_dir, "gen_xmlenc.js"), os.path.join(pki, "server-enc.pem"),
                               str(plain), data, digest], cwd=node_dir, capture_output=True, timeout=60)
        assert proc.returncode == 0, "xml-encryption failed: %s" % proc.stderr.decode()
        element = etree.fromstring(proc.stdout)
        element.set("Id", "ED-1")
        return etree.tostring(element)
    return _encrypt


@pytest.mark.parametrize("data,digest", [(GCM128, "sha1"), (GCM256, "sha1"), (GCM128, "sha256")])
def test_npm_xml_encryption_element_in_the_body_is_delivered(service, npm_encrypt, data, digest):
    out = delivered(*service.verify(xmlsec_message(npm_encrypt(ORDER, data=data, digest=digest)),
                                    config='{ require = { token = false, encrypted = { "Body" } } }'))
    assert out["operation"] == "{urn:example:orders}CreateOrder"
    assert out["encrypted"] == ["Body"]


def test_npm_xml_encryption_cbc_only_when_allowed(service, npm_encrypt):
    message = xmlsec_message(npm_encrypt(ORDER, data=CBC256))
    rejected(*service.verify(message, config="{ require = { token = false } }"), "weak-algorithm")
    delivered(*service.verify(message, config="{ require = { token = false }, decrypt = { allow_cbc = true } }"))
