"""Inbound MMS: the webhook records one row per media item; a job fetches, strips and stores each.

The webhook does no network call of its own (Twilio waits on it): it writes `pending`
rows in the message's transaction and queues `app.jobs.fetch_inbound_media(media_id)`
per row. The job is safe to run twice (a stored or failed row is left alone) and a row
it cannot finish ends `failed` with the reason and an owner alert.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import insert, select, update

from app.adapters.media_store import MediaStoreError, delete_quietly, get_media_store
from app.adapters.twilio_media import MediaFetchError, fetch_twilio_media
from app.clock import utcnow
from app.extensions import db
from app.jobs.queue import enqueue
from app.jobs.specs import JOBS
from app.models import Message, MessageMedia
from app.services.audit.events import raise_alert, record_event
from app.services.media.processing import MMS_MAX_FILES, ImageRejected, prepare_for_storage
from app.services.messaging.provider_deletion import request_media_deletion

log = logging.getLogger(__name__)

MAX_FETCH_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class InboundMediaRef:
    url: str
    content_type: str


def parse_inbound_media(fields: Mapping[str, str]) -> list[InboundMediaRef]:
    """`NumMedia`, `MediaUrlN`, `MediaContentTypeN` of a Twilio webhook, in order.

    Garbage (a non-number, a negative count, a missing URL) yields fewer items, never an
    error: the text itself must still be recorded. Twilio sends at most 10.
    """
    raw = (fields.get("NumMedia") or "0").strip()
    count = int(raw) if raw.isdigit() else 0
    refs = []
    for index in range(min(count, MMS_MAX_FILES)):
        url = (fields.get(f"MediaUrl{index}") or "").strip()
        content_type = (fields.get(f"MediaContentType{index}") or "").strip().lower()[:100]
        if url:
            refs.append(InboundMediaRef(url[:1000], content_type or "application/octet-stream"))
    return refs


def _display_name(position: int, content_type: str) -> str:
    if content_type.startswith("image/"):
        return f"photo-{position + 1}.jpg"
    extension = mimetypes.guess_extension(content_type.split(";")[0]) or ""
    return f"attachment-{position + 1}{extension}"


_INSERT_MEDIA = insert(MessageMedia.__table__).returning(MessageMedia.__table__.c.id)


def record_inbound_media(org_id: int, message_id: int, refs: list[InboundMediaRef]) -> list[int]:
    """`pending` rows for a just-recorded inbound message, in the caller's transaction, and
    one fetch job each (handed to the queue when the caller commits)."""
    now = utcnow()
    ids = []
    for position, ref in enumerate(refs):
        media_id = db.session.execute(_INSERT_MEDIA, dict(
            org_id=org_id, message_id=message_id, position=position, status="pending",
            content_type=ref.content_type, filename=_display_name(position, ref.content_type),
            source_url=ref.url, attempts=0, created_at=now, updated_at=now)).scalar_one()
        ids.append(media_id)
        enqueue_fetch(media_id)
    return ids


def enqueue_fetch(media_id: int) -> None:
    enqueue(JOBS.fetch_inbound_media, media_id)  # after the INSERT's transaction commits


def fetch_inbound_media(media_id: int, session=None) -> str:
    """Fetch, strip and store one inbound media item; returns its status afterwards.

    Raises MediaFetchError when a transient failure should be retried by the queue.
    """
    media = db.session.get(MessageMedia, media_id)
    if media is None:
        return "missing"
    if media.status != "pending":
        db.session.commit()
        return media.status
    if media.attempts > JOBS.fetch_inbound_media.retry.max:  # re-enqueued by reconcile after every try was used
        db.session.commit()
        return _fail(media_id, f"Could not fetch the attachment from Twilio after {media.attempts} attempts.")
    media.attempts += 1
    url, org_id, position, declared = media.source_url, media.org_id, media.position, media.content_type
    attempts = media.attempts
    db.session.commit()  # no transaction stays open across the network call

    config = current_app.config
    label = f"Photo {position + 1}"
    try:
        fetched = fetch_twilio_media(url or "", origin=config["TWILIO_MEDIA_ORIGIN"],
                                     account_sid=config.get("TWILIO_ACCOUNT_SID") or "",
                                     auth_token=config.get("TWILIO_AUTH_TOKEN") or "",
                                     max_bytes=MAX_FETCH_BYTES, session=session,
                                     extra_hosts=config.get("TWILIO_MEDIA_HOSTS", ()))
    except MediaFetchError as exc:
        if exc.transient and attempts <= JOBS.fetch_inbound_media.retry.max:
            _note_error(media_id, str(exc))
            log.warning("media %s: fetch attempt %d failed (%s); the queue will retry", media_id, attempts, exc)
            raise
        return _fail(media_id, f"Could not fetch the attachment from Twilio: {exc}")
    return _store(media_id, org_id, declared, fetched.data, label)


def _store(media_id: int, org_id: int, declared: str, data: bytes, label: str) -> str:
    store = get_media_store()
    base = f"org/{org_id}/media/{media_id}/{secrets.token_hex(8)}"
    if declared.startswith("image/"):
        try:
            photo = prepare_for_storage(data, label)
        except ImageRejected as exc:
            return _fail(media_id, f"The client's photo could not be read: {exc}")
        files = [(f"{base}.jpg", photo.data, photo.content_type), (f"{base}-thumb.jpg", photo.thumbnail,
                                                                   "image/jpeg")]
        values = dict(content_type=photo.content_type, storage_key=files[0][0], thumb_key=files[1][0],
                      size_bytes=len(photo.data), width=photo.width, height=photo.height)
    else:
        # Not a photo (a contact card, a PDF, a video): kept as it came, offered as a download.
        files = [(f"{base}.bin", data, declared)]
        values = dict(storage_key=files[0][0], size_bytes=len(data))
    written = []
    try:
        for key, blob, content_type in files:
            store.put(key, blob, content_type)
            written.append(key)
    except MediaStoreError as exc:
        delete_quietly(store, written)
        _note_error(media_id, str(exc))
        raise MediaFetchError(str(exc), transient=True) from exc
    saved = db.session.execute(
        update(MessageMedia).where(MessageMedia.id == media_id, MessageMedia.status == "pending")
        .values(status="stored", error=None, digest=hashlib.sha256(data).hexdigest(), **values)
    ).rowcount
    if saved:  # ours now: Twilio's copy of the media goes (app.services.messaging.provider_deletion)
        request_media_deletion(org_id, media_id)
    db.session.commit()
    if not saved:  # a concurrent run of this job stored it first: keep theirs
        delete_quietly(store, written)
    return "stored"


def _note_error(media_id: int, error: str) -> None:
    db.session.execute(update(MessageMedia).where(MessageMedia.id == media_id).values(error=error[:300]))
    db.session.commit()


def _fail(media_id: int, reason: str) -> str:
    """Give up on one item: `failed` with the reason, audited, and owners alerted."""
    media = db.session.get(MessageMedia, media_id)
    if media.status != "pending":
        db.session.commit()
        return media.status
    media.status, media.error = "failed", reason[:300]
    thread_id = db.session.scalar(select(Message.thread_id).where(Message.id == media.message_id))
    record_event(media.org_id, "media.failed", thread_id=thread_id, message_id=media.message_id,
                 media_id=media.id, reason=reason[:300])
    raise_alert(media.org_id, "media.failed", f"An attachment of a client's text could not be kept: {reason}",
                thread_id=thread_id, message_id=media.message_id)
    db.session.commit()
    log.warning("media %s failed: %s", media_id, reason)
    return "failed"
