"""The schedule: a day or week calendar for owners (by sitter, unassigned and pending flagged),
and a sitter's next seven days. Read-only; each view is a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.localtime import local_date, local_day_bounds
from app.models import Booking, Org, Sitter, Thread
from app.services.messaging.sitter_messages import sitter_for_user
from app.services.people.care_notes import sitter_text
from app.services.people.time_off import days_off, time_off_of

UNASSIGNED = 0  # the calendar's column for visits with no sitter
UPCOMING_DAYS = 7


@dataclass(frozen=True)
class CalendarVisit:
    booking_id: int
    client_name: str
    pets: str
    service: str
    start_at: datetime
    end_at: datetime
    status: str
    flags: tuple[str, ...]  # "unassigned", "pending"
    sitter_id: int | None = None  # for the reassign select


@dataclass
class CalendarRow:
    sitter_id: int  # UNASSIGNED for no sitter
    name: str
    days: dict[date, list[CalendarVisit]] = field(default_factory=dict)
    off: set[date] = field(default_factory=set)  # the sitter's time off among the days shown

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.days.values())


@dataclass
class Calendar:
    view: str  # day or week
    first_day: date
    days: list[date]
    rows: list[CalendarRow]
    flagged: int  # visits needing the owner: unassigned or pending
    today: date  # in the org's timezone
    choices: list[tuple[int, str]] = field(default_factory=list)  # active sitters a visit can be given to

    @property
    def previous(self) -> date:
        return self.first_day - timedelta(days=len(self.days))

    @property
    def next(self) -> date:
        return self.first_day + timedelta(days=len(self.days))


def week_start(day: date) -> date:
    """The Monday of the week `day` is in."""
    return day - timedelta(days=day.weekday())


def calendar(org: Org, view: str, day: date | None = None) -> Calendar:
    """The org's visits for one local day or one week (seven days from the day, or from its Monday:
    the org's calendar_week_start), one row per active sitter
    (those with visits in range too, even if inactive) plus an "Unassigned" row first."""
    today = local_date(utcnow(), org.timezone)
    day = day or today
    if view == "week":  # the next seven days from the day shown, or its Monday-to-Sunday week
        first, count = (day if org.calendar_week_start == "today" else week_start(day)), 7
    else:
        view, first, count = "day", day, 1
    days = [first + timedelta(days=i) for i in range(count)]
    start, end = local_day_bounds(days[0], org.timezone)[0], local_day_bounds(days[-1], org.timezone)[1]
    bookings = db.session.scalars(
        select(Booking).where(Booking.org_id == org.id, Booking.status != "cancelled",
                              Booking.start_at < end, Booking.end_at > start)
        .order_by(Booking.start_at, Booking.id)
    ).unique().all()
    sitters = db.session.scalars(
        select(Sitter).where(Sitter.org_id == org.id,
                             Sitter.active.is_(True) | Sitter.id.in_({b.sitter_id for b in bookings if b.sitter_id}))
        .order_by(Sitter.name, Sitter.id)
    ).all()
    rows = {UNASSIGNED: CalendarRow(UNASSIGNED, "Unassigned", {d: [] for d in days})}
    away = days_off([s.id for s in sitters], days[0], days[-1])
    for sitter in sitters:
        rows[sitter.id] = CalendarRow(sitter.id, sitter.name, {d: [] for d in days}, away[sitter.id])
    flagged = 0
    for booking in bookings:
        flags = tuple(f for f, on in (("unassigned", booking.sitter_id is None),
                                      ("pending", booking.status == "pending")) if on)
        flagged += bool(flags)
        visit = CalendarVisit(booking.id, booking.client.name, booking.client.pet_names, booking.service,
                              booking.start_at, booking.end_at, booking.status, flags, booking.sitter_id)
        local_day = max(local_date(booking.start_at, org.timezone), days[0])  # began before the range: first day
        rows[booking.sitter_id or UNASSIGNED].days[local_day].append(visit)
    return Calendar(view, first, days, list(rows.values()), flagged, today,
                    [(s.id, s.name) for s in sitters if s.active])


@dataclass(frozen=True)
class UpcomingVisit:
    booking_id: int
    thread_id: int | None  # None until confirmed (no conversation yet)
    client_first_name: str
    pets: str
    area: str
    service: str
    start_at: datetime
    end_at: datetime
    status: str
    number_waiting: bool = False  # confirmed, but its conversation waits for a number (no window yet)


def sitter_upcoming(user_id: int, now: datetime | None = None) -> list[UpcomingVisit]:
    """This sitter's visits of the seven days after today (pending and confirmed; today has its own
    list), as view rows: no client object or number reaches the sitter's template; typed text
    passes sitter_text."""
    now = now or utcnow()
    sitter = sitter_for_user(user_id)
    tz = db.session.get(Org, sitter.org_id).timezone
    after_today = local_day_bounds(local_date(now, tz), tz)[1]
    rows = db.session.execute(
        select(Booking, Thread.id, Thread.message_number_id)
        .outerjoin(Thread, (Thread.booking_id == Booking.id) & (Thread.scope == "client_booking"))
        .where(Booking.org_id == sitter.org_id, Booking.sitter_id == sitter.id,
               Booking.status.in_(("pending", "confirmed")), Booking.start_at >= after_today,
               Booking.start_at < local_day_bounds(local_date(now, tz) + timedelta(days=UPCOMING_DAYS), tz)[1])
        .order_by(Booking.start_at, Booking.id)
    ).unique().all()
    return [_upcoming(b, thread_id, number_id) for b, thread_id, number_id in rows]


def _upcoming(booking: Booking, thread_id: int | None, number_id: int | None) -> UpcomingVisit:
    waiting = thread_id is not None and number_id is None and booking.status == "confirmed"
    client = booking.client
    return UpcomingVisit(booking.id, None if waiting else thread_id, sitter_text(client.first_name),
                         sitter_text(client.pet_names), sitter_text(client.area or ""), sitter_text(booking.service),
                         booking.start_at, booking.end_at, booking.status, waiting)


def sitter_waiting_today(user_id: int, now: datetime | None = None, sitter: Sitter | None = None
                         ) -> list[UpcomingVisit]:
    """This sitter's confirmed visits of today (not over yet) whose conversation waits for a number
    (app.services.numbers.waiting): no window and no thread page until the office adds one, so the
    dashboard's Today list (built from windows) cannot show them. No client number in the rows."""
    now = now or utcnow()
    sitter = sitter or sitter_for_user(user_id)
    tz = db.session.get(Org, sitter.org_id).timezone
    rows = db.session.execute(
        select(Booking, Thread.id, Thread.message_number_id)
        .join(Thread, (Thread.booking_id == Booking.id) & (Thread.scope == "client_booking"))
        .where(Booking.org_id == sitter.org_id, Booking.sitter_id == sitter.id, Booking.status == "confirmed",
               Thread.message_number_id.is_(None), Booking.end_at > now,
               Booking.start_at < local_day_bounds(local_date(now, tz), tz)[1])
        .order_by(Booking.start_at, Booking.id)
    ).unique().all()
    return [_upcoming(b, thread_id, number_id) for b, thread_id, number_id in rows]


def sitter_time_off(user_id: int, now: datetime | None = None) -> list[tuple[date, date, str]]:
    """This sitter's own time off from today on: (first day, last day, note), for their pages."""
    sitter = sitter_for_user(user_id)
    today = local_date(now or utcnow(), db.session.get(Org, sitter.org_id).timezone)
    return [(row.first_day, row.last_day, sitter_text(row.note)) for row in time_off_of(sitter.id, since=today)]
