"""A client's call to one of our numbers: the assigned sitter inside the window, else the office.

DESIGN "Calls": a call to a thread's number while its window is open rings the window's
sitter's own phone with the masking number as caller ID; outside every window (and when the
caller has two open visits on the number: no guessing) it goes to the org's office phone,
or a spoken message says to text instead. Never a sitter outside their window. Each call is
one `Call` row (owners see it in the thread).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import select

from app.adapters.twilio_voice import Answer
from app.clock import utcnow
from app.extensions import db
from app.models import AssignmentWindow, Booking, Call, Client, MessageNumber, Org, Sitter, Thread
from app.persistence.locking import advisory_lock
from app.privacy import mask_phone
from app.services.audit.events import record_event

log = logging.getLogger(__name__)

NOT_IN_SERVICE = "Sorry, this number is not in service."
MAX_ID = 2**31 - 1  # ids beyond an INTEGER column match no row (and PostgreSQL would refuse them)


def _text_instead(org: Org) -> str:
    return (f"Thanks for calling {org.name}. Nobody can take your call on this line right now. "
            "Please send a text message to this number and we will get back to you.")


def _office_answer(org: Org, call: Call) -> Answer:
    """Outside every window: the office phone when the org set one, else the spoken message."""
    if org.office_phone_e164:
        call.outcome = "office"
        return Answer(say=f"Connecting you to {org.name}.", dial=org.office_phone_e164,
                      say_after=_text_instead(org))
    call.outcome = "message"
    return Answer(say=_text_instead(org))


def _open_threads(number: MessageNumber, client: Client) -> list[tuple[Thread, AssignmentWindow | None, Booking]]:
    """The client's threads on the number that are still open (booking not cancelled or
    completed, window not ended), with their windows and bookings."""
    now = utcnow()
    rows = db.session.execute(
        select(Thread, AssignmentWindow, Booking)
        .join(Booking, Booking.id == Thread.booking_id)
        .outerjoin(AssignmentWindow, AssignmentWindow.thread_id == Thread.id)
        .where(Thread.message_number_id == number.id, Thread.client_id == client.id,
               Thread.scope == "client_booking", Booking.status.in_(("pending", "confirmed")))
    ).all()
    return [(t, w, b) for t, w, b in rows if w is None or w.ends_at > now]


def answer_inbound_call(fields: Mapping[str, str], dial_status_url) -> Answer:
    """Decide what a call hears and record it (once per CallSid). `dial_status_url(call_id)`
    builds the URL Twilio reports a sitter dial's end to. Commits."""
    sid = (fields.get("CallSid") or "").strip() or None
    to_e164 = (fields.get("To") or "").strip()
    from_e164 = (fields.get("From") or "").strip()
    number = db.session.scalar(select(MessageNumber).where(MessageNumber.e164 == to_e164)
                               .execution_options(all_orgs=True))
    if number is None or not number.active:
        log.warning("call %s to %s (not an active number of ours) from %s: not in service", sid,
                    mask_phone(to_e164), mask_phone(from_e164))
        db.session.rollback()
        return Answer(say=NOT_IN_SERVICE)
    org = db.session.get(Org, number.org_id)
    if sid:
        # Twilio may deliver one call's webhook twice at once: the second waits for the first to
        # commit, then finds its row and gives the same answer (never a unique-constraint 500).
        advisory_lock("call", sid)
    call = db.session.scalar(select(Call).where(Call.provider_sid == sid)) if sid else None
    repeated = call is not None
    if call is None:
        call = Call(org_id=org.id, provider_sid=sid, direction="inbound", message_number_id=number.id,
                    from_e164=from_e164[:32] or None, to_e164=number.e164, outcome="message")
        db.session.add(call)
    client = db.session.scalar(select(Client).where(Client.org_id == org.id, Client.phone_e164 == from_e164)) \
        if from_e164 else None
    answer = None
    reason = "no_client" if client is None else "no_window"
    if client is not None:
        open_threads = _open_threads(number, client)
        if len(open_threads) >= 2:
            reason = "ambiguous"  # one number, one conversation: never guess which sitter
        elif open_threads:
            thread, window, booking = open_threads[0]
            call.thread_id, call.booking_id = thread.id, booking.id
            answer = _sitter_answer(number, window, booking, call, dial_status_url)
            reason = "window_open" if answer is not None else reason
        else:
            call.thread_id, call.booking_id = _recent_thread(number, client)
    if answer is None:
        answer = _office_answer(org, call)
    db.session.flush()
    if not repeated:  # one event per call, however often Twilio asks
        record_event(org.id, "call.received", booking_id=call.booking_id, thread_id=call.thread_id,
                     sitter_id=call.sitter_id, actor="twilio", call_id=call.id, outcome=call.outcome,
                     reason=reason)
    db.session.commit()
    log.info("call %s from %s to %s: %s (%s)", sid, mask_phone(from_e164), mask_phone(to_e164), call.outcome,
             reason)
    return answer


def _recent_thread(number: MessageNumber, client: Client) -> tuple[int | None, int | None]:
    """Where owners see a call outside every window: the client's latest booking thread on the
    number, else (front desk) their front-desk thread."""
    recent = db.session.execute(
        select(Thread.id, Thread.booking_id).join(Booking, Booking.id == Thread.booking_id)
        .where(Thread.message_number_id == number.id, Thread.client_id == client.id)
        .order_by(Booking.start_at.desc(), Thread.id.desc()).limit(1)).first()
    if recent is not None:
        return recent.id, recent.booking_id
    desk = db.session.scalar(select(Thread.id).where(Thread.org_id == client.org_id, Thread.client_id == client.id,
                                                     Thread.scope == "front_desk"))
    return desk, None


def _sitter_answer(number: MessageNumber, window: AssignmentWindow | None, booking: Booking, call: Call,
                   dial_status_url) -> Answer | None:
    """Ring the window's sitter when the window is open now and they have a phone; else None."""
    now = utcnow()
    if (window is None or booking.status != "confirmed" or window.sitter_id is None
            or not window.starts_at <= now < window.ends_at):
        return None
    sitter = db.session.get(Sitter, window.sitter_id)
    if sitter is None or not sitter.active or not sitter.phone_e164:
        return None
    call.sitter_id, call.outcome = sitter.id, "ringing_sitter"
    db.session.flush()  # the id goes into the action URL
    return Answer(dial=sitter.phone_e164, caller_id=number.e164, action_url=dial_status_url(call.id))


DIAL_OUTCOMES = {"completed": "completed", "answered": "completed", "no-answer": "no-answer",
                 "busy": "busy", "failed": "failed", "canceled": "canceled"}


def finish_dial(call_id: int, fields: Mapping[str, str]) -> Answer:
    """Twilio reports how a sitter dial ended: a completed call ends; otherwise the caller hears
    that the sitter could not answer, and the office line if the org set one. Commits."""
    call = db.session.get(Call, call_id) if 0 < call_id <= MAX_ID else None
    if call is None:
        db.session.rollback()
        return Answer()
    status = DIAL_OUTCOMES.get((fields.get("DialCallStatus") or "").strip().lower(), "failed")
    duration = (fields.get("DialCallDuration") or "").strip()
    call.outcome = status
    if duration.isdigit():
        call.duration_seconds = int(duration)
    record_event(call.org_id, "call.dial_ended", booking_id=call.booking_id, thread_id=call.thread_id,
                 sitter_id=call.sitter_id, actor="twilio", call_id=call.id, outcome=status)
    org = db.session.get(Org, call.org_id)
    sitter = db.session.get(Sitter, call.sitter_id) if call.sitter_id else None
    db.session.commit()
    if status == "completed":
        return Answer()
    who = sitter.first_name if sitter else "Your sitter"
    sorry = f"Sorry, {who} could not answer just now."
    if org.office_phone_e164:
        return Answer(say=f"{sorry} Connecting you to the office.", dial=org.office_phone_e164,
                      say_after="Please send a text message to this number and we will get back to you.")
    return Answer(say=f"{sorry} Please send a text message to this number and we will get back to you.")


CALL_STATUS_OUTCOMES = {"completed": "completed", "no-answer": "no-answer", "busy": "busy",
                        "failed": "failed", "canceled": "canceled"}


def apply_call_status(fields: Mapping[str, str]) -> bool:
    """A call status callback (a bridged call's end): its outcome and duration. Commits."""
    sid = (fields.get("CallSid") or "").strip()
    status = CALL_STATUS_OUTCOMES.get((fields.get("CallStatus") or "").strip().lower())
    call = db.session.scalar(select(Call).where(Call.provider_sid == sid)) if sid else None
    if call is None or status is None:
        db.session.rollback()
        return False
    call.outcome = status
    duration = (fields.get("CallDuration") or "").strip()
    if duration.isdigit():
        call.duration_seconds = int(duration)
    db.session.commit()
    return True
