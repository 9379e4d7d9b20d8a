#!/usr/bin/env bash
# bench/decide.sh — build (release, no sanitizers) and measure policy decisions on the
# example policy set and on 10,000 generated rules. usage: bench/decide.sh [SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup
build=build/bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DWARDEN_BENCH=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target bench_decide >/dev/null
# the fixtures are signed at 2026-11-25T12:00:00Z; decide as of 30 s later
"$build/bench/bench_decide" examples/orders.lua policies/fixtures/create-small.xml 1795608030 "${1:-1}" "${2:-5}"
# the same decision through the Python binding (bindings/python): what ctypes adds per decide
WARDEN_LIBRARY="$build/lib/libwarden.so" /usr/bin/python3 bench/python_decide.py examples/orders.lua policies/fixtures/create-small.xml 1795608030 "${1:-1}" "${2:-5}"
