#!/usr/bin/env bash
# Benchmark: durable online submissions against the embedded SQLite
# (WAL, synchronous=FULL, group commit), 256 concurrent clients.
# Each submission is validated, committed with its idempotency key, history
# event and hash-chained audit entry before the client gets its 201.
#
#   bench/submit.sh [duration, default 30s] [connections, default 256]
#
# Prints requests/s, p50 and p99 latency, and compares the database with
# the 201 answers counted (warm-up and measurement together): as many
# cases as audit entries and idempotency keys; no fewer cases than 201s
# (an answered case was on disk); and no more than the 201s plus the
# requests still in flight when wrk stopped (at most one per connection
# per run), which the server commits after wrk stopped counting.
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
# Development mode (plain http on loopback, the development identity
# provider) with a configured encryption key, as in production. One load
# generator is one client address: the per-client and per-tenant rate limits
# (a deployment policy, 60 submissions a minute per client by default) are
# off so that the commit path is what is measured.
export MADOGUCHI_MODE=development MADOGUCHI_DEV_IDENTITY_PROVIDER=true \
  MADOGUCHI_ENCRYPTION_KEYS="$("$BIN" keygen --id bench 2>/dev/null)" \
  MADOGUCHI_RATE_LIMIT_SUBMIT_PER_CLIENT=0 MADOGUCHI_RATE_LIMIT_SUBMIT_PER_TENANT=0
MADOGUCHI_LOG=warn "$BIN" serve --bind "127.0.0.1:$PORT" --database-url "$DB" >"$TMP/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
# 住民票の写し needs the My Number card: sign a resident in (development
# identity provider) and submit with that session, as a browser would.
JAR="$TMP/cookies"
TOKEN=$(curl -sf -c "$JAR" "http://127.0.0.1:$PORT/t/122289/sign-in" | sed -n 's/.*name="_csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
curl -sf -b "$JAR" -c "$JAR" -o /dev/null -X POST "http://127.0.0.1:$PORT/t/122289/sign-in/dev" \
  --data-urlencode "_csrf=$TOKEN" --data-urlencode "name=四街道 花子" --data-urlencode "address=千葉県四街道市鹿渡無番地" \
  --data-urlencode "birthdate=1990-04-01" --data-urlencode "gender=female" --data-urlencode "level=my_number_card"
export MDG_RESIDENT_COOKIE="mdg_resident=$(awk '$6 == "mdg_resident" {print $7}' "$JAR")"
[ "$MDG_RESIDENT_COOKIE" != "mdg_resident=" ] || { echo "resident sign-in failed" >&2; exit 1; }
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%MZ)"
echo "warm-up (5 s)"
wrk -t2 -c"$CONNS" -d5s --timeout 10s -s bench/submit.lua "http://127.0.0.1:$PORT" >"$TMP/warmup.txt"
echo "measure ($DURATION, $CONNS connections)"
wrk -t2 -c"$CONNS" -d"$DURATION" --latency --timeout 10s -s bench/submit.lua "http://127.0.0.1:$PORT" | tee "$TMP/wrk.txt"
# Let the server finish the requests in flight when wrk stopped.
sleep 2
CREATED=$(cat "$TMP/warmup.txt" "$TMP/wrk.txt" | sed -n 's/^RESULT .* created=\([0-9]*\) .*/\1/p' | paste -sd+ | bc)
python3 - "$TMP/bench.db" "$CREATED" "$CONNS" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
created, conns = int(sys.argv[2]), int(sys.argv[3])
apps = db.execute("SELECT COUNT(*) FROM applications").fetchone()[0]
audit = db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'application.submit'").fetchone()[0]
keys = db.execute("SELECT COUNT(*) FROM idempotency_keys").fetchone()[0]
sync = db.execute("PRAGMA synchronous").fetchone()[0]
mode = db.execute("PRAGMA journal_mode").fetchone()[0]
print(f"answered 201: {created}; stored: applications={apps} audit_submit={audit} "
      f"idempotency_keys={keys} (in flight at the stops: {apps - created}) journal_mode={mode}")
assert apps == audit == keys, "every case has its audit entry and key"
assert apps >= created, f"{created - apps} answered cases are missing"
assert apps - created <= 2 * conns, f"{apps - created} cases stored without an answer, more than were in flight"
PY
