#!/usr/bin/env bash
# Reconciliation (issue 18, "reconcile one million 全銀 records in < 2 s"):
# a 振込入金通知 of N transfers (one per unpaid charge, the 納付番号 in the
# 振込依頼人名) written under the temporary directory and deleted again;
# times reading and checking the whole file (payments::zengin::parse),
# then the import of the first M records into a fresh database
# (payments::reconcile::import: matched by number and amount, applied, the
# file recorded, one transaction) on SQLite and on PostgreSQL
# (crates/payments/examples/reconcile_bench.rs).
#
#   MADOGUCHI_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:55432/postgres \
#     bench/reconcile.sh [N, default 1000000] [M, default N]
#
# MADOGUCHI_BENCH_PROFILE=debug runs the debug build (a quick check; the
# figures in docs/PERFORMANCE.md come from the release build).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
M=${2:-$N}
PG=${MADOGUCHI_BENCH_POSTGRES_URL:-${MADOGUCHI_TEST_POSTGRES_URL:-}}
if [ "${MADOGUCHI_BENCH_PROFILE:-release}" = debug ]; then
  cargo build --locked -p payments --example reconcile_bench
  BIN=target/debug/examples/reconcile_bench
else
  cargo build --release --locked -p payments --example reconcile_bench
  BIN=target/release/examples/reconcile_bench
fi
"$BIN" sqlite "$N" "$M"
if [ -n "$PG" ]; then
  "$BIN" "$PG" "$M" "$M"
else
  echo "PostgreSQL skipped: set MADOGUCHI_BENCH_POSTGRES_URL" >&2
fi
