"""Owner inbox replies, numbers that cannot be retired, alerts, threads search."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import Message, OutboxEntry
from app.services.people.phones import national_format
from tests.support.factories import CONFIRMED
from tests.support.messaging_builders import as_first_text


def test_owner_replies_from_the_threads_number_and_the_message_is_handled(client, login_as, org_rows, db):
    login_as(org_rows.owner)
    page = client.get(f"/admin/inbox/{org_rows.message.id}").get_data(as_text=True)
    assert national_format(org_rows.client.phone_e164) in page  # owners see real numbers here
    response = client.post(f"/admin/inbox/{org_rows.message.id}",
                           data={"from_number_id": org_rows.number.id, "body": "On it!"})
    assert response.status_code == 302
    db.session.rollback()
    sent = db.session.scalar(select(OutboxEntry))
    assert (sent.from_e164, sent.to_e164, sent.body) == (org_rows.number.e164, org_rows.client.phone_e164,
                                                         as_first_text("On it!"))
    reply = db.session.scalar(select(Message).where(Message.sender_kind == "owner"))
    assert reply.thread_id == org_rows.thread.id and reply.sender_user_id == org_rows.owner.id
    assert db.session.get(Message, org_rows.message.id).handled_at is not None


def test_owner_replies_to_an_unknown_sender_from_the_front_desk(client, login_as, make, db):
    login_as(make.user("owner"))
    front_desk = make.number("front_desk", e164="+12025550100")
    other = make.number("pool")
    message = make.message(org=make.default_org, owner_inbox=True, from_e164="+12025550166",
                           to_e164=front_desk.e164, message_number_id=front_desk.id, routing_reason="unknown_sender")
    page = client.get("/admin/inbox").get_data(as_text=True)
    assert "Unknown sender" in page and "Sender is not a client of this business" in page
    assert "(202) 555-0166" in page
    assert "Sender is not a client of this business" in page  # the reason, in words
    refused = client.post(f"/admin/inbox/{message.id}", data={"from_number_id": other.id, "body": "Hi"})
    assert refused.status_code == 422  # only the number written to or the front desk
    assert client.post(f"/admin/inbox/{message.id}",
                       data={"from_number_id": front_desk.id, "body": "Who is this?"}).status_code == 302
    db.session.rollback()
    sent = db.session.scalar(select(OutboxEntry))
    assert (sent.from_e164, sent.to_e164) == ("+12025550100", "+12025550166")


def test_mark_handled_with_htmx_returns_the_refreshed_list(client, login_as, org_rows, db):
    login_as(org_rows.owner)
    response = client.post(f"/admin/inbox/{org_rows.message.id}/handled", data={"handled": "1"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and "Nothing waiting." in body
    db.session.expire_all()
    assert org_rows.message.handled_at is not None
    assert "0</strong> unhandled" in client.get("/admin").get_data(as_text=True)
    handled = client.get("/admin/inbox?handled=1").get_data(as_text=True)
    assert "Reopen" in handled


def test_a_number_with_open_threads_cannot_be_retired_and_the_page_says_why(client, login_as, org_rows, db):
    login_as(org_rows.owner)
    response = client.post(f"/admin/numbers/{org_rows.number.id}/retire", data=CONFIRMED)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "carries 1 open thread(s)" in page and f"#{org_rows.booking.id}" in page
    db.session.expire_all()
    assert org_rows.number.active


def test_a_number_whose_threads_are_over_can_be_retired(client, login_as, make, clock, db):
    login_as(make.user("owner"))
    number = make.number("pool")
    booking = make.booking(status="confirmed", start=clock.now - timedelta(days=2))
    make.window(make.thread(booking=booking, number=number))
    assert client.post(f"/admin/numbers/{number.id}/retire", data=CONFIRMED).status_code == 302
    db.session.expire_all()
    assert not number.active
    assert "retired" in client.get("/admin/numbers").get_data(as_text=True)


def test_numbers_page_shows_kind_counts_and_last_assigned(client, login_as, org_rows, make, clock):
    login_as(org_rows.owner)
    make.number("pool", assignment_count=7, last_assigned_at=clock.now, e164="+12025550155")
    page = client.get("/admin/numbers").get_data(as_text=True)
    assert "(202) 555-0155" in page and ">7<" in page and "never" in page


def test_owner_resolves_an_alert_from_home(client, login_as, org_rows, db):
    login_as(org_rows.owner)
    assert "Booking has no number" in client.get("/admin").get_data(as_text=True)
    assert client.post(f"/admin/alerts/{org_rows.alert.id}/resolve").status_code == 302
    db.session.expire_all()
    assert org_rows.alert.resolved_at is not None
    assert "Booking has no number" not in client.get("/admin").get_data(as_text=True)


def test_threads_search_by_name_or_phone(client, login_as, org_rows, make):
    login_as(org_rows.owner)
    make.thread(booking=make.booking(client=make.client(name="Zed Other")))
    by_name = client.get("/admin/threads?q=alex", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Alex Morgan" in by_name and "Zed Other" not in by_name
    digits = org_rows.client.phone_e164[-7:]
    by_phone = client.get(f"/admin/threads?q={digits}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Alex Morgan" in by_phone and "Zed Other" not in by_phone
    thread_page = client.get(f"/admin/threads/{org_rows.thread.id}").get_data(as_text=True)
    assert "Is Biscuit eating ok?" in thread_page and "the pool number used least recently" in thread_page


def test_adding_numbers_of_each_kind(client, login_as, make, db):
    from app.models import MessageNumber

    login_as(make.user("owner"))
    sitter = make.sitter(name="Sasha Sitter")
    assert client.post("/admin/numbers", data={"e164": "(202) 555-0171", "kind": "pool", "sitter_id": 0,
                                               "label": "Pool A"}).status_code == 302
    assert client.post("/admin/numbers", data={"e164": "202 555 0172", "kind": "sitter",
                                               "sitter_id": sitter.id}).status_code == 302
    rows = {n.e164: n for n in db.session.scalars(select(MessageNumber))}
    assert rows["+12025550171"].kind == "pool" and rows["+12025550171"].sitter_id is None
    assert rows["+12025550172"].sitter_id == sitter.id
    assert "(202) 555-0172" in client.get(f"/admin/sitters/{sitter.id}").get_data(as_text=True)
