"""Disconnect protection for pooled connections: ping one only when it has sat idle.

SQLAlchemy's `pool_pre_ping` pings on every checkout, and the session checks a
connection out again after each commit: a send job's two commits cost two pings on a
connection that was in use a millisecond before. Connections go stale while they sit
in the pool (a PostgreSQL restart or failover, an idle timeout, a dropped network), so
this pings only a connection idle for PING_AFTER_IDLE_SECONDS or more. A dead one is
replaced, and the whole pool with it, as pre-ping does.

What it leaves open: a restart within that second of a connection's last use. The
first statement on it then fails, SQLAlchemy sees the disconnect and invalidates the
pool, and that one job or request fails as it would have during the restart itself
(a send job is retried; the message was not claimed, or it stays `sending` and the
retry asks the provider first). The next checkout connects afresh.
"""

from __future__ import annotations

import time

from sqlalchemy import Engine, event, exc

PING_AFTER_IDLE_SECONDS = 1.0
_CHECKED_IN_AT = "pawline_checked_in_at"


def ping_idle_connections(engine: Engine) -> None:
    """Install the checkout ping on this engine's pool, once (use instead of pool_pre_ping)."""
    if getattr(engine, "_pawline_idle_ping", False):
        return
    engine._pawline_idle_ping = True

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy) -> None:
        checked_in_at = record.info.get(_CHECKED_IN_AT)  # none yet: a new connection
        if checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool retries the checkout with a new connection and recycles the older ones.
            raise exc.InvalidatePoolError() from error
