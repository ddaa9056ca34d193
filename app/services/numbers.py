"""Choosing the masking number a booking's thread texts the client from."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import aliased

from app.clock import utcnow
from app.extensions import db
from app.models import AssignmentWindow, Booking, MessageNumber, Thread
from app.queue import note_write
from app.services.locking import (
    ADVISORY_KEY,
    advisory_key,
    advisory_lock,
    dialect_name,
    prebuilt,
    with_advisory_lock,
)

SITTER_DEDICATED = "sitter_dedicated"
POOL_LRU = "pool_lru"
FRONT_DESK = "front_desk"


@dataclass(frozen=True)
class NumberChoice:
    number_id: int
    reason: str  # sitter_dedicated, pool_lru, front_desk (or the thread's kept reason)
    newly_assigned: bool  # False: a repeat call kept the thread's number


def open_thread_of_client_on(number_id_col, client_id, except_booking_id=None, now=None):
    """SQL: the client has an open thread on this number (booking not cancelled, window not ended).
    The values may be bound parameters (`now` defaults to the clock's now)."""
    query = (
        select(Thread.id)
        .join(Booking, Booking.id == Thread.booking_id)
        .outerjoin(AssignmentWindow, AssignmentWindow.thread_id == Thread.id)
        .where(Thread.message_number_id == number_id_col, Thread.client_id == client_id,
               Thread.scope == "client_booking", Booking.status.in_(("pending", "confirmed")),
               or_(AssignmentWindow.id.is_(None), AssignmentWindow.ends_at > (utcnow() if now is None else now)))
    )
    if except_booking_id is not None:
        query = query.where(Thread.booking_id != except_booking_id)
    return query.exists()


def _first_read():
    """Takes the client's lock; reads the booking thread's number and reason (as
    is_booking_thread finds it) and the sitter's active dedicated number."""
    kept = select(Thread.message_number_id).where(
        Thread.org_id == bindparam("org_id"), Thread.client_id == bindparam("client_id"),
        Thread.booking_id == bindparam("booking_id"))
    sitter_number = (
        select(MessageNumber.id)
        .where(MessageNumber.org_id == bindparam("org_id"), MessageNumber.kind == "sitter",
               MessageNumber.sitter_id == bindparam("sitter_id"), MessageNumber.active.is_(True))
        .order_by(MessageNumber.id).limit(1)
    )
    return with_advisory_lock(select(
        kept.scalar_subquery().label("kept_number_id"),
        kept.with_only_columns(Thread.number_reason).scalar_subquery().label("kept_reason"),
        sitter_number.scalar_subquery().label("sitter_number_id"),  # NULL without a sitter
    ))


def _mark_assigned_statement(which):
    """Record one more assignment (LRU order and the admin's usage count) of the number
    `which` picks; RETURNING its id (no row: it picked none)."""
    assigned_at = bindparam("assigned_at", type_=MessageNumber.__table__.c.last_assigned_at.type)
    return (
        update(MessageNumber).where(MessageNumber.id == which)
        .values(last_assigned_at=assigned_at, assignment_count=MessageNumber.assignment_count + 1)
        .returning(MessageNumber.id).execution_options(synchronize_session=False)
    )


def _pool_pick(avoiding: bool):
    pool = aliased(MessageNumber)  # the pick's own FROM, not correlated to the UPDATE's table
    pick = (
        select(pool.id)
        .where(pool.org_id == bindparam("pick_org_id"), pool.kind == "pool", pool.active.is_(True),
               ~open_thread_of_client_on(pool.id, bindparam("pick_client_id"), bindparam("pick_booking_id"),
                                         now=bindparam("pick_now")))
        # Never used first, then oldest use; a tie (same instant) goes to the
        # number used fewer times, then the lowest id.
        .order_by(pool.last_assigned_at.asc().nulls_first(), pool.assignment_count, pool.id)
        .limit(1)
    )
    if avoiding:
        pick = pick.where(pool.id.not_in(bindparam("pick_avoid", expanding=True)))
    return pick.scalar_subquery()


def _assign_pool_number(booking: Booking, avoid: tuple[int, ...]) -> int | None:
    """Pick the pool number and mark it assigned, in one statement (UPDATE … WHERE id =
    (the pick) RETURNING id); None when the pool has nothing to give."""
    # One chooser per org at a time: two transactions reading the same "least
    # recently used" row would hand out the same number (FOR UPDATE does not
    # re-run ORDER BY after waiting, and SKIP LOCKED finds nothing once every
    # pool row is taken). The lock is held until commit, and taken in its own
    # statement: the pick below then sees the previous chooser's last_assigned_at.
    advisory_lock("pool", booking.org_id)
    now = utcnow()
    # (Bound names other than the UPDATE's column names.)
    params = {"pick_org_id": booking.org_id, "pick_client_id": booking.client_id,
              "pick_booking_id": booking.id, "pick_now": now, "assigned_at": now}
    if avoid:
        params["pick_avoid"] = list(avoid)
    statement = prebuilt(("numbers.assign_pool", bool(avoid)),
                         lambda: _mark_assigned_statement(_pool_pick(bool(avoid))))
    note_write()
    return db.session.scalar(statement, params)


def front_desk_number_id(org_id: int) -> int | None:
    """The org's active front-desk number (lowest id if several)."""
    return db.session.scalar(
        select(MessageNumber.id)
        .where(MessageNumber.org_id == org_id, MessageNumber.kind == "front_desk",
               MessageNumber.active.is_(True))
        .order_by(MessageNumber.id).limit(1)
    )


def _mark_assigned(number_id: int) -> None:
    statement = prebuilt(("numbers.mark_assigned",), lambda: _mark_assigned_statement(bindparam("number_id")))
    note_write()
    db.session.execute(statement, {"number_id": number_id, "assigned_at": utcnow()})


def choose_masking_number(booking: Booking, *, keep_existing: bool = True,
                          avoid: tuple[int, ...] = ()) -> NumberChoice | None:
    """The number for this booking's thread; None when the org has none to give.

    Order: the sitter's active dedicated number, the least recently assigned
    active pool number that carries no other open thread of this client, the
    front desk. A thread that already has a number keeps it (keep_existing),
    and then nothing is bumped. A new choice is marked assigned here, in the
    caller's transaction. `avoid` excludes numbers (a sitter change leaving the
    old sitter's line). The caller holds the booking's row lock.

    Takes the client's advisory lock (until commit): other bookings of this
    client choose with this one in mind. The first statement takes it and reads
    what it does not guard (the thread's number: the booking lock guards that;
    the sitter's number); the pool pick, which it guards, comes later.
    """
    first = db.session.execute(
        prebuilt(("numbers.first_read", dialect_name()), _first_read),
        {"org_id": booking.org_id, "client_id": booking.client_id, "booking_id": booking.id,
         "sitter_id": booking.sitter_id,
         ADVISORY_KEY: advisory_key("client", booking.org_id, booking.client_id)},
    ).one()
    if keep_existing and first.kept_number_id is not None:
        return NumberChoice(first.kept_number_id, first.kept_reason or "kept", False)

    number_id = first.sitter_number_id
    if number_id is not None and number_id not in avoid:
        _mark_assigned(number_id)
        return NumberChoice(number_id, SITTER_DEDICATED, True)
    number_id = _assign_pool_number(booking, avoid)
    if number_id is not None:
        return NumberChoice(number_id, POOL_LRU, True)
    number_id = front_desk_number_id(booking.org_id)
    if number_id is None or number_id in avoid:
        return None
    _mark_assigned(number_id)
    return NumberChoice(number_id, FRONT_DESK, True)
