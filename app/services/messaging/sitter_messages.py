"""The server-side gate for a sitter's text: assignment, window, content policy, then the queue."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from app.clock import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.extensions import db
from app.models import AssignmentWindow, Message, Org, Sitter, Thread, ThreadRead
from app.services.audit.events import raise_alert, record_event
from app.services.bookings.windows import compose_state, sitter_may_send
from app.services.media.outbound import Upload, attach_photos, media_digests, prepare_uploads, stored_photos
from app.services.messaging.content_policy import check_sitter_message
from app.services.messaging.outbound import queue_outbound_message
from app.services.messaging.wording import first_text_forms

MAX_BODY = 1600  # ten SMS segments: Twilio's own ceiling for one message
# A resend of the same text this soon is the same tap arriving twice (a retried
# form on a weak connection), not a new message.
RESEND_WINDOW = timedelta(minutes=2)
# The compose form's one-time key (ComposeForm.send_key): a retry of one draft carries the same
# key, so a send whose answer was lost on the way back is found, never sent twice.
SEND_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


class MessagingClosed(Conflict):
    """The window is not open for this sitter now; the text says why and when."""


class PolicyBlocked(InvalidInput):
    """The text carries contact or payment details and the org blocks them."""

    def __init__(self, message: str):
        super().__init__(message, field="body")


class SendKeyUsed(Conflict):
    """The form's key already made a message that cannot answer for this post (other words, or
    it was not delivered): nothing is sent, the text stays in the box with a fresh key."""


class SendKeyInvalid(InvalidInput):
    """The form's key is not one the server makes (a tampered or broken page): a clear 422."""

    def __init__(self):
        super().__init__("Not sent: this page is out of date. Your text is still in the box: tap Send to send it.",
                         field="body")


@dataclass(frozen=True)
class SendOutcome:
    message_id: int
    status: str  # queued, sent, blocked (opted out), …
    flagged: bool
    notice: str
    repeated: bool = False  # the answer of a message already made (same key or same tap): nothing sent now


@dataclass(frozen=True)
class AssignedThread:
    sitter: Sitter
    thread: Thread
    window: AssignmentWindow
    org: Org


def sitter_for_user(user_id: int) -> Sitter:
    sitter = db.session.scalar(select(Sitter).where(Sitter.user_id == user_id))
    if sitter is None:
        raise NotFound("No sitter profile for this login.")
    return sitter


def assignment_conditions(thread_id: int, sitter_id, org_id) -> tuple:
    """SQL: the thread's window is this sitter's (values, or Sitter columns in a join)."""
    return (
        Thread.id == thread_id,
        Thread.booking_id == AssignmentWindow.booking_id,
        AssignmentWindow.sitter_id == sitter_id,
        AssignmentWindow.org_id == org_id,
    )


def assigned_thread(sitter_user_id: int, thread_id: int, *, lock: bool = False) -> AssignedThread:
    """The thread and window if this sitter is the window's sitter; NotFound otherwise.

    Another sitter's thread, another org's thread and a missing thread all look
    the same from outside: 404.
    """
    sitter = sitter_for_user(sitter_user_id)
    query = (
        select(AssignmentWindow)
        .join(Thread, Thread.id == AssignmentWindow.thread_id)
        .where(*assignment_conditions(thread_id, sitter.id, sitter.org_id))
    )
    if lock:  # serialise with a concurrent cancel or sitter change of the same window
        query = query.with_for_update(of=AssignmentWindow)
    window = db.session.scalar(query)
    if window is None:
        raise NotFound("We could not find that conversation.")
    return AssignedThread(sitter=sitter, thread=window.thread, window=window, org=db.session.get(Org, sitter.org_id))


# The compose box points to the visit page's report form (the one stored report, texted once:
# app.services.visits.reports) once the window closes within this long.
VISIT_REPORT_LEAD = timedelta(minutes=90)


def visit_report_due(compose, now=None) -> bool:
    """Whether the sitter's compose box should point to the visit report now (window closing soon)."""
    now = now or utcnow()
    return bool(compose.is_open and compose.closes_at is not None and compose.closes_at - now <= VISIT_REPORT_LEAD)


def _validated_body(body: str | None, *, has_photos: bool = False) -> str:
    text = (body or "").strip()
    if not text and not has_photos:
        raise InvalidInput("Type a message or attach a photo first.", field="body")
    if len(text) > MAX_BODY:
        raise InvalidInput(f"That message is {len(text)} characters; the limit is {MAX_BODY}.", field="body")
    return text


def _record_for_sitter(
    found: AssignedThread, kind: str, alert_text: str, message_id: int | None = None, **payload
) -> None:
    """An EventLog row for owners and an Alert for the sitter, both about this thread."""
    booking = found.window.booking
    ids = {"booking_id": booking.id, "thread_id": found.thread.id, "sitter_id": found.sitter.id}
    actor = f"user:{found.sitter.user_id}"
    record_event(found.org.id, kind, actor=actor, message_id=message_id, **ids, **payload)
    raise_alert(found.org.id, kind, alert_text, message_id=message_id, **ids)


def _refuse_outside_window(found: AssignedThread, body: str, now) -> None:
    booking = found.window.booking
    state = compose_state(found.window, booking, found.org, now, sitter_id=found.sitter.id)
    _record_for_sitter(
        found,
        "message.blocked_outside_window",
        f"Not sent to {booking.client.first_name}: {state.text}.",
        reason=state.reason,
        body=body,
    )
    db.session.commit()
    raise MessagingClosed(f"Not sent. {state.text}. Your text is still in the box.")


def _record_policy_violation(found: AssignedThread, check, body: str, message_id: int | None) -> None:
    outcome = "was not sent" if check.blocked else "was sent and flagged for the office"
    _record_for_sitter(
        found,
        "policy.violation",
        f"Your message to {found.window.booking.client.first_name} {outcome}: it included {check.found_text}.",
        message_id=message_id,
        mode=check.mode,
        kinds=list(check.kinds),
        services=list(check.services),
        body=body,
    )


def _same_content(message_id: int, text: str, digests: list[str]) -> bool:
    """Whether a stored message carries this typed text (maybe as a first text) and these photos."""
    same_words = db.session.scalar(
        select(Message.id).where(Message.id == message_id,
                                 or_(Message.body == text, Message.body.in_(first_text_forms(text))))
    )
    return same_words is not None and media_digests(message_id) == digests


def _same_text_just_sent(found: AssignedThread, sitter_user_id: int, text: str, now,
                         digests: list[str]) -> Message | None:
    """The same sitter's identical text (and photos) to this thread in the last moments, if any.

    For a post without a send key (a page from before keys). Runs under the window's row lock
    (PostgreSQL), so two copies of one form post arriving together still send once.
    """
    repeat = db.session.scalar(
        select(Message)
        .where(
            Message.thread_id == found.thread.id,
            Message.sender_user_id == sitter_user_id,
            Message.sender_kind == "sitter",
            or_(Message.body == text, Message.body.in_(first_text_forms(text))),
            Message.created_at > now - RESEND_WINDOW,
            Message.status.not_in(("failed", "undelivered")),
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    if repeat is not None and media_digests(repeat.id) != digests:
        return None  # same caption, other photos (or none): a new message
    return repeat


def _validated_key(send_key: str | None) -> str | None:
    if not send_key:
        return None  # a page from before keys: sent as before (the same-tap check still applies)
    if not SEND_KEY.fullmatch(send_key):
        raise SendKeyInvalid()
    return send_key


def _keyed_message(thread_id: int, key: str) -> Message | None:
    return db.session.scalar(select(Message).where(Message.thread_id == thread_id, Message.send_key == key))


def _is_own(message: Message, sitter_user_id: int) -> bool:
    return message.sender_kind == "sitter" and message.sender_user_id == sitter_user_id


def _repeat_notice(status: str, first_name: str) -> str:
    """The state of the message a repeated post already made, as the compose box says it."""
    if status == "blocked":
        return _notice(status, False, first_name)
    if status in ("queued", "sending"):
        return "Already queued to send; it was not sent twice."
    if status == "unknown":
        return "Already handed to the carrier (not confirmed yet); it was not sent twice."
    return "Already sent; it was not sent twice."


def _repeat_outcome(message: Message, first_name: str) -> SendOutcome:
    return SendOutcome(message_id=message.id, status=message.status, flagged=False,
                       notice=_repeat_notice(message.status, first_name), repeated=True)


def _answer_for_key(earlier: Message, text: str, digests: list[str], first_name: str) -> SendOutcome:
    """A post whose key already made `earlier`: its state, never a second text."""
    if not _same_content(earlier.id, text, digests):
        raise SendKeyUsed("Your earlier text from this box was already sent, so this one was not. "
                          "It is still in the box: tap Send to send it too.")
    if earlier.status in ("failed", "undelivered"):
        raise SendKeyUsed(f"Not delivered: this text was tried once and did not reach {first_name}. "
                          "It is still in the box: tap Send to try again.")
    return _repeat_outcome(earlier, first_name)


def send_sitter_message(sitter_user_id: int, thread_id: int, body: str | None,
                        photos: list[Upload] | None = None, send_key: str | None = None) -> SendOutcome:
    """Send a sitter's text (and photos, MMS) to the thread's client from the thread's masking number.

    Photos are checked, stripped and sized before anything else (a bad one refuses the
    whole message). Refusals (outside the window, policy block) are recorded and alerted
    before the DomainError is raised, so the audit trail survives the refusal.

    `send_key` (the compose form's one-time key) makes a retry safe: a key this sitter already
    used on this thread answers with that message's state and sends nothing (also after the
    window closed, and when two posts race: the window's row lock, then the unique index).
    """
    prepared = prepare_uploads(photos or [])  # CPU work before the window's row lock is taken
    key = _validated_key(send_key)
    found = assigned_thread(sitter_user_id, thread_id, lock=True)
    text = _validated_body(body, has_photos=bool(prepared))
    digests = [p.digest for p in prepared]
    first_name = found.thread.client.first_name
    if key is not None:
        earlier = _keyed_message(found.thread.id, key)
        if earlier is not None and _is_own(earlier, sitter_user_id):
            db.session.commit()  # release the window lock
            return _answer_for_key(earlier, text, digests, first_name)
        if earlier is not None:
            key = None  # another sender's key is no match (and tells nothing): sent without one
    now = utcnow()
    if not sitter_may_send(found.window, found.window.booking, found.sitter.id, now):
        _refuse_outside_window(found, text, now)

    repeat = None if key is not None else _same_text_just_sent(found, sitter_user_id, text, now, digests)
    if repeat is not None:
        db.session.commit()  # release the window lock
        return _repeat_outcome(repeat, first_name)

    check = check_sitter_message(found.org, text)
    if check.blocked:
        _record_policy_violation(found, check, text, message_id=None)
        db.session.commit()
        raise PolicyBlocked(
            f"Not sent: your message includes {check.found_text}. Keep contact "
            "and payment details out of texts; edit it and send again."
        )

    thread = found.thread
    try:
        with stored_photos(found.org.id, prepared) as stored:
            message = queue_outbound_message(
                org_id=found.org.id,
                thread_id=thread.id,
                from_number_id=thread.message_number_id,
                to_e164=thread.client.phone_e164,
                body=text,
                sender_kind="sitter",
                sender_user_id=sitter_user_id,
                send_key=key,
            )
            attach_photos(found.org.id, message.id, stored)
            thread.last_message_at = now
            if check.flagged:
                _record_policy_violation(found, check, text, message_id=message.id)
            status = message.status
            db.session.commit()
    except IntegrityError:
        # Another post with this key committed first (stored_photos rolled back and removed
        # this one's photos): answer with the message that post made.
        earlier = _keyed_message(thread_id, key) if key is not None else None
        if earlier is None:
            raise
        if not _is_own(earlier, sitter_user_id):
            raise SendKeyInvalid() from None
        return _answer_for_key(earlier, text, digests, first_name)

    notice = _notice(status, check.flagged, first_name, check.found_text)
    return SendOutcome(message_id=message.id, status=status, flagged=check.flagged, notice=notice)


def _notice(status: str, flagged: bool, first_name: str, found_text: str = "") -> str:
    if status == "blocked":
        return f"Not delivered: {first_name} has opted out of texts (replied STOP)."
    # The row is only `queued` here (its job sends it after this commit): never say "Sent."
    # The message list shows each text's real status as it moves on.
    if flagged:
        return f"Queued to send, but flagged for the office: it included {found_text}."
    return "Queued to send."


def mark_thread_read(user_id: int, thread_id: int, org_id: int) -> None:
    """Everything in the thread up to now counts as read for this user (an upsert)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    statement = insert(ThreadRead).values(user_id=user_id, thread_id=thread_id, org_id=org_id, read_at=now)
    statement = statement.on_conflict_do_update(index_elements=["user_id", "thread_id"], set_={"read_at": now})
    db.session.execute(statement)
    db.session.commit()
