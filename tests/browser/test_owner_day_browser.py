"""An owner's day in a real browser (CSRF on, htmx live): calendar → booking → confirm step →
office text → simulated client reply → the sitter sees it inside the window, with the care
notes → the audit log reads as sentences."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.services.people.care_notes import save_care_note
from tests.browser.conftest import WAIT_BOUND_MS, log_in, settled

pytestmark = pytest.mark.browser


def test_an_owners_day(make, clock, live_server, chromium, artifacts):
    owner = make.user("owner", name="Olivia Owner")
    sasha = make.sitter(name="Sasha Lee")
    make.number("pool", e164="+12025550121")
    taylor = make.client(name="Taylor Brooks", pets=("Biscuit",))
    save_care_note(taylor.id, kind="entry", body="Lockbox 4321 on the back porch", user_id=owner.id)
    booking = make.booking(client=taylor, sitter=sasha, start=clock.now - timedelta(minutes=10), hours=1)
    jamie = make.client(name="Jamie Fox", pets=("Mochi",))
    make.booking(client=jamie, sitter=sasha, start=clock.now + timedelta(days=3))
    base = live_server

    laptop_context = chromium.new_context(viewport={"width": 1280, "height": 900})
    laptop = laptop_context.new_page()
    laptop.set_default_timeout(WAIT_BOUND_MS)
    try:
        log_in(laptop, base, owner, "/admin")
        nav = laptop.locator("nav.topnav")  # its links by exact name: unquoted `text=` is a substring match
        nav.get_by_role("link", name="Calendar", exact=True).click()
        laptop.wait_for_url(f"{base}/admin/calendar")
        laptop.wait_for_selector("#calendar")
        visit = laptop.locator(f"#calendar [data-sitter='Sasha Lee'] [data-booking='{booking.id}']")
        assert "Taylor Brooks" in visit.inner_text() and "pending" in visit.inner_text()
        # The calendar's own Day and Week links: `text=Day` also matched "Today" (a substring), so the
        # day view was never shown, and under load the visit's click below landed while htmx swapped
        # the week in again: a lost click (a CI flake).
        calendar_nav = laptop.locator("#calendar nav.calendar-nav")
        calendar_nav.get_by_role("link", name="Week", exact=True).click()  # htmx swaps the calendar in place
        laptop.wait_for_selector("#calendar table.calendar-week")
        laptop.wait_for_url(re.compile(r"view=week"))
        settled(laptop)  # the week's own Day link is htmx's only once settled (before, a plain link)
        calendar_nav.get_by_role("link", name="Day", exact=True).click()
        laptop.wait_for_url(re.compile(r"view=day"))
        laptop.wait_for_selector("#calendar table.calendar-week", state="detached")  # the day view is in
        laptop.click(f"#calendar div.calendar [data-booking='{booking.id}']")
        laptop.wait_for_selector(f"h1:has-text('Booking #{booking.id}')")

        laptop.click("button:has-text('Confirm by hand')")
        step = laptop.locator("#confirm-step")
        assert "This texts Taylor Brooks a confirmation from (202) 555-0121 now." in step.inner_text()
        laptop.click("button:has-text('Yes, confirm it')")
        laptop.wait_for_selector("h1:has-text('confirmed')")
        assert f"Booking #{booking.id} confirmed; Taylor was texted." in laptop.locator(".flash").inner_text()

        laptop.fill("#office-compose textarea[name=body]", "Sasha is on the way with treats.")
        laptop.click("#office-compose button:has-text('Send text')")
        laptop.wait_for_selector(".flash:has-text('Text to Taylor Brooks queued from (202) 555-0121')")
        mine = laptop.locator("#conversation li", has_text="Sasha is on the way")
        assert "Olivia Owner" in mine.inner_text() and mine.locator(".msg-status").get_attribute("data-status") in (
            "queued", "sending", "sent")

        nav.get_by_role("link", name="Simulate a text", exact=True).click()
        laptop.wait_for_url(f"{base}/admin/simulate")
        taylor_option = laptop.locator("#client_id option", has_text="Taylor Brooks").get_attribute("value")
        laptop.select_option("#client_id", value=taylor_option)
        laptop.fill("#body", "Thanks! Gate is open, call 202-555-0199 if stuck")
        laptop.click("button:has-text('Route this text')")
        result = laptop.locator("#simulated-result").inner_text()
        assert "Sent during the booking's visit window" in result and "Sasha Lee sees it now" in result
        laptop.screenshot(path=str(artifacts / "owner-day-simulated.png"), full_page=True)

        phone_context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        phone = phone_context.new_page()
        phone.set_default_timeout(WAIT_BOUND_MS)
        try:
            log_in(phone, base, sasha.user, "/sitter")
            phone.wait_for_selector("#upcoming .visit-card")  # the next seven days, loaded by htmx
            assert "Jamie · Mochi" in phone.locator("#upcoming").inner_text()
            phone.locator("#active-now").get_by_text("Open messages").click()
            phone.wait_for_selector("#messages")
            messages = phone.locator("#messages").inner_text()
            assert "Gate is open" in messages and "202-555-0199" not in messages and "[number hidden]" in messages
            phone.wait_for_selector("#care-notes .care-note")  # loaded by htmx, inside the window
            assert "Lockbox 4321 on the back porch" in phone.locator("#care-notes").inner_text()
        finally:
            phone_context.close()

        nav.get_by_role("link", name="Audit log", exact=True).click()
        laptop.wait_for_url(f"{base}/admin/audit")
        laptop.wait_for_selector(".audit-lines")
        log = html.unescape(laptop.locator(".audit-lines").inner_text())
        for sentence in (f"Olivia Owner confirmed booking #{booking.id}.",
                         f"Olivia Owner texted Taylor Brooks from (202) 555-0121 (booking #{booking.id}).",
                         "Olivia Owner simulated a text from",
                         f"Sasha (sitter) read the care notes of Taylor Brooks for booking #{booking.id}."):
            assert sentence in log
        assert f"user:{owner.id}" not in log and "Wed 25 Nov" in log
        raw = laptop.locator(".audit-raw").first
        assert not raw.locator("dl").is_visible()  # the raw record stays behind the toggle
        raw.locator("summary").click()
        expect(raw.locator("dl")).to_be_visible()
        laptop.screenshot(path=str(artifacts / "owner-day-audit.png"), full_page=True)
    finally:
        laptop_context.close()
