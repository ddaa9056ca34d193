"""Rescheduling one booking onto a day its sitter is away, or onto another of their visits, stops at the
confirm step with the same warnings a series edit gives; a free time (or an overlap with its own old
time) saves at once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.models import AssignmentWindow, Booking
from app.services.people.time_off import add_time_off
from tests.blueprints.admin.test_booking_lifecycle import local
from tests.blueprints.admin.test_series import at, page_text
from tests.support.factories import CONFIRMED


@pytest.fixture
def walk(client, owner, make, db):
    """Sam's confirmed walk for Taylor, Thu 26 Nov 10:00-11:00 New York."""
    make.number("pool")
    booking = make.booking(client=make.client(name="Taylor Brooks"), sitter=make.sitter(name="Sam Rivers"),
                           start=at(26))
    assert client.post(f"/admin/bookings/{booking.id}/confirm", data=CONFIRMED).status_code == 302
    db.session.rollback()
    return db.session.get(Booking, booking.id)


def reschedule(client, make, booking, start, hours=1, **extra):
    return client.post(f"/admin/bookings/{booking.id}/reschedule",
                       data={"start_at": local(start, make), "end_at": local(start + timedelta(hours=hours), make),
                             **extra})


def start_of(db, booking_id):
    db.session.expire_all()
    return db.session.get(Booking, booking_id).start_at


def test_a_move_onto_time_off_warns_first_and_moves_only_on_the_yes(client, make, db, walk):
    add_time_off(walk.org_id, walk.sitter_id, date(2026, 11, 30), None, "Dentist")
    step = reschedule(client, make, walk, at(30))
    page = page_text(step)
    assert step.status_code == 200
    assert f"Move booking #{walk.id} to a time Sam Rivers is not free?" in page
    assert f"Warning: Sam Rivers is away (time off) on Mon 30 Nov: booking #{walk.id}." in page
    assert "Sam Rivers is notified; Taylor Brooks is not texted about it." in page
    assert 'name="confirmed" value="1"' in page  # a warning, not a refusal
    assert start_of(db, walk.id) == at(26)  # nothing moved yet

    done = reschedule(client, make, walk, at(30), **CONFIRMED)
    assert done.status_code == 302
    assert start_of(db, walk.id) == at(30)
    window = db.session.scalar(select(AssignmentWindow).where(AssignmentWindow.booking_id == walk.id))
    assert window.starts_at == at(30)


def test_a_move_onto_another_of_the_sitters_visits_names_it(client, make, db, walk):
    other = make.booking(client=make.client(name="Jordan Lee"), sitter=walk.sitter, start=at(27, hour=9),
                         hours=1.5, status="confirmed")
    page = page_text(reschedule(client, make, walk, at(27)))
    assert (f"Fri 27 Nov, 10:00 AM clashes with Sam Rivers's booking #{other.id} (Jordan Lee, "
            "Fri 27 Nov, 9:00 AM – 10:30 AM).") in page
    assert "away (time off)" not in page
    assert start_of(db, walk.id) == at(26)


def test_a_pending_booking_is_warned_too_and_nothing_is_texted(client, owner, make, db):
    sitter = make.sitter(name="Sam Rivers")
    pending = make.booking(sitter=sitter, start=at(26))
    make.booking(sitter=sitter, start=at(28), status="confirmed")
    page = page_text(reschedule(client, make, pending, at(28, hour=10) + timedelta(minutes=30)))
    assert "clashes with Sam Rivers's booking" in page
    assert "Nothing is texted: the booking is not confirmed yet." in page


def test_a_free_time_and_an_overlap_with_its_own_old_time_save_at_once(client, make, db, walk):
    make.booking(sitter=walk.sitter, start=at(27), status="cancelled")  # a cancelled visit is no clash
    make.booking(start=at(27), status="confirmed")  # nor is another sitter's
    response = reschedule(client, make, walk, at(27))
    assert response.status_code == 302 and start_of(db, walk.id) == at(27)
    response = reschedule(client, make, walk, at(27) + timedelta(minutes=30))  # overlaps where it was
    assert response.status_code == 302 and start_of(db, walk.id) == at(27) + timedelta(minutes=30)


def test_a_refused_time_is_refused_at_its_field_before_any_warning(client, make, db, walk):
    add_time_off(walk.org_id, walk.sitter_id, date(2026, 11, 30), None)
    response = reschedule(client, make, walk, at(30), hours=-1)
    assert response.status_code == 422
    assert 'data-field="end_at">The end must be after the start.' in response.get_data(as_text=True)
    assert start_of(db, walk.id) == at(26)
