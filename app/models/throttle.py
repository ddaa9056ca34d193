"""Throttle counters kept in the database: the login throttle's fallback when Redis is down."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime


class ThrottleCount(db.Model):
    """Tries of one key (a hashed account or address) in one fixed window; raised by one UPDATE."""

    __tablename__ = "throttle_counts"
    __table_args__ = (UniqueConstraint("scope", "key_hash", "window_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    count: Mapped[int] = mapped_column(default=0)
