"""A sitter's click-to-call: inside the window Twilio (the local stand-in, through the SDK) rings the
sitter's own phone from the masking number and then dials the client with the masking number as
caller ID; outside it nothing is rung. The sitter never sees the client's number."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Call
from app.services.people.phones import national_format
from tests.support.messaging_builders import booking_thread
from tests.support.twilio_stand_in import BASE_URL, TwilioStandIn


@pytest.fixture
def stand_in(app):
    stand_in = TwilioStandIn()
    app.config["TWILIO_HTTP_CLIENT"] = stand_in
    yield stand_in
    app.config.pop("TWILIO_HTTP_CLIENT", None)


@pytest.fixture
def visit(make):
    return booking_thread(make, number=make.number("pool"), started_hours_ago=0.5, sitter_login=True)


def call_posts(stand_in):
    return [r for r in stand_in.posts if r["uri"].endswith("/Calls.json")]


def test_inside_the_window_twilio_rings_the_sitter_then_bridges_to_the_client(client, login_as, visit, stand_in):
    sitter, masking = visit.booking.sitter, visit.message_number.e164
    login_as(sitter.user)
    response = client.post(f"/sitter/threads/{visit.id}/call", follow_redirects=True)

    (placed,) = call_posts(stand_in)
    assert (placed["data"]["To"], placed["data"]["From"]) == (sitter.phone_e164, masking)
    bridge = ET.fromstring(placed["data"]["Twiml"])
    dial = bridge.find("Dial")
    assert dial.get("callerId") == masking and [n.text for n in dial.iter("Number")] == [visit.client.phone_e164]
    assert placed["data"]["StatusCallback"] == f"{BASE_URL}/webhooks/twilio/voice/status"

    page = response.get_data(as_text=True)
    assert "Your phone will ring now" in page and national_format(masking) in page
    for shown in (visit.client.phone_e164, national_format(visit.client.phone_e164), visit.client.phone_e164[2:]):
        assert shown not in page
    call = db.session.scalar(select(Call))
    assert (call.direction, call.thread_id, call.sitter_id, call.provider_sid) == (
        "outbound", visit.id, sitter.id, stand_in.calls[0]["sid"])


def test_outside_the_window_nothing_is_rung(client, login_as, make, clock, stand_in):
    visit = booking_thread(make, number=make.number("pool"), started_hours_ago=0.5, sitter_login=True)
    clock.advance(hours=4)
    login_as(visit.booking.sitter.user)
    page = client.post(f"/sitter/threads/{visit.id}/call", follow_redirects=True).get_data(as_text=True)
    assert call_posts(stand_in) == []
    assert "only during the visit" in page
    assert db.session.scalar(select(Call)) is None


def test_another_sitter_cannot_call_the_client(client, login_as, make, visit, stand_in):
    other = booking_thread(make, number=make.number("pool"), started_hours_ago=0.5, sitter_login=True)
    login_as(other.booking.sitter.user)
    assert client.post(f"/sitter/threads/{visit.id}/call").status_code == 404
    assert call_posts(stand_in) == []


def test_twilio_refusing_the_call_is_said_and_recorded(client, login_as, visit, stand_in):
    stand_in.fail_next(400, 21211)
    login_as(visit.booking.sitter.user)
    page = client.post(f"/sitter/threads/{visit.id}/call", follow_redirects=True).get_data(as_text=True)
    assert "could not place the call" in page and "will ring" not in page
    assert db.session.scalar(select(Call.outcome)) == "failed"


def test_the_call_button_shows_only_in_the_window(client, login_as, visit, clock):
    login_as(visit.booking.sitter.user)
    assert "data-call-button" in client.get(f"/sitter/threads/{visit.id}").get_data(as_text=True)
    clock.advance(hours=4)
    assert "data-call-button" not in client.get(f"/sitter/threads/{visit.id}").get_data(as_text=True)


def test_the_bridged_calls_end_is_recorded_from_the_signed_status_callback(client, login_as, visit, stand_in):
    from tests.support.twilio_stand_in import post_signed

    login_as(visit.booking.sitter.user)
    client.post(f"/sitter/threads/{visit.id}/call")
    sid = db.session.scalar(select(Call.provider_sid))
    response = post_signed(client, "/webhooks/twilio/voice/status",
                           {"CallSid": sid, "CallStatus": "completed", "CallDuration": "31"})
    assert response.status_code == 200
    db.session.rollback()
    call = db.session.scalar(select(Call))
    assert (call.outcome, call.duration_seconds) == ("completed", 31)
    assert timedelta(0) <= call.updated_at - call.created_at
