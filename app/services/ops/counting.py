"""Counting work in the metrics only once the transaction that did it commits.

A text queued inside a transaction that then rolls back was never queued: its count is held
on the session like its job (app.jobs.queue) and dropped with it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db
from app.persistence.writes import has_uncommitted_writes

_KEY = "pending_metric_counts"


def count_after_commit(count: Callable[[], None]) -> None:
    """Run `count()` when the current transaction commits (at once if it wrote nothing)."""
    session = db.session()
    if has_uncommitted_writes(session):
        session.info.setdefault(_KEY, []).append(count)
    else:
        count()


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for count in session.info.pop(_KEY, ()):
        count()


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_KEY, None)
