"""The sitter's thread on real phone screens: portrait, landscape, 200 % zoom, no signal, a closing window."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.a11y import assert_no_serious_violations
from tests.browser.conftest import ARTIFACTS, WAIT_BOUND_MS, on_thread, signed_in
from tests.support.sitter_data import make_visit

pytestmark = pytest.mark.browser

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York

# 200 % zoom of a 390×844 phone is a 195×422 CSS-pixel viewport at twice the pixel density.
SCREENS = {
    "portrait": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1},
    "landscape": {"viewport": {"width": 844, "height": 390}, "device_scale_factor": 1},
    "zoom-200": {"viewport": {"width": 195, "height": 422}, "device_scale_factor": 2},
}


def _in_view(page, locator) -> bool:
    box = locator.bounding_box()
    height = page.evaluate("window.innerHeight")
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height + 0.5


def _busy_visit(make, clock, messages=14):
    clock.set(START + timedelta(minutes=15))
    client = make.client(name="Alex Morgan", pets=("Biscuit",), area="Dupont Circle")
    visit = make_visit(make, start=START, hours=1, client=client)
    for n in range(messages):
        clock.advance(seconds=30)
        make.message(thread=visit.thread, body=f"Update {n}: Biscuit is doing fine, thanks for checking in.")
    newest = make.message(thread=visit.thread, body="Newest: please water the plants too")
    return visit, newest


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_thread_opens_at_the_newest_message_with_send_in_view(make, clock, live_server, chromium, screen):
    visit, newest = _busy_visit(make, clock)
    with on_thread(chromium, live_server, visit, SCREENS[screen]) as (context, page):
        last = page.locator(f"#message-{newest.id}")
        send = page.get_by_role("button", name="Send", exact=True)
        page.wait_for_function("document.readyState === 'complete'")
        assert _in_view(page, last), f"newest message not in view on {screen}"
        assert _in_view(page, send), f"Send not in view on {screen}"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "sideways scroll"
        # Compose is a one-line field until used: it must not cover the messages.
        assert page.locator("#body").bounding_box()["height"] < 60
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"sitter-thread-{screen}.png"))


def test_a_send_without_signal_says_so_keeps_the_text_and_retries(make, clock, live_server, chromium):
    visit, _ = _busy_visit(make, clock, messages=2)
    with on_thread(chromium, live_server, visit) as (context, page):
        page.fill("#body", "Biscuit is fed")
        context.set_offline(True)
        page.get_by_role("button", name="Send", exact=True).click()
        error = page.locator("[data-send-error]")
        error.get_by_text("Not sent, no connection.").wait_for()
        assert page.locator("#body").input_value() == "Biscuit is fed"
        assert page.get_by_role("button", name="Send", exact=True).is_enabled()
        context.set_offline(False)
        error.get_by_role("button", name="Retry").click()
        page.locator("#messages .message-mine").filter(has_text="Biscuit is fed").wait_for()
        assert "Queued to send." in page.locator("#compose").inner_text()  # honest: not yet "Sent"
        assert page.locator("#body").input_value() == ""


def test_sending_shows_a_real_sending_state(make, clock, live_server, live_gate, chromium):
    visit, _ = _busy_visit(make, clock, messages=1)
    with on_thread(chromium, live_server, visit) as (context, page):
        # Hold the request at the server so the in-between state can be seen, then let it through.
        held = live_gate.hold("POST", f"/threads/{visit.thread.id}/messages")
        page.fill("#body", "On my way")
        page.get_by_role("button", name="Send", exact=True).click()
        page.get_by_role("button", name="Sending…").wait_for()
        assert page.locator("form[data-compose-form]").get_attribute("aria-busy") == "true"
        assert held.arrived.wait(WAIT_BOUND_MS / 1000), "the send request was not made"
        assert page.get_by_role("button", name="Sending…").is_visible()  # still in flight
        held.release()
        page.locator("#messages .message-mine").filter(has_text="On my way").wait_for()


def test_new_messages_arrive_incrementally_and_an_offline_banner_appears(make, clock, live_server, chromium):
    visit, newest = _busy_visit(make, clock, messages=1)
    with on_thread(chromium, live_server, visit) as (context, page):
        requests = []
        page.on("request", lambda r: requests.append(r.url) if "after=" in r.url else None)
        clock.advance(minutes=1)
        thread = visit.thread
        fresh = make.message(thread=thread, body="Did Biscuit eat?")  # the test side autocommits
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # as on unlocking the phone
        page.locator(f"#message-{fresh.id}").wait_for()
        assert page.locator(f"#message-{newest.id}").count() == 1  # appended, not reloaded
        assert requests and requests[0].endswith(f"after={newest.id}")
        page.wait_for_function(
            "document.querySelector('[data-announcer]').textContent.includes('New message from Alex')")

        context.set_offline(True)
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        banner = page.locator("[data-connection-banner]")
        banner.wait_for()
        assert banner.inner_text().startswith("offline · updated")
        context.set_offline(False)
        page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        banner.wait_for(state="hidden")


def test_compose_warns_ten_minutes_before_the_close_and_disables_send_at_it(make, clock, live_server, chromium):
    clock.set(START)
    visit = make_visit(make, start=START, hours=1, client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    clock.set(visit.window.ends_at - timedelta(minutes=9, seconds=58))
    with on_thread(chromium, live_server, visit) as (context, page):
        state = page.locator("[data-compose-state]")
        assert "9 min left" in state.inner_text()
        page.wait_for_function(
            "document.querySelector('[data-announcer]').textContent.includes('Messaging closes in 10 minutes')")
        assert "compose-closing" in page.locator("#compose").get_attribute("class")

    clock.set(visit.window.ends_at - timedelta(seconds=2))
    with on_thread(chromium, live_server, visit) as (context, page):
        page.fill("#body", "Last note")
        send = page.locator("[data-send-button]")
        page.wait_for_function("document.querySelector('[data-send-button]').disabled")
        assert not send.is_enabled()
        assert "Messaging closed at 11:00 AM" in page.locator("[data-compose-state]").inner_text()
        assert page.locator("#body").input_value() == "Last note"  # kept, for the office or later


def test_sitter_pages_have_no_serious_accessibility_violations(make, clock, live_server, chromium):
    visit, _ = _busy_visit(make, clock, messages=2)
    make_visit(make, sitter=visit.sitter, start=START - timedelta(hours=4))  # a past, dimmed card
    make.alert(audience="sitter", sitter_id=visit.sitter.id, text="Not sent: outside the window")
    with signed_in(chromium, live_server, visit.user) as (context, page):
        for path in ("/sitter", f"/sitter/threads/{visit.thread.id}", "/sitter/alerts", "/notifications", "/offline"):
            page.goto(f"{live_server}{path}")
            assert_no_serious_violations(page, path)
        page.goto(f"{live_server}/sitter")
        # The skip link is the first thing a keyboard reaches, and it moves focus to the content.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"


# {cache name: [paths]} for every cache of the page's origin.
_EVERY_CACHE = """async () => {
  const found = {};
  for (const name of await caches.keys()) {
    const requests = await (await caches.open(name)).keys();
    found[name] = requests.map(r => new URL(r.url).pathname);
  }
  return found;
}"""


def test_the_installed_app_shows_the_offline_page_without_signal(make, clock, live_server, chromium):
    visit, _ = _busy_visit(make, clock, messages=1)
    with signed_in(chromium, live_server, visit.user, service_workers="allow") as (context, page):
        assert page.evaluate("navigator.serviceWorker.ready.then(r => !!r.active)")  # installed (shell cached)
        page.reload()  # now controlled by the worker
        page.wait_for_function("!!navigator.serviceWorker.controller")
        # Every cache the worker made, by its real name (the shell's ends in a content hash).
        cached = page.evaluate(_EVERY_CACHE)
        shells = [name for name in cached if name.startswith("pawline-shell-")]
        assert len(shells) == 1 and "/offline" in cached[shells[0]], cached  # the shell is really there
        for name, paths in cached.items():  # and no personal page is in any cache
            for path in paths:
                is_card = name == "pawline-cards" and re.fullmatch(r"/sitter/visits/\d+/card", path)
                assert is_card or not path.startswith(("/sitter", "/admin", "/threads")), (name, path)
        context.set_offline(True)
        page.goto(f"{live_server}/sitter/threads/{visit.thread.id}")
        assert page.locator("h1").inner_text() == "No connection"


def test_logging_out_still_works_with_the_device_check_in_between(make, clock, live_server, chromium):
    visit, _ = _busy_visit(make, clock, messages=1)
    with signed_in(chromium, live_server, visit.user) as (context, page):
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(f"{live_server}/login")
        page.goto(f"{live_server}/sitter")
        page.wait_for_url(f"{live_server}/login?next=%2Fsitter")
