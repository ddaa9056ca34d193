"""The client form records how consent was given (a required choice) and the page shows the ledger."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Client, ConsentEvent
from app.services.people.consent import phone_hash


def test_a_new_client_without_a_consent_method_is_refused(client, login_as, make):
    login_as(make.user("owner"))
    response = client.post("/admin/clients/new", data={"name": "Robin Hood", "phone": "(202) 555-0187"})
    assert response.status_code == 422
    assert "Say how the client agreed to texts." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Client.id))) == 0


def test_the_form_shows_the_consent_wording_and_the_choice(client, login_as, make):
    login_as(make.user("owner"))
    page = client.get("/admin/clients/new").get_data(as_text=True)
    assert 'name="consent_method"' in page and "Agreed by phone or in person" in page
    assert "you agree to receive texts from Happy Tails" in page


def test_staff_entered_verbal_consent_is_on_the_ledger_with_who_and_the_wording(client, login_as, make):
    org = make.default_org
    org.consent_wording, org.consent_wording_version = "Texts from {business} about visits. STOP to end.", 3
    db.session.commit()
    staff = make.user("staff", name="Sam Staff")
    login_as(staff)
    response = client.post("/admin/clients/new", data={"name": "Robin Hood", "phone": "(202) 555-0187",
                                                       "consent_method": "verbal"})
    assert response.status_code == 302
    [event] = db.session.scalars(select(ConsentEvent)).all()
    saved = db.session.scalar(select(Client))
    assert (event.kind, event.method, event.client_id, event.recorded_by_user_id) == (
        "granted", "verbal", saved.id, staff.id)
    assert (event.wording, event.wording_version) == ("Texts from Happy Tails about visits. STOP to end.", 3)
    assert event.phone_hash == phone_hash("+12025550187") and event.zone == "America/New_York"
    page = client.get(f"/admin/clients/{saved.id}").get_data(as_text=True)
    assert "Consent to texts" in page and "Sam Staff" in page and "(v3)" in page
    assert "Agreed by phone or in person" in page


def test_an_owner_sets_the_clients_zone_and_a_bad_one_is_refused(client, login_as, make):
    login_as(make.user("owner"))
    existing = make.client(name="Jamie", phone_e164="+13055550189")
    bad = client.post(f"/admin/clients/{existing.id}/edit",
                      data={"name": "Jamie", "phone": "+13055550189", "timezone": "Mars/Olympus"})
    assert bad.status_code == 422 and "is not a time zone" in bad.get_data(as_text=True)
    good = client.post(f"/admin/clients/{existing.id}/edit",
                       data={"name": "Jamie", "phone": "+13055550189", "timezone": "America/Chicago"})
    assert good.status_code == 302
    page = client.get(f"/admin/clients/{existing.id}").get_data(as_text=True)
    assert "America/Chicago" in page
