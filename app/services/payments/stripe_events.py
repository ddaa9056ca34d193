"""Stripe webhook events: the request verifies and stores; a job on the `stripe` queue applies.

Stripe delivers at least once, in any order, and retries for days. The request does
the least that makes the event safe: it checks Stripe's signature, stores the verified
body under the event id (INSERT … ON CONFLICT DO NOTHING: a repeated delivery writes
nothing) and answers 200. The stored row is the truth; `apply_stripe_event` (a job) turns
it into a payment, a confirmation or a cancellation, and `reconcile_stripe_events`
enqueues again every stored event whose job Redis lost.

Applying serialises on the event row (one apply per event), then on the payment
intent (a refund and its payment), then on the booking row (every event of one
booking, one at a time). Each try is counted in its own committed transaction before
it starts, so an event that keeps failing, even by killing its worker, ends `failed`
after MAX_ATTEMPTS with an owner alert: never a retry loop.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import stripe
from flask import current_app
from sqlalchemy import and_, bindparam, case, exists, func, insert, literal, or_, select, update

from app.clock import utcnow
from app.errors import DomainError
from app.extensions import db
from app.jobs.queue import enqueue
from app.jobs.requeue import after_id, requeue_lost, status_is
from app.jobs.specs import JOBS, MAX_TRIES
from app.jobs.tries import count_try_statement, counted_try
from app.models import Booking, Payment, StripeEvent
from app.persistence.locking import dialect_name, insert_if_absent_committed, lock_row, lock_row_reading
from app.services.audit.events import raise_alert, record_event

log = logging.getLogger(__name__)

ACTOR = "stripe"
PAYMENT_EVENT_TYPES = {
    "checkout.session.completed": "checkout",
    "checkout.session.async_payment_succeeded": "checkout",
    "payment_intent.succeeded": "payment_intent",
}
REFUND_EVENT_TYPE = "charge.refunded"
USED_EVENT_TYPES = frozenset(PAYMENT_EVENT_TYPES) | {REFUND_EVENT_TYPE}
MAX_ATTEMPTS = MAX_TRIES  # the bound every row-backed job shares (app.jobs.tries)
MAX_JSON_DEPTH = 64  # Stripe's own objects nest about 8 deep
MAX_ROW_ID = 2**31 - 1  # bookings.id is a 32-bit integer on PostgreSQL
RECONCILE_BATCH = 500
_INSERT_PAYMENT = insert(Payment.__table__)
_COUNT_ATTEMPT = count_try_statement(StripeEvent.__table__, "attempts", ("received",))
_SETTLE_EVENT = (
    update(StripeEvent.__table__).where(StripeEvent.__table__.c.id == bindparam("event_id"))
    .values({name: bindparam(name) for name in ("status", "reason", "processed_at", "booking_id", "org_id")})
)
# Read with the event row's lock, in the same statement (issue 28: a round trip less per event).
# PostgreSQL: the payment intent's advisory lock, so a refund and the payment it refunds apply one
# after the other (SQLite: the whole database is locked already). The key is computed in SQL from
# the row's own payment_intent, which never changes once stored.
_EVENT_LOCK_COLUMNS = {
    "postgresql": (case((StripeEvent.payment_intent.is_not(None), func.pg_advisory_xact_lock(
        func.hashtextextended(literal("stripe-intent:") + StripeEvent.payment_intent, 0)))),),
}
# Read with the booking's lock: whether a refund of this payment intent waits to be applied
# (received, or ignored before its payment arrived). This statement runs after the intent's lock
# was granted (the event lock's statement), so its snapshot sees what the lock guards.
_REFUND_WAITING = (exists().where(
    StripeEvent.payment_intent == bindparam("intent"), StripeEvent.type == REFUND_EVENT_TYPE,
    or_(StripeEvent.status == "received", and_(StripeEvent.status == "ignored", StripeEvent.booking_id.is_(None))),
),)


class InvalidWebhook(DomainError):
    """Bad signature, stale timestamp or a body that is not a Stripe event: 400, nothing stored."""

    status_code = 400


class WebhookNotConfigured(DomainError):
    """Without STRIPE_WEBHOOK_SECRET nothing can be verified; 503 so Stripe keeps the event."""

    status_code = 503


class StripeEventNotApplied(RuntimeError):
    """This try broke; the event stays `received` and its job is tried again."""


@dataclass(frozen=True)
class StoredEvent:
    """What the webhook answers: the event is stored (or was already)."""

    event_id: str
    type: str
    status: str | None  # received (its job applies it), ignored (a type Pawline does not use); None: duplicate
    duplicate: bool = False


@dataclass
class _Decision:
    status: str
    reason: str | None = None
    booking: Booking | None = None
    # A service that owns (and commits) the rest of the transaction: confirm or cancel.
    follow_up: Callable[[], object] | None = None


# -- the request ------------------------------------------------------------------------


def receive_stripe_event(payload: bytes, sig_header: str | None) -> StoredEvent:
    """Verify one delivery and store its event once (the INSERT is its own transaction: nothing
    else is written); its job is handed over once the row is committed."""
    event = verify_event(payload, sig_header)
    event_id, event_type = event["id"], event["type"]
    used = event_type in USED_EVENT_TYPES
    now = utcnow()
    created = event.get("created")
    inserted = insert_if_absent_committed(
        StripeEvent, ("id",), id=event_id, type=event_type[:100],
        status="received" if used else "ignored",
        reason=None if used else _clip(f"event type {event_type} is not used by Pawline"),
        attempts=0, created_at=now, processed_at=None if used else now,
        payload=payload.decode("utf-8"),
        stripe_created=created if _is_timestamp(created) else None,
        payment_intent=_payment_intent_of(event_type, event["data"]["object"]),
    )
    if inserted is not None and used:
        enqueue_apply(event_id)
    if inserted is None:
        return StoredEvent(event_id, event_type, None, duplicate=True)
    # DEBUG, not INFO: the row is the record of what arrived (and a JSON log line costs this
    # request about as much CPU as its signature check); the apply job logs what it did.
    log.debug("stripe event %s (%s) stored", event_id, event_type)
    return StoredEvent(event_id, event_type, "received" if used else "ignored")


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
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook(f"signature check failed: {exc.user_message or exc}") from None
    try:
        event = json.loads(payload.decode("utf-8"))
    except (ValueError, RecursionError):
        # Signed but not UTF-8, not JSON, or nested past the parser's recursion limit.
        raise InvalidWebhook("body is not a JSON Stripe event (or is nested too deep)") from None
    if not isinstance(event, dict):  # JSON, but not an object
        raise InvalidWebhook("body is not a JSON Stripe event")
    if not (_body_depth_at_most(payload, MAX_JSON_DEPTH) or _depth_at_most(event, MAX_JSON_DEPTH)):
        raise InvalidWebhook(f"body is not a JSON Stripe event: nested deeper than {MAX_JSON_DEPTH} levels")
    if not _is_event_shaped(event):
        raise InvalidWebhook("body is not a Stripe event (id, type, data.object)")
    if not (_body_has_no_nul_or_surrogate_escape(payload) or _text_is_storable(event)):
        # A NUL or a lone surrogate cannot be stored as text (PostgreSQL refuses both) and no
        # Stripe event carries one: a bad body, 400, instead of a failed INSERT.
        raise InvalidWebhook("body is not a Stripe event: it holds a NUL or an unpaired surrogate")
    created = event.get("created")
    if "created" in event and not _is_timestamp(created):
        raise InvalidWebhook("body is not a Stripe event: created is not a timestamp")
    future = _seconds_in_future(sig_header, created)
    if future > stripe.Webhook.DEFAULT_TOLERANCE:
        # Stripe's check refuses timestamps too old (replays) but not too new: a signature made
        # for later is refused the same way.
        raise InvalidWebhook(f"Timestamp outside the tolerance zone ({future} s in the future)")
    return event


def _is_timestamp(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**62


def _seconds_in_future(sig_header: str | None, created) -> int:
    """How far ahead of now the signature's timestamp (or the event's `created`) is, in seconds."""
    now = int(time.time())
    stamps = [created] if _is_timestamp(created) else []
    for item in (sig_header or "").split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) < 19:
            stamps.append(int(value))
    return max([stamp - now for stamp in stamps], default=0)


# The body's bytes answer both checks below at C speed for every event Stripe sends; the walks
# over the parsed event decide only when the bytes cannot (a duplicate key may hide part of the
# body from the parsed event, so the bytes alone would refuse more). tests/services/payments/
# test_stripe_event_text_checks.py holds each check on the bytes to its walk.
_NOT_A_BRACKET_OR_QUOTE = bytes(b for b in range(256) if b not in b'[]{}"')
_BRACKET_STEP = tuple({ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}.get(b, 0) for b in range(256))


def _body_has_no_nul_or_surrogate_escape(payload: bytes) -> bool:
    """True when no string of this JSON body can decode to a NUL or a surrogate: strict JSON has
    neither raw (a raw NUL is a control character json.loads refuses; text decoded from UTF-8
    holds no surrogate), so only a \\u0000 or \\uD800-\\uDFFF escape makes one. Seeing one
    (or an escaped backslash's look-alike) proves nothing: the walk decides."""
    return b"\\u0000" not in payload and b"\\ud" not in payload and b"\\uD" not in payload


def _body_depth_at_most(payload: bytes, limit: int) -> bool:
    """Whether this JSON body nests at most `limit` deep by its brackets (strings left out), which
    is at least the depth of the parsed value, whose parts all come from the body."""
    # No more containers than that at all, or their brackets outside strings nest no deeper.
    return payload.count(b"{") + payload.count(b"[") <= limit or _bracket_depth(payload) <= limit


def _bracket_depth(payload: bytes) -> int:
    # Escaped backslashes, then escaped quotes, go first (no other escape holds a quote or a
    # bracket, and outside strings JSON has no backslash); then the quotes delimit the strings.
    structure = payload.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_A_BRACKET_OR_QUOTE)
    outside_strings = b"".join(structure.split(b'"')[::2])
    return max(itertools.accumulate(map(_BRACKET_STEP.__getitem__, outside_strings)), default=0)


def _text_is_storable(value) -> bool:
    """No string anywhere (keys included) holds a NUL or an unpaired surrogate (iterative walk)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return False
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return True


def _depth_at_most(value, limit: int) -> bool:
    """Whether `value` nests at most `limit` containers deep (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


def _is_event_shaped(event) -> bool:
    if not isinstance(event, dict):
        return False
    event_id, data = event.get("id"), event.get("data")
    return (isinstance(event_id, str) and 0 < len(event_id) <= 255
            and isinstance(event.get("type"), str)
            and isinstance(data, dict) and isinstance(data.get("object"), dict))


def _payment_intent_of(event_type: str, obj: dict) -> str | None:
    """The payment intent an event is about (refunds without our metadata are matched by it)."""
    intent = obj.get("id") if event_type == "payment_intent.succeeded" else obj.get("payment_intent")
    return intent if isinstance(intent, str) and 0 < len(intent) <= 255 else None


def enqueue_apply(event_id: str) -> None:
    enqueue(JOBS.apply_stripe_event, event_id)


# -- the job ----------------------------------------------------------------------------


def apply_stripe_event(event_id: str) -> str:
    """Apply one stored event at most once; its status afterwards (`received`: try again later).

    Each try is counted first (app.jobs.tries): one that keeps failing ends `failed`."""

    def failed_try(reason: str, exc: Exception) -> None:
        _note_failed_try(event_id, reason)
        raise StripeEventNotApplied(f"stripe event {event_id}: a try failed; it is tried again") from exc

    status = counted_try(_COUNT_ATTEMPT, event_id, lambda: _apply(event_id),
                         lambda reason: _give_up(event_id, reason), label=f"stripe event {event_id}",
                         on_failed_try=failed_try)
    return "settled" if status is None else status  # None: applied, ignored or failed by an earlier try


def _apply(event_id: str) -> str:
    # A second job for this event waits here, then finds it settled. The same statement takes the
    # payment intent's lock (before the booking lock): see _EVENT_LOCK_COLUMNS.
    row, _ = lock_row_reading(StripeEvent, event_id, _EVENT_LOCK_COLUMNS.get(dialect_name(), ()))
    if row is None or row.status != "received":
        db.session.commit()
        return row.status if row is not None else "missing"
    event = json.loads(row.payload)
    decision = _decide(event, row.payment_intent)
    settled = dict(event_id=event_id, status=decision.status, reason=_clip(decision.reason),
                   processed_at=utcnow(), booking_id=row.booking_id, org_id=row.org_id)
    if decision.booking is not None:
        settled.update(booking_id=decision.booking.id, org_id=decision.booking.org_id)
    # Core, not the ORM object: the row is locked (above) and written once more.
    with db.session.no_autoflush:  # the booking's changes flush once, with its confirmation
        db.session.execute(_SETTLE_EVENT, settled)
    if decision.follow_up is not None:
        decision.follow_up()  # commits the event row, the payment and its effect together
    else:
        db.session.commit()
    log.info("stripe event %s (%s): %s %s", event_id, event["type"], decision.status, decision.reason or "")
    return decision.status


def _note_failed_try(event_id: str, reason: str) -> None:
    try:
        row = lock_row(StripeEvent, event_id)
        if row is not None and row.status == "received":
            row.reason = _clip(reason)
        db.session.commit()
    except Exception:  # the database itself may be what failed; the next try records it
        db.session.rollback()
        log.exception("could not record the failed try of stripe event %s", event_id)


def _give_up(event_id: str, reason: str) -> str:
    """`failed` for good, with an audit event and an owner alert where the booking is known."""
    row = lock_row(StripeEvent, event_id)
    if row is None or row.status != "received":
        db.session.commit()
        return row.status if row is not None else "missing"
    row.status, row.reason, row.processed_at = "failed", _clip(reason), utcnow()
    booking = _named_booking(row)
    if booking is not None:
        row.booking_id, row.org_id = booking.id, booking.org_id
        record_event(booking.org_id, "stripe.event_failed", booking_id=booking.id, actor=ACTOR,
                     stripe_event_id=event_id, event_type=row.type, reason=row.reason)
        raise_alert(booking.org_id, "stripe.event_failed",
                    f"Stripe event {event_id} ({row.type}) for booking #{booking.id} could not be applied "
                    f"after {MAX_ATTEMPTS} tries; check its payment in Stripe and settle the booking by hand.",
                    booking_id=booking.id)
    db.session.commit()
    # No booking, no org to tell: the operator's log is where this shows.
    log.error("stripe event %s (%s) failed for good: %s", event_id, row.type, reason)
    return "failed"


def _named_booking(row: StripeEvent) -> Booking | None:
    if row.booking_id is not None:
        return db.session.get(Booking, row.booking_id)
    try:
        metadata = json.loads(row.payload)["data"]["object"].get("metadata")
    except (TypeError, ValueError, KeyError, AttributeError):
        return None
    booking_id, _ = _booking_id_in(metadata)
    return db.session.get(Booking, booking_id) if booking_id is not None else None


_RECEIVED_EVENTS = (
    select(StripeEvent.id).where(status_is(StripeEvent.status, "received"), after_id(StripeEvent.id))
    .order_by(StripeEvent.id).limit(bindparam("batch_size"))
)


def reconcile_stripe_events(batch_size: int = RECONCILE_BATCH) -> int:
    """Enqueue every stored event not applied yet whose job the queue does not hold (Redis lost it,
    or was down when the event arrived), batch after batch to the end (app.services.ops.reconcile).
    Any order serves: applying copes with events out of order. Returns how many were enqueued."""
    enqueued = requeue_lost(_RECEIVED_EVENTS, JOBS.apply_stripe_event, batch_size, start="")
    if enqueued:
        log.warning("reconcile: %d stored stripe event(s) had no job; enqueued again", enqueued)
    return enqueued


# -- what an event means -----------------------------------------------------------------


def _decide(event: dict, intent: str | None) -> _Decision:
    event_type, obj = event["type"], event["data"]["object"]
    if event_type in PAYMENT_EVENT_TYPES:
        return _apply_payment(event, obj, PAYMENT_EVENT_TYPES[event_type], intent)
    if event_type == REFUND_EVENT_TYPE:
        return _apply_refund(event, obj, intent)
    return _Decision("ignored", f"event type {event_type} is not used by Pawline")


def _apply_payment(event: dict, obj: dict, kind: str, intent: str | None) -> _Decision:
    booking, why, refund_waiting = _find_booking(obj.get("metadata"), refunds_of=intent)
    if booking is None:
        return _Decision("ignored", why)
    if event["type"] == "checkout.session.completed" and obj.get("payment_status") != "paid":
        status = str(obj.get("payment_status"))[:40]
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
    refunded_first = _refunds_waiting_for(intent) if refund_waiting else None
    if refunded_first:
        # Stripe sent the full refund before this payment: it applies next (it finds the payment
        # now), and cancels the booking; confirming it first would text the client for nothing.
        return _Decision("processed", f"payment recorded; the full refund {refunded_first} received "
                                      "before it cancels the booking", booking)
    return _Decision("processed", None, booking, follow_up=lambda: _confirm(booking))


def _refunds_waiting_for(intent: str | None) -> str | None:
    """The id of a full refund of `intent` stored and not applied yet, if any. Refunds that were
    stored before its payment (ignored: no payment matched then) go back to `received` and are
    enqueued: they find the payment now."""
    if intent is None:
        return None
    unmatched = and_(StripeEvent.status == "ignored", StripeEvent.booking_id.is_(None))
    waiting = db.session.scalars(
        select(StripeEvent).where(StripeEvent.payment_intent == intent, StripeEvent.type == REFUND_EVENT_TYPE,
                                  or_(StripeEvent.status == "received", unmatched))
        .order_by(StripeEvent.stripe_created, StripeEvent.created_at)
    ).all()
    full = None
    for row in waiting:
        if row.status == "ignored":
            row.status, row.reason, row.processed_at = "received", "its payment arrived: applied again", None
            enqueue_apply(row.id)
        if full is None and _is_full_refund(json.loads(row.payload)["data"]["object"]):
            full = row.id
    return full


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
    db.session.execute(_INSERT_PAYMENT, payment)  # a row written once: no ORM object to flush
    booking.paid_at = utcnow()
    record_event(booking.org_id, "payment.received", booking_id=booking.id, actor=ACTOR,
                 payment_kind=kind, amount_cents=payment["amount_cents"], currency=payment["currency"],
                 expected_cents=booking.price_cents, reference=payment["reference"],
                 stripe_event_id=event["id"])


def _is_full_refund(charge: dict) -> bool:
    amount, refunded = _as_cents(charge.get("amount")), _as_cents(charge.get("amount_refunded"))
    return charge.get("refunded") is True or (amount > 0 and refunded >= amount)


def _apply_refund(event: dict, charge: dict, intent: str | None) -> _Decision:
    booking, why = _booking_for_charge(charge, intent)
    if booking is None:
        return _Decision("ignored", why)
    amount = _as_cents(charge.get("amount"))
    refunded = _as_cents(charge.get("amount_refunded"))
    full = _is_full_refund(charge)
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


def find_booking(metadata) -> tuple[Booking | None, str | None]:
    """The booking named by Stripe metadata, locked; or None and why not."""
    booking, why, _ = _find_booking(metadata)
    return booking, why


def _find_booking(metadata, refunds_of: str | None = None) -> tuple[Booking | None, str | None, bool]:
    """`find_booking`, and whether a refund of payment intent `refunds_of` waits to be applied
    (read by the booking's locking statement; False without an intent)."""
    booking_id, why = _booking_id_in(metadata)
    if booking_id is None:
        return None, why, False
    refund_waiting = False
    if refunds_of is None:
        booking = lock_row(Booking, booking_id, with_org=True)  # confirming it needs booking.org
    else:
        booking, values = lock_row_reading(Booking, booking_id, _REFUND_WAITING, {"intent": refunds_of},
                                           with_org=True)
        refund_waiting = bool(values and values[0])
    if booking is None:
        return None, f"booking {booking_id} does not exist here", False
    org_hint = metadata.get("org_id")
    if org_hint not in (None, "") and str(org_hint) != str(booking.org_id):
        return None, f"booking {booking_id} is not in org {str(org_hint)[:20]}", False
    return booking, None, refund_waiting


def _booking_id_in(metadata) -> tuple[int | None, str | None]:
    """metadata.booking_id as a booking id that can exist, or None and why not."""
    raw = metadata.get("booking_id") if isinstance(metadata, dict) else None
    if raw in (None, ""):
        return None, "no metadata.booking_id: not a Pawline payment"
    try:
        booking_id = int(str(raw))
    except ValueError:
        return None, f"metadata.booking_id {str(raw)[:40]!r} is not a Pawline booking id"
    if not 0 < booking_id <= MAX_ROW_ID:
        return None, f"metadata.booking_id {str(raw)[:40]!r} is out of range for a Pawline booking id"
    return booking_id, None


def _booking_for_charge(charge: dict, intent: str | None) -> tuple[Booking | None, str | None]:
    """Charges carry our metadata, or a payment intent we recorded a payment for."""
    metadata = charge.get("metadata")
    if isinstance(metadata, dict) and metadata.get("booking_id") not in (None, ""):
        return find_booking(metadata)
    if intent is None:
        return None, "charge has no metadata.booking_id and no payment_intent"
    booking_id = db.session.scalar(
        select(Payment.booking_id)
        .where(Payment.reference == intent, Payment.kind.in_(("checkout", "payment_intent")))
        .order_by(Payment.id).limit(1)
    )
    if booking_id is None:
        # Its payment may not have arrived yet: applying that payment applies this refund again.
        return None, f"no Pawline payment matches payment_intent {intent[:60]} (yet)"
    return find_booking({"booking_id": booking_id})


def _has_refund(booking_id: int) -> bool:
    query = select(Payment.id).where(Payment.booking_id == booking_id, Payment.kind == "refund")
    return db.session.scalar(query.limit(1)) is not None


def _confirm(booking: Booking) -> None:
    """`find_booking` locked the booking in this transaction: confirm it without a second lock."""
    from app.services.bookings.confirmed import confirm_locked_booking

    confirm_locked_booking(booking, actor=ACTOR)


def _cancel_refunded(booking_id: int) -> None:
    from app.services.bookings.lifecycle import cancel_booking

    cancel_booking(booking_id, "refunded", actor=ACTOR)


def _as_cents(value) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _currency(obj: dict, booking: Booking) -> str:
    value = obj.get("currency")
    return value.lower()[:3] if isinstance(value, str) and value else booking.currency


def _clip(text: str | None, limit: int = 300) -> str | None:
    return None if text is None else str(text)[:limit]
