"""Writing the audit log and raising alerts (inside the caller's transaction)."""

from __future__ import annotations

from sqlalchemy import insert

from app.clock import utcnow
from app.extensions import db
from app.models import Alert, EventLog
from app.persistence.writes import write_at_commit

# One multi-row INSERT for a transaction's rows (RETURNING makes SQLAlchemy batch them into
# one statement, insertmanyvalues, rather than one per row on the PostgreSQL driver).
_INSERT_EVENTS = insert(EventLog.__table__).returning(EventLog.__table__.c.id)


def record_event(org_id: int, kind: str, *, booking_id: int | None = None, thread_id: int | None = None,
                 sitter_id: int | None = None, actor: str = "system", **payload) -> None:
    """Write an EventLog row in the caller's transaction; the calling service commits.

    The row is written when the transaction commits, after the session's other changes,
    so the rows of one unit of work go to the database in one multi-row INSERT (not one
    per autoflush), in the order they were recorded. A rollback drops them with
    everything else. Jobs queued in this transaction wait for its commit (the row counts
    as a write: app.persistence.writes).
    """
    # Core, not ORM objects: rows written once and never read back here need no unit of work.
    write_at_commit(db.session(), _INSERT_EVENTS, dict(
        org_id=org_id, kind=kind, booking_id=booking_id, thread_id=thread_id, sitter_id=sitter_id,
        actor=actor, payload=payload, created_at=utcnow()))


def raise_alert(org_id: int, kind: str, text: str, *, sitter_id: int | None = None,
                booking_id: int | None = None, thread_id: int | None = None,
                message_id: int | None = None) -> Alert:
    """Owners see alerts without a sitter; a sitter sees only alerts addressed to them."""
    row = Alert(org_id=org_id, audience="sitter" if sitter_id else "owner", sitter_id=sitter_id,
                kind=kind, text=text[:500], booking_id=booking_id, thread_id=thread_id,
                message_id=message_id)
    db.session.add(row)
    return row
