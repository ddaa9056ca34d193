"""POST /webhooks/stripe refuses anything Stripe did not sign, and writes nothing for it."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, EventLog, Message, Payment, StripeEvent
from tests import stripe_payloads as sp


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
    assert row.attempts == 1
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 1


def test_checkout_return_page_thanks_the_client(client):
    assert b"Thank you" in client.get("/webhooks/stripe/return?paid=1").data
    assert b"Nothing was charged" in client.get("/webhooks/stripe/return?paid=0").data
