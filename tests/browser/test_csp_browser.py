"""The owner and sitter journeys in a real browser under the Content-Security-Policy.

Every admin and sitter page, with their htmx parts (search as you type, live preview,
polls, sending), must work with no CSP violation: the autouse `no_csp_violations` fixture
(tests/browser/conftest.py) fails the test on any.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import WAIT_BOUND_MS, log_in
from tests.support.sitter_data import make_visit

pytestmark = pytest.mark.browser

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York


@pytest.fixture
def context(chromium):
    ctx = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    yield ctx
    ctx.close()


def _assert_strict_csp(response):
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe" not in csp, csp
    assert "frame-ancestors 'none'" in csp


def test_the_watcher_sees_a_blocked_inline_script(live_server, context, no_csp_violations):
    page = context.new_page()
    page.set_default_timeout(WAIT_BOUND_MS)
    _assert_strict_csp(page.goto(f"{live_server}/login"))
    with pytest.raises(Exception):  # noqa: B017 - Playwright reports the refused script as an error
        page.add_script_tag(content="window.__inline = 1")
    page.evaluate("0")  # a round trip: the console event has arrived by now
    assert page.evaluate("window.__inline === undefined")
    assert any("script-src" in v for v in no_csp_violations), no_csp_violations
    no_csp_violations.clear()  # expected here; any other test fails on one


def test_owner_walks_every_admin_page_under_the_csp(make, clock, live_server, context):
    clock.set(START - timedelta(hours=1))
    owner = make.user("owner", name="Olivia Owner")
    visit = make_visit(make, start=START, hours=1, client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    make.message(thread=visit.thread, body="See you at nine")
    inbound = make.message(thread=visit.thread, owner_inbox=True, body="Who is this?",
                           to_e164=visit.thread.message_number.e164, routing_reason="outside_window")
    page = context.new_page()
    page.set_default_timeout(WAIT_BOUND_MS)
    log_in(page, live_server, owner, "/admin")

    pages = ["/admin", "/admin/bookings", "/admin/bookings/new", f"/admin/bookings/{visit.booking.id}",
             f"/admin/bookings/{visit.booking.id}/edit", "/admin/clients", "/admin/clients/new",
             f"/admin/clients/{visit.booking.client_id}", f"/admin/clients/{visit.booking.client_id}/edit",
             "/admin/sitters", "/admin/sitters/new", f"/admin/sitters/{visit.sitter.id}", "/admin/numbers",
             "/admin/inbox", f"/admin/inbox/{inbound.id}", "/admin/threads", f"/admin/threads/{visit.thread.id}",
             "/admin/automations", "/admin/automations/template?kind=booking_confirmation", "/admin/audit",
             "/admin/settings", "/admin/users"]
    for path in pages:
        response = page.goto(f"{live_server}{path}")
        assert response.status == 200, path
        _assert_strict_csp(response)
        assert response.headers["cache-control"] == "no-store", path

    # htmx under the CSP: search as you type swaps the rows in place. Alex Morgan was listed before the
    # search too, so the new state is the address htmx pushes as it swaps the rows in (same task).
    page.goto(f"{live_server}/admin/clients")
    page.evaluate("window.__sameDocument = true")
    with page.expect_response(re.compile(r"/admin/clients\?")):
        page.fill("#q", "Alex")
    page.wait_for_url(re.compile(r"/admin/clients\?q=Alex$"))
    expect(page.locator("#client-rows")).to_contain_text("Alex Morgan")
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded: not swapped in place"
    # The static files come with versioned URLs and the indicator CSS from app.css.
    css = page.locator("link[rel=stylesheet]").get_attribute("href")
    assert re.fullmatch(r"/static/css/app\.[0-9a-f]{12}\.css", css), css
    assert page.evaluate("getComputedStyle(Object.assign(document.body.appendChild(document.createElement('i')),"
                         "{className: 'htmx-indicator'})).opacity") == "0"


def test_sitter_journey_under_the_csp(make, clock, live_server, context):
    clock.set(START + timedelta(minutes=15))
    visit = make_visit(make, start=START, hours=1, client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    make.message(thread=visit.thread, body="The key is under the mat")
    page = context.new_page()
    page.set_default_timeout(WAIT_BOUND_MS)
    log_in(page, live_server, visit.user, "/sitter")
    for path in ("/sitter", "/sitter/alerts", f"/sitter/threads/{visit.thread.id}"):
        response = page.goto(f"{live_server}{path}")
        assert response.status == 200, path
        _assert_strict_csp(response)
        assert response.headers["cache-control"] == "no-store", path

    page.fill("#body", "Biscuit is fed and walked!")
    page.get_by_role("button", name="Send", exact=True).click()
    page.locator("#messages .message-mine").filter(has_text="Biscuit is fed and walked!").wait_for()
    assert "Queued to send." in page.locator("#compose").inner_text()


_POLL_PROBE = """(hidden) => {
  Object.defineProperty(document, "visibilityState", {value: hidden ? "hidden" : "visible", configurable: true});
  const results = {};
  for (const [name, trigger, event] of [["poll", "every 30s", null], ["typing", "input changed delay:300ms", {}],
                                        ["poll on click", "every 30s", {type: "click"}]]) {
    const elt = document.createElement("div");
    elt.setAttribute("hx-trigger", trigger);
    document.body.appendChild(elt);
    const evt = new CustomEvent("htmx:beforeRequest", {bubbles: true, cancelable: true,
                                detail: {elt: elt, requestConfig: {triggeringEvent: event}}});
    elt.dispatchEvent(evt);
    results[name] = evt.defaultPrevented;
    elt.remove();
  }
  return results;
}"""


def test_polls_are_skipped_while_the_tab_is_hidden_and_nothing_else_is(live_server, context):
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.wait_for_load_state("load")  # app.js is deferred
    assert page.evaluate(_POLL_PROBE, True) == {"poll": True, "typing": False, "poll on click": False}
    assert page.evaluate(_POLL_PROBE, False) == {"poll": False, "typing": False, "poll on click": False}
