"""Redis unreachable: every database operation still commits and answers; the queue catches up.

The web app here has REDIS_URL at a closed port. Sends, replies, payment links, Stripe and
Twilio webhooks, cancel, reschedule and sitter change must answer below 500 and keep their rows; then a
real `python worker.py` on the real Redis sends every text exactly once (its start-up
reconcile finds the rows), and nothing in Redis carries a phone number or a message body.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from redis import Redis
from sqlalchemy import func, select

from app.extensions import db
from app.models import AutomationRun, Booking, Client, Message, StatusCallback, StripeEvent
from app.services.bookings.confirmed import on_booking_confirmed
from app.services.payments.checkout import STRIPE_HTTP_CLIENT_KEY
from tests.faults.conftest import sends_per_message, wait_for
from tests.support import stripe_payloads as sp
from tests.support.daytime import live_in_daytime
from tests.support.factories import CONFIRMED  # the confirm step's yes
from tests.support.messaging_builders import booking_thread
from tests.support.stripe_stand_in import StripeStandIn
from tests.support.twilio_stand_in import fixture_fields, post_signed

pytestmark = [pytest.mark.faults, pytest.mark.postgres_only]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again on leaving: connections are refused


@pytest.fixture
def app_config():
    return {"REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0", "STRIPE_SECRET_KEY": "sk_test_stand_in"}


@pytest.fixture
def live(app, clock):
    """The test clock at the real time (the worker process reads the wall clock)."""
    clock.set(datetime.now(UTC).replace(second=0, microsecond=0))
    app.extensions[STRIPE_HTTP_CLIENT_KEY] = StripeStandIn()
    return clock


def local(dt, org) -> str:
    return dt.astimezone(ZoneInfo(org.timezone)).strftime("%Y-%m-%dT%H:%M")


def redis_contents(url: str) -> str:
    """Every key and value in the run's Redis database, as one text to search."""
    redis = Redis.from_url(url)
    parts = []
    for key in redis.scan_iter(count=500):
        kind = redis.type(key).decode()
        value = {"string": lambda k: redis.get(k), "hash": lambda k: redis.hgetall(k),
                 "list": lambda k: redis.lrange(k, 0, -1), "set": lambda k: redis.smembers(k),
                 "zset": lambda k: redis.zrange(k, 0, -1), "stream": lambda k: redis.xrange(k)}.get(
                     kind, lambda k: b"")(key)
        parts.append(f"{key!r} {value!r}")
    redis.close()
    return "\n".join(parts)


def test_with_redis_down_everything_commits_then_one_worker_sends_each_text_once(
        app, client, login_as, make, live, start_worker, redis_url):
    org = make.default_org
    live_in_daytime(make, live.now)  # the worker reads the wall clock: the org and its clients are where it is day
    make.number("front_desk")
    make.number("pool")
    make.number("pool")
    owner = make.user("owner")
    answers = {}

    # A sitter texts inside the window.
    visit = booking_thread(make, started_hours_ago=1, sitter_login=True)
    login_as(visit.booking.sitter.user)
    answers["sitter send"] = client.post(f"/sitter/threads/{visit.id}/messages", data={"body": "Biscuit ate well"})
    assert "Sent." not in answers["sitter send"].get_data(as_text=True)

    # The owner answers a client's text from the inbox.
    inbound = make.message(thread=visit, owner_inbox=True, from_e164=visit.client.phone_e164,
                           to_e164=visit.message_number.e164, routing_reason="outside_window")
    login_as(owner)
    answers["owner reply"] = client.post(f"/admin/inbox/{inbound.id}",
                                         data={"from_number_id": visit.message_number_id, "body": "Thanks!"})
    # A payment link is texted.
    unpaid = make.booking(sitter=None, start=live.now + timedelta(days=3))
    answers["payment link"] = client.post(f"/admin/bookings/{unpaid.id}/payment-link", data=CONFIRMED)
    # Stripe says a booking is paid; later it is fully refunded.
    paid = make.booking(sitter=None, start=live.now + timedelta(days=2))
    session = sp.checkout_session(paid)
    answers["stripe paid"] = sp.deliver(client, sp.event("checkout.session.completed", session))
    # Owner cancels one confirmed booking and reschedules another.
    to_cancel = make.booking(sitter=None, start=live.now + timedelta(days=4))
    to_move = make.booking(sitter=None, start=live.now + timedelta(days=5))
    on_booking_confirmed(to_cancel.id)
    on_booking_confirmed(to_move.id)
    answers["cancel"] = client.post(f"/admin/bookings/{to_cancel.id}/cancel",
                                    data={"reason": "Client ill", **CONFIRMED})
    new_start = to_move.start_at + timedelta(days=1)
    answers["reschedule"] = client.post(f"/admin/bookings/{to_move.id}/reschedule",
                                        data={"start_at": local(new_start, org),
                                              "end_at": local(new_start + timedelta(hours=1), org)})
    answers["sitter change"] = client.post(f"/admin/bookings/{to_move.id}/sitter",
                                           data={"sitter_id": make.sitter(with_login=False).id, **CONFIRMED})
    refund = sp.charge(paid, intent_id=session["payment_intent"], amount=paid.price_cents,
                       refunded=paid.price_cents)
    answers["stripe refund"] = sp.deliver(client, sp.event("charge.refunded", refund))
    # The client texts the visit's number (routed to the thread with the open window).
    answers["twilio inbound"] = post_signed(client, "/webhooks/twilio/sms", fixture_fields(
        "inbound-sms", From=visit.client.phone_e164, To=visit.message_number.e164, Body="Is Biscuit ok?"))
    # A delivery callback for a sid not saved yet (it carries the client's number).
    answers["twilio status"] = post_signed(client, "/webhooks/twilio/status", fixture_fields(
        "status-callback", MessageSid="SM" + "7" * 32, SmsSid="SM" + "7" * 32, MessageStatus="delivered",
        SmsStatus="delivered", To=visit.client.phone_e164, ErrorCode=None))

    assert {name: r.status_code for name, r in answers.items() if r.status_code >= 500} == {}
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 2
    assert db.session.get(Booking, to_cancel.id).status == "cancelled"
    assert db.session.get(Booking, to_move.id).start_at == new_start
    assert db.session.scalar(select(func.count()).select_from(StatusCallback)) == 1
    assert db.session.scalar(select(Message.id).where(Message.body == "Is Biscuit ok?")) is not None
    queued = set(db.session.scalars(select(Message.id).where(Message.status == "queued")))
    assert len(queued) == 3  # sitter text, owner reply, payment link: kept, waiting for the queue
    db.session.rollback()

    # Redis is back: one worker, started as the operator would, catches up.
    worker = start_worker()
    wait_for(lambda: _settled(), "every stored Stripe event applied, every queued text and due run sent")
    sent = sends_per_message()
    assert set(sent.values()) == {1}
    db.session.rollback()
    texts = dict(db.session.execute(select(Message.id, Message.body).where(Message.direction == "outbound")).all())
    assert set(sent) == set(texts)  # every outbound text went, none twice
    kinds = dict(db.session.execute(select(AutomationRun.booking_id, AutomationRun.status)
                                    .where(AutomationRun.kind == "booking_confirmation")).all())
    assert kinds[to_move.id] == "sent" and kinds[to_cancel.id] == "cancelled"
    told = db.session.scalar(select(AutomationRun.status).where(AutomationRun.booking_id == to_move.id,
                                                               AutomationRun.kind == "sitter_changed"))
    assert told == "sent"
    assert db.session.get(Booking, paid.id).status == "cancelled"
    worker.stop()

    # Job arguments are ids: no client number and no message body is anywhere in Redis.
    contents = redis_contents(redis_url)
    assert "send-message-" in contents and "status-callback-" in contents
    phones = set(db.session.scalars(select(Client.phone_e164)))
    for phone in phones:
        assert phone not in contents and phone.lstrip("+") not in contents
    for body in [*texts.values(), "Is Biscuit ok?"]:
        assert body not in contents


def _settled() -> bool:
    """Nothing left to do, read in one statement (one snapshot): counted one statement at a time,
    a run finishing between the counts (its text queued after the texts were counted, the run
    `sent` before the runs were) looked settled with a text still to send."""
    db.session.rollback()
    waiting = (select(func.count()).select_from(Message)
               .where(Message.status.in_(("queued", "sending"))).scalar_subquery())
    due = (select(func.count()).select_from(AutomationRun)
           .where(AutomationRun.status == "scheduled",
                  AutomationRun.scheduled_for <= datetime.now(UTC)).scalar_subquery())
    unapplied = (select(func.count()).select_from(StripeEvent)
                 .where(StripeEvent.status == "received").scalar_subquery())
    counts = db.session.execute(select(waiting, due, unapplied)).one()
    db.session.rollback()
    return tuple(counts) == (0, 0, 0)
