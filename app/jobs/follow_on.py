"""Follow-on jobs: what a worker's job hands over due now, that worker runs right after the job.

A paid event's apply job creates the booking's confirmation run, due at once. Handed to Redis,
it would wait for every other apply (workers take the `stripe` queue first) and cost a dequeue
of its own. Instead a job whose JobSpec says `follow_on`, handed over (once its transaction
has committed: app.jobs.queue) by a job running in a worker and due within EARLY_TOLERANCE, is
kept, and the worker runs it once that job has returned, in an app context (a session) of its
own. Each is isolated: one that raises is logged and handed to Redis as usual, where its retry
policy applies. At most MAX_FOLLOW_ONS per job; the rest go to Redis. Outside a worker's job
(web requests, the embedded queue, scripts, the worker's own periodic tasks) nothing is kept.

Nothing is lost if the worker dies before running one: its row is committed and due, and Redis
does not hold its job id, so reconcile re-enqueues it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar

from flask import Flask

from app.clock import utcnow
from app.jobs.specs import EARLY_TOLERANCE, resolve
from app.observability.logs import job_context

log = logging.getLogger(__name__)

# A job confirming one booking makes one; the bound keeps a job that makes many from holding
# its worker (and the other queues) for long: past it, they wait in Redis like any job.
MAX_FOLLOW_ONS = 10

# The follow-ons kept by the worker's current job, as (backend, JobCall); None outside a job.
_kept: ContextVar[list | None] = ContextVar("pawline_follow_ons", default=None)

Guard = Callable[[object], AbstractContextManager]


def keep_follow_ons(calls: list) -> list:
    """`calls` (backend, JobCall) less those kept to run after the worker's current job."""
    kept = _kept.get()
    if kept is None:
        return calls
    due_by = utcnow() + EARLY_TOLERANCE
    handed = []
    for backend, call in calls:
        if call.spec.follow_on and (call.at is None or call.at <= due_by) and len(kept) < MAX_FOLLOW_ONS:
            kept.append((backend, call))
        else:
            handed.append((backend, call))
    return handed


@contextmanager
def following_on(app: Flask, guard: Guard = lambda call: nullcontext()) -> Iterator[None]:
    """Around a job in a worker: keep its follow-ons, run them once it has returned.

    `guard(call)` wraps each run (the worker's timeout). Follow-ons that theirs hand over are
    kept and run too, within the same bound. Those not started when the worker is stopped (the
    job, or a follow-on, interrupted) go to Redis."""
    kept: list = []
    started = 0
    token = _kept.set(kept)
    try:
        yield
        while started < len(kept):
            backend, call = kept[started]
            started += 1
            _run(app, backend, call, guard)
    except BaseException:
        for backend, call in kept[started:]:
            _hand_over(backend, call)
        raise
    finally:
        _kept.reset(token)


def _run(app: Flask, backend, call, guard: Guard) -> None:
    with job_context(call.job_id):  # its log lines carry its own job id
        log.info("job %s start %s (follow-on)", call.job_id, call.spec.path)
        try:
            with app.app_context(), guard(call):
                resolve(call.spec.path)(*call.args)
        except Exception:
            log.exception("follow-on job %s failed; handed to the queue", call.job_id)
            _hand_over(backend, call)
        else:
            log.info("job %s done", call.job_id)


def _hand_over(backend, call) -> None:
    try:
        backend.enqueue(call)
    except Exception:  # its row is due and its job unheld: reconcile re-enqueues it
        log.exception("could not enqueue follow-on job %s", call.job_id)
