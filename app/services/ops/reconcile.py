"""One reconcile: the database is the truth, Redis only the transport.

Every piece of work that must happen has a row (a `queued` message, a `scheduled` automation
run, a stored status callback, …). Reconcile walks those rows in id order, in batches (one
indexed SELECT per batch, one pipelined Redis round trip to ask which jobs Redis still holds),
and re-enqueues the job of every row whose job is gone. Messages left `sending` by a job
that died are settled without ever sending twice (see outbound.settle_interrupted_send).

It runs at every worker start, periodically from each worker and from the embedded
scheduler, and as `flask --app app reconcile`. A row-backed kind of work is one entry in
RECONCILERS: a function taking the batch size and returning how many rows it acted on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from app.clock import utcnow
from app.extensions import db
from app.jobs.queue import get_queue
from app.jobs.requeue import after_id, batches, requeue_lost, status_is
from app.jobs.specs import JOBS
from app.models import AutomationRun, Message, MessageMedia, StatusCallback
from app.observability.metrics import count_reconcile

log = logging.getLogger(__name__)

BATCH_SIZE = 500
SHARED_LOCK = "reconcile"
# Expires by itself if the reconciling process dies; renewed after each reconciler, so only one
# reconciler running longer than this lets another process start a pass.
SHARED_LOCK_SECONDS = 600


@dataclass(frozen=True)
class Reconciler:
    """One kind of row-backed work: `run(batch_size)` returns how many rows it acted on."""

    name: str
    run: Callable[[int], int]


_QUEUED_MESSAGES = (
    select(Message.id).where(status_is(Message.status, "queued"), after_id(Message.id))
    .order_by(Message.id).limit(bindparam("batch_size"))
)


def requeue_queued_messages(batch_size: int = BATCH_SIZE) -> int:
    return requeue_lost(_QUEUED_MESSAGES, JOBS.send_message, batch_size)


_SENDING_MESSAGES = (
    select(Message.id).where(status_is(Message.status, "sending"), after_id(Message.id),
                             Message.updated_at < bindparam("stale_before"))
    .order_by(Message.id).limit(bindparam("batch_size"))
)


def settle_stuck_sends(batch_size: int = BATCH_SIZE) -> int:
    """Settle `sending` rows older than the job timeout whose job is gone; returns how many."""
    from app.services.messaging.outbound import SENDING_STUCK_AFTER, settle_interrupted_send

    stale_before = utcnow() - SENDING_STUCK_AFTER
    queue = get_queue()
    settled = 0
    for rows in batches(_SENDING_MESSAGES, batch_size, stale_before=stale_before):
        jobs = {JOBS.send_message.id_for(row.id): row.id for row in rows}
        # A job still held (a retry waiting its turn after a timeout) will ask the provider itself.
        for job_id in queue.missing(list(jobs)):
            if settle_interrupted_send(jobs[job_id], stale_before) != "sending":
                settled += 1
    return settled


_SCHEDULED_RUNS = (
    select(AutomationRun.id, AutomationRun.scheduled_for)
    .where(status_is(AutomationRun.status, "scheduled"), after_id(AutomationRun.id))
    .order_by(AutomationRun.id).limit(bindparam("batch_size"))
)


def requeue_scheduled_runs(batch_size: int = BATCH_SIZE) -> int:
    return requeue_lost(_SCHEDULED_RUNS, JOBS.run_automation, batch_size, at=lambda row: row.scheduled_for)


_PENDING_CALLBACKS = (
    select(StatusCallback.id).where(status_is(StatusCallback.state, "pending"), after_id(StatusCallback.id))
    .order_by(StatusCallback.id).limit(bindparam("batch_size"))
)


def requeue_status_callbacks(batch_size: int = BATCH_SIZE) -> int:
    return requeue_lost(_PENDING_CALLBACKS, JOBS.apply_status_callback, batch_size)


def requeue_stripe_events(batch_size: int = BATCH_SIZE) -> int:
    """Stored Stripe events not applied yet whose job is gone (app.services.payments.stripe_events)."""
    from app.services.payments.stripe_events import reconcile_stripe_events

    return reconcile_stripe_events(batch_size)


_PENDING_MEDIA = (
    select(MessageMedia.id).where(status_is(MessageMedia.status, "pending"), after_id(MessageMedia.id))
    .order_by(MessageMedia.id).limit(bindparam("batch_size"))
)


def requeue_media_fetches(batch_size: int = BATCH_SIZE) -> int:
    """Inbound MMS media not fetched yet whose job is gone (app.services.media.inbound)."""
    return requeue_lost(_PENDING_MEDIA, JOBS.fetch_inbound_media, batch_size)


def give_waiting_threads_numbers(batch_size: int = BATCH_SIZE) -> int:
    """Threads waiting for a number whose client's other visit has ended since: they get its
    number now, and their held confirmation (app.services.numbers.waiting)."""
    from app.services.numbers.waiting import assign_waiting_threads

    return assign_waiting_threads(limit=batch_size)


RECONCILERS: list[Reconciler] = [
    Reconciler("messages_queued", requeue_queued_messages),
    Reconciler("messages_sending", settle_stuck_sends),
    Reconciler("automation_runs", requeue_scheduled_runs),
    Reconciler("status_callbacks", requeue_status_callbacks),
    Reconciler("stripe_events", requeue_stripe_events),
    Reconciler("inbound_media", requeue_media_fetches),
    Reconciler("waiting_threads", give_waiting_threads_numbers),
]


@dataclass
class ReconcileReport:
    counts: dict[str, int]
    errors: dict[str, str]
    skipped: bool = False  # another process holds the shared lock

    @property
    def ok(self) -> bool:
        return not self.errors


def reconcile(*, batch_size: int = BATCH_SIZE, shared_lock: bool = False,
              reconcilers: list[Reconciler] | None = None) -> ReconcileReport:
    """Run every reconciler; one failing (Redis away, say) does not stop the others.

    shared_lock: skip when another process is reconciling (N workers starting at once need
    one pass, not N); the lock lives in Redis and expires by itself.
    """
    lock = None
    if shared_lock:
        try:
            lock = get_queue().lock(SHARED_LOCK, SHARED_LOCK_SECONDS)
            if not lock.acquire():
                log.info("reconcile: another process is reconciling; skipped")
                count_reconcile({}, result="skipped")
                return ReconcileReport({}, {}, skipped=True)
        except Exception as exc:  # Redis away: nothing to re-enqueue into anyway
            log.warning("reconcile: queue unreachable (%s)", type(exc).__name__)
            count_reconcile({}, result="failed")
            return ReconcileReport({}, {"queue": type(exc).__name__})
    report = ReconcileReport({}, {})
    try:
        for reconciler in reconcilers if reconcilers is not None else RECONCILERS:
            try:
                report.counts[reconciler.name] = reconciler.run(batch_size)
            except Exception as exc:
                db.session.rollback()
                log.exception("reconcile: %s failed", reconciler.name)
                report.errors[reconciler.name] = f"{type(exc).__name__}: {exc}"[:300]
            if lock is not None and not _renewed(lock):
                lock = None  # another process holds it now: left to that process
    finally:
        if lock is not None:
            try:
                lock.release()  # redis-py releases only its own token
            except Exception:  # expired and taken meanwhile, or Redis away: it expires by itself
                log.warning("reconcile: could not release the shared lock; it expires by itself")
    count_reconcile(report.counts, result="ok" if report.ok else "failed")
    acted = {name: n for name, n in report.counts.items() if n}
    if acted:
        log.info("reconcile: %s", ", ".join(f"{name} {n}" for name, n in acted.items()))
    return report


def _renewed(lock) -> bool:
    """Give the shared lock its full time again; False when it is no longer ours (it expired
    during the last reconciler and another process took it)."""
    try:
        lock.reacquire()
    except Exception as exc:  # redis-py's LockNotOwnedError, or Redis away
        log.warning("reconcile: the shared lock expired during the pass (%s); left to whoever "
                    "holds it now", type(exc).__name__)
        return False
    return True
