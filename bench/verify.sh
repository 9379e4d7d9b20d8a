#!/usr/bin/env bash
# bench/verify.sh — build the benchmark (release build, no sanitizers), make a ~4 KB message
# signed by python3-zeep (RSA-2048, RSA-SHA256, Body + Timestamp), and measure Warden against
# libxmlsec1 on it. usage: bench/verify.sh [SECONDS_PER_ROUND] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup
build=build/bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DWARDEN_BENCH=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target bench_verify >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 bench/make_message.py "$work/request.xml"
/usr/bin/python3 examples/demo/sign.py "$work/request.xml" examples/demo/client.key examples/demo/client.pem "$work/signed.xml"
"$build/bench/bench_verify" "$work/signed.xml" examples/demo/ca.pem examples/demo/client.pem "${1:-1}" "${2:-5}"
