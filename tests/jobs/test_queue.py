"""The queue: inline without Redis (scheduled jobs fire on time), RQ with it."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.jobs.queue import JobCall, enqueue, get_queue
from app.jobs.specs import JOBS, JobSpec, RetryPolicy
from app.models import EventLog, Org

CALLS: list = []


RECORD_EVENT = JobSpec("tests.jobs.test_queue.record_event")
SEND_RETRY = JOBS.send_message.retry


def record_event(org_id: int, kind: str) -> None:
    """A job for these tests: writes an audit row so the effect is in the database."""
    db.session.add(EventLog(org_id=org_id, kind=kind, payload={}))
    db.session.commit()


def flaky_job(key: str) -> None:
    CALLS.append(key)
    if CALLS.count(key) < 3:
        raise RuntimeError("provider hiccup")


def _record_as(job_id: str, **spec) -> JobSpec:
    """record_event's row in a test's own job table: a fixed id, on `queue`, with `retry`."""
    return JobSpec("tests.jobs.test_queue.record_event", job_id=job_id, **spec)


def _count(kind):
    db.session.rollback()  # end our read snapshot: the job wrote from its own session
    return db.session.scalar(select(func.count()).select_from(EventLog).where(EventLog.kind == kind))


def test_inline_job_runs_only_after_the_transaction_commits(app, make):
    org = make.default_org
    db.session.add(EventLog(org_id=org.id, kind="pending.write", payload={}))
    enqueue(RECORD_EVENT, org.id, "job.ran")
    # Look from outside the open transaction (an autocommit read: on SQLite a transaction would
    # wait for the caller's write lock).
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as other:
        seen = other.scalar(select(func.count()).select_from(EventLog).where(EventLog.kind == "job.ran"))
    assert seen == 0  # not yet: the caller has not committed
    db.session.commit()
    assert _count("job.ran") == 1


def test_an_inline_job_enqueued_after_a_read_runs_when_the_read_ends(app_factory, make):
    """The embedded default begins every transaction IMMEDIATE on SQLite: a read (here of an
    expired object after a commit, as in "commit, then enqueue(JOBS.x, row.id)") holds the write
    lock. The inline job, in a session of its own, runs once that transaction ends, and does not
    wait for the lock the busy timeout long and fail."""
    org_id = make.default_org.id
    db.session.commit()
    embedded = app_factory()
    with embedded.app_context():
        org = db.session.get(Org, org_id)  # a read: this transaction is open (on SQLite, it holds the lock)
        started = time.monotonic()
        enqueue(RECORD_EVENT, org.id, "job.ran")
        db.session.commit()
        assert time.monotonic() - started < 5  # it ran, it did not wait out the busy timeout
        assert db.session.scalar(select(func.count()).select_from(EventLog)
                                 .where(EventLog.kind == "job.ran")) == 1
        db.session.remove()


def test_inline_job_is_dropped_when_the_transaction_rolls_back(app, make):
    org = make.default_org
    db.session.add(EventLog(org_id=org.id, kind="pending.write", payload={}))
    enqueue(RECORD_EVENT, org.id, "job.ran")
    db.session.rollback()
    db.session.commit()
    assert _count("job.ran") == 0


def test_scheduled_inline_job_fires_when_its_time_comes(app, make, clock):
    org = make.default_org
    enqueue(_record_as("later-1"), org.id, "later", at=clock.now + timedelta(hours=1))
    queue = get_queue()
    assert queue.holds("later-1")
    assert queue.run_due() == 0
    clock.advance(minutes=59)
    assert queue.run_due() == 0 and _count("later") == 0
    clock.advance(minutes=1)
    assert queue.run_due() == 1
    assert _count("later") == 1
    assert not queue.holds("later-1")


def test_rescheduling_the_same_job_id_keeps_one_job(app, make, clock):
    org = make.default_org
    for hours in (1, 2):
        enqueue(_record_as("same-id"), org.id, "once", at=clock.now + timedelta(hours=hours))
    clock.advance(hours=3)
    assert get_queue().run_due() == 1
    assert _count("once") == 1


def test_inline_retry_uses_backoff(app, clock):
    CALLS.clear()
    enqueue(JobSpec("tests.jobs.test_queue.flaky_job", retry=RetryPolicy(max=3, intervals=(10, 30))), "k")
    assert CALLS == ["k"]
    queue = get_queue()
    clock.advance(seconds=9)
    assert queue.run_due() == 0
    clock.advance(seconds=1)
    assert queue.run_due() == 1 and CALLS == ["k", "k"]
    clock.advance(seconds=30)
    assert queue.run_due() == 1 and CALLS == ["k", "k", "k"]
    clock.advance(seconds=300)
    assert queue.run_due() == 0  # succeeded on the third try: nothing left


def test_rq_job_runs_in_a_worker_with_the_json_serializer(redis_app):
    from app.jobs.worker import build_worker
    from app.models import Org

    org = Org(name="Q")
    db.session.add(org)
    db.session.commit()
    enqueue(_record_as("rq-test-1"), org.id, "rq.ran")
    backend = get_queue()
    assert backend.holds("rq-test-1")
    assert _count("rq.ran") == 0
    build_worker(redis_app, forking=False).work(burst=True)
    db.session.expire_all()
    assert _count("rq.ran") == 1
    assert backend.fetch("rq-test-1").get_status() == "finished"


def test_rq_scheduled_job_is_held_in_the_scheduled_registry(redis_app, clock):
    from datetime import UTC, datetime

    from app.models import Org

    org = Org(name="Q")
    db.session.add(org)
    db.session.commit()
    clock.set(datetime.now(UTC))
    enqueue(_record_as("rq-later-1", queue="automations"), org.id, "rq.later", at=clock.now + timedelta(hours=5))
    job = get_queue().fetch("rq-later-1")
    assert job.get_status() == "scheduled"
    assert get_queue().holds("rq-later-1")
    get_queue().cancel("rq-later-1")
    assert not get_queue().holds("rq-later-1")


def test_rq_jobs_of_one_transaction_go_over_together_and_unchanged(redis_app, clock, caplog):
    """After commit, the transaction's jobs reach Redis in one pipeline: each as a single
    enqueue makes it (id, status, retry, TTLs), immediate and scheduled alike."""
    from datetime import UTC, datetime

    from app.jobs.queue import FAILURE_TTL, RESULT_TTL
    from app.models import Org

    org = Org(name="Q")
    db.session.add(org)
    db.session.flush()  # a write: the jobs below wait for the commit
    clock.set(datetime.now(UTC))
    enqueue(_record_as("batch-now", retry=SEND_RETRY), org.id, "now")
    enqueue(_record_as("batch-later", queue="automations"), org.id, "later", at=clock.now + timedelta(hours=5))
    enqueue(_record_as("batch-later-2", queue="automations"), org.id, "later2", at=clock.now + timedelta(hours=6))
    backend = get_queue()
    assert not backend.holds("batch-now")  # nothing before the commit
    db.session.commit()
    now_job, later_job = backend.fetch("batch-now"), backend.fetch("batch-later")
    assert now_job.get_status() == "queued" and now_job.origin == "default"
    assert now_job.retries_left == SEND_RETRY.max
    assert now_job.retry_intervals == list(SEND_RETRY.intervals)
    assert (now_job.result_ttl, now_job.failure_ttl, now_job.timeout) == (RESULT_TTL, FAILURE_TTL, 60)
    assert later_job.get_status() == "scheduled" and later_job.origin == "automations"
    assert backend.queue("default").job_ids == ["batch-now"]
    registry = backend.queue("automations").scheduled_job_registry
    assert sorted(registry.get_job_ids()) == ["batch-later", "batch-later-2"]
    assert int(registry.get_scheduled_time("batch-later").timestamp()) == int(
        (clock.now + timedelta(hours=5)).timestamp())
    assert "could not enqueue" not in caplog.text


def test_rq_a_job_that_cannot_be_built_loses_only_itself(redis_app, caplog):
    from app.models import Org

    org = Org(name="Q")
    db.session.add(org)
    db.session.flush()
    enqueue(_record_as("good-1"), org.id, "ok")
    enqueue(_record_as("bad-1"), object(), "broken")  # not JSON
    db.session.commit()
    backend = get_queue()
    assert backend.holds("good-1")
    assert not backend.holds("bad-1")
    assert "could not enqueue tests.jobs.test_queue.record_event" in caplog.text


def test_rq_a_batched_scheduled_job_is_what_enqueue_at_makes(redis_app, clock):
    """The batch writes a scheduled job's steps itself (RQ would write its registry entry outside
    the pipeline): the job, its TTL and its registry entry must be enqueue_at's."""
    from datetime import UTC, datetime

    from app.jobs.queue import _rq_options

    clock.set(datetime.now(UTC))
    backend, at = get_queue(), clock.now + timedelta(hours=5)
    same = dict(queue="automations", retry=SEND_RETRY)
    single = JobCall(_record_as("single", **same), (1, "x"), at)
    backend.queue("automations").enqueue_at(at, single.spec.path, *single.args, **_rq_options(single))  # RQ's own
    backend.enqueue_all([
        JobCall(_record_as("batched", **same), (1, "x"), at),
        JobCall(_record_as("now"), (1, "y")),
    ])
    redis = backend.redis
    single, batched = redis.hgetall("rq:job:single"), redis.hgetall("rq:job:batched")
    assert single.pop(b"created_at") and batched.pop(b"created_at")  # the moment each was made
    assert batched == single
    assert redis.ttl("rq:job:batched") == redis.ttl("rq:job:single")
    registry = backend.queue("automations").scheduled_job_registry
    assert registry.get_scheduled_time("batched") == registry.get_scheduled_time("single")
    assert backend.fetch("batched").get_status() == "scheduled"
    assert set(redis.smembers("rq:queues")) == {b"rq:queue:automations", b"rq:queue:default"}
    assert backend.queue("default").job_ids == ["now"]


def test_rq_one_job_goes_over_in_one_round_trip_as_rq_would_make_it(redis_app, monkeypatch):
    """A lone job (the common case: a webhook's apply job, a send) is one MULTI/EXEC, not RQ's two
    round trips (the queue set, then the job), and the job is the one RQ's enqueue makes."""
    import redis.connection

    from app.jobs.queue import _rq_options

    backend = get_queue()
    call = JobCall(_record_as("lone", retry=SEND_RETRY), (1, "x"))
    backend.queue("default").enqueue(call.spec.path, *call.args, **dict(_rq_options(call), job_id="reference"))
    sent = []
    real_send = redis.connection.AbstractConnection.send_packed_command

    def counting_send(self, command, check_health=True):
        sent.append(command)
        return real_send(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting_send)
    assert backend.enqueue(call) == "lone"
    monkeypatch.undo()
    assert len(sent) == 1
    lone, reference = backend.redis.hgetall("rq:job:lone"), backend.redis.hgetall("rq:job:reference")
    for job in (lone, reference):
        assert job.pop(b"created_at") and job.pop(b"enqueued_at")
    assert lone == reference
    assert backend.queue("default").job_ids == ["reference", "lone"]
    assert backend.fetch("lone").get_status() == "queued"


def _redis_contents(redis, job_id: str) -> dict:
    """Every key and what it holds, the job's id written as <id> and its timestamps left out."""
    contents = {}
    for key in redis.keys("*"):
        name = key.decode().replace(job_id, "<id>")
        kind = redis.type(key).decode()
        if kind == "hash":
            value = {k: v.replace(job_id.encode(), b"<id>") for k, v in redis.hgetall(key).items()
                     if k not in (b"created_at", b"enqueued_at")}
        elif kind == "list":
            value = [item.decode().replace(job_id, "<id>") for item in redis.lrange(key, 0, -1)]
        else:
            value = sorted(redis.smembers(key))
        contents[name] = (kind, value, redis.ttl(key))
    return contents


@pytest.mark.parametrize("spec, args", [
    (JOBS.apply_stripe_event, ("evt_1",)),  # an id of its own, retries, the stripe queue
    (RECORD_EVENT, (1, "x")),  # no id (RQ makes one), no retries
    (JOBS.deliver_notification, (7,)),  # a timeout of its own
])
def test_rq_an_immediate_job_is_written_as_rq_enqueue_writes_it(redis_app, spec, args):
    """The queue writes immediate jobs itself (no RQ Job built each time): Redis must hold exactly
    what RQ's own enqueue leaves there, every key, and RQ must read it back as the same job."""
    from app.jobs.queue import _rq_options

    backend = get_queue()
    call = JobCall(spec, args)
    theirs = backend.queue(spec.queue).enqueue(spec.path, *args, **_rq_options(call)).id
    rq_made = _redis_contents(backend.redis, theirs)
    backend.redis.flushdb()
    ours = backend.enqueue(call)
    assert _redis_contents(backend.redis, ours) == rq_made
    job = backend.fetch(ours)
    assert (job.func_name, job.args, job.get_status()) == (spec.path, list(args), "queued")


def test_rq_jobs_given_to_the_sender_while_it_is_busy_go_over_together(redis_app, monkeypatch):
    """enqueue_soon (a request's jobs, after its response): the sender thread hands over in one
    round trip every job that waited while it was busy, and none is lost."""
    import threading

    backend = get_queue()
    real, batches = backend.enqueue_all, []
    busy, go_on = threading.Event(), threading.Event()

    def slow_redis(calls):
        batches.append([call.job_id for call in calls])
        busy.set()
        go_on.wait(30)
        real(calls)

    monkeypatch.setattr(backend, "enqueue_all", slow_redis)
    backend.enqueue_soon([JobCall(_record_as("soon-1"), (1, "a"))])
    assert busy.wait(30)  # the first job is on its way; the next three wait
    for n in (2, 3, 4):
        backend.enqueue_soon([JobCall(_record_as(f"soon-{n}"), (1, "a"))])
    go_on.set()
    backend.wait_sent()
    assert batches == [["soon-1"], ["soon-2", "soon-3", "soon-4"]]
    assert backend.queue("default").job_ids == ["soon-1", "soon-2", "soon-3", "soon-4"]
