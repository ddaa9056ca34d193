"""Calls relayed through a masking number, and the once-a-day out-of-window replies."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.base import OrgScoped, Timestamped, enum_check
from app.models.types import UTCDateTime

CALL_DIRECTIONS = ("inbound", "outbound")
# What became of a call: where it was sent (sitter, office, message, refused) and, once
# Twilio reports the dial's end, how it ended (completed, no-answer, busy, failed).
CALL_OUTCOMES = ("ringing_sitter", "office", "message", "refused",
                 "completed", "no-answer", "busy", "failed", "canceled")


class Call(OrgScoped, Timestamped, db.Model):
    """One call through one of our numbers: a client calling in, or a sitter's click-to-call.

    `from_e164` / `to_e164` are the real numbers at both ends, for owners only: sitter-facing
    code never renders them (a sitter sees the masking number and the client's first name).
    """

    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint(enum_check("direction", CALL_DIRECTIONS), name="direction"),
        CheckConstraint(enum_check("outcome", CALL_OUTCOMES), name="outcome"),
        Index("ix_calls_thread_created", "thread_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)  # Twilio CA… sid
    direction: Mapped[str] = mapped_column(String(8))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="SET NULL"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    message_number_id: Mapped[int | None] = mapped_column(ForeignKey("message_numbers.id"))
    sitter_id: Mapped[int | None] = mapped_column(ForeignKey("sitters.id", ondelete="SET NULL"))
    from_e164: Mapped[str | None] = mapped_column(String(32))
    to_e164: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    thread = db.relationship("Thread", lazy="select")
    sitter = db.relationship("Sitter", lazy="select")


class OutOfWindowReply(OrgScoped, Timestamped, db.Model):
    """The one automatic "the office has your message" reply a client got on a day (org time):
    its unique key makes "once per client per day" hold under concurrent texts."""

    __tablename__ = "out_of_window_replies"
    __table_args__ = (UniqueConstraint("client_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
