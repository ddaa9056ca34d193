"""Photos through the app: sitter and owner attachments, signed links for Twilio, authorised reads."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.adapters.media_store import get_media_store
from app.extensions import db
from app.models import EventLog, Message, MessageMedia, OutboxEntry
from app.models.visits import VisitReport
from tests.support.media_stand_in import has_gps, photo_bytes
from tests.support.messaging_builders import as_first_text
from tests.support.sitter_data import make_visit
from tests.support.twilio_stand_in import fixture_fields, post_signed

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York


@pytest.fixture
def visit(make, clock, media_root):
    clock.set(START + timedelta(minutes=15))
    return make_visit(make, start=START, hours=1)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _multipart(client, path, fields: dict, photos=()):
    """POST a multipart form (encoded in memory: werkzeug's test builder leaks a temp file for
    bodies over 500 KB, which filterwarnings=error turns into a failure)."""
    values = MultiDict(fields)
    for name, content in photos:
        values.add("photos", FileStorage(io.BytesIO(content), filename=name, content_type="image/jpeg"))
    boundary, body = encode_multipart(values)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _send(client, visit, body="Biscuit says hi", photos=(), **extra):
    return _multipart(client, f"/sitter/threads/{visit.thread.id}/messages", {"body": body, **extra}, photos)


def _rows(model):
    db.session.rollback()
    return db.session.scalars(select(model).order_by(model.id)).all()


def _kept_text(html: str) -> str:
    return re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1).strip()


def test_sitter_sends_a_photo_with_a_caption_and_twilio_gets_a_signed_link(client, login_as, visit, media_root):
    login_as(visit.user)
    response = _send(client, visit, photos=[("IMG_0001.JPG", photo_bytes((3000, 2000), orientation=6))])
    assert response.status_code == 302
    [message] = _rows(Message)
    [media] = _rows(MessageMedia)
    [entry] = _rows(OutboxEntry)
    assert (message.body, message.status, media.message_id) == (as_first_text("Biscuit says hi"), "sent", message.id)
    assert (media.width, media.height) == (1067, 1600)  # upright and resized
    [url] = entry.media_urls
    assert url.startswith(f"https://pawline.test/media/signed/{media.id}/")
    served = client.get(urlsplit(url).path)  # what Twilio fetches: no login needed
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert not has_gps(served.data) and len(served.data) <= 600 * 1024
    page = client.get(f"/sitter/threads/{visit.thread.id}").get_data(as_text=True)
    assert f"/media/{media.id}/thumb" in page


def test_photo_alone_is_a_message(client, login_as, visit):
    login_as(visit.user)
    assert _send(client, visit, body="", photos=[("a.jpg", photo_bytes())]).status_code == 302
    [message] = _rows(Message)
    [entry] = _rows(OutboxEntry)
    assert message.body == as_first_text("") and len(entry.media_urls) == 1  # the first names the business


def test_signed_link_refuses_a_wrong_or_expired_signature(client, login_as, visit, clock, app):
    login_as(visit.user)
    _send(client, visit, photos=[("a.jpg", photo_bytes())])
    [entry] = _rows(OutboxEntry)
    path = urlsplit(entry.media_urls[0]).path
    client.post("/logout")
    assert client.get(path).status_code == 200
    media_id, expires, signature = re.match(r"/media/signed/(\d+)/(\d+)/(\w+)\.jpg", path).groups()
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert client.get(f"/media/signed/{media_id}/{expires}/{flipped}.jpg").status_code == 403
    longer = int(expires) + 86400  # a later expiry with the old signature
    assert client.get(f"/media/signed/{media_id}/{longer}/{signature}.jpg").status_code == 403
    clock.advance(seconds=app.config["MEDIA_URL_TTL_SECONDS"] + 1)
    assert client.get(path).status_code == 403


def test_signed_links_keep_working_after_january_2038(client, login_as, make, clock, app):
    """The probe: an expiry past 2**31 - 1 seconds (19 Jan 2038) fell to the 32-bit id converter: 404."""
    clock.set(datetime(2038, 1, 19, 3, 0, tzinfo=UTC))
    visit = make_visit(make, start=clock.now - timedelta(minutes=15), hours=1)
    login_as(visit.user)
    assert _send(client, visit, photos=[("a.jpg", photo_bytes())]).status_code == 302
    [entry] = _rows(OutboxEntry)
    path = urlsplit(entry.media_urls[0]).path
    client.post("/logout")
    expires = int(re.match(r"/media/signed/\d+/(\d+)/", path).group(1))
    assert expires > 2**31 - 1
    assert client.get(path).status_code == 200
    assert client.get(path.replace(f"/{expires}/", f"/{10**13}/")).status_code == 404  # past year 9999


def _inbound_photo(make, thread, created_at) -> MessageMedia:
    message = make.message(thread=thread, body="", created_at=created_at)
    store = get_media_store()
    store.put(f"t/{message.id}.jpg", photo_bytes(gps=False), "image/jpeg")
    store.put(f"t/{message.id}-thumb.jpg", photo_bytes((32, 32), gps=False), "image/jpeg")
    media = MessageMedia(org_id=thread.org_id, message_id=message.id, position=0, status="stored",
                         content_type="image/jpeg", filename="photo-1.jpg", storage_key=f"t/{message.id}.jpg",
                         thumb_key=f"t/{message.id}-thumb.jpg")
    db.session.add(media)
    db.session.commit()
    return media


def test_a_sitter_outside_the_window_cannot_fetch_a_threads_media(client, login_as, make, visit, clock, app):
    during = _inbound_photo(make, visit.thread, clock.now)
    after = _inbound_photo(make, visit.thread, visit.window.ends_at + timedelta(minutes=5))
    other_sitter = make_visit(make, start=START, hours=1).sitter

    login_as(visit.user)
    assert client.get(f"/media/{during.id}/thumb").status_code == 200
    assert client.get(f"/media/{during.id}").status_code == 200
    # the client's photo sent after the window closed is for owners only
    assert client.get(f"/media/{after.id}").status_code == 404
    assert client.get(f"/media/{after.id}/thumb").status_code == 404

    login_as(other_sitter.user)  # never this thread's sitter
    assert client.get(f"/media/{during.id}").status_code == 404

    login_as(make.user("owner"))
    assert client.get(f"/media/{after.id}").status_code == 200
    login_as(make.user("owner", org=make.org()))  # another business
    assert client.get(f"/media/{during.id}").status_code == 404
    assert client.get("/media/99999999999").status_code == 404

    # inbound media are never handed out by link, even with a valid signature
    with app.test_request_context():
        from app.services.media.access import signed_media_path

        expires, signature = signed_media_path(during.id)
    client.post("/logout")
    assert client.get(f"/media/signed/{during.id}/{expires}/{signature}.jpg").status_code == 403
    assert client.get(f"/media/{during.id}").status_code == 302  # to the login page


def test_a_bad_photo_refuses_the_message_and_keeps_the_text(client, login_as, visit, media_root):
    login_as(visit.user)
    response = _send(client, visit, body="Walk done", photos=[("ok.jpg", photo_bytes()),
                                                              ("notes.pdf", b"%PDF-1.7")],
                     )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '&#34;notes.pdf&#34; is not a photo we can read' in html and "text is still in the box" in html
    assert _kept_text(html) == "Walk done"
    assert _rows(Message) == [] and _rows(MessageMedia) == [] and _files(media_root) == []


def test_photos_outside_the_window_or_blocked_by_policy_leave_nothing_behind(client, login_as, visit, clock,
                                                                             media_root):
    login_as(visit.user)
    response = _send(client, visit, body="call me on 202-555-0199", photos=[("a.jpg", photo_bytes())])
    assert response.status_code == 422 and _files(media_root) == []
    clock.set(visit.window.ends_at + timedelta(minutes=1))
    response = _send(client, visit, photos=[("a.jpg", photo_bytes())])
    assert response.status_code == 409
    assert _rows(Message) == [] and _rows(MessageMedia) == [] and _files(media_root) == []


def test_the_same_tap_twice_sends_once_but_other_photos_send_again(client, login_as, visit):
    login_as(visit.user)
    first, second = photo_bytes(color=(1, 2, 3)), photo_bytes(color=(200, 2, 3))
    _send(client, visit, body="", photos=[("a.jpg", first)])
    _send(client, visit, body="", photos=[("a.jpg", first)])
    _send(client, visit, body="", photos=[("b.jpg", second)])
    assert len(_rows(OutboxEntry)) == 2


def test_upload_limit_is_raised_for_photo_forms_only(client, login_as, visit, app):
    login_as(visit.user)
    big = photo_bytes((2600, 2000))
    big += b"\0" * (1024 * 1024 + 1 - len(big)) if len(big) <= 1024 * 1024 else b""
    assert len(big) > app.config["MAX_CONTENT_LENGTH"]
    assert _send(client, visit, photos=[("big.jpg", big)]).status_code == 302  # over 1 MB, still accepted
    fields = fixture_fields("inbound-sms", Body="x" * (1024 * 1024 + 10))
    assert post_signed(client, "/webhooks/twilio/sms", fields).status_code == 413  # webhooks stay small

    app.config["MEDIA_UPLOAD_MAX_BYTES"] = 200 * 1024
    response = _send(client, visit, body="Too big?", photos=[("big.jpg", big)])
    html = response.get_data(as_text=True)
    assert response.status_code in (413, 422)
    assert "Attach fewer" in html
    assert len(_rows(OutboxEntry)) == 1


def test_compose_box_near_the_end_links_to_the_stored_report_and_sends_no_report_itself(client, login_as, visit,
                                                                                          clock):
    """One report path: the compose box points to the visit page's report form; a compose post
    (even one still carrying the old visit_report=1 field) is an ordinary text, never a report."""
    login_as(visit.user)
    page = client.get(f"/sitter/threads/{visit.thread.id}").get_data(as_text=True)
    assert "data-visit-report-link" not in page  # 15 minutes in: the window closes in 1 h 45
    clock.set(visit.booking.end_at - timedelta(minutes=5))
    page = client.get(f"/sitter/threads/{visit.thread.id}").get_data(as_text=True)
    assert "Send visit report" not in page and 'name="visit_report"' not in page
    link = re.search(r'data-visit-report-link>.*?href="([^"]+)"', page, re.S).group(1)
    assert link == f"/sitter/threads/{visit.thread.id}/visit#report"
    assert client.post(f"/sitter/visits/{visit.booking.id}/check-in").status_code == 302
    visit_page = client.get(link.split("#")[0], follow_redirects=True).get_data(as_text=True)
    assert f'action="/sitter/visits/{visit.booking.id}/report"' in visit_page

    _send(client, visit, body="Fed, walked 30 min, water refilled.", photos=[("a.jpg", photo_bytes())],
          visit_report="1")
    [message] = _rows(Message)
    assert message.body == as_first_text("Fed, walked 30 min, water refilled.")
    assert not [e for e in _rows(EventLog) if e.kind == "visit.report_sent"]
    assert not _rows(VisitReport)


def test_owner_attaches_a_photo_to_a_reply(client, login_as, make, media_root):
    number = make.number("front_desk")
    inbound = make.message(org=number.org if hasattr(number, "org") else None, thread=None, owner_inbox=True,
                           from_e164="+12025550101", to_e164=number.e164, message_number_id=number.id)
    db.session.commit()
    login_as(make.user("owner"))
    response = _multipart(client, f"/admin/inbox/{inbound.id}", {"from_number_id": number.id, "body": ""},
                          [("a.jpg", photo_bytes())])
    assert response.status_code == 302
    [entry] = _rows(OutboxEntry)
    reply = db.session.get(Message, entry.message_id)
    assert (reply.sender_kind, reply.body, len(entry.media_urls)) == ("owner", "", 1)
    page = client.get(f"/admin/inbox/{inbound.id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="photos"' in page
