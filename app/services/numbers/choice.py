"""Choosing the masking number a booking's thread texts the client from.

One number, one conversation (DESIGN): a (client phone, masking number) pair belongs to
at most one open thread. Each candidate (the sitter's own number, the pool, the front
desk) is skipped when it already carries another open thread of the same client; with
none left the caller gets None and the thread waits without a number. In the pool, a
number that carried the client's thread with another sitter within the org's cool-off
days comes last (a late reply about that visit must not reach this sitter), and one that
carried the client's thread with this same sitter comes first (sticky), then LRU.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from sqlalchemy import bindparam, case, or_, select, update

from app.clock import utcnow
from app.extensions import db
from app.models import AssignmentWindow, Booking, MessageNumber, Org, Thread
from app.persistence.locking import advisory_key, advisory_lock, dialect_name, with_advisory_locks
from app.services.bookings.threads import booking_thread_key

SITTER_DEDICATED = "sitter_dedicated"
POOL_LRU = "pool_lru"
FRONT_DESK = "front_desk"
DEFAULT_COOLOFF_DAYS = 7


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
    (no number kept, no sitter number, not front-desk-only)."""
    t, n = _THREADS.c, _NUMBERS.c
    booking_thread = booking_thread_key(bindparam("org_id"), bindparam("client_id"), bindparam("booking_id"))
    kept = select(t.message_number_id).where(booking_thread).scalar_subquery()
    sitter_number = (
        select(n.id)
        .where(n.org_id == bindparam("org_id"), n.kind == "sitter",
               n.sitter_id == bindparam("sitter_id"), n.active.is_(True))
        .order_by(n.id).limit(1)
    ).scalar_subquery()  # NULL without a sitter
    o = Org.__table__.c
    cooloff = select(o.number_cooloff_days).where(o.id == bindparam("org_id"))
    front_desk_only = select(o.front_desk_only).where(o.id == bindparam("org_id"))
    from_pool = sitter_number.is_(None) & front_desk_only.scalar_subquery().is_(False)
    if keep_existing:
        from_pool = kept.is_(None) & from_pool
    return with_advisory_locks(
        select(kept.label("kept_number_id"),
               select(t.number_reason).where(booking_thread).scalar_subquery().label("kept_reason"),
               sitter_number.label("sitter_number_id"),
               cooloff.scalar_subquery().label("cooloff_days"),
               front_desk_only.scalar_subquery().label("front_desk_only")),
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


def _client_thread_on(pool_number_id, *conditions):
    """SQL: a booking thread of the pick's client on this pool number (with its window), matching
    `conditions`."""
    t2, w2 = _THREADS.alias("past_thread"), _WINDOWS.alias("past_window")
    return (
        select(t2.c.id)
        .select_from(t2.join(w2, w2.c.thread_id == t2.c.id))
        .where(t2.c.message_number_id == pool_number_id, t2.c.client_id == bindparam("pick_client_id"),
               t2.c.booking_id != bindparam("pick_booking_id"), *(c(t2.c, w2.c) for c in conditions))
        .exists()
    )


def _pool_pick(avoiding: bool):
    pool = _NUMBERS.alias("pool")  # the pick's own FROM, not correlated to the UPDATE's table
    p = pool.c
    # Cooled off: it carried this client's thread with another sitter lately (a late reply about
    # that visit would reach this booking's sitter); used only when nothing else is free.
    cooled = _client_thread_on(p.id, lambda t, w: w.ends_at > bindparam("pick_cool_since"),
                               lambda t, w: w.sitter_id.is_distinct_from(bindparam("pick_sitter_id")))
    # Sticky: it carried this client's thread with this very sitter: the client keeps "their" number.
    sticky = _client_thread_on(p.id, lambda t, w: w.sitter_id == bindparam("pick_sitter_id"))
    pick = (
        select(p.id)
        .where(p.org_id == bindparam("pick_org_id"), p.kind == "pool", p.active.is_(True),
               ~open_thread_of_client_on(p.id, bindparam("pick_client_id"), bindparam("pick_booking_id"),
                                         now=bindparam("pick_now")))
        # Cooled-off last, sticky first; then never used first, then oldest use; a tie (same
        # instant) goes to the number used fewer times, then the lowest id.
        .order_by(case((cooled, 1), else_=0), case((sticky, 0), else_=1),
                  p.last_assigned_at.asc().nulls_first(), p.assignment_count, p.id)
        .limit(1)
    )
    if avoiding:
        pick = pick.where(p.id.not_in(bindparam("pick_avoid", expanding=True)))
    return pick.scalar_subquery()


def _assign_pool_number(booking: Booking, avoid: tuple[int, ...], pool_locked: bool,
                        cooloff_days: int | None) -> int | None:
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
              "pick_booking_id": booking.id, "pick_now": now, "assigned_at": now,
              "pick_sitter_id": booking.sitter_id,
              "pick_cool_since": now - timedelta(days=DEFAULT_COOLOFF_DAYS if cooloff_days is None else cooloff_days)}
    if avoid:
        params["pick_avoid"] = list(avoid)
    return db.session.scalar(_assign_pool_statement(bool(avoid)), params)


def front_desk_number_select(org_id: int):
    """SQL: the org's active front-desk number id (lowest id if several); a caller may embed it."""
    return (select(MessageNumber.id)
            .where(MessageNumber.org_id == org_id, MessageNumber.kind == "front_desk",
                   MessageNumber.active.is_(True))
            .order_by(MessageNumber.id).limit(1))


def front_desk_number_id(org_id: int) -> int | None:
    """The org's active front-desk number (lowest id if several)."""
    return db.session.scalar(front_desk_number_select(org_id))


def carries_open_thread_of(number_id: int, booking: Booking) -> bool:
    """The number already carries another open thread of this booking's client."""
    return bool(db.session.scalar(select(open_thread_of_client_on(number_id, booking.client_id, booking.id))))


def _mark_assigned(number_id: int) -> None:
    db.session.execute(_MARK_ASSIGNED, {"number_id": number_id, "assigned_at": utcnow()})


def choose_masking_number(booking: Booking, *, keep_existing: bool = True,
                          avoid: tuple[int, ...] = ()) -> NumberChoice | None:
    """The number for this booking's thread; None when the org has none to give.

    Order: the sitter's active dedicated number, the active pool number (not
    cooled off, sticky, least recently assigned), the front desk: each skipped
    when it carries another open thread of this client (None: none is left).
    In front-desk-only mode (Org.front_desk_only) the front desk is the only
    candidate, under the same rule: another client's open thread on it is no
    clash; this client's is, and the thread waits.
    A thread that already has a number keeps it (keep_existing), and then
    nothing is bumped. A new choice is marked assigned here, in the
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

    # Checked after the first read took the client's lock: a concurrent booking of this client
    # has committed its thread by now, and this statement sees it.
    if not first.front_desk_only:
        number_id = first.sitter_number_id
        if number_id is not None and number_id not in avoid and not carries_open_thread_of(number_id, booking):
            _mark_assigned(number_id)
            return NumberChoice(number_id, SITTER_DEDICATED, True)
        # No sitter number (and none kept): the first read took the pool's lock (see _first_read).
        number_id = _assign_pool_number(booking, avoid, pool_locked=first.sitter_number_id is None,
                                        cooloff_days=first.cooloff_days)
        if number_id is not None:
            return NumberChoice(number_id, POOL_LRU, True)
    number_id = front_desk_number_id(booking.org_id)
    if number_id is None or number_id in avoid or carries_open_thread_of(number_id, booking):
        return None  # nothing is shared silently: the thread waits for a number
    _mark_assigned(number_id)
    return NumberChoice(number_id, FRONT_DESK, True)
