"""One door for background work: RQ when REDIS_URL is set, an in-process runner when not.

A job is enqueued by its row of the job table (`enqueue(JOBS.send_message, message_id)`,
app.jobs.specs), which gives its dotted path, queue, id, retries and timeout; it takes
JSON-able ids, so the same call works with RQ's JSON serializer and inline. Jobs enqueued
inside a database transaction that wrote (app.persistence.writes) are handed over only
after it commits: a worker must never pick up a job for a row it cannot see yet, and an
inline job must not run inside its caller's transaction. Inside `held_jobs()` (a webhook that
answers before it hands its jobs over: app.web.after_response) they are collected instead, and
`hand_over` gives them to the backend once the response is sent: RQ's go to Redis from the
process's sender thread (the request's thread does not wait; jobs waiting together share one
round trip), inline ones run there and then.
"""

from __future__ import annotations

import atexit
import calendar
import heapq
import itertools
import logging
import os
import queue as queue_module
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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
from app.observability.logs import current_request_id, job_context, request_context
from app.persistence.sqlite import holds_write_lock
from app.persistence.writes import has_uncommitted_writes

log = logging.getLogger(__name__)

RESULT_TTL = 3600
FAILURE_TTL = 7 * 24 * 3600
EXTENSION_KEY = "pawline_queue"
# A job Redis says is `started` counts as held only this long after its timeout: past it its
# worker is dead (SIGKILL, lost machine) and RQ has not cleaned it up yet.
STARTED_GRACE = 30
OUTBOX_BATCH = 100  # jobs the sender thread hands over in one round trip, at most
# How long a waiter (a process exiting, a closing queue, a test) gives the sender thread to finish:
# far more than a round trip, and bounded so that a Redis that hangs cannot hold an exit forever.
OUTBOX_WAIT = 15
WAITING_JOB_STATUSES = frozenset({"queued", "scheduled", "deferred"})
_AFTER_READ_ONLY = "jobs_after_read_only"  # session.info: inline jobs held until the transaction ends
# The jobs a `held_jobs()` block collects (None outside one): per thread and per request.
_held: ContextVar[list | None] = ContextVar("pawline_held_jobs", default=None)


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

    def enqueue_soon(self, calls: list[JobCall]) -> None:
        self.enqueue_all(calls)  # inline: in the caller's thread (after its response: see `hand_over`)

    def wait_sent(self) -> None:
        """Nothing is ever left to send."""

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
        self._immediate: dict[JobSpec, _ImmediateJob] = {}
        self._outbox: _Outbox | None = None

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
        """One job in one round trip (RQ's own enqueue makes two: the queue set, then the job;
        enqueue_at three): an immediate job is one script, a scheduled one a MULTI/EXEC."""
        if _is_immediate(call):
            return self._immediate_job(call.spec).write(self.redis, call)
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

    def enqueue_soon(self, calls: list[JobCall]) -> None:
        """Hand these jobs to Redis from this process's sender thread: the caller (a request whose
        answer is out) does not wait for Redis, and jobs that wait together go in one round trip."""
        outbox = self._outbox
        if outbox is None or outbox.pid != os.getpid():  # first use in this process (forked, or not)
            outbox = self._outbox = _Outbox(self)
        outbox.put(calls)

    def wait_sent(self) -> None:
        """Return once every job given to `enqueue_soon` so far was handed over (or its failure logged)."""
        if self._outbox is not None and self._outbox.pid == os.getpid():
            self._outbox.wait_sent()

    def _enqueue_into(self, pipe, call: JobCall) -> str:
        """The job's writes queued on `pipe` (executed by the caller); its id."""
        if _is_immediate(call):
            return self._immediate_job(call.spec).write(pipe, call)
        spec, args, at = call
        q = self.queue(spec.queue)
        options = _rq_options(call)
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

    def _immediate_job(self, spec: JobSpec) -> _ImmediateJob:
        immediate = self._immediate.get(spec)
        if immediate is None:
            immediate = self._immediate[spec] = _ImmediateJob(self.queue(spec.queue), spec)
        return immediate

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
        if self._outbox is not None and self._outbox.pid == os.getpid():
            self._outbox.stop()  # after sending what it holds
        self._outbox = None
        if self._redis is not None:
            self._redis.close()
            self._redis, self._queues, self._immediate = None, {}, {}

    def health(self) -> dict:
        try:
            self.redis.ping()
        except Exception as exc:  # any connection failure means "down"
            return {"ok": False, "backend": self.kind, "error": type(exc).__name__}
        return {"ok": True, "backend": self.kind,
                "queued": {name: len(self.queue(name)) for name in QUEUE_NAMES}}


class _ImmediateJob:
    """One spec's immediate jobs written as RQ's `Queue.enqueue` writes them, in one Lua script per
    job, without building an RQ Job each time (together, most of a webhook's enqueue CPU).

    RQ's own enqueue of the spec, captured once from a pipeline that is never executed, gives the
    job hash's fields; the script holds those that are the same for every job of the spec, and each
    job passes the rest: its id, timestamps, data (function and arguments, serialized and compressed
    as RQ does) and description. It writes what RQ writes (the hash, the queue in `rq:queues`, the
    id pushed on the queue), atomically as RQ's MULTI does. Sent with EVAL, not EVALSHA: Redis
    keeps the compiled script, and a Redis that restarted or flushed its scripts needs no reload.
    Workers fetch and run these jobs as any other; a test holds each to what RQ's enqueue makes."""

    PER_JOB = ("created_at", "enqueued_at", "data", "description")

    def __init__(self, queue, spec: JobSpec):
        self.path, self.keys = spec.path, (queue.key, queue.redis_queues_keys)
        with queue.connection.pipeline() as pipe:
            pipe.multi()
            queue.enqueue(spec.path, pipeline=pipe, job_id="pawline-template", **_spec_options(spec))
            fields: dict = {}
            for command, *arguments in (args for args, _ in pipe.command_stack):
                if command == "HSET":  # its status, then the whole hash
                    fields.update(zip(arguments[1::2], arguments[2::2], strict=True))
            pipe.reset()
        for name in self.PER_JOB:
            fields.pop(name)
        encode = queue.connection.get_encoder().encode  # the bytes redis-py would have sent
        same_for_all = b", ".join(_lua_string(encode(name)) + b", " + _lua_string(encode(value))
                                  for name, value in fields.items())
        self.script = (b"redis.call('HSET', KEYS[1], 'created_at', ARGV[2], 'enqueued_at', ARGV[2], "
                       b"'data', ARGV[3], 'description', ARGV[4], " + same_for_all + b")\n"
                       b"redis.call('SADD', KEYS[3], KEYS[2])\n"
                       b"return redis.call('RPUSH', KEYS[2], ARGV[1])")

    def write(self, target, call: JobCall) -> str:
        """The job's script on `target` (a Redis client: sent now; a pipeline: with it); its id."""
        from rq.job import Job
        from rq.serializers import JSONSerializer
        from rq.utils import now, utcformat

        job_id = call.job_id or str(uuid.uuid4())  # RQ's own kind of id when the spec names none
        data = zlib.compress(JSONSerializer.dumps((self.path, None, call.args, {})))
        target.eval(self.script, 3, Job.key_for(job_id), *self.keys,
                    job_id, utcformat(now()), data, _described(call))
        return job_id


def _lua_string(value: bytes) -> bytes:
    """A Lua string literal of any bytes (decimal escapes)."""
    return b'"' + b"".join(b"\\%d" % byte for byte in value) + b'"'


def _is_immediate(call: JobCall) -> bool:
    return call.at is None or call.at <= utcnow()


class _Outbox(queue_module.Queue):
    """Jobs waiting for one process's sender thread (a daemon), with the request that made each.

    The thread takes everything waiting at once (up to OUTBOX_BATCH calls) and hands it over in one
    round trip. A process that dies first loses them to reconcile, as one that died between its
    commit and its enqueue would; one that exits normally sends them first (atexit)."""

    def __init__(self, backend: RQQueue):
        super().__init__()
        self.backend, self.pid = backend, os.getpid()
        threading.Thread(target=self._send_forever, name="pawline-job-sender", daemon=True).start()
        atexit.register(self.wait_sent)

    def put(self, calls: list[JobCall]) -> None:  # type: ignore[override]
        super().put((calls, current_request_id.get()))

    def wait_sent(self, seconds: float = OUTBOX_WAIT) -> bool:
        """Whether everything put so far was handed over (or its failure logged) within `seconds`."""
        with self.all_tasks_done:
            return self.all_tasks_done.wait_for(lambda: not self.unfinished_tasks, timeout=seconds)

    def stop(self) -> None:
        self.wait_sent()
        atexit.unregister(self.wait_sent)
        super().put(None)  # the thread's last item

    def _send_forever(self) -> None:
        while True:
            batch = [self.get()]
            while len(batch) < OUTBOX_BATCH:
                try:
                    batch.append(self.get_nowait())
                except queue_module.Empty:
                    break
            waiting = [item for item in batch if item is not None]
            try:
                if waiting:
                    self.backend.enqueue_all([call for calls, _ in waiting for call in calls])
            except Exception:  # Redis unreachable: reconcile enqueues the stored rows again
                for calls, request_id in waiting:
                    with request_context(request_id):
                        log.exception("could not enqueue %s", ", ".join(_described(call) for call in calls))
            finally:
                for _ in batch:
                    self.task_done()
            if len(waiting) < len(batch):  # stopped
                return


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
    if not db.session.registry.has():  # no session in this context: no transaction to wait for
        _dispatch([call])
        return
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


@contextmanager
def held_jobs() -> Iterator[list]:
    """Jobs ready inside the block (committed, or enqueued outside a write) are collected in the
    list it gives, for the caller to `hand_over` later. If the block raises, they go at once."""
    held: list = []
    token = _held.set(held)
    try:
        yield held
    except BaseException:
        _held.reset(token)
        _dispatch(held)
        raise
    _held.reset(token)


def hand_over(held: list, request_id: str | None = None) -> None:
    """Hand over what a `held_jobs()` block collected, without waiting for Redis (`enqueue_soon`);
    log lines carry the request that made them."""
    with request_context(request_id):
        _give(held, "enqueue_soon")


def _dispatch(calls: list) -> None:
    """Hand jobs over now (or to the `held_jobs()` block around this)."""
    held = _held.get()
    if held is not None:
        held.extend(calls)
        return
    _give(calls, "enqueue_all")


def _give(calls: list, how: str) -> None:
    """The jobs to their backends, all of one backend at once (RQ: one Redis round trip); in a
    worker's job, its follow-ons are kept to run after it (app.jobs.follow_on)."""
    by_backend: dict[int, tuple] = {}
    for backend, call in keep_follow_ons(calls):
        by_backend.setdefault(id(backend), (backend, []))[1].append(call)
    for backend, jobs in by_backend.values():
        try:
            getattr(backend, how)(jobs)
        except Exception:
            # The database row is the truth; reconcile re-enqueues what is lost here.
            log.exception("could not enqueue %s", ", ".join(_described(call) for call in jobs))


def _described(call: JobCall) -> str:
    return f"{call.spec.path}{call.args!r}"


def _rq_options(call: JobCall) -> dict:
    return {**_spec_options(call.spec), "job_id": call.job_id, "description": _described(call)}


def _spec_options(spec: JobSpec) -> dict:
    """RQ's options for every job of `spec`."""
    from rq import Retry

    options = {"job_timeout": spec.timeout, "result_ttl": RESULT_TTL, "failure_ttl": FAILURE_TTL}
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
