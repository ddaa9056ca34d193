"""A visit waiting for a number, as its sitter sees it at 390×844: the dashboard and the visit page say so,
link the office (naming the visit), have no serious or critical accessibility violation, and the
dashboard's poll moves the visit into Today once its number comes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.services.numbers.waiting import assign_waiting_threads
from tests.blueprints.test_sitter_waiting_visit import NOTE, START, _waiting_cat
from tests.browser.a11y import assert_no_serious_violations
from tests.browser.conftest import signed_in

pytestmark = pytest.mark.browser


def test_a_waiting_visit_on_the_dashboard_and_its_page(make, clock, live_server, chromium):
    clock.set(START - timedelta(hours=2))
    cat = _waiting_cat(make)
    with signed_in(chromium, live_server, cat.sitter.user) as (context, page):
        section = page.locator("[data-waiting-visits]")
        section.get_by_text(NOTE).wait_for()
        assert_no_serious_violations(page, "dashboard with a visit waiting for a number")
        section.get_by_role("link", name="Alex · Biscuit").click()
        page.wait_for_url(f"{live_server}/sitter/visits/{cat.id}")
        page.get_by_text(NOTE).wait_for()
        assert page.get_by_role("link", name="Conversation").count() == 0
        assert_no_serious_violations(page, "visit page waiting for a number")
        page.get_by_role("link", name="write to the office").click()
        page.wait_for_url(f"{live_server}/sitter/office?booking_id={cat.id}")
        page.get_by_text("About your visit: Cat visit with Alex").wait_for()

        # Once its number comes, the dashboard's poll moves the visit from Waiting to Today: no reload.
        page.goto(f"{live_server}/sitter")
        page.locator("[data-waiting-visits]").wait_for()
        make.number("pool")
        assert assign_waiting_threads(cat.org_id) == 1
        page.evaluate("window.dispatchEvent(new Event('online'))")  # a phone back online polls at once
        page.locator("[data-waiting-visits]").wait_for(state="detached")
        page.locator("#visits a[href^='/sitter/threads/']").first.wait_for()
