"""Photos and other media attached to a message (MMS), kept behind the app's authorisation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.base import OrgScoped, Timestamped, enum_check
from app.models.types import UTCDateTime

MEDIA_STATUSES = (
    "pending",  # inbound: recorded from the webhook, not fetched from Twilio yet
    "stored",  # in the media store (stripped of metadata when it is an image)
    "failed",  # could not be fetched or read; `error` says why
)


class MessageMedia(OrgScoped, Timestamped, db.Model):
    """One attachment of a message, in the order the message carried them (`position`).

    `source_url` is where Twilio said an inbound item lives (fetched only from its API
    origin); `storage_key` / `thumb_key` name the stripped file and its thumbnail in the
    media store. Nothing here is a public URL.
    """

    __tablename__ = "message_media"
    __table_args__ = (
        CheckConstraint(enum_check("status", MEDIA_STATUSES), name="status"),
        CheckConstraint("status <> 'stored' OR storage_key IS NOT NULL", name="stored_has_key"),
        UniqueConstraint("message_id", "position"),
        Index("ix_message_media_status", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(8))
    content_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(120))  # shown to readers; never a path
    source_url: Mapped[str | None] = mapped_column(String(1000))
    storage_key: Mapped[str | None] = mapped_column(String(200))
    thumb_key: Mapped[str | None] = mapped_column(String(200))
    size_bytes: Mapped[int | None]
    width: Mapped[int | None]
    height: Mapped[int | None]
    digest: Mapped[str | None] = mapped_column(String(64))  # sha256 of what was uploaded (resend check)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    message = db.relationship("Message", lazy="select")

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/") and self.thumb_key is not None
