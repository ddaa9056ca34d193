"""Queued sends: the row first, one provider call per message, opt-out respected."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Message, OutboxEntry
from app.services.messaging.outbound import _claim_queued, deliver_message, queue_outbound_message
from tests.blueprints.test_sitter_queries import count_statements
from tests.support.messaging_builders import as_first_text
from tests.support.pg_locks import wait_for_lock_waiters

# Statements one send job runs (outbox provider): the claim, which also counts the try (committed
# before the provider call: app.jobs.tries), the outbox row and the final status, in two
# transactions (SQLite's own BEGINs are not counted). Was 4 before issue 28 (the try's count a
# statement and a commit of its own), 5 before that.
SEND_JOB_STATEMENTS = 3


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
        (thread.message_number.e164, thread.client.phone_e164, as_first_text("See you at 9!"))]
    db.session.refresh(message)
    assert message.status == "sent" and message.provider_sid == entries[0].provider_sid
    assert deliver_message(message.id) == "sent"  # the job running again sends nothing
    assert db.session.scalar(select(db.func.count()).select_from(OutboxEntry)) == 1


def test_crash_between_provider_call_and_save_does_not_text_twice(make, clock):
    thread = make.thread()
    thread.client.opted_out = False
    message = make.message(thread=thread, direction="outbound", sender_kind="automation", status="sending",
                           from_e164=thread.message_number.e164, to_e164=thread.client.phone_e164)
    # The provider accepted it, then the worker died before saving the sid.
    db.session.add(OutboxEntry(org_id=thread.org_id, message_id=message.id, provider_sid="OBcrash",
                               from_e164=message.from_e164, to_e164=message.to_e164, body=message.body))
    db.session.commit()
    assert deliver_message(message.id) == "sending"  # its job may still be running: hands off
    clock.advance(minutes=2)  # RQ retries an abandoned job only after its timeout
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


def _queued(make, thread, **kw):
    """A `queued` outbound row as queue_outbound_message leaves it, with its job not run yet."""
    return make.message(thread=thread, direction="outbound", sender_kind="automation", status="queued",
                        from_e164=thread.message_number.e164, to_e164=thread.client.phone_e164, **kw)


def _outbox() -> list[OutboxEntry]:
    db.session.rollback()  # the job committed from its own transaction: read afresh
    return db.session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)).all()


def test_send_saves_sid_time_and_clears_the_last_attempts_error(make, clock):
    thread = make.thread()
    # A 429 put it back to `queued` on the first attempt: the retry sends it.
    message = _queued(make, thread, attempts=1, error_code="20429", error_message="Too many requests")
    clock.advance(minutes=5)
    assert deliver_message(message.id) == "sent"
    [entry] = _outbox()
    stored = db.session.get(Message, message.id)
    assert (entry.message_id, entry.body, entry.to_e164) == (message.id, message.body, thread.client.phone_e164)
    assert entry.status_callback == "https://pawline.test/webhooks/twilio/status"
    assert (stored.status, stored.provider_sid, stored.attempts) == ("sent", entry.provider_sid, 2)
    assert stored.error_code is None and stored.error_message is None
    assert stored.sent_at == clock.now and stored.updated_at == clock.now


def test_send_job_statement_count(make):
    message_id = _queued(make, make.thread()).id
    with count_statements() as seen:
        assert deliver_message(message_id) == "sent"
    assert len(_outbox()) == 1
    assert len(seen) == SEND_JOB_STATEMENTS, "\n".join(seen)
    stored = db.session.get(Message, message_id)
    assert (stored.tries, stored.attempts) == (1, 1)  # the try counted with the claim


def test_client_who_opts_out_after_the_text_was_queued_gets_nothing(make):
    thread = make.thread()
    message = _queued(make, thread)
    thread.client.opted_out = True  # STOP arrived between queueing and the job
    db.session.commit()
    assert deliver_message(message.id) == "blocked"
    assert _outbox() == []
    stored = db.session.get(Message, message.id)
    assert (stored.status, stored.error_code, stored.attempts) == ("blocked", "opted_out", 0)


def test_opt_out_in_another_org_with_the_same_number_does_not_block(make):
    thread = make.thread()
    make.client(org=make.org(), phone_e164=thread.client.phone_e164, opted_out=True)
    message = _queued(make, thread)
    # The one-statement claim itself sends it (it does not fall back to the careful path) …
    assert _claim_queued(message.id)["message_id"] == message.id
    db.session.get(Message, message.id).status = "queued"
    db.session.commit()
    # … and the whole job sends it once.
    assert deliver_message(message.id) == "sent" and len(_outbox()) == 1


def test_missing_and_final_messages_are_never_sent(make):
    thread = make.thread()
    assert deliver_message(10**9) == "missing"
    for status in ("sent", "delivered", "failed", "blocked"):
        message = _queued(make, thread)
        message.status = status
        db.session.commit()
        assert deliver_message(message.id) == status
    assert _outbox() == []


def test_sending_with_no_record_at_the_provider_is_sent_once(make, clock):
    """A crash after `sending` was saved but before the provider took it: the retry sends it
    (the outbox's record is written with the status, so its absence is certain)."""
    thread = make.thread()
    message = _queued(make, thread, attempts=1)
    message.status = "sending"
    db.session.commit()
    clock.advance(minutes=2)  # RQ retries an abandoned job only after its timeout
    assert deliver_message(message.id) == "sent"
    assert deliver_message(message.id) == "sent"
    [entry] = _outbox()
    stored = db.session.get(Message, message.id)
    assert (stored.provider_sid, stored.attempts) == (entry.provider_sid, 2)


@pytest.mark.postgres_only
def test_two_jobs_claiming_one_message_at_once_claim_it_once(app, make):
    """Both UPDATEs wait on the row lock; the second then finds the message no longer queued."""
    import threading

    thread = make.thread()
    message = _queued(make, thread)
    claims = []

    def claim():
        with app.app_context():  # its own session and connection, as a second worker has
            claims.append(_claim_queued(message.id))

    racers = [threading.Thread(target=claim) for _ in range(2)]
    with db.engine.connect() as holder:
        holder.execute(select(Message.id).where(Message.id == message.id).with_for_update())
        for racer in racers:
            racer.start()
        assert wait_for_lock_waiters(db.engine, 2, racers) == 2  # both really wait on the lock
        holder.commit()
    for racer in racers:
        racer.join(10)
    assert sorted(claims, key=bool) == [None, {
        "message_id": message.id, "org_id": message.org_id, "from_e164": message.from_e164,
        "to_e164": message.to_e164, "body": message.body, "has_media": False,
        "service_sid": None}]  # the org has no Messaging Service
    db.session.rollback()
    stored = db.session.get(Message, message.id)
    assert (stored.status, stored.attempts) == ("sending", 1)
