"""The SMS provider interface and the `outbox` implementation (dev and tests).

A provider sends one text and reports what happened; it never decides retries.
Errors are classified here so the send job can retry transient ones and fail
permanent ones at once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, insert, select

from app.extensions import db
from app.models import OutboxEntry
from app.privacy import mask_phone

log = logging.getLogger(__name__)


class SendError(Exception):
    """`maybe_sent`: the provider may have accepted the text anyway (a timeout, a 5xx)."""

    def __init__(self, message: str, code: str | None = None, maybe_sent: bool = False):
        super().__init__(message)
        self.code = code
        self.maybe_sent = maybe_sent


class TransientSendError(SendError):
    """Network trouble, provider 5xx, rate limit (20429): try again later."""


class PermanentSendError(SendError):
    """Opted out (21610), invalid number (21211, 21614) …: retrying cannot help."""


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str  # the provider's status right after accepting: queued, sent, …


@dataclass(frozen=True)
class SentLookup:
    """What the provider knows of a text after an interrupted send.

    `sid` set: it took the text (`status` is its status, ours). `sid` None and `certain`:
    it surely did not. Neither: it cannot tell, and the text must not be sent again blindly.
    """

    sid: str | None = None
    status: str | None = None
    certain: bool = False


class SmsProvider(Protocol):
    name: str

    def send(self, *, message_id: int, org_id: int, from_e164: str, to_e164: str, body: str,
             status_callback: str | None, media_urls: list[str] | None = None) -> SendResult:
        """`media_urls`: signed links to the message's photos (MMS), fetched by the provider."""
        ...

    def find_sent(self, *, message_id: int, from_e164: str, to_e164: str, body: str,
                  since: datetime | None = None) -> str | None:
        """The sid of a text already accepted for this message (crash recovery), or None.

        `since` is when the message row was created: nothing older can be it.
        """
        ...

    def look_up(self, *, message_id: int, provider_sid: str | None, from_e164: str, to_e164: str,
                body: str, since: datetime | None = None) -> SentLookup:
        """Whether a send interrupted mid-flight reached the provider (reconcile's question)."""
        ...

    def delete_message(self, provider_sid: str) -> bool:
        """Delete the provider's copy of a message and its media; True when it is gone."""
        ...

    def delete_media(self, message_sid: str, media_sid: str) -> bool:
        """Delete one media item of a message at the provider; True when it is gone."""
        ...


_RECORD_SEND = insert(OutboxEntry.__table__)


class OutboxProvider:
    """Records each send as an OutboxEntry row and a log line; nothing leaves the machine."""

    name = "outbox"

    def send(self, *, message_id, org_id, from_e164, to_e164, body, status_callback,
             media_urls=None) -> SendResult:
        sid = "OB" + uuid.uuid4().hex
        # A Core INSERT in the caller's transaction (committed with the message's new status):
        # nothing reads the row back, so it needs no ORM object or unit of work.
        db.session.execute(_RECORD_SEND, {"org_id": org_id, "message_id": message_id, "provider_sid": sid,
                                          "from_e164": from_e164, "to_e164": to_e164, "body": body,
                                          "status_callback": status_callback,
                                          "media_urls": list(media_urls) if media_urls else None})
        log.info("outbox: message %s from %s to %s (%d chars, %d media) sid=%s", message_id,
                 mask_phone(from_e164), mask_phone(to_e164), len(body), len(media_urls or []), sid)
        return SendResult(sid=sid, status="sent")

    def delete_message(self, provider_sid: str) -> bool:
        """The outbox's copy of a text goes (erase, retention); True: it is gone."""
        db.session.execute(delete(OutboxEntry.__table__).where(OutboxEntry.__table__.c.provider_sid == provider_sid))
        return True

    def delete_media(self, message_sid: str, media_sid: str) -> bool:
        return True  # the outbox keeps no media of its own

    def find_sent(self, *, message_id, from_e164, to_e164, body, since=None) -> str | None:
        return db.session.scalar(select(OutboxEntry.provider_sid).where(OutboxEntry.message_id == message_id))

    def look_up(self, *, message_id, provider_sid, from_e164, to_e164, body, since=None) -> SentLookup:
        # The outbox row is written in the same transaction as the message's new status, so
        # its absence is certain: the interrupted send never happened.
        sid = self.find_sent(message_id=message_id, from_e164=from_e164, to_e164=to_e164, body=body)
        return SentLookup(sid=sid, status="sent" if sid else None, certain=True)
