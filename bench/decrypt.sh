#!/usr/bin/env bash
# bench/decrypt.sh — the encryption benchmark (bench/decrypt.c): builds bench_decrypt (release
# build, no sanitizers), makes the smallest order request (about 7 KB once secured), has Apache WSS4J
# 1.6 sign and encrypt it (tests/interop/java/Wss4jSecure.java: sign-then-encrypt, RSA-OAEP,
# AES-128-GCM; and an AES-128-CBC copy) with the test PKI, derives the failing variants (a CBC
# padding byte out of range, a CBC plaintext that is garbage with valid padding, a GCM bit flip,
# an EncryptedKey that does not unwrap), and measures Warden beside libxmlsec1 and WSS4J (a
# warmed-up JVM) in one run.
# usage: bench/decrypt.sh [SECONDS_PER_ROUND] [ROUNDS]   (default 1 5)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup
seconds=${1:-1}
rounds=${2:-5}

build=build/bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DWARDEN_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target bench_decrypt >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pki=$work/pki
sh tests/support/make_pki.sh "$pki"
classpath=/usr/share/java/wss4j.jar:/usr/share/java/xmlsec.jar:/usr/share/java/commons-logging.jar
classpath=$classpath:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-nop.jar
javac -d "$work" -cp "$classpath" tests/interop/java/Wss4jSecure.java bench/wss4j/Wss4jVerify.java
openssl pkcs12 -export -in "$pki/server-enc.pem" -inkey "$pki/server-enc.key" -name server -passout pass:secret \
  -out "$work/server.p12" 2>/dev/null
/usr/bin/python3 bench/make_message.py "$work/request.xml" 400
secure() {
  java -cp "$work:$classpath" Wss4jSecure in="$work/request.xml" out="$work/$1.xml" p12="$pki/alice.p12" \
    password=secret recipient="$pki/server-enc.pem" "${@:2}"
}
secure gcm data=http://www.w3.org/2009/xmlenc11#aes128-gcm
secure cbc data=http://www.w3.org/2001/04/xmlenc#aes128-cbc
/usr/bin/python3 - "$work" <<'PY'
import base64, sys
from lxml import etree
work = sys.argv[1]
XENC = "http://www.w3.org/2001/04/xmlenc#"
def variant(source, target, where, offset, xor):
    root = etree.parse("%s/%s.xml" % (work, source)).getroot()
    path = ".//{%s}EncryptedData/{%s}CipherData/{%s}CipherValue" if where == "data" else \
           ".//{%s}EncryptedKey/{%s}CipherData/{%s}CipherValue"
    value = root.find(path % (XENC, XENC, XENC))
    raw = bytearray(base64.b64decode("".join(value.text.split())))
    raw[offset % len(raw)] ^= xor
    value.text = base64.b64encode(bytes(raw)).decode()
    open("%s/%s.xml" % (work, target), "wb").write(etree.tostring(root))
variant("cbc", "cbc-padding", "data", -17, 0x80)   # the padding byte becomes > 16
variant("cbc", "cbc-garbage", "data", 20, 0x01)    # valid padding, the first block garbage
variant("gcm", "gcm-flip", "data", 40, 0x01)       # the tag does not verify
variant("gcm", "key-flip", "key", 100, 0x01)       # the key does not unwrap: a random key instead
PY
"$build/bench/bench_decrypt" --wss4j "$work:$classpath" "$work/server.p12" "$seconds" "$rounds" "$(date -u +%s)" "$pki/ca.pem" "$pki/server-enc.key" \
  "$pki/server-enc.pem" "$pki/alice.pem" "$work/gcm.xml" "cbc (decrypts)=$work/cbc.xml" \
  "cbc padding error=$work/cbc-padding.xml" "cbc valid padding, garbage=$work/cbc-garbage.xml" \
  "gcm tag mismatch=$work/gcm-flip.xml" "key does not unwrap=$work/key-flip.xml"
