"""A confirmed visit whose conversation waits for a number (app/services/numbers/waiting.py) is shown to
its sitter as waiting, on the dashboard, in the next seven days and on the visit page: no dead link to a
conversation that does not exist yet, a way to the office, and never the client's number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.services.bookings.confirmed import on_booking_confirmed
from app.services.numbers.waiting import assign_waiting_threads
from tests.blueprints.test_sitter_privacy import number_forms

START = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 10:00 AM New York
CLIENT_PHONE = "+12025550143"
NOTE = "The office is getting a number for this visit; you can"


def _waiting_cat(make):
    """Alex's dog walk and cat visit at the same time with one front-desk number: the cat visit waits."""
    make.number("front_desk")
    alex = make.client(name="Alex Morgan", pets=("Biscuit",), phone_e164=CLIENT_PHONE)
    walk = make.booking(client=alex, start=START, service="Dog walk")
    cat = make.booking(client=alex, start=START, service="Cat visit")
    on_booking_confirmed(walk.id)
    assert on_booking_confirmed(cat.id).no_number
    return cat


@pytest.fixture
def waiting_cat_visit(make, clock):
    clock.set(START - timedelta(hours=2))
    return _waiting_cat(make)


def _assert_no_client_number(html: str) -> None:
    for form in number_forms(CLIENT_PHONE):
        assert form not in html, form


def test_the_dashboard_shows_todays_waiting_visit_with_the_office_a_tap_away(client, login_as, waiting_cat_visit):
    login_as(waiting_cat_visit.sitter.user)
    html = client.get("/sitter").get_data(as_text=True)
    assert "Waiting for a number" in html and "Alex · Biscuit" in html and NOTE in html
    assert f'href="/sitter/visits/{waiting_cat_visit.id}"' in html and 'href="/sitter/office"' in html
    assert "/sitter/threads/" not in html  # its conversation does not exist for the sitter yet
    _assert_no_client_number(html)


def test_the_visit_page_says_so_and_links_no_conversation(client, login_as, waiting_cat_visit):
    login_as(waiting_cat_visit.sitter.user)
    response = client.get(f"/sitter/visits/{waiting_cat_visit.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and NOTE in html and "Waiting for a number" in html
    assert "Conversation</a>" not in html and "On my way" not in html
    _assert_no_client_number(html)


def test_once_a_number_is_added_it_is_an_ordinary_visit(client, login_as, make, waiting_cat_visit):
    make.number("pool")
    assert assign_waiting_threads(waiting_cat_visit.org_id) == 1
    login_as(waiting_cat_visit.sitter.user)
    html = client.get("/sitter").get_data(as_text=True)
    assert "Waiting for a number" not in html and "data-waiting-visits" not in html
    assert "/sitter/threads/" in html  # in Today now, with its conversation
    assert "Conversation</a>" in client.get(f"/sitter/visits/{waiting_cat_visit.id}").get_data(as_text=True)


def test_a_waiting_visit_later_this_week_is_marked_in_the_next_seven_days(client, login_as, make, clock):
    clock.set(START - timedelta(days=2))
    cat = _waiting_cat(make)
    login_as(cat.sitter.user)
    html = client.get("/sitter/upcoming").get_data(as_text=True)
    assert "Waiting for a number" in html and f'href="/sitter/visits/{cat.id}"' in html
    assert "/sitter/threads/" not in html
    assert "data-waiting-visits" not in client.get("/sitter").get_data(as_text=True)  # not today
    _assert_no_client_number(html)


def test_the_polled_visits_show_a_visit_waiting_and_drop_it_when_its_number_comes(client, login_as, make, clock):
    """The dashboard's poll (/sitter/visits) carries the waiting list: no full reload needed either way."""
    clock.set(START - timedelta(hours=2))
    sitter = make.sitter()
    visit = make.booking(client=make.client(name="Alex Morgan", pets=("Biscuit",), phone_e164=CLIENT_PHONE),
                         sitter=sitter, start=START, service="Cat visit")
    login_as(sitter.user)

    def poll() -> str:
        response = client.get("/sitter/visits", headers={"HX-Request": "true"})
        assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
        return response.get_data(as_text=True)

    assert "data-waiting-visits" not in poll()  # pending: nothing waits yet
    assert on_booking_confirmed(visit.id).no_number  # the org has no number at all
    html = poll()
    assert "data-waiting-visits" in html and "Alex · Biscuit" in html and NOTE in html
    assert f'href="/sitter/visits/{visit.id}"' in html and "No other visits today." in html
    _assert_no_client_number(html)

    make.number("pool")
    assert assign_waiting_threads(visit.org_id) == 1
    html = poll()
    assert "data-waiting-visits" not in html and "/sitter/threads/" in html  # in Today now
