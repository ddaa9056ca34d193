"""Inbound routing never guesses: a text on a number where its sender has two or more open threads
goes to the owner inbox with an alert naming the candidate visits, and no sitter sees it."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Alert, Message
from app.services.messaging.inbound import route_inbound_sms
from tests.support.messaging_builders import booking_thread


def text(sender: str, to: str, body: str = "Is Biscuit eating ok?", sid: str = "SM" + "a" * 32) -> Message:
    message_id = route_inbound_sms({"MessageSid": sid, "From": sender, "To": to, "Body": body})
    db.session.rollback()
    return db.session.get(Message, message_id)


def test_two_open_threads_on_one_number_go_to_the_owner_inbox_naming_both(make):
    number = make.number("pool")
    alex = make.client(name="Alex Morgan")
    walk = booking_thread(make, client=alex, number=number, started_hours_ago=0.5)
    cat = booking_thread(make, client=alex, number=number, started_hours_ago=0.25)

    message = text(alex.phone_e164, number.e164)

    assert message.thread_id is None and message.owner_inbox
    assert message.routing_reason == "ambiguous_threads"
    (alert,) = db.session.scalars(select(Alert).where(Alert.kind == "message.ambiguous")).all()
    assert alert.audience == "owner" and alert.message_id == message.id
    assert f"#{walk.booking_id}" in alert.text and f"#{cat.booking_id}" in alert.text
    assert "Alex Morgan" in alert.text


def test_a_future_second_visit_on_the_number_also_stops_the_guess(make):
    number = make.number("pool")
    alex = make.client()
    booking_thread(make, client=alex, number=number, started_hours_ago=0.5)
    booking_thread(make, client=alex, number=number)  # opens in two days: still an open thread
    message = text(alex.phone_e164, number.e164)
    assert message.thread_id is None and message.routing_reason == "ambiguous_threads"


def test_on_the_front_desk_the_text_stays_in_the_clients_front_desk_thread(make):
    desk = make.number("front_desk")
    alex = make.client()
    booking_thread(make, client=alex, number=desk, started_hours_ago=0.5)
    booking_thread(make, client=alex, number=desk, started_hours_ago=0.25)
    message = text(alex.phone_e164, desk.e164)
    assert message.routing_reason == "ambiguous_threads" and message.owner_inbox
    assert message.thread.scope == "front_desk"


def test_one_open_thread_still_reaches_its_sitter(make):
    number = make.number("pool")
    alex = make.client()
    thread = booking_thread(make, client=alex, number=number, started_hours_ago=0.5)
    booking_thread(make, client=alex, number=number, started_hours_ago=30)  # long over
    message = text(alex.phone_e164, number.e164)
    assert (message.thread_id, message.routing_reason, message.owner_inbox) == (thread.id, "active_window", False)
