"""Several `python worker.py` at once: every queued text and due run is sent exactly once, and
scheduled jobs fire once however many schedulers compete for them.

CI size by default; PAWLINE_FAULTS_FULL=1 runs the full size (1,000 texts, 200 due runs).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from app.extensions import db
from app.jobs.specs import JOBS, QUEUE_NAMES
from app.models import AutomationRun, Booking, Client, Message, OutboxEntry
from app.services.automations.runs import enqueue_run
from tests.faults.conftest import sends_per_message, wait_for
from tests.support.daytime import live_in_daytime

pytestmark = [pytest.mark.faults, pytest.mark.postgres_only]

FULL = os.environ.get("PAWLINE_FAULTS_FULL") == "1"
TEXTS, DUE_RUNS, LATER_RUNS = (1000, 200, 20) if FULL else (300, 60, 10)
WORKERS = 3


def _seed(make, now) -> tuple[list[int], list[int], list[int]]:
    """Queued texts and due runs as rows only (their jobs lost), plus runs due in a few seconds
    whose jobs sit in Redis's scheduled registry."""
    org = make.default_org
    zone = live_in_daytime(make, now)  # the workers read the wall clock: the clients are where it is day
    desk = make.number("front_desk")
    client_ids = db.session.scalars(insert(Client).returning(Client.id), [
        {"org_id": org.id, "name": f"Client {n}", "phone_e164": f"+1202{4000000 + n:07d}", "timezone": zone}
        for n in range(DUE_RUNS)]).all()
    booking_ids = db.session.scalars(insert(Booking).returning(Booking.id), [
        {"org_id": org.id, "client_id": client_id, "status": "confirmed", "price_cents": 3500,
         "start_at": now + timedelta(days=3), "end_at": now + timedelta(days=3, hours=1)}
        for client_id in client_ids]).all()
    due = db.session.scalars(insert(AutomationRun).returning(AutomationRun.id), [
        {"org_id": org.id, "booking_id": booking_id, "kind": "booking_confirmation", "status": "scheduled",
         "scheduled_for": now - timedelta(minutes=1), "attempts": 0} for booking_id in booking_ids]).all()
    later = db.session.scalars(insert(AutomationRun).returning(AutomationRun.id), [
        {"org_id": org.id, "booking_id": booking_id, "kind": "sitter_changed", "status": "scheduled",
         "scheduled_for": now + timedelta(seconds=8), "attempts": 0}
        for booking_id in booking_ids[:LATER_RUNS]]).all()
    texts = db.session.scalars(insert(Message).returning(Message.id), [
        {"org_id": org.id, "direction": "outbound", "sender_kind": "owner", "status": "queued",
         "body": f"Reminder {n}", "message_number_id": desk.id, "from_e164": desk.e164,
         "to_e164": f"+1202{4000000 + n % DUE_RUNS:07d}", "created_at": now} for n in range(TEXTS)]).all()
    for run_id in later:
        enqueue_run(run_id, now + timedelta(seconds=8))
    db.session.commit()
    return texts, due, later


def test_three_workers_send_each_text_and_run_once(redis_app, live_make, live_clock, start_worker):
    from rq.registry import ScheduledJobRegistry

    from app.jobs.queue import get_queue

    texts, due, later = _seed(live_make, live_clock.now)
    scheduled = ScheduledJobRegistry(queue=get_queue().queue("automations"))
    assert sorted(scheduled.get_job_ids()) == sorted(JOBS.run_automation.id_for(r) for r in later)
    workers = [start_worker() for _ in range(WORKERS)]

    total = TEXTS + DUE_RUNS + LATER_RUNS

    def all_sent():
        db.session.rollback()
        done = db.session.scalar(select(func.count()).select_from(OutboxEntry))
        db.session.rollback()
        return done >= total
    wait_for(all_sent, f"{total} texts from {WORKERS} workers", timeout=240 if FULL else 120)

    per_message = sends_per_message()
    assert len(per_message) == total and set(per_message.values()) == {1}
    assert set(texts) <= set(per_message)
    db.session.rollback()
    runs = db.session.execute(select(AutomationRun.status, AutomationRun.message_id)
                              .where(AutomationRun.id.in_(due + later))).all()
    assert {status for status, _ in runs} == {"sent"}
    assert len({message_id for _, message_id in runs}) == DUE_RUNS + LATER_RUNS
    assert scheduled.get_job_ids() == []
    # Every worker took part, and exactly one scheduler ran each queue's schedule. RQ locks the
    # schedule per queue, so two workers starting together may split the queues between their
    # schedulers (each logs "Scheduler for <every queue> started"); what must hold is that each
    # queue's lock was taken once, by one worker.
    logs = [w.log_text() for w in workers]
    assert all("send_message" in log for log in logs)
    locks = Counter(match for log in logs
                    for match in re.findall(r"Acquired scheduler lock for (\w+)", log))
    assert locks == Counter(QUEUE_NAMES), locks
