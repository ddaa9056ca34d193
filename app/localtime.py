"""Org-local calendar days: the one place that turns "today in the org's timezone" into UTC bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local_date(when: datetime, tz: str) -> date:
    """The org-local calendar date of an aware instant."""
    return when.astimezone(ZoneInfo(tz)).date()


def local_day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """The UTC instants where an org-local calendar day starts and ends (23 or 25 h across DST)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def to_org_time(value: datetime | None, tz: str) -> datetime | None:
    return value.astimezone(ZoneInfo(tz)) if value is not None else None


def format_time(value: datetime | None, tz: str) -> str:
    """'9:00 AM' in the org's timezone."""
    local = to_org_time(value, tz)
    return local.strftime("%-I:%M %p") if local else ""


def format_datetime(value: datetime | None, tz: str) -> str:
    """'Wed 25 Nov, 9:00 AM' in the org's timezone."""
    local = to_org_time(value, tz)
    return local.strftime("%a %-d %b, %-I:%M %p") if local else ""


def with_their_time(value: datetime, tz: str, their_tz: str, fmt=format_time, *, label: str = "",
                    their_label: str = "their time") -> str:
    """'5:00 AM (8:00 AM their time)': org time, and the client's beside it when their zone differs
    (the pages' `their_time` macro does the same). The labels let a sentence put the client's time
    first, as the office's quiet-hours warning does: '8:00 AM their time (5:00 AM yours)'."""
    text = f"{fmt(value, tz)} {label}".rstrip()
    return text if their_tz == tz else f"{text} ({fmt(value, their_tz)} {their_label})"


def zone_where_it_is(local_hour: int, utc_hour: int) -> str:
    """An Etc/GMT zone in which it is now `local_hour` (Etc/GMT-3 is UTC+3: POSIX signs)."""
    offset = (local_hour - utc_hour + 12) % 24 - 12
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"
