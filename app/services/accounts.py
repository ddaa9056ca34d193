"""Users and logins."""

from __future__ import annotations

from sqlalchemy import func, select

from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import ROLES, User

# Compared against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = "scrypt:32768:8:1$0000000000000000$" + "0" * 128


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (no hint which was wrong)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))
    if user is None:
        from werkzeug.security import check_password_hash

        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not user.active or not user.check_password(password or ""):
        return None
    return user


def load_active_user(user_id: int) -> User | None:
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


def create_user(org_id: int, email: str, password: str, role: str, name: str) -> User:
    """Add a login to an org; refuses unknown roles, short passwords and taken emails."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}, got {role!r}", field="role")
    if len(password or "") < 8:
        raise InvalidInput("password must be at least 8 characters", field="password")
    email = normalise_email(email)
    if "@" not in email:
        raise InvalidInput("email is not valid", field="email")
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user with email {email} already exists")
    user = User(org_id=org_id, email=email, role=role, name=name.strip() or email)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user
