"""Choosing the masking number a booking's thread texts the client from."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select, update

from app.clock import utcnow
from app.extensions import db
from app.models import AssignmentWindow, Booking, MessageNumber, Thread
from app.queue import note_write
from app.services.booking_threads import is_booking_thread
from app.services.locking import advisory_lock

SITTER_DEDICATED = "sitter_dedicated"
POOL_LRU = "pool_lru"
FRONT_DESK = "front_desk"


@dataclass(frozen=True)
class NumberChoice:
    number_id: int
    reason: str  # sitter_dedicated, pool_lru, front_desk (or the thread's kept reason)
    newly_assigned: bool  # False: a repeat call kept the thread's number


def open_thread_of_client_on(number_id_col, client_id: int, except_booking_id: int | None = None):
    """SQL: the client has an open thread on this number (booking not cancelled, window not ended)."""
    query = (
        select(Thread.id)
        .join(Booking, Booking.id == Thread.booking_id)
        .outerjoin(AssignmentWindow, AssignmentWindow.thread_id == Thread.id)
        .where(Thread.message_number_id == number_id_col, Thread.client_id == client_id,
               Thread.scope == "client_booking", Booking.status.in_(("pending", "confirmed")),
               or_(AssignmentWindow.id.is_(None), AssignmentWindow.ends_at > utcnow()))
    )
    if except_booking_id is not None:
        query = query.where(Thread.booking_id != except_booking_id)
    return query.exists()


def _sitter_number_id(org_id: int, sitter_id: int | None) -> int | None:
    if sitter_id is None:
        return None
    return db.session.scalar(
        select(MessageNumber.id)
        .where(MessageNumber.org_id == org_id, MessageNumber.kind == "sitter",
               MessageNumber.sitter_id == sitter_id, MessageNumber.active.is_(True))
        .order_by(MessageNumber.id).limit(1)
    )


def _pool_number_id(org_id: int, client_id: int, booking_id: int, avoid: tuple[int, ...]) -> int | None:
    # One chooser per org at a time: two transactions reading the same "least
    # recently used" row would hand out the same number (FOR UPDATE does not
    # re-run ORDER BY after waiting, and SKIP LOCKED finds nothing once every
    # pool row is taken). The lock is held until commit, so the next chooser
    # sees this one's last_assigned_at.
    advisory_lock("pool", org_id)
    query = (
        select(MessageNumber.id)
        .where(MessageNumber.org_id == org_id, MessageNumber.kind == "pool",
               MessageNumber.active.is_(True),
               ~open_thread_of_client_on(MessageNumber.id, client_id, booking_id))
        # Never used first, then oldest use; a tie (same instant) goes to the
        # number used fewer times, then the lowest id.
        .order_by(MessageNumber.last_assigned_at.asc().nulls_first(),
                  MessageNumber.assignment_count, MessageNumber.id)
        .limit(1)
    )
    if avoid:
        query = query.where(MessageNumber.id.not_in(avoid))
    return db.session.scalar(query)


def front_desk_number_id(org_id: int) -> int | None:
    """The org's active front-desk number (lowest id if several)."""
    return db.session.scalar(
        select(MessageNumber.id)
        .where(MessageNumber.org_id == org_id, MessageNumber.kind == "front_desk",
               MessageNumber.active.is_(True))
        .order_by(MessageNumber.id).limit(1)
    )


def mark_assigned(number_id: int) -> None:
    """Record one more assignment (LRU order and the admin's usage count)."""
    note_write()
    db.session.execute(
        update(MessageNumber).where(MessageNumber.id == number_id)
        .values(last_assigned_at=utcnow(), assignment_count=MessageNumber.assignment_count + 1)
        .execution_options(synchronize_session=False)
    )


def choose_masking_number(booking: Booking, *, keep_existing: bool = True,
                          avoid: tuple[int, ...] = ()) -> NumberChoice | None:
    """The number for this booking's thread; None when the org has none to give.

    Order: the sitter's active dedicated number, the least recently assigned
    active pool number that carries no other open thread of this client, the
    front desk. A thread that already has a number keeps it (keep_existing),
    and then nothing is bumped. A new choice is marked assigned here, in the
    caller's transaction. `avoid` excludes numbers (a sitter change leaving the
    old sitter's line).
    """
    if keep_existing:
        kept = db.session.execute(
            select(Thread.message_number_id, Thread.number_reason).where(is_booking_thread(booking))
        ).first()
        if kept is not None:
            return NumberChoice(kept.message_number_id, kept.number_reason or "kept", False)

    number_id = _sitter_number_id(booking.org_id, booking.sitter_id)
    reason = SITTER_DEDICATED
    if number_id in avoid:
        number_id = None
    if number_id is None:
        number_id, reason = _pool_number_id(booking.org_id, booking.client_id, booking.id, avoid), POOL_LRU
    if number_id is None:
        number_id, reason = front_desk_number_id(booking.org_id), FRONT_DESK
        if number_id in avoid:
            number_id = None
    if number_id is None:
        return None
    mark_assigned(number_id)
    return NumberChoice(number_id, reason, True)
