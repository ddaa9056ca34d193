"""The owner's calendar, the sitter's next seven days, and the simulated client text."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import EventLog, Message
from app.services.bookings.confirmed import on_booking_confirmed
from tests.support.login import log_in


def test_day_and_week_by_sitter_with_unassigned_and_pending_flagged(client, login_as, make, clock):
    login_as(make.user("owner"))
    sasha = make.sitter(name="Sasha Lee")
    make.sitter(name="Devon Walker")
    make.booking(client=make.client(name="Taylor Brooks"), sitter=sasha, status="confirmed")  # today 12:00
    make.booking(client=make.client(name="Robin Park"), sitter=None)  # today, pending, no sitter
    make.booking(client=make.client(name="Jamie Fox"), sitter=sasha, start=clock.now + timedelta(days=2))
    make.booking(client=make.client(name="Gone Guy"), sitter=sasha, status="cancelled")
    day = client.get("/admin/calendar").get_data(as_text=True)
    assert "Taylor Brooks" in day and "Robin Park" in day and "Jamie Fox" not in day and "Gone Guy" not in day
    assert 'data-flagged="1"' in day and "no sitter" in day and "pending" in day
    assert 'data-sitter="Devon Walker"' in day  # a free sitter shows as free
    week = client.get("/admin/calendar?view=week&date=2026-11-25", headers={"HX-Request": "true"})
    text = week.get_data(as_text=True)
    # The week starts on the day asked for (the org's default; Monday is a setting: test_calendar_office).
    assert "<html" not in text and "Jamie Fox" in text and "Week of 25 November 2026" in text
    assert 'hx-get="/admin/calendar?view=week&amp;date=2026-12-02"' in text  # next week, by htmx
    assert client.get("/admin/calendar?date=2026-13-01").status_code == 400
    assert client.get("/admin/calendar?date=0001-01-01").status_code == 400


def test_a_sitter_sees_their_next_seven_days_without_client_numbers(client, login_as, make, clock):
    sasha = make.sitter(name="Sasha Lee")
    mine = make.client(name="Taylor Brooks", area="Near 202-555-0177 corner")
    make.booking(client=mine, sitter=sasha, start=clock.now + timedelta(days=3))
    make.booking(client=make.client(name="Far Future"), sitter=sasha, start=clock.now + timedelta(days=9))
    make.booking(client=make.client(name="Other Person"), sitter=make.sitter())
    login_as(sasha.user)
    page = client.get("/sitter/upcoming").get_data(as_text=True)
    assert "Taylor" in page and "Far" not in page and "Other" not in page
    assert mine.phone_e164 not in page and "202-555-0177" not in page and "Not confirmed yet" in page
    assert 'hx-get="/sitter/upcoming"' in client.get("/sitter").get_data(as_text=True)


def test_simulated_text_is_routed_like_the_webhook(client, login_as, make, db, clock):
    owner = make.user("owner")
    make.number("pool", e164="+12025550121")
    taylor = make.client(name="Taylor Brooks")
    booking = make.booking(client=taylor, sitter=make.sitter(name="Sasha Lee"), start=clock.now - timedelta(minutes=5))
    on_booking_confirmed(booking.id)
    login_as(owner)
    number_id = db.session.scalar(select(Message.message_number_id).where(Message.sender_kind == "automation"))
    page = client.post("/admin/simulate", data={"client_id": taylor.id, "to_number_id": number_id,
                                                "body": "The gate code changed"}).get_data(as_text=True)
    assert "Sent during the booking&#39;s visit window" in page and "Sasha Lee sees it now" in page
    message = db.session.scalar(select(Message).where(Message.direction == "inbound"))
    assert message.routing_reason == "active_window" and not message.owner_inbox
    stranger = client.post("/admin/simulate", data={"client_id": 0, "other_phone": "(202) 555-0188",
                                                    "to_number_id": number_id, "body": "who is this"})
    assert "Sender is not a client of this business" in stranger.get_data(as_text=True)
    assert db.session.scalar(select(EventLog.id).where(EventLog.kind == "inbound.simulated")) is not None
    bad = client.post("/admin/simulate", data={"client_id": 0, "other_phone": "12", "to_number_id": number_id,
                                               "body": "x"})
    assert bad.status_code == 422


def test_simulation_is_for_owners_on_the_embedded_default_only(client, login_as, make, app_factory):
    from app.services.messaging.simulation import simulation_allowed

    assert not simulation_allowed({"SMS_PROVIDER": "outbox", "APP_ENV": "production"})
    login_as(make.user("staff"))
    assert client.get("/admin/simulate").status_code in (403, 404)
    login_as(make.user("owner"))
    assert client.get("/admin/simulate").status_code == 200
    twilio_app = app_factory(SMS_PROVIDER="twilio")
    twilio_client = twilio_app.test_client()
    log_in(twilio_client, make.user("owner"))
    assert twilio_client.get("/admin/simulate").status_code == 404
    assert "Simulate a text" not in twilio_client.get("/admin").get_data(as_text=True)
