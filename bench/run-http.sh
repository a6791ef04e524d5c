#!/usr/bin/env bash
# Measures documents/s, lists/s and receipt latency through the HTTP API: starts
# `cbec serve --demo` on a fresh data directory, drives it with cbec-load (on the same machine),
# and prints one block per scenario. Every receipt is acknowledged only after the group-committed
# fdatasync, as in production. Usage: bench/run-http.sh [BUILD_DIR]
# (SECONDS_PER_RUN=15, PORT=18990). The short runs measure a server still warming up (its hot
# set filling memory, nothing archived yet); the last scenario runs 110 s at 3,000 lists/s and
# leaves the first 50 s out, the steady state a zone's server lives in (STEADY_RATE, STEADY=0
# skips it). Ends with key=value figure lines for bench/check:
#   bench/run-http.sh build | tee /tmp/http.txt; bench/check /tmp/http.txt
set -euo pipefail
BUILD=${1:-build}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-15}
PORT=${PORT:-18990}
FIGURES=$(mktemp /tmp/cbec-bench-figures.XXXXXX)
trap 'rm -f "$FIGURES"' EXIT
# run NAME FIGURE-PREFIX CBEC-LOAD-ARGS...: one scenario on a fresh server
run() {
  local name=$1 prefix=$2; shift 2
  local dir; dir=$(mktemp -d /tmp/cbec-bench.XXXXXX)
  "$BUILD/cbec" serve --demo --data-dir "$dir" --listen "127.0.0.1:$PORT" \
    --config "$(dirname "$0")/serve.toml" >"$dir/serve.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  echo "== $name"
  "$BUILD/cbec-load" --port "$PORT" --seconds "${RUN_SECONDS:-$SECONDS_PER_RUN}" "$@" | tee "$dir/load.txt" || true
  curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^cbec_lists_total|^cbec_log_sync_seconds_(sum|count)|^cbec_log_batch_records_(sum|count)' || true
  kill -TERM "$pid"; wait "$pid" || true
  local summary; summary=$(grep '^load_summary' "$dir/load.txt" || true)
  get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$summary"; }
  if [ -n "$summary" ]; then
    echo "${prefix}lists_per_s=$(get lists_per_s) ${prefix}docs_per_s=$(get docs_per_s) ${prefix}p99_ms=$(awk -v u="$(get p99_us)" 'BEGIN { printf "%.1f", u / 1000 }') ${prefix}receipt_p99_ms=$(awk -v u="$(get receipt_p99_us)" 'BEGIN { printf "%.1f", u / 1000 }')" >> "$FIGURES"
  fi
  rm -rf "$dir"
}
run "100 records per message, 32 connections, flat out" http_100rec_ --records 100 --connections 32 --sets 120000
run "1 record per message, 64 connections, flat out" http_1rec_ --records 1 --connections 64 --sets 60000
run "100 records per message, open loop at 500 lists/s (Zhengzhou's stated peak)" http_500_ --records 100 --connections 16 --rate 500 --sets 20000
STEADY_RATE=${STEADY_RATE:-3000}
if [ "${STEADY:-1}" != 0 ]; then
  RUN_SECONDS=110 run "steady state: 100 records per message, open loop at $STEADY_RATE lists/s, 110 s, the first 50 s left out" \
    http_open_steady_ --records 100 --connections 32 --rate "$STEADY_RATE" --warmup 50 --sets $((STEADY_RATE * 115))
fi
echo "== figures (key=value, for bench/check)"
# The keys bench/recorded.tsv uses, then every scenario's own.
awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "=")
         if (kv[1] == "http_100rec_lists_per_s") print "http_lists_per_s_100rec=" kv[2]
         if (kv[1] == "http_100rec_docs_per_s") print "http_docs_per_s_100rec=" kv[2]
         if (kv[1] == "http_1rec_docs_per_s") print "http_docs_per_s_1rec=" kv[2]
         if (kv[1] == "http_500_p99_ms") print "http_p99_ms_at_500=" kv[2]
         if (kv[1] == "http_500_receipt_p99_ms") print "http_receipt_p99_ms_at_500=" kv[2]
         if (kv[1] == "http_open_steady_receipt_p99_ms") print "http_steady_receipt_p99_ms=" kv[2] } }' "$FIGURES"
cat "$FIGURES"
