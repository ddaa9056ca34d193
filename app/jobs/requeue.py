"""Re-enqueueing lost row-backed jobs a batch at a time: the shared piece of every reconciler."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, literal_column

from app.extensions import db
from app.jobs.queue import JobCall, get_queue
from app.jobs.specs import JobSpec


def after_id(column):
    """Keyset paging on an id column; LIMIT bound too, so one statement serves every batch."""
    return column > bindparam("after_id")


def batches(statement, batch_size: int, *, start=0, **params):
    """Yield the rows of `statement` (ordered by id, first column) a batch at a time, to the end.

    `start` is below every id (0; "" for text ids). Each batch's read transaction ends before
    the caller acts on it: inline jobs (the embedded queue) and the settle step open
    transactions of their own.
    """
    after_id = start
    while True:
        rows = db.session.execute(statement, {"after_id": after_id, "batch_size": batch_size,
                                                   **params}).all()
        db.session.commit()
        if not rows:
            return
        yield rows
        if len(rows) < batch_size:
            return
        after_id = rows[-1][0]


def requeue_lost(statement, spec: JobSpec, batch_size: int, *, start=0,
                 at: Callable[[object], datetime | None] | None = None) -> int:
    """Re-enqueue the `spec` job of each row of `statement` that the queue does not hold.

    The job's argument is the row's id (its first column); `at(row)` says when it is due (None:
    now). The lost ones of a batch go to the queue in one call (RQ: one pipeline). Returns how
    many were re-enqueued.
    """
    queue = get_queue()
    restored = 0
    for rows in batches(statement, batch_size, start=start):
        calls = {}
        for row in rows:
            call = JobCall(spec, (row[0],), at(row) if at is not None else None)
            calls[call.job_id] = call
        lost = queue.missing(list(calls))
        if lost:
            queue.enqueue_all([call for job_id, call in calls.items() if job_id in lost])
            restored += len(lost)
    return restored


def status_is(column, value: str):
    # A literal, not a bound value: the planner then sees which index range the batch needs.
    return column == literal_column(f"'{value}'")
