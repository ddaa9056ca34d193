"""Sitters: their login, phone and dedicated number."""

from __future__ import annotations

from sqlalchemy import select

from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Sitter, User
from app.services.accounts.passwords import log_out_everywhere
from app.services.accounts.users import new_user
from app.services.audit.events import record_event
from app.services.people.phones import to_e164


def create_sitter(org_id: int, *, name: str, phone: str | None, email: str | None = None,
                  password: str | None = None, actor: str = "system") -> Sitter:
    """A sitter, with a login when an email is given (a sitter needs one to use /sitter)."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Enter the sitter's name.", field="name")
    phone_e164 = to_e164(phone, field="phone") if (phone or "").strip() else None
    user = None
    if (email or "").strip():
        user = new_user(org_id, email=email, password=password or "", role="sitter", name=name)
    sitter = Sitter(org_id=org_id, name=name, phone_e164=phone_e164, user_id=user.id if user else None)
    db.session.add(sitter)
    db.session.flush()
    record_event(org_id, "sitter.created", sitter_id=sitter.id, actor=actor)
    db.session.commit()
    return sitter


def update_sitter(sitter_id: int, *, name: str, phone: str | None, active: bool,
                  actor: str = "system") -> Sitter:
    sitter = db.session.get(Sitter, sitter_id)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Enter the sitter's name.", field="name")
    sitter.name = name
    sitter.phone_e164 = to_e164(phone, field="phone") if (phone or "").strip() else None
    was_active, sitter.active = sitter.active, active
    if sitter.user_id is not None:
        user = db.session.get(User, sitter.user_id)
        user.name, user.active = name, active
    record_event(sitter.org_id, "sitter.updated", sitter_id=sitter.id, actor=actor, active=active)
    db.session.commit()
    if was_active and not active and sitter.user_id is not None:
        log_out_everywhere(sitter.user_id, actor=actor, reason="deactivated")
    return sitter


def add_sitter_login(sitter_id: int, *, email: str, password: str, actor: str = "system") -> User:
    """Give an existing sitter (added without one) a login to the sitter dashboard (commits)."""
    sitter = db.session.get(Sitter, sitter_id)
    if sitter.user_id is not None:
        raise Conflict(f"{sitter.name} already has a login.")
    user = new_user(sitter.org_id, email=email, password=password, role="sitter", name=sitter.name)
    user.active = sitter.active
    sitter.user_id = user.id
    record_event(sitter.org_id, "sitter.login_added", sitter_id=sitter.id, actor=actor, user_id=user.id)
    db.session.commit()
    return user


def sitter_for_user(user_id: int) -> Sitter | None:
    return db.session.scalar(select(Sitter).where(Sitter.user_id == user_id))
