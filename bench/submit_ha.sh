#!/usr/bin/env bash
# Benchmark: durable online submissions on a PostgreSQL primary + hot
# standby (pg_auto_failover, scripts/pg-ha.sh, fsync on), one server vs two
# servers on the same database, and the standby asynchronous vs
# synchronous, side by side in one run on the same pair and binary:
#
#   1. one server, standby asynchronous (replication-quorum false:
#      synchronous_standby_names '')
#   2. two servers, standby asynchronous
#   3. one server, standby synchronous (pg_auto_failover's default:
#      synchronous_standby_names 'ANY 1 (…)', every commit waits for the
#      standby's WAL flush)
#   4. one server, standby asynchronous again (the difference between 1 and
#      4 is the noise to read the ratios against)
#
#   bench/submit_ha.sh [duration, default 20s] [connections, default 128]
#
# MADOGUCHI_BIN=path uses that binary instead of building the release one.
# The servers are given the multi-host URL (target_session_attrs=read-write).
# Each configuration is measured by bench/lib/submit_config.sh (run_config:
# a fresh database with the demo, two wrk processes at the servers in turn,
# submissions/s, p50, p99; CPU of each server, of the primary's and the
# standby's PostgreSQL, of pg_auto_failover's monitor and keepers, of wrk and
# of everything else; transactions and WAL flushes; pg_stat_activity on the
# primary every 100 ms, where IPC:SyncRep is a commit waiting for the
# standby; the database held to the 201 answers). At the end the ratios
# two / one and synchronous / asynchronous, each against the mean of the
# two asynchronous one-server runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${1:-20s}
CONNS=${2:-128}
command -v wrk >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }
if [ -n "${MADOGUCHI_BIN:-}" ]; then
  BIN=$MADOGUCHI_BIN
else
  cargo build --release --locked -p server --bin madoguchi
  BIN=$ROOT/target/release/madoguchi
fi
# shellcheck source=bench/lib/submit_config.sh
. bench/lib/submit_config.sh

TMP=$(mktemp -d /tmp/madoguchi-bench-ha.XXXXXX)
HA=
cleanup() {
  stop_servers
  [ -n "$HA" ] && "$ROOT/scripts/pg-ha.sh" stop "$HA" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

echo "binary: $BIN"
machine_line
PG_HA_FSYNC=on "$ROOT/scripts/pg-ha.sh" start >"$TMP/ha.env"
HA=$(sed -n 's/^PG_HA_DIR=//p' "$TMP/ha.env")
URL=$(sed -n 's/^MADOGUCHI_DATABASE_URL=//p' "$TMP/ha.env")
PRIMARY=$("$ROOT/scripts/pg-ha.sh" primary "$HA" | cut -d' ' -f1)
STANDBY=$([ "$PRIMARY" = node1 ] && echo node2 || echo node1)
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
echo "pair: $PRIMARY primary, $STANDBY standby, monitor; PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), fsync on"
echo "load: $DURATION, $CONNS connections (2 wrk processes × $((CONNS / 2)))"

db_url() { echo "${URL/\/postgres\?//$1?}"; }
# A PostgreSQL's processes: the postmaster and its children (each child
# has a session of its own, so not the keeper's).
pg_procs() {
  local pm
  pm=$(head -n 1 "$HA/$1/postmaster.pid" 2>/dev/null) || return 0
  echo "$pm" $(pgrep -P "$pm")
}
# pg_autoctl's processes (the keepers and their services) of the three
# nodes: the sessions pg-ha.sh started, without the postmasters.
keepers() {
  local n k
  for n in monitor node1 node2; do
    k=$(head -n 1 "$HA/xdg/run/pg_autoctl$HA/$n/pg_autoctl.pid" 2>/dev/null) || continue
    ps -o pid=,comm= -s "$k" | awk '$2 == "pg_autoctl" {print $1}'
  done | paste -sd' '
}
cpu_groups() {
  printf 'primary PostgreSQL\t%s\n' "$(pg_procs "$PRIMARY")"
  printf 'standby PostgreSQL\t%s\n' "$(pg_procs "$STANDBY")"
  printf 'monitor PostgreSQL + pg_autoctl\t%s %s\n' "$(pg_procs monitor)" "$(keepers)"
}
submit_env

quorum() { # true|false
  "$ROOT/scripts/pg-ha.sh" quorum "$HA" "$1"
  "$ROOT/scripts/pg-ha.sh" wait "$HA"
  SYNC=$("$ROOT/scripts/pg-ha.sh" sync "$HA")
}
quorum false
run_config one_async 1 "standby asynchronous (synchronous_standby_names '$SYNC')"
run_config two_async 2 "standby asynchronous (synchronous_standby_names '$SYNC')"
quorum true
[ -n "$SYNC" ] || { echo "the standby did not become synchronous" >&2; exit 1; }
run_config one_sync 1 "standby synchronous (synchronous_standby_names '$SYNC')"
quorum false
run_config one_async_again 1 "standby asynchronous again (synchronous_standby_names '$SYNC')"
# No failover happened during the run: the figures are the same primary's.
[ "$("$ROOT/scripts/pg-ha.sh" primary "$HA" | cut -d' ' -f1)" = "$PRIMARY" ] \
  || { echo "the primary changed during the run" >&2; exit 1; }

echo "== summary ($(date -u +%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg))"
printf '   %-38s %14s %10s %10s\n' configuration submissions/s p50 p99
for c in one_async two_async one_sync one_async_again; do
  printf '   %-38s %14s %7s ms %7s ms\n' "$c" "${RPS[$c]}" "${P50[$c]}" "${P99[$c]}"
done
echo "== two servers / one server (asynchronous): $(ratio two_async one_async one_async_again)" \
  "(one server: ${RPS[one_async]} and ${RPS[one_async_again]}; two: ${RPS[two_async]})"
echo "== synchronous / asynchronous standby (one server): $(ratio one_sync one_async one_async_again)" \
  "(synchronous: ${RPS[one_sync]}; asynchronous: ${RPS[one_async]} and ${RPS[one_async_again]})"
echo "== noise: the second asynchronous one-server run / the first: $(ratio one_async_again one_async)"
