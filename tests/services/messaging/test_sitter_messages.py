"""The server-side gate on sitter sends: assignment, window, policy, opt-out, the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import Alert, EventLog, Message, Org, OutboxEntry, ThreadRead
from app.services.messaging.sitter_messages import (
    MessagingClosed,
    PolicyBlocked,
    mark_thread_read,
    send_sitter_message,
)
from tests.support.messaging_builders import as_first_text
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York


@pytest.fixture
def visit(make, clock):
    clock.set(START + timedelta(minutes=10))
    return make_visit(make, start=START, hours=1)


def _rows(model, **where):
    db.session.rollback()  # see what the inline send job committed
    return db.session.scalars(select(model).filter_by(**where)).all()


def test_send_inside_the_window_goes_from_the_masking_number(visit):
    outcome = send_sitter_message(visit.user.id, visit.thread.id, "  Biscuit is fed!  ")
    assert outcome.notice == "Queued to send." and not outcome.flagged
    [entry] = _rows(OutboxEntry)
    assert (entry.from_e164, entry.to_e164, entry.body) == (
        visit.thread.message_number.e164,
        visit.booking.client.phone_e164,
        as_first_text("Biscuit is fed!"),  # the client's first text from the business
    )
    message = db.session.get(Message, outcome.message_id)
    assert (message.sender_kind, message.sender_user_id, message.status) == (
        "sitter",
        visit.user.id,
        "sent",
    )


def test_send_outside_the_window_is_refused_recorded_and_alerted(visit, clock):
    clock.set(START - timedelta(seconds=1))
    with pytest.raises(MessagingClosed, match="Messaging opens at 9:00 AM"):
        send_sitter_message(visit.user.id, visit.thread.id, "On my way")
    assert _rows(Message) == [] and _rows(OutboxEntry) == []
    [event] = _rows(EventLog, kind="message.blocked_outside_window")
    assert (event.sitter_id, event.thread_id, event.payload["reason"]) == (
        visit.sitter.id,
        visit.thread.id,
        "not_started",
    )
    [alert] = _rows(Alert, kind="message.blocked_outside_window")
    assert alert.audience == "sitter" and alert.sitter_id == visit.sitter.id


def test_send_after_end_plus_grace_is_refused(visit, clock):
    clock.set(visit.window.ends_at)
    with pytest.raises(MessagingClosed, match="one hour after the visit"):
        send_sitter_message(visit.user.id, visit.thread.id, "Forgot to say")
    clock.set(visit.window.ends_at - timedelta(seconds=1))
    send_sitter_message(visit.user.id, visit.thread.id, "Forgot to say")
    assert [e.body for e in _rows(OutboxEntry)] == [as_first_text("Forgot to say")]


def test_cancelled_booking_refuses_even_inside_the_times(visit):
    visit.booking.status = "cancelled"
    db.session.commit()
    with pytest.raises(MessagingClosed, match="cancelled"):
        send_sitter_message(visit.user.id, visit.thread.id, "Hello?")


def test_another_sitters_thread_is_not_found(make, visit):
    other = make.sitter()
    with pytest.raises(NotFound):
        send_sitter_message(other.user.id, visit.thread.id, "Hi")
    with pytest.raises(NotFound):
        send_sitter_message(visit.user.id, visit.thread.id + 999, "Hi")
    assert _rows(Message) == [] and _rows(EventLog) == []


def test_policy_block_refuses_and_records(visit):
    with pytest.raises(PolicyBlocked, match="a phone number"):
        send_sitter_message(visit.user.id, visit.thread.id, "Text me on 202-555-0199 instead")
    assert _rows(Message) == []
    [event] = _rows(EventLog, kind="policy.violation")
    assert event.payload["kinds"] == ["phone_number"] and event.payload["mode"] == "block"
    [alert] = _rows(Alert, kind="policy.violation")
    assert alert.sitter_id == visit.sitter.id and "was not sent" in alert.text
    assert "202" not in alert.text


def test_policy_flag_sends_and_records(visit):
    org = db.session.get(Org, visit.booking.org_id)
    org.policy_mode = "flag"
    db.session.commit()
    outcome = send_sitter_message(visit.user.id, visit.thread.id, "You can venmo me @jo")
    assert outcome.flagged and "flagged" in outcome.notice
    assert len(_rows(OutboxEntry)) == 1
    [event] = _rows(EventLog, kind="policy.violation")
    assert event.payload["message_id"] == outcome.message_id and event.payload["services"] == ["Venmo"]
    [alert] = _rows(Alert, kind="policy.violation")
    assert alert.message_id == outcome.message_id


def test_opted_out_client_gets_nothing(visit):
    visit.booking.client.opted_out = True
    db.session.commit()
    outcome = send_sitter_message(visit.user.id, visit.thread.id, "Hello")
    assert outcome.status == "blocked" and "opted out" in outcome.notice
    assert _rows(OutboxEntry) == []


def test_empty_or_overlong_text_is_refused_clearly(visit):
    for body, match in (("   ", "Type a message"), ("x" * 1601, "limit is 1600")):
        with pytest.raises(InvalidInput, match=match):
            send_sitter_message(visit.user.id, visit.thread.id, body)
    assert _rows(Message) == []


def test_mark_thread_read_is_an_upsert(visit, clock):
    mark_thread_read(visit.user.id, visit.thread.id, visit.thread.org_id)
    clock.advance(minutes=5)
    mark_thread_read(visit.user.id, visit.thread.id, visit.thread.org_id)
    [read] = _rows(ThreadRead)
    assert read.read_at == clock.now


def test_the_same_text_posted_twice_is_sent_once(visit, clock):
    first = send_sitter_message(visit.user.id, visit.thread.id, "On my way")
    clock.advance(seconds=20)  # the retried form of a weak connection
    again = send_sitter_message(visit.user.id, visit.thread.id, "On my way")
    assert again.message_id == first.message_id and "not sent twice" in again.notice
    assert len(_rows(OutboxEntry)) == 1
    clock.advance(minutes=3)  # later, the same words are a new message
    send_sitter_message(visit.user.id, visit.thread.id, "On my way")
    assert len(_rows(OutboxEntry)) == 2
