"""Who may make the org pay for a texted reset code, and when (/forgot).

Anyone can type an email at /forgot, so a request is judged by the email asked about, never by
whether an account has it: the ledger keeps one row per accepted request under a hash of the
normalised email (the `ThrottleCount` table, scope `reset-code`), for known and unknown emails
alike, and the answer is the same for both:

- a request within RESET_CODE_TTL of the last accepted one sends nothing and says when the code
  already sent stops working (a valid code is never sent again);
- at most RESET_CODES_PER_DAY (setting, default 3) requests per email in 24 hours are accepted;
- only an accepted request reaches `send_reset_code`, which texts a sitter with a phone on file.

Requests for one email are serialised (an advisory lock on PostgreSQL; SQLite has one writer), so
parallel requests cannot both pass the checks. The per-address allowance stays in
app.services.accounts.throttle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import sha256

from flask import current_app
from sqlalchemy import bindparam, delete, insert, select

from app.clock import utcnow
from app.extensions import db
from app.models import ThrottleCount
from app.persistence.locking import advisory_lock
from app.services.accounts.passwords import RESET_CODE_TTL, normalise_email, send_reset_code

SCOPE = "reset-code"
DAY = timedelta(days=1)

_LEDGER = ThrottleCount.__table__
_REQUESTS_OF_THE_DAY = (select(_LEDGER.c.window_start)
                        .where(_LEDGER.c.scope == SCOPE, _LEDGER.c.key_hash == bindparam("key_hash"),
                               _LEDGER.c.window_start > bindparam("since"))
                        .order_by(_LEDGER.c.window_start.desc()))
_RECORD_REQUEST = insert(_LEDGER).values(scope=SCOPE, count=1)
_FORGET_OLD_REQUESTS = delete(_LEDGER).where(_LEDGER.c.scope == SCOPE, _LEDGER.c.window_start <= bindparam("before"))


@dataclass(frozen=True)
class CodeRequest:
    """What /forgot answers, the same whether or not the email has an account.

    outcome: "accepted" (a code is texted if the account can get one), "already_sent" (nothing
    sent; `valid_until` says until when the earlier code works) or "daily_limit" (nothing sent;
    `retry_at` says when one more may be asked for).
    """

    outcome: str
    valid_until: datetime | None = None
    retry_at: datetime | None = None


def _key_hash(email: str) -> str:
    return sha256(f"{SCOPE}:{email}".encode()).hexdigest()


def codes_per_day() -> int:
    return int(current_app.config.get("RESET_CODES_PER_DAY") or 3)


def request_reset_code(email: str) -> CodeRequest:
    """Accept or decline one /forgot request for `email`, and text the code when accepted (commits)."""
    email = normalise_email(email)
    key_hash, now = _key_hash(email), utcnow()
    advisory_lock(SCOPE, key_hash)
    earlier = list(db.session.scalars(_REQUESTS_OF_THE_DAY, {"key_hash": key_hash, "since": now - DAY}))
    if earlier and earlier[0] + RESET_CODE_TTL > now:
        db.session.commit()
        return CodeRequest("already_sent", valid_until=earlier[0] + RESET_CODE_TTL)
    if len(earlier) >= codes_per_day():
        db.session.commit()
        return CodeRequest("daily_limit", retry_at=earlier[codes_per_day() - 1] + DAY)
    db.session.execute(_FORGET_OLD_REQUESTS, {"before": now - DAY})
    db.session.execute(_RECORD_REQUEST, {"key_hash": key_hash, "window_start": now})
    send_reset_code(email)  # commits the ledger row with the code (or with the reason none was sent)
    db.session.commit()
    return CodeRequest("accepted", valid_until=now + RESET_CODE_TTL)
