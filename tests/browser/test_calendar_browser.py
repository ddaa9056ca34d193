"""The week calendar on a 1366x768 laptop: every day fits (today's column is not clipped), and a
visit is reassigned from it through the booking page's confirm step, shown above the calendar (htmx)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.conftest import WAIT_BOUND_MS, log_in

pytestmark = pytest.mark.browser


def test_the_week_fits_1366_and_a_visit_is_reassigned_from_it(make, clock, live_server, chromium, db):
    owner = make.user("owner", name="Olivia Owner")
    sasha, devon = make.sitter(name="Sasha Lee"), make.sitter(name="Devon Walker")
    make.sitter(name="Maximilian Long-Named Walker")
    make.number("pool", e164="+12025550121")
    booking = make.booking(client=make.client(name="Taylor Brooks", pets=("Biscuit", "Mochi")), sitter=sasha,
                           start=clock.now + timedelta(hours=2))
    make.booking(client=make.client(name="Robin Park"), sitter=None, start=clock.now + timedelta(days=6))

    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(WAIT_BOUND_MS)
    try:
        log_in(page, live_server, owner, "/admin")
        page.goto(f"{live_server}/admin/calendar?view=week")
        page.wait_for_selector("#calendar table.calendar-week")
        headers = page.locator("#calendar table.calendar-week thead th")
        assert headers.nth(1).inner_text() == "Wed 25"  # today first, not last Monday
        assert headers.nth(7).inner_text() == "Tue 1"
        for i in (1, 7):  # today's column and the last one are wholly on screen
            box = headers.nth(i).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 1366, (i, box)
        wrap = page.locator("#calendar .table-wrap")
        assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")  # nothing to scroll to
        robin = page.locator("#calendar [data-sitter='Unassigned'] .calendar-visit.flag-unassigned")
        assert "Robin Park" in robin.inner_text() and "no sitter" in robin.inner_text()

        visit = page.locator(f"#calendar [data-visit='{booking.id}']")
        visit.locator("select[name=sitter_id]").select_option(str(devon.id))
        visit.locator("button:has-text('Reassign')").click()
        step = page.locator("#calendar-step #confirm-step")
        step.wait_for()
        assert f"Change the sitter of booking #{booking.id}?" in step.inner_text()
        assert "to Devon Walker instead of Sasha Lee" in step.inner_text()
        assert "/admin/calendar" in page.url  # still on the calendar
        step.locator("button:has-text('Yes, change the sitter')").click()
        page.wait_for_selector(f".flash:has-text('Booking #{booking.id} now has Devon Walker')")
        assert "Sitter: Devon Walker" in page.locator("main").inner_text()
    finally:
        context.close()


def test_a_sitters_day_off_is_greyed_at_1366_and_reassigning_to_them_warns(make, clock, live_server, chromium, db):
    from datetime import date

    from app.services.people.time_off import add_time_off

    owner = make.user("owner", name="Olivia Owner")
    sasha, devon = make.sitter(name="Sasha Lee"), make.sitter(name="Devon Walker")
    booking = make.booking(client=make.client(name="Taylor Brooks"), sitter=sasha,
                           start=clock.now + timedelta(days=1))  # Thu 26 Nov, 10:00 New York
    add_time_off(devon.org_id, devon.id, date(2026, 11, 26), date(2026, 11, 27), "Holiday")
    db.session.rollback()  # end this session's read (SQLite: the server writes next)

    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(WAIT_BOUND_MS)
    try:
        log_in(page, live_server, owner, "/admin")
        page.goto(f"{live_server}/admin/calendar?view=week")
        row = page.locator("#calendar tr[data-sitter='Devon Walker']")
        off = row.locator("td.day-off")
        assert off.count() == 2
        for i in range(2):
            assert off.nth(i).locator(".away-note").inner_text() == "Away"
            box = off.nth(i).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 1366, box
        grey = off.first.evaluate("el => getComputedStyle(el).backgroundImage")
        assert "gradient" in grey  # greyed, not only labelled
        assert page.locator("#calendar tr[data-sitter='Sasha Lee'] td.day-off").count() == 0

        visit = page.locator(f"#calendar [data-visit='{booking.id}']")
        visit.locator("select[name=sitter_id]").select_option(str(devon.id))
        visit.locator("button:has-text('Reassign')").click()
        step = page.locator("#calendar-step #confirm-step")
        step.wait_for()
        assert "Warning: Devon Walker is away (time off) on Thu 26 Nov." in step.inner_text()
        step.locator("button:has-text('Yes, change the sitter')").click()  # a warning, not a refusal
        page.wait_for_selector(f".flash:has-text('Booking #{booking.id} now has Devon Walker')")
    finally:
        context.close()
