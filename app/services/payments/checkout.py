"""Getting paid: a Stripe Checkout link for a pending booking, or "paid in person".

Both end in the same place: the payment is recorded on the booking and the
booking-confirmed handler runs (for Checkout, when Stripe's webhook says paid).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import stripe
from flask import current_app

from app.clock import utcnow
from app.errors import Conflict, DomainError, InvalidInput, NotFound
from app.extensions import db
from app.localtime import format_datetime
from app.models import Booking, MessageNumber, Org, Payment
from app.persistence.locking import lock_row
from app.services.audit.events import record_event
from app.services.messaging.inbound import front_desk_thread
from app.services.messaging.outbound import queue_outbound_message
from app.services.numbers.choice import front_desk_number_id

STRIPE_HTTP_CLIENT_KEY = "pawline_stripe_http_client"  # tests put a stand-in here
STRIPE_NETWORK_RETRIES = 2  # safe: every create carries an idempotency key


class PaymentsNotConfigured(DomainError):
    status_code = 409


class PaymentProviderError(DomainError):
    """Stripe refused or could not be reached; nothing was stored."""

    status_code = 502


@dataclass(frozen=True)
class PaymentLink:
    url: str
    session_id: str
    texted: bool  # False: no active front-desk number, or the client opted out

    def __str__(self) -> str:
        return self.url


def stripe_is_configured() -> bool:
    """Whether owners get a "Send payment link" button (else only "Paid in person")."""
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def stripe_client() -> stripe.StripeClient:
    return stripe.StripeClient(current_app.config["STRIPE_SECRET_KEY"],
                               http_client=current_app.extensions.get(STRIPE_HTTP_CLIENT_KEY),
                               max_network_retries=STRIPE_NETWORK_RETRIES)


def create_payment_link(booking_id: int, actor: str) -> PaymentLink:
    """Create a Checkout Session for a pending booking, store it and text the link to the client."""
    if not stripe_is_configured():
        raise PaymentsNotConfigured("Stripe is not set up (STRIPE_SECRET_KEY is empty): "
                                    "record the payment with “Paid in person” instead.")
    base_url = current_app.config.get("PUBLIC_BASE_URL")
    if not base_url:
        raise PaymentsNotConfigured("Set PUBLIC_BASE_URL: Stripe sends the client back there.")
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise NotFound(f"There is no booking #{booking_id}.")
    _require_payable(booking)
    if booking.price_cents <= 0:
        raise InvalidInput("Set a price on the booking before sending a payment link.",
                           field="price_cents")
    params = checkout_session_params(booking, base_url)
    key = checkout_idempotency_key(booking.id, params)
    db.session.commit()  # end the read transaction: no locks held while Stripe answers
    try:
        session = stripe_client().v1.checkout.sessions.create(
            params, options={"idempotency_key": key})
    except stripe.StripeError as exc:
        raise PaymentProviderError(f"Stripe did not create the payment link: "
                                   f"{exc.user_message or type(exc).__name__}") from exc

    booking = lock_row(Booking, booking_id)
    _require_payable(booking)  # paid or cancelled while Stripe answered
    booking.checkout_session_id, booking.checkout_url = session.id, session.url
    record_event(booking.org_id, "payment_link.created", booking_id=booking.id, actor=actor,
                 checkout_session_id=session.id, amount_cents=booking.price_cents,
                 currency=booking.currency)
    texted = _text_payment_link(booking, session.url, actor)
    db.session.commit()
    return PaymentLink(url=session.url, session_id=session.id, texted=texted)


def checkout_session_params(booking: Booking, base_url: str) -> dict:
    """What Stripe needs; the booking id travels on the session and on its payment intent."""
    org = db.session.get(Org, booking.org_id)
    metadata = {"booking_id": str(booking.id), "org_id": str(booking.org_id)}
    when = format_datetime(booking.start_at, org.timezone)
    return {
        "mode": "payment",
        "client_reference_id": str(booking.id),
        "line_items": [{
            "quantity": 1,
            "price_data": {
                "currency": booking.currency,
                "unit_amount": booking.price_cents,
                "product_data": {"name": f"{booking.service}, {when}"[:250]},
            },
        }],
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata,
                                "description": f"{org.name} booking #{booking.id}"},
        "success_url": f"{base_url}/webhooks/stripe/return?paid=1",
        "cancel_url": f"{base_url}/webhooks/stripe/return?paid=0",
    }


def checkout_idempotency_key(booking_id: int, params: dict) -> str:
    """Same booking and same terms → the same session; an edited price or time → a new one."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:24]
    return f"pawline-checkout-{booking_id}-{digest}"


def mark_paid_in_person(booking_id: int, actor: str) -> None:
    """Record cash/card-in-hand for a booking and confirm it through the same handler as Stripe."""
    from app.services.bookings.confirmed import confirm_locked_booking

    booking = lock_row(Booking, booking_id, with_org=True)  # confirming it needs booking.org
    if booking is None:
        raise NotFound(f"There is no booking #{booking_id}.")
    _require_payable(booking)
    payment = Payment(org_id=booking.org_id, booking_id=booking.id, kind="manual",
                      amount_cents=booking.price_cents, currency=booking.currency)
    db.session.add(payment)
    booking.paid_at = utcnow()
    record_event(booking.org_id, "payment.received", booking_id=booking.id, actor=actor,
                 payment_kind="manual", amount_cents=payment.amount_cents,
                 currency=payment.currency)
    confirm_locked_booking(booking, actor=actor)  # holds the lock above; commits payment + confirmation


def _require_payable(booking: Booking) -> None:
    if booking.status != "pending":
        raise Conflict(f"Booking #{booking.id} is {booking.status}; "
                       "only a pending booking can be paid.")
    if booking.paid_at is not None:
        raise Conflict(f"Booking #{booking.id} is already paid.")


def _text_payment_link(booking: Booking, url: str, actor: str) -> bool:
    """Text the link from the front-desk number, in the client's front-desk thread."""
    number_id = front_desk_number_id(booking.org_id)
    if number_id is None:
        record_event(booking.org_id, "payment_link.not_texted", booking_id=booking.id, actor=actor,
                     reason="no active front-desk number")
        return False
    org = db.session.get(Org, booking.org_id)
    thread = front_desk_thread(db.session.get(MessageNumber, number_id), booking.client, actor=actor)
    body = (f"{org.name}: to confirm {booking.service.lower()} on "
            f"{format_datetime(booking.start_at, org.timezone)}, please pay here: {url}")
    message = queue_outbound_message(org_id=booking.org_id, thread_id=thread.id,
                                     from_number_id=number_id, to_e164=booking.client.phone_e164,
                                     body=body, sender_kind="system")
    return message.status == "queued"
