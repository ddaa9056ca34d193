"""The office's quiet-hours warning (compose boxes, inbox reply, the flash after a text) in the client's time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.models import Message

FLORIDA = ZoneInfo("America/New_York")  # Miami's area code 305
NEW_YORK = ZoneInfo("America/New_York")


def owner_and_client_thread(make, clock, login_as, *, org_zone: str, phone: str, now: datetime):
    """An org in `org_zone`, its owner logged in at `now`, and a client "Ann Lee" with this number on a
    confirmed booking's thread, who has texted the owner inbox. Returns (booking, thread, inbox message)."""
    org = make.org(name="Paws", timezone=org_zone)
    clock.set(now)
    login_as(make.user("owner", org=org))  # a login session follows the (frozen) clock
    ann = make.client(org=org, name="Ann Lee", phone_e164=phone)
    booking = make.booking(org=org, client=ann, sitter=None, status="confirmed")
    thread = make.thread(booking=booking, number=make.number("pool", org=org))
    message = make.message(thread=thread, owner_inbox=True, from_e164=phone, to_e164=thread.message_number.e164,
                           routing_reason="outside_window")
    return booking, thread, message


def compose_pages(client, booking, thread, message) -> dict[str, str]:
    return {url: client.get(url).get_data(as_text=True)
            for url in (f"/admin/threads/{thread.id}", f"/admin/bookings/{booking.id}", f"/admin/inbox/{message.id}")}


def text_flash(client, thread) -> str:
    """The page after the owner's text is posted, and the text is really queued."""
    page = client.post(f"/admin/threads/{thread.id}/text", data={"body": "Running late, sorry"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Text to Ann Lee queued from" in page
    return page


def test_a_california_owner_at_530_pm_is_warned_of_a_florida_clients_830_pm(make, clock, client, login_as, db):
    booking, thread, message = owner_and_client_thread(
        make, clock, login_as, org_zone="America/Los_Angeles", phone="+13055550142",
        now=datetime(2026, 11, 24, 20, 30, tzinfo=FLORIDA))  # 5:30 p.m. in California
    situation = "It is 8:30 PM for Ann Lee (their time): quiet hours there (8:00 PM–8:00 AM)."
    ends = "Automated texts to them wait until 8:00 AM their time (5:00 AM yours)."
    for url, page in compose_pages(client, booking, thread, message).items():
        assert "data-quiet-hours" in page, url
        goes_now = "A reply you send here goes out now." if "/inbox/" in url else "A text you send here goes out now."
        assert f"{situation} {ends} {goes_now}" in page, url
    assert situation in text_flash(client, thread)
    assert db.session.scalar(select(Message.status).where(Message.sender_kind == "owner")) == "sent"  # warned, sent


def test_a_new_york_owner_at_10_pm_is_not_warned_of_a_california_clients_7_pm(make, clock, client, login_as):
    booking, thread, message = owner_and_client_thread(
        make, clock, login_as, org_zone="America/New_York", phone="+14155550142",
        now=datetime(2026, 11, 24, 22, 0, tzinfo=NEW_YORK))
    for url, page in compose_pages(client, booking, thread, message).items():
        assert "Ann Lee" in page and "data-quiet-hours" not in page, url
    assert "quiet hours" not in text_flash(client, thread)


def test_a_client_in_the_orgs_own_zone_is_warned_in_the_laws_hours_without_a_yours(make, clock, client, login_as):
    booking, thread, message = owner_and_client_thread(
        make, clock, login_as, org_zone="America/New_York", phone="+12125550142",
        now=datetime(2026, 11, 24, 21, 30, tzinfo=NEW_YORK))  # past the federal 9 p.m.
    warning = ("It is 9:30 PM for Ann Lee (their time): quiet hours there (8:00 PM–8:00 AM). "
               "Automated texts to them wait until 8:00 AM their time. A text you send here goes out now.")
    pages = compose_pages(client, booking, thread, message)
    assert warning in pages[f"/admin/threads/{thread.id}"] and warning in pages[f"/admin/bookings/{booking.id}"]
    assert all("yours" not in page for page in pages.values())
    flash = text_flash(client, thread)
    assert "It is 9:30 PM for Ann Lee (their time): quiet hours there (8:00 PM–8:00 AM)." in flash
    assert "yours" not in flash


def test_a_sender_who_is_not_a_client_is_warned_in_the_orgs_time(make, clock, client, login_as):
    org = make.org(name="Paws", timezone="America/New_York")
    clock.set(datetime(2026, 11, 24, 22, 0, tzinfo=NEW_YORK))
    login_as(make.user("owner", org=org))
    front_desk = make.number("front_desk", org=org)
    message = make.message(org=org, owner_inbox=True, from_e164="+14155550199", to_e164=front_desk.e164,
                           message_number_id=front_desk.id, routing_reason="front_desk_unknown")
    page = client.get(f"/admin/inbox/{message.id}").get_data(as_text=True)
    assert "It is 10:00 PM (your time): quiet hours (8:00 PM–8:00 AM). A reply you send here goes out now." in page
