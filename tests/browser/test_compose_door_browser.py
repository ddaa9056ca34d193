"""The compose box at the door (issue 29): a send offline after one that went says one true thing, a 5 MB
photo on one bar of signal is shrunk on the phone and sent within its window (and retried without choosing
it again), quick replies fill the field without sending, and the layout holds at 320 px, 200 % zoom and in
landscape with the countdown, a chosen photo and the link to the visit report all showing."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from tests.browser.a11y import assert_no_serious_violations
from tests.browser.conftest import ARTIFACTS, on_thread, settled
from tests.support.live_server import serving
from tests.support.sitter_data import make_visit

pytestmark = pytest.mark.browser

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York
# 200 % zoom of a 390×844 phone is a 195×422 CSS-pixel viewport at twice the pixel density.
SCREENS = {
    "320px": {"viewport": {"width": 320, "height": 568}, "device_scale_factor": 1},
    "zoom-200": {"viewport": {"width": 195, "height": 422}, "device_scale_factor": 2},
    "landscape": {"viewport": {"width": 844, "height": 390}, "device_scale_factor": 1},
}
PAGE_MARGINS = 24  # .sitter .page: .75rem each side
ONE_BAR = 48 * 1024  # bytes a second up and down


def _phone_photo(megabytes: float = 5.0) -> bytes:
    """A 12-megapixel photo of about `megabytes` (smooth colour and sensor noise, as a phone saves it)."""
    size = (4032, 3024)
    base = Image.merge("RGB", [Image.linear_gradient("L").resize(size),
                               Image.linear_gradient("L").rotate(90).resize(size), Image.new("L", size, 120)])
    image = Image.blend(base, Image.effect_noise(size, 40).convert("RGB"), 0.25)
    for quality in (92, 94, 96, 90, 88):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality)
        if abs(len(out.getvalue()) - megabytes * 1e6) < 1.5e6:
            return out.getvalue()
    raise AssertionError("could not make a photo of that size")


@pytest.fixture
def recording_server(app_factory):
    """The app served like live_server, recording the size of every message POST's body."""
    server_app = app_factory(WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    sends: list[int] = []
    inner = server_app.wsgi_app

    def record(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/messages"):
            sends.append(int(environ.get("CONTENT_LENGTH") or 0))
        return inner(environ, start_response)

    server_app.wsgi_app = record
    with serving(server_app) as base_url:
        yield base_url, sends


def test_quick_reply_then_a_send_offline_says_one_true_thing_and_never_loses_the_text(
        make, clock, live_server, chromium):
    clock.set(START + timedelta(minutes=10))
    visit = make_visit(make, start=START, hours=1, client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    with on_thread(chromium, live_server, visit) as (context, page):
        page.get_by_role("button", name="On my way").click()
        assert page.locator("#body").input_value() == "On my way"  # in the field, not sent
        assert page.locator("#messages .message-mine").count() == 0
        page.get_by_role("button", name="Send", exact=True).click()
        page.locator("#messages .message-mine").filter(has_text="On my way").wait_for()
        page.locator("[data-notice]").get_by_text("Queued to send.").wait_for()
        settled(page)  # the box the send brought is htmx's form, wired, before it is used

        page.fill("#body", "Biscuit is fed")
        page.get_by_role("button", name="Fed and watered").click()
        assert page.locator("#body").input_value() == "Biscuit is fed Fed and watered"
        context.set_offline(True)
        page.get_by_role("button", name="Send", exact=True).click()
        error = page.locator("[data-send-error]")
        error.get_by_text("Not sent, no connection.").wait_for()
        # One true state: the earlier message's "Queued to send." no longer sits next to "Not sent".
        assert "Queued to send." not in page.locator("#compose").inner_text()
        assert page.locator("#body").input_value() == "Biscuit is fed Fed and watered"
        assert_no_serious_violations(page, "compose after a send offline")

        context.set_offline(False)
        error.get_by_role("button", name="Retry").click()
        page.locator("#messages .message-mine").filter(has_text="Biscuit is fed Fed and watered").wait_for()
        assert page.locator("#body").input_value() == ""
        assert page.locator("#messages .message-mine").count() == 2


def test_a_5_mb_photo_on_one_bar_is_shrunk_on_the_phone_retried_without_choosing_again_and_sent(
        make, clock, recording_server, chromium):
    base_url, sends = recording_server
    clock.set(START + timedelta(minutes=40))
    visit = make_visit(make, start=START, hours=1, client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    photo = _phone_photo()
    assert len(photo) > 4_000_000
    with on_thread(chromium, base_url, visit) as (context, page):
        page.locator("#photos").set_input_files([{"name": "IMG_4032.JPG", "mimeType": "image/jpeg", "buffer": photo}])
        status = page.locator("#attach-status")
        status.get_by_text("made smaller on this phone").wait_for()
        assert "1 photo ready" in status.inner_text()
        page.fill("#body", "Biscuit in the garden")

        context.set_offline(True)  # no bar at all: it fails, and the photo stays chosen
        page.get_by_role("button", name="Send", exact=True).click()
        page.locator("[data-send-error]").get_by_text("Not sent, no connection.").wait_for()
        assert "still attached" in status.inner_text()
        assert page.evaluate("document.getElementById('photos').files.length") == 1
        context.set_offline(False)

        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 400,
                                                      "downloadThroughput": ONE_BAR, "uploadThroughput": ONE_BAR})
        page.locator("[data-send-error]").get_by_role("button", name="Retry").click()
        page.locator("#attach-progress").wait_for(state="visible")  # the upload shows how far it is
        # Within the bound on every wait (30 s): the full 5 MB would take over 100 s at 48 KB/s.
        mine = page.locator("#messages .message-mine").filter(has_text="Biscuit in the garden")
        mine.locator("img.attachment-thumb").wait_for()
        assert sends and sends[-1] < 1_000_000, f"uploaded {sends[-1]} bytes: not shrunk on the phone"
        assert page.locator("#body").input_value() == ""
        assert page.locator("#messages .message-mine").count() == 1  # the failed try sent nothing
        assert_no_serious_violations(page, "thread after a photo on one bar")


def test_a_photo_the_browser_cannot_decode_goes_as_it_is_and_the_hint_says_so(make, clock, live_server, chromium):
    clock.set(START + timedelta(minutes=10))
    visit = make_visit(make, start=START, hours=1)
    with on_thread(chromium, live_server, visit) as (context, page):
        # Bytes Chromium cannot decode, as it cannot decode an iPhone's HEIC: sent whole, for the server.
        page.locator("#photos").set_input_files([{"name": "IMG_0001.HEIC", "mimeType": "image/heic",
                                                  "buffer": b"\x00\x00\x00\x18ftypheic" + b"\x00" * 4000}])
        page.locator("#attach-status").get_by_text("sent at full size").wait_for()
        assert page.evaluate("document.getElementById('photos').files[0].name") == "IMG_0001.HEIC"


def test_a_send_the_window_refused_keeps_the_text_and_the_photo(make, clock, live_server, chromium):
    clock.set(START + timedelta(minutes=30))
    make.user("owner")
    visit = make_visit(make, start=START, hours=1)
    with on_thread(chromium, live_server, visit) as (context, page):
        page.locator("#photos").set_input_files([{"name": "a.jpg", "mimeType": "image/jpeg",
                                                  "buffer": _small_photo()}])
        page.locator("#attach-status").get_by_text("1 photo ready").wait_for()
        page.fill("#body", "Locked up, heading out")
        clock.set(visit.window.ends_at + timedelta(minutes=1))  # the server says the window is over
        page.get_by_role("button", name="Send", exact=True).click()
        page.get_by_role("button", name="Send this to the office instead").wait_for()
        assert page.locator("#body").input_value() == "Locked up, heading out"
        assert page.evaluate("document.getElementById('photos').files.length") == 1
        assert "1 photo is still attached" in page.locator("#attach-status").inner_text()


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_compose_layout_holds_with_the_countdown_a_photo_and_the_report_showing(
        make, clock, live_server, chromium, screen):
    clock.set(START)
    visit = make_visit(make, start=START, hours=1, client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    clock.set(visit.window.ends_at - timedelta(minutes=8))  # the last ten minutes: the countdown warns
    with on_thread(chromium, live_server, visit, SCREENS[screen]) as (context, page):
        page.locator("#compose.compose-closing").wait_for()
        page.locator("#photos").set_input_files([{"name": "a.jpg", "mimeType": "image/jpeg",
                                                  "buffer": _small_photo()}])
        page.locator("#attach-status").get_by_text("1 photo ready").wait_for()
        page.fill("#body", "Fed, walked, water refilled. " * 3)
        report = page.locator("[data-visit-report-link] a")  # the report is the visit page's own form
        report.scroll_into_view_if_needed()
        assert report.is_visible()
        page.locator("#body").scroll_into_view_if_needed()

        width = page.evaluate("Math.min(innerWidth, document.querySelector('.page').getBoundingClientRect().width)")
        field = page.locator("#body").bounding_box()
        assert field["width"] >= width - PAGE_MARGINS - 1, f"field {field['width']} px of {width} on {screen}"
        sends = page.evaluate("""Array.from(document.querySelectorAll('button'))
            .filter(b => b.offsetParent !== null && /^Send/.test(b.textContent.trim())).length""")
        assert sends == 1, f"{sends} send buttons on {screen}"
        send = page.locator("[data-send-button]")
        send.scroll_into_view_if_needed()
        assert send.is_visible() and send.is_enabled()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "sideways scroll"
        if screen == "zoom-200":
            page.evaluate("window.scrollTo(0, 0)")
            header = page.locator(".topbar").bounding_box()["height"]
            assert header / SCREENS[screen]["viewport"]["height"] < 0.3, f"header {header} px"
        assert_no_serious_violations(page, f"compose with a photo and the report on {screen}")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"sitter-compose-{screen}.png"), full_page=True)


def _small_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 140, 60)).save(out, "JPEG", quality=85)
    return out.getvalue()
