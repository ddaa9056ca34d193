"""What a sitter may see: the address only from the lead time before the window to its end; in care
notes the client's own numbers hidden in every format, numbers for someone else (the vet) shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.privacy import HIDDEN, redact_for_sitter
from app.services.people.care_notes import save_care_note, sitter_care_notes
from app.services.people.visit_address import maps_url
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # 9:00 AM New York, tomorrow
ADDRESS = "1401 Q St NW, Apt 4, Washington, DC 20009-1234"
CLIENT_PHONE = "+12025550143"


@pytest.fixture
def visit(make, clock):
    client = make.client(name="Alex Morgan", pets=("Biscuit",), area="Dupont Circle", address=ADDRESS,
                         phone_e164=CLIENT_PHONE)
    return make_visit(make, start=START, hours=1, client=client)


def _thread_html(client, visit) -> str:
    return client.get(f"/sitter/threads/{visit.thread.id}").get_data(as_text=True)


def _dashboard_html(client) -> str:
    return client.get("/sitter").get_data(as_text=True)


def test_address_shows_from_the_lead_time_to_the_window_end_with_a_maps_link(client, login_as, visit, clock):
    clock.set(START - timedelta(minutes=61))  # lead time is 60 minutes by default
    login_as(visit.user)
    assert ADDRESS not in _thread_html(client, visit) and "data-visit-address" not in _dashboard_html(client)
    assert "Dupont Circle" in _dashboard_html(client)  # only the area, as before

    clock.set(START - timedelta(minutes=60))
    page = _thread_html(client, visit)
    assert ADDRESS in page  # a ZIP+4 is not a phone number
    assert f'href="{maps_url(ADDRESS)}"' in page and "Open in maps" in page
    assert ADDRESS in _dashboard_html(client)

    clock.set(visit.window.ends_at - timedelta(seconds=1))
    assert ADDRESS in _thread_html(client, visit)
    clock.set(visit.window.ends_at)
    assert ADDRESS not in _thread_html(client, visit)
    assert ADDRESS not in _dashboard_html(client)


def test_the_org_lead_time_moves_when_the_address_shows(client, login_as, visit, clock):
    visit.booking.org.care_notes_lead_minutes = 180
    db.session.commit()
    clock.set(START - timedelta(minutes=150))
    login_as(visit.user)
    assert ADDRESS in _thread_html(client, visit)


def test_no_address_for_an_unconfirmed_visit_or_another_sitter(client, login_as, make, visit, clock):
    clock.set(START)
    visit.booking.status = "pending"
    db.session.commit()
    login_as(visit.user)
    assert ADDRESS not in _thread_html(client, visit) and ADDRESS not in _dashboard_html(client)
    other = make.sitter()
    client.get("/logout")
    login_as(other.user)
    assert client.get(f"/sitter/threads/{visit.thread.id}").status_code == 404
    assert ADDRESS not in _dashboard_html(client)


def test_care_notes_show_the_vets_number_and_hide_the_clients_own_in_every_format(client, login_as, make, visit,
                                                                                   clock):
    owner = make.user("owner")
    body = ("Vet: Dr. Rivera 202-555-0177. Neighbour Sam (202) 555 0188. "
            "Me: 202.555.0143, or 555-0143, or +1 202 555 0143, or two oh two five five five oh one four three.")
    save_care_note(visit.booking.client_id, kind="entry", body=body, user_id=owner.id)
    clock.set(START)
    notes = sitter_care_notes(visit.user.id, visit.thread.id)
    shown = notes.notes[0].body
    assert "202-555-0177" in shown and "(202) 555 0188" in shown
    assert "0143" not in shown and "oh one four three" not in shown and shown.count(HIDDEN) >= 4
    login_as(visit.user)
    page = client.get(f"/sitter/threads/{visit.thread.id}/care-notes").get_data(as_text=True)
    assert "202-555-0177" in page and "0143" not in page


def test_text_a_client_wrote_still_hides_every_number():
    text = "Call my vet at 202-555-0177 or me at 202-555-0143"
    assert redact_for_sitter(text) == f"Call my vet at {HIDDEN} or me at {HIDDEN}"
    # The office's text with the client's own numbers given: only those go.
    assert redact_for_sitter(text, client_numbers=[CLIENT_PHONE]) == f"Call my vet at 202-555-0177 or me at {HIDDEN}"
    run_together = redact_for_sitter("202-555-0177 202-555-0143", client_numbers=[CLIENT_PHONE])
    assert "0143" not in run_together


def test_a_finished_visit_says_so_not_confirm_first(visit, clock):
    clock.set(visit.window.ends_at + timedelta(minutes=1))
    visit.booking.status = "completed"
    db.session.commit()
    notes = sitter_care_notes(visit.user.id, visit.thread.id)
    assert not notes.visible and "this visit is over" in notes.text and "confirmed" not in notes.text
