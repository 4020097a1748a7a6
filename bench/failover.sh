#!/usr/bin/env bash
# Benchmark: failover under submission load on a PostgreSQL primary + hot
# standby (pg_auto_failover, scripts/pg-ha.sh, fsync on), `madoguchi serve`
# (release) on the multi-host URL with target_session_attrs=read-write:
# scripts/failover-test.sh with this binary and fsync on, as many times as
# asked: the time from SIGKILL of the primary to the first acknowledged
# submission sent after it, and the acknowledged submissions found (all of
# them, or the run fails). Submissions/s with the standby synchronous vs
# asynchronous (and one server vs two) on such a pair: bench/submit_ha.sh.
#
#   bench/failover.sh [failover runs, default 3]
#
# MADOGUCHI_BIN=path uses that binary instead of building the release one.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-3}
if [ -n "${MADOGUCHI_BIN:-}" ]; then
  BIN=$MADOGUCHI_BIN
else
  cargo build --release --locked -p server --bin madoguchi
  BIN=$ROOT/target/release/madoguchi
fi
echo "binary: $BIN"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%MZ); load average $(cut -d' ' -f1-3 /proc/loadavg)"

TMP=$(mktemp -d /tmp/madoguchi-bench-failover.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# --- failover under load, RUNS times ---
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
