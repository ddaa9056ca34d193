"""Creating and editing bookings by hand (confirming, cancelling and moving live in lifecycle)."""

from __future__ import annotations

from datetime import datetime

from app.clock import utcnow
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Booking, Client, Sitter
from app.services.audit.events import record_event
from app.services.visits.exclusions import ensure_sitter_allowed


def check_times(start_at: datetime, end_at: datetime, *, allow_past_start: bool = False) -> None:
    """End after start, and a new booking cannot start in the past."""
    if start_at.tzinfo is None or end_at.tzinfo is None:
        raise ValueError("booking times must be aware")
    if end_at <= start_at:
        raise InvalidInput("The end must be after the start.", field="end_at")
    if not allow_past_start and start_at < utcnow():
        raise InvalidInput("This start time is in the past.", field="start_at")


def _check_people(org_id: int, client_id: int, sitter_id: int | None) -> None:
    client = db.session.get(Client, client_id) if client_id else None
    if client is None or client.org_id != org_id:
        raise InvalidInput("Choose a client.", field="client_id")
    if sitter_id:
        sitter = db.session.get(Sitter, sitter_id)
        if sitter is None or sitter.org_id != org_id or not sitter.active:
            raise InvalidInput("Choose an active sitter.", field="sitter_id")
    ensure_sitter_allowed(client_id, sitter_id)


def _check_price(price_cents: int) -> None:
    if price_cents < 0:
        raise InvalidInput("The price cannot be negative.", field="price")


def create_booking(org_id: int, *, client_id: int, sitter_id: int | None, service: str, start_at: datetime,
                   end_at: datetime, price_cents: int, notes: str | None = None,
                   actor: str = "system") -> Booking:
    """A pending booking; it becomes a conversation once confirmed (paid or by hand)."""
    _check_people(org_id, client_id, sitter_id)
    check_times(start_at, end_at)
    _check_price(price_cents)
    booking = Booking(org_id=org_id, client_id=client_id, sitter_id=sitter_id or None,
                      service=(service or "").strip() or "Drop-in visit", start_at=start_at, end_at=end_at,
                      price_cents=price_cents, notes=(notes or "").strip() or None, status="pending")
    db.session.add(booking)
    db.session.flush()
    record_event(org_id, "booking.created", booking_id=booking.id, sitter_id=booking.sitter_id, actor=actor)
    db.session.commit()
    return booking


def update_pending_booking(booking_id: int, *, client_id: int, sitter_id: int | None, service: str,
                           start_at: datetime, end_at: datetime, price_cents: int, notes: str | None = None,
                           actor: str = "system") -> Booking:
    """Edit everything on a pending booking (nothing has been sent for it yet)."""
    booking = db.session.get(Booking, booking_id)
    if booking.status != "pending":
        raise Conflict("Only pending bookings can be edited freely; use change sitter or reschedule.")
    _check_people(booking.org_id, client_id, sitter_id)
    unchanged_times = (start_at, end_at) == (booking.start_at, booking.end_at)
    check_times(start_at, end_at, allow_past_start=unchanged_times)
    _check_price(price_cents)
    booking.client_id, booking.sitter_id = client_id, sitter_id or None
    booking.service = (service or "").strip() or "Drop-in visit"
    booking.start_at, booking.end_at, booking.price_cents = start_at, end_at, price_cents
    booking.notes = (notes or "").strip() or None
    record_event(booking.org_id, "booking.edited", booking_id=booking.id, sitter_id=booking.sitter_id,
                 actor=actor)
    db.session.commit()
    return booking


def update_booking_details(booking_id: int, *, service: str, price_cents: int, notes: str | None = None,
                           actor: str = "system") -> Booking:
    """Service, price and notes may change at any status short of cancelled."""
    booking = db.session.get(Booking, booking_id)
    if booking.status == "cancelled":
        raise Conflict("This booking is cancelled.")
    _check_price(price_cents)
    booking.service = (service or "").strip() or "Drop-in visit"
    booking.price_cents = price_cents
    booking.notes = (notes or "").strip() or None
    record_event(booking.org_id, "booking.edited", booking_id=booking.id, actor=actor)
    db.session.commit()
    return booking
