#!/usr/bin/env bash
# bench/serve.sh — `warden serve` under wrk (bench/serve.lua) on loopback, beside the in-process
# baseline measured in the same run (bench_serve_inprocess: warden_engine_receive +
# warden_engine_decide on the same messages and the same number of threads). Every request
# carries a distinct message signed by zeep (bench/serve_messages.py), so replay detection
# does its full work. Cases: check mode over HTTP, over HTTPS (keep-alive), with the decision
# log on, with the Redis replay backend (a redis-server started here), and gateway mode in
# front of an nginx that answers 200 at once (so the figure is Warden's and the extra hop's).
# CONNECTIONS (default 16) sets wrk's -c; with -c2 on 2 threads the latencies are those of an
# unloaded server. CASES (default all) is a space-separated list of the case names to run.
# Each case runs ROUNDS times (a fresh server, so a fresh replay window) for SECONDS, short
# enough that the messages last (a run that used them up says so); medians are printed.
# usage: bench/serve.sh [SECONDS] [MESSAGES] [THREADS] [ROUNDS]   (not a test: figures only)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup
seconds=${1:-1} count=${2:-12000} threads=${3:-2} rounds=${4:-3}
connections=${CONNECTIONS:-16}
cases=${CASES:-check-http check-https-keepalive check-http-decision-log check-http-redis-replay gateway-http}
wanted() { case " $cases " in *" $1 "*) return 0 ;; esac; return 1; }
build=build/bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DWARDEN_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target warden_cli bench_serve_inprocess >/dev/null
warden="$build/bin/warden"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

sh tests/support/make_pki.sh "$work/pki" >/dev/null 2>&1
echo "making $count signed messages..."
/usr/bin/python3 bench/serve_messages.py "$work/messages" "$work/pki" "$count"
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
         reload = { watch = false }, serve = { threads = $threads, ${2:-} }, ${3:-} }
LUA
  echo "$file"
}
wait_port() { for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
to_us() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); print v } else if (v ~ /ms$/) { sub(/ms$/, "", v); print v * 1000 } else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1e6 } else print v }'; }

echo "baseline: the same messages through warden_engine_receive + warden_engine_decide in process"
for _ in $(seq "$rounds"); do
  "$build/bench/bench_serve_inprocess" "$(config baseline)" "$work/messages" "$count" "$threads"
done | tee "$work/baseline.txt"
base_rate=$(awk '{ print $4 }' "$work/baseline.txt" | median)
printf "%-28s %8.0f req/s (median of %s)\n" "in-process" "$base_rate" "$rounds"

run() { # NAME SCHEME SERVE_FIELDS OTHER_KEYS [PATH]
  local name=$1 scheme=$2 path=${5:-/v1/decide} port pid
  wanted "$name" || return 0
  : > "$work/$name.rates"; : > "$work/$name.p50"; : > "$work/$name.p99"
  local exhausted=0
  for round in $(seq "$rounds"); do
    port=$(free_port)
    "$warden" serve -c "$(config "$name" "$3" "$4")" --listen "127.0.0.1:$port" 2>"$work/$name.log" &
    pid=$!; pids+=("$pid")
    wait_port "$port"
    MESSAGES_DIR="$work/messages" MESSAGES_COUNT=$count WRK_THREADS=$threads PATH_TO=$path \
      wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency -s bench/serve.lua "$scheme://127.0.0.1:$port$path" \
      > "$work/$name.$round.wrk"
    kill -TERM "$pid"; wait "$pid" || true
    local done_requests
    done_requests=$(awk '/requests in/ { print $1 }' "$work/$name.$round.wrk")
    [ "$done_requests" -ge $((count - connections)) ] && exhausted=1
    awk '/Requests\/sec/ { print $2 }' "$work/$name.$round.wrk" >> "$work/$name.rates"
    awk '$1 == "50.000%" || $1 == "50%" { print $2 }' "$work/$name.$round.wrk" | to_us >> "$work/$name.p50"
    awk '$1 == "99.000%" || $1 == "99%" { print $2 }' "$work/$name.$round.wrk" | to_us >> "$work/$name.p99"
  done
  local rate p50 p99
  rate=$(median < "$work/$name.rates"); p50=$(median < "$work/$name.p50"); p99=$(median < "$work/$name.p99")
  printf "%-28s %8.0f req/s  %5.0f%% of in-process  p50 %7.0f us  p99 %7.0f us%s\n" "$name" "$rate" \
    "$(awk -v a="$rate" -v b="$base_rate" 'BEGIN { print 100 * a / b }')" "$p50" "$p99" \
    "$([ "$exhausted" = 1 ] && echo "  (messages used up: lower SECONDS)")"
}

echo "warden serve ($threads threads, wrk -t$threads -c$connections, ${seconds}s, median of $rounds):"
run "check-http" http "" ""
run "check-https-keepalive" https "tls = { cert = \"$work/pki/tls-server.pem\", key = \"$work/pki/tls-server.key\" }" ""
run "check-http-decision-log" http "" "log = { decisions = \"$work/decisions.jsonl\" },"
if wanted check-http-redis-replay; then
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >/dev/null &
pids+=("$!")
wait_port "$redis_port"
run "check-http-redis-replay" http "" "replay = { backend = \"redis\", url = \"redis://127.0.0.1:$redis_port/0\", timeout_ms = 200 },"
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
  /usr/sbin/nginx -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
  pids+=("$!")
  wait_port "$upstream_port"
  run "gateway-http" http "upstream = \"http://127.0.0.1:$upstream_port\"" "" /orders
fi
