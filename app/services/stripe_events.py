"""Stripe webhook events: verify the signature, store the event once, apply it to its booking.

Stripe delivers at least once, in any order, and retries for days. Each event id
gets one `StripeEvent` row (inserted with ON CONFLICT DO NOTHING, then locked), so
concurrent or repeated deliveries serialise on that row and all but the first
find it `processed` or `ignored` and do nothing. A `failed` event is processed
again when Stripe retries it. Payments for one booking serialise on the booking
row, so a checkout session and its payment intent confirm the booking once.

No text is sent inside the request: the confirmation and cancellation services
queue their messages, and the queue hands them over after the commit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

import stripe
from flask import current_app
from sqlalchemy import bindparam, func, insert, select, update

from app.clock import utcnow
from app.errors import DomainError
from app.extensions import db
from app.models import Booking, Payment, StripeEvent
from app.queue import note_write
from app.services.audit import raise_alert, record_event
from app.services.locking import claim_row, lock_row

log = logging.getLogger(__name__)

ACTOR = "stripe"
PAYMENT_EVENT_TYPES = {
    "checkout.session.completed": "checkout",
    "checkout.session.async_payment_succeeded": "checkout",
    "payment_intent.succeeded": "payment_intent",
}
REFUND_EVENT_TYPE = "charge.refunded"
FINAL_STATUSES = ("processed", "ignored")
_INSERT_PAYMENT = insert(Payment.__table__)
_SETTLE_EVENT = (
    update(StripeEvent.__table__).where(StripeEvent.__table__.c.id == bindparam("event_id"))
    .values({name: bindparam(name) for name in ("status", "reason", "attempts", "processed_at", "booking_id",
                                                "org_id")})
)


class InvalidWebhook(DomainError):
    """Bad signature, stale timestamp or a body that is not a Stripe event: 400, nothing stored."""

    status_code = 400


class WebhookNotConfigured(DomainError):
    """Without STRIPE_WEBHOOK_SECRET nothing can be verified; 503 so Stripe keeps the event."""

    status_code = 503


class StripeEventFailed(DomainError):
    """Applying the event broke; it is stored as `failed` and Stripe's retry runs it again."""

    status_code = 500


@dataclass(frozen=True)
class StripeOutcome:
    event_id: str
    type: str
    status: str  # processed, ignored
    reason: str | None = None
    booking_id: int | None = None
    duplicate: bool = False  # an earlier delivery already settled this event


@dataclass
class _Decision:
    status: str
    reason: str | None = None
    booking: Booking | None = None
    # A service that owns (and commits) the rest of the transaction: confirm or cancel.
    follow_up: Callable[[], object] | None = None


def handle_stripe_event(payload: bytes, sig_header: str | None) -> StripeOutcome:
    """Verify one webhook delivery and apply its event at most once."""
    event = verify_event(payload, sig_header)
    event_id, event_type = event["id"], event["type"]
    row = _claim_event(event_id, event_type)
    if row.status in FINAL_STATUSES:
        outcome = StripeOutcome(event_id, event_type, row.status, row.reason, row.booking_id,
                                duplicate=True)
        db.session.commit()
        return outcome
    try:
        decision = _decide(event)
        settled = dict(event_id=event_id, status=decision.status, reason=_clip(decision.reason),
                       attempts=row.attempts + 1, processed_at=utcnow(),
                       booking_id=row.booking_id, org_id=row.org_id)
        if decision.booking is not None:
            settled.update(booking_id=decision.booking.id, org_id=decision.booking.org_id)
        # Core, not the ORM object: the row is locked (claimed above) and written once more.
        with db.session.no_autoflush:  # the booking's changes flush once, with its confirmation
            db.session.execute(_SETTLE_EVENT, settled)
        outcome = StripeOutcome(event_id, event_type, decision.status, settled["reason"],
                                settled["booking_id"])
        if decision.follow_up is not None:
            decision.follow_up()  # commits the event row, the payment and its effect together
        else:
            db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.exception("stripe event %s (%s) failed", event_id, event_type)
        _record_failure(event_id, event_type, exc)
        raise StripeEventFailed(
            f"event {event_id} could not be applied; Stripe will retry it") from exc
    log.info("stripe event %s (%s): %s %s", event_id, event_type, outcome.status,
             outcome.reason or "")
    return outcome


def verify_event(payload: bytes, sig_header: str | None) -> dict:
    """The event as a plain dict, after Stripe's own signature and timestamp check."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        raise WebhookNotConfigured("STRIPE_WEBHOOK_SECRET is not set; cannot verify webhooks")
    if not payload:
        raise InvalidWebhook("empty body")
    try:
        # Stripe's own check (the one construct_event runs), without building the
        # StripeObject tree construct_event would make and this handler throws away.
        stripe.WebhookSignature.verify_header(payload, sig_header, secret, stripe.Webhook.DEFAULT_TOLERANCE)
        event = json.loads(payload)
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook(f"signature check failed: {exc.user_message or exc}") from None
    except (ValueError, TypeError):
        # Signed but not UTF-8 / not JSON.
        raise InvalidWebhook("body is not a JSON Stripe event") from None
    if not isinstance(event, dict):  # JSON, but not an object
        raise InvalidWebhook("body is not a JSON Stripe event")
    if not _is_event_shaped(event):
        raise InvalidWebhook("body is not a Stripe event (id, type, data.object)")
    return event


def _is_event_shaped(event) -> bool:
    if not isinstance(event, dict):
        return False
    event_id, data = event.get("id"), event.get("data")
    return (isinstance(event_id, str) and 0 < len(event_id) <= 255
            and isinstance(event.get("type"), str)
            and isinstance(data, dict) and isinstance(data.get("object"), dict))


def _claim_event(event_id: str, event_type: str) -> StripeEvent:
    """Insert the event row unless it exists, then hold its lock until our commit.

    One statement (INSERT … ON CONFLICT DO UPDATE … RETURNING), the transaction's first:
    on SQLite it takes the write lock.
    """
    return claim_row(StripeEvent, ("id",), id=event_id, type=event_type[:100], status="received",
                     attempts=0, created_at=utcnow())


def _record_failure(event_id: str, event_type: str, exc: Exception) -> None:
    try:
        row = _claim_event(event_id, event_type)
        if row.status not in FINAL_STATUSES:
            row.status, row.attempts = "failed", row.attempts + 1
            row.reason = _clip(f"{type(exc).__name__}: {exc}")
        db.session.commit()
    except Exception:  # the database itself may be what failed; Stripe retries either way
        db.session.rollback()
        log.exception("could not record the failure of stripe event %s", event_id)


def _decide(event: dict) -> _Decision:
    event_type, obj = event["type"], event["data"]["object"]
    if event_type in PAYMENT_EVENT_TYPES:
        return _apply_payment(event, obj, PAYMENT_EVENT_TYPES[event_type])
    if event_type == REFUND_EVENT_TYPE:
        return _apply_refund(event, obj)
    return _Decision("ignored", f"event type {event_type} is not used by Pawline")


def _apply_payment(event: dict, obj: dict, kind: str) -> _Decision:
    booking, why = find_booking(obj.get("metadata"))
    if booking is None:
        return _Decision("ignored", why)
    if event["type"] == "checkout.session.completed" and obj.get("payment_status") != "paid":
        status = obj.get("payment_status")
        return _Decision("ignored", f"checkout completed with payment_status {status!r}; "
                                    "waiting for async_payment_succeeded", booking)
    if booking.status == "cancelled":
        why = booking.cancel_reason or "no reason given"
        reason = f"booking {booking.id} is cancelled ({why}); a late payment does not bring it back"
        record_event(booking.org_id, "payment.ignored", booking_id=booking.id, actor=ACTOR,
                     stripe_event_id=event["id"], reason=reason)
        if not _has_refund(booking.id):
            raise_alert(booking.org_id, "payment.after_cancel",
                        f"Stripe reports a payment for cancelled booking #{booking.id}; "
                        "refund it if the client should not be charged.", booking_id=booking.id)
        return _Decision("ignored", reason, booking)
    if booking.status == "completed":
        return _Decision("ignored", f"booking {booking.id} is already completed", booking)
    if booking.paid_at is not None and booking.status == "confirmed":
        return _Decision("ignored", f"booking {booking.id} is already paid and confirmed", booking)
    if booking.paid_at is None:
        _record_payment(event, obj, kind, booking)
    return _Decision("processed", None, booking, follow_up=lambda: _confirm(booking))


def _record_payment(event: dict, obj: dict, kind: str, booking: Booking) -> None:
    if kind == "checkout":
        amount = obj.get("amount_total")
        reference = obj.get("payment_intent") or obj.get("id")  # refunds name the payment intent
    else:
        amount = obj.get("amount_received") or obj.get("amount")
        reference = obj.get("id")
    payment = dict(org_id=booking.org_id, booking_id=booking.id, kind=kind, amount_cents=_as_cents(amount),
                   currency=_currency(obj, booking), reference=_clip(reference, 255),
                   stripe_event_id=event["id"], created_at=utcnow())
    note_write()
    db.session.execute(_INSERT_PAYMENT, payment)  # a row written once: no ORM object to flush
    booking.paid_at = utcnow()
    record_event(booking.org_id, "payment.received", booking_id=booking.id, actor=ACTOR,
                 payment_kind=kind, amount_cents=payment["amount_cents"], currency=payment["currency"],
                 expected_cents=booking.price_cents, reference=payment["reference"],
                 stripe_event_id=event["id"])


def _apply_refund(event: dict, charge: dict) -> _Decision:
    booking, why = _booking_for_charge(charge)
    if booking is None:
        return _Decision("ignored", why)
    amount = _as_cents(charge.get("amount"))
    refunded = _as_cents(charge.get("amount_refunded"))
    full = bool(charge.get("refunded")) or (amount > 0 and refunded >= amount)
    charge_id = _clip(charge.get("id"), 255)
    already = db.session.scalar(
        select(func.coalesce(func.sum(Payment.amount_cents), 0))
        .where(Payment.booking_id == booking.id, Payment.kind == "refund",
               Payment.reference == charge_id)
    )
    if refunded > already:
        db.session.add(Payment(org_id=booking.org_id, booking_id=booking.id, kind="refund",
                               amount_cents=refunded - already, currency=_currency(charge, booking),
                               reference=charge_id, stripe_event_id=event["id"]))
        record_event(booking.org_id, "payment.refunded", booking_id=booking.id, actor=ACTOR,
                     amount_cents=refunded - already, refunded_total_cents=refunded,
                     charge_cents=amount, full=full, reference=charge_id,
                     stripe_event_id=event["id"])
    if not full:
        return _Decision("processed", f"partial refund ({refunded} of {amount}) recorded; "
                                      "booking unchanged", booking)
    if booking.status in ("cancelled", "completed"):
        return _Decision("processed", f"refund recorded; booking {booking.id} is {booking.status} "
                                      "and stays so", booking)
    return _Decision("processed", "full refund: booking cancelled", booking,
                     follow_up=lambda: _cancel_refunded(booking.id))


def find_booking(metadata: dict | None) -> tuple[Booking | None, str | None]:
    """The booking named by Stripe metadata, locked; or None and why not."""
    metadata = metadata if isinstance(metadata, dict) else {}
    raw = metadata.get("booking_id")
    if raw in (None, ""):
        return None, "no metadata.booking_id: not a Pawline payment"
    try:
        booking_id = int(str(raw))
    except ValueError:
        return None, f"metadata.booking_id {str(raw)[:40]!r} is not a Pawline booking id"
    booking = lock_row(Booking, booking_id, with_org=True)  # confirming it needs booking.org
    if booking is None:
        return None, f"booking {booking_id} does not exist here"
    org_hint = metadata.get("org_id")
    if org_hint not in (None, "") and str(org_hint) != str(booking.org_id):
        return None, f"booking {booking_id} is not in org {str(org_hint)[:20]}"
    return booking, None


def _booking_for_charge(charge: dict) -> tuple[Booking | None, str | None]:
    """Charges carry our metadata, or a payment intent we recorded a payment for."""
    if (charge.get("metadata") or {}).get("booking_id") not in (None, ""):
        return find_booking(charge["metadata"])
    intent = charge.get("payment_intent")
    if not intent:
        return None, "charge has no metadata.booking_id and no payment_intent"
    booking_id = db.session.scalar(
        select(Payment.booking_id)
        .where(Payment.reference == intent, Payment.kind.in_(("checkout", "payment_intent")))
        .order_by(Payment.id).limit(1)
    )
    if booking_id is None:
        return None, f"no Pawline payment matches payment_intent {str(intent)[:60]}"
    return find_booking({"booking_id": booking_id})


def _has_refund(booking_id: int) -> bool:
    query = select(Payment.id).where(Payment.booking_id == booking_id, Payment.kind == "refund")
    return db.session.scalar(query.limit(1)) is not None


def _confirm(booking: Booking) -> None:
    """`find_booking` locked the booking in this transaction: confirm it without a second lock."""
    from app.services.booking_confirmed import confirm_locked_booking

    confirm_locked_booking(booking, actor=ACTOR)


def _cancel_refunded(booking_id: int) -> None:
    from app.services.booking_lifecycle import cancel_booking

    cancel_booking(booking_id, "refunded", actor=ACTOR)


def _as_cents(value) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _currency(obj: dict, booking: Booking) -> str:
    value = obj.get("currency")
    return value.lower()[:3] if isinstance(value, str) and value else booking.currency


def _clip(text: str | None, limit: int = 300) -> str | None:
    return None if text is None else str(text)[:limit]
