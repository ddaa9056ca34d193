"""Reconcile: lost jobs come back once; interrupted sends settle without a second send."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.jobs.queue import get_queue
from app.models import Alert, EventLog, Message, OutboxEntry
from app.services.messaging.outbound import queue_outbound_message
from app.services.ops.reconcile import Reconciler, reconcile, requeue_queued_messages, settle_stuck_sends
from tests.support.messaging_builders import booking_thread, outbound_message


def stuck(make, clock, **kw):
    """A text a killed worker left `sending` two minutes ago."""
    thread = booking_thread(make)
    message = outbound_message(make, thread, status="sending", attempts=1, **kw)
    clock.advance(minutes=2)
    return message


def fresh(message) -> Message:
    db.session.expire_all()
    return db.session.get(Message, message.id)


def test_outbox_send_that_never_happened_goes_again_once(make, clock):
    message = stuck(make, clock)
    assert settle_stuck_sends() == 1
    assert fresh(message).status == "sent"  # requeued, then sent by its job (inline here)
    assert len(db.session.scalars(select(OutboxEntry)).all()) == 1
    assert settle_stuck_sends() == 0


def test_a_recent_sending_row_is_left_to_its_job(make, clock):
    thread = booking_thread(make)
    message = outbound_message(make, thread, status="sending", attempts=1)
    clock.advance(seconds=30)
    assert settle_stuck_sends() == 0 and fresh(message).status == "sending"


def test_twilio_is_asked_by_the_stored_sid(make, clock, twilio):
    thread = booking_thread(make)
    queued = queue_outbound_message(org_id=thread.org_id, thread_id=thread.id,
                                    from_number_id=thread.message_number_id, to_e164=thread.client.phone_e164,
                                    body="Walk done", sender_kind="automation")
    db.session.commit()
    sid = fresh(queued).provider_sid
    twilio.created[0]["status"] = "delivered"
    # As if the row had been left `sending` with its sid (say, restored from a backup).
    db.session.get(Message, queued.id).status = "sending"
    db.session.commit()
    clock.advance(minutes=2)
    assert settle_stuck_sends() == 1
    message = fresh(queued)
    assert (message.status, message.provider_sid) == ("delivered", sid)
    assert [r["uri"].rsplit("/", 1)[1] for r in twilio.requests if r["method"] == "GET"] == [f"{sid}.json"]
    assert len(twilio.posts) == 1  # never sent twice


def test_twilio_found_by_the_pair_and_body_is_adopted(make, clock, twilio):
    thread = booking_thread(make)
    twilio.fail_next(raises=ConnectionError("reset"), after_accepting=True)
    queued = queue_outbound_message(org_id=thread.org_id, thread_id=thread.id,
                                    from_number_id=thread.message_number_id, to_e164=thread.client.phone_e164,
                                    body="Walk done", sender_kind="automation")
    db.session.commit()
    get_queue().cancel(f"send-message-{queued.id}")  # its retry is lost with the worker
    assert fresh(queued).status == "sending"
    clock.advance(minutes=2)
    assert settle_stuck_sends() == 1
    assert (fresh(queued).status, fresh(queued).provider_sid) == ("sent", twilio.created[0]["sid"])
    assert len(twilio.posts) == 1


def test_twilio_that_cannot_confirm_makes_it_unknown_with_an_alert_never_a_second_send(make, clock, twilio):
    message = stuck(make, clock)
    assert settle_stuck_sends() == 1
    settled = fresh(message)
    assert settled.status == "unknown" and "will not be sent again" in settled.error_message
    assert twilio.posts == []
    alert = db.session.scalar(select(Alert).where(Alert.kind == "message.unknown"))
    assert alert.audience == "owner" and alert.message_id == message.id
    assert db.session.scalar(select(EventLog.kind).where(EventLog.kind == "message.unknown"))
    assert settle_stuck_sends() == 0 and reconcile().counts["messages_queued"] == 0


def test_one_reconciler_failing_does_not_stop_the_others(make, clock):
    def broken(batch_size):
        raise RuntimeError("no such table")

    thread = booking_thread(make)
    outbound_message(make, thread, status="queued")
    report = reconcile(reconcilers=[Reconciler("broken", broken), Reconciler("queued", requeue_queued_messages)])
    assert not report.ok and "no such table" in report.errors["broken"]
    assert report.counts == {"queued": 1}


def test_batches_walk_every_row(make, clock):
    thread = booking_thread(make)
    ids = [outbound_message(make, thread, status="queued").id for _ in range(7)]
    assert requeue_queued_messages(batch_size=3) == 7
    db.session.expire_all()
    assert {db.session.get(Message, i).status for i in ids} == {"sent"}


def test_a_duplicate_job_never_resends_a_text_another_job_is_sending(make, clock):
    from app.services.messaging.outbound import deliver_message

    thread = booking_thread(make)
    in_flight = outbound_message(make, thread, status="sending", attempts=1)
    assert deliver_message(in_flight.id) == "sending"  # the other job may be mid-call
    assert db.session.scalars(select(OutboxEntry)).all() == []
    clock.advance(minutes=2)  # that job died: the next job settles it as reconcile would
    deliver_message(in_flight.id)
    assert fresh(in_flight).status == "sent"
    assert len(db.session.scalars(select(OutboxEntry)).all()) == 1


def test_the_shared_lock_is_released_only_by_its_holder(redis_app):
    from app.services.ops.reconcile import SHARED_LOCK

    queue = get_queue()
    key = f"pawline:lock:{SHARED_LOCK}"

    def overran_its_lock(batch_size):
        # The pass outlived the lock's expiry, and another process took the lock meanwhile.
        queue.redis.set(key, "another-process", ex=60)
        return 0

    report = reconcile(shared_lock=True, reconcilers=[Reconciler("slow", overran_its_lock)])
    assert report.ok and not report.skipped
    assert queue.redis.get(key) == b"another-process"  # not deleted from under its holder

    # A lock still its own, the pass releases (the next pass is not skipped).
    queue.redis.delete(key)
    assert reconcile(shared_lock=True, reconcilers=[]).ok
    assert queue.redis.get(key) is None
    assert not reconcile(shared_lock=True, reconcilers=[]).skipped


def test_a_long_pass_renews_the_shared_lock_between_reconcilers(redis_app):
    from app.services.ops.reconcile import SHARED_LOCK, SHARED_LOCK_SECONDS

    queue = get_queue()
    key = f"pawline:lock:{SHARED_LOCK}"
    seen = []

    def slow(batch_size):
        queue.redis.pexpire(key, 2000)  # this reconciler used up nearly all of the lock's time
        return 0

    def next_one(batch_size):
        seen.append(queue.redis.ttl(key))
        seen.append(reconcile(shared_lock=True, reconcilers=[]).skipped)  # a second process waits
        return 0

    report = reconcile(shared_lock=True, reconcilers=[Reconciler("slow", slow), Reconciler("next", next_one)])
    assert report.ok and not report.skipped
    assert seen[0] > SHARED_LOCK_SECONDS - 5 and seen[1] is True  # renewed, still held by the pass
    assert queue.redis.get(key) is None  # and released at its end
