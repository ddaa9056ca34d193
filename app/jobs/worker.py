"""The RQ worker: one app, a fresh app context (and DB session) per job."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import time

from flask import Flask
from rq import SimpleWorker, Worker
from rq.scheduler import RQScheduler
from rq.scheduler import run as run_scheduler
from rq.serializers import JSONSerializer
from rq.timeouts import JobTimeoutException

from app.extensions import db
from app.jobs.follow_on import following_on
from app.jobs.queue import get_queue
from app.jobs.specs import ALL_JOBS, QUEUE_NAMES, resolve
from app.observability.logs import job_context

log = logging.getLogger(__name__)

# Run each time a worker starts, and every PERIODIC_TASK_SECONDS from each worker's loop (RQ
# maintenance) and from the embedded scheduler thread: the rows of the job table so marked
# (app.jobs.specs: reconcile at start and periodically, completing bookings, notifications).
# All are idempotent, and reconcile takes a shared lock in Redis, so N workers doing it cost
# one pass; the worker loop needs no Redis-held schedule that could itself be lost.
WORKER_START_TASKS = tuple(spec.path for spec in ALL_JOBS if spec.at_worker_start)
PERIODIC_TASKS = tuple(spec.path for spec in ALL_JOBS if spec.periodic)
PERIODIC_TASK_SECONDS = 300
# A worker without the scheduler tries to take RQ's scheduler locks this often (RQ itself
# tries only at each maintenance step, PERIODIC_TASK_SECONDS), so when the worker holding
# them dies another takes over within about this long. Its idle wait on the queues (BLPOP)
# is cut to the same length so that it wakes up to try; the periodic tasks keep their pace.
SCHEDULER_RETRY_SECONDS = 15
# Work that cannot wait five minutes (a visit gone late): run every MINUTELY_TASK_SECONDS from
# each worker's loop (its heartbeat, at least every SCHEDULER_RETRY_SECONDS) and from the
# embedded scheduler thread. Idempotent like the periodic tasks.
MINUTELY_TASKS = tuple(spec.path for spec in ALL_JOBS if spec.every_minute)
MINUTELY_TASK_SECONDS = 60


def run_tasks(app: Flask, names) -> None:
    """Run named jobs in a fresh app context each; one failing does not stop the rest."""
    for name in names:
        try:
            with app.app_context():
                log.info("task %s", name)
                resolve(name)()
        except Exception:  # a bad run must not take the worker down
            log.exception("task %s failed", name)


def periodic_tasks(app: Flask) -> tuple[str, ...]:
    return tuple(app.config.get("PERIODIC_TASKS", PERIODIC_TASKS))


def minutely_tasks(app: Flask) -> tuple[str, ...]:
    return tuple(app.config.get("MINUTELY_TASKS", MINUTELY_TASKS))


def embedded_schedule(app: Flask, clock=time.monotonic):
    """The embedded scheduler's tick (called every MINUTELY_TASK_SECONDS): the minutely tasks each
    time, the periodic ones when PERIODIC_TASK_SECONDS have passed since they last ran."""
    every = app.config.get("PERIODIC_TASK_SECONDS", PERIODIC_TASK_SECONDS)
    next_periodic = [0.0]

    def tick() -> None:
        if clock() >= next_periodic[0]:
            next_periodic[0] = clock() + every
            run_tasks(app, periodic_tasks(app))
        run_tasks(app, minutely_tasks(app))

    return tick


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask Linux to send `sig` to this process when its parent dies (even by SIGKILL).

    RQ runs the scheduler (and, forking, each job) in a child process: without this, a worker
    killed with SIGKILL leaves that child running, holding the scheduler locks. Elsewhere
    than Linux this does nothing (the locks then expire after 61 s: docs/workers.md).
    """
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %s", ctypes.get_errno())
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), sig)


def _run_scheduler_child(scheduler: RQScheduler) -> None:
    die_with_parent(signal.SIGTERM)  # RQScheduler stops on SIGTERM and releases its locks
    run_scheduler(scheduler)


class AppScheduler(RQScheduler):
    """RQ's scheduler, its process tied to the worker's life (see die_with_parent)."""

    def start(self):
        from rq.scheduler import ForkProcess

        self._status = self.Status.STARTED
        self._connection = None  # as RQ does: a Redis client cannot cross the fork
        self._process = ForkProcess(target=_run_scheduler_child, args=(self,), name="Scheduler")
        self._process.start()
        return self._process


PUBSUB_POLL_SECONDS = 0.5  # how long a worker's teardown may wait for its command-channel thread


class _AppContextMixin:
    flask_app: Flask
    _parent_pid: int

    def subscribe(self):
        """RQ's own, but its command-channel thread polls every PUBSUB_POLL_SECONDS, not 60 s.

        redis-py 8's PubSubWorkerThread.stop() joins the thread, and RQ unsubscribes before it
        stops it: a thread woken by the unsubscribe reply loops once more and waits up to its
        poll time to be subscribed again, so every worker teardown (a shutdown, a burst run)
        could stall 60 s (seen: 60.2 s per burst worker under load)."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=PUBSUB_POLL_SECONDS, daemon=True, exception_handler=self._pubsub_exception_handler)
    _scheduler_takeover = False  # set when the worker runs with the scheduler, not in burst mode
    _next_scheduler_try = 0.0
    _next_minutely = 0.0

    @property
    def dequeue_timeout(self) -> int:
        """RQ waits on the queues for its worker TTL less 15 s (405 s) before looping (heartbeat,
        maintenance check); this worker loops every SCHEDULER_RETRY_SECONDS instead."""
        return min(super().dequeue_timeout, SCHEDULER_RETRY_SECONDS)

    def heartbeat(self, timeout=None, pipeline=None):
        super().heartbeat(timeout, pipeline)
        if pipeline is None:  # the worker's own loop, not a job's bookkeeping
            self._take_over_scheduler()
            self._run_minutely()

    def _run_minutely(self) -> None:
        """The minutely tasks, from the worker's own process, at most every MINUTELY_TASK_SECONDS."""
        if os.getpid() != self._parent_pid or time.monotonic() < self._next_minutely:
            return
        self._next_minutely = time.monotonic() + self.flask_app.config.get("MINUTELY_TASK_SECONDS",
                                                                           MINUTELY_TASK_SECONDS)
        run_tasks(self.flask_app, minutely_tasks(self.flask_app))

    def _take_over_scheduler(self) -> None:
        """Without a running scheduler, try RQ's scheduler locks (every SCHEDULER_RETRY_SECONDS):
        the worker that held them died, its scheduler released them (see die_with_parent) or
        they expired, and this worker starts the scheduler. RQ's own steps, more often."""
        scheduler = self.scheduler
        if not self._scheduler_takeover or scheduler is None or os.getpid() != self._parent_pid:
            return
        if scheduler._process is not None and scheduler._process.is_alive():
            return
        now = time.monotonic()
        if now < self._next_scheduler_try:
            return
        # A second's slack: an idle worker's heartbeats come every SCHEDULER_RETRY_SECONDS
        # (its wait on the queues), and each of them tries; a busy one tries as often.
        self._next_scheduler_try = now + SCHEDULER_RETRY_SECONDS - 1
        if scheduler.acquire_locks(auto_start=True):
            log.info("took over the scheduler of %s", ", ".join(sorted(scheduler.acquired_locks)))

    def _start_scheduler(self, burst=False, logging_level="INFO", date_format=None, log_format=None):
        """RQ's own steps (rq 2.12 Worker._start_scheduler), with AppScheduler."""
        from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT

        self._scheduler_takeover = not burst
        self._next_scheduler_try = time.monotonic() + SCHEDULER_RETRY_SECONDS - 1

        self.scheduler = AppScheduler(
            self.queues, connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format or DEFAULT_LOGGING_DATE_FORMAT, log_format=log_format or DEFAULT_LOGGING_FORMAT,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()

    def perform_job(self, job, queue):
        if os.getpid() != self._parent_pid:
            # A forked work horse dies with its worker, and must not reuse the parent's
            # pooled connections.
            die_with_parent(signal.SIGKILL)
            with self.flask_app.app_context():
                db.engine.dispose(close=False)
        # What the job hands over due now and marked `follow_on` runs here once it has returned.
        with following_on(self.flask_app, self._follow_on_timeout):
            with self.flask_app.app_context(), job_context(job.id):  # its log lines carry the job's id
                log.info("job %s start %s", job.id, job.func_name)
                return super().perform_job(job, queue)

    def _follow_on_timeout(self, call):
        """A follow-on job's own timeout, as RQ enforces a job's (SimpleWorker: SIGALRM)."""
        return self.death_penalty_class(call.spec.timeout, JobTimeoutException, job_id=call.job_id)

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        run_tasks(self.flask_app, periodic_tasks(self.flask_app))


class AppWorker(_AppContextMixin, Worker):
    """Forking worker (RQ's default): a crash in a job cannot take the worker down."""


class AppSimpleWorker(_AppContextMixin, SimpleWorker):
    """Non-forking worker, the default (`worker.py`): no fork and no new connection per job."""


def build_worker(app: Flask, *, forking: bool = False, queue_names=QUEUE_NAMES):
    backend = get_queue()
    cls = AppWorker if forking else AppSimpleWorker
    worker = cls(
        [backend.queue(name) for name in queue_names],
        connection=backend.redis,
        serializer=JSONSerializer,
        maintenance_interval=app.config.get("PERIODIC_TASK_SECONDS", PERIODIC_TASK_SECONDS),
    )
    worker.flask_app = app
    worker._parent_pid = os.getpid()
    return worker


def on_worker_start(app: Flask) -> None:
    """Work that must happen each time a worker starts (re-enqueue what Redis lost)."""
    run_tasks(app, app.config.get("WORKER_START_TASKS", WORKER_START_TASKS))
