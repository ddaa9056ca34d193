"""The office fills in a pet's profile; the assigned sitter reads it on the care-notes page."""

from __future__ import annotations

import html
from datetime import timedelta

from sqlalchemy import select

from app.models import Pet, Thread
from app.services.bookings.confirmed import on_booking_confirmed

FORM = {"species": "dog", "breed": "Beagle", "age_years": "7", "vet_name": "Capitol Vets",
        "vet_phone": "(202) 555-0144", "emergency_contact": "Taylor 202.555.0177",
        "medication": "Apoquel 16 mg at 8:00 and 20:00", "behaviour_flags": ["escape artist"]}


def test_owner_saves_a_profile_and_the_assigned_sitter_reads_it(client, login_as, make, clock, db):
    make.number("pool")
    sitter = make.sitter(name="Sasha Lee")
    taylor = make.client(name="Taylor Brooks", pets=("Biscuit",), phone_e164="+12025550177")
    pet = taylor.pets[0]
    booking = make.booking(client=taylor, sitter=sitter, start=clock.now + timedelta(minutes=30))
    on_booking_confirmed(booking.id)
    login_as(make.user("owner"))
    assert f"/admin/clients/{taylor.id}/pets/{pet.id}/profile" in client.get(f"/admin/clients/{taylor.id}").get_data(
        as_text=True)
    refused = client.post(f"/admin/clients/{taylor.id}/pets/{pet.id}/profile", data={**FORM, "age_years": "90"})
    assert refused.status_code == 422 and 'data-field="age_years">Use 0 to 40 years.' in refused.get_data(as_text=True)
    assert client.post(f"/admin/clients/{taylor.id}/pets/{pet.id}/profile", data=FORM).status_code == 302
    db.session.expire_all()
    assert db.session.get(Pet, pet.id).vet_phone == "(202) 555-0144"

    thread = db.session.scalar(select(Thread).where(Thread.booking_id == booking.id))
    login_as(sitter.user)
    page = html.unescape(client.get(f"/sitter/threads/{thread.id}/care-notes").get_data(as_text=True))
    assert "Vet:</strong> Capitol Vets · (202) 555-0144" in page
    assert "escape artist" in page and "Apoquel 16 mg at 8:00 and 20:00" in page
    assert "555.0177" not in page and "[number hidden]" in page


def test_another_clients_pet_is_not_found(client, login_as, make):
    login_as(make.user("owner"))
    mine, other = make.client(), make.client()
    assert client.get(f"/admin/clients/{mine.id}/pets/{other.pets[0].id}/profile").status_code == 404
