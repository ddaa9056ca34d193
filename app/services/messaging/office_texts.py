"""The office texting a client: from any thread's number, through the one outbound pipeline.

Owners and staff write from the thread page, the booking page and the inbox. Every such
text is a `queued` Message sent by its job (app.services.messaging.outbound); an opted-out client
gets nothing (the row is kept `blocked`), and quiet hours (the client's, in their time) are the
owner's call: they are warned, not stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from app.clock import utcnow
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.localtime import format_time, with_their_time
from app.models import Client, Message, MessageNumber, Org, Thread
from app.services.audit.events import record_event
from app.services.automations.runs import after_quiet_hours, client_quiet, in_quiet_hours, quiet_spans
from app.services.messaging.outbound import queue_outbound_message
from app.services.people.phones import national_format

MAX_BODY = 1600


def checked_text(value: str | None, *, limit: int, empty: str | None, field: str = "body") -> str:
    """Typed text, trimmed; InvalidInput at `field` when empty (unless `empty` is None) or longer than `limit`."""
    value = (value or "").strip()
    if not value and empty is not None:
        raise InvalidInput(empty, field=field)
    if len(value) > limit:
        raise InvalidInput(f"Keep it under {limit} characters.", field=field)
    return value


def checked_body(body: str | None, *, photos: bool = False) -> str:
    """The text as it will be sent; InvalidInput when over one SMS chain, or empty with no photos."""
    return checked_text(body, limit=MAX_BODY, empty=None if photos else "Write a message first.")


def queue_office_text(*, org_id: int, thread_id: int | None, from_number_id: int, to_e164: str, body: str,
                      user_id: int, photos: bool = False) -> Message:
    """Queue an owner's or staff member's text (in the caller's transaction) and touch its thread."""
    message = queue_outbound_message(org_id=org_id, thread_id=thread_id, from_number_id=from_number_id,
                                     to_e164=to_e164, body=checked_body(body, photos=photos), sender_kind="owner",
                                     sender_user_id=user_id)
    if thread_id is not None:
        db.session.get(Thread, thread_id).last_message_at = utcnow()
    return message


@dataclass(frozen=True)
class QuietHours:
    """Whether it is quiet hours for the client now, in their time (where the law and the
    automations judge them), and the words of the office's warning."""

    now: bool
    situation: str  # 'It is 8:30 PM for Ann Lee (their time): quiet hours there (8:00 PM–8:00 AM).'
    waits: str  # 'Automated texts to them wait until 8:00 AM their time (5:00 AM yours).' ('' for no client)


def _hour_text(hour: int) -> str:
    """'8:00 PM' for 20: a wall-clock hour in the pages' own time format."""
    return format_time(datetime(2000, 1, 1, hour, tzinfo=UTC), "UTC")


def quiet_hours(org: Org, client: Client | None) -> QuietHours:
    """In the client's time (client_quiet: their zone, their state's law, the org's own hours):
    an owner texting at 5:30 p.m. in California is warned for a Florida client (8:30 p.m. there).
    No client (an inbox sender who is not one, so no automation texts them): the org's time and
    the federal law."""
    now, quiet = utcnow(), client_quiet(client, org)
    span = ", ".join(f"{_hour_text(start)}–{_hour_text(end)}" for start, end in quiet_spans(org, quiet))
    clock = format_time(now, quiet.zone)
    if client is None:
        return QuietHours(in_quiet_hours(now, org, quiet), f"It is {clock} (your time): quiet hours ({span}).", "")
    ends = with_their_time(after_quiet_hours(now, org, quiet), quiet.zone, org.timezone, label="their time",
                           their_label="yours")
    return QuietHours(in_quiet_hours(now, org, quiet),
                      f"It is {clock} for {client.name} (their time): quiet hours there ({span}).",
                      f"Automated texts to them wait until {ends}.")


def text_thread_client(thread_id: int, body: str, user_id: int) -> Message:
    """Text the thread's client from the thread's own number. Returns the message (queued, or
    blocked when the client replied STOP). Commits."""
    thread = db.session.get(Thread, thread_id)
    if thread.message_number_id is None:
        raise Conflict("This conversation waits for a number: add a pool number (Numbers page) first.")
    number = db.session.get(MessageNumber, thread.message_number_id)
    if not number.active:
        raise Conflict(f"This conversation's number {national_format(number.e164)} is retired: move the "
                       "conversation to a new number first (Numbers page).")
    message = queue_office_text(org_id=thread.org_id, thread_id=thread.id, from_number_id=number.id,
                                to_e164=thread.client.phone_e164, body=body, user_id=user_id)
    record_event(thread.org_id, "office.texted", booking_id=thread.booking_id, thread_id=thread.id,
                 actor=f"user:{user_id}", message_id=message.id, number_id=number.id,
                 client_id=thread.client_id, status=message.status)
    db.session.commit()
    return message
