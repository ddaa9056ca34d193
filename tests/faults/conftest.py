"""Fault tests: real PostgreSQL, real Redis, real `python worker.py` processes.

Helpers start workers as the operator does (`python worker.py`, settings from the
environment), wait on conditions in the database or /proc (with a deadline, never a
fixed sleep), and kill them the hard way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from app.extensions import db
from app.models import Message, OutboxEntry
from tests.support.factories import Factories

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = float(os.environ.get("PAWLINE_FAULTS_WAIT", "90"))


def wait_for(condition, what: str, timeout: float = WAIT_SECONDS, every: float = 0.05):
    """Poll `condition()` until it is truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


class WorkerProcess:
    """One `python worker.py` in its own process group (so its children can be found)."""

    def __init__(self, env: dict, log_path: Path):
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.proc.pid

    def group_pids(self) -> list[int]:
        """Live processes of this worker's process group (the worker and whatever it started)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            state, pgid = fields[0], int(fields[2])
            if pgid == self.pid and state != "Z":
                pids.append(int(entry.name))
        return pids

    def kill_hard(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for pid in self.group_pids():  # never leave anything behind, whatever a test did
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def worker_env(migrated_database, redis_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAWLINE_", "TWILIO_", "STRIPE_"))}
    env.update({"APP_ENV": "test", "DATABASE_URL": migrated_database, "REDIS_URL": redis_url,
                "SECRET_KEY": "faults-secret", "SMS_PROVIDER": "outbox", "PYTHONUNBUFFERED": "1"})
    return env


@pytest.fixture
def start_worker(worker_env, tmp_path):
    """start_worker(): a running `python worker.py`; all are stopped after the test."""
    started: list[WorkerProcess] = []

    def _start(**extra_env) -> WorkerProcess:
        worker = WorkerProcess({**worker_env, **extra_env}, tmp_path / f"worker-{len(started) + 1}.log")
        started.append(worker)
        return worker

    yield _start
    for worker in started:
        worker.stop()


@pytest.fixture
def live_clock():
    """The app clock at the real time (the workers in other processes read the wall clock)."""
    from app import clock as app_clock
    from tests.conftest import Clock

    clock = Clock(datetime.now(UTC))
    yield clock
    app_clock.set_now(None)


@pytest.fixture
def live_make(redis_app, live_clock):
    return Factories(db.session, live_clock)


@pytest.fixture
def side_connection(migrated_database):
    """side_connection(): another PostgreSQL connection of the test's own, to hold locks the
    worker will meet."""
    engine = create_engine(migrated_database)
    opened = []

    def _open():
        opened.append(engine.connect())
        return opened[-1]

    yield _open
    for conn in opened:
        conn.close()
    engine.dispose()


def sends_per_message() -> dict[int, int]:
    """message id → how many texts the outbox provider recorded for it."""
    db.session.rollback()  # a fresh snapshot: the workers commit in other processes
    rows = db.session.execute(select(OutboxEntry.message_id, func.count()).group_by(OutboxEntry.message_id))
    counts = {message_id: n for message_id, n in rows}
    db.session.rollback()
    return counts


def statuses(ids) -> dict[int, str]:
    db.session.rollback()
    found = dict(db.session.execute(select(Message.id, Message.status).where(Message.id.in_(list(ids)))).all())
    db.session.rollback()
    return found


