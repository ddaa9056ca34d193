"""A sitter's call to the client from the thread page: Twilio rings the sitter, then bridges.

Allowed exactly when a sitter may text (the booking confirmed, the window theirs and open
now) and the thread has a number. Twilio rings the sitter's own phone from the masking
number; when they answer it dials the client, again from the masking number: neither
learns the other's real number. The Call row is written before Twilio is asked, and the
sitter is told "ringing" only once Twilio accepted the call.
"""

from __future__ import annotations

import logging

from app.adapters.twilio_voice import VoiceUnavailable, place_bridged_call
from app.clock import utcnow
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Call, MessageNumber
from app.services.audit.events import record_event
from app.services.bookings.windows import sitter_may_send
from app.services.messaging.sitter_messages import assigned_thread

log = logging.getLogger(__name__)


class CallRefused(Conflict):
    """The call cannot be placed now (window closed, no number yet, Twilio away)."""


def start_sitter_call(sitter_user_id: int, thread_id: int, status_callback: str | None = None) -> Call:
    """Place the bridged call; returns the Call row (outcome ringing_sitter, with its sid). Raises CallRefused
    (nothing rung) or NotFound (not this sitter's thread)."""
    found = assigned_thread(sitter_user_id, thread_id)
    sitter, thread, window = found.sitter, found.thread, found.window
    if not sitter_may_send(window, window.booking, sitter.id, utcnow()):
        db.session.rollback()
        raise CallRefused("You can call the client only during the visit's messaging window.")
    if not sitter.phone_e164:
        db.session.rollback()
        raise InvalidInput("Add your own phone number on your profile first: Twilio rings it first.",
                           field="phone")
    number = db.session.get(MessageNumber, thread.message_number_id) if thread.message_number_id else None
    if number is None:
        db.session.rollback()
        raise CallRefused("This visit has no number yet; the office has been told.")
    call = Call(org_id=found.org.id, direction="outbound", thread_id=thread.id, booking_id=window.booking_id,
                message_number_id=number.id, sitter_id=sitter.id, from_e164=sitter.phone_e164,
                to_e164=thread.client.phone_e164, outcome="ringing_sitter")
    db.session.add(call)
    db.session.flush()
    call_id, masking, sitter_phone, client_phone = call.id, number.e164, sitter.phone_e164, thread.client.phone_e164
    db.session.commit()  # the row exists before Twilio is asked: a call placed is never unrecorded
    try:
        sid = place_bridged_call(masking_e164=masking, first_leg_e164=sitter_phone,
                                 second_leg_e164=client_phone, status_callback=status_callback)
    except VoiceUnavailable as exc:
        call = db.session.get(Call, call_id)
        call.outcome = "failed"
        record_event(call.org_id, "call.failed", booking_id=call.booking_id, thread_id=call.thread_id,
                     sitter_id=call.sitter_id, actor=f"user:{sitter_user_id}", call_id=call.id)
        db.session.commit()
        raise CallRefused(str(exc)) from exc
    call = db.session.get(Call, call_id)
    call.provider_sid = sid
    record_event(call.org_id, "call.placed", booking_id=call.booking_id, thread_id=call.thread_id,
                 sitter_id=call.sitter_id, actor=f"user:{sitter_user_id}", call_id=call.id)
    db.session.commit()
    return call
