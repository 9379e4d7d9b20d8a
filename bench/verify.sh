#!/usr/bin/env bash
# bench/verify.sh — the verification benchmark: builds bench_verify (release build, no
# sanitizers) and the WSS4J harness, makes order requests of about 4 KB, 64 KB and 1 MB,
# signs them with python3-zeep (RSA-2048, RSA-SHA256, SHA-256 digests, Body + Timestamp),
# and measures Warden beside libxmlsec1 (in-process), Apache WSS4J 1.6 (a warmed-up JVM) and
# the floor (parse + one SHA-256 + one RSA verify), alternating rounds in one run.
# usage: bench/verify.sh [SECONDS_PER_ROUND] [ROUNDS] [SIZES...]   (default 1 5 4096 64K 1M)
# The JVM side needs Debian's libwss4j-java and default-jdk-headless: installed here when
# missing (a benchmark's dependency, not the build's). WARDEN_BENCH_NO_WSS4J=1 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup
seconds=${1:-1}
rounds=${2:-5}
shift $(( $# > 2 ? 2 : $# ))
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(4096 64K 1M)

build=build/bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DWARDEN_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target bench_verify >/dev/null

wss4j=()
if [ "${WARDEN_BENCH_NO_WSS4J:-0}" != 1 ]; then
  missing=()
  for package in libwss4j-java default-jdk-headless; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "bench: installing ${missing[*]} for the WSS4J baseline"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  classes=$build/wss4j
  classpath=/usr/share/java/wss4j.jar:/usr/share/java/xmlsec.jar:/usr/share/java/commons-logging.jar
  classpath=$classpath:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-nop.jar
  mkdir -p "$classes"
  javac -d "$classes" -cp "$classpath" bench/wss4j/Wss4jVerify.java
  wss4j=(--wss4j "$classes:$classpath")
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
messages=()
for size in "${sizes[@]}"; do
  /usr/bin/python3 bench/make_message.py "$work/request-$size.xml" "$size"
  /usr/bin/python3 examples/demo/sign.py "$work/request-$size.xml" examples/demo/client.key examples/demo/client.pem \
    "$work/signed-$size.xml"
  messages+=("$work/signed-$size.xml")
done
"$build/bench/bench_verify" "${wss4j[@]}" examples/demo/ca.pem examples/demo/client.pem "$seconds" "$rounds" \
  "${messages[@]}"
