"""The sitter dashboard in headless Chromium on a phone-sized screen, CSRF on, htmx live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.conftest import ARTIFACTS, WAIT_BOUND_MS, log_in  # chromium and live_server come from there too
from tests.support.sitter_data import make_visit

pytestmark = pytest.mark.browser

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_BOUND_MS)
    yield page
    context.close()


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_sitter_sends_a_message_that_appears_without_a_reload(make, clock, live_server, phone):
    clock.set(START + timedelta(minutes=15))
    client = make.client(name="Alex Morgan", pets=("Biscuit",), area="Dupont Circle")
    visit = make_visit(make, start=START, hours=1, client=client)
    make.message(thread=visit.thread, body="Call me on (202) 555-0199 when you arrive")

    log_in(phone, live_server, visit.user)
    active = phone.locator("#active-now")
    assert "Alex · Biscuit" in active.inner_text() and "1 unread" in active.inner_text()
    assert _fits_the_screen(phone)
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "sitter-dashboard-active.png"), full_page=True)
    active.get_by_text("Open messages").click()
    phone.wait_for_url(f"{live_server}/sitter/threads/{visit.thread.id}")
    assert "[number hidden]" in phone.locator("#messages").inner_text()

    phone.evaluate("window.__sameDocument = true")
    phone.fill("#body", "Biscuit is fed and walked!")
    phone.get_by_role("button", name="Send", exact=True).click()
    mine = phone.locator("#messages .message-mine")
    mine.filter(has_text="Biscuit is fed and walked!").wait_for()
    assert phone.evaluate("window.__sameDocument === true"), "the page reloaded"
    assert phone.locator("#body").input_value() == ""
    assert "Queued to send." in phone.locator("#compose").inner_text()
    assert _fits_the_screen(phone)
    phone.screenshot(path=str(ARTIFACTS / "sitter-thread-sent.png"), full_page=True)


def test_compose_is_disabled_before_the_visit_with_the_opening_time(make, clock, live_server, phone):
    clock.set(START - timedelta(hours=2))  # 7:00 AM; the visit starts at 9:00 AM
    visit = make_visit(make, start=START, hours=1, client=make.client(name="Jamie Chen", pets=("Mochi", "Tofu")))
    log_in(phone, live_server, visit.user)
    assert "No visit window is open right now." in phone.locator("#active-now").inner_text()
    phone.get_by_text("Jamie · Mochi and Tofu").click()
    phone.wait_for_url(f"{live_server}/sitter/threads/{visit.thread.id}")
    compose = phone.locator("#compose")
    assert "Messaging opens at 9:00 AM (visit start)" in compose.inner_text()
    assert phone.get_by_role("button", name="Send", exact=True).is_disabled()
    assert phone.locator("#body").is_disabled()
    assert _fits_the_screen(phone)
    phone.set_viewport_size({"width": 360, "height": 740})  # the smallest phone we design for
    assert _fits_the_screen(phone)
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "sitter-thread-not-open-yet.png"), full_page=True)
