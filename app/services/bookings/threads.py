"""Finding a booking's thread: keyed {org, client, booking}, as its unique constraint is."""

from __future__ import annotations

from app.models import Booking, Thread


def is_booking_thread(booking: Booking):
    """SQL condition for the booking's client_booking thread (uses the unique index)."""
    return booking_thread_key(booking.org_id, booking.client_id, booking.id)


def booking_thread_key(org_id, client_id, booking_id):
    """The same condition from its three values (plain values or bound parameters)."""
    return (Thread.org_id == org_id) & (Thread.client_id == client_id) & (Thread.booking_id == booking_id)
