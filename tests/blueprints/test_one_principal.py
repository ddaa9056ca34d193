"""An operator is nobody's user: org data routes answer 404 to an operator's session.

The probe's finding: operator 1 read an org-1 client's photo and subscribed to org 1's inbox
notifications as its owner, because the routes passed `current_user.id` to services that load
a `User` by id. These tests give the operator the same id as an org user who may read all of it.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.extensions import db
from app.models import MessageMedia, NotificationSettings, Operator, PushSubscription, User
from tests.support.factories import cheap_hash
from tests.support.media_stand_in import photo_bytes
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
SUBSCRIPTION = {"endpoint": "https://fcm.googleapis.com/fcm/send/op1", "keys": {"p256dh": "k" * 20, "auth": "a" * 16},
                "inbox_items": True}


@pytest.fixture
def world(make, clock, media_root, client, login_as):
    """A sitter's photo in an open window, and an operator whose id is an owner's id."""
    clock.set(START + timedelta(minutes=15))
    visit = make_visit(make, start=START, hours=1)
    login_as(visit.user)
    values = MultiDict({"body": "Biscuit says hi"})
    values.add("photos", FileStorage(io.BytesIO(photo_bytes((400, 300))), filename="a.jpg", content_type="image/jpeg"))
    boundary, body = encode_multipart(values)
    assert client.post(f"/sitter/threads/{visit.thread.id}/messages", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}").status_code == 302
    media_id = db.session.scalar(select(MessageMedia.id))
    # An operator row whose id is an owner's id (the ids of the two tables share nothing).
    twin = make.user(role="owner")
    operator = Operator(id=twin.id, email="ops@pawline.test", name="Ops")
    operator.password_hash = cheap_hash("operator-password-1")  # never typed in: login_as starts its session
    db.session.add(operator)
    db.session.commit()
    assert db.session.get(User, operator.id).role == "owner"
    client.post("/logout")
    return visit, media_id, operator, twin


def test_the_owner_with_the_operators_id_reads_the_photo(client, login_as, world):
    """The control: the org user with that id may read it (so a 404 below is the principal check)."""
    _, media_id, _, twin = world
    login_as(twin)
    assert client.get(f"/media/{media_id}").status_code == 200
    assert client.get(f"/media/{media_id}/thumb").status_code == 200


@pytest.mark.parametrize("method, path", [
    ("get", "/media/{media}"),
    ("get", "/media/{media}/thumb"),
    ("get", "/notifications"),
    ("post", "/notifications/sms-ping"),
])
def test_an_operator_gets_404_on_org_data_routes(client, login_as, world, method, path):
    _, media_id, operator, _ = world
    login_as(operator)
    response = getattr(client, method)(path.format(media=media_id), data={"sms_ping": "on"})
    assert response.status_code == 404
    assert b"\xff\xd8" not in response.data[:4]  # no JPEG
    assert db.session.scalar(select(func.count()).select_from(NotificationSettings)) == 0


def test_an_operator_cannot_subscribe_to_an_orgs_inbox_notifications(client, login_as, world):
    _, _, operator, _ = world
    login_as(operator)
    response = client.post("/push/subscriptions", json=SUBSCRIPTION, headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(PushSubscription)) == 0
    assert client.delete("/push/subscriptions", json={"endpoint": SUBSCRIPTION["endpoint"]}).status_code == 404


def test_services_refuse_an_operator_or_a_bare_id(world):
    from app.errors import NotFound
    from app.services.media.access import read_media
    from app.services.notifications import notify

    _, media_id, operator, twin = world
    for principal in (operator, twin.id):
        with pytest.raises(NotFound):
            read_media(principal, media_id, "full")
        with pytest.raises(NotFound):
            notify.save_push_subscription(principal, dict(SUBSCRIPTION))
        with pytest.raises(NotFound):
            notify.set_sms_ping(principal, True)
    assert read_media(twin, media_id, "full").is_image
