#!/usr/bin/env bash
# Mail delivery (issue 17): queue N personalised mails in one transaction,
# then one sender hands them all to a local SMTP server over C connections;
# prints the queueing rate and messages per second delivered, and checks
# that the server received exactly N. Two servers, one after the other:
#   aiosmtpd  one Python process writing a Maildir and parsing every
#             message (scripts/smtp-test-server.py, the tests' server);
#   postfix   Debian's postfix (installed if missing) with its own config
#             under the scratch directory, delivering into a Maildir
#             through virtual(8) (bench/lib/postfix.sh; needs root). Its
#             figure is the rate the sender hands mail over (postfix has
#             queued each message safely when it answers 250); the count
#             in the Maildir is checked once postfix has delivered them.
#
#   bench/mail_deliver.sh [N, default 10000] [connections, default 16]
#   MAIL_SERVER=aiosmtpd|postfix: only that one (default: both)
#   BENCH_PROFILE=debug: the debug build (quick; figures from release)
#   MADOGUCHI_BENCH_DATABASE_URL=postgres://…/db: on PostgreSQL (default: a fresh SQLite file)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
C=${2:-16}
SERVERS=${MAIL_SERVER:-aiosmtpd postfix}
PROFILE=()
[ "${BENCH_PROFILE:-release}" = release ] && PROFILE=(--release)
cargo build "${PROFILE[@]}" --locked -p mail --example deliver_bench
EXE=target/${BENCH_PROFILE:-release}/examples/deliver_bench
TMP=$(mktemp -d /tmp/madoguchi-mail-bench.XXXXXX)
. bench/lib/postfix.sh
SMTP=
cleanup() {
  [ -n "$SMTP" ] && kill "$SMTP" 2>/dev/null || true
  postfix_stop "$TMP/postfix"
  rm -rf "$TMP"
}
trap cleanup EXIT
echo "machine: $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ); load average $(cut -d' ' -f1-3 /proc/loadavg)"
for server in $SERVERS; do
  case $server in
  aiosmtpd)
    PY=${MADOGUCHI_TEST_SMTP_PYTHON:-target/smtp-venv/bin/python}
    if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
      python3 -m venv target/smtp-venv
      target/smtp-venv/bin/pip install --quiet --disable-pip-version-check "aiosmtpd==1.4.6" </dev/null
      PY=target/smtp-venv/bin/python
    fi
    mkdir -p "$TMP/aiosmtpd"
    "$PY" scripts/smtp-test-server.py "$TMP/aiosmtpd" >"$TMP/aiosmtpd/port" &
    SMTP=$!
    for _ in $(seq 50); do [ -s "$TMP/aiosmtpd/port" ] && break; sleep 0.1; done
    PORT=$(awk '{print $2}' "$TMP/aiosmtpd/port")
    echo "== aiosmtpd: $N mails, $C connections, ${BENCH_PROFILE:-release} build, SMTP on port $PORT"
    "$EXE" "$N" "smtp://127.0.0.1:$PORT" "${MADOGUCHI_BENCH_DATABASE_URL:-}" "$C"
    GOT=$(find "$TMP/aiosmtpd/Maildir/new" -type f | wc -l)
    kill "$SMTP"; wait "$SMTP" 2>/dev/null || true; SMTP=
    ;;
  postfix)
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    postfix_start "$TMP/postfix" "$PORT"
    echo "== postfix $(postconf -h mail_version): $N mails, $C connections, ${BENCH_PROFILE:-release} build, SMTP on port $PORT"
    "$EXE" "$N" "smtp://127.0.0.1:$PORT" "${MADOGUCHI_BENCH_DATABASE_URL:-}" "$C"
    START=$(date +%s.%N)
    for _ in $(seq 600); do
      GOT=$(postfix_delivered "$TMP/postfix")
      [ "$GOT" -ge "$N" ] && break
      sleep 0.5
    done
    echo "postfix: in the Maildir $(echo "$(date +%s.%N) - $START" | bc) s after the last hand-off"
    postfix_stop "$TMP/postfix"
    ;;
  *) echo "MAIL_SERVER: aiosmtpd or postfix"; exit 2 ;;
  esac
  echo "received: $GOT"
  [ "$GOT" -eq "$N" ] || { echo "expected $N"; exit 1; }
done
