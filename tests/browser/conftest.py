"""Browser-test fixtures: headless Chromium and the app served from a thread with CSRF on.

The live server and the test share nothing that can lock: the server is an app of its own (its
own engine and sessions) on the run's SQLite file in WAL mode (or PostgreSQL), and the test's
side commits statement by statement (AUTOCOMMIT), so no transaction of the test is open while
the browser acts (on SQLite every transaction holds the write lock: app.persistence.sqlite).

Every page of every browser test is watched for Content-Security-Policy violations (the
`securitypolicyviolation` event, reported to the console by an init script the CSP cannot
block) and for htmx refusing to eval; a test that causes one fails.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import make_url

from tests.support.factories import PASSWORD
from tests.support.live_server import RequestGate, serving

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
# A phone at 390×844 (the size the sitter pages are designed for); modules add their own screens.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
                + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""
# The bound on every Playwright wait (each waits on an event; this is only how long before it fails).
# A login and its first page took 8 s once on a 2-core machine shared by several test runs: 5 s
# bounds failed runs that were otherwise right.
WAIT_BOUND_MS = 30_000
_CSP_MARKERS = ("CSP violation", "Content Security Policy", "evalDisallowedError")
CSP_VIOLATIONS: list[str] = []


class CspWatchingBrowser:
    """The Playwright browser, whose every new context reports CSP violations."""

    def __init__(self, browser):
        self._browser = browser

    def __getattr__(self, name):
        return getattr(self._browser, name)

    def new_context(self, **kwargs):
        # Service workers are blocked unless a test of the worker asks for them ("allow"): once
        # /sw.js controls a page the worker makes its requests, and page.route / context.route
        # never see them, so a test that intercepts requests would wait for one that never comes.
        kwargs.setdefault("service_workers", "block")
        context = self._browser.new_context(**kwargs)
        context.set_default_timeout(WAIT_BOUND_MS)
        context.add_init_script(CSP_REPORTER)

        def _on_console(message):
            if any(marker in message.text for marker in _CSP_MARKERS):
                CSP_VIOLATIONS.append(f"{message.text} (page {message.page.url if message.page else '?'})")

        context.on("console", _on_console)
        return context


@pytest.fixture(scope="package")
def chromium():
    """One Chromium for every browser test (each test has contexts of its own): started per module,
    Playwright and the browser took 1.5-2 s of every browser module's time."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_BOUND_MS)  # its own default is 5 s: expect(...) waits as long as the rest
    assert (ROOT / "app/static/vendor/htmx.min.js").exists(), "run ./scripts/install (fetches htmx)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield CspWatchingBrowser(browser)
        browser.close()


@pytest.fixture(autouse=True)
def no_csp_violations():
    CSP_VIOLATIONS.clear()
    yield CSP_VIOLATIONS
    found, CSP_VIOLATIONS[:] = list(CSP_VIOLATIONS), []
    assert not found, "Content-Security-Policy violations:\n" + "\n".join(found)


@pytest.fixture
def app_config() -> dict:
    """The test's side of a browser test: every statement commits on its own. A module adding
    settings (push keys, say) asks for this fixture and extends it; the live server gets those
    settings but not this engine option (its requests are transactions)."""
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"execution_options": {"isolation_level": "AUTOCOMMIT"}}}


@pytest.fixture
def live_server(app_factory, app_config, backend, live_gate):
    """The app on the test database, served from a thread, with CSRF protection on (and the
    module's `app_config` but the test side's engine options)."""
    settings = {key: value for key, value in app_config.items() if key != "SQLALCHEMY_ENGINE_OPTIONS"}
    server_app = app_factory(**{**settings, "WTF_CSRF_ENABLED": True, "SERVER_NAME": None})
    if backend == "sqlite":  # a file in WAL mode (set by the app's first connection): readers never wait
        path = make_url(server_app.config["SQLALCHEMY_DATABASE_URI"]).database
        assert path and path != ":memory:" and "mode=memory" not in path, path
        with closing(sqlite3.connect(path)) as raw:
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    live_gate.app = server_app
    with serving(live_gate) as base_url:
        try:
            yield base_url
        finally:
            live_gate.release_all()  # before the server stops: no request left held


@pytest.fixture
def live_gate():
    """Hold a request at the live server's door: `live_gate.hold("POST", "/messages")`."""
    return RequestGate(None, bound_seconds=WAIT_BOUND_MS / 1000)


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def log_in(page, base_url: str, user, landing: str = "/sitter") -> None:
    """Log in through the real form (CSRF on) and wait for the landing page."""
    page.goto(f"{base_url}/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}{landing}")


def settled(page) -> None:
    """Wait until htmx has settled what it swapped in. htmx processes new content (its hx-* attributes)
    and fires htmx:load, where the pages wire it (js/sitter.js: the compose box's draft and send key),
    only at the settle, 20 ms after the swap: a click there before it meets a plain form or link, a
    reload a draft not yet cleared. Call it once the swap's new state has been waited for (before the
    swap nothing is settling either)."""
    from playwright.sync_api import expect

    expect(page.locator(".htmx-added, .htmx-settling")).to_have_count(0)


def phone(chromium, screen=PHONE, **options):
    """A touch phone's context at `screen` (CSP bypassed: axe is injected into its pages) and its page."""
    context = chromium.new_context(is_mobile=True, has_touch=True, bypass_csp=True, **{**screen, **options})
    return context, context.new_page()


@contextmanager
def signed_in(chromium, base_url: str, user, path: str | None = None, screen=PHONE, **options):
    """A phone logged in as `user` through the real form (then at `path` if given); yields (context,
    page) and closes the context afterwards."""
    context, page = phone(chromium, screen, **options)
    try:
        log_in(page, base_url, user)
        if path:
            page.goto(f"{base_url}{path}")
        yield context, page
    finally:
        context.close()


def on_thread(chromium, base_url: str, visit, screen=PHONE, **options):
    """signed_in as the visit's sitter with the visit's thread open."""
    return signed_in(chromium, base_url, visit.user, f"/sitter/threads/{visit.thread.id}", screen, **options)
