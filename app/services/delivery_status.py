"""Twilio status callbacks: a message's status only moves forward, failures alert people.

Callbacks arrive late, twice and out of order (`sent` after `delivered`), so
each status has a rank and a message never moves to a lower or equal one;
`delivered`, `undelivered` and `failed` are final.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from app.clock import utcnow
from app.errors import InvalidInput
from app.extensions import db
from app.models import Message, Sitter
from app.queue import RetryPolicy, enqueue
from app.services.audit import raise_alert, record_event
from app.services.opt_out import mark_opted_out_by_phone
from app.services.twilio_provider import OPTED_OUT

log = logging.getLogger(__name__)

STATUS_RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3}
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed"})
FAILED_STATUSES = frozenset({"undelivered", "failed"})
# Twilio's message statuses → ours (MESSAGE_STATUSES); anything else is ignored.
TWILIO_STATUSES = {
    "accepted": "queued", "scheduled": "queued", "queued": "queued", "sending": "sending",
    "sent": "sent", "delivered": "delivered", "read": "delivered",
    "undelivered": "undelivered", "failed": "failed", "canceled": "failed",
}
# A callback can beat the send job's commit of the sid: look again a little later.
UNKNOWN_SID_RECHECK = RetryPolicy(max=3, intervals=(30, 120, 600))
UNKNOWN_SID_FIRST_WAIT = timedelta(seconds=15)


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


def apply_status_callback(fields: dict, *, recheck_if_unknown: bool = True) -> str:
    """Record one status callback; returns the message's status afterwards (or what happened).

    An unknown sid is looked for again later by a job (the send job may not
    have saved it yet); `recheck_if_unknown=False` raises UnknownMessageSid instead.
    """
    sid = (fields.get("MessageSid") or fields.get("SmsSid") or "").strip()
    raw_status = (fields.get("MessageStatus") or fields.get("SmsStatus") or "").strip().lower()
    if not sid or not raw_status:
        raise InvalidInput("A status callback needs MessageSid and MessageStatus.", field="MessageSid")
    new_status = TWILIO_STATUSES.get(raw_status)
    if new_status is None:
        log.info("status callback for %s: status %r ignored", sid, raw_status)
        return "ignored"
    message = db.session.scalar(select(Message).where(Message.provider_sid == sid).with_for_update())
    if message is None:
        if not recheck_if_unknown:
            raise UnknownMessageSid(sid)
        log.info("status callback for unknown sid %s (%s): checking again later", sid, raw_status)
        enqueue("app.jobs.apply_delivery_status", dict(fields), job_id=f"delivery-status-{sid}-{raw_status}",
                at=utcnow() + UNKNOWN_SID_FIRST_WAIT, retry=UNKNOWN_SID_RECHECK)
        return "unknown_sid"
    if message.direction != "outbound":
        db.session.commit()
        return "ignored"
    code = (fields.get("ErrorCode") or "").strip() or None
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
    return message.status
