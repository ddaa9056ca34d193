"""Bounded tries: a row-backed job that keeps failing ends `failed` with an alert, never a loop."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.jobs.specs import MAX_TRIES
from app.models import Alert, AutomationRun, EventLog, Message, OutboxEntry
from app.services.automations import send as thread_sender
from app.services.automations.run_job import run_automation
from app.services.automations.settings import retry_failed_run
from app.services.bookings.confirmed import on_booking_confirmed
from app.services.messaging import outbound
from app.services.messaging.outbound import deliver_message, retry_message
from app.services.ops.reconcile import requeue_queued_messages, requeue_scheduled_runs, settle_stuck_sends
from tests.support.messaging_builders import booking_thread, outbound_message


def fresh(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def kinds(model) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(model.kind)))


def test_a_send_job_that_raises_every_time_fails_after_max_tries_with_an_alert(make, monkeypatch):
    message = outbound_message(make, booking_thread(make), status="queued")

    def database_bug(message_id):
        raise RuntimeError("column does not exist")

    monkeypatch.setattr(outbound, "_claim_queued", database_bug)
    # The counted claim (one statement: the common case) is broken too: it counts nothing, so the
    # careful path counts each try first.
    monkeypatch.setattr(outbound, "_CLAIM_AND_COUNT", text("SELECT no_such_column FROM messages"))
    for _ in range(MAX_TRIES - 1):  # the queue's retries, then reconcile's re-enqueues
        with pytest.raises(RuntimeError):
            deliver_message(message.id)
        assert fresh(Message, message.id).status == "queued"
    assert deliver_message(message.id) == "failed"

    stored = fresh(Message, message.id)
    assert (stored.status, stored.error_code, stored.tries) == ("failed", "too_many_tries", MAX_TRIES)
    assert "column does not exist" in stored.error_message
    assert kinds(Alert) == ["message.failed"] and kinds(EventLog) == ["message.failed"]
    # Reconcile no longer picks it up, and a stray job does nothing more.
    assert requeue_queued_messages() == 0
    assert deliver_message(message.id) == "failed"
    assert fresh(Message, message.id).tries == MAX_TRIES and kinds(Alert) == ["message.failed"]

    # Once the bug is fixed, an owner's retry starts a fresh count and the text goes.
    monkeypatch.undo()
    retry_message(message.id, actor="owner")
    stored = fresh(Message, message.id)
    assert (stored.status, stored.tries) == ("sent", 1)


def test_a_send_whose_worker_died_every_try_fails_without_being_sent(make):
    message = outbound_message(make, booking_thread(make), status="queued", tries=MAX_TRIES)
    assert deliver_message(message.id) == "failed"  # each dead try was counted before it began
    stored = fresh(Message, message.id)
    assert stored.status == "failed" and "worker stopped" in stored.error_message
    assert db.session.scalars(select(OutboxEntry)).all() == [] and kinds(Alert) == ["message.failed"]


def test_a_sending_text_past_its_tries_is_never_failed_blind(make, clock):
    # It may have reached the provider: reconcile's settle step asks first (here: it never did).
    message = outbound_message(make, booking_thread(make), status="sending", tries=MAX_TRIES)
    assert deliver_message(message.id) == "sending"
    clock.advance(minutes=2)
    assert settle_stuck_sends() == 1  # queued again, and its job then gives up
    stored = fresh(Message, message.id)
    assert (stored.status, stored.error_code) == ("failed", "too_many_tries")
    assert settle_stuck_sends() == 0 and requeue_queued_messages() == 0


def test_an_automation_run_that_raises_every_time_fails_after_max_tries_with_an_alert(make, monkeypatch):
    make.number("pool")
    booking = make.booking(sitter=None)

    def database_bug(run):
        raise RuntimeError("deadlock detected")

    monkeypatch.setattr(thread_sender, "queue_run_text", database_bug)
    on_booking_confirmed(booking.id)  # the confirmation's job runs at once (inline) and fails
    run_id = db.session.scalar(select(AutomationRun.id).where(AutomationRun.booking_id == booking.id,
                                                              AutomationRun.kind == "booking_confirmation"))
    assert fresh(AutomationRun, run_id).attempts == 1
    for _ in range(MAX_TRIES - 2):
        with pytest.raises(RuntimeError):
            run_automation(run_id)
    assert run_automation(run_id) == "failed"

    run = fresh(AutomationRun, run_id)
    assert (run.status, run.attempts) == ("failed", MAX_TRIES) and "deadlock detected" in run.reason
    assert kinds(Alert) == ["automation.failed"]
    assert "automation.failed" in kinds(EventLog)
    assert requeue_scheduled_runs() == 0  # the other two runs are scheduled and held
    assert run_automation(run_id) == "failed" and fresh(AutomationRun, run_id).attempts == MAX_TRIES

    # Once the bug is fixed, an owner's retry starts a fresh count and the text goes.
    monkeypatch.undo()
    retry_failed_run(run_id, actor="owner")  # its job runs at once (inline)
    run = fresh(AutomationRun, run_id)
    assert (run.status, run.attempts) == ("sent", 1)


def test_a_run_that_waits_for_its_time_uses_no_try(make, clock):
    make.number("pool")
    booking = make.booking(sitter=None, start=clock.now + timedelta(days=5))
    on_booking_confirmed(booking.id)
    reminder = db.session.scalar(select(AutomationRun).where(AutomationRun.booking_id == booking.id,
                                                             AutomationRun.kind == "night_before_reminder"))
    for _ in range(MAX_TRIES + 1):  # stale jobs firing early, again and again
        assert run_automation(reminder.id) == "waiting"
    assert fresh(AutomationRun, reminder.id).attempts == 0
