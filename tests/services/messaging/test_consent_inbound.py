"""Consent from inbound texts: the ledger, plain-language opt-outs, the possible-opt-out alert, HELP."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Alert, AutomationRun, Client, ConsentEvent, Message, OutboxEntry
from app.services.automations.run_job import run_automation
from app.services.messaging.opt_out_phrases import opt_out_reading
from app.services.people.consent import consent_ledger, phone_hash
from tests.services.messaging.test_inbound_routing import inbound as _inbound
from tests.support.messaging_builders import booking_thread

_sids = itertools.count(1)


def inbound(number, sender, body):
    """A text from `sender`, each with a MessageSid of its own."""
    return _inbound(number, sender, body=body, MessageSid=f"SM{next(_sids):032x}")


def ledger(org_id):
    return db.session.scalars(select(ConsentEvent).where(ConsentEvent.org_id == org_id)
                              .order_by(ConsentEvent.id)).all()


@pytest.mark.parametrize("body", [
    "Please stop texting me, thanks", "please stop", "STOP texting me!!", "Don't text me.", "do not text me",
    "Unsubscribe me please", "Remove me from your list", "opt me out", "Hi, please stop. Thank you!",
])
def test_plain_phrasings_of_stop_texting_me_revoke(body):
    assert opt_out_reading(body) == "revoke"


@pytest.mark.parametrize("body", [
    "Can you stop by at 5 to feed Rex?", "Please don't stop the walks, she loves them",
    "Stop texting me at work, call instead",
])
def test_a_longer_text_that_mentions_stopping_is_only_possible(body):
    assert opt_out_reading(body) == "possible"


def test_an_ordinary_text_means_nothing_for_consent():
    assert opt_out_reading("Thanks! Biscuit loved the walk") is None


def test_please_stop_texting_me_opts_out_with_one_confirmation_and_a_ledger_row(make, clock):
    client, pool = make.client(), make.number("pool")
    thread = booking_thread(make, number=pool, client=client, started_hours_ago=1)
    message = inbound(pool, client, body="Please stop texting me, thanks")
    assert message.routing_reason == "opt_out" and message.owner_inbox is True
    assert db.session.get(Client, client.id).opted_out is True
    db.session.rollback()
    [sent] = db.session.scalars(select(OutboxEntry)).all()  # the one confirmation, even though opted out
    assert sent.to_e164 == client.phone_e164 and "opted out" in sent.body and "START" in sent.body
    assert sent.from_e164 == pool.e164
    rows = ledger(client.org_id)
    assert [(r.kind, r.method, r.client_id, r.message_id) for r in rows] == [
        ("revoked", "plain_language", client.id, message.id)]
    assert rows[0].wording == "Please stop texting me, thanks"
    assert rows[0].phone_hash == phone_hash(client.phone_e164) and client.phone_e164 not in rows[0].phone_hash
    # A second text in plain words changes nothing more: still one confirmation.
    inbound(pool, client, body="stop texting me")
    assert db.session.scalar(select(func.count()).select_from(OutboxEntry)) == 1
    assert thread.id


def test_a_plain_language_opt_out_blocks_the_next_automation(make, clock):
    client, pool = make.client(), make.number("pool")
    thread = booking_thread(make, number=pool, client=client, started_hours_ago=-30)
    run = make.automation_run(thread.booking, "night_before_reminder", status="scheduled")
    inbound(pool, client, body="Don't text me anymore please")
    assert run_automation(run.id) == "skipped"
    assert db.session.get(AutomationRun, run.id).reason == "opted_out"
    assert not db.session.scalars(select(Message).where(Message.sender_kind == "automation")).all()


def test_a_text_that_only_mentions_stopping_alerts_owners_with_a_deadline(make, clock):
    client, pool = make.client(), make.number("pool")
    booking_thread(make, number=pool, client=client, started_hours_ago=1)
    message = inbound(pool, client, body="Could the sitter stop by earlier tomorrow? Around 7 if possible")
    assert db.session.get(Client, client.id).opted_out is False
    [alert] = db.session.scalars(select(Alert).where(Alert.kind == "consent.possible_opt_out")).all()
    assert alert.audience == "owner" and alert.message_id == message.id
    assert "Possible opt-out" in alert.text and "10 business days" in alert.text
    assert "Wed 9 Dec" in alert.text  # clock: Wed 25 Nov 2026 → 10 business days later
    assert message.owner_inbox is True
    assert not [r for r in ledger(client.org_id) if r.kind == "revoked"]


def test_stop_and_start_are_ledger_rows_never_deletes(make, clock):
    client, pool = make.client(), make.number("pool")
    inbound(pool, client, body="STOP")
    clock.advance(minutes=5)
    inbound(pool, client, body="START")
    rows = ledger(client.org_id)
    assert [(r.kind, r.method) for r in rows] == [("revoked", "keyword_stop"), ("granted", "keyword_start")]
    assert [line.how for line in consent_ledger(client.id)] == ["Replied STOP", "Replied START"]
    with pytest.raises(ValueError, match="append-only"):
        rows[0].kind = "granted"
        db.session.flush()
    db.session.rollback()
    with pytest.raises(ValueError, match="append-only"):
        db.session.delete(db.session.get(ConsentEvent, rows[0].id))
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ConsentEvent)) == 2


def test_a_first_inbound_text_records_consent_given_by_texting_first(make, clock):
    client, pool = make.client(), make.number("front_desk")
    first = inbound(pool, client, body="Hi, do you have a sitter for next week?")
    inbound(pool, client, body="Two cats")
    rows = ledger(client.org_id)
    assert [(r.kind, r.method, r.message_id, r.zone) for r in rows] == [
        ("granted", "client_texted_first", first.id, "America/New_York")]


def test_an_unknown_senders_first_text_is_in_the_ledger_by_number_only(make, clock):
    pool = make.number("front_desk")
    inbound(pool, "+13055550123", body="Do you walk dogs in Miami?")
    [row] = ledger(pool.org_id)
    assert row.client_id is None and row.phone_hash == phone_hash("+13055550123")


def test_help_names_the_business_support_contact_rates_and_how_to_stop(make, clock):
    org = make.default_org
    org.support_contact = "help@happytails.example"
    db.session.commit()
    client, pool = make.client(), make.number("pool")
    inbound(pool, client, body="HELP")
    db.session.rollback()
    [sent] = db.session.scalars(select(OutboxEntry)).all()
    for part in ("Happy Tails", "pet-sitting", "help@happytails.example", "Msg & data rates may apply",
                 "Reply STOP to opt out"):
        assert part in sent.body


def test_help_without_a_support_contact_gives_the_front_desk_number_for_people(make, clock):
    client, pool = make.client(), make.number("pool")
    make.number("front_desk", e164="+12025550100")
    inbound(pool, client, body="info")
    db.session.rollback()
    [sent] = db.session.scalars(select(OutboxEntry)).all()
    assert "(202) 555-0100" in sent.body and "Msg & data rates may apply" in sent.body
