#!/usr/bin/env python3
"""The monitoring benchmark's HTTP part (bench/monitoring.sh runs it): 50 systems, a year of
check results for SLA.3's system (525,600, one a minute) posted in batches of 1,000 on
THREADS connections and timed, 10,000 outages over the 50 systems, then the SLA table for
the year timed ten times. Prints one `RESULT name value` line per figure."""

import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time

BASE_HOST, BASE_PORT = "127.0.0.1", int(os.environ.get("PORT", "18090"))
ADMIN = os.environ["ADMIN_TOKEN"]
THREADS = int(os.environ.get("THREADS", "2"))
YEAR_START = 1451602800  # 2016-01-01T00:00:00+01:00
MINUTES = 525_600
OUTAGES = 10_000


def request(conn, method, path, token, body=None):
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        body = json.dumps(body)
        headers["Content-Type"] = "application/json"
    conn.request(method, "/api/v1" + path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    if response.status >= 300:
        sys.exit(f"{method} {path}: {response.status} {data[:300]!r}")
    return json.loads(data) if data else None


def connect():
    return http.client.HTTPConnection(BASE_HOST, BASE_PORT, timeout=120)


def main():
    conn = connect()
    for i in range(1, 51):
        request(conn, "PUT", f"/systems/S{i:02}", ADMIN, {"name": f"Sistema {i}"})
    monitor = request(conn, "POST", "/users", ADMIN, {"name": "bench", "role": "monitor"})["token"]
    rng = random.Random(2016)
    # Every system up at the year's start.
    request(conn, "POST", "/monitoring/check-results", monitor, {"items": [
        {"system": f"S{i:02}", "at": YEAR_START - 60, "state": "OK"} for i in range(1, 51)]})

    batches = []
    for b in range(0, MINUTES, 1000):
        batches.append(json.dumps({"items": [
            {"system": "S50", "at": YEAR_START + 60 * m, "state": "OK",
             "perfdata": f"time={rng.randint(2000, 7000) / 1e6:.6f}s;;;0.000000;10.000000"}
            for m in range(b, min(b + 1000, MINUTES))]}))
    queue = list(reversed(batches))
    lock = threading.Lock()

    def worker():
        c = connect()
        while True:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            c.request("POST", "/api/v1/monitoring/check-results", body=body,
                      headers={"Authorization": f"Bearer {monitor}",
                               "Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
            if r.status != 200:
                sys.exit(f"check-results: {r.status} {data[:300]!r}")

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    print(f"RESULT check_results {MINUTES}")
    print(f"RESULT ingest_seconds {elapsed:.2f}")
    print(f"RESULT ingest_per_second {MINUTES / elapsed:.0f}")

    # 10,000 outages, 200 per system, each on its own stretch of the year. (A new
    # connection: the first one idled past the server's keep-alive.)
    conn = connect()
    items = []
    for i in range(1, 51):
        slots = sorted(rng.sample(range(0, MINUTES // 30 - 1), 200))
        for slot in slots:
            down = YEAR_START + slot * 1800 + rng.randint(0, 600)
            items.append({"system": f"S{i:02}", "at": down, "state": "CRITICAL"})
            items.append({"system": f"S{i:02}", "at": down + rng.randint(60, 1200), "state": "OK"})
    for b in range(0, len(items), 1000):
        request(conn, "POST", "/monitoring/check-results", monitor, {"items": items[b:b + 1000]})

    # What autovacuum would have done by then on PostgreSQL (BEFORE_REPORT, from the script).
    if os.environ.get("BEFORE_REPORT"):
        subprocess.run(os.environ["BEFORE_REPORT"], shell=True, check=True)
    conn = connect()
    timings = []
    for _ in range(11):
        t0 = time.monotonic()
        report = request(conn, "GET", "/reports/sla?from=2016-01-01&to=2017-01-01", ADMIN)
        timings.append((time.monotonic() - t0) * 1000)
    timings = timings[1:]
    rows = {row["code"]: row for row in report["rows"]}
    for code in ["SLA.1", "SLA.2", "SLA.3", "SLA.4", "SLA.5"]:
        row = rows[code]
        print(f"ROW {code} {row['expected']} | {row['measured']} | {row['deviation']} | "
              f"outages {row.get('outages')} samples {row.get('samples')}")
    print(f"RESULT report_median_ms {statistics.median(timings):.1f}")
    print(f"RESULT report_max_ms {max(timings):.1f}")


if __name__ == "__main__":
    main()
