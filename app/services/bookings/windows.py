"""Assignment windows: when a sitter may text a client, and how to say so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.localtime import format_datetime, format_time


@dataclass(frozen=True)
class ComposeState:
    """Whether compose is open, a reason code, and the sentence shown to the sitter."""

    is_open: bool
    reason: str  # open, not_started, ended, cancelled, not_confirmed, not_assigned, no_window
    text: str
    opens_at: datetime | None = None
    closes_at: datetime | None = None


def window_is_open(window, now: datetime) -> bool:
    """starts_at <= now < ends_at: the end is exclusive (end + grace is already closed)."""
    return window is not None and window.starts_at <= now < window.ends_at


def sitter_may_send(window, booking, sitter_id: int | None, now: datetime) -> bool:
    """The whole server-side rule: confirmed booking, this sitter's window, open now."""
    return (
        window is not None
        and booking is not None
        and sitter_id is not None
        and booking.status == "confirmed"
        and window.sitter_id == sitter_id
        and window_is_open(window, now)
    )


def describe_duration(minutes: int) -> str:
    """60 → 'one hour', 90 → '1 hour 30 minutes', 30 → '30 minutes'."""
    hours, mins = divmod(max(int(minutes), 0), 60)
    parts = []
    if hours:
        parts.append("one hour" if hours == 1 and not mins else f"{hours} hour{'s' if hours > 1 else ''}")
    if mins:
        parts.append(f"{mins} minute{'s' if mins > 1 else ''}")
    return " ".join(parts) or "0 minutes"


def describe_time_left(ends_at: datetime, now: datetime) -> str:
    """'1 h 5 min left', '12 min left', 'less than a minute left'."""
    seconds = int((ends_at - now).total_seconds())
    if seconds < 60:
        return "less than a minute left"
    hours, mins = divmod(seconds // 60, 60)
    return f"{hours} h {mins} min left" if hours else f"{mins} min left"


def _when(moment: datetime, now: datetime, tz: str) -> str:
    """'9:00 AM' on the same local day as now, else 'Thu 26 Nov, 9:00 AM'."""
    zone = ZoneInfo(tz)
    if moment.astimezone(zone).date() == now.astimezone(zone).date():
        return format_time(moment, tz)
    return format_datetime(moment, tz)


def _after_visit(window, booking, org) -> str:
    grace = (window.ends_at - booking.end_at) // timedelta(minutes=1)
    if grace == org.grace_minutes and grace > 0:
        return f", {describe_duration(grace)} after the visit"
    if grace == 0:
        return ", at the end of the visit"
    return ""


def compose_state(window, booking, org, now: datetime, sitter_id: int | None = None) -> ComposeState:
    """Open or closed, with the reason and the time in org time.

    e.g. "Messaging opens at 9:00 AM (visit start)" or
    "Messaging closed at 6:00 PM, one hour after the visit".
    """
    tz = org.timezone
    if window is None or booking is None:
        return ComposeState(False, "no_window", "Messaging is not set up for this visit yet")
    if sitter_id is not None and window.sitter_id != sitter_id:
        return ComposeState(False, "not_assigned", "This visit is assigned to another sitter")
    if booking.status == "cancelled" or window.closed_reason == "cancelled":
        return ComposeState(
            False,
            "cancelled",
            "Messaging closed: this booking was cancelled",
            closes_at=window.ends_at,
        )
    if booking.status != "confirmed":
        state = "completed" if booking.status == "completed" else "not confirmed yet"
        return ComposeState(False, "not_confirmed", f"Messaging is closed: this booking is {state}")
    if now < window.starts_at:
        return ComposeState(
            False,
            "not_started",
            f"Messaging opens at {_when(window.starts_at, now, tz)} (visit start)",
            opens_at=window.starts_at,
        )
    if now >= window.ends_at:
        return ComposeState(
            False,
            "ended",
            f"Messaging closed at {_when(window.ends_at, now, tz)}{_after_visit(window, booking, org)}",
            closes_at=window.ends_at,
        )
    return ComposeState(
        True,
        "open",
        f"Messaging open until {_when(window.ends_at, now, tz)} ({describe_time_left(window.ends_at, now)})",
        closes_at=window.ends_at,
    )
