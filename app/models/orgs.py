"""The org (a pet-sitting business) and the people who log in to it."""

from __future__ import annotations

from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.base import OrgScoped, Timestamped, enum_check

ROLES = ("owner", "staff", "sitter")
POLICY_MODES = ("block", "flag")
WEEK_STARTS = ("today", "monday")  # where the owner's week calendar begins


class Org(Timestamped, db.Model):
    __tablename__ = "orgs"
    __table_args__ = (
        CheckConstraint(enum_check("policy_mode", POLICY_MODES), name="policy_mode"),
        CheckConstraint("grace_minutes >= 0 AND grace_minutes <= 1440", name="grace_minutes"),
        CheckConstraint("quiet_start_hour BETWEEN 0 AND 23", name="quiet_start_hour"),
        CheckConstraint("quiet_end_hour BETWEEN 0 AND 23", name="quiet_end_hour"),
        CheckConstraint("care_notes_lead_minutes BETWEEN 0 AND 1440", name="care_notes_lead_minutes"),
        CheckConstraint("number_cooloff_days BETWEEN 0 AND 90", name="number_cooloff_days"),
        CheckConstraint(enum_check("calendar_week_start", WEEK_STARTS), name="calendar_week_start"),
        CheckConstraint("retention_days >= 30", name="retention_days"),
        CheckConstraint("visit_late_minutes BETWEEN 1 AND 240", name="visit_late_minutes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    grace_minutes: Mapped[int] = mapped_column(default=60)
    # 8 p.m.: the strictest US state rule (Florida, Oklahoma); judged in the client's own zone.
    # Orgs made before this default (9 p.m.) got it by migration 0012 unless an owner set theirs.
    quiet_start_hour: Mapped[int] = mapped_column(default=20)
    quiet_end_hour: Mapped[int] = mapped_column(default=8)
    policy_mode: Mapped[str] = mapped_column(String(8), default="block")
    visit_followup_enabled: Mapped[bool] = mapped_column(default=True)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    # How long before a visit's window the assigned sitter may read the client's care notes.
    care_notes_lead_minutes: Mapped[int] = mapped_column(default=60, server_default=text("60"))
    # Calls outside every window (and unanswered ones) go here; None: a spoken "text us instead".
    office_phone_e164: Mapped[str | None] = mapped_column(String(20))
    # One automatic "the office has your message" a day to a client texting outside every window.
    out_of_window_reply_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Days a pool number stays away from a client after carrying their visit with another sitter.
    number_cooloff_days: Mapped[int] = mapped_column(default=7, server_default=text("7"))
    # Front-desk-only mode (a sole proprietor's one number): every booking thread takes the front
    # desk; the one-conversation rule still decides clashes (app.services.numbers.choice).
    front_desk_only: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The week calendar starts today (the next seven days) or on the Monday of the week.
    calendar_week_start: Mapped[str] = mapped_column(String(8), default="today", server_default="today")
    # Consent and carrier rules (app.services.people.consent, docs/compliance.md).
    support_contact: Mapped[str | None] = mapped_column(String(120))  # in HELP replies
    consent_wording: Mapped[str | None] = mapped_column(Text)  # None: the default wording
    consent_wording_version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    messaging_service_sid: Mapped[str | None] = mapped_column(String(34))  # Twilio MG…
    # Message bodies and media of finished bookings are purged after this many days.
    retention_days: Mapped[int] = mapped_column(default=730, server_default=text("730"))
    # Visits: a confirmed visit not checked in this long after its start raises `visit.late`;
    # the client may get an "arrived" text at check-in (off by default).
    visit_late_minutes: Mapped[int] = mapped_column(default=15, server_default=text("15"))
    visit_arrival_texts: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The sitter's quick replies (a list of short texts put into the compose field, never sent by
    # themselves); None: the defaults in app.services.orgs.settings.DEFAULT_QUICK_REPLIES.
    quick_replies: Mapped[list[str] | None] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<Org {self.id} {self.name!r}>"


class User(UserMixin, OrgScoped, Timestamped, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(enum_check("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)

    org: Mapped[Org] = db.relationship(lazy="joined")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_owner_side(self) -> bool:
        return self.role in ("owner", "staff")

    def get_id(self) -> str | None:
        # Flask-Login's "alternative id": the login session's token, never the row id, so
        # a session can be ended on the server (app.services.accounts.sessions).
        return getattr(self, "session_token", None)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"
