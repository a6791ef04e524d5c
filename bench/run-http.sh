#!/usr/bin/env bash
# Measures documents/s, lists/s and receipt latency through the HTTP API: starts
# `cbec serve --demo` on a fresh data directory, drives it with cbec-load (on the same machine),
# and prints one block per scenario. Every receipt is acknowledged only after the group-committed
# fdatasync, as in production. Usage: bench/run-http.sh [BUILD_DIR]
set -euo pipefail
BUILD=${1:-build}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-15}
PORT=${PORT:-18990}
run() {
  local name=$1; shift
  local dir; dir=$(mktemp -d /tmp/cbec-bench.XXXXXX)
  "$BUILD/cbec" serve --demo --data-dir "$dir" --listen "127.0.0.1:$PORT" >"$dir/serve.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  echo "== $name"
  "$BUILD/cbec-load" --port "$PORT" --seconds "$SECONDS_PER_RUN" "$@" || true
  curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^cbec_lists_total|^cbec_log_sync_seconds_(sum|count)|^cbec_log_batch_records_(sum|count)' || true
  kill -TERM "$pid"; wait "$pid" || true
  rm -rf "$dir"
}
run "100 records per message, 32 connections, flat out" --records 100 --connections 32 --sets 120000
run "1 record per message, 64 connections, flat out" --records 1 --connections 64 --sets 60000
run "100 records per message, open loop at 500 lists/s (Zhengzhou's stated peak)" --records 100 --connections 16 --rate 500 --sets 20000
