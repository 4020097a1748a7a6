#!/usr/bin/env bash
# Benchmark: a PostgreSQL primary + hot standby (pg_auto_failover,
# scripts/pg-ha.sh, fsync on), `madoguchi serve` (release) on the
# multi-host URL with target_session_attrs=read-write.
#
#   bench/failover.sh [duration of each submissions run, default 20s] [connections, default 256] [failover runs, default 3]
#
# MADOGUCHI_BIN=path uses that binary instead of building the release one.
#
# 1. Submissions (bench/submit.lua, as bench/submit.sh) with the standby
#    synchronous (pg_auto_failover's default: synchronous_standby_names
#    'ANY 1 (…)', every commit waits for the standby's WAL flush), then, in
#    the same run on the same pair, with the standby asynchronous
#    (replication-quorum false: synchronous_standby_names ''); the ratio.
# 2. Failover: scripts/failover-test.sh with this binary and fsync on, as
#    many times as asked: the time from SIGKILL of the primary to the first
#    acknowledged submission sent after it, and the acknowledged submissions
#    found (all of them, or the run fails).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${1:-20s}
CONNS=${2:-256}
RUNS=${3:-3}
command -v wrk >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }
if [ -n "${MADOGUCHI_BIN:-}" ]; then
  BIN=$MADOGUCHI_BIN
else
  cargo build --release --locked -p server --bin madoguchi
  BIN=$ROOT/target/release/madoguchi
fi
echo "binary: $BIN"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%MZ); load average $(cut -d' ' -f1-3 /proc/loadavg)"

TMP=$(mktemp -d /tmp/madoguchi-bench-failover.XXXXXX)
SERVER=
HA=
cleanup() {
  [ -n "$SERVER" ] && { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
  [ -n "$HA" ] && "$ROOT/scripts/pg-ha.sh" stop "$HA" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

# --- 1. submissions: synchronous vs asynchronous standby -------------------
PG_HA_FSYNC=on "$ROOT/scripts/pg-ha.sh" start >"$TMP/ha.env"
HA=$(sed -n 's/^PG_HA_DIR=//p' "$TMP/ha.env")
URL=$(sed -n 's/^MADOGUCHI_DATABASE_URL=//p' "$TMP/ha.env")
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" demo --applications 0 --no-serve --database-url "$URL" >/dev/null
export MADOGUCHI_MODE=development MADOGUCHI_DEV_IDENTITY_PROVIDER=true \
  MADOGUCHI_ENCRYPTION_KEYS="$("$BIN" keygen --id bench 2>/dev/null)" \
  MADOGUCHI_RATE_LIMIT_SUBMIT_PER_CLIENT=0 MADOGUCHI_RATE_LIMIT_SUBMIT_PER_TENANT=0
MADOGUCHI_LOG=warn "$BIN" serve --bind "127.0.0.1:$PORT" --database-url "$URL" >"$TMP/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
JAR="$TMP/cookies"
TOKEN=$(curl -sf -c "$JAR" "http://127.0.0.1:$PORT/t/122289/sign-in" | sed -n 's/.*name="_csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
curl -sf -b "$JAR" -c "$JAR" -o /dev/null -X POST "http://127.0.0.1:$PORT/t/122289/sign-in/dev" \
  --data-urlencode "_csrf=$TOKEN" --data-urlencode "name=四街道 花子" --data-urlencode "address=千葉県四街道市鹿渡無番地" \
  --data-urlencode "birthdate=1990-04-01" --data-urlencode "gender=female" --data-urlencode "level=my_number_card"
export MDG_RESIDENT_COOKIE="mdg_resident=$(awk '$6 == "mdg_resident" {print $7}' "$JAR")"
[ "$MDG_RESIDENT_COOKIE" != "mdg_resident=" ] || { echo "resident sign-in failed" >&2; exit 1; }

submit_run() { # label
  echo "-- $1: synchronous_standby_names '$("$ROOT/scripts/pg-ha.sh" sync "$HA")'"
  wrk -t2 -c"$CONNS" -d5s --timeout 10s -s bench/submit.lua "http://127.0.0.1:$PORT" >/dev/null
  wrk -t2 -c"$CONNS" -d"$DURATION" --latency --timeout 10s -s bench/submit.lua "http://127.0.0.1:$PORT" >"$TMP/$1.txt"
  grep -E "^RESULT" "$TMP/$1.txt"
}
submit_run synchronous
"$ROOT/scripts/pg-ha.sh" quorum "$HA" false
submit_run asynchronous
"$ROOT/scripts/pg-ha.sh" quorum "$HA" true
python3 - "$TMP/synchronous.txt" "$TMP/asynchronous.txt" <<'PY'
import re, sys
def rps(path):
    m = re.search(r"^RESULT .* p50_ms=([0-9.]+) p99_ms=([0-9.]+) rps=([0-9]+)", open(path).read(), re.M)
    return float(m.group(3)), float(m.group(1)), float(m.group(2))
s, a = rps(sys.argv[1]), rps(sys.argv[2])
print(f"submissions/s: synchronous standby {s[0]:.0f} (p50 {s[1]:.1f} ms, p99 {s[2]:.1f} ms), "
      f"asynchronous {a[0]:.0f} (p50 {a[1]:.1f} ms, p99 {a[2]:.1f} ms); synchronous / asynchronous = {s[0] / a[0]:.2f}")
PY
kill "$SERVER" 2>/dev/null || true
wait "$SERVER" 2>/dev/null || true
SERVER=
"$ROOT/scripts/pg-ha.sh" stop "$HA" >/dev/null 2>&1 || true
HA=

# --- 2. failover under load ---------------------------------------------------
for i in $(seq 1 "$RUNS"); do
  echo "-- failover run $i of $RUNS"
  PG_HA_FSYNC=on FAILOVER_DURATION=30 FAILOVER_KILL_AT=8 FAILOVER_REPORT="$TMP/failover-$i.json" \
    "$ROOT/scripts/failover-test.sh" "$BIN" >"$TMP/failover-$i.log" 2>&1 || { cat "$TMP/failover-$i.log"; exit 1; }
  sed -n '/what the monitor saw/,$p' "$TMP/failover-$i.log" | grep -vE "^ Name|^-----|^node[12] \||^$"
done
python3 - "$TMP" "$RUNS" <<'PY'
import json, sys
runs = [json.load(open(f"{sys.argv[1]}/failover-{i}.json")) for i in range(1, int(sys.argv[2]) + 1)]
rec = [r["first_ack_after_kill"] for r in runs]
print("failover: accepted again after " + ", ".join(f"{x:.1f} s" for x in rec)
      + f" (max {max(rec):.1f} s); acknowledged " + ", ".join(str(r["acked_count"]) for r in runs)
      + ", all found in the new primary (0 lost)")
PY
