"""The owner nav's unhandled-inbox count at 1366x768: loaded with the page, it follows a new client text
by itself (htmx poll) and drops once a message is handled."""

from __future__ import annotations

import pytest

from tests.browser.conftest import WAIT_BOUND_MS, log_in

pytestmark = pytest.mark.browser


def test_the_inbox_count_is_live(make, clock, live_server, chromium, db):
    owner = make.user("owner", name="Olivia Owner")
    first = make.message(owner_inbox=True, body="Is Biscuit ok?")
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(WAIT_BOUND_MS)
    try:
        page.clock.install()  # the poll's timer is driven by the test, not slept on
        log_in(page, live_server, owner, "/admin")
        badge = page.locator("nav #inbox-count")
        page.wait_for_selector("nav #inbox-count[data-count='1']")
        assert badge.inner_text().strip().endswith("1") and badge.is_visible()

        db.session.rollback()  # end this session's read so the new row can be written (SQLite)
        make.message(owner_inbox=True, body="Also, the gate code changed")  # a new text arrives
        page.clock.run_for(31_000)
        page.wait_for_selector("nav #inbox-count[data-count='2']")
        assert badge.inner_text().strip().endswith("2")

        page.goto(f"{live_server}/admin/inbox/{first.id}")
        page.click("button:has-text('Mark handled without replying')")
        page.wait_for_selector("nav #inbox-count[data-count='1']")
    finally:
        context.close()
