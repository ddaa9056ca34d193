"""Today's visit card for the phone (GET /sitter/visits/<id>/card): only for the assigned sitter, only
from the org's lead time before the window until it ends, the care-notes and address rules of the
thread page, never the client's number or a message, never cached by the browser."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import EventLog
from app.services.bookings.lifecycle import cancel_booking, change_sitter
from app.services.people.care_notes import save_care_note
from tests.blueprints.test_sitter_privacy import number_forms
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York
ADDRESS = "1401 Q St NW, Apt 4, Washington, DC 20009-1234"
CLIENT_PHONE = "+12025550143"
OFFICE_PHONE = "+12025550100"
JSON = {"Accept": "application/json"}


@pytest.fixture
def visit(make, clock):
    clock.set(START - timedelta(hours=3))
    owner = make.user("owner")
    client = make.client(name="Alex Morgan", pets=("Biscuit",), area="Dupont Circle", address=ADDRESS,
                         phone_e164=CLIENT_PHONE)
    visit = make_visit(make, start=START, hours=1, client=client)
    visit.booking.org.office_phone_e164 = OFFICE_PHONE
    db.session.commit()
    save_care_note(client.id, kind="entry", body="Lockbox 4412 by the side door. Me: 202.555.0143",
                   user_id=owner.id)
    save_care_note(client.id, kind="medication", body="Half a pill at 9. Vet: Dr. Rivera 202-555-0177",
                   user_id=owner.id)
    return visit


def _card(client, visit):
    return client.get(f"/sitter/visits/{visit.booking.id}/card", headers=JSON)


def test_the_card_within_its_span_has_what_the_door_needs_and_no_client_number(client, login_as, make, visit,
                                                                                 clock):
    clock.set(START + timedelta(minutes=10))
    make.message(visit.thread, body="The code changed to 9931, Biscuit is shy", created_at=clock.now)
    login_as(visit.user)
    response = _card(client, visit)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "no-store" in response.headers["Cache-Control"]
    card = response.get_json()
    assert (card["client_first_name"], card["pets"], card["address"]) == ("Alex", "Biscuit", ADDRESS)
    assert card["maps_url"].startswith("https://maps.google.com/?q=1401")
    assert [n["kind"] for n in card["notes"]] == ["Entry and keys", "Medication"]
    assert "Lockbox 4412" in card["notes"][0]["body"]
    assert "202-555-0177" in card["notes"][1]["body"]  # the vet's number is for the sitter
    assert card["office_phone"] == "(202) 555-0100" and card["office_phone_href"] == "tel:2025550100"
    assert card["expires_at"] == visit.window.ends_at.isoformat().replace("+00:00", "Z")
    assert card["expires_in"] == int((visit.window.ends_at - clock.now).total_seconds())
    assert card["when"] == "Wed 25 Nov, 9:00 AM–10:00 AM"
    text = response.get_data(as_text=True)
    digits = re.sub(r"\D", "", text)
    for form in number_forms(CLIENT_PHONE):
        assert form not in text
    assert "2025550143" not in digits
    assert "9931" not in text and "shy" not in text  # no message body is ever on the card
    # The read is audited like the thread page's care notes: one line per visit.
    _card(client, visit)
    assert db.session.scalar(select(func.count(EventLog.id)).where(EventLog.kind == "care_notes.viewed")) == 1


def test_the_card_exists_from_the_lead_time_until_the_window_ends(client, login_as, visit, clock):
    login_as(visit.user)
    clock.set(START - timedelta(minutes=61))  # the default lead time is 60 minutes
    assert _card(client, visit).status_code == 404
    clock.set(START - timedelta(minutes=60))
    assert _card(client, visit).status_code == 200
    clock.set(visit.window.ends_at - timedelta(seconds=1))
    assert _card(client, visit).get_json()["expires_in"] == 1
    clock.set(visit.window.ends_at)
    response = _card(client, visit)
    assert response.status_code == 404 and ADDRESS not in response.get_data(as_text=True)


def test_the_org_lead_time_moves_the_start(client, login_as, visit, clock):
    visit.booking.org.care_notes_lead_minutes = 180
    db.session.commit()
    clock.set(START - timedelta(minutes=170))
    login_as(visit.user)
    assert _card(client, visit).status_code == 200


def test_no_card_for_another_sitter_an_owner_or_another_org(client, login_as, make, visit, clock):
    clock.set(START + timedelta(minutes=5))
    login_as(make.sitter().user)
    assert _card(client, visit).status_code == 404
    login_as(make.user("owner"))
    assert _card(client, visit).status_code == 404
    other_org = make.org(name="Elsewhere")
    login_as(make.sitter(org=other_org).user)
    assert _card(client, visit).status_code == 404


def test_a_reassigned_or_cancelled_visit_has_no_card_and_leaves_the_dashboard_list(client, login_as, make, visit,
                                                                                   clock):
    clock.set(START + timedelta(minutes=5))
    login_as(visit.user)
    assert f'data-offline-cards="{visit.booking.id}"' in client.get("/sitter").get_data(as_text=True)
    second = make.sitter()
    change_sitter(visit.booking.id, second.id)
    assert _card(client, visit).status_code == 404
    assert 'data-offline-cards=""' in client.get("/sitter/visits", headers={"HX-Request": "true"}).get_data(
        as_text=True)
    login_as(second.user)
    assert _card(client, visit).status_code == 200  # the new sitter's now
    cancel_booking(visit.booking.id, "client asked")
    assert _card(client, visit).status_code == 404
    assert 'data-offline-cards=""' in client.get("/sitter").get_data(as_text=True)


def test_the_dashboard_lists_only_visits_within_the_span(client, login_as, make, visit, clock):
    later = make_visit(make, sitter=visit.sitter, start=START + timedelta(hours=2), hours=1)
    login_as(visit.user)
    clock.set(START - timedelta(minutes=61))
    assert 'data-offline-cards=""' in client.get("/sitter").get_data(as_text=True)
    clock.set(START - timedelta(minutes=30))
    assert f'data-offline-cards="{visit.booking.id}"' in client.get("/sitter").get_data(as_text=True)
    clock.set(later.booking.start_at - timedelta(minutes=30))
    html = client.get("/sitter/visits", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f'data-offline-cards="{visit.booking.id} {later.booking.id}"' in html  # both windows, in order
    clock.set(visit.window.ends_at)
    assert f'data-offline-cards="{later.booking.id}"' in client.get("/sitter").get_data(as_text=True)


def test_logout_tells_the_browser_to_clear_the_sites_storage(client, login_as, visit):
    login_as(visit.user)
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Clear-Site-Data"] == '"storage"'


def test_the_visit_page_asks_to_keep_its_card_until_the_window_ends(client, login_as, visit, clock):
    login_as(visit.user)
    page = f"/sitter/visits/{visit.booking.id}"
    assert f'data-offline-card-keep="{visit.booking.id}"' in client.get(page).get_data(as_text=True)
    clock.set(visit.window.ends_at)
    assert "data-offline-card-keep" not in client.get(page).get_data(as_text=True)
