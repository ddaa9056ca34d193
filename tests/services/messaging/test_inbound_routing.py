"""Inbound routing: each DESIGN case, pool-leakage safety, keywords, duplicates and bad input."""

from __future__ import annotations

import itertools
import logging

import pytest
from sqlalchemy import func, select

from app.errors import InvalidInput
from app.extensions import db
from app.models import Client, EventLog, Message, OutboxEntry, Thread
from app.services.messaging.inbound import ROUTING_REASON_LABELS, route_inbound_sms
from app.services.messaging.opt_out import keyword_action
from app.services.messaging.outbound import queue_outbound_message
from tests.support.messaging_builders import booking_thread
from tests.support.pg_locks import wait_for_lock_waiters
from tests.support.twilio_stand_in import fixture_fields

_sids = itertools.count(1)


def inbound(number, sender, body="Is Biscuit eating ok?", **extra):
    """Route a text as Twilio would post it (the inbound-sms fixture's fields)."""
    to = number if isinstance(number, str) else number.e164
    frm = sender if isinstance(sender, str) or sender is None else sender.phone_e164
    fields = fixture_fields("inbound-sms", From=frm, To=to, Body=body, **extra)
    fields.setdefault("MessageSid", f"SM{next(_sids):032d}")
    fields["SmsSid"] = fields["SmsMessageSid"] = fields["MessageSid"]
    message_id = route_inbound_sms(fields)
    message = None if message_id is None else db.session.get(Message, message_id)
    assert message is None or message.routing_reason in ROUTING_REASON_LABELS  # owners get a label
    return message


def assert_owner_inbox_only(message):
    """Pool-leakage safety: nothing a sitter can open holds this message."""
    assert message.owner_inbox is True
    assert message.thread_id is None or message.thread.scope == "front_desk"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- the routing table ---------------------------------------------------------------

def test_unknown_to_is_logged_and_ignored(make, caplog):
    client = make.client()
    assert inbound("+12025550199", client) is None
    assert count(Message) == 0
    assert "not one of our numbers" in caplog.text and client.phone_e164 not in caplog.text


def test_active_window_thread_gets_it_and_the_owner_inbox_does_not(make, clock, caplog):
    caplog.set_level(logging.INFO)
    client, pool = make.client(), make.number("pool")
    thread = booking_thread(make, number=pool, client=client, started_hours_ago=1)
    message = inbound(pool, client, body="Call me at 202-555-0199 about Biscuit")
    assert "routed active_window" in caplog.text  # logged, but masked and without the body
    assert client.phone_e164 not in caplog.text and "Biscuit" not in caplog.text
    assert (message.thread_id, message.routing_reason, message.owner_inbox) == (thread.id, "active_window", False)
    assert message.sender_kind == "client" and message.status == "received"
    assert db.session.get(Thread, thread.id).last_message_at == clock.now


def test_several_active_windows_on_one_number_are_never_guessed_between(make, clock):
    # One number, one conversation: legacy data with two open visits on one number goes to the
    # owner inbox (tests/services/messaging/test_one_conversation_routing.py has the alert).
    client, pool = make.client(), make.number("pool")
    booking_thread(make, number=pool, client=client, started_hours_ago=3, hours=5)
    booking_thread(make, number=pool, client=client, started_hours_ago=1, hours=5)
    message = inbound(pool, client)
    assert (message.thread_id, message.routing_reason, message.owner_inbox) == (None, "ambiguous_threads", True)


def test_no_active_window_goes_to_the_most_recent_thread_and_the_owner_inbox(make, clock):
    client, pool = make.client(), make.number("pool")
    booking_thread(make, number=pool, client=client, started_hours_ago=24 * 10)
    recent = booking_thread(make, number=pool, client=client, started_hours_ago=24 * 3)
    message = inbound(pool, client)
    assert (message.thread_id, message.routing_reason, message.owner_inbox) == (
        recent.id, "recent_thread_no_window", True)


def test_a_cancelled_booking_window_is_not_active(make, clock):
    client, pool = make.client(), make.number("pool")
    thread = booking_thread(make, number=pool, client=client, started_hours_ago=1, status="cancelled")
    message = inbound(pool, client)
    assert (message.thread_id, message.routing_reason, message.owner_inbox) == (
        thread.id, "recent_thread_no_window", True)


def test_sitter_dedicated_number_routes_like_a_pool_number(make, clock):
    client = make.client()
    dedicated = make.number("sitter")
    thread = booking_thread(make, number=dedicated, client=client, started_hours_ago=1)
    assert inbound(dedicated, client).thread_id == thread.id


def test_pool_leakage_unknown_sender_goes_to_the_owner_inbox_only(make, clock):
    pool = make.number("pool")
    booking_thread(make, number=pool, client=make.client(), started_hours_ago=1)  # someone else's
    message = inbound(pool, "+12025550177")
    assert message.routing_reason == "unknown_sender" and message.sender_kind == "unknown"
    assert_owner_inbox_only(message)


def test_pool_leakage_known_client_on_a_number_carrying_only_others_threads(make, clock):
    pool = make.number("pool")
    booking_thread(make, number=pool, client=make.client(), started_hours_ago=1)
    client = make.client()  # has a thread, but on another number
    booking_thread(make, number=make.number("pool"), client=client, started_hours_ago=1)
    message = inbound(pool, client)
    assert message.routing_reason == "no_thread_on_number" and message.sender_kind == "client"
    assert_owner_inbox_only(message)


def test_front_desk_known_client_gets_one_front_desk_thread(make):
    client, desk = make.client(), make.number("front_desk")
    first = inbound(desk, client)
    second = inbound(desk, client, body="Also, is Saturday free?")
    thread = first.thread
    assert (thread.scope, thread.client_id, thread.message_number_id) == ("front_desk", client.id, desk.id)
    assert second.thread_id == thread.id and first.routing_reason == "front_desk_client"
    assert_owner_inbox_only(first)
    assert count(Thread) == 1
    assert db.session.scalar(select(func.count()).where(EventLog.kind == "thread.created")) == 1


def test_front_desk_unknown_sender_goes_to_the_owner_inbox(make):
    message = inbound(make.number("front_desk"), "+12025550178")
    assert message.routing_reason == "front_desk_unknown"
    assert_owner_inbox_only(message)


def test_front_desk_number_carrying_an_open_booking_thread_routes_to_it(make, clock):
    client, desk = make.client(), make.number("front_desk")
    thread = booking_thread(make, number=desk, client=client, started_hours_ago=1)
    assert inbound(desk, client).thread_id == thread.id


def test_same_phone_in_two_orgs_routes_within_the_numbers_org(make, clock):
    other_org = make.org(name="Other Paws")
    mine = make.client()
    theirs = make.client(org=other_org, phone_e164=mine.phone_e164)
    their_pool = make.number("pool", org=other_org)
    thread = booking_thread(make, number=their_pool, client=theirs, started_hours_ago=1)
    message = inbound(their_pool, mine.phone_e164)
    assert (message.org_id, message.thread_id) == (other_org.id, thread.id)


# --- keywords --------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "opt_out_type", "action"), [
    *[(word, None, "stop") for word in ("STOP", "stop", " Stop. ", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END",
                                        "QUIT", "REVOKE", "OPTOUT")],
    *[(word, None, "start") for word in ("START", "unstop", "Yes")],
    *[(word, None, "help") for word in ("HELP", "info")],
    ("Arrêt", "STOP", "stop"), ("Begin", "START", "start"), ("Aide", "HELP", "help"),
    ("Please stop by at 5", None, None), ("stop it", None, None), ("", None, None), ("STOP", "", "stop"),
])
def test_keyword_families(body, opt_out_type, action):
    assert keyword_action(body, opt_out_type) == action


def test_stop_opts_the_client_out_and_later_texts_are_blocked(make, clock):
    client, pool = make.client(), make.number("pool")
    thread = booking_thread(make, number=pool, client=client, started_hours_ago=1)
    message = inbound(pool, client, body="Stop")
    assert db.session.get(Client, client.id).opted_out is True
    assert (message.routing_reason, message.owner_inbox, message.thread_id) == ("opt_out", True, thread.id)
    blocked = queue_outbound_message(org_id=client.org_id, thread_id=thread.id, from_number_id=pool.id,
                                     to_e164=client.phone_e164, body="Reminder", sender_kind="automation")
    db.session.commit()
    assert blocked.status == "blocked" and count(OutboxEntry) == 0


def test_opt_out_type_from_twilio_is_honoured(make):
    client = make.client(phone_e164="+12025550101")
    make.number("pool", e164="+12025550121")
    route_inbound_sms(fixture_fields("inbound-stop"))
    client = db.session.get(Client, client.id)
    assert client.opted_out is True and client.opted_out_at is not None
    assert [e.kind for e in db.session.scalars(select(EventLog))] == ["client.opted_out"]


def test_a_sentence_containing_stop_is_a_normal_message(make, clock):
    client, pool = make.client(), make.number("pool")
    booking_thread(make, number=pool, client=client, started_hours_ago=1)
    message = inbound(pool, client, body="Please stop by at 5")
    assert message.routing_reason == "active_window" and db.session.get(Client, client.id).opted_out is False


def test_start_opts_back_in(make):
    client, pool = make.client(opted_out=True), make.number("pool")
    message = inbound(pool, client, body="Begin", OptOutType="START")
    assert db.session.get(Client, client.id).opted_out is False and message.routing_reason == "opt_in"
    assert_owner_inbox_only(message)


def test_help_answers_with_the_business_name_from_the_same_number(make, clock):
    client, pool = make.client(), make.number("pool")
    thread = booking_thread(make, number=pool, client=client, started_hours_ago=1)
    message = inbound(pool, client, body="help")
    assert message.routing_reason == "help" and message.thread_id == thread.id
    db.session.rollback()
    [sent] = db.session.scalars(select(OutboxEntry)).all()
    assert (sent.from_e164, sent.to_e164) == (pool.e164, client.phone_e164)
    assert sent.body.startswith("Happy Tails") and "STOP" in sent.body


def test_help_already_answered_by_advanced_opt_out_gets_no_second_reply(make):
    client, pool = make.client(), make.number("pool")
    inbound(pool, client, body="HELP", OptOutType="HELP")
    assert count(OutboxEntry) == 0 and count(Message) == 1


def test_help_from_an_opted_out_client_is_recorded_but_not_sent(make):
    client, pool = make.client(opted_out=True), make.number("pool")
    inbound(pool, client, body="INFO")
    reply = db.session.scalar(select(Message).where(Message.direction == "outbound"))
    assert reply.status == "blocked" and count(OutboxEntry) == 0


# --- duplicates and bad input ------------------------------------------------------------

def test_same_message_sid_twice_is_one_message(make, clock):
    client, pool = make.client(), make.number("pool")
    booking_thread(make, number=pool, client=client, started_hours_ago=1)
    first = inbound(pool, client, MessageSid="SM" + "d" * 32)
    again = inbound(pool, client, MessageSid="SM" + "d" * 32)
    assert again.id == first.id and count(Message) == 1


@pytest.mark.parametrize("missing", ["MessageSid", "To"])
def test_missing_sid_or_to_is_refused_with_the_field_named(make, missing):
    fields = fixture_fields("inbound-sms", **{missing: None, "SmsSid": None, "SmsMessageSid": None})
    with pytest.raises(InvalidInput) as refused:
        route_inbound_sms(fields)
    assert refused.value.field == missing and count(Message) == 0


@pytest.mark.parametrize("sender", [None, "12345", "(202) 555-0101"])
def test_missing_or_non_e164_from_is_recorded_in_the_owner_inbox(make, clock, sender):
    pool = make.number("pool")
    booking_thread(make, number=pool, client=make.client(phone_e164="+12025550101"),
                   started_hours_ago=1)
    message = inbound(pool, sender, body="STOP")
    assert message.routing_reason == "invalid_sender"
    assert_owner_inbox_only(message)
    assert db.session.scalar(select(func.count()).where(Client.opted_out.is_(True))) == 0


def test_missing_body_is_recorded_empty(make):
    client, pool = make.client(), make.number("pool")
    fields = fixture_fields("inbound-sms", From=client.phone_e164, To=pool.e164, Body=None)
    assert db.session.get(Message, route_inbound_sms(fields)).body == ""


@pytest.mark.parametrize("body", ["x" * 5000, "Biscuit ate everything 🐶🎉 — merci, ça va? 你好",
                                  "null\x00byte"])
def test_long_emoji_and_odd_bodies_are_recorded(make, clock, body):
    client, pool = make.client(), make.number("pool")
    booking_thread(make, number=pool, client=client, started_hours_ago=1)
    message_id = inbound(pool, client, body=body).id
    db.session.expire_all()
    stored = db.session.get(Message, message_id)
    assert stored.body == body.replace("\x00", "") and stored.routing_reason == "active_window"


@pytest.mark.postgres_only
def test_concurrent_duplicate_sid_waits_and_keeps_the_first(app, make, caplog):
    """A second delivery racing the first blocks on the unique sid, then returns the first's row."""
    import logging
    import threading

    from sqlalchemy import insert

    caplog.set_level(logging.INFO, logger="app.services.messaging.inbound")
    pool = make.number("pool")
    fields = fixture_fields("inbound-sms", From="+12025550177", To=pool.e164, MessageSid="SM" + "e" * 32)
    result = {}

    def deliver_again():
        with app.app_context():
            result["id"] = route_inbound_sms(fields)

    with db.engine.connect() as first:
        first.execute(insert(Message).values(org_id=pool.org_id, direction="inbound", sender_kind="unknown",
                                             body="first", status="received", provider_sid=fields["MessageSid"],
                                             owner_inbox=True, routing_reason="unknown_sender",
                                             created_at=make.clock.now, updated_at=make.clock.now,
                                             attempts=0))
        racer = threading.Thread(target=deliver_again)
        racer.start()
        wait_for_lock_waiters(db.engine, 1, [racer])  # it waits on the first one's unique index entry
        first.commit()
    racer.join(10)
    db.session.rollback()
    [kept] = db.session.scalars(select(Message)).all()
    assert result["id"] == kept.id and kept.body == "first"
    assert "recorded concurrently" in caplog.text  # it really raced: the unique index decided
