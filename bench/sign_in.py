#!/usr/bin/env python3
"""Staff sign-in against a running madoguchi (see bench/sign_in.sh).

time PORT DB: the time of an answer by path, requests one after another,
interleaved: an id that does not exist (401), a real account with a wrong
password (401; the run's lockout threshold is high so it never locks) and
a locked real account (429; locked in the database by this script). The
three should cost the same: each is one Argon2 check.

burst PORT PID N: N sign-ins of unknown ids at once; the server's resident
memory before and its peak during the burst (VmHWM, reset first).
"""
import http.client
import json
import sqlite3
import statistics
import sys
import threading
import time

TENANT = "122289"


def post(conn, ident):
    body = json.dumps({"id": ident, "password": "wrong-password-x", "code": "000000"})
    t0 = time.perf_counter()
    conn.request("POST", f"/api/v1/t/{TENANT}/staff/session", body, {"content-type": "application/json"})
    r = conn.getresponse()
    r.read()
    return r.status, (time.perf_counter() - t0) * 1000


def timing(port, db, rounds=200):
    with sqlite3.connect(db) as c:
        c.execute("UPDATE staff SET locked_until = 9999999999999 WHERE tenant = ? AND id = 'clerk'", (TENANT,))
    conn = http.client.HTTPConnection("127.0.0.1", port)
    paths = {"unknown id": [], "wrong password": [], "locked account": []}
    want = {"unknown id": 401, "wrong password": 401, "locked account": 429}
    for i in range(rounds + 10):
        for name, ident in (("unknown id", f"nobody-{i}"), ("wrong password", "reviewer"), ("locked account", "clerk")):
            status, ms = post(conn, ident)
            if status != want[name]:
                sys.exit(f"{name}: answered {status}, expected {want[name]}")
            if i >= 10:  # the first rounds warm up
                paths[name].append(ms)
    base = statistics.median(paths["locked account"])
    for name, ms in paths.items():
        ms.sort()
        med = statistics.median(ms)
        print(f"{name:15} median {med:6.1f} ms  p90 {ms[int(len(ms) * 0.9)]:6.1f} ms  "
              f"ratio to locked {med / base:4.2f}  ({len(ms)} requests)")


def kib(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field):
            return int(line.split()[1])
    raise SystemExit(f"no {field}")


def burst(port, pid, n):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    post(conn, "warm-up")
    before = kib(pid, "VmRSS:")
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")
    statuses = []

    def one(i):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        statuses.append(post(c, f"nobody-{i}")[0])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.perf_counter() - t0
    peak = kib(pid, "VmHWM:")
    counts = {s: statuses.count(s) for s in sorted(set(statuses))}
    print(f"{n} at once: {secs:.1f} s, answers {counts}, resident before {before // 1024} MiB, "
          f"peak {peak // 1024} MiB, added {(peak - before) // 1024} MiB")


if __name__ == "__main__":
    if sys.argv[1] == "time":
        timing(int(sys.argv[2]), sys.argv[3])
    else:
        burst(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
