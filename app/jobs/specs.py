"""Every background job in one table: its path, queue, job id, retries, timeout and schedule.

A row (`JobSpec`) is all that enqueueing (`app.jobs.queue.enqueue(JOBS.send_message, id)`),
the worker (its queues, start and periodic tasks: app.jobs.worker) and reconcile
(app.services.ops.reconcile) need to know about a job. The path is the dotted name RQ
stores in Redis: the functions stay in `app.jobs`, so jobs stored before a change still run.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from datetime import timedelta
from hashlib import sha256

# A worker takes its queues in this order: Stripe events first (a paid booking's confirmation
# starts there, and each apply is short), then texts, automation runs, and push deliveries
# last: each waits on other people's push services, so they never stand before payments.
QUEUE_NAMES = ("stripe", "default", "automations", "push")
JOB_TIMEOUT = 60  # seconds; a provider call that hangs longer is a failed attempt
# The bound on the tries of every row-backed job (texts, automation runs, Stripe events: see
# app.jobs.tries); the queue's own retries use them up, reconcile's re-enqueues count too.
MAX_TRIES = 6
# A job handed over up to this early counts as due: its row's time was read from one clock, the
# job's check from another (an automation run this early is sent, not made to wait).
EARLY_TOLERANCE = timedelta(seconds=1)

_ID_SAFE = re.compile(r"[A-Za-z0-9_-]{1,100}")


@dataclass(frozen=True)
class RetryPolicy:
    """How a job that raises is retried: `max` more attempts after these waits."""

    max: int = 0
    intervals: tuple[int, ...] = ()

    def wait_for(self, attempt: int) -> int:
        if not self.intervals:
            return 0
        return self.intervals[min(attempt, len(self.intervals) - 1)]


NO_RETRY = RetryPolicy()


@dataclass(frozen=True)
class JobSpec:
    """One job: what RQ runs (`path`), where, under which id, how often it is retried.

    `job_id` is a format over the job's arguments ("send-message-{0}"): one id per row, so
    enqueueing again replaces the job and reconcile can ask whether Redis still holds it.
    None: every enqueue is a job of its own. `periodic` jobs run from each worker's
    maintenance step and the embedded scheduler; `at_worker_start` ones when a worker starts.
    """

    path: str
    queue: str = "default"
    job_id: str | None = None
    retry: RetryPolicy = NO_RETRY
    timeout: int = JOB_TIMEOUT
    periodic: bool = False
    at_worker_start: bool = False
    every_minute: bool = False  # like `periodic`, every MINUTELY_TASK_SECONDS (app.jobs.worker)
    # Handed over due by a job in a worker: run by that worker right after the job (app.jobs.follow_on).
    follow_on: bool = False

    def id_for(self, *args) -> str | None:
        """The job id for these arguments. RQ allows only [A-Za-z0-9_-] in an id: an argument
        with other characters (or too long) goes in as a hash of itself."""
        if self.job_id is None:
            return None
        return self.job_id.format(*(_id_part(arg) for arg in args))


def resolve(func_path: str):
    """The function a job's dotted path names."""
    module, _, name = func_path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _id_part(value) -> str:
    text = str(value)
    return text if _ID_SAFE.fullmatch(text) else f"h{sha256(text.encode()).hexdigest()[:32]}"


class JOBS:
    """The table (functions in app/jobs/__init__.py). Read a row as `JOBS.send_message`."""

    send_message = JobSpec(
        "app.jobs.send_message", job_id="send-message-{0}",
        retry=RetryPolicy(max=MAX_TRIES - 1, intervals=(10, 30, 60, 180, 600)))
    # A stored status callback whose sid was not saved yet: rechecked until it is.
    apply_status_callback = JobSpec(
        "app.jobs.apply_status_callback", job_id="status-callback-{0}",
        retry=RetryPolicy(max=3, intervals=(30, 120, 600)))
    # A run due now that a job creates (a paid booking's confirmation) follows that job in its worker.
    run_automation = JobSpec("app.jobs.run_automation", queue="automations", job_id="automation-run-{0}",
                             follow_on=True)
    fetch_inbound_media = JobSpec(
        "app.jobs.fetch_inbound_media", job_id="fetch-media-{0}",
        retry=RetryPolicy(max=4, intervals=(10, 60, 300, 900)))
    # Stripe's evt_… ids go in as they are; the attempts column bounds the tries either way.
    apply_stripe_event = JobSpec(
        "app.jobs.apply_stripe_event", queue="stripe", job_id="stripe-event-{0}",
        retry=RetryPolicy(max=MAX_TRIES - 1, intervals=(10, 60, 300, 900, 1800)))
    notify_client_text = JobSpec("app.jobs.notify_client_text")
    notify_visit_change = JobSpec("app.jobs.notify_visit_change")
    notify_window_opening = JobSpec("app.jobs.notify_window_opening", job_id="window-opening-{0}")
    # One notification to one person's devices: its own queue and a short timeout (each push
    # service call is bounded by PUSH_TIMEOUT_SECONDS, the whole delivery by PUSH_DELIVERY_SECONDS).
    deliver_notification = JobSpec("app.jobs.deliver_notification", queue="push",
                                   job_id="deliver-notification-{0}", timeout=45)
    # Periodic: idempotent, and reconcile takes a shared lock, so N workers cost one pass.
    # reconcile: re-enqueue every row-backed job Redis lost (also at each worker start).
    reconcile = JobSpec("app.jobs.reconcile", periodic=True, at_worker_start=True)
    complete_due_bookings = JobSpec("app.jobs.complete_due_bookings", periodic=True)
    # Windows opening within ten minutes (their scheduled job may be lost).
    notify_windows_opening_soon = JobSpec("app.jobs.notify_windows_opening_soon", periodic=True)
    # Notification rows whose delivery job was lost.
    reconcile_notifications = JobSpec("app.jobs.reconcile_notifications", periodic=True)
    # Visits not checked in (or out) in time: one owner alert each, decided under the booking's
    # row lock, so N workers scanning each minute still raise it once.
    late_visits = JobSpec("app.jobs.late_visits", every_minute=True)

    # A client's data (erase, retention, inbound photos once stored): the provider's copy of a
    # text or a photo is deleted; a transient failure is retried, then the row says `failed`.
    delete_provider_copy = JobSpec(
        "app.jobs.delete_provider_copy", job_id="provider-deletion-{0}",
        retry=RetryPolicy(max=4, intervals=(30, 120, 600, 1800)))
    # Retention: texts and photos of bookings finished longer ago than the org's period.
    purge_expired_messages = JobSpec("app.jobs.purge_expired_messages", periodic=True)
    # Provider deletions whose job Redis lost.
    resume_provider_deletions = JobSpec("app.jobs.resume_provider_deletions", periodic=True)


ALL_JOBS: tuple[JobSpec, ...] = tuple(spec for spec in vars(JOBS).values() if isinstance(spec, JobSpec))
