"""The Twilio SMS provider: the official SDK, with its errors sorted into retry or give up.

Twilio error codes (https://www.twilio.com/docs/api/errors) decide first, the
HTTP status second: 21610 (recipient replied STOP) and 21211/21614 (not a
valid or not an SMS-capable number) can never succeed; 20429 / HTTP 429 (too
many concurrent requests) and 5xx are worth another try, as are network errors.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import requests
from sqlalchemy import select
from twilio.base.exceptions import TwilioException
from twilio.http import HttpClient
from twilio.rest import Client

from app.adapters.sms import PermanentSendError, SendResult, SentLookup, TransientSendError
from app.extensions import db
from app.models import Message
from app.privacy import mask_phone

log = logging.getLogger(__name__)

OPTED_OUT = "21610"
INVALID_NUMBER_CODES = frozenset({"21211", "21614"})
RATE_LIMITED_CODES = frozenset({"20429"})
# How far back crash recovery looks: a text created by Twilio before our row
# existed cannot be ours (a little slack for clock skew between us and Twilio).
CLOCK_SKEW = timedelta(minutes=5)
RECOVERY_LOOKBACK = 20  # most recent texts for the pair to compare

# Twilio's message statuses → ours (MESSAGE_STATUSES); anything else is ignored.
TWILIO_STATUSES = {
    "accepted": "queued", "scheduled": "queued", "queued": "queued", "sending": "sending",
    "sent": "sent", "delivered": "delivered", "read": "delivered",
    "undelivered": "undelivered", "failed": "failed", "canceled": "failed",
}


def classify_twilio_error(exc: Exception) -> TransientSendError | PermanentSendError:
    """Map an SDK or network exception to the error the send job understands."""
    if isinstance(exc, requests.RequestException | OSError):
        # The request may have reached Twilio before the connection broke.
        return TransientSendError(f"network error talking to Twilio: {type(exc).__name__}", code="network",
                                  maybe_sent=True)
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    code = str(code) if code is not None else None
    detail = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", None) or ""
    text = f"Twilio refused the text (HTTP {status}, error {code}): {detail}".strip()
    if code == OPTED_OUT:
        return PermanentSendError("The client has replied STOP to this number (Twilio 21610).", code=code)
    if code in INVALID_NUMBER_CODES:
        return PermanentSendError(f"The client's number cannot receive texts (Twilio {code}).", code=code)
    if code in RATE_LIMITED_CODES or status == 429:
        return TransientSendError(text, code=code or "429")
    if isinstance(status, int) and status >= 500:
        return TransientSendError(text, code=code or str(status), maybe_sent=True)
    if isinstance(status, int) and 400 <= status < 500:
        return PermanentSendError(text, code=code or str(status))
    return TransientSendError(text or f"Twilio error: {type(exc).__name__}", code=code)


class TwilioProvider:
    """Sends through `client.messages.create`; finds an already-accepted text after a crash."""

    name = "twilio"

    def __init__(self, client: Client):
        self.client = client

    @classmethod
    def from_config(cls, config, http_client: HttpClient | None = None) -> TwilioProvider:
        """Build from TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN; `http_client` is the SDK's own hook."""
        http_client = http_client or config.get("TWILIO_HTTP_CLIENT")
        # The SDK logs every request's query (numbers included) at INFO: keep it to warnings.
        logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
        return cls(Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"], http_client=http_client))

    def send(self, *, message_id, org_id, from_e164, to_e164, body, status_callback,
             media_urls=None, messaging_service_sid=None) -> SendResult:
        options = {"to": to_e164, "from_": from_e164, "body": body}
        if messaging_service_sid:
            # Through the org's Messaging Service (one opt-out list for all its numbers), with the
            # thread's number pinned as the sender: the client sees the number they know.
            options["messaging_service_sid"] = messaging_service_sid
        if media_urls:
            if not all(url.startswith("https://") for url in media_urls):
                # Twilio fetches each photo itself: a relative or plain-http link can never work.
                raise PermanentSendError("Photos need PUBLIC_BASE_URL set to the app's https address.",
                                         code="media_url")
            options["media_url"] = list(media_urls)
            if not body:
                del options["body"]  # a photo with no caption: Twilio needs Body or MediaUrl, not both
        if status_callback:
            options["status_callback"] = status_callback
        try:
            created = self.client.messages.create(**options)
        except (TwilioException, requests.RequestException, OSError) as exc:
            error = classify_twilio_error(exc)
            log.warning("twilio: message %s from %s to %s not accepted: %s (%s)", message_id,
                        mask_phone(from_e164), mask_phone(to_e164), type(error).__name__, error.code)
            raise error from exc
        log.info("twilio: message %s from %s to %s accepted sid=%s status=%s", message_id,
                 mask_phone(from_e164), mask_phone(to_e164), created.sid, created.status)
        return SendResult(sid=created.sid, status=created.status or "queued")

    def delete_message(self, provider_sid: str) -> bool:
        """Ask Twilio to delete a message and its media (`client.messages(sid).delete()`).

        True when it is gone (deleted now, or already: 404). Raises a SendError otherwise:
        transient ones are retried by the caller, permanent ones are shown to owners."""
        try:
            self.client.messages(provider_sid).delete()
        except (TwilioException, requests.RequestException, OSError) as exc:
            if getattr(exc, "status", None) == 404:
                return True
            raise classify_twilio_error(exc) from exc
        log.info("twilio: message %s deleted", provider_sid)
        return True

    def delete_media(self, message_sid: str, media_sid: str) -> bool:
        """Delete one media item of a message (`client.messages(sid).media(media_sid).delete()`)."""
        try:
            self.client.messages(message_sid).media(media_sid).delete()
        except (TwilioException, requests.RequestException, OSError) as exc:
            if getattr(exc, "status", None) == 404:
                return True
            raise classify_twilio_error(exc) from exc
        return True

    def find_sent(self, *, message_id, from_e164, to_e164, body, since: datetime | None = None) -> str | None:
        """The sid of a text Twilio already accepted for this message, or None.

        Twilio's Messages API has no idempotency key, so after a crash between
        "accepted" and "saved" we list the most recent texts for the same
        (from, to) pair and take one with the same body, created after our row
        was, whose sid no other message of ours already holds. Two identical
        texts to one client in the same minutes are the only ambiguity, and then
        either sid is a faithful record of a text that went out.
        """
        try:
            recent = self.client.messages.list(to=to_e164, from_=from_e164, limit=RECOVERY_LOOKBACK)
        except (TwilioException, requests.RequestException, OSError) as exc:
            raise classify_twilio_error(exc) from exc  # unsure: do not send again yet
        candidates = [
            m.sid for m in recent
            if m.body == body and (since is None or m.date_created is None
                                   or m.date_created >= since - CLOCK_SKEW)
        ]
        if not candidates:
            return None
        taken = set(db.session.scalars(select(Message.provider_sid).where(Message.provider_sid.in_(candidates))))
        for sid in candidates:
            if sid not in taken:
                return sid
        return None

    def look_up(self, *, message_id, provider_sid, from_e164, to_e164, body, since=None) -> SentLookup:
        """Ask Twilio: by the stored sid when there is one (its real status), else look for the
        text among the pair's recent ones. Not finding it is never certain (the list can lag,
        or a timeout hid an accepted text), so the caller must not send again on that."""
        if provider_sid:
            try:
                found = self.client.messages(provider_sid).fetch()
            except (TwilioException, requests.RequestException, OSError) as exc:
                if getattr(exc, "status", None) == 404:
                    return SentLookup()
                raise classify_twilio_error(exc) from exc
            return SentLookup(sid=found.sid, status=TWILIO_STATUSES.get((found.status or "").lower(), "sent"))
        sid = self.find_sent(message_id=message_id, from_e164=from_e164, to_e164=to_e164, body=body,
                             since=since)
        return SentLookup(sid=sid, status="sent" if sid else None)
