"""An owner-issued reset link in a real browser, under the CSP: the token rides in the fragment,
js/reset.js puts it in the form and out of the address bar, and the server's request log of the
whole flow never holds it."""

from __future__ import annotations

import io
import logging

import pytest

from app.services.accounts.passwords import authenticate, issue_reset_link
from tests.browser.conftest import WAIT_BOUND_MS

pytestmark = pytest.mark.browser

NEW_PASSWORD = "kibble-and-cuddles-9"


@pytest.fixture
def request_log():
    """The dev server's request lines (werkzeug's logger), as the live server writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("werkzeug")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_a_reset_link_fills_the_form_and_no_request_carries_its_token(make, live_server, chromium, request_log):
    owner, staff = make.user("owner"), make.user("staff")
    token = issue_reset_link(staff.id, actor=f"user:{owner.id}")
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(WAIT_BOUND_MS)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url + " " + (r.post_data or "")))

    page.goto(f"{live_server}/reset#t={token}")
    field = page.locator("input[name=token]")
    page.wait_for_function("document.querySelector('input[name=token]').value !== ''")
    assert field.input_value() == token
    page.wait_for_url(f"{live_server}/reset")  # out of the address bar and the history (history.replaceState)
    page.fill("input[name=password]", NEW_PASSWORD)
    page.fill("input[name=confirm]", NEW_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/login")
    context.close()

    assert authenticate(staff.email, NEW_PASSWORD) is not None
    posted = [s for s in sent if s.startswith(f"{live_server}/reset ")]
    assert posted and token in posted[-1]  # the token travelled in the POST body, and only there
    assert all(token not in s.split(" ", 1)[0] for s in sent)  # never in a requested URL
    logged = request_log.getvalue()
    assert "GET /reset HTTP" in logged and "POST /reset HTTP" in logged
    assert token not in logged
