"""Outbound photos through the Twilio SDK (its own http_client hook): MediaUrl carries signed links."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Message
from app.services.media.outbound import Upload
from app.services.messaging.sitter_messages import send_sitter_message
from tests.support.media_stand_in import photo_bytes
from tests.support.messaging_builders import already_texted
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


@pytest.fixture
def visit(make, clock):
    clock.set(START)
    return make_visit(make, start=START, hours=1)


def test_photos_go_to_twilio_as_signed_media_urls_twilio_can_fetch(app, visit, twilio, make):
    photos = [Upload("a.jpg", photo_bytes(color=(1, 1, 1))), Upload("b.jpg", photo_bytes(color=(9, 9, 9)))]
    already_texted(make, visit.thread)  # not their first text (which would name the business)
    outcome = send_sitter_message(visit.user.id, visit.thread.id, "", photos=photos)
    [post] = twilio.posts
    urls = post["data"]["MediaUrl"]
    assert len(urls) == 2 and all(u.startswith("https://pawline.test/media/signed/") for u in urls)
    assert "Body" not in post["data"]  # photos without a caption
    client = app.test_client()
    for url in urls:  # what Twilio then fetches, without any login
        fetched = client.get(urlsplit(url).path)
        assert fetched.status_code == 200 and fetched.data[:2] == b"\xff\xd8"
    db.session.rollback()
    assert db.session.scalar(select(Message.status).where(Message.id == outcome.message_id)) == "sent"


def test_without_an_https_public_address_photos_fail_clearly_instead_of_sending_without_them(app, visit,
                                                                                           twilio):
    app.config["PUBLIC_BASE_URL"] = None
    outcome = send_sitter_message(visit.user.id, visit.thread.id, "look", photos=[Upload("a.jpg", photo_bytes())])
    assert twilio.posts == []
    db.session.rollback()
    message = db.session.get(Message, outcome.message_id)
    assert message.status == "failed" and "PUBLIC_BASE_URL" in message.error_message
