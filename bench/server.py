"""Fresh PostgreSQL databases, a Redis database of our own, and the app under gunicorn."""

from __future__ import annotations

import atexit
import functools
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("PAWLINE_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_BASE = os.environ.get("PAWLINE_TEST_REDIS", "redis://127.0.0.1:6379")
# Same claim keys as tests/conftest.py, so a bench and a test run never share a Redis database.
REDIS_LOCK_KEY = "pawline-test-lock:{}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _admin_engine():
    from sqlalchemy import create_engine

    return create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")


def fresh_database(name: str) -> str:
    """Drop and create a PostgreSQL database at head; return its URL. The name gets this process's
    id: two runs (a bench, the suite's smoke test) never drop each other's database. The first is
    built by the migrations and kept as a template; the others are copies of it (CREATE DATABASE …
    TEMPLATE: a tenth of a second, where each migration run took 3-20 s)."""
    from sqlalchemy import text

    template = _migrated_template()
    name = f"{name}_{os.getpid()}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


@functools.cache
def _migrated_template() -> str:
    """A database of this process built by the real migrations, dropped when the process exits."""
    from sqlalchemy import text

    name = f"pawline_bench_template_{os.getpid()}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    atexit.register(drop_database, url)
    migrate(url)  # disposes its engine: no connection left to the template
    return name


def drop_database(url: str) -> None:
    from sqlalchemy import text

    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def checkpoint(url: str) -> None:
    """Flush what the last phase (or the seed) wrote, so its writes are not flushed during the
    next phase's commits: only one side of each pair commits (the no-op job does not), so a
    checkpoint falling in the middle of a phase would weigh on one side only."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CHECKPOINT"))
    engine.dispose()


def migrate(url: str) -> None:
    """Build the schema with the real Alembic migrations, as production does."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    app = create_app({"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()


@contextmanager
def redis_database():
    """A Redis database number (1-15) claimed for this run and flushed before and after."""
    from redis import Redis

    admin = Redis.from_url(f"{REDIS_BASE}/0")
    token = f"bench-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    for number in range(15, 0, -1):
        if admin.set(REDIS_LOCK_KEY.format(number), token, nx=True, ex=3600):
            break
    else:
        raise RuntimeError("no free Redis database (1-15) for the benchmark")
    url = f"{REDIS_BASE}/{number}"
    scratch = Redis.from_url(url)
    scratch.flushdb()
    try:
        yield url
    finally:
        scratch.flushdb()
        scratch.close()
        if admin.get(REDIS_LOCK_KEY.format(number)) == token.encode():
            admin.delete(REDIS_LOCK_KEY.format(number))
        admin.close()


def bench_env(database_url: str, redis_url: str) -> dict:
    """Production mode on PostgreSQL + Redis, outbox provider, known webhook secrets."""
    env = dict(os.environ)
    env.update(
        {
            "APP_ENV": "production",
            "SECRET_KEY": "bench-secret",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "SMS_PROVIDER": "outbox",
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        }
    )
    return env


STRIPE_SECRET = "whsec_bench"
TWILIO_TOKEN = "bench-token"
PUBLIC_BASE_URL = "https://bench.pawline.test"


def app_config(env: dict) -> dict:
    """The same settings as `bench_env`, as create_app overrides for an in-process app."""
    return {
        "APP_ENV": "production",
        "SECRET_KEY": env["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
        "REDIS_URL": env["REDIS_URL"],
        "STRIPE_WEBHOOK_SECRET": env["STRIPE_WEBHOOK_SECRET"],
        "TWILIO_ACCOUNT_SID": env["TWILIO_ACCOUNT_SID"],
        "TWILIO_AUTH_TOKEN": env["TWILIO_AUTH_TOKEN"],
        "SMS_PROVIDER": "outbox",
        "PUBLIC_BASE_URL": env["PUBLIC_BASE_URL"],
        # No periodic reconcile in bench workers: it would time the maintenance, not the jobs.
        "PERIODIC_TASKS": (),
        "WORKER_START_TASKS": (),
        # Nor the minutely late-visit scan: on the seeded tenants (confirmed visits under way, none
        # checked in) a worker's first heartbeat raised an alert per visit, a minute of work that
        # a burst timed as the floor's or the app's drain.
        "MINUTELY_TASKS": (),
        # bench.sitter_phone: the push service stand-in listens on loopback.
        "PUSH_ALLOW_LOOPBACK": env.get("BENCH_PUSH_LOOPBACK") == "1",
    }


def stop(procs, log, timeout: float = 60) -> None:
    """SIGTERM every process, then wait for each; one that outlives `timeout` is killed (said in
    `log`): its measure is already taken, so a slow stop must not end the run."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.write(f"bench: pid {proc.pid} did not stop within {timeout:g} s of SIGTERM; killed\n".encode())
            proc.kill()
            proc.wait()


@contextmanager
def gunicorn(env: dict, workers: int = 2, threads: int = 4, target: str = "bench.wsgi:app"):
    """Serve `target` (the app with the bench's bare endpoints, or the floor app); yields the port.
    Logs go to bench/.gunicorn.log."""
    port = free_port()
    log = open(ROOT / "bench" / ".gunicorn.log", "ab")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "--threads",
            str(threads),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--keep-alive",
            "30",
            target,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("gunicorn exited at start; see bench/.gunicorn.log")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start; see bench/.gunicorn.log")
        yield port
    finally:
        stop([proc], log, timeout=20)
        log.close()
