"""`flask --app app proof`: show, on this configuration, that a paid booking becomes a conversation.

It books a visit in a dedicated proof org, delivers a correctly signed
`checkout.session.completed` to the app (in-process, or to `--url` of a running
instance that shares this database), which stores it and answers 200; its job on
the `stripe` queue applies it (in-process: right after the request's commit, before
the answer; with RQ: a worker). It then reads back what the app made: the
thread, its masking number and why it was chosen, the window, the confirmation
text and its From number, and the audit events. Anything missing fails the run.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import stripe
from flask import current_app
from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.localtime import format_datetime, zone_where_it_is
from app.models import (
    AssignmentWindow,
    AutomationRun,
    Booking,
    Client,
    EventLog,
    Message,
    MessageNumber,
    Org,
    OutboxEntry,
    Payment,
    Pet,
    Sitter,
    StripeEvent,
    Thread,
)
from app.privacy import mask_phone

PROOF_ORG = "Pawline runtime proof"
PROOF_SITTER = ("Proof Sitter", "+12025550161")
PROOF_CLIENT = ("Proof Client", "+12025550160")
PROOF_NUMBERS = (("+12025550150", "front_desk"), ("+12025550151", "sitter"))
PROOF_PRICE_CENTS = 3500
LOCAL_HOUR = 13  # the proof org's clock reads early afternoon: no quiet hours hold the text back
REQUIRED_AUDIT = ("payment.received", "thread.created", "number.assigned", "window.created",
                  "booking.confirmed")
SENT_OR_QUEUED = ("queued", "sending", "sent", "delivered")


class ProofSetupError(RuntimeError):
    """The proof org cannot be set up here (e.g. its numbers belong to another org)."""


@dataclass
class ProofReport:
    lines: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing

    def show(self, label: str, text: str) -> None:
        self.lines.append(f"  {label:<13} {text}")

    def lack(self, what: str) -> None:
        self.missing.append(what)
        self.lines.append(f"  MISSING       {what}")


def run_proof(url: str | None = None, wait_seconds: float = 10.0) -> ProofReport:
    """Book, pay through a signed webhook, and report the evidence."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    report = ProofReport()
    cfg = current_app.config
    report.lines.append(
        f"Pawline runtime proof: database {db.engine.dialect.name}, "
        f"queue {'RQ' if cfg['REDIS_URL'] else 'in-process'}, SMS provider {cfg['SMS_PROVIDER']}, "
        f"webhook to {url or 'the app in-process'}")
    if not secret:
        report.lack("STRIPE_WEBHOOK_SECRET is not set: the webhook cannot be signed or verified")
        return report
    booking_id = _prepare_booking()
    event = _checkout_completed_event(booking_id)
    db.session.rollback()  # end our read: in-process, the webhook runs in this same session
    status, answer = _deliver(event, secret, url)
    report.show("webhook", f"{event['id']} checkout.session.completed → HTTP {status} "
                f"{_answer_summary(answer)}")
    if status != 200:
        report.lack(f"the webhook was not accepted (HTTP {status})")
    _collect_evidence(report, booking_id, event["id"], wait_seconds)
    verdict = "PASS" if report.ok else f"FAIL ({len(report.missing)} missing)"
    report.lines.append(f"RESULT: {verdict}")
    return report


def _prepare_booking() -> int:
    """The proof org (made once, reused), its people and numbers, and a new pending booking."""
    now = utcnow()
    org = db.session.scalar(select(Org).where(Org.name == PROOF_ORG))
    if org is None:
        org = Org(name=PROOF_ORG)
        db.session.add(org)
        db.session.flush()
    org.timezone = zone_where_it_is(LOCAL_HOUR, now.hour)
    sitter = _get_or_add(Sitter, org, {"phone_e164": PROOF_SITTER[1]}, name=PROOF_SITTER[0])
    client = _get_or_add(Client, org, {"phone_e164": PROOF_CLIENT[1]}, name=PROOF_CLIENT[0],
                         area="Proof Park")
    client.opted_out = False
    client.timezone = org.timezone  # quiet hours are judged in the client's zone: daytime there too
    if not client.pets:
        db.session.add(Pet(org_id=org.id, client_id=client.id, name="Proof Pup"))
    for e164, kind in PROOF_NUMBERS:
        number = db.session.scalar(select(MessageNumber).where(MessageNumber.e164 == e164))
        if number is not None and number.org_id != org.id:
            raise ProofSetupError(f"{e164} belongs to another org; the proof needs its own numbers")
        if number is None:
            db.session.add(MessageNumber(org_id=org.id, e164=e164, kind=kind, label="proof",
                                         sitter_id=sitter.id if kind == "sitter" else None))
    start = (now + timedelta(hours=2)).replace(second=0, microsecond=0)
    booking = Booking(org_id=org.id, client_id=client.id, sitter_id=sitter.id,
                      service="Proof visit", start_at=start, end_at=start + timedelta(hours=1),
                      price_cents=PROOF_PRICE_CENTS, currency=org.currency, status="pending")
    db.session.add(booking)
    db.session.commit()
    return booking.id


def _get_or_add(model, org: Org, lookup: dict, **fields):
    row = db.session.scalar(select(model).filter_by(org_id=org.id, **lookup))
    if row is None:
        row = model(org_id=org.id, **lookup, **fields)
        db.session.add(row)
        db.session.flush()
    return row


def _checkout_completed_event(booking_id: int) -> dict:
    booking = db.session.get(Booking, booking_id)
    metadata = {"booking_id": str(booking.id), "org_id": str(booking.org_id)}
    session = {
        "id": f"cs_proof_{uuid.uuid4().hex[:24]}", "object": "checkout.session", "mode": "payment",
        "status": "complete", "payment_status": "paid", "amount_total": booking.price_cents,
        "amount_subtotal": booking.price_cents, "currency": booking.currency,
        "client_reference_id": str(booking.id), "metadata": metadata,
        "payment_intent": f"pi_proof_{uuid.uuid4().hex[:24]}", "livemode": False,
    }
    return {"id": f"evt_proof_{uuid.uuid4().hex[:24]}", "object": "event",
            "type": "checkout.session.completed", "api_version": None, "created": int(time.time()),
            "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "data": {"object": session}}


def _deliver(event: dict, secret: str, url: str | None) -> tuple[int, str]:
    body = json.dumps(event)
    headers = {"Stripe-Signature": stripe.WebhookSignature.generate_signature_header(
        body, secret, timestamp=int(time.time())), "Content-Type": "application/json"}
    if url is None:
        response = current_app.test_client().post("/webhooks/stripe", data=body, headers=headers)
        return response.status_code, response.get_data(as_text=True).strip()
    request = urllib.request.Request(url.rstrip("/") + "/webhooks/stripe", data=body.encode(),
                                     headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - operator's URL
            return response.status, response.read().decode(errors="replace").strip()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace").strip()
    except urllib.error.URLError as exc:
        return 0, f"could not reach {url}: {exc.reason}"


def _answer_summary(answer: str) -> str:
    try:
        body = json.loads(answer)
    except ValueError:
        return answer[:200]
    return str(body.get("status") or body.get("error") or body)[:200]


def _collect_evidence(report: ProofReport, booking_id: int, event_id: str,
                      wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        db.session.rollback()  # read what the app (or the running instance) committed
        if _confirmation(booking_id) is not None or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    booking = db.session.get(Booking, booking_id)
    org = db.session.get(Org, booking.org_id)
    _show_payment(report, booking, org, event_id)
    thread = _show_thread(report, booking_id)
    _show_window(report, booking, org)
    _show_confirmation(report, booking_id, thread, wait_seconds)
    kinds = db.session.scalars(
        select(EventLog.kind).where(EventLog.booking_id == booking_id).order_by(EventLog.id)).all()
    report.show("audit", ", ".join(kinds) or "none")
    for kind in REQUIRED_AUDIT:
        if kind not in kinds:
            report.lack(f"no {kind} audit event")


def _show_payment(report: ProofReport, booking: Booking, org: Org, event_id: str) -> None:
    stored = db.session.get(StripeEvent, event_id)
    status = f"{stored.status} after {stored.attempts} attempt(s)" if stored else "not stored"
    report.show("stripe event", f"{event_id}: {status}"
                + (f" ({stored.reason})" if stored and stored.reason else ""))
    if stored is None:
        report.lack("the Stripe event was not stored")
    elif stored.status == "received":
        report.lack("the Stripe event is stored but not applied: is a worker running on the `stripe` queue?")
    elif stored.status != "processed":
        report.lack(f"the Stripe event was {stored.status}, not processed")
    payment = db.session.scalar(select(Payment).where(Payment.booking_id == booking.id))
    paid = (f"paid {payment.amount_cents / 100:.2f} {payment.currency} "
            f"({payment.kind}, {payment.reference})") if payment else "no payment recorded"
    report.show("booking", f"#{booking.id} in {org.name!r} ({org.timezone}): {booking.status}, "
                f"{format_datetime(booking.start_at, org.timezone)} to "
                f"{format_datetime(booking.end_at, org.timezone)}, {paid}")
    if booking.status != "confirmed":
        report.lack(f"booking #{booking.id} is {booking.status}, not confirmed")
    if payment is None:
        report.lack("no payment recorded on the booking")


def _show_thread(report: ProofReport, booking_id: int) -> Thread | None:
    thread = db.session.scalar(select(Thread).where(Thread.booking_id == booking_id))
    if thread is None:
        report.lack("no thread for the booking")
        return None
    number = thread.message_number
    report.show("thread", f"#{thread.id} ({thread.scope}) with {thread.client.name} "
                f"({mask_phone(thread.client.phone_e164)})")
    report.show("number", f"{number.e164} ({number.kind}) chosen because: "
                f"{thread.number_reason or 'no reason recorded'}")
    if not thread.number_reason:
        report.lack("the thread does not say why its number was chosen")
    return thread


def _show_window(report: ProofReport, booking: Booking, org: Org) -> None:
    window = db.session.scalar(
        select(AssignmentWindow).where(AssignmentWindow.booking_id == booking.id))
    if window is None:
        report.lack("no assignment window for the booking")
        return
    tz = org.timezone
    report.show("window", f"{format_datetime(window.starts_at, tz)} to "
                f"{format_datetime(window.ends_at, tz)} ({window.starts_at:%Y-%m-%d %H:%M} to "
                f"{window.ends_at:%H:%M} UTC; booking end + {org.grace_minutes} min grace)")
    expected = (booking.start_at, booking.end_at + timedelta(minutes=org.grace_minutes))
    if (window.starts_at, window.ends_at) != expected:
        report.lack("the window does not match the booking's times plus grace")


def _show_confirmation(report: ProofReport, booking_id: int, thread: Thread | None,
                       wait_seconds: float) -> None:
    message = _confirmation(booking_id)
    if message is None:
        report.lack(f"no confirmation text queued or sent within {wait_seconds:g}s")
        return
    report.show("confirmation", f"message #{message.id} {message.status} from {message.from_e164} "
                f"to {mask_phone(message.to_e164)}: {message.body!r}")
    outbox = db.session.scalar(select(OutboxEntry).where(OutboxEntry.message_id == message.id))
    if outbox is not None:
        report.show("outbox", f"{outbox.provider_sid} from {outbox.from_e164} "
                    f"to {mask_phone(outbox.to_e164)}")
    elif message.provider_sid:
        report.show("provider", f"accepted as {message.provider_sid}")
    if thread is not None and message.from_e164 != thread.message_number.e164:
        report.lack(f"the confirmation left from {message.from_e164}, not the thread's number")


def _confirmation(booking_id: int) -> Message | None:
    """The booking-confirmation text: via its automation run, else the thread's first automation."""
    run = db.session.scalar(select(AutomationRun).where(
        AutomationRun.booking_id == booking_id, AutomationRun.kind == "booking_confirmation"))
    if run is not None and run.message_id is not None:
        message = db.session.get(Message, run.message_id)
    else:
        message = db.session.scalar(
            select(Message).join(Thread, Message.thread_id == Thread.id)
            .where(Thread.booking_id == booking_id, Message.sender_kind == "automation",
                   Message.direction == "outbound")
            .order_by(Message.id).limit(1))
    return message if message is not None and message.status in SENT_OR_QUEUED else None
