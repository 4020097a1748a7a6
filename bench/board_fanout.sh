#!/usr/bin/env bash
# Events across servers (issue 16): two madoguchi servers on one
# PostgreSQL database.
#  1. board fan-out: 10,000 Server-Sent Events viewers of one board, split
#     over the two servers; the clerk calls through the first; time from
#     the call to its frame at every viewer (bench/board_sse.mjs);
#  2. event catch-up: a viewer on the second server misses 1,000 calls
#     and reconnects with Last-Event-ID (bench/board_fanout.mjs).
#
#   MADOGUCHI_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:55432/postgres \
#     bench/board_fanout.sh [viewers, default 10000] [calls, default 10] [missed, default 1000]
set -euo pipefail
cd "$(dirname "$0")/.."
VIEWERS=${1:-10000}
CALLS=${2:-10}
MISSED=${3:-1000}
ADMIN=${MADOGUCHI_BENCH_POSTGRES_URL:-${MADOGUCHI_TEST_POSTGRES_URL:?set MADOGUCHI_BENCH_POSTGRES_URL (a PostgreSQL maintenance database)}}
ulimit -n "$(ulimit -Hn)"
# MADOGUCHI_BIN: a binary already built (e.g. a smoke run of the script
# with target/debug/madoguchi); figures come from the release build.
if [ -n "${MADOGUCHI_BIN:-}" ]; then
  BIN=$MADOGUCHI_BIN
else
  cargo build --release --locked -p server --bin madoguchi
  BIN=target/release/madoguchi
fi
TMP=$(mktemp -d /tmp/madoguchi-fanout-bench.XXXXXX)
NAME="mdg_bench_$(date +%s)"
psql -q "$ADMIN" -c "CREATE DATABASE $NAME"
DB="${ADMIN%/*}/$NAME"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PA=$(port); PB=$(port)
export MADOGUCHI_MODE=development MADOGUCHI_ENCRYPTION_KEYS="$("$BIN" keygen --id bench 2>/dev/null)"
"$BIN" demo --applications 0 --no-serve --database-url "$DB" >/dev/null
MADOGUCHI_LOG=warn "$BIN" serve --bind "127.0.0.1:$PA" --database-url "$DB" >"$TMP/a.log" 2>&1 &
SA=$!
MADOGUCHI_LOG=warn "$BIN" serve --bind "127.0.0.1:$PB" --database-url "$DB" >"$TMP/b.log" 2>&1 &
SB=$!
cleanup() {
  kill "$SA" "$SB" 2>/dev/null || true
  wait "$SA" "$SB" 2>/dev/null || true
  psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS $NAME WITH (FORCE)" || true
  rm -rf "$TMP"
}
trap cleanup EXIT
for p in "$PA" "$PB"; do
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$p/healthz" >/dev/null && break; sleep 0.1; done
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%MZ); PostgreSQL $(psql -tAq "$ADMIN" -c 'SHOW server_version')"
echo "== $VIEWERS board viewers over two servers, $CALLS calls through the first"
node bench/board_sse.mjs "http://127.0.0.1:$PA,http://127.0.0.1:$PB" "$VIEWERS" "$CALLS"
echo "== catch-up after $MISSED missed calls"
node bench/board_fanout.mjs "http://127.0.0.1:$PA" "http://127.0.0.1:$PB" "$MISSED"
grep -m3 -A3 "ERROR" "$TMP/a.log" "$TMP/b.log" | cut -c1-400 || true
