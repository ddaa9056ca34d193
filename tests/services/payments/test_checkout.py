"""Payment links through the Stripe SDK (against a local stand-in) and "paid in person"."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.errors import Conflict
from app.extensions import db
from app.models import Booking, EventLog, Message, OutboxEntry, Thread
from app.services.payments.checkout import (
    STRIPE_HTTP_CLIENT_KEY,
    PaymentProviderError,
    PaymentsNotConfigured,
    checkout_idempotency_key,
    create_payment_link,
)
from tests.support.factories import CONFIRMED
from tests.support.stripe_stand_in import StripeStandIn


@pytest.fixture
def app_config():
    return {"STRIPE_SECRET_KEY": "sk_test_stand_in"}


@pytest.fixture
def stand_in(app):
    stand_in = StripeStandIn()
    app.extensions[STRIPE_HTTP_CLIENT_KEY] = stand_in
    return stand_in


def test_link_is_created_through_the_sdk_with_booking_metadata_and_an_idempotency_key(
    make, stand_in
):
    front_desk = make.number("front_desk")
    booking = make.booking(sitter=None, price_cents=4200)
    link = create_payment_link(booking.id, actor="user:1")

    [request] = stand_in.requests
    assert (request["method"], request["url"]) == (
        "post",
        "https://api.stripe.com/v1/checkout/sessions",
    )
    assert request["headers"]["Authorization"] == "Bearer sk_test_stand_in"
    form = request["form"]
    assert form["metadata[booking_id]"] == str(booking.id)
    assert form["payment_intent_data[metadata][booking_id]"] == str(booking.id)
    assert form["line_items[0][price_data][unit_amount]"] == "4200"
    assert form["line_items[0][price_data][currency]"] == "usd"
    assert form["mode"] == "payment"
    assert form["success_url"].startswith("https://pawline.test/webhooks/stripe/return")
    assert form["cancel_url"].startswith("https://pawline.test/webhooks/stripe/return")
    assert request["headers"]["Idempotency-Key"].startswith(f"pawline-checkout-{booking.id}-")

    db.session.rollback()
    booking = db.session.get(Booking, booking.id)
    assert (booking.checkout_session_id, booking.checkout_url) == (link.session_id, link.url)
    assert booking.status == "pending" and booking.paid_at is None  # paid only when Stripe says so
    assert (
        db.session.scalar(select(EventLog.kind).where(EventLog.booking_id == booking.id))
        == "payment_link.created"
    )
    # The link is texted to the client from the front-desk number, in their front-desk thread.
    assert link.texted
    message = db.session.scalar(select(Message))
    assert message.from_e164 == front_desk.e164 and message.to_e164 == booking.client.phone_e164
    assert link.url in message.body
    assert db.session.get(Thread, message.thread_id).scope == "front_desk"
    outbox = db.session.scalar(select(OutboxEntry))
    assert (outbox.from_e164, outbox.to_e164) == (front_desk.e164, booking.client.phone_e164)


def test_asking_again_reuses_the_session_until_the_price_changes(make, stand_in):
    make.number("front_desk")
    booking = make.booking(sitter=None, price_cents=3500)
    first = create_payment_link(booking.id, actor="user:1")
    again = create_payment_link(booking.id, actor="user:1")
    keys = [r["headers"]["Idempotency-Key"] for r in stand_in.requests]
    assert keys[0] == keys[1] and first.session_id == again.session_id

    db.session.get(Booking, booking.id).price_cents = 5000
    db.session.commit()
    repriced = create_payment_link(booking.id, actor="user:1")
    assert stand_in.requests[-1]["headers"]["Idempotency-Key"] != keys[0]
    assert repriced.session_id != first.session_id
    assert stand_in.requests[-1]["form"]["line_items[0][price_data][unit_amount]"] == "5000"


def test_idempotency_key_is_stable_for_the_same_terms():
    params = {"metadata": {"booking_id": "7"}, "line_items": [{"price_data": {"unit_amount": 100}}]}
    reordered = {
        "line_items": [{"price_data": {"unit_amount": 100}}],
        "metadata": {"booking_id": "7"},
    }
    assert checkout_idempotency_key(7, params) == checkout_idempotency_key(7, reordered)
    assert checkout_idempotency_key(7, params) != checkout_idempotency_key(8, params)


def test_only_pending_bookings_get_a_link(make, stand_in):
    for status in ("confirmed", "cancelled", "completed"):
        booking = make.booking(sitter=None, status=status)
        with pytest.raises(Conflict, match=f"is {status}; only a pending booking"):
            create_payment_link(booking.id, actor="user:1")
    assert stand_in.requests == []


def test_without_a_stripe_key_there_is_no_link(make, app, stand_in):
    app.config["STRIPE_SECRET_KEY"] = None
    booking = make.booking(sitter=None)
    with pytest.raises(PaymentsNotConfigured, match="Paid in person"):
        create_payment_link(booking.id, actor="user:1")
    assert stand_in.requests == []


def test_stripe_refusing_stores_nothing(make, app):
    app.extensions[STRIPE_HTTP_CLIENT_KEY] = StripeStandIn(fail_with=400)
    make.number("front_desk")
    booking = make.booking(sitter=None)
    with pytest.raises(PaymentProviderError, match="at least 50 cents"):
        create_payment_link(booking.id, actor="user:1")
    db.session.rollback()
    assert db.session.get(Booking, booking.id).checkout_session_id is None
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    assert db.session.scalar(select(func.count()).select_from(EventLog)) == 0


def test_without_a_front_desk_number_the_link_is_made_but_not_texted(make, stand_in):
    booking = make.booking(sitter=None)
    link = create_payment_link(booking.id, actor="user:1")
    assert not link.texted and link.url.startswith("https://checkout.stripe.test/")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    kinds = db.session.scalars(select(EventLog.kind).order_by(EventLog.id)).all()
    assert kinds == ["payment_link.created", "payment_link.not_texted"]


def test_owner_sends_a_link_from_the_admin_and_is_told_the_url(make, login_as, stand_in):
    make.number("front_desk")
    owner = make.user("owner")
    booking = make.booking(sitter=None)
    client = login_as(owner)
    response = client.post(
        f"/admin/bookings/{booking.id}/payment-link", data=CONFIRMED,
        headers={"Referer": f"http://pawline.test/admin/bookings/{booking.id}"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/bookings/{booking.id}"
    with client.session_transaction() as session:
        [(category, text)] = session["_flashes"]
    assert category == "success" and "https://checkout.stripe.test/" in text and "texted" in text


def test_refusal_is_flashed_not_raised(make, login_as, stand_in):
    owner = make.user("owner")
    booking = make.booking(sitter=None, status="cancelled")
    client = login_as(owner)
    response = client.post(
        f"/admin/bookings/{booking.id}/payment-link", data=CONFIRMED, headers={"Referer": "https://evil.test/admin"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin"
    with client.session_transaction() as session:
        [(category, text)] = session["_flashes"]
    assert category == "error" and "cancelled" in text


def test_sitters_cannot_take_payments(make, login_as, stand_in):
    sitter = make.sitter()
    booking = make.booking(sitter=sitter)
    client = login_as(sitter.user)
    assert client.post(f"/admin/bookings/{booking.id}/payment-link", data=CONFIRMED).status_code == 404
    assert client.post(f"/admin/bookings/{booking.id}/paid-in-person", data=CONFIRMED).status_code == 404
    assert stand_in.requests == []

