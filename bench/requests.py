"""Signed webhook requests, built as Stripe and Twilio build them (helpers shared with the tests)."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import urlencode

import stripe

from bench.load import Prepared
from bench.seed import InboundRoute, PendingBooking
from bench.server import PUBLIC_BASE_URL, STRIPE_SECRET, TWILIO_TOKEN
from tests.support import stripe_payloads
from tests.support.twilio_stand_in import fixture_fields, twilio_signature

STRIPE_PATH = "/webhooks/stripe"
BARE_STRIPE_PATH = "/bench/bare/stripe"
FLOOR_STRIPE_PATH = "/floor/stripe"  # bench.floor's app: Stripe's construct_event and one insert
FLOOR_STRIPE_LEAN_PATH = "/floor/stripe/verify-header"  # verify_header + json.loads and one insert
TWILIO_PATH = "/webhooks/twilio/sms"
BARE_TWILIO_PATH = "/bench/bare/twilio"


def paid_event(
    booking: PendingBooking,
    kind: str = "checkout.session.completed",
    event_id: str | None = None,
    intent_id: str | None = None,
) -> dict:
    """A booking-paid event: checkout.session.completed (paid) or payment_intent.succeeded."""
    if kind == "payment_intent.succeeded":
        obj = stripe_payloads.payment_intent(booking, intent_id=intent_id)
    else:
        obj = stripe_payloads.checkout_session(booking, intent_id=intent_id)
    return stripe_payloads.event(kind, obj, event_id=event_id)


def signed_stripe(events: list[dict], path: str = STRIPE_PATH) -> list[Prepared]:
    """Sign each body now (Stripe's 300 s tolerance): call right before sending."""
    now = int(time.time())
    prepared = []
    for evt in events:
        body = json.dumps(evt)
        header = stripe.WebhookSignature.generate_signature_header(body, STRIPE_SECRET, timestamp=now)
        prepared.append(
            Prepared("POST", path, body.encode(), {"Stripe-Signature": header, "Content-Type": "application/json"})
        )
    return prepared


def inbound_sms(routes: list[InboundRoute], count: int, bare: bool = False) -> list[Prepared]:
    """`count` texts from clients to the number of their open thread, each with a new MessageSid."""
    prepared = []
    for i in range(count):
        route = routes[i % len(routes)]
        sid = f"SM{uuid.uuid4().hex}"
        fields = fixture_fields(
            "inbound-sms",
            MessageSid=sid,
            SmsSid=sid,
            SmsMessageSid=sid,
            From=route.client_phone,
            To=route.number_e164,
            Body=f"Bench text {i}: how is Rex doing?",
        )
        fields = {k: str(v) for k, v in fields.items()}
        path = f"{BARE_TWILIO_PATH}?org={route.org_id}" if bare else TWILIO_PATH
        signature = twilio_signature(PUBLIC_BASE_URL + path, fields, TWILIO_TOKEN)
        prepared.append(
            Prepared(
                "POST",
                path,
                urlencode(fields).encode(),
                {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
            )
        )
    return prepared
