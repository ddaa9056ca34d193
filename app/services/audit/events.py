"""Writing the audit log and raising alerts (inside the caller's transaction)."""

from __future__ import annotations

from sqlalchemy import event, insert
from sqlalchemy.orm import Session, SessionTransaction

from app.clock import utcnow
from app.extensions import db
from app.models import Alert, EventLog

_PENDING = "pending_audit_rows"
# One multi-row INSERT for a transaction's rows (RETURNING makes SQLAlchemy batch them into
# one statement, insertmanyvalues, rather than one per row on the PostgreSQL driver).
_INSERT_EVENTS = insert(EventLog.__table__).returning(EventLog.__table__.c.id)


def record_event(org_id: int, kind: str, *, booking_id: int | None = None, thread_id: int | None = None,
                 sitter_id: int | None = None, actor: str = "system", **payload) -> None:
    """Write an EventLog row in the caller's transaction; the calling service commits.

    The row is written when the transaction commits, after the session's other changes,
    so the rows of one unit of work go to the database in one multi-row INSERT (not one
    per autoflush), in the order they were recorded. A rollback drops them with
    everything else.
    """
    from app.jobs.queue import note_write

    row = dict(org_id=org_id, kind=kind, booking_id=booking_id, thread_id=thread_id,
               sitter_id=sitter_id, actor=actor, payload=payload, created_at=utcnow())
    session = db.session()
    session.info.setdefault(_PENDING, []).append(row)
    note_write(session)  # jobs queued in this transaction still wait for its commit


@event.listens_for(Session, "before_commit")
def _add_audit_rows(session: Session) -> None:
    rows = session.info.pop(_PENDING, None)
    if rows:
        # Core, not ORM objects: rows written once and never read back here need no unit
        # of work. Flush first: the rows may name objects still pending in the session.
        session.flush()
        session.execute(_INSERT_EVENTS, rows)


@event.listens_for(Session, "after_transaction_end")
def _drop_audit_rows(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back or closed without a commit: never written
        session.info.pop(_PENDING, None)


def raise_alert(org_id: int, kind: str, text: str, *, sitter_id: int | None = None,
                booking_id: int | None = None, thread_id: int | None = None,
                message_id: int | None = None) -> Alert:
    """Owners see alerts without a sitter; a sitter sees only alerts addressed to them."""
    row = Alert(org_id=org_id, audience="sitter" if sitter_id else "owner", sitter_id=sitter_id,
                kind=kind, text=text[:500], booking_id=booking_id, thread_id=thread_id,
                message_id=message_id)
    db.session.add(row)
    return row
