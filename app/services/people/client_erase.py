"""Erasing a client's data (DESIGN "A client's data").

Cancels their open bookings without texting them, removes their name, number, notes, pets, care
notes, message bodies and media, calls' numbers and every row about them (audit payloads, alerts,
notifications, the outbox, stored Stripe payloads, visit reports), asks the SMS provider to delete
its copies (app.services.messaging.provider_deletion), and keeps the consent ledger, whose rows hold
the number only as a keyed hash. The client row stays as a tombstone ("Erased client") so
bookings, payments and the ledger keep their shape.

Every row is found by its key (the client's id, their bookings, threads, texts and calls), never
by searching every table for the name. One table can hold a client's details with no key: a
Stripe event whose booking was never found (its payload is Stripe's copy of the checkout); those
are the one place searched by text (LIKE), and only among such unmatched events.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from sqlalchemy import String, cast, delete, func, or_, select, update

from app.adapters.media_store import delete_quietly, get_media_store
from app.clock import utcnow
from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import (
    Alert,
    AssignmentWindow,
    AutomationRun,
    Booking,
    CareNote,
    Client,
    ClientAddressPoint,
    ConsentEvent,
    EventLog,
    MessageMedia,
    Notification,
    OfficeNote,
    OutboxEntry,
    Pet,
    SitterExclusion,
    StripeEvent,
    Thread,
    VisitReport,
)
from app.persistence.locking import lock_row
from app.services.audit.events import record_event
from app.services.automations.runs import cancel_pending_runs
from app.services.messaging.provider_deletion import request_provider_deletions
from app.services.people.client_data import client_calls, client_messages

log = logging.getLogger(__name__)

ERASED = "[erased]"
ERASED_NAME = "Erased client"
ERASED_ALERT = "About a client whose data was erased."
MIN_TEXT_NEEDLE = 8  # a client's text shorter than this ("ok", "thanks") is not replaced inside other text
OPEN_STATUSES = ("pending", "confirmed")
# Payload keys by which an audit event names a client's row (app.services.audit.events).
_PAYLOAD_KEYS = ("client_id", "message_id", "call_id")


@dataclass(frozen=True)
class ClientRows:
    """The keys of everything that is the client's."""

    client_id: int
    booking_ids: list[int]
    thread_ids: list[int]
    message_ids: list[int]
    call_ids: list[int]


def _phone_spellings(e164: str) -> list[str]:
    """The number as people and systems write it: +12025550123, 12025550123, 2025550123,
    (202) 555-0123, +1 202-555-0123."""
    found = {e164, e164.lstrip("+")}
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return sorted(found)
    found.add(str(parsed.national_number))
    for style in (phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL):
        found.add(phonenumbers.format_number(parsed, style))
    return sorted((s for s in found if len(s) >= 7), key=len, reverse=True)


def _needles(client: Client, texts: set[str]) -> list[str]:
    """What is replaced inside the client's keyed rows: their name, number, address, notes, pets'
    names, care notes and texts (longest first, so a name inside a text goes with the text)."""
    found = {client.name, client.address, client.notes, *_phone_spellings(client.phone_e164), *texts}
    found.update(pet.name for pet in client.pets)
    found.update(db.session.scalars(select(CareNote.body).where(CareNote.client_id == client.id)))
    return sorted({n for n in found if n and len(n.strip()) >= 3}, key=len, reverse=True)


def erase_client(client_id: int, actor: str = "system") -> dict:
    """Erase the client's personal data (owners, after the confirm step). Commits; returns counts."""
    client = lock_row(Client, client_id)
    if client is None:
        db.session.rollback()
        raise NotFound("Client not found")
    if client.erased_at is not None:
        db.session.rollback()
        raise Conflict("This client's data was already erased.")
    org_id, now, name, phone = client.org_id, utcnow(), client.name, client.phone_e164
    ledger_rows = db.session.scalar(select(func.count(ConsentEvent.id)).where(ConsentEvent.org_id == org_id))
    counts = {"bookings_cancelled": _cancel_open_bookings(client, now, actor)}

    messages = db.session.scalars(client_messages(client)).all()
    calls = db.session.scalars(client_calls(client)).all()
    rows = ClientRows(
        client.id, list(db.session.scalars(select(Booking.id).where(Booking.client_id == client.id))),
        list(db.session.scalars(select(Thread.id).where(Thread.client_id == client.id))),
        [m.id for m in messages], [c.id for c in calls])
    sids = sorted({m.provider_sid for m in messages if m.provider_sid})
    texts = {m.body for m in messages if m.body and len(m.body.strip()) >= MIN_TEXT_NEEDLE}
    needles = _needles(client, texts)
    counts["messages"], counts["calls"] = len(messages), len(calls)

    # The rows go now, their files once this commits.
    items = db.session.scalars(select(MessageMedia).where(MessageMedia.message_id.in_(rows.message_ids))).all()
    files = [k for i in items for k in (i.storage_key, i.thumb_key) if k]
    counts["media"] = len(items)
    db.session.execute(delete(MessageMedia).where(MessageMedia.message_id.in_(rows.message_ids)))
    db.session.execute(delete(OutboxEntry).where(or_(OutboxEntry.message_id.in_(rows.message_ids),
                                                     OutboxEntry.to_e164 == phone, OutboxEntry.from_e164 == phone)))
    for message in messages:
        message.body = ""
        if message.status in ("queued", "sending"):  # never sent now
            message.status, message.error_code = "blocked", "erased"
        message.error_message = "The client's data was erased." if message.status == "blocked" else None
        if message.from_e164 == phone:
            message.from_e164 = None
        if message.to_e164 == phone:
            message.to_e164 = None
    for call in calls:  # the other end (the masking number, a sitter's phone) is not the client's
        if call.from_e164 == phone:
            call.from_e164 = None
        if call.to_e164 == phone:
            call.to_e164 = None
    counts["stripe_payloads"] = _erase_related_rows(org_id, rows, needles)
    db.session.execute(delete(CareNote).where(CareNote.client_id == client.id))
    db.session.execute(delete(Pet).where(Pet.client_id == client.id))
    db.session.execute(delete(ClientAddressPoint).where(ClientAddressPoint.client_id == client.id))
    db.session.execute(update(Booking).where(Booking.client_id == client.id).values(notes=None))

    client.name, client.phone_e164 = ERASED_NAME, f"erased-{client.id}"
    client.area = client.address = client.notes = client.timezone = None
    client.opted_out, client.opted_out_at, client.erased_at = True, now, now
    db.session.flush()
    counts["audit_events"] = _erase_audit_payloads(org_id, rows, needles)
    counts["stripe_payloads"] += _erase_unmatched_stripe_payloads(org_id, [name, *_phone_spellings(phone)])
    counts["provider_deletions"] = request_provider_deletions(org_id, client.id, sids)
    record_event(org_id, "client.erased", actor=actor, client_id=client.id,
                 **{k: v for k, v in counts.items() if isinstance(v, int)})
    after = db.session.scalar(select(func.count(ConsentEvent.id)).where(ConsentEvent.org_id == org_id))
    if after < ledger_rows:  # the ledger is kept whatever else goes
        db.session.rollback()
        raise RuntimeError("erase would have dropped consent ledger rows")
    db.session.commit()
    delete_quietly(get_media_store(), files)  # after the commit: a rollback keeps files and rows together
    log.info("client %s erased (%s)", client_id, counts)
    return counts


def _cancel_open_bookings(client: Client, now: datetime, actor: str) -> int:
    """Open bookings end now, with their pending texts, and nothing is texted to the client."""
    bookings = db.session.scalars(select(Booking).where(Booking.client_id == client.id,
                                                        Booking.status.in_(OPEN_STATUSES))).all()
    for booking in bookings:
        booking.status, booking.cancelled_at, booking.cancel_reason = "cancelled", now, "client data erased"
        window = db.session.scalar(select(AssignmentWindow).where(AssignmentWindow.booking_id == booking.id))
        if window is not None and window.ends_at > now:
            window.ends_at, window.starts_at = now, min(window.starts_at, now)
            window.closed_reason = "cancelled"
        cancel_pending_runs(booking.id, "client_erased")
        record_event(client.org_id, "booking.cancelled", booking_id=booking.id, actor=actor,
                     reason="client data erased", client_told=False)
    return len(bookings)


def _erase_related_rows(org_id: int, rows: ClientRows, needles: list[str]) -> int:
    """Rows about the client's bookings, threads and texts, by those keys: alerts and
    notifications are reworded, visit reports' notes blanked, sitters' notes about the threads,
    exclusion, cancellation and automation reasons scrubbed, Stripe payloads of their bookings
    dropped. Returns the Stripe payloads dropped."""
    in_org = (Alert.org_id == org_id)
    db.session.execute(update(Notification).where(Notification.org_id == org_id, or_(
        Notification.thread_id.in_(rows.thread_ids), Notification.booking_id.in_(rows.booking_ids),
        Notification.sms_message_id.in_(rows.message_ids))).values(title="Client data erased", body=""))
    db.session.execute(update(Alert).where(in_org, or_(
        Alert.thread_id.in_(rows.thread_ids), Alert.booking_id.in_(rows.booking_ids),
        Alert.message_id.in_(rows.message_ids))).values(text=ERASED_ALERT))
    db.session.execute(update(VisitReport).where(VisitReport.org_id == org_id, or_(
        VisitReport.booking_id.in_(rows.booking_ids), VisitReport.message_id.in_(rows.message_ids)))
        .values(note=ERASED))
    for note in db.session.scalars(select(OfficeNote).where(OfficeNote.org_id == org_id, or_(
            OfficeNote.thread_id.in_(rows.thread_ids), OfficeNote.message_id.in_(rows.message_ids)))):
        note.body = _scrub(note.body, needles)
    for exclusion in db.session.scalars(select(SitterExclusion).where(SitterExclusion.client_id == rows.client_id)):
        exclusion.reason = _scrub(exclusion.reason, needles)
    # Reasons typed by owners or written from an error ("cancelled: Alex is away") may name them.
    for booking in db.session.scalars(select(Booking).where(Booking.id.in_(rows.booking_ids),
                                                            Booking.cancel_reason.is_not(None))):
        booking.cancel_reason = _scrub(booking.cancel_reason, needles)
    for run in db.session.scalars(select(AutomationRun).where(AutomationRun.booking_id.in_(rows.booking_ids),
                                                              AutomationRun.reason.is_not(None))):
        run.reason = _scrub(run.reason, needles)
    stripe_rows = db.session.scalars(select(StripeEvent).where(StripeEvent.booking_id.in_(rows.booking_ids))).all()
    for event in stripe_rows:
        _drop_stripe_payload(event)
    return len(stripe_rows)


def _drop_stripe_payload(event: StripeEvent) -> None:
    event.payload = None  # Stripe's copy holds the customer's details; ours goes
    if event.status == "received":
        event.status, event.reason = "ignored", "client data erased"


def _payload_key(key: str):
    """SQL: the payload's value under `key`, as text on both backends (SQLite's JSON_EXTRACT
    gives a number for a number, PostgreSQL's ->> gives text)."""
    return cast(EventLog.payload[key].as_string(), String)


def _erase_audit_payloads(org_id: int, rows: ClientRows, needles: list[str]) -> int:
    """Audit events about the client's bookings, threads, texts, calls or the client: their
    payloads keep their shape with the client's details replaced by "[erased]"."""
    by_key = [_payload_key(key).in_([str(i) for i in ids]) for key, ids in zip(
        _PAYLOAD_KEYS, ([rows.client_id], rows.message_ids, rows.call_ids), strict=True) if ids]
    events = db.session.scalars(select(EventLog).where(EventLog.org_id == org_id, or_(
        EventLog.booking_id.in_(rows.booking_ids), EventLog.thread_id.in_(rows.thread_ids), *by_key))).all()
    changed = 0
    for event in events:
        cleaned = _scrub(event.payload, needles)
        if cleaned != event.payload:
            event.payload, changed = cleaned, changed + 1
    return changed


def _like(needle: str) -> str:
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _erase_unmatched_stripe_payloads(org_id: int, identity: list[str]) -> int:
    """Stripe events whose booking was never found carry no key to the client (and an org only
    when the checkout named one): the one text search of the erase, among those events of this
    org or of none, for the client's name and number (a needle may be JSON-escaped there)."""
    identity = [n for n in identity if n and len(n.strip()) >= 3]
    patterns = sorted({_like(n) for n in identity} | {_like(json.dumps(n)[1:-1]) for n in identity})
    if not patterns:
        return 0
    events = db.session.scalars(select(StripeEvent).where(
        StripeEvent.booking_id.is_(None), StripeEvent.payload.is_not(None),
        or_(StripeEvent.org_id == org_id, StripeEvent.org_id.is_(None)),
        or_(*(StripeEvent.payload.like(p, escape="\\") for p in patterns)))).all()
    for event in events:
        _drop_stripe_payload(event)
    return len(events)


def _scrub(value, needles: list[str]):
    if isinstance(value, str):
        for needle in needles:
            value = value.replace(needle, ERASED)
        return value
    if isinstance(value, list):
        return [_scrub(v, needles) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, needles) for k, v in value.items()}
    return value
