"""A client's data: the JSON export and the erase (owners only; the consent ledger stays)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.adapters.media_store import MediaStoreError, get_media_store
from app.extensions import db
from app.jobs.queue import get_queue
from app.models import (
    AutomationRun,
    Booking,
    Call,
    ConsentEvent,
    EventLog,
    Message,
    MessageMedia,
    Notification,
    OutboxEntry,
    ProviderDeletion,
)
from app.services.messaging.outbound import queue_outbound_message
from app.services.people.clients import create_client
from app.services.people.consent import phone_hash
from tests.support.factories import CONFIRMED
from tests.support.twilio_stand_in import fixture_fields, post_signed

NAME = "Zebulon Quartermaine"
PHONE = "+12025550147"
SECRET = "the door code is 7319 under the gnome"
CALL_SID = "CA" + "7" * 32


def call_in(client, thread, duration: str = "42") -> None:
    """The client calls the thread's number (the signed voice webhook), the sitter answers, and the
    dial ends after `duration` seconds: a real Call row."""
    fields = dict(CallSid=CALL_SID, From=PHONE, Caller=PHONE, To=thread.message_number.e164,
                  Called=thread.message_number.e164)
    assert post_signed(client, "/webhooks/twilio/voice", fixture_fields("inbound-call", **fields)).status_code == 200
    call_id = db.session.scalar(select(Call.id).where(Call.provider_sid == CALL_SID))
    ended = fixture_fields("dial-action", **fields, DialCallStatus="completed", DialCallDuration=duration)
    assert post_signed(client, f"/webhooks/twilio/voice/dial/{call_id}", ended).status_code == 200


@pytest.fixture
def story(make, clock, client):
    """A client with everything: pets, a care note, an open booking with its thread, texts both ways
    (one with a photo), an outbox copy, an alert, audit payloads, a notification, Stripe payloads
    (one of their booking, one whose booking was never found), a call through the voice webhook."""
    web = client
    owner, staff = make.user("owner"), make.user("staff")
    client = create_client(make.default_org.id, name=NAME, phone=PHONE, address="12 Gnome Lane", notes="Gate sticks",
                           pets=["Biscuit"], consent_method="verbal", consent_user_id=owner.id)
    sitter = make.sitter(with_login=False)
    booking = make.booking(client=client, sitter=sitter, status="confirmed", notes=f"Ask {NAME} about the key")
    thread = make.thread(booking=booking)
    make.window(thread)
    make.booking(client=client, sitter=None, status="cancelled", start=clock.now - timedelta(days=30),
                 cancel_reason=f"{NAME} was away")
    run = make.automation_run(booking, "night_before_reminder", status="scheduled",
                              scheduled_for=clock.now + timedelta(hours=5))
    inbound = make.message(thread=thread, body=SECRET, from_e164=PHONE, to_e164=thread.message_number.e164,
                           provider_sid="SM" + "1" * 32)
    store = get_media_store()
    store.put("test/erase-photo.jpg", b"jpeg bytes", "image/jpeg")
    db.session.add(MessageMedia(org_id=client.org_id, message_id=inbound.id, position=0, status="stored",
                                content_type="image/jpeg", filename="photo-1.jpg",
                                storage_key="test/erase-photo.jpg", source_url="https://api.twilio.com/x"))
    queue_outbound_message(org_id=client.org_id, thread_id=thread.id, from_number_id=thread.message_number_id,
                           to_e164=PHONE, body=f"Hi {NAME}, see you at 9!", sender_kind="automation")
    make.alert(text=f"Text to {NAME} failed", booking_id=booking.id)
    make.event("client.note", payload={"client_id": client.id, "about": NAME, "phone": PHONE, "said": SECRET})
    make.event("message.simulated", payload={"message_id": inbound.id, "from_e164": PHONE})
    db.session.add(Notification(org_id=client.org_id, user_id=owner.id, kind="inbox_item",
                                dedupe_key="n-1", title=f"Text from {NAME}", body=SECRET[:40], url="/admin/inbox",
                                thread_id=thread.id))
    make.stripe_event(org_id=client.org_id, booking_id=booking.id, status="processed",
                      payload=json.dumps({"customer_details": {"name": NAME, "phone": PHONE}}))
    make.stripe_event(org_id=None, booking_id=None, status="ignored",
                      payload=json.dumps({"customer_details": {"name": NAME, "phone": PHONE}}))
    db.session.commit()
    call_in(web, thread)
    return dict(owner=owner, staff=staff, client=client, booking=booking, thread=thread, run=run)


def every_value_in_the_database() -> str:
    """Every cell of every table, as text: what an erase must leave clean."""
    db.session.rollback()
    cells = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            cells.extend(json.dumps(v, default=str, ensure_ascii=False) for v in row)
    return "\n".join(cells)


def test_owner_downloads_everything_as_one_json_attachment(story, client, login_as):
    login_as(story["owner"])
    response = client.get(f"/admin/clients/{story['client'].id}/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.mimetype == "application/json"
    data = json.loads(response.data)
    assert data["client"]["name"] == NAME and data["client"]["phone"] == PHONE
    assert [p["name"] for p in data["pets"]] == ["Biscuit"]
    assert story["booking"].id in [b["id"] for b in data["bookings"]] and len(data["bookings"]) == 2
    texts = {m["text"]: m for m in data["messages"]}
    assert SECRET in texts and any(NAME in t for t in texts)
    assert texts[SECRET]["photos"] == [f"https://pawline.test/media/{db.session.scalar(select(MessageMedia.id))}"]
    assert [(c["kind"], c["method"]) for c in data["consent"]] == [("granted", "verbal")]
    assert data["consent"][0]["recorded_by"] == story["owner"].name
    [call] = data["calls"]
    assert (call["direction"], call["from"], call["to"], call["status"], call["duration_seconds"]) == (
        "inbound", PHONE, story["thread"].message_number.e164, "completed", 42)
    assert call["booking_id"] == story["booking"].id and call["at"]


def test_staff_get_404_on_export_and_erase(story, client, login_as):
    login_as(story["staff"])
    client_id = story["client"].id
    assert client.get(f"/admin/clients/{client_id}/export").status_code == 404
    assert client.post(f"/admin/clients/{client_id}/erase", data=CONFIRMED).status_code == 404
    db.session.rollback()
    assert db.session.get(type(story["client"]), client_id).name == NAME


def test_erase_asks_first_saying_what_goes(story, client, login_as):
    login_as(story["owner"])
    page = client.post(f"/admin/clients/{story['client'].id}/erase")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="confirmed"' in text
    assert "Cancels 1 open booking without texting them" in text and "consent ledger" in text
    db.session.rollback()
    assert db.session.get(type(story["client"]), story["client"].id).erased_at is None


def test_erase_leaves_no_name_number_or_text_anywhere_and_keeps_the_ledger(story, client, login_as):
    login_as(story["owner"])
    ledger_before = db.session.scalar(select(func.count(ConsentEvent.id)))
    sent_before = db.session.scalar(select(func.count(OutboxEntry.id)))
    assert sent_before == 1
    response = client.post(f"/admin/clients/{story['client'].id}/erase", data=CONFIRMED, follow_redirects=True)
    assert response.status_code == 200 and "data was erased" in response.get_data(as_text=True)

    everything = every_value_in_the_database()
    for secret in (NAME, PHONE, PHONE[1:], "2025550147", "(202) 555-0147", SECRET, "12 Gnome Lane", "Gate sticks",
                   "Biscuit"):
        assert secret not in everything, secret
    assert db.session.scalar(select(func.count(ConsentEvent.id))) >= ledger_before
    [row] = db.session.scalars(select(ConsentEvent)).all()
    assert row.phone_hash == phone_hash(PHONE)  # "did +1 202 555 0147 agree?" can still be answered
    with pytest.raises(MediaStoreError):
        get_media_store().get("test/erase-photo.jpg")
    assert db.session.scalar(select(func.count(MessageMedia.id))) == 0
    # The call stays (owners' record of it), without the client's number.
    call = db.session.scalar(select(Call).where(Call.provider_sid == CALL_SID))
    assert (call.from_e164, call.to_e164, call.duration_seconds) == (None, story["thread"].message_number.e164, 42)
    # The open booking is cancelled, its reminder with it, and the client was not texted.
    booking = db.session.get(Booking, story["booking"].id)
    assert booking.status == "cancelled"
    assert db.session.get(AutomationRun, story["run"].id).status == "cancelled"
    assert db.session.scalar(select(func.count(OutboxEntry.id))) == 0
    assert db.session.scalar(select(func.count(Message.id)).where(Message.body != "")) == 0
    assert db.session.scalar(select(EventLog.id).where(EventLog.kind == "client.erased")) is not None
    assert db.session.scalar(select(func.count(ProviderDeletion.id))) >= 1
    page = client.get(f"/admin/clients/{story['client'].id}").get_data(as_text=True)
    assert "Erased client" in page and "copies of their texts: 2 deleted, 0 waiting" in page


def test_erase_asks_twilio_through_the_sdk_to_delete_each_text_and_shows_a_failure(story, twilio, client,
                                                                                   login_as):
    twilio.fail_next_delete(403, 20003)  # permission denied: retrying cannot help
    login_as(story["owner"])
    client.post(f"/admin/clients/{story['client'].id}/erase", data=CONFIRMED)
    db.session.rollback()
    rows = db.session.scalars(select(ProviderDeletion).order_by(ProviderDeletion.id)).all()
    assert {r.provider_sid for r in rows} >= {"SM" + "1" * 32}
    deletes = [r["uri"] for r in twilio.requests if r["method"] == "DELETE"]
    assert any(uri.endswith(f"/Messages/{'SM' + '1' * 32}.json") for uri in deletes)
    statuses = sorted(r.status for r in rows)
    assert "failed" in statuses and "deleted" in statuses
    page = client.get(f"/admin/clients/{story['client'].id}").get_data(as_text=True)
    assert "1 failed" in page and "Ask Twilio again" in page
    client.post(f"/admin/clients/{story['client'].id}/erase/retry", data={})
    db.session.rollback()
    assert {r.status for r in db.session.scalars(select(ProviderDeletion))} == {"deleted"}


def test_a_transient_twilio_failure_is_retried(story, twilio, client, login_as, clock):
    twilio.fail_next_delete(503, 20500)
    login_as(story["owner"])
    client.post(f"/admin/clients/{story['client'].id}/erase", data=CONFIRMED)
    db.session.rollback()
    assert "pending" in {r.status for r in db.session.scalars(select(ProviderDeletion))}
    clock.advance(seconds=31)
    assert get_queue().run_due() == 1  # the queue's retry, with backoff
    db.session.rollback()
    rows = db.session.scalars(select(ProviderDeletion)).all()
    assert {r.status for r in rows} == {"deleted"}
    assert max(r.attempts for r in rows) == 2
