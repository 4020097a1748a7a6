#!/usr/bin/env bash
# Benchmark: staff sign-in (release build, embedded SQLite).
#
#   bench/sign_in.sh
#
# 1. The time of an answer for an id that does not exist, a real account
#    with a wrong password and a locked real account (200 each, one after
#    another, interleaved): equal work, so a timing does not tell which
#    ids exist.
# 2. 200 sign-ins at once with the default bound (2 Argon2 checks at once)
#    and, as the baseline in the same run, with 200 allowed at once: the
#    memory the burst adds to the server.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p server --bin madoguchi
BIN=$PWD/target/release/madoguchi
TMP=$(mktemp -d /tmp/madoguchi-signin.XXXXXX)
SERVER=
trap '[ -z "$SERVER" ] || kill $SERVER 2>/dev/null || true; rm -rf "$TMP"' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Development mode on loopback; the rate limits are off so that what is
# measured is the sign-in itself.
export MADOGUCHI_MODE=development MADOGUCHI_LOG=warn \
  MADOGUCHI_RATE_LIMIT_SIGN_IN_PER_CLIENT=0 MADOGUCHI_RATE_LIMIT_SIGN_IN_PER_TENANT=0
start() { # name, extra environment...
  local name=$1; shift
  PORT=$(port)
  DB="$TMP/$name.db"
  "$BIN" demo --applications 0 --no-serve --database-url "sqlite://$DB" >/dev/null
  env "$@" "$BIN" serve --bind "127.0.0.1:$PORT" --database-url "sqlite://$DB" --config "$TMP/config.toml" >"$TMP/$name.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
}
stop() { kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=; }
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%MZ)"
# A threshold no run reaches: the wrong-password path stays unlocked.
echo 'lockout_threshold = 1000000' >"$TMP/config.toml"
start timing
echo "time of an answer by path:"
python3 bench/sign_in.py time "$PORT" "$DB"
stop
echo 'password_check_queue = 1000' >"$TMP/config.toml"
start bounded
echo "bounded (2 checks at once, the default):"
python3 bench/sign_in.py burst "$PORT" "$SERVER" 200
stop
start unbounded MADOGUCHI_PASSWORD_CHECKS=200
echo "baseline (200 checks at once):"
python3 bench/sign_in.py burst "$PORT" "$SERVER" 200
stop
