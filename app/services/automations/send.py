"""Automation texts leave from the booking thread's masking number (front desk if none)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.errors import DomainError, NotFound
from app.extensions import db
from app.models import Booking, Message, MessageNumber, Thread
from app.services.audit.events import record_event
from app.services.automations.templates import TemplateRenderError, render_for_booking, render_template_body
from app.services.bookings.threads import is_booking_thread
from app.services.messaging.outbound import queue_outbound_message, queue_text_to_client
from app.services.numbers.choice import front_desk_number_id

if TYPE_CHECKING:
    from app.services.automations.run_facts import RunFacts


class NoSendingNumber(DomainError):
    """The booking has no thread and the org has no front-desk number to fall back to."""


def _render(kind: str, render: Callable[[], str]) -> str:
    """The text for `kind`; any failure of the template itself is a TemplateRenderError.

    Whatever a saved template does wrong (an `{% include %}` fails with a TypeError at render,
    not a TemplateError), the run must end `failed` with a reason, not crash its job for ever.
    Database errors stay what they are: they are worth another try.
    """
    try:
        return render()
    except (TemplateRenderError, SQLAlchemyError):
        raise
    except Exception as exc:
        raise TemplateRenderError(
            f"The {kind.replace('_', ' ')} template could not be rendered ({type(exc).__name__}: {exc})"[:300]
        ) from exc


def _sending_number(org_id: int, booking_id: int, kind: str, thread_id: int | None,
                    thread_number_id: int | None) -> tuple[int | None, int]:
    """(thread id, number id) a booking's automated text leaves from: its thread's number, else
    (no thread) the org's front desk, which is recorded. NoSendingNumber when there is neither,
    or when the thread waits for a number of its own."""
    if thread_id is not None:
        if thread_number_id is None:
            # One number, one conversation: the thread waits for a number; nothing goes out from another.
            raise NoSendingNumber("The conversation waits for a number (every number would be shared)")
        return thread_id, thread_number_id
    number_id = front_desk_number_id(org_id)
    if number_id is None:
        raise NoSendingNumber("No thread and no front-desk number to send from")
    record_event(org_id, "automation.fallback_front_desk", booking_id=booking_id,
                 automation=kind, number_id=number_id, reason="no_thread")
    return None, number_id


def send_automation_message_via_thread(booking_id: int, kind: str) -> Message:
    """Render the org's template for `kind` and queue it to the client.

    Runs in the caller's transaction (the caller commits): the Message row is added `queued`
    and sent by its own job after commit. Raises TemplateRenderError (nothing queued) when the
    template cannot render. The automation job itself uses `queue_run_text` (its facts read in
    one statement).
    """
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise NotFound("Booking not found")
    body = _render(kind, lambda: render_for_booking(booking, kind))
    thread = db.session.execute(
        select(Thread.id, Thread.message_number_id).where(is_booking_thread(booking))
    ).first()
    thread_id, number_id = _sending_number(booking.org_id, booking.id, kind, *(thread or (None, None)))
    return queue_outbound_message(org_id=booking.org_id, thread_id=thread_id, from_number_id=number_id,
                                  to_e164=booking.client.phone_e164, body=body,
                                  sender_kind="automation")


def queue_run_text(run: RunFacts) -> int:
    """The run's text, rendered from its facts and queued to its client (who has not opted out):
    `send_automation_message_via_thread` without a read of its own on the common path (a booking
    thread with its number). Returns the message id; raises as that function does."""
    body = _render(run.kind, lambda: render_template_body(run.body, run.context))
    thread_id, number_id = _sending_number(run.org_id, run.booking_id, run.kind, run.thread_id,
                                           run.thread_number_id)
    from_e164 = run.from_e164 if thread_id is not None else db.session.scalar(
        select(MessageNumber.e164).where(MessageNumber.id == number_id))
    return queue_text_to_client(org_id=run.org_id, thread_id=thread_id, from_number_id=number_id,
                                from_e164=from_e164, to_e164=run.to_e164, body=body, sender_kind="automation",
                                business_name=run.business_name, texted_before=run.texted_before)
