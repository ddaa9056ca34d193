"""Pool pressure: when the numbers run short, owners are told what to add, and how often it happens.

Sizing rule (shown on the numbers page): a client with k visits at once by sitters without
their own number needs k pool numbers (or k - 1 and the front desk), because one number
carries at most one open conversation of a client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select

from app.clock import utcnow
from app.extensions import db
from app.localtime import format_datetime, local_date, local_day_bounds
from app.models import Alert, AssignmentWindow, Booking, Client, EventLog, MessageNumber, Org, Thread
from app.services.audit.events import raise_alert

WAITING = "waiting"  # Thread.number_reason of a thread waiting for a number
POOL_SHORT = "numbers.pool_short"
SIZING_RULE = ("A client with k visits at once by sitters without their own number needs k pool numbers "
               "(or k − 1 and the front desk): one number carries at most one open conversation of a client.")


def open_visits_of_client(booking: Booking) -> int:
    """How many open visits (booking pending or confirmed, window not ended) the client has,
    this booking included."""
    now = utcnow()
    return db.session.scalar(
        select(func.count(Thread.id))
        .join(Booking, Booking.id == Thread.booking_id)
        .outerjoin(AssignmentWindow, AssignmentWindow.thread_id == Thread.id)
        .where(Thread.org_id == booking.org_id, Thread.client_id == booking.client_id,
               Thread.scope == "client_booking", Booking.status.in_(("pending", "confirmed")),
               or_(AssignmentWindow.id.is_(None), AssignmentWindow.ends_at > now))
    ) or 1


def no_number_advice(booking: Booking, org: Org) -> str:
    """The owner alert for a thread that waits: what to add, and why."""
    client = db.session.get(Client, booking.client_id)
    when = format_datetime(booking.start_at, org.timezone)
    has_numbers = db.session.scalar(select(MessageNumber.id).where(
        MessageNumber.org_id == org.id, MessageNumber.active.is_(True)).limit(1)) is not None
    held = (f"Booking #{booking.id} is confirmed; its conversation waits without a number and its "
            "confirmation text goes out as soon as it gets one.")
    if not has_numbers:
        return f"Add a front-desk or pool number: {client.name}'s visit on {when} has no number to text from. {held}"
    visits = open_visits_of_client(booking)
    if org.front_desk_only:  # more numbers would not help: the mode texts from the front desk only
        return (f"{client.name} has {visits} visits at once ({when}) and front-desk-only mode gives a client one "
                f"conversation at a time on the front desk. {held} It gets the front desk when the other "
                "visit ends or is cancelled; to text both now, turn the mode off (Settings) and add a pool number.")
    return (f"Add a pool number: {client.name} has {visits} visits at once ({when}) and every free number "
            f"already carries one of them. {held}")


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())  # Monday


def alert_pool_short_once_a_week(booking: Booking, org: Org) -> None:
    """The first thread that waits in a week (org time, from Monday) raises one owner alert
    (none in front-desk-only mode: no pool is used, and the waiting thread's alert says why)."""
    if org.front_desk_only:
        return
    monday = week_start(local_date(utcnow(), org.timezone))
    since = local_day_bounds(monday, org.timezone)[0]
    told = db.session.scalar(select(Alert.id).where(Alert.org_id == org.id, Alert.kind == POOL_SHORT,
                                                    Alert.created_at >= since).limit(1))
    if told is None:
        raise_alert(org.id, POOL_SHORT,
                    f"The number pool ran short this week: booking #{booking.id} waits for a number. "
                    f"{SIZING_RULE} See Numbers for how often it happened.", booking_id=booking.id)


@dataclass(frozen=True)
class WeekPressure:
    week_of: date  # Monday, org time
    front_desk: int  # threads that fell back to the front desk
    waited: int  # bookings whose thread waited for a number


def pool_pressure(org_id: int, weeks: int = 8, now: datetime | None = None) -> list[WeekPressure]:
    """Per week (newest first), how many threads fell back to the front desk or waited."""
    org = db.session.get(Org, org_id)
    now = now or utcnow()
    this_monday = week_start(local_date(now, org.timezone))
    first_monday = this_monday - timedelta(weeks=weeks - 1)
    since = local_day_bounds(first_monday, org.timezone)[0]
    front_desk = db.session.execute(
        select(Thread.created_at).where(Thread.org_id == org_id, Thread.scope == "client_booking",
                                        Thread.number_reason == "front_desk", Thread.created_at >= since)
    ).scalars().all()
    waited = db.session.execute(
        select(EventLog.booking_id, func.min(EventLog.created_at))
        .where(EventLog.org_id == org_id, EventLog.kind == "booking.no_number", EventLog.created_at >= since)
        .group_by(EventLog.booking_id)
    ).all()
    counts: dict[date, list[int]] = {first_monday + timedelta(weeks=i): [0, 0] for i in range(weeks)}
    for created in front_desk:
        counts.setdefault(week_start(local_date(created, org.timezone)), [0, 0])[0] += 1
    for _, created in waited:
        counts.setdefault(week_start(local_date(created, org.timezone)), [0, 0])[1] += 1
    return [WeekPressure(monday, *counts[monday]) for monday in sorted(counts, reverse=True)
            if first_monday <= monday <= this_monday]


def waiting_threads(org_id: int) -> list[tuple[Thread, Booking]]:
    """Confirmed bookings whose thread waits for a number, earliest visit first."""
    return db.session.execute(
        select(Thread, Booking).join(Booking, Booking.id == Thread.booking_id)
        .where(Thread.org_id == org_id, Thread.message_number_id.is_(None), Booking.status == "confirmed")
        .order_by(Booking.start_at, Booking.id)
    ).all()
