#!/usr/bin/env bash
# Benchmarks of the smart counter (issue 4):
#  1. ticket issue rate: POST /api/v1/t/122289/counter/tickets, 64 clients;
#  2. 10,000 display-board viewers on Server-Sent Events: time from a
#     clerk's call to its arrival at every viewer.
#
#   bench/counter.sh [duration, default 20s] [viewers, default 10000]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20s}
VIEWERS=${2:-10000}
# Each viewer is one socket in the server and one in the load generator.
ulimit -n "$(ulimit -Hn)"
command -v wrk >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }
cargo build --release --locked -p server --bin madoguchi --example board_viewers
BIN=target/release/madoguchi
TMP=$(mktemp -d /tmp/madoguchi-counter-bench.XXXXXX)
DB="sqlite://$TMP/bench.db"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# One key for the demo load and the server (the demo accounts' second
# factors are sealed with it).
export MADOGUCHI_MODE=development MADOGUCHI_ENCRYPTION_KEYS="$("$BIN" keygen --id bench 2>/dev/null)"
"$BIN" demo --applications 0 --no-serve --database-url "$DB" >/dev/null
MADOGUCHI_LOG=warn "$BIN" serve --bind "127.0.0.1:$PORT" --database-url "$DB" >"$TMP/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%MZ)"
echo "== ticket issue ($DURATION, 64 connections)"
wrk -t2 -c64 -d"$DURATION" --latency -s bench/ticket_issue.lua "http://127.0.0.1:$PORT" | grep -E "RESULT|Latency|requests in"
echo "== $VIEWERS board viewers"
# The Rust client (one thread, raw TCP) is the figure; BENCH_NODE=1 also
# runs the Node client for comparison (it costs more CPU per frame).
target/release/examples/board_viewers "127.0.0.1:$PORT" "$VIEWERS" 10
if [ "${BENCH_NODE:-0}" = 1 ]; then
  echo "== $VIEWERS board viewers (Node client)"
  node bench/board_sse.mjs "http://127.0.0.1:$PORT" "$VIEWERS" 10
fi
grep -m3 -A3 "ERROR" "$TMP/server.log" | cut -c1-400 || true
