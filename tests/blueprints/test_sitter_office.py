"""The office one tap away: `POST /sitter/office` lands in the owner inbox under the sitter's name,
owners answer in the same place, and the answer reaches the sitter (push and alerts page)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Alert, Message, Notification, OfficeNote
from app.services.notifications import notify as notifications
from tests.support.push import PUBLIC, PUSH_CONFIG, SUBJECT
from tests.support.push_stand_in import PushStandIn
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York
HX = {"HX-Request": "true"}


@pytest.fixture
def app_config():
    return dict(PUSH_CONFIG)


@pytest.fixture
def visit(make, clock):
    clock.set(START + timedelta(minutes=15))
    client = make.client(name="Alex Morgan", pets=("Biscuit",), phone_e164="+12025550143")
    return make_visit(make, start=START, hours=1, client=client)


def _csrf(client, url="/sitter/office") -> str:
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _owner_sees_inbox(client, login_as, owner) -> str:
    client.get("/logout")
    login_as(owner)
    return client.get("/admin/inbox").get_data(as_text=True)


def test_a_sitters_note_lands_in_the_owner_inbox_under_their_name_at_any_time(client, login_as, make, visit, clock):
    owner = make.user("owner")
    clock.set(START + timedelta(days=2))  # long after the window: a note to the office is still allowed
    login_as(visit.user)
    response = client.post("/sitter/office", data={"body": "Locked up, heading out. Key back in the lockbox.",
                                                   "thread_id": str(visit.thread.id)})
    assert response.status_code == 302
    assert "Sent to the office" in client.get(response.headers["Location"]).get_data(as_text=True)

    message = db.session.scalar(select(Message).where(Message.owner_inbox.is_(True)))
    assert (message.sender_kind, message.direction, message.thread_id, message.from_e164) == (
        "sitter", "inbound", None, None)
    note = db.session.scalar(select(OfficeNote))
    assert (note.sitter_id, note.thread_id, note.direction) == (visit.sitter.id, visit.thread.id, "to_office")
    assert note.booking_id == visit.booking.id  # the office can open the visit from the note
    # Not in the client's conversation: nothing about it is texted or shown there.
    assert db.session.scalar(select(func.count(Message.id)).where(Message.thread_id == visit.thread.id)) == 0

    inbox = _owner_sees_inbox(client, login_as, owner)
    row = inbox.split("data-sitter-note")[1].split("</li>")[0]
    assert f"{visit.sitter.name} (sitter)" in row and "Locked up, heading out." in row
    assert "Unknown sender" not in row and "an unknown number" not in row


def test_owner_answers_in_the_inbox_and_the_sitter_gets_a_push_and_an_alert(client, login_as, make, visit):
    owner = make.user("owner")
    login_as(visit.user)
    client.post("/sitter/office", data={"body": "The back door sticks, is that ok?"}, headers=HX)
    message = db.session.scalar(select(Message).where(Message.owner_inbox.is_(True)))
    client.get("/logout")

    with PushStandIn(PUBLIC, SUBJECT) as push:
        notifications.save_push_subscription(visit.user, push.subscribe(), device="test")
        login_as(owner)
        page = client.get(f"/admin/inbox/{message.id}").get_data(as_text=True)
        assert f"Note from {visit.sitter.name}" in page and "The back door sticks" in page
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        answer = client.post(f"/admin/inbox/{message.id}",
                             data={"csrf_token": token,
                                   "body": "Yes, lift it a little. Call the client at 202-555-0143"})
        assert answer.status_code == 302
        [received] = push.wait_for(1)
        assert received.problems == []
        assert received.payload["title"] == "The office answered your note"
        assert received.payload["url"] == "/sitter/alerts"
        assert "202" not in str(received.payload)

    db.session.expire_all()
    assert db.session.get(Message, message.id).handled_at is not None
    assert db.session.scalar(select(Notification.status).where(Notification.kind == "office_reply")) == "sent"
    client.get("/logout")
    login_as(visit.user)
    alerts = client.get("/sitter/alerts").get_data(as_text=True)
    assert "The office answered" in alerts and "Yes, lift it a little." in alerts
    assert "202-555-0143" not in alerts and "0143" not in alerts  # the client's number never reaches a sitter
    office = client.get("/sitter/office").get_data(as_text=True)
    assert "The back door sticks" in office and "Yes, lift it a little." in office


def test_htmx_note_answers_with_a_fragment_and_an_empty_note_keeps_nothing(client, login_as, visit):
    login_as(visit.user)
    empty = client.post("/sitter/office", data={"body": "   "}, headers=HX)
    assert empty.status_code == 422 and "Write a note first." in empty.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Message.id))) == 0
    sent = client.post("/sitter/office", data={"body": "All done, door locked"}, headers=HX)
    html = sent.get_data(as_text=True)
    assert sent.status_code == 200 and "data-office-sent" in html and "<html" not in html


def test_a_note_about_another_sitters_thread_is_404_and_writes_nothing(client, login_as, make, visit):
    other = make_visit(make, start=START)
    login_as(visit.user)
    response = client.post("/sitter/office", data={"body": "hello", "thread_id": str(other.thread.id)})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count(Message.id))) == 0
    assert client.post("/sitter/office", data={"body": "x", "thread_id": "99999999999999999999"}).status_code == 422


def test_only_sitters_write_and_only_owners_of_the_org_read(client, login_as, make, visit):
    other_org = make.org()
    stranger = make.user("owner", org=other_org)
    login_as(visit.user)
    client.post("/sitter/office", data={"body": "Note for my office only"})
    message = db.session.scalar(select(Message).where(Message.owner_inbox.is_(True)))
    client.get("/logout")
    login_as(stranger)
    assert "Note for my office only" not in client.get("/admin/inbox").get_data(as_text=True)
    assert client.get(f"/admin/inbox/{message.id}").status_code == 404
    assert client.post("/sitter/office", data={"body": "hi"}).status_code in (302, 403, 404)
    assert db.session.scalar(select(func.count(Message.id))) == 1


def test_alert_count_is_one_alert_per_answer(client, login_as, make, visit):
    owner = make.user("owner")
    login_as(visit.user)
    client.post("/sitter/office", data={"body": "Question"})
    message = db.session.scalar(select(Message).where(Message.owner_inbox.is_(True)))
    client.get("/logout")
    login_as(owner)
    page = client.get(f"/admin/inbox/{message.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    empty = client.post(f"/admin/inbox/{message.id}", data={"csrf_token": token, "body": ""})
    assert empty.status_code == 422 and "Write an answer first." in empty.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Alert.id))) == 0


def _offer_form(html: str) -> str:
    return re.search(r"<form[^>]*data-office-offer.*?</form>", html, re.S).group(0)


def test_a_refused_send_offers_the_office_with_the_words_kept_and_sends_them_there(client, login_as, make, visit,
                                                                                     clock):
    make.user("owner")
    clock.set(START + timedelta(hours=2, minutes=5))  # after end + grace
    login_as(visit.user)
    refused = client.post(f"/sitter/threads/{visit.thread.id}/messages", data={"body": "Locked up, heading out"},
                          headers=HX)
    html = refused.get_data(as_text=True)
    offer = _offer_form(html)
    assert "Send this to the office instead" in offer
    assert 'name="body" value="Locked up, heading out"' in offer
    assert f'name="thread_id" value="{visit.thread.id}"' in offer
    assert 'action="/sitter/office"' in offer

    sent = client.post("/sitter/office", data={"body": "Locked up, heading out", "thread_id": str(visit.thread.id)},
                       headers=HX)
    assert "Sent to the office" in sent.get_data(as_text=True)
    message = db.session.scalar(select(Message).where(Message.owner_inbox.is_(True)))
    assert message.body == "Locked up, heading out"
    assert db.session.scalar(select(OfficeNote.thread_id)) == visit.thread.id


def test_an_in_window_refusal_for_content_does_not_offer_the_office(client, login_as, visit):
    login_as(visit.user)
    response = client.post(f"/sitter/threads/{visit.thread.id}/messages", data={"body": "   "}, headers=HX)
    assert "data-office-offer" not in response.get_data(as_text=True)


def test_the_refusal_alert_clears_once_the_sitter_has_seen_it(client, login_as, visit, clock):
    clock.set(START + timedelta(hours=2, minutes=5))
    login_as(visit.user)
    client.post(f"/sitter/threads/{visit.thread.id}/messages", data={"body": "Late note"})
    first = client.get("/sitter/alerts").get_data(as_text=True)
    assert "Not sent: outside the visit window" in first  # shown once…
    again = client.get("/sitter/alerts", headers=HX).get_data(as_text=True)
    assert "Not sent: outside the visit window" not in again and "No alerts." in again  # …then gone
    assert db.session.scalar(select(Alert.resolved_at)) is not None
