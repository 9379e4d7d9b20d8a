#!/usr/bin/env bash
# bench/serve.sh — `warden serve` under wrk (bench/serve.lua) on loopback, beside the in-process
# baseline measured in the same run (bench_serve_inprocess: warden_engine_receive +
# warden_engine_decide on the same messages). Every request carries a distinct message signed
# by zeep (bench/serve_messages.py), so replay detection does its full work. Cases: check mode
# over HTTP, over HTTPS (keep-alive), with the decision log on, with the Redis replay backend
# (a redis-server started here), and gateway mode in front of an nginx that answers 200 at once.
#
# The same cores: with PIN=1 (the default on 2 cores or more) the server and the in-process
# baseline run on CPU 0 with THREADS threads each, and wrk (its own -t1) and the helpers run on
# CPU 1, so the client never takes the server's CPU and the ratio is the server's own overhead.
# With PIN=0 everything floats (on 2 cores wrk then competes with the server).
#
# Two runs per case, each ROUNDS times with a fresh server (medians printed):
#   throughput: wrk -c CONNECTIONS (default 8) for SECONDS;
#   latency:    wrk -c LATENCY_CONNECTIONS (default 1), the figures of an unloaded server.
# The closing table gives each figure beside the in-process baseline of this run and whether
# the target of docs/performance.md is met:
#   check mode over HTTP >= 75% of in-process throughput; HTTPS with keep-alive >= 60%;
#   the decision log adds <= 10% to p99 (latency run); Redis replay adds <= 100 us to p50.
# The machine is shared: the load average is printed before and after; rerun when it is high.
# CASES (default all) is a space-separated list of the case names to run.
# usage: bench/serve.sh [SECONDS] [MESSAGES] [THREADS] [ROUNDS]   (not a test: figures only)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup
seconds=${1:-1} count=${2:-40000} threads=${3:-1} rounds=${4:-5}
connections=${CONNECTIONS:-8} latency_connections=${LATENCY_CONNECTIONS:-1}
cases=${CASES:-check-http check-https-keepalive check-http-decision-log check-http-redis-replay gateway-http}
wanted() { case " $cases " in *" $1 "*) return 0 ;; esac; return 1; }
pin=${PIN:-$([ "$(nproc)" -ge 2 ] && echo 1 || echo 0)}
server_cpu=() client_cpu=()
if [ "$pin" = 1 ]; then server_cpu=(taskset -c 0); client_cpu=(taskset -c 1); fi
build=build/bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DWARDEN_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target warden_cli bench_serve_inprocess >/dev/null
warden="$build/bin/warden"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
sh tests/support/make_pki.sh "$work/pki" >/dev/null 2>&1
echo "making $count signed messages..."
"${client_cpu[@]}" /usr/bin/python3 bench/serve_messages.py "$work/messages" "$work/pki" "$count"
mkdir -p "$work/policies"
cat > "$work/policies/orders.lua" <<'LUA'
permit "alice may create orders" {
  action = "urn:example:orders/Create",
  when = function(m) return m.cert ~= nil and m.cert.subject.CN == "alice" end,
}
LUA

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
config() { # NAME [SERVE_FIELDS] [OTHER_KEYS]
  local file="$work/$1.lua"
  cat > "$file" <<LUA
return { trust = { "$work/pki/ca.pem" }, users = "$work/pki/users.txt", policies = "$work/policies",
         reload = { watch = false }, clock = { ttl = 3600 }, serve = { threads = $threads, ${2:-} }, ${3:-} }
LUA
  echo "$file"
}
wait_port() { for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print v[int((NR + 1) / 2)] }'; }
to_us() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); print v } else if (v ~ /ms$/) { sub(/ms$/, "", v); print v * 1000 } else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1e6 } else print v }'; }

# ---- the baseline: throughput on THREADS threads, latency one message at a time -------------
echo "baseline: the same messages through warden_engine_receive + warden_engine_decide in process"
: > "$work/inprocess.rate"; : > "$work/inprocess.p50"; : > "$work/inprocess.p99"
for _ in $(seq "$rounds"); do
  "${server_cpu[@]}" "$build/bench/bench_serve_inprocess" "$(config baseline)" "$work/messages" "$count" "$threads" \
    | tee -a "$work/baseline.txt" | awk '{ print $4 }' >> "$work/inprocess.rate"
  "${server_cpu[@]}" "$build/bench/bench_serve_inprocess" "$(config baseline)" "$work/messages" "$((count / 4))" 1 \
    | tee -a "$work/baseline.txt" | awk '{ print $7, $10 }' > "$work/one.txt"
  awk '{ print $1 }' "$work/one.txt" >> "$work/inprocess.p50"; awk '{ print $2 }' "$work/one.txt" >> "$work/inprocess.p99"
done
base_rate=$(median < "$work/inprocess.rate")
base_p50=$(median < "$work/inprocess.p50"); base_p99=$(median < "$work/inprocess.p99")

# run NAME KIND SCHEME SERVE_FIELDS OTHER_KEYS [PATH]: KIND is throughput or latency
run() {
  local name=$1 kind=$2 scheme=$3 path=${6:-/v1/decide} port pid c
  c=$([ "$kind" = latency ] && echo "$latency_connections" || echo "$connections")
  local out="$work/$name.$kind"
  : > "$out.rate"; : > "$out.p50"; : > "$out.p99"; : > "$out.exhausted"
  for round in $(seq "$rounds"); do
    port=$(free_port)
    "${server_cpu[@]}" "$warden" serve -c "$(config "$name" "$4" "${5//ROUND/$kind-$round}")" --listen "127.0.0.1:$port" \
      2>"$work/$name.log" &
    pid=$!; pids+=("$pid")
    wait_port "$port"
    MESSAGES_DIR="$work/messages" MESSAGES_COUNT=$count WRK_THREADS=1 PATH_TO=$path \
      "${client_cpu[@]}" wrk -t1 -c"$c" -d"${seconds}s" --latency -s bench/serve.lua "$scheme://127.0.0.1:$port$path" \
      > "$out.$round.wrk"
    kill -TERM "$pid"; wait "$pid" || true
    local done_requests
    done_requests=$(awk '/requests in/ { print $1 }' "$out.$round.wrk")
    [ "$done_requests" -ge $((count - c)) ] && echo 1 >> "$out.exhausted"
    grep -q "Non-2xx" "$out.$round.wrk" && { echo "$name: answers other than 2xx:"; cat "$out.$round.wrk"; exit 1; }
    awk '/Requests\/sec/ { print $2 }' "$out.$round.wrk" >> "$out.rate"
    awk '$1 == "50.000%" || $1 == "50%" { print $2 }' "$out.$round.wrk" | to_us >> "$out.p50"
    awk '$1 == "99.000%" || $1 == "99%" { print $2 }' "$out.$round.wrk" | to_us >> "$out.p99"
  done
  median < "$out.rate" > "$out.rate.m"; median < "$out.p50" > "$out.p50.m"; median < "$out.p99" > "$out.p99.m"
  printf "  %-26s %-10s %8.0f req/s  p50 %6.0f us  p99 %6.0f us%s\n" "$name" "$kind" "$(cat "$out.rate.m")" \
    "$(cat "$out.p50.m")" "$(cat "$out.p99.m")" "$([ -s "$out.exhausted" ] && echo "  (messages used up: lower SECONDS)")"
}
both() { run "$1" throughput "${@:2}"; run "$1" latency "${@:2}"; }

echo "warden serve ($threads threads, pinned: $pin; wrk -t1 -c$connections and -c$latency_connections, ${seconds}s, median of $rounds):"
wanted check-http && both check-http http "" ""
wanted check-https-keepalive && run check-https-keepalive throughput https \
  "tls = { cert = \"$work/pki/tls-server.pem\", key = \"$work/pki/tls-server.key\" }" ""
wanted check-http-decision-log && both check-http-decision-log http "" "log = { decisions = \"$work/decisions.jsonl\" },"
if wanted check-http-redis-replay; then
  redis_port=$(free_port)
  "${client_cpu[@]}" redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >/dev/null &
  pids+=("$!")
  wait_port "$redis_port"
  # a prefix per round: the messages are sent again in every round, to a fresh replay window
  both check-http-redis-replay http "" \
    "replay = { backend = \"redis\", url = \"redis://127.0.0.1:$redis_port/0\", prefix = \"bench-ROUND-\", timeout_ms = 200 },"
fi
if wanted gateway-http; then
  upstream_port=$(free_port)
  mkdir -p "$work/nginx"
  cat > "$work/nginx/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log error;
events { worker_connections 256; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$upstream_port;
    client_max_body_size 1m;
    location / { default_type text/xml; return 200 "<ok/>"; }
  }
}
NGINX
  "${client_cpu[@]}" /usr/sbin/nginx -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
  pids+=("$!")
  wait_port "$upstream_port"
  run gateway-http throughput http "upstream = \"http://127.0.0.1:$upstream_port\"" "" /orders
fi

# ---- the table ----------------------------------------------------------------------------
figure() { cat "$work/$1.$2.$3.m" 2>/dev/null || echo nan; }
row() { # CASE KIND RATE P50 P99 RATIO TARGET MET
  printf "| %-24s | %-10s | %7.0f | %6.0f | %6.0f | %5s | %-32s | %-3s |\n" "$@"
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a == a) printf "%.0f%%", 100 * a / b; else print "-" }'; }
yes_no() { awk "BEGIN { print ($1) ? \"yes\" : \"no\" }"; }
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "| %-24s | %-10s | %7s | %6s | %6s | %5s | %-32s | %-3s |\n" mode run "req/s" "p50 us" "p99 us" ratio target met
echo "|--------------------------|------------|---------|--------|--------|-------|----------------------------------|-----|"
row in-process throughput "$base_rate" nan nan 100% "baseline ($threads threads)" -
row in-process latency nan "$base_p50" "$base_p99" - "baseline (one at a time)" -
for name in check-http check-https-keepalive check-http-decision-log check-http-redis-replay gateway-http; do
  wanted "$name" || continue
  rate=$(figure "$name" throughput rate)
  ratio=$(pct "$rate" "$base_rate")
  case $name in
    check-http) target=">= 75% of in-process"; met=$(yes_no "$rate >= 0.75 * $base_rate") ;;
    check-https-keepalive) target=">= 60% of in-process"; met=$(yes_no "$rate >= 0.60 * $base_rate") ;;
    *) target="-"; met="-" ;;
  esac
  row "$name" throughput "$rate" "$(figure "$name" throughput p50)" "$(figure "$name" throughput p99)" "$ratio" \
    "$target" "$met"
  [ -f "$work/$name.latency.p50.m" ] || continue
  p50=$(figure "$name" latency p50) p99=$(figure "$name" latency p99)
  plain50=$(figure check-http latency p50) plain99=$(figure check-http latency p99)
  case $name in
    check-http-decision-log)
      target="p99 +$(awk -v a="$p99" -v b="$plain99" 'BEGIN { printf "%.0f%%", 100 * (a - b) / b }') over check-http (<= 10%)"
      met=$(yes_no "$p99 <= 1.10 * $plain99") ;;
    check-http-redis-replay)
      target="p50 +$(awk -v a="$p50" -v b="$plain50" 'BEGIN { printf "%.0f", a - b }') us over check-http (<= 100)"
      met=$(yes_no "$p50 - $plain50 <= 100") ;;
    *) target="-"; met="-" ;;
  esac
  row "$name" latency nan "$p50" "$p99" "$(pct "$base_p50" "$p50")" "$target" "$met"
done
echo "(ratio: throughput against the in-process req/s; latency runs: in-process p50 / this p50)"
