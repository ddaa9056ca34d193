"""What BEGIN IMMEDIATE costs the embedded default, against a deferred BEGIN, side by side.

The app on a SQLite file (WAL, migrated), served over HTTP by werkzeug's threaded server in this
process (as `scripts/run` serves it), owners logged in. Each scenario runs with each BEGIN:
- reads: C clients GET the owner's home page (read-only) as fast as they can;
- reads+writes: the same, while as many other clients each log in (read the user, check the
  password, then write a login session) over and over.
Prints throughput, p50/p99 of the reads and the count of 500 answers; ratios IMMEDIATE / deferred.
Run: python scripts/measure_sqlite_begin.py [--seconds 8] [--clients 1,4,8]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.persistence import sqlite as sqlite_setup  # noqa: E402
from tests.support.factories import PASSWORD, Factories  # noqa: E402
from tests.support.live_server import serving  # noqa: E402


class FrozenClock:
    def __init__(self):
        from datetime import UTC, datetime

        self.now = datetime.now(UTC)


def build(tmp: Path):
    from flask_migrate import upgrade

    from app.extensions import db

    app = create_app({"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'measure.sqlite3'}",
                      "SECRET_KEY": "measure", "WTF_CSRF_ENABLED": False, "REDIS_URL": None,
                      "SMS_PROVIDER": "outbox", "MEDIA_ROOT": str(tmp / "media"),
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 40, "max_overflow": 10}})
    with app.app_context():
        upgrade()
        make = Factories(db.session, FrozenClock())
        owners = [make.user(role="owner") for _ in range(24)]
        for _ in range(30):
            make.booking()
        emails = [owner.email for owner in owners]
        db.session.remove()
    return app, emails


def _logged_in(base: str, email: str) -> requests.Session:
    http = requests.Session()
    answer = http.post(f"{base}/login", data={"email": email, "password": PASSWORD}, allow_redirects=False)
    assert answer.status_code == 302, answer.status_code
    return http


def run(base: str, readers: list[requests.Session], writer_emails: list[str], seconds: float) -> dict:
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    writes = [0]
    lock = threading.Lock()

    def read(http):
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            code = http.get(f"{base}/admin", allow_redirects=False).status_code
            with lock:
                latencies.append(time.perf_counter() - t0)
                statuses[code] = statuses.get(code, 0) + 1

    def write(email):
        with requests.Session() as http:
            while time.monotonic() < stop:
                code = http.post(f"{base}/login", data={"email": email, "password": PASSWORD},
                                 allow_redirects=False).status_code
                http.cookies.clear()
                with lock:
                    writes[0] += 1
                    statuses[code] = statuses.get(code, 0) + 1

    threads = [threading.Thread(target=read, args=(h,)) for h in readers]
    threads += [threading.Thread(target=write, args=(e,)) for e in writer_emails]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {"reads_per_s": len(latencies) / seconds, "writes_per_s": writes[0] / seconds,
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))], "errors_500": statuses.get(500, 0)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", default="1,4,8")
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        app, emails = build(Path(tmp))
        with serving(app) as base:
            readers_all = [_logged_in(base, email) for email in emails[:max(clients)]]
            print("scenario        clients  BEGIN      reads/s  writes/s  p50 ms  p99 ms  500s")
            for scenario in ("reads", "reads+writes"):
                for count in clients:
                    row = {}
                    for begin in ("DEFERRED", "IMMEDIATE"):
                        sqlite_setup.BEGIN = begin
                        writers = emails[12:12 + count] if scenario == "reads+writes" else []
                        row[begin] = result = run(base, readers_all[:count], writers, args.seconds)
                        print(f"{scenario:<15} {count:>7}  {begin:<9} {result['reads_per_s']:>8.1f}"
                              f"  {result['writes_per_s']:>8.1f}  {result['p50_ms']:>6.1f}  {result['p99_ms']:>6.1f}"
                              f"  {result['errors_500']:>4}")
                    deferred, immediate = row["DEFERRED"], row["IMMEDIATE"]
                    print(f"{'':<15} {'':>7}  ratio      {immediate['reads_per_s'] / deferred['reads_per_s']:>8.2f}"
                          f"  {'':>8}  {immediate['p50_ms'] / deferred['p50_ms']:>6.2f}"
                          f"  {immediate['p99_ms'] / deferred['p99_ms']:>6.2f}")
        sqlite_setup.BEGIN = "IMMEDIATE"


if __name__ == "__main__":
    main()
