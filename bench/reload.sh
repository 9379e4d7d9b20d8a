#!/usr/bin/env bash
# bench/reload.sh — build (release) and measure hot reload: time to serve a changed set of
# 10 / 100 / 1,000 policy files, and decision latency with and without reloads every 100 ms.
# usage: bench/reload.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup
build=build/bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DWARDEN_BENCH=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target bench_reload >/dev/null
"$build/bench/bench_reload" policies/fixtures/create-small.xml 1795608030 examples/demo/ca.pem "${1:-3}"
