"""Out of window, the client is told (org setting, off by default): once per client per day, never
to a client who replied STOP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Message, Org
from app.services.messaging.inbound import route_inbound_sms
from tests.support.messaging_builders import booking_thread

_sids = iter(f"SM{n:032x}" for n in range(1, 1000))


def text(sender: str, to: str, body: str = "Did Biscuit eat?") -> None:
    route_inbound_sms({"MessageSid": next(_sids), "From": sender, "To": to, "Body": body})


def replies() -> list[Message]:
    db.session.rollback()
    return list(db.session.scalars(select(Message).where(Message.direction == "outbound").order_by(Message.id)))


@pytest.fixture
def ended_visit(make, clock):
    """A visit with Sasha that ended (window closed) earlier today."""
    sasha = make.sitter(name="Sasha Lee", with_login=False)
    alex = make.client()
    number = make.number("pool")
    booking = make.booking(client=alex, sitter=sasha, start=clock.now - timedelta(hours=4), status="confirmed")
    thread = make.thread(booking=booking, number=number)
    make.window(thread)
    return thread


def switch_on(org_id: int) -> None:
    db.session.get(Org, org_id).out_of_window_reply_enabled = True
    db.session.commit()


def test_off_by_default_nothing_is_sent(ended_visit):
    assert db.session.get(Org, ended_visit.org_id).out_of_window_reply_enabled is False
    text(ended_visit.client.phone_e164, ended_visit.message_number.e164)
    assert replies() == []


def test_on_the_client_is_told_once_a_day_from_the_threads_number(ended_visit, clock):
    switch_on(ended_visit.org_id)
    phone, number = ended_visit.client.phone_e164, ended_visit.message_number.e164
    text(phone, number)
    text(phone, number, "Hello?")
    (reply,) = replies()
    assert reply.body.startswith("Your visit with Sasha has ended; the office has your message.")
    assert (reply.to_e164, reply.message_number_id, reply.thread_id) == (
        phone, ended_visit.message_number_id, ended_visit.id)
    clock.advance(days=1)
    text(phone, number, "Another thing")
    assert len(replies()) == 2


def test_an_opted_out_client_never_gets_it(ended_visit):
    switch_on(ended_visit.org_id)
    ended_visit.client.opted_out = True
    db.session.commit()
    text(ended_visit.client.phone_e164, ended_visit.message_number.e164)
    assert replies() == []


def test_a_text_in_the_window_gets_no_auto_reply(make):
    thread = booking_thread(make, number=make.number("pool"), started_hours_ago=0.5)
    switch_on(thread.org_id)
    text(thread.client.phone_e164, thread.message_number.e164)
    assert replies() == []
