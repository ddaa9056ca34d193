"""The sitter at the door (issue 29), at 390×844 with the service worker blocked: the compose box that
opens with the window is the same HTMX form, and what is typed survives a reload and a lost connection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.a11y import assert_no_serious_violations
from tests.browser.conftest import on_thread, settled, signed_in
from tests.support.sitter_data import make_visit

pytestmark = pytest.mark.browser

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York


def test_window_opens_with_the_page_open_then_a_send_offline_and_online_never_loses_the_text(
        make, clock, live_server, chromium):
    clock.set(START - timedelta(seconds=2))
    visit = make_visit(make, start=START, hours=1, client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    with on_thread(chromium, live_server, visit) as (context, page):
        assert page.locator("#body").is_disabled()
        clock.set(START + timedelta(seconds=1))  # the window opens while the page is open
        page.locator("#body:not([disabled])").wait_for()

        # The box that appeared is the HTMX form (a plain form would post the whole page).
        assert page.locator("form[data-compose-form]").get_attribute("hx-post")
        page.fill("#body", "Biscuit is fed")
        page.reload()
        assert page.locator("#body").input_value() == "Biscuit is fed"  # kept on the phone

        context.set_offline(True)
        page.get_by_role("button", name="Send", exact=True).click()
        error = page.locator("[data-send-error]")
        error.get_by_text("Not sent, no connection.").wait_for()
        assert page.locator("#body").input_value() == "Biscuit is fed"
        assert page.url.endswith(f"/sitter/threads/{visit.thread.id}")  # not the browser's "No internet" page

        context.set_offline(False)
        error.get_by_role("button", name="Retry").click()
        page.locator("#messages .message-mine").filter(has_text="Biscuit is fed").wait_for()
        assert page.locator("#body").input_value() == ""
        settled(page)  # the new box clears the draft when htmx settles it: a reload before would keep it
        page.reload()
        assert page.locator("#body").input_value() == ""  # a confirmed send clears the draft


def test_logout_clears_drafts_and_no_empty_unread_pill(make, clock, live_server, chromium):
    clock.set(START + timedelta(minutes=10))
    visit = make_visit(make, start=START, hours=1, client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    with signed_in(chromium, live_server, visit.user) as (context, page):
        assert page.locator("[data-nav-count]").is_hidden()  # no empty pill, no "0 unread" next to Today
        page.goto(f"{live_server}/sitter/threads/{visit.thread.id}")
        page.fill("#body", "Private draft")
        page.locator("form.logout button").click()
        page.wait_for_url(f"{live_server}/login*")
        stored = page.evaluate("Object.keys(window.localStorage).filter(k => k.startsWith('pawline:draft:'))")
        assert stored == []


def test_a_refused_send_goes_to_the_office_instead_with_the_words_kept(make, clock, live_server, chromium):
    clock.set(START + timedelta(minutes=30))
    make.user("owner")
    visit = make_visit(make, start=START, hours=1, client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    with on_thread(chromium, live_server, visit) as (context, page):
        page.fill("#body", "Locked up, heading out")
        clock.set(visit.window.ends_at + timedelta(minutes=1))  # the server says the window is over
        page.get_by_role("button", name="Send", exact=True).click()
        offer = page.get_by_role("button", name="Send this to the office instead")
        offer.wait_for()
        settled(page)  # the offer is htmx's form once settled (before, a plain post of the page)
        assert page.locator("#body").input_value() == "Locked up, heading out"
        assert_no_serious_violations(page, "sitter thread after a refused send")
        offer.click()
        page.get_by_text("Sent to the office.").wait_for()

        page.goto(f"{live_server}/sitter/office")
        assert "Locked up, heading out" in page.locator(".office-notes").inner_text()
        assert_no_serious_violations(page, "sitter office page")
