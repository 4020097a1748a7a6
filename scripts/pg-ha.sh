#!/usr/bin/env bash
# A PostgreSQL primary + hot standby with streaming replication and
# automatic failover by pg_auto_failover (Debian's postgresql-15-auto-failover
# and pg-auto-failover-cli), in a temporary directory on free ports: one
# monitor and two nodes on 127.0.0.1. For the failover test and benchmark,
# and to try failover by hand. Run as root, it runs PostgreSQL as the
# postgres user (as scripts/test does).
#
#   scripts/pg-ha.sh start [DIR]        start monitor + node1 (primary) + node2 (standby);
#                                       prints PG_HA_DIR=… and MADOGUCHI_DATABASE_URL=…
#   scripts/pg-ha.sh state DIR          pg_autoctl show state
#   scripts/pg-ha.sh primary DIR        name and port of the current primary ("node1 40123")
#   scripts/pg-ha.sh sync DIR           synchronous_standby_names on the primary
#   scripts/pg-ha.sh wait DIR           waits until one node is primary and the other secondary
#   scripts/pg-ha.sh quorum DIR true|false   whether the standby is synchronous
#                                       (replication-quorum; false = asynchronous)
#   scripts/pg-ha.sh kill-primary DIR   SIGKILLs the primary's pg_autoctl and postgres
#                                       (the loss of its server); prints its name
#   scripts/pg-ha.sh watch DIR          prints every change of the nodes' states, timed
#   scripts/pg-ha.sh stop DIR           stops everything and removes DIR
#
# The monitor checks the nodes every second, fails over after 3 s without
# a healthy primary and waits 3 s for a lost primary to demote itself
# (pg_auto_failover's defaults are 5 s, 20 s and 30 s), so that a primary
# lost is replaced within seconds.
set -euo pipefail

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if ! command -v pg_autoctl >/dev/null 2>&1 || [ -z "$PGBIN" ]; then
  echo "pg-ha.sh: needs pg_autoctl and PostgreSQL (apt-get install postgresql-15-auto-failover pg-auto-failover-cli)" >&2
  exit 1
fi

run_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- env "$@"; else env "$@"; fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# pg_autoctl keeps its configuration and state under XDG directories:
# inside DIR, so that nothing outside it is touched.
autoctl() {
  run_pg XDG_CONFIG_HOME="$DIR/xdg/config" XDG_DATA_HOME="$DIR/xdg/data" \
    XDG_RUNTIME_DIR="$DIR/xdg/run" PATH="$PGBIN:$PATH" pg_autoctl "$@"
}
monitor_sql() {
  run_pg PATH="$PGBIN:$PATH" psql -X -q -t -A -h 127.0.0.1 -p "$(cat "$DIR/monitor.port")" -U postgres \
    -d pg_auto_failover -c "$1"
}
node_sql() { # port, sql
  run_pg PATH="$PGBIN:$PATH" psql -X -q -t -A -h 127.0.0.1 -p "$1" -U postgres -d postgres -c "$2"
}

# Starts `pg_autoctl …` in its own session (process group) in the
# background. Its pid file (under DIR/xdg/run) names the group's leader,
# so that kill-primary ends the keeper and its postgres together.
launch() { # name, args…
  local name=$1
  shift
  run_pg XDG_CONFIG_HOME="$DIR/xdg/config" XDG_DATA_HOME="$DIR/xdg/data" XDG_RUNTIME_DIR="$DIR/xdg/run" \
    PATH="$PGBIN:$PATH" setsid pg_autoctl "$@" >>"$DIR/$name.log" 2>&1 &
}
keeper_pid() { head -n 1 "$DIR/xdg/run/pg_autoctl$DIR/$1/pg_autoctl.pid" 2>/dev/null || true; }
postmaster_pid() { head -n 1 "$DIR/$1/postmaster.pid" 2>/dev/null || true; }

wait_for() { # seconds, description, command…
  local t=$1 what=$2
  shift 2
  for _ in $(seq 1 $((t * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "pg-ha.sh: timed out waiting for $what" >&2
  tail -n 30 "$DIR"/*.log >&2 || true
  return 1
}

states() { monitor_sql "SELECT string_agg(reportedstate::text || '/' || goalstate::text, ' ' ORDER BY nodeid) FROM pgautofailover.node"; }
settled() {
  local s
  s=$(states)
  [[ "$s" == "primary/primary secondary/secondary" || "$s" == "secondary/secondary primary/primary" ]]
}
primary() {
  monitor_sql "SELECT nodename || ' ' || nodeport FROM pgautofailover.node WHERE reportedstate IN ('primary', 'wait_primary', 'single') AND goalstate = reportedstate ORDER BY nodeid LIMIT 1"
}

cmd=${1:-}
case "$cmd" in
start)
  DIR=${2:-$(mktemp -d /tmp/madoguchi-pg-ha.XXXXXX)}
  mkdir -p "$DIR/xdg/config" "$DIR/xdg/data" "$DIR/xdg/run"
  chmod 700 "$DIR/xdg/run"
  [ "$(id -u)" -eq 0 ] && chown -R postgres "$DIR"
  PM=$(free_port)
  P1=$(free_port)
  P2=$(free_port)
  echo "$PM" >"$DIR/monitor.port"
  echo "$P1" >"$DIR/node1.port"
  echo "$P2" >"$DIR/node2.port"
  common=(--auth trust --no-ssl --hostname 127.0.0.1 --listen 127.0.0.1 --pgctl "$PGBIN/pg_ctl")
  launch monitor create monitor --pgdata "$DIR/monitor" --pgport "$PM" "${common[@]}" --run
  wait_for 60 "the monitor" monitor_sql "SELECT 1"
  # Faster failure detection than the defaults (5 s checks, 20 s before a
  # node is considered unhealthy).
  monitor_sql "ALTER SYSTEM SET pgautofailover.health_check_period = 1000" >/dev/null
  monitor_sql "ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000" >/dev/null
  monitor_sql "ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1" >/dev/null
  monitor_sql "ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500" >/dev/null
  monitor_sql "ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 3000" >/dev/null
  # How long the monitor waits for a lost primary to report that it has
  # stopped taking writes before the standby may take over (default 30 s).
  # Shortening it is safe for acknowledged writes because the standby is
  # synchronous: a primary cut off from the monitor and the standby cannot
  # commit anything (each commit waits for the standby), and only the
  # monitor can turn synchronous replication off.
  monitor_sql "ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 3000" >/dev/null
  monitor_sql "SELECT pg_reload_conf()" >/dev/null
  MON="postgres://autoctl_node@127.0.0.1:$PM/pg_auto_failover?sslmode=disable"
  launch node1 create postgres --pgdata "$DIR/node1" --pgport "$P1" --name node1 --dbname postgres \
    --monitor "$MON" "${common[@]}" --run
  for _ in $(seq 1 450); do [ -n "$(primary 2>/dev/null || true)" ] && break; sleep 0.2; done
  [ -n "$(primary)" ] || { echo "pg-ha.sh: node1 did not become primary" >&2; tail -n 40 "$DIR/node1.log" >&2; exit 1; }
  if [ "${PG_HA_FSYNC:-on}" = off ]; then
    node_sql "$P1" "ALTER SYSTEM SET fsync = off" >/dev/null
    node_sql "$P1" "SELECT pg_reload_conf()" >/dev/null
  fi
  node_sql "$P1" "ALTER SYSTEM SET max_connections = 200" >/dev/null
  launch node2 create postgres --pgdata "$DIR/node2" --pgport "$P2" --name node2 --dbname postgres \
    --monitor "$MON" "${common[@]}" --run
  for _ in $(seq 1 600); do settled 2>/dev/null && break; sleep 0.2; done
  settled || { echo "pg-ha.sh: the pair did not settle: $(states)" >&2; tail -n 40 "$DIR/node2.log" >&2; exit 1; }
  echo "PG_HA_DIR=$DIR"
  echo "MADOGUCHI_DATABASE_URL=postgres://postgres@127.0.0.1:$P1,127.0.0.1:$P2/postgres?target_session_attrs=read-write"
  ;;
state)
  DIR=$2
  autoctl show state --pgdata "$DIR/monitor"
  ;;
primary)
  DIR=$2
  primary
  ;;
sync)
  DIR=$2
  read -r _ port <<<"$(primary)"
  node_sql "$port" "SHOW synchronous_standby_names"
  ;;
wait)
  DIR=$2
  for _ in $(seq 1 ${3:-600}); do settled 2>/dev/null && exit 0; sleep 0.2; done
  echo "pg-ha.sh: the pair did not settle: $(states)" >&2
  exit 1
  ;;
quorum)
  DIR=$2
  autoctl set node replication-quorum "$3" --pgdata "$DIR/node2" >"$DIR/quorum.log" 2>&1 \
    || { cat "$DIR/quorum.log" >&2; exit 1; }
  want=$([ "$3" = true ] && echo nonempty || echo empty)
  for _ in $(seq 1 150); do
    s=$("$0" sync "$DIR" 2>/dev/null || true)
    if { [ "$want" = empty ] && [ -z "$s" ]; } || { [ "$want" = nonempty ] && [ -n "$s" ]; }; then exit 0; fi
    sleep 0.2
  done
  echo "pg-ha.sh: synchronous_standby_names did not follow replication-quorum $3" >&2
  exit 1
  ;;
kill-primary)
  DIR=$2
  read -r name port <<<"$(primary)"
  [ -n "$name" ] || { echo "pg-ha.sh: no primary" >&2; exit 1; }
  keeper=$(keeper_pid "$name")
  postmaster=$(postmaster_pid "$name")
  # The keeper's process group first (it would restart postgres), then
  # postgres itself.
  [ -n "$keeper" ] && kill -KILL -- "-$keeper" 2>/dev/null || true
  [ -n "$postmaster" ] && kill -KILL "$postmaster" 2>/dev/null || true
  echo "$name $port"
  ;;
watch)
  # Prints each change of the nodes' states with the time (until killed).
  DIR=$2
  last=
  while true; do
    s=$(monitor_sql "SELECT string_agg(nodename || ' ' || reportedstate::text || '->' || goalstate::text, ', ' ORDER BY nodeid) FROM pgautofailover.node" 2>/dev/null || echo "monitor unreachable")
    if [ "$s" != "$last" ]; then echo "$(date +%s.%N | cut -c1-14) $s"; last=$s; fi
    sleep 0.1
  done
  ;;
stop)
  DIR=$2
  keepers=()
  postmasters=()
  for n in node2 node1 monitor; do
    keepers+=("$(keeper_pid "$n")")
    postmasters+=("$(postmaster_pid "$n")")
  done
  for k in "${keepers[@]}"; do [ -n "$k" ] && kill -KILL -- "-$k" 2>/dev/null || true; done
  for p in "${postmasters[@]}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true; done
  sleep 0.5
  rm -rf "$DIR"
  ;;
*)
  sed -n '2,23p' "$0" >&2
  exit 2
  ;;
esac
