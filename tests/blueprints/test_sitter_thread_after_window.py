"""After the window ends the sitter reads the thread only up to its end; later texts are for owners."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Message
from tests.support.login import log_in
from tests.support.sitter_data import make_visit
from tests.support.twilio_stand_in import fixture_fields, post_signed

CLIENT_PHONE = "+12025550101"


def _text(client, visit, body: str, sid: str):
    number = visit.thread.message_number
    response = post_signed(client, "/webhooks/twilio/sms", fixture_fields(
        "inbound-sms", From=CLIENT_PHONE, To=number.e164, Body=body, MessageSid=sid, SmsSid=None,
        SmsMessageSid=None))
    assert response.status_code == 200
    db.session.rollback()


def test_a_text_after_the_window_is_for_owners_not_the_former_sitter(app, client, make, clock, login_as):
    visit = make_visit(make, client=make.client(phone_e164=CLIENT_PHONE), start=clock.now - timedelta(minutes=30))
    _text(client, visit, "Biscuit ate everything, thanks!", "SM" + "1" * 32)
    clock.set(visit.window.ends_at + timedelta(minutes=5))
    _text(client, visit, "Also, my new gate code is 4411", "SM" + "2" * 32)
    late = db.session.scalar(select(Message).where(Message.provider_sid == "SM" + "2" * 32))
    assert late.thread_id == visit.thread.id and late.owner_inbox  # kept in the thread, filed for owners

    sitter = app.test_client()
    log_in(sitter, visit.user)
    dashboard = sitter.get("/sitter").get_data(as_text=True)
    assert "1 unread" in dashboard  # the late text is not counted either
    for path in (f"/sitter/threads/{visit.thread.id}", f"/sitter/threads/{visit.thread.id}/messages"):
        page = sitter.get(path).get_data(as_text=True)
        assert "Biscuit ate everything" in page
        assert "gate code" not in page

    owner = make.user("owner")
    login_as(owner)
    assert "gate code" in client.get(f"/admin/threads/{visit.thread.id}").get_data(as_text=True)
    assert "gate code" in client.get("/admin/inbox").get_data(as_text=True)
