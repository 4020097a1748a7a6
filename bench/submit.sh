#!/usr/bin/env bash
# Benchmark: durable online submissions against the embedded SQLite
# (WAL, synchronous=FULL, group commit), 256 concurrent clients.
# Each submission is validated, committed with its idempotency key, history
# event and hash-chained audit entry before the client gets its 201.
#
#   bench/submit.sh [duration, default 30s] [connections, default 256]
#
# Prints requests/s, p50 and p99 latency, and checks that the database holds
# exactly as many cases and audit entries as there were 201 responses.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-30s}
CONNS=${2:-256}
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; else sudo -n apt-get install -y -q wrk; fi
fi
cargo build --release --locked -p server --bin madoguchi
BIN=target/release/madoguchi
TMP=$(mktemp -d /tmp/madoguchi-bench.XXXXXX)
DB="sqlite://$TMP/bench.db"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" demo --applications 0 --no-serve --database-url "$DB" >/dev/null
MADOGUCHI_LOG=warn "$BIN" serve --bind "127.0.0.1:$PORT" --database-url "$DB" >"$TMP/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%MZ)"
echo "warm-up (5 s)"
wrk -t2 -c"$CONNS" -d5s -s bench/submit.lua "http://127.0.0.1:$PORT" >/dev/null
echo "measure ($DURATION, $CONNS connections)"
wrk -t2 -c"$CONNS" -d"$DURATION" --latency --timeout 10s -s bench/submit.lua "http://127.0.0.1:$PORT" | tee "$TMP/wrk.txt"
python3 - "$TMP/bench.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
apps = db.execute("SELECT COUNT(*) FROM applications").fetchone()[0]
audit = db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'application.submit'").fetchone()[0]
keys = db.execute("SELECT COUNT(*) FROM idempotency_keys").fetchone()[0]
sync = db.execute("PRAGMA synchronous").fetchone()[0]
mode = db.execute("PRAGMA journal_mode").fetchone()[0]
print(f"stored: applications={apps} audit_submit={audit} idempotency_keys={keys} journal_mode={mode}")
assert apps == audit == keys, "every case has its audit entry and key"
PY
