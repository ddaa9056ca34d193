"""Sitters, clients and their pets."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import OrgScoped, Timestamped
from app.models.types import UTCDateTime


def first_name_of(name: str | None) -> str:
    """A person's first name from their full name ("" when none)."""
    return name.split()[0] if name else ""


def pet_names_of(names: list[str]) -> str:
    """The pets as words: "Mochi", "Mochi and Tofu", "Mochi, Tofu and Biscuit" ("" for none)."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


class Sitter(OrgScoped, Timestamped, db.Model):
    __tablename__ = "sitters"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )
    name: Mapped[str] = mapped_column(String(120))
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)

    user = db.relationship("User", lazy="select")

    @property
    def first_name(self) -> str:
        return first_name_of(self.name)


class SitterTimeOff(OrgScoped, Timestamped, db.Model):
    """Days a sitter is away (first_day to last_day, inclusive, org-local dates): the calendar greys
    them, and assigning the sitter a visit on one warns in the confirm step (never refuses)."""

    __tablename__ = "sitter_time_off"
    __table_args__ = (
        CheckConstraint("last_day >= first_day", name="last_after_first"),
        Index("ix_sitter_time_off_sitter_days", "sitter_id", "first_day", "last_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sitter_id: Mapped[int] = mapped_column(ForeignKey("sitters.id", ondelete="CASCADE"))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Client(OrgScoped, Timestamped, db.Model):
    __tablename__ = "clients"
    __table_args__ = (UniqueConstraint("org_id", "phone_e164"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone_e164: Mapped[str] = mapped_column(String(20))
    opted_out: Mapped[bool] = mapped_column(default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    area: Mapped[str | None] = mapped_column(String(200))  # shown to sitters: area, not address
    address: Mapped[str | None] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(String(2000))
    # Set by an owner; else the zone of the number's area code, else the org's (people.timezones).
    timezone: Mapped[str | None] = mapped_column(String(64))
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # data erased on request

    pets = db.relationship("Pet", back_populates="client", order_by="Pet.id", lazy="selectin")

    @property
    def first_name(self) -> str:
        return first_name_of(self.name)

    @property
    def pet_names(self) -> str:
        return pet_names_of([p.name for p in self.pets])


class Pet(OrgScoped, Timestamped, db.Model):
    __tablename__ = "pets"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    species: Mapped[str] = mapped_column(String(40), default="dog")
    notes: Mapped[str | None] = mapped_column(String(1000))
    # The pet profile (app.services.people.pet_profiles): shown to the assigned sitter around the visit.
    breed: Mapped[str | None] = mapped_column(String(80))
    age_years: Mapped[int | None] = mapped_column()
    vet_name: Mapped[str | None] = mapped_column(String(120))
    vet_phone: Mapped[str | None] = mapped_column(String(40))
    emergency_contact: Mapped[str | None] = mapped_column(String(200))
    medication: Mapped[str | None] = mapped_column(String(1000))  # one per line: what, how much, at what times
    behaviour_flags: Mapped[str | None] = mapped_column(String(300))  # comma-separated, from BEHAVIOUR_FLAGS

    client = db.relationship("Client", back_populates="pets")
