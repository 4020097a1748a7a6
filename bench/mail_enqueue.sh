#!/usr/bin/env bash
# Newsletter enqueue (issue 17, "Enqueue 100,000 personalised messages in
# < 2 s"): 100,000 active subscribers of one category with sealed
# addresses, one approved message in three languages; times
# mail::newsletters::send::send — the audience query, every address
# opened, one personalised outbox row each (preferences link, one-click
# unsubscribe URL) in multi-row inserts, in one transaction — on SQLite
# and on PostgreSQL (crates/mail/examples/mail_enqueue.rs).
#
#   MADOGUCHI_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:55432/postgres \
#     bench/mail_enqueue.sh [subscribers, default 100000]
#
# MADOGUCHI_BENCH_PROFILE=debug runs the debug build (a quick check; the
# figures in docs/PERFORMANCE.md come from the release build).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
PG=${MADOGUCHI_BENCH_POSTGRES_URL:-${MADOGUCHI_TEST_POSTGRES_URL:-}}
if [ "${MADOGUCHI_BENCH_PROFILE:-release}" = debug ]; then
  cargo build --locked -p mail --example mail_enqueue
  BIN=target/debug/examples/mail_enqueue
else
  cargo build --release --locked -p mail --example mail_enqueue
  BIN=target/release/examples/mail_enqueue
fi
"$BIN" sqlite "$N"
if [ -n "$PG" ]; then
  "$BIN" "$PG" "$N"
else
  echo "PostgreSQL skipped: set MADOGUCHI_BENCH_POSTGRES_URL" >&2
fi
