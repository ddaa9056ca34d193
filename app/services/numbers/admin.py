"""Adding and retiring the org's masking numbers."""

from __future__ import annotations

from sqlalchemy import select

from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import MessageNumber, Sitter
from app.models.messaging import NUMBER_KINDS
from app.services.audit.events import record_event
from app.services.numbers.waiting import assign_waiting_threads
from app.services.people.phones import to_e164
from app.services.queries.admin import open_threads_on_number


def add_number(org_id: int, *, e164: str, kind: str, sitter_id: int | None = None,
               label: str | None = None, actor: str = "system") -> MessageNumber:
    """Add a number; one number belongs to one org, once (checked across all orgs)."""
    if kind not in NUMBER_KINDS:
        raise InvalidInput(f"Choose one of {', '.join(NUMBER_KINDS)}.", field="kind")
    number = to_e164(e164, field="e164")
    taken = db.session.scalar(
        select(MessageNumber.id).where(MessageNumber.e164 == number).execution_options(all_orgs=True)
    )
    if taken is not None:
        raise InvalidInput("This number is already in use.", field="e164")
    if kind == "sitter":
        sitter = db.session.get(Sitter, sitter_id) if sitter_id else None
        if sitter is None or sitter.org_id != org_id:
            raise InvalidInput("Choose the sitter this number belongs to.", field="sitter_id")
    else:
        sitter_id = None
    row = MessageNumber(org_id=org_id, e164=number, kind=kind, sitter_id=sitter_id,
                        label=(label or "").strip() or None)
    db.session.add(row)
    db.session.flush()
    record_event(org_id, "number.added", sitter_id=sitter_id, actor=actor, number_id=row.id, number_kind=kind)
    db.session.commit()
    # Conversations that wait for a number get one now (and their held confirmation texts).
    assign_waiting_threads(org_id, actor=actor)
    return db.session.get(MessageNumber, row.id)


def retire_number(number_id: int, actor: str = "system") -> MessageNumber:
    """Stop using a number; refused while it carries open threads (their texts route by it)."""
    number = db.session.get(MessageNumber, number_id)
    open_threads = open_threads_on_number(number.id)
    if open_threads:
        ids = ", ".join(f"#{t.booking_id}" for t in open_threads[:10])
        raise Conflict(f"This number carries {len(open_threads)} open thread(s) (bookings {ids}). "
                       "Cancel or move those bookings to another number first.")
    number.active = False
    record_event(number.org_id, "number.retired", sitter_id=number.sitter_id, actor=actor, number_id=number.id)
    db.session.commit()
    return number
