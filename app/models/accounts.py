"""Operators (outside every org), login sessions and one-time password resets."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.base import Timestamped, enum_check
from app.models.types import UTCDateTime

RESET_KINDS = ("link", "sms_code")


class Operator(UserMixin, Timestamped, db.Model):
    """Runs the deployment (workers, the RQ dashboard); belongs to no org."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)

    role = "operator"
    org_id = None
    org = None
    is_owner_side = False

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str | None:
        # Flask-Login's "alternative id": the login session's token, never the row id.
        return getattr(self, "session_token", None)

    def __repr__(self) -> str:
        return f"<Operator {self.id}>"


class LoginSession(Timestamped, db.Model):
    """One login on one device: its token (hashed) lives in the session cookie.

    Ending the row ends the login, whatever copies of the cookie exist.
    """

    __tablename__ = "login_sessions"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (operator_id IS NULL)", name="one_principal"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), index=True)
    # Set only for "keep me logged in": the hash of the remember cookie's secret, rotated on use.
    remember_hash: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(32))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    # Loaded with the row: checking a request's session is one SELECT.
    user = db.relationship("User", lazy="joined")
    operator = db.relationship("Operator", lazy="joined")


class PasswordReset(Timestamped, db.Model):
    """A one-time reset: an owner-issued link or a code texted to a sitter."""

    __tablename__ = "password_resets"
    __table_args__ = (
        CheckConstraint(enum_check("kind", RESET_KINDS), name="kind"),
        Index("ix_password_resets_token_hash", "token_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    issued_by: Mapped[str] = mapped_column(String(40))
