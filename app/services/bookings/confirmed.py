"""The booking-confirmed handler: thread, masking number, window, audit, automations.

Safe to call any number of times, also concurrently: the booking row is locked
first (SELECT … FOR UPDATE; on SQLite the write lock), rows that may not exist
yet are created with INSERT … ON CONFLICT DO NOTHING against their unique
constraints, and the pool choice runs under an advisory lock per org.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, update

from app.clock import utcnow
from app.errors import NotFound
from app.extensions import db
from app.models import Alert, AssignmentWindow, Booking, Org, Thread
from app.persistence.locking import insert_if_absent, lock_row
from app.services.audit.events import raise_alert, record_event
from app.services.automations.runs import plan_confirmed_booking
from app.services.bookings.threads import is_booking_thread
from app.services.notifications.notify import queue_visit_notification, queue_window_notifications
from app.services.numbers.choice import choose_masking_number
from app.services.numbers.pressure import WAITING, alert_pool_short_once_a_week, no_number_advice


@dataclass
class ConfirmResult:
    booking_id: int
    status: str  # the booking's status afterwards
    confirmed_now: bool = False  # pending → confirmed by this call
    thread_id: int | None = None
    thread_created: bool = False
    number_id: int | None = None
    number_reason: str | None = None  # sitter_dedicated, pool_lru, front_desk
    number_assigned: bool = False  # False: the thread kept its number
    window_id: int | None = None
    window_created: bool = False
    window_updated: bool = False
    runs_created: list[str] = field(default_factory=list)
    no_number: bool = False  # confirmed, but its thread waits for a number (nothing shared)
    ignored: str | None = None  # why nothing was done (cancelled, completed)

    @property
    def created(self) -> list[str]:
        return [name for name, done in (("thread", self.thread_created), ("window", self.window_created),
                                        ("number", self.number_assigned)) if done] + self.runs_created


def window_times(booking: Booking, org: Org):
    """The assignment window: from the start to the end plus the org's grace time."""
    return booking.start_at, booking.end_at + timedelta(minutes=org.grace_minutes)


def on_booking_confirmed(booking_id: int, actor: str = "system") -> ConfirmResult:
    """Confirm a booking (if pending) and make sure it has its thread, number, window and texts."""
    booking = lock_row(Booking, booking_id, with_org=True)  # first statement: see app.persistence.locking
    if booking is None:
        db.session.rollback()
        raise NotFound(f"Booking {booking_id} not found")
    return confirm_locked_booking(booking, actor)


def confirm_locked_booking(booking: Booking, actor: str = "system") -> ConfirmResult:
    """`on_booking_confirmed` for a caller that already holds this booking's row lock
    (`lock_row`) in the current transaction (the Stripe webhook): no second lock.
    Commits, like `on_booking_confirmed`."""
    result = ConfirmResult(booking_id=booking.id, status=booking.status)
    if booking.status in ("cancelled", "completed"):
        # Cancelled is final: a late payment or a second click changes nothing.
        record_event(booking.org_id, "booking.confirm_ignored", booking_id=booking.id, actor=actor,
                     status=booking.status)
        db.session.commit()
        result.ignored = booking.status
        return result
    with db.session.no_autoflush:  # the booking's changes flush once, with its confirmation below
        org = booking.org  # loaded with the lock by on_booking_confirmed and the Stripe webhook
    if booking.status == "pending":
        booking.status, booking.confirmed_at = "confirmed", utcnow()
        record_event(booking.org_id, "booking.confirmed", booking_id=booking.id, actor=actor)
        result.status, result.confirmed_now = "confirmed", True

    choice = choose_masking_number(booking)  # takes the client's advisory lock
    if choice is None:
        # One number, one conversation: nothing is shared silently. The thread waits without a
        # number (no window, no texts yet); owners are told what to add; adding or freeing a
        # number (app.services.numbers.waiting) calls this handler again, which finishes below.
        result.thread_id, result.thread_created = _waiting_thread(booking, actor)
        if result.thread_created:  # told once, when the wait begins (reconcile retries it quietly)
            _record_no_number(booking, org, actor, result.thread_id)
        db.session.commit()
        result.no_number = True
        return result

    result.number_id, result.number_reason = choice.number_id, choice.reason
    thread_id = None
    if choice.newly_assigned:
        thread_id = insert_if_absent(Thread, ("org_id", "client_id", "booking_id"), org_id=booking.org_id,
                                     client_id=booking.client_id, booking_id=booking.id,
                                     scope="client_booking", message_number_id=choice.number_id,
                                     number_reason=choice.reason)
        if thread_id is not None:
            result.thread_created = True
            record_event(booking.org_id, "thread.created", booking_id=booking.id, thread_id=thread_id,
                         actor=actor)
        else:  # the thread waited without a number: it gets this one now
            thread_id = db.session.scalar(
                update(Thread).where(is_booking_thread(booking), Thread.message_number_id.is_(None))
                .values(message_number_id=choice.number_id, number_reason=choice.reason)
                .returning(Thread.id).execution_options(synchronize_session=False))
    if thread_id is not None:
        result.number_assigned = True
        record_event(booking.org_id, "number.assigned", booking_id=booking.id, thread_id=thread_id,
                     actor=actor, number_id=choice.number_id, reason=choice.reason)
        if not result.confirmed_now:
            # Only a confirmed booking gets a "no number" alert (here, or on a sitter
            # change), and a booking never goes back to pending: one pending until this
            # call has none to resolve.
            _resolve_no_number_alerts(booking)
    else:
        thread_id = db.session.scalar(select(Thread.id).where(is_booking_thread(booking)))
    result.thread_id = thread_id

    starts_at, ends_at = window_times(booking, org)
    window_id = insert_if_absent(AssignmentWindow, ("booking_id",), org_id=booking.org_id,
                                 thread_id=thread_id, booking_id=booking.id, sitter_id=booking.sitter_id,
                                 starts_at=starts_at, ends_at=ends_at)
    if window_id is not None:
        result.window_id, result.window_created = window_id, True
        record_event(booking.org_id, "window.created", booking_id=booking.id, thread_id=thread_id,
                     actor=actor, starts_at=starts_at.isoformat(), ends_at=ends_at.isoformat())
        queue_visit_notification(booking.id, "added", booking.sitter_id)
    else:
        window = db.session.scalar(select(AssignmentWindow).where(AssignmentWindow.booking_id == booking.id))
        result.window_id = window.id
        result.window_updated = sync_window(window, booking, org, actor)

    result.runs_created = plan_confirmed_booking(booking, org, ends_at)
    db.session.commit()
    return result


def sync_window(window: AssignmentWindow, booking: Booking, org: Org, actor: str) -> bool:
    """Make the window match the booking (times and sitter); audit and report a change."""
    starts_at, ends_at = window_times(booking, org)
    changes = {}
    if (window.starts_at, window.ends_at) != (starts_at, ends_at):
        changes.update(starts_at=starts_at.isoformat(), ends_at=ends_at.isoformat())
        window.starts_at, window.ends_at = starts_at, ends_at
    if window.sitter_id != booking.sitter_id:
        changes.update(new_sitter_id=booking.sitter_id, previous_sitter_id=window.sitter_id)
        window.sitter_id = booking.sitter_id
    if changes:
        record_event(booking.org_id, "window.updated", booking_id=booking.id, thread_id=window.thread_id,
                     sitter_id=booking.sitter_id, actor=actor, **changes)
        queue_window_notifications(booking.id, changes.get("previous_sitter_id", booking.sitter_id),
                                   booking.sitter_id, times_changed="starts_at" in changes)
    return bool(changes)


def _waiting_thread(booking: Booking, actor: str) -> tuple[int, bool]:
    """The booking's thread without a number (created once); (its id, created now)."""
    thread_id = insert_if_absent(Thread, ("org_id", "client_id", "booking_id"), org_id=booking.org_id,
                                 client_id=booking.client_id, booking_id=booking.id, scope="client_booking",
                                 message_number_id=None, number_reason=WAITING)
    if thread_id is not None:
        record_event(booking.org_id, "thread.created", booking_id=booking.id, thread_id=thread_id,
                     actor=actor, waiting_for_number=True)
        return thread_id, True
    return db.session.scalar(select(Thread.id).where(is_booking_thread(booking))), False


def _record_no_number(booking: Booking, org: Org, actor: str, thread_id: int | None) -> None:
    already_told = db.session.scalar(
        select(Alert.id).where(Alert.org_id == booking.org_id, Alert.booking_id == booking.id,
                               Alert.kind == "booking.no_number", Alert.resolved_at.is_(None))
    )
    if already_told is None:
        record_event(booking.org_id, "booking.no_number", booking_id=booking.id, thread_id=thread_id,
                     actor=actor, reason="every number would be shared or none is active")
        raise_alert(booking.org_id, "booking.no_number", no_number_advice(booking, org),
                    booking_id=booking.id, thread_id=thread_id)
        alert_pool_short_once_a_week(booking, org)


def _resolve_no_number_alerts(booking: Booking) -> None:
    """The setup finished: an earlier "no number" alert for this booking is dealt with."""
    db.session.execute(
        update(Alert).where(Alert.booking_id == booking.id, Alert.kind == "booking.no_number",
                            Alert.resolved_at.is_(None))
        .values(resolved_at=utcnow()).execution_options(synchronize_session=False)
    )
