"""How many SQL statements applying one paid Stripe event takes (issue 28: the apply job near its
floor). Pinned per backend: a change that adds a round trip to every payment shows up here."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import Booking
from app.services.payments.stripe_events import apply_stripe_event
from tests.support import stripe_payloads as sp

# The apply of a paid checkout for a fresh booking, up to its commit (the confirmation's own jobs
# go to Redis): count the try; lock the event (and its payment intent); lock the booking with its
# org and whether a refund waits; insert the payment; settle the event; the confirmation (booking,
# number, thread, window, automation runs, audit). Before issue 28: 16 (the intent's lock, the
# waiting-refund read and a second UPDATE of the booking were round trips of their own).
STATEMENTS = 13
# SQLite's transaction and write-lock mechanics (app.persistence.sqlite, lock_row's no-op UPDATE)
# are not counted: the same work is pinned on both backends.
_SQLITE_LOCKING = ("BEGIN", "UPDATE stripe_events SET id = id", "UPDATE bookings SET id = id")


def _statements(fn) -> list[str]:
    seen = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith(_SQLITE_LOCKING):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return seen


@pytest.fixture
def paid_booking(redis_app, clock):
    from tests.support.factories import Factories

    make = Factories(db.session, clock)
    make.number("front_desk")
    booking = make.booking(sitter=make.number("sitter", sitter_id=make.sitter(with_login=False).id).sitter)
    db.session.commit()
    return booking


def test_applying_a_paid_event_takes_a_pinned_number_of_statements(redis_app, paid_booking, backend):
    booking_id = paid_booking.id
    evt = sp.event("checkout.session.completed", sp.checkout_session(paid_booking, intent_id="pi_pinned"))
    assert sp.deliver(redis_app.test_client(), evt).status_code == 200
    db.session.remove()
    seen = _statements(lambda: apply_stripe_event(evt["id"]))
    db.session.rollback()
    assert db.session.get(Booking, booking_id).status == "confirmed"
    assert len(seen) == STATEMENTS, "\n".join(" ".join(s.split())[:160] for s in seen)
    if backend == "postgresql":  # the intent's lock rides on the event's locking statement
        (event_lock,) = [s for s in seen if s.startswith("SELECT stripe_events.")]
        assert "pg_advisory_xact_lock" in event_lock and "FOR NO KEY UPDATE OF stripe_events" in event_lock
        (booking_lock,) = [s for s in seen if "FOR NO KEY UPDATE OF bookings" in s]
        assert "stripe_events.type =" in booking_lock  # the waiting-refund read rides on the booking's lock
    # No separate read of waiting refunds: stripe_events is read once, by its locking statement.
    assert len([s for s in seen if s.startswith("SELECT stripe_events.")]) == 1
