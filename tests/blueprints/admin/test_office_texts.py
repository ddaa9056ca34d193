"""The office texts a client from any thread (thread page, booking page) through the outbound pipeline."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import EventLog, Message, OutboxEntry
from app.services.bookings.confirmed import on_booking_confirmed


def confirmed_booking(make, **client_kw):
    number = make.number("pool", e164="+12025550121")
    booking = make.booking(client=make.client(name="Taylor Brooks", **client_kw), sitter=make.sitter(name="Sasha Lee"))
    on_booking_confirmed(booking.id)
    return booking, number


def test_owner_texts_the_client_from_the_thread_page_and_sees_its_status(client, login_as, make, db):
    owner = make.user("owner", name="Alex Morgan")
    booking, number = confirmed_booking(make)
    thread_id = db.session.scalar(select(Message.thread_id).where(Message.sender_kind == "automation"))
    login_as(owner)
    page = client.get(f"/admin/threads/{thread_id}").get_data(as_text=True)
    assert "Text Taylor Brooks" in page and "From (202) 555-0121" in page
    response = client.post(f"/admin/threads/{thread_id}/text", data={"body": "Running 10 minutes late!"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Text to Taylor Brooks queued from (202) 555-0121" in page
    sent = db.session.scalar(select(Message).where(Message.sender_kind == "owner"))
    assert (sent.thread_id, sent.message_number_id, sent.sender_user_id) == (thread_id, number.id, owner.id)
    assert sent.status == "sent"  # the embedded queue ran the send job
    assert db.session.scalar(select(OutboxEntry.from_e164).where(OutboxEntry.message_id == sent.id)) == "+12025550121"
    # by name and status in words, not sender codes
    assert "Alex Morgan" in page and 'data-status="sent"' in page
    assert "Automation · booking confirmation" in page
    assert db.session.scalar(select(EventLog.kind).where(EventLog.kind == "office.texted")) is not None


def test_the_booking_page_composes_too_and_returns_there(client, login_as, make, db):
    staff = make.user("staff")
    booking, _number = confirmed_booking(make)
    login_as(staff)
    page = client.get(f"/admin/bookings/{booking.id}").get_data(as_text=True)
    assert 'name="back" type="hidden" value="booking"' in page
    thread_id = db.session.scalar(select(Message.thread_id).where(Message.sender_kind == "automation"))
    response = client.post(f"/admin/threads/{thread_id}/text", data={"body": "Hi!", "back": "booking"})
    assert response.status_code == 302 and response.headers["Location"].startswith(f"/admin/bookings/{booking.id}")
    empty = client.post(f"/admin/threads/{thread_id}/text", data={"body": "  ", "back": "booking"})
    assert empty.status_code == 422 and "Write a message first." in empty.get_data(as_text=True)


def test_an_opted_out_client_is_not_texted_and_the_owner_is_told_so(client, login_as, make, db):
    booking, _number = confirmed_booking(make)
    booking.client.opted_out = True
    db.session.commit()
    thread_id = db.session.scalar(select(Message.thread_id).where(Message.sender_kind == "automation"))
    login_as(make.user("owner"))
    page = client.get(f"/admin/threads/{thread_id}").get_data(as_text=True)
    assert "Taylor Brooks replied STOP" in page
    page = client.post(f"/admin/threads/{thread_id}/text", data={"body": "Hello?"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Not sent: Taylor Brooks replied STOP" in page and "queued" not in page.split("</header>")[1][:300]
    sent = db.session.scalar(select(Message).where(Message.sender_kind == "owner"))
    assert sent.status == "blocked" and not db.session.scalar(
        select(OutboxEntry.id).where(OutboxEntry.message_id == sent.id))


def test_quiet_hours_are_warned_about_not_enforced(client, login_as, make, db, clock):
    booking, _number = confirmed_booking(make)
    thread_id = db.session.scalar(select(Message.thread_id).where(Message.sender_kind == "automation"))
    login_as(make.user("owner"))
    assert "data-quiet-hours" not in client.get(f"/admin/threads/{thread_id}").get_data(as_text=True)
    clock.advance(hours=12)  # 22:00 in New York
    login_as(make.user("owner"))  # a login session follows the (frozen) clock
    page = client.get(f"/admin/threads/{thread_id}").get_data(as_text=True)
    assert "data-quiet-hours" in page and "Automated texts to them wait until 8:00 AM their time." in page
    page = client.post(f"/admin/threads/{thread_id}/text", data={"body": "Sorry it is late"},
                       follow_redirects=True).get_data(as_text=True)
    # 8 p.m.: the default since consent; the client's (202) number is in the org's zone
    assert "It is 10:00 PM for Taylor Brooks (their time): quiet hours there (8:00 PM–8:00 AM)." in page


def test_a_retired_number_cannot_be_texted_from_and_sitters_cannot_compose_here(client, login_as, make, db):
    booking, number = confirmed_booking(make)
    thread_id = db.session.scalar(select(Message.thread_id).where(Message.sender_kind == "automation"))
    number.active = False
    db.session.commit()
    login_as(make.user("owner"))
    refused = client.post(f"/admin/threads/{thread_id}/text", data={"body": "Hi"})
    assert refused.status_code == 422 and "is retired" in refused.get_data(as_text=True)
    login_as(db.session.get(type(booking.sitter), booking.sitter_id).user)
    assert client.post(f"/admin/threads/{thread_id}/text", data={"body": "Hi"}).status_code in (403, 404)
    assert db.session.scalar(select(Message.id).where(Message.sender_kind == "owner")) is None


def test_the_conversation_polls_only_while_a_text_is_on_its_way(client, login_as, make, db, clock):
    booking, _number = confirmed_booking(make)
    thread_id = db.session.scalar(select(Message.thread_id).where(Message.sender_kind == "automation"))
    login_as(make.user("owner"))
    page = client.get(f"/admin/threads/{thread_id}/conversation", headers={"HX-Request": "true"})
    assert "hx-trigger" not in page.get_data(as_text=True)
    db.session.add(Message(org_id=booking.org_id, thread_id=thread_id, direction="outbound", sender_kind="owner",
                           body="pending", status="queued", created_at=clock.now + timedelta(seconds=1)))
    db.session.commit()
    page = client.get(f"/admin/threads/{thread_id}/conversation", headers={"HX-Request": "true"})
    assert "every 5s" in page.get_data(as_text=True) and "Queued" in page.get_data(as_text=True)


def test_the_inbox_reply_warns_about_quiet_hours_too(client, login_as, make, org_rows, clock):
    clock.advance(hours=12)  # 22:00 in New York
    login_as(org_rows.owner)
    assert "data-quiet-hours" in client.get(f"/admin/inbox/{org_rows.message.id}").get_data(as_text=True)
