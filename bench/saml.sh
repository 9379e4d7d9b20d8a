#!/usr/bin/env bash
# bench/saml.sh — what a SAML assertion costs on top of verifying a signed message: builds
# bench_saml (release build), makes with the test PKI a zeep-signed order request (the
# baseline), the same request carrying a bearer assertion pysaml2 signed, and one whose
# sender-vouches assertion the message signature covers too (tests/interop/gen_saml.py), and
# measures warden_engine_receive on each, rounds alternating, in one run.
# usage: bench/saml.sh [SECONDS_PER_ROUND] [ROUNDS]   (default 1 5)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-1}
rounds=${2:-5}

build=build/bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DWARDEN_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target bench_saml >/dev/null
pki=$build/test-pki
sh tests/support/make_pki.sh "$pki"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 - "$pki" "$work" <<'PY'
import os, sys
sys.path.insert(0, "tests/interop")
from lxml import etree
import gen_saml as G
import gen_zeep
pki, out = sys.argv[1], sys.argv[2]
with open(os.path.join(out, "signed.xml"), "wb") as f:
    f.write(etree.tostring(gen_zeep.signed(pki, "alice")))
with open(os.path.join(out, "saml-bearer.xml"), "wb") as f:
    f.write(G.message(pki, G.pysaml2_assertion(pki, G.Spec())))
with open(os.path.join(out, "saml-sender-vouches.xml"), "wb") as f:
    f.write(G.message(pki, G.pysaml2_assertion(pki, G.Spec(method="sender-vouches")), cover_assertion=True))
PY
"$build/bench/bench_saml" "$pki/ca.pem" "$pki/idp.pem" 2026-11-25T12:00:30Z "$seconds" "$rounds" \
  "$work/signed.xml" "$work/saml-bearer.xml" "$work/saml-sender-vouches.xml"
