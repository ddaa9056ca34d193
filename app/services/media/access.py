"""Who may see which attachment, what threads show of them, and the signed URLs Twilio fetches.

Readers: an owner or staff member of the message's org; a sitter only for a thread whose
window is theirs, only for messages from before that window's end (the same rule as the
thread's text: a client's photo sent after the window closed is for owners only), and
only photos (other files are not re-encoded and may carry a phone number).
Anyone else, and a missing id, gets NotFound, so ids reveal nothing.

Twilio fetches outbound photos itself, without a login: it gets a URL signed with an HMAC
of SECRET_KEY over the media id and an expiry time. A wrong or expired signature is 403.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.adapters.media_store import get_media_store
from app.clock import utcnow
from app.errors import Forbidden, NotFound
from app.extensions import db
from app.models import AssignmentWindow, Message, MessageMedia, Sitter, Thread, User

SIGNING_CONTEXT = b"pawline media url v1\x00"


@dataclass(frozen=True)
class MediaItem:
    """One attachment as a thread shows it (no storage key, no source URL)."""

    media_id: int
    message_id: int
    filename: str
    content_type: str
    status: str  # pending, stored, failed
    is_image: bool
    error: str | None


@dataclass(frozen=True)
class MediaFile:
    data: bytes
    content_type: str
    filename: str
    is_image: bool


def media_for_messages(message_ids: list[int]) -> dict[int, list[MediaItem]]:
    """Attachments of these messages, in order, keyed by message id (one statement)."""
    if not message_ids:
        return {}
    rows = db.session.scalars(
        select(MessageMedia).where(MessageMedia.message_id.in_(message_ids))
        .order_by(MessageMedia.message_id, MessageMedia.position)
    ).all()
    found: dict[int, list[MediaItem]] = defaultdict(list)
    for media in rows:
        found[media.message_id].append(MediaItem(
            media_id=media.id, message_id=media.message_id, filename=media.filename,
            content_type=media.content_type, status=media.status, is_image=media.is_image,
            error=media.error))
    return dict(found)


def describe_media(items: list[MediaItem]) -> str:
    """A short text for a message that carried only media (lists, excerpts): never empty."""
    photos = sum(1 for item in items if item.content_type.startswith("image/"))
    others = len(items) - photos
    parts = []
    if photos:
        parts.append("1 photo" if photos == 1 else f"{photos} photos")
    if others:
        parts.append("1 attachment" if others == 1 else f"{others} attachments")
    return "[" + ", ".join(parts) + "]" if parts else ""


def _sitter_may_read(user: User, message: Message) -> bool:
    sitter_id = db.session.scalar(select(Sitter.id).where(Sitter.user_id == user.id, Sitter.org_id == user.org_id))
    if sitter_id is None or message.thread_id is None:
        return False
    ends_at = db.session.scalar(
        select(AssignmentWindow.ends_at)
        .join(Thread, Thread.id == AssignmentWindow.thread_id)
        .where(Thread.id == message.thread_id, Thread.booking_id == AssignmentWindow.booking_id,
               AssignmentWindow.sitter_id == sitter_id, AssignmentWindow.org_id == user.org_id)
    )
    return ends_at is not None and message.created_at < ends_at


def read_media(user: User, media_id: int, variant: str) -> MediaFile:
    """The stored file (variant "full" or "thumb") if this org user may read its message.

    Takes the principal itself: an operator (or a bare id) is nobody's user and reads nothing.
    """
    media = db.session.get(MessageMedia, media_id)
    if not isinstance(user, User) or media is None or media.org_id != user.org_id or media.status != "stored":
        raise NotFound("We could not find that attachment.")
    message = db.session.get(Message, media.message_id)
    if not (user.is_owner_side or (user.role == "sitter" and media.is_image and _sitter_may_read(user, message))):
        # Sitters get photos only: those were re-encoded here. Any other file (a contact card, a
        # PDF) is passed on as it came and may carry a client's number, so it stays with owners.
        raise NotFound("We could not find that attachment.")
    return _load(media, variant)


def _load(media: MessageMedia, variant: str) -> MediaFile:
    key = media.thumb_key if variant == "thumb" else media.storage_key
    if key is None:
        raise NotFound("We could not find that attachment.")
    content_type = "image/jpeg" if variant == "thumb" else media.content_type
    return MediaFile(get_media_store().get(key), content_type, media.filename, media.is_image)


def _signature(media_id: int, expires: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, SIGNING_CONTEXT + f"{media_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def signed_media_path(media_id: int, now: datetime | None = None) -> tuple[int, str]:
    """(expires, signature) for a URL Twilio may fetch until `expires` (epoch seconds)."""
    now = now or utcnow()
    expires = int(now.timestamp()) + int(current_app.config["MEDIA_URL_TTL_SECONDS"])
    return expires, _signature(media_id, expires)


def read_signed_media(media_id: int, expires: int, signature: str) -> MediaFile:
    """An outbound photo for whoever holds a valid, unexpired signature (Twilio); else Forbidden."""
    # compare_digest refuses a str with non-ASCII characters (TypeError): compare the bytes.
    given = (signature or "").encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(_signature(media_id, expires).encode(), given):
        raise Forbidden("This media link is not valid.")
    if utcnow().timestamp() >= expires:
        raise Forbidden("This media link has expired.")
    media = db.session.get(MessageMedia, media_id)
    if media is None or media.status != "stored":
        raise NotFound("We could not find that attachment.")
    direction = db.session.scalar(select(Message.direction).where(Message.id == media.message_id))
    if direction != "outbound":  # only what we send is ever handed out by link
        raise Forbidden("This media link is not valid.")
    return _load(media, "full")
