"""Choosing the masking number a booking's thread texts the client from."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import bindparam, or_, select, update

from app.clock import utcnow
from app.extensions import db
from app.models import AssignmentWindow, Booking, MessageNumber, Thread
from app.persistence.locking import advisory_key, advisory_lock, dialect_name, with_advisory_locks
from app.services.bookings.threads import booking_thread_key

SITTER_DEDICATED = "sitter_dedicated"
POOL_LRU = "pool_lru"
FRONT_DESK = "front_desk"


@dataclass(frozen=True)
class NumberChoice:
    number_id: int
    reason: str  # sitter_dedicated, pool_lru, front_desk (or the thread's kept reason)
    newly_assigned: bool  # False: a repeat call kept the thread's number


# Core tables, not ORM entities: these statements load no objects, and a Core UPDATE skips
# the ORM's bulk-update machinery.
_THREADS, _BOOKINGS = Thread.__table__, Booking.__table__
_WINDOWS, _NUMBERS = AssignmentWindow.__table__, MessageNumber.__table__


def open_thread_of_client_on(number_id_col, client_id, except_booking_id=None, now=None):
    """SQL: the client has an open thread on this number (booking not cancelled, window not ended).
    The values may be bound parameters (`now` defaults to the clock's now)."""
    t, b, w = _THREADS.c, _BOOKINGS.c, _WINDOWS.c
    query = (
        select(t.id)
        .select_from(_THREADS.join(_BOOKINGS, b.id == t.booking_id)
                     .outerjoin(_WINDOWS, w.thread_id == t.id))
        .where(t.message_number_id == number_id_col, t.client_id == client_id,
               t.scope == "client_booking", b.status.in_(("pending", "confirmed")),
               or_(w.id.is_(None), w.ends_at > (utcnow() if now is None else now)))
    )
    if except_booking_id is not None:
        query = query.where(t.booking_id != except_booking_id)
    return query.exists()


@cache
def _first_read(dialect: str, keep_existing: bool):  # dialect: with_advisory_locks differs by it
    """Reads the booking thread's number and reason and the sitter's active dedicated number;
    takes the client's lock, and the pool's lock too when the number will come from the pool
    (no number kept, no sitter number)."""
    t, n = _THREADS.c, _NUMBERS.c
    booking_thread = booking_thread_key(bindparam("org_id"), bindparam("client_id"), bindparam("booking_id"))
    kept = select(t.message_number_id).where(booking_thread).scalar_subquery()
    sitter_number = (
        select(n.id)
        .where(n.org_id == bindparam("org_id"), n.kind == "sitter",
               n.sitter_id == bindparam("sitter_id"), n.active.is_(True))
        .order_by(n.id).limit(1)
    ).scalar_subquery()  # NULL without a sitter
    from_pool = sitter_number.is_(None)
    if keep_existing:
        from_pool = kept.is_(None) & from_pool
    return with_advisory_locks(
        select(kept.label("kept_number_id"),
               select(t.number_reason).where(booking_thread).scalar_subquery().label("kept_reason"),
               sitter_number.label("sitter_number_id")),
        ("client_lock_key", None), ("pool_lock_key", from_pool),
    )


def _mark_assigned_statement(which):
    """Record one more assignment (LRU order and the admin's usage count) of the number
    `which` picks; RETURNING its id (no row: it picked none)."""
    n = _NUMBERS.c
    return (
        update(_NUMBERS).where(n.id == which)
        .values(last_assigned_at=bindparam("assigned_at", type_=n.last_assigned_at.type),
                assignment_count=n.assignment_count + 1)
        .returning(n.id)
    )


@cache
def _assign_pool_statement(avoiding: bool):
    """Mark the pool's pick assigned: UPDATE … WHERE id = (the pick) RETURNING id."""
    return _mark_assigned_statement(_pool_pick(avoiding))


# Mark one given number assigned (the sitter's, the front desk's).
_MARK_ASSIGNED = _mark_assigned_statement(bindparam("number_id"))


def _pool_pick(avoiding: bool):
    pool = _NUMBERS.alias("pool")  # the pick's own FROM, not correlated to the UPDATE's table
    p = pool.c
    pick = (
        select(p.id)
        .where(p.org_id == bindparam("pick_org_id"), p.kind == "pool", p.active.is_(True),
               ~open_thread_of_client_on(p.id, bindparam("pick_client_id"), bindparam("pick_booking_id"),
                                         now=bindparam("pick_now")))
        # Never used first, then oldest use; a tie (same instant) goes to the
        # number used fewer times, then the lowest id.
        .order_by(p.last_assigned_at.asc().nulls_first(), p.assignment_count, p.id)
        .limit(1)
    )
    if avoiding:
        pick = pick.where(p.id.not_in(bindparam("pick_avoid", expanding=True)))
    return pick.scalar_subquery()


def _assign_pool_number(booking: Booking, avoid: tuple[int, ...], pool_locked: bool) -> int | None:
    """Pick the pool number and mark it assigned, in one statement (UPDATE … WHERE id =
    (the pick) RETURNING id); None when the pool has nothing to give."""
    # One chooser per org at a time: two transactions reading the same "least
    # recently used" row would hand out the same number (FOR UPDATE does not
    # re-run ORDER BY after waiting, and SKIP LOCKED finds nothing once every
    # pool row is taken). The lock is held until commit, and taken by an earlier
    # statement (the first read, or here): the pick below then sees the previous
    # chooser's last_assigned_at.
    if not pool_locked:
        advisory_lock("pool", booking.org_id)
    now = utcnow()
    # (Bound names other than the UPDATE's column names.)
    params = {"pick_org_id": booking.org_id, "pick_client_id": booking.client_id,
              "pick_booking_id": booking.id, "pick_now": now, "assigned_at": now}
    if avoid:
        params["pick_avoid"] = list(avoid)
    return db.session.scalar(_assign_pool_statement(bool(avoid)), params)


def front_desk_number_id(org_id: int) -> int | None:
    """The org's active front-desk number (lowest id if several)."""
    return db.session.scalar(
        select(MessageNumber.id)
        .where(MessageNumber.org_id == org_id, MessageNumber.kind == "front_desk",
               MessageNumber.active.is_(True))
        .order_by(MessageNumber.id).limit(1)
    )


def _mark_assigned(number_id: int) -> None:
    db.session.execute(_MARK_ASSIGNED, {"number_id": number_id, "assigned_at": utcnow()})


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
    client choose with this one in mind. The first statement takes it, and the
    pool's lock when it will be needed, and reads what they do not guard (the
    thread's number: the booking lock guards that; the sitter's number); the
    pool pick, which they guard, comes later.
    """
    first = db.session.execute(
        _first_read(dialect_name(), keep_existing),
        {"org_id": booking.org_id, "client_id": booking.client_id, "booking_id": booking.id,
         "sitter_id": booking.sitter_id,
         "client_lock_key": advisory_key("client", booking.org_id, booking.client_id),
         "pool_lock_key": advisory_key("pool", booking.org_id)},
    ).one()
    if keep_existing and first.kept_number_id is not None:
        return NumberChoice(first.kept_number_id, first.kept_reason or "kept", False)

    number_id = first.sitter_number_id
    if number_id is not None and number_id not in avoid:
        _mark_assigned(number_id)
        return NumberChoice(number_id, SITTER_DEDICATED, True)
    # No sitter number (and none kept): the first read took the pool's lock (see _first_read).
    number_id = _assign_pool_number(booking, avoid, pool_locked=first.sitter_number_id is None)
    if number_id is not None:
        return NumberChoice(number_id, POOL_LRU, True)
    number_id = front_desk_number_id(booking.org_id)
    if number_id is None or number_id in avoid:
        return None
    _mark_assigned(number_id)
    return NumberChoice(number_id, FRONT_DESK, True)
