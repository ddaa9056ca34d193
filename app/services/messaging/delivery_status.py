"""Twilio status callbacks: a message's status only moves forward, failures alert people.

Callbacks arrive late, twice and out of order (`sent` after `delivered`), so
each status has a rank and a message never moves to a lower or equal one;
`delivered`, `undelivered` and `failed` are final.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from app.adapters.twilio_sms import OPTED_OUT, TWILIO_STATUSES
from app.clock import utcnow
from app.errors import InvalidInput
from app.extensions import db
from app.jobs.queue import enqueue
from app.jobs.specs import JOBS
from app.models import Message, Sitter, StatusCallback
from app.observability.metrics import count_text
from app.persistence.locking import lock_row
from app.services.audit.events import raise_alert, record_event
from app.services.messaging.opt_out import mark_opted_out_by_phone

log = logging.getLogger(__name__)

STATUS_RANK = {"queued": 0, "sending": 1, "unknown": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3}
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed"})
FAILED_STATUSES = frozenset({"undelivered", "failed"})
# A callback can beat the send job's commit of the sid: look again a little later (and then
# as the job's retries say: app.jobs.specs).
UNKNOWN_SID_FIRST_WAIT = timedelta(seconds=15)
# Past this a stored callback whose sid no message took is set aside (after its rechecks).
UNMATCHED_AFTER = timedelta(minutes=30)


class UnknownMessageSid(Exception):
    """No message of ours carries this sid (yet)."""


def advance_status(message: Message, new_status: str) -> bool:
    """Move the message to `new_status` if that is forward; True when it moved."""
    current = message.status
    if current not in STATUS_RANK or current in FINAL_STATUSES or new_status not in STATUS_RANK:
        return False  # blocked / received rows and final statuses never change here
    if STATUS_RANK[new_status] <= STATUS_RANK[current]:
        return False
    message.status = new_status
    return True


def alert_failed_message(message: Message, code: str | None, reason: str) -> None:
    """Owners always hear about a failed text; the sitter who wrote it does too."""
    thread = message.thread
    booking_id = thread.booking_id if thread is not None else None
    record_event(message.org_id, "message.failed", booking_id=booking_id, thread_id=message.thread_id,
                 message_id=message.id, code=code, status=message.status)
    raise_alert(message.org_id, "message.failed",
                f"A text could not be delivered ({code or message.status}): {reason}",
                booking_id=booking_id, thread_id=message.thread_id, message_id=message.id)
    if message.sender_kind == "sitter" and message.sender_user_id is not None:
        sitter_id = db.session.scalar(select(Sitter.id).where(Sitter.user_id == message.sender_user_id))
        if sitter_id is not None:
            client_name = thread.client.first_name if thread is not None else "the client"
            raise_alert(message.org_id, "message.failed",
                        f"Your message to {client_name} was not delivered. The office has been told.",
                        sitter_id=sitter_id, booking_id=booking_id, thread_id=message.thread_id,
                        message_id=message.id)


def apply_status_callback(fields: dict) -> str:
    """Record one status callback (the webhook's form); returns the message's status afterwards.

    A known sid is applied at once. An unknown one (the send job may not have saved it yet) is
    stored as a StatusCallback row, its id handed to a job that looks again later: only the
    sid, status and error code are kept, never the form (it carries the client's number).
    """
    sid = (fields.get("MessageSid") or fields.get("SmsSid") or "").strip()
    raw_status = (fields.get("MessageStatus") or fields.get("SmsStatus") or "").strip().lower()
    if not sid or not raw_status:
        raise InvalidInput("A status callback needs MessageSid and MessageStatus.", field="MessageSid")
    new_status = TWILIO_STATUSES.get(raw_status)
    if new_status is None:
        log.info("status callback for %s: status %r ignored", sid, raw_status)
        return "ignored"
    code = ((fields.get("ErrorCode") or "").strip() or None)
    message = _locked_message_by_sid(sid)
    if message is None:
        stored = StatusCallback(provider_sid=sid[:64], status=new_status, error_code=code and code[:16])
        db.session.add(stored)
        db.session.flush()
        enqueue(JOBS.apply_status_callback, stored.id, at=utcnow() + UNKNOWN_SID_FIRST_WAIT)
        log.info("status callback for unknown sid %s (%s): stored as #%s, checking again later", sid,
                 raw_status, stored.id)
        db.session.commit()
        return "unknown_sid"
    return _apply(message, new_status, code)


def apply_stored_callback(callback_id: int) -> str:
    """The job: apply a stored callback once its message carries the sid.

    Raises UnknownMessageSid (the queue retries) while no message has it; a callback still
    unmatched UNMATCHED_AFTER its arrival is set aside as `unmatched` (reconcile stops there).
    """
    stored = lock_row(StatusCallback, callback_id)
    if stored is None or stored.state != "pending":
        db.session.commit()
        return "missing" if stored is None else stored.state
    message = _locked_message_by_sid(stored.provider_sid)
    if message is None:
        if stored.received_at <= utcnow() - UNMATCHED_AFTER:
            stored.state = "unmatched"
            db.session.commit()
            log.info("status callback #%s: no message ever took sid %s; set aside", stored.id,
                     stored.provider_sid)
            return "unmatched"
        db.session.commit()
        raise UnknownMessageSid(stored.provider_sid)
    stored.state = "applied"
    return _apply(message, stored.status, stored.error_code)


def _locked_message_by_sid(sid: str) -> Message | None:
    return db.session.scalar(select(Message).where(Message.provider_sid == sid).with_for_update())


def _apply(message: Message, new_status: str, code: str | None) -> str:
    """Move `message` forward to `new_status` (with Twilio's error code) and commit."""
    if message.direction != "outbound":
        db.session.commit()
        return "ignored"
    moved = advance_status(message, new_status)
    if code and (moved or message.error_code is None):
        message.error_code = code
    if code == OPTED_OUT:
        mark_opted_out_by_phone(message.org_id, message.to_e164, source="status_callback")
    if moved and new_status in FAILED_STATUSES:
        message.error_message = f"Twilio reported {new_status}" + (f" (error {code})" if code else "")
        alert_failed_message(message, code, message.error_message)
    if moved:
        log.info("message %s is now %s", message.id, message.status)
    db.session.commit()
    if moved:
        count_text(message.status)
    return message.status
