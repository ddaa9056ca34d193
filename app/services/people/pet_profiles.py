"""Pet profiles: species, breed, age, vet, emergency contact, medication with times and behaviour
flags, written by the office and shown to the assigned sitter inside the care-notes rules.

What the sitter sees is owner-typed text: other people's numbers (the vet, a neighbour) are kept,
the client's own number is hidden in whatever format it was typed (app.privacy).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.errors import InvalidInput
from app.extensions import db
from app.models import Client, Pet
from app.privacy import redact_for_sitter, redact_these_numbers
from app.services.audit.events import record_event

BEHAVIOUR_FLAGS = ("reactive to dogs", "reactive to people", "escape artist", "resource guarding",
                   "no off-leash", "afraid of storms", "bites when scared")
MAX_AGE_YEARS = 40
_TIME = re.compile(r"\b([01]?\d|2[0-3])[:.h]([0-5]\d)\b|\b(1[0-2]|0?[1-9])\s?(am|pm)\b", re.IGNORECASE)
_LIMITS = {"species": 40, "breed": 80, "vet_name": 120, "vet_phone": 40, "emergency_contact": 200,
           "medication": 1000}


def _clean(value: str | None, field: str) -> str | None:
    value = (value or "").strip()
    if len(value) > _LIMITS[field]:
        raise InvalidInput(f"At most {_LIMITS[field]} characters.", field=field)
    return value or None


def save_pet_profile(pet_id: int, *, species: str | None, breed: str | None, age_years: int | None,
                     vet_name: str | None, vet_phone: str | None, emergency_contact: str | None,
                     medication: str | None, behaviour_flags: list[str], actor: str = "system") -> Pet:
    """Replace the profile of one pet; InvalidInput names the field. Commits."""
    pet = db.session.get(Pet, pet_id)
    if age_years is not None and not 0 <= age_years <= MAX_AGE_YEARS:
        raise InvalidInput(f"Use an age from 0 to {MAX_AGE_YEARS} years.", field="age_years")
    unknown = [f for f in behaviour_flags if f not in BEHAVIOUR_FLAGS]
    if unknown:
        raise InvalidInput(f"Unknown behaviour flag: {unknown[0]}.", field="behaviour_flags")
    medication = _clean(medication, "medication")
    for line in (medication or "").splitlines():
        if line.strip() and not _TIME.search(line):
            raise InvalidInput(f"Give each medication its times (e.g. “8:00 and 20:00”): “{line.strip()}”.",
                               field="medication")
    pet.species = _clean(species, "species") or pet.species
    pet.breed, pet.age_years = _clean(breed, "breed"), age_years
    pet.vet_name, pet.vet_phone = _clean(vet_name, "vet_name"), _clean(vet_phone, "vet_phone")
    pet.emergency_contact, pet.medication = _clean(emergency_contact, "emergency_contact"), medication
    pet.behaviour_flags = ", ".join(f for f in BEHAVIOUR_FLAGS if f in behaviour_flags) or None
    record_event(pet.org_id, "pet.profile_saved", actor=actor, client_id=pet.client_id, pet=pet.name)
    db.session.commit()
    return pet


@dataclass(frozen=True)
class SitterPetProfile:
    name: str
    species: str
    breed: str
    age: str
    vet: str
    emergency_contact: str
    medication: list[str]
    behaviour_flags: list[str]


def sitter_pet_profiles(client_id: int) -> list[SitterPetProfile]:
    """The client's pets as the assigned sitter may read them (callers check the care-notes rule first)."""
    client = db.session.get(Client, client_id)

    def owner_typed(text: str | None) -> str:
        return redact_these_numbers(text, [client.phone_e164])

    profiles = []
    for pet in client.pets:
        age = "" if pet.age_years is None else f"{pet.age_years} year{'s' if pet.age_years != 1 else ''}"
        vet = " · ".join(owner_typed(v) for v in (pet.vet_name, pet.vet_phone) if v)
        profiles.append(SitterPetProfile(
            redact_for_sitter(pet.name), owner_typed(pet.species), owner_typed(pet.breed), age, vet,
            owner_typed(pet.emergency_contact),
            [owner_typed(line.strip()) for line in (pet.medication or "").splitlines() if line.strip()],
            [f.strip() for f in (pet.behaviour_flags or "").split(",") if f.strip()]))
    return profiles
