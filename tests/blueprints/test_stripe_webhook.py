"""POST /webhooks/stripe refuses anything Stripe did not sign, and writes nothing for it."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, EventLog, Message, Payment, StripeEvent
from tests.support import stripe_payloads as sp


def _nothing_written(booking_id: int) -> None:
    db.session.rollback()
    for model in (StripeEvent, Payment, EventLog, Message):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0, model.__name__
    booking = db.session.get(Booking, booking_id)
    assert booking.status == "pending" and booking.paid_at is None


@pytest.fixture
def paid_event(make):
    booking = make.booking(sitter=None)
    return booking, sp.event("checkout.session.completed", sp.checkout_session(booking))


def _refused_deliveries(booking, evt) -> dict[str, tuple[str, dict, int, str]]:
    """name → (body, headers, expected status, text expected in the error)."""
    body, headers = sp.signed(evt)
    tampered = body.replace(f'"booking_id": "{booking.id}"', f'"booking_id": "{booking.id + 1}"')
    assert tampered != body
    padded = json.loads(body)
    padded["data"]["object"]["metadata"]["padding"] = "x" * (2 * 1024 * 1024)
    plain = {"Content-Type": "application/json"}
    return {
        "wrong secret": (*sp.signed(evt, secret="whsec_someone_else"), 400, "signature"),
        "tampered body": (tampered, headers, 400, "signature"),
        "stale timestamp": (*sp.signed(evt, timestamp=int(time.time()) - 301), 400, "tolerance"),
        "no signature header": (body, plain, 400, "signature"),
        "empty body": (*sp.signed(""), 400, "empty"),
        "non-JSON": (*sp.signed("not json at all"), 400, "JSON"),
        "JSON array": (*sp.signed("[1, 2, 3]"), 400, "JSON"),
        "no type": (*sp.signed('{"id": "evt_1"}'), 400, "not a Stripe event"),
        "2 MB body": (*sp.signed(json.dumps(padded)), 413, "too large"),
    }


def test_anything_stripe_did_not_sign_is_refused_and_nothing_is_written(client, paid_event):
    booking, evt = paid_event
    for name, (body, headers, status, error) in _refused_deliveries(booking, evt).items():
        response = client.post("/webhooks/stripe", data=body, headers=headers)
        assert response.status_code == status, name
        assert error in response.get_json()["error"], name
        _nothing_written(booking.id)
    # The same event, correctly signed, is then accepted: the refusals were about the delivery.
    assert sp.deliver(client, evt).status_code == 200


def test_without_a_webhook_secret_nothing_is_accepted(app_factory, make, paid_event):
    booking, evt = paid_event
    unconfigured = app_factory(STRIPE_WEBHOOK_SECRET=None)
    response = sp.deliver(unconfigured.test_client(), evt)
    assert response.status_code == 503  # Stripe keeps retrying until it is configured
    _nothing_written(booking.id)


def test_unknown_event_type_is_stored_as_ignored_and_answered_200(client):
    evt = sp.event("customer.created", {"id": "cus_123", "object": "customer", "metadata": {}})
    response = sp.deliver(client, evt)
    assert response.status_code == 200
    assert response.get_json()["status"] == "ignored"
    row = db.session.get(StripeEvent, evt["id"])
    assert (row.type, row.status, row.booking_id) == ("customer.created", "ignored", None)
    assert "not used" in row.reason


def test_same_event_twice_is_stored_once(client):
    evt = sp.event("customer.created", {"id": "cus_123", "object": "customer", "metadata": {}})
    first, second = sp.deliver(client, evt), sp.deliver(client, evt)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.get_json()["duplicate"] is True
    db.session.rollback()
    row = db.session.get(StripeEvent, evt["id"])
    assert (row.status, row.attempts) == ("ignored", 0)  # nothing to apply: no job ran
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 1


def test_a_verified_event_nested_too_deep_is_refused_with_nothing_written(client, paid_event):
    """Issue 15: a signed event nested 50,000 deep was a 500 (RecursionError)."""
    booking, evt = paid_event
    deep = json.dumps(evt)[:-1] + ', "deep": ' + "[" * 50_000 + "]" * 50_000 + "}"
    fairly_deep = dict(evt, deep=json.loads("[" * 70 + "]" * 70))  # parses, but no Stripe object nests so
    for body in (deep, json.dumps(fairly_deep)):
        response = client.post("/webhooks/stripe", data=body, headers=sp.signed(body)[1])
        assert response.status_code == 400 and "deep" in response.get_json()["error"]
        _nothing_written(booking.id)


def test_a_verified_event_with_a_booking_id_out_of_range_is_ignored_with_its_reason(client, make):
    """Issue 15: a 20-digit metadata.booking_id was a 500 and stored `failed` (Stripe retried for days)."""
    booking = make.booking(sitter=None)
    for raw in ("12345678901234567890", "-3", "0"):
        intent = sp.payment_intent(booking)
        intent["metadata"]["booking_id"] = raw
        evt = sp.event("payment_intent.succeeded", intent)
        response = sp.deliver(client, evt)
        assert response.status_code == 200, raw
        row = sp.stored(evt)
        assert row.status == "ignored" and "out of range" in row.reason, raw
    assert db.session.get(Booking, booking.id).status == "pending"
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_a_signed_body_that_is_not_json_is_refused(client, paid_event):
    booking, evt = paid_event
    for body in ('{"id": "evt_1", "type": "x", "data": {"object": {}}, }', '{"id": "evt_1", "type": "x"'):
        response = client.post("/webhooks/stripe", data=body, headers=sp.signed(body)[1])
        assert response.status_code == 400
        _nothing_written(booking.id)


def test_checkout_return_page_thanks_the_client(client):
    assert b"Thank you" in client.get("/webhooks/stripe/return?paid=1").data
    assert b"Nothing was charged" in client.get("/webhooks/stripe/return?paid=0").data
