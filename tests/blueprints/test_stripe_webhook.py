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
    booking = make.booking()
    return booking, sp.event("checkout.session.completed", sp.checkout_session(booking))


def test_wrong_secret_is_refused(client, paid_event):
    booking, evt = paid_event
    response = sp.deliver(client, evt, secret="whsec_someone_else")
    assert response.status_code == 400
    assert "signature" in response.get_json()["error"]
    _nothing_written(booking.id)


def test_body_changed_after_signing_is_refused(client, paid_event):
    booking, evt = paid_event
    body, headers = sp.signed(evt)
    tampered = body.replace(f'"booking_id": "{booking.id}"', f'"booking_id": "{booking.id + 1}"')
    assert tampered != body
    response = client.post("/webhooks/stripe", data=tampered, headers=headers)
    assert response.status_code == 400
    _nothing_written(booking.id)


def test_stale_timestamp_is_refused(client, paid_event):
    booking, evt = paid_event
    response = sp.deliver(client, evt, timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert "tolerance" in response.get_json()["error"]
    _nothing_written(booking.id)


def test_missing_signature_header_is_refused(client, paid_event):
    booking, evt = paid_event
    response = client.post(
        "/webhooks/stripe", data=json.dumps(evt), content_type="application/json"
    )
    assert response.status_code == 400
    _nothing_written(booking.id)


@pytest.mark.parametrize(
    "body",
    ["", "not json at all", "[1, 2, 3]", '{"id": "evt_1"}'],
    ids=["empty", "non-json", "json-array", "no-type"],
)
def test_correctly_signed_garbage_is_refused(client, make, body):
    booking = make.booking()
    response = sp.deliver(client, body)
    assert response.status_code == 400
    _nothing_written(booking.id)


def test_two_megabyte_body_is_refused_before_it_is_read(client, paid_event):
    booking, evt = paid_event
    evt["data"]["object"]["metadata"]["padding"] = "x" * (2 * 1024 * 1024)
    response = sp.deliver(client, evt)
    assert response.status_code == 413
    _nothing_written(booking.id)


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
