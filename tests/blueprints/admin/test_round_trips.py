"""Every admin edit form round-trips: GET it, POST it back unchanged, and nothing changes.

A form that fails to load a field (the sitter's phone once) would write it blank on an
unrelated save; these tests catch any field that does not come back as it went out.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from werkzeug.datastructures import MultiDict

from app.models import AssignmentWindow, Booking, Client, Org, Sitter, User
from app.services.automations.templates import template_for
from tests.support.html_forms import form_with_field


def _snapshot(db, *rows) -> list[dict]:
    db.session.expire_all()
    return [{c.key: getattr(db.session.get(type(r), r.id), c.key) for c in r.__table__.columns} for r in rows]


def _round_trip(client, page_url: str, field: str, *, post_url: str | None = None) -> None:
    page = client.get(page_url)
    assert page.status_code == 200, page_url
    form = form_with_field(page.get_data(as_text=True), field)
    response = client.post(post_url or form["action"] or page_url, data=MultiDict(form["fields"]))
    assert response.status_code == 302, (page_url, response.status_code, response.get_data(as_text=True)[:2000])


@pytest.fixture
def owner(make, login_as):
    user = make.user("owner")
    login_as(user)
    return user


def test_sitter_edit_round_trip_keeps_the_phone(client, owner, make, db):
    sitter = make.sitter(phone_e164="+12025550123")
    before = _snapshot(db, sitter, db.session.get(User, sitter.user_id))
    _round_trip(client, f"/admin/sitters/{sitter.id}", "phone")
    assert _snapshot(db, sitter, db.session.get(User, sitter.user_id)) == before
    assert db.session.get(Sitter, sitter.id).phone_e164 == "+12025550123"


def test_inactive_sitter_without_login_round_trips(client, owner, make, db):
    sitter = make.sitter(with_login=False, active=False, phone_e164=None)
    before = _snapshot(db, sitter)
    _round_trip(client, f"/admin/sitters/{sitter.id}", "phone")
    assert _snapshot(db, sitter) == before


def test_client_edit_round_trips(client, owner, make, db):
    person = make.client(name="Alex Morgan", area="Park Slope", address="12 Elm St, Apt 3",
                         notes="Gate code on the\nsecond line; dog is shy.")
    before = _snapshot(db, person, *person.pets)
    _round_trip(client, f"/admin/clients/{person.id}/edit", "phone")
    assert _snapshot(db, person, *person.pets) == before


def test_opted_out_client_round_trips(client, owner, make, db, clock):
    person = make.client(opted_out=True, opted_out_at=clock.now - timedelta(days=1), area=None, notes=None)
    before = _snapshot(db, person)
    _round_trip(client, f"/admin/clients/{person.id}/edit", "phone")
    assert _snapshot(db, db.session.get(Client, person.id)) == before


def test_pending_booking_edit_round_trips(client, owner, make, db, clock):
    booking = make.booking(status="pending", service="Drop-in visit", price_cents=3550,
                           notes="Two cats;\nfeed at 6", start=clock.now + timedelta(days=2, minutes=30))
    before = _snapshot(db, booking)
    _round_trip(client, f"/admin/bookings/{booking.id}/edit", "start_at")
    assert _snapshot(db, booking) == before


def test_pending_booking_without_sitter_round_trips(client, owner, make, db, clock):
    booking = make.booking(status="pending", sitter=None, start=clock.now + timedelta(days=1))
    before = _snapshot(db, booking)
    _round_trip(client, f"/admin/bookings/{booking.id}/edit", "start_at")
    assert _snapshot(db, booking) == before


@pytest.mark.parametrize("field", ["service", "sitter_id", "start_at"])
def test_confirmed_booking_forms_round_trip(client, owner, make, db, clock, field):
    booking = make.booking(status="confirmed", service="Walk", price_cents=2000, notes="Leash by the door",
                           start=clock.now + timedelta(days=1, minutes=15))
    thread = make.thread(booking=booking, number=make.number("pool"))
    window = make.window(thread)
    before = _snapshot(db, booking, window)
    _round_trip(client, f"/admin/bookings/{booking.id}", field)
    assert _snapshot(db, db.session.get(Booking, booking.id), db.session.get(AssignmentWindow, window.id)) == before


def test_settings_round_trip(client, owner, make, db):
    org = make.default_org
    org.grace_minutes, org.quiet_start_hour, org.quiet_end_hour = 45, 22, 7
    org.policy_mode, org.visit_followup_enabled, org.timezone = "flag", False, "America/Chicago"
    db.session.commit()
    before = _snapshot(db, org)
    _round_trip(client, "/admin/settings", "grace_minutes")
    assert _snapshot(db, db.session.get(Org, org.id)) == before


@pytest.mark.parametrize("kind", ["booking_confirmation", "night_before_reminder"])
def test_automation_template_round_trips(client, owner, make, db, kind):
    from app.services.automations.settings import save_template_text

    org_id = make.default_org.id
    if kind == "night_before_reminder":
        save_template_text(org_id, kind, "Hi {{ client_first_name }},\nsee you tomorrow!", actor="test")
    before = template_for(org_id, kind)
    _round_trip(client, f"/admin/automations/template?kind={kind}", "body")
    assert template_for(org_id, kind) == before
