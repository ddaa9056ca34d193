"""The consent ledger (who agreed to texts, when, how, to which wording) and provider deletions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from app.models.base import OrgScoped, Timestamped, enum_check
from app.models.types import UTCDateTime

CONSENT_KINDS = ("granted", "revoked")
PROVIDER_DELETION_STATUSES = ("pending", "deleted", "failed")


class ConsentEvent(OrgScoped, Timestamped, db.Model):
    """One grant or revocation of consent to texts. Append-only: a revocation is a new row.

    The number is kept only as a keyed hash (`phone_hash`, HMAC-SHA256 with SECRET_KEY), so the
    ledger answers "did this number agree?" even after the client's data is erased, without
    holding the number itself. `client_id` is empty for a sender who is not (or no longer) a client.
    """

    __tablename__ = "consent_events"
    __table_args__ = (
        CheckConstraint(enum_check("kind", CONSENT_KINDS), name="kind"),
        Index("ix_consent_events_org_phone", "org_id", "phone_hash", "created_at"),
        Index("ix_consent_events_client", "client_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    phone_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    # booking_form, verbal, written (staff-entered), client_texted_first, keyword_stop,
    # keyword_start, plain_language, provider_opt_out
    method: Mapped[str] = mapped_column(String(32))
    wording: Mapped[str | None] = mapped_column(Text)  # the consent text shown, or what the client wrote
    wording_version: Mapped[int | None]
    zone: Mapped[str | None] = mapped_column(String(64))  # the client's time zone at that moment
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))


@event.listens_for(ConsentEvent, "before_update")
def _refuse_update(mapper, connection, target) -> None:
    raise ValueError("ConsentEvent rows are append-only: record a new event instead")


@event.listens_for(ConsentEvent, "before_delete")
def _refuse_delete(mapper, connection, target) -> None:
    raise ValueError("ConsentEvent rows are append-only: record a new event instead")


class ProviderDeletion(OrgScoped, Timestamped, db.Model):
    """A request that the SMS provider delete its copy of one message and its media (erase,
    retention). The sid is not personal data; the job retries, a failure stays visible."""

    __tablename__ = "provider_deletions"
    __table_args__ = (
        CheckConstraint(enum_check("status", PROVIDER_DELETION_STATUSES), name="status"),
        Index("ix_provider_deletions_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"), index=True)
    # A message's sid (SM…/MM…), or "<message sid>/<media sid>" for one media item only.
    provider_sid: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(300))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
