"""An owner on a laptop: log in, add a client and a booking, confirm it by hand, and see the
thread with its number, the confirmation text and the audit trail (CSRF on, real browser)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import WAIT_BOUND_MS
from tests.support.factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def laptop(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(WAIT_BOUND_MS)
    yield page
    context.close()


def test_owner_creates_a_client_and_booking_and_confirms_it_by_hand(make, clock, live_server, laptop,
                                                                    artifacts):
    owner = make.user("owner", name="Olivia Owner")
    make.sitter(name="Sasha Sitter")
    make.number("pool", e164="+12025550111")
    page, base = laptop, live_server

    page.goto(f"{base}/login")
    page.fill("#email", owner.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin")

    # Links by their exact names (`text=…` unquoted is a case-insensitive substring match).
    page.locator("nav.topnav").get_by_role("link", name="Clients", exact=True).click()
    page.wait_for_url(f"{base}/admin/clients")
    page.get_by_role("link", name="New client", exact=True).click()
    page.fill("#phone", "202-555-01")  # too short: the form says so and keeps the name
    page.fill("#name", "Robin Park")
    page.select_option("#consent_method", "booking_form")  # how they agreed to texts (required)
    page.click("button:has-text('Add client')")
    assert "is not a valid phone number" in page.locator("[data-field=phone]").inner_text()
    page.fill("#phone", "(202) 555-0144")
    page.fill("#pets", "Biscuit")
    page.click("button:has-text('Add client')")
    page.wait_for_selector("h1:has-text('Robin Park')")
    assert "(202) 555-0144" in page.content()

    page.get_by_role("link", name="New booking", exact=True).click()
    page.select_option("#sitter_id", label="Sasha Sitter")
    page.fill("#start_at", "2026-11-26T09:00")  # tomorrow, 9 AM New York
    page.fill("#end_at", "2026-11-26T10:00")
    page.fill("#price", "35")
    page.click("button:has-text('Create booking')")
    page.wait_for_selector("h1:has-text('Booking #')")
    assert "pending" in page.locator("h1").inner_text()

    page.click("button:has-text('Confirm by hand')")
    assert "This texts Robin Park a confirmation from (202) 555-0111 now." in page.locator("#confirm-step").inner_text()
    page.click("button:has-text('Yes, confirm it')")
    page.wait_for_selector("h1:has-text('confirmed')")
    thread = page.locator("#thread")
    assert "(202) 555-0111" in thread.inner_text()
    assert "the pool number used least recently" in thread.inner_text()
    assert "Hi Robin! Your Drop-in visit for Biscuit with Sasha is confirmed for Thu, Nov 26 at 9:00 AM" in (
        thread.inner_text())
    trail = page.locator("#audit-trail").inner_text()
    for sentence in ("Olivia Owner created booking #", "Olivia Owner confirmed booking #",
                     "Olivia Owner opened a conversation with Robin Park", "was given to booking #",
                     "The sitter's window for booking #"):
        assert sentence in trail
    assert f"user:{owner.id}" not in trail
    page.screenshot(path=str(artifacts / "admin-booking-confirmed.png"), full_page=True)

    page.click("#thread a.thread-number")
    page.wait_for_selector("h1:has-text('Conversation with Robin Park')")
    assert "Hi Robin!" in page.content()


def test_template_preview_updates_live_on_a_phone(make, clock, live_server, chromium, artifacts):
    owner = make.user("owner")
    make.booking(client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_BOUND_MS)
    try:
        page.goto(f"{live_server}/login")
        page.fill("#email", owner.email)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/admin")
        page.goto(f"{live_server}/admin/automations/template?kind=booking_confirmation")
        preview = page.locator("#template-preview")
        assert "Hi Alex!" in preview.inner_text()
        page.fill("#body", "Hey {{ client_first_name }}, {{ pet_name }} is booked")
        # Locator assertions, not wait_for_function: the page's CSP forbids the eval it uses.
        expect(preview).to_contain_text("Unknown variable: pet_name")
        page.fill("#body", "Hey {{ client_first_name }}, {{ pet_names }} is booked")
        expect(preview).to_contain_text("Hey Alex, Biscuit is booked")
        assert page.url.endswith("kind=booking_confirmation")  # previewed in place, nothing submitted
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(artifacts / "admin-template-preview-phone.png"), full_page=True)
    finally:
        context.close()
