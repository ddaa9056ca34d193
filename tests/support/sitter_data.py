"""Test data for the sitter side: a sitter's confirmed visit with its thread and window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.models import AssignmentWindow, Booking, Org, Sitter, Thread


@dataclass
class Visit:
    sitter: Sitter
    booking: Booking
    thread: Thread
    window: AssignmentWindow

    @property
    def user(self):
        return self.sitter.user


def make_visit(
    make,
    *,
    sitter: Sitter | None = None,
    start: datetime | None = None,
    hours: float = 1,
    status: str = "confirmed",
    org: Org | None = None,
    **booking_kw,
) -> Visit:
    """A booking for `sitter` with a thread on a pool number and a window ending one grace after."""
    org = org or make.default_org
    sitter = sitter or make.sitter(org=org)
    booking = make.booking(org=org, sitter=sitter, start=start, hours=hours, status=status, **booking_kw)
    thread = make.thread(booking=booking)
    window = make.window(thread, ends_at=booking.end_at + timedelta(minutes=org.grace_minutes))
    return Visit(sitter=sitter, booking=booking, thread=thread, window=window)
