"""Visits as they happen: check-in and check-out, the visit report, the checklist per service,
and the sitters an owner does not want sent to a client again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.base import OrgScoped, Timestamped
from app.models.types import UTCDateTime

# What a sitter ticks when a service has no list of its own (owners edit the list per service).
DEFAULT_CHECKLIST = ("Fed", "Fresh water", "Walk", "Medication", "Litter")


class VisitCheck(OrgScoped, Timestamped, db.Model):
    """One booking's visit as it happened: when the sitter checked in and out, how far from the
    client's address (metres, only when the sitter's browser shared its position; the position
    itself is never stored), and the late/unfinished alerts raised for it (each at most once)."""

    __tablename__ = "visit_checks"
    __table_args__ = (
        CheckConstraint("check_in_distance_m IS NULL OR check_in_distance_m >= 0", name="check_in_distance"),
        CheckConstraint("check_out_distance_m IS NULL OR check_out_distance_m >= 0", name="check_out_distance"),
        CheckConstraint("checked_out_at IS NULL OR checked_in_at IS NOT NULL", name="out_after_in"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    sitter_id: Mapped[int | None] = mapped_column(ForeignKey("sitters.id", ondelete="SET NULL"))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check_in_distance_m: Mapped[int | None] = mapped_column()
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check_out_distance_m: Mapped[int | None] = mapped_column()
    on_the_way_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the client was told (org setting)
    # Set once, under the booking's row lock: the periodic scan never raises either alert twice.
    late_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unfinished_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class VisitReport(OrgScoped, Timestamped, db.Model):
    """The sitter's report of one visit: the checklist ticked, a note and photos. Texted to the
    client once (`message_id`); a resubmission edits the row and texts nothing."""

    __tablename__ = "visit_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    sitter_id: Mapped[int | None] = mapped_column(ForeignKey("sitters.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(1000), default="")
    checklist: Mapped[list] = mapped_column(JSON, default=list)  # the items ticked, in the list's order
    photo_count: Mapped[int] = mapped_column(default=0)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    flagged: Mapped[bool] = mapped_column(default=False)  # the note carried contact details (flag mode)
    edits: Mapped[int] = mapped_column(default=0)
    # Set once (a conditional UPDATE): a client's unhappy reply raises `visit.report_concern` once.
    concern_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    message = db.relationship("Message", lazy="select")


class VisitReportReply(OrgScoped, Timestamped, db.Model):
    """A client's text on the report's thread within the report's reply span, linked to the report
    for owners; `concern` when it reads unhappy (app.services.visits.concern_words)."""

    __tablename__ = "visit_report_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("visit_reports.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    concern: Mapped[bool] = mapped_column(default=False)
    concern_words: Mapped[str] = mapped_column(String(200), default="")  # the phrases found, for owners

    message = db.relationship("Message", lazy="joined")


class ServiceChecklist(OrgScoped, Timestamped, db.Model):
    """The checklist a sitter ticks for one service (by its name on the booking), set by owners."""

    __tablename__ = "service_checklists"
    __table_args__ = (UniqueConstraint("org_id", "service"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service: Mapped[str] = mapped_column(String(80))
    items: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SitterExclusion(OrgScoped, Timestamped, db.Model):
    """"Don't send this sitter to this client again": assignment refuses the pair."""

    __tablename__ = "sitter_exclusions"
    __table_args__ = (
        UniqueConstraint("client_id", "sitter_id"),
        Index("ix_sitter_exclusions_sitter", "sitter_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    sitter_id: Mapped[int] = mapped_column(ForeignKey("sitters.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The owner alert listing the pair's upcoming bookings when it was marked (resolved on removal).
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))

    sitter = db.relationship("Sitter", lazy="joined")


class ClientAddressPoint(OrgScoped, Timestamped, db.Model):
    """Where a client's address is on the map, as an owner entered it: the point a sitter's
    check-in distance is measured from (the sitter's own position is never stored)."""

    __tablename__ = "client_address_points"
    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), unique=True)
    latitude: Mapped[float] = mapped_column()
    longitude: Mapped[float] = mapped_column()
