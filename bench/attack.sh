#!/usr/bin/env bash
# bench/attack.sh — limits under attack: build the benchmark (release build, no sanitizers) and
# time the worst messages we can think of (up to 4 MB) through warden_engine_receive, beside
# parsing the same bytes alone. usage: bench/attack.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup
build=build/bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DWARDEN_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target bench_attack >/dev/null
"$build/bench/bench_attack" examples/demo/ca.pem examples/demo/client.key examples/demo/client.pem "${1:-5}"
