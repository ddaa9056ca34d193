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
