"""Automation texts leave from the booking thread's masking number (front desk if none)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.errors import DomainError, NotFound
from app.extensions import db
from app.models import Booking, Message, Thread
from app.services.audit.events import record_event
from app.services.automations.templates import TemplateRenderError, render_for_booking
from app.services.bookings.threads import is_booking_thread
from app.services.messaging.outbound import queue_outbound_message
from app.services.numbers.choice import front_desk_number_id


class NoSendingNumber(DomainError):
    """The booking has no thread and the org has no front-desk number to fall back to."""


def _render(booking: Booking, kind: str) -> str:
    """The text for `kind`; any failure of the template itself is a TemplateRenderError.

    Whatever a saved template does wrong (an `{% include %}` fails with a TypeError at render,
    not a TemplateError), the run must end `failed` with a reason, not crash its job for ever.
    Database errors stay what they are: they are worth another try.
    """
    try:
        return render_for_booking(booking, kind)
    except (TemplateRenderError, SQLAlchemyError):
        raise
    except Exception as exc:
        raise TemplateRenderError(
            f"The {kind.replace('_', ' ')} template could not be rendered ({type(exc).__name__}: {exc})"[:300]
        ) from exc


def send_automation_message_via_thread(booking_id: int, kind: str) -> Message:
    """Render the org's template for `kind` and queue it to the client.

    Runs in the caller's transaction (the automation job commits): the Message
    row is added `queued` and sent by its own job after commit. Raises
    TemplateRenderError (nothing queued) when the template cannot render.
    """
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise NotFound("Booking not found")
    body = _render(booking, kind)
    thread = db.session.execute(
        select(Thread.id, Thread.message_number_id).where(is_booking_thread(booking))
    ).first()
    if thread is not None and thread.message_number_id is None:
        # One number, one conversation: the thread waits for a number; nothing goes out from another.
        raise NoSendingNumber("The conversation waits for a number (every number would be shared)")
    if thread is not None:
        thread_id, number_id = thread.id, thread.message_number_id
    else:
        thread_id, number_id = None, front_desk_number_id(booking.org_id)
        if number_id is None:
            raise NoSendingNumber("No thread and no front-desk number to send from")
        record_event(booking.org_id, "automation.fallback_front_desk", booking_id=booking.id,
                     automation=kind, number_id=number_id, reason="no_thread")
    return queue_outbound_message(org_id=booking.org_id, thread_id=thread_id, from_number_id=number_id,
                                  to_e164=booking.client.phone_e164, body=body,
                                  sender_kind="automation")
