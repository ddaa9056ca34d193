"""The installable app: manifest, service worker, offline page, push subscriptions and settings pages."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.adapters.webpush import endpoint_allowed
from app.extensions import db
from app.models import NotificationSettings, PushSubscription
from tests.support.push import PUBLIC, SUBJECT, VAPID_CONFIG
from tests.support.push_stand_in import PushStandIn
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


@pytest.fixture
def app_config():
    return dict(VAPID_CONFIG)


@pytest.fixture
def visit(make, clock):
    clock.set(START + timedelta(minutes=15))
    return make_visit(make, start=START)


def test_manifest_is_scoped_to_the_sitter_pages_with_icons_that_exist(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["scope"] == "/sitter" and manifest["start_url"] == "/sitter"
    assert manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
        size = int.from_bytes(image.data[16:20], "big")
        assert icon["sizes"] == f"{size}x{size}"
        image.close()


def test_service_worker_is_served_at_the_root_uncached_and_caches_no_personal_pages(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] in ("no-cache", "no-store")  # never pinned by a cache
    source = response.get_data(as_text=True)
    response.close()
    shell = json.loads(source.split("self.PAWLINE_SHELL = ")[1].split(";\n")[0])
    assert shell[0] == "/offline" and len(shell) == 6
    assert [re.sub(r"\.[0-9a-f]{8,}\.", ".", url) for url in shell[1:]] == [
        "/static/css/app.css", "/static/css/sitter.css", "/static/css/offline.css", "/static/js/offline_cards.js",
        "/static/icons/icon-192.png"]  # the offline page and its card script; no personal page
    for url in shell[1:]:
        asset = client.get(url)
        asset.close()  # WhiteNoise answers with an open file
        assert asset.status_code == 200, url
    # Nothing fetched at run time is stored but today's visit card, in its own cache (test_sitter_offline_card).
    assert source.count("cache.put") == 1 and "cache.put(cardUrl(id)" in source


def test_offline_page_needs_no_login_and_shows_nothing_personal(client):
    html = client.get("/offline").get_data(as_text=True)
    assert "No connection" in html and "Log out" not in html


def test_sitter_pages_link_the_manifest_and_the_scripts(client, login_as, visit):
    login_as(visit.user)
    html = client.get("/sitter").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert re.search(r'src="/static/js/sitter(\.[0-9a-f]+)?\.js"', html)
    assert re.search(r'src="/static/js/push(\.[0-9a-f]+)?\.js"', html)
    assert f'data-push-key="{PUBLIC}"' in html  # the opt-in button after login
    assert 'class="skip-link" href="#main"' in html and 'id="main"' in html
    assert 'href="/sitter" aria-current="page"' in html


def _subscription(endpoint="https://fcm.googleapis.com/fcm/send/abc123"):
    with PushStandIn(PUBLIC, SUBJECT) as service:
        data = service.subscribe()
    data["endpoint"] = endpoint
    return data


def test_a_sitter_subscribes_this_device(client, login_as, visit):
    login_as(visit.user)
    data = _subscription()
    response = client.post("/push/subscriptions", json=data, headers={"User-Agent": "Mobile Safari"})
    assert response.status_code == 201 and response.get_json()["saved"] is True
    row = db.session.scalar(select(PushSubscription))
    assert (row.user_id, row.endpoint, row.p256dh, row.device) == (visit.user.id, data["endpoint"],
                                                                   data["keys"]["p256dh"], "Mobile Safari")
    assert row.inbox_items is False
    assert client.post("/push/subscriptions", json=data).status_code == 201  # again: the same row
    assert len(db.session.scalars(select(PushSubscription)).all()) == 1
    assert client.delete("/push/subscriptions", json={"endpoint": data["endpoint"]}).status_code == 204
    assert db.session.scalar(select(PushSubscription)) is None


def test_only_owners_and_staff_can_ask_for_inbox_items(client, login_as, make, visit):
    login_as(visit.user)
    client.post("/push/subscriptions", json={**_subscription(), "inbox_items": True})
    assert db.session.scalar(select(PushSubscription.inbox_items)) is False
    login_as(make.user("staff"))
    client.post("/push/subscriptions", json={**_subscription("https://updates.push.services.mozilla.com/wpush/v2/x"),
                                             "inbox_items": True})
    assert sorted(db.session.scalars(select(PushSubscription.inbox_items)).all()) == [False, True]


@pytest.mark.parametrize("endpoint", [
    "http://fcm.googleapis.com/fcm/send/abc",  # not https
    "https://127.0.0.1:8080/push",  # our own machine
    "https://10.0.0.5/push",  # our own network
    "https://[::1]/push",
    "https://localhost/push",
    "https://user:pw@push.example.com/x",
    "https://metadata.internal/x",
    "javascript:alert(1)",
])
def test_a_subscription_cannot_point_the_server_at_its_own_network(client, login_as, visit, endpoint):
    login_as(visit.user)
    response = client.post("/push/subscriptions", json=_subscription(endpoint), headers={"Accept": "application/json"})
    assert response.status_code == 422 and "public https" in response.get_json()["error"]
    assert db.session.scalar(select(PushSubscription)) is None


def test_loopback_is_allowed_only_when_configured():
    assert not endpoint_allowed("http://127.0.0.1:9999/push/x")
    assert endpoint_allowed("http://127.0.0.1:9999/push/x", allow_loopback=True)
    assert endpoint_allowed("https://fcm.googleapis.com/fcm/send/abc")


@pytest.mark.parametrize("body, status", [
    (None, 400),  # not JSON: the input guard
    ([], 400),
    ({"endpoint": "https://fcm.googleapis.com/\x00", "keys": {"p256dh": "a", "auth": "b"}}, 400),
    ({"endpoint": "https://fcm.googleapis.com/x"}, 422),  # the service: not a usable subscription
    ({"endpoint": "https://fcm.googleapis.com/x", "keys": {"p256dh": "a"}}, 422),
    ({"endpoint": "https://fcm.googleapis.com/x" + "a" * 1000, "keys": {"p256dh": "a", "auth": "b"}}, 422),
    ({"endpoint": "https://fcm.googleapis.com/x", "keys": {"p256dh": 5, "auth": "b"}}, 422),
])
def test_bad_subscriptions_are_refused_with_nothing_written(client, login_as, visit, body, status):
    login_as(visit.user)
    kwargs = {"data": "not json", "content_type": "application/json"} if body is None else {"json": body}
    response = client.post("/push/subscriptions", headers={"Accept": "application/json"}, **kwargs)
    assert response.status_code == status and response.get_json()["error"]
    assert db.session.scalar(select(PushSubscription)) is None


def test_subscribing_needs_a_login(client):
    assert client.post("/push/subscriptions", json=_subscription()).status_code in (302, 401)


def test_sitter_turns_the_sms_ping_on_and_off(client, login_as, make, visit):
    make.number("front_desk")
    login_as(visit.user)
    page = client.get("/notifications").get_data(as_text=True)
    assert "Text me when I have no notifications on" in page
    assert "•••" + visit.sitter.phone_e164[-4:] in page and visit.sitter.phone_e164 not in page
    response = client.post("/notifications/sms-ping", data={"sms_ping": "on"}, follow_redirects=True)
    assert "Text pings are on." in response.get_data(as_text=True)
    assert db.session.get(NotificationSettings, visit.user.id).sms_ping is True
    client.post("/notifications/sms-ping", data={})
    db.session.expire_all()
    assert db.session.get(NotificationSettings, visit.user.id).sms_ping is False


def test_sms_ping_refused_without_a_front_desk_number_says_why(client, login_as, visit):
    login_as(visit.user)
    response = client.post("/notifications/sms-ping", data={"sms_ping": "on"}, follow_redirects=True)
    assert "no front-desk number" in response.get_data(as_text=True)
    assert db.session.get(NotificationSettings, visit.user.id) is None


def test_owners_get_the_inbox_opt_in_on_the_admin_layout(client, login_as, make):
    login_as(make.user("owner"))
    html = client.get("/notifications").get_data(as_text=True)
    assert "new text lands in the owner inbox" in html and "data-push-inbox" in html
    assert "Text ping" not in html


def test_vapid_keys_command_prints_a_usable_pair(app):
    from cryptography.hazmat.primitives import serialization
    from py_vapid import Vapid

    from app.vapid_keys import _b64url

    result = app.test_cli_runner().invoke(args=["vapid-keys"])
    output = result.output.splitlines()
    lines = dict(line.split("=", 1) for line in output if line.startswith("VAPID_") and "KEY" in line)
    vapid = Vapid.from_string(private_key=lines["VAPID_PRIVATE_KEY"])
    public = vapid.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert _b64url(public) == lines["VAPID_PUBLIC_KEY"]


def test_logging_out_everywhere_forgets_every_push_device(client, login_as, make, visit):
    login_as(visit.user)
    client.post("/push/subscriptions", json=_subscription())
    client.post("/push/subscriptions", json=_subscription("https://updates.push.services.mozilla.com/wpush/v2/y"))
    other = make.user("owner")
    from app.services.notifications.notify import save_push_subscription

    save_push_subscription(other, _subscription("https://fcm.googleapis.com/fcm/send/owner"))
    assert client.post("/account/sessions/end").status_code == 302
    assert db.session.scalars(select(PushSubscription.user_id)).all() == [other.id]
