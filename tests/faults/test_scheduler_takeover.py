"""The worker holding RQ's scheduler locks dies: another worker takes the schedule over within
SCHEDULER_RETRY_SECONDS, not at its next maintenance step (PERIODIC_TASK_SECONDS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis

from app.extensions import db
from app.jobs.queue import enqueue
from app.jobs.specs import JOBS, QUEUE_NAMES
from app.jobs.worker import PERIODIC_TASK_SECONDS, SCHEDULER_RETRY_SECONDS
from tests.faults.conftest import sends_per_message, wait_for
from tests.support.messaging_builders import booking_thread, outbound_message

pytestmark = [pytest.mark.faults, pytest.mark.postgres_only]

SCHEDULER_LOCKS = tuple(f"rq:scheduler-lock:{name}" for name in QUEUE_NAMES)
# Takeover within the retry interval, plus the scheduler's own start and one-second tick.
TAKEOVER_BOUND = SCHEDULER_RETRY_SECONDS + 10


def test_a_surviving_worker_fires_scheduled_jobs_soon_after_the_scheduler_holder_dies(
        redis_app, live_make, start_worker):
    assert TAKEOVER_BOUND < PERIODIC_TASK_SECONDS
    redis = Redis.from_url(redis_app.config["REDIS_URL"])
    workers = [start_worker(), start_worker()]
    wait_for(lambda: all(redis.exists(key) for key in SCHEDULER_LOCKS), "a scheduler to hold its locks")
    # Both past their own try at the locks (RQ's first maintenance step comes right after it).
    wait_for(lambda: all("cleaning registries" in w.log_text() for w in workers), "both workers to start")
    # The holder is the worker with a scheduler child; the other is the worker alone.
    wait_for(lambda: sorted(len(w.group_pids()) for w in workers) == [1, 2], "one scheduler among two workers")
    holder, survivor = sorted(workers, key=lambda w: len(w.group_pids()), reverse=True)

    holder.kill_hard()
    wait_for(lambda: not holder.group_pids(), "the killed worker's scheduler child to exit")

    message = outbound_message(live_make, booking_thread(live_make, started_hours_ago=1), status="queued")
    due = datetime.now(UTC) + timedelta(seconds=3)
    enqueue(JOBS.send_message, message.id, at=due)
    db.session.commit()

    wait_for(lambda: message.id in sends_per_message(), "the surviving worker to send the scheduled text",
             timeout=TAKEOVER_BOUND + 5)
    late = (datetime.now(UTC) - due).total_seconds()
    assert late < TAKEOVER_BOUND, f"sent {late:.1f}s after it was due"
    assert sends_per_message() == {message.id: 1}
    assert len(survivor.group_pids()) == 2, "the survivor now runs the scheduler"
    assert "took over the scheduler" in survivor.log_text()
