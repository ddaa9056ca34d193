""""Don't send this sitter to this client again": an owner's mark on the client, which every
sitter assignment (new booking, pending edit, change of sitter) respects."""

from __future__ import annotations

from sqlalchemy import select

from app.clock import utcnow
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import Client, Sitter
from app.models.visits import SitterExclusion
from app.persistence.locking import insert_if_absent
from app.services.audit.events import record_event

REFUSAL = "{sitter} is marked not to be sent to {client} again (see the client's page)."


def exclusions_for_client(client_id: int) -> list[SitterExclusion]:
    return list(db.session.scalars(select(SitterExclusion).where(SitterExclusion.client_id == client_id)
                                   .order_by(SitterExclusion.created_at, SitterExclusion.id)))


def excluded_sitter_ids(client_id: int) -> set[int]:
    return set(db.session.scalars(select(SitterExclusion.sitter_id).where(SitterExclusion.client_id == client_id)))


def ensure_sitter_allowed(client_id: int, sitter_id: int | None) -> None:
    """InvalidInput on the sitter field when the owner marked this pair (in the caller's transaction)."""
    if not sitter_id:
        return
    if db.session.scalar(select(SitterExclusion.id).where(SitterExclusion.client_id == client_id,
                                                          SitterExclusion.sitter_id == sitter_id)) is None:
        return
    sitter, client = db.session.get(Sitter, sitter_id), db.session.get(Client, client_id)
    raise InvalidInput(REFUSAL.format(sitter=sitter.name, client=client.name), field="sitter_id")


def exclude_sitter(org_id: int, client_id: int, sitter_id: int, *, reason: str = "", user_id: int | None = None,
                   actor: str = "system") -> bool:
    """Mark the pair; True when newly marked (marking twice changes nothing)."""
    client, sitter = db.session.get(Client, client_id), db.session.get(Sitter, sitter_id)
    if client is None or client.org_id != org_id:
        raise NotFound("Client not found")
    if sitter is None or sitter.org_id != org_id:
        raise InvalidInput("Choose a sitter.", field="sitter_id")
    reason = " ".join((reason or "").split())
    if len(reason) > 200:
        raise InvalidInput("Keep the reason under 200 characters.", field="reason")
    created = insert_if_absent(SitterExclusion, ("client_id", "sitter_id"), org_id=org_id, client_id=client_id,
                               sitter_id=sitter_id, reason=reason, created_by_user_id=user_id,
                               created_at=utcnow()) is not None
    if created:
        record_event(org_id, "client.sitter_excluded", sitter_id=sitter_id, actor=actor, client_id=client_id,
                     reason=reason)
    db.session.commit()
    return created


def remove_exclusion(org_id: int, client_id: int, exclusion_id: int, actor: str = "system") -> None:
    row = db.session.get(SitterExclusion, exclusion_id)
    if row is None or row.org_id != org_id or row.client_id != client_id:
        raise NotFound("We could not find that mark.")
    record_event(org_id, "client.sitter_exclusion_removed", sitter_id=row.sitter_id, actor=actor,
                 client_id=client_id)
    db.session.delete(row)
    db.session.commit()
