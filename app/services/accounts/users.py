"""Owners manage the logins of their org."""

from __future__ import annotations

from sqlalchemy import func, select

from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import ROLES, Org, User
from app.services.accounts.passwords import check_password_strength, email_taken, log_out_everywhere, normalise_email
from app.services.audit.events import record_event


def new_user(org_id: int, *, email: str, password: str, role: str, name: str) -> User:
    """Add a user to the session (the caller commits); refuses bad or taken emails."""
    if role not in ROLES:
        raise InvalidInput(f"Choose one of {', '.join(ROLES)}.", field="role")
    email = normalise_email(email)
    if "@" not in email or "." not in email.split("@")[-1]:
        raise InvalidInput("Enter a valid email address.", field="email")
    if email_taken(email):
        raise InvalidInput("A user with this email already exists.", field="email")
    check_password_strength(password, email=email)
    user = User(org_id=org_id, email=email, role=role, name=(name or "").strip() or email)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def add_user(org_id: int, *, email: str, password: str, role: str, name: str, actor: str = "system") -> User:
    if role == "sitter":
        # A sitter login belongs to a Sitter row: add sitters on the sitters page.
        raise InvalidInput("Add sitters on the Sitters page (they need a sitter profile).", field="role")
    user = new_user(org_id, email=email, password=password, role=role, name=name)
    record_event(org_id, "user.added", actor=actor, user_id=user.id, role=role)
    db.session.commit()
    return user


def set_user_active(user_id: int, active: bool, *, acting_user_id: int, actor: str = "system") -> User:
    user = db.session.get(User, user_id)
    if user.id == acting_user_id and not active:
        raise Conflict("You cannot deactivate your own login.")
    if not active and user.role == "owner":
        owners = db.session.scalar(select(func.count(User.id)).where(
            User.org_id == user.org_id, User.role == "owner", User.active.is_(True)))
        if owners <= 1:
            raise Conflict("An org needs at least one active owner.")
    user.active = active
    record_event(user.org_id, "user.activated" if active else "user.deactivated", actor=actor,
                 user_id=user.id)
    db.session.commit()
    if not active:  # a deactivated login keeps no session to come back to
        log_out_everywhere(user.id, actor=actor, reason="deactivated")
    return user


def create_user(org_id: int, email: str, password: str, role: str, name: str) -> User:
    """Add a login to an org (CLI); refuses unknown roles, weak passwords and taken emails."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}, got {role!r}", field="role")
    if db.session.get(Org, org_id) is None:
        raise InvalidInput(f"no org with id {org_id}", field="org_id")
    user = new_user(org_id, email=email, password=password, role=role, name=name)
    record_event(org_id, "user.added", actor="cli", user_id=user.id, role=role)
    db.session.commit()
    return user
