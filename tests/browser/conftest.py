"""Browser-test fixtures: headless Chromium and the app served from a thread with CSRF on."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    assert (ROOT / "app/static/vendor/htmx.min.js").exists(), "run ./scripts/install (fetches htmx)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app_factory):
    """The app on the test database, served from a thread, with CSRF protection on."""
    server_app = app_factory(WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    server = make_server("127.0.0.1", 0, server_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def log_in(page, base_url: str, user, landing: str = "/sitter") -> None:
    """Log in through the real form (CSRF on) and wait for the landing page."""
    from tests.factories import PASSWORD

    page.goto(f"{base_url}/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}{landing}")
