"""Where a person is told about something without a page open: push devices and notifications."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import OrgScoped, Timestamped, enum_check
from app.models.types import UTCDateTime

NOTIFICATION_KINDS = (
    "client_text",  # a client's text in the sitter's open window
    "visit_added",
    "visit_changed",
    "visit_removed",  # reassigned to another sitter
    "visit_cancelled",
    "window_opening",  # the sitter's window opens in about ten minutes
    "inbox_item",  # owners and staff: a new owner-inbox message
    "office_reply",  # a sitter: the office answered their note (POST /sitter/office)
    "visit_late",  # owners, staff and the sitter: a visit not checked in (app.services.visits.alerts)
    "visit_unfinished",  # … checked in but not checked out an hour after its end
    "visit_concern",  # owners and staff: a client's reply to a visit report sounds like a concern
    "new_sitter_needed",  # owners and staff: a sitter marked not to go to a client still has visits there
)
NOTIFICATION_STATUSES = ("pending", "sending", "sent", "no_device", "skipped", "failed")
NOTIFICATION_CHANNELS = ("push", "sms", "none")


class PushSubscription(OrgScoped, Timestamped, db.Model):
    """One browser (device) that accepted push for one user: the PushSubscription JSON, kept.

    The endpoint is the push service's URL for that browser; p256dh and auth are its keys
    (RFC 8291). A 404 or 410 from the push service means the browser dropped it: the row goes.
    """

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    device: Mapped[str] = mapped_column(String(120), default="")  # "Chrome on Android", for the owner of it
    inbox_items: Mapped[bool] = mapped_column(default=False)  # owners and staff: new inbox items too
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationSettings(OrgScoped, db.Model):
    """Per-person choices that are not tied to one device."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # A sitter without push: a text to their own phone from the front desk, with no client content.
    sms_ping: Mapped[bool] = mapped_column(default=False)


class Notification(OrgScoped, Timestamped, db.Model):
    """One thing one person is to be told (the database is the truth; the job only delivers it).

    `dedupe_key` makes planning idempotent: a job run twice, or the periodic scan and a
    scheduled job finding the same opening window, make one row.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(enum_check("kind", NOTIFICATION_KINDS), name="kind"),
        CheckConstraint(enum_check("status", NOTIFICATION_STATUSES), name="status"),
        CheckConstraint(enum_check("channel", NOTIFICATION_CHANNELS), name="channel"),
        Index("ix_notifications_user_thread_created", "user_id", "thread_id", "created_at"),
        Index("ix_notifications_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="SET NULL"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(String(240))
    url: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    channel: Mapped[str] = mapped_column(String(8), default="none")
    devices: Mapped[int] = mapped_column(default=0)  # how many devices the push service accepted it for
    sms_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(200))
