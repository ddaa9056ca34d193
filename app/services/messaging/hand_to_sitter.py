""""Hand to sitter": the office forwards an inbox message's text, redacted, to the assigned sitter's
alerts (the sitter never gets the client's number or e-mail), and the message is marked handled."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.clock import utcnow
from app.errors import Conflict
from app.extensions import db
from app.models import Booking, Message, Thread
from app.privacy import redact_for_sitter
from app.services.audit.events import raise_alert, record_event

LIVE = ("pending", "confirmed")


def unhandled_inbox_count(org_id: int) -> int:
    """Inbox messages nobody has handled yet (the owner nav's count)."""
    return db.session.scalar(select(func.count(Message.id)).where(
        Message.org_id == org_id, Message.owner_inbox.is_(True), Message.handled_at.is_(None))) or 0


def handing_target(message_id: int) -> Booking | None:
    """The visit whose sitter gets the message: the thread's own booking, or (a front-desk thread) the
    client's current or next visit with a sitter; None when there is no such visit."""
    message = db.session.get(Message, message_id)
    thread = db.session.get(Thread, message.thread_id) if message.thread_id else None
    if thread is None:
        return None
    if thread.booking_id is not None:
        booking = db.session.get(Booking, thread.booking_id)
        return booking if booking.sitter_id and booking.status in LIVE and booking.end_at > utcnow() else None
    return db.session.scalars(select(Booking).where(
        Booking.org_id == message.org_id, Booking.client_id == thread.client_id, Booking.sitter_id.is_not(None),
        Booking.status.in_(LIVE), Booking.end_at > utcnow()).order_by(Booking.start_at).limit(1)).first()


def sitter_alert_text(message: Message, booking: Booking) -> str:
    return (f"From the office, about {redact_for_sitter(booking.client.first_name)}'s visit (booking "
            f"#{booking.id}): “{redact_for_sitter(message.body)}”")


@dataclass
class HandedResult:
    sitter_name: str
    booking_id: int
    alert_id: int


def hand_to_sitter(message_id: int, user_id: int) -> HandedResult:
    """Raise a sitter alert with the redacted text and mark the message handled; Conflict when no
    sitter is assigned to a current or coming visit of this client. Commits."""
    message = db.session.get(Message, message_id)
    booking = handing_target(message_id)
    if booking is None:
        raise Conflict("No sitter has a current or coming visit with this client, so there is no one to hand it to.")
    alert = raise_alert(message.org_id, "inbox.handed", sitter_alert_text(message, booking),
                        sitter_id=booking.sitter_id, booking_id=booking.id, thread_id=message.thread_id,
                        message_id=message.id)
    message.handled_at = message.handled_at or utcnow()
    record_event(message.org_id, "inbox.handed_to_sitter", booking_id=booking.id, thread_id=message.thread_id,
                 sitter_id=booking.sitter_id, actor=f"user:{user_id}", message_id=message.id)
    db.session.commit()
    return HandedResult(booking.sitter.name, booking.id, alert.id)
