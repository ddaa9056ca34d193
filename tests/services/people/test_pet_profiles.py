"""Pet profiles reach the assigned sitter inside the care-notes rules: the vet's number (owner-typed)
is shown, the client's own number never is, in any format; outside the window nothing shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import InvalidInput
from app.models import Thread
from app.privacy import redact_these_numbers
from app.services.bookings.confirmed import on_booking_confirmed
from app.services.people.care_notes import sitter_care_notes
from app.services.people.pet_profiles import save_pet_profile

PROFILE = dict(species="dog", breed="Beagle", age_years=7, vet_name="Dr. Ana Ruiz, Capitol Vets",
               vet_phone="(202) 555-0144", emergency_contact="Sam (neighbour) 202-555-0166, else Taylor 202.555.0177",
               medication="Apoquel 16 mg at 8:00 and 20:00\nEye drops 9am", behaviour_flags=["escape artist",
                                                                                          "reactive to dogs"])


@pytest.fixture
def visit(make, clock, db):
    make.number("pool")
    sitter = make.sitter(name="Sasha Lee")
    client = make.client(name="Taylor Brooks", pets=("Biscuit",), phone_e164="+12025550177")
    booking = make.booking(client=client, sitter=sitter, start=clock.now + timedelta(minutes=30))
    on_booking_confirmed(booking.id)
    thread = db.session.scalar(select(Thread).where(Thread.booking_id == booking.id))
    return booking, sitter, thread, client.pets[0]


def test_the_assigned_sitter_sees_the_profile_with_the_vets_number_not_the_clients(visit, clock):
    booking, sitter, thread, pet = visit
    save_pet_profile(pet.id, **PROFILE)
    shown = sitter_care_notes(sitter.user_id, thread.id)
    assert shown.visible
    (biscuit,) = shown.pets
    assert (biscuit.name, biscuit.breed, biscuit.age) == ("Biscuit", "Beagle", "7 years")
    assert biscuit.vet == "Dr. Ana Ruiz, Capitol Vets · (202) 555-0144"
    assert "202-555-0166" in biscuit.emergency_contact  # the neighbour's number stays
    assert "555.0177" not in biscuit.emergency_contact and "[number hidden]" in biscuit.emergency_contact
    assert biscuit.medication == ["Apoquel 16 mg at 8:00 and 20:00", "Eye drops 9am"]
    assert biscuit.behaviour_flags == ["reactive to dogs", "escape artist"]


def test_outside_the_window_no_profile_reaches_the_sitter(visit, clock):
    booking, sitter, thread, pet = visit
    save_pet_profile(pet.id, **PROFILE)
    clock.set(booking.end_at + timedelta(hours=2))
    late = sitter_care_notes(sitter.user_id, thread.id)
    assert not late.visible and late.pets == []


def test_medication_without_times_and_unknown_flags_are_refused_at_their_fields(visit):
    *_, pet = visit
    with pytest.raises(InvalidInput) as refused:
        save_pet_profile(pet.id, **{**PROFILE, "medication": "Apoquel daily"})
    assert refused.value.field == "medication"
    with pytest.raises(InvalidInput) as refused:
        save_pet_profile(pet.id, **{**PROFILE, "behaviour_flags": ["bites"]})
    assert refused.value.field == "behaviour_flags"


@pytest.mark.parametrize("typed", ["202 555 0177", "+1 (202) 555-0177", "two oh two 555 0177", "2O2-555-O177"])
def test_the_clients_number_is_hidden_in_every_format(typed):
    text = f"Call {typed} or the vet 202-555-0144"
    shown = redact_these_numbers(text, ["+12025550177"])
    assert "[number hidden]" in shown and "202-555-0144" in shown and "0177" not in shown.replace("O177", "0177")
