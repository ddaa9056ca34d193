"""axe serious 0 on admin page states the page-by-page check does not reach: the handled inbox,
the week calendar with a reassign select and a sitter's days off, a series' booking page (with its
edit from here), a sitter's page with time off, a confirm step with a time-off warning and a pet profile."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from app.services.people.time_off import add_time_off
from tests.browser.a11y import assert_no_serious_violations
from tests.browser.conftest import WAIT_BOUND_MS, log_in

pytestmark = pytest.mark.browser


def test_admin_page_states_have_no_serious_violations(make, clock, live_server, chromium):
    owner = make.user("owner", name="Olivia Owner")
    sitter = make.sitter(name="Sasha Lee")
    taylor = make.client(name="Taylor Brooks", pets=("Biscuit",))
    visit = make.booking(client=taylor, sitter=sitter, start=clock.now + timedelta(hours=2), series_id="a" * 32)
    make.message(body="Thanks, all good", owner_inbox=True, handled_at=clock.now - timedelta(minutes=5))
    away = make.sitter(name="Devon Walker")
    add_time_off(away.org_id, away.id, date(2026, 11, 25), date(2026, 11, 27), "Holiday")
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_BOUND_MS)
    try:
        log_in(page, live_server, owner, "/admin")
        paths = ["/admin/inbox?handled=1", "/admin/calendar?view=week", "/admin/calendar",
                 f"/admin/clients/{taylor.id}/pets/{taylor.pets[0].id}/profile", f"/admin/bookings/{visit.id}",
                 f"/admin/sitters/{away.id}", "/admin/calendar?view=week&date=2026-11-26"]
        for path in paths:
            assert page.goto(f"{live_server}{path}").status == 200, path
            page.wait_for_load_state("networkidle")
            assert_no_serious_violations(page, path)
        # The confirm step with a time-off warning (the booking page's change of sitter).
        page.goto(f"{live_server}/admin/bookings/{visit.id}")
        # Exact names: `has-text('Change sitter')` also matches the series' "Change sitter from here on".
        page.locator("summary", has_text=re.compile(r"^Change sitter$")).click()
        page.select_option("#sitter_id", str(away.id))
        page.get_by_role("button", name="Change sitter", exact=True).click()
        page.wait_for_selector("#confirm-step:has-text('is away (time off)')")
        assert_no_serious_violations(page, "change sitter to a sitter who is away")
    finally:
        context.close()
