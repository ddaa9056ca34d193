"""A closed-loop HTTP load generator run in its own process (the server gets the other core).

Each of `concurrency` threads keeps one keep-alive connection and sends the next
prepared request as soon as the previous answer arrives. Requests are prepared
beforehand (signed bodies), so the generator measures the server, not signing.
"""

from __future__ import annotations

import http.client
import json
import statistics
import sys
import threading
import time
from dataclasses import dataclass


@dataclass
class Prepared:
    method: str
    path: str
    body: bytes
    headers: dict


def run_load(host: str, port: int, requests: list[Prepared], concurrency: int) -> dict:
    """Send every prepared request once, `concurrency` at a time; return timings and statuses."""
    lock = threading.Lock()
    cursor = iter(range(len(requests)))
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            req = requests[index]
            started = time.perf_counter()
            try:
                conn.request(req.method, req.path, body=req.body, headers=req.headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=60)
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    wall = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - wall
    latencies.sort()
    return {
        "requests": len(latencies),
        "concurrency": concurrency,
        "seconds": wall,
        "throughput": len(latencies) / wall if wall else 0.0,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0,
        "statuses": statuses,
    }


def main() -> None:
    """Child-process entry: read a JSON job on stdin, print the result as JSON."""
    job = json.load(sys.stdin)
    requests = [Prepared(r["method"], r["path"], r["body"].encode("latin-1"), r["headers"]) for r in job["requests"]]
    print(json.dumps(run_load(job["host"], job["port"], requests, job["concurrency"])))


if __name__ == "__main__":
    main()
