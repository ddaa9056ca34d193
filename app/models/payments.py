"""Stripe webhook events as received: one row per Stripe event id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import Timestamped, enum_check
from app.models.types import UTCDateTime

STRIPE_EVENT_STATUSES = ("received", "processed", "ignored", "failed")


class StripeEvent(Timestamped, db.Model):
    """Not org-scoped at the key: the org is known only once the booking is found."""

    __tablename__ = "stripe_events"
    __table_args__ = (
        CheckConstraint(enum_check("status", STRIPE_EVENT_STATUSES), name="status"),
        # Reconcile reads the events still to apply, oldest first.
        Index("ix_stripe_events_status_created", "status", "stripe_created"),
    )

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # Stripe's evt_…
    type: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="received")
    org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id", ondelete="SET NULL"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(default=0)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The verified body exactly as Stripe signed it: the apply job reads the event from here.
    payload: Mapped[str | None] = mapped_column(Text)
    stripe_created: Mapped[int | None] = mapped_column(BigInteger)  # Stripe's `created` (unix seconds)
    # The payment intent the event is about: a refund that arrives before its payment is found again
    # when the payment is applied.
    payment_intent: Mapped[str | None] = mapped_column(String(255), index=True)
