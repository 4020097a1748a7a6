#!/usr/bin/env python3
"""Submission load through a database failover, as real clients send it.

Each worker submits 住民票の写し to 四街道市 (122289) over the JSON API, one
request at a time, each with its own Idempotency-Key. On a 503, a
connection error or a timeout it sends the same request with the same key
again (after Retry-After, at most 1 s here), as a client must: a 2xx
answer is the submission acknowledged (201, or 200 when the first try had
been stored after all). Any other answer is counted and not retried.

At --kill-at seconds it runs --kill-cmd (killing the primary) and keeps
going until --duration. Writes a JSON report to --out:
  acked: [[key, application id, status, seconds since start]] for every 2xx
  kill_at (when --kill-cmd returned), first_ack_after_kill (seconds from the
  kill to the first 2xx of a request sent after the kill), statuses counted, retries, max_gap (the
  longest time without any 2xx).

Needs MDG_RESIDENT_COOKIE (a resident signed in with the My Number card).
"""

import argparse
import http.client
import json
import os
import subprocess
import threading
import time
import uuid

BODY = json.dumps(
    {
        "answers": {
            "applicant": {"name": "山田 太郎", "kana": "やまだ たろう"},
            "scope": "individual",
            "copies": "1",
            "purpose": "employment",
            "delivery": "counter",
        }
    }
).encode()
PATH = "/api/v1/t/122289/procedures/juminhyo-copy/applications"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--duration", type=float, default=25)
    ap.add_argument("--kill-at", type=float, default=None)
    ap.add_argument("--kill-cmd", default=None)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    cookie = os.environ["MDG_RESIDENT_COOKIE"]

    t0 = time.monotonic()
    lock = threading.Lock()
    acked = []  # (key, id, status, t_sent_first, t_sent_last, t_done)
    statuses = {}
    retries = [0]
    kill = {"at": None, "out": ""}
    stop = threading.Event()

    def count(what):
        with lock:
            statuses[what] = statuses.get(what, 0) + 1

    def worker(n):
        conn = None
        while not stop.is_set():
            key = f"failover-{n}-{uuid.uuid4()}"
            first = None
            while not stop.is_set():
                sent = time.monotonic() - t0
                first = sent if first is None else first
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection(a.host, a.port, timeout=40)
                    conn.request(
                        "POST",
                        PATH,
                        body=BODY,
                        headers={
                            "Content-Type": "application/json",
                            "Idempotency-Key": key,
                            "Cookie": cookie,
                        },
                    )
                    r = conn.getresponse()
                    body = r.read()
                    status = r.status
                except (OSError, http.client.HTTPException):
                    if conn is not None:
                        conn.close()
                    conn = None
                    count("connection error")
                    with lock:
                        retries[0] += 1
                    time.sleep(0.2)
                    continue
                count(str(status))
                if 200 <= status < 300:
                    j = json.loads(body)
                    with lock:
                        acked.append((key, j["id"], status, first, sent, time.monotonic() - t0))
                    break
                if status == 503:
                    with lock:
                        retries[0] += 1
                    wait = min(float(r.getheader("Retry-After") or 1), 1.0)
                    time.sleep(wait)
                    continue
                # Anything else is an answer: not retried, reported.
                with lock:
                    statuses.setdefault("bodies", [])
                    if len(statuses["bodies"]) < 5:
                        statuses["bodies"].append(body.decode(errors="replace")[:300])
                break

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(a.workers)]
    for t in threads:
        t.start()
    if a.kill_at is not None and a.kill_cmd:
        time.sleep(max(0, a.kill_at - (time.monotonic() - t0)))
        kill["out"] = subprocess.run(a.kill_cmd, shell=True, capture_output=True, text=True).stdout.strip()
        # The primary is dead when the command returns (SIGKILL).
        kill["at"] = time.monotonic() - t0
    time.sleep(max(0, a.duration - (time.monotonic() - t0)))
    stop.set()
    for t in threads:
        t.join(timeout=45)

    done_times = sorted(x[5] for x in acked)
    gaps = [b - a_ for a_, b in zip(done_times, done_times[1:])]
    report = {
        "workers": a.workers,
        "duration": a.duration,
        "kill_at": kill["at"],
        "killed": kill["out"],
        "acked": [[k, i, s, round(d, 3)] for k, i, s, _, _, d in acked],
        "acked_count": len(acked),
        "created": sum(1 for x in acked if x[2] == 201),
        "replayed": sum(1 for x in acked if x[2] == 200),
        "statuses": statuses,
        "retries": retries[0],
        "max_gap": round(max(gaps), 3) if gaps else None,
    }
    if kill["at"] is not None:
        after = [x[5] for x in acked if x[4] > kill["at"]]
        report["first_ack_after_kill"] = round(min(after) - kill["at"], 3) if after else None
        report["acked_before_kill"] = sum(1 for x in acked if x[5] <= kill["at"])
        report["acked_after_kill"] = sum(1 for x in acked if x[5] > kill["at"])
    with open(a.out, "w") as f:
        json.dump(report, f)
    summary = {k: v for k, v in report.items() if k != "acked"}
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
