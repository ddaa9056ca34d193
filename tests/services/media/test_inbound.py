"""Inbound MMS: media fetched from Twilio's API origin only (basic auth, one redirect), stored stripped."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from app.adapters.media_store import get_media_store
from app.extensions import db
from app.models import Alert, EventLog, Message, MessageMedia
from app.services.media.inbound import parse_inbound_media
from tests.support.media_stand_in import SID, TOKEN, TwilioMediaServer, has_gps, photo_bytes
from tests.support.messaging_builders import booking_thread
from tests.support.twilio_stand_in import fixture_fields, post_signed


@pytest.fixture
def twilio_media(app):
    with TwilioMediaServer() as server:
        app.config["TWILIO_MEDIA_ORIGIN"] = server.origin
        app.config["TWILIO_MEDIA_HOSTS"] = ("localhost",)  # the stand-in's "storage" host
        yield server


@pytest.fixture
def thread(make, db):
    thread = booking_thread(make, client=make.client(phone_e164="+12025550101"),
                            number=make.number("pool", e164="+12025550121"), started_hours_ago=0.5)
    db.session.commit()
    return thread


def _mms(client, *media, body=""):
    fields = fixture_fields("inbound-sms", Body=body, NumMedia=str(len(media)))
    for index, (url, content_type) in enumerate(media):
        fields[f"MediaUrl{index}"] = url
        fields[f"MediaContentType{index}"] = content_type
    response = post_signed(client, "/webhooks/twilio/sms", fields)
    assert response.status_code == 200
    db.session.rollback()  # see what the request and its inline jobs committed
    return db.session.scalar(select(Message))


def test_photo_is_fetched_with_basic_auth_through_the_redirect_and_stored_without_gps(client, thread, twilio_media):
    original = photo_bytes((1200, 900), orientation=6)
    assert has_gps(original)
    message = _mms(client, (twilio_media.media_url("ME1", original), "image/jpeg"))

    [media] = db.session.scalars(select(MessageMedia)).all()
    assert (media.message_id, media.status, media.content_type) == (message.id, "stored", "image/jpeg")
    api_hop, storage_hop = twilio_media.seen
    assert api_hop.authorization == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert storage_hop.host.startswith("localhost:") and storage_hop.path == "/storage/ME1"
    assert storage_hop.authorization is None  # the account's credentials never leave Twilio's API
    stored = get_media_store().get(media.storage_key)
    assert not has_gps(stored) and b"PhoneMaker" not in stored
    assert (media.width, media.height) == (900, 1200)  # EXIF orientation 6 applied before stripping
    assert get_media_store().get(media.thumb_key)[:2] == b"\xff\xd8"


def test_media_url_on_another_host_is_refused_without_a_request(client, thread, twilio_media):
    with TwilioMediaServer() as elsewhere:  # e.g. a metadata service or an internal host
        url = elsewhere.media_url("ME2", photo_bytes())
        message = _mms(client, (url, "image/jpeg"), body="look")
        assert elsewhere.seen == []
    assert twilio_media.seen == []
    [media] = db.session.scalars(select(MessageMedia)).all()
    assert media.status == "failed" and "not on Twilio's API origin" in media.error
    assert message.body == "look"  # the text itself is kept and routed as usual
    [alert] = db.session.scalars(select(Alert).where(Alert.kind == "media.failed")).all()
    assert alert.audience == "owner" and alert.message_id == message.id
    assert db.session.scalar(select(EventLog).where(EventLog.kind == "media.failed")) is not None


def test_same_host_other_account_or_userinfo_trick_is_refused(client, thread, twilio_media):
    other_account = twilio_media.media_url("ME3", photo_bytes()).replace(SID, "AC" + "9" * 32)
    userinfo = f"{twilio_media.origin}@evil.test/2010-04-01/Accounts/{SID}/Messages/MM1/Media/ME4"
    _mms(client, (other_account, "image/jpeg"), (userinfo, "image/jpeg"))
    assert twilio_media.seen == []
    assert [m.status for m in db.session.scalars(select(MessageMedia).order_by(MessageMedia.position))] == [
        "failed", "failed"]


def test_a_text_of_media_alone_shows_the_photo_not_an_empty_message(client, thread, twilio_media, make, login_as):
    _mms(client, (twilio_media.media_url("ME5", photo_bytes()), "image/jpeg"),
         (twilio_media.media_url("ME6", b"BEGIN:VCARD\r\nEND:VCARD\r\n", "text/vcard"), "text/vcard"))
    photo, card = db.session.scalars(select(MessageMedia).order_by(MessageMedia.position)).all()
    assert (photo.status, card.status, card.filename) == ("stored", "stored", "attachment-2.vcf")
    login_as(make.user("owner"))
    page = client.get(f"/admin/threads/{thread.id}").get_data(as_text=True)
    assert f"/media/{photo.id}/thumb" in page
    assert f'href="/media/{card.id}"' in page and "attachment-2.vcf" in page
    download = client.get(f"/media/{card.id}")
    assert download.headers["Content-Disposition"].startswith("attachment")  # never rendered in our origin


def test_corrupt_photo_ends_failed_and_owners_are_told(client, thread, twilio_media):
    _mms(client, (twilio_media.media_url("ME7", b"\xff\xd8\xff\xe0 not really a jpeg"), "image/jpeg"))
    [media] = db.session.scalars(select(MessageMedia)).all()
    assert media.status == "failed" and "could not be read" in media.error
    assert media.storage_key is None
    assert db.session.scalar(select(Alert).where(Alert.kind == "media.failed")) is not None


def test_twilio_5xx_is_retried_then_stored(app, client, thread, twilio_media, monkeypatch):
    from app.adapters import twilio_media as media_fetch

    real_raise = media_fetch._raise_for_status
    answers = iter([503])

    def flaky(status):
        real_raise(next(answers, status))

    monkeypatch.setattr(media_fetch, "_raise_for_status", flaky)
    _mms(client, (twilio_media.media_url("ME8", photo_bytes()), "image/jpeg"))
    [media] = db.session.scalars(select(MessageMedia)).all()
    assert (media.status, media.attempts) == ("pending", 1) and "503" in media.error
    from app.services.media.inbound import fetch_inbound_media

    assert fetch_inbound_media(media.id) == "stored"  # the retry (what the queue runs later)
    assert fetch_inbound_media(media.id) == "stored"  # and once more: nothing fetched twice
    assert len([s for s in twilio_media.seen if s.path.startswith("/storage/")]) == 2


@pytest.mark.parametrize("fields, expected", [
    ({"NumMedia": "2", "MediaUrl0": "u0", "MediaContentType0": "image/jpeg", "MediaUrl1": "u1"},
     [("u0", "image/jpeg"), ("u1", "application/octet-stream")]),
    ({"NumMedia": "x", "MediaUrl0": "u0"}, []),
    ({"NumMedia": "-1", "MediaUrl0": "u0"}, []),
    ({"NumMedia": "99", **{f"MediaUrl{i}": f"u{i}" for i in range(12)}}, [(f"u{i}", "application/octet-stream")
                                                                         for i in range(10)]),
    ({}, []),
])
def test_parse_inbound_media_never_fails(fields, expected):
    assert [(r.url, r.content_type) for r in parse_inbound_media(fields)] == expected


def test_a_sitter_sees_the_clients_photo_but_not_other_files(client, thread, twilio_media, make, login_as, clock):
    from app.models import AssignmentWindow, Sitter

    sitter_user = make.user("sitter")
    window = db.session.scalar(select(AssignmentWindow).where(AssignmentWindow.thread_id == thread.id))
    sitter = db.session.get(Sitter, window.sitter_id)
    sitter.user_id = sitter_user.id
    db.session.commit()
    _mms(client, (twilio_media.media_url("ME9", photo_bytes()), "image/jpeg"),
         (twilio_media.media_url("ME10", b"BEGIN:VCARD\r\nTEL:+12025550101\r\nEND:VCARD\r\n", "text/vcard"),
          "text/vcard"))
    photo, card = db.session.scalars(select(MessageMedia).order_by(MessageMedia.position)).all()
    login_as(sitter_user)
    page = client.get(f"/sitter/threads/{thread.id}").get_data(as_text=True)
    assert f"/media/{photo.id}/thumb" in page and "attachment-2.vcf" in page
    assert f'href="/media/{card.id}"' not in page
    assert client.get(f"/media/{photo.id}").status_code == 200
    assert client.get(f"/media/{card.id}").status_code == 404


def test_reconcile_fetches_media_whose_job_the_queue_lost(app, client, thread, twilio_media, monkeypatch):
    from app.services.media import inbound as media_inbound

    monkeypatch.setattr(media_inbound, "enqueue_fetch", lambda media_id: None)  # the job is lost
    _mms(client, (twilio_media.media_url("ME11", photo_bytes()), "image/jpeg"))
    [media] = db.session.scalars(select(MessageMedia)).all()
    assert media.status == "pending"
    monkeypatch.undo()
    from app.services.ops.reconcile import requeue_media_fetches

    assert requeue_media_fetches() == 1
    db.session.rollback()
    assert db.session.get(MessageMedia, media.id).status == "stored"
    assert requeue_media_fetches() == 0


def test_a_redirect_to_a_host_that_is_not_twilios_media_storage_is_not_followed(app, client, thread, twilio_media):
    app.config["TWILIO_MEDIA_HOSTS"] = ()  # the stand-in's "storage" (localhost) is not Twilio's
    _mms(client, (twilio_media.media_url("ME9", photo_bytes()), "image/jpeg"), body="look")
    [api_hop] = twilio_media.seen  # the API answered with a redirect, and nothing followed it
    assert api_hop.path.endswith("/ME9")
    [media] = db.session.scalars(select(MessageMedia)).all()
    assert media.status == "failed" and "not to Twilio's media storage" in media.error
