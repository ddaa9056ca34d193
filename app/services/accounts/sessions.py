"""Login sessions kept on the server: a random token per login, stored hashed, checked on every request.

The session cookie carries the token (Flask-Login's "alternative id"); the optional
remember cookie carries `<row id>:<secret>`, a second random value rotated each time it
brings a login back. Ending the row ends both, wherever the cookies were copied to.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from blinker import Namespace
from sqlalchemy import select, update

from app.clock import utcnow
from app.extensions import db
from app.models import LoginSession, Operator, User

REMEMBER_DAYS = 30  # "keep me logged in" lasts at most this long from the login
SESSION_HOURS = 24 * 7  # a login without remember-me ends a week after it began at the latest
IDLE_HOURS = 12  # ... or after this long without a request
TOUCH_MINUTES = 5  # last_seen_at is written at most this often (not on every request)

_signals = Namespace()
# Sent after every session of a user was ended (log out everywhere, an owner's revocation,
# a password reset, deactivation), with `user_id=` and `reason=`. Other modules hook it,
# e.g. to drop the user's push subscriptions: `all_sessions_ended.connect(fn)`;
# fn(sender, user_id, reason) runs after the commit, in its own transaction.
all_sessions_ended = _signals.signal("all-sessions-ended")


def token_hash(token: str) -> str:
    """Tokens are 256-bit random values: a plain SHA-256 is enough to keep them off the disk."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class StartedSession:
    principal: User | Operator
    token: str
    remember_cookie: str | None  # "<row id>:<secret>", or None without remember-me
    expires_at: object


def start_session(principal: User | Operator, *, remember: bool, user_agent: str | None = None) -> StartedSession:
    """A new login for this user or operator (commits)."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    secret = secrets.token_urlsafe(32) if remember else None
    row = LoginSession(
        token_hash=token_hash(token),
        user_id=principal.id if isinstance(principal, User) else None,
        operator_id=principal.id if isinstance(principal, Operator) else None,
        remember_hash=token_hash(secret) if secret else None,
        expires_at=now + (timedelta(days=REMEMBER_DAYS) if remember else timedelta(hours=SESSION_HOURS)),
        last_seen_at=now, created_at=now, user_agent=(user_agent or "")[:200] or None)
    db.session.add(row)
    db.session.commit()
    principal.session_token = token
    return StartedSession(principal, token, f"{row.id}:{secret}" if secret else None, row.expires_at)


def _is_live(row: LoginSession, now) -> bool:
    if row.ended_at is not None or now >= row.expires_at:
        return False
    # A remembered login is meant to outlast idle days; a plain one ends when left alone.
    return row.remember_hash is not None or now - row.last_seen_at < timedelta(hours=IDLE_HOURS)


def _principal_of(row: LoginSession):
    principal = row.user if row.user_id else row.operator
    return principal if principal is not None and principal.active else None


def load_session(token: str):
    """The active user (or operator) of a live session with this token, else None."""
    if not token:
        return None
    now = utcnow()
    row = db.session.scalar(select(LoginSession).where(LoginSession.token_hash == token_hash(token)))
    if row is None or not _is_live(row, now):
        return None
    principal = _principal_of(row)
    if principal is None:
        return None
    if now - row.last_seen_at >= timedelta(minutes=TOUCH_MINUTES):
        db.session.execute(update(LoginSession).where(LoginSession.id == row.id).values(last_seen_at=now))
        db.session.commit()
    principal.session_token = token
    return principal


def resume_from_remember(cookie: str, *, user_agent: str | None = None) -> StartedSession | None:
    """Bring a remembered login back: a new session token and a new remember secret (commits).

    The old remember cookie stops working at once; the login keeps its original expiry.
    """
    row_id, _, secret = (cookie or "").partition(":")
    if not row_id.isdigit() or not secret or len(row_id) > 18:
        return None
    now = utcnow()
    row = db.session.get(LoginSession, int(row_id))
    if row is None or row.remember_hash is None or not _is_live(row, now):
        return None
    if not hmac.compare_digest(row.remember_hash, token_hash(secret)):
        return None
    principal = _principal_of(row)
    if principal is None:
        return None
    token, new_secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    row.token_hash, row.remember_hash, row.last_seen_at = token_hash(token), token_hash(new_secret), now
    if user_agent:
        row.user_agent = user_agent[:200]
    db.session.commit()
    principal.session_token = token
    return StartedSession(principal, token, f"{row.id}:{new_secret}", row.expires_at)


def end_session(token: str | None, reason: str = "logout") -> None:
    """Log out this one login (commits); unknown or ended tokens are a no-op."""
    if not token:
        return
    db.session.execute(update(LoginSession).where(
        LoginSession.token_hash == token_hash(token), LoginSession.ended_at.is_(None)
    ).values(ended_at=utcnow(), ended_reason=reason))
    db.session.commit()


def end_user_sessions(user_id: int, *, reason: str, except_token: str | None = None) -> int:
    """End the user's sessions in the caller's transaction (the caller commits); returns how many."""
    statement = update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
    if except_token:
        statement = statement.where(LoginSession.token_hash != token_hash(except_token))
    return db.session.execute(statement.values(ended_at=utcnow(), ended_reason=reason)).rowcount or 0


def notify_all_sessions_ended(user_id: int, reason: str) -> None:
    """Tell the hooked modules (after the commit that ended the sessions)."""
    all_sessions_ended.send(None, user_id=user_id, reason=reason)


def live_sessions(user_id: int) -> list[LoginSession]:
    now = utcnow()
    rows = db.session.scalars(select(LoginSession).where(
        LoginSession.user_id == user_id, LoginSession.ended_at.is_(None)).order_by(LoginSession.id.desc()))
    return [r for r in rows if _is_live(r, now)]
