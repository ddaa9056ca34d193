"""A sitter writing to the office at any time, and the office answering (`POST /sitter/office`).

The note lands in the owner inbox as a `Message` (inbound, sender_kind sitter, the sitter's user
as sender, no thread and no phone number, routing reason `sitter_note`) with an `OfficeNote`
beside it keeping the sitter and the visit and thread the note is about. Owners and staff answer from the
inbox message's page: the answer is an `OfficeNote` to the sitter, an alert on their alerts
page and a push (`office_reply`); the inbox message is marked handled.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from app.clock import utcnow
from app.errors import Conflict, NotFound
from app.extensions import db
from app.jobs.queue import enqueue
from app.jobs.specs import JOBS
from app.localtime import format_datetime
from app.models import Alert, AssignmentWindow, Booking, Message, OfficeNote, Org, Sitter, Thread
from app.privacy import redact_for_sitter
from app.services.audit.events import record_event
from app.services.messaging.office_texts import MAX_BODY, checked_text
from app.services.notifications.notify import plan_office_note, plan_office_reply

ROUTING_REASON = "sitter_note"
REPLY_ALERT_KIND = "office.reply"


@dataclass(frozen=True)
class NoteSent:
    note_id: int
    message_id: int


def _sitter(user_id: int) -> Sitter:
    sitter = db.session.scalar(select(Sitter).where(Sitter.user_id == user_id, Sitter.active.is_(True)))
    if sitter is None:
        raise NotFound("No sitter profile for this login.")
    return sitter


def _window_thread(sitter: Sitter, thread_id: int | None) -> Thread | None:
    """The thread when the sitter's window is (or was) on it, else None."""
    if thread_id is None:
        return None
    return db.session.scalar(
        select(Thread).join(AssignmentWindow, AssignmentWindow.thread_id == Thread.id)
        .where(Thread.id == thread_id, Thread.org_id == sitter.org_id, AssignmentWindow.sitter_id == sitter.id)
        .limit(1))


def _sitters_booking(sitter: Sitter, booking_id: int) -> Booking:
    """A visit assigned to the sitter (or once theirs through a window); anyone else's is a 404."""
    booking = db.session.scalar(select(Booking).where(
        Booking.id == booking_id, Booking.org_id == sitter.org_id,
        or_(Booking.sitter_id == sitter.id,
            select(AssignmentWindow.id).where(AssignmentWindow.booking_id == Booking.id,
                                              AssignmentWindow.sitter_id == sitter.id).exists())))
    if booking is None:
        raise NotFound("We could not find that visit.")
    return booking


@dataclass(frozen=True)
class NoteSubject:
    """What a note is about: the visit, and its conversation when it has one (it may wait for a number,
    with no window for the sitter yet: the office can still open it)."""

    booking_id: int | None = None
    thread_id: int | None = None


def _subject(sitter: Sitter, thread_id: int | None, booking_id: int | None) -> NoteSubject:
    """A thread the sitter's window is (or was) on, or a visit of theirs; anyone else's is a 404, like everywhere."""
    if thread_id is not None:
        thread = _window_thread(sitter, thread_id)
        if thread is None or booking_id not in (None, thread.booking_id):
            raise NotFound("We could not find that conversation.")
        return NoteSubject(thread.booking_id, thread.id)
    if booking_id is None:
        return NoteSubject()
    booking = _sitters_booking(sitter, booking_id)
    return NoteSubject(booking.id, db.session.scalar(
        select(Thread.id).where(Thread.booking_id == booking.id, Thread.scope == "client_booking")))


def note_subject(user_id: int, booking_id: int | None) -> str | None:
    """The visit a note is about as its sitter reads it ('Cat visit with Alex, Wed 25 Nov, 10:00 AM'), or
    None (no visit named, or not theirs: the send refuses that one)."""
    if booking_id is None:
        return None
    try:
        booking = _sitters_booking(_sitter(user_id), booking_id)
    except NotFound:
        return None
    when = format_datetime(booking.start_at, db.session.get(Org, booking.org_id).timezone)
    return redact_for_sitter(f"{booking.service} with {booking.client.first_name}, {when}")


def send_office_note(user_id: int, body: str | None, thread_id: int | None = None,
                     booking_id: int | None = None) -> NoteSent:
    """File a sitter's note in the owner inbox under their name; allowed at any time. It names the
    conversation (thread_id) or the visit (booking_id) it is about, when the sitter says."""
    sitter = _sitter(user_id)
    body = checked_text(body, limit=MAX_BODY, empty="Write a note first.")
    subject = _subject(sitter, thread_id, booking_id)
    now = utcnow()
    message = Message(org_id=sitter.org_id, thread_id=None, direction="inbound", sender_kind="sitter",
                      sender_user_id=user_id, body=body, status="received", routing_reason=ROUTING_REASON,
                      owner_inbox=True, created_at=now)
    db.session.add(message)
    db.session.flush()
    note = OfficeNote(org_id=sitter.org_id, sitter_id=sitter.id, direction="to_office", body=body,
                      author_user_id=user_id, thread_id=subject.thread_id, booking_id=subject.booking_id,
                      message_id=message.id, created_at=now)
    db.session.add(note)
    db.session.flush()
    record_event(sitter.org_id, "office.note", thread_id=note.thread_id, sitter_id=sitter.id,
                 booking_id=note.booking_id, actor=f"user:{user_id}", message_id=message.id, note_id=note.id)
    for notification_id in plan_office_note(message, sitter.name):
        enqueue(JOBS.deliver_notification, notification_id)
    db.session.commit()
    return NoteSent(note.id, message.id)


def note_for_message(message: Message) -> OfficeNote | None:
    """The sitter's note behind an owner-inbox message, or None for a client's text."""
    if message.sender_kind != "sitter" or message.routing_reason != ROUTING_REASON:
        return None
    return db.session.scalar(select(OfficeNote).where(OfficeNote.message_id == message.id,
                                                      OfficeNote.direction == "to_office"))


def notes_for_messages(message_ids: list[int]) -> dict[int, OfficeNote]:
    if not message_ids:
        return {}
    rows = db.session.scalars(select(OfficeNote).where(OfficeNote.message_id.in_(message_ids),
                                                       OfficeNote.direction == "to_office"))
    return {n.message_id: n for n in rows}


def conversation(note: OfficeNote) -> list[OfficeNote]:
    """The note and every answer to it, oldest first."""
    return list(db.session.scalars(select(OfficeNote).where(OfficeNote.message_id == note.message_id)
                                   .order_by(OfficeNote.created_at, OfficeNote.id)))


def reply_to_office_note(message_id: int, body: str | None, user_id: int) -> OfficeNote:
    """An owner or staff member answers a sitter's note: an alert and a push reach the sitter."""
    message = db.session.get(Message, message_id)
    note = note_for_message(message) if message is not None else None
    if note is None:
        raise Conflict("Only a sitter's note can be answered here.")
    body = checked_text(body, limit=MAX_BODY, empty="Write an answer first.")
    sitter = db.session.get(Sitter, note.sitter_id)
    now = utcnow()
    answer = OfficeNote(org_id=note.org_id, sitter_id=note.sitter_id, direction="to_sitter", body=body,
                        author_user_id=user_id, thread_id=note.thread_id, booking_id=note.booking_id,
                        message_id=message.id, created_at=now)
    db.session.add(answer)
    # The sitter's alert links the conversation only when they can open it (a thread still waiting
    # for a number has no window of theirs yet: no dead link).
    open_thread = _window_thread(sitter, note.thread_id) if sitter is not None else None
    db.session.add(Alert(org_id=note.org_id, audience="sitter", sitter_id=note.sitter_id, kind=REPLY_ALERT_KIND,
                         text=redact_for_sitter(f"The office: {body}")[:500],
                         thread_id=open_thread.id if open_thread else None, created_at=now))
    if message.handled_at is None:
        message.handled_at = now
    db.session.flush()
    record_event(note.org_id, "office.answered", thread_id=note.thread_id, sitter_id=note.sitter_id,
                 actor=f"user:{user_id}", message_id=message.id, note_id=answer.id)
    if sitter is not None and sitter.user_id is not None:
        notification_id = plan_office_reply(note.org_id, sitter.user_id, answer.id,
                                            open_thread.id if open_thread else None)
        if notification_id is not None:
            enqueue(JOBS.deliver_notification, notification_id)
    db.session.commit()
    return answer


@dataclass(frozen=True)
class NoteLine:
    """One line of a sitter's notes page: their note or the office's answer (redacted for sitters)."""

    direction: str
    body: str
    created_at: object


NOTES_SHOWN = 20


def sitter_notes(user_id: int) -> list[NoteLine]:
    """This sitter's latest notes to the office and the answers, newest first."""
    sitter = _sitter(user_id)
    rows = db.session.scalars(select(OfficeNote).where(OfficeNote.sitter_id == sitter.id,
                                                       OfficeNote.org_id == sitter.org_id)
                              .order_by(OfficeNote.created_at.desc(), OfficeNote.id.desc()).limit(NOTES_SHOWN))
    return [NoteLine(n.direction, redact_for_sitter(n.body), n.created_at) for n in rows]
