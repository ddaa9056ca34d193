"""Finding a booking's thread: keyed {org, client, booking}, as its unique constraint is."""

from __future__ import annotations

from app.models import Booking, Thread


def is_booking_thread(booking: Booking):
    """SQL condition for the booking's client_booking thread (uses the unique index)."""
    return ((Thread.org_id == booking.org_id) & (Thread.client_id == booking.client_id)
            & (Thread.booking_id == booking.id))
