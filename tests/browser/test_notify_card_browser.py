"""The dashboard's "Turn on notifications" card at 390×844: the push button in a browser that can
subscribe, the Add to Home Screen steps in iPhone Safari (push needs the Home Screen app there)."""

from __future__ import annotations

import pytest

from tests.browser.a11y import assert_no_serious_violations
from tests.browser.conftest import signed_in
from tests.support.push import VAPID_CONFIG

pytestmark = pytest.mark.browser

IPHONE_SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


@pytest.fixture
def app_config(app_config):
    return {**app_config, **VAPID_CONFIG}


def test_a_new_sitter_gets_the_button_in_chrome(make, live_server, chromium):
    sitter = make.sitter()
    with signed_in(chromium, live_server, sitter.user) as (context, page):
        card = page.locator("[data-notify-card]")
        card.get_by_role("button", name="Turn on notifications").wait_for()
        assert card.locator("[data-ios-steps]").is_hidden()
        assert page.locator("[data-push-prompt]").count() == 0  # no second prompt on the dashboard
        assert_no_serious_violations(page, "dashboard with the notifications card")


def test_iphone_safari_outside_the_home_screen_gets_the_steps_not_the_button(make, live_server, chromium):
    sitter = make.sitter()
    with signed_in(chromium, live_server, sitter.user, user_agent=IPHONE_SAFARI) as (context, page):
        card = page.locator("[data-notify-card]")
        card.get_by_text("Tap “Add to Home Screen”, then “Add”.").wait_for()
        assert card.get_by_role("button", name="Turn on notifications").is_hidden()
        assert_no_serious_violations(page, "dashboard with the iPhone steps")
