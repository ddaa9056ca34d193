"""Pooled connections after PostgreSQL drops them (a restart): pinged when idle, replaced when dead."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from app.extensions import db
from app.models import Message, OutboxEntry
from app.persistence import db_pool
from app.services.messaging.outbound import deliver_message
from tests.support.messaging_builders import outbound_message

pytestmark = pytest.mark.postgres_only

BACKEND_PID = text("SELECT pg_backend_pid()")


def _restart_postgresql() -> None:
    """What a restart does to the app: every server process of this database ends."""
    db.session.rollback()  # our connection goes back to the pool, as between two jobs
    outside = create_engine(db.engine.url, poolclass=NullPool)
    with outside.connect() as conn:
        ended = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                  " WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    outside.dispose()
    assert ended >= 1


def test_a_connection_dropped_while_idle_is_replaced_before_use(app, monkeypatch):
    monkeypatch.setattr(db_pool, "PING_AFTER_IDLE_SECONDS", 0.0)  # every checkout counts as idle
    before = db.session.scalar(BACKEND_PID)
    _restart_postgresql()
    after = db.session.scalar(BACKEND_PID)  # no error: the ping found it dead, the pool reconnected
    assert after != before


def test_a_connection_in_use_a_moment_ago_is_not_pinged_and_one_failure_resets_the_pool(app, monkeypatch):
    monkeypatch.setattr(db_pool, "PING_AFTER_IDLE_SECONDS", 3600.0)
    pings = []
    monkeypatch.setattr(db.engine.dialect, "do_ping", lambda conn: pings.append(conn) or True)
    db.session.scalar(BACKEND_PID)
    db.session.commit()
    db.session.scalar(BACKEND_PID)  # a second checkout straight after: no round trip spent on a ping
    assert pings == []
    _restart_postgresql()
    with pytest.raises(OperationalError):
        db.session.scalar(BACKEND_PID)  # the restart hit inside the window: this one unit of work fails
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0  # the next one reconnects


def test_send_job_hit_by_a_restart_in_the_window_is_retried_and_texts_once(app, make, monkeypatch):
    monkeypatch.setattr(db_pool, "PING_AFTER_IDLE_SECONDS", 3600.0)
    thread = make.thread()
    message_id = outbound_message(make, thread, status="queued").id
    _restart_postgresql()
    with pytest.raises(OperationalError):
        deliver_message(message_id)  # failed at the claim: nothing was marked or sent
    db.session.rollback()
    assert db.session.get(Message, message_id).status == "queued"
    assert deliver_message(message_id) == "sent"  # the queue's retry
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxEntry)) == 1


def test_worker_keeps_sending_after_postgresql_restarts_while_it_waits(redis_app, clock, monkeypatch):
    from app.jobs.worker import build_worker
    from app.services.messaging.outbound import queue_outbound_message
    from tests.support.factories import Factories

    monkeypatch.setattr(db_pool, "PING_AFTER_IDLE_SECONDS", 0.0)  # the worker sat idle for a while
    thread = Factories(db.session, clock).thread()

    def queue_and_work(body):
        message = queue_outbound_message(org_id=thread.org_id, thread_id=thread.id,
                                         from_number_id=thread.message_number_id,
                                         to_e164=thread.client.phone_e164, body=body, sender_kind="automation")
        db.session.commit()
        build_worker(redis_app, forking=False).work(burst=True)
        db.session.rollback()
        return db.session.get(Message, message.id).status

    assert queue_and_work("Before the restart") == "sent"
    _restart_postgresql()
    assert queue_and_work("After the restart") == "sent"
    assert db.session.scalar(select(func.count()).select_from(OutboxEntry)) == 2
