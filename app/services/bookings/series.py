"""Recurring visits: a repeat rule becomes one ordinary pending booking per occurrence (one series),
and a series is changed or cancelled from one occurrence onwards through the ordinary lifecycle."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.clock import utcnow
from app.errors import InvalidInput
from app.extensions import db
from app.models import Booking
from app.persistence.locking import lock_row
from app.services.audit.events import record_event
from app.services.bookings.editing import _check_people, _check_price, check_times, update_booking_details
from app.services.bookings.lifecycle import LifecycleResult, cancel_booking, change_sitter, reschedule_booking

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A year of daily visits is more than any real rule; beyond it a typo (a wrong year) is likelier.
MAX_OCCURRENCES = 120
MAX_EVERY_WEEKS = 12
LIVE_STATUSES = ("pending", "confirmed")


@dataclass(frozen=True)
class RepeatRule:
    """Weekdays (mon…sun), every N weeks, until a date (inclusive, org-local) and/or for N visits."""

    days: tuple[str, ...]
    every: int = 1
    until: date | None = None
    count: int | None = None


@dataclass(frozen=True)
class Occurrence:
    start_at: datetime
    end_at: datetime


@dataclass
class Clash:
    occurrence: Occurrence
    booking: Booking


@dataclass
class SeriesResult:
    series_id: str
    booking_ids: list[int] = field(default_factory=list)


def occurrences(start_at: datetime, end_at: datetime, tz: str, rule: RepeatRule) -> list[Occurrence]:
    """The visits a rule makes, from the first visit's date on, at the same wall-clock time (across DST).

    The first visit's own date counts only when its weekday is one of the rule's days.
    """
    days = {WEEKDAYS.index(d) for d in rule.days if d in WEEKDAYS}
    if not days:
        raise InvalidInput("Choose the weekdays it repeats on.", field="repeat_days")
    if not 1 <= rule.every <= MAX_EVERY_WEEKS:
        raise InvalidInput(f"Repeat every 1 to {MAX_EVERY_WEEKS} weeks.", field="repeat_every")
    if rule.until is None and rule.count is None:
        raise InvalidInput("Say until when it repeats (or for how many visits).", field="repeat_until")
    if rule.count is not None and not 1 <= rule.count <= MAX_OCCURRENCES:
        raise InvalidInput(f"A series has 1 to {MAX_OCCURRENCES} visits.", field="repeat_count")
    zone = ZoneInfo(tz)
    first_start = start_at.astimezone(zone).replace(tzinfo=None)
    length = end_at.astimezone(zone).replace(tzinfo=None) - first_start
    if rule.until is not None and rule.until < first_start.date():
        raise InvalidInput("The repeat ends before the first visit.", field="repeat_until")
    # Weeks count from the first visit's week: "every 2 weeks on Monday" from a Thursday starts next Monday.
    first_day = next(first_start.date() + timedelta(days=n) for n in range(7)
                     if (first_start.date() + timedelta(days=n)).weekday() in days)
    week_zero = first_day - timedelta(days=first_day.weekday())
    found: list[Occurrence] = []
    day = first_day
    while rule.until is None or day <= rule.until:
        if rule.count is not None and len(found) >= rule.count:
            break
        if day.weekday() in days and ((day - week_zero).days // 7) % rule.every == 0:
            if len(found) >= MAX_OCCURRENCES:
                raise InvalidInput(f"That makes more than {MAX_OCCURRENCES} visits; end the repeat sooner.",
                                   field="repeat_until")
            local = datetime.combine(day, first_start.time())
            found.append(Occurrence(local.replace(tzinfo=zone).astimezone(UTC),
                                    (local + length).replace(tzinfo=zone).astimezone(UTC)))
        day += timedelta(days=1)
    if not found:
        raise InvalidInput("No visit falls on the chosen weekdays before the repeat ends.", field="repeat_days")
    return found


def plan_series(org_id: int, *, client_id: int, sitter_id: int | None, start_at: datetime, end_at: datetime,
                price_cents: int, tz: str, rule: RepeatRule) -> list[Occurrence]:
    """Check a series as create_series will (read-only): the people, the price, and every visit's times."""
    _check_people(org_id, client_id, sitter_id)
    check_times(start_at, end_at)
    _check_price(price_cents)
    found = occurrences(start_at, end_at, tz, rule)
    for occurrence in found:
        check_times(occurrence.start_at, occurrence.end_at)
    return found


def clashes(org_id: int, sitter_id: int | None, planned: list[Occurrence],
            ignore_series: str | None = None, ignore_ids: Collection[int] = ()) -> list[Clash]:
    """The sitter's other live visits that overlap a planned one (one query over the series' span);
    the bookings being moved (ignore_ids) and their own series (ignore_series) are not "other"."""
    if not sitter_id or not planned:
        return []
    conditions = [Booking.org_id == org_id, Booking.sitter_id == sitter_id, Booking.status.in_(LIVE_STATUSES),
                  Booking.start_at < max(o.end_at for o in planned),
                  Booking.end_at > min(o.start_at for o in planned)]
    if ignore_series is not None:
        conditions.append((Booking.series_id.is_(None)) | (Booking.series_id != ignore_series))
    if ignore_ids:
        conditions.append(Booking.id.not_in(list(ignore_ids)))
    others = db.session.scalars(select(Booking).where(*conditions).order_by(Booking.start_at)).all()
    return [Clash(o, b) for o in planned for b in others if b.start_at < o.end_at and b.end_at > o.start_at]


def create_series(org_id: int, *, client_id: int, sitter_id: int | None, service: str, start_at: datetime,
                  end_at: datetime, price_cents: int, tz: str, rule: RepeatRule, notes: str | None = None,
                  actor: str = "system") -> SeriesResult:
    """One pending booking per occurrence, all in one transaction (all made or none)."""
    planned = plan_series(org_id, client_id=client_id, sitter_id=sitter_id, start_at=start_at, end_at=end_at,
                          price_cents=price_cents, tz=tz, rule=rule)
    result = SeriesResult(series_id=uuid.uuid4().hex)
    bookings = [Booking(org_id=org_id, client_id=client_id, sitter_id=sitter_id or None,
                        service=(service or "").strip() or "Drop-in visit", start_at=o.start_at, end_at=o.end_at,
                        price_cents=price_cents, notes=(notes or "").strip() or None, status="pending",
                        series_id=result.series_id) for o in planned]
    db.session.add_all(bookings)
    db.session.flush()
    for booking in bookings:
        record_event(org_id, "booking.created", booking_id=booking.id, sitter_id=booking.sitter_id, actor=actor,
                     series_id=result.series_id, occurrences=len(bookings))
        result.booking_ids.append(booking.id)
    db.session.commit()
    return result


def series_from(booking_id: int) -> list[Booking]:
    """This booking and its series' later live occurrences, in time order (only itself when not in a series)."""
    booking = db.session.get(Booking, booking_id)
    if booking.series_id is None:
        return [booking] if booking.status in LIVE_STATUSES else []
    return list(db.session.scalars(select(Booking).where(
        Booking.org_id == booking.org_id, Booking.series_id == booking.series_id,
        Booking.start_at >= booking.start_at, Booking.status.in_(LIVE_STATUSES)).order_by(Booking.start_at)))


def _ids_from(booking_id: int) -> list[int]:
    ids = [b.id for b in series_from(booking_id)]
    db.session.commit()  # end the read: each lifecycle call locks its row as its first statement
    return ids


def cancel_series_from(booking_id: int, reason: str, actor: str = "system") -> list[LifecycleResult]:
    """Cancel this occurrence and every later live one, each through cancel_booking (its texts and runs)."""
    return [cancel_booking(i, reason, actor=actor) for i in _ids_from(booking_id)]


def change_sitter_from(booking_id: int, sitter_id: int | None, actor: str = "system") -> list[LifecycleResult]:
    """Give this occurrence and every later live one to another sitter, each through change_sitter
    (the first refusal, e.g. an inactive sitter, stops it before anything changed)."""
    return [change_sitter(i, sitter_id, actor=actor) for i in _ids_from(booking_id)]


@dataclass(frozen=True)
class PlannedEdit:
    """One occurrence's change in a series edit: its times now and after, its price now and after."""

    booking_id: int
    status: str
    sitter_id: int | None
    start_at: datetime
    end_at: datetime
    new_start_at: datetime
    new_end_at: datetime
    price_cents: int
    new_price_cents: int  # the same as price_cents when it keeps its price (paid)
    paid: bool

    @property
    def times_change(self) -> bool:
        return (self.start_at, self.end_at) != (self.new_start_at, self.new_end_at)

    @property
    def price_changes(self) -> bool:
        return self.price_cents != self.new_price_cents

    @property
    def changes(self) -> bool:
        return self.times_change or self.price_changes


@dataclass
class SeriesEditPlan:
    edits: list[PlannedEdit] = field(default_factory=list)  # every occurrence from here that may change
    started: list[Booking] = field(default_factory=list)  # already started: left as they are


def _on_day(day: date, start_time: time, end_time: time, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The visit's new span on its own local day (ending the next day when the end time is earlier)."""
    start = datetime.combine(day, start_time)
    end = datetime.combine(day + timedelta(days=1) if end_time < start_time else day, end_time)
    return start.replace(tzinfo=zone).astimezone(UTC), end.replace(tzinfo=zone).astimezone(UTC)


def plan_series_edit(booking_id: int, *, start_time: time, end_time: time, price_cents: int,
                     tz: str) -> SeriesEditPlan:
    """What editing the series from this occurrence on would change (read-only).

    Each live occurrence from here keeps its own date and takes the new times of day and price,
    except: one already started is left alone, and a paid one keeps the price it was paid at
    (its times still move, as a reschedule of a paid booking does). A new time already past refuses.
    """
    _check_price(price_cents)
    if start_time == end_time:
        raise InvalidInput("The end must be after the start.", field="end_time")
    zone, now = ZoneInfo(tz), utcnow()
    plan = SeriesEditPlan()
    for booking in series_from(booking_id):
        if booking.start_at <= now:
            plan.started.append(booking)
            continue
        new_start, new_end = _on_day(booking.start_at.astimezone(zone).date(), start_time, end_time, zone)
        if new_start < now and (new_start, new_end) != (booking.start_at, booking.end_at):
            raise InvalidInput(f"Booking #{booking.id} would then start in the past; edit from a later visit.",
                               field="start_time")
        plan.edits.append(planned_move(booking, new_start, new_end, price_cents))
    return plan


def planned_move(booking: Booking, new_start_at: datetime, new_end_at: datetime,
                 new_price_cents: int | None = None) -> PlannedEdit:
    """A booking's move to new times (and price, unless it is paid: that price stays), as a series edit
    plans each occurrence's; a single reschedule is a move of one."""
    paid = booking.paid_at is not None
    keep = paid or new_price_cents is None
    return PlannedEdit(booking.id, booking.status, booking.sitter_id, booking.start_at, booking.end_at,
                       new_start_at, new_end_at, booking.price_cents,
                       booking.price_cents if keep else new_price_cents, paid)


@dataclass
class SeriesEditResult:
    booking_id: int
    times_changed: bool = False
    price_changed: bool = False


def edit_series_from(booking_id: int, *, start_time: time, end_time: time, price_cents: int, tz: str,
                     actor: str = "system") -> list[SeriesEditResult]:
    """Give this occurrence and every later live one the new times of day and price (see
    plan_series_edit). A pending one is edited in place; a confirmed one is moved by
    reschedule_booking (its window, scheduled texts and the sitter's notice follow, exactly as a
    single reschedule) and its price saved by update_booking_details. Each booking is its own
    locked transaction, as in cancel_series_from."""
    plan = plan_series_edit(booking_id, start_time=start_time, end_time=end_time, price_cents=price_cents, tz=tz)
    db.session.commit()  # end the read: each change below locks its row as its first statement
    return [_apply_edit(edit, actor) for edit in plan.edits if edit.changes]


def _apply_edit(edit: PlannedEdit, actor: str) -> SeriesEditResult:
    result = SeriesEditResult(edit.booking_id)
    booking = lock_row(Booking, edit.booking_id)
    if booking is None or booking.status not in LIVE_STATUSES:
        db.session.commit()  # cancelled or completed meanwhile: left alone
        return result
    # Paid meanwhile: the price stays what was paid.
    new_price = booking.price_cents if booking.paid_at is not None else edit.new_price_cents
    if booking.status == "pending":
        booking.start_at, booking.end_at = edit.new_start_at, edit.new_end_at
        result.times_changed = edit.times_change
        result.price_changed, booking.price_cents = new_price != booking.price_cents, new_price
        record_event(booking.org_id, "booking.edited", booking_id=booking.id, sitter_id=booking.sitter_id,
                     actor=actor, series_id=booking.series_id)
        db.session.commit()
        return result
    service, notes, price_changes = booking.service, booking.notes, new_price != booking.price_cents
    db.session.commit()  # reschedule_booking takes the row lock itself
    if edit.times_change:
        result.times_changed = reschedule_booking(booking.id, edit.new_start_at, edit.new_end_at,
                                                  actor=actor).changed
    if price_changes:
        update_booking_details(booking.id, service=service, price_cents=new_price, notes=notes, actor=actor)
        result.price_changed = True
    return result
