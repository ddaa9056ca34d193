"""The owner inbox: reply to what reached owners, mark it handled, resolve alerts."""

from __future__ import annotations

from sqlalchemy import select

from app.clock import utcnow
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Alert, Client, Message, MessageNumber
from app.services.audit.events import record_event
from app.services.media.outbound import Upload, attach_photos, prepare_uploads, stored_photos
from app.services.messaging.office_texts import checked_body, queue_office_text


def reply_numbers(message: Message) -> list[MessageNumber]:
    """Numbers an owner may answer from: the thread's (or the one written to) and the front desk."""
    ids = [message.message_number_id]
    if message.thread is not None:
        ids.append(message.thread.message_number_id)
    front_desk = db.session.scalars(select(MessageNumber).where(
        MessageNumber.org_id == message.org_id, MessageNumber.kind == "front_desk",
        MessageNumber.active.is_(True)))
    rows = [db.session.get(MessageNumber, i) for i in dict.fromkeys(i for i in ids if i)]
    found = {n.id: n for n in rows if n is not None and n.active}
    for number in front_desk:
        found.setdefault(number.id, number)
    return list(found.values())


def reply_recipient(message: Message) -> Client | None:
    """The client a reply reaches (it goes to the sender's number, whatever the thread): None for a
    sender who is not a client. Their quiet hours are judged in their time."""
    return db.session.scalar(select(Client).where(Client.org_id == message.org_id,
                                                  Client.phone_e164 == message.from_e164))


def reply_to_inbox_message(message_id: int, *, from_number_id: int, body: str, user_id: int,
                           mark_handled: bool = True, photos: list[Upload] | None = None) -> Message:
    """Queue an owner's reply (text and/or photos) to the sender of an inbound message, and mark it handled."""
    prepared = prepare_uploads(photos or [])
    message = db.session.get(Message, message_id)
    body = checked_body(body, photos=bool(prepared))
    if message.direction != "inbound" or not message.from_e164:
        raise Conflict("Only inbound messages can be answered here.")
    allowed = {n.id for n in reply_numbers(message)}
    if from_number_id not in allowed:
        raise InvalidInput("Choose one of the offered numbers.", field="from_number_id")
    thread_id = _thread_for_reply(message, from_number_id)
    with stored_photos(message.org_id, prepared) as stored:
        reply = queue_office_text(org_id=message.org_id, thread_id=thread_id, from_number_id=from_number_id,
                                  to_e164=message.from_e164, body=body, user_id=user_id, photos=bool(stored))
        attach_photos(message.org_id, reply.id, stored)
        if mark_handled and message.handled_at is None:
            message.handled_at = utcnow()
        record_event(message.org_id, "inbox.replied", thread_id=thread_id, actor=f"user:{user_id}",
                     message_id=message.id, reply_id=reply.id, photos=len(stored))
        db.session.commit()
    return reply


def _thread_for_reply(message: Message, from_number_id: int) -> int | None:
    if message.thread is not None and message.thread.message_number_id == from_number_id:
        return message.thread_id
    return None


def set_handled(message_id: int, handled: bool, user_id: int) -> Message:
    message = db.session.get(Message, message_id)
    message.handled_at = (message.handled_at or utcnow()) if handled else None
    record_event(message.org_id, "inbox.handled" if handled else "inbox.reopened", actor=f"user:{user_id}",
                 thread_id=message.thread_id, message_id=message.id)
    db.session.commit()
    return message


def resolve_alert(alert_id: int, user_id: int) -> Alert:
    alert = db.session.get(Alert, alert_id)
    if alert.resolved_at is None:
        alert.resolved_at = utcnow()
        record_event(alert.org_id, "alert.resolved", booking_id=alert.booking_id, thread_id=alert.thread_id,
                     actor=f"user:{user_id}", alert_id=alert.id, alert_kind=alert.kind)
    db.session.commit()
    return alert
