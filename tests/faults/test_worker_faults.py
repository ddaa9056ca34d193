"""A worker killed mid-batch, a job lost from Redis, database connections dropped: each text once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from sqlalchemy import text

from app.extensions import db
from app.jobs.queue import get_queue
from app.jobs.specs import QUEUE_NAMES
from app.jobs.worker import build_worker
from app.services.messaging.outbound import queue_outbound_message
from app.services.ops.reconcile import reconcile
from tests.faults.conftest import sends_per_message, statuses, wait_for
from tests.support.messaging_builders import booking_thread
from tests.support.pg_locks import lock_waiters

pytestmark = [pytest.mark.faults, pytest.mark.postgres_only]

SCHEDULER_LOCKS = tuple(f"rq:scheduler-lock:{name}" for name in QUEUE_NAMES)


def queue_texts(make, count: int) -> list[int]:
    """`count` texts queued on one thread in one transaction (their jobs go to Redis at commit)."""
    thread = booking_thread(make, started_hours_ago=1)
    ids = []
    for n in range(count):
        message = queue_outbound_message(org_id=thread.org_id, thread_id=thread.id,
                                         from_number_id=thread.message_number_id,
                                         to_e164=thread.client.phone_e164, body=f"Visit update {n}",
                                         sender_kind="sitter")
        ids.append(message.id)
    db.session.commit()
    return ids


def test_a_send_job_deleted_from_redis_is_sent_once_after_reconcile(redis_app, live_make):
    [message_id] = queue_texts(live_make, 1)
    job_id = f"send-message-{message_id}"
    assert get_queue().holds(job_id)
    get_queue().cancel(job_id)  # lost: Redis restarted, evicted, flushed by hand …
    assert not get_queue().holds(job_id) and statuses([message_id]) == {message_id: "queued"}

    assert reconcile().counts["messages_queued"] == 1
    assert reconcile().counts["messages_queued"] == 0  # held now: not pushed twice
    build_worker(redis_app).work(burst=True)
    assert statuses([message_id]) == {message_id: "sent"}
    assert sends_per_message() == {message_id: 1}


def test_worker_killed_mid_batch_leaves_no_orphan_and_every_text_goes_once(
        redis_app, live_make, live_clock, start_worker, side_connection):
    ids = queue_texts(live_make, 50)
    redis = Redis.from_url(redis_app.config["REDIS_URL"])
    stalled = ids[24]
    # Hold the 25th text's row: the worker sends 24, then waits on it.
    row_lock, table_lock, observer = side_connection(), side_connection(), side_connection()
    row_lock.begin()
    row_lock.execute(text("SELECT id FROM messages WHERE id = :id FOR UPDATE"), {"id": stalled})

    worker = start_worker()
    wait_for(lambda: len(sends_per_message()) == 24, "the first 24 texts")
    wait_for(lambda: lock_waiters(observer, "UPDATE messages"), "the worker to reach #25")
    wait_for(lambda: all(redis.exists(key) for key in SCHEDULER_LOCKS), "the scheduler to hold its locks")
    assert len(worker.group_pids()) == 2, "worker.py and RQ's scheduler child"
    # Let the claim through (it commits `sending`), but stop the send itself at the outbox:
    # the worker dies between the claim and the provider's answer.
    table_lock.begin()
    table_lock.execute(text("LOCK TABLE outbox_entries IN ACCESS EXCLUSIVE MODE"))
    row_lock.commit()
    wait_for(lambda: lock_waiters(observer, "INSERT INTO outbox_entries"), "the worker to be mid-send")
    worker.kill_hard()
    table_lock.commit()

    wait_for(lambda: not worker.group_pids(), "the killed worker's scheduler child to exit")
    wait_for(lambda: not any(redis.exists(key) for key in SCHEDULER_LOCKS), "the scheduler locks to go")
    assert statuses([stalled]) == {stalled: "sending"}

    restarted = start_worker()
    wait_for(lambda: len(sends_per_message()) == 49, "the other 25 texts after the restart")
    # Past the job timeout, two recoveries may reach the interrupted text first, and either sends it
    # once. Reconcile's settle step: while RQ still holds the dead worker's job as `started`, it asks
    # the provider (the outbox never recorded the text), puts it back in the queue, and a fresh job
    # sends it. Or RQ itself: once the dead job's heartbeat has expired, the restarted worker's
    # registry cleanup retries the abandoned job, which finds the text `sending`, asks the provider
    # and sends it. On a loaded machine RQ often comes first, so reconcile runs on every poll and
    # whichever comes first must leave exactly one send (a CI run failed waiting for reconcile alone).
    live_clock.set(datetime.now(UTC) + timedelta(minutes=2))

    def recovered() -> bool:
        reconcile()
        return len(sends_per_message()) == 50

    wait_for(recovered, "the interrupted text to be sent")
    assert set(sends_per_message().values()) == {1}
    assert set(statuses(ids).values()) == {"sent"}
    restarted.stop()
    assert not restarted.group_pids()


def test_database_connections_dropped_during_a_burst_every_text_goes_once(
        redis_app, live_make, start_worker, side_connection):
    ids = queue_texts(live_make, 40)
    stalled = ids[19]
    side, observer = side_connection(), side_connection()
    side.begin()
    side.execute(text("SELECT id FROM messages WHERE id = :id FOR UPDATE"), {"id": stalled})
    start_worker()
    wait_for(lambda: lock_waiters(observer, "UPDATE messages"), "the worker to reach #20")
    dropped = side.execute(text(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), :observer)"),
        {"observer": observer.execute(text("SELECT pg_backend_pid()")).scalar()}).scalar()
    assert dropped >= 1
    side.commit()
    db.session.remove()  # this process's pooled connections were dropped too
    db.engine.dispose()
    wait_for(lambda: len(sends_per_message()) == 40, "every text after the drop", timeout=120)
    assert set(sends_per_message().values()) == {1}
    assert set(statuses(ids).values()) == {"sent"}
