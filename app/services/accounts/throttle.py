"""Login throttling: failures counted per account and per client address, in Flask-Limiter's storage.

With REDIS_URL the counters live in Redis and every web process shares them; the
embedded default (one process) keeps them in memory. A locked key refuses even the
right password until its window moves on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app
from limits import parse

from app.observability.metrics import count_lockout, count_login_throttled

log = logging.getLogger(__name__)

EXTENSION_KEY = "pawline_login_limiter"
ACCOUNT_FAILURES = parse("10 per 15 minutes")
ADDRESS_FAILURES = parse("50 per 15 minutes")
# Texted reset codes cost money and reach a real phone: few per account, a few more per address.
ACCOUNT_CODES = parse("3 per 1 hour")
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


def _guarded(action, default):
    try:
        return action()
    except Exception:  # storage down: logins stay possible, the operator sees why
        log.exception("login throttle storage unavailable; not throttling this request")
        return default


def login_refusal(email: str, address: str | None) -> Refusal | None:
    """A Refusal while this account or address has used up its failures, else None."""
    refusal = _guarded(lambda: _refusal([(ACCOUNT_FAILURES, "account", email),
                                         (ADDRESS_FAILURES, "address", address or "-")]), None)
    if refusal is not None:
        count_login_throttled("login")  # a password or a texted code, guessed once too often
    return refusal


def record_login_failure(email: str, address: str | None) -> bool:
    """Count one failure for the account and the address; True when it just locked the account."""
    def hit():
        _limiter().hit(ADDRESS_FAILURES, "address", address or "-")
        _limiter().hit(ACCOUNT_FAILURES, "account", email)
        return not _limiter().test(ACCOUNT_FAILURES, "account", email)

    locked = _guarded(hit, False)
    if locked:
        count_lockout()
    return locked


def code_request_refusal(email: str, address: str | None) -> Refusal | None:
    """Refuse a texted reset code past the per-account or per-address allowance; else count it."""
    def check():
        refusal = _refusal([(ACCOUNT_CODES, "code-account", email), (ADDRESS_CODES, "code-address", address or "-")])
        if refusal is None:
            _limiter().hit(ACCOUNT_CODES, "code-account", email)
            _limiter().hit(ADDRESS_CODES, "code-address", address or "-")
        return refusal

    refusal = _guarded(check, None)
    if refusal is not None:
        count_login_throttled("reset_code")
    return refusal


LOCKOUTS = parse("1 per 1 day")


def record_lockout(email: str) -> bool:
    """Count a lockout of this account; True when it is not the first one in a day."""
    return _guarded(lambda: not _limiter().hit(LOCKOUTS, "lockout", email), False)
