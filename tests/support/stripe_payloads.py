"""Stripe test events built from Stripe's own example objects, signed as Stripe signs them."""

from __future__ import annotations

import copy
import json
import time
import uuid
from functools import cache
from pathlib import Path

import stripe

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stripe"
WEBHOOK_SECRET = "whsec_test_secret"  # tests/conftest.py build_app


@cache
def _fixture(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text()


def stripe_object(name: str) -> dict:
    """A fresh copy of a full example object: checkout.session, payment_intent, charge, refund."""
    return json.loads(_fixture(name))


def event(event_type: str, obj: dict, event_id: str | None = None) -> dict:
    """The event envelope with a copy of `obj` under data.object."""
    envelope = stripe_object("event")
    envelope.update(
        id=event_id or f"evt_test_{uuid.uuid4().hex[:20]}",
        type=event_type,
        created=int(time.time()),
        data={"object": copy.deepcopy(obj)},
    )
    return envelope


def booking_metadata(booking) -> dict:
    return {"booking_id": str(booking.id), "org_id": str(booking.org_id)}


def checkout_session(booking, payment_status: str = "paid", intent_id: str | None = None) -> dict:
    session = stripe_object("checkout.session")
    session.update(
        id=f"cs_test_{uuid.uuid4().hex[:20]}",
        metadata=booking_metadata(booking),
        payment_status=payment_status,
        status="complete",
        mode="payment",
        amount_total=booking.price_cents,
        amount_subtotal=booking.price_cents,
        currency=booking.currency,
        client_reference_id=str(booking.id),
        payment_intent=intent_id or f"pi_test_{uuid.uuid4().hex[:20]}",
    )
    return session


def payment_intent(booking, intent_id: str | None = None) -> dict:
    intent = stripe_object("payment_intent")
    intent.update(
        id=intent_id or f"pi_test_{uuid.uuid4().hex[:20]}",
        metadata=booking_metadata(booking),
        status="succeeded",
        amount=booking.price_cents,
        amount_received=booking.price_cents,
        currency=booking.currency,
    )
    return intent


def charge(
    booking=None,
    *,
    intent_id: str | None = None,
    amount: int = 3500,
    refunded: int = 0,
    with_metadata: bool = True,
) -> dict:
    """A charge; without metadata it is found through its payment intent."""
    obj = stripe_object("charge")
    obj.update(
        id=f"ch_test_{uuid.uuid4().hex[:20]}",
        amount=amount,
        amount_captured=amount,
        amount_refunded=refunded,
        refunded=refunded >= amount,
        paid=True,
        payment_intent=intent_id,
        currency="usd",
        metadata=booking_metadata(booking) if (booking is not None and with_metadata) else {},
    )
    return obj


def signed(
    evt: dict | str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> tuple[str, dict]:
    """(body, headers) exactly as Stripe would send them."""
    body = evt if isinstance(evt, str) else json.dumps(evt)
    header = stripe.WebhookSignature.generate_signature_header(
        body, secret, timestamp=timestamp if timestamp is not None else int(time.time())
    )
    return body, {"Stripe-Signature": header, "Content-Type": "application/json"}


def deliver(client, evt: dict | str, **kw):
    """POST one signed delivery to /webhooks/stripe through a test client."""
    body, headers = signed(evt, **kw)
    return client.post("/webhooks/stripe", data=body, headers=headers)


def stored(evt: dict):
    """The StripeEvent row for `evt` as committed (read fresh: the job wrote it in its own session)."""
    from app.extensions import db
    from app.models import StripeEvent

    db.session.rollback()
    return db.session.get(StripeEvent, evt["id"])


def applied(client, evt: dict, **kw):
    """Deliver `evt` (the embedded queue applies it after the request's commit) and return its row."""
    response = deliver(client, evt, **kw)
    assert response.status_code == 200, response.get_data(as_text=True)
    return stored(evt)
