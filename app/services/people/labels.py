"""People by name in admin pages: who did something, who sent a text (owners only: no masking)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from app.extensions import db
from app.models import AutomationRun, Message, User
from app.services.people.phones import national_format

# Actors that are not people: what owners read instead of the code.
SYSTEM_ACTORS = {
    "system": "Pawline (automatic)",
    "stripe": "Stripe (payment)",
    "twilio": "The client's phone (via Twilio)",
    "reconcile": "Pawline (automatic)",
    "anonymous": "Someone not logged in",
}


def readable_phone(e164: str | None) -> str:
    """'(202) 555-0121' for owners; anything that is not a phone number as it came."""
    if not e164:
        return ""
    try:
        return national_format(e164)
    except Exception:  # phonenumbers.NumberParseException: a sender that is not a number
        return e164


def person_label(user: User | None) -> str:
    """'Alex Morgan' for owners and staff, 'Sasha (sitter)' for a sitter, 'a removed user' for none."""
    if user is None:
        return "a removed user"
    if user.role == "sitter":
        return f"{user.name.split()[0] if user.name else 'A sitter'} (sitter)"
    return user.name or user.email


def automation_label(kind: str | None) -> str:
    """'Automation · booking confirmation'."""
    return f"Automation · {(kind or 'text').replace('_', ' ')}"


def _user_ids(actors: Iterable[str]) -> set[int]:
    ids = set()
    for actor in actors:
        if actor and actor.startswith("user:") and actor[5:].isdigit():
            ids.add(int(actor[5:]))
    return ids


def users_by_id(org_id: int, user_ids: Iterable[int]) -> dict[int, User]:
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.org_id == org_id, User.id.in_(ids)))}


def actor_labels(org_id: int, actors: Iterable[str]) -> dict[str, str]:
    """Each actor code ('user:3', 'system', 'stripe', …) → what a person reads (one query)."""
    actors = set(actors)
    users = users_by_id(org_id, _user_ids(actors))
    labels = {}
    for actor in actors:
        if actor and actor.startswith("user:") and actor[5:].isdigit():
            labels[actor] = person_label(users.get(int(actor[5:])))
        else:
            labels[actor] = SYSTEM_ACTORS.get(actor, (actor or "Pawline (automatic)").replace("_", " "))
    return labels


def sender_labels(org_id: int, messages: list[Message]) -> dict[int, str]:
    """Who each message is from (or by whom it was sent), by name: two queries for any number."""
    users = users_by_id(org_id, {m.sender_user_id for m in messages})
    automation_ids = [m.id for m in messages if m.sender_kind == "automation"]
    kinds = dict(db.session.execute(
        select(AutomationRun.message_id, AutomationRun.kind).where(AutomationRun.message_id.in_(automation_ids))
    ).all()) if automation_ids else {}
    labels = {}
    for m in messages:
        if m.direction == "inbound":
            client = m.thread.client if m.thread is not None and m.sender_kind == "client" else None
            labels[m.id] = client.name if client else (
                f"Unknown sender {readable_phone(m.from_e164)}" if m.from_e164 else "Unknown sender")
        elif m.sender_kind in ("owner", "sitter"):
            labels[m.id] = person_label(users.get(m.sender_user_id))
        elif m.sender_kind == "automation":
            labels[m.id] = automation_label(kinds.get(m.id))
        else:
            labels[m.id] = "Automatic reply"
    return labels
