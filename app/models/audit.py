"""The audit log and the alerts people act on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import OrgScoped, Timestamped, enum_check
from app.models.types import UTCDateTime

ALERT_AUDIENCES = ("owner", "sitter")


class EventLog(OrgScoped, Timestamped, db.Model):
    __tablename__ = "event_logs"
    __table_args__ = (
        Index("ix_event_logs_org_created", "org_id", "created_at"),
        Index("ix_event_logs_booking", "booking_id"),
        Index("ix_event_logs_org_kind", "org_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="SET NULL"))
    sitter_id: Mapped[int | None] = mapped_column(ForeignKey("sitters.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(64), default="system")  # "user:3", "stripe", …
    payload: Mapped[dict] = mapped_column(JSON, default=dict)


class Alert(OrgScoped, Timestamped, db.Model):
    """Something a person must see: owners (no number, failed send) or one sitter."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(enum_check("audience", ALERT_AUDIENCES), name="audience"),
        CheckConstraint("audience <> 'sitter' OR sitter_id IS NOT NULL", name="sitter_alert_has_sitter"),
        Index("ix_alerts_org_audience_open", "org_id", "audience", "resolved_at"),
        Index("ix_alerts_sitter_created", "sitter_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    audience: Mapped[str] = mapped_column(String(8))
    sitter_id: Mapped[int | None] = mapped_column(ForeignKey("sitters.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(500))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
