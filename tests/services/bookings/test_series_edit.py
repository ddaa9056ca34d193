"""plan_series_edit and edit_series_from: each occurrence keeps its own date and takes the new
wall-clock times (across DST, overnight when the end is earlier), and the sitter's time off is
found per visit day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from app.errors import InvalidInput
from app.services.bookings.series import RepeatRule, create_series, edit_series_from, plan_series_edit
from app.services.people.time_off import add_time_off, away_days

TZ = "America/New_York"
NY = ZoneInfo(TZ)


def local(day: datetime) -> str:
    return day.astimezone(NY).strftime("%a %d %b %H:%M")


@pytest.fixture
def weekly(make, clock):
    """Every Saturday 10:00-11:00 from 31 Oct 2026 (before the 1 Nov DST end) for 3 visits."""
    clock.set(datetime(2026, 10, 20, 12, tzinfo=UTC))
    client = make.client()
    start = datetime(2026, 10, 31, 10, tzinfo=NY).astimezone(UTC)
    made = create_series(client.org_id, client_id=client.id, sitter_id=None, service="Walk", start_at=start,
                         end_at=start.replace(hour=start.hour + 1), price_cents=2000, tz=TZ,
                         rule=RepeatRule(days=("sat",), count=3))
    return made.booking_ids


def test_new_times_keep_each_visits_date_across_the_dst_change(weekly, db):
    plan = plan_series_edit(weekly[0], start_time=time(8, 30), end_time=time(9, 0), price_cents=2200, tz=TZ)
    assert [local(e.new_start_at) for e in plan.edits] == ["Sat 31 Oct 08:30", "Sat 07 Nov 08:30",
                                                           "Sat 14 Nov 08:30"]
    assert {e.new_price_cents for e in plan.edits} == {2200}


def test_an_end_before_the_start_is_an_overnight_visit(weekly, db):
    plan = plan_series_edit(weekly[1], start_time=time(22, 0), end_time=time(7, 0), price_cents=5000, tz=TZ)
    assert [(local(e.new_start_at), local(e.new_end_at)) for e in plan.edits] == [
        ("Sat 07 Nov 22:00", "Sun 08 Nov 07:00"), ("Sat 14 Nov 22:00", "Sun 15 Nov 07:00")]
    results = edit_series_from(weekly[1], start_time=time(22, 0), end_time=time(7, 0), price_cents=5000, tz=TZ)
    assert [r.booking_id for r in results] == weekly[1:]
    assert all(r.times_changed and r.price_changed for r in results)


def test_a_new_time_already_past_today_is_refused(weekly, db, clock):
    clock.set(datetime(2026, 10, 31, 9, tzinfo=NY))  # the first visit is at 10:00 today
    with pytest.raises(InvalidInput) as refused:
        plan_series_edit(weekly[0], start_time=time(8, 0), end_time=time(9, 0), price_cents=2000, tz=TZ)
    assert refused.value.field == "start_time"


def test_time_off_is_found_on_every_day_an_overnight_visit_touches(make, db):
    sitter = make.sitter()
    add_time_off(sitter.org_id, sitter.id, date(2026, 12, 2), None)
    evening = datetime(2026, 12, 1, 22, tzinfo=NY)
    spans = [(evening, evening.replace(day=2, hour=7)), (evening.replace(day=5), evening.replace(day=5, hour=23))]
    assert away_days(sitter.id, spans, TZ) == [[date(2026, 12, 2)], []]
    assert away_days(None, spans, TZ) == [[], []]
