#!/usr/bin/env bash
# The database survives its server: a PostgreSQL primary + synchronous hot
# standby managed by pg_auto_failover (scripts/pg-ha.sh), `madoguchi serve`
# on the multi-host URL (target_session_attrs=read-write), residents
# submitting under load (scripts/failover_load.py: idempotency keys,
# retries on 503 and connection errors), then the primary's server is lost
# (SIGKILL of its pg_autoctl and postgres). Checks:
#   - pg_auto_failover made the standby synchronous (synchronous_standby_names
#     'ANY 1 (…)', synchronous_commit on) before the load;
#   - submissions are accepted again in less than 15 s after the kill
#     (FAILOVER_MAX_SECONDS), by the same server process (no restart);
#   - every acknowledged submission (a 2xx with a receipt number) is in the
#     new primary, with its idempotency key; none was answered 500;
#   - the server's health check says it followed the primary once, and
#     its log names the new primary.
#
#   scripts/failover-test.sh [MADOGUCHI_BIN]
# Env: FAILOVER_DURATION (s, default 25), FAILOVER_KILL_AT (s, default 6),
# FAILOVER_WORKERS (default 16), FAILOVER_REPORT (copy the JSON report there),
# PG_HA_FSYNC (on|off, default off here: a killed process, not a lost disk).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${1:-${MADOGUCHI_BIN:-$ROOT/target/debug/madoguchi}}
DURATION=${FAILOVER_DURATION:-25}
KILL_AT=${FAILOVER_KILL_AT:-6}
WORKERS=${FAILOVER_WORKERS:-16}
MAX_SECONDS=${FAILOVER_MAX_SECONDS:-15}
export PG_HA_FSYNC=${PG_HA_FSYNC:-off}

TMP=$(mktemp -d /tmp/madoguchi-failover.XXXXXX)
SERVER=
HA=
cleanup() {
  [ -n "$SERVER" ] && { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
  [ -n "$HA" ] && "$ROOT/scripts/pg-ha.sh" stop "$HA" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

echo "== failover: starting monitor + primary + standby (pg_auto_failover)"
"$ROOT/scripts/pg-ha.sh" start >"$TMP/ha.env"
HA=$(sed -n 's/^PG_HA_DIR=//p' "$TMP/ha.env")
URL=$(sed -n 's/^MADOGUCHI_DATABASE_URL=//p' "$TMP/ha.env")
"$ROOT/scripts/pg-ha.sh" state "$HA"
SYNC=$("$ROOT/scripts/pg-ha.sh" sync "$HA")
echo "synchronous_standby_names on the primary: $SYNC"
[[ "$SYNC" == "ANY 1 (pgautofailover_standby_2)" ]] || { echo "FAIL: the standby is not synchronous" >&2; exit 1; }
read -r _ P1 <<<"$("$ROOT/scripts/pg-ha.sh" primary "$HA")"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" demo --applications 0 --no-serve --database-url "$URL" >"$TMP/demo.log" 2>&1 || { cat "$TMP/demo.log"; exit 1; }
# As bench/submit.sh: development mode with a configured key; the
# per-client and per-tenant submission limits off (one load generator).
export MADOGUCHI_MODE=development MADOGUCHI_DEV_IDENTITY_PROVIDER=true \
  MADOGUCHI_ENCRYPTION_KEYS="$("$BIN" keygen --id failover 2>/dev/null)" \
  MADOGUCHI_RATE_LIMIT_SUBMIT_PER_CLIENT=0 MADOGUCHI_RATE_LIMIT_SUBMIT_PER_TENANT=0
MADOGUCHI_LOG=${MADOGUCHI_LOG:-warn} "$BIN" serve --bind "127.0.0.1:$PORT" --database-url "$URL" >"$TMP/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$PORT/healthz"
echo
JAR="$TMP/cookies"
TOKEN=$(curl -sf -c "$JAR" "http://127.0.0.1:$PORT/t/122289/sign-in" | sed -n 's/.*name="_csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
curl -sf -b "$JAR" -c "$JAR" -o /dev/null -X POST "http://127.0.0.1:$PORT/t/122289/sign-in/dev" \
  --data-urlencode "_csrf=$TOKEN" --data-urlencode "name=四街道 花子" --data-urlencode "address=千葉県四街道市鹿渡無番地" \
  --data-urlencode "birthdate=1990-04-01" --data-urlencode "gender=female" --data-urlencode "level=my_number_card"
export MDG_RESIDENT_COOKIE="mdg_resident=$(awk '$6 == "mdg_resident" {print $7}' "$JAR")"
[ "$MDG_RESIDENT_COOKIE" != "mdg_resident=" ] || { echo "FAIL: resident sign-in" >&2; exit 1; }

echo "== failover: $WORKERS clients for ${DURATION}s, the primary killed at ${KILL_AT}s"
"$ROOT/scripts/pg-ha.sh" watch "$HA" >"$TMP/states.txt" 2>&1 &
WATCH=$!
python3 "$ROOT/scripts/failover_load.py" --port "$PORT" --workers "$WORKERS" --duration "$DURATION" \
  --kill-at "$KILL_AT" --kill-cmd "'$ROOT/scripts/pg-ha.sh' kill-primary '$HA' && date +%s.%N >'$TMP/killed_at'" --out "$TMP/report.json"
[ -n "${FAILOVER_REPORT:-}" ] && cp "$TMP/report.json" "$FAILOVER_REPORT"
kill "$WATCH" 2>/dev/null || true
echo "-- what the monitor saw (seconds after the kill: states)"
KILLED_AT=$(cat "$TMP/killed_at")
awk -v k="$KILLED_AT" '{ t = $1 - k; $1 = ""; printf "%7.2f s %s\n", t, $0 }' "$TMP/states.txt"
echo "-- what the server logged"
sed 's/\x1b\[[0-9;]*m//g' "$TMP/server.log" >"$TMP/server.txt"
grep -E "primary|unavailable|batch failed" "$TMP/server.txt" | cut -c1-240 | head -n 20 || true
"$ROOT/scripts/pg-ha.sh" state "$HA" || true
read -r NEW P2 <<<"$("$ROOT/scripts/pg-ha.sh" primary "$HA")"
echo "primary now: $NEW (port $P2)"
HEALTH=$(curl -sf "http://127.0.0.1:$PORT/healthz")
echo "healthz: $HEALTH"
kill -0 "$SERVER" || { echo "FAIL: the server exited" >&2; exit 1; }

# Every acknowledged submission, read back from the new primary.
run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
run_pg "$PGBIN/psql" -X -q -t -A -F ' ' -h 127.0.0.1 -p "$P2" -U postgres -d postgres \
  -c "SELECT k.key, k.application_id, a.id IS NOT NULL FROM idempotency_keys k LEFT JOIN applications a ON a.tenant = k.tenant AND a.id = k.application_id WHERE k.tenant = '122289' AND k.key LIKE 'failover-%'" \
  >"$TMP/stored.txt"
grep -q "database primary moved; the pool now connects to the new primary from=127.0.0.1:$P1 to=127.0.0.1:$P2" "$TMP/server.txt" \
  || { echo "FAIL: the server did not log the move from $P1 to $P2" >&2; exit 1; }
python3 - "$TMP/report.json" "$TMP/stored.txt" "$MAX_SECONDS" "$P1" "$P2" "$HEALTH" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
stored = {}
for line in open(sys.argv[2]):
    key, app, present = line.split()
    stored[key] = (app, present == "t")
max_s, p1, p2, health = float(sys.argv[3]), sys.argv[4], sys.argv[5], json.loads(sys.argv[6])
lost = [(k, i) for k, i, _, _ in report["acked"] if stored.get(k) != (i, True)]
rec = report.get("first_ack_after_kill")
print(f"acknowledged: {report['acked_count']} (201: {report['created']}, 200 replayed: {report['replayed']}); "
      f"before the kill: {report['acked_before_kill']}, after: {report['acked_after_kill']}; "
      f"retries: {report['retries']}; answers: { {k: v for k, v in report['statuses'].items() if k != 'bodies'} }")
print(f"accepted again {rec} s after the kill; longest time without an acknowledgement: {report['max_gap']} s; "
      f"stored keys: {len(stored)}; acknowledged but missing: {len(lost)}")
fail = []
if lost:
    fail.append(f"{len(lost)} acknowledged submissions are not in the new primary: {lost[:5]}")
if report["acked_before_kill"] == 0:
    fail.append("nothing was acknowledged before the kill (no load)")
if rec is None or rec >= max_s:
    fail.append(f"submissions were not accepted again within {max_s} s (got {rec})")
bad = {k: v for k, v in report["statuses"].items() if k not in ("200", "201", "503", "connection error", "bodies")}
if bad:
    fail.append(f"answers other than 2xx/503: {bad} {report['statuses'].get('bodies')}")
if p1 == p2:
    fail.append("the primary did not change")
if health.get("primary_moves") != 1:
    fail.append(f"healthz does not say the server moved once: {health}")
if fail:
    print("FAIL: " + "; ".join(fail), file=sys.stderr)
    sys.exit(1)
print("== failover: passed")
PY
