"""A client's data: everything Pawline holds about them as one JSON document, or erased.

Erasing (DESIGN "A client's data") cancels their open bookings without texting them, removes
their name, number, notes, pets, care notes, message bodies and media everywhere (audit payloads,
alerts, notifications, the outbox, stored Stripe payloads included), asks the SMS provider to
delete its copies (app.services.messaging.provider_deletion), and keeps the consent ledger, whose
rows hold the number only as a keyed hash. The client row stays as a tombstone ("Erased client")
so bookings, payments and the ledger keep their shape.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

import phonenumbers
from flask import current_app
from sqlalchemy import JSON, String, Text, cast, delete, func, or_, select, true, update

from app.adapters.media_store import delete_quietly, get_media_store
from app.clock import utcnow
from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import (
    Alert,
    AssignmentWindow,
    Booking,
    CareNote,
    Client,
    ConsentEvent,
    Message,
    MessageMedia,
    Notification,
    Org,
    OutboxEntry,
    Pet,
    StripeEvent,
    Thread,
)
from app.persistence.locking import lock_row
from app.services.audit.events import record_event
from app.services.automations.runs import cancel_pending_runs
from app.services.messaging.provider_deletion import request_provider_deletions
from app.services.people.consent import consent_ledger

log = logging.getLogger(__name__)

ERASED = "[erased]"
ERASED_NAME = "Erased client"
SWEEP_CHUNK = 50  # LIKE patterns per statement
MIN_TEXT_NEEDLE = 8  # a client's text shorter than this ("ok", "thanks") is not searched for elsewhere
OPEN_STATUSES = ("pending", "confirmed")
# Columns the sweep leaves alone: keyed hashes, secrets and ids are no one's name or number.
_SWEEP_SKIP = {("consent_events", "phone_hash"), ("users", "password_hash"), ("users", "name"), ("sitters", "name"),
               ("users", "email"), ("provider_deletions", "provider_sid")}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _client_messages(client: Client):
    """The client's texts: in their threads, or to or from their number (the owner inbox)."""
    thread_ids = select(Thread.id).where(Thread.client_id == client.id)
    return (select(Message).where(Message.org_id == client.org_id)
            .where(or_(Message.thread_id.in_(thread_ids), Message.from_e164 == client.phone_e164,
                       Message.to_e164 == client.phone_e164)))


def export_client(client_id: int) -> dict:
    """Everything held about the client, as one JSON-ready dict (read-only)."""
    client = db.session.get(Client, client_id)
    if client is None:
        raise NotFound("Client not found")
    org = db.session.get(Org, client.org_id)
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    messages = db.session.scalars(_client_messages(client).order_by(Message.created_at, Message.id)).all()
    media = {}
    for item in db.session.scalars(select(MessageMedia).where(
            MessageMedia.message_id.in_([m.id for m in messages])).order_by(MessageMedia.position)):
        media.setdefault(item.message_id, []).append(item)
    bookings = db.session.scalars(select(Booking).where(Booking.client_id == client.id)
                                  .order_by(Booking.start_at)).all()
    notes = db.session.scalars(select(CareNote).where(CareNote.client_id == client.id).order_by(CareNote.id)).all()
    return {
        "format": "pawline.client-export/1",
        "exported_at": _iso(utcnow()),
        "business": org.name,
        "client": {"id": client.id, "name": client.name, "phone": client.phone_e164, "area": client.area,
                   "address": client.address, "notes": client.notes, "timezone": client.timezone,
                   "opted_out": client.opted_out, "opted_out_at": _iso(client.opted_out_at),
                   "created_at": _iso(client.created_at), "erased_at": _iso(client.erased_at)},
        "pets": [{"name": p.name, "species": p.species, "notes": p.notes} for p in client.pets],
        "care_notes": [{"kind": n.kind, "pet": n.pet.name if n.pet else None, "text": n.body,
                        "updated_at": _iso(n.updated_at)} for n in notes],
        "bookings": [{"id": b.id, "service": b.service, "start_at": _iso(b.start_at), "end_at": _iso(b.end_at),
                      "status": b.status, "price_cents": b.price_cents, "currency": b.currency,
                      "notes": b.notes, "sitter": b.sitter.first_name if b.sitter else None}
                     for b in bookings],
        "messages": [{"id": m.id, "at": _iso(m.created_at), "direction": m.direction, "from": m.from_e164,
                      "to": m.to_e164, "sender": m.sender_kind, "text": m.body, "status": m.status,
                      "booking_id": m.thread.booking_id if m.thread else None,
                      "photos": [f"{base}/media/{item.id}" for item in media.get(m.id, [])
                                 if item.status == "stored"]}
                     for m in messages],
        # Calls: Pawline records no calls for this business yet; the key is kept for the format.
        "calls": [],
        "consent": [{"at": _iso(line.at), "zone": line.zone, "kind": line.kind, "method": line.method,
                     "how": line.how, "wording": line.wording, "wording_version": line.wording_version,
                     "recorded_by": line.recorded_by} for line in consent_ledger(client.id)],
    }


def export_filename(client_id: int) -> str:
    return f"pawline-client-{client_id}.json"


def export_json(client_id: int) -> str:
    return json.dumps(export_client(client_id), indent=2, ensure_ascii=False)


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


def erase_client(client_id: int, actor: str = "system") -> dict:
    """Erase the client's personal data (owners, after the confirm step). Commits; returns counts."""
    client = lock_row(Client, client_id)
    if client is None:
        db.session.rollback()
        raise NotFound("Client not found")
    if client.erased_at is not None:
        db.session.rollback()
        raise Conflict("This client's data was already erased.")
    org_id, now = client.org_id, utcnow()
    name, phone = client.name, client.phone_e164
    ledger_rows = db.session.scalar(select(func.count(ConsentEvent.id)).where(ConsentEvent.org_id == org_id))
    counts = {"bookings_cancelled": _cancel_open_bookings(client, now, actor)}

    booking_ids = select(Booking.id).where(Booking.client_id == client.id)
    thread_ids = select(Thread.id).where(Thread.client_id == client.id)
    messages = db.session.scalars(_client_messages(client)).all()
    message_ids = [m.id for m in messages]
    sids = sorted({m.provider_sid for m in messages if m.provider_sid})
    counts["messages"] = len(messages)

    # The rows go now, their files once this commits.
    items = db.session.scalars(select(MessageMedia).where(MessageMedia.message_id.in_(message_ids))).all()
    files = [k for i in items for k in (i.storage_key, i.thumb_key) if k]
    counts["media"] = len(items)
    db.session.execute(delete(MessageMedia).where(MessageMedia.message_id.in_(message_ids)))
    db.session.execute(delete(OutboxEntry).where(or_(OutboxEntry.message_id.in_(message_ids),
                                                     OutboxEntry.to_e164 == phone, OutboxEntry.from_e164 == phone)))
    texts = {m.body for m in messages if m.body and len(m.body.strip()) >= MIN_TEXT_NEEDLE}
    for message in messages:
        message.body = ""
        if message.status in ("queued", "sending"):  # never sent now
            message.status, message.error_code = "blocked", "erased"
        message.error_message = "The client's data was erased." if message.status == "blocked" else None
        if message.from_e164 == phone:
            message.from_e164 = None
        if message.to_e164 == phone:
            message.to_e164 = None
    db.session.execute(update(Notification).where(or_(Notification.thread_id.in_(thread_ids),
                                                      Notification.booking_id.in_(booking_ids)))
                       .values(title="Client data erased", body=""))
    db.session.execute(update(Alert).where(or_(Alert.thread_id.in_(thread_ids), Alert.booking_id.in_(booking_ids),
                                               Alert.message_id.in_(message_ids)))
                       .values(text="About a client whose data was erased."))
    stripe_rows = db.session.scalars(select(StripeEvent).where(StripeEvent.booking_id.in_(booking_ids))).all()
    for event in stripe_rows:
        event.payload = None  # Stripe's copy holds the customer's details; ours goes
        if event.status == "received":
            event.status, event.reason = "ignored", "client data erased"
    counts["stripe_payloads"] = len(stripe_rows)
    db.session.execute(delete(CareNote).where(CareNote.client_id == client.id))
    db.session.execute(delete(Pet).where(Pet.client_id == client.id))
    db.session.execute(update(Booking).where(Booking.client_id == client.id).values(notes=None))

    client.name, client.phone_e164 = ERASED_NAME, f"erased-{client.id}"
    client.area = client.address = client.notes = client.timezone = None
    client.opted_out, client.opted_out_at, client.erased_at = True, now, now
    db.session.flush()
    counts["swept"] = _sweep(org_id, [name, *_phone_spellings(phone), *texts])
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


def _sweep(org_id: int, needles: list[str]) -> int:
    """Replace every remaining occurrence of the client's name, number or texts in the org's rows
    (any text or JSON column of any table) with "[erased]": what the targeted steps above did
    not know about (an alert's sentence, an audit payload, a note naming them) goes too.

    Stored Stripe payloads are swept whatever their org: an event whose booking was never found
    has none, and may still carry the client's details. One SELECT per column finds the rows
    (LIKE, in chunks of needles); only those rows are rewritten."""
    needles = sorted({n for n in needles if n and len(n.strip()) >= 3}, key=len, reverse=True)
    changed = 0
    for table in db.metadata.sorted_tables:
        if "org_id" not in table.c:
            continue
        in_scope = true() if table.name == StripeEvent.__tablename__ else table.c.org_id == org_id
        key = list(table.primary_key.columns)
        for column in table.c:
            if (table.name, column.name) in _SWEEP_SKIP or column.primary_key or column.foreign_keys:
                continue
            if isinstance(column.type, JSON):
                # As text, a JSON value may hold the needle JSON-escaped (non-ASCII, quotes).
                patterns = {_like(n) for n in needles} | {_like(json.dumps(n)[1:-1]) for n in needles}
                changed += _rewrite(table, column, key, in_scope, cast(column, Text), patterns, needles)
            elif isinstance(column.type, String | Text):
                changed += _rewrite(table, column, key, in_scope, column, {_like(n) for n in needles}, needles)
    return changed


def _like(needle: str) -> str:
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _rewrite(table, column, key, in_scope, as_text, patterns: set[str], needles: list[str]) -> int:
    patterns, changed, seen = sorted(patterns), 0, set()
    for start in range(0, len(patterns), SWEEP_CHUNK):
        chunk = patterns[start:start + SWEEP_CHUNK]
        rows = db.session.execute(select(*key, column).where(
            in_scope, or_(*(as_text.like(p, escape="\\") for p in chunk)))).all()
        for row in rows:
            ident = tuple(row[:-1])
            if ident in seen:
                continue
            seen.add(ident)
            cleaned = _scrub(row[-1], needles)
            if cleaned != row[-1]:
                db.session.execute(update(table).where(*(k == v for k, v in zip(key, ident, strict=True)))
                                   .values({column.name: cleaned}))
                changed += 1
    return changed


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
