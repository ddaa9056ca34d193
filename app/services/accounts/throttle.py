"""Login throttling: failures counted per account and per client address, in Flask-Limiter's storage.

With REDIS_URL the counters live in Redis and every web process shares them; the
embedded default (one process) keeps them in memory. A locked key refuses even the
right password until its window moves on.

An account's try is counted before the password is checked (one atomic hit that fails when
the window is full), so however many attempts arrive at once, at most ACCOUNT_FAILURES
passwords are ever evaluated; a successful login clears the account's count. When the
limiter's storage is unreachable (Redis down) the counters fall back to the database
(`ThrottleCount`, fixed windows raised by one conditional UPDATE), never to no throttle.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256

from flask import Flask, current_app
from limits import parse
from sqlalchemy import delete, update

from app.extensions import db
from app.models import ThrottleCount
from app.observability.metrics import count_lockout, count_login_throttled
from app.persistence.locking import insert_if_absent

log = logging.getLogger(__name__)

EXTENSION_KEY = "pawline_login_limiter"
ACCOUNT_FAILURES = parse("10 per 15 minutes")
ADDRESS_FAILURES = parse("50 per 15 minutes")
# Texted reset codes cost money and reach a real phone: a few per address (per login email, the
# daily allowance and the one-code-at-a-time rule are app.services.accounts.reset_codes).
ADDRESS_CODES = parse("10 per 1 hour")


def init_login_limiter(app: Flask) -> None:
    """A Flask-Limiter on Redis when REDIS_URL is set (shared by all processes), else memory://."""
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    storage = app.config.get("RATELIMIT_STORAGE_URI") or app.config["REDIS_URL"] or "memory://"
    app.extensions[EXTENSION_KEY] = Limiter(
        get_remote_address, app=app, storage_uri=storage, strategy="moving-window",
        default_limits=[], key_prefix="pawline-login")


@dataclass(frozen=True)
class Refusal:
    retry_at: datetime

    @property
    def retry_after_seconds(self) -> int:
        return max(1, int((self.retry_at - _wall_now()).total_seconds()) + 1)


def _wall_now() -> datetime:
    # The limiter's windows run on the wall clock (not app.clock), so the answer does too.
    return datetime.now(UTC)


def _limiter():
    return current_app.extensions[EXTENSION_KEY].limiter


def _refusal(pairs) -> Refusal | None:
    """The latest reset among the exhausted (limit, key) pairs, or None when all have room."""
    latest = None
    for limit, scope, key in pairs:
        if not _limiter().test(limit, scope, key):
            reset = _limiter().get_window_stats(limit, scope, key).reset_time
            when = datetime.fromtimestamp(reset, UTC)
            latest = when if latest is None or when > latest else latest
    if latest is None:
        return None
    # A moving window frees its oldest hit at reset_time: never promise a time already past.
    return Refusal(max(latest, _wall_now() + timedelta(seconds=1)))


def _guarded(action, fallback):
    """Run against the limiter's storage; when it is unreachable, run `fallback` on the database."""
    try:
        return action()
    except Exception:  # storage down: the database counts instead, the operator sees why
        log.exception("login throttle storage unavailable; counting in the database for this request")
        db.session.rollback()
        return fallback()


# ---------------------------------------------------------------- the database fallback


def _window(limit) -> tuple[datetime, datetime]:
    seconds = limit.get_expiry()
    now = _wall_now().timestamp()
    start = now - now % seconds
    return datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(start + seconds, UTC)


def _key_hash(scope: str, key: str) -> str:
    # Emails and addresses are personal: the table keeps a hash of them.
    return sha256(f"{scope}:{key}".encode()).hexdigest()


def _db_hit(limit, scope: str, key: str) -> bool:
    """One more try in this key's window if it has room (True), in one conditional UPDATE."""
    start, _ = _window(limit)
    key_hash = _key_hash(scope, key)
    insert_if_absent(ThrottleCount, ("scope", "key_hash", "window_start"), scope=scope, key_hash=key_hash,
                     window_start=start, count=0)
    row = ThrottleCount.__table__.c
    counted = db.session.execute(
        update(ThrottleCount.__table__)
        .where(row.scope == scope, row.key_hash == key_hash, row.window_start == start, row.count < limit.amount)
        .values(count=row.count + 1)).rowcount == 1
    db.session.execute(delete(ThrottleCount.__table__).where(row.window_start < start - timedelta(days=1)))
    db.session.commit()
    return counted


def _db_full(limit, scope: str, key: str) -> datetime | None:
    """When this key's window frees up, if it is full; else None."""
    start, end = _window(limit)
    row = ThrottleCount.__table__.c
    count = db.session.execute(
        ThrottleCount.__table__.select().with_only_columns(row.count)
        .where(row.scope == scope, row.key_hash == _key_hash(scope, key), row.window_start == start)).scalar()
    db.session.commit()
    return end if (count or 0) >= limit.amount else None


def _db_clear(limit, scope: str, key: str) -> None:
    row = ThrottleCount.__table__.c
    db.session.execute(delete(ThrottleCount.__table__).where(row.scope == scope,
                                                             row.key_hash == _key_hash(scope, key)))
    db.session.commit()


def _db_refusal(pairs) -> Refusal | None:
    ends = [end for limit, scope, key in pairs if (end := _db_full(limit, scope, key)) is not None]
    return Refusal(max(max(ends), _wall_now() + timedelta(seconds=1))) if ends else None


# ---------------------------------------------------------------- logins


def login_refusal(email: str, address: str | None) -> Refusal | None:
    """Count this try for the account, then a Refusal if the account or the address has used up
    its tries (the try is not counted when refused); else None, and the password may be checked."""
    address_pair = (ADDRESS_FAILURES, "address", address or "-")

    def check():
        refusal = _refusal([address_pair])
        if refusal is None and not _limiter().hit(ACCOUNT_FAILURES, "account", email):
            refusal = _refusal([(ACCOUNT_FAILURES, "account", email)])
        return refusal

    def check_in_database():
        refusal = _db_refusal([address_pair])
        if refusal is None and not _db_hit(ACCOUNT_FAILURES, "account", email):
            refusal = _db_refusal([(ACCOUNT_FAILURES, "account", email)])
        return refusal

    refusal = _guarded(check, check_in_database)
    if refusal is not None:
        count_login_throttled("login")  # a password or a texted code, guessed once too often
    return refusal


def record_login_failure(email: str, address: str | None) -> bool:
    """Count the failure for the address (the account's try was counted before the check);
    True when the account is now locked."""
    def hit():
        _limiter().hit(ADDRESS_FAILURES, "address", address or "-")
        return not _limiter().test(ACCOUNT_FAILURES, "account", email)

    def hit_in_database():
        _db_hit(ADDRESS_FAILURES, "address", address or "-")
        return _db_full(ACCOUNT_FAILURES, "account", email) is not None

    locked = _guarded(hit, hit_in_database)
    if locked:
        count_lockout()
    return locked


def record_login_success(email: str) -> None:
    """The right password: the account's counted tries are forgiven (its address's failures stay)."""
    _guarded(lambda: _limiter().clear(ACCOUNT_FAILURES, "account", email),
             lambda: _db_clear(ACCOUNT_FAILURES, "account", email))


def code_request_refusal(address: str | None) -> Refusal | None:
    """Refuse a texted reset code past the per-address allowance; else count it."""
    pair = (ADDRESS_CODES, "code-address", address or "-")

    def check():
        refusal = _refusal([pair])
        if refusal is None:
            _limiter().hit(*pair)
        return refusal

    def check_in_database():
        refusal = _db_refusal([pair])
        if refusal is None:
            _db_hit(*pair)
        return refusal

    refusal = _guarded(check, check_in_database)
    if refusal is not None:
        count_login_throttled("reset_code")
    return refusal


LOCKOUTS = parse("1 per 1 day")


def record_lockout(email: str) -> bool:
    """Count a lockout of this account; True when it is not the first one in a day."""
    return _guarded(lambda: not _limiter().hit(LOCKOUTS, "lockout", email),
                    lambda: not _db_hit(LOCKOUTS, "lockout", email))
