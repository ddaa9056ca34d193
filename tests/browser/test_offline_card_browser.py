"""Today's visit card on the phone (issue 29, point 4), at 390×844 with the service worker allowed: read
with no signal while the window is open, gone once the window has ended, and gone after logout."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.services.people.care_notes import save_care_note
from tests.browser.a11y import assert_no_serious_violations
from tests.browser.conftest import signed_in
from tests.support.sitter_data import make_visit

pytestmark = pytest.mark.browser

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York
ADDRESS = "1401 Q St NW, Washington, DC 20009"


@pytest.fixture
def visit(make, clock):
    clock.set(START + timedelta(minutes=10))
    owner = make.user("owner")
    client = make.client(name="Alex Morgan", pets=("Biscuit",), address=ADDRESS, phone_e164="+12025550143")
    visit = make_visit(make, start=START, hours=1, client=client)
    visit.booking.org.office_phone_e164 = "+12025550100"
    db.session.commit()
    save_care_note(client.id, kind="entry", body="Lockbox 4412 by the side door", user_id=owner.id)
    return visit


def _wait_until_synced(page, ids: str) -> None:
    """The worker answered the dashboard's list (stored those cards, dropped the rest)."""
    page.wait_for_function("ids => document.documentElement.getAttribute('data-offline-cards-synced') === ids",
                           arg=ids)


@contextmanager
def _phone_holding_the_card(chromium, live_server, visit):
    """390×844 with the service worker allowed, logged in, the visit's card stored by the worker."""
    with signed_in(chromium, live_server, visit.user, service_workers="allow") as (context, page):
        _wait_until_synced(page, str(visit.booking.id))
        yield context, page


def _cards_held(page) -> int:
    return page.evaluate("caches.open('pawline-cards').then(c => c.keys()).then(k => k.length)")


def test_the_visit_card_reads_offline_in_its_window_and_is_gone_after_it(visit, clock, live_server, chromium):
    booking_id = visit.booking.id
    with _phone_holding_the_card(chromium, live_server, visit) as (context, page):
        status = page.locator("[data-offline-cards-status]")
        assert status.inner_text() == "Today's visit card is saved on this phone: it reads with no signal."
        assert_no_serious_violations(page, "sitter dashboard with a saved card")

        context.set_offline(True)  # at the door, no signal
        page.goto(f"{live_server}/sitter/visits/{booking_id}")
        card = page.locator(f"[data-offline-card='{booking_id}']")
        card.wait_for()
        text = card.inner_text()
        assert "Alex · Biscuit" in text and "Lockbox 4412 by the side door" in text
        assert card.get_by_role("link", name=ADDRESS).get_attribute("href").startswith("https://maps.google.com/")
        assert card.get_by_role("link", name="(202) 555-0100").get_attribute("href") == "tel:2025550100"
        assert "0143" not in page.content()
        assert_no_serious_violations(page, "offline page with today's card")

        # The window ends: the dashboard no longer lists the visit, and the phone drops its card.
        context.set_offline(False)
        clock.set(visit.window.ends_at + timedelta(minutes=1))
        page.goto(f"{live_server}/sitter")
        _wait_until_synced(page, "")
        assert page.locator("[data-offline-cards-status]").is_hidden()
        context.set_offline(True)
        page.goto(f"{live_server}/sitter/visits/{booking_id}")
        page.locator("[data-offline-cards-none]").wait_for()
        assert page.locator("[data-offline-card]").count() == 0 and _cards_held(page) == 0
        assert_no_serious_violations(page, "offline page with no card")


def test_the_card_is_dropped_by_the_page_once_its_time_has_passed_without_signal(visit, live_server, chromium):
    with _phone_holding_the_card(chromium, live_server, visit) as (context, page):
        # No signal and the phone's clock past the window's end (the server's 2 h 50 min from now):
        # the offline page shows nothing and deletes the card.
        page.clock.install()
        context.set_offline(True)
        page.goto(f"{live_server}/sitter/visits/{visit.booking.id}")
        page.locator(f"[data-offline-card='{visit.booking.id}']").wait_for()
        page.clock.fast_forward("03:00:00")
        page.reload()
        page.locator("[data-offline-cards-none]").wait_for()
        assert _cards_held(page) == 0


def test_logout_deletes_the_card_from_the_phone(visit, live_server, chromium):
    with _phone_holding_the_card(chromium, live_server, visit) as (context, page):
        assert _cards_held(page) == 1
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(f"{live_server}/login")
        assert page.evaluate("caches.keys().then(names => names.includes('pawline-cards'))") is False


def test_the_visit_page_keeps_its_own_card(visit, live_server, chromium):
    """Opened without the dashboard (from a notification, say), the visit page stores its card too."""
    with _phone_holding_the_card(chromium, live_server, visit) as (context, page):
        page.evaluate("caches.delete('pawline-cards')")
        page.goto(f"{live_server}/sitter/visits/{visit.booking.id}")
        page.wait_for_function("id => document.documentElement.getAttribute('data-offline-card-kept') === id",
                               arg=str(visit.booking.id))
        assert _cards_held(page) == 1
        context.set_offline(True)
        page.reload()
        page.locator(f"[data-offline-card='{visit.booking.id}']").wait_for()
