"""Writing the audit log and raising alerts (inside the caller's transaction)."""

from __future__ import annotations

from app.extensions import db
from app.models import Alert, EventLog


def record_event(org_id: int, kind: str, *, booking_id: int | None = None, thread_id: int | None = None,
                 sitter_id: int | None = None, actor: str = "system", **payload) -> EventLog:
    """Add an EventLog row to the session; the calling service commits."""
    row = EventLog(org_id=org_id, kind=kind, booking_id=booking_id, thread_id=thread_id,
                   sitter_id=sitter_id, actor=actor, payload=payload)
    db.session.add(row)
    return row


def raise_alert(org_id: int, kind: str, text: str, *, sitter_id: int | None = None,
                booking_id: int | None = None, thread_id: int | None = None,
                message_id: int | None = None) -> Alert:
    """Owners see alerts without a sitter; a sitter sees only alerts addressed to them."""
    row = Alert(org_id=org_id, audience="sitter" if sitter_id else "owner", sitter_id=sitter_id,
                kind=kind, text=text[:500], booking_id=booking_id, thread_id=thread_id,
                message_id=message_id)
    db.session.add(row)
    return row
