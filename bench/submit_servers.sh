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
# synchronous_commit on, as in production; no standby) in a temporary
# directory and uses the release binary (or MADOGUCHI_BIN). Each
# configuration is measured by bench/lib/submit_config.sh (run_config:
# fresh database, submissions/s, p50, p99, CPU of each server, of
# PostgreSQL, of wrk and of everything else, transactions and WAL flushes,
# pg_stat_activity sampled every 100 ms, the database held to the 201
# answers). bench/submit_ha.sh measures the same configurations on a
# pg_auto_failover pair, with the standby asynchronous and synchronous.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${1:-20s}
CONNS=${2:-128}

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

# --- a private PostgreSQL ----------------------------------------------------
# shellcheck source=bench/lib/submit_config.sh
. bench/lib/submit_config.sh
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
TMP=$(mktemp -d /tmp/madoguchi-bench-servers.XXXXXX)
PGPORT=$(free_port)
run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$TMP"
cleanup() {
  stop_servers
  run_pg "$PGBIN/pg_ctl" -D "$TMP/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
run_pg "$PGBIN/initdb" -D "$TMP/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$TMP/initdb.log" 2>&1 \
  || { cat "$TMP/initdb.log"; exit 1; }
run_pg "$PGBIN/pg_ctl" -D "$TMP/pg" -l "$TMP/pg.log" -w -t 60 \
  -o "-p $PGPORT -k $TMP -c listen_addresses=127.0.0.1 -c max_connections=200 -c track_wal_io_timing=on" start >/dev/null \
  || { cat "$TMP/pg.log"; exit 1; }
PGPID=$(head -n 1 "$TMP/pg/postmaster.pid")
db_url() { echo "postgres://postgres@127.0.0.1:$PGPORT/$1"; }
cpu_groups() { printf 'PostgreSQL\t%s\n' "$(echo "$PGPID" $(pgrep -P "$PGPID"))"; }
submit_env

machine_line
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'); load: $DURATION, $CONNS connections (2 wrk processes × $((CONNS / 2)))"

# One server before and after two: on a shared machine the difference
# between the two one-server runs is the noise to read the ratio against.
run_config one 1
run_config two 2
run_config one_again 1
echo "== two servers / one server: $(ratio two one one_again)" \
  "(one server: ${RPS[one]} and ${RPS[one_again]} submissions/s; two: ${RPS[two]})"
