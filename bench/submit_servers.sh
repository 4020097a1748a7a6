#!/usr/bin/env bash
# Benchmark: durable online submissions on PostgreSQL, one madoguchi server
# vs two servers on the same database, side by side in one run (one, two,
# one again: the two one-server runs show the noise). The same
# load in both: two wrk processes (bench/submit.lua, each with half the
# connections and its own Idempotency-Keys), both at the one server, or
# one at each of the two (a load balancer's round robin).
#
#   bench/submit_servers.sh [duration, default 20s] [connections, default 128]
#
# Starts its own PostgreSQL (Debian's packages; durable: fsync and
# synchronous_commit on, as in production) in a temporary directory, a
# fresh database per configuration with the demo loaded once, and the
# release binary (or MADOGUCHI_BIN). For each configuration it prints
# requests/s, p50 and p99 latency (the two wrk processes: their sum and
# the worse p99), and where the time went during the measurement: CPU of
# each server, of PostgreSQL (all its processes), of wrk, and of everything
# else on the machine (other work shares it); PostgreSQL's transactions
# and WAL flushes (one flush commits a group of submissions); and what the
# database's connections were doing, sampled every 100 ms from
# pg_stat_activity (running, waiting for a lock, for the WAL, or idle in a
# transaction waiting for the app server's next statement; for a lock, the
# statement that waits). Then it holds
# the database to the 201 answers counted, as bench/submit.sh does.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${1:-20s}
CONNS=${2:-128}
HALF=$((CONNS / 2))

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
missing=()
command -v wrk >/dev/null || missing+=(wrk)
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ -z "${MADOGUCHI_BIN:-}" ]; then
  cargo build --release --locked -p server --bin madoguchi
fi
BIN=${MADOGUCHI_BIN:-$ROOT/target/release/madoguchi}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- a private PostgreSQL ----------------------------------------------------
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
TMP=$(mktemp -d /tmp/madoguchi-bench-servers.XXXXXX)
PGPORT=$(free_port)
run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$TMP"
SERVERS=()
cleanup() {
  for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null || true; done
  run_pg "$PGBIN/pg_ctl" -D "$TMP/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
run_pg "$PGBIN/initdb" -D "$TMP/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$TMP/initdb.log" 2>&1 \
  || { cat "$TMP/initdb.log"; exit 1; }
run_pg "$PGBIN/pg_ctl" -D "$TMP/pg" -l "$TMP/pg.log" -w -t 60 \
  -o "-p $PGPORT -k $TMP -c listen_addresses=127.0.0.1 -c max_connections=200 -c track_wal_io_timing=on" start >/dev/null \
  || { cat "$TMP/pg.log"; exit 1; }
PG="postgres://postgres@127.0.0.1:$PGPORT"
PGPID=$(head -n 1 "$TMP/pg/postmaster.pid")
q() { psql -X -At -v ON_ERROR_STOP=1 "$1" -c "$2"; }

# Development mode (plain http on loopback, the development identity
# provider) with one encryption key for every server, as in production.
# The per-client and per-tenant limits are off: one load generator is one
# client address, and the commit path is what is measured.
export MADOGUCHI_MODE=development MADOGUCHI_DEV_IDENTITY_PROVIDER=true MADOGUCHI_LOG=warn \
  MADOGUCHI_ENCRYPTION_KEYS="$("$BIN" keygen --id bench 2>/dev/null)" \
  MADOGUCHI_RATE_LIMIT_SUBMIT_PER_CLIENT=0 MADOGUCHI_RATE_LIMIT_SUBMIT_PER_TENANT=0

# CPU time (clock ticks) of processes: utime + stime.
ticks() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0; done | paste -sd+ | bc; }
pg_pids() { echo "$PGPID"; pgrep -P "$PGPID" || true; }
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%MZ); PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}')"
echo "load: $DURATION, $CONNS connections (2 wrk processes × $HALF)"

# run_config NAME SERVERS
run_config() {
  local name=$1 n=$2 url="$PG/$1" ports=() pids=() i
  q "$PG/postgres" "CREATE DATABASE $name" >/dev/null
  "$BIN" demo --applications 0 --no-serve --database-url "$url" >/dev/null
  for i in $(seq 1 "$n"); do
    ports+=("$(free_port)")
    "$BIN" serve --bind "127.0.0.1:${ports[-1]}" --database-url "$url" >"$TMP/$name-server$i.log" 2>&1 &
    pids+=($!)
    SERVERS+=($!)
  done
  for p in "${ports[@]}"; do
    for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$p/healthz" >/dev/null && break; sleep 0.1; done
    curl -sf "http://127.0.0.1:$p/healthz" >/dev/null || { cat "$TMP/$name"-server*.log; exit 1; }
  done
  # 住民票の写し needs the My Number card: a resident signed in on the
  # first server; the session is in the database, good on every server.
  local base="http://127.0.0.1:${ports[0]}" jar="$TMP/$name-cookies" token
  token=$(curl -sf -c "$jar" "$base/t/122289/sign-in" | sed -n 's/.*name="_csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
  curl -sf -b "$jar" -c "$jar" -o /dev/null -X POST "$base/t/122289/sign-in/dev" \
    --data-urlencode "_csrf=$token" --data-urlencode "name=四街道 花子" --data-urlencode "address=千葉県四街道市鹿渡無番地" \
    --data-urlencode "birthdate=1990-04-01" --data-urlencode "gender=female" --data-urlencode "level=my_number_card"
  MDG_RESIDENT_COOKIE="mdg_resident=$(awk '$6 == "mdg_resident" {print $7}' "$jar")"
  export MDG_RESIDENT_COOKIE
  [ "$MDG_RESIDENT_COOKIE" != "mdg_resident=" ] || { echo "resident sign-in failed" >&2; exit 1; }
  # Two wrk processes, as the load balancer would spread them.
  load() { # duration prefix [--latency]
    local k wrks=()
    for k in 0 1; do
      MDG_KEY_PREFIX="$name-$2$k-" wrk -t1 -c"$HALF" -d"$1" --timeout 10s ${3:-} -s bench/submit.lua "http://127.0.0.1:${ports[$((k % n))]}" >"$TMP/$name-$2$k.txt" &
      wrks+=($!)
    done
    WRKS=("${wrks[@]}")
  }
  load 5s warmup
  wait "${WRKS[@]}"
  # The measurement, with the CPU counters read around it and
  # pg_stat_activity sampled every 100 ms.
  local t0 p0 o0 c0 f0 p1 o1 c1 f1 t1 wrk_ticks=0 sampler k w
  local -a s0=() s1=() wmax=(0 0)
  psql -X -At -F' ' "$PG/postgres" >"$TMP/$name-activity.txt" <<<"SELECT 'sample', 0 UNION ALL
    SELECT state || ' ' || coalesce(wait_event_type || ':' || wait_event, 'CPU')
           || CASE WHEN wait_event_type = 'Lock' THEN ' in: ' || left(regexp_replace(query, '\s+', ' ', 'g'), 50) ELSE '' END,
           count(*) FROM pg_stat_activity
     WHERE datname = '$name' AND pid <> pg_backend_pid() AND state <> 'idle' GROUP BY 1 \\watch 0.1" &
  sampler=$!
  c0=$(q "$url" "SELECT xact_commit FROM pg_stat_database WHERE datname = '$name'")
  f0=$(q "$url" "SELECT wal_sync FROM pg_stat_wal")
  t0=$(date +%s.%N); o0=$(busy_ticks); p0=$(ticks $(pg_pids))
  for i in $(seq 0 $((n - 1))); do s0[$i]=$(ticks "${pids[$i]}"); done
  load "$DURATION" wrk --latency
  # wrk's own CPU: the last reading of each before it exits.
  while kill -0 "${WRKS[0]}" 2>/dev/null || kill -0 "${WRKS[1]}" 2>/dev/null; do
    for k in 0 1; do
      w=$(ticks "${WRKS[$k]}")
      [ "$w" -gt "${wmax[$k]}" ] && wmax[$k]=$w
    done
    sleep 0.5
  done
  wait "${WRKS[@]}"
  wrk_ticks=$((wmax[0] + wmax[1]))
  t1=$(date +%s.%N); o1=$(busy_ticks); p1=$(ticks $(pg_pids))
  for i in $(seq 0 $((n - 1))); do s1[$i]=$(ticks "${pids[$i]}"); done
  c1=$(q "$url" "SELECT xact_commit FROM pg_stat_database WHERE datname = '$name'")
  f1=$(q "$url" "SELECT wal_sync FROM pg_stat_wal")
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  local hz secs servers_cpu="" total_server=0
  hz=$(getconf CLK_TCK)
  secs=$(echo "$t1 - $t0" | bc -l)
  for i in $(seq 0 $((n - 1))); do
    local c
    c=$(echo "(${s1[$i]} - ${s0[$i]}) / $hz / $secs" | bc -l)
    servers_cpu+=$(printf "server %d %.2f, " $((i + 1)) "$c")
    total_server=$(echo "$total_server + ${s1[$i]} - ${s0[$i]}" | bc)
  done
  local pg_cpu wrk_cpu other_cpu
  pg_cpu=$(echo "($p1 - $p0) / $hz / $secs" | bc -l)
  wrk_cpu=$(echo "$wrk_ticks / $hz / $secs" | bc -l)
  other_cpu=$(echo "(($o1 - $o0) - $total_server - ($p1 - $p0) - $wrk_ticks) / $hz / $secs" | bc -l)
  sleep 2
  for p in "${pids[@]}"; do kill "$p"; wait "$p" 2>/dev/null || true; done
  # The answers against the database.
  local created apps audit keys rps p50 p99
  created=$(cat "$TMP/$name"-warmup*.txt "$TMP/$name"-wrk*.txt | sed -n 's/^RESULT .* created=\([0-9]*\) .*/\1/p' | paste -sd+ | bc)
  rps=$(sed -n 's/^RESULT .* rps=\([0-9]*\).*/\1/p' "$TMP/$name"-wrk*.txt | paste -sd+ | bc)
  p50=$(sed -n 's/^RESULT .* p50_ms=\([0-9.]*\) .*/\1/p' "$TMP/$name"-wrk*.txt | sort -g | tail -1)
  p99=$(sed -n 's/^RESULT .* p99_ms=\([0-9.]*\) .*/\1/p' "$TMP/$name"-wrk*.txt | sort -g | tail -1)
  apps=$(q "$url" "SELECT COUNT(*) FROM applications")
  audit=$(q "$url" "SELECT COUNT(*) FROM audit_log WHERE action = 'application.submit'")
  keys=$(q "$url" "SELECT COUNT(*) FROM idempotency_keys")
  local errors
  errors=$(sed -n 's/^RESULT .* errors_status=\([0-9]*\) timeouts=\([0-9]*\).*/\1+\2/p' "$TMP/$name"-wrk*.txt | paste -sd+ | bc)
  echo "== $name: $n server(s)"
  echo "   $rps submissions/s, p50 ≤ $p50 ms, p99 ≤ $p99 ms (the worse of the two wrk), errors+timeouts $errors"
  printf "   CPU (cores busy over %.1f s): %sPostgreSQL %.2f, wrk %.2f, everything else %.2f\n" "$secs" "$servers_cpu" "$pg_cpu" "$wrk_cpu" "$other_cpu"
  printf "   PostgreSQL: %.0f transactions/s, %.0f WAL flushes/s, %.1f submissions per WAL flush\n" \
    "$(echo "($c1 - $c0) / $secs" | bc -l)" "$(echo "($f1 - $f0) / $secs" | bc -l)" \
    "$(echo "$rps / (($f1 - $f0) / $secs)" | bc -l)"
  echo "   connections of the database, average over $(grep -c '^sample ' "$TMP/$name-activity.txt") samples:"
  awk '$1 == "sample" {n++; next} {k=$0; sub(/ [0-9]+$/, "", k); c[k] += $NF} END {for (k in c) printf "     %5.2f  %s\n", c[k] / n, k}' \
    "$TMP/$name-activity.txt" | sort -rn
  local warnings
  warnings=$(cat "$TMP/$name"-server*.log | grep -cE "WARN|ERROR" || true)
  echo "   server logs: $warnings warnings and errors$( [ "$warnings" -eq 0 ] || { echo ", the first:"; cat "$TMP/$name"-server*.log | grep -m 3 -E "WARN|ERROR" | cut -c1-400 | sed 's/^/     /'; })"
  echo "   stored: applications=$apps audit_submit=$audit idempotency_keys=$keys, answered 201: $created"
  [ "$apps" -eq "$audit" ] && [ "$apps" -eq "$keys" ] || { echo "every case has its audit entry and key" >&2; exit 1; }
  [ "$apps" -ge "$created" ] || { echo "$((created - apps)) answered cases are missing" >&2; exit 1; }
  [ $((apps - created)) -le $((2 * CONNS)) ] || { echo "more cases stored without an answer than were in flight" >&2; exit 1; }
  eval "RPS_$name=$rps"
}

# One server before and after two: on a shared machine the difference
# between the two one-server runs is the noise to read the ratio against.
run_config one 1
run_config two 2
run_config one_again 1
echo "== two servers / one server: $(echo "scale=2; 2 * $RPS_two / ($RPS_one + $RPS_one_again)" | bc)" \
  "(one server: $RPS_one and $RPS_one_again submissions/s; two: $RPS_two)"
