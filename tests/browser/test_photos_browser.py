"""Photos on a phone-sized screen: attach from the compose box, see the thumbnail in the thread."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_sitter_browser import _fits_the_screen, phone  # noqa: F401 - fixture
from tests.support.media_stand_in import photo_bytes
from tests.support.sitter_data import make_visit

pytestmark = pytest.mark.browser

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York


def test_sitter_attaches_a_photo_and_sees_it_in_the_thread(make, clock, live_server, phone):  # noqa: F811
    clock.set(START + timedelta(minutes=15))
    visit = make_visit(make, start=START, hours=1, client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    log_in(phone, live_server, visit.user)
    phone.goto(f"{live_server}/sitter/threads/{visit.thread.id}")
    phone.evaluate("window.__sameDocument = true")

    picker = phone.locator("#photos")
    assert picker.get_attribute("accept") == "image/*" and picker.get_attribute("multiple") is not None
    picker.set_input_files([{"name": "IMG_0042.JPG", "mimeType": "image/jpeg",
                             "buffer": photo_bytes((2400, 1800), orientation=6)}])
    phone.locator("#attach-status").get_by_text("1 photo ready").wait_for()  # shrunk on the phone first
    phone.fill("#body", "Biscuit at the park")
    phone.get_by_role("button", name="Send", exact=True).click()

    thumb = phone.locator("#messages .message-mine img.attachment-thumb")
    thumb.wait_for()
    phone.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    assert phone.evaluate("window.__sameDocument === true"), "the page reloaded"
    width, height = thumb.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert height > width  # the EXIF rotation was applied before the metadata went
    assert "Biscuit at the park" in phone.locator("#messages .message-mine").inner_text()
    assert _fits_the_screen(phone)
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "sitter-thread-photo.png"), full_page=True)


def test_too_many_photos_are_stopped_before_uploading_and_the_text_stays(make, clock, live_server,
                                                                         phone):  # noqa: F811
    clock.set(START + timedelta(minutes=15))
    visit = make_visit(make, start=START, hours=1)
    log_in(phone, live_server, visit.user)
    phone.goto(f"{live_server}/sitter/threads/{visit.thread.id}")
    phone.fill("#body", "Eleven photos of Biscuit")
    small = photo_bytes((64, 64))
    phone.locator("#photos").set_input_files(
        [{"name": f"{i}.jpg", "mimeType": "image/jpeg", "buffer": small} for i in range(11)])
    assert "at most 10 photos" in phone.locator("#attach-status").inner_text()
    phone.get_by_role("button", name="Send", exact=True).click()  # the browser refuses the invalid picker
    assert phone.locator("#body").input_value() == "Eleven photos of Biscuit"
    assert phone.locator("#messages .message-mine").count() == 0
