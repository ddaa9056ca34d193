"""Outbound photos: uploads checked and made MMS-ready, stored, attached, and signed for Twilio.

Order matters for "nothing half-sent": every upload is decoded, stripped and sized first
(a bad one refuses the whole message, the caption kept); only then are the files
written, and the message and its media rows are committed together. A store that
fails after some files were written removes them and nothing is queued.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import insert, select

from app.adapters.media_store import MediaStoreError, delete_quietly, get_media_store
from app.clock import utcnow
from app.errors import DomainError, InvalidInput
from app.extensions import db
from app.models import Message, MessageMedia
from app.services.media.access import signed_media_path
from app.services.media.processing import (
    MMS_MAX_FILES,
    MMS_MAX_TOTAL_BYTES,
    ImageRejected,
    ProcessedPhoto,
    mms_budget,
    prepare_for_mms,
)

MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # one original photo (a 48 MP phone JPEG is about 15 MB)
KEPT = "Nothing was sent; your text is still in the box."


class MediaUnavailable(DomainError):
    """The media store could not take the photos right now."""

    status_code = 503


@dataclass(frozen=True)
class Upload:
    """A file as it came from a form: the name the phone gave it, and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class PreparedPhoto:
    photo: ProcessedPhoto
    digest: str  # sha256 of the original upload


@dataclass(frozen=True)
class StoredPhoto:
    prepared: PreparedPhoto
    key: str
    thumb_key: str


def _label(upload: Upload, position: int) -> str:
    name = "".join(ch for ch in (upload.filename or "") if ch.isprintable()).strip()[-60:]
    return f'"{name}"' if name else f"Photo {position + 1}"


def prepare_uploads(uploads: list[Upload]) -> list[PreparedPhoto]:
    """Every upload made MMS-ready (upright, stripped, within Twilio's limits), or InvalidInput.

    Empty file fields (no file chosen) are ignored.
    """
    uploads = [u for u in uploads if u.data]
    if len(uploads) > MMS_MAX_FILES:
        raise InvalidInput(f"Attach at most {MMS_MAX_FILES} photos to one message (you chose "
                           f"{len(uploads)}). {KEPT}", field="photos")
    budget = mms_budget(len(uploads))
    prepared = []
    for position, upload in enumerate(uploads):
        label = _label(upload, position)
        if len(upload.data) > MAX_UPLOAD_BYTES:
            raise InvalidInput(f"{label} is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB. {KEPT}",
                               field="photos")
        try:
            photo = prepare_for_mms(upload.data, label, budget)
        except ImageRejected as exc:
            raise InvalidInput(f"{exc} {KEPT}", field="photos") from None
        prepared.append(PreparedPhoto(photo, hashlib.sha256(upload.data).hexdigest()))
    if sum(len(p.photo.data) for p in prepared) > MMS_MAX_TOTAL_BYTES:
        raise InvalidInput(f"These photos together are over Twilio's 5 MB limit. Send fewer at once. {KEPT}",
                           field="photos")
    return prepared


def store_photos(org_id: int, prepared: list[PreparedPhoto]) -> list[StoredPhoto]:
    """Write each photo and its thumbnail to the media store; MediaUnavailable (nothing left) on failure."""
    store = get_media_store()
    stored, written = [], []
    try:
        for item in prepared:
            base = f"org/{org_id}/out/{utcnow():%Y%m}/{secrets.token_hex(12)}"
            key, thumb_key = f"{base}.jpg", f"{base}-thumb.jpg"
            store.put(key, item.photo.data, item.photo.content_type)
            written.append(key)
            store.put(thumb_key, item.photo.thumbnail, "image/jpeg")
            written.append(thumb_key)
            stored.append(StoredPhoto(item, key, thumb_key))
    except MediaStoreError:
        delete_quietly(store, written)
        raise MediaUnavailable(f"The photos could not be saved just now. {KEPT} Try again in a minute.") from None
    return stored


def discard_photos(stored: list[StoredPhoto]) -> None:
    """Remove files written for a message that was then not queued."""
    delete_quietly(get_media_store(), [key for item in stored for key in (item.key, item.thumb_key)])


@contextmanager
def stored_photos(org_id: int, prepared: list[PreparedPhoto]) -> Iterator[list[StoredPhoto]]:
    """The photos written to the store for the block that queues their message and commits.

    If the block raises, its transaction is rolled back and the files are removed: nothing
    half-sent (no message without its photos, no photos without a message).
    """
    stored = store_photos(org_id, prepared)
    try:
        yield stored
    except BaseException:
        db.session.rollback()
        discard_photos(stored)
        raise


_INSERT_MEDIA = insert(MessageMedia.__table__)


def attach_photos(org_id: int, message_id: int, stored: list[StoredPhoto]) -> None:
    """The media rows of a just-queued outbound message, in the caller's transaction."""
    now = utcnow()
    for position, item in enumerate(stored):
        photo = item.prepared.photo
        db.session.execute(_INSERT_MEDIA, dict(
            org_id=org_id, message_id=message_id, position=position, status="stored",
            content_type=photo.content_type, filename=f"photo-{position + 1}.jpg", storage_key=item.key,
            thumb_key=item.thumb_key, size_bytes=len(photo.data), width=photo.width, height=photo.height,
            digest=item.prepared.digest, attempts=0, created_at=now, updated_at=now))


def media_digests(message_id: int) -> list[str]:
    """The upload digests of a message's photos, in order (for the repeated-tap check)."""
    return list(db.session.scalars(select(MessageMedia.digest).where(MessageMedia.message_id == message_id)
                                   .order_by(MessageMedia.position)))


def outbound_media_urls(message_id: int) -> list[str]:
    """Fresh signed URLs of a message's photos, for the provider call (signed at send time, so a
    send delayed by retries still hands Twilio a valid link)."""
    ids = db.session.scalars(
        select(MessageMedia.id).join(Message, Message.id == MessageMedia.message_id)
        .where(MessageMedia.message_id == message_id, MessageMedia.status == "stored",
               Message.direction == "outbound")
        .order_by(MessageMedia.position)
    ).all()
    base = current_app.config.get("PUBLIC_BASE_URL") or ""
    urls = []
    for media_id in ids:
        expires, signature = signed_media_path(media_id)
        urls.append(f"{base}/media/signed/{media_id}/{expires}/{signature}.jpg")
    return urls
