#!/usr/bin/python3
"""Signs a SOAP request the way a real client does: python3-zeep's BinarySignature
(RSA-SHA256, SHA-256 digests, exclusive c14n) over the Body and a wsu:Timestamp.

usage: sign.py REQUEST KEY CERT OUT [CREATED]

CREATED (e.g. 2026-11-25T12:00:00Z) fixes the Timestamp's Created time; Expires is five
minutes later. Without it the current time is used.
"""
import datetime
import sys

import xmlsec
from lxml import etree
from zeep.wsse.signature import BinarySignature
from zeep.wsse.utils import WSU, get_security_header


def main(request, key, cert, out, created=None):
    envelope = etree.parse(request).getroot()
    security = get_security_header(envelope)
    if created:
        now = datetime.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    else:
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    expires = now + datetime.timedelta(minutes=5)
    security.append(WSU.Timestamp(WSU.Created(now.strftime("%Y-%m-%dT%H:%M:%SZ")),
                                  WSU.Expires(expires.strftime("%Y-%m-%dT%H:%M:%SZ"))))
    BinarySignature(key, cert, signature_method=xmlsec.Transform.RSA_SHA256,
                    digest_method=xmlsec.Transform.SHA256).apply(envelope, {})
    with open(out, "wb") as f:
        f.write(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


if __name__ == "__main__":
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    main(*sys.argv[1:])
