#!/usr/bin/env bash
# Mail delivery (issue 17): queue N personalised mails in one transaction,
# then one sender hands them all to a local SMTP server (aiosmtpd writing a
# Maildir, scripts/smtp-test-server.py) over C connections; prints the
# queueing rate and messages per second delivered, and checks that the
# server received exactly N.
#
#   bench/mail_deliver.sh [N, default 10000] [connections, default 16]
#   BENCH_PROFILE=debug: the debug build (quick; figures from release)
#   MADOGUCHI_BENCH_DATABASE_URL=postgres://…/db: on PostgreSQL (default: a fresh SQLite file)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
C=${2:-16}
PY=${MADOGUCHI_TEST_SMTP_PYTHON:-target/smtp-venv/bin/python}
if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
  python3 -m venv target/smtp-venv
  target/smtp-venv/bin/pip install --quiet --disable-pip-version-check "aiosmtpd==1.4.6" </dev/null
  PY=target/smtp-venv/bin/python
fi
PROFILE=()
[ "${BENCH_PROFILE:-release}" = release ] && PROFILE=(--release)
cargo build "${PROFILE[@]}" --locked -p mail --example deliver_bench
EXE=target/${BENCH_PROFILE:-release}/examples/deliver_bench
TMP=$(mktemp -d /tmp/madoguchi-mail-bench.XXXXXX)
"$PY" scripts/smtp-test-server.py "$TMP" >"$TMP/port" &
SMTP=$!
trap 'kill "$SMTP" 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
PORT=$(awk '{print $2}' "$TMP/port")
echo "== $N mails, $C connections, ${BENCH_PROFILE:-release} build, SMTP on port $PORT"
"$EXE" "$N" "smtp://127.0.0.1:$PORT" "${MADOGUCHI_BENCH_DATABASE_URL:-}" "$C"
GOT=$(ls "$TMP/Maildir/new" | wc -l)
echo "received: $GOT"
[ "$GOT" -eq "$N" ] || { echo "expected $N"; exit 1; }
