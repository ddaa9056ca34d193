"""Notes between a sitter and the office (owners and staff): `POST /sitter/office` and the answers.

A sitter's note is also an owner-inbox `Message` (direction inbound, sender_kind sitter, no
thread, no phone number) so it is listed, counted and marked handled like every other inbox
item; this row keeps who wrote it, the visit and thread it is about, and the office's answers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import OrgScoped, Timestamped, enum_check
from app.models.types import UTCDateTime

OFFICE_NOTE_DIRECTIONS = ("to_office", "to_sitter")


class OfficeNote(OrgScoped, Timestamped, db.Model):
    __tablename__ = "office_notes"
    __table_args__ = (
        CheckConstraint(enum_check("direction", OFFICE_NOTE_DIRECTIONS), name="direction"),
        Index("ix_office_notes_sitter_created", "sitter_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sitter_id: Mapped[int] = mapped_column(ForeignKey("sitters.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The conversation the note is about (a sitter's own thread), if any.
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="SET NULL"))
    # The visit the note is about, if any: also when its conversation has no window for the sitter yet
    # (it waits for a number), so the office can open the booking from the note.
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"), index=True)
    # The owner-inbox message: the note itself (to_office) or the note answered (to_sitter).
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sitter = db.relationship("Sitter", lazy="joined")
