"""Sticky and cooled-off reuse of pool numbers: the same sitter again gets the client's old number;
a number that carried the client's thread with another sitter lately is avoided while another exists."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.models import MessageNumber, Org
from app.services.bookings.confirmed import on_booking_confirmed


def _past_visit(make, clock, client, sitter, days_ago: float):
    booking = make.booking(client=client, sitter=sitter, start=clock.now - timedelta(days=days_ago))
    return on_booking_confirmed(booking.id)


def _touch(number_id: int, when) -> None:
    """Mark a number as assigned at `when` (so LRU alone would prefer another)."""
    db.session.get(MessageNumber, number_id).last_assigned_at = when
    db.session.commit()


def test_the_same_sitter_again_gets_the_clients_old_pool_number(make, clock):
    first = make.number("pool")
    make.number("pool")
    sasha, alex = make.sitter(with_login=False), make.client()
    old = _past_visit(make, clock, alex, sasha, days_ago=3)
    assert old.number_id == first.id
    _touch(first.id, clock.now)  # LRU now prefers `second`
    again = on_booking_confirmed(make.booking(client=alex, sitter=sasha).id)
    assert again.number_id == first.id


def test_another_sitter_avoids_the_number_that_carried_the_clients_last_visit(make, clock):
    first, second = make.number("pool"), make.number("pool")
    sasha, jo, alex = make.sitter(with_login=False), make.sitter(with_login=False), make.client()
    old = _past_visit(make, clock, alex, sasha, days_ago=1)
    assert old.number_id == first.id
    _touch(second.id, clock.now + timedelta(minutes=1))  # LRU alone would hand `first` back to this client
    with_jo = on_booking_confirmed(make.booking(client=alex, sitter=jo).id)
    assert with_jo.number_id == second.id


def test_a_cooled_number_is_still_used_when_it_is_the_only_one(make, clock):
    only = make.number("pool")
    sasha, jo, alex = make.sitter(with_login=False), make.sitter(with_login=False), make.client()
    _past_visit(make, clock, alex, sasha, days_ago=1)
    assert on_booking_confirmed(make.booking(client=alex, sitter=jo).id).number_id == only.id


def test_after_the_cool_off_the_number_is_ordinary_again(make, clock):
    first, second = make.number("pool"), make.number("pool")
    sasha, jo, alex = make.sitter(with_login=False), make.sitter(with_login=False), make.client()
    _past_visit(make, clock, alex, sasha, days_ago=9)  # ended 8+ days ago: past the default 7
    _touch(second.id, clock.now + timedelta(minutes=1))
    assert on_booking_confirmed(make.booking(client=alex, sitter=jo).id).number_id == first.id


def test_the_cool_off_is_an_org_setting(make, clock):
    first, second = make.number("pool"), make.number("pool")
    org = db.session.get(Org, first.org_id)
    org.number_cooloff_days = 0
    db.session.commit()
    sasha, jo, alex = make.sitter(with_login=False), make.sitter(with_login=False), make.client()
    _past_visit(make, clock, alex, sasha, days_ago=1)
    _touch(second.id, clock.now + timedelta(minutes=1))
    assert on_booking_confirmed(make.booking(client=alex, sitter=jo).id).number_id == first.id
