"""Start and stop the app under gunicorn on PostgreSQL + Redis for the benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(name: str) -> str:
    """Drop and create a PostgreSQL database; return its URL."""
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def bench_env(database_url: str, redis_url: str) -> dict:
    env = dict(os.environ)
    env.update({
        "APP_ENV": "production",
        "SECRET_KEY": "bench-secret",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "STRIPE_WEBHOOK_SECRET": "whsec_bench",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "bench-token",
        "SMS_PROVIDER": "outbox",
        "PUBLIC_BASE_URL": "https://bench.pawline.test",
    })
    return env


@contextmanager
def gunicorn(env: dict, workers: int = 2, threads: int = 4):
    """Serve bench.wsgi:app; yields the port. Logs go to bench/.gunicorn.log."""
    port = free_port()
    log = open(ROOT / "bench" / ".gunicorn.log", "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "--keep-alive", "30", "bench.wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=log,
    )
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start; see bench/.gunicorn.log")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
