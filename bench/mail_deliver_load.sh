#!/usr/bin/env bash
# The app's answers while it delivers mail (issue 17: ≥ 1,000 messages/s
# with other requests at p99 < 50 ms). One real `madoguchi serve` (the demo
# municipalities on a fresh SQLite file) configured with a private postfix
# (bench/lib/postfix.sh, delivering into a Maildir). wrk asks for the
# municipality's start page (/t/122289) with a few connections: first for
# DURATION with no mail queued (the baseline), then N mails are queued in
# one transaction (the deliver_bench example, queue-only; the server's job
# workers deliver them) and wrk asks again for DURATION while they go out.
# Prints the page's requests/s, p50 and p99 in both phases, the mails sent
# during the second wrk run per second, the time until all N were sent, and
# checks that postfix put exactly N in the Maildir.
#
#   bench/mail_deliver_load.sh [N, default 20000] [connections, default 16] [duration, default 10s] [wrk connections, default 4]
#   BENCH_PROFILE=debug: the debug build (quick; figures from release)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
C=${2:-16}
DURATION=${3:-10s}
WRK_CONNS=${4:-4}
command -v wrk >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }
command -v sqlite3 >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -q sqlite3; }
PROFILE=()
[ "${BENCH_PROFILE:-release}" = release ] && PROFILE=(--release)
cargo build "${PROFILE[@]}" --locked -p server --bin madoguchi
cargo build "${PROFILE[@]}" --locked -p mail --example deliver_bench
BIN=target/${BENCH_PROFILE:-release}/madoguchi
EXE=target/${BENCH_PROFILE:-release}/examples/deliver_bench
TMP=$(mktemp -d /tmp/madoguchi-mail-load.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
. bench/lib/postfix.sh
SERVER=
cleanup() {
  [ -n "$SERVER" ] && { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
  postfix_stop "$TMP/postfix"
  rm -rf "$TMP"
}
trap cleanup EXIT
SMTP_PORT=$(free_port)
postfix_start "$TMP/postfix" "$SMTP_PORT"
DB="sqlite://$TMP/bench.db"
export MADOGUCHI_MODE=development MADOGUCHI_ENCRYPTION_KEYS="$("$BIN" keygen --id bench 2>/dev/null)"
"$BIN" demo --applications 0 --no-serve --database-url "$DB" >/dev/null
PORT=$(free_port)
MADOGUCHI_LOG=warn MADOGUCHI_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" MADOGUCHI_MAIL_CONNECTIONS="$C" \
  MADOGUCHI_MAIL_PER_MINUTE=0 MADOGUCHI_MAIL_FROM=noreply@city.example.jp \
  "$BIN" serve --bind "127.0.0.1:$PORT" --database-url "$DB" >"$TMP/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
PAGE="http://127.0.0.1:$PORT/t/122289"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$PAGE")" = 200 ] || { echo "$PAGE is not 200"; exit 1; }
sent() { sqlite3 -cmd ".timeout 5000" "$TMP/bench.db" "SELECT COUNT(*) FROM outbox WHERE state = 'sent'"; }
load() {
  wrk -t1 -c"$WRK_CONNS" -d"$DURATION" --latency "$PAGE" >"$TMP/wrk.$1"
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$TMP/wrk.$1")
  p50=$(awk '$1 == "50%" {print $2}' "$TMP/wrk.$1")
  p99=$(awk '$1 == "99%" {print $2}' "$TMP/wrk.$1")
  echo "$1: $PAGE $rps requests/s, p50 $p50, p99 $p99 ($WRK_CONNS connections, $DURATION)"
  grep -E "Non-2xx|Socket errors" "$TMP/wrk.$1" || true
}
echo "machine: $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ); load average $(cut -d' ' -f1-3 /proc/loadavg); ${BENCH_PROFILE:-release} build"
echo "== $N mails to postfix $(postconf -h mail_version) over $C connections"
curl -s -o /dev/null "$PAGE"
load baseline
"$EXE" "$N" "" "$DB" "$C" queue-only
T0=$(date +%s.%N)
# The server's job workers pick the run up within a second; the load
# starts once the first mails are out.
for _ in $(seq 100); do [ "$(sent)" -gt 0 ] && break; sleep 0.1; done
A=$(sent); TA=$(date +%s.%N)
load delivering
B=$(sent); TB=$(date +%s.%N)
echo "delivering: $((B - A)) mails sent during the load, $(echo "($B - $A) / ($TB - $TA)" | bc) messages/s"
for _ in $(seq 1200); do [ "$(sent)" -ge "$N" ] && break; sleep 0.25; done
echo "all $(sent) sent $(echo "$(date +%s.%N) - $T0" | bc) s after they were queued"
for _ in $(seq 600); do [ "$(postfix_delivered "$TMP/postfix")" -ge "$N" ] && break; sleep 0.5; done
GOT=$(postfix_delivered "$TMP/postfix")
echo "received: $GOT"
grep -m3 -A3 "ERROR" "$TMP/server.log" | cut -c1-400 || true
[ "$GOT" -eq "$N" ] || { echo "expected $N"; exit 1; }
