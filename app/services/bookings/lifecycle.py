"""After confirmation: cancel, change the sitter, reschedule, complete."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_, select

from app.clock import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.models import AssignmentWindow, Booking, MessageNumber, Org, Sitter, Thread
from app.persistence.locking import lock_row
from app.services.audit.events import record_event
from app.services.automations.runs import (
    cancel_pending_runs,
    confirmation_was_sent,
    move_runs_for_new_times,
    queue_run_now,
)
from app.services.bookings.confirmed import on_booking_confirmed, sync_window, window_times
from app.services.bookings.threads import is_booking_thread
from app.services.notifications.notify import queue_visit_notification
from app.services.numbers.moves import move_thread_off_number
from app.services.numbers.waiting import assign_waiting_threads
from app.services.visits.alerts import clear_late_alert
from app.services.visits.exclusions import ensure_sitter_allowed


@dataclass
class LifecycleResult:
    booking_id: int
    status: str
    changed: bool = False  # False: already cancelled/completed, the same sitter, the same times
    runs_cancelled: list[str] = field(default_factory=list)  # kinds of the scheduled texts cancelled
    cancellation_text_queued: bool = False  # the client is told the booking is cancelled
    sitter_change_text_queued: bool = False  # the client is told their sitter changed
    thread_moved: bool = False  # off the previous sitter's own number, to a newly chosen one


def _locked_booking(booking_id: int) -> Booking:
    booking = lock_row(Booking, booking_id)  # first statement: see app.persistence.locking
    if booking is None:
        db.session.rollback()
        raise NotFound(f"Booking {booking_id} not found")
    return booking


def _window(booking_id: int) -> AssignmentWindow | None:
    return db.session.scalar(select(AssignmentWindow).where(AssignmentWindow.booking_id == booking_id))


def _thread(booking: Booking) -> Thread | None:
    return db.session.scalar(select(Thread).where(is_booking_thread(booking)))


def cancel_booking(booking_id: int, reason: str, actor: str = "system") -> LifecycleResult:
    """Cancel for good: window closes now, pending texts cancelled, the client told if confirmed."""
    booking = _locked_booking(booking_id)
    result = LifecycleResult(booking.id, booking.status)
    if booking.status in ("cancelled", "completed"):
        record_event(booking.org_id, "booking.cancel_ignored", booking_id=booking.id, actor=actor,
                     status=booking.status, reason=reason)
        db.session.commit()
        return result
    now = utcnow()
    org = db.session.get(Org, booking.org_id)
    booking.status, booking.cancelled_at, booking.cancel_reason = "cancelled", now, (reason or "")[:200]
    record_event(booking.org_id, "booking.cancelled", booking_id=booking.id, actor=actor, reason=reason)
    clear_late_alert(booking.id, "cancelled")
    window = _window(booking.id)
    if window is not None and window.ends_at > now:
        window.ends_at = now
        window.starts_at = min(window.starts_at, now)  # a future window becomes empty
        window.closed_reason = "cancelled"
        queue_visit_notification(booking.id, "cancelled", window.sitter_id)
        record_event(booking.org_id, "window.closed", booking_id=booking.id, thread_id=window.thread_id,
                     actor=actor, reason="cancelled")
    result.runs_cancelled = cancel_pending_runs(booking.id, "booking_cancelled")
    if confirmation_was_sent(booking.id):
        queue_run_now(booking, org, "booking_cancelled")
        result.cancellation_text_queued = True
    freed = _thread(booking)
    db.session.commit()
    result.status, result.changed = "cancelled", True
    if freed is not None and freed.message_number_id is not None:
        assign_waiting_threads(booking.org_id, actor=actor)  # its number may be what another visit waits for
    return result


def change_sitter(booking_id: int, sitter_id: int | None, actor: str = "system") -> LifecycleResult:
    """Assign another sitter (or none): the window follows at once; a thread on the old sitter's
    own number moves to a newly chosen number and the client is told."""
    booking = _locked_booking(booking_id)
    result = LifecycleResult(booking.id, booking.status)
    if booking.status in ("cancelled", "completed"):
        db.session.rollback()
        raise Conflict(f"A {booking.status} booking cannot change sitter")
    if sitter_id is not None:
        sitter = db.session.get(Sitter, sitter_id)
        if sitter is None or sitter.org_id != booking.org_id:
            db.session.rollback()
            raise NotFound("Sitter not found")
        if not sitter.active:
            db.session.rollback()
            raise InvalidInput("That sitter is inactive", field="sitter_id")
        try:
            ensure_sitter_allowed(booking.client_id, sitter_id)
        except InvalidInput:
            db.session.rollback()
            raise
    if booking.sitter_id == sitter_id:
        db.session.commit()
        return result
    old_sitter_id = booking.sitter_id
    booking.sitter_id = sitter_id
    db.session.expire(booking, ["sitter"])  # texts below name the new sitter
    clear_late_alert(booking.id, "sitter changed")
    record_event(booking.org_id, "booking.sitter_changed", booking_id=booking.id, actor=actor,
                 sitter_id=sitter_id, previous_sitter_id=old_sitter_id)
    result.changed = True
    org = db.session.get(Org, booking.org_id)
    window = _window(booking.id)
    if window is not None:
        sync_window(window, booking, org, actor)
    thread = _thread(booking)
    if thread is not None and thread.message_number_id is None:
        db.session.commit()  # it waits for a number: the new sitter's own number may end the wait
        on_booking_confirmed(booking.id, actor=actor)
        return result
    if thread is not None and booking.status == "confirmed":
        _move_off_old_sitter_number(booking, thread, old_sitter_id, actor, result)
        queue_run_now(booking, org, "sitter_changed")
        result.sitter_change_text_queued = True
    db.session.commit()
    return result


def _move_off_old_sitter_number(booking: Booking, thread: Thread, old_sitter_id: int | None, actor: str,
                                result: LifecycleResult) -> None:
    if thread.message_number_id is None:
        return  # it waits for a number: the new sitter's own number may end the wait (change_sitter)
    number = db.session.get(MessageNumber, thread.message_number_id)
    if old_sitter_id is None or number.kind != "sitter" or number.sitter_id != old_sitter_id:
        return
    moved = move_thread_off_number(
        booking, thread, number, actor,
        stuck_text=f"Booking #{booking.id} changed sitter but its thread still uses the previous "
                   "sitter's number: add a pool or front-desk number and change the sitter again.")
    if moved is not None:
        result.thread_moved = True


def reschedule_booking(booking_id: int, start_at: datetime, end_at: datetime,
                       actor: str = "system") -> LifecycleResult:
    """New times: the window and the scheduled texts follow."""
    if start_at.tzinfo is None or end_at.tzinfo is None:
        raise InvalidInput("Times must carry a timezone", field="start_at")
    if end_at <= start_at:
        raise InvalidInput("The visit must end after it starts", field="end_at")
    booking = _locked_booking(booking_id)
    result = LifecycleResult(booking.id, booking.status)
    if booking.status in ("cancelled", "completed"):
        db.session.rollback()
        raise Conflict(f"A {booking.status} booking cannot be rescheduled")
    if (booking.start_at, booking.end_at) == (start_at, end_at):
        db.session.commit()
        return result
    record_event(booking.org_id, "booking.rescheduled", booking_id=booking.id, actor=actor,
                 previous_start_at=booking.start_at.isoformat(), previous_end_at=booking.end_at.isoformat(),
                 start_at=start_at.isoformat(), end_at=end_at.isoformat())
    booking.start_at, booking.end_at = start_at, end_at
    org = db.session.get(Org, booking.org_id)
    window = _window(booking.id)
    if window is not None:
        sync_window(window, booking, org, actor)
        move_runs_for_new_times(booking, org, window.ends_at)
    db.session.commit()
    result.changed = True
    return result


def complete_due_bookings(now: datetime | None = None) -> int:
    """Mark confirmed bookings completed once their window has ended.

    A booking confirmed without a number never got a window: it completes at its end plus the
    org's grace time, as its window would have (its "no number" alert stays for the owner).
    """
    now = now or utcnow()
    due = db.session.scalars(
        select(Booking.id)
        .outerjoin(AssignmentWindow, AssignmentWindow.booking_id == Booking.id)
        .where(Booking.status == "confirmed",
               or_(AssignmentWindow.ends_at <= now, and_(AssignmentWindow.id.is_(None), Booking.end_at <= now)))
        .order_by(Booking.id)
    ).all()
    db.session.commit()  # end the read: each booking below is its own locked transaction
    done = 0
    for booking_id in due:
        booking = lock_row(Booking, booking_id)
        if booking is None or booking.status != "confirmed" or _visit_ends_at(booking) > now:
            db.session.commit()
            continue
        booking.status, booking.completed_at = "completed", now
        record_event(booking.org_id, "booking.completed", booking_id=booking.id, actor="system")
        db.session.commit()
        done += 1
    return done


def _visit_ends_at(booking: Booking) -> datetime:
    """When the booking's messaging ends: its window's end, or (no window) end plus grace."""
    window = _window(booking.id)
    if window is not None:
        return window.ends_at
    return window_times(booking, db.session.get(Org, booking.org_id))[1]
