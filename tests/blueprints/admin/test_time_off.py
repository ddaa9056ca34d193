"""A sitter's time off: owners and staff add and remove it on the sitter's page, the sitter sees
theirs, the calendar greys it, and every way of giving the sitter a visit on a day off warns in
the confirm step (listing the dates) without refusing."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.models import Booking, EventLog, SitterTimeOff
from app.services.people.time_off import add_time_off
from tests.support.factories import CONFIRMED

NY = ZoneInfo("America/New_York")
# The clock: Wed 25 Nov 2026, 10:00 in New York.


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=NY).astimezone(UTC)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def owner(make, login_as):
    user = make.user("owner")
    login_as(user)
    return user


@pytest.fixture
def sasha(make):
    return make.sitter(name="Sasha Sitter")


def away(sitter, first: date, last: date | None = None, note: str = ""):
    return add_time_off(sitter.org_id, sitter.id, first, last, note)


@pytest.mark.parametrize("role", ["owner", "staff"])
def test_owners_and_staff_add_and_remove_time_off_on_the_sitters_page(client, make, login_as, sasha, db, role):
    login_as(make.user(role))
    added = client.post(f"/admin/sitters/{sasha.id}/time-off",
                        data={"first_day": "2026-12-01", "last_day": "2026-12-03", "note": "Family visit"})
    assert added.status_code == 302
    page = text(client.get(f"/admin/sitters/{sasha.id}"))
    assert "Time off saved: Sasha Sitter is away Tue 1 Dec to Thu 3 Dec" in page
    assert "Tue 1 Dec 2026 to Thu 3 Dec 2026 · Family visit" in page
    row = db.session.scalar(select(SitterTimeOff))
    assert (row.first_day, row.last_day) == (date(2026, 12, 1), date(2026, 12, 3))
    removed = client.post(f"/admin/sitters/{sasha.id}/time-off/{row.id}/remove", data={})
    assert removed.status_code == 302
    assert db.session.scalar(select(SitterTimeOff)) is None
    kinds = db.session.scalars(select(EventLog.kind).where(EventLog.sitter_id == sasha.id)).all()
    assert "sitter.time_off_added" in kinds and "sitter.time_off_removed" in kinds


def test_a_last_day_before_the_first_is_refused_at_its_field(client, owner, sasha, db):
    response = client.post(f"/admin/sitters/{sasha.id}/time-off",
                           data={"first_day": "2026-12-03", "last_day": "2026-12-01"})
    assert response.status_code == 422
    assert 'data-field="last_day">The last day is before the first.' in text(response)
    assert db.session.scalar(select(SitterTimeOff)) is None


def test_another_orgs_sitter_and_time_off_are_not_found(client, owner, make, db):
    other = make.sitter(org=make.org())
    row = away(other, date(2026, 12, 1))
    assert client.post(f"/admin/sitters/{other.id}/time-off", data={"first_day": "2026-12-01"}).status_code == 404
    assert client.post(f"/admin/sitters/{other.id}/time-off/{row.id}/remove", data={}).status_code == 404
    mine = make.sitter()
    assert client.post(f"/admin/sitters/{mine.id}/time-off/{row.id}/remove", data={}).status_code == 404
    assert db.session.get(SitterTimeOff, row.id) is not None


def test_a_sitter_sees_their_own_time_off_and_not_anothers(client, make, login_as, sasha):
    other = make.sitter(name="Devon Walker")
    away(sasha, date(2026, 12, 1), date(2026, 12, 2), "Wedding")
    away(other, date(2026, 12, 9), note="Exam")
    login_as(sasha.user)
    page = text(client.get("/sitter/upcoming"))
    assert "Your time off" in page and "Tue 1 Dec to Wed 2 Dec · Wedding" in page
    assert "Exam" not in page and "Wed 9 Dec" not in page


def test_the_calendar_greys_a_sitters_days_off(client, owner, make, sasha):
    away(sasha, date(2026, 11, 27))
    page = text(client.get("/admin/calendar?view=week&date=2026-11-25"))
    row = page.split('data-sitter="Sasha Sitter"', 1)[1].split("</tr>", 1)[0]
    assert row.count('class="day-off"') == 1 and 'data-away="2026-11-27"' in row
    day = text(client.get("/admin/calendar?date=2026-11-27"))
    assert "Away (time off)" in day
    assert "Away (time off)" not in text(client.get("/admin/calendar?date=2026-11-26"))


def booking_form(client_row, sitter, start="2026-12-01T10:00", end="2026-12-01T11:00") -> dict:
    return {"client_id": client_row.id, "sitter_id": sitter.id, "service": "Dog walk", "start_at": start,
            "end_at": end, "price": "25.00"}


def test_the_booking_form_warns_when_the_sitter_is_away_and_creates_on_yes(client, owner, make, sasha, db):
    away(sasha, date(2026, 12, 1), date(2026, 12, 2))
    data = booking_form(make.client(), sasha)
    step = client.post("/admin/bookings/new", data=data)
    page = text(step)
    assert step.status_code == 200
    assert "Warning: Sasha Sitter is away (time off) on Tue 1 Dec." in page
    assert 'name="confirmed" value="1"' in page
    assert db.session.scalar(select(Booking)) is None
    assert client.post("/admin/bookings/new", data={**data, **CONFIRMED}).status_code == 302
    assert db.session.scalar(select(Booking)).sitter_id == sasha.id


def test_the_booking_form_has_no_extra_step_when_the_sitter_is_not_away(client, owner, make, sasha, db):
    away(sasha, date(2026, 12, 5))
    assert client.post("/admin/bookings/new", data=booking_form(make.client(), sasha)).status_code == 302
    assert db.session.scalar(select(Booking)) is not None


def test_editing_a_pending_booking_onto_a_day_off_warns(client, owner, make, sasha, db):
    booking = make.booking(sitter=sasha, start=at(12, 3))
    away(sasha, date(2026, 12, 1))
    data = booking_form(booking.client, sasha)
    page = text(client.post(f"/admin/bookings/{booking.id}/edit", data=data))
    assert f"Save booking #{booking.id} with a sitter who is away?" in page
    assert "away (time off) on Tue 1 Dec" in page
    assert client.post(f"/admin/bookings/{booking.id}/edit", data={**data, **CONFIRMED}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).start_at == at(12, 1)


def test_change_sitter_and_the_calendar_reassign_warn_with_the_dates(client, owner, make, sasha, db):
    booking = make.booking(sitter=make.sitter(name="Devon Walker"), start=at(12, 1, 23), hours=2)  # overnight
    away(sasha, date(2026, 12, 1), date(2026, 12, 2))
    for headers in ({}, {"HX-Request": "true"}):  # the booking page's form, and the calendar's select
        page = text(client.post(f"/admin/bookings/{booking.id}/sitter", data={"sitter_id": sasha.id},
                                headers=headers))
        assert "Warning: Sasha Sitter is away (time off) on Tue 1 Dec, Wed 2 Dec." in page
        assert 'name="confirmed" value="1"' in page
    assert client.post(f"/admin/bookings/{booking.id}/sitter",
                       data={"sitter_id": sasha.id, **CONFIRMED}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).sitter_id == sasha.id


def test_a_new_series_marks_each_visit_on_a_day_off(client, owner, make, sasha):
    away(sasha, date(2026, 11, 30))
    data = {**booking_form(make.client(), sasha, "2026-11-26T10:00", "2026-11-26T11:00"),
            "repeat_days": ["mon", "wed"], "repeat_until": "2026-12-02", "repeat_every": "1"}
    page = text(client.post("/admin/bookings/new", data=data))
    assert "Warning: Sasha Sitter is away (time off) for 1 of these visits" in page
    lines = page.split("<li>")
    assert [line for line in lines if line.startswith("Mon 30 Nov")][0].split("</li>")[0].endswith(
        "Sasha Sitter is away (time off) on Mon 30 Nov")
    assert "away" not in [line for line in lines if line.startswith("Wed 2 Dec")][0].split("</li>")[0]


def test_changing_a_series_sitter_warns_per_visit_on_a_day_off(client, owner, make, sasha, db):
    other = make.sitter(name="Devon Walker")
    data = {**booking_form(make.client(), other, "2026-11-26T10:00", "2026-11-26T11:00"),
            "repeat_days": ["mon", "wed"], "repeat_until": "2026-12-02", "repeat_every": "1", **CONFIRMED}
    assert client.post("/admin/bookings/new", data=data).status_code == 302
    away(sasha, date(2026, 12, 2))
    bookings = db.session.scalars(select(Booking).order_by(Booking.start_at)).all()
    page = text(client.post(f"/admin/bookings/{bookings[0].id}/series/sitter", data={"sitter_id": sasha.id}))
    assert f"Warning: Sasha Sitter is away (time off) on Wed 2 Dec: booking #{bookings[1].id}" in page
    assert f"booking #{bookings[0].id} (Mon 30 Nov" not in page.split("Warning:", 1)[1]
