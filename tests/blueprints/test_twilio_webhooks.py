"""Twilio webhooks: signatures exactly as Twilio computes them, empty TwiML, nothing written on 403."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Alert, Client, EventLog, Message, Thread
from tests.support.messaging_builders import booking_thread, outbound_message
from tests.support.twilio_stand_in import BASE_URL, TOKEN, fixture_fields, post_signed, twilio_signature

SMS = "/webhooks/twilio/sms"
STATUS = "/webhooks/twilio/status"


@pytest.fixture
def routed(make):
    """The fixture's client (+12025550101) with an open booking thread on the fixture's To number."""
    return booking_thread(make, client=make.client(phone_e164="+12025550101"),
                          number=make.number("pool", e164="+12025550121"), started_hours_ago=0.5)


@pytest.fixture
def sent_text(routed, make):
    """An outbound text whose sid is the status-callback fixture's (which says `undelivered`)."""
    return outbound_message(make, routed, provider_sid="SM22222222222222222222222222222222")


def rows() -> dict:
    db.session.rollback()
    counts = {model.__name__: db.session.scalar(select(func.count()).select_from(model))
              for model in (Message, Thread, EventLog, Alert)}
    counts["statuses"] = sorted(db.session.scalars(select(Message.status)))
    counts["opted_out"] = sorted(db.session.scalars(select(Client.opted_out)))
    return counts


def test_correctly_signed_inbound_is_routed_and_answered_with_empty_twiml(client, routed):
    response = post_signed(client, SMS, fixture_fields("inbound-sms"))
    assert response.status_code == 200
    assert response.mimetype == "text/xml" and response.get_data(as_text=True).endswith("<Response/>")
    message = db.session.scalar(select(Message))
    assert (message.thread_id, message.routing_reason, message.body) == (
        routed.id, "active_window", "Is Biscuit eating ok?")


@pytest.mark.parametrize(("path", "how"), [
    *[(SMS, how) for how in ("missing", "wrong_token", "other_url", "http_not_https", "tampered",
                             "field_added")],
    *[(STATUS, how) for how in ("missing", "wrong_token", "other_url")],
])
def test_badly_signed_requests_get_403_and_write_nothing(client, sent_text, path, how):
    fields = fixture_fields("inbound-sms" if path == SMS else "status-callback")
    before = rows()
    url = BASE_URL + path
    signature = {
        "missing": None,
        "wrong_token": twilio_signature(url, fields, token="someone-elses-token"),
        "other_url": twilio_signature("https://old-host.example" + path, fields),
        "http_not_https": twilio_signature("http://pawline.test" + path, fields),
        "tampered": twilio_signature(url, {**fields, "Body": "something else"}),
        "field_added": twilio_signature(url, fields),
    }[how]
    posted = {**fields, "Extra": "1"} if how == "field_added" else fields
    headers = {"X-Twilio-Signature": signature} if signature else {}
    response = client.post(path, data=posted, headers=headers)
    assert response.status_code == 403
    assert rows() == before
    # The same request correctly signed would have written something.
    assert post_signed(client, path, fields).status_code == 200
    assert rows() != before


def test_signature_covers_the_query_string(client, routed):
    fields = fixture_fields("inbound-sms")
    assert post_signed(client, SMS + "?org=1", fields, sign_url=BASE_URL + SMS).status_code == 403
    assert post_signed(client, SMS + "?org=1", fields).status_code == 200


def test_same_message_sid_posted_twice_is_one_message(client, routed):
    for _ in range(2):
        assert post_signed(client, SMS, fixture_fields("inbound-sms")).status_code == 200
    assert rows()["Message"] == 1


def test_stop_from_twilio_advanced_opt_out(client, routed):
    assert post_signed(client, SMS, fixture_fields("inbound-stop")).status_code == 200
    assert db.session.get(Client, routed.client_id).opted_out is True


def test_unknown_to_is_answered_200_and_not_stored(client, routed):
    response = post_signed(client, SMS, fixture_fields("inbound-sms", To="+12025550188"))
    assert response.status_code == 200 and rows()["Message"] == 0


@pytest.mark.parametrize("missing", ["MessageSid", "To"])
def test_signed_request_missing_what_routing_needs_is_refused_with_a_reason(client, routed, missing):
    fields = fixture_fields("inbound-sms", **{missing: None, "SmsSid": None, "SmsMessageSid": None})
    response = post_signed(client, SMS, fields)
    assert response.status_code == 422 and missing in response.get_json()["error"]
    assert rows()["Message"] == 0


@pytest.mark.parametrize("overrides", [{"From": None}, {"From": "not-a-number"}, {"Body": None},
                                       {"Body": "🐶" * 2500}])
def test_signed_odd_input_is_recorded_never_a_500(client, routed, overrides):
    response = post_signed(client, SMS, fixture_fields("inbound-sms", **overrides))
    assert response.status_code == 200 and rows()["Message"] == 1


def test_signed_status_callback_moves_the_message_forward(client, sent_text):
    message = sent_text
    fields = fixture_fields("status-callback", MessageStatus="delivered", SmsStatus="delivered",
                            ErrorCode=None)
    assert post_signed(client, STATUS, fields).status_code == 200
    late = fixture_fields("status-callback", MessageStatus="sent", SmsStatus="sent", ErrorCode=None)
    assert post_signed(client, STATUS, late).status_code == 200
    db.session.rollback()
    assert db.session.get(Message, message.id).status == "delivered"


def test_during_a_token_rotation_both_tokens_are_accepted_and_a_third_refused(client, routed):
    # The new (secondary) token is current; Twilio signs with the old primary until it is promoted.
    client.application.config.update(TWILIO_AUTH_TOKEN="new-token-after-rotation",
                                     TWILIO_AUTH_TOKEN_PREVIOUS=TOKEN)
    before_promotion = fixture_fields("inbound-sms")
    after_promotion = {**before_promotion, "MessageSid": "SM" + "3" * 32, "Body": "And her walk?"}
    assert post_signed(client, SMS, before_promotion, token=TOKEN).status_code == 200
    assert post_signed(client, SMS, after_promotion, token="new-token-after-rotation").status_code == 200
    before = rows()
    third = {**before_promotion, "MessageSid": "SM" + "4" * 32}
    assert post_signed(client, SMS, third, token="someone-elses-token").status_code == 403
    assert rows() == before
    assert sorted(db.session.scalars(select(Message.body))) == ["And her walk?", "Is Biscuit eating ok?"]
