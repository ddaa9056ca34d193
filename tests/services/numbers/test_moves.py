"""Moving a number's open conversations to newly chosen numbers keeps routing correct: the
pool-leakage rules hold for the moved threads, and the client is told from the new number."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import Alert, EventLog, Message, Thread
from app.services.bookings.confirmed import on_booking_confirmed
from app.services.messaging.inbound import route_inbound_sms
from app.services.numbers.admin import retire_number
from app.services.numbers.moves import move_open_threads


def thread_of(db, booking):
    return db.session.scalar(select(Thread).where(Thread.booking_id == booking.id))


def inbound(sid, from_e164, to_e164, body="hi"):
    message_id = route_inbound_sms({"MessageSid": sid, "From": from_e164, "To": to_e164, "Body": body})
    from app.extensions import db

    return db.session.get(Message, message_id)


def test_moved_threads_never_share_a_number_with_the_clients_other_open_thread(make, db, clock):
    p1, p2, p3 = (make.number("pool", e164=f"+1202555014{i}") for i in (1, 2, 3))
    carol, dan = make.client(name="Carol King"), make.client(name="Dan Brown")
    later = make.booking(client=carol, start=clock.now + timedelta(hours=1))
    now_on = make.booking(client=carol, start=clock.now - timedelta(minutes=30))
    dans = make.booking(client=dan, start=clock.now + timedelta(hours=2))
    for booking in (later, now_on, dans):
        on_booking_confirmed(booking.id)
    assert [thread_of(db, b).message_number_id for b in (later, now_on, dans)] == [p1.id, p2.id, p3.id]

    result = move_open_threads(p2.id, actor="user:1")
    db.session.expire_all()
    moved = thread_of(db, now_on)
    # p1 carries Carol's other open thread: the move skips it (pool leakage safety) and takes p3
    assert moved.message_number_id == p3.id and moved.number_reason == "pool_lru"
    assert result.moved == [(moved.id, p3.id)] and result.told == 1 and not result.stuck
    told = db.session.scalar(select(Message).where(Message.thread_id == moved.id, Message.sender_kind == "system"))
    assert told.message_number_id == p3.id and told.to_e164 == carol.phone_e164 and "new number" in told.body
    event = db.session.scalar(select(EventLog).where(EventLog.kind == "thread.number_changed"))
    assert (event.payload["previous_number_id"], event.payload["number_id"]) == (p2.id, p3.id)

    # routing after the move: Carol's text to the new number reaches her open visit's thread;
    # to the old number it reaches no thread (owner inbox), and Dan's thread on p3 is untouched
    to_new = inbound("SM1", carol.phone_e164, p3.e164)
    assert (to_new.thread_id, to_new.routing_reason, to_new.owner_inbox) == (moved.id, "active_window", False)
    to_old = inbound("SM2", carol.phone_e164, p2.e164)
    assert (to_old.thread_id, to_old.owner_inbox, to_old.routing_reason) == (None, True, "no_thread_on_number")
    from_dan = inbound("SM3", dan.phone_e164, p3.e164)
    assert from_dan.thread_id == thread_of(db, dans).id
    stranger = inbound("SM4", "+12025550188", p3.e164)
    assert stranger.thread_id is None and stranger.owner_inbox

    retire_number(p2.id)  # nothing open on it any more
    assert not db.session.get(type(p2), p2.id).active


def test_with_no_other_number_the_thread_stays_and_owners_are_alerted(make, db, clock):
    only = make.number("pool")
    booking = make.booking()
    on_booking_confirmed(booking.id)
    result = move_open_threads(only.id)
    assert result.moved == [] and result.stuck == [thread_of(db, booking).id]
    assert thread_of(db, booking).message_number_id == only.id
    assert db.session.scalar(select(Alert.text).where(Alert.kind == "booking.no_number"))


def test_a_sitters_own_number_moves_to_the_pool_from_the_page(client, login_as, make, db, clock):
    from tests.support.factories import CONFIRMED

    sitter = make.sitter(name="Sasha Lee")
    own = make.number("sitter", sitter_id=sitter.id)
    pool = make.number("pool", e164="+12025550166")
    booking = make.booking(client=make.client(name="Taylor Brooks"), sitter=sitter)
    on_booking_confirmed(booking.id)
    assert thread_of(db, booking).message_number_id == own.id
    login_as(make.user("owner"))
    step = client.post(f"/admin/numbers/{own.id}/move-threads").get_data(as_text=True)
    assert "Taylor Brooks (booking #" in step and "This texts each client from their new number" in step
    assert thread_of(db, booking).message_number_id == own.id
    page = client.post(f"/admin/numbers/{own.id}/move-threads", data=CONFIRMED,
                       follow_redirects=True).get_data(as_text=True)
    assert "1 conversation(s) moved to new numbers; 1 client(s) will be told by text" in page
    db.session.expire_all()
    assert thread_of(db, booking).message_number_id == pool.id
