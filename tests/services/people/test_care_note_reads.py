"""A sitter's care-note reads are one audit line per visit, however often the page is opened."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import EventLog, Thread
from app.services.bookings.confirmed import on_booking_confirmed
from app.services.people.care_notes import save_care_note, sitter_care_notes


def test_page_views_of_one_visit_are_one_line_and_the_next_visit_gets_its_own(make, clock, db):
    owner = make.user("owner")
    make.number("pool"), make.number("pool")
    sitter = make.sitter()
    client = make.client()
    save_care_note(client.id, kind="entry", body="Lockbox 4321", user_id=owner.id)
    today = make.booking(client=client, sitter=sitter, start=clock.now + timedelta(minutes=30))
    tomorrow = make.booking(client=client, sitter=sitter, start=clock.now + timedelta(days=1))
    for booking in (today, tomorrow):
        on_booking_confirmed(booking.id)
    threads = {b.id: db.session.scalar(select(Thread.id).where(Thread.booking_id == b.id)) for b in (today, tomorrow)}
    for _ in range(3):
        assert sitter_care_notes(sitter.user_id, threads[today.id]).visible
    clock.set(tomorrow.start_at - timedelta(minutes=10))
    for _ in range(2):
        assert sitter_care_notes(sitter.user_id, threads[tomorrow.id]).visible
    lines = db.session.scalars(select(EventLog.booking_id).where(EventLog.kind == "care_notes.viewed")
                               .order_by(EventLog.id)).all()
    assert lines == [today.id, tomorrow.id]
