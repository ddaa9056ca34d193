"""A sitter's time off: the days they are away (org-local dates). Owners and staff add and remove
them; the calendar greys them; assigning the sitter a visit on one of them is a warning in the
confirm step, never a refusal (the owner may know better: a half day, a swap agreed by phone)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.clock import utcnow
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.localtime import local_date
from app.models import Sitter, SitterTimeOff
from app.services.audit.events import record_event

# Longer than any holiday; beyond it a typo in the year is likelier than a real absence.
MAX_DAYS = 366


def add_time_off(org_id: int, sitter_id: int, first_day: date, last_day: date | None, note: str = "",
                 *, user_id: int | None = None, actor: str = "system") -> SitterTimeOff:
    """Days away, first_day to last_day inclusive (one day when last_day is empty) (commits)."""
    sitter = db.session.get(Sitter, sitter_id)
    if sitter is None or sitter.org_id != org_id:
        raise NotFound("Sitter not found")
    if first_day is None:
        raise InvalidInput("Say the first day away.", field="first_day")
    last_day = last_day or first_day
    if last_day < first_day:
        raise InvalidInput("The last day is before the first.", field="last_day")
    if (last_day - first_day).days + 1 > MAX_DAYS:
        raise InvalidInput(f"Time off is at most {MAX_DAYS} days at once.", field="last_day")
    note = " ".join((note or "").split())
    if len(note) > 200:
        raise InvalidInput("Keep the note under 200 characters.", field="note")
    row = SitterTimeOff(org_id=org_id, sitter_id=sitter.id, first_day=first_day, last_day=last_day, note=note,
                        created_by_user_id=user_id)
    db.session.add(row)
    db.session.flush()
    record_event(org_id, "sitter.time_off_added", sitter_id=sitter.id, actor=actor, time_off_id=row.id,
                 first_day=first_day.isoformat(), last_day=last_day.isoformat())
    db.session.commit()
    return row


def remove_time_off(org_id: int, sitter_id: int, time_off_id: int, actor: str = "system") -> None:
    row = db.session.get(SitterTimeOff, time_off_id)
    if row is None or row.org_id != org_id or row.sitter_id != sitter_id:
        raise NotFound("We could not find that time off.")
    record_event(org_id, "sitter.time_off_removed", sitter_id=sitter_id, actor=actor, time_off_id=row.id,
                 first_day=row.first_day.isoformat(), last_day=row.last_day.isoformat())
    db.session.delete(row)
    db.session.commit()


def time_off_of(sitter_id: int, since: date | None = None) -> list[SitterTimeOff]:
    """The sitter's time off, in date order (ending on or after `since` when given)."""
    query = select(SitterTimeOff).where(SitterTimeOff.sitter_id == sitter_id)
    if since is not None:
        query = query.where(SitterTimeOff.last_day >= since)
    return list(db.session.scalars(query.order_by(SitterTimeOff.first_day, SitterTimeOff.id)))


def days_off(sitter_ids: Iterable[int], first: date, last: date) -> dict[int, set[date]]:
    """Each sitter's days away between first and last (inclusive): one query."""
    ids = {i for i in sitter_ids if i}
    found: dict[int, set[date]] = {i: set() for i in ids}
    if not ids:
        return found
    rows = db.session.scalars(select(SitterTimeOff).where(
        SitterTimeOff.sitter_id.in_(ids), SitterTimeOff.first_day <= last, SitterTimeOff.last_day >= first))
    for row in rows:
        day = max(row.first_day, first)
        while day <= min(row.last_day, last):
            found[row.sitter_id].add(day)
            day += timedelta(days=1)
    return found


def visit_days(start_at: datetime, end_at: datetime, tz: str) -> list[date]:
    """The org-local dates a visit touches (an overnight visit touches two)."""
    first, last = local_date(start_at, tz), local_date(end_at - timedelta(microseconds=1), tz)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def away_days(sitter_id: int | None, spans: list[tuple[datetime, datetime]], tz: str) -> list[list[date]]:
    """For each (start, end) visit, the days of it the sitter is away (empty lists when none)."""
    if not sitter_id or not spans:
        return [[] for _ in spans]
    per_visit = [visit_days(s, e, tz) for s, e in spans]
    off = days_off([sitter_id], min(d[0] for d in per_visit), max(d[-1] for d in per_visit))[sitter_id]
    return [[d for d in days if d in off] for days in per_visit]


def format_days(days: Iterable[date]) -> str:
    """'Mon 14 Dec, Wed 16 Dec 2026' style: short, and the year only when it is not this one."""
    this_year = utcnow().year
    return ", ".join(d.strftime("%a %-d %b") + (f" {d.year}" if d.year != this_year else "") for d in sorted(days))


def away_warning(sitter_id: int | None, spans: list[tuple[datetime, datetime]], tz: str) -> str | None:
    """One sentence for a confirm step when the sitter is away on any of these visits' days, else None."""
    found = sorted({d for days in away_days(sitter_id, spans, tz) for d in days})
    if not found:
        return None
    sitter = db.session.get(Sitter, sitter_id)
    return (f"Warning: {sitter.name} is away (time off) on {format_days(found)}. You can still assign them; "
            "check with them first.")
