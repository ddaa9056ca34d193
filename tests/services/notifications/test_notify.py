"""Notifications end to end: events → Notification rows → encrypted Web Push to a local push service.

The push service stand-in (tests/support/push_stand_in.py) checks the VAPID header and decrypts each
payload with the subscribing "browser's" own keys, as a real push service and browser would.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.adapters.webpush import push_headers
from app.extensions import db
from app.jobs.queue import get_queue
from app.models import Message, Notification, NotificationSettings, PushSubscription
from app.services.bookings.confirmed import on_booking_confirmed
from app.services.bookings.lifecycle import cancel_booking, change_sitter, reschedule_booking
from app.services.notifications import notify as notifications
from tests.services.messaging.test_inbound_routing import inbound as route_text
from tests.support.push import PUBLIC, PUSH_CONFIG, SUBJECT
from tests.support.push_stand_in import PushStandIn
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York
PHONE_LIKE = re.compile(r"\d[\d\s().-]{5,}\d")


@pytest.fixture
def app_config():
    return dict(PUSH_CONFIG)


@pytest.fixture
def push():
    with PushStandIn(PUBLIC, SUBJECT) as service:
        yield service


@pytest.fixture
def visit(make, clock):
    clock.set(START + timedelta(minutes=15))
    client = make.client(name="Alex Morgan", pets=("Biscuit",), phone_e164="+12025550143")
    return make_visit(make, start=START, hours=1, client=client)


_sids = itertools.count(1)


def inbound(number, sender, body="Is Biscuit eating ok?"):
    """A client's text through the real routing (a new MessageSid each time)."""
    return route_text(number, sender, body=body, MessageSid=f"SMpush{next(_sids):028d}")


def subscribe(push, user, answer=201, inbox_items=False) -> dict:
    data = push.subscribe(answer)
    notifications.save_push_subscription(user, data, device="test", inbox_items=inbox_items)
    return data


def payloads(push, count):
    received = push.wait_for(count)
    assert len(received) == count, [r.payload for r in received]
    for item in received:
        assert item.problems == [], item.problems
    return [item.payload for item in received]


def test_a_client_text_in_the_open_window_reaches_the_sitters_device_encrypted_and_signed(make, visit, push):
    subscribe(push, visit.user)
    number = visit.thread.message_number
    inbound(number, visit.booking.client, body="Call me at 202-555-0199, Biscuit threw up")

    [payload] = payloads(push, 1)
    assert payload["title"] == "New message from Alex (Biscuit)"
    assert payload["url"] == f"/sitter/threads/{visit.thread.id}"
    text = str(payload)
    assert "202" not in text and "0143" not in text and not PHONE_LIKE.search(text)  # no number, ever
    assert "threw up" not in text  # nor what the client wrote: lock screens are not private
    item = push.received[0]
    assert item.vapid_claims["aud"] == push.origin and item.vapid_key == PUBLIC
    row = db.session.scalar(select(Notification))
    assert (row.kind, row.status, row.channel, row.devices) == ("client_text", "sent", "push", 1)


def test_every_device_of_the_sitter_gets_it_and_a_gone_device_is_deleted(make, visit, push):
    subscribe(push, visit.user)
    gone = subscribe(push, visit.user, answer=410)
    missing = subscribe(push, visit.user, answer=404)
    inbound(visit.thread.message_number, visit.booking.client)
    push.wait_for(3)
    endpoints = db.session.scalars(select(PushSubscription.endpoint)).all()
    assert gone["endpoint"] not in endpoints and missing["endpoint"] not in endpoints and len(endpoints) == 1
    assert db.session.scalar(select(Notification.status)) == "sent"


def test_a_push_service_error_fails_the_notification_and_keeps_the_device(make, visit, push):
    subscribe(push, visit.user, answer=500)
    inbound(visit.thread.message_number, visit.booking.client)
    push.wait_for(1)
    row = db.session.scalar(select(Notification))
    assert row.status == "failed" and "500" in row.error
    assert db.session.scalar(select(func.count(PushSubscription.id))) == 1


def test_a_text_after_the_window_does_not_notify_the_former_sitter_but_opted_in_owners(make, visit, push, clock):
    owner, staff = make.user("owner"), make.user("staff")
    subscribe(push, visit.user)
    subscribe(push, owner, inbox_items=True)
    subscribe(push, staff)  # this device did not opt in for inbox items
    clock.set(visit.window.ends_at + timedelta(minutes=5))
    message = inbound(visit.thread.message_number, visit.booking.client)
    assert message.owner_inbox
    [payload] = payloads(push, 1)
    assert payload["title"] == "New in the inbox" and payload["url"] == "/admin/inbox"
    assert payload["body"] == "A text from Alex (Biscuit)."
    assert db.session.scalar(select(Notification.user_id)) == owner.id


def test_an_unknown_sender_reaches_owners_without_a_number(make, push):
    owner = make.user("owner")
    subscribe(push, owner, inbox_items=True)
    inbound(make.number("pool"), "+12025550177")
    [payload] = payloads(push, 1)
    assert payload["body"] == "A text from an unknown sender." and "0177" not in str(payload)


def test_the_job_run_twice_pushes_once(make, visit, push):
    subscribe(push, visit.user)
    message = inbound(visit.thread.message_number, visit.booking.client)
    payloads(push, 1)
    assert notifications.notify_client_text(message.id) == 0
    assert len(push.received) == 1 and db.session.scalar(select(func.count(Notification.id))) == 1


def test_visit_added_changed_reassigned_and_cancelled(make, clock, push):
    clock.set(START - timedelta(days=1))
    first, second = make.sitter(), make.sitter()
    subscribe(push, first.user)
    subscribe(push, second.user)
    make.number("pool")
    booking = make.booking(sitter=first, start=START, client=make.client(name="Alex Morgan", pets=("Biscuit",)))

    on_booking_confirmed(booking.id)
    [added] = payloads(push, 1)
    assert added["title"] == "New visit: Alex (Biscuit)" and added["url"].startswith("/sitter/threads/")
    headers = push.received[0].headers  # a visit change: normal urgency, kept 6 hours, no Topic
    assert (headers["urgency"], headers["ttl"], headers.get("topic")) == ("normal", str(6 * 3600), None)
    assert "Wed 25 Nov" in added["body"] or "25" in added["body"]

    reschedule_booking(booking.id, START + timedelta(hours=2), START + timedelta(hours=3))
    changed = payloads(push, 2)[1]
    assert changed["title"] == "Visit changed: Alex (Biscuit)" and "11:00 AM" in changed["body"]

    change_sitter(booking.id, second.id)
    by_token = {r.token: r.payload for r in push.wait_for(4)[2:]}
    titles = sorted(p["title"] for p in by_token.values())
    assert titles == ["New visit: Alex (Biscuit)", "Visit reassigned: Alex (Biscuit)"]

    cancel_booking(booking.id, "client asked")
    cancelled = payloads(push, 5)[4]
    assert cancelled["title"] == "Visit cancelled: Alex (Biscuit)" and cancelled["url"] == "/sitter"
    kinds = db.session.scalars(select(Notification.kind).order_by(Notification.id)).all()
    assert kinds == ["visit_added", "visit_changed", "visit_removed", "visit_added", "visit_cancelled"]


def test_a_window_opening_in_ten_minutes_is_announced_once(make, clock, push):
    clock.set(START - timedelta(hours=3))
    sitter = make.sitter()
    subscribe(push, sitter.user)
    make.number("pool")
    booking = make.booking(sitter=sitter, start=START, client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    on_booking_confirmed(booking.id)
    payloads(push, 1)  # "New visit"
    queue = get_queue()
    assert any(func_name == "app.jobs.notify_window_opening" for _, _, func_name in queue.scheduled())

    clock.set(START - timedelta(minutes=10))
    queue.run_due(clock.now)
    opening = payloads(push, 2)[1]
    assert opening["title"] == "Visit at 9:00 AM: Alex (Biscuit)"
    assert (push.received[1].headers["urgency"], push.received[1].headers["ttl"]) == ("high", "600")
    assert opening["body"] == "Messaging opens in 10 minutes."
    # The periodic scan (for a scheduled job Redis lost) finds the same window: nothing new.
    clock.advance(minutes=2)
    assert notifications.notify_windows_opening_soon() == 0
    assert len(push.received) == 2


def test_the_periodic_scan_announces_a_window_whose_job_was_lost(make, clock, push):
    clock.set(START - timedelta(minutes=8))
    visit = make_visit(make, start=START, client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    subscribe(push, visit.user)
    assert notifications.notify_windows_opening_soon() == 1
    assert payloads(push, 1)[0]["body"] == "Messaging opens in 8 minutes."


def test_a_rescheduled_window_does_not_announce_the_old_time(make, clock, push):
    clock.set(START - timedelta(minutes=10))
    visit = make_visit(make, start=START + timedelta(hours=2))  # moved: the old job fires for nothing
    subscribe(push, visit.user)
    assert notifications.notify_window_opening(visit.window.id) == 0
    assert push.received == []


def test_no_device_is_recorded_as_such(make, visit):
    inbound(visit.thread.message_number, visit.booking.client)
    assert db.session.scalar(select(Notification.status)) == "no_device"


def test_pending_notifications_whose_job_was_lost_are_delivered_or_given_up(make, visit, push, clock):
    subscribe(push, visit.user)
    fresh = notifications.plan_notification(visit.sitter.org_id, visit.user.id, "client_text", "lost:1", "t", "b",
                                            "/sitter")
    db.session.commit()
    clock.advance(minutes=2)
    stale = notifications.plan_notification(visit.sitter.org_id, visit.user.id, "client_text", "lost:2", "t", "b",
                                            "/sitter")
    db.session.get(Notification, stale).created_at = clock.now - timedelta(hours=1)
    db.session.commit()
    assert notifications.reconcile_notifications() == 1
    payloads(push, 1)
    assert db.session.get(Notification, fresh).status == "sent"
    assert db.session.get(Notification, stale).status == "failed"


# ---------------------------------------------------------------- the SMS ping


@pytest.fixture
def pinged(make, visit):
    make.number("front_desk")
    notifications.set_sms_ping(visit.user, True)
    return visit


def _pings(visit):
    return db.session.scalars(select(Message).where(Message.to_e164 == visit.sitter.phone_e164)
                              .order_by(Message.id)).all()


def test_sms_ping_goes_to_the_sitters_phone_without_client_content_at_most_every_ten_minutes(pinged, clock):
    visit = pinged
    inbound(visit.thread.message_number, visit.booking.client, body="Biscuit is sick, call 202-555-0199")
    [ping] = _pings(visit)
    assert ping.body == "New message from Alex (Biscuit): open Pawline"
    assert ping.sender_kind == "system" and ping.thread_id is None
    assert ping.message_number.kind == "front_desk"
    clock.advance(minutes=9)
    inbound(visit.thread.message_number, visit.booking.client, body="Hello?")
    assert len(_pings(visit)) == 1
    assert db.session.scalars(select(Notification.status).order_by(Notification.id)).all() == ["sent", "skipped"]
    clock.advance(minutes=2)
    inbound(visit.thread.message_number, visit.booking.client, body="Still there?")
    assert len(_pings(visit)) == 2


def test_no_sms_ping_when_a_device_has_push(pinged, push):
    subscribe(push, pinged.user)
    inbound(pinged.thread.message_number, pinged.booking.client)
    payloads(push, 1)
    assert _pings(pinged) == []


def test_sms_ping_needs_a_phone_and_a_front_desk_number(make, visit):
    from app.errors import InvalidInput

    with pytest.raises(InvalidInput, match="front-desk"):
        notifications.set_sms_ping(visit.user, True)
    visit.sitter.phone_e164 = None
    db.session.commit()
    make.number("front_desk")
    with pytest.raises(InvalidInput, match="phone number"):
        notifications.set_sms_ping(visit.user, True)
    assert db.session.get(NotificationSettings, visit.user.id) is None


# ---------------------------------------------------------------- subscriptions


def test_logout_everywhere_removes_every_device(make, visit, push):
    subscribe(push, visit.user)
    subscribe(push, visit.user)
    other = subscribe(push, make.user("owner"))
    assert notifications.delete_push_subscriptions(visit.user.id) == 2
    assert db.session.scalars(select(PushSubscription.endpoint)).all() == [other["endpoint"]]


def test_the_same_browser_subscribing_for_another_user_moves_to_them(make, visit, push):
    data = subscribe(push, visit.user)
    owner = make.user("owner")
    notifications.save_push_subscription(owner, data)
    assert db.session.scalar(select(PushSubscription.user_id)) == owner.id


# ---------------------------------------------------------------- what each kind asks of the push service
# RFC 8030, seen by the stand-in: a client's text in the window wakes the phone (Urgency: high), waits
# for an offline phone only until the window ends (TTL) and is replaced there by the thread's next
# text (Topic). Visit changes (normal, 6 h) and a window opening (high, 10 min) are checked above.


def test_a_client_text_is_high_urgency_kept_until_the_window_ends_and_one_per_thread(make, visit, push, clock):
    subscribe(push, visit.user)
    inbound(visit.thread.message_number, visit.booking.client, body="Is Biscuit ok?")
    payloads(push, 1)
    headers = push.received[0].headers
    window_left = int((visit.window.ends_at - clock.now).total_seconds())
    assert (headers["urgency"], headers["ttl"], headers["topic"]) == ("high", str(window_left),
                                                                      f"text-{visit.thread.id}")

    clock.advance(minutes=30)
    inbound(visit.thread.message_number, visit.booking.client, body="And the cat?")
    payloads(push, 2)
    later = push.received[1].headers
    assert later["topic"] == headers["topic"]  # the push service replaces the first if still held
    assert later["ttl"] == str(window_left - 30 * 60)


def test_texts_of_two_threads_have_two_topics(make, visit, push, clock):
    other = make_visit(make, sitter=visit.sitter, start=visit.booking.start_at, hours=1,
                       client=make.client(name="Jamie Chen", pets=("Rex",), phone_e164="+12025550144"))
    subscribe(push, visit.user)
    inbound(visit.thread.message_number, visit.booking.client)
    inbound(other.thread.message_number, other.booking.client)
    payloads(push, 2)
    assert {r.headers["topic"] for r in push.received} == {f"text-{visit.thread.id}", f"text-{other.thread.id}"}


@pytest.mark.parametrize("urgency, topic", [("urgent", None), ("high", "x" * 33), ("high", "a b"), ("high", "")])
def test_bad_urgency_or_topic_is_refused_before_sending(urgency, topic):
    with pytest.raises(ValueError):
        push_headers(urgency, topic)
