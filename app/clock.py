"""The one source of "now": every service and default asks here, tests set it."""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def utcnow() -> datetime:
    """Aware UTC now, or the time a test has set."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def set_now(when: datetime | None) -> None:
    """Freeze the clock at an aware datetime (None: back to the wall clock)."""
    if when is not None and when.tzinfo is None:
        raise ValueError("set_now needs an aware datetime")
    global _frozen
    _frozen = when.astimezone(UTC) if when is not None else None
