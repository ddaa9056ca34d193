"""The sitter's visit page through HTTP: check in, report, check out; refusals say why."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.extensions import db
from app.models import Message, OutboxEntry
from app.models.visits import VisitCheck, VisitReport
from tests.support.media_stand_in import photo_bytes
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York


@pytest.fixture
def visit(make, clock, media_root):
    clock.set(START - timedelta(hours=1))
    client = make.client(name="Alex Morgan", pets=("Biscuit",), phone_e164="+12025550143",
                         address="12 Elm St")
    return make_visit(make, start=START, hours=1, client=client)


def _report(client, booking_id, fields, photos=()):
    values = MultiDict(fields)
    for name, content in photos:
        values.add("photos", FileStorage(io.BytesIO(content), filename=name, content_type="image/jpeg"))
    boundary, body = encode_multipart(values)
    return client.post(f"/sitter/visits/{booking_id}/report", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def test_check_in_outside_its_span_is_refused_with_a_clear_message(client, login_as, visit, clock):
    login_as(visit.user)
    page = client.get(f"/sitter/visits/{visit.booking.id}").get_data(as_text=True)
    assert "Check-in opens at 8:30 AM" in page and "Upcoming" in page
    response = client.post(f"/sitter/visits/{visit.booking.id}/check-in")
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Too early to check in: it opens at 8:30 AM, 30 minutes before the visit." in text
    assert db.session.scalar(select(VisitCheck)) is None


def test_check_in_report_and_check_out_through_the_page(client, login_as, visit, clock):
    login_as(visit.user)
    clock.set(START - timedelta(minutes=10))
    response = client.post(f"/sitter/visits/{visit.booking.id}/check-in", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Checked in at 8:50 AM." in page and "In progress" in page
    assert "0143" not in page and "12 Elm" not in page  # no client number or address here

    clock.set(START + timedelta(minutes=45))
    response = _report(client, visit.booking.id, {"note": "Biscuit had a great walk.",
                                                  "checklist": ["Fed", "Walk"]}, [("a.jpg", photo_bytes())])
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Report saved and queued to send to Alex." in page and "Save changes" in page
    [entry] = db.session.scalars(select(OutboxEntry)).all()
    assert "Visit report: Done: Fed, Walk. Biscuit had a great walk." in entry.body and len(entry.media_urls) == 1

    _report(client, visit.booking.id, {"note": "Biscuit had a great walk and a nap.", "checklist": ["Fed"]})
    assert len(db.session.scalars(select(OutboxEntry)).all()) == 1  # an edit texts nothing
    assert db.session.scalar(select(VisitReport.note)) == "Biscuit had a great walk and a nap."

    response = client.post(f"/sitter/visits/{visit.booking.id}/check-out", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Checked out at 9:45 AM." in page and "Done" in page


def test_another_sitter_gets_404_everywhere(client, login_as, visit, make, clock):
    clock.set(START)
    login_as(make.sitter().user)
    base = f"/sitter/visits/{visit.booking.id}"
    assert client.get(base).status_code == 404
    assert client.post(f"{base}/check-in").status_code == 404
    assert client.post(f"{base}/check-out").status_code == 404
    assert _report(client, visit.booking.id, {"note": "x"}).status_code == 404
    assert client.get(f"/sitter/threads/{visit.thread.id}/visit").status_code == 404


def test_a_refused_report_keeps_the_note(client, login_as, visit, clock):
    login_as(visit.user)
    clock.set(START + timedelta(minutes=5))
    response = _report(client, visit.booking.id, {"note": "Fed and watered"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "Check in first" in page
    client.post(f"/sitter/visits/{visit.booking.id}/check-in")
    response = _report(client, visit.booking.id, {"note": "Text me at 202-555-0101 Fed and watered"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Not sent: your note includes a phone number" in page
    assert "Text me at 202-555-0101 Fed and watered</textarea>" in page  # kept as typed, to edit
    assert db.session.scalar(select(Message)) is None


def test_the_thread_page_links_to_the_visit(client, login_as, visit, clock):
    clock.set(START)
    login_as(visit.user)
    response = client.get(f"/sitter/threads/{visit.thread.id}/visit")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/sitter/visits/{visit.booking.id}")
    page = client.get(f"/sitter/threads/{visit.thread.id}").get_data(as_text=True)
    assert f"/sitter/threads/{visit.thread.id}/visit" in page
