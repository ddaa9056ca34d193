"""A confirmed visit whose conversation waits for a number (app/services/numbers/waiting.py) is shown to
its sitter as waiting, on the dashboard, in the next seven days and on the visit page: no dead link to a
conversation that does not exist yet, a way to the office, and never the client's number."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Alert, Message, OfficeNote, Thread
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


def _note_from_the_visit_page(client, visit) -> OfficeNote:
    """The sitter follows the visit page's office link and sends a note from there."""
    page = client.get(f"/sitter/visits/{visit.id}").get_data(as_text=True)
    link = f"/sitter/office?booking_id={visit.id}"
    assert f'href="{link}"' in page
    office = client.get(link).get_data(as_text=True)
    assert f'name="booking_id" value="{visit.id}"' in office
    assert "About your visit: Cat visit with Alex, Wed 25 Nov, 10:00 AM" in office
    _assert_no_client_number(office)
    sent = client.post("/sitter/office", data={"body": "Front door key missing, waiting outside.",
                                               "booking_id": str(visit.id)})
    assert sent.status_code == 302
    return db.session.scalar(select(OfficeNote))


def test_a_note_from_a_waiting_visit_names_its_booking_and_thread_for_the_office(client, login_as, make,
                                                                                waiting_cat_visit):
    owner = make.user("owner")
    cat = waiting_cat_visit
    waiting_thread = db.session.scalar(select(Thread).where(Thread.booking_id == cat.id))
    assert waiting_thread.message_number_id is None
    login_as(cat.sitter.user)
    dashboard = client.get("/sitter").get_data(as_text=True)
    assert f'href="/sitter/office?booking_id={cat.id}"' in dashboard.split("data-waiting-visits")[1]
    note = _note_from_the_visit_page(client, cat)
    assert (note.booking_id, note.thread_id) == (cat.id, waiting_thread.id)

    client.get("/logout")
    login_as(owner)
    inbox = client.get("/admin/inbox").get_data(as_text=True)
    row = inbox.split("data-sitter-note")[1].split("</li>")[0]
    assert f"about booking #{cat.id}" in row
    assert f'href="/admin/bookings/{cat.id}"' in row and f'href="/admin/threads/{waiting_thread.id}"' in row
    page = client.get(f"/admin/inbox/{note.message_id}").get_data(as_text=True)
    assert f'href="/admin/bookings/{cat.id}"' in page and f"booking #{cat.id} (Alex Morgan" in page
    assert "the conversation with Alex Morgan</a> (waiting for a number)" in page

    # The answer reaches the sitter with no link into a conversation they cannot open yet.
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post(f"/admin/inbox/{note.message_id}", data={"csrf_token": token, "body": "On my way"}
                       ).status_code == 302
    alert = db.session.scalar(select(Alert).where(Alert.audience == "sitter"))
    assert alert.text == "The office: On my way" and alert.thread_id is None
    client.get("/logout")
    login_as(cat.sitter.user)
    alerts = client.get("/sitter/alerts").get_data(as_text=True)
    assert "On my way" in alerts and "Open conversation" not in alerts


def test_a_note_about_someone_elses_visit_is_404_and_a_bad_id_keeps_the_words(client, login_as, make,
                                                                              waiting_cat_visit):
    mine = make.sitter()
    login_as(mine.user)
    response = client.post("/sitter/office", data={"body": "hello", "booking_id": str(waiting_cat_visit.id)})
    assert response.status_code == 404
    assert "Cat visit with Alex" not in client.get(
        f"/sitter/office?booking_id={waiting_cat_visit.id}").get_data(as_text=True)
    bad = client.post("/sitter/office", data={"body": "Keep these words", "booking_id": "12x"})
    assert bad.status_code == 422 and "Keep these words" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Message.id)).where(Message.owner_inbox.is_(True))) == 0
