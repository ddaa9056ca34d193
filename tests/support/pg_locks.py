"""Watching PostgreSQL sessions wait on a lock (for race tests on the PostgreSQL pass).

Each read is a transaction of its own: PostgreSQL keeps one snapshot of `pg_stat_activity` for the
rest of a transaction once read, so a poll repeated inside one transaction never sees a session
start waiting (a race test then passes on an idle machine, where the racer already waits at the
first look, and fails under load)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

_WAITING = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND query ILIKE :q")


def lock_waiters(observer, query_part: str = "") -> int:
    """How many other sessions wait on a lock in a statement like `query_part` (`observer`: a
    connection holding nothing)."""
    with observer.begin():
        return observer.execute(_WAITING, {"q": f"%{query_part}%"}).scalar()


def wait_for_lock_waiters(engine, count: int, racers: list[threading.Thread] = (), timeout: float = 30,
                          query_part: str = "") -> int:
    """Poll until `count` sessions wait on a lock (or a racer ended, or `timeout`); returns how many
    wait at the end, for the caller to assert on."""
    deadline = time.monotonic() + timeout
    with engine.connect() as observer:
        while True:
            seen = lock_waiters(observer, query_part)
            if seen >= count or time.monotonic() > deadline or any(not r.is_alive() for r in racers):
                return seen
            if racers:
                racers[0].join(0.01)
            else:
                time.sleep(0.01)
