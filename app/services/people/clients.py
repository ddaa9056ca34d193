"""Clients and their pets, as owners and staff edit them."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from app.errors import InvalidInput
from app.extensions import db
from app.models import Client, Pet
from app.services.audit.events import record_event
from app.services.people.consent import STAFF_METHODS, record_staff_consent
from app.services.people.phones import to_e164


def _checked_fields(org_id: int, name: str, phone: str, client_id: int | None = None) -> tuple[str, str]:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Enter the client's name.", field="name")
    e164 = to_e164(phone, field="phone")
    taken = db.session.scalar(select(Client.id).where(Client.org_id == org_id, Client.phone_e164 == e164))
    if taken is not None and taken != client_id:
        raise InvalidInput("Another client already has this phone number.", field="phone")
    return name, e164


def create_client(org_id: int, *, name: str, phone: str, area: str | None = None,
                  address: str | None = None, notes: str | None = None, pets: list[str] | None = None,
                  actor: str = "system", timezone: str | None = None, consent_method: str | None = None,
                  consent_user_id: int | None = None) -> Client:
    """Add a client (phone stored as E.164) with any pets named; `consent_method` (one of
    consent.STAFF_METHODS) records how they agreed to texts in the consent ledger."""
    name, e164 = _checked_fields(org_id, name, phone)
    if consent_method is not None and consent_method not in STAFF_METHODS:
        raise InvalidInput("Say how the client agreed to texts.", field="consent_method")
    client = Client(org_id=org_id, name=name, phone_e164=e164, area=_clean(area), address=_clean(address),
                    notes=_clean(notes), timezone=_checked_zone(timezone))
    db.session.add(client)
    db.session.flush()
    if consent_method is not None:
        record_staff_consent(client, consent_method, consent_user_id)
    for pet_name in pets or []:
        if pet_name.strip():
            db.session.add(Pet(org_id=org_id, client_id=client.id, name=pet_name.strip()[:80]))
    record_event(org_id, "client.created", actor=actor, client_id=client.id)
    db.session.commit()
    return client


def update_client(client_id: int, *, name: str, phone: str, area: str | None = None,
                  address: str | None = None, notes: str | None = None, actor: str = "system",
                  timezone: str | None = None) -> Client:
    client = db.session.get(Client, client_id)
    if client.erased_at is not None:
        raise InvalidInput("This client's data was erased; add them again as a new client.", field="name")
    name, e164 = _checked_fields(client.org_id, name, phone, client_id=client.id)
    client.name, client.phone_e164 = name, e164
    client.area, client.address, client.notes = _clean(area), _clean(address), _clean(notes)
    client.timezone = _checked_zone(timezone)
    record_event(client.org_id, "client.updated", actor=actor, client_id=client.id)
    db.session.commit()
    return client


def add_pet(client_id: int, *, name: str, species: str = "dog", notes: str | None = None,
            actor: str = "system") -> Pet:
    client = db.session.get(Client, client_id)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Enter the pet's name.", field="name")
    pet = Pet(org_id=client.org_id, client_id=client.id, name=name[:80],
              species=(species or "dog").strip()[:40] or "dog", notes=_clean(notes))
    db.session.add(pet)
    record_event(client.org_id, "pet.added", actor=actor, client_id=client.id, pet=pet.name)
    db.session.commit()
    return pet


def remove_pet(pet_id: int, actor: str = "system") -> None:
    pet = db.session.get(Pet, pet_id)
    record_event(pet.org_id, "pet.removed", actor=actor, client_id=pet.client_id, pet=pet.name)
    db.session.delete(pet)
    db.session.commit()


def _checked_zone(value: str | None) -> str | None:
    """An owner's choice of the client's zone (quiet hours); empty: from the number's area code."""
    value = _clean(value)
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"{value!r} is not a time zone (e.g. America/Chicago).", field="timezone") from None
    return value


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None
