"""Twilio's copy of an inbound photo is deleted (through the SDK) once we have stored it."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import MessageMedia, ProviderDeletion
from tests.services.media.test_inbound import _mms, thread, twilio_media  # noqa: F401 - fixtures
from tests.support.media_stand_in import photo_bytes

MEDIA_SID = "ME" + "a" * 32


def test_a_stored_inbound_photo_is_deleted_at_twilio(client, thread, twilio_media, twilio):  # noqa: F811
    _mms(client, (twilio_media.media_url(MEDIA_SID, photo_bytes()), "image/jpeg"))
    [media] = db.session.scalars(select(MessageMedia)).all()
    assert media.status == "stored"
    [row] = db.session.scalars(select(ProviderDeletion)).all()
    assert (row.provider_sid, row.status) == (f"MM{'1' * 32}/{MEDIA_SID}", "deleted")
    [delete] = [r for r in twilio.requests if r["method"] == "DELETE"]
    assert delete["uri"].endswith(f"/Messages/MM{'1' * 32}/Media/{MEDIA_SID}.json")


def test_a_photo_that_could_not_be_stored_is_left_at_twilio(client, thread, twilio_media, twilio):  # noqa: F811
    _mms(client, (twilio_media.media_url(MEDIA_SID, b"not an image"), "image/jpeg"))
    [media] = db.session.scalars(select(MessageMedia)).all()
    assert media.status == "failed"
    assert db.session.scalars(select(ProviderDeletion)).all() == []
