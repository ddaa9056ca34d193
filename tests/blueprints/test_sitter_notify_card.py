"""The sitter dashboard's "Turn on notifications" card: shown until push (a device) or the text ping is
on, with the push button where the server has keys, and the settings page a tap away."""

from __future__ import annotations

import pytest

from app.services.notifications import notify as notifications
from tests.support.push import PUBLIC, VAPID_CONFIG

SUBSCRIPTION = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc123", "expirationTime": None,
                "keys": {"p256dh": "BNc" + "A" * 84, "auth": "B" * 22}}


@pytest.fixture
def app_config():
    return dict(VAPID_CONFIG)


@pytest.fixture
def sitter_user(make, login_as):
    sitter = make.sitter()
    login_as(sitter.user)
    return sitter.user


def _dashboard(client) -> str:
    return client.get("/sitter").get_data(as_text=True)


def test_a_new_sitter_sees_the_card_with_the_push_button_and_the_iphone_steps(client, sitter_user):
    html = _dashboard(client)
    assert "data-notify-card" in html and f'data-push-key="{PUBLIC}"' in html
    assert "Turn on notifications" in html and "Add to Home Screen" in html
    assert "data-push-prompt" not in html  # one prompt on the dashboard, not two
    assert "data-push-prompt" in client.get("/sitter/alerts").get_data(as_text=True)  # other pages keep theirs


def test_the_card_is_gone_once_a_device_has_push(client, sitter_user):
    notifications.save_push_subscription(sitter_user, SUBSCRIPTION, device="test")
    assert "data-notify-card" not in _dashboard(client)
    notifications.delete_push_subscription(sitter_user, SUBSCRIPTION["endpoint"])
    assert "data-notify-card" in _dashboard(client)


def test_the_card_is_gone_once_the_text_ping_is_on_and_offers_it_before(client, make, sitter_user):
    make.number("front_desk")
    html = _dashboard(client)
    assert "Or get a text ping on your phone (•••" in html
    notifications.set_sms_ping(sitter_user, True)
    assert "data-notify-card" not in _dashboard(client)
    notifications.set_sms_ping(sitter_user, False)
    assert "data-notify-card" in _dashboard(client)


def test_without_push_keys_the_card_points_to_the_settings(client, app, sitter_user):
    app.config.update(VAPID_PUBLIC_KEY=None, VAPID_PRIVATE_KEY=None, VAPID_SUBJECT=None)
    html = _dashboard(client)
    assert "data-notify-card" in html and "data-push-key" not in html and "data-push-enable" not in html
    assert 'href="/notifications"' in html
