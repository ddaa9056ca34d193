"""SQLite as the embedded default: WAL, a busy timeout, savepoints that work, and every
transaction taking the write lock at its start (BEGIN IMMEDIATE)."""

from __future__ import annotations

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from app.persistence.writes import has_uncommitted_writes

BUSY_TIMEOUT_MS = 15_000
# Every transaction takes the database write lock at its start, reads included: a deferred BEGIN
# lets a transaction read, then fail at its first write with SQLITE_BUSY_SNAPSHOT the moment
# another connection has committed since (at once: no busy timeout helps). Measured against a
# deferred BEGIN for read-only pages in docs/design.md ("SQLite, the embedded default").
BEGIN = "IMMEDIATE"
# An engine (or a connection) may ask for another kind with the execution option `sqlite_begin`:
# the test suite's own session reads between steps while other apps and threads write, and begins
# DEFERRED (tests/conftest.py).
_BEGIN_KINDS = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})


def configure_sqlite(engine: Engine) -> None:
    """Apply SQLAlchemy's documented pysqlite recipe once per engine.

    pysqlite's own transaction handling breaks SAVEPOINT and transactional DDL: the driver is
    set to emit no BEGIN (isolation_level None) and the `begin` event emits BEGIN IMMEDIATE.
    A connection asking for AUTOCOMMIT by execution option (on the engine:
    `create_engine(..., execution_options={"isolation_level": "AUTOCOMMIT"})`, or per
    connection) gets no BEGIN: each statement commits on its own.
    """
    if getattr(engine, "_pawline_sqlite_configured", False):
        return
    engine._pawline_sqlite_configured = True

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # each statement commits on its own
        kind = options.get("sqlite_begin", BEGIN)
        if kind not in _BEGIN_KINDS:
            raise ValueError(f"sqlite_begin must be one of {sorted(_BEGIN_KINDS)}, not {kind!r}")
        conn.exec_driver_sql(f"BEGIN {kind}")



def holds_write_lock(session: Session) -> bool:
    """Whether `session` is in a SQLite transaction that holds the database write lock: one begun
    IMMEDIATE (the default) or EXCLUSIVE, or one that has written. Work this thread does in another
    session meanwhile (an inline job, app.jobs.queue) would wait on that lock, the busy timeout
    long, and fail: it must wait until this transaction ends."""
    if not session.in_transaction() or session.get_bind().dialect.name != "sqlite":
        return False
    if has_uncommitted_writes(session):
        return True
    options = session.connection().get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return False
    return options.get("sqlite_begin", BEGIN) != "DEFERRED"
