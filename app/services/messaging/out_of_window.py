"""Texts that reach the owner inbox for want of one open window: the office is told which
visits a text could be about, and (org setting) the client is told once a day that the
office has it."""

from __future__ import annotations

from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.localtime import format_datetime, local_date
from app.models import AssignmentWindow, Booking, Client, MessageNumber, Org, OutOfWindowReply, Sitter, Thread
from app.persistence.locking import insert_if_absent
from app.services.audit.events import raise_alert, record_event
from app.services.messaging.outbound import queue_outbound_message
from app.services.people.phones import national_format


def name_candidate_visits(number: MessageNumber, client: Client, message_id: int,
                          candidates: list[Booking]) -> None:
    """A text on a number where its sender has several open visits: an owner alert names them
    (in the caller's transaction)."""
    org = db.session.get(Org, number.org_id)
    sitter_ids = {b.sitter_id for b in candidates if b.sitter_id}
    names = dict(db.session.execute(select(Sitter.id, Sitter.name).where(Sitter.id.in_(sitter_ids))).all()) \
        if sitter_ids else {}
    visits = "; ".join(
        f"#{b.id} {b.service or 'visit'} {format_datetime(b.start_at, org.timezone)}"
        f" with {names.get(b.sitter_id, 'no sitter yet')}" for b in candidates)
    record_event(org.id, "message.ambiguous", actor="twilio", message_id=message_id,
                 booking_ids=[b.id for b in candidates])
    raise_alert(org.id, "message.ambiguous",
                f"A text from {client.name} to {national_format(number.e164)} could be about {len(candidates)} "
                f"open visits: {visits}. No sitter saw it; it is in the inbox. Reply from the right visit's "
                "thread, and add a pool number so each visit has its own.", message_id=message_id)


def reply_out_of_window(number: MessageNumber, client: Client | None, thread: Thread | None,
                        message_id: int) -> int | None:
    """The org's out-of-window reply (off by default): at most once per client per day (org
    time), never to an opted-out client. Returns the reply's message id, or None."""
    if client is None or thread is None or client.opted_out:
        return None
    org = db.session.get(Org, number.org_id)
    if not org.out_of_window_reply_enabled:
        return None
    now = utcnow()
    claimed = insert_if_absent(OutOfWindowReply, ("client_id", "day"), org_id=org.id, client_id=client.id,
                               day=local_date(now, org.timezone), created_at=now)
    if claimed is None:
        return None  # already told today
    reply = queue_outbound_message(org_id=org.id, thread_id=thread.id, from_number_id=number.id,
                                   to_e164=client.phone_e164, body=out_of_window_text(org, thread, now),
                                   sender_kind="system")
    db.session.get(OutOfWindowReply, claimed).message_id = reply.id
    record_event(org.id, "message.out_of_window_reply", thread_id=thread.id, booking_id=thread.booking_id,
                 actor="system", message_id=reply.id, in_reply_to=message_id)
    return reply.id


def out_of_window_text(org: Org, thread: Thread, now) -> str:
    """'Your visit with Sasha has ended; the office has your message.' (or starts at …)."""
    booking = db.session.get(Booking, thread.booking_id) if thread.booking_id else None
    window = db.session.scalar(select(AssignmentWindow).where(AssignmentWindow.thread_id == thread.id))
    sitter = db.session.get(Sitter, booking.sitter_id) if booking is not None and booking.sitter_id else None
    who = f"Your visit with {sitter.first_name}" if sitter else "Your visit"
    if booking is not None and booking.status == "cancelled":
        text = "Your visit was cancelled; the office has your message."
    elif window is not None and now < window.starts_at:
        text = f"{who} starts {format_datetime(window.starts_at, org.timezone)}; the office has your message."
    else:
        text = f"{who} has ended; the office has your message."
    return f"{text} ({org.name})"
