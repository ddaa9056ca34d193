"""`flask --app app seed-demo`: a usable demo around now, safe to run twice."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AssignmentWindow,
    AutomationRun,
    Booking,
    Client,
    EventLog,
    Message,
    MessageNumber,
    Org,
    Thread,
    User,
)

MODELS = (Org, User, Client, MessageNumber, Booking, Thread, AssignmentWindow, AutomationRun, Message,
          EventLog)


def _counts() -> dict:
    db.session.rollback()
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in MODELS}


def test_seed_demo_twice_duplicates_nothing_and_confirmed_bookings_get_threads(app, clock):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "owner@demo.pawline.test" in first.output
    after_first = _counts()

    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "already there" in second.output
    assert _counts() == after_first

    bookings = db.session.scalars(select(Booking).order_by(Booking.id)).all()
    confirmed = [b for b in bookings if b.status in ("confirmed", "completed")]
    assert len(confirmed) == 4 and [b.status for b in bookings].count("pending") == 1
    for booking in confirmed:
        thread = db.session.scalar(select(Thread).where(Thread.booking_id == booking.id))
        window = db.session.scalar(select(AssignmentWindow).where(AssignmentWindow.booking_id == booking.id))
        assert thread is not None and window is not None
        assert window.sitter_id == booking.sitter_id
    reasons = set(db.session.scalars(select(Thread.number_reason)))
    assert reasons == {"sitter_dedicated", "pool_lru"}
    assert after_first["Message"] >= 2  # confirmations for the upcoming visits went out
