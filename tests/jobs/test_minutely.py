"""Minutely tasks (a late visit noticed within a minute): from every worker's loop and from the
embedded scheduler, beside the five-minute periodic tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.jobs.worker import build_worker, embedded_schedule
from app.models import Alert
from tests.support.sitter_data import make_visit

RAN: list[str] = []


def periodic_probe() -> None:
    RAN.append("periodic")


def minutely_probe() -> None:
    RAN.append("minutely")


PROBES = {"PERIODIC_TASKS": ("tests.jobs.test_minutely.periodic_probe",),
          "MINUTELY_TASKS": ("tests.jobs.test_minutely.minutely_probe",)}


def test_the_embedded_scheduler_runs_minutely_tasks_each_tick_and_periodic_ones_every_five_minutes(app):
    app.config.update(PROBES)
    now = [1000.0]
    tick = embedded_schedule(app, clock=lambda: now[0])
    RAN.clear()
    for _ in range(6):  # six ticks, a minute apart
        tick()
        now[0] += 60
    assert RAN.count("minutely") == 6 and RAN.count("periodic") == 2  # at 0 and at 300 s


def test_a_worker_runs_the_minutely_tasks_from_its_loop_at_most_once_a_minute(redis_app):
    redis_app.config.update(PROBES)
    worker = build_worker(redis_app)
    RAN.clear()
    worker.heartbeat()
    worker.heartbeat()  # the next loop, seconds later
    assert RAN == ["minutely"]
    worker._next_minutely = 0.0  # a minute on
    worker.heartbeat()
    assert RAN == ["minutely", "minutely"]


def test_the_real_minutely_task_raises_the_late_visit_alert(redis_app, make, clock):
    start = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    clock.set(start - timedelta(hours=1))
    visit = make_visit(make, start=start)
    clock.set(start + timedelta(minutes=16))
    with redis_app.app_context():  # `make` works in the other app's context (same database)
        build_worker(redis_app).heartbeat()
    db.session.rollback()
    alert = db.session.scalar(select(Alert).where(Alert.kind == "visit.late"))
    assert alert is not None and alert.booking_id == visit.booking.id


def test_a_workers_command_channel_thread_stops_within_its_short_poll(redis_app):
    """A worker's teardown joins its pub/sub thread (redis-py 8): that thread polls every
    PUBSUB_POLL_SECONDS, so no teardown waits RQ's 60 s (a burst run took 60.2 s under load)."""
    import time

    from app.jobs.worker import PUBSUB_POLL_SECONDS, build_worker

    worker = build_worker(redis_app, forking=False)
    worker.subscribe()
    assert worker.pubsub_thread.sleep_time == PUBSUB_POLL_SECONDS <= 1
    started = time.monotonic()
    worker.unsubscribe()
    assert not worker.pubsub_thread.is_alive()
    assert time.monotonic() - started < 30  # loose for a loaded machine; RQ's own poll is 60 s
