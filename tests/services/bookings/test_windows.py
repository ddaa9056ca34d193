"""Window rules and the sentences a sitter reads about them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.services.bookings.windows import compose_state, describe_duration, sitter_may_send, window_is_open
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM in New York


@pytest.fixture
def visit(make):
    return make_visit(make, start=START, hours=8)  # 9:00 AM – 5:00 PM, closes 6:00 PM


EDGES = [  # offset from the visit's start → may the sitter send?
    (timedelta(seconds=-1), False),
    (timedelta(0), True),
    (timedelta(hours=9) - timedelta(seconds=1), True),  # end + grace − 1 s
    (timedelta(hours=9), False),  # end + grace
]


def test_window_edges(visit):
    for offset, expected in EDGES:
        now = START + offset
        assert window_is_open(visit.window, now) is expected, offset
        assert sitter_may_send(visit.window, visit.booking, visit.sitter.id, now) is expected, offset
        assert compose_state(visit.window, visit.booking, _org(visit), now).is_open is expected, offset


def _org(visit):
    from app.extensions import db
    from app.models import Org

    return db.session.get(Org, visit.booking.org_id)


def test_only_the_windows_sitter_of_a_confirmed_booking_may_send(make, visit):
    now = START + timedelta(hours=1)
    other = make.sitter()
    assert not sitter_may_send(visit.window, visit.booking, other.id, now)
    visit.booking.status = "pending"
    assert not sitter_may_send(visit.window, visit.booking, visit.sitter.id, now)
    visit.booking.status = "cancelled"
    assert not sitter_may_send(visit.window, visit.booking, visit.sitter.id, now)


def test_closed_texts_say_when_in_org_time(visit):
    org = _org(visit)
    before = compose_state(visit.window, visit.booking, org, START - timedelta(hours=1))
    assert before.text == "Messaging opens at 9:00 AM (visit start)" and before.reason == "not_started"
    after = compose_state(visit.window, visit.booking, org, START + timedelta(hours=10))
    assert after.text == "Messaging closed at 6:00 PM, one hour after the visit"
    during = compose_state(visit.window, visit.booking, org, START + timedelta(hours=8, minutes=30))
    assert during.is_open and during.text == "Messaging open until 6:00 PM (30 min left)"


def test_opening_on_another_day_names_the_day(visit):
    state = compose_state(visit.window, visit.booking, _org(visit), START - timedelta(days=1))
    assert state.text == "Messaging opens at Wed 25 Nov, 9:00 AM (visit start)"


def test_grace_comes_from_the_org(make):
    org = make.org(grace_minutes=30)
    v = make_visit(make, org=org, start=START, hours=1)
    state = compose_state(v.window, v.booking, org, START + timedelta(hours=2))
    assert state.text == "Messaging closed at 10:30 AM, 30 minutes after the visit"


def test_cancelled_booking_says_so(visit):
    visit.booking.status = "cancelled"
    state = compose_state(visit.window, visit.booking, _org(visit), START + timedelta(hours=1))
    assert not state.is_open and state.reason == "cancelled"
    assert state.text == "Messaging closed: this booking was cancelled"


def test_describe_duration():
    assert describe_duration(60) == "one hour"
    assert describe_duration(120) == "2 hours"
    assert describe_duration(90) == "1 hour 30 minutes"
    assert describe_duration(1) == "1 minute"
