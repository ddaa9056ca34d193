"""Automated texts: one run per (booking, kind), and per-org templates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.base import OrgScoped, Timestamped, enum_check
from app.models.types import UTCDateTime

AUTOMATION_KINDS = (
    "booking_confirmation",
    "night_before_reminder",
    "booking_cancelled",
    "visit_followup",
    "sitter_changed",
)
RUN_STATUSES = ("scheduled", "sent", "skipped", "cancelled", "failed")


class AutomationRun(OrgScoped, Timestamped, db.Model):
    __tablename__ = "automation_runs"
    __table_args__ = (
        UniqueConstraint("booking_id", "kind"),
        CheckConstraint(enum_check("kind", AUTOMATION_KINDS), name="kind"),
        CheckConstraint(enum_check("status", RUN_STATUSES), name="status"),
        Index("ix_automation_runs_due", "status", "scheduled_for"),
        Index("ix_automation_runs_status_id", "status", "id"),  # reconcile's batches
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(10), default="scheduled")
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    booking = db.relationship("Booking", lazy="joined", innerjoin=True)


class AutomationTemplate(OrgScoped, Timestamped, db.Model):
    __tablename__ = "automation_templates"
    __table_args__ = (
        UniqueConstraint("org_id", "kind"),
        CheckConstraint(enum_check("kind", AUTOMATION_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
