"""One door for background work: RQ when REDIS_URL is set, an in-process runner when not.

A job is enqueued by its row of the job table (`enqueue(JOBS.send_message, message_id)`,
app.jobs.specs), which gives its dotted path, queue, id, retries and timeout; it takes
JSON-able ids, so the same call works with RQ's JSON serializer and inline. Jobs enqueued
inside a database transaction that wrote (app.persistence.writes) are handed over only
after it commits: a worker must never pick up a job for a row it cannot see yet, and an
inline job must not run inside its caller's transaction.
"""

from __future__ import annotations

import calendar
import heapq
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.extensions import db
from app.jobs.follow_on import keep_follow_ons
from app.jobs.specs import JOB_TIMEOUT, QUEUE_NAMES, JobSpec, resolve
from app.observability.logs import job_context
from app.persistence.sqlite import holds_write_lock
from app.persistence.writes import has_uncommitted_writes

log = logging.getLogger(__name__)

RESULT_TTL = 3600
FAILURE_TTL = 7 * 24 * 3600
EXTENSION_KEY = "pawline_queue"
# A job Redis says is `started` counts as held only this long after its timeout: past it its
# worker is dead (SIGKILL, lost machine) and RQ has not cleaned it up yet.
STARTED_GRACE = 30
WAITING_JOB_STATUSES = frozenset({"queued", "scheduled", "deferred"})
_AFTER_READ_ONLY = "jobs_after_read_only"  # session.info: inline jobs held until the transaction ends


class JobCall(NamedTuple):
    """One job to hand over: its row of the job table, its arguments, when (None: now)."""

    spec: JobSpec
    args: tuple
    at: datetime | None = None

    @property
    def job_id(self) -> str | None:
        return self.spec.id_for(*self.args)


@dataclass(order=True)
class _Pending:
    at: datetime
    seq: int
    job_id: str = field(compare=False)
    spec: JobSpec = field(compare=False)
    args: tuple = field(compare=False)
    attempt: int = field(compare=False, default=0)


class InProcessLock:
    """RQQueue.lock's stand-in for the in-process queue: always free, always its holder's."""

    def acquire(self) -> bool:
        return True

    def reacquire(self) -> bool:
        return True

    def release(self) -> None:
        """Nothing to release."""


class InProcessQueue:
    """The embedded default: immediate jobs run inline, later ones from a heap.

    The heap is fired by `run_due()`: from a daemon thread while the dev server
    runs (EMBEDDED_SCHEDULER), or by tests with a frozen clock.
    """

    kind = "in-process"

    def __init__(self, app: Flask):
        self.app = app
        self._heap: list[_Pending] = []
        self._by_id: dict[str, _Pending] = {}
        self._seq = itertools.count()
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None

    def enqueue(self, call: JobCall) -> str:
        job_id = call.job_id or f"inline-{next(self._seq)}"
        if call.at is not None and call.at > utcnow():
            self._schedule(_Pending(call.at, next(self._seq), job_id, call.spec, call.args))
        else:
            self._run(_Pending(utcnow(), next(self._seq), job_id, call.spec, call.args))
        return job_id

    def enqueue_all(self, calls: list[JobCall]) -> None:
        _enqueue_each(self, calls)  # inline jobs run one after another anyway

    def _schedule(self, item: _Pending) -> None:
        with self._lock:
            old = self._by_id.pop(item.job_id, None)
            if old is not None:
                self._heap.remove(old)
                heapq.heapify(self._heap)
            self._by_id[item.job_id] = item
            heapq.heappush(self._heap, item)

    def _run(self, item: _Pending) -> None:
        with job_context(item.job_id):  # its log lines carry the job's id
            self._run_in_context(item)

    def _run_in_context(self, item: _Pending) -> None:
        log.info("job %s start %s%r", item.job_id, item.spec.path, item.args)
        try:
            with self.app.app_context():
                resolve(item.spec.path)(*item.args)
        except Exception:
            retry = item.spec.retry
            if item.attempt < retry.max:
                wait = retry.wait_for(item.attempt)
                log.warning("job %s failed; retry %d in %ss", item.job_id, item.attempt + 1,
                            wait, exc_info=True)
                item.attempt += 1
                item.at = utcnow() + timedelta(seconds=wait)
                item.seq = next(self._seq)
                self._schedule(item)
            else:
                log.exception("job %s failed for good", item.job_id)
        else:
            log.info("job %s done", item.job_id)

    def run_due(self, now: datetime | None = None) -> int:
        """Run every scheduled job whose time has come; returns how many ran."""
        ran = 0
        while True:
            with self._lock:
                if not self._heap or self._heap[0].at > (now or utcnow()):
                    return ran
                item = heapq.heappop(self._heap)
                self._by_id.pop(item.job_id, None)
            self._run(item)
            ran += 1

    def holds(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._by_id

    def missing(self, job_ids: list[str]) -> set[str]:
        """The ids among `job_ids` this queue does not hold."""
        with self._lock:
            return {job_id for job_id in job_ids if job_id not in self._by_id}

    def lock(self, name: str, seconds: int) -> InProcessLock:
        """One process only: nothing else can hold the lock (the shape of redis-py's Lock)."""
        return InProcessLock()

    def cancel(self, job_id: str) -> None:
        with self._lock:
            item = self._by_id.pop(job_id, None)
            if item is not None:
                self._heap.remove(item)
                heapq.heapify(self._heap)

    def scheduled(self) -> list[tuple[datetime, str, str]]:
        with self._lock:
            return sorted((p.at, p.job_id, p.spec.path) for p in self._heap)

    def health(self) -> dict:
        return {"ok": True, "backend": self.kind, "scheduled": len(self._heap)}

    def close(self) -> None:
        """Nothing to release: the heap dies with the process."""

    def start_scheduler_thread(self, tick_seconds: float = 1.0, periodic=None,
                               periodic_seconds: float = 300) -> None:
        """Fire due jobs every tick; call `periodic()` soon after start and every periodic_seconds."""
        if self._thread is not None:
            return

        def loop() -> None:
            stop = threading.Event()
            # Not at once: `flask db upgrade` and other short commands build the app
            # too; the periodic work belongs to the long-running server.
            next_periodic = time.monotonic() + min(periodic_seconds, 15)
            while not stop.wait(tick_seconds):
                if periodic is not None and time.monotonic() >= next_periodic:
                    next_periodic = time.monotonic() + periodic_seconds
                    periodic()
                try:
                    self.run_due()
                except Exception:  # the loop must outlive one bad job
                    log.exception("embedded scheduler tick failed")

        self._thread = threading.Thread(target=loop, name="pawline-scheduler", daemon=True)
        self._thread.start()


class RQQueue:
    """Production: RQ on Redis, JSON serializer, ids and job defaults set here once."""

    kind = "rq"

    def __init__(self, app: Flask, redis_url: str):
        self.app = app
        self.redis_url = redis_url
        self._redis = None
        self._queues: dict = {}

    @property
    def redis(self):
        if self._redis is None:  # connect lazily: never at import or app build time
            from redis import Redis

            self._redis = Redis.from_url(self.redis_url, socket_timeout=5, socket_connect_timeout=3)
        return self._redis

    def queue(self, name: str):
        from rq import Queue
        from rq.serializers import JSONSerializer

        if name not in self._queues:
            self._queues[name] = Queue(name, connection=self.redis, serializer=JSONSerializer,
                                       default_timeout=JOB_TIMEOUT)
        return self._queues[name]

    def enqueue(self, call: JobCall) -> str:
        """One job in one MULTI/EXEC round trip (RQ's own enqueue makes two: the queue set, then
        the job; enqueue_at three)."""
        with self.redis.pipeline() as pipe:
            pipe.multi()
            job_id = self._enqueue_into(pipe, call)
            pipe.execute()
        return job_id

    def enqueue_all(self, calls: list[JobCall]) -> None:
        """The jobs of one transaction in one Redis pipeline: one MULTI/EXEC round trip (instead
        of two per job), and every job with its queue or registry entry at once."""
        if len(calls) == 1:
            self.enqueue(calls[0])
            return
        with self.redis.pipeline() as pipe:
            pipe.multi()  # before any command: RQ's enqueue calls multi() on a pipeline not in one
            try:
                for call in calls:
                    self._enqueue_into(pipe, call)
            except Exception:
                built = False  # a job that cannot be built: drop the batch unsent (below)
            else:
                built = True
                pipe.execute()
        if not built:  # one by one, so only the broken job is lost (and logged), as before
            _enqueue_each(self, calls)

    def _enqueue_into(self, pipe, call: JobCall) -> str:
        """The job's writes queued on `pipe` (executed by the caller); its id."""
        spec, args, at = call
        options = _rq_options(call)
        q = self.queue(spec.queue)
        if at is None or at <= utcnow():
            return q.enqueue(spec.path, *args, pipeline=pipe, **options).id
        # RQ's enqueue_at(..., pipeline=pipe) would write the scheduled registry entry at once,
        # outside the pipeline (a round trip more, and for a moment the registry would name a
        # job not saved yet): its steps here, all on the pipeline. A test holds the result to
        # what enqueue_at makes.
        from rq.job import JobStatus

        options["timeout"] = options.pop("job_timeout")  # create_job's name for it (enqueue_at's parse_args)
        job = q.create_job(spec.path, args=args, status=JobStatus.SCHEDULED, **options)
        pipe.sadd(q.redis_queues_keys, q.key)
        job.set_status(JobStatus.SCHEDULED, pipeline=pipe)
        job.save(pipeline=pipe)
        job.cleanup(ttl=job.ttl, pipeline=pipe)
        pipe.zadd(q.scheduled_job_registry.key, {job.id: calendar.timegm(at.utctimetuple())})
        return job.id

    def fetch(self, job_id: str):
        from rq.exceptions import NoSuchJobError
        from rq.job import Job
        from rq.serializers import JSONSerializer

        try:
            return Job.fetch(job_id, connection=self.redis, serializer=JSONSerializer)
        except NoSuchJobError:
            return None

    def holds(self, job_id: str) -> bool:
        """True when Redis still has the job waiting (queued, scheduled, deferred) or running."""
        return not self.missing([job_id])

    def missing(self, job_ids: list[str]) -> set[str]:
        """The ids among `job_ids` Redis does not hold: one pipelined round trip for them all.

        A `started` job is held while it may still be running (its timeout plus a grace);
        after that its worker died without RQ noticing yet, and the job is as good as lost.
        """
        from rq.job import Job
        from rq.utils import utcparse

        if not job_ids:
            return set()
        with self.redis.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.hmget(Job.key_for(job_id), "status", "started_at", "timeout")
            answers = pipe.execute()
        lost = set()
        now = utcnow()
        for job_id, (status, started_at, timeout) in zip(job_ids, answers, strict=True):
            status = status.decode() if status else None
            if status in WAITING_JOB_STATUSES:
                continue
            if status == "started" and started_at and utcparse(started_at.decode()) > now - timedelta(
                    seconds=int(timeout or JOB_TIMEOUT) + STARTED_GRACE):
                continue
            lost.add(job_id)
        return lost

    def lock(self, name: str, seconds: int):
        """A lock shared by every process on this Redis (redis-py's Lock: released only by its
        holder, expires by itself after `seconds`); its `acquire()` does not wait."""
        return self.redis.lock(f"pawline:lock:{name}", timeout=seconds, blocking=False)

    def cancel(self, job_id: str) -> None:
        """Tidy only, best effort: the job re-checks its row anyway, and Redis being away must
        never fail the database work (cancel, reschedule) that asked for it."""
        try:
            job = self.fetch(job_id)
            if job is not None:
                job.delete()
        except Exception as exc:  # Redis down or flaky: the stale job finds its row changed
            log.warning("could not cancel job %s (%s); it will find its row changed", job_id,
                        type(exc).__name__)

    def run_due(self, now: datetime | None = None) -> int:
        return 0  # RQ's scheduler (worker.py) fires scheduled jobs

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()
            self._redis, self._queues = None, {}

    def health(self) -> dict:
        try:
            self.redis.ping()
        except Exception as exc:  # any connection failure means "down"
            return {"ok": False, "backend": self.kind, "error": type(exc).__name__}
        return {"ok": True, "backend": self.kind,
                "queued": {name: len(self.queue(name)) for name in QUEUE_NAMES}}


def init_queue(app: Flask) -> None:
    backend = RQQueue(app, app.config["REDIS_URL"]) if app.config["REDIS_URL"] else InProcessQueue(app)
    app.extensions[EXTENSION_KEY] = backend


def get_queue() -> InProcessQueue | RQQueue:
    return current_app.extensions[EXTENSION_KEY]


def enqueue(spec: JobSpec, *args, at: datetime | None = None) -> None:
    """Hand the job of `spec` with these arguments over once the current transaction commits (at
    once if it has not written); `at`: not before then."""
    backend = get_queue()
    call = (backend, JobCall(spec, args, at))
    session = db.session()
    if has_uncommitted_writes(session):
        session.info.setdefault("pending_jobs", []).append(call)
    elif backend.kind == InProcessQueue.kind and holds_write_lock(session):
        # A read-only transaction on SQLite still holds the write lock (BEGIN IMMEDIATE): the inline
        # job, in a session of its own, would wait for it. It runs when the transaction ends, however
        # it ends (it does not depend on this transaction: it had written nothing).
        session.info.setdefault(_AFTER_READ_ONLY, []).append(call)
    else:
        _dispatch([call])


def _dispatch(calls: list) -> None:
    """Hand jobs over, all of one backend at once (RQ: one Redis round trip); in a worker's job, its
    follow-ons are kept to run after it (app.jobs.follow_on)."""
    by_backend: dict[int, tuple] = {}
    for backend, call in keep_follow_ons(calls):
        by_backend.setdefault(id(backend), (backend, []))[1].append(call)
    for backend, jobs in by_backend.values():
        try:
            backend.enqueue_all(jobs)
        except Exception:
            # The database row is the truth; reconcile re-enqueues what is lost here.
            log.exception("could not enqueue %s", ", ".join(_described(call) for call in jobs))


def _described(call: JobCall) -> str:
    return f"{call.spec.path}{call.args!r}"


def _rq_options(call: JobCall) -> dict:
    from rq import Retry

    spec = call.spec
    options = {
        "job_id": call.job_id,
        "job_timeout": spec.timeout,
        "result_ttl": RESULT_TTL,
        "failure_ttl": FAILURE_TTL,
        "description": _described(call),
    }
    if spec.retry.max:
        options["retry"] = Retry(max=spec.retry.max, interval=list(spec.retry.intervals) or 0)
    return options


def _enqueue_each(backend, calls: list[JobCall]) -> None:
    for call in calls:
        try:
            backend.enqueue(call)
        except Exception:
            log.exception("could not enqueue %s", _described(call))


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    calls = session.info.pop("pending_jobs", None)
    if calls:
        _dispatch(calls)


@event.listens_for(Session, "after_transaction_end")
def _dispatch_after_read_only(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: its connection is released
        calls = session.info.pop(_AFTER_READ_ONLY, None)
        if calls:
            _dispatch(calls)


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # only the outermost rollback drops jobs
        dropped = session.info.pop("pending_jobs", None)
        if dropped:
            log.info("dropped %d job(s) of a rolled-back transaction", len(dropped))
