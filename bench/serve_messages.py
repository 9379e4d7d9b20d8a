"""bench/serve_messages.py OUT_DIR PKI_DIR COUNT — COUNT distinct messages signed by zeep now
(alice, RSA-SHA256, Body + Timestamp, a unique MessageID each), as OUT_DIR/N.xml, for the
warden serve benchmark: every request carries a message never seen before, so replay
detection does its full work. Run with the system python (python3-zeep, python3-xmlsec)."""
import datetime as dt
import os
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "interop"))

from lxml import etree  # noqa: E402
import xmlsec  # noqa: E402
import gen_zeep  # noqa: E402
from zeep.wsse.signature import BinarySignature  # noqa: E402
from zeep.wsse.utils import get_security_header  # noqa: E402


def main(out, pki, count):
    os.makedirs(out, exist_ok=True)
    signer = BinarySignature(os.path.join(pki, "alice.key"), os.path.join(pki, "alice.pem"),
                             signature_method=xmlsec.Transform.RSA_SHA256,
                             digest_method=xmlsec.Transform.SHA256)
    now = dt.datetime.utcnow().replace(microsecond=0)
    for i in range(count):
        env = gen_zeep.envelope(msgid=str(uuid.uuid4()))
        get_security_header(env).append(gen_zeep.timestamp(now, now + dt.timedelta(minutes=30)))
        signer.apply(env, {})
        with open(os.path.join(out, "%d.xml" % i), "wb") as f:
            f.write(etree.tostring(env))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
