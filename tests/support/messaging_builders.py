"""Threads for the messaging tests, built without sitter logins (password hashing is slow)."""

from __future__ import annotations

from datetime import timedelta


def booking_thread(make, *, number=None, client=None, started_hours_ago=None, hours=2, status="confirmed",
                   sitter_login=False):
    """A client_booking thread with its window: open now if `started_hours_ago`, else in two days."""
    clock = make.clock
    start = (clock.now - timedelta(hours=started_hours_ago) if started_hours_ago is not None
             else clock.now + timedelta(days=2))
    booking = make.booking(client=client, start=start, hours=hours, status=status,
                           sitter=make.sitter(with_login=sitter_login))
    thread = make.thread(booking=booking, number=number)
    make.window(thread)
    return thread


def outbound_message(make, thread, **kw):
    """An outbound text on the thread, from its number to its client."""
    kw.setdefault("sender_kind", "automation")
    kw.setdefault("status", "sent")
    return make.message(thread=thread, direction="outbound", from_e164=thread.message_number.e164,
                        to_e164=thread.client.phone_e164, **kw)


def as_first_text(body: str, business: str = "Happy Tails") -> str:
    """What a client's very first text from the org says (the business name, "Reply STOP")."""
    from app.services.messaging.wording import with_first_text_wording

    return with_first_text_wording(business, body)


def already_texted(make, thread):
    """The client got a text from the business before (so the next one is not their first)."""
    return outbound_message(make, thread, body="An earlier text", created_at=make.clock.now - timedelta(days=30))
