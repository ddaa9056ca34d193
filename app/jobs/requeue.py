"""Re-enqueueing lost row-backed jobs a batch at a time: the shared piece of every reconciler."""

from __future__ import annotations

from sqlalchemy import bindparam, literal_column

from app.extensions import db
from app.jobs.queue import NO_RETRY, get_queue


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


def requeue_lost(statement, job_call, batch_size: int, *, start=0) -> int:
    """Re-enqueue the job of each row of `statement` that the queue does not hold.

    `job_call(row)` gives (job_id, func, args, options); the lost ones of a batch go to the
    queue in one call (RQ: one pipeline). Returns how many were re-enqueued.
    """
    queue = get_queue()
    restored = 0
    for rows in batches(statement, batch_size, start=start):
        calls = {}
        for row in rows:
            job_id, func, args, options = job_call(row)
            calls[job_id] = (func, args, {"job_id": job_id, "queue": "default", "at": None, "retry": NO_RETRY,
                                          **options})
        lost = queue.missing(list(calls))
        if lost:
            queue.enqueue_all([call for job_id, call in calls.items() if job_id in lost])
            restored += len(lost)
    return restored


def status_is(column, value: str):
    # A literal, not a bound value: the planner then sees which index range the batch needs.
    return column == literal_column(f"'{value}'")
