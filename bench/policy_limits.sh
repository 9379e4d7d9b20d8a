#!/usr/bin/env bash
# bench/policy_limits.sh — build (release, no sanitizers) and run the worst policies we can
# build against the sandbox limits: time to the deny beside the 2 x time_ms + 10 ms bound, and
# peak memory beside a trivial policy's. usage: bench/policy_limits.sh [ROUNDS] [NAME-SUBSTRING]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup
build=build/bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DWARDEN_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target bench_policy_limits >/dev/null
"$build/bench/bench_policy_limits" "${1:-5}" ${2:+"$2"}
