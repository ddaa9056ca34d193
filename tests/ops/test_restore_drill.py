"""The restore drill of docs/operations.md, as a test (PostgreSQL and Redis).

A business runs: a paid booking's confirmation is sent, its reminder and follow-up wait in
Redis. The machine is lost: `pg_dump` of the database is restored into a fresh one, with an
empty Redis. The app and a worker start on the restored database; the reconcile step
(app.services.ops.reconcile, what every worker runs at start) re-enqueues exactly the
work Redis lost, and nothing already sent is sent again.
"""

from __future__ import annotations

import subprocess
import uuid
from datetime import timedelta

import pytest
from redis import Redis
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from app.extensions import db
from app.jobs.queue import get_queue
from app.jobs.specs import JOBS
from app.models import AutomationRun, OutboxEntry
from tests.conftest import empty_pg_database
from tests.services.automations.test_runs import _fire_due_rq_jobs, _redis_booking

pytestmark = pytest.mark.postgres_only


def _pg_args(url: str) -> list[str]:
    u = make_url(url)
    return ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]


@pytest.fixture
def fresh_database():
    with empty_pg_database(f"pawline_restore_{uuid.uuid4().hex[:8]}") as url:
        yield url


def _sent_kinds() -> list[str]:
    db.session.rollback()
    rows = db.session.execute(select(AutomationRun.kind).where(AutomationRun.status == "sent")
                              .order_by(AutomationRun.id))
    return [kind for (kind,) in rows]


def _outbox_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(OutboxEntry))


def test_restore_from_pg_dump_then_reconcile_loses_nothing_and_sends_nothing_twice(
        fresh_database, redis_app, app_factory, clock, tmp_path):  # fresh_database first: dropped last
    from app.jobs.worker import build_worker
    from app.services.ops.reconcile import reconcile

    # Before the loss: the confirmation went out, two runs wait in Redis.
    booking = _redis_booking(clock)
    build_worker(redis_app, forking=False).work(burst=True)
    assert _sent_kinds() == ["booking_confirmation"] and _outbox_count() == 1
    source_url = redis_app.config["SQLALCHEMY_DATABASE_URI"]
    source_revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    db.session.commit()

    # The backup and the restore, as docs/operations.md says.
    dump = tmp_path / "pawline.dump"
    subprocess.run(["pg_dump", *_pg_args(source_url), "--format=custom", "--no-owner",
                    "--file", str(dump), make_url(source_url).database], check=True, timeout=120)
    subprocess.run(["pg_restore", *_pg_args(fresh_database), "--no-owner", "--exit-on-error",
                    "--dbname", make_url(fresh_database).database, str(dump)], check=True, timeout=120)
    Redis.from_url(redis_app.config["REDIS_URL"]).flushdb()  # the new machine's Redis is empty

    restored = app_factory(fresh_database, REDIS_URL=redis_app.config["REDIS_URL"])
    with restored.app_context():
        assert restored.test_client().get("/healthz").status_code == 200
        revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        assert revision == source_revision  # the schema came back whole; `db upgrade` is a no-op
        assert _sent_kinds() == ["booking_confirmation"] and _outbox_count() == 1

        # Reconcile finds exactly the lost work (the two waiting runs), and only once.
        assert reconcile().counts == {"messages_queued": 0, "messages_sending": 0, "automation_runs": 2,
                                      "status_callbacks": 0, "stripe_events": 0,
                                      "inbound_media": 0, "waiting_threads": 0}
        assert reconcile().counts["automation_runs"] == 0
        build_worker(restored, forking=False).work(burst=True)
        assert _outbox_count() == 1  # the confirmation is not sent again

        runs = {r.kind: r for r in db.session.scalars(
            select(AutomationRun).where(AutomationRun.booking_id == booking.id))}
        clock.set(runs["night_before_reminder"].scheduled_for + timedelta(seconds=1))
        assert _fire_due_rq_jobs(clock.now) == 1
        build_worker(restored, forking=False).work(burst=True)
        assert _sent_kinds() == ["booking_confirmation", "night_before_reminder"]
        assert _outbox_count() == 2
        assert get_queue().holds(JOBS.run_automation.id_for(runs["visit_followup"].id))
        assert sum(reconcile().counts.values()) == 0
    db.session.remove()
    with restored.app_context():
        db.engine.dispose()
