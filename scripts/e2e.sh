#!/usr/bin/env bash
# Browser tests (e2e/): axe-core accessibility checks, keyboard-only and
# no-JavaScript applications, 375px layout, and the correction loop, run with
# Debian's chromium against a fresh `madoguchi demo` server.
#
# Builds nothing: build first (`cargo build -p server`), or point
# MADOGUCHI_BIN at a binary. Needs no standard input; works under CI=true.
#
#   MADOGUCHI_BIN  the madoguchi binary (default: target/debug/madoguchi); the
#                  tests that need a server of their own (oidc) start it too
#   CHROMIUM_PATH  the browser (default: /usr/bin/chromium)
#   E2E_ARGS       extra arguments for `node --test`, e.g. --test-name-pattern=axe
#   E2E_FILES      test files to run (default: all of e2e/tests/)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BIN="${MADOGUCHI_BIN:-target/debug/madoguchi}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
if [ ! -x "$BIN" ]; then
  echo "e2e: no madoguchi binary at $BIN (build it with: cargo build -p server)" >&2
  exit 1
fi

# --- browser and Japanese fonts (Debian packages) -----------------------------
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
export CHROMIUM_PATH="$CHROMIUM"
missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "install ok installed" \
  || missing+=(fonts-noto-cjk)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "e2e: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -n"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q </dev/null
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    chromium fonts-noto-cjk </dev/null
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "e2e: no browser at $CHROMIUM" >&2
  exit 1
fi

# --- node packages (pinned in e2e/package-lock.json) --------------------------
if [ ! -f e2e/node_modules/.package-lock.json ] \
   || [ e2e/package-lock.json -nt e2e/node_modules/.package-lock.json ]; then
  echo "e2e: npm ci"
  (cd e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund </dev/null)
fi

# --- server -------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/madoguchi-e2e.XXXXXX")"
RESULTS="$ROOT/e2e/test-results"
mkdir -p "$RESULTS"
LOG="$RESULTS/server.log"
SERVER_PID=""

cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PORT="$(node -e '
  const s = require("net").createServer();
  s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });
')"
BASE_URL="http://127.0.0.1:$PORT"

echo "e2e: starting $BIN demo on $BASE_URL (log: $LOG)"
# All tests sign in from 127.0.0.1, staff in two steps (password, then the
# TOTP code): far more than the default 20 sign-in requests a minute per
# client, which is not what these tests are about; likewise lookups of
# 申請状況の確認 (20 a minute).
MADOGUCHI_RATE_LIMIT_SIGN_IN_PER_CLIENT=10000 \
MADOGUCHI_RATE_LIMIT_LOOKUP_PER_CLIENT=10000 \
"$BIN" demo --applications 40 --bind "127.0.0.1:$PORT" \
  --database-url "sqlite://$WORK/e2e.db" </dev/null >"$LOG" 2>&1 &
SERVER_PID=$!

healthy() {
  node -e '
    fetch(process.argv[1], { signal: AbortSignal.timeout(2000) })
      .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));
  ' "$BASE_URL/healthz"
}

deadline=$((SECONDS + 60))
until healthy; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "e2e: the server exited before it was healthy; its log:" >&2
    cat "$LOG" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "e2e: no healthy answer from $BASE_URL/healthz within 60 s; the server log:" >&2
    cat "$LOG" >&2
    exit 1
  fi
  sleep 0.5
done
echo "e2e: server healthy"

# --- tests --------------------------------------------------------------------
status=0
# shellcheck disable=SC2086 # E2E_ARGS is a list of words
# The TOTP steps staff sign-ins have used (the server refuses a code twice),
# shared by the test files of this run only. E2E_DATABASE: the server's
# SQLite file, for a test that needs rows no page makes (jobs.test.mjs puts
# a failed job in the queue).
MADOGUCHI_BIN="$BIN" BASE_URL="$BASE_URL" E2E_DATABASE="$WORK/e2e.db" E2E_TOTP_STATE="$WORK/totp-steps.json" node --test --test-concurrency=1 ${E2E_ARGS:-} ${E2E_FILES:-e2e/tests/} </dev/null || status=$?

if [ "$status" -ne 0 ]; then
  echo "e2e: tests failed (exit $status); last lines of the server log ($LOG):" >&2
  tail -n 40 "$LOG" >&2 || true
fi
exit "$status"
