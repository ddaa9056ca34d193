"""Sitter change, cancellation, rescheduling and completion after a booking is confirmed."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.jobs.queue import get_queue
from app.models import AssignmentWindow, AutomationRun, Booking, EventLog, OutboxEntry, Thread
from app.services.bookings.confirmed import on_booking_confirmed
from app.services.bookings.lifecycle import (
    cancel_booking,
    change_sitter,
    complete_due_bookings,
    reschedule_booking,
)

NY = ZoneInfo("America/New_York")


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def fresh(model, **where):
    db.session.rollback()
    return db.session.scalar(select(model).filter_by(**where))


def outbox() -> list[OutboxEntry]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)))


def kinds(booking_id: int) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(EventLog.kind).where(EventLog.booking_id == booking_id)
                                   .order_by(EventLog.id)))


def run_state(booking_id: int) -> dict[str, tuple[str, str | None]]:
    db.session.rollback()
    return {r.kind: (r.status, r.reason) for r in db.session.scalars(
        select(AutomationRun).where(AutomationRun.booking_id == booking_id))}


@pytest.fixture
def confirmed(make, clock):
    """A booking two days out, confirmed, with its confirmation sent from a pool number."""
    clock.set(ny(2026, 11, 20, 10, 0))
    make.number("pool")
    make.number("front_desk")
    booking = make.booking(start=ny(2026, 11, 22, 9, 0), sitter=make.sitter(with_login=False))
    on_booking_confirmed(booking.id)
    return booking


def test_changing_the_sitter_moves_the_window_at_once(make, confirmed):
    new = make.sitter(name="Riley Paws", with_login=False)
    result = change_sitter(confirmed.id, new.id, actor="user:1")
    assert result.changed and result.sitter_change_text_queued and not result.thread_moved
    window = fresh(AssignmentWindow, booking_id=confirmed.id)
    assert window.sitter_id == new.id
    assert kinds(confirmed.id)[-2:] == ["booking.sitter_changed", "window.updated"]
    thread = fresh(Thread, booking_id=confirmed.id)
    texts = outbox()
    assert len(texts) == 2 and "Riley will now look after" in texts[-1].body
    assert texts[-1].from_e164 == thread.message_number.e164  # a pool number: the thread keeps it


def test_thread_on_the_old_sitters_own_number_moves_and_the_client_hears_from_the_new_one(make, clock):
    clock.set(ny(2026, 11, 20, 10, 0))
    booking = make.booking(start=ny(2026, 11, 22, 9, 0), sitter=make.sitter(with_login=False))
    old_line = make.number("sitter", sitter_id=booking.sitter_id)
    pool = make.number("pool")
    assert on_booking_confirmed(booking.id).number_reason == "sitter_dedicated"
    new = make.sitter(with_login=False)

    result = change_sitter(booking.id, new.id)

    assert result.thread_moved and result.sitter_change_text_queued
    thread = fresh(Thread, booking_id=booking.id)
    assert (thread.message_number_id, thread.number_reason) == (pool.id, "pool_lru")
    assert "thread.number_changed" in kinds(booking.id)
    confirmation, told = outbox()
    assert confirmation.from_e164 == old_line.e164
    assert told.from_e164 == pool.e164 and "text this number from now on" in told.body


def test_a_second_sitter_change_tells_the_client_again(make, confirmed):
    change_sitter(confirmed.id, make.sitter(with_login=False).id)
    change_sitter(confirmed.id, make.sitter(with_login=False).id)
    assert len(outbox()) == 3
    assert run_state(confirmed.id)["sitter_changed"] == ("sent", None)


def test_sitter_change_checks_its_input(make, confirmed):
    with pytest.raises(NotFound):
        change_sitter(confirmed.id, make.sitter(org=make.org()).id)
    assert change_sitter(confirmed.id, confirmed.sitter_id).changed is False
    unassigned = change_sitter(confirmed.id, None)
    assert unassigned.changed and fresh(AssignmentWindow, booking_id=confirmed.id).sitter_id is None
    cancel_booking(confirmed.id, "owner")
    with pytest.raises(Conflict):
        change_sitter(confirmed.id, make.sitter(with_login=False).id)


def test_cancel_closes_the_window_now_cancels_texts_and_tells_the_client(confirmed, clock):
    clock.advance(hours=1)
    result = cancel_booking(confirmed.id, "client asked", actor="user:1")
    assert result.changed and result.status == "cancelled" and result.cancellation_text_queued
    assert sorted(result.runs_cancelled) == ["night_before_reminder", "visit_followup"]
    window = fresh(AssignmentWindow, booking_id=confirmed.id)
    assert window.ends_at == clock.now and window.starts_at == clock.now
    assert window.closed_reason == "cancelled"
    state = run_state(confirmed.id)
    assert state["night_before_reminder"] == ("cancelled", "booking_cancelled")
    assert state["visit_followup"] == ("cancelled", "booking_cancelled")
    assert state["booking_cancelled"] == ("sent", None)
    texts = outbox()
    assert [("confirmed" in t.body, "cancelled" in t.body) for t in texts] == [(True, False), (False, True)]
    assert {t.from_e164 for t in texts} == {fresh(Thread, booking_id=confirmed.id).message_number.e164}
    assert not any(get_queue().holds(f"automation-run-{n}") for n in range(1, 5))


def test_cancel_is_final_late_confirm_and_second_cancel_change_nothing(confirmed):
    cancel_booking(confirmed.id, "refund")
    before = (len(outbox()), kinds(confirmed.id))
    assert on_booking_confirmed(confirmed.id).ignored == "cancelled"
    assert cancel_booking(confirmed.id, "again").changed is False
    assert fresh(Booking, id=confirmed.id).status == "cancelled"
    assert len(outbox()) == before[0]
    assert kinds(confirmed.id) == before[1] + ["booking.confirm_ignored", "booking.cancel_ignored"]


def test_cancelling_before_the_confirmation_went_out_sends_no_cancellation(make, clock):
    clock.set(ny(2026, 11, 20, 22, 30))  # quiet hours: the confirmation waits for 08:00
    make.number("pool")
    booking = make.booking(start=ny(2026, 11, 22, 9, 0), sitter=None)
    on_booking_confirmed(booking.id)
    result = cancel_booking(booking.id, "changed mind")
    assert not result.cancellation_text_queued and "booking_confirmation" in result.runs_cancelled
    clock.set(ny(2026, 11, 21, 9, 0))
    get_queue().run_due()
    assert outbox() == []
    assert run_state(booking.id)["booking_confirmation"] == ("cancelled", "booking_cancelled")
    assert "booking_cancelled" not in run_state(booking.id)


def test_cancelling_a_pending_booking_sends_nothing(make):
    booking = make.booking(sitter=None)
    result = cancel_booking(booking.id, "no payment")
    assert result.status == "cancelled" and not result.cancellation_text_queued and result.runs_cancelled == []
    assert outbox() == [] and run_state(booking.id) == {}


def test_reschedule_moves_the_window_and_the_reminder(confirmed, clock):
    reminder_before = fresh(AutomationRun, booking_id=confirmed.id, kind="night_before_reminder")
    reschedule_booking(confirmed.id, ny(2026, 11, 24, 14, 0), ny(2026, 11, 24, 15, 0), actor="user:1")
    window = fresh(AssignmentWindow, booking_id=confirmed.id)
    assert (window.starts_at, window.ends_at) == (ny(2026, 11, 24, 14, 0), ny(2026, 11, 24, 16, 0))
    reminder = fresh(AutomationRun, booking_id=confirmed.id, kind="night_before_reminder")
    assert reminder.id == reminder_before.id and reminder.scheduled_for == ny(2026, 11, 23, 18, 0)
    clock.set(ny(2026, 11, 21, 18, 0))  # the old reminder time: nothing goes out
    get_queue().run_due()
    assert len(outbox()) == 1
    clock.set(ny(2026, 11, 23, 18, 0))
    get_queue().run_due()
    assert len(outbox()) == 2 and "tomorrow, Tue, Nov 24, 2:00 PM" in outbox()[-1].body
    assert "booking.rescheduled" in kinds(confirmed.id)


def test_reschedule_to_tomorrow_morning_skips_the_reminder_and_back_restores_it(confirmed, clock):
    clock.set(ny(2026, 11, 20, 19, 0))
    reschedule_booking(confirmed.id, ny(2026, 11, 21, 9, 0), ny(2026, 11, 21, 10, 0))
    assert run_state(confirmed.id)["night_before_reminder"] == ("skipped", "booked_after_reminder_time")
    reschedule_booking(confirmed.id, ny(2026, 11, 25, 9, 0), ny(2026, 11, 25, 10, 0))
    assert run_state(confirmed.id)["night_before_reminder"] == ("scheduled", None)


def test_reschedule_checks_its_input(confirmed):
    with pytest.raises(InvalidInput):
        reschedule_booking(confirmed.id, ny(2026, 11, 24, 14, 0), ny(2026, 11, 24, 13, 0))
    with pytest.raises(InvalidInput):
        reschedule_booking(confirmed.id, datetime(2026, 11, 24, 14, 0), datetime(2026, 11, 24, 15, 0))


def test_bookings_complete_when_their_window_ends_and_the_followup_goes_out(confirmed, clock):
    window_end = ny(2026, 11, 22, 11, 0)
    assert complete_due_bookings(window_end - timedelta(minutes=1)) == 0
    clock.set(window_end)
    assert complete_due_bookings() == 1
    assert complete_due_bookings() == 0
    booking = fresh(Booking, id=confirmed.id)
    assert booking.status == "completed" and booking.completed_at == window_end
    get_queue().run_due()
    assert run_state(confirmed.id)["visit_followup"] == ("sent", None)
    assert on_booking_confirmed(confirmed.id).ignored == "completed"


def test_a_booking_confirmed_without_a_number_completes_at_its_end_plus_grace(make, clock):
    """No number means no window; the booking must not stay "confirmed" for ever."""
    from app.models import Alert

    clock.set(ny(2026, 11, 20, 10, 0))
    booking = make.booking(start=ny(2026, 11, 22, 9, 0), sitter=make.sitter(with_login=False))
    assert on_booking_confirmed(booking.id).no_number  # the org has no number at all
    grace_end = booking.end_at + timedelta(minutes=make.default_org.grace_minutes)
    assert complete_due_bookings(booking.end_at) == 0  # over, but inside the grace time
    assert complete_due_bookings(grace_end - timedelta(minutes=1)) == 0
    assert complete_due_bookings(grace_end) == 1
    assert fresh(Booking, id=booking.id).status == "completed"
    assert kinds(booking.id)[-1] == "booking.completed"
    assert db.session.scalar(select(Alert.resolved_at).where(Alert.booking_id == booking.id)) is None
    assert complete_due_bookings(grace_end) == 0


def test_sitter_change_with_no_other_number_keeps_the_thread_and_alerts_owners(make, clock):
    from app.models import Alert

    clock.set(ny(2026, 11, 20, 10, 0))
    booking = make.booking(start=ny(2026, 11, 22, 9, 0), sitter=make.sitter(with_login=False))
    old_line = make.number("sitter", sitter_id=booking.sitter_id)
    on_booking_confirmed(booking.id)
    assert not change_sitter(booking.id, make.sitter(with_login=False).id).thread_moved
    assert fresh(Thread, booking_id=booking.id).message_number_id == old_line.id
    alert = db.session.scalar(select(Alert))
    assert (alert.audience, alert.kind, alert.booking_id) == ("owner", "booking.no_number", booking.id)
    assert fresh(AssignmentWindow, booking_id=booking.id).sitter_id != old_line.sitter_id


def test_complete_due_bookings_runs_as_a_job(confirmed, clock):
    from app import jobs

    clock.set(ny(2026, 11, 22, 12, 0))
    assert jobs.complete_due_bookings() == 1
    assert fresh(Booking, id=confirmed.id).status == "completed"
