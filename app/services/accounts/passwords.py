"""Logins and passwords: authentication, strength, changes, one-time resets, operators."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app.clock import utcnow
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Operator, Org, PasswordReset, Sitter, User
from app.services.accounts.sessions import end_user_sessions, notify_all_sessions_ended, token_hash
from app.services.audit.events import raise_alert, record_event

log = logging.getLogger(__name__)

MIN_PASSWORD = 10
RESET_LINK_TTL = timedelta(hours=1)
RESET_CODE_TTL = timedelta(minutes=15)
RESET_CODE_TRIES = 5
_COMMON_PASSWORDS = Path(__file__).resolve().parents[2] / "data" / "common_passwords.txt"


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


@cache
def _dummy_hash() -> str:
    # Hashed with the same method and cost as real passwords, so an unknown email costs
    # the same scrypt run as a wrong password (no timing hint which accounts exist).
    return generate_password_hash(secrets.token_hex(16))


@cache
def _common_passwords() -> frozenset[str]:
    lines = _COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_password_strength(password: str, *, email: str | None = None, field: str = "password") -> None:
    """Refuse short, common or email-like passwords (InvalidInput at `field`)."""
    password = password or ""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"Use at least {MIN_PASSWORD} characters.", field=field)
    lowered = password.lower()
    if lowered in _common_passwords():
        raise InvalidInput("This password is on the list of most common passwords; choose another.", field=field)
    if email and lowered in (normalise_email(email), normalise_email(email).split("@")[0]):
        raise InvalidInput("Do not use your email address as your password.", field=field)


def _find_login(email: str) -> User | Operator | None:
    email = normalise_email(email)
    user = db.session.scalar(select(User).where(func.lower(User.email) == email).execution_options(all_orgs=True))
    if user is not None:
        return user
    return db.session.scalar(select(Operator).where(func.lower(Operator.email) == email))


def authenticate(email: str, password: str) -> User | Operator | None:
    """The active user (or operator) with this email and password, or None.

    Unknown, deactivated and wrong all cost one password hash and give the same answer.
    """
    principal = _find_login(email)
    matches = check_password_hash(principal.password_hash if principal else _dummy_hash(), password or "")
    if principal is None or not matches or not principal.active:
        return None
    return principal


def note_failed_login(email: str, address: str | None, *, locked: bool, repeated_lockout: bool) -> None:
    """Audit a failed login of a known account; a repeated lockout alerts the org's owners (commits)."""
    principal = _find_login(email)
    if not isinstance(principal, User):
        if locked:
            log.warning("login locked for an address or an unknown/operator account (address %s)", address)
        return
    record_event(principal.org_id, "login.failed", actor="anonymous", user_id=principal.id, address=address)
    if locked:
        record_event(principal.org_id, "login.locked", actor="anonymous", user_id=principal.id, address=address)
    if repeated_lockout:
        raise_alert(principal.org_id, "login.lockouts",
                    f"{principal.email} was locked out again after repeated wrong passwords "
                    f"(latest from {address or 'an unknown address'}). If it was not them, end their "
                    "sessions and issue a reset link on the Users page.")
    db.session.commit()


def email_taken(email: str) -> bool:
    return _find_login(email) is not None


def create_operator(email: str, password: str, name: str = "") -> Operator:
    """An operator: runs the deployment, sees /admin/rq, belongs to no org (CLI)."""
    email = normalise_email(email)
    if "@" not in email:
        raise InvalidInput("email is not valid", field="email")
    if email_taken(email):
        raise Conflict(f"a login with email {email} already exists")
    check_password_strength(password, email=email)
    operator = Operator(email=email, name=(name or "").strip() or email)
    operator.set_password(password)
    db.session.add(operator)
    db.session.commit()
    return operator


def _set_password(user: User, new_password: str, *, field: str = "password") -> None:
    check_password_strength(new_password, email=user.email, field=field)
    user.set_password(new_password)
    # A password set one way retires every other way still pending.
    db.session.execute(update(PasswordReset).where(PasswordReset.user_id == user.id,
                                                   PasswordReset.used_at.is_(None)).values(used_at=utcnow()))


def change_password(user_id: int, current: str, new: str, *, keep_session_token: str | None) -> None:
    """Change one's own password (the current one first); the user's other sessions end (commits)."""
    user = db.session.get(User, user_id)
    if not user.check_password(current or ""):
        raise InvalidInput("That is not your current password.", field="current_password")
    if current == new:
        raise InvalidInput("Choose a password different from the current one.", field="new_password")
    _set_password(user, new, field="new_password")
    ended = end_user_sessions(user.id, reason="password_changed", except_token=keep_session_token)
    record_event(user.org_id, "user.password_changed", actor=f"user:{user.id}", user_id=user.id,
                 sessions_ended=ended)
    db.session.commit()


def log_out_everywhere(user_id: int, *, actor: str, reason: str = "logout_everywhere") -> int:
    """End every session of the user (commits), then tell the hooked modules; returns how many."""
    user = db.session.get(User, user_id)
    ended = end_user_sessions(user.id, reason=reason)
    record_event(user.org_id, "user.sessions_ended", actor=actor, user_id=user.id, sessions_ended=ended,
                 reason=reason)
    db.session.commit()
    notify_all_sessions_ended(user.id, reason)
    return ended


def issue_reset_link(user_id: int, *, actor: str) -> str:
    """A one-time reset token valid for an hour; only its hash is kept, so it is shown once (commits)."""
    user = db.session.get(User, user_id)
    token = secrets.token_urlsafe(32)
    _retire_pending_resets(user.id, "link")
    db.session.add(PasswordReset(user_id=user.id, kind="link", token_hash=token_hash(token),
                                 expires_at=utcnow() + RESET_LINK_TTL, issued_by=actor[:40], created_at=utcnow()))
    record_event(user.org_id, "user.reset_link_issued", actor=actor, user_id=user.id)
    db.session.commit()
    return token


def _retire_pending_resets(user_id: int, kind: str) -> None:
    db.session.execute(update(PasswordReset).where(
        PasswordReset.user_id == user_id, PasswordReset.kind == kind, PasswordReset.used_at.is_(None)
    ).values(used_at=utcnow()))


def _live_reset(statement) -> PasswordReset | None:
    reset = db.session.scalar(statement.order_by(PasswordReset.id.desc()).limit(1))
    if reset is None or reset.used_at is not None or utcnow() >= reset.expires_at:
        return None
    return reset


def reset_link_is_live(token: str) -> bool:
    return _live_reset(select(PasswordReset).where(
        PasswordReset.kind == "link", PasswordReset.token_hash == token_hash(token or ""))) is not None


def _consume(reset_id: int, *, now) -> bool:
    """used_at = now, in one conditional UPDATE: of any number of concurrent requests holding
    the same link or code, exactly one gets True (the others see it used)."""
    result = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset_id, PasswordReset.used_at.is_(None), PasswordReset.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False))
    return result.rowcount == 1


def _complete_reset(reset: PasswordReset, new_password: str, how: str) -> User:
    """Consume the reset (once, whatever runs at the same time), set the password, end every session."""
    user = db.session.get(User, reset.user_id)
    check_password_strength(new_password, email=user.email)  # before consuming: a weak one keeps the link
    if not _consume(reset.id, now=utcnow()):
        db.session.rollback()
        raise Conflict("This reset was already used or has expired. Ask for a new one.")
    _set_password(user, new_password)
    ended = end_user_sessions(user.id, reason="password_reset")
    record_event(user.org_id, "user.password_reset", actor=f"user:{user.id}", user_id=user.id, how=how,
                 sessions_ended=ended)
    db.session.commit()
    notify_all_sessions_ended(user.id, "password_reset")
    return user


def reset_with_link(token: str, new_password: str) -> User:
    """Set a new password with an owner-issued link; every session of the user ends (commits)."""
    reset = _live_reset(select(PasswordReset).where(
        PasswordReset.kind == "link", PasswordReset.token_hash == token_hash(token or "")))
    if reset is None:
        raise Conflict("This reset link has expired or was already used. Ask an owner for a new one.")
    user = db.session.get(User, reset.user_id)
    if not user.active:
        raise Conflict("This login is deactivated. Ask an owner to reactivate it.")
    return _complete_reset(reset, new_password, "link")


def _code_hash(user_id: int, code: str) -> str:
    return token_hash(f"{user_id}:{code}")


def send_reset_code(email: str) -> None:
    """Text a one-time code to a sitter's phone on file, from the org's front-desk number (commits).

    Says nothing to the caller about whether the account exists; when it exists but cannot
    get a code (no phone, no front-desk number), the audit log says why (no owner alert: the
    request is anonymous). A code still valid is not sent again. /forgot decides first which
    requests get this far (app.services.accounts.reset_codes, and the per-address throttle).
    """
    from app.services.messaging.outbound import queue_outbound_message
    from app.services.numbers.choice import front_desk_number_id

    user = _find_login(email)
    if not isinstance(user, User) or not user.active:
        return
    sitter = db.session.scalar(select(Sitter).where(Sitter.user_id == user.id).execution_options(all_orgs=True))
    number_id = front_desk_number_id(user.org_id)
    if sitter is None or not sitter.phone_e164 or number_id is None:
        why = ("only sitters can reset by text; issue a reset link on the Users page" if sitter is None
               else "there is no phone on file for them" if not sitter.phone_e164
               else "the org has no active front-desk number to text from")
        # In the audit log for the owners to find, never an alert: anyone can ask anonymously,
        # and one alert per request would let a stranger flood the owners' alerts.
        record_event(user.org_id, "user.reset_code_not_sent", actor="anonymous", user_id=user.id, reason=why)
        db.session.commit()
        return
    if _live_reset(select(PasswordReset).where(PasswordReset.user_id == user.id,
                                               PasswordReset.kind == "sms_code")) is not None:
        return  # a code that still works is never texted (paid) again
    code = f"{secrets.randbelow(10**6):06d}"
    _retire_pending_resets(user.id, "sms_code")
    db.session.add(PasswordReset(user_id=user.id, kind="sms_code", token_hash=_code_hash(user.id, code),
                                 expires_at=utcnow() + RESET_CODE_TTL, issued_by="self", created_at=utcnow()))
    org = db.session.get(Org, user.org_id)
    body = (f"{org.name}: your password reset code is {code}. It expires in "
            f"{int(RESET_CODE_TTL.total_seconds() // 60)} minutes. If you did not ask for it, ignore this text.")
    queue_outbound_message(org_id=user.org_id, thread_id=None, from_number_id=number_id, to_e164=sitter.phone_e164,
                           body=body, sender_kind="system")
    record_event(user.org_id, "user.reset_code_sent", actor="anonymous", user_id=user.id)
    db.session.commit()


def reset_with_code(email: str, code: str, new_password: str) -> User:
    """Set a new password with a texted code; wrong codes count, and a few wrong ones void it (commits)."""
    wrong = InvalidInput("That code is not right, or it has expired. Ask for a new one.", field="code")
    user = _find_login(email)
    if not isinstance(user, User) or not user.active:
        check_password_hash(_dummy_hash(), code or "")  # same cost as a real attempt
        raise wrong
    reset = _live_reset(select(PasswordReset).where(PasswordReset.user_id == user.id,
                                                    PasswordReset.kind == "sms_code"))
    if reset is None:
        raise wrong
    # Count the try before checking it, in one conditional UPDATE: however many guesses arrive
    # at once, at most RESET_CODE_TRIES of them are ever compared, and the last one voids the code.
    now = utcnow()
    tries = PasswordReset.failed_attempts
    counted = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None), PasswordReset.expires_at > now,
               tries < RESET_CODE_TRIES)
        .values(failed_attempts=tries + 1).execution_options(synchronize_session=False)).rowcount == 1
    if not counted:
        db.session.rollback()
        raise wrong
    if not secrets.compare_digest(reset.token_hash, _code_hash(user.id, (code or "").strip())):
        db.session.execute(
            update(PasswordReset)
            .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None), tries >= RESET_CODE_TRIES)
            .values(used_at=now).execution_options(synchronize_session=False))
        db.session.commit()
        raise wrong
    # The right code: its try is given back (it was not a failure), then it is consumed once.
    db.session.execute(update(PasswordReset).where(PasswordReset.id == reset.id)
                       .values(failed_attempts=tries - 1).execution_options(synchronize_session=False))
    db.session.commit()
    return _complete_reset(reset, new_password, "sms_code")

