"""Masking numbers, threads, assignment windows, messages and the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.base import OrgScoped, Timestamped, enum_check
from app.models.types import UTCDateTime

NUMBER_KINDS = ("front_desk", "pool", "sitter")
THREAD_SCOPES = ("client_booking", "front_desk")
DIRECTIONS = ("inbound", "outbound")
SENDER_KINDS = ("client", "sitter", "automation", "owner", "system", "unknown")
MESSAGE_STATUSES = (
    "received",  # inbound
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "blocked",  # refused before reaching the provider (opt-out, window, policy)
    # A send interrupted mid-flight that the provider could not confirm either way:
    # never sent again by itself; owners see it (queue health) and decide.
    "unknown",
)


class MessageNumber(OrgScoped, Timestamped, db.Model):
    __tablename__ = "message_numbers"
    __table_args__ = (
        CheckConstraint(enum_check("kind", NUMBER_KINDS), name="kind"),
        CheckConstraint("kind <> 'sitter' OR sitter_id IS NOT NULL", name="sitter_number_has_sitter"),
        Index("ix_message_numbers_pool_lru", "org_id", "kind", "active", "last_assigned_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    sitter_id: Mapped[int | None] = mapped_column(ForeignKey("sitters.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assignment_count: Mapped[int] = mapped_column(default=0)
    label: Mapped[str | None] = mapped_column(String(80))
    provider_sid: Mapped[str | None] = mapped_column(String(64))  # Twilio PN… sid

    sitter = db.relationship("Sitter", lazy="select")


class Thread(OrgScoped, Timestamped, db.Model):
    __tablename__ = "threads"
    __table_args__ = (
        CheckConstraint(enum_check("scope", THREAD_SCOPES), name="scope"),
        CheckConstraint(
            "(scope = 'client_booking' AND booking_id IS NOT NULL)"
            " OR (scope = 'front_desk' AND booking_id IS NULL)",
            name="scope_matches_booking",
        ),
        UniqueConstraint("org_id", "client_id", "booking_id"),
        # NULL booking ids are distinct to the constraint above: one front-desk
        # thread per client needs its own partial index.
        Index(
            "uq_threads_front_desk_client",
            "org_id",
            "client_id",
            unique=True,
            postgresql_where=text("scope = 'front_desk'"),
            sqlite_where=text("scope = 'front_desk'"),
        ),
        Index("ix_threads_number_client", "message_number_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(16))
    # NULL: the thread waits for a number (every number would give the client a second open
    # thread on it; DESIGN "One number, one conversation").
    message_number_id: Mapped[int | None] = mapped_column(ForeignKey("message_numbers.id"))
    # Why this number was chosen: sitter_dedicated, pool_lru, front_desk (waiting: none yet).
    number_reason: Mapped[str | None] = mapped_column(String(32))
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client = db.relationship("Client", lazy="joined", innerjoin=True)
    booking = db.relationship("Booking", lazy="select")
    message_number = db.relationship("MessageNumber", lazy="joined")  # None while waiting for one
    window = db.relationship("AssignmentWindow", uselist=False, back_populates="thread")


class AssignmentWindow(OrgScoped, Timestamped, db.Model):
    """When the booking's sitter may text the client through the thread."""

    __tablename__ = "assignment_windows"
    __table_args__ = (
        CheckConstraint("ends_at >= starts_at", name="ends_after_start"),
        Index("ix_windows_sitter_starts", "sitter_id", "starts_at"),
        # "Open now" and "touching today" bound ends_at from below: with this index a
        # sitter's dashboard skips their finished history (docs/performance.md).
        Index("ix_windows_sitter_ends", "sitter_id", "ends_at", "starts_at"),
        Index("ix_windows_org_starts", "org_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    sitter_id: Mapped[int | None] = mapped_column(ForeignKey("sitters.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_reason: Mapped[str | None] = mapped_column(String(64))  # e.g. cancelled
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    thread = db.relationship("Thread", back_populates="window")
    booking = db.relationship("Booking", lazy="joined", innerjoin=True)
    sitter = db.relationship("Sitter", lazy="select")

    def is_open_at(self, when: datetime) -> bool:
        return self.starts_at <= when < self.ends_at


class Message(OrgScoped, db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(enum_check("direction", DIRECTIONS), name="direction"),
        CheckConstraint(enum_check("sender_kind", SENDER_KINDS), name="sender_kind"),
        CheckConstraint(enum_check("status", MESSAGE_STATUSES), name="status"),
        Index("ix_messages_thread_created", "thread_id", "created_at"),
        Index("ix_messages_org_inbox", "org_id", "owner_inbox", "handled_at"),
        Index("ix_messages_org_status", "org_id", "status"),
        # Reconcile walks the `queued` and `sending` rows by id: a range of this index, so a
        # batch costs the same with 1,000 or 10 million messages in the table.
        Index("ix_messages_status_id", "status", "id"),
        # A compose form's one-time key: a retried send (its answer lost on a weak connection)
        # finds the message it already made instead of sending a second text.
        # A unique index (not a table constraint): SQLite adds it without rebuilding `messages`.
        Index("ux_messages_thread_send_key", "thread_id", "send_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="SET NULL"))
    direction: Mapped[str] = mapped_column(String(8))
    sender_kind: Mapped[str] = mapped_column(String(12))
    sender_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    message_number_id: Mapped[int | None] = mapped_column(ForeignKey("message_numbers.id"))
    # Real numbers: owners may see these; sitter-facing code must never render them.
    from_e164: Mapped[str | None] = mapped_column(String(32))
    to_e164: Mapped[str | None] = mapped_column(String(32))
    routing_reason: Mapped[str | None] = mapped_column(String(64))
    owner_inbox: Mapped[bool] = mapped_column(default=False)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_code: Mapped[str | None] = mapped_column(String(16))
    error_message: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(default=0)  # provider attempts (JOBS.send_message.retry, app.jobs.specs)
    tries: Mapped[int] = mapped_column(default=0, server_default="0")  # send-job tries (app.jobs.tries)
    send_key: Mapped[str | None] = mapped_column(String(64))  # the compose form's idempotency key
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    thread = db.relationship("Thread", lazy="select")
    message_number = db.relationship("MessageNumber", lazy="select")


class OutboxEntry(OrgScoped, Timestamped, db.Model):
    """What the `outbox` SMS provider "sent": the dev and test stand-in for Twilio."""

    __tablename__ = "outbox_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), index=True)
    provider_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_e164: Mapped[str] = mapped_column(String(32))
    to_e164: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    status_callback: Mapped[str | None] = mapped_column(String(500))
    media_urls: Mapped[list | None] = mapped_column(JSON)  # the signed photo links it "sent" (MMS)


class StatusCallback(db.Model):
    """A Twilio status callback for a sid no message carries yet (the send job has not saved it).

    Kept as a row so the callback survives Redis: its job (`app.jobs.apply_status_callback`) gets
    only this row's id, and reconcile re-enqueues it if the job is lost. Only the sid, the status
    and the error code are kept: no phone number, no body. `state`: pending → applied, or
    unmatched when no message ever took the sid.
    """

    __tablename__ = "status_callbacks"
    __table_args__ = (
        CheckConstraint(enum_check("state", ("pending", "applied", "unmatched")), name="state"),
        Index("ix_status_callbacks_pending", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_sid: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
