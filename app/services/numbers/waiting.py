"""Giving waiting threads a number once one is added or freed (and sending what was held)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from app.extensions import db
from app.models import Booking, Thread
from app.services.bookings.confirmed import on_booking_confirmed

log = logging.getLogger(__name__)


def assign_waiting_threads(org_id: int | None = None, actor: str = "system", limit: int = 500) -> int:
    """Run the confirmed handler again for every confirmed booking whose thread waits for a
    number (earliest visit first): each gets one if one is free now, its window, and its
    confirmation text. Returns how many got a number. Each booking is its own transaction."""
    query = (select(Booking.id).join(Thread, Thread.booking_id == Booking.id)
             .where(Thread.message_number_id.is_(None), Thread.scope == "client_booking",
                    Booking.status == "confirmed")
             .order_by(Booking.start_at, Booking.id).limit(limit))
    if org_id is not None:
        query = query.where(Booking.org_id == org_id)
    booking_ids = db.session.scalars(query).all()
    db.session.commit()  # end the read: each booking below is its own locked transaction
    given = 0
    for booking_id in booking_ids:
        result = on_booking_confirmed(booking_id, actor=actor)
        if result.number_assigned:
            given += 1
    if given:
        log.info("waiting threads: %d got a number", given)
    return given
