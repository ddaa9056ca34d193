"""Status callbacks: forward only, late and repeated callbacks harmless, failures alert people."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.errors import InvalidInput
from app.extensions import db
from app.jobs.queue import get_queue
from app.models import Alert, Client, Message, StatusCallback
from app.services.messaging.delivery_status import apply_status_callback
from app.services.ops.reconcile import requeue_status_callbacks
from tests.support.messaging_builders import booking_thread, outbound_message
from tests.support.twilio_stand_in import fixture_fields

SID = "SM22222222222222222222222222222222"  # the status-callback fixture's MessageSid


def callback(status, sid=SID, **extra):
    extra.setdefault("ErrorCode", None)
    fields = fixture_fields("status-callback", MessageSid=sid, SmsSid=sid, MessageStatus=status,
                            SmsStatus=status, **extra)
    return apply_status_callback(fields)


@pytest.fixture
def sent(make):
    """An outbound text Twilio accepted (status `sent`, sid saved)."""
    return outbound_message(make, booking_thread(make), provider_sid=SID)


def status_of(message) -> str:
    db.session.expire_all()
    return db.session.get(Message, message.id).status


def alerts() -> list[tuple]:
    return [(a.audience, a.sitter_id) for a in db.session.scalars(select(Alert).order_by(Alert.id))]


@pytest.mark.parametrize(("sequence", "final"), [
    (["sending", "sent", "delivered"], "delivered"),
    (["delivered", "sent", "sending", "queued"], "delivered"),  # out of order: never backwards
    (["delivered", "undelivered", "failed"], "delivered"),  # delivered is final
    (["failed", "delivered", "sent"], "failed"),  # failed is final
    (["sending", "undelivered", "delivered"], "undelivered"),
    (["read"], "delivered"),
])
def test_status_only_moves_forward(sent, sequence, final):
    for status in sequence:
        callback(status)
    assert status_of(sent) == final


def test_failed_records_the_error_code_and_alerts_owners_once(sent):
    callback("failed", ErrorCode="30003")
    callback("failed", ErrorCode="30003")  # Twilio repeats itself
    message = db.session.get(Message, sent.id)
    assert (message.status, message.error_code) == ("failed", "30003")
    assert alerts() == [("owner", None)]
    [alert] = db.session.scalars(select(Alert)).all()
    assert alert.message_id == sent.id and "30003" in alert.text


def test_undelivered_sitter_message_alerts_the_sitter_and_the_owners(make):
    thread = booking_thread(make, sitter_login=True)
    sitter = thread.booking.sitter
    message = outbound_message(make, thread, sender_kind="sitter", sender_user_id=sitter.user_id,
                               provider_sid=SID)
    callback("undelivered", ErrorCode="30005")
    assert status_of(message) == "undelivered"
    assert alerts() == [("owner", None), ("sitter", sitter.id)]
    sitter_alert = db.session.scalars(select(Alert).where(Alert.audience == "sitter")).one()
    assert thread.client.phone_e164 not in sitter_alert.text


def test_21610_marks_the_client_opted_out(sent):
    callback("undelivered", ErrorCode="21610")
    client = db.session.scalar(select(Client).where(Client.phone_e164 == sent.to_e164))
    assert client.opted_out is True and status_of(sent) == "undelivered"


def test_callback_for_an_inbound_message_changes_nothing(make):
    inbound = make.message(provider_sid=SID)
    assert callback("delivered") == "ignored" and status_of(inbound) == "received"


def test_unknown_status_is_ignored(sent):
    assert callback("partially_delivered") == "ignored" and status_of(sent) == "sent"


def test_missing_sid_is_refused():
    with pytest.raises(InvalidInput):
        apply_status_callback({"MessageStatus": "delivered"})


def test_callback_that_beats_the_sid_being_saved_is_applied_later(make, clock):
    message = outbound_message(make, booking_thread(make), status="sending")
    assert callback("delivered") == "unknown_sid"
    stored = db.session.scalar(select(StatusCallback))
    assert (stored.provider_sid, stored.status, stored.state) == (SID, "delivered", "pending")
    assert get_queue().holds(f"status-callback-{stored.id}")
    message.provider_sid, message.status = SID, "sent"  # the send job saves the sid
    db.session.commit()
    clock.advance(seconds=15)
    assert get_queue().run_due() == 1
    assert status_of(message) == "delivered"


def test_callback_for_a_sid_that_never_appears_is_dropped_after_its_rechecks(make, clock):
    callback("delivered", sid="SM" + "9" * 32)
    for seconds in (15, 30, 120, 600):
        clock.advance(seconds=seconds)
        assert get_queue().run_due() == 1
    assert not get_queue().scheduled()
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    stored = db.session.scalar(select(StatusCallback))
    assert stored.state == "pending"  # its job gave up; the row did not
    clock.advance(minutes=30)
    assert requeue_status_callbacks() == 1  # the lost job comes back once, sets the row aside
    db.session.expire_all()
    assert db.session.get(StatusCallback, stored.id).state == "unmatched"
    assert requeue_status_callbacks() == 0
