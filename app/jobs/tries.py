"""Bounded tries for row-backed jobs: every try counted on the row, committed before the work.

A job whose work keeps raising (a database bug, a template that cannot render, a worker
killed mid-job) would otherwise be retried by the queue, then re-enqueued by reconcile, for
ever. `counted_try` counts the try in its own committed transaction first, so even a try that
kills its process counts; after MAX_TRIES the row's `give_up` ends it (`failed` with a reason,
an audit event and an owner alert), and reconcile, which only picks up open rows, stops.
Used by the send job (app.services.messaging.outbound), automation runs (app.services.automations.run_job)
and Stripe events (app.services.payments.stripe_events).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Table, Update, bindparam, update

from app.extensions import db
from app.jobs.specs import MAX_TRIES

log = logging.getLogger(__name__)

T = TypeVar("T")


def count_try_statement(table: Table, column: str, open_statuses: tuple[str, ...]) -> Update:
    """UPDATE … SET column = column + 1 WHERE id = :row_id AND status is open RETURNING column."""
    counter = table.c[column]
    values = {column: counter + 1}
    if "updated_at" in table.c:
        # Counting is not progress: a `sending` text untouched since its job died must still
        # look stuck to reconcile (the column's onupdate would otherwise refresh it).
        values["updated_at"] = table.c.updated_at
    return (update(table)
            .where(table.c.id == bindparam("row_id"), table.c.status.in_(open_statuses))
            .values(values)
            .returning(counter))


def counted_try(count: Update, row_id, work: Callable[[], T], give_up: Callable[[str], T], *,
                label: str, on_failed_try: Callable[[str, Exception], None] | None = None) -> T | None:
    """One try of a row's job: counted and committed, then `work()`.

    Returns None when the row is no longer open (settled by an earlier try: nothing to do),
    `give_up(reason)` once MAX_TRIES tries have been used up (a try that never finished
    counts: its worker died), else what `work()` returns. A try that raises before the last
    calls `on_failed_try(reason, exc)` (which may raise an error of its own) and re-raises,
    so the queue retries it with its backoff.
    """
    attempt = db.session.execute(count, {"row_id": row_id}).scalar()
    db.session.commit()  # the try counts even if this process dies during it
    return run_counted_try(attempt, work, give_up, label=label, on_failed_try=on_failed_try)


def run_counted_try(attempt: int | None, work: Callable[[], T], give_up: Callable[[str], T], *,
                    label: str, on_failed_try: Callable[[str, Exception], None] | None = None) -> T | None:
    """`counted_try` once its try is counted and committed (`attempt`: the count, None when the row
    was not open): for a job whose own first statement counts the try (the send job's claim)."""
    if attempt is None:
        return None
    if attempt > MAX_TRIES:
        return give_up(f"no try finished in {MAX_TRIES} tries (its worker stopped mid-job)")
    try:
        return work()
    except Exception as exc:
        db.session.rollback()
        log.exception("%s: try %d of %d failed", label, attempt, MAX_TRIES)
        reason = f"{type(exc).__name__}: {exc}"
        if attempt >= MAX_TRIES:
            return give_up(f"failed {attempt} times; last: {reason}")
        if on_failed_try is not None:
            on_failed_try(reason, exc)
        raise
