"""Applying stored Stripe events: bounded tries, reconcile, per-booking order, and the faults
of issue 19 (Redis down when the event arrives, a worker killed mid-apply, duplicates while
the job runs). Events are Stripe's own example objects, signed as Stripe signs them."""

from __future__ import annotations

import os
import signal
import threading

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.jobs.queue import get_queue
from app.jobs.specs import JOBS, QUEUE_NAMES
from app.models import Alert, Booking, EventLog, OutboxEntry, Payment, StripeEvent, Thread
from app.services.ops.reconcile import RECONCILERS, reconcile
from app.services.payments import stripe_events
from app.services.payments.stripe_events import MAX_ATTEMPTS, apply_stripe_event, reconcile_stripe_events
from tests.support import stripe_payloads as sp


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _texts_to(phone: str) -> list[OutboxEntry]:
    return db.session.scalars(select(OutboxEntry).where(OutboxEntry.to_e164 == phone)
                              .order_by(OutboxEntry.id)).all()


def _confirmed_once(booking_id: int) -> None:
    db.session.rollback()
    booking = db.session.get(Booking, booking_id)
    assert booking.status == "confirmed" and booking.paid_at is not None
    assert _count(Payment, Payment.booking_id == booking_id, Payment.kind != "refund") == 1
    assert _count(Thread, Thread.booking_id == booking_id) == 1
    assert len(_texts_to(booking.client.phone_e164)) == 1


@pytest.fixture
def booking(make):
    number = make.number("sitter", sitter_id=make.sitter(with_login=False).id)
    return make.booking(sitter=number.sitter)


def _paid(booking) -> dict:
    return sp.event("checkout.session.completed", sp.checkout_session(booking))


def test_the_stripe_queue_is_registered_and_reconciled_by_every_worker():
    from app.jobs.worker import PERIODIC_TASKS, WORKER_START_TASKS
    from app.services.ops.reconcile import RECONCILERS

    assert JOBS.apply_stripe_event.queue == "stripe" and "stripe" in QUEUE_NAMES
    assert "stripe_events" in {r.name for r in RECONCILERS}  # the one reconcile every worker runs
    assert "app.jobs.reconcile" in WORKER_START_TASKS
    assert "app.jobs.reconcile" in PERIODIC_TASKS


def test_a_redis_backed_worker_listens_on_the_stripe_queue(redis_app):
    from app.jobs.worker import build_worker

    worker = build_worker(redis_app)
    assert "stripe" in worker.queue_names()


def test_an_event_that_keeps_failing_ends_failed_with_an_owner_alert_and_no_loop(
    client, booking, monkeypatch, clock
):
    import app.services.bookings.confirmed as booking_confirmed

    def broken(booking, actor=None):
        raise RuntimeError("template exploded")

    monkeypatch.setattr(booking_confirmed, "confirm_locked_booking", broken)
    evt = _paid(booking)
    assert sp.applied(client, evt).status == "received"
    for _ in range(MAX_ATTEMPTS + 3):  # the queue's own retries, then nothing more
        clock.advance(hours=1)
        get_queue().run_due()
        reconcile_stripe_events()
    row = sp.stored(evt)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert "template exploded" in row.reason and row.booking_id == booking.id
    assert get_queue().scheduled() == []
    [alert] = db.session.scalars(select(Alert)).all()
    assert alert.kind == "stripe.event_failed" and alert.booking_id == booking.id and alert.audience == "owner"
    assert _count(EventLog, EventLog.kind == "stripe.event_failed") == 1
    assert db.session.get(Booking, booking.id).status == "pending" and _count(Payment) == 0
    assert reconcile_stripe_events() == 0


def test_an_event_whose_worker_died_every_time_is_failed_not_retried_forever(client, booking, monkeypatch):
    # Each try is counted before it starts: a try that never finishes still counts.
    monkeypatch.setattr(stripe_events, "enqueue_apply", lambda event_id: None)  # the job is lost
    evt = _paid(booking)
    sp.applied(client, evt)
    db.session.execute(update(StripeEvent).where(StripeEvent.id == evt["id"]).values(attempts=MAX_ATTEMPTS))
    db.session.commit()
    assert apply_stripe_event(evt["id"]) == "failed"
    row = sp.stored(evt)
    assert row.status == "failed" and "worker stopped mid-job" in row.reason
    assert db.session.scalar(select(Alert.kind)) == "stripe.event_failed"
    assert db.session.get(Booking, booking.id).status == "pending"


def test_reconcile_walks_every_batch_of_stored_events(client, make, monkeypatch):
    real = stripe_events.enqueue_apply
    monkeypatch.setattr(stripe_events, "enqueue_apply", lambda event_id: None)  # every job lost
    number = make.number("sitter", sitter_id=make.sitter(with_login=False).id)
    bookings = [make.booking(sitter=number.sitter) for _ in range(5)]
    for each in bookings:
        assert sp.applied(client, _paid(each)).status == "received"
    monkeypatch.setattr(stripe_events, "enqueue_apply", real)

    monkeypatch.setattr(stripe_events, "RECONCILE_BATCH", 2)
    stripe_only = [r for r in RECONCILERS if r.name == "stripe_events"]
    report = reconcile(batch_size=2, reconcilers=stripe_only)
    assert report.counts == {"stripe_events": 5}  # three batches in one pass, not one
    assert _count(StripeEvent, StripeEvent.status == "received") == 0
    for each in bookings:
        _confirmed_once(each.id)
    assert reconcile_stripe_events(batch_size=2) == 0


def test_reconcile_applies_a_stored_event_whose_job_was_lost(client, booking, monkeypatch):
    real = stripe_events.enqueue_apply
    monkeypatch.setattr(stripe_events, "enqueue_apply", lambda event_id: None)
    evt = _paid(booking)
    assert sp.applied(client, evt).status == "received"
    assert db.session.get(Booking, booking.id).status == "pending"

    monkeypatch.setattr(stripe_events, "enqueue_apply", real)
    assert reconcile_stripe_events() == 1
    _confirmed_once(booking.id)
    assert sp.stored(evt).status == "processed"
    assert reconcile_stripe_events() == 0  # nothing left to apply


def _deliver_unclosed(client, evt):
    """One delivery whose response is not closed yet: the moment Stripe has its answer and the
    server has not run the response's close callbacks."""
    body, headers = sp.signed(evt)
    return client.post("/webhooks/stripe", data=body, headers=headers, buffered=False)


def test_stripe_has_its_200_before_the_inline_job_applies_the_event(client, booking):
    evt = _paid(booking)
    response = _deliver_unclosed(client, evt)
    assert response.status_code == 200 and response.get_json()["status"] == "received"
    assert sp.stored(evt).status == "received"
    assert db.session.get(Booking, booking.id).status == "pending"
    response.close()  # the server sent the answer: the job runs
    _confirmed_once(booking.id)


@pytest.fixture
def rq_booking(redis_app, clock):
    """`booking`, in the Redis-backed app's database session."""
    from tests.support.factories import Factories

    make = Factories(db.session, clock)
    booking = make.booking(sitter=make.number("sitter", sitter_id=make.sitter(with_login=False).id).sitter)
    db.session.commit()
    return booking


def test_the_apply_job_reaches_redis_once_the_response_is_sent(redis_app, rq_booking):
    evt = _paid(rq_booking)
    job_id = JOBS.apply_stripe_event.id_for(evt["id"])
    response = _deliver_unclosed(redis_app.test_client(), evt)
    assert response.status_code == 200 and sp.stored(evt).status == "received"
    assert not get_queue().holds(job_id)
    response.close()  # the job goes to the queue's sender thread
    get_queue().wait_sent()
    assert get_queue().holds(job_id)


def test_a_slow_redis_holds_up_no_request(redis_app, rq_booking, monkeypatch):
    """The request is done (response sent and closed) while the apply job still waits for Redis."""
    import threading

    backend, evt = get_queue(), _paid(rq_booking)
    real, go_on = backend.enqueue_all, threading.Event()

    def slow_redis(calls):
        go_on.wait(30)
        real(calls)

    monkeypatch.setattr(backend, "enqueue_all", slow_redis)
    response = _deliver_unclosed(redis_app.test_client(), evt)
    response.close()
    assert response.status_code == 200 and sp.stored(evt).status == "received"
    assert not backend.holds(JOBS.apply_stripe_event.id_for(evt["id"]))
    go_on.set()
    backend.wait_sent()
    assert backend.holds(JOBS.apply_stripe_event.id_for(evt["id"]))


def test_redis_failing_after_the_response_loses_nothing(redis_app, rq_booking, monkeypatch, caplog):
    """The 200 is out and the row committed when the hand-over fails: the failure is logged under
    the request's id, and reconcile enqueues the stored event, which a worker applies once."""
    from app.jobs.worker import build_worker

    booking, backend = rq_booking, get_queue()

    def unreachable(calls):
        raise ConnectionError("Redis is gone")

    monkeypatch.setattr(backend, "enqueue_all", unreachable)
    evt = _paid(booking)
    response = _deliver_unclosed(redis_app.test_client(), evt)
    assert response.status_code == 200 and sp.stored(evt).status == "received"
    assert "could not enqueue" not in caplog.text
    response.close()
    backend.wait_sent()
    [failure] = [r for r in caplog.records if "could not enqueue app.jobs.apply_stripe_event" in r.getMessage()]
    assert failure.pawline_request_id == response.headers["X-Request-ID"]
    assert not backend.holds(JOBS.apply_stripe_event.id_for(evt["id"]))

    monkeypatch.undo()  # Redis is back: the periodic reconcile finds the stored event
    assert reconcile_stripe_events() == 1
    build_worker(redis_app, forking=False).work(burst=True)
    _confirmed_once(booking.id)
    assert (sp.stored(evt).status, sp.stored(evt).attempts) == ("processed", 1)


def test_a_refund_stored_before_its_payment_still_ends_cancelled(client, booking):
    """Stripe does not promise order: the refund (no metadata: found by its payment intent)
    arrives first, finds no payment yet, and is applied again once the payment is."""
    session = sp.checkout_session(booking)
    refund = sp.event("charge.refunded", sp.charge(intent_id=session["payment_intent"], amount=3500,
                                                     refunded=3500, with_metadata=False))
    first = sp.applied(client, refund)
    assert first.status == "ignored" and "(yet)" in first.reason

    paid = sp.applied(client, sp.event("checkout.session.completed", session))
    assert paid.status == "processed" and refund["id"] in paid.reason
    assert sp.stored(refund).status == "processed"
    booking = db.session.get(Booking, booking.id)
    assert booking.status == "cancelled" and booking.cancel_reason == "refunded"
    assert _texts_to(booking.client.phone_e164) == []  # never told "confirmed", so nothing to take back
    kinds = [p.kind for p in db.session.scalars(select(Payment).order_by(Payment.id))]
    assert kinds == ["checkout", "refund"]


def test_a_second_payment_event_does_not_confirm_while_an_earlier_refund_is_still_to_apply(
    client, booking, monkeypatch
):
    session = sp.checkout_session(booking)
    intent = sp.payment_intent(booking, intent_id=session["payment_intent"])
    refund = sp.event("charge.refunded", sp.charge(intent_id=intent["id"], amount=3500, refunded=3500,
                                                     with_metadata=False))
    sp.applied(client, refund)  # ignored: no payment yet
    real = stripe_events.enqueue_apply
    held = []
    # The refund's job waits in the queue (behind others, or in a busy worker).
    monkeypatch.setattr(stripe_events, "enqueue_apply",
                        lambda event_id: held.append(event_id) if event_id == refund["id"] else real(event_id))
    assert sp.applied(client, sp.event("checkout.session.completed", session)).status == "processed"
    assert held == [refund["id"]] and sp.stored(refund).status == "received"
    monkeypatch.setattr(stripe_events, "enqueue_apply", real)
    sp.applied(client, sp.event("payment_intent.succeeded", intent))  # Stripe's second event for the payment
    assert db.session.get(Booking, booking.id).status == "pending"  # not confirmed: a refund is on its way
    assert reconcile_stripe_events() == 1  # the held refund job
    booking = db.session.get(Booking, booking.id)
    assert booking.status == "cancelled" and _texts_to(booking.client.phone_e164) == []


def test_a_refund_with_metadata_before_its_payment_ends_cancelled_and_stays_so(client, booking):
    intent = sp.payment_intent(booking)
    refund = sp.event("charge.refunded", sp.charge(booking, intent_id=intent["id"], amount=3500, refunded=3500))
    assert sp.applied(client, refund).status == "processed"
    late = sp.applied(client, sp.event("payment_intent.succeeded", intent))
    assert late.status == "ignored" and "cancelled" in late.reason
    booking = db.session.get(Booking, booking.id)
    assert booking.status == "cancelled" and _count(Thread) == 0
    assert _count(Alert) == 0  # refunded already: nothing for the owner to do


def test_redis_unreachable_when_the_event_arrives_200_then_applied_once_after_recovery(
    app_factory, redis_app, clock
):
    from app.jobs.worker import build_worker, on_worker_start
    from tests.support.factories import Factories

    make = Factories(db.session, clock)
    booking = make.booking(sitter=make.number("sitter", sitter_id=make.sitter(with_login=False).id).sitter)
    db.session.commit()
    down = app_factory(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    evt = _paid(booking)
    for _ in range(2):  # Stripe retried too: still one row
        response = sp.deliver(down.test_client(), evt)
        assert response.status_code == 200
    assert sp.stored(evt).status == "received"

    # Redis is back: a worker starts, reconciles, and works its queues.
    on_worker_start(redis_app)
    build_worker(redis_app).work(burst=True)
    on_worker_start(redis_app)  # a second start finds nothing to do
    build_worker(redis_app).work(burst=True)
    _confirmed_once(booking.id)
    assert (sp.stored(evt).status, sp.stored(evt).attempts) == ("processed", 1)


@pytest.mark.postgres_only
def test_a_worker_killed_mid_apply_leaves_the_event_to_be_applied_once(app, booking, monkeypatch):
    """A forked process applies the event and is killed while it holds the booking's lock;
    PostgreSQL rolls its transaction back; reconcile has it applied once."""
    import app.services.bookings.confirmed as booking_confirmed

    monkeypatch.setattr(stripe_events, "enqueue_apply", lambda event_id: None)  # no job yet
    evt = _paid(booking)
    sp.applied(app.test_client(), evt)
    read_end, write_end = os.pipe()

    def hang(booking, actor=None):
        db.session.flush()  # the payment and the booking's changes are written, not committed
        os.write(write_end, b"x")
        signal.pause()

    pid = os.fork()
    if pid == 0:  # the "worker"
        try:
            db.engine.dispose(close=False)  # its own connections, not the parent's
            monkeypatch.setattr(booking_confirmed, "confirm_locked_booking", hang)
            apply_stripe_event(evt["id"])
        finally:
            os._exit(1)
    assert os.read(read_end, 1) == b"x"  # mid-apply
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(read_end)
    os.close(write_end)

    row = sp.stored(evt)
    assert (row.status, row.attempts) == ("received", 1)
    assert _count(Payment) == 0
    monkeypatch.undo()  # the real enqueue: reconcile hands the event to the (inline) queue
    assert reconcile_stripe_events() == 1
    _confirmed_once(booking.id)
    assert (sp.stored(evt).status, sp.stored(evt).attempts) == ("processed", 2)


@pytest.mark.postgres_only
def test_ten_concurrent_deliveries_while_the_job_runs_apply_once(redis_app, clock, monkeypatch):
    from app.jobs.worker import build_worker
    from tests.support.factories import Factories

    make = Factories(db.session, clock)
    booking = make.booking(sitter=make.number("sitter", sitter_id=make.sitter(with_login=False).id).sitter)
    db.session.commit()
    evt = _paid(booking)
    assert sp.deliver(redis_app.test_client(), evt).status_code == 200

    real = stripe_events._decide
    answers, reconciled = [], []

    def deliver(start):
        with redis_app.app_context():
            client = redis_app.test_client()
            start.wait()
            answers.append(sp.deliver(client, evt).get_json())
            reconciled.append(reconcile_stripe_events())  # the job is running: not enqueued again
            db.session.remove()

    def with_deliveries(event, intent):
        """Inside the job, holding the event row's lock: Stripe delivers 10 times, all at once.
        (They answer at once: only the job's final UPDATE of the row would make them wait.)"""
        start = threading.Barrier(10)
        deliveries = [threading.Thread(target=deliver, args=(start,)) for _ in range(10)]
        for t in deliveries:
            t.start()
        for t in deliveries:
            t.join(30)
        return real(event, intent)

    monkeypatch.setattr(stripe_events, "_decide", with_deliveries)
    build_worker(redis_app).work(burst=True)  # RQ's worker wants the main thread (signals)
    assert len(answers) == 10 and all(a["duplicate"] for a in answers)
    assert reconciled == [0] * 10
    build_worker(redis_app).work(burst=True)  # anything left behind would run now
    _confirmed_once(booking.id)
    assert (sp.stored(evt).status, sp.stored(evt).attempts) == ("processed", 1)
