"""A client's reply to a visit report, through the real signed Twilio webhook: linked to the report
and shown to owners; an unhappy one raises one `visit.report_concern` alert; a happy one none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Alert, Message
from app.models.visits import VisitReport, VisitReportReply
from app.services.visits.checks import check_in
from app.services.visits.concern_words import concern_phrases_in
from app.services.visits.reports import submit_visit_report
from tests.support.login import log_in
from tests.support.sitter_data import make_visit
from tests.support.twilio_stand_in import fixture_fields, post_signed

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York
CLIENT_PHONE = "+12025550101"
_sids = count(1)


@pytest.fixture
def visit(make, clock):
    clock.set(START + timedelta(minutes=2))
    client = make.client(name="Alex Morgan", pets=("Biscuit",), phone_e164=CLIENT_PHONE)
    return make_visit(make, start=START, hours=1, client=client)


def _report(visit, clock, note="Biscuit ate everything."):
    check_in(visit.user.id, visit.booking.id)
    clock.advance(minutes=40)
    submit_visit_report(visit.user.id, visit.booking.id, note=note, checklist=["Fed"])


def _text(client, visit, body: str, **extra) -> Message:
    sid = f"SM{next(_sids):032d}"
    response = post_signed(client, "/webhooks/twilio/sms", fixture_fields(
        "inbound-sms", From=CLIENT_PHONE, To=visit.thread.message_number.e164, Body=body, MessageSid=sid,
        SmsSid=None, SmsMessageSid=None, **extra))
    assert response.status_code == 200
    db.session.rollback()
    return db.session.scalar(select(Message).where(Message.provider_sid == sid))


def _replies():
    return db.session.scalars(select(VisitReportReply).order_by(VisitReportReply.id)).all()


def _concern_alerts():
    return db.session.scalars(select(Alert).where(Alert.kind == "visit.report_concern")).all()


@pytest.mark.parametrize("text, found", [
    ("I'm NOT happy.", ["not happy"]),
    ("Biscuit WASN\u2019T fed!!", ["wasnt fed"]),
    ("Why was the door open? He got out and is missing", ["missing", "got out", "door open"]),
    ("So disappointed... and worried", ["disappointed", "worried"]),
    ("Thank you, he looks so happy!", []),
    ("Unhurt and fed, thanks", []),  # whole words only: "unhurt" is not "hurt"
])
def test_the_concern_word_list_ignores_case_and_punctuation(text, found):
    assert concern_phrases_in(text) == found


def test_a_happy_reply_is_linked_to_the_report_and_shown_to_owners_with_no_alert(client, make, visit, clock,
                                                                                  login_as):
    _report(visit, clock)
    clock.advance(hours=3)  # after the window: routing files it on the thread and for owners
    message = _text(client, visit, "Thank you so much, he looks so happy!")
    assert message.thread_id == visit.thread.id  # routed like every inbound text
    [reply] = _replies()
    assert (reply.message_id, reply.concern) == (message.id, False)
    assert reply.report_id == db.session.scalar(select(VisitReport.id))
    assert _concern_alerts() == []

    login_as(make.user("owner"))
    page = client.get(f"/admin/bookings/{visit.booking.id}").get_data(as_text=True)
    assert f'data-report-reply="{message.id}"' in page and "he looks so happy" in page
    assert "data-report-concern" not in page


def test_an_unhappy_reply_raises_one_owner_alert_naming_the_visit(client, make, visit, clock, login_as):
    _report(visit, clock)
    clock.advance(minutes=10)  # still inside the window: the sitter's thread has it too
    first = _text(client, visit, "Honestly I'm NOT happy - Biscuit wasn't fed?!")
    second = _text(client, visit, "Still upset about this.")
    assert first.thread_id == second.thread_id == visit.thread.id
    replies = _replies()
    assert [(r.message_id, r.concern) for r in replies] == [(first.id, True), (second.id, True)]
    assert replies[0].concern_words == "not happy, wasnt fed"
    [alert] = _concern_alerts()  # one per report, however many unhappy replies
    assert (alert.audience, alert.booking_id, alert.message_id, alert.resolved_at) == (
        "owner", visit.booking.id, first.id, None)
    assert alert.text.startswith("Alex Morgan sounds unhappy about the visit report for ")
    assert visit.sitter.name in alert.text and "Biscuit wasn't fed" in alert.text

    login_as(make.user("owner"))
    home = client.get("/admin").get_data(as_text=True)
    assert "sounds unhappy about the visit report" in home
    page = client.get(f"/admin/bookings/{visit.booking.id}").get_data(as_text=True)
    assert page.count("data-report-concern") == 2


def test_texts_outside_the_reply_span_or_before_the_report_are_not_replies(client, make, visit, clock):
    before = _text(client, visit, "Not happy that you are late")  # no report yet
    _report(visit, clock)
    stop = _text(client, visit, "STOP", OptOutType="STOP")  # a keyword is not a reply
    _text(client, visit, "START", OptOutType="START")
    clock.set(START + timedelta(hours=49))  # 48 h after the report
    late = _text(client, visit, "I'm upset about last week")
    assert before.thread_id == late.thread_id == visit.thread.id and stop is not None
    assert _replies() == [] and _concern_alerts() == []


def test_the_span_ends_when_the_clients_next_visit_starts(client, make, visit, clock):
    _report(visit, clock)
    make_visit(make, client=visit.booking.client, start=START + timedelta(hours=20), hours=1)
    clock.set(START + timedelta(hours=19))
    inside = _text(client, visit, "Was he hurt? He is limping")
    clock.set(START + timedelta(hours=21))
    after = _text(client, visit, "I'm worried")
    assert [r.message_id for r in _replies()] == [inside.id]
    assert after.id not in [r.message_id for r in _replies()]
    assert len(_concern_alerts()) == 1


def test_a_reply_reaches_only_its_own_thread_never_another_sitter(app, client, make, visit, clock):
    other = make_visit(make, start=START, hours=1)  # another client and sitter, same hour
    _report(visit, clock)
    message = _text(client, visit, "Not happy at all")
    assert message.thread_id == visit.thread.id != other.thread.id
    sitter = app.test_client()
    log_in(sitter, other.user)
    assert "Not happy at all" not in sitter.get(f"/sitter/threads/{other.thread.id}").get_data(as_text=True)
    assert "Not happy at all" not in sitter.get("/sitter").get_data(as_text=True)
    mine = app.test_client()
    log_in(mine, visit.user)
    assert "Not happy at all" in mine.get(f"/sitter/threads/{visit.thread.id}").get_data(as_text=True)
