"""Care notes: what a sitter needs at the door (entry, feeding, medication), per client or per pet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.base import OrgScoped, Timestamped, enum_check
from app.models.types import UTCDateTime

CARE_NOTE_KINDS = ("entry", "feeding", "medication")


class CareNote(OrgScoped, Timestamped, db.Model):
    """One instruction; shown to the assigned sitter only around their visit (app.services.people.care_notes)."""

    __tablename__ = "care_notes"
    __table_args__ = (
        CheckConstraint(enum_check("kind", CARE_NOTE_KINDS), name="kind"),
        Index("ix_care_notes_client_kind", "client_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    pet_id: Mapped[int | None] = mapped_column(ForeignKey("pets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    body: Mapped[str] = mapped_column(String(2000))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    pet = db.relationship("Pet", lazy="joined")
