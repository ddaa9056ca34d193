"""Signed Twilio webhooks with fields of the wrong length or shape: 400, nothing written, no number logged."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import EventLog, Message
from tests.blueprints.test_twilio_webhooks import SMS, STATUS
from tests.support.messaging_builders import booking_thread, outbound_message
from tests.support.twilio_stand_in import fixture_fields, post_signed


@pytest.fixture
def routed(make):
    """The inbound fixture's sender with an open booking thread on its To number."""
    fields = fixture_fields("inbound-sms")
    client, number = make.client(phone_e164=fields["From"]), make.number("pool", e164=fields["To"])
    return booking_thread(make, client=client, number=number, started_hours_ago=0.5)


def written() -> tuple[int, int]:
    db.session.rollback()
    return (db.session.scalar(select(func.count(Message.id))), db.session.scalar(select(func.count(EventLog.id))))


@pytest.mark.parametrize("overrides", [
    {"MessageSid": "SM" + "a" * 4998, "SmsSid": None, "SmsMessageSid": None},
    {"MessageSid": "SM\x00" + "a" * 31, "SmsSid": None, "SmsMessageSid": None},
    {"MessageSid": "not a sid", "SmsSid": None, "SmsMessageSid": None},
    {"To": "+1202555012" + "1" * 40},
    {"To": "+12025550121\r\n"},
    {"From": "+1" + "2" * 200},
    {"From": "+1202555\x000101"},
    {"OptOutType": "STOP" * 10},
    {"Body": "x" * 10_001},
])
def test_a_signed_inbound_text_with_a_bad_field_is_400_with_nothing_written(client, routed, caplog, overrides):
    before = written()
    with caplog.at_level(logging.INFO):
        response = post_signed(client, SMS, fixture_fields("inbound-sms", **overrides))
    assert response.status_code == 400
    assert response.get_json()["error"].split(" ")[0] in overrides  # names the field
    assert written() == before
    assert "2025550101" not in caplog.text and "0101" not in response.get_data(as_text=True)


@pytest.mark.parametrize("overrides", [
    {"MessageSid": "SM" + "2" * 5000, "SmsSid": None},
    {"MessageStatus": "delivered<script>", "SmsStatus": None},
    {"MessageStatus": "x" * 100, "SmsStatus": None},
    {"ErrorCode": "30003; DROP TABLE"},
])
def test_a_signed_status_callback_with_a_bad_field_is_400_with_nothing_written(client, routed, make, overrides):
    message = outbound_message(make, routed, provider_sid="SM" + "2" * 32)
    status_before = message.status
    before = written()
    response = post_signed(client, STATUS, fixture_fields("status-callback", **overrides))
    assert response.status_code == 400
    assert written() == before
    assert db.session.get(Message, message.id).status == status_before


def test_a_well_formed_text_is_still_routed(client, routed):
    response = post_signed(client, SMS, fixture_fields("inbound-sms", Body="Line one\r\nline two\ttabbed"))
    assert response.status_code == 200
    assert db.session.scalar(select(Message.body)) == "Line one\r\nline two\ttabbed"
