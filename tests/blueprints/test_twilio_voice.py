"""The voice webhook: signed like the SMS one, TwiML (parsed, not string-matched) that rings the
window's sitter with the masking number as caller ID, and never a sitter outside the window."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Call, Org
from tests.support.messaging_builders import booking_thread
from tests.support.twilio_stand_in import BASE_URL, fixture_fields, post_signed, twilio_signature

VOICE = "/webhooks/twilio/voice"
CLIENT_PHONE, MASKING = "+12025550101", "+12025550121"  # the fixture's From and To
OFFICE = "+12025550199"


@pytest.fixture
def visit(make):
    """The fixture's caller with a booking thread on the fixture's To number, its window open now."""
    return booking_thread(make, client=make.client(phone_e164=CLIENT_PHONE),
                          number=make.number("pool", e164=MASKING), started_hours_ago=0.5)


def twiml(response) -> ET.Element:
    assert response.status_code == 200 and response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data())
    assert root.tag == "Response"
    return root


def dialled(root: ET.Element) -> list[str]:
    return [n.text for n in root.iter("Number")]


def set_office_phone(org_id: int, phone: str | None) -> None:
    db.session.get(Org, org_id).office_phone_e164 = phone
    db.session.commit()


def test_a_call_in_the_window_rings_the_sitter_with_the_masking_number_as_caller_id(client, visit):
    sitter_phone = visit.booking.sitter.phone_e164
    root = twiml(post_signed(client, VOICE, fixture_fields("inbound-call")))
    dial = root.find("Dial")
    assert dial is not None and dial.get("callerId") == MASKING and dial.get("timeout") == "20"
    assert dialled(root) == [sitter_phone]
    call = db.session.scalar(select(Call))
    assert dial.get("action") == f"{BASE_URL}/webhooks/twilio/voice/dial/{call.id}"
    assert (call.thread_id, call.sitter_id, call.outcome, call.direction) == (
        visit.id, visit.booking.sitter_id, "ringing_sitter", "inbound")
    assert (call.from_e164, call.to_e164) == (CLIENT_PHONE, MASKING)


def test_unsigned_or_wrongly_signed_calls_get_403_and_no_row(client, visit):
    fields = fixture_fields("inbound-call")
    assert client.post(VOICE, data=fields).status_code == 403
    wrong = twilio_signature(BASE_URL + VOICE, fields, token="someone-elses-token")
    assert client.post(VOICE, data=fields, headers={"X-Twilio-Signature": wrong}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Call)) == 0


def test_no_answer_in_20_seconds_speaks_and_forwards_to_the_office_line(client, visit):
    set_office_phone(visit.org_id, OFFICE)
    twiml(post_signed(client, VOICE, fixture_fields("inbound-call")))
    call = db.session.scalar(select(Call))
    root = twiml(post_signed(client, f"{VOICE}/dial/{call.id}", fixture_fields("dial-action")))
    assert "could not answer" in root.find("Say").text
    assert dialled(root) == [OFFICE]
    db.session.rollback()
    assert db.session.get(Call, call.id).outcome == "no-answer"


def test_no_answer_without_an_office_phone_says_to_text_instead(client, visit):
    twiml(post_signed(client, VOICE, fixture_fields("inbound-call")))
    call = db.session.scalar(select(Call))
    root = twiml(post_signed(client, f"{VOICE}/dial/{call.id}", fixture_fields("dial-action")))
    assert dialled(root) == [] and "text message" in " ".join(s.text for s in root.iter("Say"))


def test_an_answered_call_ends_and_keeps_its_duration(client, visit):
    twiml(post_signed(client, VOICE, fixture_fields("inbound-call")))
    call = db.session.scalar(select(Call))
    root = twiml(post_signed(client, f"{VOICE}/dial/{call.id}",
                             fixture_fields("dial-action", DialCallStatus="completed", DialCallDuration="75")))
    assert dialled(root) == [] and root.find("Say") is None
    db.session.rollback()
    assert (db.session.get(Call, call.id).outcome, db.session.get(Call, call.id).duration_seconds) == ("completed", 75)


@pytest.mark.parametrize("office", [OFFICE, None])
def test_outside_the_window_a_call_never_rings_a_sitter(client, make, office):
    thread = booking_thread(make, client=make.client(phone_e164=CLIENT_PHONE),
                            number=make.number("pool", e164=MASKING))  # the window opens in two days
    set_office_phone(thread.org_id, office)
    root = twiml(post_signed(client, VOICE, fixture_fields("inbound-call")))
    assert thread.booking.sitter.phone_e164 not in dialled(root)
    if office:
        assert dialled(root) == [OFFICE]
        assert root.find("Dial").get("callerId") is None  # the office sees who calls
    else:
        assert dialled(root) == [] and "text message" in root.find("Say").text
    call = db.session.scalar(select(Call))
    assert call.outcome == ("office" if office else "message") and call.sitter_id is None


def test_after_the_window_ended_the_former_sitter_is_not_rung(client, make, clock):
    thread = booking_thread(make, client=make.client(phone_e164=CLIENT_PHONE),
                            number=make.number("pool", e164=MASKING), started_hours_ago=0.5)
    clock.advance(hours=4)  # two-hour visit plus an hour's grace: over
    root = twiml(post_signed(client, VOICE, fixture_fields("inbound-call")))
    assert thread.booking.sitter.phone_e164 not in dialled(root)
    assert db.session.scalar(select(Call.thread_id)) == thread.id  # owners see it on the thread


def test_two_open_visits_on_the_number_ring_no_sitter(client, make):
    number = make.number("pool", e164=MASKING)
    customer = make.client(phone_e164=CLIENT_PHONE)
    first = booking_thread(make, client=customer, number=number, started_hours_ago=0.5)
    second = booking_thread(make, client=customer, number=number, started_hours_ago=0.25)
    root = twiml(post_signed(client, VOICE, fixture_fields("inbound-call")))
    phones = {first.booking.sitter.phone_e164, second.booking.sitter.phone_e164}
    assert not phones & set(dialled(root))


def test_a_call_to_a_number_not_ours_is_not_in_service(client, visit):
    root = twiml(post_signed(client, VOICE, fixture_fields("inbound-call", To="+12025550177")))
    assert dialled(root) == [] and "not in service" in root.find("Say").text
    assert db.session.scalar(select(func.count()).select_from(Call)) == 0


def test_the_owner_sees_the_call_in_the_thread(client, visit, make, login_as):
    twiml(post_signed(client, VOICE, fixture_fields("inbound-call")))
    call = db.session.scalar(select(Call))
    post_signed(client, f"{VOICE}/dial/{call.id}",
                fixture_fields("dial-action", DialCallStatus="completed", DialCallDuration="42"))
    login_as(make.user("owner", org=db.session.get(Org, visit.org_id)))
    page = client.get(f"/admin/threads/{visit.id}").get_data(as_text=True)
    assert "client called" in page and "answered" in page and "42 s" in page
    assert "(202) 555-0101" in page  # owners may see the caller's number


def test_a_repeated_webhook_for_one_call_keeps_one_row(client, visit):
    for _ in range(2):
        twiml(post_signed(client, VOICE, fixture_fields("inbound-call")))
    assert db.session.scalar(select(func.count()).select_from(Call)) == 1


def test_the_dial_status_of_an_unknown_call_is_answered_calmly(client, visit):
    root = twiml(post_signed(client, f"{VOICE}/dial/999999", fixture_fields("dial-action")))
    assert dialled(root) == []
    assert client.post(f"{VOICE}/dial/99999999999999999999", data={}).status_code in (403, 404)


def test_window_end_is_exclusive_for_calls(client, make, clock):
    thread = booking_thread(make, client=make.client(phone_e164=CLIENT_PHONE),
                            number=make.number("pool", e164=MASKING), started_hours_ago=0.5)
    clock.set(thread.window.ends_at)
    root = twiml(post_signed(client, VOICE, fixture_fields("inbound-call")))
    assert thread.booking.sitter.phone_e164 not in dialled(root)
    clock.set(thread.window.ends_at - timedelta(seconds=1))
    root = twiml(post_signed(client, VOICE, fixture_fields("inbound-call", CallSid="CA" + "1" * 32)))
    assert dialled(root) == [thread.booking.sitter.phone_e164]


def test_a_visit_on_the_front_desk_number_rings_its_sitter_too(client, make):
    thread = booking_thread(make, client=make.client(phone_e164=CLIENT_PHONE),
                            number=make.number("front_desk", e164=MASKING), started_hours_ago=0.5)
    root = twiml(post_signed(client, VOICE, fixture_fields("inbound-call")))
    assert dialled(root) == [thread.booking.sitter.phone_e164]
    assert root.find("Dial").get("callerId") == MASKING


def test_an_unknown_caller_gets_the_office_never_a_sitter(client, visit):
    set_office_phone(visit.org_id, OFFICE)
    root = twiml(post_signed(client, VOICE, fixture_fields("inbound-call", From="+12025550142")))
    assert dialled(root) == [OFFICE]
    assert db.session.scalar(select(Call.thread_id)) is None


@pytest.mark.postgres_only
def test_two_concurrent_webhooks_for_one_call_answer_alike_with_one_row(app, visit, monkeypatch):
    """Issue 24's leftover: both requests passed the "is there a row?" check, and the second
    insert hit the unique CallSid: a 500. Each request waits (bounded) for the other to reach the
    same point, so without serialisation both would insert."""
    from app.services.calls import inbound

    arrived, both_here, lock = [0], threading.Event(), threading.Lock()
    real_open_threads = inbound._open_threads

    def open_threads_after_the_other(number, client):
        with lock:
            arrived[0] += 1
            if arrived[0] >= 2:
                both_here.set()
        both_here.wait(1.5)  # serialised: the other is waiting for our commit and never comes
        return real_open_threads(number, client)

    monkeypatch.setattr(inbound, "_open_threads", open_threads_after_the_other)
    fields = fixture_fields("inbound-call")
    answers: list = [None, None]

    def post(i):
        try:
            answers[i] = post_signed(app.test_client(), VOICE, fields)
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            answers[i] = exc

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert all(not isinstance(a, Exception) and a.status_code == 200 for a in answers), answers
    assert answers[0].get_data() == answers[1].get_data()
    assert dialled(twiml(answers[0])) == [visit.booking.sitter.phone_e164]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Call)) == 1
