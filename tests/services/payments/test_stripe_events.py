"""Stripe events end to end: signed delivery → stored once → booking confirmed or cancelled.

Each test posts real-shaped, signed events to /webhooks/stripe and asserts on the
database: the payment, the booking, the thread and window, and the confirmation
text's From number in the outbox.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Alert,
    AssignmentWindow,
    Booking,
    EventLog,
    OutboxEntry,
    Payment,
    StripeEvent,
    Thread,
)
from tests.support import stripe_payloads as sp
from tests.support.factories import CONFIRMED


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _texts_to(client_phone: str) -> list[OutboxEntry]:
    return db.session.scalars(
        select(OutboxEntry).where(OutboxEntry.to_e164 == client_phone).order_by(OutboxEntry.id)
    ).all()


def _assert_confirmed_once(booking_id: int) -> Thread:
    """Confirmed, one thread, one window, exactly one text, sent from the thread's number."""
    db.session.rollback()
    booking = db.session.get(Booking, booking_id)
    assert booking.status == "confirmed" and booking.paid_at is not None
    [thread] = db.session.scalars(select(Thread).where(Thread.booking_id == booking_id)).all()
    [window] = db.session.scalars(
        select(AssignmentWindow).where(AssignmentWindow.booking_id == booking_id)
    ).all()
    assert window.thread_id == thread.id and window.starts_at == booking.start_at
    [text] = _texts_to(booking.client.phone_e164)
    assert text.from_e164 == thread.message_number.e164
    return thread


@pytest.fixture
def paid_booking(make):
    """A pending booking whose sitter has a dedicated masking number."""
    number = make.number("sitter", sitter_id=make.sitter(with_login=False).id)
    make.number("front_desk")
    booking = make.booking(sitter=number.sitter)
    return booking, number


def test_paid_checkout_confirms_the_booking_and_texts_from_the_masking_number(client, paid_booking):
    booking, number = paid_booking
    session = sp.checkout_session(booking)
    evt = sp.event("checkout.session.completed", session)
    assert sp.applied(client, evt).status == "processed"

    thread = _assert_confirmed_once(booking.id)
    assert thread.message_number_id == number.id
    [payment] = db.session.scalars(select(Payment).where(Payment.booking_id == booking.id)).all()
    assert (payment.kind, payment.amount_cents, payment.currency) == ("checkout", 3500, "usd")
    assert payment.reference == session["payment_intent"] and payment.stripe_event_id == evt["id"]
    row = db.session.get(StripeEvent, evt["id"])
    assert (row.status, row.booking_id, row.org_id, row.attempts) == (
        "processed",
        booking.id,
        booking.org_id,
        1,
    )
    kinds = db.session.scalars(select(EventLog.kind).where(EventLog.booking_id == booking.id)).all()
    assert "payment.received" in kinds and "booking.confirmed" in kinds


def test_async_payment_confirms_after_an_unpaid_checkout(client, paid_booking):
    booking, _ = paid_booking
    session = sp.checkout_session(booking, payment_status="unpaid")
    unpaid = sp.event("checkout.session.completed", session)
    assert sp.applied(client, unpaid).status == "ignored"
    assert db.session.get(Booking, booking.id).status == "pending"
    assert "payment_status 'unpaid'" in db.session.get(StripeEvent, unpaid["id"]).reason

    session["payment_status"] = "paid"
    assert (
        sp.deliver(
            client, sp.event("checkout.session.async_payment_succeeded", session)
        ).status_code
        == 200
    )
    _assert_confirmed_once(booking.id)


def test_payment_intent_succeeded_confirms(client, paid_booking):
    booking, _ = paid_booking
    intent = sp.payment_intent(booking)
    assert sp.deliver(client, sp.event("payment_intent.succeeded", intent)).status_code == 200
    _assert_confirmed_once(booking.id)
    payment = db.session.scalar(select(Payment).where(Payment.booking_id == booking.id))
    assert (payment.kind, payment.reference) == ("payment_intent", intent["id"])


@pytest.mark.parametrize("first", ["checkout", "intent"])
def test_session_and_intent_for_one_booking_confirm_once_in_either_order(
    client, paid_booking, first
):
    booking, _ = paid_booking
    intent = sp.payment_intent(booking)
    events = {
        "checkout": sp.event(
            "checkout.session.completed", sp.checkout_session(booking, intent_id=intent["id"])
        ),
        "intent": sp.event("payment_intent.succeeded", intent),
    }
    second = "intent" if first == "checkout" else "checkout"
    answers = [sp.applied(client, events[name]) for name in (first, second)]
    assert [a.status for a in answers] == ["processed", "ignored"]
    assert "already paid" in answers[1].reason
    _assert_confirmed_once(booking.id)
    assert _count(Payment, Payment.booking_id == booking.id) == 1


def test_same_event_delivered_twice_is_applied_once(client, paid_booking):
    booking, _ = paid_booking
    evt = sp.event("checkout.session.completed", sp.checkout_session(booking))
    first, second = sp.deliver(client, evt), sp.deliver(client, evt)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.get_json()["duplicate"] is True
    _assert_confirmed_once(booking.id)
    assert _count(Payment) == 1
    assert db.session.get(StripeEvent, evt["id"]).attempts == 1


def test_full_refund_cancels_and_a_late_success_does_not_revive(client, paid_booking, clock):
    booking, number = paid_booking
    session = sp.checkout_session(booking)
    sp.deliver(client, sp.event("checkout.session.completed", session))
    _assert_confirmed_once(booking.id)

    refund = sp.charge(booking, intent_id=session["payment_intent"], amount=3500, refunded=3500)
    answer = sp.applied(client, sp.event("charge.refunded", refund))
    assert answer.status == "processed"
    db.session.rollback()
    booking = db.session.get(Booking, booking.id)
    assert booking.status == "cancelled" and booking.cancel_reason == "refunded"
    refund_row = db.session.scalar(select(Payment).where(Payment.kind == "refund"))
    assert (refund_row.amount_cents, refund_row.reference) == (3500, refund["id"])
    window = db.session.scalar(select(AssignmentWindow))
    assert window.ends_at <= clock.now  # closed at once
    # The client, who was told it was confirmed, is told it is cancelled, from the same number.
    confirmation, cancellation = _texts_to(booking.client.phone_e164)
    assert cancellation.from_e164 == number.e164 and "cancel" in cancellation.body.lower()

    late = sp.event(
        "payment_intent.succeeded", sp.payment_intent(booking, intent_id=session["payment_intent"])
    )
    answer = sp.applied(client, late)
    assert answer.status == "ignored" and "cancelled" in answer.reason
    db.session.rollback()
    assert db.session.get(Booking, booking.id).status == "cancelled"
    assert _count(Payment, Payment.kind != "refund") == 1
    assert db.session.get(StripeEvent, late["id"]).status == "ignored"
    assert len(_texts_to(booking.client.phone_e164)) == 2  # no second confirmation


def test_refund_without_metadata_is_matched_through_the_payment_intent(client, paid_booking):
    booking, _ = paid_booking
    session = sp.checkout_session(booking)
    sp.deliver(client, sp.event("checkout.session.completed", session))
    refund = sp.charge(
        intent_id=session["payment_intent"], amount=3500, refunded=3500, with_metadata=False
    )
    assert refund["metadata"] == {}
    assert sp.applied(client, sp.event("charge.refunded", refund)).status == "processed"
    db.session.rollback()
    assert db.session.get(Booking, booking.id).status == "cancelled"


def test_partial_refunds_are_recorded_and_leave_the_booking_alone(client, paid_booking):
    booking, _ = paid_booking
    session = sp.checkout_session(booking)
    sp.deliver(client, sp.event("checkout.session.completed", session))
    charge = sp.charge(booking, intent_id=session["payment_intent"], amount=3500, refunded=1000)
    answer = sp.applied(client, sp.event("charge.refunded", charge))
    assert answer.status == "processed" and "partial" in answer.reason
    charge.update(amount_refunded=1500)  # a second partial refund on the same charge
    sp.deliver(client, sp.event("charge.refunded", charge))
    db.session.rollback()
    assert db.session.get(Booking, booking.id).status == "confirmed"
    refunds = db.session.scalars(
        select(Payment.amount_cents).where(Payment.kind == "refund").order_by(Payment.id)
    ).all()
    assert refunds == [1000, 500]


def test_success_for_a_booking_cancelled_by_the_owner_is_ignored_and_owners_are_alerted(
    client, make
):
    booking = make.booking(sitter=None, status="cancelled", cancel_reason="client changed plans")
    evt = sp.event("payment_intent.succeeded", sp.payment_intent(booking))
    answer = sp.applied(client, evt)
    assert answer.status == "ignored" and "client changed plans" in answer.reason
    db.session.rollback()
    assert db.session.get(Booking, booking.id).status == "cancelled"
    assert _count(Payment) == 0 and _count(Thread) == 0
    alert = db.session.scalar(select(Alert))
    assert alert.kind == "payment.after_cancel" and alert.booking_id == booking.id


def test_events_for_bookings_we_do_not_have_are_recorded_and_answered_200(client, make):
    booking = make.booking(sitter=None)
    other_org = make.org(name="Elsewhere")
    cases = [
        ({}, "no metadata.booking_id"),
        ({"booking_id": "999999"}, "booking 999999 does not exist"),
        ({"booking_id": "abc"}, "not a Pawline booking id"),
        ({"booking_id": str(booking.id), "org_id": str(other_org.id)}, f"not in org {other_org.id}"),
    ]
    for metadata, reason in cases:
        intent = sp.payment_intent(booking)
        intent["metadata"] = metadata
        evt = sp.event("payment_intent.succeeded", intent)
        response = sp.deliver(client, evt)
        assert response.status_code == 200, metadata  # Stripe must stop retrying
        db.session.rollback()
        row = db.session.get(StripeEvent, evt["id"])
        assert row.status == "ignored" and reason in row.reason and row.booking_id is None, metadata
    assert _count(Payment) == 0 and db.session.get(Booking, booking.id).status == "pending"


def test_a_try_that_fails_is_retried_by_the_queue_and_then_applies_once(
    client, paid_booking, monkeypatch, clock
):
    import app.services.bookings.confirmed as booking_confirmed
    from app.jobs.queue import get_queue

    booking, _ = paid_booking
    # The job confirms the booking it already locked through confirm_locked_booking.
    real = booking_confirmed.confirm_locked_booking

    def broken(booking, actor=None):
        raise RuntimeError("database went away")

    monkeypatch.setattr(booking_confirmed, "confirm_locked_booking", broken)
    evt = sp.event("checkout.session.completed", sp.checkout_session(booking))
    row = sp.applied(client, evt)  # Stripe gets its 200: the event is ours now
    assert (row.status, row.attempts) == ("received", 1) and "database went away" in row.reason
    assert _count(Payment) == 0 and db.session.get(Booking, booking.id).paid_at is None

    monkeypatch.setattr(booking_confirmed, "confirm_locked_booking", real)
    clock.advance(minutes=1)
    assert get_queue().run_due() == 1  # the queue's retry
    _assert_confirmed_once(booking.id)
    assert (sp.stored(evt).status, sp.stored(evt).attempts) == ("processed", 2)


def test_paid_in_person_confirms_through_the_same_handler(make, login_as, paid_booking):
    booking, _ = paid_booking
    client = login_as(make.user("staff"))
    response = client.post(f"/admin/bookings/{booking.id}/paid-in-person", data=CONFIRMED)
    assert response.status_code == 302
    _assert_confirmed_once(booking.id)
    payment = db.session.scalar(select(Payment))
    assert (payment.kind, payment.amount_cents) == ("manual", booking.price_cents)
    again = client.post(f"/admin/bookings/{booking.id}/paid-in-person", data=CONFIRMED)
    with client.session_transaction() as session:
        assert session["_flashes"][-1][0] == "error"
    assert again.status_code == 302 and _count(Payment) == 1


def _deliver_all_at_once(app, deliveries: list[tuple[str, dict]]) -> list[int]:
    """POST every (body, headers) from its own thread, app context and session, all at once."""
    start = threading.Barrier(len(deliveries))
    statuses: list[int] = []

    def deliver(body, headers):
        with app.app_context():
            client = app.test_client()
            start.wait()
            statuses.append(client.post("/webhooks/stripe", data=body, headers=headers).status_code)
            db.session.remove()

    threads = [threading.Thread(target=deliver, args=d) for d in deliveries]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return statuses


@pytest.fixture
def concurrent_app(app_factory):
    return app_factory(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 25, "max_overflow": 5})


@pytest.mark.postgres_only
def test_twenty_concurrent_deliveries_give_200s_and_one_confirmation(concurrent_app, paid_booking):
    booking, _ = paid_booking
    evt = sp.event("checkout.session.completed", sp.checkout_session(booking))
    statuses = _deliver_all_at_once(concurrent_app, [sp.signed(evt)] * 20)
    assert statuses == [200] * 20
    _assert_confirmed_once(booking.id)
    assert _count(Payment) == 1 and _count(StripeEvent) == 1
    assert db.session.get(StripeEvent, evt["id"]).attempts == 1


@pytest.mark.postgres_only
def test_session_and_intent_events_racing_confirm_once(concurrent_app, paid_booking):
    booking, _ = paid_booking
    intent = sp.payment_intent(booking)
    session = sp.checkout_session(booking, intent_id=intent["id"])
    checkout = sp.signed(sp.event("checkout.session.completed", session))
    succeeded = sp.signed(sp.event("payment_intent.succeeded", intent))
    statuses = _deliver_all_at_once(concurrent_app, [checkout, succeeded] * 10)
    assert statuses == [200] * 20
    _assert_confirmed_once(booking.id)
    assert _count(Payment) == 1 and _count(StripeEvent) == 2


def test_with_rq_the_webhook_only_stores_and_a_worker_applies(redis_app, clock):
    """The request stores the event; the `stripe` queue's job confirms; the text follows."""
    from app.jobs.worker import build_worker
    from tests.support.factories import Factories

    make = Factories(db.session, clock)
    number = make.number("sitter", sitter_id=make.sitter(with_login=False).id)
    booking = make.booking(sitter=number.sitter)
    evt = sp.event("checkout.session.completed", sp.checkout_session(booking))
    response = sp.deliver(redis_app.test_client(), evt)
    assert response.status_code == 200 and response.get_json()["status"] == "received"
    assert sp.stored(evt).status == "received"
    assert db.session.get(Booking, booking.id).status == "pending"
    assert _texts_to(booking.client.phone_e164) == []

    build_worker(redis_app, forking=False).work(burst=True)
    assert sp.stored(evt).status == "processed"
    [text] = _texts_to(booking.client.phone_e164)
    assert text.from_e164 == number.e164
