"""The visits a repeat rule makes: chosen weekdays, every N weeks, until a date or N visits,
at the same wall-clock time across a DST change, and bounded."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.errors import InvalidInput
from app.services.bookings.series import MAX_OCCURRENCES, RepeatRule, occurrences

TZ = "America/New_York"


def local_starts(found) -> list[str]:
    from zoneinfo import ZoneInfo
    return [o.start_at.astimezone(ZoneInfo(TZ)).strftime("%a %d %b %H:%M") for o in found]


def test_the_wall_clock_time_holds_across_the_spring_dst_change():
    start = datetime(2027, 3, 11, 14, 0, tzinfo=UTC)  # Thu 11 Mar 2027, 9:00 EST
    found = occurrences(start, datetime(2027, 3, 11, 15, 0, tzinfo=UTC), TZ,
                        RepeatRule(days=("thu",), until=date(2027, 3, 18)))
    assert local_starts(found) == ["Thu 11 Mar 09:00", "Thu 18 Mar 09:00"]
    assert [o.start_at.hour for o in found] == [14, 13]  # EST then EDT
    assert all((o.end_at - o.start_at).total_seconds() == 3600 for o in found)


def test_every_two_weeks_counts_from_the_first_visits_week():
    start = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # Thu 26 Nov
    found = occurrences(start, datetime(2026, 11, 26, 16, 0, tzinfo=UTC), TZ,
                        RepeatRule(days=("mon", "thu"), every=2, count=4))
    assert local_starts(found) == ["Thu 26 Nov 10:00", "Mon 07 Dec 10:00", "Thu 10 Dec 10:00", "Mon 21 Dec 10:00"]


@pytest.mark.parametrize(("rule", "field"), [
    (RepeatRule(days=()), "repeat_days"),
    (RepeatRule(days=("mon",)), "repeat_until"),
    (RepeatRule(days=("mon",), every=0, count=2), "repeat_every"),
    (RepeatRule(days=("mon",), count=MAX_OCCURRENCES + 1), "repeat_count"),
    (RepeatRule(days=tuple("mon tue wed thu fri sat sun".split()), until=date(2027, 12, 31)), "repeat_until"),
])
def test_a_rule_that_makes_no_sense_or_too_many_visits_is_refused_at_its_field(rule, field):
    start = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput) as refused:
        occurrences(start, datetime(2026, 11, 26, 16, 0, tzinfo=UTC), TZ, rule)
    assert refused.value.field == field
