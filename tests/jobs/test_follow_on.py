"""Follow-on jobs (app.jobs.follow_on): what a worker's job hands over due now runs in that worker
right after it; a paid event's confirmation is queued by the worker that applied the event."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs import follow_on
from app.jobs.queue import enqueue, get_queue
from app.jobs.specs import JOBS, JobSpec
from app.models import AutomationRun, Booking, Message, OutboxEntry
from app.services.ops.reconcile import reconcile
from tests.support import stripe_payloads as sp
from tests.support.daytime import live_in_daytime

RAN: list[int] = []
# On `automations`: the tests' workers listen on `default` only, so what is handed to Redis stays there.
FOLLOW = JobSpec("tests.jobs.test_follow_on.follow", queue="automations", job_id="follow-{0}", follow_on=True)
NOT_FOLLOW = JobSpec("tests.jobs.test_follow_on.follow", queue="automations", job_id="plain-{0}")
STALL = JobSpec("tests.jobs.test_follow_on.stall", queue="automations", job_id="stall-{0}", follow_on=True,
                timeout=1)
PARENT = JobSpec("tests.jobs.test_follow_on.parent")


def parent(count: int, failing: list[int], later_seconds: int = 0, spec: str = "FOLLOW", first: int = 0) -> None:
    """A job that hands over `count` jobs of `spec` (due `later_seconds` from now)."""
    at = datetime.now(UTC) + timedelta(seconds=later_seconds) if later_seconds else None
    for index in range(first, first + count):
        enqueue(globals()[spec], index, failing, at=at)


def follow(index: int, failing: list[int]) -> None:
    if index in failing:
        raise RuntimeError(f"follow-on {index} broke")
    RAN.append(index)
    if index == 100:  # a follow-on handing over one of its own
        enqueue(FOLLOW, 101, failing)


def stall(index: int, failing: list[int]) -> None:
    RAN.append(index)
    threading.Event().wait(30)  # cut by the follow-on's 1 s timeout


@pytest.fixture
def ran():
    RAN.clear()
    yield RAN
    RAN.clear()


def _work(app, queues=("default",)) -> None:
    from app.jobs.worker import build_worker

    build_worker(app, queue_names=queues).work(burst=True)


def _held(*job_ids: str) -> set[str]:
    return set(job_ids) - get_queue().missing(list(job_ids))


def test_a_worker_runs_what_its_job_hands_over_due_right_after_it(redis_app, ran):
    enqueue(PARENT, 3, [])
    _work(redis_app)
    assert ran == [0, 1, 2]
    assert _held("follow-0", "follow-1", "follow-2") == set()  # never handed to Redis


def test_one_that_fails_goes_to_redis_and_the_others_still_run(redis_app, ran):
    enqueue(PARENT, 3, [1])
    _work(redis_app)
    assert ran == [0, 2]
    assert _held("follow-0", "follow-1", "follow-2") == {"follow-1"}
    assert get_queue().fetch("follow-1").get_status() == "queued"  # its own retry policy from here


def test_at_most_max_follow_ons_per_job_the_rest_go_to_redis(redis_app, ran, monkeypatch):
    monkeypatch.setattr(follow_on, "MAX_FOLLOW_ONS", 2)
    enqueue(PARENT, 4, [])
    _work(redis_app)
    assert ran == [0, 1]
    assert _held(*(f"follow-{i}" for i in range(4))) == {"follow-2", "follow-3"}


def test_a_follow_on_that_hands_over_another_has_it_run_too(redis_app, ran):
    enqueue(PARENT, 1, [], 0, "FOLLOW", 100)  # follow-on 100 hands over 101
    _work(redis_app)
    assert ran == [100, 101] and _held("follow-100", "follow-101") == set()


def test_jobs_not_due_or_not_marked_go_to_redis(redis_app, ran):
    enqueue(PARENT, 1, [], 3600)
    enqueue(PARENT, 1, [], 0, "NOT_FOLLOW")
    _work(redis_app)
    assert ran == []
    assert get_queue().fetch("follow-0").get_status() == "scheduled"
    assert get_queue().fetch("plain-0").get_status() == "queued"


def test_a_follow_on_past_its_timeout_is_cut_and_goes_to_redis(redis_app, ran):
    enqueue(PARENT, 1, [], 0, "STALL")
    _work(redis_app)
    assert ran == [0] and _held("stall-0") == {"stall-0"}


def test_outside_a_worker_nothing_is_kept(redis_app, ran):
    enqueue(FOLLOW, 7, [])  # a request or a script
    assert ran == [] and _held("follow-7") == {"follow-7"}


# -- the paid event's confirmation -------------------------------------------------------------


@pytest.fixture
def booking(redis_app, clock):
    """A pending booking with a sitter's number, on the RQ app; the clock at wall-clock time
    (RQ's registries read real time) and the org and client where it is day (the law's quiet
    hours hold at any hour the test runs)."""
    from tests.support.factories import Factories

    make = Factories(db.session, clock)
    clock.set(datetime.now(UTC).replace(microsecond=0))
    live_in_daytime(make, clock.now)
    number = make.number("sitter", sitter_id=make.sitter(with_login=False).id)
    booking = make.booking(sitter=number.sitter, start=clock.now + timedelta(days=3))
    db.session.commit()
    return booking


def _confirmation(booking_id: int) -> AutomationRun:
    db.session.rollback()  # the worker wrote from its own sessions
    return db.session.scalar(select(AutomationRun).where(AutomationRun.booking_id == booking_id,
                                                         AutomationRun.kind == "booking_confirmation"))


def _texts_to(booking_id: int) -> list[OutboxEntry]:
    db.session.rollback()
    phone = db.session.get(Booking, booking_id).client.phone_e164
    return db.session.scalars(select(OutboxEntry).where(OutboxEntry.to_e164 == phone)).all()


def test_the_worker_that_applies_a_paid_event_queues_its_confirmation(redis_app, booking):
    evt = sp.event("checkout.session.completed", sp.checkout_session(booking))
    assert sp.deliver(redis_app.test_client(), evt).status_code == 200
    _work(redis_app, ("stripe",))  # the `stripe` queue alone: no other dequeue in between

    run = _confirmation(booking.id)
    assert sp.stored(evt).status == "processed"
    assert (run.status, run.attempts) == ("sent", 1)
    assert db.session.get(Message, run.message_id).status == "queued"
    run_job = JOBS.run_automation.id_for(run.id)
    send_job = JOBS.send_message.id_for(run.message_id)
    assert _held(run_job, send_job) == {send_job}  # the text still leaves through Redis
    assert _texts_to(booking.id) == []
    _work(redis_app)
    assert len(_texts_to(booking.id)) == 1


def test_a_script_applying_the_event_still_hands_the_run_to_redis(redis_app, booking):
    from app.services.payments.stripe_events import apply_stripe_event

    evt = sp.event("checkout.session.completed", sp.checkout_session(booking))
    sp.deliver(redis_app.test_client(), evt)
    db.session.rollback()  # the delivery committed on a connection of its own: the script reads after it
    assert apply_stripe_event(evt["id"]) == "processed"
    run = _confirmation(booking.id)
    assert run.status == "scheduled" and _held(JOBS.run_automation.id_for(run.id))


def test_a_worker_dying_before_the_follow_on_leaves_a_due_run_reconcile_re_enqueues(redis_app, booking,
                                                                                 monkeypatch):
    """The apply committed the run `scheduled`; the worker dies before running it. Redis does
    not hold its job; reconcile's due-runs reconciler hands it over, and it is sent once."""
    evt = sp.event("checkout.session.completed", sp.checkout_session(booking))
    sp.deliver(redis_app.test_client(), evt)
    pid = os.fork()
    if pid == 0:  # the worker
        try:
            db.engine.dispose(close=False)  # its own connections, not the test's
            monkeypatch.setattr(follow_on, "_run", lambda *args: os._exit(7))  # dies right there
            _work(redis_app, ("stripe",))
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 7  # it died between the commit and the inline run

    run = _confirmation(booking.id)
    assert sp.stored(evt).status == "processed"
    assert (run.status, run.attempts, run.message_id) == ("scheduled", 0, None)
    run_job = JOBS.run_automation.id_for(run.id)
    assert _held(run_job) == set()
    assert reconcile().counts["automation_runs"] == 1
    assert _held(run_job) == {run_job}
    _work(redis_app, ("automations", "default"))
    assert _confirmation(booking.id).status == "sent" and len(_texts_to(booking.id)) == 1
    assert reconcile().counts["automation_runs"] == 0
