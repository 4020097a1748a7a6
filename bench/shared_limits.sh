#!/usr/bin/env bash
# Benchmark: what the shared rate limits cost on PostgreSQL (issue 16).
# One server over PostgreSQL, online submissions (bench/submit.lua, 64
# connections): rounds with the submission limits off (no count taken) and
# on (limits no run reaches, so every request is one upsert of its client's
# and its tenant's window in `rate_windows`), interleaved off/on/off/on in
# one run so that the machine's other load falls on both alike.
#
#   MADOGUCHI_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:55432/postgres bench/shared_limits.sh [duration per round, default 15s]
#
# Prints requests/s and p50/p99 per round and the ratio on/off.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15s}
CONNS=64
ADMIN=${MADOGUCHI_BENCH_POSTGRES_URL:?set MADOGUCHI_BENCH_POSTGRES_URL to a PostgreSQL server to create a database on}
cargo build --release --locked -p server --bin madoguchi
BIN=$PWD/target/release/madoguchi
TMP=$(mktemp -d /tmp/madoguchi-limits.XXXXXX)
NAME=mdg_bench_limits_$$
psql -q "$ADMIN" -c "CREATE DATABASE $NAME"
DB="${ADMIN%/*}/$NAME"
SERVER=
trap '[ -z "$SERVER" ] || kill $SERVER 2>/dev/null || true; psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS $NAME WITH (FORCE)" || true; rm -rf "$TMP"' EXIT
"$BIN" demo --applications 0 --no-serve --database-url "$DB" >/dev/null
export MADOGUCHI_MODE=development MADOGUCHI_DEV_IDENTITY_PROVIDER=true MADOGUCHI_LOG=warn \
  MADOGUCHI_ENCRYPTION_KEYS="$("$BIN" keygen --id bench 2>/dev/null)"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start() { # submission limit per client and per tenant (0: off)
  PORT=$(port)
  MADOGUCHI_RATE_LIMIT_SUBMIT_PER_CLIENT=$1 MADOGUCHI_RATE_LIMIT_SUBMIT_PER_TENANT=$1 \
    "$BIN" serve --bind "127.0.0.1:$PORT" --database-url "$DB" >"$TMP/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
  JAR="$TMP/cookies"
  TOKEN=$(curl -sf -c "$JAR" "http://127.0.0.1:$PORT/t/122289/sign-in" | sed -n 's/.*name="_csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
  curl -sf -b "$JAR" -c "$JAR" -o /dev/null -X POST "http://127.0.0.1:$PORT/t/122289/sign-in/dev" \
    --data-urlencode "_csrf=$TOKEN" --data-urlencode "name=四街道 花子" --data-urlencode "address=千葉県四街道市鹿渡無番地" \
    --data-urlencode "birthdate=1990-04-01" --data-urlencode "gender=female" --data-urlencode "level=my_number_card"
  export MDG_RESIDENT_COOKIE="mdg_resident=$(awk '$6 == "mdg_resident" {print $7}' "$JAR")"
}
stop() { kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=; }
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%MZ); PostgreSQL $(psql -tA "$ADMIN" -c 'SHOW server_version')"
round() { # name, limit
  start "$2"
  wrk -t2 -c"$CONNS" -d3s --timeout 10s -s bench/submit.lua "http://127.0.0.1:$PORT" >/dev/null
  wrk -t2 -c"$CONNS" -d"$DURATION" --latency --timeout 10s -s bench/submit.lua "http://127.0.0.1:$PORT" >"$TMP/$1.txt"
  stop
  local rps p50 p99 non2xx
  rps=$(awk '/^Requests\/sec/ {print $2}' "$TMP/$1.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$TMP/$1.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$TMP/$1.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$TMP/$1.txt")
  echo "$1: $rps req/s, p50 $p50, p99 $p99, non-2xx ${non2xx:-0}"
  echo "$1 $rps" >>"$TMP/rps"
}
round off-1 0
round on-1 1000000000
round off-2 0
round on-2 1000000000
python3 - "$TMP/rps" <<'PY'
import sys
r = {}
for line in open(sys.argv[1]):
    name, rps = line.split()
    r.setdefault(name.split("-")[0], []).append(float(rps))
off, on = sum(r["off"]) / len(r["off"]), sum(r["on"]) / len(r["on"])
print(f"submissions/s, limits off {off:.0f}, on (shared windows) {on:.0f}: ratio on/off {on / off:.3f}")
PY
