"""The Twilio provider through the SDK's own http_client hook: what it sends, what it retries."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from app.adapters.sms import PermanentSendError, TransientSendError
from app.adapters.twilio_sms import TwilioProvider, classify_twilio_error
from app.extensions import db
from app.jobs.queue import get_queue
from app.jobs.specs import JOBS
from app.models import Alert, Message
from app.services.messaging.outbound import deliver_message, queue_outbound_message
from tests.support.messaging_builders import as_first_text, booking_thread, outbound_message
from tests.support.twilio_stand_in import BASE_URL, TwilioStandIn


def _queue(thread, body="Biscuit had a great walk!", **kw):
    message = queue_outbound_message(org_id=thread.org_id, thread_id=thread.id,
                                     from_number_id=thread.message_number_id,
                                     to_e164=thread.client.phone_e164, body=body,
                                     sender_kind=kw.pop("sender_kind", "automation"), **kw)
    db.session.commit()  # the send job runs after the commit (inline here)
    db.session.rollback()
    return db.session.get(Message, message.id)


def _job_id(message) -> str:
    return f"send-message-{message.id}"


def test_request_carries_thread_number_client_and_status_callback(make, twilio):
    thread = booking_thread(make)
    message = _queue(thread)
    [post] = twilio.posts
    assert post["uri"].endswith(f"/Accounts/{'AC' + '0' * 32}/Messages.json")
    assert post["data"]["From"] == thread.message_number.e164
    assert post["data"]["To"] == thread.client.phone_e164
    assert post["data"]["Body"] == as_first_text("Biscuit had a great walk!")
    assert post["data"]["StatusCallback"] == BASE_URL + "/webhooks/twilio/status"
    assert message.status == "sent" and message.provider_sid == twilio.created[0]["sid"]
    assert message.attempts == 1


def test_a_5xx_is_retried_with_backoff_and_sent_once(make, twilio, clock):
    thread = booking_thread(make)
    twilio.fail_next(503, 20503)
    message = _queue(thread)
    # A 5xx may hide an accepted text: the message stays `sending` so the retry asks Twilio first.
    assert message.status == "sending" and message.error_code == "20503"
    assert twilio.created == [] and get_queue().holds(_job_id(message))
    clock.advance(seconds=JOBS.send_message.retry.intervals[0] - 1)
    assert get_queue().run_due() == 0  # backoff: not yet
    clock.advance(seconds=1)
    assert get_queue().run_due() == 1
    db.session.rollback()
    message = db.session.get(Message, message.id)
    assert message.status == "sent" and message.error_code is None and message.attempts == 2
    assert [r["method"] for r in twilio.requests] == ["POST", "GET", "POST"] and len(twilio.created) == 1


def test_21610_is_not_retried_and_marks_the_client_opted_out(make, twilio):
    thread = booking_thread(make)
    twilio.fail_next(400, 21610)
    message = _queue(thread)
    assert message.status == "failed" and message.error_code == "21610"
    assert not get_queue().holds(_job_id(message)) and len(twilio.posts) == 1
    assert message.thread.client.opted_out is True
    [alert] = db.session.scalars(select(Alert)).all()
    assert alert.audience == "owner" and alert.message_id == message.id and "21610" in alert.text
    # The next text is not even attempted.
    assert _queue(thread).status == "blocked" and len(twilio.posts) == 1


@pytest.mark.parametrize("code", [21211, 21614])
def test_invalid_number_fails_at_once_without_opting_out(make, twilio, code):
    thread = booking_thread(make)
    twilio.fail_next(400, code)
    message = _queue(thread)
    assert (message.status, message.error_code) == ("failed", str(code))
    assert message.thread.client.opted_out is False and not get_queue().holds(_job_id(message))


def test_sitter_message_failing_alerts_the_sitter_and_the_owners(make, twilio):
    thread = booking_thread(make, sitter_login=True)
    sitter = thread.booking.sitter
    twilio.fail_next(400, 21211)
    message = _queue(thread, sender_kind="sitter", sender_user_id=sitter.user_id)
    alerts = db.session.scalars(select(Alert).order_by(Alert.id)).all()
    assert [(a.audience, a.sitter_id) for a in alerts] == [("owner", None), ("sitter", sitter.id)]
    assert thread.client.phone_e164 not in alerts[1].text and alerts[1].message_id == message.id


def test_retries_exhausted_ends_failed_with_an_owner_alert(make, twilio, clock):
    thread = booking_thread(make)
    for _ in range(JOBS.send_message.retry.max + 1):
        twilio.fail_next(500, 20500)
    message = _queue(thread)
    for wait in JOBS.send_message.retry.intervals:
        clock.advance(seconds=wait)
        get_queue().run_due()
    db.session.rollback()
    message = db.session.get(Message, message.id)
    assert message.status == "failed" and message.attempts == JOBS.send_message.retry.max + 1
    assert len(twilio.posts) == JOBS.send_message.retry.max + 1 and not get_queue().holds(_job_id(message))
    assert [a.kind for a in db.session.scalars(select(Alert))] == ["message.failed"]


def test_network_error_and_rate_limit_are_transient(make, twilio, clock):
    thread = booking_thread(make)
    twilio.fail_next(raises=requests.ConnectionError("connection reset"))
    twilio.fail_next(429, 20429)
    message = _queue(thread)
    assert (message.status, message.error_code) == ("sending", "network")
    clock.advance(seconds=JOBS.send_message.retry.intervals[0])
    get_queue().run_due()
    db.session.rollback()
    # A 429 is a refusal: nothing was accepted, the next attempt just sends.
    assert (db.session.get(Message, message.id).status, message.error_code) == ("queued", "20429")
    clock.advance(seconds=JOBS.send_message.retry.intervals[1])
    get_queue().run_due()
    db.session.rollback()
    assert db.session.get(Message, message.id).status == "sent" and len(twilio.created) == 1


class WorkerKilled(BaseException):
    """The process dying: no `except Exception` in the send path catches it."""


class DiesAfterTwilioAccepts(TwilioProvider):
    def send(self, **kw):
        super().send(**kw)
        raise WorkerKilled


def test_worker_killed_between_provider_call_and_save_texts_once(app, make, twilio, clock):
    thread = booking_thread(make)
    message = outbound_message(make, thread, status="queued")
    app.extensions["pawline_sms_provider"] = DiesAfterTwilioAccepts(
        TwilioProvider.from_config(app.config, http_client=twilio).client)
    with pytest.raises(WorkerKilled):
        deliver_message(message.id)
    db.session.rollback()
    assert db.session.get(Message, message.id).status == "sending" and len(twilio.created) == 1
    # The queue runs the job again (RQ retries an abandoned job, after its timeout) with a
    # healthy worker: Twilio has the text, so it is adopted, not sent again.
    clock.advance(minutes=2)
    app.extensions["pawline_sms_provider"] = TwilioProvider.from_config(app.config, http_client=twilio)
    assert deliver_message(message.id) == "sent"
    assert deliver_message(message.id) == "sent"
    db.session.rollback()
    message = db.session.get(Message, message.id)
    assert len(twilio.posts) == 1 and message.provider_sid == twilio.created[0]["sid"]


def test_recovery_does_not_adopt_an_older_identical_text(app, make, twilio, clock):
    thread = booking_thread(make)
    _queue(thread, body="On my way")
    clock.advance(hours=2)
    second = outbound_message(make, thread, status="sending", body="On my way")
    clock.advance(minutes=2)  # its job died mid-send
    # The only matching text at Twilio is `first`, ours already: not adopted. Not finding it is
    # not proof it never left, so it is not sent again either: `unknown`, and owners are told.
    assert deliver_message(second.id) == "unknown"
    db.session.rollback()
    assert len(twilio.created) == 1
    assert db.session.get(Message, second.id).provider_sid is None
    assert db.session.scalar(select(Alert.kind).where(Alert.message_id == second.id)) == "message.unknown"


@pytest.mark.parametrize(("status", "code", "kind"), [
    (400, 21610, PermanentSendError), (400, 21211, PermanentSendError), (400, 21614, PermanentSendError),
    (401, 20003, PermanentSendError), (429, 20429, TransientSendError), (500, 20500, TransientSendError),
    (503, None, TransientSendError),
])
def test_classification(status, code, kind):
    from twilio.base.exceptions import TwilioRestException

    error = classify_twilio_error(TwilioRestException(status, "/Messages.json", "x", code))
    assert isinstance(error, kind) and error.code == str(code or status)


def test_rq_retries_a_5xx_with_retry_and_not_a_21610(redis_app, clock):
    from app.jobs.worker import build_worker
    from tests.support.factories import Factories

    make = Factories(db.session, clock)

    stand_in = TwilioStandIn()
    redis_app.extensions["pawline_sms_provider"] = TwilioProvider.from_config(redis_app.config,
                                                                             http_client=stand_in)
    thread = booking_thread(make)
    stand_in.fail_next(502, 20502)
    stand_in.fail_next(400, 21610)

    def queue_and_work(body):
        message = queue_outbound_message(org_id=thread.org_id, thread_id=thread.id, body=body,
                                         from_number_id=thread.message_number_id,
                                         to_e164=thread.client.phone_e164, sender_kind="automation")
        db.session.commit()  # hands the job to RQ
        build_worker(redis_app, forking=False).work(burst=True)
        return message, get_queue().fetch(_job_id(message))

    retried, job = queue_and_work("one")
    assert job.get_status(refresh=True) == "scheduled" and job.retries_left == JOBS.send_message.retry.max - 1
    refused, job = queue_and_work("two")
    assert job.get_status(refresh=True) == "finished"
    db.session.rollback()
    assert db.session.get(Message, retried.id).status == "sending"  # a 502: ask before resending
    assert db.session.get(Message, refused.id).status == "failed"
    assert len(stand_in.posts) == 2


def test_client_who_replies_stop_between_retries_is_not_texted(make, twilio, clock):
    thread = booking_thread(make)
    twilio.fail_next(503, 20503)
    message = _queue(thread)
    thread.client.opted_out = True  # STOP arrives before the retry
    db.session.commit()
    clock.advance(seconds=JOBS.send_message.retry.intervals[0])
    get_queue().run_due()
    db.session.rollback()
    message = db.session.get(Message, message.id)
    assert (message.status, message.error_code) == ("blocked", "opted_out")
    assert len(twilio.posts) == 1 and not get_queue().holds(_job_id(message))


def test_timeout_after_twilio_accepted_is_not_sent_twice(make, twilio, clock):
    thread = booking_thread(make)
    twilio.fail_next(raises=requests.ReadTimeout("read timed out"), after_accepting=True)
    message = _queue(thread)
    assert message.status == "sending" and len(twilio.created) == 1
    clock.advance(seconds=JOBS.send_message.retry.intervals[0])
    get_queue().run_due()
    db.session.rollback()
    message = db.session.get(Message, message.id)
    assert message.status == "sent" and message.provider_sid == twilio.created[0]["sid"]
    assert len(twilio.posts) == 1 and len(twilio.created) == 1
