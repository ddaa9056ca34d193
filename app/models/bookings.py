"""Bookings and the payments recorded against them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.base import OrgScoped, Timestamped, enum_check
from app.models.types import UTCDateTime

BOOKING_STATUSES = ("pending", "confirmed", "cancelled", "completed")
PAYMENT_KINDS = ("checkout", "payment_intent", "manual", "refund")


class Booking(OrgScoped, Timestamped, db.Model):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint(enum_check("status", BOOKING_STATUSES), name="status"),
        CheckConstraint("end_at > start_at", name="ends_after_start"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        Index("ix_bookings_org_start", "org_id", "start_at"),
        Index("ix_bookings_sitter_start", "sitter_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    sitter_id: Mapped[int | None] = mapped_column(ForeignKey("sitters.id", ondelete="SET NULL"))
    service: Mapped[str] = mapped_column(String(80), default="Drop-in visit")
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    price_cents: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checkout_session_id: Mapped[str | None] = mapped_column(String(255))
    checkout_url: Mapped[str | None] = mapped_column(String(1000))
    notes: Mapped[str | None] = mapped_column(String(2000))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Bookings made together from one repeat rule share this id (app.services.bookings.series).
    series_id: Mapped[str | None] = mapped_column(String(32), index=True)

    client = db.relationship("Client", lazy="joined", innerjoin=True)
    sitter = db.relationship("Sitter", lazy="joined")
    # Read-only; loaded when used, or with the row lock (lock_row(…, with_org=True)).
    org = db.relationship("Org", lazy="select", viewonly=True)


class Payment(OrgScoped, Timestamped, db.Model):
    """Money seen for a booking: Stripe payments and refunds, or paid in person."""

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint(enum_check("kind", PAYMENT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount_cents: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    reference: Mapped[str | None] = mapped_column(String(255))  # Stripe object id
    stripe_event_id: Mapped[str | None] = mapped_column(String(255))
