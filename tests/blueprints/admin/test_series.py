"""Recurring visits from the booking form: the occurrences (and the sitter's clashes) are shown first,
then one ordinary booking per visit; a series is cancelled or reassigned from one visit onwards."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.models import AssignmentWindow, Booking, OutboxEntry, Thread
from tests.support.factories import CONFIRMED

NY = ZoneInfo("America/New_York")


@pytest.fixture
def owner(make, login_as):
    user = make.user("owner")
    login_as(user)
    return user


def at(day: int, hour: int = 10, month: int = 11) -> datetime:
    """An org-local (New York) time in late 2026, as aware UTC."""
    return datetime(2026, month, day, hour, 0, tzinfo=NY).astimezone(UTC)


def series_form(client_row, sitter=None, **over) -> dict:
    # The clock is Wed 25 Nov 2026, 10:00 in New York; the first visit is Thu 26 Nov, 10:00-11:00.
    data = {"client_id": client_row.id, "sitter_id": sitter.id if sitter else 0, "service": "Dog walk",
            "start_at": "2026-11-26T10:00", "end_at": "2026-11-26T11:00", "price": "25.00",
            "repeat_days": ["mon", "wed", "fri"], "repeat_until": "2026-12-11", "repeat_every": "1"}
    data.update(over)
    return data


def series_bookings(db) -> list[Booking]:
    db.session.rollback()
    return list(db.session.scalars(select(Booking).where(Booking.series_id.is_not(None)).order_by(Booking.start_at)))


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_preview_lists_every_visit_and_creates_nothing(client, owner, make, db):
    step = client.post("/admin/bookings/new", data=series_form(make.client(name="Taylor Brooks")))
    page = page_text(step)
    assert step.status_code == 200
    assert "Create 7 bookings for Taylor Brooks?" in page
    for day in ("Fri 27 Nov", "Mon 30 Nov", "Wed 2 Dec", "Fri 4 Dec", "Mon 7 Dec", "Wed 9 Dec", "Fri 11 Dec"):
        assert f"{day}, 10:00 AM – 11:00 AM" in page
    assert "Thu 26 Nov" not in page  # the start date is not one of the chosen weekdays
    assert 'name="confirmed" value="1"' in page
    assert page.count('name="repeat_days"') == 3  # the rule rides along to the yes
    assert series_bookings(db) == []


def test_yes_creates_one_pending_booking_per_visit_in_one_series(client, owner, make, db):
    sitter = make.sitter(name="Sam Rivers")
    response = client.post("/admin/bookings/new", data={**series_form(make.client(), sitter), **CONFIRMED})
    assert response.status_code == 302
    bookings = series_bookings(db)
    assert [b.start_at for b in bookings] == [at(27), at(30), at(2, month=12), at(4, month=12), at(7, month=12),
                                              at(9, month=12), at(11, month=12)]
    assert {b.status for b in bookings} == {"pending"}
    assert {b.sitter_id for b in bookings} == {sitter.id}
    assert {b.price_cents for b in bookings} == {2500}
    assert len({b.series_id for b in bookings}) == 1 and bookings[0].series_id
    assert response.headers["Location"].endswith(f"/admin/bookings/{bookings[0].id}")
    flashed = page_text(client.get(response.headers["Location"]))
    assert "7 bookings created (pending)" in flashed
    assert "Repeating visits" in flashed and "Cancel from this visit on" in flashed


def test_every_other_week_for_a_number_of_visits(client, owner, make, db):
    data = series_form(make.client(), repeat_days=["mon"], repeat_every="2", repeat_until="", repeat_count="3")
    assert client.post("/admin/bookings/new", data={**data, **CONFIRMED}).status_code == 302
    assert [b.start_at for b in series_bookings(db)] == [at(30), at(14, month=12), at(28, month=12)]


def test_clashes_with_the_sitters_other_visits_are_shown_before_creating(client, owner, make, db):
    sitter = make.sitter(name="Sam Rivers")
    other = make.booking(client=make.client(name="Jordan Lee"), sitter=sitter, start=at(30, hour=9),
                         hours=2, status="confirmed")
    step = client.post("/admin/bookings/new", data=series_form(make.client(), sitter))
    page = page_text(step)
    assert "1 of these visits clash with Sam Rivers's other visits." in page
    clash_line = [line for line in page.split("<li>") if line.startswith("Mon 30 Nov")][0]
    assert f"clashes with Sam Rivers's booking #{other.id} (Jordan Lee" in clash_line
    assert not any("clashes" in line for line in page.split("<li>") if line.startswith("Wed 2 Dec"))


def test_a_repeat_that_ends_before_it_starts_is_refused_at_its_field(client, owner, make, db):
    response = client.post("/admin/bookings/new", data=series_form(make.client(), repeat_until="2026-11-20"))
    assert response.status_code == 422
    assert 'data-field="repeat_until">The repeat ends before the first visit.' in page_text(response)
    assert series_bookings(db) == []


def test_a_repeat_without_an_end_is_refused_and_the_ticked_days_are_kept(client, owner, make, db):
    response = client.post("/admin/bookings/new", data={**series_form(make.client(), repeat_until=""), **CONFIRMED})
    page = page_text(response)
    assert response.status_code == 422
    assert 'data-field="repeat_until">Say until when it repeats' in page
    assert page.count("checked") == 3
    assert series_bookings(db) == []


def make_series(client, make, db, sitter=None, **over) -> list[Booking]:
    data = series_form(make.client(name="Taylor Brooks"), sitter, repeat_until="2026-12-04", **over)
    assert client.post("/admin/bookings/new", data={**data, **CONFIRMED}).status_code == 302
    return series_bookings(db)  # Fri 27, Mon 30, Wed 2, Fri 4


def test_each_occurrence_is_confirmed_and_paid_on_its_own(client, owner, make, db):
    make.number("pool"), make.number("pool")  # one client's open threads never share a pool number
    first, second, third, _ = make_series(client, make, db, sitter=make.sitter())
    assert client.post(f"/admin/bookings/{first.id}/confirm", data=CONFIRMED).status_code == 302
    assert client.post(f"/admin/bookings/{third.id}/paid-in-person", data=CONFIRMED).status_code == 302
    bookings = series_bookings(db)
    assert [b.status for b in bookings] == ["confirmed", "pending", "confirmed", "pending"]
    assert [b.paid_at is not None for b in bookings] == [False, False, True, False]
    threads = db.session.scalars(select(Thread.booking_id)).all()
    assert sorted(threads) == [first.id, third.id]
    windows = db.session.scalars(select(AssignmentWindow.booking_id)).all()
    assert sorted(windows) == [first.id, third.id]
    assert len(db.session.scalars(select(OutboxEntry)).all()) == 2  # one confirmation each


def test_cancel_from_one_visit_on_leaves_the_earlier_ones_and_tells_the_client(client, owner, make, db):
    make.number("pool"), make.number("pool")
    first, second, third, fourth = make_series(client, make, db, sitter=make.sitter())
    for booking in (first, third):
        client.post(f"/admin/bookings/{booking.id}/confirm", data=CONFIRMED)
    step = client.post(f"/admin/bookings/{second.id}/series/cancel", data={"reason": "Moving away"})
    page = page_text(step)
    assert "Cancel 3 bookings from this visit on?" in page
    assert f"#{second.id} (Mon 30 Nov, 10:00 AM)" in page and f"#{first.id} (" not in page
    assert "got a confirmation for 1 of them" in page
    assert [b.status for b in series_bookings(db)] == ["confirmed", "pending", "confirmed", "pending"]
    done = client.post(f"/admin/bookings/{second.id}/series/cancel", data={"reason": "Moving away", **CONFIRMED})
    assert done.status_code == 302
    bookings = series_bookings(db)
    assert [b.status for b in bookings] == ["confirmed", "cancelled", "cancelled", "cancelled"]
    assert {b.cancel_reason for b in bookings[1:]} == {"Moving away"}
    texts = db.session.scalars(select(OutboxEntry.body).order_by(OutboxEntry.id)).all()
    assert len(texts) == 3 and "has been cancelled" in texts[2]
    flashed = page_text(client.get(done.headers["Location"]))
    assert f"3 bookings cancelled from #{second.id} on" in flashed


def test_cancel_from_here_needs_a_reason(client, owner, make, db):
    _, second, _, _ = make_series(client, make, db)
    response = client.post(f"/admin/bookings/{second.id}/series/cancel", data={"reason": " ", **CONFIRMED})
    assert response.status_code == 302
    assert "Say why the visits are cancelled." in page_text(client.get(response.headers["Location"]))
    assert {b.status for b in series_bookings(db)} == {"pending"}


def test_change_sitter_from_one_visit_on_with_the_clash_shown_first(client, owner, make, db):
    old, new = make.sitter(name="Sam Rivers"), make.sitter(name="Devon Walker")
    first, second, third, fourth = make_series(client, make, db, sitter=old)
    busy = make.booking(client=make.client(name="Jordan Lee"), sitter=new, start=at(4, hour=9, month=12), hours=2)
    step = client.post(f"/admin/bookings/{third.id}/series/sitter", data={"sitter_id": new.id})
    page = page_text(step)
    assert "Change the sitter of 2 bookings from this visit on?" in page
    assert f"Fri 4 Dec, 10:00 AM clashes with Devon Walker's booking #{busy.id} (Jordan Lee)" in page
    assert client.post(f"/admin/bookings/{third.id}/series/sitter",
                       data={"sitter_id": new.id, **CONFIRMED}).status_code == 302
    assert [b.sitter_id for b in series_bookings(db)] == [old.id, old.id, new.id, new.id]


def test_change_sitter_from_here_to_an_inactive_sitter_changes_nothing(client, owner, make, db):
    old, gone = make.sitter(), make.sitter(name="Gone Away", active=False)
    _, second, _, _ = make_series(client, make, db, sitter=old)
    response = client.post(f"/admin/bookings/{second.id}/series/sitter", data={"sitter_id": gone.id, **CONFIRMED})
    assert response.status_code == 302
    assert {b.sitter_id for b in series_bookings(db)} == {old.id}


def test_another_orgs_series_is_not_found(client, owner, make, db):
    other = make.booking(org=make.org(), sitter=False)
    assert client.post(f"/admin/bookings/{other.id}/series/cancel",
                       data={"reason": "x", **CONFIRMED}).status_code == 404
