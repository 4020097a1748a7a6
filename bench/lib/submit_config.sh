# Sourced (not run) by bench/submit_servers.sh and bench/submit_ha.sh: one
# configuration of the submissions benchmark on PostgreSQL, measured the
# same way in both.
#
# run_config NAME SERVERS [DESCRIPTION]: a fresh database NAME with the demo
# loaded, SERVERS `madoguchi serve` processes on it, a resident signed in
# with the My Number card on the first (the session is in the database,
# good on every server), and two wrk processes (bench/submit.lua, half the
# connections each, each with its own Idempotency-Key prefix) at the
# servers in turn, as a round-robin balancer spreads them: both at the one
# server, or one at each of two. A 5 s warm-up, then the measurement. Around
# the measurement it reads the CPU time of each server, of each group of
# database processes (cpu_groups), of wrk and of everything else on the
# machine (other work shares it); PostgreSQL's transactions and WAL flushes
# (one flush commits a group of submissions); and samples every 100 ms
# what the database's connections are doing (pg_stat_activity: running,
# waiting for a lock, for the WAL, for the synchronous standby
# (IPC:SyncRep), or idle in a transaction waiting for the app server's next
# statement; for a lock, the statement that waits). Then it holds the
# database to the 201 answers counted, as bench/submit.sh does: as many
# cases as audit entries and idempotency keys, no fewer than the 201s, no
# more than the 201s plus the requests in flight when wrk stopped.
#
# The sourcing script sets BIN (the madoguchi binary), TMP (a scratch
# directory), DURATION and CONNS, and defines
#   db_url DB     the URL of database DB, for the servers and for psql
#   cpu_groups    one line per group of database processes to account CPU
#                 to: "label<TAB>pid pid …"
# then calls submit_env once and run_config per configuration. run_config
# leaves RPS[NAME], P50[NAME] and P99[NAME]; ratio A B [C] prints
# RPS[A] / mean(RPS[B], RPS[C]).

declare -A RPS=() P50=() P99=()
SERVERS=()

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
q() { psql -X -At -v ON_ERROR_STOP=1 "$1" -c "$2"; }

machine_line() {
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(date -u +%Y-%m-%dT%H:%MZ); load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# Development mode (plain http on loopback, the development identity
# provider) with one encryption key for every server, as in production.
# The per-client and per-tenant limits are off: one load generator is one
# client address, and the commit path is what is measured.
submit_env() {
  export MADOGUCHI_MODE=development MADOGUCHI_DEV_IDENTITY_PROVIDER=true MADOGUCHI_LOG=warn \
    MADOGUCHI_ENCRYPTION_KEYS="$("$BIN" keygen --id bench 2>/dev/null)" \
    MADOGUCHI_RATE_LIMIT_SUBMIT_PER_CLIENT=0 MADOGUCHI_RATE_LIMIT_SUBMIT_PER_TENANT=0
}

# Kills the servers still running (for the sourcing script's EXIT trap).
stop_servers() {
  local p
  for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null || true; done
}

# CPU time (clock ticks, user + system, all threads) of one process; 0 when
# it is gone. The command name in /proc/PID/stat may hold spaces: the
# fields are counted after its closing parenthesis.
ticks_of() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  s=${s##*) }
  # shellcheck disable=SC2086
  set -- $s
  echo $((${12} + ${13}))
}
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }

# cpu_snapshot FILE: "group pid ticks" for every process of every group
# (the servers' groups first, then cpu_groups), their labels in FILE.labels.
cpu_snapshot() {
  local file=$1 i=0 label pids p
  : >"$file"
  : >"$file.labels"
  while IFS=$'\t' read -r label pids; do
    echo "$label" >>"$file.labels"
    for p in $pids; do echo "$i $p $(ticks_of "$p")" >>"$file"; done
    i=$((i + 1))
  done < <(
    for i in "${!RUN_PIDS[@]}"; do printf 'server %d\t%s\n' $((i + 1)) "${RUN_PIDS[$i]}"; done
    cpu_groups
  )
}
# cpu_delta START END: "ticks<TAB>label" per group: the ticks each process of
# the group at the end used since the start (all of them if it started
# later; a process that ended in between is not counted).
cpu_delta() {
  awk 'FILENAME == ARGV[1] {s[$2] = $3; next}
       FILENAME == ARGV[2] {d[$1] += $3 - (($2 in s) ? s[$2] : 0); next}
       {printf "%d\t%s\n", d[FNR - 1], $0}' "$1" "$2" "$2.labels"
}

# run_config NAME SERVERS [DESCRIPTION]
run_config() {
  local name=$1 n=$2 desc=${3:-} url ports=() i p
  url=$(db_url "$name")
  RUN_PIDS=()
  q "$(db_url postgres)" "CREATE DATABASE $name" >/dev/null
  "$BIN" demo --applications 0 --no-serve --database-url "$url" >/dev/null
  for i in $(seq 1 "$n"); do
    ports+=("$(free_port)")
    "$BIN" serve --bind "127.0.0.1:${ports[-1]}" --database-url "$url" >"$TMP/$name-server$i.log" 2>&1 &
    RUN_PIDS+=($!)
    SERVERS+=($!)
  done
  for p in "${ports[@]}"; do
    for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$p/healthz" >/dev/null && break; sleep 0.1; done
    curl -sf "http://127.0.0.1:$p/healthz" >/dev/null || { cat "$TMP/$name"-server*.log; exit 1; }
  done
  # 住民票の写し needs the My Number card: a resident signed in on the
  # first server (development identity provider), as a browser would.
  local base="http://127.0.0.1:${ports[0]}" jar="$TMP/$name-cookies" token
  token=$(curl -sf -c "$jar" "$base/t/122289/sign-in" | sed -n 's/.*name="_csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
  curl -sf -b "$jar" -c "$jar" -o /dev/null -X POST "$base/t/122289/sign-in/dev" \
    --data-urlencode "_csrf=$token" --data-urlencode "name=四街道 花子" --data-urlencode "address=千葉県四街道市鹿渡無番地" \
    --data-urlencode "birthdate=1990-04-01" --data-urlencode "gender=female" --data-urlencode "level=my_number_card"
  MDG_RESIDENT_COOKIE="mdg_resident=$(awk '$6 == "mdg_resident" {print $7}' "$jar")"
  export MDG_RESIDENT_COOKIE
  [ "$MDG_RESIDENT_COOKIE" != "mdg_resident=" ] || { echo "resident sign-in failed" >&2; exit 1; }
  # Two wrk processes, as the load balancer would spread them.
  local half=$((CONNS / 2))
  load() { # duration prefix [--latency]
    local k
    WRKS=()
    for k in 0 1; do
      MDG_KEY_PREFIX="$name-$2$k-" wrk -t1 -c"$half" -d"$1" --timeout 10s ${3:-} -s bench/submit.lua \
        "http://127.0.0.1:${ports[$((k % n))]}" >"$TMP/$name-$2$k.txt" &
      WRKS+=($!)
    done
  }
  load 5s warmup
  wait "${WRKS[@]}"
  # The measurement, with the CPU counters read around it and
  # pg_stat_activity sampled every 100 ms.
  local loadavg t0 o0 c0 f0 t1 o1 c1 f1 sampler k w
  local -a wmax=(0 0)
  loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
  psql -X -At -F' ' "$(db_url postgres)" >"$TMP/$name-activity.txt" <<<"SELECT 'sample', 0 UNION ALL
    SELECT state || ' ' || coalesce(wait_event_type || ':' || wait_event, 'CPU')
           || CASE WHEN wait_event_type = 'Lock' THEN ' in: ' || left(regexp_replace(query, '\s+', ' ', 'g'), 50) ELSE '' END,
           count(*) FROM pg_stat_activity
     WHERE datname = '$name' AND pid <> pg_backend_pid() AND state <> 'idle' GROUP BY 1 \\watch 0.1" &
  sampler=$!
  c0=$(q "$url" "SELECT xact_commit FROM pg_stat_database WHERE datname = '$name'")
  f0=$(q "$url" "SELECT wal_sync FROM pg_stat_wal")
  t0=$(date +%s.%N)
  o0=$(busy_ticks)
  cpu_snapshot "$TMP/$name-cpu0"
  load "$DURATION" wrk --latency
  # wrk's own CPU: the last reading of each before it exits.
  while kill -0 "${WRKS[0]}" 2>/dev/null || kill -0 "${WRKS[1]}" 2>/dev/null; do
    for k in 0 1; do
      w=$(ticks_of "${WRKS[$k]}")
      [ "$w" -gt "${wmax[$k]}" ] && wmax[$k]=$w
    done
    sleep 0.5
  done
  wait "${WRKS[@]}"
  t1=$(date +%s.%N)
  o1=$(busy_ticks)
  cpu_snapshot "$TMP/$name-cpu1"
  c1=$(q "$url" "SELECT xact_commit FROM pg_stat_database WHERE datname = '$name'")
  f1=$(q "$url" "SELECT wal_sync FROM pg_stat_wal")
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  local hz secs cpu_line="" accounted wrk_ticks=$((wmax[0] + wmax[1]))
  hz=$(getconf CLK_TCK)
  secs=$(echo "$t1 - $t0" | bc -l)
  cpu_delta "$TMP/$name-cpu0" "$TMP/$name-cpu1" >"$TMP/$name-cpu"
  accounted=$(cut -f1 "$TMP/$name-cpu" | paste -sd+ | bc)
  while IFS=$'\t' read -r t label; do
    cpu_line+=$(printf "%s %.2f, " "$label" "$(echo "$t / $hz / $secs" | bc -l)")
  done <"$TMP/$name-cpu"
  cpu_line+=$(printf "wrk %.2f, everything else %.2f" "$(echo "$wrk_ticks / $hz / $secs" | bc -l)" \
    "$(echo "(($o1 - $o0) - $accounted - $wrk_ticks) / $hz / $secs" | bc -l)")
  sleep 2
  for p in "${RUN_PIDS[@]}"; do
    kill "$p"
    wait "$p" 2>/dev/null || true
  done
  # The answers against the database.
  local created apps audit keys rps p50 p99 errors warnings
  created=$(cat "$TMP/$name"-warmup*.txt "$TMP/$name"-wrk*.txt | sed -n 's/^RESULT .* created=\([0-9]*\) .*/\1/p' | paste -sd+ | bc)
  rps=$(sed -n 's/^RESULT .* rps=\([0-9]*\).*/\1/p' "$TMP/$name"-wrk*.txt | paste -sd+ | bc)
  p50=$(sed -n 's/^RESULT .* p50_ms=\([0-9.]*\) .*/\1/p' "$TMP/$name"-wrk*.txt | sort -g | tail -1)
  p99=$(sed -n 's/^RESULT .* p99_ms=\([0-9.]*\) .*/\1/p' "$TMP/$name"-wrk*.txt | sort -g | tail -1)
  errors=$(sed -n 's/^RESULT .* errors_status=\([0-9]*\) timeouts=\([0-9]*\).*/\1+\2/p' "$TMP/$name"-wrk*.txt | paste -sd+ | bc)
  apps=$(q "$url" "SELECT COUNT(*) FROM applications")
  audit=$(q "$url" "SELECT COUNT(*) FROM audit_log WHERE action = 'application.submit'")
  keys=$(q "$url" "SELECT COUNT(*) FROM idempotency_keys")
  echo "== $name: $n server(s)${desc:+; $desc}"
  echo "   load average at the start: $loadavg"
  echo "   $rps submissions/s, p50 ≤ $p50 ms, p99 ≤ $p99 ms (the worse of the two wrk), errors+timeouts $errors"
  printf "   CPU (cores busy over %.1f s): %s\n" "$secs" "$cpu_line"
  printf "   PostgreSQL: %.0f transactions/s, %.0f WAL flushes/s, %.1f submissions per WAL flush\n" \
    "$(echo "($c1 - $c0) / $secs" | bc -l)" "$(echo "($f1 - $f0) / $secs" | bc -l)" \
    "$(echo "$rps / (($f1 - $f0) / $secs)" | bc -l)"
  echo "   connections of the database, average over $(grep -c '^sample ' "$TMP/$name-activity.txt") samples:"
  awk '$1 == "sample" {n++; next} {k=$0; sub(/ [0-9]+$/, "", k); c[k] += $NF} END {for (k in c) printf "     %5.2f  %s\n", c[k] / n, k}' \
    "$TMP/$name-activity.txt" | sort -rn
  warnings=$(cat "$TMP/$name"-server*.log | grep -cE "WARN|ERROR" || true)
  echo "   server logs: $warnings warnings and errors$( [ "$warnings" -eq 0 ] || { echo ", the first:"; cat "$TMP/$name"-server*.log | grep -m 3 -E "WARN|ERROR" | cut -c1-400 | sed 's/^/     /'; })"
  echo "   stored: applications=$apps audit_submit=$audit idempotency_keys=$keys, answered 201: $created"
  [ "$apps" -eq "$audit" ] && [ "$apps" -eq "$keys" ] || { echo "every case has its audit entry and key" >&2; exit 1; }
  [ "$apps" -ge "$created" ] || { echo "$((created - apps)) answered cases are missing" >&2; exit 1; }
  [ $((apps - created)) -le $((2 * CONNS)) ] || { echo "more cases stored without an answer than were in flight" >&2; exit 1; }
  RPS[$name]=$rps
  P50[$name]=$p50
  P99[$name]=$p99
}

# ratio A B [C]: RPS[A] / the mean of RPS[B] and RPS[C] (RPS[B] alone
# without C), two decimals.
ratio() {
  local b=${RPS[$2]}
  [ -n "${3:-}" ] && b="(${RPS[$2]} + ${RPS[$3]}) / 2"
  printf '%.2f' "$(echo "${RPS[$1]} / ($b)" | bc -l)"
}
