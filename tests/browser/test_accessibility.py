"""axe-core on every admin page (and a check that the check itself can fail)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.a11y import assert_no_serious_violations, axe_violations
from tests.browser.conftest import WAIT_BOUND_MS
from tests.support.factories import PASSWORD
from tests.support.sitter_data import make_visit

pytestmark = pytest.mark.browser

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


@pytest.fixture
def laptop(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(WAIT_BOUND_MS)
    yield page
    context.close()


def test_axe_finds_a_real_violation(laptop, live_server):
    laptop.goto(f"{live_server}/login")
    laptop.evaluate("""() => {
        const p = document.createElement('p');
        p.textContent = 'faint';
        p.style.color = '#eeeeee';
        document.querySelector('main').appendChild(p);
    }""")
    assert "color-contrast" in [v["id"] for v in axe_violations(laptop)]


def test_login_and_admin_pages_have_no_serious_accessibility_violations(make, clock, live_server, laptop):
    clock.set(START + timedelta(minutes=15))
    owner = make.user("owner", name="Olivia Owner")
    visit = make_visit(make, start=START, client=make.client(name="Alex Morgan", pets=("Biscuit",)))
    make.message(thread=visit.thread, body="Is Biscuit ok?")
    make.message(org=visit.booking.org, body="Who is this?", owner_inbox=True)
    make.alert(audience="owner", text="Something needs a look")
    page, base = laptop, live_server
    page.goto(f"{base}/login")
    assert_no_serious_violations(page, "/login")
    page.fill("#email", owner.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin")
    paths = ["/admin", "/admin/bookings", "/admin/inbox", "/admin/threads", "/admin/clients", "/admin/sitters",
             "/admin/numbers", "/admin/automations", "/admin/audit", "/admin/settings", "/admin/users",
             f"/admin/bookings/{visit.booking.id}", f"/admin/threads/{visit.thread.id}",
             f"/admin/clients/{visit.booking.client_id}", f"/admin/sitters/{visit.sitter.id}",
             "/admin/bookings/new", "/admin/clients/new", "/notifications", "/admin/visits/checklists"]
    for path in paths:
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        assert_no_serious_violations(page, path)
