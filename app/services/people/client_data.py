"""A client's data: everything Pawline holds about them as one JSON document (the erase is
app.services.people.client_erase). The rows that are the client's (texts, calls) are found here
for both."""

from __future__ import annotations

import json
from datetime import datetime

from flask import current_app
from sqlalchemy import or_, select

from app.clock import utcnow
from app.errors import NotFound
from app.extensions import db
from app.models import Booking, Call, CareNote, Client, Message, MessageMedia, Org, Thread
from app.services.people.consent import consent_ledger


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def client_messages(client: Client):
    """The client's texts: in their threads, or to or from their number (the owner inbox)."""
    thread_ids = select(Thread.id).where(Thread.client_id == client.id)
    return (select(Message).where(Message.org_id == client.org_id)
            .where(or_(Message.thread_id.in_(thread_ids), Message.from_e164 == client.phone_e164,
                       Message.to_e164 == client.phone_e164)))


def client_calls(client: Client):
    """The client's calls: on their threads or bookings, or from or to their number (a call
    from a number on no thread rang the office)."""
    thread_ids = select(Thread.id).where(Thread.client_id == client.id)
    booking_ids = select(Booking.id).where(Booking.client_id == client.id)
    return (select(Call).where(Call.org_id == client.org_id)
            .where(or_(Call.thread_id.in_(thread_ids), Call.booking_id.in_(booking_ids),
                       Call.from_e164 == client.phone_e164, Call.to_e164 == client.phone_e164)))


def export_client(client_id: int) -> dict:
    """Everything held about the client, as one JSON-ready dict (read-only)."""
    client = db.session.get(Client, client_id)
    if client is None:
        raise NotFound("Client not found")
    org = db.session.get(Org, client.org_id)
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    messages = db.session.scalars(client_messages(client).order_by(Message.created_at, Message.id)).all()
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
        "calls": [{"id": c.id, "at": _iso(c.created_at), "updated_at": _iso(c.updated_at),
                   "direction": c.direction, "from": c.from_e164, "to": c.to_e164, "status": c.outcome,
                   "duration_seconds": c.duration_seconds,
                   "booking_id": c.booking_id} for c in db.session.scalars(
                       client_calls(client).order_by(Call.created_at, Call.id))],
        "consent": [{"at": _iso(line.at), "zone": line.zone, "kind": line.kind, "method": line.method,
                     "how": line.how, "wording": line.wording, "wording_version": line.wording_version,
                     "recorded_by": line.recorded_by} for line in consent_ledger(client.id)],
    }


def export_filename(client_id: int) -> str:
    return f"pawline-client-{client_id}.json"


def export_json(client_id: int) -> str:
    return json.dumps(export_client(client_id), indent=2, ensure_ascii=False)
