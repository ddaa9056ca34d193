"""The inbox tells you: a live unhandled count in the owner nav, and "hand to sitter" forwards a
message's text, numbers and e-mails hidden, to the assigned sitter's alerts through a confirm step."""

from __future__ import annotations

import html

from sqlalchemy import select

from app.models import Alert, Message
from tests.support.factories import CONFIRMED


def test_the_nav_loads_the_unhandled_count_and_it_follows_handling(client, login_as, org_rows, make, db):
    make.message(org=make.org(), owner_inbox=True)  # another org's message is not counted
    login_as(org_rows.owner)
    home = client.get("/admin").get_data(as_text=True)
    assert 'hx-get="/admin/inbox/count" hx-trigger="load, every 30s"' in home
    count = client.get("/admin/inbox/count").get_data(as_text=True)
    assert 'data-count="1"' in count and ">1</span>" in count and 'hx-trigger="every 30s"' in count
    client.post(f"/admin/inbox/{org_rows.message.id}/handled", data={"handled": "1"})
    assert 'data-count="0"' in client.get("/admin/inbox/count").get_data(as_text=True)


def test_hand_to_sitter_shows_the_redacted_words_then_alerts_the_sitter(client, login_as, org_rows, make, db):
    message = make.message(thread=org_rows.thread, owner_inbox=True,
                           body="Key is under the mat, call me on 202-555-0188 or alex@example.com")
    login_as(org_rows.staff)
    step = client.post(f"/admin/inbox/{message.id}/hand-to-sitter")
    page = html.unescape(step.get_data(as_text=True))
    assert step.status_code == 200
    assert f"Hand this message to {org_rows.sitter.name}?" in page
    assert "Key is under the mat, call me on [number hidden]" in page and "202-555-0188" not in page
    assert db.session.scalars(select(Alert).where(Alert.audience == "sitter")).all() == []
    done = client.post(f"/admin/inbox/{message.id}/hand-to-sitter", data=CONFIRMED)
    assert done.status_code == 302
    db.session.rollback()
    (alert,) = db.session.scalars(select(Alert).where(Alert.audience == "sitter")).all()
    assert alert.sitter_id == org_rows.sitter.id and alert.booking_id == org_rows.booking.id
    assert "Key is under the mat" in alert.text and "555-0188" not in alert.text and "example.com" not in alert.text
    assert db.session.get(Message, message.id).handled_at is not None
    login_as(org_rows.sitter.user)
    alerts = html.unescape(client.get("/sitter/alerts").get_data(as_text=True))
    assert "Key is under the mat, call me on [number hidden]" in alerts


def test_a_message_with_no_assigned_sitter_is_refused_with_the_reason(client, login_as, org_rows, make, db):
    stray = make.message(owner_inbox=True, body="Who is this?")
    login_as(org_rows.owner)
    step = client.post(f"/admin/inbox/{stray.id}/hand-to-sitter")
    assert step.status_code == 409
    assert "there is no one to hand it to" in step.get_data(as_text=True)
    forced = client.post(f"/admin/inbox/{stray.id}/hand-to-sitter", data=CONFIRMED)
    assert forced.status_code == 302
    db.session.rollback()
    assert db.session.get(Message, stray.id).handled_at is None
    assert db.session.scalars(select(Alert).where(Alert.audience == "sitter")).all() == []
