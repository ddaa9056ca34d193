"""Editing a series from one occurrence on: new times of day and price for that visit and every later
one, through the confirm step (every change listed, clashes and time off shown); started visits stay,
a paid visit keeps its price, and a confirmed visit moves exactly as a single reschedule does."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.models import AssignmentWindow, AutomationRun, Booking, EventLog, OutboxEntry
from app.services.people.time_off import add_time_off
from tests.blueprints.admin.test_series import at, page_text, series_bookings, series_form
from tests.support.factories import CONFIRMED


@pytest.fixture
def owner(make, login_as):
    user = make.user("owner")
    login_as(user)
    return user


def six_visits(client, make, db, sitter=None) -> list[Booking]:
    """Fri 27 Nov, Mon 30 Nov, Wed 2, Fri 4, Mon 7, Wed 9 Dec: 10:00-11:00 at 25.00."""
    data = series_form(make.client(name="Taylor Brooks"), sitter, repeat_until="", repeat_count="6")
    assert client.post("/admin/bookings/new", data={**data, **CONFIRMED}).status_code == 302
    bookings = series_bookings(db)
    assert len(bookings) == 6
    return bookings


NEW_TIMES = {"series-start_time": "09:00", "series-end_time": "09:30", "series-price": "30.00"}


def test_edit_from_the_third_of_six_changes_the_third_to_the_sixth_only(client, owner, make, db):
    bookings = six_visits(client, make, db, sitter=make.sitter(name="Sam Rivers"))
    third = bookings[2]
    step = client.post(f"/admin/bookings/{third.id}/series/edit", data=NEW_TIMES)
    page = page_text(step)
    assert step.status_code == 200
    assert "Change 4 bookings from this visit on?" in page
    for booking in bookings[2:]:
        assert f"#{booking.id} (" in page
    for booking in bookings[:2]:
        assert f"#{booking.id} (" not in page
    assert "10:00 AM – 11:00 AM → 9:00 AM – 9:30 AM; 25.00 USD → 30.00 USD" in page
    assert "None of them is confirmed, so nobody is texted." in page
    assert [b.start_at for b in series_bookings(db)] == [b.start_at for b in bookings]  # nothing yet

    done = client.post(f"/admin/bookings/{third.id}/series/edit", data={**NEW_TIMES, **CONFIRMED})
    assert done.status_code == 302
    after = series_bookings(db)
    assert [b.start_at for b in after] == [at(27), at(30), at(2, 9, 12), at(4, 9, 12), at(7, 9, 12), at(9, 9, 12)]
    assert [(b.end_at - b.start_at).total_seconds() for b in after] == [3600] * 2 + [1800] * 4
    assert [b.price_cents for b in after] == [2500, 2500, 3000, 3000, 3000, 3000]
    flashed = page_text(client.get(done.headers["Location"]))
    assert f"4 bookings from #{third.id} on changed" in flashed


def test_the_new_times_clash_and_time_off_are_shown_before_anything_changes(client, owner, make, db):
    sitter = make.sitter(name="Sam Rivers")
    bookings = six_visits(client, make, db, sitter=sitter)
    # Free at 10:00-11:00, taken at the new 9:00-9:30 on Fri 4 Dec.
    busy = make.booking(client=make.client(name="Jordan Lee"), sitter=sitter, start=at(4, hour=8, month=12),
                        hours=1.25, status="confirmed")
    add_time_off(sitter.org_id, sitter.id, date(2026, 12, 7), None, "Dentist")
    step = client.post(f"/admin/bookings/{bookings[2].id}/series/edit", data=NEW_TIMES)
    page = page_text(step)
    assert f"Fri 4 Dec, 9:00 AM clashes with Sam Rivers's booking #{busy.id} (Jordan Lee" in page
    assert f"Warning: Sam Rivers is away (time off) on Mon 7 Dec: booking #{bookings[4].id}." in page
    assert 'name="confirmed" value="1"' in page  # a warning, not a refusal
    assert {b.start_at.hour for b in series_bookings(db)} == {15}  # 10:00 New York: unchanged


def test_paid_visits_keep_their_price_and_confirmed_ones_move_as_a_reschedule(client, owner, make, db):
    make.number("pool"), make.number("pool"), make.number("pool")
    bookings = six_visits(client, make, db, sitter=make.sitter(name="Sam Rivers"))
    third, fourth, fifth = bookings[2], bookings[3], bookings[4]
    assert client.post(f"/admin/bookings/{fourth.id}/paid-in-person", data=CONFIRMED).status_code == 302
    assert client.post(f"/admin/bookings/{fifth.id}/confirm", data=CONFIRMED).status_code == 302
    texts_before = len(db.session.scalars(select(OutboxEntry)).all())

    page = page_text(client.post(f"/admin/bookings/{third.id}/series/edit", data=NEW_TIMES))
    assert f"#{fourth.id} (Fri 4 Dec, 10:00 AM, confirmed): 10:00 AM – 11:00 AM → 9:00 AM – 9:30 AM; paid: " \
           "keeps its price of 25.00 USD" in page
    assert f"#{fifth.id} (Mon 7 Dec, 10:00 AM, confirmed): 10:00 AM – 11:00 AM → 9:00 AM – 9:30 AM; " \
           "25.00 USD → 30.00 USD" in page
    assert "2 of them are confirmed: each moves as a reschedule does" in page
    assert "the client is not texted about the new time" in page

    assert client.post(f"/admin/bookings/{third.id}/series/edit",
                       data={**NEW_TIMES, **CONFIRMED}).status_code == 302
    after = {b.id: b for b in series_bookings(db)}
    assert after[fourth.id].price_cents == 2500 and after[fourth.id].start_at == at(4, 9, 12)
    assert after[fifth.id].price_cents == 3000 and after[fifth.id].start_at == at(7, 9, 12)
    assert after[third.id].price_cents == 3000 and after[bookings[5].id].price_cents == 3000
    # The windows follow, as a single reschedule's do (grace 60 min after the new end).
    windows = {w.booking_id: w for w in db.session.scalars(select(AssignmentWindow))}
    for booking_id, day in ((fourth.id, 4), (fifth.id, 7)):
        assert windows[booking_id].starts_at == at(day, 9, 12)
        assert (windows[booking_id].ends_at - at(day, 9, 12)).total_seconds() == 90 * 60
    # The same audit a reschedule writes, once per confirmed visit moved; the pending ones are edited.
    kinds = db.session.execute(select(EventLog.booking_id, EventLog.kind).where(
        EventLog.kind.in_(("booking.rescheduled", "booking.edited")))).all()
    assert sorted(b for b, k in kinds if k == "booking.rescheduled") == sorted([fourth.id, fifth.id])
    assert {b for b, k in kinds if k == "booking.edited"} >= {third.id, fifth.id, bookings[5].id}
    # Scheduled texts moved with the visits, and nobody was texted by the edit.
    followup = db.session.scalar(select(AutomationRun).where(AutomationRun.booking_id == fifth.id,
                                                             AutomationRun.kind == "visit_followup"))
    assert followup.status == "scheduled"
    assert followup.scheduled_for == windows[fifth.id].ends_at  # after the new window, not the old one
    assert len(db.session.scalars(select(OutboxEntry)).all()) == texts_before


def test_a_visit_already_started_stays_as_it_is(client, owner, make, db, clock, login_as):
    bookings = six_visits(client, make, db)
    third = bookings[2]
    clock.set(at(2, hour=10, month=12).replace(minute=15))  # the third visit is under way
    login_as(owner)  # a week later: the first login has ended
    page = page_text(client.post(f"/admin/bookings/{third.id}/series/edit", data=NEW_TIMES))
    assert "Change 3 bookings from this visit on?" in page
    assert f"#{third.id} (Wed 2 Dec, 10:00 AM) has already started: it stays as it is." in page
    assert client.post(f"/admin/bookings/{third.id}/series/edit",
                       data={**NEW_TIMES, **CONFIRMED}).status_code == 302
    after = series_bookings(db)
    assert after[2].start_at == at(2, month=12) and after[2].price_cents == 2500
    assert [b.start_at for b in after[3:]] == [at(4, 9, 12), at(7, 9, 12), at(9, 9, 12)]


def test_an_end_equal_to_the_start_is_refused_and_nothing_changes(client, owner, make, db):
    bookings = six_visits(client, make, db)
    response = client.post(f"/admin/bookings/{bookings[2].id}/series/edit",
                           data={**NEW_TIMES, "series-end_time": "09:00", **CONFIRMED})
    assert response.status_code == 302
    assert "The end must be after the start." in page_text(client.get(response.headers["Location"]))
    assert {(b.start_at.hour, b.price_cents) for b in series_bookings(db)} == {(15, 2500)}


def test_the_booking_page_offers_the_edit_filled_with_this_visits_times(client, owner, make, db):
    bookings = six_visits(client, make, db)
    page = page_text(client.get(f"/admin/bookings/{bookings[2].id}"))
    assert "Change the times and price from this visit on" in page
    assert 'name="series-start_time"' in page and 'value="10:00"' in page and 'value="11:00"' in page


def test_another_orgs_series_cannot_be_edited(client, owner, make, db):
    other = make.booking(org=make.org(), sitter=False)
    assert client.post(f"/admin/bookings/{other.id}/series/edit",
                       data={**NEW_TIMES, **CONFIRMED}).status_code == 404
