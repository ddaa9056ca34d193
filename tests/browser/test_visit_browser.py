"""A sitter's visit on a phone-sized page: check in, send the report with a photo, check out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEntry
from tests.browser.a11y import assert_no_serious_violations
from tests.browser.conftest import ARTIFACTS, log_in, signed_in
from tests.browser.test_sitter_browser import _fits_the_screen, phone  # noqa: F401 - fixture
from tests.support.media_stand_in import photo_bytes
from tests.support.sitter_data import make_visit

pytestmark = pytest.mark.browser

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York


def test_check_in_then_report_then_check_out_on_a_phone(make, clock, live_server, phone):  # noqa: F811
    clock.set(START - timedelta(minutes=5))
    visit = make_visit(make, start=START, hours=1, client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    log_in(phone, live_server, visit.user)
    phone.goto(f"{live_server}/sitter/threads/{visit.thread.id}")
    phone.get_by_role("link", name="Check in / visit report").click()
    phone.wait_for_url(f"{live_server}/sitter/visits/{visit.booking.id}")
    assert phone.locator("[data-visit-state]").inner_text() == "Due"
    assert "The report opens once you have checked in." in phone.locator("#report").inner_text()
    assert _fits_the_screen(phone)

    phone.get_by_role("button", name="Check in").click()
    phone.locator("[data-checked-in]").wait_for()
    assert "Checked in at 8:55 AM." in phone.locator("[data-checked-in]").inner_text()
    assert phone.locator("[data-visit-state]").inner_text() == "In progress"

    clock.set(START + timedelta(minutes=50))
    # Near the window's end the thread's compose box points to this one report form (no report of its own).
    phone.goto(f"{live_server}/sitter/threads/{visit.thread.id}")
    assert phone.get_by_role("button", name="Send visit report").count() == 0
    phone.get_by_role("link", name="Send the visit report").click()
    phone.wait_for_url(f"{live_server}/sitter/visits/{visit.booking.id}#report")
    phone.get_by_label("Fed").check()
    phone.get_by_label("Walk").check()
    phone.fill("#note", "Biscuit ate everything and loved the park.")
    phone.locator("#report-photos").set_input_files([{"name": "IMG_1.JPG", "mimeType": "image/jpeg",
                                                       "buffer": photo_bytes((1200, 900))}])
    phone.get_by_role("button", name="Send report").click()  # photos are processed first
    phone.locator("[data-report-sent]").wait_for()
    assert "Report saved and queued to send to Alex." in phone.locator(".flash").first.inner_text()
    assert "with 1 photo" in phone.locator("[data-report-sent]").inner_text()
    assert phone.get_by_role("button", name="Save changes").is_visible()
    assert _fits_the_screen(phone)
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "sitter-visit-report.png"), full_page=True)

    phone.get_by_role("button", name="Check out").click()
    phone.locator("[data-checked-out]").wait_for()
    assert "Checked out at 9:50 AM." in phone.locator("[data-checked-out]").inner_text()
    assert phone.locator("[data-visit-state]").inner_text() == "Done"
    assert _fits_the_screen(phone)

    db.session.rollback()
    [entry] = db.session.scalars(select(OutboxEntry)).all()
    assert entry.from_e164 == visit.thread.message_number.e164 and len(entry.media_urls) == 1
    assert "Visit report: Done: Fed, Walk. Biscuit ate everything and loved the park." in entry.body


def test_the_visit_page_has_no_serious_accessibility_violations(make, clock, live_server, chromium):
    clock.set(START + timedelta(minutes=5))
    visit = make_visit(make, start=START, hours=1, client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    with signed_in(chromium, live_server, visit.user, f"/sitter/visits/{visit.booking.id}") as (context, page):
        assert_no_serious_violations(page, "visit page before check-in")
        page.get_by_role("button", name="Check in").click()
        page.locator("[data-checked-in]").wait_for()
        assert_no_serious_violations(page, "visit page with the report form")
