"""Check-in and check-out: the allowed span, only the assigned sitter, the distance and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.errors import NotFound
from app.extensions import db
from app.models import EventLog, Message
from app.models.visits import ClientAddressPoint, VisitCheck
from app.services.bookings.lifecycle import cancel_booking
from app.services.visits.checks import CheckRefused, Position, check_in, check_out, distance_m
from tests.support.messaging_builders import as_first_text
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York


@pytest.fixture
def visit(make, clock):
    clock.set(START - timedelta(hours=2))
    client = make.client(name="Alex Morgan", pets=("Biscuit",))
    return make_visit(make, start=START, hours=1, client=client)


def _check(booking_id: int) -> VisitCheck | None:
    db.session.rollback()
    return db.session.scalar(select(VisitCheck).where(VisitCheck.booking_id == booking_id))


def test_check_in_is_refused_before_30_minutes_ahead_with_the_time_it_opens(visit, clock):
    clock.set(START - timedelta(minutes=31))
    with pytest.raises(CheckRefused, match=r"Too early to check in: it opens at 8:30 AM, 30 minutes before"):
        check_in(visit.user.id, visit.booking.id)
    assert _check(visit.booking.id) is None


def test_check_in_opens_30_minutes_before_the_visit_and_is_recorded_once(visit, clock):
    clock.set(START - timedelta(minutes=30))
    first = check_in(visit.user.id, visit.booking.id)
    assert not first.already and first.notice == "Checked in at 8:30 AM."
    clock.advance(minutes=5)
    again = check_in(visit.user.id, visit.booking.id)
    assert again.already and again.notice == "Already checked in at 8:30 AM."
    assert _check(visit.booking.id).checked_in_at == START - timedelta(minutes=30)
    kinds = db.session.scalars(select(EventLog.kind)).all()
    assert kinds.count("visit.checked_in") == 1


def test_check_in_is_refused_after_the_window_ends(visit, clock):
    clock.set(visit.window.ends_at)  # the end plus the org's grace: closed (the end is exclusive)
    with pytest.raises(CheckRefused, match=r"Too late to check in: this visit's window ended at 11:00 AM"):
        check_in(visit.user.id, visit.booking.id)


def test_only_the_assigned_sitter_may_check_in(visit, make, clock):
    clock.set(START)
    other = make.sitter()
    with pytest.raises(NotFound):
        check_in(other.user.id, visit.booking.id)
    assert _check(visit.booking.id) is None


def test_a_cancelled_visit_cannot_be_checked_in(visit, clock):
    cancel_booking(visit.booking.id, "client away")
    clock.set(START)
    with pytest.raises(CheckRefused, match="cancelled"):
        check_in(visit.user.id, visit.booking.id)


def test_check_out_needs_a_check_in_and_then_happens_once(visit, clock):
    clock.set(START + timedelta(minutes=5))
    with pytest.raises(CheckRefused, match="Check in first"):
        check_out(visit.user.id, visit.booking.id)
    check_in(visit.user.id, visit.booking.id)
    clock.set(START + timedelta(minutes=50))
    done = check_out(visit.user.id, visit.booking.id)
    assert done.notice.startswith("Checked out at 9:50 AM")
    assert check_out(visit.user.id, visit.booking.id).already
    row = _check(visit.booking.id)
    assert (row.checked_in_at, row.checked_out_at) == (START + timedelta(minutes=5), START + timedelta(minutes=50))


def _next_day(make, visit):
    return make_visit(make, sitter=visit.sitter, start=START + timedelta(days=1), hours=1)


def test_check_out_is_allowed_in_the_grace_after_the_visit_and_refused_after_it(visit, make, clock):
    clock.set(START)
    check_in(visit.user.id, visit.booking.id)
    clock.set(visit.booking.end_at + timedelta(minutes=30))
    check_out(visit.user.id, visit.booking.id)
    assert _check(visit.booking.id).checked_out_at is not None

    late = _next_day(make, visit)
    clock.set(START + timedelta(days=1))
    check_in(visit.user.id, late.booking.id)
    clock.set(late.window.ends_at + timedelta(seconds=1))
    with pytest.raises(CheckRefused, match="Too late to check out"):
        check_out(visit.user.id, late.booking.id)


def test_a_shared_position_becomes_a_distance_and_the_coordinates_are_not_kept(visit, make, clock):
    db.session.add(ClientAddressPoint(org_id=visit.booking.org_id, client_id=visit.booking.client_id,
                                      latitude=38.9097, longitude=-77.0434))
    db.session.commit()
    clock.set(START)
    outcome = check_in(visit.user.id, visit.booking.id, Position(38.9106, -77.0434, 12.0))
    assert outcome.distance_m == 100 and "100 m from the address" in outcome.notice
    row = _check(visit.booking.id)
    assert row.check_in_distance_m == 100
    stored = str({c.name: getattr(row, c.name) for c in VisitCheck.__table__.columns})
    stored += str([e.payload for e in db.session.scalars(select(EventLog))])
    assert "38.91" not in stored and "77.04" not in stored


def test_no_address_point_or_a_vague_position_gives_no_distance(visit, clock):
    clock.set(START)
    assert check_in(visit.user.id, visit.booking.id, Position(38.9, -77.0, 10.0)).distance_m is None


def test_distance_is_great_circle_metres():
    assert distance_m(38.9097, -77.0434, 38.9097, -77.0434) == 0
    assert 110_000 < distance_m(38.0, -77.0, 39.0, -77.0) < 112_000


def test_the_arrived_text_goes_from_the_thread_number_only_when_the_org_turned_it_on(visit, make, clock):
    clock.set(START)
    check_in(visit.user.id, visit.booking.id)
    assert db.session.scalar(select(Message)) is None  # off by default

    other = _next_day(make, visit)
    org = visit.booking.org
    org.visit_arrival_texts = True
    db.session.commit()
    clock.set(START + timedelta(days=1))
    outcome = check_in(visit.user.id, other.booking.id)
    [message] = db.session.scalars(select(Message)).all()
    assert message.thread_id == other.thread.id and message.from_e164 == other.thread.message_number.e164
    arrived = f"{visit.sitter.first_name} from {org.name} has arrived for Biscuit's visit."
    assert message.body == as_first_text(arrived, org.name)
    assert "is told you have arrived (queued to send)" in outcome.notice


def test_on_my_way_is_texted_once_when_the_org_sends_such_texts(visit, clock):
    from app.services.visits.checks import on_my_way

    clock.set(START - timedelta(minutes=40))
    with pytest.raises(CheckRefused, match="not turned on"):
        on_my_way(visit.user.id, visit.booking.id)
    org = visit.booking.org
    org.visit_arrival_texts = True
    db.session.commit()
    outcome = on_my_way(visit.user.id, visit.booking.id)
    assert outcome.notice == "Alex will be told you are on the way (queued to send)."
    assert on_my_way(visit.user.id, visit.booking.id).already
    [message] = db.session.scalars(select(Message)).all()
    on_the_way = f"{visit.sitter.first_name} from {org.name} is on the way to Biscuit's visit."
    assert message.body == as_first_text(on_the_way, org.name)
    assert message.from_e164 == visit.thread.message_number.e164
