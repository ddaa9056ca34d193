"""The first text a client ever gets from the org names the business and says how to stop."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEntry
from app.services.messaging.outbound import queue_outbound_message


def _send(thread, body):
    message = queue_outbound_message(org_id=thread.org_id, thread_id=thread.id,
                                     from_number_id=thread.message_number_id,
                                     to_e164=thread.client.phone_e164, body=body, sender_kind="sitter")
    db.session.commit()
    return message


def test_the_first_text_carries_the_org_name_and_reply_stop_and_later_ones_do_not(make):
    thread = make.thread()
    first = _send(thread, "Hi! I'm Sam, your sitter for Saturday.")
    second = _send(thread, "See you at 9!")
    sent = db.session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)).all()
    assert sent[0].body == "Happy Tails: Hi! I'm Sam, your sitter for Saturday.\nReply STOP to opt out."
    assert first.body == sent[0].body  # the thread shows what was really sent
    assert sent[1].body == "See you at 9!" and second.body == "See you at 9!"


def test_a_first_text_that_already_names_the_business_and_stop_is_left_as_it_is(make):
    thread = make.thread()
    _send(thread, "Happy Tails here: your booking is confirmed. Reply STOP to opt out.")
    [sent] = db.session.scalars(select(OutboxEntry)).all()
    assert sent.body == "Happy Tails here: your booking is confirmed. Reply STOP to opt out."


def test_texts_to_a_sitters_own_phone_are_not_client_texts(make):
    thread = make.thread()
    sitter = make.sitter()
    queue_outbound_message(org_id=thread.org_id, thread_id=None, from_number_id=thread.message_number_id,
                           to_e164=sitter.phone_e164, body="New text from a client", sender_kind="system")
    db.session.commit()
    [sent] = db.session.scalars(select(OutboxEntry)).all()
    assert sent.body == "New text from a client"
