"""SQLite as the embedded default: WAL, a busy timeout, and savepoints that work."""

from __future__ import annotations

from sqlalchemy import Engine, event


def configure_sqlite(engine: Engine) -> None:
    """Apply SQLAlchemy's documented pysqlite recipe once per engine.

    pysqlite's own transaction handling breaks SAVEPOINT; we emit BEGIN ourselves.
    It stays a deferred BEGIN so that readers never wait: code that must
    serialise writers takes the write lock first (`app.persistence.locking`).
    """
    if getattr(engine, "_pawline_sqlite_configured", False):
        return
    engine._pawline_sqlite_configured = True

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN")
