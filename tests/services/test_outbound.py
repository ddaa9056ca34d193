"""Queued sends: the row first, one provider call per message, opt-out respected."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Message, OutboxEntry
from app.services.outbound import deliver_message, queue_outbound_message


def _queue(thread, body="See you at 9!"):
    message = queue_outbound_message(org_id=thread.org_id, thread_id=thread.id,
                                     from_number_id=thread.message_number_id,
                                     to_e164=thread.client.phone_e164, body=body, sender_kind="automation")
    db.session.commit()
    return message


def test_queued_message_is_sent_once_from_the_thread_number(make):
    thread = make.thread()
    message = _queue(thread)
    db.session.rollback()
    entries = db.session.scalars(select(OutboxEntry)).all()
    assert [(e.from_e164, e.to_e164, e.body) for e in entries] == [
        (thread.message_number.e164, thread.client.phone_e164, "See you at 9!")]
    db.session.refresh(message)
    assert message.status == "sent" and message.provider_sid == entries[0].provider_sid
    assert deliver_message(message.id) == "sent"  # the job running again sends nothing
    assert db.session.scalar(select(db.func.count()).select_from(OutboxEntry)) == 1


def test_crash_between_provider_call_and_save_does_not_text_twice(make):
    thread = make.thread()
    thread.client.opted_out = False
    message = make.message(thread=thread, direction="outbound", sender_kind="automation", status="sending",
                           from_e164=thread.message_number.e164, to_e164=thread.client.phone_e164)
    # The provider accepted it, then the worker died before saving the sid.
    db.session.add(OutboxEntry(org_id=thread.org_id, message_id=message.id, provider_sid="OBcrash",
                               from_e164=message.from_e164, to_e164=message.to_e164, body=message.body))
    db.session.commit()
    assert deliver_message(message.id) == "sent"
    assert db.session.scalar(select(db.func.count()).select_from(OutboxEntry)) == 1
    assert db.session.get(Message, message.id).provider_sid == "OBcrash"


def test_opted_out_client_gets_nothing_and_the_message_says_why(make):
    thread = make.thread()
    thread.client.opted_out = True
    db.session.commit()
    message = _queue(thread)
    assert message.status == "blocked" and message.error_code == "opted_out"
    assert db.session.scalar(select(db.func.count()).select_from(OutboxEntry)) == 0
