"""Front-desk-only mode (a sole proprietor's one number): every booking thread takes the front desk,
and the one-conversation rule decides clashes. The rule is per (client phone, number): two clients'
visits share the front desk at once (their texts come from different phones, so routing never
guesses); one client's second open visit waits, with an owner alert, and never takes a pool or
sitter number."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Alert, Message, OutboxEntry, Thread
from app.services.bookings.confirmed import on_booking_confirmed
from app.services.bookings.lifecycle import cancel_booking
from app.services.messaging.inbound import route_inbound_sms
from app.services.numbers.moves import predict_masking_number


def thread_of(booking_id: int) -> Thread:
    db.session.rollback()
    return db.session.scalar(select(Thread).where(Thread.booking_id == booking_id))


@pytest.fixture
def lines(make):
    """An org with every kind of number: the front desk, a pool number and a sitter's own line."""
    desk = make.number("front_desk")
    pool = make.number("pool")
    sitter = make.sitter()
    own = make.number("sitter", sitter_id=sitter.id)
    return desk, pool, sitter, own


def front_desk_only(make, on: bool = True) -> None:
    make.default_org.front_desk_only = on
    db.session.commit()


def test_with_the_mode_on_a_confirmed_bookings_thread_is_on_the_front_desk(make, lines):
    desk, _pool, sitter, _own = lines
    front_desk_only(make)
    booking = make.booking(sitter=sitter)
    assert predict_masking_number(booking).id == desk.id  # what the confirm step says

    result = on_booking_confirmed(booking.id)

    assert (result.number_id, result.number_reason) == (desk.id, "front_desk")
    thread = thread_of(booking.id)
    assert thread.message_number_id == desk.id
    [confirmation] = db.session.scalars(select(OutboxEntry)).all()
    assert confirmation.from_e164 == desk.e164


def test_another_clients_overlapping_visit_also_gets_the_front_desk(make, lines):
    desk, _pool, sitter, _own = lines
    front_desk_only(make)
    first = make.booking(sitter=sitter)
    second = make.booking(start=first.start_at)  # another client, same time, another sitter
    on_booking_confirmed(first.id)
    result = on_booking_confirmed(second.id)

    assert result.number_id == desk.id and not result.no_number
    assert {thread_of(first.id).message_number_id, thread_of(second.id).message_number_id} == {desk.id}
    db.session.rollback()
    assert db.session.scalar(select(Alert.id).where(Alert.kind == "booking.no_number")) is None


def test_each_clients_text_to_the_shared_front_desk_reaches_their_own_visit(make, clock, lines):
    desk, _pool, sitter, _own = lines
    front_desk_only(make)
    first = make.booking(sitter=sitter, start=clock.now - timedelta(minutes=30), hours=2)
    second = make.booking(start=first.start_at, hours=2)
    on_booking_confirmed(first.id)
    on_booking_confirmed(second.id)

    message_id = route_inbound_sms({"MessageSid": "SM" + "2" * 32, "From": second.client.phone_e164,
                                    "To": desk.e164, "Body": "Is the cat hiding again?"})

    message = db.session.get(Message, message_id)
    assert message.thread_id == thread_of(second.id).id and message.routing_reason == "active_window"


def test_the_same_clients_second_visit_waits_and_never_takes_a_pool_or_sitter_number(make, lines):
    desk, _pool, sitter, _own = lines
    front_desk_only(make)
    alex = make.client(name="Alex Morgan")
    walk = make.booking(client=alex, sitter=sitter, service="Dog walk")
    cat = make.booking(client=alex, start=walk.start_at, service="Cat visit")
    on_booking_confirmed(walk.id)
    assert predict_masking_number(cat) is None  # the confirm step says it will wait

    result = on_booking_confirmed(cat.id)

    assert result.no_number and result.status == "confirmed"
    assert thread_of(cat.id).message_number_id is None  # not the free pool number, not a sitter's line
    [alert] = db.session.scalars(select(Alert).where(Alert.kind == "booking.no_number")).all()
    assert alert.booking_id == cat.id and "front-desk-only mode" in alert.text
    assert "Add a pool number" not in alert.text
    assert db.session.scalar(select(Alert.id).where(Alert.kind == "numbers.pool_short")) is None

    cancel_booking(walk.id, "client asked", actor="user:1")  # the front desk is free for Alex again

    assert thread_of(cat.id).message_number_id == desk.id
    assert [e.from_e164 for e in db.session.scalars(select(OutboxEntry).order_by(OutboxEntry.id))
            if e.to_e164 == alex.phone_e164][-1] == desk.e164  # the held confirmation went out


def test_with_the_mode_off_nothing_changes(make, lines):
    desk, pool, sitter, own = lines
    front_desk_only(make, on=False)
    alex = make.client()
    walk = make.booking(client=alex, sitter=sitter)
    cat = make.booking(client=alex, start=walk.start_at, sitter=None)
    assert on_booking_confirmed(walk.id).number_id == own.id
    assert on_booking_confirmed(cat.id).number_id == pool.id
    assert thread_of(cat.id).number_reason == "pool_lru"


def test_turning_the_mode_on_keeps_the_numbers_of_existing_threads(make, lines):
    _desk, _pool, sitter, own = lines
    booking = make.booking(sitter=sitter)
    on_booking_confirmed(booking.id)
    front_desk_only(make)
    assert on_booking_confirmed(booking.id).number_id == own.id  # a repeat call keeps the thread's number
    assert thread_of(booking.id).message_number_id == own.id
